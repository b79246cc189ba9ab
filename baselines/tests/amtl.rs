//! AMTL (arXiv 2108.11513, spec section 5g) and the MDE baseline (arXiv 1909.11810):
//! the all-ones mask is the plain embedding, the forward is a hard truncation at the
//! argmax width, gradients reach both AMLs and every parameter, the model learns, MDE's
//! widths follow its documented rule with masked dims never trained, and the FLOP
//! counter matches a hand formula for the layer.

mod common;
use common::{logloss, slice, toy_batch_with, Users};

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::layers::frequency::{mde_width, ranks};
use baselines::layers::EmbeddingStrategy;
use baselines::models::ranking::{AmtlDnn, AmtlDnnConfig};
use baselines::{gradient_norms, predict, train_step};
use baselines::{registry, Batch, Cpu, FeatureSpec, Ranking};
use serde_json::json;

const VOCABS: [u32; 3] = [60, 40, 7];

fn counts(b: &Batch) -> Vec<Vec<u32>> {
    let mut c: Vec<Vec<u32>> = VOCABS.iter().map(|&v| vec![0; v as usize]).collect();
    for row in b.sparse.chunks_exact(b.n_sparse) {
        for (f, &id) in row.iter().enumerate() {
            c[f][id as usize] += 1;
        }
    }
    c
}

fn spec(train: &Batch) -> FeatureSpec {
    FeatureSpec {
        sparse: vec![
            ("user".into(), 60),
            ("item".into(), 40),
            ("noise".into(), 7),
        ],
        dense: vec!["d0".into(), "d1".into()],
        frequencies: Some(counts(train)),
        pairs: None,
    }
}

fn amtl_cfg(d: usize, force_width: Option<usize>) -> AmtlDnnConfig {
    AmtlDnnConfig {
        embedding_dim: d,
        hidden: vec![16],
        aml_hidden: 8,
        temperature: 1.0,
        force_width,
    }
}

#[test]
fn amtl_needs_training_frequencies() {
    let mut s = spec(&toy_batch_with(10, 1, Users::Skewed));
    s.frequencies = None;
    let mut store = ParamStore::new(Cpu::default(), 0);
    // Validation (before the split) passes; building without counts is an error.
    assert!(
        baselines::registry::validate::<baselines::Ranking>("amtl_dnn", &json!({}), &s).is_ok()
    );
    let err = registry::build::<Ranking, _>("amtl_dnn", &json!({}), &s, &mut store)
        .err()
        .unwrap();
    assert!(err.to_string().contains("frequencies"), "{err}");
    let mde = json!({"embedding": {"kind": "mde"}});
    assert!(registry::build::<Ranking, _>("dnn", &mde, &s, &mut store).is_err());
}

#[test]
fn all_ones_mask_equals_the_plain_embedding() {
    let batch = toy_batch_with(97, 11, Users::Skewed);
    let s = spec(&batch);
    let dev = Cpu::default();
    let mut s_dnn = ParamStore::new(dev.clone(), 3);
    let dnn = registry::build::<Ranking, _>(
        "dnn",
        &json!({"embedding_dim": 8, "hidden": [16]}),
        &s,
        &mut s_dnn,
    )
    .unwrap();
    let mut s_amtl = ParamStore::new(dev, 3);
    let cfg = json!({"embedding_dim": 8, "hidden": [16], "aml_hidden": 8, "force_width": 8});
    let amtl = registry::build::<Ranking, _>("amtl_dnn", &cfg, &s, &mut s_amtl).unwrap();
    // The DNN's table and MLP in the AMTL model (its AMLs keep their own values).
    let copied = s_amtl.copy_from(&s_dnn, |n| {
        n.strip_prefix("dnn.").map(|r| format!("amtl_dnn.{r}"))
    });
    assert_eq!(copied, s_dnn.names().len());
    assert_eq!(s_dnn.tables()[0].weights(), s_amtl.tables()[0].weights());
    let a = predict(dnn.as_ref(), &s_dnn, &batch).0;
    let b = predict(amtl.as_ref(), &s_amtl, &batch).0;
    assert_eq!(a, b);
}

