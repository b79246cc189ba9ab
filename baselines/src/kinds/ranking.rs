//! The ranking (CTR) kind: a host-side batch of sparse ids, dense values and labels,
//! all row-major; one logit per example; binary cross-entropy by default. Models never
//! see files or datasets.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::contract::{Kind, Loss};
use crate::engine::{Col, Ctx, Dev, Track};

/// The ranking kind: [`FeatureSpec`] sizes a model, [`Batch`] runs it, the output is
/// one logit per example, `(size,)`.
pub struct Ranking;

impl Kind for Ranking {
    const NAME: &'static str = "ranking";
    type Spec = FeatureSpec;
    type Batch = Batch;
    type Output<D: Dev, T: Track<D>> = Col<D, T>;
    type Hints = ();
    type SideInputs = RankingInputs;

    /// Mean binary cross-entropy of the logits against the batch's primary label.
    fn default_loss<D: Dev, T: Track<D>>(
        logits: Col<D, T>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        let labels = label_tensor(logits.device(), batch);
        ctx.flops.loss(batch.size);
        Some(logits.bce_with_logits(labels).mean())
    }

    fn to_host<D: Dev>(out: Col<D>) -> Vec<f32> {
        out.as_vec()
    }

    fn batch_size(batch: &Batch) -> usize {
        batch.size
    }
}

/// Every ranking model reads sparse fields: a task without any cannot run them.
pub fn needs_sparse(spec: &FeatureSpec) -> Result<(), String> {
    if spec.sparse.is_empty() {
        return Err("needs sparse (categorical) features, but the task has none".into());
    }
    Ok(())
}

/// What a ranking model can ask the harness to compute from the training rows only
/// (counting valid or test rows would leak them into the model).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RankingInputs {
    /// Per-id counts of every sparse field ([`FeatureSpec::frequencies`]): MDE, AMTL.
    pub frequencies: bool,
    /// Co-occurrence statistics of this pair of sparse fields ([`FeatureSpec::pairs`]):
    /// PCF-GNN, the statistics table.
    pub pair: Option<(String, String)>,
    /// With `pair`: also the statistics of each of this many folds' complements
    /// ([`PairStats::out_of_fold`]), so a training row's cross feature can come from
    /// statistics without its own label (0 = none).
    pub pair_folds: usize,
}

/// The name of the training batches' column holding each row's fold key
/// ([`row_key`]); evaluation batches do not have it.
pub const ROW_KEY: &str = "row_key";

/// A stable pseudo-random key of dataset row `row` (splitmix64, top 24 bits, exact in
/// an f32): the harness puts it in every training batch ([`ROW_KEY`]) and assigns
/// out-of-fold statistics by it ([`fold_of`]).
pub fn row_key(row: usize) -> f32 {
    let mut z = (row as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 40) as f32
}

/// The fold (of `folds`) of a row with key `key`.
pub fn fold_of(key: f32, folds: usize) -> usize {
    key as usize % folds
}

/// The host batch's primary labels as a device tensor.
pub fn label_tensor<D: Dev>(dev: &D, batch: &Batch) -> Col<D> {
    dev.tensor_from_vec(batch.labels.clone(), (batch.size,))
}

/// What the features of a task look like; models size their parameters from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Name and vocabulary size of each sparse field, in batch order.
    pub sparse: Vec<(String, u32)>,
    /// Names of the dense fields, in batch order.
    pub dense: Vec<String>,
    /// Per sparse field, the count of each id (`vocab` entries) in the TRAINING rows
    /// only (counting valid or test rows would leak them into the model). Needed by
    /// frequency-aware embeddings (`mde`, `amtl_dnn`); `None` where the caller has no
    /// split (validation up front), and building such a model then fails.
    #[serde(default)]
    pub frequencies: Option<Vec<Vec<u32>>>,
    /// Co-occurrence statistics of one pair of sparse fields over the TRAINING rows only
    /// (PCF-GNN's pretraining input, `pcf_dnn`). The harness fills it only for the pair
    /// a model's config asks for (`crate::registry::Registered::side_inputs`); `None` otherwise.
    #[serde(default)]
    pub pairs: Option<PairStats>,
}

