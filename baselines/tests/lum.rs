//! LUM (arXiv 2502.08309): shapes, candidate independence, group query = separate
//! single-query runs, the pre-training InfoNCE against a hand computation and its
//! decrease on the taste world, the frozen backbone (bit-identical parameters, no
//! ranking gradient), gradients of both steps, learning the taste against the
//! history-blind reference, the DLRM-alone switch, and the FLOP counter.

mod common;

use std::collections::BTreeSet;

use baselines::engine::{Ctx, Mat, OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::kinds::generative::{Exposure, Request};
use baselines::models::generative::lum::BACKBONE;
use baselines::models::generative::{Lum, LumConfig};
use baselines::{
    gradient_norms, predict, pretrain_gradient_norms, pretrain_step, registry, train_step, Cpu,
    Forward, GenBatch, GenSpec, Generative,
};
use common::gen::*;
use common::transformer::block_flops;
use dfdx::prelude::*;
use serde_json::json;

fn small() -> serde_json::Value {
    json!({"dim": 8, "heads": 2, "blocks": 1, "dropout": 0.0, "dlrm_dim": 8, "hidden": [8],
           "pretrain_epochs": 1})
}

fn lum(store: &mut ParamStore<Cpu>, spec: &GenSpec, config: serde_json::Value) -> Lum {
    let cfg: LumConfig = serde_json::from_value(config).unwrap();
    cfg.check().unwrap();
    Lum::new(store, spec, &cfg)
}

fn is_backbone(name: &str) -> bool {
    name.starts_with(&format!("{BACKBONE}."))
}

#[test]
fn shapes_of_interests_features_and_logits() {
    let world = TasteWorld::new();
    let spec = world.spec(6);
    let b = last_requests(&spec, &world.users(5, 4, 1));
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = lum(&mut store, &spec, small());
    // Two binary actions: four real action ids, all of them queried.
    assert_eq!(m.queries, vec![1, 2, 3, 4]);
    let bb = m.backbone.as_ref().unwrap();
    let mut ctx = Ctx::<Cpu>::default();
    let h: Mat<Cpu> = bb.history_outputs(&store, &b, &mut ctx);
    assert_eq!(*h.shape(), (5 * 2 * 6, 8));
    let o: Mat<Cpu> = bb.interests(&store, &b, &m.queries, &mut ctx);
    assert_eq!(*o.shape(), (5 * 4, 8));
    let f = m.frozen_features(&store, &b, &mut ctx);
    assert_eq!(*f.shape(), (5 * 4, 4 * 8 + 4));
    let (logits, _) = predict(&m, &store, &b);
    assert_eq!(logits.len(), 5 * 4 * 2);
    assert!(logits.iter().all(|x| x.is_finite()));
}

#[test]
fn candidates_are_scored_independently() {
    assert_candidates_independent("lum", small());
}

/// One pass with all N queries gives, for every row and query, the interest a pass with
/// that query alone gives; the queries differ from each other and read the history.
#[test]
fn group_query_equals_separate_single_query_runs() {
    let world = TasteWorld::new();
    let spec = world.spec(10);
    let b = last_requests(&spec, &world.users(6, 5, 2));
    let mut store = ParamStore::new(Cpu::default(), 1);
    let m = lum(
        &mut store,
        &spec,
        json!({"dim": 8, "heads": 2, "blocks": 2}),
    );
    let bb = m.backbone.as_ref().unwrap();
    let (n, d) = (m.queries.len(), 8);
    let mut ctx = Ctx::<Cpu>::default();
    let group = bb
        .interests::<Cpu, NoneTape>(&store, &b, &m.queries, &mut ctx)
        .as_vec();
    for (q, &a) in m.queries.iter().enumerate() {
        let single = bb
            .interests::<Cpu, NoneTape>(&store, &b, &[a], &mut ctx)
            .as_vec();
        for row in 0..b.size {
            let g = &group[(row * n + q) * d..(row * n + q + 1) * d];
            let s = &single[row * d..(row + 1) * d];
            let diff = g
                .iter()
                .zip(s)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(diff < 1e-5, "row {row}, condition {a}: {diff}");
        }
    }
    let q_diff = group[..d]
        .iter()
        .zip(&group[d..2 * d])
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    assert!(q_diff > 1e-4, "conditions 1 and 2 give the same interest");
    // Changing row 0's most recent exposure moves row 0's interests only.
    let mut changed = b.clone();
    let last = b.max_history - 1;
    changed.hist_items[last] = changed.hist_items[last] % world.n_items + 1;
    let after = bb
        .interests::<Cpu, NoneTape>(&store, &changed, &m.queries, &mut ctx)
        .as_vec();
    assert!(
        group[..n * d] != after[..n * d],
        "row 0 ignores its history"
    );
    assert_eq!(group[n * d..], after[n * d..], "another row moved");
}

fn req(time: i64, exposures: &[(u32, u32)]) -> Request {
    Request {
        time,
        exposures: exposures
            .iter()
            .map(|&(item, action)| Exposure { item, action })
            .collect(),
    }
}

/// The pre-training loss equals InfoNCE computed by hand (in f64) from the backbone's
/// condition outputs and the item table: `<o_m, e_k> / τ` over every real item token of
/// the batch, the other tokens of the positive's item and the other tokens of its own
/// row (user) hidden. Counting either as negatives gives a different value, so the
/// check sees both kinds of hiding.
#[test]
fn pretrain_loss_equals_hand_infonce() {
    let spec = GenSpec {
        n_items: 6,
        n_actions: 1,
        max_history: 3,
        max_candidates: 1,
    };
    let a = [
        req(1, &[(1, 2), (2, 1)]),
        req(2, &[(3, 2)]),
        req(3, &[(1, 1)]),
        req(4, &[(6, 2)]),
    ];
    let u = [req(1, &[(4, 1)]), req(2, &[(5, 2)])];
    let b = GenBatch::build(&spec, &[(&a[..], 2), (&a[..], 3), (&u[..], 1)]);
    let tau = 0.5f64;
    let mut store = ParamStore::new(Cpu::default(), 2);
    let m = lum(
        &mut store,
        &spec,
        json!({"dim": 8, "heads": 2, "blocks": 1, "dropout": 0.0, "temperature": tau}),
    );
    let mut ctx = Ctx::<Cpu>::default();
    let got = <Lum as Forward<Generative, Cpu>>::pretrain_loss::<NoneTape>(&m, &store, &b, &mut ctx)
        .unwrap()
        .as_vec()[0] as f64;
    let bb = m.backbone.as_ref().unwrap();
    let o = bb
        .history_outputs::<Cpu, NoneTape>(&store, &b, &mut ctx)
        .as_vec();
    let e = store.table(bb.items).weights();
    let (h, d) = (spec.max_history, 8);
    let slots: Vec<(usize, u32)> = (0..b.size * h)
        .filter(|&k| b.hist_items[k] != 0)
        .map(|k| (k, b.hist_items[k]))
        .collect();
    assert_eq!(slots.len(), 3 + 3 + 1);
    let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(a, b)| (a * b) as f64).sum::<f64>();
    let infonce = |hide_duplicates: bool, hide_row: bool| {
        let mut total = 0.0;
        for (m_, &(k, item)) in slots.iter().enumerate() {
            let row = k / h;
            let oc = &o[(row * 2 * h + 2 * (k % h)) * d..][..d];
            let logit = |t: u32| dot(oc, &e[t as usize * d..][..d]) / tau;
            let lse = slots
                .iter()
                .enumerate()
                .filter(|&(j, &(kj, t))| {
                    j == m_ || !((hide_duplicates && t == item) || (hide_row && kj / h == row))
                })
                .map(|(_, &(_, t))| logit(t).exp())
                .sum::<f64>()
                .ln();
            total += lse - logit(item);
        }
        total / slots.len() as f64
    };
    let want = infonce(true, true);
    assert!(
        (got - want).abs() < 1e-5 * want.abs().max(1.0),
        "{got} vs {want}"
    );
    assert!(
        (infonce(false, true) - want).abs() > 1e-3,
        "no duplicates to hide"
    );
    assert!(
        (infonce(true, false) - want).abs() > 1e-3,
        "no same-row items to hide"
    );
}

