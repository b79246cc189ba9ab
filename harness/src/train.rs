//! The one training loop: shuffled epochs, validation after each epoch, early stopping
//! on the task's primary metric with the best epoch's parameters restored, and a
//! divergence guard (a non-finite loss stops the run with its epoch and step).

use std::collections::BTreeMap;
use std::time::Instant;

use baselines::engine::{
    device_draws, predict_logits, replay_device_draws, train_step, Dev, Flops, OptimConfig,
    Optimizer, ParamStore, Snapshot, StateMismatch,
};
use baselines::Model;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, Checkpoint, CheckpointPlan};
use crate::data::batcher::{epoch_order, make_batch};
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
pub fn predict<D: Dev>(
    model: &dyn Model<D>,
    store: &ParamStore<D>,
    ds: &Dataset,
    rows: &[usize],
    label: usize,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(rows.len());
    for chunk in rows.chunks(EVAL_BATCH) {
        out.extend(predict_logits(model, store, &make_batch(ds, chunk, label)).0);
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

/// What early stopping makes of an epoch's validation score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Best so far: keep these parameters.
    Improved,
    Continue,
    /// `patience` epochs without improvement: stop.
    Stop,
}

/// Early stopping on one validation metric (shared by both training loops).
#[derive(Debug, Clone)]
pub struct EarlyStop<'a> {
    monitor: &'a str,
    patience: usize,
    /// No `Stop` before this epoch: a run still on its opening plateau continues.
    min_epochs: usize,
    best: Option<f64>,
    /// The best epoch so far (0 = none had a score).
    pub best_epoch: usize,
}

impl<'a> EarlyStop<'a> {
    pub fn new(monitor: &'a str, patience: usize) -> Self {
        EarlyStop {
            monitor,
            patience,
            min_epochs: 0,
            best: None,
            best_epoch: 0,
        }
    }

    /// Never stops before `epoch` (the best epoch's parameters are still the ones kept).
    pub fn not_before(mut self, epoch: usize) -> Self {
        self.min_epochs = epoch;
        self
    }

    /// The best score so far.
    pub fn best_score(&self) -> Option<f64> {
        self.best
    }

    /// Continues from a checkpoint's best score and epoch.
    pub fn resumed(mut self, best: Option<f64>, best_epoch: usize) -> Self {
        self.best = best;
        self.best_epoch = best_epoch;
        self
    }

    /// Records `epoch`'s score (None = the metric was not computable).
    pub fn observe(&mut self, epoch: usize, score: Option<f64>) -> Verdict {
        let improved = match (score, self.best) {
            (Some(s), Some(b)) => {
                if higher_is_better(self.monitor) {
                    s > b
                } else {
                    s < b
                }
            }
            (Some(_), None) => true,
            (None, _) => false,
        };
        if improved {
            self.best = score;
            self.best_epoch = epoch;
            Verdict::Improved
        } else if epoch - self.best_epoch.max(1) >= self.patience && epoch >= self.min_epochs {
            Verdict::Stop
        } else {
            Verdict::Continue
        }
    }
}

/// The per-epoch bookkeeping both training loops share: the learning curve, early
/// stopping on the monitored metric, and the parameters of the best epoch so far.
pub struct EpochLog<'a, D: Dev> {
    start: Instant,
    /// Seconds of training before `start` (earlier runs of a resumed cell).
    offset: f64,
    curve: Vec<CurvePoint>,
    stop: EarlyStop<'a>,
    best: Snapshot<D>,
}

impl<'a, D: Dev> EpochLog<'a, D> {
    pub fn new(store: &ParamStore<D>, monitor: &'a str, patience: usize) -> Self {
        EpochLog {
            start: Instant::now(),
            offset: 0.0,
            curve: Vec::new(),
            stop: EarlyStop::new(monitor, patience),
            best: store.snapshot(),
        }
    }

    /// Never stops before `epoch` ([`EarlyStop::not_before`]).
    pub fn not_before(mut self, epoch: usize) -> Self {
        self.stop = self.stop.not_before(epoch);
        self
    }

