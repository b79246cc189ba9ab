//! What the training loop is told (the epochs' plan) and what it reports (the run, or
//! why it stopped), shared by its parts.

use baselines::engine::{Flops, OptimConfig};

use crate::checkpoint::CheckpointPlan;
use crate::results::CurvePoint;

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
    #[error("the model asks for {epochs} pre-training epochs, but this task kind has no pre-training data")]
    NoPretrainData { epochs: usize },
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

/// What `run_epochs` did.
#[derive(Debug, Clone, Default)]
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
    /// The largest peak RSS of the earlier runs this run resumed from (None: one run,
    /// or unknown); `peak_rss_bytes` combines it with this process's peak.
    pub earlier_peak_rss: Option<u64>,
}

impl EpochRun {
    /// Training rows per second, optimizer included, validation excluded.
    pub fn examples_per_second(&self) -> f64 {
        self.examples_seen as f64 / self.train_seconds.max(1e-9)
    }

    /// The cell's peak resident memory over all its runs: this process's peak
    /// (`crate::cost::peak_rss_bytes`, reset when the cell started) or an earlier run's
    /// saved with the checkpoint this one resumed from, whichever is larger.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        self.earlier_peak_rss.max(crate::cost::peak_rss_bytes())
    }
}
