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
}
