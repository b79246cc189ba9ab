//! KuaiFormer (arXiv 2411.10057): compression token counts, reduction to a causal
//! transformer's last-query output for k = 1 without compression, causality of tokens
//! and queries, padding, the in-batch loss against a hand computation, gradients,
//! learning on the Markov task against popularity, and the FLOP counter.

mod common;

use std::collections::BTreeSet;

use baselines::engine::{Ctx, OptimConfig, Optimizer, ParamStore};
use baselines::layers::AttnMask;
use baselines::models::retrieval::kuaiformer::Layout;
use baselines::models::retrieval::{KuaiFormer, KuaiFormerConfig};
use baselines::{predict, registry, train_step, Cpu, Model, Retrieval, SeqBatch, SeqSpec};
use common::seq::*;
use common::transformer::block_flops;
use dfdx::prelude::*;
use serde_json::json;

fn model(store: &mut ParamStore<Cpu>, spec: &SeqSpec, v: serde_json::Value) -> KuaiFormer {
    let cfg: KuaiFormerConfig = serde_json::from_value(v).unwrap();
    KuaiFormer::new(store, spec, &cfg)
}

/// Row `r` of `b` holds items (and targets) at every position.
fn fill_row(b: &mut SeqBatch, r: usize) {
    let l = b.max_len;
    for p in 0..l {
        b.items[r * l + p] = (1 + (r * 7 + p * 3) % 20) as u32;
        b.targets[r * l + p] = (1 + (r * 7 + p * 3 + 3) % 20) as u32;
    }
}

/// `b` with every row cut to its last `n` items (older positions padding).
fn last_items(b: &SeqBatch, n: usize) -> SeqBatch {
    let mut c = b.clone();
    let l = b.max_len;
    for r in 0..b.size {
        for p in 0..l - n {
            c.items[r * l + p] = 0;
            c.targets[r * l + p] = 0;
        }
    }
    c
}

fn encode(m: &KuaiFormer, store: &ParamStore<Cpu>, b: &SeqBatch) -> Vec<f32> {
    let mut ctx = Ctx::<Cpu>::default();
    m.encode::<Cpu, NoneTape>(store, &eval_view(b), &mut ctx)
        .as_vec()
}

fn user_vectors(m: &KuaiFormer, store: &ParamStore<Cpu>, b: &SeqBatch) -> Vec<f32> {
    predict(m as &dyn Model<Retrieval, Cpu>, store, &eval_view(b)).0
}

#[test]
fn shapes_follow_the_contract() {
    assert_shapes(
        "kuaiformer",
        json!({"dim": 16, "heads": 2, "interests": 3}),
        16,
        3,
    );
    assert_shapes(
        "kuaiformer",
        json!({"dim": 16, "interests": 2, "groups": [[1, 3]]}),
        16,
        2,
    );
}

#[test]
fn compression_yields_the_documented_number_of_tokens() {
    // Its groups are laid over the whole window, so it never gets a trimmed one.
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = registry::build::<Retrieval, _>(
        "kuaiformer",
        &json!({"dim": 8}),
        &seq_spec(30, 16),
        &mut store,
    )
    .unwrap();
    assert!(!m.hints().trims_padding);
    // The paper: 256 items -> 2 groups of 64, 5 of 16, 48 raw = 55 tokens.
    let paper = Layout::new(256, None).unwrap();
    assert_eq!(paper.levels, vec![(2, 64, 0), (5, 16, 128)]);
    assert_eq!((paper.raw_start, paper.item_tokens()), (208, 55));
    // The same proportions elsewhere: 50 -> 2 x 12, 5 x 3, 11 raw = 18 tokens.
    assert_eq!(Layout::new(50, None).unwrap().item_tokens(), 18);
    assert_eq!(Layout::new(15, None).unwrap().item_tokens(), 15);
    assert_eq!(
        Layout::new(16, Some(&[[2, 4], [1, 2]]))
            .unwrap()
            .item_tokens(),
        9
    );
    assert_eq!(Layout::new(16, Some(&[])).unwrap().item_tokens(), 16);
    let err = Layout::new(16, Some(&[[3, 6]])).unwrap_err();
    assert!(err.contains("groups") && err.contains("18"), "{err}");
    // The model really runs that many tokens: 256 positions, k = 3.
    let world = MarkovWorld::new(30);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = model(
        &mut store,
        &seq_spec(30, 256),
        json!({"dim": 8, "layers": 1, "interests": 3}),
    );
    let mut b = markov_batch(&world, 2, 256, 1, 1);
    fill_row(&mut b, 0);
    assert_eq!(encode(&m, &store, &b).len(), 2 * (55 + 3) * 8);
    // Tokens that are padding in every row are left out: histories of at most 40
    // items keep the 48 raw positions' last 40 and the queries.
    let short = markov_batch(&world, 2, 256, 1, 1);
    let short = last_items(&short, 40);
    assert_eq!(encode(&m, &store, &short).len(), 2 * (40 + 3) * 8);
    let mut spec = seq_spec(30, 16);
    spec.max_len = 16;
    let e = registry::build::<Retrieval, _>(
        "kuaiformer",
        &json!({"groups": [[3, 6]]}),
        &spec,
        &mut store,
    );
    assert!(e.err().unwrap().to_string().contains("max_len 16"));
}