#[test]
fn forward_equals_a_hard_truncation_at_the_argmax_width() {
    let batch = toy_batch_with(200, 12, Users::Skewed);
    let s = spec(&batch);
    let d = 8;
    let dev = Cpu::default();
    let mut store = ParamStore::new(dev.clone(), 5);
    let model = AmtlDnn::new(&mut store, &s, &amtl_cfg(d, None));
    let widths = model.amtl.widths(&store);
    assert_eq!(widths.len(), 107);
    assert!(widths.iter().all(|&k| (1..=d as u32).contains(&k)));
    let distinct: std::collections::BTreeSet<_> = widths.iter().collect();
    eprintln!("widths {distinct:?}");
    assert_eq!(
        model.used_embedding_values(&store),
        widths.iter().map(|&k| k as u64).sum::<u64>()
    );
    // The same model with a constant all-ones mask over a table whose rows are cut at
    // k_v (values past k_v set to 0) computes the same logits.
    let mut cut_store = ParamStore::new(dev, 5);
    let cut = AmtlDnn::new(&mut cut_store, &s, &amtl_cfg(d, Some(d)));
    let mut table = store.tables()[0].weights();
    for (r, &k) in widths.iter().enumerate() {
        for x in &mut table[r * d + k as usize..(r + 1) * d] {
            *x = 0.0;
        }
    }
    cut_store.tables_mut()[0].set_weights(&table);
    let a = predict(&model, &store, &batch).0;
    let b = predict(&cut, &cut_store, &batch).0;
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
    }
    // Some ids are cut (widths below d), so the mask matters: the untruncated table
    // with an all-ones mask gives other logits.
    assert!(widths.iter().any(|&k| k < d as u32));
    let untruncated = predict(&cut, &store, &batch).0;
    assert_ne!(a, untruncated);
}

#[test]
fn gradients_reach_both_amls_and_every_parameter() {
    let batch = toy_batch_with(256, 13, Users::Skewed);
    let s = spec(&batch);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let model = registry::build::<Ranking, _>("amtl_dnn", &json!({}), &s, &mut store).unwrap();
    let norms = gradient_norms(model.as_ref(), &store, &batch);
    assert_eq!(norms.len(), store.names().len());
    for aml in ["h_aml", "l_aml"] {
        assert!(
            norms.iter().any(|(n, _)| n.contains(aml)),
            "no {aml} params"
        );
    }
    for (param, norm) in norms {
        assert!(
            norm > 0.0 && norm.is_finite(),
            "no gradient reaches `{param}`"
        );
    }
}

#[test]
fn amtl_dnn_beats_the_constant_predictor() {
    let all = toy_batch_with(24_000, 4, Users::Skewed);
    let (train, test) = (slice(&all, 0, 20_000), slice(&all, 20_000, 24_000));
    let s = spec(&train);
    let base = train.labels.iter().sum::<f32>() / train.size as f32;
    let constant = logloss(&vec![(base / (1.0 - base)).ln(); test.size], &test.labels);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let model = AmtlDnn::new(&mut store, &s, &AmtlDnnConfig::default());
    let cfg = OptimConfig {
        lr: 3e-3,
        weight_decay: 0.0,
        sparse: SparseOptim::adam(3e-2),
    };
    let mut opt = Optimizer::new(&cfg, &mut store);
    for _epoch in 0..4 {
        for lo in (0..train.size).step_by(256) {
            let b = slice(&train, lo, (lo + 256).min(train.size));
            assert!(train_step(&model, &mut store, &mut opt, &b)
                .loss
                .is_finite());
        }
    }
    let ll = logloss(&predict(&model, &store, &test).0, &test.labels);
    let used = model.used_embedding_values(&store);
    eprintln!(
        "constant {constant:.4}, amtl_dnn {ll:.4}, used {used} of {}",
        107 * 16
    );
    assert!(
        ll < constant - 0.01,
        "amtl_dnn {ll:.4} vs constant {constant:.4}"
    );
}

