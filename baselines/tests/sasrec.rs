//! SASRec (arXiv 1808.09781): shapes, causality and padding, gradients, learning on the
//! Markov sequence task against popularity, and the FLOP counter against a hand formula.

mod common;

use std::collections::BTreeSet;

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore};
use baselines::models::retrieval::{SasRec, SasRecConfig};
use baselines::{predict, registry, train_step, Cpu, Retrieval};
use common::seq::*;
use dfdx::prelude::*;
use serde_json::json;

fn config(v: serde_json::Value) -> SasRecConfig {
    serde_json::from_value(v).unwrap()
}

/// States at every position (evaluation mode: no dropout), `batch * max_len * d`.
fn states(m: &SasRec, store: &ParamStore<Cpu>, b: &baselines::SeqBatch) -> Vec<f32> {
    let mut ctx = Ctx::<Cpu>::default();
    m.states::<Cpu, NoneTape>(store, &eval_view(b), &mut ctx)
        .as_vec()
}

#[test]
fn shapes_follow_the_contract() {
    assert_shapes("sasrec", json!({"dim": 16, "heads": 2}), 16, 1);
}

#[test]
fn later_items_and_padding_change_no_earlier_state() {
    let (l, d) = (8, 16);
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, l);
    let mut store = ParamStore::new(Cpu::default(), 1);
    let m = SasRec::new(&mut store, &spec, &config(json!({"dim": d, "heads": 2})));
    let b = markov_batch(&world, 6, l, 1, 2);
    assert_causal(|b| states(&m, &store, b), &b, d, 30);
    let base = states(&m, &store, &b);
    let c = scramble_padding(&mut store, m.emb.table, &b);
    assert_real_positions_equal(&base, &states(&m, &store, &c), &b, d);
}

#[test]
fn loss_ignores_positions_without_a_target() {
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, 6);
    for loss in ["bce", "sampled_softmax"] {
        let mut store = ParamStore::new(Cpu::default(), 2);
        let m = registry::build::<Retrieval, _>(
            "sasrec",
            &json!({"dim": 8, "dropout": 0.0, "loss": loss}),
            &spec,
            &mut store,
        )
        .unwrap();
        let b = markov_batch(&world, 8, 6, 2, 3);
        let mut c = b.clone();
        for (k, &t) in b.targets.iter().enumerate() {
            if t == 0 {
                c.negatives[k * 2] = 1 + (c.negatives[k * 2] % 30);
            }
        }
        let eval =
            |b: &baselines::SeqBatch| m.loss_train(&store, b, &mut Ctx::training()).as_vec()[0];
        assert_eq!(eval(&b), eval(&c), "{loss}");
        // ... while a negative at a real position does count.
        let k = b.targets.iter().position(|&t| t != 0).unwrap();
        c.negatives[k * 2] = c.negatives[k * 2] % 30 + 1;
        assert_ne!(eval(&b), eval(&c), "{loss}");
    }
}

#[test]
fn gradients_reach_every_parameter() {
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, 6);
    let b = markov_batch(&world, 8, 6, 2, 4);
    for loss in ["bce", "sampled_softmax"] {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let config = json!({"dim": 8, "heads": 2, "loss": loss});
        let m = registry::build::<Retrieval, _>("sasrec", &config, &spec, &mut store).unwrap();
        assert_gradients_reach_every_parameter(loss, m.as_ref(), &store, &b);
    }
}

#[test]
fn learns_the_markov_task_and_beats_popularity() {
    for loss in ["bce", "sampled_softmax"] {
        assert_learns_markov(
            "sasrec",
            json!({"dim": 16, "blocks": 1, "loss": loss}),
            1,
            3,
        );
    }
}

#[test]
fn flop_counter_matches_hand_formula() {
    let (bs, l, d, h, nb, k) = (3u64, 5u64, 8u64, 2u64, 2u64, 2u64);
    let world = MarkovWorld::new(20);
    let spec = seq_spec(20, l as usize);
    let mut store = ParamStore::new(Cpu::default(), 6);
    let m = registry::build::<Retrieval, _>(
        "sasrec",
        &json!({"dim": d, "heads": h, "blocks": nb, "dropout": 0.0}),
        &spec,
        &mut store,
    )
    .unwrap();
    let b = markov_batch(&world, bs as usize, l as usize, k as usize, 7);
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let baselines::StepOutput { flops: train, .. } =
        train_step(m.as_ref(), &mut store, &mut opt, &b);
    let (_, eval) = predict(m.as_ref(), &store, &eval_view(&b));

    let nn = bs * l; // positions
    let s = bs * h * l * l; // attention scores
    let dh = d / h;
    let n = b.n_targets() as u64; // positions with a target
                                  // Forward of the encoder: embedding gather, position add, padding mask; per block two
                                  // layer norms, q/k/v (matmul + bias), attention (two products, scale, softmax, mask
                                  // add), head merge copy (h > 1), two residuals, the ReLU FFN; a final layer norm.
    let block_fwd = 2 * 8 * nn * d
        + 3 * (2 * nn * d * d + nn * d)
        + (4 * s * dh + s + 5 * s + s)
        + nn * d
        + 2 * nn * d
        + 2 * (2 * nn * d * d + nn * d)
        + nn * d;
    let enc_fwd = nn * d + 2 * nn * d + nb * block_fwd + 8 * nn * d;
    let block_bwd = 2 * 14 * nn * d
        + 3 * (4 * nn * d * d + 2 * nn * d)
        + (8 * s * dh + s + 4 * s + 2 * s)
        + nn * d
        + 2 * 2 * nn * d
        + 2 * (4 * nn * d * d + 2 * nn * d)
        + nn * d;
    let enc_bwd = nn * d + 2 * 2 * nn * d + nb * block_bwd + 14 * nn * d;
    // Loss: gather of the n used states, target and negative lookups, dot products,
    // BCE on n (1 + k) scores.
    let loss_fwd = n * d + n * (1 + k) * d + 2 * n * (1 + k) * d + 9 * n * (1 + k);
    let loss_bwd = n * d + n * (1 + k) * d + 3 * n * (1 + k) * d + 5 * n * (1 + k);
    assert_eq!(
        eval.forward_total(),
        enc_fwd + bs * d,
        "eval: encoder + last-state copy"
    );
    assert_eq!(eval.backward_total(), 0);
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
    assert_eq!(
        eval.forward_by_kind()["attention"],
        nb * (4 * s * dh + s),
        "attention products and scale"
    );
    let dense = l * d + nb * (4 * d + 3 * (d * d + d) + 2 * (d * d + d)) + 2 * d;
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
    assert_eq!(train.optimizer_by_kind()["dense"], 14 * dense);
    assert_eq!(
        train.optimizer_by_kind()["embedding"],
        14 * rows.len() as u64 * d
    );
}

