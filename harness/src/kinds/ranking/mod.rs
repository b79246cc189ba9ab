//! The ranking (CTR) kind: train on the train split with early stopping on valid, then
//! score the test split and report AUC, GAUC (by group) and LogLoss, next to the
//! constant predictor and, for synthetic worlds, the oracle (true probabilities). The
//! per-example test scores are written beside the record for paired tests.

pub mod prepare;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use baselines::engine::{Dev, ParamStore};
use baselines::{predict, Batch, FeatureSpec, Model, Ranking, RankingInputs};

use super::interface::{Evaluated, TaskKindData};
use super::record::{row_counts, DataHashes};
use crate::cost::time_calls;
use crate::data::batcher::{feature_spec, feature_spec_for, make_batch, make_train_batch};
use crate::data::{DataResult, Dataset};
use crate::metrics::ranking_metrics;
use crate::results::{Latency, Scores};
use crate::task::TaskSpec;
use crate::train::{PretrainSet, TrainingSet};

pub use prepare::{prepare, Prepared};

/// Inference latency of every trained model is measured at these batch sizes, each for
/// about `LATENCY_BUDGET` (at least `LATENCY_MIN_REPS` repetitions), after evaluation.
pub const LATENCY_BATCHES: [usize; 3] = [1, 256, 4096];
pub const LATENCY_BUDGET: Duration = Duration::from_millis(500);
pub const LATENCY_MIN_REPS: usize = 20;
pub const LATENCY_MAX_REPS: usize = 1000;
/// Rows scored per forward pass at evaluation time.
pub const EVAL_BATCH: usize = 4096;

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
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

/// Latency of `baselines::predict` on each of `batches` (each timed separately): 3 warm-up
/// calls, then repetitions until `budget` is spent (within `min_reps..=max_reps`).
pub fn latencies<D: Dev>(
    model: &dyn Model<Ranking, D>,
    store: &ParamStore<D>,
    batches: &[Batch],
    budget: Duration,
    min_reps: usize,
    max_reps: usize,
) -> Vec<Latency> {
    batches
        .iter()
        .map(|b| {
            time_calls(b.size, budget, min_reps, max_reps, || {
                std::hint::black_box(predict(model, store, b));
            })
        })
        .collect()
}

/// A batch of `size` rows taken in order from `rows`, cycling when `rows` is shorter.
pub fn batch_of(ds: &Dataset, rows: &[usize], size: usize, label: usize) -> Batch {
    assert!(!rows.is_empty(), "no rows to build a batch from");
    let picked: Vec<usize> = rows.iter().copied().cycle().take(size).collect();
    make_batch(ds, &picked, label)
}

impl Prepared {
    /// Labels and groups of `rows`, for the metrics.
    fn truth(&self, rows: &[usize]) -> (Vec<f32>, Option<Vec<u32>>) {
        let ds = &self.dataset;
        let labels = rows.iter().map(|&r| ds.labels[self.label][r]).collect();
        let groups = ds
            .group
            .as_ref()
            .map(|g| rows.iter().map(|&r| g[r]).collect());
        (labels, groups)
    }

    /// Metrics of `model` on `rows`.
    fn rows_metrics<D: Dev>(
        &self,
        model: &dyn Model<Ranking, D>,
        store: &ParamStore<D>,
        rows: &[usize],
    ) -> BTreeMap<String, f64> {
        let logits = predict_rows(model, store, &self.dataset, rows, self.label);
        let (labels, groups) = self.truth(rows);
        ranking_metrics(&logits, &labels, groups.as_deref())
    }
}

impl TaskKindData for Prepared {
    type Models = Ranking;
    type Side = Scores;
    type Evaluation = ();

    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self> {
        prepare(spec, data_root)
    }

    fn validation_spec(&self, _spec: &TaskSpec) -> FeatureSpec {
        feature_spec(&self.dataset)
    }

    fn prepare_seed(&mut self, spec: &TaskSpec, seed: u64) -> DataResult<()> {
        self.split(spec, seed).map(|_| ())
    }

