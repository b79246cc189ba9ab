//! One training step, one pre-training step, prediction and gradient norms, for every
//! kind: the only places a loss is turned into gradients and an optimizer update.

use dfdx::prelude::*;

use crate::engine::{
    parameter_gradient_norms, Ctx, Dev, Flops, OptimConfig, Optimizer, ParamStore,
};

use super::{Kind, Model, Pretraining};

/// What a training step reports.
#[derive(Debug, Clone)]
pub struct StepOutput {
    /// The batch's loss before the update.
    pub loss: f32,
    /// Forward (model and loss), backward and optimizer FLOPs of the step.
    pub flops: Flops,
}

/// Forward + the model's loss + backward + optimizer on one batch. The model's
/// [`Model::frozen_in_training`] parameters are frozen in `opt` first, so they stay put
/// whatever the optimizer holds.
pub fn train_step<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    opt: &mut Optimizer<D>,
    batch: &K::Batch,
) -> StepOutput {
    opt.freeze(store, model.frozen_in_training());
    let mut ctx = Ctx::training();
    let loss = model.loss_train(store, batch, &mut ctx);
    let value = loss.as_vec()[0];
    let mut grads = loss.backward();
    opt.step(store, &mut grads, &ctx.lookups, &mut ctx.flops);
    ctx.apply_buffer_updates(store);
    StepOutput {
        loss: value,
        flops: ctx.flops,
    }
}

/// The optimizer a model's pre-training runs with: `base` (the task's) at the plan's
/// learning rate, updating only the parameters the plan names.
pub fn pretrain_optimizer<D: Dev>(
    store: &mut ParamStore<D>,
    plan: &Pretraining,
    base: &OptimConfig,
) -> Optimizer<D> {
    let cfg = OptimConfig {
        lr: plan.learning_rate.unwrap_or(base.lr),
        ..*base
    };
    let mut opt = Optimizer::new(&cfg, store);
    opt.train_only(store, plan.trains);
    opt
}

/// One pre-training step (the model's pre-training loss); `None` if it has none.
pub fn pretrain_step<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    opt: &mut Optimizer<D>,
    batch: &K::Batch,
) -> Option<StepOutput> {
    let mut ctx = Ctx::training();
    let loss = model.pretrain_loss_train(store, batch, &mut ctx)?;
    let value = loss.as_vec()[0];
    let mut grads = loss.backward();
    opt.step(store, &mut grads, &ctx.lookups, &mut ctx.flops);
    ctx.apply_buffer_updates(store);
    Some(StepOutput {
        loss: value,
        flops: ctx.flops,
    })
}

/// The model's output without a tape, on the host (row-major), plus the forward FLOPs.
pub fn predict<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &ParamStore<D>,
    batch: &K::Batch,
) -> (Vec<f32>, Flops) {
    let mut ctx = Ctx::default();
    let out = model.output_eval(store, batch, &mut ctx);
    (K::to_host(out), ctx.flops)
}

/// L2 norm of every parameter's gradient of the model's training loss on `batch`
/// (tables: of the rows looked up), by name, without updating anything; 0 where the
/// loss does not reach.
pub fn gradient_norms<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &ParamStore<D>,
    batch: &K::Batch,
) -> Vec<(String, f32)> {
    let mut ctx = Ctx::training();
    let mut grads = model.loss_train(store, batch, &mut ctx).backward();
    parameter_gradient_norms(store, &ctx, &mut grads)
}

/// As [`gradient_norms`], for the pre-training loss; `None` if the model has none.
pub fn pretrain_gradient_norms<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &ParamStore<D>,
    batch: &K::Batch,
) -> Option<Vec<(String, f32)>> {
    let mut ctx = Ctx::training();
    let mut grads = model
        .pretrain_loss_train(store, batch, &mut ctx)?
        .backward();
    Some(parameter_gradient_norms(store, &ctx, &mut grads))
}
