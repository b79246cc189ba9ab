//! What every cell's result starts from and how a failed training ends it, whatever the
//! task kind, so every kind fills `CellResult` the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use baselines::engine::{Dev, DeviceKind, ParamStore};

use crate::checkpoint::CheckpointAt;
use crate::cost;
use crate::data::split::SplitHashes;
use crate::data::DataError;
use crate::provenance::{self, Provenance};
use crate::results::{CellResult, Cost, PretrainCost, Seconds, Status, SCHEMA_VERSION};
use crate::task::TaskSpec;
use crate::train::{EpochPlan, EpochRun, Pretrained, TrainError};

/// Which cell runs: the run's name, the model's cell name (a registered model or a
/// variant), the seed, the device, and where its checkpoints go.
pub struct CellId<'a> {
    pub run: &'a str,
    pub model: &'a str,
    pub seed: u64,
    pub device: &'a str,
    /// Where the cell saves checkpoints (None: it does not).
    pub checkpoint: Option<&'a CheckpointAt>,
}

/// Why a cell returned without a result.
#[derive(Debug, thiserror::Error)]
pub enum CellError {
    /// Data or model construction problems (they concern every cell).
    #[error(transparent)]
    Data(#[from] DataError),
    /// The run's time limit passed; the cell continues from its checkpoint next time.
    #[error("stopped at the time limit after epoch {epoch}; checkpoint {}", path.display())]
    Paused { epoch: usize, path: PathBuf },
}

/// Training's outcome with a pause taken out: a paused cell returns at once (no result
/// is written), anything else goes on to `after_training`.
pub fn unless_paused<T>(
    trained: Result<T, TrainError>,
) -> Result<Result<T, TrainError>, CellError> {
    match trained {
        Err(TrainError::Paused { epoch, path }) => Err(CellError::Paused { epoch, path }),
        other => Ok(other),
    }
}

/// The parts of a new cell result that differ between task kinds.
pub struct CellStart {
    pub base_model: Option<String>,
    pub model_config: serde_json::Value,
    pub train_config: serde_json::Value,
    pub oracle_metrics: Option<BTreeMap<String, f64>>,
    pub trivial_metrics: BTreeMap<String, f64>,
    pub rows: BTreeMap<String, usize>,
    pub data_sha256: String,
    pub split_sha256: SplitHashes,
    /// RFC 3339 time the cell started.
    pub started: String,
}

/// A result with status ok and nothing measured yet; the runner fills in the git state
/// and config hash, the cell its metrics, curve, cost and times.
fn new_result(spec: &TaskSpec, id: &CellId, start: CellStart) -> CellResult {
    CellResult {
        schema_version: SCHEMA_VERSION,
        run: id.run.to_string(),
        task: spec.name.clone(),
        model: id.model.to_string(),
        base_model: start.base_model,
        seed: id.seed,
        status: Status::Ok,
        error: None,
        primary_metric: spec.primary_metric().to_string(),
        metrics: BTreeMap::new(),
        valid_metrics: BTreeMap::new(),
        oracle_metrics: start.oracle_metrics,
        trivial_metrics: start.trivial_metrics,
        best_epoch: 0,
        curve: Vec::new(),
        rows: start.rows,
        seconds: Seconds::default(),
        cost: Cost::default(),
        model_config: start.model_config,
        train_config: start.train_config,
        provenance: Provenance {
            recbench_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: String::new(),
            git_dirty: false,
            build_commit: provenance::build_commit(),
            rustc: provenance::rustc_version(),
            device: id.device.to_string(),
            host: provenance::host_name(),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            data_sha256: start.data_sha256,
            split_sha256: start.split_sha256,
            config_sha256: String::new(),
            started: start.started,
            finished: String::new(),
        },
        scores_file: None,
        resumed_after_epochs: Vec::new(),
        values_file: None,
    }
}

/// The cell's result once training has ended, with its training outcome when training
/// succeeded; when it failed (divergence, bad data), the finished result with status
/// failed, the reason, the cost measured so far and the seconds spent since `t0` (the
/// cell's start), which the cell returns as it is.
#[allow(clippy::too_many_arguments)]
pub fn after_training<T, E: std::fmt::Display>(
    spec: &TaskSpec,
    id: &CellId,
    start: CellStart,
    trained: Result<T, E>,
    cost: &Cost,
    data_seconds: f64,
    t0: Instant,
) -> Result<(CellResult, T), Box<CellResult>> {
    let mut result = new_result(spec, id, start);
    match trained {
        Ok(t) => Ok((result, t)),
        Err(e) => {
            result.status = Status::Failed;
            result.error = Some(e.to_string());
            result.cost = cost.clone();
            result.seconds = Seconds {
                data: data_seconds,
                total: t0.elapsed().as_secs_f64(),
                ..Default::default()
            };
            result.provenance.finished = provenance::now_rfc3339();
            Err(Box::new(result))
        }
    }
}

/// What a cell's checkpoint must match to be resumed from: the cell, its configs and
/// the hashes of its data and split (`CheckpointAt::with_fingerprint` adds the build).
fn fingerprint(
    spec: &TaskSpec,
    id: &CellId,
    model_config: &serde_json::Value,
    data: &DataHashes,
) -> serde_json::Value {
    serde_json::json!({
        "task": spec.name,
        "model": id.model,
        "seed": id.seed,
        "device": id.device,
        "model_config": model_config,
        "train_config": spec.recorded_train_config(),
        "data_sha256": data.data_sha256,
        "split_sha256": data.split_sha256,
    })
}

/// The hashes of a cell's input data and of its split.
pub struct DataHashes<'a> {
    pub data_sha256: &'a str,
    pub split_sha256: &'a SplitHashes,
}