#[test]
fn one_query_without_compression_is_a_causal_transformers_last_output() {
    let (l, d) = (6, 8);
    let world = MarkovWorld::new(30);
    let mut store = ParamStore::new(Cpu::default(), 2);
    let m = model(
        &mut store,
        &seq_spec(30, l),
        json!({"dim": d, "heads": 2, "interests": 1, "groups": []}),
    );
    let b = markov_batch(&world, 4, l, 1, 3);
    // Reference: [E[items] (padding = 0) ; q] + positions, through the same blocks under
    // a plain causal mask over the filled tokens, then the final norm; last row.
    let table = store.table(m.emb.table).weights();
    let q = store.mat(m.queries).as_vec();
    let pos = store.mat(m.positions).as_vec();
    let t = l + 1;
    let mut x = Vec::new();
    let mut valid = Vec::new();
    for r in 0..b.size {
        for p in 0..t {
            let row: Vec<f32> = if p < l {
                let i = b.items[r * l + p] as usize;
                (0..d)
                    .map(|j| if i == 0 { 0.0 } else { table[i * d + j] })
                    .collect()
            } else {
                q.clone()
            };
            x.extend(row.iter().zip(&pos[p * d..(p + 1) * d]).map(|(a, b)| a + b));
            valid.push(p == l || b.items[r * l + p] != 0);
        }
    }
    let mut ctx = Ctx::<Cpu>::default();
    let mut h: Tensor<(usize, usize), f32, Cpu> = store.dev().tensor_from_vec(x, (b.size * t, d));
    let mask = AttnMask::causal(&valid, b.size, t);
    for block in &m.blocks {
        h = block.forward(&store, h, &mask, &mut ctx);
    }
    let h = m.norm.forward(&store, h, &mut ctx).as_vec();
    let want: Vec<f32> = (0..b.size)
        .flat_map(|r| h[((r + 1) * t - 1) * d..(r + 1) * t * d].to_vec())
        .collect();
    let got = user_vectors(&m, &store, &b);
    assert!(max_abs_diff(&got, &want) < 1e-5, "{got:?} vs {want:?}");
}

