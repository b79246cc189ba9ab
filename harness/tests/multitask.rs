//! The multi-task kind end to end: a shared-bottom cell on a small synthetic world
//! records every task's metrics and their means, beats the per-task constants and stays
//! below the oracle; no validation or test row reaches a training batch (a sentinel
//! planted in those rows, watched by a spying model through the real training loop); a
//! files dataset with named labels (`like` = rating >= 4, `love` = rating = 5) runs as
//! a two-task task.

use std::sync::{Arc, Mutex};

use baselines::engine::{Ctx, Dev, Mat, ParamStore, Track};
use baselines::models::multitask::{SharedBottom, SharedBottomConfig};
use baselines::{Cpu, Forward, Model, ModelError, MultiTask, MultiTaskBatch, MultiTaskSpec};
use harness::kinds::multitask::{prepare_mt, PreparedMt};
use harness::kinds::{run_cell, CellId};
use harness::results::{CellResult, Status};
use harness::task::TaskSpec;
use indicatif::ProgressBar;
use serde_json::json;

fn task(
    dataset: serde_json::Value,
    metrics: serde_json::Value,
    multitask: serde_json::Value,
) -> TaskSpec {
    let mut file = json!({
        "name": "tiny-mt", "kind": "multitask",
        "dataset": dataset,
        "split": {"kind": "temporal", "valid": 0.15, "test": 0.15},
        "metrics": metrics,
        "models": {"shared_bottom": {"embedding_dim": 8, "bottom": [32], "tower": [8]}},
        "train": {"batch_size": 256, "max_epochs": 6, "patience": 2,
                  "optim": {"lr": 0.003, "sparse": {"kind": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}}
    });
    if !multitask.is_null() {
        file["multitask"] = multitask;
    }
    serde_json::from_value(file).unwrap()
}

fn synth_task() -> TaskSpec {
    task(
        json!({"source": "synth_mt", "config": {"seed": 2, "n_users": 150, "n_items": 100, "events": 40000}}),
        json!(["gauc:mean", "auc:click", "logloss:mean"]),
        serde_json::Value::Null,
    )
}

type Built<D> = Result<Box<dyn Model<MultiTask, D>>, ModelError>;

fn cell(
    spec: &TaskSpec,
    prep: &mut PreparedMt,
    build: &harness::kinds::Builder<MultiTask, Cpu>,
) -> CellResult {
    let id = CellId {
        run: "t",
        model: "shared_bottom",
        seed: 0,
        device: "cpu",
        checkpoint: None,
    };
    run_cell(
        &Cpu::default(),
        spec,
        prep,
        &id,
        &ProgressBar::hidden(),
        build,
    )
    .unwrap()
    .0
}

fn registry(
    name: &str,
    config: &serde_json::Value,
    spec: &MultiTaskSpec,
    store: &mut ParamStore<Cpu>,
) -> Built<Cpu> {
    baselines::registry::build::<MultiTask, _>(name, config, spec, store)
}

#[test]
fn a_shared_bottom_cell_records_every_task_and_sits_between_constant_and_oracle() {
    let spec = synth_task();
    let mut prep = prepare_mt(&spec, std::path::Path::new(".")).unwrap();
    assert_eq!(prep.layout.categories, ["passive", "interactive"]);
    assert_eq!(prep.layout.category_of, [0, 0, 1, 1, 1, 1]);
    let r = cell(&spec, &mut prep, &registry);
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    assert_eq!(r.primary_metric, "gauc:mean");
    for task in [
        "effective_view",
        "long_view",
        "click",
        "like",
        "comment",
        "follow",
        "mean",
    ] {
        for metric in ["auc", "logloss"] {
            assert!(
                r.metrics.contains_key(&format!("{metric}:{task}")),
                "{metric}:{task}"
            );
        }
    }
    let m = r.metrics["gauc:mean"];
    let (trivial, oracle) = (
        r.trivial_metrics["gauc:mean"],
        r.oracle_metrics.as_ref().unwrap()["gauc:mean"],
    );
    eprintln!("gauc:mean constant {trivial} model {m} oracle {oracle}");
    assert!(
        (trivial - 0.5).abs() < 1e-9,
        "a constant ranks nothing: {trivial}"
    );
    assert!(
        m > trivial + 0.02 && m < oracle,
        "{trivial} < {m} < {oracle}"
    );
    assert!(r.metrics["logloss:mean"] < r.trivial_metrics["logloss:mean"]);
    assert_eq!(r.rows["train"] + r.rows["valid"] + r.rows["test"], 40_000);
}

/// Records the largest first dense value of every training batch it sees.
struct Spy {
    inner: SharedBottom,
    seen: Arc<Mutex<Vec<f32>>>,
}

impl<D: Dev> Forward<MultiTask, D> for Spy {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &MultiTaskBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        if ctx.is_training() {
            let f = &batch.features;
            let max = (0..f.size)
                .map(|r| f.dense[r * f.n_dense])
                .fold(f32::MIN, f32::max);
            self.seen.lock().unwrap().push(max);
        }
        Forward::<MultiTask, D>::forward::<T>(&self.inner, store, batch, ctx)
    }
}

