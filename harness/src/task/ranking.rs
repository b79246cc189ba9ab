//! The ranking (CTR) task: train on the train split with early stopping on valid, then
//! score the test split and report AUC, GAUC (by group) and LogLoss, next to the
//! constant predictor and, for synthetic worlds, the oracle (true probabilities).

use crate::task::cell::{
    after_training, epoch_plan, record_training, row_counts, start_cost, unless_paused, CellError,
    CellStart, DataHashes,
};
use std::time::Instant;

use baselines::engine::{Dev, ParamStore};
use baselines::{registry, Ranking};
use indicatif::ProgressBar;

use crate::checkpoint::CheckpointAt;
use crate::cost;
use crate::data::batcher::feature_spec_for;
use crate::provenance;
use crate::results::{CellResult, Scores, Seconds};
use crate::train::{predict_rows, ranking_metrics, train, TrainPlan};

use super::prepare::Prepared;
use super::spec::TaskSpec;

/// Inference latency of every trained model is measured at these batch sizes, each for
/// about `LATENCY_BUDGET` (at least `LATENCY_MIN_REPS` repetitions), after evaluation.
pub const LATENCY_BATCHES: [usize; 3] = [1, 256, 4096];
pub const LATENCY_BUDGET: std::time::Duration = std::time::Duration::from_millis(500);
pub const LATENCY_MIN_REPS: usize = 20;
pub const LATENCY_MAX_REPS: usize = 1000;

pub struct CellId<'a> {
    pub run: &'a str,
    pub model: &'a str,
    pub seed: u64,
    pub device: &'a str,
    /// Where the cell saves checkpoints (None: it does not).
    pub checkpoint: Option<&'a CheckpointAt>,
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

/// Runs one cell. Data problems are returned as errors (they concern every cell); a
/// diverging model gives a result with status `failed`.
pub fn run_cell<D: Dev>(
    dev: &D,
    spec: &TaskSpec,
    prep: &mut Prepared,
    id: &CellId,
    progress: &ProgressBar,
) -> Result<(CellResult, Option<Scores>), CellError> {
    let started = provenance::now_rfc3339();
    let t0 = Instant::now();
    // The dataset is already resident: the peak from here on is this cell's.
    let (peak_scope, rss_at_start) = cost::start_peak_window("cell");
    let (split, split_hashes) = prep.split(spec, id.seed)?.clone();
    let ds = &prep.dataset;
    let label = prep.label;
    let task_error =
        |msg: String| crate::data::DataError::invalid(format!("task `{}`", spec.name), msg);
    // The cell's name may be a variant: the catalog calls get its base model.
    let entry = spec.require_entry(id.model).map_err(task_error)?;
    let model_config = entry.config.clone();
    let mut store = ParamStore::new(dev.clone(), id.seed);
    // The side inputs the model's config declares (per-id frequencies, pair
    // statistics), from the training rows only (no leakage from valid/test).
    let inputs = registry::side_inputs::<Ranking>(&entry.base, &model_config)
        .map_err(|e| task_error(e.to_string()))?;
    let features = feature_spec_for(ds, &split.train, label, &inputs);
    let model = registry::build::<Ranking, _>(&entry.base, &model_config, &features, &mut store)
        .map_err(|e| task_error(e.to_string()))?;
    let plan = TrainPlan {
        epochs: epoch_plan(
            spec,
            id,
            &model_config,
            DataHashes {
                data_sha256: &prep.data_sha256,
                split_sha256: &split_hashes,
            },
        ),
        label,
    };
    let data_seconds = t0.elapsed().as_secs_f64();
    let trained = train(
        model.as_ref(),
        &mut store,
        ds,
        &split.train,
        &split.valid,
        &plan,
        progress,
    );
    let trained = unless_paused(trained)?;

    let test_labels: Vec<f32> = split.test.iter().map(|&r| ds.labels[label][r]).collect();
    let test_groups: Option<Vec<u32>> = ds
        .group
        .as_ref()
        .map(|g| split.test.iter().map(|&r| g[r]).collect());
    let base_rate = split
        .train
        .iter()
        .map(|&r| ds.labels[label][r] as f64)
        .sum::<f64>()
        / split.train.len() as f64;
    let trivial = ranking_metrics(
        &vec![logit(base_rate as f32); split.test.len()],
        &test_labels,
        test_groups.as_deref(),
    );
    let oracle = ds.oracle.as_ref().map(|o| {
        let logits: Vec<f32> = split.test.iter().map(|&r| logit(o[label][r])).collect();
        ranking_metrics(&logits, &test_labels, test_groups.as_deref())
    });
    // train() has laid out the optimizer's state in the tables and restored the best
    // epoch, whose AMTL widths are the trained model's.
    let mut cost = start_cost(spec, &store, peak_scope, rss_at_start);
    cost::model_memory_cost(model.as_ref(), &store, &mut cost);
    let rows = row_counts(&[
        ("train", split.train.len()),
        ("valid", split.valid.len()),
        ("test", split.test.len()),
    ]);
    let started = after_training(
        spec,
        id,
        CellStart {
            base_model: entry.base_model(),
            model_config,
            train_config: spec.recorded_train_config(),
            oracle_metrics: oracle,
            trivial_metrics: trivial,
            rows,
            data_sha256: prep.data_sha256.clone(),
            split_sha256: split_hashes,
            started,
        },
        trained,
        &cost,
        data_seconds,
        t0,
    );
    let (mut result, trained) = match started {
        Ok(started) => started,
        Err(failed) => return Ok((*failed, None)),
    };
    let t_eval = Instant::now();
    let logits = predict_rows(model.as_ref(), &store, ds, &split.test, label);
    result.metrics = ranking_metrics(&logits, &test_labels, test_groups.as_deref());
    let eval_seconds = t_eval.elapsed().as_secs_f64();
    record_training(&mut result, &mut cost, &trained, id.device);
    let serve: Vec<_> = LATENCY_BATCHES
        .iter()
        .filter(|_| !split.test.is_empty())
        .map(|&n| cost::batch_of(ds, &split.test, n, label))
        .collect();
    cost.latency = cost::latencies(
        model.as_ref(),
        &store,
        &serve,
        LATENCY_BUDGET,
        LATENCY_MIN_REPS,
        LATENCY_MAX_REPS,
    );
    result.cost = cost;
    result.seconds = Seconds {
        data: data_seconds,
        train: trained.train_seconds,
        eval: eval_seconds,
        // Earlier runs of a resumed cell: their epochs' wall time.
        total: t0.elapsed().as_secs_f64() + trained.resumed_seconds,
    };
    result.provenance.finished = provenance::now_rfc3339();
    let scores = Scores {
        scores: logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect(),
        labels: test_labels.iter().map(|&y| y as u8).collect(),
        groups: test_groups.unwrap_or_else(|| vec![u32::MAX; split.test.len()]),
    };
    Ok((result, Some(scores)))
}
