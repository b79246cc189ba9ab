//! The retrieval task end to end with a test model (`common::MeanPool`): a cell on the
//! synthetic world trains, beats popularity, stays below the oracle, writes its result
//! and per-user values atomically; a diverging model is recorded as failed; training
//! batches never hold a validation or test item.

mod common;

use baselines::Cpu;
use harness::data::seq_batcher::{eval_queries, train_batch, train_users, SampledCounts, Window};
use harness::data::sequences::{LooView, Stage};
use harness::kinds::retrieval::prepare_seq;
use harness::kinds::run_cell;
use harness::kinds::CellId;
use harness::results::{read_result, values_path, Status, UserValues};
use harness::runner::write_cell;
use harness::task::TaskSpec;
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// A small synth-seq task. Built with serde directly: `TaskSpec::load` would reject the
/// test model, which is not in the registry.
fn task(models: serde_json::Value) -> TaskSpec {
    serde_json::from_value(json!({
        "name": "tiny-seq", "kind": "retrieval",
        "dataset": {"source": "synth_seq", "config": {
            "seed": 4, "n_users": 1500, "n_items": 150, "n_topics": 6, "latent_dim": 8,
            "mean_length": 12.0}},
        "split": {"kind": "leave_one_out"},
        "metrics": ["ndcg@10", "hr@10", "recall@10", "mrr", "hr@50", "hr@10_s100", "ndcg@10_s100", "rr@2@10"],
        "models": models,
        "retrieval": {"max_len": 20, "n_neg": 1},
        "train": {"batch_size": 32, "max_epochs": 40, "patience": 3,
                  "optim": {"lr": 0.01, "sparse": {"kind": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}}}
    }))
    .unwrap()
}

fn cell(
    spec: &TaskSpec,
    model: &str,
    seed: u64,
) -> (harness::results::CellResult, Option<UserValues>) {
    let mut prep = prepare_seq(spec, std::path::Path::new(".")).unwrap();
    let id = CellId {
        run: "t",
        model,
        seed,
        device: "cpu",
        checkpoint: None,
    };
    run_cell(
        &Cpu::default(),
        spec,
        &mut prep,
        &id,
        &ProgressBar::hidden(),
        &common::build_test_model::<Cpu>,
    )
    .unwrap()
}

#[test]
fn a_cell_trains_beats_popularity_and_writes_values_that_give_its_metrics() {
    let spec = task(json!({"mean_pool": {"dim": 16}}));
    let (mut result, values) = cell(&spec, "mean_pool", 0);
    assert_eq!(result.status, Status::Ok, "{:?}", result.error);
    let values = values.unwrap();
    let m = &result.metrics;
    for name in &spec.metrics {
        let v = m[name];
        assert!((0.0..=1.0).contains(&v), "{name} = {v}");
        // Every metric is the (weighted) mean of the stored per-user values.
        let (per, w) = values.per_user(name).unwrap();
        let mean = per.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / w.iter().sum::<f64>();
        assert!((mean - v).abs() < 1e-12, "{name}: {mean} vs {v}");
    }
    assert_eq!(m["hr@10"], m["recall@10"]);
    assert!(m["hr@50"] >= m["hr@10"] && m["hr@10_s100"] >= m["hr@10"]);
    let (pop, oracle) = (
        &result.trivial_metrics,
        result.oracle_metrics.clone().unwrap(),
    );
    eprintln!(
        "ndcg@10: model {:.4}, popularity {:.4}, oracle {:.4}",
        m["ndcg@10"], pop["ndcg@10"], oracle["ndcg@10"]
    );
    assert!(
        m["ndcg@10"] > pop["ndcg@10"] + 0.02,
        "model {m:?} vs popularity {pop:?}"
    );
    assert!(
        oracle["ndcg@10"] > m["ndcg@10"],
        "oracle {oracle:?} vs model {m:?}"
    );
    assert!(oracle["rr@2@10"] > pop["rr@2@10"]);
    assert!(result.best_epoch >= 1 && !result.curve.is_empty());
    assert_eq!(
        result.valid_metrics,
        result.curve[result.best_epoch - 1].valid
    );
    assert_eq!(result.rows["test"], 1500);
    assert_eq!(values.users.len(), 1500);
    let cost = &result.cost;
    assert_eq!(cost.params_embedding, 151 * 16);
    assert!(cost.forward_flops_per_example > 0.0 && cost.train_examples_per_second > 0.0);
    let r = cost.retrieval.as_ref().unwrap();
    assert_eq!((r.items, r.dim, r.interests), (150, 16, 1));
    assert_eq!(r.scoring_flops_per_user, (151 * 2 * 16) as f64);
    assert!(r.user_flops_per_user > 0.0);
    assert_eq!(
        cost.latency
            .iter()
            .map(|l| l.batch_size)
            .collect::<Vec<_>>(),
        vec![1, 256]
    );

    // Written atomically: values first, then the JSON naming them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r/tiny-seq/mean_pool/seed-0.json");
    write_cell(&path, &mut result, Some(&values)).unwrap();
    let back = read_result(&path).unwrap();
    assert_eq!(back.values_file.as_deref(), Some("seed-0.users.bin"));
    for (k, v) in &result.metrics {
        assert!((back.metrics[k] - v).abs() < 1e-15, "{k}"); // JSON parsing may round the last bit
    }
    assert_eq!(UserValues::read(&values_path(&path)).unwrap(), values);
    let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["seed-0.json", "seed-0.users.bin"]);
}

