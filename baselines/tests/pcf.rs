//! PCF-GNN (arXiv 2105.07752, spec section 6g): the weighted loss with unit weights is
//! plain MSE, pre-training (the shared hook, full-batch on the model's graph) lowers it
//! and touches the GNN only, unseen pairs get a finite cross feature, the training
//! loss's gradients reach every DNN parameter and no GNN parameter, training leaves the
//! GNN unchanged, the pre-training step's FLOPs match a hand formula, the model learns
//! a toy task, and building without pair statistics is a BadConfig error.

mod common;
use common::{logloss, pair_stats_folds, slice, with_row_keys};

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::models::ranking::pcf::GNN;
use baselines::models::ranking::pcf_gnn::{pair_weight, weighted_sq_loss};
use baselines::models::ranking::{PairGraph, PcfDnn, PcfDnnConfig};
use baselines::{gradient_norms, predict, pretrain_gradient_norms, train_step};
use baselines::{pretrain_optimizer, pretrain_step, Model, PretrainData};
use baselines::{registry, Batch, Cpu, FeatureSpec, ModelError, PairStats, Ranking};
use dfdx::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// Labels ~ Bernoulli(sigmoid(3 <u, v>)): the signal is in the user x item cross.
fn toy_batch(n: usize, seed: u64) -> Batch {
    toy_batch_at(n, seed, 0.0)
}

/// As [`toy_batch`], with `bias` added to every logit (negative: a CTR-like low rate).
fn toy_batch_at(n: usize, seed: u64, bias: f32) -> Batch {
    let mut world = ChaCha8Rng::seed_from_u64(7);
    let mut latent = |k: usize| -> Vec<[f32; 2]> {
        (0..k)
            .map(|_| [world.gen_range(-1.0..1.0), world.gen_range(-1.0..1.0)])
            .collect()
    };
    let (users, items) = (latent(30), latent(20));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = Batch {
        size: n,
        n_sparse: 2,
        n_dense: 1,
        ..Default::default()
    };
    for _ in 0..n {
        let (u, i) = (rng.gen_range(0..30u32), rng.gen_range(0..20u32));
        let dot = users[u as usize][0] * items[i as usize][0]
            + users[u as usize][1] * items[i as usize][1];
        let p = 1.0 / (1.0 + (-(3.0 * dot + bias)).exp());
        b.sparse.extend([u, i]);
        b.dense.push(rng.gen_range(-1.0..1.0));
        b.labels.push(if rng.gen::<f32>() < p { 1.0 } else { 0.0 });
    }
    with_row_keys(b)
}

/// The toy batch's pair statistics with those of the default 2 folds' complements.
fn stats(b: &Batch) -> PairStats {
    pair_stats_folds(b, (0, 1), ("user_id", "item_id"), 2)
}

fn spec(train: &Batch) -> FeatureSpec {
    FeatureSpec {
        sparse: vec![("user_id".into(), 30), ("item_id".into(), 20)],
        dense: vec!["d0".into()],
        frequencies: None,
        pairs: Some(stats(train)),
    }
}

fn cfg() -> PcfDnnConfig {
    PcfDnnConfig {
        embedding_dim: 4,
        hidden: vec![16],
        gnn_dim: 8,
        pretrain_epochs: 60,
        pretrain_lr: 0.02,
        ..Default::default()
    }
}

#[test]
fn weighted_loss_with_unit_weights_is_mse() {
    let dev = Cpu::default();
    let p = dev.tensor_from_vec(vec![-1.0f32, 0.3, 2.0, 0.0], (4,));
    let a = dev.tensor_from_vec(vec![0.0f32, 1.0, 0.5, 0.25], (4,));
    let ones = dev.tensor_from_vec(vec![1.0f32; 4], (4,));
    let ours = weighted_sq_loss(p.clone(), a.clone(), ones).as_vec()[0];
    let mse = mse_loss(p.clone(), a.clone()).as_vec()[0];
    assert!((ours - mse).abs() < 1e-7, "{ours} vs {mse}");
    // By hand, and a non-unit weight changes it as written.
    let hand = [(-1.0f32, 0.0f32), (0.3, 1.0), (2.0, 0.5), (0.0, 0.25)]
        .iter()
        .map(|&(z, y)| (z - y).powi(2))
        .sum::<f32>()
        / 4.0;
    assert!((ours - hand).abs() < 1e-6);
    let w = dev.tensor_from_vec(vec![2.0f32, 0.0, 0.0, 0.0], (4,));
    let weighted = weighted_sq_loss(p, a, w).as_vec()[0];
    assert!((weighted - 2.0 * 1.0 / 4.0).abs() < 1e-6);
    assert_eq!(pair_weight(0), 0.0);
    assert!((pair_weight(3) - 4f32.ln()).abs() < 1e-7);
}

