//! The multi-task kind: one row is one exposure with several binary labels (the
//! task's `tasks`). Train on the train split with early stopping on valid (the
//! primary metric, usually `gauc:mean`), then score the test split and report AUC,
//! GAUC (by group) and LogLoss per task and their means, next to the per-task constant
//! predictor and, for synthetic worlds, the oracle (true probabilities).

pub mod eval;
pub mod prepare;

use std::collections::BTreeMap;
use std::path::Path;

use baselines::engine::{Dev, ParamStore};
use baselines::{predict, Model, MultiTask, MultiTaskBatch, MultiTaskSpec};

use super::interface::{Evaluated, TaskKindData};
use super::ranking::{
    EVAL_BATCH, LATENCY_BATCHES, LATENCY_BUDGET, LATENCY_MAX_REPS, LATENCY_MIN_REPS,
};
use super::record::{row_counts, DataHashes};
use crate::cost::time_calls;
use crate::data::batcher::{feature_spec, make_batch};
use crate::data::{DataResult, Dataset};
use crate::results::{Latency, Scores};
use crate::task::TaskSpec;
use crate::train::{PretrainSet, TrainingSet};

pub use eval::multitask_metrics;
pub use prepare::{prepare_mt, PreparedMt};

/// The batch of `rows`: their features and every task's label, row-major.
pub fn mt_batch(ds: &Dataset, rows: &[usize], label_of: &[usize]) -> MultiTaskBatch {
    let mut features = make_batch(ds, rows, label_of[0]);
    features.labels.clear();
    let mut labels = Vec::with_capacity(rows.len() * label_of.len());
    for &r in rows {
        labels.extend(label_of.iter().map(|&l| ds.labels[l][r]));
    }
    MultiTaskBatch {
        features,
        labels,
        tasks: label_of.len(),
    }
}

fn logit(p: f64) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln() as f32
}

impl PreparedMt {
    /// `rows x tasks` labels and the rows' groups.
    fn truth(&self, rows: &[usize]) -> (Vec<f32>, Option<Vec<u32>>) {
        let ds = &self.dataset;
        let labels = rows
            .iter()
            .flat_map(|&r| self.label_of.iter().map(move |&l| ds.labels[l][r]))
            .collect();
        let groups = ds
            .group
            .as_ref()
            .map(|g| rows.iter().map(|&r| g[r]).collect());
        (labels, groups)
    }

    /// `rows x tasks` logits of `model`, in row order.
    fn predict_rows<D: Dev>(
        &self,
        model: &dyn Model<MultiTask, D>,
        store: &ParamStore<D>,
        rows: &[usize],
    ) -> Vec<f32> {
        let mut out = Vec::with_capacity(rows.len() * self.label_of.len());
        for chunk in rows.chunks(EVAL_BATCH) {
            let b = mt_batch(&self.dataset, chunk, &self.label_of);
            out.extend(predict(model, store, &b).0);
        }
        out
    }

    fn rows_metrics<D: Dev>(
        &self,
        model: &dyn Model<MultiTask, D>,
        store: &ParamStore<D>,
        rows: &[usize],
    ) -> BTreeMap<String, f64> {
        let logits = self.predict_rows(model, store, rows);
        let (labels, groups) = self.truth(rows);
        multitask_metrics(&self.layout, &logits, &labels, groups.as_deref())
    }

    fn model_spec_of(&self) -> MultiTaskSpec {
        MultiTaskSpec {
            features: feature_spec(&self.dataset),
            tasks: self.layout.tasks.clone(),
            categories: self.layout.categories.clone(),
            category_of: self.layout.category_of.clone(),
        }
    }
}

impl TaskKindData for PreparedMt {
    type Models = MultiTask;
    /// Not written yet: per-task paired tests need a per-task scores file.
    type Side = Scores;
    type Evaluation = ();

    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self> {
        prepare_mt(spec, data_root)
    }

    fn validation_spec(&self, _spec: &TaskSpec) -> MultiTaskSpec {
        self.model_spec_of()
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

    fn model_spec(&self, _spec: &TaskSpec, _seed: u64, _inputs: &()) -> MultiTaskSpec {
        self.model_spec_of()
    }

    fn training_set<'a, D: Dev>(
        &'a self,
        _spec: &'a TaskSpec,
        _model_name: &str,
        seed: u64,
        _model: &'a dyn Model<MultiTask, D>,
    ) -> TrainingSet<'a, MultiTask, D> {
        let split = &self.prepared_split(seed).0;
        let (ds, label_of) = (&self.dataset, self.label_of.as_slice());
        TrainingSet {
            rows: split.train.clone(),
            batch: Box::new(move |_, _, chunk| mt_batch(ds, chunk, label_of)),
            regroup: None,
            pretrain: Some(PretrainSet {
                rows: split.train.clone(),
                batch: Box::new(move |chunk| mt_batch(ds, chunk, label_of)),
            }),
            validate: Box::new(move |m, s| self.rows_metrics(m, s, &split.valid)),
        }
    }

    /// The per-task constant predictor (each task's training rate) and, on synthetic
    /// worlds, the oracle.
    fn references(
        &self,
        _spec: &TaskSpec,
        seed: u64,
    ) -> (BTreeMap<String, f64>, Option<BTreeMap<String, f64>>) {
        let split = &self.prepared_split(seed).0;
        let ds = &self.dataset;
        let (labels, groups) = self.truth(&split.test);
        let rates: Vec<f32> = self
            .label_of
            .iter()
            .map(|&l| {
                let pos: f64 = split.train.iter().map(|&r| ds.labels[l][r] as f64).sum();
                logit(pos / split.train.len().max(1) as f64)
            })
            .collect();
        let constant: Vec<f32> = split
            .test
            .iter()
            .flat_map(|_| rates.iter().copied())
            .collect();
        let trivial = multitask_metrics(&self.layout, &constant, &labels, groups.as_deref());
        let oracle = ds.oracle.as_ref().map(|o| {
            let logits: Vec<f32> = split
                .test
                .iter()
                .flat_map(|&r| self.label_of.iter().map(move |&l| logit(o[l][r] as f64)))
                .collect();
            multitask_metrics(&self.layout, &logits, &labels, groups.as_deref())
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
        model: &dyn Model<MultiTask, D>,
        store: &ParamStore<D>,
    ) -> Evaluated<Scores, ()> {
        let test = &self.prepared_split(seed).0.test;
        Evaluated {
            metrics: self.rows_metrics(model, store, test),
            side: None,
            state: (),
        }
    }

    fn latency<D: Dev>(
        &self,
        _spec: &TaskSpec,
        seed: u64,
        model: &dyn Model<MultiTask, D>,
        store: &ParamStore<D>,
        _eval: &(),
    ) -> Vec<Latency> {
        let test = &self.prepared_split(seed).0.test;
        if test.is_empty() {
            return Vec::new();
        }
        LATENCY_BATCHES
            .iter()
            .map(|&n| {
                let rows: Vec<usize> = test.iter().copied().cycle().take(n).collect();
                let b = mt_batch(&self.dataset, &rows, &self.label_of);
                time_calls(
                    n,
                    LATENCY_BUDGET,
                    LATENCY_MIN_REPS,
                    LATENCY_MAX_REPS,
                    || {
                        std::hint::black_box(predict(model, store, &b));
                    },
                )
            })
            .collect()
    }
}
