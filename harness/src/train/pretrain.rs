//! A model's pre-training (LUM's self-supervised step 1, PCF-GNN's graph objective),
//! before its training epochs, as the model's [`Pretraining`] plan says: epochs of
//! `baselines::pretrain_step` over shuffled batches of the kind's pre-training rows, or
//! one full-batch step per epoch on data the model holds. Its optimizer updates only
//! the parameters the plan names and is dropped afterwards.

use std::time::Instant;

use baselines::engine::{Ctx, Dev, Flops, ParamStore};
use baselines::{
    pretrain_optimizer, pretrain_step, Kind, Model, PretrainData, Pretraining, StepOutput,
};

use super::plan::{EpochPlan, TrainError};
use crate::data::batcher::epoch_order;

/// The pre-training rows a kind offers and how a chunk of them becomes a batch.
pub struct PretrainSet<'a, K: Kind> {
    pub rows: Vec<usize>,
    #[allow(clippy::type_complexity)]
    pub batch: Box<dyn Fn(&[usize]) -> K::Batch + 'a>,
}

/// What pre-training did (all zero for a model without it).
#[derive(Debug, Clone, Default)]
pub struct Pretrained {
    pub epochs: usize,
    /// Optimizer steps over all epochs.
    pub steps: usize,
    /// Mean pre-training loss per epoch.
    pub losses: Vec<f64>,
    /// Pre-training rows seen over all epochs (0 when the model pre-trains on its own
    /// data).
    pub examples_seen: usize,
    pub seconds: f64,
    /// The steps' FLOPs (forward, loss, backward, optimizer), plus the one-off work of
    /// `prepare_frozen` afterwards.
    pub flops: Flops,
}

/// Pre-trains `model` as its plan says; nothing when it has none. A model that asks for
/// pre-training on a kind that offers no pre-training rows is an error, not a silent
/// skip. Afterwards the model caches what its frozen parameters determine
/// (`Model::prepare_frozen`).
pub fn pretrain<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    set: Option<PretrainSet<K>>,
    plan: &EpochPlan,
) -> Result<Pretrained, TrainError> {
    let Some(pre) = model.pretraining().filter(|p| p.epochs > 0) else {
        return Ok(Pretrained::default());
    };
    let epochs = pre.epochs;
    let set = set.ok_or(TrainError::NoPretrainData { epochs })?;
    let t0 = Instant::now();
    let mut out = match pre.data {
        PretrainData::Batches => run_batches(model, store, &set, &pre, plan)?,
        PretrainData::Own => run_own(model, store, &set, &pre, plan)?,
    };
    let mut ctx = Ctx::default();
    model.prepare_frozen(store, &mut ctx);
    out.flops.merge(&ctx.flops);
    out.seconds = t0.elapsed().as_secs_f64();
    Ok(out)
}

/// Shuffled epochs over the kind's pre-training rows.
fn run_batches<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    set: &PretrainSet<K>,
    pre: &Pretraining,
    plan: &EpochPlan,
) -> Result<Pretrained, TrainError> {
    let epochs = pre.epochs;
    let mut out = Pretrained {
        epochs,
        ..Default::default()
    };
    if set.rows.is_empty() {
        return Ok(out);
    }
    let mut opt = pretrain_optimizer(store, pre, &plan.optim);
    // Its own shuffle stream, independent of the training epochs'.
    let seed = plan.seed ^ 0x5052_4554_5241_494E;
    for epoch in 1..=epochs {
        let mut loss_sum = 0.0f64;
        for (step, chunk) in epoch_order(&set.rows, seed, epoch)
            .chunks(plan.batch_size)
            .enumerate()
        {
            let b = (set.batch)(chunk);
            let StepOutput { loss, flops } = pretrain_step(model, store, &mut opt, &b)
                .ok_or(TrainError::NoPretrainLoss { epochs })?;
            if !loss.is_finite() {
                return Err(TrainError::PretrainDiverged { epoch, step, loss });
            }
            loss_sum += loss as f64 * chunk.len() as f64;
            out.examples_seen += chunk.len();
            out.steps += 1;
            out.flops.merge(&flops);
        }
        out.losses.push(loss_sum / set.rows.len() as f64);
    }
    Ok(out)
}

/// One full-batch step per epoch on the model's own data (an empty batch of the kind).
fn run_own<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    set: &PretrainSet<K>,
    pre: &Pretraining,
    plan: &EpochPlan,
) -> Result<Pretrained, TrainError> {
    let epochs = pre.epochs;
    let mut out = Pretrained {
        epochs,
        ..Default::default()
    };
    let mut opt = pretrain_optimizer(store, pre, &plan.optim);
    let empty = (set.batch)(&[]);
    for epoch in 1..=epochs {
        let StepOutput { loss, flops } = pretrain_step(model, store, &mut opt, &empty)
            .ok_or(TrainError::NoPretrainLoss { epochs })?;
        if !loss.is_finite() {
            return Err(TrainError::PretrainDiverged {
                epoch,
                step: 0,
                loss,
            });
        }
        out.losses.push(loss as f64);
        out.steps += 1;
        out.flops.merge(&flops);
    }
    Ok(out)
}
