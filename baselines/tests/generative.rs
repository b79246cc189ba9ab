//! The generative-ranking contract itself (`baselines::generative`) and the shared test
//! helpers: batches carry nothing of the target request's actions or of later requests,
//! bad exposures are refused, `candidate_bce` is the per-action BCE summed over actions
//! and averaged over real candidates, and the tests' AUC agrees with scikit-learn.

mod common;

use baselines::engine::Ctx;
use baselines::kinds::generative::{action_id, candidate_bce, Exposure, Request};
use baselines::{Cpu, GenBatch};
use common::gen::*;
use dfdx::prelude::*;

/// A batch's model inputs: everything but the labels.
fn inputs(b: &GenBatch) -> GenBatch {
    GenBatch {
        labels: Vec::new(),
        ..b.clone()
    }
}

#[test]
fn inputs_depend_only_on_the_past_and_the_target_items() {
    let world = TasteWorld::new();
    let spec = baselines::GenSpec {
        max_candidates: 3, // requests hold 4: one is cut
        ..world.spec(10)
    };
    let logs = world.users(12, 6, 7);
    let mut labels_moved = 0;
    for log in &logs {
        for r in 0..log.len() {
            let base = GenBatch::build(&spec, &[(&log[..], r)]);
            // The future dropped, every action of the target request changed, and the
            // exposure cut from the candidates replaced by another item.
            let mut other: Vec<Request> = log[..=r].to_vec();
            for e in other[r].exposures.iter_mut() {
                e.action = e.action % 4 + 1;
            }
            other[r].exposures[3] = Exposure {
                item: 1,
                action: action_id(&[true, true]),
            };
            let changed = GenBatch::build(&spec, &[(&other[..], r)]);
            assert_eq!(inputs(&base), inputs(&changed), "request {r}");
            labels_moved += (base.labels != changed.labels) as usize;
        }
    }
    assert_eq!(labels_moved, 12 * 6, "the labels did change every time");
}

fn log_with(history: Exposure, target: Exposure) -> Vec<Request> {
    let ok = Exposure { item: 1, action: 1 };
    vec![
        Request {
            time: 0,
            exposures: vec![ok, history],
        },
        Request {
            time: 10,
            exposures: vec![target, ok],
        },
    ]
}

fn build_one(log: &[Request]) -> GenBatch {
    GenBatch::build(&TasteWorld::new().spec(4), &[(log, 1)])
}

#[test]
fn well_formed_exposures_build() {
    let (item, action) = (60, action_id(&[true, true]));
    let b = build_one(&log_with(
        Exposure { item, action },
        Exposure { item, action },
    ));
    assert_eq!(b.n_candidates(), 2);
}

#[test]
#[should_panic(expected = "request 1, exposure 0: action id 5 outside 1..=4")]
fn a_candidate_action_beyond_the_actions_is_refused() {
    // Two actions: ids 1..=4. Id 5 would have set a third flag, silently dropped.
    let ok = Exposure { item: 1, action: 1 };
    build_one(&log_with(ok, Exposure { item: 2, action: 5 }));
}

#[test]
#[should_panic(expected = "request 0, exposure 1: item 0 outside 1..=60")]
fn a_history_exposure_of_item_0_is_refused() {
    // Item 0 is padding: the exposure would have vanished from the history.
    let ok = Exposure { item: 1, action: 1 };
    build_one(&log_with(Exposure { item: 0, action: 2 }, ok));
}

#[test]
#[should_panic(expected = "request 1, exposure 0: item 61 outside 1..=60")]
fn a_candidate_item_beyond_the_vocabulary_is_refused() {
    let ok = Exposure { item: 1, action: 1 };
    build_one(&log_with(
        ok,
        Exposure {
            item: 61,
            action: 1,
        },
    ));
}

#[test]
fn candidate_bce_sums_actions_and_averages_real_candidates() {
    // 2 examples x 3 slots x 2 actions; slot 2 of example 0 and slots 1-2 of example 1
    // are padding, with logits that would dominate the loss if they counted.
    let b = GenBatch {
        size: 2,
        max_candidates: 3,
        n_actions: 2,
        cand_items: vec![4, 7, 0, 9, 0, 0],
        labels: vec![1., 0., 0., 0., 0., 0., 1., 1., 0., 0., 0., 0.],
        ..Default::default()
    };
    let logits = vec![
        0.5, -1.0, 2.0, 0.3, 40.0, -40.0, -0.7, 1.5, 40.0, 40.0, -40.0, 9.0,
    ];
    let bce = |z: f64, y: f64| (1.0 + z.exp()).ln() - z * y;
    let real = [0usize, 1, 3];
    let want = real
        .iter()
        .flat_map(|&s| (0..2).map(move |k| s * 2 + k))
        .map(|i| bce(logits[i] as f64, b.labels[i] as f64))
        .sum::<f64>()
        / 3.0;
    let dev = Cpu::default();
    let z = dev.tensor_from_vec(logits, (6, 2));
    let mut ctx = Ctx::<Cpu>::training();
    let loss = candidate_bce(z.clone().leaky_traced(), &b, &mut ctx);
    assert!(
        (loss.as_vec()[0] as f64 - want).abs() < 1e-5,
        "{:?} vs {want}",
        loss.as_vec()
    );
    // d loss / d z = (σ(z) - y) / 3 on real slots, exactly 0 on padding.
    let grads = loss.backward();
    let g = grads.get(&z).as_vec();
    for slot in 0..6 {
        for k in 0..2 {
            let i = slot * 2 + k;
            if real.contains(&slot) {
                assert!(g[i].abs() > 1e-4, "real slot {slot} has no gradient");
            } else {
                assert_eq!(g[i], 0.0, "padding slot {slot} has a gradient");
            }
        }
    }
}

/// The AUC cases of the harness's scikit-learn fixtures (`roc_auc_score`, generated by
/// harness/tests/fixtures/make_metric_fixtures.py).
#[test]
fn test_auc_agrees_with_sklearn() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../harness/tests/fixtures/metrics.json"
    );
    let text = std::fs::read_to_string(path).expect("harness metric fixtures");
    let fixtures: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut checked = 0;
    for case in fixtures["auc"].as_array().unwrap() {
        let scores: Vec<f32> = serde_json::from_value(case["scores"].clone()).unwrap();
        let labels: Vec<f32> = serde_json::from_value(case["labels"].clone()).unwrap();
        let labels: Vec<bool> = labels.iter().map(|&l| l > 0.5).collect();
        let Some(want) = case["auc"].as_f64() else {
            let one_class = std::panic::catch_unwind(|| auc(&scores, &labels));
            assert!(one_class.is_err(), "{}: one class must panic", case["name"]);
            continue;
        };
        let got = auc(&scores, &labels);
        assert!(
            (got - want).abs() < 1e-12,
            "{}: {got} vs sklearn {want}",
            case["name"]
        );
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} cases");
}
