//! APG (arXiv 2203.16218): the layer against explicit per-instance algebra, merging of
//! the over-parameterised factors, the identity-core reduction to a static low-rank
//! layer, gradients, learning, and the FLOP counter against a hand formula.

mod common;
use common::{logloss, slice, toy_batch, toy_spec};

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::layers::{ApgLayer, Proj};
use baselines::models::ranking::{ApgDcnv2, ApgDcnv2Config, ApgDnn, ApgDnnConfig, ConditionConfig};
use baselines::{gradient_norms, predict, train_step};
use baselines::{registry, Cpu, Ranking};
use dfdx::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

type M = Tensor<(usize, usize), f32, Cpu>;

/// Row-major host matmul: a (r, c) x b (c, m).
fn mm(a: &[f32], b: &[f32], r: usize, c: usize, m: usize) -> Vec<f32> {
    assert_eq!((a.len(), b.len()), (r * c, c * m));
    let mut out = vec![0.0f32; r * m];
    for i in 0..r {
        for j in 0..m {
            out[i * m + j] = (0..c).map(|t| a[i * c + t] * b[t * m + j]).sum();
        }
    }
    out
}

fn proj_host(store: &ParamStore<Cpu>, p: &Proj) -> Vec<f32> {
    match *p {
        Proj::Full(w) => store.mat(w).as_vec(),
        Proj::Factored(l, r) => {
            let (lt, rt) = (store.mat(l), store.mat(r));
            let (a, c, m) = (lt.shape().0, lt.shape().1, rt.shape().1);
            mm(&lt.as_vec(), &rt.as_vec(), a, c, m)
        }
    }
}

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

// Tiny layer sizes: batch, in N, out M, rank K, over-parameterisation P, condition C,
// generator hidden G.
const B: usize = 3;
const N: usize = 5;
const MO: usize = 4;
const K: usize = 3;
const P: usize = 6;
const C: usize = 2;
const G: usize = 4;

/// A layer with every bias randomised (the generator's output bias around vec(I)).
fn tiny_layer(store: &mut ParamStore<Cpu>, p: usize, rng: &mut ChaCha8Rng) -> ApgLayer {
    let layer = ApgLayer::new(&mut store.scope("t"), N, MO, K, p, C, &[G]);
    layer.init_identity(store);
    store.set_vec(layer.b, random(rng, MO));
    let h = &layer.generator.hidden[0];
    store.set_vec(h.b, random(rng, G));
    let o = layer.generator_output().b;
    let eye = store.vec(o).as_vec();
    let noise = random(rng, K * K);
    store.set_vec(o, eye.iter().zip(noise).map(|(e, n)| e + 0.3 * n).collect());
    layer
}

fn run_layer(store: &ParamStore<Cpu>, layer: &ApgLayer, x: &[f32], z: &[f32]) -> Vec<f32> {
    let dev = store.dev();
    let xt: M = dev.tensor_from_vec(x.to_vec(), (B, N));
    let zt: M = dev.tensor_from_vec(z.to_vec(), (B, C));
    let mut ctx = Ctx::default();
    layer.forward(store, xt, zt, &mut ctx).as_vec()
}

/// (1) The decomposed forward `((x U) S_i) V + b` equals `x_i (U S_i V) + b` with the
/// full per-instance matrix formed explicitly, `S_i` from the generator by hand.
#[test]
fn decomposed_forward_equals_explicit_per_instance_matrix() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for p in [P, 0] {
        let mut store = ParamStore::new(Cpu::default(), 1);
        let layer = tiny_layer(&mut store, p, &mut rng);
        let (x, z) = (random(&mut rng, B * N), random(&mut rng, B * C));
        let got = run_layer(&store, &layer, &x, &z);

        let u = proj_host(&store, &layer.u);
        let v = proj_host(&store, &layer.v);
        let h = &layer.generator.hidden[0];
        let o = layer.generator_output();
        let (w1, b1) = (store.mat(h.w).as_vec(), store.vec(h.b).as_vec());
        let (w2, b2) = (store.mat(o.w).as_vec(), store.vec(o.b).as_vec());
        let bias = store.vec(layer.b).as_vec();
        let mut want = Vec::new();
        for i in 0..B {
            let zi = &z[i * C..(i + 1) * C];
            let hid: Vec<f32> = mm(zi, &w1, 1, C, G)
                .iter()
                .zip(&b1)
                .map(|(a, b)| (a + b).max(0.0))
                .collect();
            let s: Vec<f32> = mm(&hid, &w2, 1, G, K * K)
                .iter()
                .zip(&b2)
                .map(|(a, b)| a + b)
                .collect();
            // W_i = U S_i V, (N, M).
            let wi = mm(&mm(&u, &s, N, K, K), &v, N, K, MO);
            let yi = mm(&x[i * N..(i + 1) * N], &wi, 1, N, MO);
            want.extend(yi.iter().zip(&bias).map(|(a, b)| a + b));
        }
        assert_close(&got, &want, 1e-5, &format!("p={p}"));
    }
}