/// An empty batch of the toy task's shape (what the harness passes under
/// `PretrainData::Own`).
fn empty() -> Batch {
    Batch {
        n_sparse: 2,
        n_dense: 1,
        ..Default::default()
    }
}

/// The model's pre-training as the harness runs it: the plan's epochs of one
/// full-batch step each; returns the loss before the first and after the last step.
fn pretrain(m: &dyn Model<Ranking, Cpu>, store: &mut ParamStore<Cpu>) -> (f32, f32) {
    let plan = m.pretraining().expect("pcf_dnn pre-trains");
    assert_eq!(plan.data, PretrainData::Own);
    let mut opt = pretrain_optimizer(store, &plan, &OptimConfig::default());
    let mut first = f32::NAN;
    for epoch in 0..plan.epochs {
        let loss = pretrain_step(m, store, &mut opt, &empty()).unwrap().loss;
        if epoch == 0 {
            first = loss;
        }
    }
    let mut ctx = Ctx::training();
    let last = m.pretrain_loss_train(store, &empty(), &mut ctx).unwrap();
    m.prepare_frozen(store, &mut Ctx::default());
    (first, last.as_vec()[0])
}

#[test]
fn pretraining_fits_touches_the_gnn_only_and_unseen_pairs_get_a_prediction() {
    let train = toy_batch(400, 1);
    let mut s = spec(&train);
    // Drop one pair and every pair of user 29 from the statistics: both are unseen.
    let st = s.pairs.as_mut().unwrap();
    let dropped = (st.pairs[0].a, st.pairs[0].b);
    for list in std::iter::once(&mut st.pairs).chain(&mut st.out_of_fold) {
        list.retain(|p| (p.a, p.b) != dropped && p.a != 29);
    }
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = PcfDnn::new(&mut store, &s, &cfg());
    let before = store.named_values();
    let (first, last) = pretrain(&m, &mut store);
    assert!(last < 0.9 * first, "pre-training loss {first} -> {last}");

    for ((name, old), (_, new)) in before.iter().zip(store.named_values()) {
        let changed = *old != new;
        assert_eq!(changed, name.starts_with(GNN), "{name} changed: {changed}");
    }
    let stats = s.pairs.as_ref().unwrap();
    assert!(!stats.pairs.iter().any(|p| (p.a, p.b) == dropped));
    let nodes = m.frozen_nodes(&store, &mut Ctx::default());
    for (u, v) in [dropped, (29, 3)] {
        let p = nodes[0].cross(u as usize, m.graphs[0].node_b(v));
        assert!(p.is_finite(), "p_uv of unseen pair ({u}, {v}) = {p}");
    }
    // And the whole model scores a batch made of unseen pairs.
    let unseen = Batch {
        size: 2,
        n_sparse: 2,
        n_dense: 1,
        sparse: vec![dropped.0, dropped.1, 29, 3],
        dense: vec![0.1, -0.2],
        labels: vec![0.0, 1.0],
        columns: Vec::new(),
    };
    let (logits, _) = predict(&m, &store, &unseen);
    assert!(logits.iter().all(|z| z.is_finite()));
    // Same seed, same statistics: the same GNN (deterministic pre-training).
    let mut store2 = ParamStore::new(Cpu::default(), 0);
    let m2 = PcfDnn::new(&mut store2, &s, &cfg());
    pretrain(&m2, &mut store2);
    assert_eq!(m2.frozen_nodes(&store2, &mut Ctx::default()), nodes);
}

/// Spearman rank correlation (no ties expected).
fn spearman(x: &[f32], y: &[f32]) -> f64 {
    let ranks = |v: &[f32]| -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        for (k, &i) in idx.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let mean = (n - 1.0) / 2.0;
    let cov: f64 = rx
        .iter()
        .zip(&ry)
        .map(|(a, b)| (a - mean) * (b - mean))
        .sum();
    let var: f64 = rx.iter().map(|a| (a - mean).powi(2)).sum();
    cov / var
}