#[test]
fn no_validation_or_test_row_reaches_a_training_batch() {
    let spec = synth_task();
    let mut prep = prepare_mt(&spec, std::path::Path::new(".")).unwrap();
    let (split, _) = prep.split(&spec, 0).unwrap().clone();
    const SENTINEL: f32 = 1000.0;
    for &r in split.valid.iter().chain(&split.test) {
        prep.dataset.dense[0][r] = SENTINEL;
    }
    let seen: Arc<Mutex<Vec<f32>>> = Default::default();
    let spy_log = seen.clone();
    let build = move |_: &str,
                      _: &serde_json::Value,
                      s: &MultiTaskSpec,
                      store: &mut ParamStore<Cpu>|
          -> Built<Cpu> {
        let cfg = SharedBottomConfig {
            embedding_dim: 8,
            bottom: vec![16],
            tower: vec![4],
        };
        Ok(Box::new(Spy {
            inner: SharedBottom::new(store, s, &cfg),
            seen: spy_log.clone(),
        }))
    };
    let r = cell(&spec, &mut prep, &build);
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    let seen = seen.lock().unwrap();
    let steps = split.train.len().div_ceil(256) * r.curve.len();
    assert_eq!(seen.len(), steps, "one record per training step");
    assert!(
        seen.iter().all(|&m| m < SENTINEL),
        "a held-out row was trained on"
    );
}

#[test]
fn a_files_dataset_with_named_labels_runs_as_two_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = String::from("user_id:token\titem_id:token\trating:float\ttimestamp:float\n");
    for i in 0..3000u32 {
        let (u, it) = (i % 40, (i * 7) % 60);
        // Users with even ids rate higher; items < 20 get fives.
        let rating = 1 + (u % 2) * 2 + (it < 20) as u32 + (i % 3 == 0) as u32;
        rows.push_str(&format!("u{u}\ti{it}\t{rating}\t{}\n", 1000 + i));
    }
    std::fs::write(dir.path().join("r.inter"), rows).unwrap();
    let spec = task(
        json!({"source": "files", "name": "r", "format": "recbole", "path": "r.inter",
               "sparse": ["user_id", "item_id"],
               "label": {"column": "rating", "min": 4},
               "labels": [{"name": "like", "column": "rating", "min": 4},
                          {"name": "love", "column": "rating", "min": 5}],
               "group": "user_id", "time": "timestamp"}),
        json!(["auc:mean", "auc:like", "auc:love"]),
        json!({"tasks": ["like", "love"]}),
    );
    let mut prep = prepare_mt(&spec, dir.path()).unwrap();
    assert_eq!(prep.layout.tasks, ["like", "love"]);
    assert_eq!(prep.dataset.schema.labels, ["rating", "like", "love"]);
    let love = &prep.dataset.labels[2];
    assert!(
        love.iter()
            .zip(&prep.dataset.labels[1])
            .all(|(l, k)| l <= k),
        "love implies like"
    );
    let r = cell(&spec, &mut prep, &registry);
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    assert!(
        r.metrics["auc:like"] > 0.6 && r.metrics["auc:love"] > 0.6,
        "{:?}",
        r.metrics
    );
    assert!(
        !r.metrics.contains_key("auc:rating"),
        "only the named tasks are tasks"
    );
}
