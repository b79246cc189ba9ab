//! The FLOP counter against hand-derived formulas, one per reference model, forward,
//! backward and optimizer (conventions: `baselines::engine::flops`).
//!
//! Notation: batch B, F sparse fields, embedding width d, n_d dense features,
//! W = F d + n_d the MLP/cross input width, hidden widths h1, h2, L cross layers,
//! U = number of distinct embedding rows the batch touches (ids shifted per field).

mod common;

use std::collections::BTreeSet;

use baselines::engine::{Flops, OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::{predict, train_step};
use baselines::{registry, Batch, Cpu, FeatureSpec, Ranking};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const B: u64 = 48;
const F: u64 = 3;
const ND: u64 = 2;
const VOCABS: [u32; 3] = [50, 20, 9];

fn spec() -> FeatureSpec {
    FeatureSpec {
        sparse: VOCABS
            .iter()
            .enumerate()
            .map(|(i, &v)| (format!("f{i}"), v))
            .collect(),
        dense: (0..ND).map(|i| format!("d{i}")).collect(),
        frequencies: None,
        pairs: None,
    }
}

fn batch() -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut b = Batch {
        size: B as usize,
        n_sparse: F as usize,
        n_dense: ND as usize,
        ..Default::default()
    };
    for _ in 0..B {
        for v in VOCABS {
            b.sparse.push(rng.gen_range(0..v));
        }
        for _ in 0..ND {
            b.dense.push(rng.gen_range(-1.0..1.0));
        }
        b.labels.push(rng.gen_range(0..2) as f32);
    }
    b
}

/// U: distinct rows of the shared field table (field f's ids shifted by earlier vocabs).
fn distinct_rows(b: &Batch) -> u64 {
    let offsets = [0, VOCABS[0], VOCABS[0] + VOCABS[1]];
    let rows: BTreeSet<u32> = b
        .sparse
        .chunks_exact(F as usize)
        .flat_map(|r| r.iter().zip(offsets).map(|(id, o)| id + o))
        .collect();
    rows.len() as u64
}

/// One training step and one inference pass of `model` with `cfg`.
fn measure(model: &str, config: serde_json::Value, optim: &OptimConfig) -> (Flops, Flops) {
    measure_on(&spec(), model, config, optim)
}

/// [`measure`] on another feature spec (e.g. one with pair statistics).
fn measure_on(
    spec: &FeatureSpec,
    model: &str,
    config: serde_json::Value,
    optim: &OptimConfig,
) -> (Flops, Flops) {
    let dev = Cpu::default();
    let mut store = ParamStore::new(dev, 0);
    let m = registry::build::<Ranking, _>(model, &config, spec, &mut store).unwrap();
    let mut opt = Optimizer::new(optim, &mut store);
    let b = batch();
    let train = train_step(m.as_ref(), &mut store, &mut opt, &b).flops;
    let (_, eval) = predict(m.as_ref(), &store, &b);
    (train, eval)
}

fn check(name: &str, train: &Flops, eval: &Flops, fwd: u64, bwd: u64, opt: u64) {
    let loss_fwd = 9 * B;
    let loss_bwd = 5 * B;
    assert_eq!(eval.forward_total(), fwd, "{name}: inference forward");
    assert_eq!(
        eval.backward_total(),
        0,
        "{name}: inference has no backward"
    );
    assert_eq!(eval.optimizer_total(), 0);
    assert_eq!(
        train.forward_total(),
        fwd + loss_fwd,
        "{name}: training forward (model + loss)"
    );
    assert_eq!(
        train.backward_total(),
        bwd + loss_bwd,
        "{name}: backward {:?}",
        train.backward_by_kind()
    );
    assert_eq!(
        train.optimizer_total(),
        opt,
        "{name}: optimizer {:?}",
        train.optimizer_by_kind()
    );
}

#[test]
fn lr_counter_matches_formula() {
    let (train, eval) = measure("lr", json!({}), &OptimConfig::default());
    let u = distinct_rows(&batch());
    // Forward: gather B F (width 1) + sum over fields B F + dense matmul 2 B n_d
    // + add of the dense term B + bias B.
    let fwd = B * F + B * F + 2 * B * ND + B + B;
    // Backward: scatter-add B F + sum backward B F + matmul 4 B n_d (dfdx forms dX of the
    // dense input too) + two binary adds 2 B each.
    let bwd = B * F + B * F + 4 * B * ND + 2 * B + 2 * B;
    // Optimizer: dense Adam on n_d + 1 values, row-wise Adam on U rows of width 1.
    let opt = 14 * (ND + 1) + 14 * u;
    check("lr", &train, &eval, fwd, bwd, opt);
    assert_eq!(eval.forward_by_kind()["matmul"], 2 * B * ND);
    assert_eq!(eval.forward_by_kind()["embedding"], B * F);
}