/// (2) Multiplying out `U_l U_r` and `V_l V_r` changes no output: for one layer, and
/// for whole trained models (group- and self-conditioned); the merged model also runs
/// fewer FLOPs (no factor products).
#[test]
fn merged_equals_unmerged() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let mut store = ParamStore::new(Cpu::default(), 2);
    let layer = tiny_layer(&mut store, P, &mut rng);
    let (x, z) = (random(&mut rng, B * N), random(&mut rng, B * C));
    let before = run_layer(&store, &layer, &x, &z);
    let merged = layer.merged(&mut store, "merged");
    assert!(matches!(merged.u, Proj::Full(_)) && matches!(merged.v, Proj::Full(_)));
    assert_close(&run_layer(&store, &merged, &x, &z), &before, 1e-5, "layer");

    let batch = toy_batch(200, 5);
    let train = |store: &mut ParamStore<Cpu>,
                 model: &dyn baselines::Model<baselines::Ranking, Cpu>| {
        let mut opt = Optimizer::new(&OptimConfig::default(), store);
        for lo in (0..200).step_by(50) {
            train_step(model, store, &mut opt, &slice(&batch, lo, lo + 50));
        }
    };
    // apg_dnn, group-wise on `user`.
    let mut store = ParamStore::new(Cpu::default(), 3);
    let cfg = ApgDnnConfig {
        condition: serde_json::from_value(json!({"kind": "group", "fields": ["user"]})).unwrap(),
        ..Default::default()
    };
    let model = ApgDnn::new(&mut store, &toy_spec(), &cfg);
    train(&mut store, &model);
    let (a, fa) = predict(&model, &store, &batch);
    let merged = model.merged(&mut store);
    let (b, fb) = predict(&merged, &store, &batch);
    assert_close(&b, &a, 1e-4, "apg_dnn");
    assert!(fb.forward_total() < fa.forward_total());
    // apg_dcnv2, self-wise.
    let mut store = ParamStore::new(Cpu::default(), 4);
    let model = ApgDcnv2::new(&mut store, &toy_spec(), &ApgDcnv2Config::default());
    train(&mut store, &model);
    let (a, _) = predict(&model, &store, &batch);
    let merged = model.merged(&mut store);
    let (b, _) = predict(&merged, &store, &batch);
    assert_close(&b, &a, 1e-4, "apg_dcnv2");
}

/// (3) With `S_i = I` for every instance (generator output weight 0, bias vec(I)) the
/// layer is the static low-rank layer `x U V + b`, whatever the condition.
#[test]
fn identity_core_is_static_low_rank_layer() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    for p in [P, 0] {
        let mut store = ParamStore::new(Cpu::default(), 5);
        let layer = tiny_layer(&mut store, p, &mut rng);
        let o = layer.generator_output().w;
        store.set_mat(o, vec![0.0; G * K * K]);
        layer.init_identity(&mut store);
        let x = random(&mut rng, B * N);
        let u = proj_host(&store, &layer.u);
        let v = proj_host(&store, &layer.v);
        let bias = store.vec(layer.b).as_vec();
        let want: Vec<f32> = mm(&mm(&x, &u, B, N, K), &v, B, K, MO)
            .chunks(MO)
            .flat_map(|r| r.iter().zip(&bias).map(|(a, b)| a + b).collect::<Vec<_>>())
            .collect();
        for _ in 0..2 {
            let z = random(&mut rng, B * C);
            assert_close(&run_layer(&store, &layer, &x, &z), &want, 1e-5, "S=I");
        }
    }
}

fn configs() -> Vec<(&'static str, serde_json::Value)> {
    let group = json!({"kind": "group", "fields": ["user"]});
    let mix = json!({"kind": "mix", "fields": ["user", "item"]});
    vec![
        ("apg_dnn", json!({})),
        ("apg_dnn", json!({ "condition": group })),
        ("apg_dnn", json!({ "condition": mix, "p": 0 })),
        ("apg_dcnv2", json!({})),
        (
            "apg_dcnv2",
            json!({ "condition": group, "generator_hidden": [] }),
        ),
    ]
}

/// (4) Gradients reach every parameter, for every condition kind.
#[test]
fn gradients_reach_every_parameter() {
    let batch = toy_batch(64, 2);
    for (name, cfg) in configs() {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = registry::build::<Ranking, _>(name, &cfg, &toy_spec(), &mut store).unwrap();
        let (logits, _) = predict(model.as_ref(), &store, &batch);
        assert!(logits.iter().all(|x| x.is_finite()) && logits.len() == 64);
        let norms = gradient_norms(model.as_ref(), &store, &batch);
        assert_eq!(norms.len(), store.names().len());
        for (param, norm) in norms {
            assert!(
                norm > 0.0 && norm.is_finite(),
                "{name} {cfg}: no gradient reaches `{param}`"
            );
        }
    }
}

