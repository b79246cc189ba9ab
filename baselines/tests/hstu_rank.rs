//! HSTU as a generative ranker (arXiv 2402.17152; GenRank's baseline): the contract's
//! shapes and properties, causality inside the interleaved history, labels never read,
//! one shared candidate position, padding invariance, gradients, learning the hidden
//! taste beyond the history-blind reference, and the FLOP counter against a hand
//! formula.

mod common;

use std::collections::BTreeSet;

use baselines::engine::{OptimConfig, Optimizer, ParamStore};
use baselines::models::generative::gen_hstu::{GenHstuConfig, TokenRanker};
use baselines::models::generative::hstu_rank::HstuRank;
use baselines::{predict, registry, train_step, Cpu, GenBatch, Generative};
use common::gen::*;
use common::gen_hstu::*;
use serde_json::json;

fn model(store: &mut ParamStore<Cpu>, max_history: usize, v: serde_json::Value) -> HstuRank {
    let cfg: GenHstuConfig = serde_json::from_value(v).unwrap();
    HstuRank::new(store, &TasteWorld::new().spec(max_history), &cfg)
}

fn small() -> serde_json::Value {
    json!({"dim": 16, "heads": 2, "blocks": 2, "dropout": 0.0, "time_buckets": 32})
}

#[test]
fn shapes_follow_the_contract() {
    let b = mixed_batch(10);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = model(&mut store, 10, small());
    let t = m.tokens(&b);
    assert_eq!((t.len, t.history_len), (2 * 10 + 4, 20));
    assert_eq!(states(&m, &store, &b).len(), b.size * t.len * 16);
    let (logits, _) = predict(&m, &store, &b);
    assert_eq!(logits.len(), b.size * b.max_candidates * b.n_actions);
    assert!(logits.iter().all(|x| x.is_finite()));
}

#[test]
fn a_later_exposure_changes_no_earlier_token() {
    let b = mixed_batch(10);
    let mut store = ParamStore::new(Cpu::default(), 1);
    let m = model(&mut store, 10, small());
    assert_history_causal(&m, &store, &b, 16);
}

#[test]
fn labels_are_never_read_and_candidates_are_independent() {
    let b = mixed_batch(10);
    let mut store = ParamStore::new(Cpu::default(), 2);
    let m = model(&mut store, 10, small());
    assert_labels_never_read(&m, &store, &b);
    assert_candidates_independent("hstu_rank", small());
}

#[test]
fn candidates_share_one_position() {
    let b = mixed_batch(10);
    let mut store = ParamStore::new(Cpu::default(), 3);
    let m = model(&mut store, 10, small());
    assert_candidates_share_a_position(&m, &m, &store, &b);
}

#[test]
fn padding_changes_nothing_real() {
    let b = mixed_batch(10);
    let mut store = ParamStore::new(Cpu::default(), 4);
    let m = model(&mut store, 10, small());
    assert_padding_invariant(&m, &mut store, m.emb.items, &b);
}

#[test]
fn gradients_reach_every_parameter() {
    assert_gradients_reach_every_parameter("hstu_rank", small());
}

#[test]
fn learns_the_taste_that_only_the_history_shows() {
    assert_learns_taste(
        "hstu_rank",
        json!({"dim": 16, "heads": 2, "blocks": 1, "dropout": 0.0}),
        4,
        0.1,
    );
}

/// `hstu_rank`'s FLOP shape on `b`: 3 tables (item, action, position); per layer the
/// rab gathers (relative position `t^2`, time `b t^2`) and their sum (`b t^2`).
pub fn hstu_rank_shape(b: &GenBatch, d: u64, heads: u64, blocks: u64) -> FlopShape {
    let (bs, t) = (b.size as u64, (2 * b.max_history + b.max_candidates) as u64);
    FlopShape {
        b: bs,
        t,
        c: b.max_candidates as u64,
        d,
        heads,
        blocks,
        actions: b.n_actions as u64,
        lookups: 3,
        bias: (t * t + 2 * bs * t * t, t * t + 3 * bs * t * t),
    }
}

#[test]
fn flop_counter_matches_hand_formula() {
    let (d, heads, blocks, tb) = (8u64, 2u64, 2u64, 16u64);
    let b = mixed_batch(5);
    let mut store = ParamStore::new(Cpu::default(), 6);
    let config =
        json!({"dim": d, "heads": heads, "blocks": blocks, "dropout": 0.0, "time_buckets": tb});
    let m = registry::build::<Generative, _>(
        "hstu_rank",
        &config,
        &TasteWorld::new().spec(5),
        &mut store,
    )
    .unwrap();
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let (_, eval) = predict(m.as_ref(), &store, &b);
    let baselines::StepOutput { flops: train, .. } =
        train_step(m.as_ref(), &mut store, &mut opt, &b);
    let shape = hstu_rank_shape(&b, d, heads, blocks);
    let ((fwd, bwd), (lf, lb)) = (shape.model(), shape.loss());
    assert_eq!(eval.forward_total(), fwd, "{:?}", eval.forward_by_kind());
    assert_eq!(
        train.forward_total(),
        fwd + lf,
        "{:?}",
        train.forward_by_kind()
    );
    assert_eq!(
        train.backward_total(),
        bwd + lb,
        "{:?}",
        train.backward_by_kind()
    );
    // rab per layer: 2 P - 1 relative positions (P = 2 max_history + 1 ids), tb + 1 times.
    let p = 2 * b.max_history as u64 + 1;
    let dense = shape.dense_params(2 * p - 1 + tb + 1);
    assert_eq!(train.optimizer_by_kind()["dense"], 14 * dense);
    let t = HstuRank::tokens(
        &model(&mut ParamStore::new(Cpu::default(), 0), 5, small()),
        &b,
    );
    let distinct = |v: &[u32]| v.iter().collect::<BTreeSet<_>>().len() as u64;
    let rows = distinct(&t.items) + distinct(&t.actions) + p;
    assert_eq!(train.optimizer_by_kind()["embedding"], 14 * rows * d);
}
