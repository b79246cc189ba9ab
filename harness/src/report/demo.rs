//! A small, fully synthetic results directory for tests and the browser check: two
//! tasks (one with 3 seeds, an oracle and costs; one with a single seed and no costs),
//! a model missing from the catalog, a failed cell, and a handful of bad files
//! (corrupt JSON, wrong schema version, truncated scores, a misplaced file).
//! Nothing here is a real measurement.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::split::SplitHashes;
use crate::metrics::{auc, gauc, logloss};
use crate::provenance::Provenance;
use crate::results::{
    cell_path, scores_path, write_atomic, write_result, CellResult, Cost, Scores, Seconds, Status,
    SCHEMA_VERSION,
};

fn provenance(seed: u64) -> Provenance {
    Provenance {
        recbench_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: "0123456789abcdef0123456789abcdef01234567".into(),
        git_dirty: false,
        rustc: "rustc (demo)".into(),
        device: "cpu".into(),
        host: "demo-host".into(),
        cpus: 2,
        data_sha256: "d".repeat(64),
        split_sha256: SplitHashes {
            train: "a".repeat(64),
            valid: "b".repeat(64),
            test: "c".repeat(64),
        },
        config_sha256: "e".repeat(64),
        started: format!("2026-01-01T00:00:{:02}Z", seed),
        finished: format!("2026-01-01T00:01:{:02}Z", seed),
    }
}

fn metrics_of(s: &Scores) -> BTreeMap<String, f64> {
    let labels: Vec<f32> = s.labels.iter().map(|&l| f32::from(l)).collect();
    let mut m = BTreeMap::new();
    m.insert("auc".into(), auc(&s.scores, &labels).unwrap());
    m.insert(
        "gauc".into(),
        gauc(&s.scores, &labels, &s.groups).unwrap().gauc,
    );
    m.insert("logloss".into(), logloss(&s.scores, &labels));
    m
}

#[allow(clippy::too_many_arguments)]
fn cell(
    root: &Path,
    task: &str,
    model: &str,
    seed: u64,
    noise: f32,
    flops: f64,
    oracle: bool,
    n: usize,
) {
    // The test rows (labels, groups, true probabilities) depend on the task only.
    let mut world = ChaCha8Rng::seed_from_u64(task.len() as u64);
    let truth: Vec<f32> = (0..n).map(|_| world.gen_range(0.02f32..0.6)).collect();
    let labels: Vec<u8> = truth
        .iter()
        .map(|&p| u8::from(world.gen::<f32>() < p))
        .collect();
    let groups: Vec<u32> = (0..n).map(|i| (i % 150) as u32).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed * 1000 + model.len() as u64);
    let scores: Vec<f32> = truth
        .iter()
        .map(|&p| (p + noise * (rng.gen::<f32>() - 0.5)).clamp(0.001, 0.999))
        .collect();
    let s = Scores {
        scores,
        labels,
        groups: groups.clone(),
    };
    let o = Scores {
        scores: truth.clone(),
        ..s.clone()
    };
    let base = s.labels.iter().map(|&l| f32::from(l)).sum::<f32>() / n as f32;
    let t = Scores {
        scores: vec![base; n],
        ..s.clone()
    };
    let mut trivial = metrics_of(&t);
    trivial.insert("auc".into(), 0.5);
    trivial.insert("gauc".into(), 0.5);
    let path = cell_path(root, "demo", task, model, seed);
    let cost = if flops > 0.0 {
        Cost {
            params_dense: (flops / 2.0) as usize,
            params_embedding: 40_000,
            train_state_bytes: (flops * 6.0) as usize + 480_000,
            param_bytes: (flops * 2.0) as usize + 160_000,
            forward_flops_per_example: flops,
            train_examples_per_second: 4e8 / flops,
            process_peak_rss_bytes: Some(80 << 20),
            ..Cost::default()
        }
    } else {
        Cost::default()
    };
    let r = CellResult {
        schema_version: SCHEMA_VERSION,
        run: "demo".into(),
        task: task.into(),
        model: model.into(),
        base_model: None,
        seed,
        status: Status::Ok,
        error: None,
        primary_metric: "auc".into(),
        metrics: metrics_of(&s),
        valid_metrics: BTreeMap::new(),
        oracle_metrics: oracle.then(|| metrics_of(&o)),
        trivial_metrics: trivial,
        best_epoch: 1,
        curve: vec![],
        rows: [("test".to_string(), n)].into_iter().collect(),
        seconds: Seconds::default(),
        cost,
        model_config: serde_json::json!({}),
        train_config: serde_json::json!({}),
        provenance: provenance(seed),
        scores_file: Some(format!("seed-{seed}.scores.bin")),
        values_file: None,
    };
    write_atomic(&scores_path(&path), &s.encode()).unwrap();
    write_result(&path, &r).unwrap();
}

/// Writes the demo results under `root/demo/...`.
pub fn write_demo_results(root: &Path) -> std::io::Result<()> {
    let n = 3000;
    for seed in 0..3 {
        cell(root, "demo-ctr", "lr", seed, 2.5, 60.0, true, n);
        cell(root, "demo-ctr", "dnn", seed, 0.5, 46_000.0, true, n);
        cell(root, "demo-ctr", "dcnv2", seed, 0.48, 120_000.0, true, n);
        cell(root, "demo-ctr", "newmodel", seed, 0.7, 2.0e6, true, n);
    }
    cell(root, "demo-one-seed", "lr", 0, 0.9, 0.0, false, 1000);
    cell(root, "demo-one-seed", "dnn", 0, 0.5, 0.0, false, 1000);
    // A failed cell.
    let failed = cell_path(root, "demo", "demo-ctr", "dcnv2", 3);
    let mut r = crate::results::read_result(&cell_path(root, "demo", "demo-ctr", "dcnv2", 0))
        .expect("just written");
    r.seed = 3;
    r.status = Status::Failed;
    r.error = Some("diverged: NaN training loss at epoch 2".into());
    r.metrics.clear();
    r.scores_file = None;
    write_result(&failed, &r)?;
    // Bad files.
    let dir = root.join("demo/demo-ctr");
    std::fs::create_dir_all(dir.join("broken"))?;
    std::fs::write(
        dir.join("broken/seed-0.json"),
        b"{\"schema_version\": 1, \"run\": ",
    )?;
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("lr/seed-0.json"))?).unwrap();
    v["schema_version"] = 99.into();
    v["model"] = "future".into();
    std::fs::create_dir_all(dir.join("future"))?;
    std::fs::write(dir.join("future/seed-0.json"), v.to_string())?;
    let bytes = std::fs::read(dir.join("dnn/seed-2.scores.bin"))?;
    std::fs::write(dir.join("dnn/seed-2.scores.bin"), &bytes[..bytes.len() - 7])?;
    std::fs::create_dir_all(dir.join("misplaced"))?;
    std::fs::copy(
        dir.join("lr/seed-1.json"),
        dir.join("misplaced/seed-1.json"),
    )?;
    Ok(())
}
