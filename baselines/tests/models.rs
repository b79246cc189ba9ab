//! Properties every reference model must have: output shape, gradients reaching every
//! parameter, determinism from the seed, and learning (beating the constant predictor
//! on a small task whose labels depend on a user x item interaction).

mod common;
use common::{logloss, slice, toy_batch, toy_spec};

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::{gradient_norms, predict, train_step};
use baselines::{registry, Cpu, Ranking};

const MODELS: &[&str] = &["lr", "dnn", "dcnv2"];

#[test]
fn output_has_one_logit_per_example() {
    let dev = Cpu::default();
    let batch = toy_batch(37, 1);
    for name in MODELS {
        let mut store = ParamStore::new(dev.clone(), 0);
        let model =
            registry::build::<Ranking, _>(name, &serde_json::Value::Null, &toy_spec(), &mut store)
                .unwrap();
        let (logits, flops) = predict(model.as_ref(), &store, &batch);
        assert_eq!(logits.len(), 37, "{name}");
        assert!(logits.iter().all(|x| x.is_finite()), "{name}");
        assert!(flops.total() > 0, "{name} reported no FLOPs");
    }
}

#[test]
fn gradients_reach_every_parameter() {
    let dev = Cpu::default();
    let batch = toy_batch(64, 2);
    for name in MODELS {
        let mut store = ParamStore::new(dev.clone(), 0);
        let model =
            registry::build::<Ranking, _>(name, &serde_json::Value::Null, &toy_spec(), &mut store)
                .unwrap();
        // LR starts at zero, where its gradients are still nonzero (labels are not all 0.5).
        let norms = gradient_norms(model.as_ref(), &store, &batch);
        assert_eq!(norms.len(), store.names().len());
        for (param, norm) in norms {
            assert!(
                norm > 0.0 && norm.is_finite(),
                "{name}: no gradient reaches `{param}`"
            );
        }
    }
}

#[test]
fn same_seed_same_model_and_training() {
    let dev = Cpu::default();
    let batch = toy_batch(128, 3);
    for name in MODELS {
        let run = || {
            let mut store = ParamStore::new(dev.clone(), 7);
            let model = registry::build::<Ranking, _>(
                name,
                &serde_json::Value::Null,
                &toy_spec(),
                &mut store,
            )
            .unwrap();
            let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
            for _ in 0..3 {
                train_step(model.as_ref(), &mut store, &mut opt, &batch);
            }
            predict(model.as_ref(), &store, &batch).0
        };
        assert_eq!(run(), run(), "{name} is not deterministic");
    }
}

#[test]
fn each_model_beats_the_constant_predictor() {
    let dev = Cpu::default();
    let all = toy_batch(24_000, 4);
    let (train, test) = (slice(&all, 0, 20_000), slice(&all, 20_000, 24_000));
    let base = train.labels.iter().sum::<f32>() / train.size as f32;
    let constant = logloss(&vec![(base / (1.0 - base)).ln(); test.size], &test.labels);
    let mut results = Vec::new();
    for name in MODELS {
        let mut store = ParamStore::new(dev.clone(), 0);
        let model =
            registry::build::<Ranking, _>(name, &serde_json::Value::Null, &toy_spec(), &mut store)
                .unwrap();
        let cfg = OptimConfig {
            lr: 3e-3,
            weight_decay: 0.0,
            sparse: SparseOptim::adam(3e-2),
        };
        let mut opt = Optimizer::new(&cfg, &mut store);
        for _epoch in 0..4 {
            for lo in (0..train.size).step_by(256) {
                let b = slice(&train, lo, (lo + 256).min(train.size));
                let out = train_step(model.as_ref(), &mut store, &mut opt, &b);
                assert!(out.loss.is_finite());
            }
        }
        let ll = logloss(&predict(model.as_ref(), &store, &test).0, &test.labels);
        results.push((*name, ll));
    }
    eprintln!("constant {constant:.4}, models {results:?}");
    for (name, ll) in &results {
        assert!(
            *ll < constant - 0.01,
            "{name}: logloss {ll:.4} vs constant {constant:.4}"
        );
    }
    // The labels depend on a user x item interaction, which LR cannot represent.
    let lr = results[0].1;
    for (name, ll) in &results[1..] {
        assert!(
            *ll < lr - 0.01,
            "{name} ({ll:.4}) should beat LR ({lr:.4}) on an interaction task"
        );
    }
}
