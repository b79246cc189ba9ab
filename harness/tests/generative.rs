//! The generative-ranking task end to end: a cell of `item_only` on a small synthetic
//! world trains, beats the constant predictor, stays below the oracle, and its stored
//! scores give its metrics; a diverging model is recorded as failed; no validation or
//! test request ever reaches a training or pre-training batch (checked through the
//! real training loop with a recording model); an example's history is exactly the
//! requests before it; the real ML-100K file groups into requests as documented.

mod common;

use std::sync::{Arc, Mutex};

use baselines::kinds::generative::{action_flags, Request};
use baselines::{Cpu, GenSpec};
use harness::data::gen_batcher::{
    batch, eval_examples, pretrain_batch, pretrain_users, train_examples,
};
use harness::data::requests::RequestLogs;
use harness::data::sequences::Stage;
use harness::kinds::generative::{prepare_gen, PreparedGen};
use harness::kinds::run_cell;
use harness::kinds::CellId;
use harness::metrics::{auc, gauc};
use harness::results::{CellResult, Scores, Status};
use harness::task::TaskSpec;
use indicatif::ProgressBar;
use serde_json::json;

/// A small synth-gen task. Built with serde directly: `TaskSpec::load` would reject the
/// test models, which are not in the registry.
fn task(models: serde_json::Value) -> TaskSpec {
    serde_json::from_value(json!({
        "name": "tiny-gen", "kind": "generative",
        "dataset": {"source": "synth_gen", "config": {"seed": 3, "n_users": 600, "n_items": 120}},
        "split": {"kind": "leave_one_out"},
        "metrics": ["auc:click", "gauc:click", "logloss:click", "auc:like", "logloss:like"],
        "models": models,
        "generative": {"max_history": 32, "max_candidates": 8},
        "train": {"batch_size": 64, "max_epochs": 15, "patience": 3,
                  "optim": {"lr": 0.005, "sparse": {"kind": "adam", "lr": 0.005, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}}
    }))
    .unwrap()
}

fn cell(
    spec: &TaskSpec,
    prep: &mut PreparedGen,
    model: &str,
    log: Arc<Mutex<common::Recorded>>,
) -> (CellResult, Option<Scores>) {
    let id = CellId {
        run: "t",
        model,
        seed: 0,
        device: "cpu",
        checkpoint: None,
    };
    let build = common::build_test_gen_model::<Cpu>(log);
    run_cell(
        &Cpu::default(),
        spec,
        prep,
        &id,
        &ProgressBar::hidden(),
        &build,
    )
    .unwrap()
}

#[test]
fn an_item_only_cell_beats_the_constant_predictor_and_its_scores_give_its_metrics() {
    let spec = task(json!({"item_only": {"dim": 16, "hidden": [16]}}));
    let mut prep = prepare_gen(&spec, std::path::Path::new(".")).unwrap();
    let (result, scores) = cell(&spec, &mut prep, "item_only", Default::default());
    assert_eq!(result.status, Status::Ok, "{:?}", result.error);
    let m = &result.metrics;
    let (trivial, oracle) = (
        &result.trivial_metrics,
        result.oracle_metrics.clone().unwrap(),
    );
    eprintln!("model {m:?}\nconstant {trivial:?}\noracle {oracle:?}");
    for name in &spec.metrics {
        assert!(m[name].is_finite() && oracle.contains_key(name), "{name}");
    }
    assert_eq!(trivial["auc:click"], 0.5);
    assert!(m["auc:click"] > 0.55, "{m:?}");
    assert!(
        m["logloss:click"] < trivial["logloss:click"],
        "{m:?} vs {trivial:?}"
    );
    // History-blind: the oracle (the true probabilities given the current taste) stays
    // well above it.
    assert!(
        oracle["auc:click"] > m["auc:click"] + 0.05,
        "{oracle:?} vs {m:?}"
    );
    assert!(oracle["gauc:click"] > m["gauc:click"]);
    // scores.bin holds the primary action (click) per test candidate, users as groups.
    let s = scores.unwrap();
    let n = result.rows["test"];
    assert_eq!(s.scores.len(), n);
    assert_eq!(result.rows["test_requests"], prep.logs.n_users());
    let labels: Vec<f32> = s.labels.iter().map(|&l| l as f32).collect();
    assert!((auc(&s.scores, &labels).unwrap() - m["auc:click"]).abs() < 1e-9);
    let g = gauc(&s.scores, &labels, &s.groups).unwrap();
    assert!((g.gauc - m["gauc:click"]).abs() < 1e-9);
    assert_eq!(result.primary_metric, "auc:click");
    assert!(result.best_epoch >= 1);
    assert_eq!(
        result.valid_metrics,
        result.curve[result.best_epoch - 1].valid
    );
    let cost = &result.cost;
    assert_eq!(cost.params_embedding, 121 * 16);
    assert!(cost.forward_flops_per_example > 0.0 && cost.train_flops_per_example > 0.0);
    let g = cost.generative.as_ref().unwrap();
    assert_eq!(cost.pretraining, None, "item_only does not pre-train");
    assert!(g.eval_flops_per_request > 0.0 && (4.0..=8.0).contains(&g.candidates_per_request));
    assert_eq!(
        cost.latency
            .iter()
            .map(|l| l.batch_size)
            .collect::<Vec<_>>(),
        [1, 256]
    );
}

#[test]
fn a_diverging_model_is_recorded_as_failed() {
    let spec = task(json!({"recorder_nan": {"pretrain_epochs": 0}}));
    let mut prep = prepare_gen(&spec, std::path::Path::new(".")).unwrap();
    let (r, scores) = cell(&spec, &mut prep, "recorder_nan", Default::default());
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.error.as_deref().unwrap().contains("diverged"),
        "{:?}",
        r.error
    );
    assert!(scores.is_none() && r.metrics.is_empty());
}