    /// Records an epoch (its mean training loss and validation metrics), keeps the
    /// parameters if it is the best so far; true when training should stop.
    pub fn end_epoch(
        &mut self,
        store: &ParamStore<D>,
        epoch: usize,
        train_loss: f64,
        valid: BTreeMap<String, f64>,
    ) -> bool {
        let score = valid.get(self.stop.monitor).copied();
        self.curve.push(CurvePoint {
            epoch,
            train_loss,
            valid,
            seconds: self.seconds(),
        });
        match self.stop.observe(epoch, score) {
            Verdict::Improved => {
                self.best = store.snapshot();
                false
            }
            Verdict::Continue => false,
            Verdict::Stop => true,
        }
    }

    /// Seconds since training started, earlier runs of a resumed cell included.
    pub fn seconds(&self) -> f64 {
        self.offset + self.start.elapsed().as_secs_f64()
    }

    /// Continues from a checkpoint: its curve, early-stopping state, best parameters
    /// and seconds.
    pub fn resume(mut self, store: &ParamStore<D>, ck: &Checkpoint) -> Result<Self, StateMismatch> {
        if let Some(best) = &ck.best {
            self.best = store.snapshot_from(best)?;
        }
        self.stop = self.stop.resumed(ck.best_score, ck.best_epoch);
        self.curve = ck.curve.clone();
        self.offset = ck.wall_seconds;
        self.start = Instant::now();
        Ok(self)
    }

    /// One line on the last epoch for a progress bar: its monitored score and the best.
    pub fn status(&self) -> String {
        let Some(last) = self.curve.last() else {
            return String::new();
        };
        let m = self.stop.monitor;
        let fmt = |v: Option<&f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
        let best = self.curve.iter().find(|c| c.epoch == self.stop.best_epoch);
        format!(
            "epoch {}: {m} {} (best {} at epoch {})",
            last.epoch,
            fmt(last.valid.get(m)),
            fmt(best.and_then(|c| c.valid.get(m))),
            self.stop.best_epoch
        )
    }

    /// Restores the best epoch's parameters (if any epoch had a score); returns the
    /// curve and the best epoch (0 = none).
    pub fn finish(self, store: &mut ParamStore<D>) -> (Vec<CurvePoint>, usize) {
        let best_epoch = self.stop.best_epoch;
        if best_epoch > 0 {
            store.restore(&self.best);
        }
        (self.curve, best_epoch)
    }
}

/// What `run_epochs` did.
#[derive(Debug, Clone)]
pub struct EpochRun {
    pub curve: Vec<CurvePoint>,
    /// The epoch whose parameters the store holds (0 = no epoch had a score).
    pub best_epoch: usize,
    /// Seconds in the training steps (validation excluded).
    pub train_seconds: f64,
    /// Training rows seen over all epochs.
    pub examples_seen: usize,
    /// Every training step's FLOPs, summed.
    pub flops: Flops,
    /// Epochs after which this cell was resumed from a checkpoint (empty: one run).
    pub resumed_after: Vec<usize>,
    /// Wall seconds from the start of training to the checkpoint this run resumed from
    /// (earlier runs' epochs, validations and saves); 0 for a cell trained in one run.
    pub resumed_seconds: f64,
}

impl EpochRun {
    /// Training rows per second, optimizer included, validation excluded.
    pub fn examples_per_second(&self) -> f64 {
        self.examples_seen as f64 / self.train_seconds.max(1e-9)
    }
}

/// Groups an epoch's shuffled rows into batches (epoch number second); `None` in
/// `run_epochs` = consecutive chunks of `batch_size`.
pub type Regroup<'a, T> = dyn Fn(&[T], usize) -> Vec<Vec<T>> + 'a;

