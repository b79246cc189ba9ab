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