fn adam(lr: f32, weight_decay: f32) -> OptimConfig {
    OptimConfig {
        lr,
        weight_decay,
        sparse: SparseOptim::adam(lr),
    }
}

#[test]
fn pretraining_loss_decreases_on_the_taste_world() {
    let world = TasteWorld::new();
    let spec = world.spec(24);
    let batches = batches(&spec, &world.users(200, 8, 1), 64);
    let mut store = ParamStore::new(Cpu::default(), 3);
    let m = registry::build::<Generative, _>(
        "lum",
        &json!({"dim": 16, "heads": 2, "blocks": 1}),
        &spec,
        &mut store,
    )
    .unwrap();
    let mut opt = Optimizer::new(&adam(0.005, 0.0), &mut store);
    let mut means = Vec::new();
    for _ in 0..4 {
        let sum: f32 = batches
            .iter()
            .map(|b| {
                pretrain_step(m.as_ref(), &mut store, &mut opt, b)
                    .unwrap()
                    .loss
            })
            .sum();
        means.push(sum / batches.len() as f32);
    }
    eprintln!("lum pre-training loss by epoch: {means:?}");
    assert!(
        means[3] < means[0] - 0.1,
        "pre-training loss {means:?} does not decrease"
    );
}

/// Ranking training after pre-training, with the same optimizer (its moments full) and
/// decoupled weight decay, leaves every backbone parameter bit-identical while every
/// DLRM parameter moves.
#[test]
fn frozen_backbone_is_bit_identical_after_ranking_training() {
    let world = TasteWorld::new();
    let spec = world.spec(12);
    let batches = batches(&spec, &world.users(40, 5, 3), 32);
    let mut store = ParamStore::new(Cpu::default(), 4);
    let m = registry::build::<Generative, _>("lum", &small(), &spec, &mut store).unwrap();
    let mut opt = Optimizer::new(&adam(0.01, 0.1), &mut store);
    for b in &batches {
        pretrain_step(m.as_ref(), &mut store, &mut opt, b).unwrap();
    }
    let before = store.named_values();
    for _ in 0..2 {
        for b in &batches {
            train_step(m.as_ref(), &mut store, &mut opt, b);
        }
    }
    let after = store.named_values();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut frozen = 0;
    for ((name, v0), (_, v1)) in before.iter().zip(&after) {
        if is_backbone(name) {
            frozen += 1;
            assert_eq!(bits(v0), bits(v1), "{name} moved in ranking training");
        } else {
            assert_ne!(v0, v1, "{name} did not train");
        }
    }
    assert!(frozen > 0);
}