/// The epoch loop every training loop shares: each epoch shuffles `rows` by
/// (seed, epoch), cuts them into `batch_size` chunks (or the batches `regroup` makes
/// of them), calls `step(store, opt, epoch, step, chunk)` on each (it returns the
/// chunk's mean loss and its FLOPs), stops on a non-finite loss, then scores the
/// parameters with `validate` for early stopping. With a checkpoint plan it resumes
/// from the cell's checkpoint and saves one after epochs (`checkpoint`). On return the
/// store holds the parameters of the best validation epoch.
#[allow(clippy::too_many_arguments)]
pub fn run_epochs<D: Dev, T: Clone>(
    store: &mut ParamStore<D>,
    opt: &mut Optimizer<D>,
    rows: &[T],
    plan: &EpochPlan,
    progress: &ProgressBar,
    regroup: Option<&Regroup<T>>,
    mut step: impl FnMut(&mut ParamStore<D>, &mut Optimizer<D>, usize, usize, &[T]) -> (f32, Flops),
    mut validate: impl FnMut(&ParamStore<D>) -> BTreeMap<String, f64>,
) -> Result<EpochRun, TrainError> {
    let draws_at_start = device_draws();
    let mut log = EpochLog::new(store, plan.monitor, plan.patience).not_before(plan.min_epochs);
    let mut run = EpochRun {
        curve: Vec::new(),
        best_epoch: 0,
        train_seconds: 0.0,
        examples_seen: 0,
        flops: Flops::default(),
        resumed_after: Vec::new(),
        resumed_seconds: 0.0,
    };
    let steps_per_epoch = rows.len().div_ceil(plan.batch_size);
    progress.set_length((steps_per_epoch * plan.max_epochs) as u64);
    let mut first_epoch = 1;
    let t_load = Instant::now();
    if let Some(ck) = plan.checkpoint.as_ref().and_then(|p| resumable(p, plan)) {
        log = continue_from(store, opt, log, &mut run, &ck, plan);
        progress.set_position((steps_per_epoch * ck.epochs_done) as u64);
        progress.suspend(|| {
            eprintln!(
                "resumed after epoch {} from its checkpoint ({:.2} s to read and load)",
                ck.epochs_done,
                t_load.elapsed().as_secs_f64()
            )
        });
        first_epoch = ck.epochs_done + 1;
    }
    let mut saver = plan
        .checkpoint
        .as_ref()
        .map(|p| Saver::new(p, draws_at_start));
    for epoch in first_epoch..=plan.max_epochs {
        let t0 = Instant::now();
        let mut loss_sum = 0.0f64;
        let order = epoch_order(rows, plan.seed, epoch);
        let batches: Vec<Vec<T>> = match regroup {
            Some(regroup) => regroup(&order, epoch),
            None => order.chunks(plan.batch_size).map(<[T]>::to_vec).collect(),
        };
        for (i, chunk) in batches.iter().enumerate() {
            let (loss, step_flops) = step(store, opt, epoch, i, chunk);
            if !loss.is_finite() {
                return Err(TrainError::Diverged {
                    epoch,
                    step: i,
                    loss,
                });
            }
            loss_sum += loss as f64 * chunk.len() as f64;
            run.examples_seen += chunk.len();
            run.flops.merge(&step_flops);
            progress.inc(1);
        }
        run.train_seconds += t0.elapsed().as_secs_f64();
        let valid = validate(store);
        let train_loss = loss_sum / rows.len().max(1) as f64;
        let stop = log.end_epoch(store, epoch, train_loss, valid);
        progress.set_message(log.status());
        if stop {
            break;
        }
        if let Some(saver) = saver.as_mut().filter(|_| epoch < plan.max_epochs) {
            saver.after_epoch(store, opt, &log, &run, epoch, progress)?;
        }
    }
    let (curve, best_epoch) = log.finish(store);
    run.curve = curve;
    run.best_epoch = best_epoch;
    Ok(run)
}

