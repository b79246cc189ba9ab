//! Early stopping on one validation metric, and the per-epoch log both training loops
//! keep: the learning curve and the parameters of the best epoch so far.

use std::collections::BTreeMap;
use std::time::Instant;

use baselines::engine::{Dev, ParamStore, Snapshot, StateMismatch};

use crate::checkpoint::Checkpoint;
use crate::metrics::higher_is_better;
use crate::results::CurvePoint;

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
    pub(super) curve: Vec<CurvePoint>,
    pub(super) stop: EarlyStop<'a>,
    pub(super) best: Snapshot<D>,
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