#[test]
fn tokens_and_queries_are_causal_and_padding_is_inert() {
    let (l, d, k) = (16, 8, 3);
    let world = MarkovWorld::new(30);
    let mut store = ParamStore::new(Cpu::default(), 4);
    let m = model(
        &mut store,
        &seq_spec(30, l),
        json!({"dim": d, "heads": 2, "interests": k, "groups": [[2, 4], [2, 2]]}),
    );
    let t = m.tokens(); // 2 + 2 + 4 raw + 3 queries = 11
    assert_eq!(t, 11);
    let mut b = markov_batch(&world, 6, l, 1, 5);
    // Rows 0 and 1 full, so every group holds items.
    for r in 0..2 {
        for p in 0..l {
            b.items[r * l + p] = (1 + (r * 7 + p * 3) % 30) as u32;
        }
    }
    let base = encode(&m, &store, &b);
    let moved = |s: &[f32], r: usize, tok: usize| {
        max_abs_diff(
            &base[(r * t + tok) * d..(r * t + tok + 1) * d],
            &s[(r * t + tok) * d..(r * t + tok + 1) * d],
        )
    };
    // An item of the second level-0 group (position 5) moves that group's token (1)
    // and later ones, not the first group's token (0).
    // The last raw item (position 15, token 7) moves nothing before token 7.
    for (pos, tok) in [(5, 1), (15, 7)] {
        let mut c = b.clone();
        for r in 0..2 {
            c.items[r * l + pos] = c.items[r * l + pos] % 30 + 1;
        }
        let s = encode(&m, &store, &c);
        for r in 0..2 {
            for before in 0..tok {
                assert!(
                    moved(&s, r, before) < 1e-6,
                    "row {r}: token {before} moved (item at {pos})"
                );
            }
            assert!(
                moved(&s, r, tok) > 1e-5,
                "row {r}: token {tok} did not move"
            );
            assert!(
                moved(&s, r, t - 1) > 1e-5,
                "row {r}: the last query did not move"
            );
        }
    }
    // Query j sees the queries before it only: changing q_1 leaves u_0 alone.
    let u = user_vectors(&m, &store, &b);
    let mut q = store.mat(m.queries).as_vec();
    q[d..2 * d].iter_mut().for_each(|x| *x += 0.5);
    store.set_mat(m.queries, q);
    let v = user_vectors(&m, &store, &b);
    for r in 0..b.size {
        let at = |j: usize| (r * k + j) * d..(r * k + j + 1) * d;
        assert!(
            max_abs_diff(&u[at(0)], &v[at(0)]) < 1e-6,
            "row {r}: u_0 moved"
        );
        assert!(
            max_abs_diff(&u[at(1)], &v[at(1)]) > 1e-5,
            "row {r}: u_1 did not move"
        );
        assert!(
            max_abs_diff(&u[at(2)], &v[at(2)]) > 1e-5,
            "row {r}: u_2 did not move"
        );
    }
    // Padding: the padding row of the table changes no interest (groups left empty by
    // short histories included).
    let c = scramble_padding(&mut store, m.emb.table, &b);
    assert!(max_abs_diff(&v, &user_vectors(&m, &store, &c)) < 1e-6);
}

#[test]
fn in_batch_loss_matches_a_hand_computation() {
    let (n, l, d, k, alpha) = (20u32, 6, 8, 2, 0.2f64);
    let world = MarkovWorld::new(n);
    let mut b = markov_batch(&world, 6, l, 1, 8);
    // A duplicate positive: rows 0 and 1 share their target.
    b.targets[2 * l - 1] = b.targets[l - 1];
    let mut spec = seq_spec(n, l);
    let mut cnt: Vec<u32> = (0..=n).map(|i| 1 + (i * 7) % 11).collect();
    cnt[0] = 0;
    spec.item_counts = Some(cnt.clone());
    let cfg = json!({"dim": d, "interests": k, "dropout": 0.0, "label_smoothing": alpha,
                     "requests": 1});
    let mut store = ParamStore::new(Cpu::default(), 9);
    let m = registry::build::<Retrieval, _>("kuaiformer", &cfg, &spec, &mut store).unwrap();
    let got = m.loss_train(&store, &b, &mut Ctx::training()).as_vec()[0] as f64;
    let (u, _) = predict(m.as_ref(), &store, &eval_view(&b));
    let items = m.item_vectors(&store).unwrap();
    let t = last_targets(&b);
    let total: f64 = cnt[1..].iter().map(|&c| c as f64).sum();
    let rows = t.len();
    let mut want = 0.0;
    for r in 0..rows {
        let logit = |c: usize| -> f64 {
            let e = &items[t[c] as usize * d..(t[c] as usize + 1) * d];
            let s = (0..k)
                .map(|j| {
                    let uj = &u[(r * k + j) * d..(r * k + j + 1) * d];
                    uj.iter().zip(e).map(|(a, b)| (a * b) as f64).sum::<f64>()
                })
                .fold(f64::NEG_INFINITY, f64::max);
            s - (cnt[t[c] as usize] as f64 / total).ln()
        };
        let shown: Vec<usize> = (0..rows).filter(|&c| c == r || t[c] != t[r]).collect();
        let z: f64 = shown.iter().map(|&c| logit(c).exp()).sum();
        want -= (1.0 - alpha) * (logit(r).exp() / z).ln();
        for &c in shown.iter().filter(|&&c| c != r) {
            want -= alpha / rows as f64 * (1.0 - logit(c).exp() / z).ln();
        }
    }
    want /= rows as f64;
    assert!((got - want).abs() < 1e-5, "loss {got} vs hand {want}");
    // Uniform Q shifts every logit equally: the same loss as no correction.
    let loss_with = |counts: Option<Vec<u32>>| {
        let mut s = seq_spec(n, l);
        s.item_counts = counts;
        let mut store = ParamStore::new(Cpu::default(), 9);
        let m = registry::build::<Retrieval, _>("kuaiformer", &cfg, &s, &mut store).unwrap();
        m.loss_train(&store, &b, &mut Ctx::training()).as_vec()[0]
    };
    let uniform = loss_with(Some(vec![5; n as usize + 1]));
    assert!((uniform - loss_with(None)).abs() < 1e-6);
    assert!(
        (uniform as f64 - got).abs() > 1e-4,
        "logQ with skewed counts changes the loss"
    );
}