/// On CTR-like pairs (rates mostly well below one half) the pre-trained GNN beats the
/// best constant cross feature and its `p_uv` follows the pairs' rates. (With
/// `sigmoid(p_uv)` regressed instead, `h^K >= 0` after the ReLU keeps it at 0.5 or
/// more, and pre-training drives `h^K` to zero: a constant feature.)
#[test]
fn pretraining_fits_low_pair_rates_better_than_a_constant() {
    let train = toy_batch_at(2000, 9, -2.0);
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = PcfDnn::new(&mut store, &s, &cfg());
    let (_, last) = pretrain(&m, &mut store);
    let mean_rate = |g: &PairGraph| g.rates.iter().sum::<f32>() / g.pairs() as f32;
    assert!(mean_rate(&m.graphs[0]) < 0.3, "a low-rate world");
    // The best constant per graph: the weighted mean rate; the pre-training loss is the
    // sum over the three GNNs (all rows, and each fold's complement).
    let constant = |g: &PairGraph| {
        let wsum: f32 = g.weights.iter().sum();
        let c = g
            .weights
            .iter()
            .zip(&g.rates)
            .map(|(w, a)| w * a)
            .sum::<f32>()
            / wsum;
        let sq = g
            .weights
            .iter()
            .zip(&g.rates)
            .map(|(w, a)| w * (c - a).powi(2));
        sq.sum::<f32>() / g.pairs() as f32
    };
    assert_eq!(m.graphs.len(), 3);
    let constant: f32 = m.graphs.iter().map(constant).sum();
    assert!(
        last < 0.8 * constant,
        "pre-training {last} vs the best constant {constant}"
    );
    // The feature follows the pairs' rates: rank correlation over the training pairs.
    let g = &m.graphs[0];
    let nodes = m.frozen_nodes(&store, &mut Ctx::default());
    let p: Vec<f32> = (0..g.pairs())
        .map(|i| nodes[0].cross(g.u[i], g.v[i]))
        .collect();
    let corr = spearman(&p, &g.rates);
    assert!(corr > 0.3, "p_uv vs the pair rates: Spearman {corr}");
}

#[test]
fn gradients_split_between_training_and_pretraining_and_training_leaves_the_gnn() {
    let train = toy_batch(256, 2);
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 3);
    let m = PcfDnn::new(&mut store, &s, &cfg());
    pretrain(&m, &mut store);
    let norms = gradient_norms(&m, &store, &train);
    assert_eq!(norms.len(), store.names().len());
    for (name, n) in &norms {
        if name.starts_with(GNN) {
            assert_eq!(*n, 0.0, "the training loss reaches the frozen {name}");
        } else {
            assert!(*n > 0.0 && n.is_finite(), "no gradient reaches {name}");
        }
    }
    let pre = pretrain_gradient_norms(&m, &store, &empty()).unwrap();
    for (name, n) in &pre {
        if name.starts_with(GNN) {
            assert!(
                *n > 0.0 && n.is_finite(),
                "no pre-training gradient reaches {name}"
            );
        } else {
            assert_eq!(*n, 0.0, "the pre-training loss reaches {name}");
        }
    }
    let gnn = |store: &ParamStore<Cpu>| -> Vec<(String, Vec<f32>)> {
        let all = store.named_values();
        all.into_iter()
            .filter(|(n, _)| n.starts_with(GNN))
            .collect()
    };
    let before = gnn(&store);
    assert_eq!(before.len(), 9, "h0, w1, w2 of each of the three GNNs");
    let feature = m.cross_feature(&store, &train, &mut Ctx::default());
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    for _ in 0..5 {
        train_step(&m, &mut store, &mut opt, &train);
    }
    assert_eq!(gnn(&store), before);
    assert_eq!(
        m.cross_feature(&store, &train, &mut Ctx::default()),
        feature
    );
    // A pre-training step changes the GNN, and the cross feature follows it (the cached
    // h^K is dropped).
    let plan = Model::<Ranking, Cpu>::pretraining(&m).unwrap();
    let mut opt = pretrain_optimizer(&mut store, &plan, &OptimConfig::default());
    pretrain_step(&m, &mut store, &mut opt, &empty()).unwrap();
    assert_ne!(
        m.cross_feature(&store, &train, &mut Ctx::default()),
        feature
    );
}