#[test]
fn mde_widths_follow_the_rule_and_masked_dims_are_never_trained() {
    let batch = toy_batch_with(500, 14, Users::Skewed);
    let s = spec(&batch);
    let d = 8usize;
    let plan = EmbeddingStrategy::Mde.plan(&s, d);
    let widths = plan.widths.clone().unwrap();
    assert_eq!(widths.len(), 107);
    let freq = s.frequencies.as_ref().unwrap();
    let mut offset = 0;
    for (f, &v) in VOCABS.iter().enumerate() {
        let c = &freq[f];
        let mut tiers = [0usize; 3];
        for id in 0..v as usize {
            // Rank by hand: ids with a larger count, or the same count and a smaller id.
            let rank = (0..v as usize)
                .filter(|&o| c[o] > c[id] || (c[o] == c[id] && o < id))
                .count();
            let want = if rank * 10 < v as usize {
                d
            } else if rank * 2 < v as usize {
                d / 2
            } else {
                d / 4
            };
            assert_eq!(widths[offset + id] as usize, want, "field {f} id {id}");
            assert_eq!(mde_width(ranks(c)[id], v, d), want);
            tiers[[d, d / 2, d / 4].iter().position(|&w| w == want).unwrap()] += 1;
        }
        // 10% / 40% / 50% of the field's ids (rounded up at each boundary).
        let v = v as usize;
        assert_eq!(tiers[0], v.div_ceil(10), "field {f}");
        assert_eq!(tiers[0] + tiers[1], v.div_ceil(2), "field {f}");
        offset += v;
    }
    // A frequent id gets a wider row than a rare one.
    let (hi, lo) = (
        (0..60)
            .max_by_key(|&i| (freq[0][i], std::cmp::Reverse(i)))
            .unwrap(),
        (0..60)
            .min_by_key(|&i| (freq[0][i], std::cmp::Reverse(i)))
            .unwrap(),
    );
    assert!(widths[hi] > widths[lo]);
    assert_eq!(
        plan.used_values(),
        widths.iter().map(|&k| k as u64).sum::<u64>()
    );

    // One training step: masked values of every row stay as initialised (zero
    // gradient, so Adam does not move them); the used values of looked-up rows move.
    let cfg = json!({"embedding_dim": d, "hidden": [16], "embedding": {"kind": "mde"}});
    let mut store = ParamStore::new(Cpu::default(), 2);
    let model = registry::build::<Ranking, _>("dnn", &cfg, &s, &mut store).unwrap();
    let before = store.tables()[0].weights();
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    train_step(model.as_ref(), &mut store, &mut opt, &batch);
    let after = store.tables()[0].weights();
    let mut moved_used = 0;
    for (r, &k) in widths.iter().enumerate() {
        for j in 0..d {
            let i = r * d + j;
            if j >= k as usize {
                assert_eq!(
                    before[i], after[i],
                    "row {r} dim {j} (width {k}) was trained"
                );
            } else if before[i] != after[i] {
                moved_used += 1;
            }
        }
    }
    assert!(moved_used > 0);
    // Mde with all counts equal still follows the rank rule (ties by id).
    let mut flat = s.clone();
    flat.frequencies = Some(VOCABS.iter().map(|&v| vec![1; v as usize]).collect());
    let w = EmbeddingStrategy::Mde.plan(&flat, d).widths.unwrap();
    assert_eq!(&w[..7], &[8, 8, 8, 8, 8, 8, 4]);
}