/// Loads a checkpoint into the store, optimizer, epoch log and run totals, and replays
/// the device draws its epochs took.
fn continue_from<'a, D: Dev>(
    store: &mut ParamStore<D>,
    opt: &mut Optimizer<D>,
    log: EpochLog<'a, D>,
    run: &mut EpochRun,
    ck: &Checkpoint,
    plan: &EpochPlan,
) -> EpochLog<'a, D> {
    // The key names the model and its configs, so a mismatch here is a bug; the store
    // may be half loaded, not something to train on.
    let loaded = store
        .load_state(&ck.store)
        .and_then(|()| opt.load_state(store, &ck.optim))
        .and_then(|()| log.resume(store, ck));
    let log = loaded.unwrap_or_else(|e| {
        let path = plan
            .checkpoint
            .as_ref()
            .map(|p| p.path.display().to_string());
        panic!(
            "{}: resuming from this cell's checkpoint failed: {e}",
            path.unwrap_or_default()
        )
    });
    run.train_seconds = ck.train_seconds;
    run.examples_seen = ck.examples_seen;
    run.flops = Flops::from_state(&ck.flops);
    run.resumed_after = ck.resumed_after.clone();
    run.resumed_after.push(ck.epochs_done);
    run.resumed_seconds = ck.wall_seconds;
    replay_device_draws(store.dev(), ck.device_draws);
    log
}

/// The checkpoint side of `run_epochs`: saves after an epoch once `every` has passed,
/// and at the time limit saves and pauses the cell.
struct Saver<'p> {
    plan: &'p CheckpointPlan,
    last_save: Instant,
    /// The device-draw count when the cell's epochs began (replayed draws count after).
    draws_at_start: u64,
}

impl<'p> Saver<'p> {
    fn new(plan: &'p CheckpointPlan, draws_at_start: u64) -> Self {
        Saver {
            plan,
            last_save: Instant::now(),
            draws_at_start,
        }
    }

    /// After epoch `epoch` (not the last): saves when due; `Err(Paused)` at the limit.
    fn after_epoch<D: Dev>(
        &mut self,
        store: &ParamStore<D>,
        opt: &Optimizer<D>,
        log: &EpochLog<D>,
        run: &EpochRun,
        epoch: usize,
        progress: &ProgressBar,
    ) -> Result<(), TrainError> {
        let p = self.plan;
        let pause = p.stop_at.is_some_and(|t| Instant::now() >= t);
        if !pause && self.last_save.elapsed() < p.every {
            return Ok(());
        }
        let t_save = Instant::now();
        let draws = device_draws() - self.draws_at_start;
        let saved = checkpoint::save(
            &p.path,
            &checkpoint_of(store, opt, log, run, p, epoch, draws),
        );
        self.last_save = Instant::now();
        match saved {
            Ok(()) => {
                let mb = std::fs::metadata(&p.path).map_or(0.0, |m| m.len() as f64 / 1e6);
                progress.suspend(|| {
                    eprintln!(
                        "checkpoint after epoch {epoch}: {} ({mb:.1} MB, {:.2} s)",
                        p.path.display(),
                        t_save.elapsed().as_secs_f64()
                    )
                });
                if pause {
                    return Err(TrainError::Paused {
                        epoch,
                        path: p.path.clone(),
                    });
                }
            }
            // Pausing without a checkpoint would lose the epochs: train on.
            Err(e) => eprintln!("warning: could not save a checkpoint, training goes on: {e}"),
        }
        Ok(())
    }
}

/// The plan's checkpoint if it may be resumed from and is this cell's; a missing one is
/// None, and an unreadable or foreign one is None with a line saying why the cell
/// starts over.
fn resumable(p: &CheckpointPlan, plan: &EpochPlan) -> Option<Checkpoint<'static>> {
    if !p.resume {
        if p.path.exists() {
            eprintln!(
                "note: {} is not resumed from without --resume; the cell starts from epoch 1",
                p.path.display()
            );
        }
        return None;
    }
    match checkpoint::load(&p.path) {
        Ok(None) => None,
        Ok(Some(ck)) if ck.key != p.key => {
            eprintln!(
                "note: {} was written for other settings, data or build; the cell starts from epoch 1",
                p.path.display()
            );
            None
        }
        Ok(Some(ck)) if ck.epochs_done >= plan.max_epochs => None,
        Ok(Some(ck)) => Some(ck),
        Err(e) => {
            eprintln!("note: {e}; the cell starts from epoch 1");
            None
        }
    }
}

