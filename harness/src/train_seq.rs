//! The training loop of sequential retrieval models, the counterpart of `train.rs`:
//! shuffled epochs over the users with a training target (in batches of similar
//! history lengths with the task's `length_buckets`), the model's own loss
//! (`baselines::seq_train_step`), validation after each epoch on the leave-one-out
//! validation item, early stopping on the task's primary metric with the best epoch's
//! parameters restored, and the same divergence guard.

use std::collections::BTreeMap;

use baselines::engine::{Dev, Optimizer, ParamStore};
use baselines::{train_step, Model, Retrieval};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::length_batches::length_bucketed;
use crate::data::seq_batcher::{train_batch, Window};
use crate::data::sequences::{LooView, Sequences};
use crate::train::{run_epochs, EpochPlan, EpochRun, Regroup, TrainError};

/// Validation metrics of the current parameters.
pub type Validate<'a, D> =
    dyn FnMut(&dyn Model<Retrieval, D>, &ParamStore<D>) -> BTreeMap<String, f64> + 'a;

pub struct SeqTrainPlan<'a> {
    pub epochs: EpochPlan<'a>,
    pub max_len: usize,
    pub n_neg: usize,
    /// Batches of users with similar history lengths (`data::length_batches`), for
    /// models that trim padding; others get random batches either way.
    pub length_buckets: bool,
}

/// Trains `model` on the users `train_users` (each has a training target); `validate`
/// returns the validation metrics of the current parameters. On return the store holds
/// the parameters of the best validation epoch.
#[allow(clippy::too_many_arguments)]
pub fn train_seq<D: Dev>(
    model: &dyn Model<Retrieval, D>,
    store: &mut ParamStore<D>,
    seqs: &Sequences,
    train_users: &[usize],
    plan: &SeqTrainPlan,
    validate: &mut Validate<D>,
    progress: &ProgressBar,
) -> Result<EpochRun, TrainError> {
    let mut opt = Optimizer::new(&plan.epochs.optim, store);
    // Negatives: their own stream per (seed, epoch), independent of the order's.
    let negatives = |epoch: usize| {
        let mut rng = ChaCha8Rng::seed_from_u64(plan.epochs.seed ^ 0x4E45_4753);
        rng.set_stream(epoch as u64);
        rng
    };
    let mut rng = negatives(1);
    let window = Window::for_model(model, plan.max_len);
    let positions = |u: usize| {
        let n = LooView::new(seqs, u).train().len() - 1;
        n.min(plan.max_len)
    };
    let bucketed = |order: &[usize], epoch: usize| {
        let seed = plan.epochs.seed;
        let targets = |u| model.hints().training_targets(positions(u)).max(1);
        length_bucketed(
            order,
            positions,
            targets,
            plan.epochs.batch_size,
            seed,
            epoch,
        )
    };
    let regroup: Option<&Regroup<usize>> =
        (plan.length_buckets && model.hints().benefits_from_length_buckets).then_some(&bucketed);
    run_epochs(
        store,
        &mut opt,
        train_users,
        &plan.epochs,
        progress,
        regroup,
        |store, opt, epoch, step, chunk| {
            if step == 0 {
                rng = negatives(epoch);
            }
            let batch = train_batch(seqs, chunk, window, plan.n_neg, &mut rng);
            train_step(model, store, opt, &batch)
        },
        |store| validate(model, store),
    )
}