/// (5) It learns: beats the constant predictor on the toy user x item task.
#[test]
fn apg_models_beat_the_constant_predictor() {
    let all = toy_batch(24_000, 4);
    let (train, test) = (slice(&all, 0, 20_000), slice(&all, 20_000, 24_000));
    let base = train.labels.iter().sum::<f32>() / train.size as f32;
    let constant = logloss(&vec![(base / (1.0 - base)).ln(); test.size], &test.labels);
    let runs = [
        (
            "apg_dnn",
            json!({"condition": {"kind": "group", "fields": ["user"]}}),
        ),
        ("apg_dcnv2", json!({})),
    ];
    let mut results = Vec::new();
    for (name, cfg) in runs {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = registry::build::<Ranking, _>(name, &cfg, &toy_spec(), &mut store).unwrap();
        let ocfg = OptimConfig {
            lr: 3e-3,
            weight_decay: 0.0,
            sparse: SparseOptim::adam(3e-2),
        };
        let mut opt = Optimizer::new(&ocfg, &mut store);
        for _epoch in 0..4 {
            for lo in (0..train.size).step_by(256) {
                let b = slice(&train, lo, (lo + 256).min(train.size));
                let out = train_step(model.as_ref(), &mut store, &mut opt, &b);
                assert!(out.loss.is_finite());
            }
        }
        let ll = logloss(&predict(model.as_ref(), &store, &test).0, &test.labels);
        results.push((name, ll));
    }
    eprintln!("constant {constant:.4}, models {results:?}");
    for (name, ll) in &results {
        assert!(
            *ll < constant - 0.01,
            "{name}: logloss {ll:.4} vs constant {constant:.4}"
        );
    }
}

/// (6) FLOPs of one APG layer (forward and backward) against the hand formula:
/// generator `C -> G (ReLU) -> K^2`, factor products `U_l U_r` (N P K) and `V_l V_r`
/// (K P M), `x U`, the batched `h_i S_i`, `(h S) V` and the bias.
/// Matmul (n, k, m): 2nkm forward, 4nkm backward; bias add 1/2 per element; ReLU 1/1.
#[test]
fn layer_flops_match_hand_formula() {
    let (b, n, m, k, p, c, g) = (
        B as u64, N as u64, MO as u64, K as u64, P as u64, C as u64, G as u64,
    );
    let kk = k * k;
    for (pp, factors) in [(P, true), (0, false)] {
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        let mut store = ParamStore::new(Cpu::default(), 6);
        let layer = tiny_layer(&mut store, pp, &mut rng);
        let dev = store.dev().clone();
        let x: M = dev.tensor_from_vec(random(&mut rng, B * N), (B, N));
        let z: M = dev.tensor_from_vec(random(&mut rng, B * C), (B, C));

        let gen_fwd = 2 * b * c * g + b * g + b * g + 2 * b * g * kk + b * kk;
        let gen_bwd = 4 * b * c * g + 2 * b * g + b * g + 4 * b * g * kk + 2 * b * kk;
        let fac = if factors { n * p * k + k * p * m } else { 0 };
        let fwd = gen_fwd + 2 * fac + 2 * b * n * k + 2 * b * kk + 2 * b * k * m + b * m;
        let bwd = gen_bwd + 4 * fac + 4 * b * n * k + 4 * b * kk + 4 * b * k * m + 2 * b * m;

        let mut train = Ctx::training();
        let y = layer.forward(
            &store,
            x.clone().leaky_traced(),
            z.clone().leaky_traced(),
            &mut train,
        );
        let _ = y.sum().backward();
        assert_eq!(train.flops.forward_total(), fwd, "p={pp}: forward");
        assert_eq!(train.flops.backward_total(), bwd, "p={pp}: backward");

        let mut eval = Ctx::default();
        layer.forward(&store, x, z, &mut eval);
        assert_eq!(eval.flops.forward_total(), fwd, "p={pp}: eval forward");
        assert_eq!(eval.flops.backward_total(), 0);
    }
}

/// Configs: unknown keys, missing or duplicate fields, `p < k` are rejected up front.
#[test]
fn bad_configs_are_rejected() {
    let s = toy_spec();
    assert!(registry::validate::<Ranking>("apg_dnn", &json!({}), &s).is_ok());
    assert!(registry::validate::<Ranking>(
        "apg_dcnv2",
        &json!({"condition": {"kind": "mix", "fields": ["user", "item"]}}),
        &s
    )
    .is_ok());
    for bad in [
        json!({"rank": 4}),
        json!({"k": 8, "p": 4}),
        json!({"hidden": []}),
        json!({"condition": {"kind": "group"}}),
        json!({"condition": {"kind": "group", "fields": ["nope"]}}),
        json!({"condition": {"kind": "mix", "fields": ["user"]}}),
        json!({"condition": {"kind": "mix", "fields": ["user", "user"]}}),
        json!({"condition": {"kind": "self", "fields": ["user"]}}),
        json!({"condition": {"kind": "other"}}),
    ] {
        assert!(
            registry::validate::<Ranking>("apg_dnn", &bad, &s).is_err(),
            "accepted {bad}"
        );
    }
    let c: ConditionConfig = serde_json::from_value(json!({"kind": "self"})).unwrap();
    assert_eq!(c, ConditionConfig::default());
}
