//! The multi-task models (shared-bottom; MMoE, Ma et al., KDD 2018, Sec. 4.2-4.3; PLE and
//! its one-level form CGC, Tang et al., RecSys 2020, Sec. 4.2-4.3): output shapes, MMoE with one expert equals shared-bottom on the same
//! weights, gates are distributions over the experts, CGC's task gates route only to
//! their task's and the shared experts, labels never reach the output,
//! gradients reach every parameter, forward FLOPs match hand formulas, and each model
//! beats per-task constant predictors on the toy world.

mod common;

use baselines::engine::{OptimConfig, Optimizer, ParamStore};
use baselines::models::multitask::{Mmoe, MmoeConfig, SharedBottom, SharedBottomConfig};
use baselines::{gradient_norms, predict, registry, train_step, Cpu, Model, MultiTask};
use common::logloss;
use common::multitask::{mt_batch, mt_slice, mt_spec, task_labels};
use serde_json::json;

fn build(
    name: &str,
    config: serde_json::Value,
    seed: u64,
) -> (Box<dyn Model<MultiTask, Cpu>>, ParamStore<Cpu>) {
    let mut store = ParamStore::new(Cpu::default(), seed);
    let m = registry::build::<MultiTask, _>(name, &config, &mt_spec(), &mut store).unwrap();
    (m, store)
}

#[test]
fn outputs_are_size_by_tasks_and_labels_never_reach_them() {
    let b = mt_batch(50, 3);
    for name in ["shared_bottom", "mmoe", "ple", "home"] {
        let (m, store) = build(name, json!({}), 0);
        let (z, _) = predict(m.as_ref(), &store, &b);
        assert_eq!(z.len(), 50 * 3, "{name}");
        let mut flipped = b.clone();
        flipped.labels.iter_mut().for_each(|y| *y = 1.0 - *y);
        flipped.features.labels = vec![1.0; 50];
        assert_eq!(
            predict(m.as_ref(), &store, &flipped).0,
            z,
            "{name} read a label"
        );
    }
}

#[test]
fn mmoe_with_one_expert_is_shared_bottom_on_the_same_weights() {
    let b = mt_batch(40, 4);
    let mut sb_store = ParamStore::new(Cpu::default(), 1);
    let sb_cfg = SharedBottomConfig {
        embedding_dim: 8,
        bottom: vec![16, 12],
        tower: vec![6],
    };
    let sb = SharedBottom::new(&mut sb_store, &mt_spec(), &sb_cfg);
    let mut mm_store = ParamStore::new(Cpu::default(), 2);
    let mm_cfg = MmoeConfig {
        embedding_dim: 8,
        experts: 1,
        expert_hidden: vec![16, 12],
        tower: vec![6],
    };
    let mm = Mmoe::new(&mut mm_store, &mt_spec(), &mm_cfg);
    let copied = mm_store.copy_from(&sb_store, |n| {
        Some(
            n.replacen("shared_bottom.", "mmoe.", 1)
                .replacen("mmoe.bottom.", "mmoe.expert.0.", 1),
        )
    });
    assert_eq!(
        copied,
        sb_store.names().len(),
        "every shared-bottom weight has a twin"
    );
    let (a, _) = predict(&sb, &sb_store, &b);
    let (c, _) = predict(&mm, &mm_store, &b);
    assert_eq!(a, c);
}

#[test]
fn gates_are_distributions_over_the_experts() {
    let b = mt_batch(30, 5);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = Mmoe::new(&mut store, &mt_spec(), &MmoeConfig::default());
    let gates = m.gate_weights(&store, &b);
    assert_eq!(gates.len(), 3);
    for g in &gates {
        assert_eq!(g.len(), 30 * 4);
        for row in g.chunks(4) {
            assert!(row.iter().all(|&w| w > 0.0));
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
        }
    }
    // Different tasks' gates weigh the experts differently (their own parameters).
    assert_ne!(gates[0], gates[1]);
}

#[test]
fn gradients_reach_every_parameter() {
    let b = mt_batch(64, 6);
    // HoME: its gates' A matrices get gradients once B moved (tests/home.rs).
    for name in ["shared_bottom", "mmoe", "ple"] {
        let (m, store) = build(name, json!({}), 0);
        let norms = gradient_norms(m.as_ref(), &store, &b);
        assert_eq!(norms.len(), store.names().len());
        for (p, n) in norms {
            assert!(n > 0.0 && n.is_finite(), "{name}: no gradient reaches {p}");
        }
    }
}

/// Forward FLOPs of one evaluation pass, by the conventions of `engine::flops`: B rows,
/// F = 3 fields of width d, 2 dense inputs, W = F d + 2; T = 3 tasks; a linear layer
/// `a -> b` costs 2 B a b (matmul) + B b (bias), a ReLU B b; towers `h -> t1 -> 1`.
#[test]
fn forward_flops_match_the_hand_formulas() {
    let (bsz, f, t) = (40u64, 3u64, 3u64);
    let b = mt_batch(bsz as usize, 7);
    let (d, t1) = (8u64, 6u64);
    let w = f * d + 2;
    let embed = bsz * f * d + bsz * w;
    let tower = |h: u64| 2 * bsz * (h * t1 + t1) + bsz * (t1 + 1) + bsz * t1;
    let towers = |h: u64| t * tower(h) + bsz * t;

    let (h1, h2) = (16u64, 12u64);
    let (m, store) = build(
        "shared_bottom",
        json!({"embedding_dim": d, "bottom": [h1, h2], "tower": [t1]}),
        0,
    );
    let bottom = 2 * bsz * (w * h1 + h1 * h2) + 2 * bsz * (h1 + h2);
    let (_, flops) = predict(m.as_ref(), &store, &b);
    assert_eq!(flops.forward_total(), embed + bottom + towers(h2));

    let (e, h) = (4u64, 10u64);
    let (m, store) = build(
        "mmoe",
        json!({"embedding_dim": d, "experts": e, "expert_hidden": [h], "tower": [t1]}),
        0,
    );
    let gates = t * (2 * bsz * w * e + 5 * bsz * e);
    let experts = e * (2 * bsz * w * h + 2 * bsz * h);
    let mix = bsz * e * h + t * 2 * bsz * e * h;
    let (_, flops) = predict(m.as_ref(), &store, &b);
    assert_eq!(
        flops.forward_total(),
        embed + gates + experts + mix + towers(h)
    );

    // Training adds the loss over B x T entries and its scale by T.
    let mut store = store;
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let step = train_step(m.as_ref(), &mut store, &mut opt, &b).flops;
    let loss = 9 * bsz * t + 1;
    assert_eq!(
        step.forward_total(),
        embed + gates + experts + mix + towers(h) + loss
    );
}

