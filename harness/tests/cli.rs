//! End-to-end tests of the `recbench` binary: a run writes one result per cell and
//! resumes; bad input fails with a message naming file, line and field (or spec key),
//! a non-zero exit code and no result file; a diverging model is recorded as failed
//! while the run goes on.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::checkpoint;
use harness::results::{read_result, Scores, Status};
use serde_json::json;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tasks/suites")).unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        Env { dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }
    fn task(&self, spec: serde_json::Value) {
        let name = spec["name"].as_str().unwrap().to_string();
        self.write(
            &format!("tasks/{name}.json"),
            &serde_json::to_string_pretty(&spec).unwrap(),
        );
    }
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_recbench"))
            .current_dir(self.dir.path())
            .args(args)
            .args(["--tasks", "tasks"])
            .output()
            .unwrap()
    }
    fn result_files(&self) -> Vec<PathBuf> {
        fn walk(p: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                if e.path().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
        let mut v = Vec::new();
        walk(&self.path("results"), &mut v);
        v.sort();
        v
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn tiny_synth(name: &str, lr: f64) -> serde_json::Value {
    json!({
        "name": name, "kind": "ranking",
        "dataset": {"source": "synth_ctr", "label": "click",
                    "config": {"seed": 3, "n_users": 200, "n_items": 100, "n_authors": 20, "events": 6000}},
        "split": {"kind": "temporal", "valid": 0.15, "test": 0.15},
        "metrics": ["auc", "gauc", "logloss"],
        "models": {"lr": {}, "dnn": {"embedding_dim": 4, "hidden": [8]}},
        "seeds": 2,
        "train": {"batch_size": 256, "max_epochs": 2, "patience": 1, "optim": {"lr": lr}}
    })
}

fn recbole_task(name: &str, inter: &str) -> serde_json::Value {
    json!({
        "name": name, "kind": "ranking",
        "dataset": {"source": "files", "name": "tiny", "format": "recbole", "path": inter,
                    "sparse": ["user_id", "item_id"], "label": {"column": "rating", "min": 4},
                    "group": "user_id", "time": "timestamp"},
        "split": {"kind": "temporal", "valid": 0.2, "test": 0.2},
        "metrics": ["auc"], "models": {"lr": {}}, "seeds": 1
    })
}

#[test]
fn run_writes_every_cell_and_resume_skips_them() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    let out = env.run(&["run", "tiny"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = env.result_files();
    // 2 models x 2 seeds, each a JSON and a scores file.
    assert_eq!(files.len(), 8, "{files:?}");
    let json = env.path("results/tiny/tiny/dnn/seed-1.json");
    let r = read_result(&json).unwrap();
    assert_eq!(r.status, Status::Ok);
    assert_eq!(
        (r.task.as_str(), r.model.as_str(), r.seed),
        ("tiny", "dnn", 1)
    );
    for m in ["auc", "gauc", "logloss"] {
        assert!(r.metrics[m].is_finite(), "{m} missing");
    }
    assert!(r.oracle_metrics.as_ref().unwrap()["auc"] > 0.5);
    assert_eq!(r.provenance.split_sha256.test.len(), 64);
    assert_eq!(r.provenance.data_sha256.len(), 64);
    assert!(r.cost.forward_flops_per_example > 0.0);
    let scores = Scores::read(&json.with_extension("scores.bin")).unwrap();
    assert_eq!(scores.scores.len(), r.rows["test"]);

    // Same run again: refused, nothing overwritten.
    let again = env.run(&["run", "tiny"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--resume"), "{}", stderr(&again));
    // Resume: every cell skipped, files untouched.
    let before = std::fs::read(&json).unwrap();
    let resumed = env.run(&["run", "tiny", "--resume", "--json"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert_eq!(
        stdout.matches("\"status\":\"skipped\"").count(),
        4,
        "{stdout}"
    );
    assert_eq!(std::fs::read(&json).unwrap(), before);
}

#[test]
fn same_seed_gives_the_same_result() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    for run in ["a", "b"] {
        let out = env.run(&[
            "run", "tiny", "--models", "dnn", "--seeds", "1", "--run", run,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let a = read_result(&env.path("results/a/tiny/dnn/seed-0.json")).unwrap();
    let b = read_result(&env.path("results/b/tiny/dnn/seed-0.json")).unwrap();
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(a.provenance.split_sha256, b.provenance.split_sha256);
    assert_eq!(a.provenance.config_sha256, b.provenance.config_sha256);
    let sa = std::fs::read(env.path("results/a/tiny/dnn/seed-0.scores.bin")).unwrap();
    let sb = std::fs::read(env.path("results/b/tiny/dnn/seed-0.scores.bin")).unwrap();
    assert_eq!(sa, sb, "per-example scores differ between identical runs");
}

/// Dropout draws from the device's random stream: a cell must get a stream of its own,
/// not the one the previous cell of the process left behind, or a resumed run (or a
/// model run alone) would not reproduce the same cell of a full run.
#[test]
fn a_cell_does_not_depend_on_the_cells_run_before_it() {
    let env = Env::new();
    let mut spec = tiny_seq("seqdrop");
    spec["models"]["sasrec"]["dropout"] = json!(0.3);
    env.task(spec);
    let all = env.run(&["run", "seqdrop", "--seeds", "2", "--run", "all"]);
    assert!(all.status.success(), "{}", stderr(&all));
    // Run `alone` starts at seed 1: seed 0 is already on disk, so it is skipped.
    let from = env.path("results/all/seqdrop/sasrec");
    let to = env.path("results/alone/seqdrop/sasrec");
    std::fs::create_dir_all(&to).unwrap();
    for f in std::fs::read_dir(&from).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().to_string();
        if name.starts_with("seed-0") {
            std::fs::copy(f.path(), to.join(&name)).unwrap();
        }
    }
    let alone = env.run(&[
        "run", "seqdrop", "--seeds", "2", "--run", "alone", "--resume",
    ]);
    assert!(alone.status.success(), "{}", stderr(&alone));
    let a = read_result(&from.join("seed-1.json")).unwrap();
    let b = read_result(&to.join("seed-1.json")).unwrap();
    let losses = |r: &harness::results::CellResult| -> Vec<f64> {
        r.curve.iter().map(|e| e.train_loss).collect()
    };
    assert_eq!(
        losses(&a),
        losses(&b),
        "seed 1's training differs after seed 0"
    );
    assert_eq!(a.metrics, b.metrics);
    // The check can fail: seed 0 and seed 1 did train differently.
    let c = read_result(&from.join("seed-0.json")).unwrap();
    assert_ne!(losses(&a), losses(&c));
}

#[test]
fn two_variants_of_one_model_run_as_separate_cells() {
    let env = Env::new();
    let mut spec = tiny_synth("variants", 1e-3);
    spec["models"] = json!({
        "dnn": {"embedding_dim": 4, "hidden": [8]},
        "dnn_hash16": {"model": "dnn", "embedding_dim": 4, "hidden": [8],
                       "embedding": {"kind": "hash", "buckets": 16}},
        "dnn_wide": {"model": "dnn", "embedding_dim": 8, "hidden": [8]},
        "dnn_mde": {"model": "dnn", "embedding_dim": 4, "hidden": [8], "embedding": {"kind": "mde"}}
    });
    spec["train"]["optim_overrides"] = json!({"dnn_wide": {"lr": 0.002}});
    env.task(spec);
    let out = env.run(&[
        "run",
        "variants",
        "--seeds",
        "1",
        "--models",
        "dnn_hash16,dnn_wide,dnn,dnn_mde",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |m: &str| {
        read_result(&env.path(&format!("results/variants/variants/{m}/seed-0.json"))).unwrap()
    };
    let (full, hashed, wide) = (read("dnn"), read("dnn_hash16"), read("dnn_wide"));
    assert_eq!(
        (full.model.as_str(), full.base_model.as_deref()),
        ("dnn", None)
    );
    assert_eq!(
        (hashed.model.as_str(), hashed.base_model.as_deref()),
        ("dnn_hash16", Some("dnn"))
    );
    assert_eq!(wide.base_model.as_deref(), Some("dnn"));
    // Each cell was built with its own config, without the `model` key.
    assert_eq!(hashed.model_config["embedding"]["buckets"], 16);
    assert!(hashed.model_config.get("model").is_none());
    // Vocabularies: users 200, items 100, authors 20, topics 20 (default), duration,
    // activity and position buckets 10 each: 370 rows, d = 4. Hashing into 16 buckets
    // per field keeps min(16, vocab) rows: 16 * 4 + 10 * 3 = 94.
    assert_eq!(full.cost.params_embedding, 370 * 4);
    assert_eq!(hashed.cost.params_embedding, 94 * 4);
    assert_eq!(wide.cost.params_embedding, 2 * full.cost.params_embedding);
    let lr = wide.train_config["optim_overrides"]["dnn_wide"]["lr"]
        .as_f64()
        .unwrap();
    assert!((lr - 0.002).abs() < 1e-6, "{lr}");
    assert_ne!(
        full.provenance.config_sha256,
        hashed.provenance.config_sha256
    );
    // The ranking task records the values MDE uses after training: per field, the top
    // tenth of ids by training count keep d = 4 values, the rest of the top half 2, the
    // others 1: users 20*4 + 80*2 + 100 = 340, items 10*4 + 40*2 + 50 = 170, authors
    // and topics 2*4 + 8*2 + 10 = 34 each, the three 10-id fields 1*4 + 4*2 + 5 = 17 each.
    let mde = read("dnn_mde");
    assert_eq!(
        mde.cost.embedding_values_used,
        Some(340 + 170 + 2 * 34 + 3 * 17)
    );
    assert_eq!(full.cost.embedding_values_used, None);
    for r in [&full, &hashed, &wide] {
        assert_eq!(r.status, Status::Ok);
        assert!(r.metrics["auc"].is_finite());
    }
    // `recbench cost` builds variants by their base model too.
    let out = env.run(&[
        "cost",
        "variants",
        "--models",
        "dnn_hash16",
        "--steps",
        "1",
        "--warmup",
        "0",
        "--latency-batches",
        "1",
        "--latency-seconds",
        "0",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let line: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(line["model"], "dnn_hash16");
    assert_eq!(
        line["cost"]["params_embedding"].as_u64().unwrap() as usize,
        hashed.cost.params_embedding
    );
}

#[test]
fn resume_runs_only_missing_cells() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    assert!(env
        .run(&["run", "tiny", "--models", "lr", "--seeds", "1"])
        .status
        .success());
    let out = env.run(&["run", "tiny", "--resume", "--json", "--seeds", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("\"model\":\"lr\",\"seed\":0,\"status\":\"skipped\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"model\":\"dnn\",\"seed\":0,\"status\":\"ok\""),
        "{stdout}"
    );
}

#[test]
fn diverging_model_is_recorded_as_failed_and_the_run_goes_on() {
    let env = Env::new();
    env.task(tiny_synth("boom", 1e30));
    let out = env.run(&["run", "boom", "--seeds", "1", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let r = read_result(&env.path("results/boom/boom/dnn/seed-0.json")).unwrap();
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.error.as_deref().unwrap().contains("diverged"),
        "{:?}",
        r.error
    );
    // The other model's cell ran too.
    assert!(env.path("results/boom/boom/lr/seed-0.json").exists());
}

#[test]
fn unknown_names_are_rejected_with_the_known_ones() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    let out = env.run(&["run", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown suite or task `nope`") && stderr(&out).contains("tiny"),
        "{}",
        stderr(&out)
    );
    let out = env.run(&["run", "tiny", "--models", "dnn,transformerx"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown model `transformerx`"),
        "{}",
        stderr(&out)
    );
    assert!(env.result_files().is_empty());
}

#[test]
fn bad_spec_keys_are_named() {
    let env = Env::new();
    let mut spec = tiny_synth("typo", 1e-3);
    spec["train"]["batchsize"] = json!(10);
    env.task(spec);
    let out = env.run(&["run", "typo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("typo.json") && err.contains("batchsize"),
        "{err}"
    );
    let mut spec = tiny_synth("badmetric", 1e-3);
    spec["metrics"] = json!(["auc", "ndcg"]);
    env.task(spec);
    let err = stderr(&env.run(&["run", "badmetric"]));
    assert!(err.contains("`metrics`") && err.contains("ndcg"), "{err}");
}

#[test]
fn bad_data_names_file_line_and_field_and_writes_nothing() {
    let env = Env::new();
    let header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    let good: String = (0..40)
        .map(|i| format!("u{}\ti{}\t{}\t{i}\n", i % 7, i % 5, 1 + i % 5))
        .collect();
    for (name, body, expect) in [
        (
            "nan",
            format!("{header}{good}u1\ti1\tnan\t99\n"),
            "bad-nan.inter:42: field `rating`",
        ),
        (
            "text",
            format!("{header}u1\ti1\tfive\t1\n{good}"),
            "bad-text.inter:2: field `rating`",
        ),
        (
            "trunc",
            format!("{header}{good}u1\ti1"),
            "bad-trunc.inter:42",
        ),
    ] {
        env.write(&format!("data/bad-{name}.inter"), &body);
        env.task(recbole_task(name, &format!("bad-{name}.inter")));
        let out = env.run(&["run", name, "--data-root", "data"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(expect), "{name}: {}", stderr(&out));
    }
    // A label outside {0, 1} when no threshold is given.
    env.write("data/label.inter", &format!("{header}{good}"));
    let mut spec = recbole_task("label", "label.inter");
    spec["dataset"]["label"] = json!({"column": "rating"});
    env.task(spec);
    let err = stderr(&env.run(&["run", "label", "--data-root", "data"]));
    // Row 0 has rating 1 (a valid label); row 1, on line 3, has rating 2.
    assert!(
        err.contains("label.inter:3: field `rating`: label 2 is not 0 or 1"),
        "{err}"
    );
    // Missing column.
    let mut spec = recbole_task("nocol", "label.inter");
    spec["dataset"]["sparse"] = json!(["user_id", "genre"]);
    env.task(spec);
    let err = stderr(&env.run(&["run", "nocol", "--data-root", "data"]));
    assert!(
        err.contains("label.inter") && err.contains("missing column `genre`"),
        "{err}"
    );
    // Missing file: the error names it and the data root.
    env.task(recbole_task("nofile", "missing.inter"));
    let err = stderr(&env.run(&["run", "nofile", "--data-root", "data"]));
    assert!(
        err.contains("missing.inter") && err.contains("data root"),
        "{err}"
    );
    assert!(
        env.result_files().is_empty(),
        "partial results: {:?}",
        env.result_files()
    );
}

#[test]
fn empty_split_and_missing_feature_kind_are_errors() {
    let env = Env::new();
    let header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    env.write(
        "data/two.inter",
        &format!("{header}u1\ti1\t5\t1\nu2\ti2\t3\t2\n"),
    );
    env.task(recbole_task("two", "two.inter"));
    let err = stderr(&env.run(&["run", "two", "--data-root", "data"]));
    assert!(
        err.contains("empty split") || err.contains("0 rows"),
        "{err}"
    );
    // A model that needs sparse features on a task that has none.
    let rows: String = (0..50)
        .map(|i| format!("u{i}\ti{i}\t{}\t{i}\t{}\n", 1 + i % 5, i as f64 / 50.0))
        .collect();
    env.write(
        "data/dense.inter",
        &format!("user_id:token\titem_id:token\trating:float\ttimestamp:float\tx:float\n{rows}"),
    );
    let mut spec = recbole_task("dense", "dense.inter");
    spec["dataset"]["sparse"] = json!([]);
    spec["dataset"]["dense"] = json!([{"column": "x"}]);
    env.task(spec);
    let err = stderr(&env.run(&["run", "dense", "--data-root", "data"]));
    assert!(
        err.contains("model `lr`") && err.contains("needs sparse (categorical) features"),
        "{err}"
    );
    assert!(env.result_files().is_empty());
}

#[test]
fn list_shows_tasks_models_and_json() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    let out = env.run(&["list", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tasks"], json!(["tiny"]));
    let models: Vec<&str> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for m in ["lr", "dnn", "dcnv2", "sasrec", "item_only"] {
        assert!(models.contains(&m), "{m} missing from {models:?}");
    }
    // Ranking, sequential and generative models alike.
    assert_eq!(models.len(), baselines::models::all().len());
}

fn tiny_seq(name: &str) -> serde_json::Value {
    json!({
        "name": name, "kind": "retrieval",
        "dataset": {"source": "synth_seq",
                    "config": {"seed": 2, "n_users": 150, "n_items": 60, "n_topics": 4, "latent_dim": 4, "mean_length": 8.0}},
        "split": {"kind": "leave_one_out"},
        "metrics": ["ndcg@10", "hr@10", "mrr", "hr@10_s100", "rr@2@10"],
        "models": {"sasrec": {"dim": 8, "blocks": 1, "heads": 1, "dropout": 0.0}},
        "retrieval": {"max_len": 10},
        "seeds": 2,
        "train": {"batch_size": 64, "max_epochs": 2, "patience": 1}
    })
}

#[test]
fn retrieval_run_writes_cells_with_user_values_resumes_and_reports() {
    let env = Env::new();
    env.task(tiny_seq("seq"));
    let out = env.run(&["run", "seq", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = env.result_files();
    // 1 model x 2 seeds, each a JSON and a per-user values file.
    assert_eq!(files.len(), 4, "{files:?}");
    let json = env.path("results/seq/seq/sasrec/seed-1.json");
    let r = read_result(&json).unwrap();
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    for m in ["ndcg@10", "hr@10", "mrr", "hr@10_s100", "rr@2@10"] {
        assert!((0.0..=1.0).contains(&r.metrics[m]), "{m}: {:?}", r.metrics);
        assert!(
            r.trivial_metrics.contains_key(m) && r.oracle_metrics.as_ref().unwrap().contains_key(m)
        );
    }
    assert_eq!(r.values_file.as_deref(), Some("seed-1.users.bin"));
    let values = harness::results::UserValues::read(&json.with_extension("users.bin")).unwrap();
    assert_eq!(values.users.len(), 150);
    assert_eq!(r.provenance.split_sha256.train.len(), 64);
    assert!(r.cost.retrieval.is_some());

    let resumed = env.run(&["run", "seq", "--resume", "--json"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert_eq!(
        stdout.matches("\"status\":\"skipped\"").count(),
        2,
        "{stdout}"
    );

    // The leaderboard renders the retrieval metrics on the task page.
    let site = env.run(&["report", "--results", "results", "--out", "site"]);
    assert!(site.status.success(), "{}", stderr(&site));
    let page = walk_html(&env.path("site"))
        .into_iter()
        .filter(|(p, _)| p.contains("seq"))
        .map(|(_, t)| t)
        .find(|t| t.contains("ndcg@10"))
        .expect("a task page showing ndcg@10");
    for m in ["hr@10_s100", "rr@2@10", "mrr"] {
        assert!(page.contains(m), "{m} not on the task page");
    }
}

/// A cell stopped by `--time-limit` after an epoch saves a checkpoint and no result;
/// `--resume` continues it from there, and the finished cell equals an uninterrupted
/// run's bit for bit. SASRec's dropout and KuaiFormer's replayed requests draw from the
/// device's random stream, so its replay is tested too. A checkpoint written under
/// other settings is not resumed from.
#[test]
fn a_cell_paused_twice_and_resumed_equals_an_uninterrupted_one() {
    const EARLIER_PEAK: u64 = 1 << 45;
    let env = Env::new();
    let mut spec = tiny_seq("ck");
    spec["models"]["sasrec"]["dropout"] = json!(0.3);
    spec["models"]["kuaiformer"] = json!({"dim": 8, "layers": 1, "heads": 1, "interests": 2});
    spec["train"] = json!({"batch_size": 32, "max_epochs": 4, "patience": 10});
    env.task(spec.clone());
    let whole = env.run(&["run", "ck", "--run", "whole", "--seeds", "1"]);
    assert!(whole.status.success(), "{}", stderr(&whole));

    for model in ["sasrec", "kuaiformer"] {
        let args = [
            "run", "ck", "--run", "parts", "--models", model, "--seeds", "1",
        ];
        let cell =
            |run: &str, ext: &str| env.path(&format!("results/{run}/ck/{model}/seed-0.{ext}"));
        let (ckpt, json) = (cell("parts", "ckpt"), cell("parts", "json"));
        for epoch in [1, 2] {
            let mut a = args.to_vec();
            a.extend(["--resume", "--time-limit", "0"]);
            let part = env.run(&a);
            assert_eq!(part.status.code(), Some(3), "{}", stderr(&part));
            let stdout = String::from_utf8_lossy(&part.stdout).to_string();
            let said =
                format!("stopped at the time limit after epoch {epoch} of ck / {model} / seed 0");
            assert!(stdout.contains(&said), "{stdout}");
            let saved = format!("checkpoint after epoch {epoch}: ");
            assert!(stderr(&part).contains(&saved), "{}", stderr(&part));
            if epoch == 2 {
                let loaded = "resumed after epoch 1 from its checkpoint (";
                assert!(stderr(&part).contains(loaded), "{}", stderr(&part));
            }
            assert!(ckpt.exists() && !json.exists());
            let mut d = args.to_vec();
            d.push("--dry-run");
            let listed = String::from_utf8_lossy(&env.run(&d).stdout).to_string();
            let line = format!("to run  ck {model} seed 0 (checkpoint after epoch {epoch})");
            assert!(listed.contains(&line), "{listed}");
            if epoch == 1 {
                // Each run's peak memory travels with the checkpoints: a peak above any
                // this process reaches must survive the next pause and reach the record.
                let mut ck = checkpoint::load(&ckpt).unwrap().unwrap();
                assert!(ck.peak_rss_bytes.is_some_and(|b| b > 0), "{model}");
                ck.peak_rss_bytes = Some(EARLIER_PEAK);
                checkpoint::save(&ckpt, &ck).unwrap();
            }
        }
        let mut a = args.to_vec();
        a.push("--resume");
        let last = env.run(&a);
        assert!(last.status.success(), "{}", stderr(&last));
        assert!(
            json.exists() && !ckpt.exists(),
            "the finished cell's checkpoint is removed"
        );

        let w = read_result(&cell("whole", "json")).unwrap();
        let p = read_result(&json).unwrap();
        assert_eq!(p.resumed_after_epochs, vec![1, 2]);
        assert!(w.resumed_after_epochs.is_empty());
        assert_eq!(p.cost.process_peak_rss_bytes, Some(EARLIER_PEAK), "{model}");
        assert!(w
            .cost
            .process_peak_rss_bytes
            .is_some_and(|b| b < EARLIER_PEAK));
        assert_eq!((p.best_epoch, p.curve.len()), (w.best_epoch, 4), "{model}");
        for (a, b) in p.curve.iter().zip(&w.curve) {
            assert_eq!(
                (a.epoch, a.train_loss, &a.valid),
                (b.epoch, b.train_loss, &b.valid),
                "{model}"
            );
        }
        assert_eq!(p.metrics, w.metrics, "{model}");
        assert_eq!(p.cost.flops_by_kind, w.cost.flops_by_kind, "{model}");
        let users = |run: &str| std::fs::read(cell(run, "users.bin")).unwrap();
        assert_eq!(users("parts"), users("whole"), "{model}");
    }

    // The leaderboard says which cells were continued from a checkpoint.
    let site = env.run(&["report", "--results", "results", "--out", "site"]);
    assert!(site.status.success(), "{}", stderr(&site));
    let page = std::fs::read_to_string(env.path("site/task-ck.html")).unwrap();
    for model in ["sasrec", "kuaiformer"] {
        let line = format!("ck {model} seed 0: after epochs 1, 2");
        assert!(page.contains(&line), "{line} not on the task page");
    }

    // A checkpoint of other settings: the cell starts over and says so.
    let mut b = vec![
        "run", "ck", "--run", "other", "--models", "sasrec", "--seeds", "1",
    ];
    let mut first = b.clone();
    first.extend(["--resume", "--time-limit", "0"]);
    assert_eq!(env.run(&first).status.code(), Some(3));
    spec["models"]["sasrec"]["dropout"] = json!(0.2);
    env.task(spec);
    b.push("--resume");
    let redo = env.run(&b);
    assert!(redo.status.success(), "{}", stderr(&redo));
    assert!(
        stderr(&redo).contains(
            "was written for other settings, data or build; the cell starts from epoch 1"
        ),
        "{}",
        stderr(&redo)
    );
    let r = read_result(&env.path("results/other/ck/sasrec/seed-0.json")).unwrap();
    assert!(r.resumed_after_epochs.is_empty());
}

/// A generative cell with pre-training (LUM) resumed from a checkpoint: pre-training is
/// not checkpointed, the resumed run redoes it (with the same device draws) and then
/// loads the ranking epochs' state, ending where an uninterrupted run does. A run
/// without `--resume` does not use the checkpoint.
#[test]
fn a_paused_generative_cell_with_pretraining_resumes_to_the_same_result() {
    let env = Env::new();
    let mut spec = tiny_gen("gck");
    spec["models"] = json!({"lum": {"dim": 8, "blocks": 1, "heads": 1, "dropout": 0.2,
        "pretrain_epochs": 2, "dlrm_dim": 8, "hidden": [8]}});
    spec["train"] = json!({"batch_size": 32, "max_epochs": 3, "patience": 10});
    env.task(spec);
    let whole = env.run(&["run", "gck", "--run", "whole", "--seeds", "1"]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    let parts = ["run", "gck", "--run", "parts", "--seeds", "1", "--resume"];
    let mut paused = parts.to_vec();
    paused.extend(["--time-limit", "0"]);
    assert_eq!(env.run(&paused).status.code(), Some(3));
    // Without --resume the checkpoint is not used (and says so): the cell starts over.
    let again = env.run(&[
        "run",
        "gck",
        "--run",
        "parts",
        "--seeds",
        "1",
        "--time-limit",
        "0",
    ]);
    assert_eq!(again.status.code(), Some(3));
    assert!(
        stderr(&again)
            .contains("is not resumed from without --resume; the cell starts from epoch 1"),
        "{}",
        stderr(&again)
    );
    let last = env.run(&parts);
    assert!(last.status.success(), "{}", stderr(&last));
    let cell = |run: &str, ext: &str| env.path(&format!("results/{run}/gck/lum/seed-0.{ext}"));
    let (w, p) = (
        read_result(&cell("whole", "json")).unwrap(),
        read_result(&cell("parts", "json")).unwrap(),
    );
    assert_eq!(p.resumed_after_epochs, vec![1]);
    assert_eq!(p.metrics, w.metrics);
    let curve = |r: &harness::results::CellResult| -> Vec<(usize, f64)> {
        r.curve.iter().map(|c| (c.epoch, c.train_loss)).collect()
    };
    assert_eq!(curve(&p), curve(&w));
    let scores = |run: &str| std::fs::read(cell(run, "scores.bin")).unwrap();
    assert_eq!(scores("parts"), scores("whole"));
}

/// `--dry-run` lists the cells a run would visit and which have results, and writes
/// nothing.
#[test]
fn dry_run_lists_the_cells_to_run_and_writes_nothing() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    let before = env.run(&["run", "tiny", "--dry-run"]);
    assert!(before.status.success(), "{}", stderr(&before));
    let text = String::from_utf8_lossy(&before.stdout).to_string();
    assert!(text.contains("to run  tiny lr seed 1"), "{text}");
    assert!(
        text.contains("4 cells, 0 with a result, 4 to run"),
        "{text}"
    );
    assert!(env.result_files().is_empty());

    let part = env.run(&["run", "tiny", "--models", "dnn", "--seeds", "1"]);
    assert!(part.status.success(), "{}", stderr(&part));
    let after = env.run(&["run", "tiny", "--dry-run", "--json"]);
    assert!(after.status.success(), "{}", stderr(&after));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&after.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let done: Vec<(String, u64)> = lines
        .iter()
        .filter(|l| l["event"] == "planned" && l["done"] == true)
        .map(|l| {
            (
                l["model"].as_str().unwrap().to_string(),
                l["seed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(done, vec![("dnn".to_string(), 0)]);
    let summary = lines.last().unwrap();
    assert_eq!(
        (summary["cells"].as_u64(), summary["to_run"].as_u64()),
        (Some(4), Some(3))
    );
    assert_eq!(env.result_files().len(), 2, "the dry run wrote nothing");
}

/// A report of a partly finished run names the planned cells without a result (on
/// the task page and the index); once the run is finished the note goes away; a run
/// whose name is no suite or task gets a note that its plan is unknown.
#[test]
fn report_names_the_planned_cells_that_have_no_result() {
    let env = Env::new();
    env.task(tiny_synth("tiny", 1e-3));
    let page =
        |site: &str| std::fs::read_to_string(env.path(&format!("{site}/task-tiny.html"))).unwrap();
    let index =
        |site: &str| std::fs::read_to_string(env.path(&format!("{site}/index.html"))).unwrap();

    let part = env.run(&["run", "tiny", "--models", "dnn", "--seeds", "1"]);
    assert!(part.status.success(), "{}", stderr(&part));
    let r = env.run(&["report", "--results", "results", "--out", "part"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let text = page("part");
    assert!(
        text.contains("Incomplete: 1 of the 4 cells planned by run `tiny`"),
        "{text}"
    );
    assert!(text.contains("not run yet: lr (0 of 2 seeds)"), "{text}");
    assert!(
        text.contains("fewer seeds than planned: dnn (1 of 2 seeds)"),
        "{text}"
    );
    assert!(index("part").contains(">1 / 4</span>"));

    let rest = env.run(&["run", "tiny", "--resume"]);
    assert!(rest.status.success(), "{}", stderr(&rest));
    let r = env.run(&["report", "--results", "results", "--out", "whole"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(!page("whole").contains("Incomplete"));
    assert!(
        index("whole").contains("<td data-sort=\"1.0\">4 / 4</td>"),
        "{}",
        index("whole")
    );

    let other = env.run(&[
        "run", "tiny", "--models", "lr", "--seeds", "1", "--run", "adhoc", "--out", "more",
    ]);
    assert!(other.status.success(), "{}", stderr(&other));
    let r = env.run(&["report", "--results", "more", "--out", "adhoc"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(index("adhoc").contains("run `adhoc` is not a suite or task"));
    assert!(!page("adhoc").contains("Incomplete"));
}

/// Cells recorded under other settings than the task file now gives are named on the
/// task page (a model's config, the training budget); an edited description is no
/// change of settings.
#[test]
fn report_names_cells_run_under_other_settings_than_the_task_file() {
    let env = Env::new();
    let mut spec = tiny_synth("tiny", 1e-3);
    env.task(spec.clone());
    let out = env.run(&["run", "tiny", "--seeds", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = |site: &str| {
        let r = env.run(&["report", "--results", "results", "--out", site]);
        assert!(r.status.success(), "{}", stderr(&r));
        std::fs::read_to_string(env.path(&format!("{site}/task-tiny.html"))).unwrap()
    };
    assert!(!page("same").contains("id=\"stale\""));

    spec["description"] = json!("edited prose only");
    env.task(spec.clone());
    assert!(!page("prose").contains("id=\"stale\""));

    spec["models"]["dnn"]["hidden"] = json!([16]);
    env.task(spec.clone());
    let text = page("dnn");
    assert!(
        text.contains("1 cell(s) ran with settings that differ")
            && text.contains("dnn seed 0 (model config)"),
        "{text}"
    );
    assert!(!text.contains("lr seed 0"), "{text}");

    spec["train"]["max_epochs"] = json!(3);
    env.task(spec);
    let text = page("budget");
    let index = std::fs::read_to_string(env.path("budget/index.html")).unwrap();
    assert!(index.contains(">2 under other settings</span>"), "{index}");
    assert!(
        text.contains("dnn seed 0 (model config and training settings)")
            && text.contains("lr seed 0 (training settings)"),
        "{text}"
    );
}

/// Every HTML file under `dir`, with its path.
fn walk_html(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk_html(&p));
        } else if p.extension().is_some_and(|x| x == "html") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn retrieval_bad_data_names_file_line_and_field() {
    let env = Env::new();
    let good: String = (0..30).map(|i| format!("{} {}\n", i % 6, i % 9)).collect();
    for (name, body, expect) in [
        (
            "arity",
            format!("{good}3 4 5\n"),
            "arity.txt:31: expected 2 fields, found 3",
        ),
        (
            "short",
            format!("{good}3\n"),
            "short.txt:31: expected 2 fields, found 1",
        ),
    ] {
        env.write(&format!("data/{name}.txt"), &body);
        env.task(json!({
            "name": name, "kind": "retrieval",
            "dataset": {"source": "sequences", "name": name, "format": "seq_lines",
                        "path": format!("{name}.txt"), "time": "@row"},
            "split": {"kind": "leave_one_out"},
            "metrics": ["ndcg@10"],
            "models": {"sasrec": {"dim": 8, "blocks": 1}},
            "seeds": 1
        }));
        let out = env.run(&["run", name, "--data-root", "data"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(expect), "{name}: {}", stderr(&out));
    }
    let header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    let rows: String = (0..30)
        .map(|i| {
            format!(
                "u{}\ti{}\t3\t{}\n",
                i % 5,
                i % 8,
                if i == 17 {
                    "soon".to_string()
                } else {
                    i.to_string()
                }
            )
        })
        .collect();
    env.write("data/t.inter", &format!("{header}{rows}"));
    env.task(json!({
        "name": "time", "kind": "retrieval",
        "dataset": {"source": "sequences", "name": "t", "format": "recbole", "path": "t.inter",
                    "time": "timestamp"},
        "split": {"kind": "leave_one_out"},
        "metrics": ["ndcg@10"],
        "models": {"sasrec": {"dim": 8, "blocks": 1}},
        "seeds": 1
    }));
    let err = stderr(&env.run(&["run", "time", "--data-root", "data"]));
    assert!(err.contains("t.inter:19: field `timestamp`"), "{err}");
    assert!(env.result_files().is_empty(), "{:?}", env.result_files());
}

#[test]
fn models_metrics_and_splits_of_the_wrong_kind_are_named() {
    let env = Env::new();
    let mut spec = tiny_seq("a");
    spec["models"] = json!({"dnn": {}});
    env.task(spec);
    let err = stderr(&env.run(&["run", "a"]));
    assert!(
        err.contains("`dnn` is a ranking model; a retrieval task takes retrieval models")
            && err.contains("sasrec"),
        "{err}"
    );
    let mut spec = tiny_synth("b", 1e-3);
    spec["models"] = json!({"sasrec": {}});
    env.task(spec);
    let err = stderr(&env.run(&["run", "b"]));
    assert!(
        err.contains("`sasrec` is a retrieval model; a ranking task takes ranking models"),
        "{err}"
    );
    // --models cannot smuggle one in either.
    env.task(tiny_seq("c"));
    let err = stderr(&env.run(&["run", "c", "--models", "lr"]));
    assert!(err.contains("`lr` is a ranking model"), "{err}");
    for (key, value, expect) in [
        (
            "split",
            json!({"kind": "temporal", "valid": 0.1, "test": 0.1}),
            "`split`: retrieval tasks use leave_one_out",
        ),
        (
            "metrics",
            json!(["auc"]),
            "`metrics`: `auc`: unknown metric",
        ),
        (
            "metrics",
            json!(["hr@10_s50"]),
            "asks for 50 sampled negatives but retrieval.sampled_negatives is 100",
        ),
        ("retrieval", json!({"min_events": 2}), "min_events 2 < 3"),
    ] {
        let mut spec = tiny_seq("d");
        spec[key] = value;
        env.task(spec);
        let err = stderr(&env.run(&["run", "d"]));
        assert!(err.contains(expect), "{key}: {err}");
    }
    // R/R* needs item values, which files do not have.
    let mut spec = tiny_seq("e");
    spec["dataset"] = json!({"source": "sequences", "name": "x", "format": "seq_lines", "path": "x.txt", "time": "@row"});
    env.task(spec);
    let err = stderr(&env.run(&["run", "e"]));
    assert!(err.contains("`rr@2@10` (R/R*) needs item values"), "{err}");
    assert!(env.result_files().is_empty());
}

#[test]
fn claims_prints_verdicts_and_a_bad_claim_file_is_named() {
    let env = Env::new();
    harness::report::demo::write_demo_results(&env.path("results")).unwrap();
    harness::report::demo::write_demo_claims(&env.path("claims")).unwrap();
    let o = env.run(&["claims", "--results", "results", "--claims", "claims"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "demo-bh-beats-hash [REPRODUCED] on demo-ctr",
        "demo-not-run [NOT RUN]",
        "to check it: recbench run demo-ctr --models apg_dcnv2 --seeds 3",
        "5 claim(s): 1 reproduced, 2 inconclusive, 1 not run, 1 not reproduced",
    ] {
        assert!(out.contains(needle), "lacks {needle}:\n{out}");
    }
    // `report` reads the same files; a broken one stops it with file, line and field.
    env.write(
        "claims/demo-one-seed.json",
        r#"{"id": "x", "models": ["a"], "claim": "c",
  "source": {"arxiv": "1", "section": "s"}, "task": "t", "metric": "auc",
  "checks": [{"a": "a", "b": "b", "test": "keeps"}]}"#,
    );
    let o = env.run(&["report", "--results", "results", "--claims", "claims"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("claims/demo-one-seed.json:3:") && err.contains("needs `at_least`"),
        "{err}"
    );
    assert!(!env.path("site").exists(), "nothing rendered");
}

fn tiny_gen(name: &str) -> serde_json::Value {
    json!({
        "name": name, "kind": "generative",
        "dataset": {"source": "synth_gen", "config": {"seed": 2, "n_users": 150, "n_items": 60}},
        "split": {"kind": "leave_one_out"},
        "metrics": ["auc:click", "gauc:click", "logloss:click", "auc:like"],
        "models": {"item_only": {"dim": 8, "hidden": [8]}},
        "generative": {"max_history": 16, "max_candidates": 8},
        "seeds": 2,
        "train": {"batch_size": 64, "max_epochs": 2, "patience": 1}
    })
}

#[test]
fn generative_run_writes_cells_with_scores_resumes_compares_and_reports() {
    let env = Env::new();
    env.task(tiny_gen("gen"));
    let out = env.run(&["run", "gen", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = env.result_files();
    // 1 model x 2 seeds, each a JSON and a scores file (the primary action's).
    assert_eq!(files.len(), 4, "{files:?}");
    let json = env.path("results/gen/gen/item_only/seed-1.json");
    let r = read_result(&json).unwrap();
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    for m in ["auc:click", "gauc:click", "logloss:click", "auc:like"] {
        assert!(r.metrics[m].is_finite(), "{m}: {:?}", r.metrics);
        assert!(
            r.trivial_metrics.contains_key(m) && r.oracle_metrics.as_ref().unwrap().contains_key(m)
        );
    }
    assert_eq!(r.scores_file.as_deref(), Some("seed-1.scores.bin"));
    let scores = Scores::read(&json.with_extension("scores.bin")).unwrap();
    assert_eq!(scores.scores.len(), r.rows["test"]);
    assert!(r.cost.generative.is_some() && r.cost.forward_flops_per_example > 0.0);

    let resumed = env.run(&["run", "gen", "--resume", "--json"]);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert_eq!(
        stdout.matches("\"status\":\"skipped\"").count(),
        2,
        "{stdout}"
    );

    // A second model (a variant) to compare with: DeLong and the per-user tests run
    // on the primary metric's action.
    let mut spec = tiny_gen("gen");
    spec["models"]["item_only_wide"] = json!({"model": "item_only", "dim": 16, "hidden": [16]});
    env.task(spec);
    let out = env.run(&["run", "gen", "--resume", "--models", "item_only_wide"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cmp = env.run(&[
        "compare",
        "gen",
        "--task",
        "gen",
        "--a",
        "item_only",
        "--b",
        "item_only_wide",
        "--resamples",
        "200",
    ]);
    assert!(cmp.status.success(), "{}", stderr(&cmp));
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert!(text.contains("primary metric auc:click"), "{text}");
    assert!(text.contains("DeLong test of auc:click"), "{text}");
    assert!(text.contains("ΔGAUC"), "{text}");
    assert!(text.contains("logloss:click (lower is better)"), "{text}");

    // The leaderboard renders the per-action metrics on the task page.
    let site = env.run(&["report", "--results", "results", "--out", "site"]);
    assert!(site.status.success(), "{}", stderr(&site));
    let page = walk_html(&env.path("site"))
        .into_iter()
        .filter(|(p, _)| p.contains("gen"))
        .map(|(_, t)| t)
        .find(|t| t.contains("auc:click"))
        .expect("a task page showing auc:click");
    for m in ["gauc:click", "logloss:click", "auc:like", "item_only_wide"] {
        assert!(page.contains(m), "{m} not on the task page");
    }
    assert!(page.contains("lower") || page.contains("higher"));
}

#[test]
fn generative_specs_and_request_files_name_the_problem() {
    let env = Env::new();
    for (key, value, expect) in [
        (
            "metrics",
            json!(["auc"]),
            "generative metrics are `metric:action`",
        ),
        (
            "metrics",
            json!(["auc:share"]),
            "unknown action `share` (this dataset's actions: click, like)",
        ),
        ("metrics", json!(["ndcg:click"]), "unknown metric `ndcg`"),
        (
            "split",
            json!({"kind": "temporal", "valid": 0.1, "test": 0.1}),
            "generative tasks use leave_one_out",
        ),
        (
            "generative",
            json!({"min_requests": 2}),
            "min_requests 2 < 3",
        ),
        (
            "generative",
            json!({"request_window_seconds": 60}),
            "synth_gen draws its requests",
        ),
        ("retrieval", json!({}), "only retrieval tasks take this key"),
        (
            "models",
            json!({"sasrec": {}}),
            "`sasrec` is a retrieval model; a generative task takes generative models",
        ),
    ] {
        let mut spec = tiny_gen("g");
        spec[key] = value;
        env.task(spec);
        let err = stderr(&env.run(&["run", "g"]));
        assert!(
            err.contains(expect) && err.contains("g.json"),
            "{key}: {err}"
        );
    }
    env.task(tiny_gen("g2"));
    let err = stderr(&env.run(&["run", "g2", "--models", "dnn"]));
    assert!(
        err.contains("`dnn` is a ranking model; a generative task takes generative models"),
        "{err}"
    );
    // A ranking task cannot take a generative source or model.
    let mut spec = tiny_synth("r", 1e-3);
    spec["dataset"] = json!({"source": "synth_gen"});
    env.task(spec);
    let err = stderr(&env.run(&["run", "r"]));
    assert!(err.contains("`synth_gen` is for generative tasks"), "{err}");

    // Request files: errors name the file, the line and the field.
    let header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    let rows: String = (0..40)
        .map(|i| {
            let rating = if i == 23 {
                "good".to_string()
            } else {
                (1 + i % 5).to_string()
            };
            format!("u{}\ti{}\t{rating}\t{}\n", i % 4, i % 9, 4000 * i)
        })
        .collect();
    env.write("data/r.inter", &format!("{header}{rows}"));
    let mut spec = tiny_gen("files");
    spec["dataset"] = json!({"source": "requests", "name": "r", "format": "recbole", "path": "r.inter",
        "time": "timestamp", "actions": [{"name": "like", "column": "rating", "min": 4}]});
    spec["metrics"] = json!(["auc:like"]);
    env.task(spec.clone());
    let err = stderr(&env.run(&["run", "files", "--data-root", "data"]));
    assert!(err.contains("r.inter:25: field `rating`"), "{err}");
    spec["dataset"]["actions"][0]["column"] = json!("stars");
    env.task(spec);
    env.write(
        "data/r.inter",
        &format!("{header}{}", rows.replace("good", "3")),
    );
    let err = stderr(&env.run(&["run", "files", "--data-root", "data"]));
    assert!(
        err.contains("r.inter") && err.contains("missing column `stars`"),
        "{err}"
    );
    assert!(env.result_files().is_empty(), "{:?}", env.result_files());
}
