//! The explicit statistics-table baseline of PCF-GNN (`stats_dnn`, arXiv 2105.07752
//! Sec. 1/4): the table's features follow the smoothing formula with leave-one-out in
//! training, an empty table is the DNN with a shifted first-layer bias, gradients reach
//! every parameter, the model learns a toy task, the table's bytes are reported, and bad
//! configs are errors. FLOPs: `tests/flops.rs`; training-split-only statistics: the
//! harness test `stats_dnn_table_comes_from_the_training_rows_only`.

mod common;
use common::{logloss, pair_stats, slice, toy_batch, toy_spec};

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::models::ranking::{Dnn, DnnConfig, PairTable, StatsDnn, StatsDnnConfig};
use baselines::{gradient_norms, predict, train_step};
use baselines::{
    registry, Batch, Cpu, FeatureSpec, Forward, ModelError, PairStat, PairStats, Ranking,
};
use serde_json::json;

fn spec(train: &Batch) -> FeatureSpec {
    FeatureSpec {
        pairs: Some(pair_stats(train, (0, 1), ("user", "item"))),
        ..toy_spec()
    }
}

fn cfg() -> StatsDnnConfig {
    StatsDnnConfig {
        embedding_dim: 4,
        hidden: vec![16, 8],
        fields: ["user".into(), "item".into()],
        ..Default::default()
    }
}

#[test]
fn table_features_follow_the_smoothing_formula_with_leave_one_out() {
    let st = |a, b, count, positives| PairStat {
        a,
        b,
        count,
        positives,
    };
    let stats = PairStats {
        fields: ("user".into(), "item".into()),
        pairs: vec![st(0, 1, 4, 3), st(2, 0, 1, 1)],
        out_of_fold: Vec::new(),
    };
    let t = PairTable::new(&stats, 10.0);
    // prior = 4 / 5 positives over all pairs' rows.
    assert!((t.prior - 0.8).abs() < 1e-7);
    let close = |x: [f32; 2], y: [f32; 2]| (x[0] - y[0]).abs() < 1e-6 && (x[1] - y[1]).abs() < 1e-6;
    // Seen pair: (3 + 10 * 0.8) / (4 + 10), ln(1 + 4).
    assert!(close(t.lookup(0, 1, None), [11.0 / 14.0, 5f32.ln()]));
    // Leave-one-out: a positive row removes one count and one positive, a negative row
    // one count only.
    assert!(close(t.lookup(0, 1, Some(1.0)), [10.0 / 13.0, 4f32.ln()]));
    assert!(close(t.lookup(0, 1, Some(0.0)), [11.0 / 13.0, 4f32.ln()]));
    // A pair seen once, left out, looks unseen: (prior, 0).
    assert!(close(t.lookup(2, 0, Some(1.0)), [0.8, 0.0]));
    assert!(close(t.lookup(2, 0, None), [9.0 / 11.0, 2f32.ln()]));
    // Unseen pairs, including the reverse of a seen one.
    assert!(close(t.lookup(1, 0, None), [0.8, 0.0]));
    assert!(close(t.lookup(59, 39, Some(1.0)), [0.8, 0.0]));
    // Two ids and two values per pair.
    assert_eq!(t.bytes(), 2 * 16);
}

#[test]
fn empty_table_is_the_dnn_with_a_shifted_first_layer_bias() {
    let b = toy_batch(64, 3);
    let mut s = toy_spec();
    s.pairs = Some(PairStats {
        fields: ("user".into(), "item".into()),
        pairs: vec![],
        out_of_fold: Vec::new(),
    });
    let dev = Cpu::default();
    let mut store = ParamStore::new(dev.clone(), 7);
    let m = StatsDnn::new(&mut store, &s, &cfg());
    // Every example, training or not, gets the constant inputs (prior, 0) = (0.5, 0).
    for training in [false, true] {
        assert!(m
            .cross_features(&b, training)
            .iter()
            .all(|&x| x == [0.5, 0.0]));
    }
    // The DNN with the stats model's embedding table, and its MLP with the two extra
    // input rows folded into the first bias: b' = b + 0.5 * W[w] + 0 * W[w + 1].
    let dnn_cfg = DnnConfig {
        embedding_dim: 4,
        hidden: vec![16, 8],
        ..Default::default()
    };
    let mut dstore = ParamStore::new(dev, 7);
    let dnn = Dnn::new(&mut dstore, &s, &dnn_cfg);
    let copied = dstore.copy_from(&store, |n| {
        n.strip_prefix("stats_dnn.embedding")
            .map(|r| format!("dnn.embedding{r}"))
    });
    assert_eq!(copied, 1, "the embedding table");
    let w = 3 * 4 + 2;
    let first = &m.mlp.hidden[0];
    let weight = store.mat(first.w).as_vec();
    let bias = store.vec(first.b).as_vec();
    let h = first.out;
    assert_eq!(weight.len(), (w + 2) * h);
    dstore.set_mat(dnn.mlp.hidden[0].w, weight[..w * h].to_vec());
    let shifted: Vec<f32> = (0..h).map(|j| bias[j] + 0.5 * weight[w * h + j]).collect();
    dstore.set_vec(dnn.mlp.hidden[0].b, shifted);
    let layers = m.mlp.hidden[1..].iter().chain(m.mlp.output.as_ref());
    let dlayers = dnn.mlp.hidden[1..].iter().chain(dnn.mlp.output.as_ref());
    for (a, d) in layers.zip(dlayers) {
        dstore.set_mat(d.w, store.mat(a.w).as_vec());
        dstore.set_vec(d.b, store.vec(a.b).as_vec());
    }
    let (ours, _) = predict(&m, &store, &b);
    let (theirs, _) = predict(&dnn, &dstore, &b);
    for (x, y) in ours.iter().zip(&theirs) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
    // And the extra inputs matter: a table that knows the pairs changes the logits.
    let mut store2 = ParamStore::new(Cpu::default(), 7);
    let full = StatsDnn::new(&mut store2, &spec(&b), &cfg());
    let (with_table, _) = predict(&full, &store2, &b);
    assert!(with_table
        .iter()
        .zip(&ours)
        .any(|(x, y)| (x - y).abs() > 1e-4));
}

