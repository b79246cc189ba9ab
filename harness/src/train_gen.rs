//! The training loop of generative-ranking models, the counterpart of `train.rs`:
//! first the model's self-supervised pre-training epochs, if it has any
//! (`GenModel::pretrain_epochs`, LUM's step 1), on batches of each user's training
//! split only; then a FRESH optimizer (no moments carried over from pre-training) and
//! shuffled epochs of the ranking loss (`baselines::gen_train_step`) over the training
//! examples, validation after each epoch on the validation requests, early stopping on
//! the task's primary metric with the best epoch's parameters restored, and the same
//! divergence guard.

use std::collections::BTreeMap;
use std::time::Instant;

use baselines::engine::{Dev, Flops, Optimizer, ParamStore};
use baselines::{pretrain_step, train_step, GenSpec, Generative, Model, StepOutput};
use indicatif::ProgressBar;

use crate::data::batcher::epoch_order;
use crate::data::gen_batcher::{batch, pretrain_batch, Example};
use crate::data::requests::RequestLogs;
use crate::train::{run_epochs, EpochPlan, EpochRun, TrainError};

/// Validation metrics of the current parameters.
pub type ValidateGen<'a, D> =
    dyn FnMut(&dyn Model<Generative, D>, &ParamStore<D>) -> BTreeMap<String, f64> + 'a;

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

#[derive(Debug, Clone)]
pub struct GenTrained {
    /// The ranking epochs (pre-training excluded).
    pub run: EpochRun,
    pub pretrained: Pretrained,
}

/// Pre-trains `model` for its `pretrain_epochs` on `users`' training splits
/// (`gen_batcher::pretrain_batch`), with its own optimizer, dropped afterwards.
fn pretrain<D: Dev>(
    model: &dyn Model<Generative, D>,
    store: &mut ParamStore<D>,
    spec: &GenSpec,
    logs: &RequestLogs,
    users: &[usize],
    plan: &EpochPlan,
) -> Result<Pretrained, TrainError> {
    let epochs = model.pretrain_epochs();
    let mut out = Pretrained {
        epochs,
        ..Default::default()
    };
    if epochs == 0 || users.is_empty() {
        return Ok(out);
    }
    let t0 = Instant::now();
    let mut opt = Optimizer::new(&plan.optim, store);
    // Its own shuffle stream, independent of the ranking epochs'.
    let seed = plan.seed ^ 0x5052_4554_5241_494E;
    for epoch in 1..=epochs {
        let mut loss_sum = 0.0f64;
        for (step, chunk) in epoch_order(users, seed, epoch)
            .chunks(plan.batch_size)
            .enumerate()
        {
            let b = pretrain_batch(spec, logs, chunk);
            let StepOutput { loss, flops } = pretrain_step(model, store, &mut opt, &b)
                .ok_or(TrainError::NoPretrainLoss { epochs })?;
            if !loss.is_finite() {
                return Err(TrainError::PretrainDiverged { epoch, step, loss });
            }
            loss_sum += loss as f64 * chunk.len() as f64;
            out.examples_seen += chunk.len();
            out.flops.merge(&flops);
        }
        out.losses.push(loss_sum / users.len() as f64);
    }
    out.seconds = t0.elapsed().as_secs_f64();
    Ok(out)
}

/// Pre-trains (if the model asks), then trains `model` on `train` examples;
/// `validate` returns the validation metrics of the current parameters. On return the
/// store holds the parameters of the best validation epoch.
#[allow(clippy::too_many_arguments)]
pub fn train_gen<D: Dev>(
    model: &dyn Model<Generative, D>,
    store: &mut ParamStore<D>,
    spec: &GenSpec,
    logs: &RequestLogs,
    train: &[Example],
    pretrain_users: &[usize],
    plan: &EpochPlan,
    validate: &mut ValidateGen<D>,
    progress: &ProgressBar,
) -> Result<GenTrained, TrainError> {
    let pretrained = pretrain(model, store, spec, logs, pretrain_users, plan)?;
    // A fresh optimizer: the ranking epochs start from zero moments.
    let mut opt = Optimizer::new(&plan.optim, store);
    let run = run_epochs(
        store,
        &mut opt,
        train,
        plan,
        progress,
        None,
        |store, opt, _, _, chunk| train_step(model, store, opt, &batch(spec, logs, chunk)),
        |store| validate(model, store),
    )?;
    Ok(GenTrained { run, pretrained })
}