#[test]
fn gradients_reach_every_parameter() {
    let world = MarkovWorld::new(30);
    let b = markov_batch(&world, 8, 16, 1, 4);
    let mut spec = seq_spec(30, 16);
    spec.item_counts = Some(target_counts(std::slice::from_ref(&b), 30));
    let mut store = ParamStore::new(Cpu::default(), 3);
    let config = json!({"dim": 8, "heads": 2, "interests": 2, "groups": [[2, 4]]});
    let m = registry::build::<Retrieval, _>("kuaiformer", &config, &spec, &mut store).unwrap();
    let names = assert_gradients_reach_every_parameter("kuaiformer", m.as_ref(), &store, &b);
    assert!(names.iter().any(|n| n.starts_with("kuaiformer.group.0")));
}

#[test]
fn the_token_mlp_gets_gradients_and_costs_two_layers_per_item() {
    // t_i = MLP(x_i): with `token_mlp`, its parameters learn, and every item position
    // of the window (all live here) pays d x d + ReLU + d x d, biases included.
    let (bs, l, d) = (3u64, 16u64, 8u64);
    let world = MarkovWorld::new(30);
    let mut b = markov_batch(&world, bs as usize, l as usize, 1, 4);
    fill_row(&mut b, 0);
    let mut spec = seq_spec(30, l as usize);
    spec.item_counts = Some(target_counts(std::slice::from_ref(&b), 30));
    let forward = |token_mlp: bool| {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let config = json!({"dim": d, "heads": 2, "interests": 2, "groups": [[2, 4]],
                            "token_mlp": token_mlp});
        let m = registry::build::<Retrieval, _>("kuaiformer", &config, &spec, &mut store).unwrap();
        if token_mlp {
            let names =
                assert_gradients_reach_every_parameter("kuaiformer", m.as_ref(), &store, &b);
            assert!(names
                .iter()
                .any(|n| n.starts_with("kuaiformer.token_mlp.0")));
            assert!(names
                .iter()
                .any(|n| n.starts_with("kuaiformer.token_mlp.out")));
        }
        predict(m.as_ref(), &store, &eval_view(&b))
            .1
            .forward_total()
    };
    let per_item = 2 * (2 * d * d + d) + d;
    assert_eq!(forward(true) - forward(false), bs * l * per_item);
}

#[test]
fn learns_the_markov_task_and_beats_popularity() {
    assert_learns_markov(
        "kuaiformer",
        json!({"dim": 16, "layers": 1, "interests": 2, "groups": [[1, 4]]}),
        1,
        6,
    );
}

