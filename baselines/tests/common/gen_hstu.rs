//! Checks shared by the two generative HSTU rankers (`hstu_rank`, `genrank`), which
//! expose their tokens and final states (`TokenRanker`): causality inside the history,
//! labels never read, one shared candidate position, padding invariance, and the hand
//! formula of their FLOPs (the HSTU layer terms of tests/hstu.rs, on tokens).
#![allow(dead_code)]

use baselines::engine::{Ctx, ParamStore, TableId};
use baselines::kinds::generative::MASK_ACTION;
use baselines::models::generative::gen_hstu::TokenRanker;
use baselines::{predict, Cpu, GenBatch, Generative, Model};
use dfdx::prelude::NoneTape;

use super::gen::{batches, TasteWorld};

/// A batch of TasteWorld examples with short and long histories (so some are padded).
pub fn mixed_batch(max_history: usize) -> GenBatch {
    let world = TasteWorld::new();
    let spec = world.spec(max_history);
    let logs = world.users(3, 5, 7);
    batches(&spec, &logs, 64).swap_remove(0)
}

/// Final states of every token, evaluation mode, `size * len * d` values.
pub fn states<M: TokenRanker>(m: &M, store: &ParamStore<Cpu>, b: &GenBatch) -> Vec<f32> {
    let tokens = m.tokens(b);
    m.states::<Cpu, NoneTape>(store, &tokens, &mut Ctx::default())
        .as_vec()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Changing the action (then the item) of the history exposure in slot `p` of every
/// row changes no state of a token before the first token that changed, does change
/// that token's state and the real candidates' (they see the whole history).
pub fn assert_history_causal<M: TokenRanker>(
    m: &M,
    store: &ParamStore<Cpu>,
    b: &GenBatch,
    d: usize,
) {
    let base = states(m, store, b);
    let t0 = m.tokens(b);
    let h = b.max_history;
    let n_ids = 1u32 << b.n_actions;
    for p in [h / 2, h - 1] {
        for change_item in [false, true] {
            let mut c = b.clone();
            for row in 0..b.size {
                let i = row * h + p;
                if c.hist_items[i] == 0 {
                    continue;
                }
                if change_item {
                    c.hist_items[i] = c.hist_items[i] % TasteWorld::new().n_items + 1;
                } else {
                    c.hist_actions[i] = c.hist_actions[i] % n_ids + 1;
                }
            }
            let (t1, after) = (m.tokens(&c), states(m, store, &c));
            let l = t0.len;
            let at = |row: usize, s: usize| (row * l + s) * d..(row * l + s + 1) * d;
            for row in 0..b.size {
                if b.hist_items[row * h + p] == 0 {
                    continue;
                }
                let first = (0..l)
                    .find(|&s| {
                        let k = row * l + s;
                        (t0.items[k], t0.actions[k]) != (t1.items[k], t1.actions[k])
                    })
                    .expect("the change reaches a token");
                for s in 0..first {
                    let diff = max_abs_diff(&base[at(row, s)], &after[at(row, s)]);
                    assert!(
                        diff < 1e-6,
                        "row {row}: token {s} moved by {diff} after a change at token {first}"
                    );
                }
                let moved = |s: usize| max_abs_diff(&base[at(row, s)], &after[at(row, s)]) > 1e-6;
                assert!(
                    moved(first),
                    "row {row}: the changed token {first} did not move"
                );
                for s in t0.candidate_slots() {
                    if t0.items[row * l + s] != 0 {
                        assert!(moved(s), "row {row}: candidate {s} ignores the history");
                    }
                }
            }
        }
    }
}

/// The labels (the candidates' own actions) are never an input: the tokens and every
/// state are the same whatever they are, and every candidate token holds the mask
/// action.
pub fn assert_labels_never_read<M: TokenRanker>(m: &M, store: &ParamStore<Cpu>, b: &GenBatch) {
    let mut flipped = b.clone();
    flipped.labels.iter_mut().for_each(|l| *l = 1.0 - *l);
    let t = m.tokens(b);
    assert_eq!(t, m.tokens(&flipped));
    assert_eq!(states(m, store, b), states(m, store, &flipped));
    for row in 0..t.size {
        for s in t.candidate_slots() {
            assert_eq!(t.actions[row * t.len + s], MASK_ACTION);
        }
    }
}

/// Candidates share one position: the candidate slots' position ids are all the one
/// after the history, and two candidates of a request with the same item get the same
/// logits in any two slots (they would not with a position per slot).
pub fn assert_candidates_share_a_position<M: TokenRanker>(
    m: &M,
    model: &dyn Model<Generative, Cpu>,
    store: &ParamStore<Cpu>,
    b: &GenBatch,
) {
    let t = m.tokens(b);
    let hist_max = (0..t.history_len).map(|s| t.position(s)).max().unwrap();
    for s in t.candidate_slots() {
        assert_eq!(t.position(s), t.history_len as u32);
        assert!(t.position(s) > hist_max);
    }
    let (c, a) = (b.max_candidates, b.n_actions);
    let mut same = b.clone();
    for row in 0..b.size {
        same.cand_items[row * c + c - 1] = same.cand_items[row * c];
    }
    let (logits, _) = predict(model, store, &same);
    for row in 0..b.size {
        let first = &logits[row * c * a..(row * c + 1) * a];
        let last = &logits[(row * c + c - 1) * a..(row * c + c) * a];
        assert!(
            max_abs_diff(first, last) < 1e-6,
            "row {row}: {first:?} vs {last:?}"
        );
    }
}

/// A row's logits are the same batched alone or with others, and when every padded
/// history slot holds garbage (actions, requests ago, gaps, times) and the item table's
/// padding row is overwritten. The batch must have padded slots.
pub fn assert_padding_invariant(
    model: &dyn Model<Generative, Cpu>,
    store: &mut ParamStore<Cpu>,
    items: TableId,
    b: &GenBatch,
) {
    assert!(
        b.hist_items.contains(&0),
        "the batch has no padding to test"
    );
    let (base, _) = predict(model, store, b);
    let per_row = b.max_candidates * b.n_actions;
    let real = |logits: &[f32], row: usize| -> Vec<f32> {
        (0..b.max_candidates)
            .filter(|&j| b.cand_items[row * b.max_candidates + j] != 0)
            .flat_map(|j| {
                let s = row * per_row + j * b.n_actions;
                logits[s..s + b.n_actions].to_vec()
            })
            .collect()
    };
    let examples: Vec<(usize, GenBatch)> = [0, b.size - 1]
        .into_iter()
        .map(|row| (row, one_row(b, row)))
        .collect();
    for (row, alone) in &examples {
        let (l, _) = predict(model, store, alone);
        let diff = max_abs_diff(&real(&base, *row), &real(&l, 0));
        assert!(diff < 1e-5, "row {row} alone differs by {diff}");
    }
    let d = store.table(items).dim();
    let mut w = store.table(items).weights();
    w[..d].iter_mut().for_each(|x| *x = 3.0);
    store.table_mut(items).set_weights(&w);
    let mut c = b.clone();
    let top = 1u32 << b.n_actions;
    for k in 0..c.hist_items.len() {
        if c.hist_items[k] == 0 {
            c.hist_actions[k] = top;
            c.hist_requests_ago[k] = 5;
            c.hist_gap_buckets[k] = 100;
            c.hist_times[k] = 999_999;
        }
    }
    let (after, _) = predict(model, store, &c);
    for row in 0..b.size {
        let diff = max_abs_diff(&real(&base, row), &real(&after, row));
        assert!(
            diff < 1e-6,
            "row {row}: padding moved a real candidate by {diff}"
        );
    }
}

fn one_row(b: &GenBatch, row: usize) -> GenBatch {
    let (h, c, a) = (b.max_history, b.max_candidates, b.n_actions);
    GenBatch {
        size: 1,
        hist_items: b.hist_items[row * h..(row + 1) * h].to_vec(),
        hist_actions: b.hist_actions[row * h..(row + 1) * h].to_vec(),
        hist_requests_ago: b.hist_requests_ago[row * h..(row + 1) * h].to_vec(),
        hist_times: b.hist_times[row * h..(row + 1) * h].to_vec(),
        hist_gap_buckets: b.hist_gap_buckets[row * h..(row + 1) * h].to_vec(),
        cand_items: b.cand_items[row * c..(row + 1) * c].to_vec(),
        target_times: vec![b.target_times[row]],
        target_gap_buckets: vec![b.target_gap_buckets[row]],
        labels: b.labels[row * c * a..(row + 1) * c * a].to_vec(),
        ..b.clone()
    }
}

/// The shape of a forward pass for the FLOP hand formula.
#[derive(Clone, Copy)]
pub struct FlopShape {
    /// Examples, tokens per example, candidates per example.
    pub b: u64,
    pub t: u64,
    pub c: u64,
    pub d: u64,
    pub heads: u64,
    pub blocks: u64,
    pub actions: u64,
    /// Embedding tables summed per token.
    pub lookups: u64,
    /// Per layer, the attention bias's own FLOPs (forward, backward) besides its add.
    pub bias: (u64, u64),
}

impl FlopShape {
    /// (forward, backward) of the model without the loss: embeddings (one gather per
    /// table, the item mask, the sums), the HSTU layers (as tests/hstu.rs: input norm;
    /// U, V, Q, K with bias and SiLU; the bias; pointwise attention, 4 per score, the
    /// bias add 1; head merge; gate; norm; f2; residual) and the candidates' rows and
    /// linear heads.
    pub fn model(&self) -> (u64, u64) {
        let FlopShape {
            b,
            t,
            c,
            d,
            heads,
            blocks,
            actions,
            lookups,
            bias,
        } = *self;
        let n = b * t;
        let s = b * heads * t * t;
        let dh = d / heads;
        let merge = if heads > 1 { n * d } else { 0 };
        let emb = (2 * lookups * n * d, 3 * lookups * n * d);
        let layer_fwd = 8 * n * d
            + 4 * (2 * n * d * d + n * d + 2 * n * d)
            + bias.0
            + (2 * s * 2 * dh + 4 * s + s)
            + merge
            + 8 * n * d
            + n * d
            + (2 * n * d * d + n * d)
            + n * d;
        let layer_bwd = 14 * n * d
            + 4 * (4 * n * d * d + 2 * n * d + 3 * n * d)
            + bias.1
            + (4 * s * 2 * dh + 6 * s + 2 * s)
            + merge
            + 14 * n * d
            + 2 * n * d
            + (4 * n * d * d + 2 * n * d)
            + 2 * n * d;
        let bc = b * c;
        let head = (
            bc * d + 2 * bc * d * actions + bc * actions,
            bc * d + 4 * bc * d * actions + 2 * bc * actions,
        );
        (
            emb.0 + blocks * layer_fwd + head.0,
            emb.1 + blocks * layer_bwd + head.1,
        )
    }

    /// (forward, backward) of the masked per-candidate BCE.
    pub fn loss(&self) -> (u64, u64) {
        let e = self.b * self.c * self.actions;
        (9 * e + e, 5 * e + 2 * e)
    }

    /// Dense parameters of the layers and heads (tables are sparse).
    pub fn dense_params(&self, bias_params_per_layer: u64) -> u64 {
        let d = self.d;
        self.blocks * (4 * d + 5 * (d * d + d) + bias_params_per_layer)
            + d * self.actions
            + self.actions
    }
}
