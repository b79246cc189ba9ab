//! The input contract for sequential retrieval models (issue 7): per user, the history
//! of items (oldest first), next-item targets for training, and the model interface
//! the harness trains and evaluates them through.
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

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::{parameter_gradient_norms, Ctx, Dev, Flops, Mat, Optimizer, ParamStore, Track};

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

/// What a sequential retrieval model implements, generic over the tape.
pub trait SeqForward<D: Dev>: Send + Sync {
    /// The model's own training loss (SASRec: BCE on target vs sampled negatives;
    /// KuaiFormer: in-batch softmax with logQ ...), averaged over non-padding targets.
    fn loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Tensor<Rank0, f32, D, T>;

    /// The user side at the end of each history: `(size * interests(), d)`, rows of
    /// one user adjacent. Scoring is `max_k <u_k, item>`.
    fn user_vectors<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T>;

    /// Vectors per user (1 for single-interest models; KuaiFormer's k).
    fn interests(&self) -> usize {
        1
    }

    /// Whether batches may come in a window shorter than `SeqSpec::max_len` (columns
    /// that are padding in every row cut off) with the same outputs at real positions.
    /// False for models whose layout is fixed over the whole window (KuaiFormer's
    /// compression groups).
    fn trims_padding(&self) -> bool {
        false
    }

    /// Whether batches of similar history lengths train faster: the model's cost
    /// follows the longest history of the batch (it trims padding, or skips tokens
    /// that are padding in every row).
    fn benefits_from_length_buckets(&self) -> bool {
        self.trims_padding()
    }

    /// Targets the loss gets from one history with `positions` target positions (every
    /// position for SASRec and HSTU; KuaiFormer's replayed requests).
    fn training_targets(&self, positions: usize) -> usize {
        positions
    }

    /// The item side on the host: `(n_items + 1) x d`, row 0 = padding (never ranked).
    fn item_vectors(&self, store: &ParamStore<D>) -> Vec<f32>;
}

/// Object-safe interface the harness uses.
pub trait SeqModel<D: Dev>: Send + Sync {
    fn loss_train(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Tensor<Rank0, f32, D, OwnedTape<f32, D>>;
    fn user_vectors_eval(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D>;
    fn interests(&self) -> usize;
    fn trims_padding(&self) -> bool;
    fn benefits_from_length_buckets(&self) -> bool;
    fn training_targets(&self, positions: usize) -> usize;
    fn item_vectors(&self, store: &ParamStore<D>) -> Vec<f32>;
}

impl<D: Dev, M: SeqForward<D>> SeqModel<D> for M {
    fn loss_train(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Tensor<Rank0, f32, D, OwnedTape<f32, D>> {
        ctx.set_training(true);
        self.loss::<OwnedTape<f32, D>>(store, batch, ctx)
    }
    fn user_vectors_eval(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D> {
        ctx.set_training(false);
        self.user_vectors::<NoneTape>(store, batch, ctx)
    }
    fn interests(&self) -> usize {
        SeqForward::interests(self)
    }
    fn trims_padding(&self) -> bool {
        SeqForward::trims_padding(self)
    }
    fn benefits_from_length_buckets(&self) -> bool {
        SeqForward::benefits_from_length_buckets(self)
    }
    fn training_targets(&self, positions: usize) -> usize {
        SeqForward::training_targets(self, positions)
    }
    fn item_vectors(&self, store: &ParamStore<D>) -> Vec<f32> {
        SeqForward::item_vectors(self, store)
    }
}

/// Forward + backward + optimizer on one batch with the model's own loss; returns the
/// loss before the update and the step's FLOPs.
pub fn seq_train_step<D: Dev>(
    model: &dyn SeqModel<D>,
    store: &mut ParamStore<D>,
    opt: &mut Optimizer<D>,
    batch: &SeqBatch,
) -> (f32, Flops) {
    let mut ctx = Ctx::training();
    let loss = model.loss_train(store, batch, &mut ctx);
    let value = loss.as_vec()[0];
    let mut grads = loss.backward();
    opt.step(store, &mut grads, &ctx.lookups, &mut ctx.flops);
    (value, ctx.flops)
}

/// User vectors for a batch without a tape: `size * interests` rows of `d` on the host,
/// plus the forward FLOPs.
pub fn seq_user_vectors<D: Dev>(
    model: &dyn SeqModel<D>,
    store: &ParamStore<D>,
    batch: &SeqBatch,
) -> (Vec<f32>, Flops) {
    let mut ctx = Ctx::default();
    let u = model.user_vectors_eval(store, batch, &mut ctx);
    (u.as_vec(), ctx.flops)
}

/// L2 norm of every parameter's gradient of the model's loss on `batch` (tables: of the
/// rows looked up), by name, without updating anything; 0 where the loss does not reach.
pub fn seq_gradient_norms<D: Dev>(
    model: &dyn SeqModel<D>,
    store: &ParamStore<D>,
    batch: &SeqBatch,
) -> Vec<(String, f32)> {
    let mut ctx = Ctx::training();
    let mut grads = model.loss_train(store, batch, &mut ctx).backward();
    parameter_gradient_norms(store, &ctx, &mut grads)
}