#[test]
fn flop_counter_matches_hand_formula() {
    let (bs, l, d, h, k, f) = (3u64, 16u64, 8u64, 2u64, 2u64, 16u64);
    let levels = [(2u64, 4u64), (1, 2)];
    let raw = l - 10;
    let t = 3 + raw + k;
    let world = MarkovWorld::new(20);
    let mut b = markov_batch(&world, bs as usize, l as usize, 1, 7);
    // A full-length row makes every token live (none is skipped as padding).
    fill_row(&mut b, 0);
    let mut spec = seq_spec(20, l as usize);
    spec.item_counts = Some(target_counts(std::slice::from_ref(&b), 20));
    let mut store = ParamStore::new(Cpu::default(), 6);
    let m = registry::build::<Retrieval, _>(
        "kuaiformer",
        &json!({"dim": d, "heads": h, "layers": 1, "interests": k, "ffn_mult": 2,
                "groups": [[2, 4], [1, 2]], "dropout": 0.0, "label_smoothing": 0.1,
                "requests": 1}),
        &spec,
        &mut store,
    )
    .unwrap();
    let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
    let baselines::StepOutput { flops: train, .. } =
        train_step(m.as_ref(), &mut store, &mut opt, &b);
    let (_, eval) = predict(m.as_ref(), &store, &eval_view(&b));

    // Token assembly: embedding gather + padding mask; per level the gather of its
    // positions, the bidirectional block, the pooling weights and the sum; the raw
    // gather; the query broadcast copy; three concatenations.
    let (mut fwd, mut bwd) = (2 * bs * l * d, 3 * bs * l * d);
    for (c, s) in levels {
        let (bf, bb) = block_flops(bs * c * s, bs * c, s, d, h, f);
        fwd += 3 * bs * c * s * d + bf;
        bwd += 4 * bs * c * s * d + bb;
    }
    fwd += bs * raw * d + bs * k * d;
    bwd += bs * raw * d + bs * k * d;
    let parts = [2, 1, raw, k].map(|p| bs * p * d);
    let mut acc = parts[0];
    for p in &parts[1..] {
        fwd += acc + p;
        bwd += acc + p;
        acc += p;
    }
    // Positions, one causal layer over t tokens, final RMS norm, the interest gather.
    let (bf, bb) = block_flops(bs * t, bs, t, d, h, f);
    fwd += bs * t * d + bf + 4 * bs * t * d + bs * k * d;
    bwd += 2 * bs * t * d + bb + 6 * bs * t * d + bs * k * d;
    // In-batch loss over n = bs users: target lookup, scores, max over interests,
    // logQ/duplicate adjustment, softmax cross-entropy, smoothing.
    let n = bs;
    let loss_fwd = n * d + 2 * n * k * d * n + n * k * n + n * n + (5 * n * n + 3 * n) + 5 * n * n;
    let loss_bwd = n * d + 4 * n * k * d * n + n * k * n + 2 * n * n + (4 * n * n + n) + 4 * n * n;
    assert_eq!(eval.forward_total(), fwd, "{:?}", eval.forward_by_kind());
    assert_eq!(
        train.forward_total(),
        fwd + loss_fwd,
        "{:?}",
        train.forward_by_kind()
    );
    assert_eq!(
        train.backward_total(),
        bwd + loss_bwd,
        "{:?}",
        train.backward_by_kind()
    );
    let block = 2 * d + 4 * (d * d + d) + 2 * (d * f + f) + (f * d + d);
    let dense = k * d + t * d + 3 * block + d;
    assert_eq!(train.optimizer_by_kind()["dense"], 14 * dense);
    let rows: BTreeSet<u32> = b.items.iter().copied().chain(last_targets(&b)).collect();
    assert_eq!(
        train.optimizer_by_kind()["embedding"],
        14 * rows.len() as u64 * d
    );
}

/// Replaying a history as several requests: a row with n targets gives min(4, n)
/// requests, the first cut after its last item and the others at distinct earlier
/// items of its own history; each replayed row is the history cut before that position
/// (nothing at or after the cut), its one target is the item that followed the cut, it
/// names the row it came from, and a seed fixes the cuts while another seed moves them.
#[test]
fn requests_replay_cut_histories_without_leakage() {
    use baselines::models::retrieval::kuaiformer::request_batch;
    let (n, l) = (20u32, 8);
    let world = MarkovWorld::new(n);
    let b = markov_batch(&world, 6, l, 1, 3);
    let r = request_batch(&b, 4, 11);
    let mut out = 0;
    for row in 0..b.size {
        let orig = b.items_row(row);
        let len = orig.iter().filter(|&&x| x != 0).count();
        let mut shifts = Vec::new();
        while out < r.batch.size && r.users[out] == row {
            let got = r.batch.items_row(out);
            let shift = got.iter().take_while(|&&x| x == 0).count() - (l - len);
            assert!(
                shifts.last().is_none_or(|&s| shift > s),
                "distinct, latest first"
            );
            assert!(shift < len, "a cut inside the user's history");
            assert_eq!(
                &got[shift..],
                &orig[..l - shift],
                "the history before the cut"
            );
            let target = r.batch.targets[out * l + l - 1];
            assert_eq!(target, b.targets[row * l + l - 1 - shift]);
            if shift > 0 {
                assert_eq!(target, orig[l - shift], "the item right after the cut");
            }
            let others = &r.batch.targets[out * l..out * l + l - 1];
            assert!(others.iter().all(|&t| t == 0), "one target per request");
            shifts.push(shift);
            out += 1;
        }
        assert_eq!(shifts.len(), 4.min(len), "row {row}: requests");
        assert_eq!(
            shifts[0], 0,
            "the first request predicts the item after the history"
        );
    }
    assert_eq!(r.batch.size, out, "no other rows");
    let again = request_batch(&b, 4, 11);
    assert_eq!(again.batch.items, r.batch.items, "the seed fixes the cuts");
    let moved = (12..20).any(|s| request_batch(&b, 4, s).batch.items != r.batch.items);
    assert!(moved, "other seeds draw other cuts");
    let mut spec = seq_spec(n, l);
    spec.item_counts = Some((0..=n).map(|i| u32::from(i > 0)).collect());
    let cfg = |q: usize| json!({"dim": 8, "interests": 2, "dropout": 0.0, "requests": q});
    let mut s1 = ParamStore::new(Cpu::default(), 4);
    let one = registry::build::<Retrieval, _>("kuaiformer", &cfg(1), &spec, &mut s1).unwrap();
    let mut s4 = ParamStore::new(Cpu::default(), 4);
    let four = registry::build::<Retrieval, _>("kuaiformer", &cfg(4), &spec, &mut s4).unwrap();
    let direct = four.loss_train(&s4, &b, &mut Ctx::training()).as_vec()[0];
    let last_only = one.loss_train(&s1, &b, &mut Ctx::training()).as_vec()[0];
    assert!(
        (direct - last_only).abs() > 1e-4,
        "requests changed nothing"
    );
}