/// The pre-training loss reaches every backbone parameter and nothing of the DLRM; the
/// ranking loss reaches every DLRM parameter and nothing of the backbone.
#[test]
fn each_step_trains_its_own_parameters_only() {
    let world = TasteWorld::new();
    let spec = world.spec(12);
    let b = &batches(&spec, &world.users(16, 5, 3), 64)[0];
    let mut store = ParamStore::new(Cpu::default(), 5);
    let m = registry::build::<Generative, _>("lum", &small(), &spec, &mut store).unwrap();
    let pre = pretrain_gradient_norms(m.as_ref(), &store, b).unwrap();
    let rank = gradient_norms(m.as_ref(), &store, b);
    assert_eq!(pre.len(), rank.len());
    let mut seen = (0, 0);
    for ((name, p), (name_r, r)) in pre.iter().zip(&rank) {
        assert_eq!(name, name_r);
        if is_backbone(name) {
            seen.0 += 1;
            assert!(*p > 0.0, "pre-training does not reach {name}");
            assert_eq!(*r, 0.0, "the ranking loss reaches the frozen {name}");
        } else {
            seen.1 += 1;
            assert!(*r > 0.0, "the ranking loss does not reach {name}");
            assert_eq!(*p, 0.0, "pre-training reaches the DLRM's {name}");
        }
    }
    assert!(seen.0 > 0 && seen.1 > 0, "{seen:?}");
}

