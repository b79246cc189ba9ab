//! The training loop of sequential retrieval models, the counterpart of `train.rs`:
//! shuffled epochs over the users with a training target, the model's own loss
//! (`baselines::seq_train_step`), validation after each epoch on the leave-one-out
//! validation item, early stopping on the task's primary metric with the best epoch's
//! parameters restored, and the same divergence guard.

use std::collections::BTreeMap;

use baselines::engine::{Dev, Flops, Optimizer, ParamStore};
use baselines::{seq_train_step, SeqModel};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::seq_batcher::train_batch;
use crate::data::sequences::Sequences;
use crate::train::{run_epochs, CurvePoint, EpochPlan, TrainError};

/// Validation metrics of the current parameters.
pub type Validate<'a, D> =
    dyn FnMut(&dyn SeqModel<D>, &ParamStore<D>) -> BTreeMap<String, f64> + 'a;

pub struct SeqTrainPlan<'a> {
    pub epochs: EpochPlan<'a>,
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
    let mut opt = Optimizer::new(&plan.epochs.optim, store);
    // Negatives: their own stream per (seed, epoch), independent of the order's.
    let negatives = |epoch: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(plan.epochs.seed ^ 0x4E45_4753);
        rng.set_stream(epoch as u64);
        rng
    };
    let mut rng = negatives(1);
    let run = run_epochs(
        store,
        train_users,
        &plan.epochs,
        progress,
        |store, epoch, step, chunk| {
            if step == 0 {
                rng = negatives(epoch);
            }
            let batch = train_batch(seqs, chunk, plan.max_len, plan.n_neg, &mut rng);
            seq_train_step(model, store, &mut opt, &batch)
        },
        |store| validate(model, store),
    )?;
    Ok(SeqTrained {
        train_examples_per_second: run.examples_per_second(),
        curve: run.curve,
        best_epoch: run.best_epoch,
        train_seconds: run.train_seconds,
        examples_seen: run.examples_seen,
        flops: run.flops,
    })
}
