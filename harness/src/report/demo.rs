//! A small, fully synthetic results directory for tests and the browser check: two
//! tasks (one with 3 seeds, an oracle and costs; one with a single seed and no costs),
//! a model missing from the catalog, two variants of `dnn` with smaller embedding
//! tables, a failed cell, and a handful of bad files (corrupt JSON, wrong schema
//! version, truncated scores, a misplaced file); and claim files about them whose
//! verdicts cover reproduced, inconclusive and not run. Nothing here is a real
//! measurement.

use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::split::SplitHashes;
use crate::metrics::{auc, gauc, logloss};
use crate::provenance::Provenance;
use crate::report::load::Cell;
use crate::results::{
    cell_path, scores_path, write_atomic, write_result, CellResult, Cost, Scores, Seconds, Status,
    SCHEMA_VERSION,
};

fn provenance(seed: u64) -> Provenance {
    Provenance {
        recbench_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: "0123456789abcdef0123456789abcdef01234567".into(),
        git_dirty: false,
        build_commit: "0123456789abcdef0123456789abcdef01234567".into(),
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

/// A successful cell result with the given metrics and cost and demo provenance
/// (no scores, oracle or curve): for tests that need results with chosen values.
pub fn synthetic_result(
    task: &str,
    model: &str,
    seed: u64,
    metrics: BTreeMap<String, f64>,
    cost: Cost,
) -> CellResult {
    CellResult {
        schema_version: SCHEMA_VERSION,
        run: "demo".into(),
        task: task.into(),
        model: model.into(),
        base_model: None,
        seed,
        status: Status::Ok,
        error: None,
        primary_metric: "auc".into(),
        metrics,
        valid_metrics: BTreeMap::new(),
        oracle_metrics: None,
        trivial_metrics: BTreeMap::new(),
        best_epoch: 1,
        curve: vec![],
        rows: BTreeMap::new(),
        seconds: Seconds::default(),
        cost,
        model_config: serde_json::json!({}),
        train_config: serde_json::json!({}),
        provenance: provenance(seed),
        scores_file: None,
        resumed_after_epochs: Vec::new(),
        values_file: None,
    }
}

/// [`synthetic_result`] as a loaded cell (what `scan` would give for its file).
pub fn synthetic_cell(
    task: &str,
    model: &str,
    seed: u64,
    metrics: &[(&str, f64)],
    cost: Cost,
) -> Cell {
    let metrics = metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let result = synthetic_result(task, model, seed, metrics, cost);
    let cost_raw = match serde_json::to_value(&result.cost) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => unreachable!("Cost serializes to an object"),
    };
    Cell {
        path: cell_path(Path::new("synthetic"), "demo", task, model, seed),
        result,
        cost_raw,
        scores: None,
        values: None,
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

/// One demo model: its score noise (more noise, worse metrics), FLOPs (0 = no costs
/// recorded), and for a variant its base model and config.
struct DemoModel<'a> {
    model: &'a str,
    noise: f32,
    flops: f64,
    base: Option<&'a str>,
    config: serde_json::Value,
    params_embedding: usize,
    embedding_values_used: Option<u64>,
}

impl<'a> DemoModel<'a> {
    fn plain(model: &'a str, noise: f32, flops: f64) -> Self {
        DemoModel {
            model,
            noise,
            flops,
            base: None,
            config: serde_json::json!({}),
            params_embedding: 40_000,
            embedding_values_used: None,
        }
    }
}

fn cell(root: &Path, task: &str, m: &DemoModel, seed: u64, oracle: bool, n: usize) {
    let (model, noise, flops) = (m.model, m.noise, m.flops);
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
            params_embedding: m.params_embedding,
            embedding_values_used: m.embedding_values_used,
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
        base_model: m.base.map(String::from),
        oracle_metrics: oracle.then(|| metrics_of(&o)),
        trivial_metrics: trivial,
        rows: [("test".to_string(), n)].into_iter().collect(),
        model_config: m.config.clone(),
        scores_file: Some(format!("seed-{seed}.scores.bin")),
        ..synthetic_result(task, model, seed, metrics_of(&s), cost)
    };
    write_atomic(&scores_path(&path), &s.encode()).unwrap();
    write_result(&path, &r).unwrap();
}

/// Writes the demo results under `root/demo/...`.
pub fn write_demo_results(root: &Path) -> std::io::Result<()> {
    let n = 3000;
    let dnn_config = serde_json::json!({"embedding_dim": 16, "hidden": [128, 64]});
    let variant = |model, noise, kind: serde_json::Value, rows: usize, used| DemoModel {
        model,
        noise,
        flops: 46_500.0,
        base: Some("dnn"),
        // As a run records it: the constructor's config, without the `model` key.
        config: {
            let mut c = dnn_config.clone();
            c["embedding"] = kind;
            c
        },
        params_embedding: rows * 16,
        embedding_values_used: used,
    };
    let models = [
        DemoModel::plain("lr", 2.5, 60.0),
        DemoModel {
            config: dnn_config.clone(),
            ..DemoModel::plain("dnn", 0.5, 46_000.0)
        },
        DemoModel::plain("dcnv2", 0.48, 120_000.0),
        DemoModel::plain("newmodel", 0.7, 2.0e6),
        variant(
            "dnn_bh_10x",
            0.56,
            serde_json::json!({"kind": "bh", "bits_per_block": 4, "strategy": "succession", "compose": "sum"}),
            250,
            None,
        ),
        variant(
            "dnn_hash_10x",
            0.9,
            serde_json::json!({"kind": "hash", "buckets": 83}),
            250,
            None,
        ),
        // Mixed dimensions: full-size tables of which a prefix of each row is used.
        variant(
            "dnn_mde",
            0.6,
            serde_json::json!({"kind": "mde", "dims": [16, 8, 4]}),
            2_500,
            Some(12_000),
        ),
    ];
    for seed in 0..3 {
        for m in &models {
            cell(root, "demo-ctr", m, seed, true, n);
        }
    }
    cell(
        root,
        "demo-one-seed",
        &DemoModel::plain("lr", 0.9, 0.0),
        0,
        false,
        1000,
    );
    cell(
        root,
        "demo-one-seed",
        &DemoModel::plain("dnn", 0.5, 0.0),
        0,
        false,
        1000,
    );
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

/// Claim files about the demo results, covering every verdict the report can give:
/// a clear BH-over-hashing win with a memory bound (reproduced), a "keeps 99%" check,
/// a claim that the noisier model is better (not reproduced), a claim on a one-seed
/// task (inconclusive), and one naming a model that never ran (not run).
pub const DEMO_CLAIMS: &[(&str, &str)] = &[
    (
        "demo-bh-beats-hash.json",
        r#"{
  "id": "demo-bh-beats-hash",
  "models": ["dnn_bh_10x", "dnn_hash_10x"],
  "claim": "Binary-code hash embedding beats the hashing trick at the same table size, with a 10x smaller table than the full one.",
  "source": {"arxiv": "2109.02471", "section": "Abstract"},
  "task": "demo-ctr",
  "metric": "auc",
  "checks": [
    {"a": "dnn_bh_10x", "b": "dnn_hash_10x", "test": "better"},
    {"a": "dnn_bh_10x", "b": "dnn", "test": "cost_ratio", "cost": "embedding_bytes", "at_most": 0.1}
  ],
  "note": "Demo data: the scores are synthetic."
}"#,
    ),
    (
        "demo-bh-keeps.json",
        r#"{
  "id": "demo-bh-keeps",
  "models": ["dnn_bh_10x"],
  "claim": "BH keeps 99% of the full embedding's AUC.",
  "source": {"arxiv": "2109.02471", "section": "Abstract"},
  "task": "demo-ctr",
  "metric": "auc",
  "checks": [{"a": "dnn_bh_10x", "b": "dnn", "test": "keeps", "at_least": 0.99}]
}"#,
    ),
    (
        "demo-newmodel-better.json",
        r#"{
  "id": "demo-newmodel-better",
  "models": ["newmodel"],
  "claim": "The new model beats DNN.",
  "source": {"arxiv": "0000.00000", "section": "Sec. 1"},
  "task": "demo-ctr",
  "metric": "auc",
  "checks": [{"a": "newmodel", "b": "dnn", "test": "better"}]
}"#,
    ),
    (
        "demo-one-seed.json",
        r#"{
  "id": "demo-one-seed",
  "models": ["dnn"],
  "claim": "DNN beats LR.",
  "source": {"arxiv": "0000.00000", "section": "Sec. 1"},
  "task": "demo-one-seed",
  "metric": "auc",
  "checks": [{"a": "dnn", "b": "lr", "test": "better"}]
}"#,
    ),
    (
        "demo-not-run.json",
        r#"{
  "id": "demo-not-run",
  "models": ["dcnv2"],
  "claim": "APG improves AUC over DCNv2.",
  "source": {"arxiv": "2203.16218", "section": "Abstract"},
  "task": "demo-ctr",
  "metric": "auc",
  "checks": [{"a": "apg_dcnv2", "b": "dcnv2", "test": "better"}],
  "note": "The demo has no apg_dcnv2 cells."
}"#,
    ),
];

/// Writes [`DEMO_CLAIMS`] into `dir`.
pub fn write_demo_claims(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in DEMO_CLAIMS {
        write_atomic(&dir.join(name), text.as_bytes())?;
    }
    Ok(())
}