#[test]
fn learns_the_taste_and_beats_item_only() {
    assert_learns_taste(
        "lum",
        json!({"dim": 16, "heads": 2, "blocks": 1, "dlrm_dim": 16, "hidden": [32],
               "pretrain_epochs": 3}),
        3,
        0.1,
    );
}

/// `interests: false` is the DLRM alone: no backbone, no pre-training, the same
/// parameter count as `item_only` at the same widths.
#[test]
fn the_dlrm_alone_switch_drops_the_backbone() {
    let spec = TasteWorld::new().spec(8);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = registry::build::<Generative, _>(
        "lum",
        &json!({"interests": false, "dlrm_dim": 16, "hidden": [32]}),
        &spec,
        &mut store,
    )
    .unwrap();
    assert!(m.pretraining().is_none());
    assert!(store.names().iter().all(|n| !is_backbone(n)));
    let mut reference = ParamStore::new(Cpu::default(), 0);
    registry::build::<Generative, _>(
        "item_only",
        &json!({"dim": 16, "hidden": [32]}),
        &spec,
        &mut reference,
    )
    .unwrap();
    assert_eq!(store.counts(), reference.counts());
    let mut with = ParamStore::new(Cpu::default(), 0);
    let full = registry::build::<Generative, _>(
        "lum",
        &json!({"dlrm_dim": 16, "hidden": [32]}),
        &spec,
        &mut with,
    );
    let plan = full.unwrap().pretraining().expect("lum pre-trains");
    assert_eq!((plan.epochs, plan.trains), (3, &["lum.backbone"][..]));
    assert!(with.names().iter().any(|n| is_backbone(n)));
}

#[test]
fn bad_configs_are_rejected() {
    let spec = TasteWorld::new().spec(8);
    for bad in [
        json!({"dim": 10, "heads": 4}),
        json!({"temperature": 0.0}),
        json!({"blocks": 0}),
        json!({"hidden": [0]}),
        json!({"queries": 3}),
    ] {
        assert!(
            baselines::registry::validate::<baselines::Generative>("lum", &bad, &spec).is_err(),
            "{bad}"
        );
    }
}

/// Distinct ids of `ids` (the rows a step's sparse update touches).
fn distinct(ids: &[u32]) -> u64 {
    ids.iter().collect::<BTreeSet<_>>().len() as u64
}

