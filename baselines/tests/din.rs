//! DIN (arXiv 1706.06978, Sec. 4.3, Eq. 3): the contract's shapes, candidates scored
//! independently, padding invisible, the unnormalised weighted sum of Eq. 3 (with the
//! activation unit forced to a constant it is that constant times the history's sum),
//! gradients, learning the taste from the history against the history-blind reference,
//! and the FLOP counter against a hand formula.

mod common;

use std::collections::BTreeSet;

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore};
use baselines::kinds::generative::action_id;
use baselines::models::generative::din::user_interest;
use baselines::models::generative::{Din, DinConfig};
use baselines::{predict, registry, train_step, Cpu, GenBatch, Generative, Model};
use common::gen::*;
use dfdx::prelude::*;
use serde_json::json;

fn small() -> serde_json::Value {
    json!({"dim": 8, "unit_hidden": [6], "hidden": [10, 5]})
}

fn model(store: &mut ParamStore<Cpu>, max_history: usize, config: serde_json::Value) -> Din {
    let cfg: DinConfig = serde_json::from_value(config).unwrap();
    Din::new(store, &TasteWorld::new().spec(max_history), &cfg)
}

/// Users with 3 requests of 4 exposures: the last request's history is 8 exposures, so
/// a history of 12 slots holds 4 padding slots per example.
fn padded_batch() -> GenBatch {
    let world = TasteWorld::new();
    last_requests(&world.spec(12), &world.users(6, 3, 5))
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The logits of the real candidate slots only (padding slots may hold anything).
fn real_logits(m: &Din, store: &ParamStore<Cpu>, b: &GenBatch) -> Vec<f32> {
    let (logits, _) = predict(m as &dyn Model<Generative, Cpu>, store, b);
    let a = b.n_actions;
    b.cand_items
        .iter()
        .enumerate()
        .filter(|(_, &i)| i != 0)
        .flat_map(|(slot, _)| logits[slot * a..(slot + 1) * a].to_vec())
        .collect()
}

#[test]
fn shapes_follow_the_contract() {
    let b = padded_batch();
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = model(&mut store, 12, small());
    let mut ctx = Ctx::default();
    let logits = m.output_eval(&store, &b, &mut ctx);
    assert_eq!(*logits.shape(), (b.size * b.max_candidates, b.n_actions));
    let (v_u, v_a) = m.interests::<Cpu, NoneTape>(&store, &b, &mut Ctx::default());
    assert_eq!(*v_u.shape(), (b.size * b.max_candidates, 8));
    assert_eq!(*v_a.shape(), (b.size * b.max_candidates, 8));
    assert!(logits.as_vec().iter().all(|x| x.is_finite()));
}

#[test]
fn config_is_checked() {
    let spec = TasteWorld::new().spec(4);
    assert!(registry::validate::<Generative>("din", &serde_json::Value::Null, &spec).is_ok());
    assert!(registry::validate::<Generative>("din", &json!({"dim": 0}), &spec).is_err());
    assert!(registry::validate::<Generative>("din", &json!({"hidden": [8, 0]}), &spec).is_err());
    assert!(registry::validate::<Generative>("din", &json!({"heads": 2}), &spec).is_err());
}

#[test]
fn candidates_are_scored_independently() {
    assert_candidates_independent("din", small());
}

#[test]
fn padded_candidates_stay_finite() {
    assert_padded_candidates_finite("din", small());
}

#[test]
fn padding_slots_and_padding_rows_change_nothing() {
    let b = padded_batch();
    let mut store = ParamStore::new(Cpu::default(), 1);
    let m = model(&mut store, 12, small());
    let base = real_logits(&m, &store, &b);

    // Everything but the item id of a padded history slot, scrambled.
    let mut c = b.clone();
    let mut padded = 0;
    for p in 0..c.hist_items.len() {
        if c.hist_items[p] == 0 {
            padded += 1;
            c.hist_actions[p] = 1 + (p as u32 % 4);
            c.hist_requests_ago[p] = 7;
            c.hist_times[p] = 123_456;
            c.hist_gap_buckets[p] = 9;
        }
    }
    assert_eq!(padded, b.size * 4, "the batch has padding to scramble");
    // The padding rows of both tables (item 0, action 0), made large.
    for table in [m.items, m.actions] {
        let mut w = store.table(table).weights();
        w[..8]
            .iter_mut()
            .enumerate()
            .for_each(|(k, x)| *x = 50.0 + k as f32);
        store.table_mut(table).set_weights(&w);
    }
    let after = real_logits(&m, &store, &c);
    assert!(
        max_abs_diff(&base, &after) < 1e-6,
        "padding moved the logits"
    );

    // The check can fail: one real exposure's action does move its row's logits.
    let real = c.hist_items.iter().position(|&i| i != 0).unwrap();
    let old = c.hist_actions[real];
    c.hist_actions[real] = if old == action_id(&[true, true]) {
        action_id(&[false, false])
    } else {
        action_id(&[true, true])
    };
    assert!(max_abs_diff(&base, &real_logits(&m, &store, &c)) > 1e-6);
}

/// `Σ_j e_j` over the real history slots of each example, `e_j` read from the tables.
fn history_sums(m: &Din, store: &ParamStore<Cpu>, b: &GenBatch) -> Vec<Vec<f64>> {
    let (items, actions) = (store.table(m.items), store.table(m.actions));
    (0..b.size)
        .map(|r| {
            let mut sum = vec![0.0f64; m.dim];
            for p in r * b.max_history..(r + 1) * b.max_history {
                if b.hist_items[p] != 0 {
                    let (i, a) = (b.hist_items[p] as usize, b.hist_actions[p] as usize);
                    for (k, s) in sum.iter_mut().enumerate() {
                        *s += (items.row(i)[k] + actions.row(a)[k]) as f64;
                    }
                }
            }
            sum
        })
        .collect()
}

#[test]
fn a_constant_activation_unit_pools_c_times_the_history_sum() {
    // Eq. 3 without softmax: a(e_j, v_A) = c for every j gives v_U = c Σ_j e_j. The unit's
    // output layer is set to weight 0 and bias c, so the whole model path is checked.
    let b = padded_batch();
    let mut store = ParamStore::new(Cpu::default(), 2);
    let m = model(&mut store, 12, small());
    let c = 1.7f32;
    store.set_mat(m.unit.output.w, vec![0.0; 6]);
    store.set_vec(m.unit.output.b, vec![c]);
    let (v_u, _) = m.interests::<Cpu, NoneTape>(&store, &b, &mut Ctx::default());
    let v_u = v_u.as_vec();
    let sums = history_sums(&m, &store, &b);
    for r in 0..b.size {
        for k in 0..b.max_candidates {
            for j in 0..m.dim {
                let got = v_u[(r * b.max_candidates + k) * m.dim + j] as f64;
                let want = c as f64 * sums[r][j];
                assert!(
                    (got - want).abs() < 1e-5,
                    "row {r} cand {k}: {got} vs {want}"
                );
            }
        }
    }
    // With softmax weights (summing to one) v_U would be a mean, not c times a sum.
    assert!(sums.iter().any(|s| s.iter().any(|x| x.abs() > 1e-3)));
}

#[test]
fn user_interest_is_the_masked_weighted_sum() {
    // The pooling alone, with distinct weights: Σ_j valid_j a_j e_j per candidate.
    let (size, cands, h, d) = (2usize, 3usize, 4usize, 5usize);
    let dev = Cpu::default();
    let e: Vec<f32> = (0..size * h * d).map(|x| (x as f32 * 0.37).sin()).collect();
    let a: Vec<f32> = (0..size * cands * h)
        .map(|x| (x as f32 * 0.91).cos() * 2.0)
        .collect();
    let valid = [false, true, true, true, false, false, true, true];
    let mut ctx = Ctx::<Cpu>::default();
    let got = user_interest::<Cpu, NoneTape>(
        dev.tensor_from_vec(a.clone(), (size * cands * h, 1)),
        dev.tensor_from_vec(e.clone(), (size * h, d)),
        &valid,
        size,
        cands,
        &mut ctx,
    )
    .as_vec();
    for r in 0..size {
        for k in 0..cands {
            for x in 0..d {
                let want: f32 = (0..h)
                    .filter(|&j| valid[r * h + j])
                    .map(|j| a[(r * cands + k) * h + j] * e[(r * h + j) * d + x])
                    .sum();
                let g = got[(r * cands + k) * d + x];
                assert!((g - want).abs() < 1e-5, "({r},{k},{x}): {g} vs {want}");
            }
        }
    }
    // A multiply per weight (the mask) and the weighted sum as a product.
    let n = (size * cands * h) as u64;
    assert_eq!(ctx.flops.forward_total(), n + 2 * n * d as u64);
}

#[test]
fn gradients_reach_every_parameter() {
    assert_gradients_reach_every_parameter("din", small());
}

#[test]
fn learns_the_taste_and_beats_item_only() {
    assert_learns_taste("din", serde_json::Value::Null, 6, 0.25);
}

#[test]
fn flop_counter_matches_hand_formula() {
    let (d, u, h1, h2) = (8u64, 6u64, 10u64, 5u64);
    let b = padded_batch();
    let mut store = ParamStore::new(Cpu::default(), 3);
    let m = model(&mut store, 12, small());
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let (_, eval) = predict(&m as &dyn Model<Generative, Cpu>, &store, &b);
    let baselines::StepOutput { flops: train, .. } = train_step(&m, &mut store, &mut opt, &b);

    let (bs, c, h, a) = (
        b.size as u64,
        b.max_candidates as u64,
        b.max_history as u64,
        b.n_actions as u64,
    );
    let (nh, nc) = (bs * h, bs * c);
    let np = nc * h; // (example, candidate, exposure) pairs
                     // Lookups: history items and actions, candidates; e_j = item + action.
    let emb = 2 * nh * d + nc * d;
    // Pairs: two row gathers, difference and product, three concatenations (8 d a row).
    // Unit: 4d -> u (matmul, bias, PReLU = ReLU + 3 elementwise) -> 1 (matmul, bias).
    // Eq. 3: mask multiply and the weighted sum as a product. Then [v_U, v_A] and the MLP
    // 2d -> h1 -> h2 -> a with PReLUs.
    let mlp_macs = 2 * d * h1 + h1 * h2 + h2 * a;
    let fwd = emb
        + nh * d
        + 2 * np * d
        + 2 * np * d
        + 8 * np * d
        + (2 * np * 4 * d * u + np * u + 4 * np * u + 2 * np * u + np)
        + (np + 2 * nc * h * d)
        + 2 * nc * d
        + (2 * nc * mlp_macs + nc * (h1 + h2 + a) + 4 * nc * (h1 + h2));
    let bwd = emb
        + 2 * nh * d
        + 2 * np * d
        + 4 * np * d
        + 8 * np * d
        + (4 * np * 4 * d * u + 2 * np * u + 7 * np * u + 4 * np * u + 2 * np)
        + (2 * np + 4 * nc * h * d)
        + 2 * nc * d
        + (4 * nc * mlp_macs + 2 * nc * (h1 + h2 + a) + 7 * nc * (h1 + h2));
    // candidate_bce: BCE (9 + 5 per value) and the padding mask (1 + 2 per value).
    let (loss_fwd, loss_bwd) = (10 * nc * a, 7 * nc * a);
    assert_eq!(
        eval.forward_total(),
        fwd,
        "forward {:?}",
        eval.forward_by_kind()
    );
    assert_eq!(eval.backward_total(), 0);
    assert_eq!(train.forward_total(), fwd + loss_fwd);
    assert_eq!(
        train.backward_total(),
        bwd + loss_bwd,
        "backward {:?}",
        train.backward_by_kind()
    );
    // Adam on every dense value; row-wise Adam on the distinct rows of each table.
    let dense =
        (4 * d * u + u + u + u + 1) + (2 * d * h1 + h1 + h1 + h1 * h2 + h2 + h2 + h2 * a + a);
    assert_eq!(train.optimizer_by_kind()["dense"], 14 * dense);
    let item_rows: BTreeSet<u32> = b.hist_items.iter().chain(&b.cand_items).copied().collect();
    let action_rows: BTreeSet<u32> = b.hist_actions.iter().copied().collect();
    assert_eq!(
        train.optimizer_by_kind()["embedding"],
        14 * (item_rows.len() + action_rows.len()) as u64 * d
    );
}
