//! The one training loop, for every task kind: a model's pre-training epochs if it has
//! any, then shuffled epochs of `baselines::train_step`, validation after each epoch,
//! early stopping on the task's primary metric with the best epoch's parameters
//! restored, and a divergence guard (a non-finite loss stops the run with its epoch and
//! step). A kind hands it a [`TrainingSet`]: which rows, how a chunk of them becomes a
//! batch, how to validate. This file has the plans, errors and [`train`]; the parts are
//!
//! - `early_stop.rs`: when to stop, and the per-epoch log (curve, best parameters);
//! - `epochs.rs`: the epoch loop;
//! - `pretrain.rs`: a model's self-supervised pre-training (LUM's step 1);
//! - `resume.rs`: checkpoints (saving, pausing, continuing a cell).

mod early_stop;
mod epochs;
mod plan;
mod pretrain;
mod resume;

pub use early_stop::{EarlyStop, EpochLog, Verdict};
pub use epochs::{run_epochs, Regroup};
pub use plan::{EpochPlan, EpochRun, TrainError};
pub use pretrain::{PretrainSet, Pretrained};

use std::collections::BTreeMap;

use baselines::engine::{Ctx, Dev, Optimizer, ParamStore};
use baselines::{train_step, Kind, Model};
use indicatif::ProgressBar;

/// What a task kind hands the training loop for one cell. Rows are indices the kind's
/// closures understand (dataset rows, users, training examples); the loop shuffles
/// them per (seed, epoch) and cuts them into batches.
pub struct TrainingSet<'a, K: Kind, D: Dev> {
    pub rows: Vec<usize>,
    /// The batch of a chunk of rows: `(epoch, step within the epoch, rows)`.
    #[allow(clippy::type_complexity)]
    pub batch: Box<dyn FnMut(usize, usize, &[usize]) -> K::Batch + 'a>,
    /// Groups an epoch's shuffled rows into batches (retrieval's length buckets);
    /// `None`: consecutive chunks of `batch_size`.
    pub regroup: Option<Box<Regroup<'a, usize>>>,
    /// The rows and batches of the model's pre-training, where the kind has them.
    pub pretrain: Option<PretrainSet<'a, K>>,
    /// Validation metrics of the current parameters.
    #[allow(clippy::type_complexity)]
    pub validate: Box<dyn FnMut(&dyn Model<K, D>, &ParamStore<D>) -> BTreeMap<String, f64> + 'a>,
}

/// What training did: the epochs, and the pre-training before them.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The training epochs (pre-training excluded).
    pub run: EpochRun,
    pub pretrained: Pretrained,
}

/// Pre-trains `model` (if it asks for it), then trains it on `set.rows` with early
/// stopping on `set.validate`. Each phase gets a fresh optimizer: the training epochs
/// start from zero moments. On return the store holds the parameters of the best
/// validation epoch.
pub fn train<K: Kind, D: Dev>(
    model: &dyn Model<K, D>,
    store: &mut ParamStore<D>,
    set: TrainingSet<K, D>,
    plan: &EpochPlan,
    progress: &ProgressBar,
) -> Result<Trained, TrainError> {
    let TrainingSet {
        rows,
        mut batch,
        regroup,
        pretrain,
        mut validate,
    } = set;
    let pretrained = pretrain::pretrain(model, store, pretrain, plan)?;
    let mut opt = Optimizer::new(&plan.optim, store);
    // The epochs may start from a checkpoint's parameters: the model re-derives what
    // its frozen parameters determine before the first step.
    let mut frozen_prepared = false;
    let run = run_epochs(
        store,
        &mut opt,
        &rows,
        plan,
        progress,
        regroup.as_deref(),
        |store, opt, epoch, step, chunk| {
            if !frozen_prepared {
                model.prepare_frozen(store, &mut Ctx::default());
                frozen_prepared = true;
            }
            train_step(model, store, opt, &batch(epoch, step, chunk))
        },
        |store| validate(model, store),
    )?;
    Ok(Trained { run, pretrained })
}