/// The cell's epochs as its task's training config sets them, with its model's
/// optimizer, early stopping on the task's primary metric, the cell's seed, and its
/// checkpoints when the runner asks for them (keyed by the cell's configs and data).
pub fn epoch_plan<'a>(
    spec: &'a TaskSpec,
    id: &CellId,
    model_config: &serde_json::Value,
    data: DataHashes,
) -> EpochPlan<'a> {
    let checkpoint = id
        .checkpoint
        .map(|c| c.with_fingerprint(&fingerprint(spec, id, model_config, &data)));
    EpochPlan {
        batch_size: spec.train.batch_size,
        max_epochs: spec.train.max_epochs,
        patience: spec.train.patience,
        min_epochs: spec.train.min_epochs,
        optim: spec.train.optim_for(id.model),
        monitor: spec.primary_metric(),
        seed: id.seed,
        checkpoint,
    }
}

/// A cell's cost before evaluation: the batch size, the memory window `peak_scope` and
/// `rss_at_start` from `cost::start_peak_window`, and the memory of `store` (after
/// training: the optimizer's state is laid out).
pub fn start_cost<D: Dev>(
    spec: &TaskSpec,
    store: &ParamStore<D>,
    peak_scope: String,
    rss_at_start: Option<u64>,
) -> Cost {
    let mut cost = Cost {
        train_batch_size: spec.train.batch_size,
        peak_rss_scope: peak_scope,
        process_rss_at_start_bytes: rss_at_start,
        ..Default::default()
    };
    cost::memory_cost(store, &mut cost);
    cost
}

/// The `rows` field of a result from (name, count) pairs.
pub fn row_counts(rows: &[(&str, usize)]) -> BTreeMap<String, usize> {
    rows.iter().map(|&(k, v)| (k.to_string(), v)).collect()
}

/// Records what training did: the curve, the best epoch and its validation metrics,
/// training FLOPs and throughput, and the peak memory so far (over all the cell's runs
/// when it was resumed from a checkpoint).
pub fn record_training(result: &mut CellResult, cost: &mut Cost, run: &EpochRun, device: &str) {
    result.valid_metrics = run.curve[run.best_epoch.max(1) - 1].valid.clone();
    result.best_epoch = run.best_epoch;
    result.curve = run.curve.clone();
    result.resumed_after_epochs = run.resumed_after.clone();
    cost::flops_cost(&run.flops, run.examples_seen, cost);
    cost.train_examples_per_second = run.examples_per_second();
    cost.process_peak_rss_bytes = run.peak_rss_bytes();
    cost.gpu_memory = cost::cuda_mem_info(device.parse().unwrap_or(DeviceKind::Cpu));
}

/// The pre-training's cost; `None` for a model that did not pre-train.
pub fn pretrain_cost(pre: &Pretrained) -> Option<PretrainCost> {
    (pre.epochs > 0).then(|| PretrainCost {
        epochs: pre.epochs,
        steps: pre.steps,
        examples_seen: pre.examples_seen,
        flops: pre.flops.total() as f64,
        seconds: pre.seconds,
        losses: pre.losses.clone(),
    })
}