/// Group and raw tokens that are padding in every row are left out (`live_tokens`):
/// short rows alone give the user vectors they give beside a full-length row (which
/// makes every token live), at fewer FLOPs, and the same loss.
#[test]
fn tokens_that_are_padding_in_every_row_are_skipped_without_changing_outputs() {
    let (l, d, k) = (16, 8, 2);
    let world = MarkovWorld::new(30);
    let mut spec = seq_spec(30, l);
    // Histories of 1..=5 items: 2 x 4 and 4 x 1 grouped positions (0..12) and raw 12..16,
    // so both level-0 groups and all but the last level-1 group are padding.
    let short = last_items(&markov_batch(&world, 5, l, 1, 3), 5);
    spec.item_counts = Some(target_counts(std::slice::from_ref(&short), 30));
    let mut store = ParamStore::new(Cpu::default(), 9);
    let cfg = json!({"dim": d, "heads": 2, "interests": k, "groups": [[2, 4], [4, 1]],
                     "dropout": 0.0, "requests": 1});
    let m = model(&mut store, &spec, cfg);
    let mut with_full = short.clone();
    with_full.size += 1;
    with_full
        .items
        .extend((0..l).map(|p| (1 + (p * 7) % 30) as u32));
    with_full.times.extend((0..l as i64).collect::<Vec<_>>());
    with_full.targets.extend(vec![0; l]);
    with_full.negatives.extend(vec![0; l]);
    let (alone, f_alone) = predict(&m, &store, &eval_view(&short));
    let (beside, f_beside) = predict(&m, &store, &eval_view(&with_full));
    assert!(
        max_abs_diff(&alone, &beside[..alone.len()]) < 1e-5,
        "skipped tokens changed the interests by {}",
        max_abs_diff(&alone, &beside[..alone.len()])
    );
    let per_row = |f: &baselines::engine::Flops, rows: u64| f.forward_total() / rows;
    assert!(per_row(&f_alone, 5) < per_row(&f_beside, 6) / 2);
    // The loss too: the full row has no target, so it adds no term.
    let loss = |b: &SeqBatch| m.loss_train(&store, b, &mut Ctx::training()).as_vec()[0];
    let (la, lb) = (loss(&short), loss(&with_full));
    assert!((la - lb).abs() < 1e-5, "loss {la} vs {lb}");
}

/// The harness sizes length-bucketed batches by `training_targets`: it must count
/// what `request_batch` makes of each history (`min(requests, positions)`).
#[test]
fn training_targets_count_the_replayed_requests() {
    use baselines::models::retrieval::kuaiformer::request_batch;
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, 10);
    let b = markov_batch(&world, 12, 10, 1, 3);
    for requests in [1, 4, 16] {
        let mut store = ParamStore::new(Cpu::default(), 1);
        let cfg = json!({"dim": 8, "requests": requests});
        let m = registry::build::<Retrieval, _>("kuaiformer", &cfg, &spec, &mut store).unwrap();
        assert!(m.hints().benefits_from_length_buckets && !m.hints().trims_padding);
        let want: usize = (0..b.size)
            .map(|r| {
                let row = &b.targets[r * b.max_len..(r + 1) * b.max_len];
                m.hints()
                    .training_targets(row.iter().filter(|&&t| t != 0).count())
            })
            .sum();
        assert_eq!(
            request_batch(&b, requests, 5).batch.n_targets(),
            want,
            "{requests}"
        );
    }
}
