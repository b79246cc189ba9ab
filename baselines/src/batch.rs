//! The input contract between the harness and the models: a host-side batch of sparse
//! ids, dense values and labels, all row-major. Models never see files or datasets.

use serde::{Deserialize, Serialize};

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
    /// a model's config asks for (`baselines::pair_fields`); `None` otherwise.
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
}

impl Batch {
    pub fn sparse_row(&self, row: usize) -> &[u32] {
        &self.sparse[row * self.n_sparse..(row + 1) * self.n_sparse]
    }
}
