//! The checkpoint side of the epoch loop: which checkpoint a cell may continue from,
//! loading it, and saving (or pausing at the time limit) after an epoch. The file and
//! its key are `crate::checkpoint`'s.

use std::time::Instant;

use baselines::engine::{device_draws, replay_device_draws, Dev, Flops, Optimizer, ParamStore};
use indicatif::ProgressBar;

use super::early_stop::EpochLog;
use super::plan::{EpochPlan, EpochRun, TrainError};
use crate::checkpoint::{self, Checkpoint, CheckpointPlan};

/// Loads a checkpoint into the store, optimizer, epoch log and run totals, and replays
/// the device draws its epochs took.
pub(super) fn continue_from<'a, D: Dev>(
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
    run.earlier_peak_rss = ck.peak_rss_bytes;
    replay_device_draws(store.dev(), ck.device_draws);
    log
}

/// The checkpoint side of `run_epochs`: saves after an epoch once `every` has passed,
/// and at the time limit saves and pauses the cell.
pub(super) struct Saver<'p> {
    plan: &'p CheckpointPlan,
    last_save: Instant,
    /// The device-draw count when the cell's epochs began (replayed draws count after).
    draws_at_start: u64,
}

impl<'p> Saver<'p> {
    pub(super) fn new(plan: &'p CheckpointPlan, draws_at_start: u64) -> Self {
        Saver {
            plan,
            last_save: Instant::now(),
            draws_at_start,
        }
    }

    /// After epoch `epoch` (not the last): saves when due; `Err(Paused)` at the limit.
    pub(super) fn after_epoch<D: Dev>(
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
pub(super) fn resumable(p: &CheckpointPlan, plan: &EpochPlan) -> Option<Checkpoint<'static>> {
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
        peak_rss_bytes: run.peak_rss_bytes(),
    }
}
