//! HoME (arXiv 2408.05430): the feature-gate is exactly 1 at initialization; the
//! hierarchy mask keeps a task's logits independent of other tasks' own experts and of
//! other categories' level-2 experts; HoME without its three fixes is CGC (same outputs
//! on the same weights, same FLOPs); a feature-gate costs its hand formula; batch
//! normalization's running statistics move in training steps only; gradients reach
//! every parameter once the gates' zero matrix has moved; labels never reach the output.

mod common;

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore};
use baselines::models::multitask::home::{Expert, HomeConfig};
use baselines::{gradient_norms, predict, registry, train_step, Cpu, Model, MultiTask};
use common::multitask::{mt_batch, mt_spec};
use dfdx::prelude::*;
use serde_json::json;

fn build(
    config: serde_json::Value,
    seed: u64,
) -> (Box<dyn Model<MultiTask, Cpu>>, ParamStore<Cpu>) {
    let mut store = ParamStore::new(Cpu::default(), seed);
    let m = registry::build::<MultiTask, _>("home", &config, &mt_spec(), &mut store).unwrap();
    (m, store)
}

fn column(z: &[f32], t: usize) -> Vec<f32> {
    z.iter().skip(t).step_by(3).copied().collect()
}

#[test]
fn the_feature_gate_is_exactly_one_at_initialization() {
    let cfg = HomeConfig::default();
    let mut gated = ParamStore::new(Cpu::default(), 0);
    let e = Expert::new(&mut gated.scope("e"), 10, &cfg);
    let mut plain = ParamStore::new(Cpu::default(), 0);
    let p = Expert::new(
        &mut plain.scope("e"),
        10,
        &HomeConfig {
            gates: false,
            ..cfg
        },
    );
    assert!(e.feature_gate.is_some() && p.feature_gate.is_none());
    let x: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
    let run = |store: &ParamStore<Cpu>, ex: &Expert| {
        let v = store.dev().tensor_from_vec(x.clone(), (4, 10));
        ex.forward::<Cpu, NoneTape>(store, v, &mut Ctx::default())
            .as_vec()
    };
    // Same names, same seed: the same linear and norm; the gate multiplies by 2σ(0) = 1.
    assert_eq!(run(&gated, &e), run(&plain, &p));
}

#[test]
fn the_hierarchy_masks_other_tasks_and_categories() {
    // Toy categories: passive = {task 0}, interactive = {tasks 1, 2}.
    let b = mt_batch(40, 3);
    let config = json!({"embedding_dim": 8});
    let perturbed = |prefix: &str| -> (Vec<f32>, Vec<f32>) {
        let (m, mut store) = build(config.clone(), 1);
        let base = predict(m.as_ref(), &store, &b).0;
        let (_, other) = build(config.clone(), 2);
        let changed = store.copy_from(&other, |n| n.starts_with(prefix).then(|| n.to_string()));
        assert!(changed > 0, "{prefix}");
        (base, predict(m.as_ref(), &store, &b).0)
    };
    let (base, after) = perturbed("home.level2.task1_expert0.");
    assert_eq!(column(&base, 0), column(&after, 0));
    assert_eq!(column(&base, 2), column(&after, 2));
    assert_ne!(column(&base, 1), column(&after, 1));
    let (base, after) = perturbed("home.level2.category1_expert0.");
    assert_eq!(
        column(&base, 0),
        column(&after, 0),
        "another category's experts"
    );
    assert_ne!(column(&base, 1), column(&after, 1));
    assert_ne!(column(&base, 2), column(&after, 2));
    // Level 1's global gate mixes every meta expert: z_g reaches every task.
    let (base, after) = perturbed("home.level1.category1_expert0.");
    assert_ne!(column(&base, 0), column(&after, 0));
}

