//! A retrieval task's protocol settings and the checks of a retrieval spec.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Protocol settings of a retrieval task (`"retrieval": {...}` in the task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalSpec {
    /// Positions of history a model sees (`SeqSpec::max_len`); older items are dropped.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// Sampled negatives per training position (`SeqBatch::negatives`), uniform over
    /// items, never the position's target.
    #[serde(default = "default_n_neg")]
    pub n_neg: usize,
    /// `n_neg` for some of the task's models, by cell model name: HSTU's sampled
    /// softmax is trained against many negatives, SASRec's BCE against one.
    #[serde(default)]
    pub n_neg_overrides: BTreeMap<String, usize>,
    /// Users with fewer events are dropped before the split (at least 3).
    #[serde(default = "default_min_events")]
    pub min_events: usize,
    /// Negatives of the sampled protocols (metrics suffixed `_s<N>`: drawn uniformly
    /// without replacement from the user's unseen items; `_p<N>`: by popularity).
    #[serde(default = "default_sampled")]
    pub sampled_negatives: usize,
    /// Train on batches of users with similar history lengths (`data::length_batches`:
    /// each batch holds about a random batch's number of targets) instead of random
    /// batches of `batch_size` users, for models that trim padding. Mostly-short
    /// histories (Beauty) then cost several times less per epoch.
    #[serde(default)]
    pub length_buckets: bool,
}

fn default_max_len() -> usize {
    50
}
fn default_n_neg() -> usize {
    1
}
fn default_min_events() -> usize {
    3
}
fn default_sampled() -> usize {
    100
}

impl RetrievalSpec {
    /// Sampled negatives per training position for the cell model `model`.
    pub fn n_neg_for(&self, model: &str) -> usize {
        self.n_neg_overrides
            .get(model)
            .copied()
            .unwrap_or(self.n_neg)
    }
}

impl Default for RetrievalSpec {
    fn default() -> Self {
        RetrievalSpec {
            max_len: default_max_len(),
            n_neg: default_n_neg(),
            n_neg_overrides: BTreeMap::new(),
            min_events: default_min_events(),
            sampled_negatives: default_sampled(),
            length_buckets: false,
        }
    }
}
