//! HSTU (arXiv 2402.17152, Sec. 3.1): a hand computation of one layer on a tiny case,
//! time buckets, causality and padding, the time bias being live, gradients, learning
//! on the Markov task against popularity, and the FLOP counter against a hand formula.

mod common;

use std::collections::BTreeSet;

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore};
use baselines::layers::time_bucket;
use baselines::layers::{Linear, Norm};
use baselines::models::retrieval::{Hstu, HstuConfig};
use baselines::{predict, registry, train_step, Cpu, Retrieval, SeqBatch};
use common::seq::*;
use dfdx::prelude::NoneTape;
use serde_json::json;

fn model(store: &mut ParamStore<Cpu>, n: u32, l: usize, v: serde_json::Value) -> Hstu {
    let cfg: HstuConfig = serde_json::from_value(v).unwrap();
    Hstu::new(store, &seq_spec(n, l), &cfg)
}

fn states(m: &Hstu, store: &ParamStore<Cpu>, b: &SeqBatch) -> Vec<f32> {
    let mut ctx = Ctx::<Cpu>::default();
    m.states::<Cpu, NoneTape>(store, &eval_view(b), &mut ctx)
        .as_vec()
}

fn silu(x: f64) -> f64 {
    x / (1.0 + (-x).exp())
}

fn layer_norm(x: &[f64], store: &ParamStore<Cpu>, n: &Norm) -> Vec<f64> {
    let g = store.vec(n.gamma).as_vec();
    let b = store.vec(n.beta.unwrap()).as_vec();
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
    x.iter()
        .enumerate()
        .map(|(j, v)| (v - mean) / (var + 1e-6).sqrt() * g[j] as f64 + b[j] as f64)
        .collect()
}

fn linear(x: &[f64], store: &ParamStore<Cpu>, lin: &Linear) -> Vec<f64> {
    let w = store.mat(lin.w).as_vec();
    let b = store.vec(lin.b).as_vec();
    (0..lin.out)
        .map(|j| {
            b[j] as f64
                + (0..lin.inp)
                    .map(|i| x[i] * w[i * lin.out + j] as f64)
                    .sum::<f64>()
        })
        .collect()
}

