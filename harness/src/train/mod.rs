//! The one training loop: shuffled epochs, validation after each epoch, early stopping
//! on the task's primary metric with the best epoch's parameters restored, and a
//! divergence guard (a non-finite loss stops the run with its epoch and step). This
//! file has the plans, errors and the ranking kind's `train`; the loop's parts are
//!
//! - `early_stop.rs`: when to stop, and the per-epoch log (curve, best parameters);
//! - `epochs.rs`: the epoch loop every task kind shares;
//! - `resume.rs`: its checkpoints (saving, pausing, continuing a cell).

mod early_stop;
mod epochs;
mod resume;

pub use early_stop::{EarlyStop, EpochLog, Verdict};
pub use epochs::{run_epochs, EpochRun, Regroup};

use std::collections::BTreeMap;

use baselines::engine::{Dev, OptimConfig, Optimizer, ParamStore};
use baselines::{predict, train_step, Model, Ranking};
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::checkpoint::CheckpointPlan;
use crate::data::batcher::make_batch;
use crate::data::Dataset;
use crate::metrics;

/// Rows scored per forward pass at evaluation time.
pub const EVAL_BATCH: usize = 4096;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CurvePoint {
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    pub valid: BTreeMap<String, f64>,
    /// Seconds since training started, at the end of this epoch's validation.
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("diverged: loss {loss} at epoch {epoch}, step {step}")]
    Diverged {
        epoch: usize,
        step: usize,
        loss: f32,
    },
    #[error("diverged in pre-training: loss {loss} at epoch {epoch}, step {step}")]
    PretrainDiverged {
        epoch: usize,
        step: usize,
        loss: f32,
    },
    #[error("the model asks for {epochs} pre-training epochs but gives no pre-training loss")]
    NoPretrainLoss { epochs: usize },
    /// Not a failure: the time limit passed, the state is saved in the checkpoint.
    #[error("stopped at the time limit after epoch {epoch}; checkpoint {}", path.display())]
    Paused {
        epoch: usize,
        path: std::path::PathBuf,
    },
}

/// What every training loop's plan holds: batches, epochs, early stopping, optimizer
/// and the seed of the epochs' shuffles.
pub struct EpochPlan<'a> {
    pub batch_size: usize,
    pub max_epochs: usize,
    pub patience: usize,
    /// Early stopping never stops before this epoch (see `TrainSpec::min_epochs`).
    pub min_epochs: usize,
    pub optim: OptimConfig,
    /// The validation metric early stopping watches (the task's primary metric).
    pub monitor: &'a str,
    pub seed: u64,
    /// Checkpoints inside the cell (None: an interrupted cell starts over).
    pub checkpoint: Option<CheckpointPlan>,
}

pub struct TrainPlan<'a> {
    pub epochs: EpochPlan<'a>,
    pub label: usize,
}

/// Scores (logits) of `rows`, in order.
pub fn predict_rows<D: Dev>(
    model: &dyn Model<Ranking, D>,
    store: &ParamStore<D>,
    ds: &Dataset,
    rows: &[usize],
    label: usize,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(EVAL_BATCH) {
        out.extend(predict(model, store, &make_batch(ds, chunk, label)).0);
    }
    out
}

/// AUC, GAUC (when the dataset has groups) and LogLoss of logits against labels.
pub fn ranking_metrics(
    logits: &[f32],
    labels: &[f32],
    groups: Option<&[u32]>,
) -> BTreeMap<String, f64> {
    let probs: Vec<f32> = logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
    let mut m = BTreeMap::new();
    if let Some(a) = metrics::auc(&probs, labels) {
        m.insert("auc".to_string(), a);
    }
    if let Some(g) = groups.and_then(|g| metrics::gauc(&probs, labels, g)) {
        m.insert("gauc".to_string(), g.gauc);
    }
    m.insert(
        "logloss".to_string(),
        metrics::logloss_from_logits(logits, labels),
    );
    m
}

/// Whether a larger value of `metric` is better: every metric but log loss, also per
/// action (`logloss:click`, a generative task's).
pub fn higher_is_better(metric: &str) -> bool {
    metric.split(':').next() != Some("logloss")
}

fn rows_metrics<D: Dev>(
    model: &dyn Model<Ranking, D>,
    store: &ParamStore<D>,
    ds: &Dataset,
    rows: &[usize],
    label: usize,
) -> BTreeMap<String, f64> {
    let logits = predict_rows(model, store, ds, rows, label);
    let labels: Vec<f32> = rows.iter().map(|&r| ds.labels[label][r]).collect();
    let groups: Option<Vec<u32>> = ds
        .group
        .as_ref()
        .map(|g| rows.iter().map(|&r| g[r]).collect());
    ranking_metrics(&logits, &labels, groups.as_deref())
}

/// Trains `model` on `train` rows with early stopping on `valid` rows; on return the
/// store holds the parameters of the best validation epoch.
#[allow(clippy::too_many_arguments)]
pub fn train<D: Dev>(
    model: &dyn Model<Ranking, D>,
    store: &mut ParamStore<D>,
    ds: &Dataset,
    train_rows: &[usize],
    valid_rows: &[usize],
    plan: &TrainPlan,
    progress: &ProgressBar,
) -> Result<EpochRun, TrainError> {
    let mut opt = Optimizer::new(&plan.epochs.optim, store);
    run_epochs(
        store,
        &mut opt,
        train_rows,
        &plan.epochs,
        progress,
        None,
        |store, opt, _, _, chunk| train_step(model, store, opt, &make_batch(ds, chunk, plan.label)),
        |store| rows_metrics(model, store, ds, valid_rows, plan.label),
    )
}