/// The logs with every user's validation and test exposures replaced by a sentinel
/// item that appears nowhere else (the old top item id, removed from training
/// requests), so any validation or test content in a batch is visible.
fn with_sentinel(prep: &mut PreparedGen) -> u32 {
    let s = prep.logs.n_items;
    for u in &mut prep.logs.users {
        let split = u.split();
        for (k, r) in u.requests.iter_mut().enumerate() {
            for e in &mut r.exposures {
                if k >= split.valid {
                    e.item = s;
                } else if e.item == s {
                    e.item = 1;
                }
            }
        }
    }
    s
}

/// Through the real training loop (pre-training included): no training or
/// pre-training batch holds a validation or test exposure, pre-training rows are
/// exactly each user's training split, and training saw every training example.
#[test]
fn no_validation_or_test_request_reaches_training_or_pre_training() {
    let spec = task(json!({"recorder": {"pretrain_epochs": 2}}));
    let mut prep = prepare_gen(&spec, std::path::Path::new(".")).unwrap();
    let sentinel = with_sentinel(&mut prep);
    let log: Arc<Mutex<common::Recorded>> = Default::default();
    let (r, _) = cell(&spec, &mut prep, "recorder", log.clone());
    assert_eq!(r.status, Status::Ok, "{:?}", r.error);
    let log = log.lock().unwrap();
    let users = pretrain_users(&prep.logs);
    let pre = r
        .cost
        .pretraining
        .as_ref()
        .expect("the recorder pre-trains");
    assert_eq!((pre.epochs, pre.examples_seen), (2, 2 * users.len()));
    assert_eq!(pre.losses.len(), 2);
    assert!(pre.flops > 0.0 && pre.steps >= 2);
    assert_eq!(
        log.pretrain.iter().map(|b| b.size).sum::<usize>(),
        2 * users.len()
    );
    let train = train_examples(&prep.logs);
    let steps: usize = log.train.iter().map(|b| b.size).sum();
    assert_eq!(steps % train.len(), 0, "whole epochs of training examples");
    assert!(steps >= train.len());
    for b in log.train.iter().chain(&log.pretrain) {
        assert!(
            !b.hist_items.contains(&sentinel) && !b.cand_items.contains(&sentinel),
            "a validation or test exposure reached a training batch"
        );
    }
    // Pre-training rows: history = the requests before the last training request,
    // candidates = that request.
    let spec_g = &prep.gen_spec;
    let want = pretrain_batch(spec_g, &prep.logs, &users);
    let mut rows: Vec<(Vec<u32>, Vec<u32>)> = log
        .pretrain
        .iter()
        .flat_map(|b| {
            (0..b.size).map(move |i| {
                (
                    b.hist_items[i * b.max_history..(i + 1) * b.max_history].to_vec(),
                    b.cand_items[i * b.max_candidates..(i + 1) * b.max_candidates].to_vec(),
                )
            })
        })
        .take(users.len())
        .collect();
    let mut expect: Vec<(Vec<u32>, Vec<u32>)> = (0..want.size)
        .map(|i| {
            (
                want.hist_items[i * want.max_history..(i + 1) * want.max_history].to_vec(),
                want.cand_items[i * want.max_candidates..(i + 1) * want.max_candidates].to_vec(),
            )
        })
        .collect();
    rows.sort();
    expect.sort();
    assert_eq!(
        rows, expect,
        "the first pre-training epoch is every user's training split"
    );
}

/// Labels travel beside the model inputs: the validation and test actions change no
/// training or pre-training batch at all.
#[test]
fn validation_and_test_labels_never_change_a_training_batch() {
    let spec = task(json!({"item_only": {}}));
    let prep = prepare_gen(&spec, std::path::Path::new(".")).unwrap();
    let mut flipped = prep.logs.clone();
    for u in &mut flipped.users {
        let s = u.split();
        for r in &mut u.requests[s.valid..] {
            for e in &mut r.exposures {
                e.action = 1 + (4 - e.action) % 4; // a different action id in 1..=4
            }
        }
    }
    assert_ne!(flipped, prep.logs);
    let g = &prep.gen_spec;
    let train = train_examples(&prep.logs);
    for chunk in train.chunks(97) {
        assert_eq!(batch(g, &prep.logs, chunk), batch(g, &flipped, chunk));
    }
    let users = pretrain_users(&prep.logs);
    assert_eq!(
        pretrain_batch(g, &prep.logs, &users),
        pretrain_batch(g, &flipped, &users)
    );
    // ... while the test batches do see them (as labels only).
    let test = eval_examples(&prep.logs, Stage::Test);
    assert_ne!(
        batch(g, &prep.logs, &test).labels,
        batch(g, &flipped, &test).labels
    );
}

