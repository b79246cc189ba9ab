//! The `Model` trait. A model is written once, generic over the tape (`Forward`), and
//! gets the object-safe `Model` interface (train with a tape, evaluate without) for free.

use dfdx::prelude::*;

use crate::engine::{Col, Ctx, Dev, ParamStore, Track};
use crate::Batch;

/// What a model implements: logits of the batch's examples, `(batch,)`.
pub trait Forward<D: Dev>: Send + Sync {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T>;

    /// Embedding values the (trained) model uses, where that is fewer than its tables
    /// hold: AMTL and MDE keep only the first `k_v` values of id `v`'s row, so a server
    /// stores `Σ_v k_v`. `None` (the default) when every stored value is used.
    fn embedding_values_used(&self, _store: &ParamStore<D>) -> Option<u64> {
        None
    }

    /// Bytes of lookup state a server needs besides the parameter store (e.g. a frozen
    /// table of pair statistics); 0 for most models.
    fn extra_serving_bytes(&self) -> usize {
        0
    }
}

/// Object-safe model interface used by the harness.
pub trait Model<D: Dev>: Send + Sync {
    fn logits_train(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, OwnedTape<f32, D>>;
    fn logits_eval(&self, store: &ParamStore<D>, batch: &Batch, ctx: &mut Ctx<D>) -> Col<D>;
    /// See [`Forward::embedding_values_used`].
    fn embedding_values_used(&self, store: &ParamStore<D>) -> Option<u64>;
    /// See [`Forward::extra_serving_bytes`].
    fn extra_serving_bytes(&self) -> usize;
}

impl<D: Dev, M: Forward<D>> Model<D> for M {
    fn logits_train(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, OwnedTape<f32, D>> {
        ctx.set_training(true);
        self.forward::<OwnedTape<f32, D>>(store, batch, ctx)
    }
    fn logits_eval(&self, store: &ParamStore<D>, batch: &Batch, ctx: &mut Ctx<D>) -> Col<D> {
        ctx.set_training(false);
        self.forward::<NoneTape>(store, batch, ctx)
    }
    fn embedding_values_used(&self, store: &ParamStore<D>) -> Option<u64> {
        Forward::embedding_values_used(self, store)
    }
    fn extra_serving_bytes(&self) -> usize {
        Forward::extra_serving_bytes(self)
    }
}