#[test]
fn flop_counter_matches_the_hand_formula_for_the_layer() {
    let batch = toy_batch_with(64, 15, Users::Skewed);
    let s = spec(&batch);
    let (d, h) = (8u64, 8u64);
    let n = 64 * 3;
    let run = |name: &str, cfg: serde_json::Value| {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let m = registry::build::<Ranking, _>(name, &cfg, &s, &mut store).unwrap();
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
        let train = train_step(m.as_ref(), &mut store, &mut opt, &batch).flops;
        let eval = predict(m.as_ref(), &store, &batch).1;
        (train, eval)
    };
    let (dt, de) = run("dnn", json!({"embedding_dim": d, "hidden": [16]}));
    let (at, ae) = run(
        "amtl_dnn",
        json!({"embedding_dim": d, "hidden": [16], "aml_hidden": h}),
    );
    // Per AML on n lookups: matmul 2 -> h (2nk m: 2 n 2 h), bias (n h), ReLU (n h),
    // matmul h -> d (2 n h d), bias (n d). Backward: matmuls 4nkm, bias 2/elem, ReLU 1.
    let aml_f = 4 * n * h + n * h + n * h + 2 * n * h * d + n * d;
    let aml_b = 8 * n * h + 2 * n * h + n * h + 4 * n * h * d + 2 * n * d;
    // Then: α ⊙ h, (1-α) ⊙ l, sum, 1/T (4 elementwise), softmax (5 fwd, 4 bwd),
    // + sg(onehot - t) (elementwise), t̂ U (matmul n x d x d), m ⊙ e (elementwise).
    let fwd = 2 * aml_f + 4 * n * d + 5 * n * d + n * d + 2 * n * d * d + n * d;
    let bwd = 2 * aml_b + 8 * n * d + 4 * n * d + 2 * n * d + 4 * n * d * d + 2 * n * d;
    assert_eq!(ae.forward_total() - de.forward_total(), fwd);
    assert_eq!(ae.backward_total(), 0);
    assert_eq!(at.forward_total() - dt.forward_total(), fwd);
    assert_eq!(at.backward_total() - dt.backward_total(), bwd);
    // Dense Adam on the two AMLs' parameters: 14 per value.
    let aml_params = 2 * (2 * h + h + h * d + d);
    assert_eq!(at.optimizer_total() - dt.optimizer_total(), 14 * aml_params);
}

#[test]
fn models_report_the_embedding_values_they_use() {
    let batch = toy_batch_with(500, 31, Users::Skewed);
    let s = spec(&batch);
    let built = |name: &str, cfg: serde_json::Value| {
        let mut store = ParamStore::new(Cpu::default(), 4);
        let m = registry::build::<Ranking, _>(name, &cfg, &s, &mut store).unwrap();
        (m, store)
    };
    // MDE, d = 8, by the three-tier rule: per field ceil(v/10) ids keep 8 values, the
    // ids up to ceil(v/2) keep 4, the rest 2. Users (60): 6*8 + 24*4 + 30*2 = 204;
    // items (40): 4*8 + 16*4 + 20*2 = 136; noise (7): 1*8 + 3*4 + 3*2 = 26.
    let mde = json!({"embedding_dim": 8, "hidden": [16], "embedding": {"kind": "mde"}});
    for name in ["dnn", "dcnv2"] {
        let (m, store) = built(name, mde.clone());
        assert_eq!(
            m.embedding_values_used(&store),
            Some(204 + 136 + 26),
            "{name}"
        );
        assert_eq!(
            store.counts().embedding,
            107 * 8,
            "{name}: the table keeps full rows"
        );
    }
    // LR's width-1 rows cannot shrink: every id keeps its one value.
    let (m, store) = built("lr", json!({"embedding": {"kind": "mde"}}));
    assert_eq!(m.embedding_values_used(&store), Some(107));
    // Every stored value is used: full, hashing, BH.
    for emb in [
        json!({"kind": "full"}),
        json!({"kind": "hash", "buckets": 8}),
        json!({"kind": "bh", "bits_per_block": 2}),
    ] {
        let (m, store) = built("dnn", json!({"embedding_dim": 8, "embedding": emb}));
        assert_eq!(m.embedding_values_used(&store), None, "{emb}");
        assert_eq!(m.extra_serving_bytes(), 0);
    }
    // AMTL: the sum of the widths it picks for every id, after training too.
    let (m, mut store) = built("amtl_dnn", json!({"embedding_dim": 8, "hidden": [16]}));
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    for lo in (0..500).step_by(100) {
        train_step(
            m.as_ref(),
            &mut store,
            &mut opt,
            &slice(&batch, lo, lo + 100),
        );
    }
    let mut again = ParamStore::new(Cpu::default(), 4);
    let direct = AmtlDnn::new(&mut again, &s, &amtl_cfg(8, None));
    let widths = direct.amtl.widths(&again);
    assert_eq!(
        baselines::Model::embedding_values_used(&direct, &again),
        Some(widths.iter().map(|&k| k as u64).sum())
    );
    let used = m.embedding_values_used(&store).unwrap();
    assert!((107..=107 * 8).contains(&used), "{used}");
}