/// The (id_a, id_b) pairs of fields `fields.0` x `fields.1` seen together in the
/// training rows, with how often (`count`, c_uv) and how many of those rows were
/// positive (`positives`; a_uv = positives / count).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairStats {
    pub fields: (String, String),
    /// Sorted by `(a, b)`, each pair once, `count >= 1`.
    pub pairs: Vec<PairStat>,
    /// When asked for (`RankingInputs::pair_folds` = K): entry k holds the statistics
    /// of the training rows outside fold k (`fold_of(row_key(row), K) != k`), sorted
    /// as `pairs`; a row of fold k may read them without seeing its own label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub out_of_fold: Vec<Vec<PairStat>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairStat {
    pub a: u32,
    pub b: u32,
    pub count: u32,
    pub positives: u32,
}

impl PairStats {
    /// The statistic of pair `(a, b)`, if it occurs in the training rows (binary search
    /// over the sorted pairs).
    pub fn get(&self, a: u32, b: u32) -> Option<&PairStat> {
        self.pairs
            .binary_search_by(|p| (p.a, p.b).cmp(&(a, b)))
            .ok()
            .map(|i| &self.pairs[i])
    }
}

impl PairStat {
    /// a_uv: the positive rate of the pair in the training rows.
    pub fn rate(&self) -> f32 {
        self.positives as f32 / self.count.max(1) as f32
    }
}

impl FeatureSpec {
    pub fn n_sparse(&self) -> usize {
        self.sparse.len()
    }
    pub fn n_dense(&self) -> usize {
        self.dense.len()
    }

    /// The training-split id frequencies, or an error when the harness filled none.
    pub fn require_frequencies(&self) -> Result<&[Vec<u32>], String> {
        self.frequencies.as_deref().ok_or_else(|| {
            "needs per-id frequencies of the training rows (FeatureSpec::frequencies)".into()
        })
    }

    /// Indices of two different sparse fields named `fields` (a model's pair config).
    pub fn field_pair(&self, fields: &[String; 2]) -> Result<(usize, usize), String> {
        let find = |name: &str| {
            self.sparse
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| format!("no sparse field `{name}`"))
        };
        let (a, b) = (find(&fields[0])?, find(&fields[1])?);
        if a == b {
            return Err("fields must be two different sparse fields".into());
        }
        Ok((a, b))
    }

    /// The pair statistics of `fields`, checked against the fields' names and
    /// vocabularies; an error when the harness filled none (or another pair's).
    pub fn require_pairs(&self, fields: &[String; 2]) -> Result<&PairStats, String> {
        let (fa, fb) = self.field_pair(fields)?;
        let stats = self.pairs.as_ref().ok_or_else(|| {
            format!(
                "needs co-occurrence statistics of {} x {} from the training rows (FeatureSpec::pairs)",
                fields[0], fields[1]
            )
        })?;
        if stats.fields.0 != fields[0] || stats.fields.1 != fields[1] {
            return Err(format!(
                "pair statistics are for {} x {}, the config asks for {} x {}",
                stats.fields.0, stats.fields.1, fields[0], fields[1]
            ));
        }
        let (va, vb) = (self.sparse[fa].1, self.sparse[fb].1);
        if let Some(p) = stats
            .pairs
            .iter()
            .find(|p| p.a >= va || p.b >= vb || p.count == 0 || p.positives > p.count)
        {
            return Err(format!("bad pair statistic {p:?}"));
        }
        if stats
            .pairs
            .windows(2)
            .any(|w| (w[0].a, w[0].b) >= (w[1].a, w[1].b))
        {
            return Err("pair statistics must be sorted by (a, b), each pair once".into());
        }
        Ok(stats)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub size: usize,
    /// `size x n_sparse` per-field ids, each `< vocab` of its field.
    pub sparse: Vec<u32>,
    pub n_sparse: usize,
    /// `size x n_dense` values.
    pub dense: Vec<f32>,
    pub n_dense: usize,
    /// `size` labels in {0, 1} (the task's primary label).
    pub labels: Vec<f32>,
    /// Further per-example columns by name, `size` values each: the labels of other
    /// tasks, a treatment. For losses and metrics; models never read labels.
    pub columns: Vec<(String, Vec<f32>)>,
}

impl Batch {
    pub fn sparse_row(&self, row: usize) -> &[u32] {
        &self.sparse[row * self.n_sparse..(row + 1) * self.n_sparse]
    }
    /// The extra column `name`, if the batch carries it.
    pub fn column(&self, name: &str) -> Option<&[f32]> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}