#[test]
fn same_seed_same_result_and_the_seed_changes_the_sampled_negatives() {
    let spec = task(json!({"mean_pool": {"dim": 8}}));
    let (a, va) = cell(&spec, "mean_pool", 1);
    let (b, vb) = cell(&spec, "mean_pool", 1);
    assert_eq!(a.metrics, b.metrics);
    assert_eq!(va, vb);
    assert_eq!(a.provenance.split_sha256, b.provenance.split_sha256);
    let mut prep = prepare_seq(&spec, std::path::Path::new(".")).unwrap();
    prep.prepare_queries(1);
    prep.prepare_queries(2);
    assert_ne!(
        prep.queries(Stage::Test, 1)[0].sampled,
        prep.queries(Stage::Test, 2)[0].sampled
    );
}

#[test]
fn a_diverging_model_is_recorded_as_failed() {
    let spec = task(json!({"mean_pool_nan": {}}));
    let (r, values) = cell(&spec, "mean_pool_nan", 0);
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.error.as_deref().unwrap().contains("diverged"),
        "{:?}",
        r.error
    );
    assert!(values.is_none() && r.metrics.is_empty());
}

/// Leakage: over every training batch of an epoch, the inputs and targets of a user are
/// exactly their training prefix (never the validation or test item), and the seen
/// filter of each stage is exactly the history before that stage's item.
#[test]
fn training_batches_and_seen_filters_hold_exactly_the_allowed_items() {
    let spec = task(json!({"mean_pool": {}}));
    let prep = prepare_seq(&spec, std::path::Path::new(".")).unwrap();
    let s = &prep.seqs;
    let users = train_users(s);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut seen_rows = 0;
    for chunk in users.chunks(64) {
        // Trimmed to each batch's longest history, as models that trim padding get it.
        let window = Window {
            max_len: 1000,
            trim: true,
        };
        let b = train_batch(s, chunk, window, 2, &mut rng);
        assert!(b.max_len < 1000, "trimmed to the batch's histories");
        for (row, &u) in chunk.iter().enumerate() {
            let prefix = LooView::new(s, u).train();
            let inputs: Vec<u32> = b
                .items_row(row)
                .iter()
                .copied()
                .filter(|&i| i != 0)
                .collect();
            let targets: Vec<u32> = b.targets[row * b.max_len..(row + 1) * b.max_len]
                .iter()
                .copied()
                .filter(|&i| i != 0)
                .collect();
            assert_eq!(inputs, prefix[..prefix.len() - 1]);
            assert_eq!(targets, prefix[1..]);
            seen_rows += 1;
        }
    }
    assert_eq!(seen_rows, users.len());
    for stage in [Stage::Valid, Stage::Test] {
        for q in eval_queries(s, stage, SampledCounts::default(), None, 0) {
            let (hist, _, target) = LooView::new(s, q.user).eval(stage);
            let mut want = hist.to_vec();
            want.sort_unstable();
            want.dedup();
            assert_eq!(q.seen, want);
            assert_eq!(q.target, target);
            let seq = s.seq(q.user);
            let at = seq.len() - if stage == Stage::Test { 1 } else { 2 };
            assert_eq!(target, seq[at]);
        }
    }
}

/// Evaluation batches users of similar history lengths together and puts the vectors
/// back in the callers' order: each user's vector equals the one computed for that user
/// alone (full window), for a model that trims padding (SASRec) and one that skips
/// padding-only tokens itself (KuaiFormer).
#[test]
fn model_vectors_come_back_in_the_users_order() {
    use baselines::engine::ParamStore;
    use baselines::{predict, registry, Retrieval, SeqSpec};
    use harness::data::seq_batcher::eval_batch;
    use harness::kinds::retrieval::eval::model_vectors;
    let spec = task(json!({"mean_pool": {}}));
    let prep = prepare_seq(&spec, std::path::Path::new(".")).unwrap();
    let s = &prep.seqs;
    let max_len = 20;
    let seq_spec = SeqSpec {
        n_items: s.n_items,
        max_len,
        item_counts: None,
    };
    // Users in an order unrelated to their history lengths.
    let users: Vec<usize> = (0..600).map(|i| (i * 7919) % s.n_users()).collect();
    for name in ["sasrec", "kuaiformer"] {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let m = registry::build::<Retrieval, _>(name, &json!({"dim": 8}), &seq_spec, &mut store)
            .unwrap();
        let (v, _) = model_vectors(m.as_ref(), &store, s, &users, Stage::Test, max_len).unwrap();
        let width = v.interests * v.dim;
        for (i, &u) in users.iter().enumerate().step_by(37) {
            let alone = eval_batch(s, &[u], Stage::Test, Window::full(max_len));
            let (want, _) = predict(m.as_ref(), &store, &alone);
            let got = &v.users[i * width..(i + 1) * width];
            let diff = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                diff < 1e-5,
                "{name}: user {u} (position {i}) differs by {diff}"
            );
        }
    }
}

/// `retrieval.n_neg_overrides` gives one cell model more sampled negatives per
/// position: its loss then scores them all, which the FLOP counter sees.
#[test]
fn per_model_negatives_reach_the_training_batches() {
    let mut spec = task(json!({"mean_pool": {"dim": 8}}));
    spec.train.max_epochs = 2;
    let (one, _) = cell(&spec, "mean_pool", 0);
    let mut r = spec.retrieval_spec();
    r.n_neg_overrides.insert("mean_pool".into(), 8);
    spec.kind = harness::task::KindSpec::Retrieval(Some(r));
    let (eight, _) = cell(&spec, "mean_pool", 0);
    let flops = |c: &harness::results::CellResult| c.cost.train_flops_per_example;
    assert!(
        flops(&eight) > flops(&one),
        "{} vs {}",
        flops(&eight),
        flops(&one)
    );
    assert_ne!(one.metrics, eight.metrics);
}