#[test]
fn gradients_reach_every_parameter_and_the_table_stays_frozen() {
    let train = toy_batch(256, 2);
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 3);
    let m = StatsDnn::new(&mut store, &s, &cfg());
    let norms = gradient_norms(&m, &store, &train);
    assert_eq!(norms.len(), store.names().len());
    for (name, n) in &norms {
        assert!(*n > 0.0 && n.is_finite(), "no gradient reaches {name}");
    }
    let before = m.cross_features(&train, false);
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    for _ in 0..3 {
        train_step(&m, &mut store, &mut opt, &train);
    }
    assert_eq!(m.cross_features(&train, false), before);
    // The table is serving state outside the store: 16 bytes per training pair.
    assert_eq!(
        Forward::<Ranking, Cpu>::extra_serving_bytes(&m),
        16 * s.pairs.as_ref().unwrap().pairs.len()
    );
}

#[test]
fn learns_the_toy_task_better_than_the_constant() {
    // The setup of `models.rs`: 20k training rows (about 8 per user x item pair).
    let all = toy_batch(24_000, 4);
    let (train, test) = (slice(&all, 0, 20_000), slice(&all, 20_000, 24_000));
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let model = registry::build::<Ranking, _>(
        "stats_dnn",
        &json!({"embedding_dim": 4, "hidden": [16], "fields": ["user", "item"]}),
        &s,
        &mut store,
    )
    .unwrap();
    let cfg = OptimConfig {
        lr: 3e-3,
        weight_decay: 0.0,
        sparse: SparseOptim::adam(3e-2),
    };
    let mut opt = Optimizer::new(&cfg, &mut store);
    for _ in 0..4 {
        for lo in (0..train.size).step_by(256) {
            let b = slice(&train, lo, (lo + 256).min(train.size));
            train_step(model.as_ref(), &mut store, &mut opt, &b);
        }
    }
    let (logits, _) = predict(model.as_ref(), &store, &test);
    let rate = train.labels.iter().sum::<f32>() / train.size as f32;
    let constant = vec![(rate / (1.0 - rate)).ln(); test.size];
    let (ours, base) = (
        logloss(&logits, &test.labels),
        logloss(&constant, &test.labels),
    );
    eprintln!("stats_dnn {ours:.4}, constant {base:.4}");
    assert!(ours < base - 0.01, "stats_dnn {ours} vs constant {base}");
}

#[test]
fn bad_configs_and_missing_statistics_are_errors() {
    let train = toy_batch(50, 6);
    let mut s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let ok = json!({"fields": ["user", "item"]});
    assert_eq!(
        baselines::registry::side_inputs::<baselines::Ranking>("stats_dnn", &ok)
            .unwrap()
            .pair,
        Some(("user".into(), "item".into()))
    );
    for (config, needle) in [
        (
            json!({"fields": ["user", "nope"]}),
            "no sparse field `nope`",
        ),
        (json!({"fields": ["user", "user"]}), "two different"),
        (
            json!({"fields": ["user", "item"], "smoothing": 0.0}),
            "smoothing",
        ),
        (
            json!({"fields": ["user", "item"], "smothing": 1.0}),
            "smothing",
        ),
    ] {
        let err = baselines::registry::validate::<baselines::Ranking>("stats_dnn", &config, &s)
            .unwrap_err();
        assert!(
            matches!(err, ModelError::BadConfig { .. }) && err.to_string().contains(needle),
            "{config}: {err}"
        );
    }
    // Statistics of the other orientation, or none: an error when building, after
    // validation (which runs before the split) passed.
    s.pairs.as_mut().unwrap().fields = ("item".into(), "user".into());
    let err = registry::build::<Ranking, _>("stats_dnn", &ok, &s, &mut store)
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("pair statistics are for item x user"),
        "{err}"
    );
    s.pairs = None;
    baselines::registry::validate::<baselines::Ranking>("stats_dnn", &ok, &s).unwrap();
    let err = registry::build::<Ranking, _>("stats_dnn", &ok, &s, &mut store)
        .err()
        .unwrap();
    assert!(err.to_string().contains("FeatureSpec::pairs"), "{err}");
}
