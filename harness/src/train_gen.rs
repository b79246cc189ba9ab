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

use baselines::engine::{Dev, Flops, OptimConfig, Optimizer, ParamStore};
use baselines::{gen_pretrain_step, gen_train_step, GenModel, GenSpec};
use indicatif::ProgressBar;

use crate::data::batcher::epoch_order;
use crate::data::gen_batcher::{batch, pretrain_batch, Example};
use crate::data::requests::RequestLogs;
use crate::train::{CurvePoint, EpochLog, TrainError};

/// Validation metrics of the current parameters.
pub type ValidateGen<'a, D> =
    dyn FnMut(&dyn GenModel<D>, &ParamStore<D>) -> BTreeMap<String, f64> + 'a;

pub struct GenTrainPlan<'a> {
    pub batch_size: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub optim: OptimConfig,
    /// The validation metric early stopping watches (the task's primary metric).
    pub monitor: &'a str,
    pub seed: u64,
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

#[derive(Debug, Clone)]
pub struct GenTrained {
    pub curve: Vec<CurvePoint>,
    pub best_epoch: usize,
    /// Ranking epochs' seconds (pre-training and validation excluded).
    pub train_seconds: f64,
    /// Training examples (requests) seen over the ranking epochs.
    pub examples_seen: usize,
    pub train_examples_per_second: f64,
    /// Every ranking step's FLOPs, summed.
    pub flops: Flops,
    pub pretrained: Pretrained,
}

/// The row order of `epoch`: `rows` shuffled by (seed, epoch), as `train.rs` does.
fn shuffled<T: Copy>(rows: &[T], seed: u64, epoch: usize) -> Vec<T> {
    let index: Vec<usize> = (0..rows.len()).collect();
    epoch_order(&index, seed, epoch)
        .into_iter()
        .map(|i| rows[i])
        .collect()
}

/// Pre-trains `model` for its `pretrain_epochs` on `users`' training splits
/// (`gen_batcher::pretrain_batch`), with its own optimizer, dropped afterwards.
fn pretrain<D: Dev>(
    model: &dyn GenModel<D>,
    store: &mut ParamStore<D>,
    spec: &GenSpec,
    logs: &RequestLogs,
    users: &[usize],
    plan: &GenTrainPlan,
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
        for (step, chunk) in shuffled(users, seed, epoch)
            .chunks(plan.batch_size)
            .enumerate()
        {
            let b = pretrain_batch(spec, logs, chunk);
            let (loss, flops) = gen_pretrain_step(model, store, &mut opt, &b)
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
    model: &dyn GenModel<D>,
    store: &mut ParamStore<D>,
    spec: &GenSpec,
    logs: &RequestLogs,
    train: &[Example],
    pretrain_users: &[usize],
    plan: &GenTrainPlan,
    validate: &mut ValidateGen<D>,
    progress: &ProgressBar,
) -> Result<GenTrained, TrainError> {
    let pretrained = pretrain(model, store, spec, logs, pretrain_users, plan)?;
    // A fresh optimizer: the ranking epochs start from zero moments.
    let mut opt = Optimizer::new(&plan.optim, store);
    let mut train_time = 0.0;
    let mut log = EpochLog::new(store, plan.monitor, plan.patience);
    let (mut seen, mut flops) = (0usize, Flops::default());
    let steps_per_epoch = train.len().div_ceil(plan.batch_size);
    progress.set_length((steps_per_epoch * plan.max_epochs) as u64);
    for epoch in 1..=plan.max_epochs {
        let t0 = Instant::now();
        let mut loss_sum = 0.0f64;
        for (step, chunk) in shuffled(train, plan.seed, epoch)
            .chunks(plan.batch_size)
            .enumerate()
        {
            let b = batch(spec, logs, chunk);
            let (loss, step_flops) = gen_train_step(model, store, &mut opt, &b);
            if !loss.is_finite() {
                return Err(TrainError::Diverged { epoch, step, loss });
            }
            loss_sum += loss as f64 * chunk.len() as f64;
            seen += chunk.len();
            flops.merge(&step_flops);
            progress.inc(1);
        }
        train_time += t0.elapsed().as_secs_f64();
        let valid = validate(model, store);
        let train_loss = loss_sum / train.len().max(1) as f64;
        if log.end_epoch(store, epoch, train_loss, valid) {
            break;
        }
    }
    let (curve, best_epoch) = log.finish(store);
    Ok(GenTrained {
        curve,
        best_epoch,
        train_seconds: train_time,
        examples_seen: seen,
        train_examples_per_second: seen as f64 / train_time.max(1e-9),
        flops,
        pretrained,
    })
}