#[test]
fn dnn_counter_matches_formula() {
    let (d, h1, h2) = (4u64, 8u64, 6u64);
    let (train, eval) = measure(
        "dnn",
        json!({"embedding_dim": d, "hidden": [h1, h2]}),
        &OptimConfig::default(),
    );
    let u = distinct_rows(&batch());
    let w = F * d + ND;
    let macs = w * h1 + h1 * h2 + h2; // per example, layers W -> h1 -> h2 -> 1
                                      // Forward: gather B F d + concat copy B W + matmuls 2 B macs + biases B (h1 + h2 + 1)
                                      // + ReLUs B (h1 + h2).
    let fwd = B * F * d + B * w + 2 * B * macs + B * (h1 + h2 + 1) + B * (h1 + h2);
    // Backward: scatter-add B F d + concat split B W + matmuls 4 B macs
    // + biases 2 B (h1 + h2 + 1) + ReLUs B (h1 + h2).
    let bwd = B * F * d + B * w + 4 * B * macs + 2 * B * (h1 + h2 + 1) + B * (h1 + h2);
    let dense_params = w * h1 + h1 + h1 * h2 + h2 + h2 + 1;
    let opt = 14 * dense_params + 14 * u * d;
    check("dnn", &train, &eval, fwd, bwd, opt);
    assert_eq!(eval.forward_by_kind()["matmul"], 2 * B * macs);
}

#[test]
fn stats_dnn_counter_matches_formula() {
    let (d, h1, h2) = (4u64, 8u64, 6u64);
    let b = batch();
    let spec = FeatureSpec {
        pairs: Some(common::pair_stats(&b, (0, 1), ("f0", "f1"))),
        ..spec()
    };
    let (train, eval) = measure_on(
        &spec,
        "stats_dnn",
        json!({"embedding_dim": d, "hidden": [h1, h2], "fields": ["f0", "f1"]}),
        &OptimConfig::default(),
    );
    let u = distinct_rows(&b);
    // The DNN's count with an MLP input 2 wider (rate and log count), plus the table
    // read of 2 values per example (forward only: the table is not trained).
    let w = F * d + ND + 2;
    let macs = w * h1 + h1 * h2 + h2;
    let fwd = B * F * d + 2 * B + B * w + 2 * B * macs + B * (h1 + h2 + 1) + B * (h1 + h2);
    let bwd = B * F * d + B * w + 4 * B * macs + 2 * B * (h1 + h2 + 1) + B * (h1 + h2);
    let dense_params = w * h1 + h1 + h1 * h2 + h2 + h2 + 1;
    let opt = 14 * dense_params + 14 * u * d;
    check("stats_dnn", &train, &eval, fwd, bwd, opt);
    assert_eq!(eval.forward_by_kind()["embedding"], B * F * d + 2 * B);
    assert_eq!(train.backward_by_kind()["embedding"], B * F * d);
}

#[test]
fn dcnv2_counter_matches_formula() {
    let (d, l, h1, h2) = (4u64, 2u64, 8u64, 6u64);
    let (train, eval) = measure(
        "dcnv2",
        json!({"embedding_dim": d, "cross_layers": l, "hidden": [h1, h2]}),
        &OptimConfig::default(),
    );
    let u = distinct_rows(&batch());
    let w = F * d + ND;
    let mlp_macs = w * h1 + h1 * h2 + h2;
    // Each cross layer: x_l W_l (W^2 MACs) + b_l (B W) + ⊙ x_0 (B W) + x_l (B W).
    let fwd = B * F * d
        + B * w
        + l * (2 * B * w * w + 3 * B * w)
        + 2 * B * mlp_macs
        + B * (h1 + h2 + 1)
        + B * (h1 + h2);
    // Backward: cross matmul 4 B W^2, three binary ops 2 B W each.
    let bwd = B * F * d
        + B * w
        + l * (4 * B * w * w + 6 * B * w)
        + 4 * B * mlp_macs
        + 2 * B * (h1 + h2 + 1)
        + B * (h1 + h2);
    let dense_params = l * (w * w + w) + w * h1 + h1 + h1 * h2 + h2 + h2 + 1;
    let opt = 14 * dense_params + 14 * u * d;
    check("dcnv2", &train, &eval, fwd, bwd, opt);
}

#[test]
fn optimizer_flops_follow_the_configured_optimizers() {
    let (d, h1, h2) = (4u64, 8u64, 6u64);
    // AdamW on dense (14 + 2 per value), Adagrad on rows (7 per value).
    let cfg = OptimConfig {
        lr: 1e-3,
        weight_decay: 0.01,
        sparse: SparseOptim::Adagrad {
            lr: 0.01,
            eps: 1e-8,
            init_acc: 0.1,
        },
    };
    let (train, _) = measure("dnn", json!({"embedding_dim": d, "hidden": [h1, h2]}), &cfg);
    let w = F * d + ND;
    let dense_params = w * h1 + h1 + h1 * h2 + h2 + h2 + 1;
    let u = distinct_rows(&batch());
    assert_eq!(train.optimizer_by_kind()["dense"], 16 * dense_params);
    assert_eq!(train.optimizer_by_kind()["embedding"], 7 * u * d);
}