/// A test example's history is exactly the exposures of the requests before it
/// (oldest first, actions and request distances included) and its candidates are its
/// own request's items.
#[test]
fn an_examples_history_is_exactly_the_requests_before_it() {
    let spec = task(json!({"item_only": {}}));
    let prep = prepare_gen(&spec, std::path::Path::new(".")).unwrap();
    let logs = &prep.logs;
    let long = GenSpec {
        max_history: 1000,
        ..prep.gen_spec.clone()
    };
    for stage in [Stage::Valid, Stage::Test] {
        let examples = eval_examples(logs, stage);
        let b = batch(&long, logs, &examples);
        for (row, &(u, r)) in examples.iter().enumerate() {
            let reqs = &logs.users[u].requests;
            assert_eq!(r, reqs.len() - if stage == Stage::Test { 1 } else { 2 });
            let before: Vec<(u32, u32, u32)> = reqs[..r]
                .iter()
                .enumerate()
                .flat_map(|(k, q)| {
                    q.exposures
                        .iter()
                        .map(move |e| (e.item, e.action, (r - k) as u32))
                })
                .collect();
            let h = |v: &[u32]| v[row * 1000..(row + 1) * 1000].to_vec();
            let got: Vec<(u32, u32, u32)> = h(&b.hist_items)
                .into_iter()
                .zip(h(&b.hist_actions))
                .zip(h(&b.hist_requests_ago))
                .filter(|((i, _), _)| *i != 0)
                .map(|((i, a), k)| (i, a, k))
                .collect();
            assert_eq!(got, before, "user {u}");
            let cands: Vec<u32> = b.cand_items[row * 8..(row + 1) * 8]
                .iter()
                .copied()
                .filter(|&i| i != 0)
                .collect();
            let own: Vec<u32> = reqs[r].exposures.iter().map(|e| e.item).collect();
            assert_eq!(cands, own);
        }
    }
    // With the task's max_history the most recent exposures are kept.
    let examples = eval_examples(logs, Stage::Test);
    let b = batch(&prep.gen_spec, logs, &examples[..1]);
    let (u, r) = examples[0];
    let all: Vec<u32> = logs.users[u].requests[..r]
        .iter()
        .flat_map(|q| q.exposures.iter().map(|e| e.item))
        .collect();
    let kept: Vec<u32> = b.hist_items.iter().copied().filter(|&i| i != 0).collect();
    assert_eq!(kept, all[all.len().saturating_sub(32)..]);
}

/// The real ML-100K file (when `../shared/data` exists): every rating becomes one
/// exposure, requests respect the hour window and the candidate cut, and like/love
/// follow the ratings.
#[test]
fn ml100k_ratings_group_into_hourly_requests() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if !root.exists() {
        eprintln!("SKIP: ml100k_ratings_group_into_hourly_requests needs ../shared/data");
        return;
    }
    let tasks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tasks");
    let spec = TaskSpec::load(&tasks.join("ml100k-gen.json")).unwrap();
    let prep = prepare_gen(&spec, &root).unwrap();
    let logs: &RequestLogs = &prep.logs;
    assert_eq!(logs.actions, ["like", "love"]);
    assert_eq!(logs.n_exposures() + logs.dropped_exposures, 100_000);
    assert_eq!(logs.n_users() + logs.dropped_users, 943);
    let (mut like, mut love) = (0usize, 0usize);
    for u in &logs.users {
        assert!(u.requests.len() >= 3);
        for w in u.requests.windows(2) {
            assert!(w[0].time <= w[1].time);
            // Consecutive requests are other hours, or chunks of one hour's request.
            assert!(w[0].time / 3600 != w[1].time / 3600 || w[0].time == w[1].time);
        }
        for e in u.requests.iter().flat_map(|r: &Request| &r.exposures) {
            let f = action_flags(e.action, 2);
            assert!(!f[1] || f[0], "love without like");
            like += f[0] as usize;
            love += f[1] as usize;
        }
        assert!(u
            .requests
            .iter()
            .all(|r| (1..=8).contains(&r.exposures.len())));
    }
    // 55.4% of all ratings are >= 4 and 21.2% are 5 (of 100,000).
    let n = logs.n_exposures() as f64;
    eprintln!(
        "ml100k-gen: {} users, {} requests, {} exposures, like {:.3}, love {:.3}",
        logs.n_users(),
        logs.n_requests(),
        n,
        like as f64 / n,
        love as f64 / n
    );
    assert!((like as f64 / n - 0.554).abs() < 0.01 && (love as f64 / n - 0.212).abs() < 0.01);
}