/// The pre-training step's FLOPs, by hand: per round, gather n*f rows of d, weight and
/// sum them, concatenate to 2d, an n x 2d x d matmul and a ReLU; then gather both ends
/// of the m pairs, their dot products and the loss; backward and Adam on the GNN's
/// parameters only.
#[test]
fn pretraining_flops_match_the_hand_formula() {
    let train = toy_batch(300, 8);
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let c = cfg();
    let m = PcfDnn::new(&mut store, &s, &c);
    let plan = Model::<Ranking, Cpu>::pretraining(&m).unwrap();
    let mut opt = pretrain_optimizer(&mut store, &plan, &OptimConfig::default());
    let flops = pretrain_step(&m, &mut store, &mut opt, &empty())
        .unwrap()
        .flops;
    let (n, f, d, k) = (
        50u64,
        c.fanout as u64,
        c.gnn_dim as u64,
        c.gnn_layers as u64,
    );
    // Three GNNs (all rows, and the complement of each of 2 folds), each on its pairs.
    let st = s.pairs.as_ref().unwrap();
    let pair_counts: Vec<u64> = std::iter::once(&st.pairs)
        .chain(&st.out_of_fold)
        .map(|p| p.len() as u64)
        .collect();
    assert_eq!(pair_counts.len(), 3);
    // forward, backward per kind, as `engine::flops` prices each op.
    // Each round: gather, weigh and sum the neighbours, concatenate, matmul, ReLU.
    let round_fwd = n * f * d * 3 + n * 2 * d + 2 * n * 2 * d * d + n * d;
    let round_bwd = n * f * d + 2 * n * f * d + n * f * d + n * 2 * d + 4 * n * 2 * d * d + n * d;
    // Both ends gathered, their product summed; the loss: difference, square and
    // weight (elementwise) and the mean (reduce).
    let pair_fwd = |m: u64| 2 * m * d + m * d * 2 + 3 * m + m;
    let pair_bwd = |m: u64| 2 * m * d + 2 * m * d + m * d + 2 * 3 * m + m;
    // The three losses summed: two scalar adds (1 forward, 2 backward each).
    let fwd: u64 = pair_counts
        .iter()
        .map(|&m| k * round_fwd + pair_fwd(m))
        .sum::<u64>()
        + 2;
    let bwd: u64 = pair_counts
        .iter()
        .map(|&m| k * round_bwd + pair_bwd(m))
        .sum::<u64>()
        + 4;
    assert_eq!(flops.forward_total(), fwd);
    assert_eq!(flops.backward_total(), bwd);
    let gnn_values = n * d + k * 2 * d * d;
    // Adam prices 14 FLOPs per value (`engine::flops::ADAM_PER_VALUE`).
    assert_eq!(
        flops.optimizer_total(),
        14 * 3 * gnn_values,
        "Adam on the GNNs only"
    );
}

#[test]
fn learns_the_toy_task_better_than_the_constant() {
    let train = toy_batch(3000, 4);
    let test = toy_batch(1000, 5);
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let model = registry::build::<Ranking, _>(
        "pcf_dnn",
        &json!({"embedding_dim": 4, "hidden": [16], "gnn_dim": 8, "pretrain_epochs": 60, "pretrain_lr": 0.02}),
        &s,
        &mut store,
    )
    .unwrap();
    pretrain(model.as_ref(), &mut store);
    let optim = OptimConfig {
        lr: 0.01,
        weight_decay: 0.0,
        sparse: SparseOptim::adam(0.01),
    };
    let mut opt = Optimizer::new(&optim, &mut store);
    for _ in 0..10 {
        for lo in (0..train.size).step_by(100) {
            // Training chunks keep the rows' keys: each row reads its out-of-fold GNN.
            let chunk = slice(&train, lo, lo + 100);
            train_step(model.as_ref(), &mut store, &mut opt, &chunk);
        }
    }
    let (logits, _) = predict(model.as_ref(), &store, &test);
    let rate = train.labels.iter().sum::<f32>() / train.size as f32;
    let constant = vec![(rate / (1.0 - rate)).ln(); test.size];
    let (ours, base) = (
        logloss(&logits, &test.labels),
        logloss(&constant, &test.labels),
    );
    assert!(ours < base - 0.01, "pcf_dnn {ours} vs constant {base}");
}