/// The checkpoint of the state after `epoch`, borrowing the tables from `store` and
/// the best snapshot in `log`.
#[allow(clippy::too_many_arguments)]
fn checkpoint_of<'s, D: Dev>(
    store: &'s ParamStore<D>,
    opt: &Optimizer<D>,
    log: &'s EpochLog<D>,
    run: &EpochRun,
    p: &CheckpointPlan,
    epoch: usize,
    device_draws: u64,
) -> Checkpoint<'s> {
    Checkpoint {
        format: checkpoint::FORMAT,
        key: p.key.clone(),
        epochs_done: epoch,
        device_draws,
        store: store.state(),
        optim: opt.state(store),
        best: (log.stop.best_epoch > 0).then(|| log.best.state()),
        best_score: log.stop.best_score(),
        best_epoch: log.stop.best_epoch,
        curve: log.curve.clone(),
        train_seconds: run.train_seconds,
        wall_seconds: log.seconds(),
        examples_seen: run.examples_seen,
        flops: run.flops.state(),
        resumed_after: run.resumed_after.clone(),
    }
}

fn rows_metrics<D: Dev>(
    model: &dyn Model<D>,
    store: &ParamStore<D>,
    ds: &Dataset,
    rows: &[usize],
    label: usize,
) -> BTreeMap<String, f64> {
    let logits = predict(model, store, ds, rows, label);
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
    model: &dyn Model<D>,
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
        |store, opt, _, _, chunk| {
            let out = train_step(model, store, opt, &make_batch(ds, chunk, plan.label));
            (out.loss, out.flops)
        },
        |store| rows_metrics(model, store, ds, valid_rows, plan.label),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use baselines::Cpu;

    #[test]
    fn early_stopping_waits_for_patience_and_min_epochs() {
        let scores = [0.040, 0.041, 0.039, 0.038, 0.040, 0.039, 0.050];
        let stop_at = |min_epochs: usize| {
            let mut stop = EarlyStop::new("ndcg@10", 3).not_before(min_epochs);
            scores
                .iter()
                .enumerate()
                .map(|(i, &s)| (i + 1, stop.observe(i + 1, Some(s))))
                .find(|(_, v)| *v == Verdict::Stop)
                .map(|(e, _)| (e, stop.best_epoch))
        };
        // Best at epoch 2, three epochs without improvement: stop at 5.
        assert_eq!(stop_at(0), Some((5, 2)));
        // Held to epoch 6 it stops there (still no improvement) ...
        assert_eq!(stop_at(6), Some((6, 2)));
        // ... and held to 7 it sees epoch 7's improvement and never stops.
        assert_eq!(stop_at(7), None);
        // Logloss: lower is better.
        let mut stop = EarlyStop::new("logloss:click", 1).not_before(3);
        assert_eq!(stop.observe(1, Some(0.5)), Verdict::Improved);
        assert_eq!(stop.observe(2, Some(0.6)), Verdict::Continue);
        assert_eq!(stop.observe(3, Some(0.6)), Verdict::Stop);
    }

    #[test]
    fn status_names_the_last_epoch_and_the_best() {
        let store = ParamStore::new(Cpu::default(), 0);
        let mut log = EpochLog::new(&store, "ndcg@10", 3);
        assert_eq!(log.status(), "");
        let valid = |v: f64| BTreeMap::from([("ndcg@10".to_string(), v)]);
        log.end_epoch(&store, 1, 0.9, valid(0.0123));
        log.end_epoch(&store, 2, 0.8, valid(0.0101));
        assert_eq!(
            log.status(),
            "epoch 2: ndcg@10 0.0101 (best 0.0123 at epoch 1)"
        );
    }
}
