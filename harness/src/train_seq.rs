//! The training loop of sequential retrieval models, the counterpart of `train.rs`:
//! shuffled epochs over the users with a training target, the model's own loss
//! (`baselines::seq_train_step`), validation after each epoch on the leave-one-out
//! validation item, early stopping on the task's primary metric with the best epoch's
//! parameters restored, and the same divergence guard.

use std::collections::BTreeMap;
use std::time::Instant;

use baselines::engine::{Dev, Flops, OptimConfig, Optimizer, ParamStore};
use baselines::{seq_train_step, SeqModel};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::batcher::epoch_order;
use crate::data::seq_batcher::train_batch;
use crate::data::sequences::Sequences;
use crate::train::{CurvePoint, EpochLog, TrainError};

/// Validation metrics of the current parameters.
pub type Validate<'a, D> =
    dyn FnMut(&dyn SeqModel<D>, &ParamStore<D>) -> BTreeMap<String, f64> + 'a;

pub struct SeqTrainPlan<'a> {
    pub batch_size: usize,
    pub max_epochs: usize,
    pub patience: usize,
    pub optim: OptimConfig,
    /// The validation metric early stopping watches (the task's primary metric).
    pub monitor: &'a str,
    pub seed: u64,
    pub max_len: usize,
    pub n_neg: usize,
}

#[derive(Debug, Clone)]
pub struct SeqTrained {
    pub curve: Vec<CurvePoint>,
    pub best_epoch: usize,
    pub train_seconds: f64,
    /// Training rows (user sequences) seen, over all epochs.
    pub examples_seen: usize,
    /// Training rows per second, optimizer included, validation excluded.
    pub train_examples_per_second: f64,
    /// Every training step's FLOPs, summed.
    pub flops: Flops,
}

/// Trains `model` on the users `train_users` (each has a training target); `validate`
/// returns the validation metrics of the current parameters. On return the store holds
/// the parameters of the best validation epoch.
#[allow(clippy::too_many_arguments)]
pub fn train_seq<D: Dev>(
    model: &dyn SeqModel<D>,
    store: &mut ParamStore<D>,
    seqs: &Sequences,
    train_users: &[usize],
    plan: &SeqTrainPlan,
    validate: &mut Validate<D>,
    progress: &ProgressBar,
) -> Result<SeqTrained, TrainError> {
    let mut opt = Optimizer::new(&plan.optim, store);
    let mut train_time = 0.0;
    let mut log = EpochLog::new(store, plan.monitor, plan.patience);
    let (mut seen, mut flops) = (0usize, Flops::default());
    let steps_per_epoch = train_users.len().div_ceil(plan.batch_size);
    progress.set_length((steps_per_epoch * plan.max_epochs) as u64);
    for epoch in 1..=plan.max_epochs {
        let t0 = Instant::now();
        let order = epoch_order(train_users, plan.seed, epoch);
        // Negatives: their own stream per (seed, epoch), independent of the order's.
        let mut rng = ChaCha8Rng::seed_from_u64(plan.seed ^ 0x4E45_4753);
        rng.set_stream(epoch as u64);
        let mut loss_sum = 0.0f64;
        for (step, chunk) in order.chunks(plan.batch_size).enumerate() {
            let batch = train_batch(seqs, chunk, plan.max_len, plan.n_neg, &mut rng);
            let (loss, step_flops) = seq_train_step(model, store, &mut opt, &batch);
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
        let train_loss = loss_sum / train_users.len().max(1) as f64;
        if log.end_epoch(store, epoch, train_loss, valid) {
            break;
        }
    }
    let (curve, best_epoch) = log.finish(store);
    Ok(SeqTrained {
        curve,
        best_epoch,
        train_seconds: train_time,
        examples_seen: seen,
        train_examples_per_second: seen as f64 / train_time.max(1e-9),
        flops,
    })
}