/// Pre-training and ranking steps count what a hand formula gives: step 1 = token
/// lookups, interleave, the causal block over 2H tokens, final norm, condition rows,
/// 1/τ and the in-batch InfoNCE; step 3 = the frozen group-query pass over 2H + N tokens
/// and the similarities (forward only), then the DLRM (forward and backward) and BCE.
#[test]
fn flop_counter_matches_hand_formula() {
    let (d, h, f, dd, k1) = (8u64, 2u64, 16u64, 6u64, 5u64);
    let world = TasteWorld::new();
    let spec = world.spec(5);
    let logs = world.users(3, 3, 7);
    let b = last_requests(&spec, &logs);
    let (bs, hl, c, a) = (
        b.size as u64,
        b.max_history as u64,
        b.max_candidates as u64,
        b.n_actions as u64,
    );
    let n = 4u64; // 2^2 query conditions
    let mut store = ParamStore::new(Cpu::default(), 8);
    let m = lum(
        &mut store,
        &spec,
        json!({"dim": d, "heads": h, "blocks": 1, "ffn_mult": 2, "dropout": 0.0,
               "temperature": 0.5, "dlrm_dim": dd, "hidden": [k1]}),
    );
    let mut opt = Optimizer::new(&adam(0.01, 0.0), &mut store);
    let baselines::StepOutput { flops: pre, .. } =
        pretrain_step(&m, &mut store, &mut opt, &b).unwrap();
    let baselines::StepOutput { flops: rank, .. } = train_step(&m, &mut store, &mut opt, &b);
    let (_, eval) = predict(&m, &store, &b);

    // Step 1 over r = 2BH tokens, M real exposures.
    let mm = b.hist_items.iter().filter(|&&i| i != 0).count() as u64;
    let r = 2 * bs * hl;
    let (bf, bb) = block_flops(r, bs, 2 * hl, d, h, f);
    let pre_fwd = 2 * bs * hl * d
        + r * d
        + bf
        + 4 * r * d
        + mm * d
        + mm * d
        + (mm * d + 2 * mm * d * mm + mm * mm + 5 * mm * mm + 3 * mm);
    let pre_bwd = 2 * bs * hl * d
        + r * d
        + bb
        + 6 * r * d
        + mm * d
        + 2 * mm * d
        + (mm * d + 4 * mm * d * mm + 2 * mm * mm + 4 * mm * mm + mm);
    assert_eq!(pre.forward_total(), pre_fwd, "{:?}", pre.forward_by_kind());
    assert_eq!(
        pre.backward_total(),
        pre_bwd,
        "{:?}",
        pre.backward_by_kind()
    );
    let block = 2 * d + 4 * (d * d + d) + 2 * (d * f + f) + (f * d + d);
    let w = dd + n * d + n;
    let dlrm_dense = w * k1 + k1 + k1 * a + a;
    // Pre-training updates every dense value (the DLRM's with zero gradients) and the
    // rows of the condition and item tables it looked up.
    assert_eq!(
        pre.optimizer_by_kind()["dense"],
        14 * (block + d + dlrm_dense)
    );
    let rows = distinct(&b.hist_actions) + distinct(&b.hist_items);
    assert_eq!(pre.optimizer_by_kind()["embedding"], 14 * rows * d);

    // Step 3: the frozen pass over t = 2H + N tokens (forward only) ...
    let t = 2 * hl + n;
    let rt = bs * t;
    let (qf, _) = block_flops(rt, bs, t, d, h, f);
    let rc = bs * c;
    let frozen = 2 * bs * hl * d
        + 2 * bs * hl * d
        + bs * n * d
        + rt * d
        + qf
        + 4 * rt * d
        + bs * n * d
        + rc * d
        + 2 * rc * d * n
        + rc * n * d
        + rc * (n * d + n);
    // ... then the DLRM: its lookup, the concatenation, the MLP; and the loss.
    let dlrm_fwd =
        rc * dd + rc * w + (2 * rc * w * k1 + rc * k1) + rc * k1 + (2 * rc * k1 * a + rc * a);
    let dlrm_bwd = rc * dd
        + rc * w
        + (4 * rc * w * k1 + 2 * rc * k1)
        + rc * k1
        + (4 * rc * k1 * a + 2 * rc * a);
    let (loss_fwd, loss_bwd) = (9 * rc * a + rc * a, 5 * rc * a + 2 * rc * a);
    assert_eq!(
        eval.forward_total(),
        frozen + dlrm_fwd,
        "{:?}",
        eval.forward_by_kind()
    );
    assert_eq!(rank.forward_total(), frozen + dlrm_fwd + loss_fwd);
    assert_eq!(
        rank.backward_total(),
        dlrm_bwd + loss_bwd,
        "{:?}",
        rank.backward_by_kind()
    );
    // The frozen backbone is out of the ranking optimizer.
    assert_eq!(rank.optimizer_by_kind()["dense"], 14 * dlrm_dense);
    assert_eq!(
        rank.optimizer_by_kind()["embedding"],
        14 * distinct(&b.cand_items) * dd
    );
}