#[test]
fn home_without_its_three_fixes_is_cgc() {
    let b = mt_batch(40, 4);
    let bare = json!({"embedding_dim": 8, "expert_dim": 10, "hierarchy": false, "gates": false,
                      "expert_norm": false, "meta_shared_experts": 2, "task_experts": 1, "tower": [6]});
    let (home, home_store) = build(bare, 5);
    let mut cgc_store = ParamStore::new(Cpu::default(), 6);
    let cgc = registry::build::<MultiTask, _>(
        "ple",
        &json!({"embedding_dim": 8, "levels": 1, "shared_experts": 2, "task_experts": 1,
                "expert_hidden": [10], "tower": [6]}),
        &mt_spec(),
        &mut cgc_store,
    )
    .unwrap();
    let rename = |n: &str| -> Option<String> {
        let n = n.replacen("home.", "ple.", 1);
        let n = n.replacen("ple.flat.global", "ple.level.0.shared_expert", 1);
        let n = n.replacen(".linear.", ".0.", 1);
        let n = regex_task_expert(&n);
        Some(n.replacen("ple.flat.task", "ple.level.0.gate", 1).replacen(
            ".gate.weight",
            ".weight",
            1,
        ))
    };
    let copied = cgc_store.copy_from(&home_store, rename);
    assert_eq!(copied, home_store.names().len(), "every weight has a twin");
    let (a, fa) = predict(home.as_ref(), &home_store, &b);
    let (c, fc) = predict(cgc.as_ref(), &cgc_store, &b);
    assert_eq!(a, c);
    assert_eq!(fa.forward_total(), fc.forward_total());
}

/// `ple.flat.task{t}_expert{j}` -> `ple.level.0.task{t}_expert{j}`.
fn regex_task_expert(n: &str) -> String {
    match n.strip_prefix("ple.flat.task") {
        Some(rest) if rest.contains("_expert") => format!("ple.level.0.task{rest}"),
        _ => n.to_string(),
    }
}

/// A feature-gate on an expert of input width W and rank r adds, per row, `2 W r`
/// (v B), `2 r W` (then A), W (sigmoid) and `2 W` (the doubling and the product).
#[test]
fn a_feature_gate_costs_its_hand_formula() {
    let (n, w, r) = (7u64, 10u64, 3u64);
    let cfg = HomeConfig {
        gate_rank: r as usize,
        ..HomeConfig::default()
    };
    let flops = |gates: bool| {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let e = Expert::new(
            &mut store.scope("e"),
            w as usize,
            &HomeConfig {
                gates,
                ..cfg.clone()
            },
        );
        let v = store
            .dev()
            .tensor_from_vec(vec![0.5; (n * w) as usize], (n as usize, w as usize));
        let mut ctx = Ctx::default();
        e.forward::<Cpu, NoneTape>(&store, v, &mut ctx);
        ctx.flops.forward_total()
    };
    assert_eq!(
        flops(true) - flops(false),
        n * (2 * w * r + 2 * r * w + w + 2 * w)
    );
}

#[test]
fn running_statistics_move_in_training_steps_only_and_gradients_reach_every_parameter() {
    let b = mt_batch(64, 5);
    let (m, mut store) = build(json!({"embedding_dim": 8}), 0);
    let before = store.named_buffers();
    assert!(!before.is_empty(), "BN buffers");
    predict(m.as_ref(), &store, &b);
    assert_eq!(store.named_buffers(), before, "evaluation leaves them");
    // At initialization the gates' B is zero, so A gets no gradient yet.
    let norms = gradient_norms(m.as_ref(), &store, &b);
    let zero: Vec<&String> = norms
        .iter()
        .filter(|(_, g)| *g == 0.0)
        .map(|(n, _)| n)
        .collect();
    assert!(
        !zero.is_empty() && zero.iter().all(|n| n.ends_with(".gate_a")),
        "{zero:?}"
    );
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    for _ in 0..3 {
        train_step(m.as_ref(), &mut store, &mut opt, &b);
    }
    assert_ne!(store.named_buffers(), before, "training moves them");
    for (name, g) in gradient_norms(m.as_ref(), &store, &b) {
        assert!(g > 0.0 && g.is_finite(), "no gradient reaches {name}");
    }
    // Labels never reach the output.
    let mut flipped = b.clone();
    flipped.labels.iter_mut().for_each(|y| *y = 1.0 - *y);
    assert_eq!(
        predict(m.as_ref(), &store, &flipped).0,
        predict(m.as_ref(), &store, &b).0
    );
}
