//! The retrieval kind (next-item prediction): per user, the history of items (oldest
//! first) and next-item targets for training; the model returns user vectors.
//!
//! Items are ids `1..=n_items`; id 0 is padding and never a target. Histories are
//! LEFT-padded to `max_len`, so the most recent item of every row sits at position
//! `max_len - 1` and "the state after the last item" is always the last position.
//! A model whose outputs at real positions do not depend on how much padding precedes
//! them (`trims_padding`) may be given batches in a shorter window: `SeqBatch::max_len`
//! is then the longest history of the batch, positions still counted so the latest
//! item sits at `SeqSpec::max_len - 1`. Most histories are far shorter than `max_len`
//! (Beauty: median 6 of 50), so this is where most of the compute goes otherwise.
//! Models see no files, users or splits: the harness cuts histories so that nothing
//! after the evaluated position is in the batch (leave-one-out), and draws negatives.

use serde::{Deserialize, Serialize};

use crate::contract::{Kind, Loss};
use crate::engine::{Ctx, Dev, Mat, Track};

/// What a sequential task looks like; models size their parameters from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeqSpec {
    /// Items are `1..=n_items`; tables have `n_items + 1` rows (row 0 = padding).
    pub n_items: u32,
    /// Positions per history (older items are dropped).
    pub max_len: usize,
    /// How often each item (index = id, entry 0 unused) occurs as a TRAINING target.
    /// For popularity baselines and sampled-softmax logQ correction; `None` when the
    /// caller has no split (validation up front).
    #[serde(default)]
    pub item_counts: Option<Vec<u32>>,
}

/// A batch of left-padded histories. All vectors are row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeqBatch {
    pub size: usize,
    pub max_len: usize,
    /// `size x max_len` item ids, 0 = padding, most recent at `max_len - 1`.
    pub items: Vec<u32>,
    /// `size x max_len` event times in seconds (0 where padded); for time-aware models
    /// (HSTU's relative time bias). Synthetic worlds use the event index.
    pub times: Vec<i64>,
    /// Training only (empty at evaluation): `size x max_len` next-item targets,
    /// `targets[b][p]` = the item that followed `items[b][p]`, 0 = no target there
    /// (padding). Position `max_len - 1` holds the item after the history's end.
    pub targets: Vec<u32>,
    /// Training only: `size x max_len x n_neg` negatives sampled by the harness (seeded,
    /// uniform over items, never equal to that position's target). Models with in-batch
    /// negatives may ignore them.
    pub negatives: Vec<u32>,
    pub n_neg: usize,
}

impl SeqBatch {
    pub fn items_row(&self, row: usize) -> &[u32] {
        &self.items[row * self.max_len..(row + 1) * self.max_len]
    }
    /// Number of non-padding targets: what a mean loss divides by.
    pub fn n_targets(&self) -> usize {
        self.targets.iter().filter(|&&t| t != 0).count()
    }
}

/// The retrieval kind: [`SeqSpec`] sizes a model, [`SeqBatch`] runs it, the output is
/// the user side at the end of each history, `(size * interests, d)` with one user's
/// rows adjacent, scored against [`crate::contract::Forward::item_vectors`] by
/// `max_k <u_k, item>`. Every retrieval model brings its own loss (SASRec's BCE over
/// sampled negatives, HSTU's sampled softmax, KuaiFormer's in-batch softmax), averaged
/// over non-padding targets: the kind has no default.
pub struct Retrieval;

impl Kind for Retrieval {
    const NAME: &'static str = "retrieval";
    type Spec = SeqSpec;
    type Batch = SeqBatch;
    type Output<D: Dev, T: Track<D>> = Mat<D, T>;
    type Hints = RetrievalHints;
    type SideInputs = ();

    fn default_loss<D: Dev, T: Track<D>>(
        _: Mat<D, T>,
        _: &SeqBatch,
        _: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        None
    }

    fn to_host<D: Dev>(out: Mat<D>) -> Vec<f32> {
        out.as_vec()
    }

    fn batch_size(batch: &SeqBatch) -> usize {
        batch.size
    }
}

/// What the harness asks of a retrieval model beyond its outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrievalHints {
    /// Vectors per user (1 for single-interest models; KuaiFormer's k).
    pub interests: usize,
    /// Whether batches may come in a window shorter than `SeqSpec::max_len` (columns
    /// that are padding in every row cut off) with the same outputs at real positions.
    /// False for models whose layout is fixed over the whole window (KuaiFormer's
    /// compression groups).
    pub trims_padding: bool,
    /// Whether batches of similar history lengths train faster: the model's cost
    /// follows the longest history of the batch (it trims padding, or skips tokens
    /// that are padding in every row).
    pub benefits_from_length_buckets: bool,
    /// Targets the loss takes from one history at most (KuaiFormer's replayed
    /// requests); `None`: every target position (SASRec, HSTU).
    pub targets_per_history: Option<usize>,
}

impl Default for RetrievalHints {
    fn default() -> Self {
        RetrievalHints {
            interests: 1,
            trims_padding: false,
            benefits_from_length_buckets: false,
            targets_per_history: None,
        }
    }
}

impl RetrievalHints {
    /// Targets the loss gets from one history with `positions` target positions.
    pub fn training_targets(&self, positions: usize) -> usize {
        self.targets_per_history
            .map_or(positions, |cap| positions.min(cap))
    }
}