#[test]
fn building_without_pair_stats_is_a_bad_config() {
    let mut s = spec(&toy_batch(50, 6));
    let mut store = ParamStore::new(Cpu::default(), 0);
    // Validation (before the split) passes without statistics.
    s.pairs = None;
    baselines::registry::validate::<baselines::Ranking>("pcf_dnn", &json!({}), &s).unwrap();
    let err = registry::build::<Ranking, _>("pcf_dnn", &json!({}), &s, &mut store)
        .err()
        .unwrap();
    assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
    assert!(err.to_string().contains("FeatureSpec::pairs"), "{err}");
    // Statistics of another pair, or a field the task lacks, are errors too.
    let mut other = spec(&toy_batch(50, 6));
    other.pairs.as_mut().unwrap().fields = ("item_id".into(), "user_id".into());
    let err = registry::build::<Ranking, _>("pcf_dnn", &json!({}), &other, &mut store)
        .err()
        .unwrap();
    assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
    let err = baselines::registry::validate::<baselines::Ranking>(
        "pcf_dnn",
        &json!({"fields": ["user_id", "nope"]}),
        &other,
    )
    .unwrap_err();
    assert!(matches!(err, ModelError::BadConfig { .. }), "{err}");
    // One fold's complement would be empty: 0 (one GNN) or at least 2.
    let err = baselines::registry::validate::<baselines::Ranking>(
        "pcf_dnn",
        &json!({"folds": 1}),
        &other,
    )
    .unwrap_err();
    assert!(err.to_string().contains("folds"), "{err}");
    assert_eq!(
        baselines::registry::side_inputs::<baselines::Ranking>("pcf_dnn", &json!({}))
            .unwrap()
            .pair,
        Some(("user_id".into(), "item_id".into()))
    );
    assert_eq!(
        baselines::registry::side_inputs::<baselines::Ranking>("dnn", &json!({}))
            .unwrap()
            .pair,
        None
    );
}

/// Training rows read the GNN pre-trained without their fold (by their row keys);
/// evaluation reads the GNN of every training row; each out-of-fold GNN's graph holds
/// no statistic of its own fold's rows.
#[test]
fn training_rows_read_their_out_of_fold_gnn() {
    use baselines::kinds::ranking::{fold_of, ROW_KEY};
    let train = toy_batch(400, 12);
    let s = spec(&train);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = PcfDnn::new(&mut store, &s, &cfg());
    pretrain(&m, &mut store);
    let nodes = m.frozen_nodes(&store, &mut Ctx::default());
    let keys = train.column(ROW_KEY).unwrap();
    let train_f = m.cross_feature(&store, &train, &mut Ctx::training());
    let eval_f = m.cross_feature(&store, &train, &mut Ctx::default());
    for r in 0..train.size {
        let (u, v) = (train.sparse[2 * r] as usize, train.sparse[2 * r + 1]);
        let g = 1 + fold_of(keys[r], 2);
        assert_eq!(train_f[r], nodes[g].cross(u, m.graphs[g].node_b(v)));
        assert_eq!(eval_f[r], nodes[0].cross(u, m.graphs[0].node_b(v)));
    }
    assert_ne!(train_f, eval_f);
    // A pair whose rows all lie in fold k is absent from fold k's complement.
    let st = s.pairs.as_ref().unwrap();
    for (k, outside) in st.out_of_fold.iter().enumerate() {
        for p in &st.pairs {
            let rows: Vec<usize> = (0..train.size)
                .filter(|&r| (train.sparse[2 * r], train.sparse[2 * r + 1]) == (p.a, p.b))
                .collect();
            let out = rows.iter().filter(|&&r| fold_of(keys[r], 2) != k).count() as u32;
            let got = outside
                .iter()
                .find(|q| (q.a, q.b) == (p.a, p.b))
                .map_or(0, |q| q.count);
            assert_eq!(got, out, "pair ({}, {}) outside fold {k}", p.a, p.b);
        }
    }
    // Without row keys a training forward refuses to guess.
    let mut keyless = train.clone();
    keyless.columns.clear();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        m.cross_feature(&store, &keyless, &mut Ctx::training())
    }));
    assert!(caught.is_err());
}