    fn hashes(&self, seed: u64) -> DataHashes<'_> {
        DataHashes {
            data_sha256: &self.data_sha256,
            split_sha256: &self.prepared_split(seed).1,
        }
    }

    /// The side inputs the config declared (per-id frequencies, pair statistics), from
    /// the training rows only (no leakage from valid/test).
    fn model_spec(&self, _spec: &TaskSpec, seed: u64, inputs: &RankingInputs) -> FeatureSpec {
        let train = &self.prepared_split(seed).0.train;
        feature_spec_for(&self.dataset, train, self.label, inputs)
    }

    fn training_set<'a, D: Dev>(
        &'a self,
        _spec: &'a TaskSpec,
        _model_name: &str,
        seed: u64,
        _model: &'a dyn Model<Ranking, D>,
    ) -> TrainingSet<'a, Ranking, D> {
        let split = &self.prepared_split(seed).0;
        let (ds, label) = (&self.dataset, self.label);
        TrainingSet {
            rows: split.train.clone(),
            batch: Box::new(move |_, _, chunk| make_train_batch(ds, chunk, label)),
            regroup: None,
            pretrain: Some(PretrainSet {
                rows: split.train.clone(),
                batch: Box::new(move |chunk| make_train_batch(ds, chunk, label)),
            }),
            validate: Box::new(move |m, s| self.rows_metrics(m, s, &split.valid)),
        }
    }

    fn references(
        &self,
        _spec: &TaskSpec,
        seed: u64,
    ) -> (BTreeMap<String, f64>, Option<BTreeMap<String, f64>>) {
        let split = &self.prepared_split(seed).0;
        let ds = &self.dataset;
        let (labels, groups) = self.truth(&split.test);
        let base_rate = split
            .train
            .iter()
            .map(|&r| ds.labels[self.label][r] as f64)
            .sum::<f64>()
            / split.train.len() as f64;
        let trivial = ranking_metrics(
            &vec![logit(base_rate as f32); split.test.len()],
            &labels,
            groups.as_deref(),
        );
        let oracle = ds.oracle.as_ref().map(|o| {
            let logits: Vec<f32> = split
                .test
                .iter()
                .map(|&r| logit(o[self.label][r]))
                .collect();
            ranking_metrics(&logits, &labels, groups.as_deref())
        });
        (trivial, oracle)
    }

    fn rows(&self, seed: u64) -> BTreeMap<String, usize> {
        let split = &self.prepared_split(seed).0;
        row_counts(&[
            ("train", split.train.len()),
            ("valid", split.valid.len()),
            ("test", split.test.len()),
        ])
    }

    fn evaluate<D: Dev>(
        &self,
        _spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<Ranking, D>,
        store: &ParamStore<D>,
    ) -> Evaluated<Scores, ()> {
        let test = &self.prepared_split(seed).0.test;
        let logits = predict_rows(model, store, &self.dataset, test, self.label);
        let (labels, groups) = self.truth(test);
        let metrics = ranking_metrics(&logits, &labels, groups.as_deref());
        let scores = Scores {
            scores: logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect(),
            labels: labels.iter().map(|&y| y as u8).collect(),
            groups: groups.unwrap_or_else(|| vec![u32::MAX; test.len()]),
        };
        Evaluated {
            metrics,
            side: Some(scores),
            state: (),
        }
    }

    fn latency<D: Dev>(
        &self,
        _spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<Ranking, D>,
        store: &ParamStore<D>,
        _eval: &(),
    ) -> Vec<Latency> {
        let test = &self.prepared_split(seed).0.test;
        let serve: Vec<Batch> = LATENCY_BATCHES
            .iter()
            .filter(|_| !test.is_empty())
            .map(|&n| batch_of(&self.dataset, test, n, self.label))
            .collect();
        latencies(
            model,
            store,
            &serve,
            LATENCY_BUDGET,
            LATENCY_MIN_REPS,
            LATENCY_MAX_REPS,
        )
    }
}
