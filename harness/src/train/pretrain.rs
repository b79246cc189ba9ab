//! A model's self-supervised pre-training (LUM's step 1), before its training epochs:
//! `model.pretrain_epochs()` shuffled epochs of `baselines::pretrain_step` over the
//! rows the task kind gives (training-split data only), with an optimizer of its own
//! that is dropped afterwards.

use std::time::Instant;

use baselines::engine::{Dev, Flops, Optimizer, ParamStore};
use baselines::{pretrain_step, Kind, Model, StepOutput};

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
    /// Mean pre-training loss per epoch.
    pub losses: Vec<f64>,
    pub examples_seen: usize,
    pub seconds: f64,
    pub flops: Flops,
}

/// Pre-trains `model` for its `pretrain_epochs` on `set`; nothing when it asks for
/// none. A model that asks for pre-training on a kind that offers no pre-training rows
/// is an error, not a silent skip.
pub fn pretrain<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    set: Option<PretrainSet<K>>,
    plan: &EpochPlan,
) -> Result<Pretrained, TrainError> {
    let epochs = model.pretrain_epochs();
    let mut out = Pretrained {
        epochs,
        ..Default::default()
    };
    if epochs == 0 {
        return Ok(out);
    }
    let set = set.ok_or(TrainError::NoPretrainData { epochs })?;
    if set.rows.is_empty() {
        return Ok(out);
    }
    let t0 = Instant::now();
    let mut opt = Optimizer::new(&plan.optim, store);
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
            out.flops.merge(&flops);
        }
        out.losses.push(loss_sum / set.rows.len() as f64);
    }
    out.seconds = t0.elapsed().as_secs_f64();
    Ok(out)
}