#[test]
fn bad_configs_are_rejected_with_the_field() {
    let spec = seq_spec(10, 4);
    let mut store = ParamStore::<Cpu>::new(Cpu::default(), 0);
    let mut err = |v| {
        registry::build::<Retrieval, _>("sasrec", &v, &spec, &mut store)
            .err()
            .unwrap()
            .to_string()
    };
    assert!(err(json!({"dim": 10, "heads": 3})).contains("divisible by heads"));
    assert!(err(json!({"dropuot": 0.1})).contains("dropuot"));
    assert!(err(json!({"loss": "hinge"})).contains("hinge"));
    assert!(registry::build::<Retrieval, Cpu>(
        "sasrek",
        &json!(null),
        &spec,
        &mut ParamStore::new(Cpu::default(), 0)
    )
    .err()
    .unwrap()
    .to_string()
    .contains("sasrec"));
}

#[test]
fn a_batch_trimmed_to_its_histories_gives_the_full_windows_outputs() {
    assert_trimmed_window_changes_nothing("sasrec", json!({"dim": 8, "heads": 2, "dropout": 0.0}));
}

/// The authors' code form (`form: "authors_code"`) keeps every property the paper
/// form has: causality and padding, gradients everywhere, trimming, learning.
#[test]
fn the_authors_code_form_keeps_the_contract() {
    let code = |v: serde_json::Value| {
        let mut v = v;
        v["form"] = json!("authors_code");
        v
    };
    let (l, d) = (8, 16);
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, l);
    let mut store = ParamStore::new(Cpu::default(), 1);
    let m = SasRec::new(
        &mut store,
        &spec,
        &config(code(json!({"dim": d, "heads": 2}))),
    );
    assert!(
        store.names().iter().any(|n| n.contains(".out.")),
        "output projection"
    );
    let b = markov_batch(&world, 6, l, 1, 2);
    assert_causal(|b| states(&m, &store, b), &b, d, 30);
    let base = states(&m, &store, &b);
    let c = scramble_padding(&mut store, m.emb.table, &b);
    assert_real_positions_equal(&base, &states(&m, &store, &c), &b, d);

    let b = markov_batch(&world, 8, 6, 2, 4);
    let mut store = ParamStore::new(Cpu::default(), 3);
    let m = registry::build::<Retrieval, _>(
        "sasrec",
        &code(json!({"dim": 8})),
        &seq_spec(30, 6),
        &mut store,
    )
    .unwrap();
    assert_gradients_reach_every_parameter("authors_code", m.as_ref(), &store, &b);
    assert_trimmed_window_changes_nothing("sasrec", code(json!({"dim": 8, "dropout": 0.0})));
    assert_learns_markov("sasrec", code(json!({"dim": 16, "blocks": 1})), 1, 3);
}

/// The authors' form costs exactly the paper form plus the `sqrt(d)` scale of the item
/// embeddings and one `d x d` output projection per block.
#[test]
fn the_authors_code_form_adds_only_the_scale_and_output_projection_to_the_flops() {
    let (bs, l, d, nb) = (3u64, 5u64, 8u64, 2u64);
    let world = MarkovWorld::new(20);
    let spec = seq_spec(20, l as usize);
    let b = eval_view(&markov_batch(&world, bs as usize, l as usize, 1, 7));
    let forward = |form: &str| {
        let mut store = ParamStore::new(Cpu::default(), 6);
        let cfg = json!({"dim": d, "blocks": nb, "dropout": 0.0, "form": form});
        let m = registry::build::<Retrieval, _>("sasrec", &cfg, &spec, &mut store).unwrap();
        predict(m.as_ref(), &store, &b).1.forward_total()
    };
    let nn = bs * l;
    let extra = nn * d + nb * (2 * nn * d * d + nn * d);
    assert_eq!(forward("authors_code"), forward("paper") + extra);
}