#[test]
fn one_layer_without_bias_matches_a_hand_computation() {
    let (l, d) = (3, 2);
    let mut store = ParamStore::new(Cpu::default(), 11);
    let m = model(
        &mut store,
        9,
        l,
        json!({"dim": d, "blocks": 1, "dropout": 0.0, "position_bias": false, "time_bias": false}),
    );
    let items = [0u32, 5, 7]; // one padded position, then two items
    let b = SeqBatch {
        size: 1,
        max_len: l,
        items: items.to_vec(),
        times: vec![0, 10, 20],
        ..Default::default()
    };
    let table = store.table(m.emb.table).weights();
    let pos = store.mat(m.emb.positions.unwrap()).as_vec();
    let x0: Vec<Vec<f64>> = (0..l)
        .map(|p| {
            (0..d)
                .map(|j| {
                    let i = items[p] as usize;
                    if i == 0 {
                        0.0
                    } else {
                        (table[i * d + j] + pos[p * d + j]) as f64
                    }
                })
                .collect()
        })
        .collect();
    let layer = &m.layers[0];
    let proj = |lin: &Linear| -> Vec<Vec<f64>> {
        x0.iter()
            .map(|x| {
                linear(&layer_norm(x, &store, &layer.norm_in), &store, lin)
                    .into_iter()
                    .map(silu)
                    .collect()
            })
            .collect()
    };
    let (u, v, q, k) = (
        proj(&layer.u),
        proj(&layer.v),
        proj(&layer.q),
        proj(&layer.k),
    );
    let mut want = Vec::new();
    for i in 0..l {
        let mut av = vec![0.0; d];
        for j in 0..l {
            let visible = j == i || (j < i && items[j] != 0);
            if visible {
                let s: f64 = (0..d).map(|c| q[i][c] * k[j][c]).sum();
                let a = silu(s) / l as f64;
                (0..d).for_each(|c| av[c] += a * v[j][c]);
            }
        }
        let gated: Vec<f64> = layer_norm(&av, &store, &layer.norm_attn)
            .iter()
            .zip(&u[i])
            .map(|(a, b)| a * b)
            .collect();
        let y = linear(&gated, &store, &layer.out);
        want.extend(x0[i].iter().zip(y).map(|(x, y)| x + y));
    }
    let got = states(&m, &store, &b);
    for (g, w) in got.iter().zip(&want) {
        assert!((*g as f64 - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
}

#[test]
fn shapes_follow_the_contract() {
    assert_shapes("hstu", json!({"dim": 16, "heads": 2}), 16, 1);
}

#[test]
fn time_buckets_are_log_scaled_and_clamped() {
    assert_eq!(time_bucket(0, 128), 0);
    assert_eq!(time_bucket(1, 128), 0);
    assert_eq!(time_bucket(-2, 128), 2); // ln 2 / 0.301 = 2.30
    assert_eq!(time_bucket(3600, 128), 27); // ln 3600 / 0.301 = 27.2
    assert_eq!(time_bucket(i64::MAX, 128), 128);
    assert_eq!(time_bucket(3600, 8), 8);
}

#[test]
fn later_items_and_padding_change_no_earlier_state_and_time_matters() {
    let (l, d) = (8, 16);
    let world = MarkovWorld::new(30);
    let mut store = ParamStore::new(Cpu::default(), 1);
    let m = model(
        &mut store,
        30,
        l,
        json!({"dim": d, "heads": 2, "time_buckets": 16}),
    );
    let b = markov_batch(&world, 6, l, 1, 2);
    assert_causal(|b| states(&m, &store, b), &b, d, 30);
    // The time bias is live: stretching the gaps between real events moves the states.
    let base = states(&m, &store, &b);
    let mut c = b.clone();
    c.times.iter_mut().for_each(|t| *t *= 1000);
    assert!(max_abs_diff(&base, &states(&m, &store, &c)) > 1e-5);
    let c = scramble_padding(&mut store, m.emb.table, &b);
    assert_real_positions_equal(&base, &states(&m, &store, &c), &b, d);
}

#[test]
fn gradients_reach_every_parameter() {
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, 6);
    let b = markov_batch(&world, 8, 6, 2, 4);
    for loss in ["bce", "sampled_softmax"] {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let config = json!({"dim": 8, "heads": 2, "loss": loss});
        let m = registry::build::<Retrieval, _>("hstu", &config, &spec, &mut store).unwrap();
        let names = assert_gradients_reach_every_parameter(loss, m.as_ref(), &store, &b);
        assert!(names.iter().any(|n| n.ends_with("rab_time")));
    }
}

#[test]
fn learns_the_markov_task_and_beats_popularity() {
    assert_learns_markov("hstu", json!({"dim": 16, "blocks": 1}), 4, 3);
}

#[test]
fn flop_counter_matches_hand_formula() {
    let (bs, l, d, h, nb, k, tb) = (3u64, 5u64, 8u64, 2u64, 2u64, 2u64, 16u64);
    let world = MarkovWorld::new(20);
    let spec = seq_spec(20, l as usize);
    let mut store = ParamStore::new(Cpu::default(), 6);
    let m = registry::build::<Retrieval, _>(
        "hstu",
        &json!({"dim": d, "heads": h, "blocks": nb, "dropout": 0.0, "time_buckets": tb}),
        &spec,
        &mut store,
    )
    .unwrap();
    let b = markov_batch(&world, bs as usize, l as usize, k as usize, 7);
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let baselines::StepOutput { flops: train, .. } =
        train_step(m.as_ref(), &mut store, &mut opt, &b);
    let (_, eval) = predict(m.as_ref(), &store, &eval_view(&b));

    let nn = bs * l;
    let s = bs * h * l * l;
    let dh = d / h;
    let n = b.n_targets() as u64;
    // Per layer: input layer norm; U, V, Q, K (matmul, bias, SiLU = sigmoid + product);
    // rab (position gather L^2, time gather B L^2, their sum B L^2); pointwise attention
    // (two products, 4 per score) and the rab add (1 per score); head merge copy; the
    // attention-output layer norm; the gate; f2; the residual.
    let layer_fwd = 8 * nn * d
        + 4 * (2 * nn * d * d + nn * d + 2 * nn * d)
        + (l * l + 2 * bs * l * l)
        + (2 * s * 2 * dh + 4 * s + s)
        + nn * d
        + 8 * nn * d
        + nn * d
        + (2 * nn * d * d + nn * d)
        + nn * d;
    let layer_bwd = 14 * nn * d
        + 4 * (4 * nn * d * d + 2 * nn * d + 3 * nn * d)
        + (l * l + 3 * bs * l * l)
        + (4 * s * 2 * dh + 6 * s + 2 * s)
        + nn * d
        + 14 * nn * d
        + 2 * nn * d
        + (4 * nn * d * d + 2 * nn * d)
        + 2 * nn * d;
    let enc_fwd = 3 * nn * d + nb * layer_fwd;
    let enc_bwd = 5 * nn * d + nb * layer_bwd;
    // Sampled softmax: gather, lookups, dot products, concatenation, cross-entropy.
    let c = 1 + k;
    let loss_fwd = n * d + n * c * d + 2 * n * c * d + n * c + 5 * n * c + 3 * n;
    let loss_bwd = n * d + n * c * d + 3 * n * c * d + n * c + 4 * n * c + n;
    assert_eq!(
        eval.forward_total(),
        enc_fwd + bs * d,
        "{:?}",
        eval.forward_by_kind()
    );
    assert_eq!(
        train.forward_total(),
        enc_fwd + loss_fwd,
        "{:?}",
        train.forward_by_kind()
    );
    assert_eq!(
        train.backward_total(),
        enc_bwd + loss_bwd,
        "{:?}",
        train.backward_by_kind()
    );
    let dense = l * d + nb * (4 * d + 5 * (d * d + d) + (2 * l - 1) + (tb + 1));
    assert_eq!(train.optimizer_by_kind()["dense"], 14 * dense);
    let rows: BTreeSet<u32> = b
        .items
        .iter()
        .chain(b.targets.iter().filter(|&&t| t != 0))
        .chain(
            b.targets
                .iter()
                .enumerate()
                .filter(|(_, &t)| t != 0)
                .flat_map(|(p, _)| b.negatives[p * k as usize..(p + 1) * k as usize].iter()),
        )
        .copied()
        .collect();
    assert_eq!(
        train.optimizer_by_kind()["embedding"],
        14 * rows.len() as u64 * d
    );
}

#[test]
fn a_batch_trimmed_to_its_histories_gives_the_full_windows_outputs() {
    // n of the pointwise attention stays the model's max_len in the shorter window.
    assert_trimmed_window_changes_nothing("hstu", json!({"dim": 8, "heads": 2, "dropout": 0.0}));
}