#[test]
fn each_model_beats_per_task_constants() {
    let train = mt_batch(4000, 10);
    let test = mt_batch(1500, 11);
    for name in ["shared_bottom", "mmoe", "ple", "home"] {
        let (m, mut store) = build(name, json!({"embedding_dim": 8}), 0);
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
        for _ in 0..8 {
            for lo in (0..train.size()).step_by(200) {
                train_step(
                    m.as_ref(),
                    &mut store,
                    &mut opt,
                    &mt_slice(&train, lo, lo + 200),
                );
            }
        }
        let (z, _) = predict(m.as_ref(), &store, &test);
        for task in 0..2 {
            let y = task_labels(&test, task);
            let rate = task_labels(&train, task).iter().sum::<f32>() / train.size() as f32;
            let ours: Vec<f32> = (0..test.size()).map(|r| z[r * 3 + task]).collect();
            let constant = vec![(rate / (1.0 - rate)).ln(); test.size()];
            let (a, c) = (logloss(&ours, &y), logloss(&constant, &y));
            assert!(a < c - 0.01, "{name} task {task}: {a} vs constant {c}");
        }
    }
}

/// CGC (PLE with one level): task k's gate mixes only its own and the shared experts,
/// so another task's experts cannot move task k's logits; with two levels the shared
/// gate passes them on.
#[test]
fn cgc_gates_route_only_to_their_task_and_the_shared_experts() {
    let b = mt_batch(40, 8);
    let logits = |levels: usize, bump: bool| -> Vec<f32> {
        let config = json!({"levels": levels, "embedding_dim": 8});
        let (m, mut store) = build("ple", config.clone(), 3);
        if bump {
            // Task 1's first expert of level 0 takes another seed's values.
            let (_, other) = build("ple", config, 4);
            let changed = store.copy_from(&other, |n| {
                n.starts_with("ple.level.0.task1_expert0.")
                    .then(|| n.to_string())
            });
            assert_eq!(changed, 2, "its weight and bias");
        }
        predict(m.as_ref(), &store, &b).0
    };
    for levels in [1, 2] {
        let (base, bumped) = (logits(levels, false), logits(levels, true));
        let col =
            |z: &[f32], t: usize| -> Vec<f32> { z.iter().skip(t).step_by(3).copied().collect() };
        assert_ne!(
            col(&base, 1),
            col(&bumped, 1),
            "task 1 reads its own expert"
        );
        if levels == 1 {
            assert_eq!(
                col(&base, 0),
                col(&bumped, 0),
                "task 0 must not read task 1's expert"
            );
            assert_eq!(col(&base, 2), col(&bumped, 2));
        } else {
            assert_ne!(
                col(&base, 0),
                col(&bumped, 0),
                "the shared gate passes it on"
            );
        }
    }
}

/// CGC's forward FLOPs: T tasks with m_t experts each and m_s shared experts of one
/// hidden layer h on the input width W; task gates over m_t + m_s experts; towers.
#[test]
fn cgc_forward_flops_match_the_hand_formula() {
    let (bsz, f, t) = (40u64, 3u64, 3u64);
    let b = mt_batch(bsz as usize, 9);
    let (d, h, t1, m_t, m_s) = (8u64, 10u64, 6u64, 2u64, 3u64);
    let w = f * d + 2;
    let (m, store) = build(
        "ple",
        json!({"embedding_dim": d, "levels": 1, "task_experts": m_t, "shared_experts": m_s,
               "expert_hidden": [h], "tower": [t1]}),
        0,
    );
    let e = m_t + m_s;
    let embed = bsz * f * d + bsz * w;
    let experts = (t * m_t + m_s) * (2 * bsz * w * h + 2 * bsz * h);
    let gates = t * (2 * bsz * w * e + 5 * bsz * e);
    let mix = t * (bsz * e * h + 2 * bsz * e * h);
    let towers = t * (2 * bsz * (h * t1 + t1) + bsz * (t1 + 1) + bsz * t1) + bsz * t;
    let (_, flops) = predict(m.as_ref(), &store, &b);
    assert_eq!(
        flops.forward_total(),
        embed + experts + gates + mix + towers
    );
}

#[test]
fn configs_that_would_leave_an_input_unused_are_rejected() {
    let mut store = ParamStore::new(Cpu::default(), 0);
    for (name, config) in [
        ("ple", json!({"shared_experts": 0})),
        ("ple", json!({"task_experts": 0})),
        ("home", json!({"task_experts": 0})),
        ("home", json!({"global_experts": 0})),
    ] {
        let err = registry::build::<MultiTask, _>(name, &config, &mt_spec(), &mut store).err();
        assert!(err.is_some(), "{name} {config}");
    }
}
