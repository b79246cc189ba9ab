//! LUM's backbone, steps 1 and 2 of Yan et al., Unlocking Scaling Law in Industrial
//! Recommendation Systems with a Three-step Paradigm based Large User Model, arXiv
//! 2502.08309 (Sec. 3; equations as gathered in the project spec, models-part1.md §2).
//!
//! - Tokens: each history exposure `l` becomes two tokens `<c_l, i_l>`, the condition
//!   `e^c = C[c_l]` then the item `e^i = E[i_l]`. Here the condition is the exposure's
//!   action id (the behaviour that led to the item: "shown, not clicked", "clicked",
//!   "clicked and liked" ...); the paper's condition is the scenario, query or category
//!   of the item, which `GenBatch` does not carry.
//! - A causal transformer over `[c_1, i_1, ..., c_L, i_L]` (pre-norm Llama-style
//!   blocks: RMS norm, multi-head softmax attention with output projection, SwiGLU;
//!   final RMS norm). No position embeddings: order comes from the causal mask alone. A
//!   learned absolute position for the step-2 query slot (after the last exposure) would
//!   never be trained by step 1, and the backbone is frozen afterwards.
//! - Step 1, generative pre-training: `p(seq) = Π_l p(i_l | c_1, i_1, ..., c_l)` as
//!   InfoNCE at every condition token's output `o_l^c` against its item's embedding
//!   `e_l^i` with the batch's other item tokens as negatives,
//!   `-log exp(<o_l^c, e_l^i> / τ) / Σ_k exp(<o_l^c, e_k^i> / τ)`; item tokens equal to
//!   the positive's item, and the other item tokens of the same row (a pre-training
//!   batch holds one row per user: they are that user's own items, earlier or later in
//!   the history, not negatives), are hidden, as in KuaiFormer's in-batch softmax.
//! - Step 2, group query: `N` query condition tokens appended after the history; each
//!   sees the whole history and itself, not the other queries, so one pass gives the
//!   `N` interests `o_{q_n}` that `N` single-query passes would.

use dfdx::prelude::*;

use super::lum_config::LumConfig;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, TableId, Track};
use crate::kinds::generative::{GenBatch, GenSpec};
use crate::layers::activation::dropout;
use crate::layers::{
    in_batch_loss, AttnMask, BlockConfig, FfnKind, Norm, NormKind, Residual, TransformerBlock,
};

/// Initial scale of the condition and item embeddings.
const EMBEDDING_STD: f32 = 0.02;

pub struct LumBackbone {
    /// Condition (action id) embeddings `C`, `2^n_actions + 1` rows (row 0 = padding).
    pub conditions: TableId,
    /// Item embeddings `E`, input tokens and InfoNCE targets (row 0 = padding).
    pub items: TableId,
    pub blocks: Vec<TransformerBlock>,
    pub norm: Norm,
    pub dim: usize,
    pub dropout: f32,
}

/// Token `t` of each row is real when its exposure is: `[c_l, i_l]` share slot `l`.
fn token_valid(batch: &GenBatch) -> Vec<bool> {
    batch
        .hist_items
        .iter()
        .flat_map(|&i| [i != 0, i != 0])
        .collect()
}

/// The step-2 mask over `hist_len` history tokens followed by `queries` query tokens:
/// causal over the history (padding hidden, every token sees itself); query `n` sees
/// every real history token and itself, never another query.
pub fn group_query_mask(
    hist_valid: &[bool],
    batch: usize,
    hist_len: usize,
    queries: usize,
) -> AttnMask {
    assert_eq!(
        hist_valid.len(),
        batch * hist_len,
        "group query mask: validity"
    );
    let len = hist_len + queries;
    let mut allowed = Vec::with_capacity(batch * len * len);
    for b in 0..batch {
        let valid = &hist_valid[b * hist_len..(b + 1) * hist_len];
        for i in 0..len {
            allowed.extend(
                (0..len).map(|j| j == i || (j < hist_len && valid[j] && (i >= hist_len || j < i))),
            );
        }
    }
    AttnMask {
        batch,
        lq: len,
        lk: len,
        allowed,
        norm_len: len,
    }
}

impl LumBackbone {
    /// Parameters `<scope>.{conditions, items, block.<i>.*, norm}`.
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, spec: &GenSpec, cfg: &LumConfig) -> Self {
        let d = cfg.dim;
        let init = Init::Normal { std: EMBEDDING_STD };
        let block = BlockConfig {
            dim: d,
            heads: cfg.heads,
            ffn_hidden: cfg.ffn_mult * d,
            ffn: FfnKind::SwiGlu,
            norm: NormKind::RmsNorm,
            out_proj: true,
            dropout: cfg.dropout,
            residual: Residual::PreNorm,
        };
        LumBackbone {
            conditions: s.table("conditions", spec.action_vocab(), d, init),
            items: s.table("items", spec.n_items as usize + 1, d, init),
            blocks: (0..cfg.blocks)
                .map(|i| TransformerBlock::new(&mut s.pp("block").pp(i), block))
                .collect(),
            norm: Norm::new(&mut s.pp("norm"), NormKind::RmsNorm, d),
            dim: d,
            dropout: cfg.dropout,
        }
    }

    /// `[c_1, i_1, ..., c_H, i_H]` of every row, `(batch * 2H, d)`: the two lookups side
    /// by side, `(batch * H, 2d)`, read as twice the rows (one copy).
    fn history_tokens<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (b, h, d) = (batch.size, batch.max_history, self.dim);
        let c = ctx.lookup::<T>(store, self.conditions, batch.hist_actions.clone());
        let i = ctx.lookup::<T>(store, self.items, batch.hist_items.clone());
        ctx.flops.copy(2 * b * h * d);
        (c, i).concat_along(Axis::<1>).reshape_like(&(b * 2 * h, d))
    }

    /// The causal transformer and the final norm over `(mask.batch * mask.lq, d)` tokens.
    fn encode<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        mask: &AttnMask,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let mut x = dropout(x, self.dropout, ctx);
        for block in &self.blocks {
            x = block.forward(store, x, mask, ctx);
        }
        self.norm.forward(store, x, ctx)
    }

    /// The causal transformer's outputs over `[c_1, i_1, ..., c_H, i_H]`,
    /// `(batch * 2H, d)`: `o_l^c` of history slot `l` of row `r` is row `r * 2H + 2l`.
    pub fn history_outputs<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (b, h) = (batch.size, batch.max_history);
        let x = self.history_tokens::<D, T>(store, batch, ctx);
        let mask = AttnMask::causal(&token_valid(batch), b, 2 * h);
        self.encode(store, x, &mask, ctx)
    }

    /// Step 1: the InfoNCE loss of every real exposure of the batch's histories, at
    /// temperature `tau`, averaged over them (0 when the batch has no history).
    pub fn pretrain_loss<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        tau: f32,
        ctx: &mut Ctx<D>,
    ) -> Tensor<Rank0, f32, D, T> {
        let (b, h, d) = (batch.size, batch.max_history, self.dim);
        let dev = store.dev().clone();
        let slots: Vec<usize> = (0..b * h).filter(|&k| batch.hist_items[k] != 0).collect();
        if slots.is_empty() {
            return dev.zeros().retaped::<T>();
        }
        let o = self.history_outputs::<D, T>(store, batch, ctx);
        let m = slots.len();
        // o_l^c sits at token 2k of slot k.
        let rows: Vec<usize> = slots.iter().map(|&k| 2 * k).collect();
        let targets: Vec<u32> = slots.iter().map(|&k| batch.hist_items[k]).collect();
        // The row (user) of each target: a row's other items are hidden from its softmax.
        let users: Vec<usize> = slots.iter().map(|&k| k / h).collect();
        ctx.flops.copy(m * d);
        let oc = o.gather(dev.tensor_from_vec(rows, (m,)));
        ctx.flops.elementwise(m * d);
        in_batch_loss(
            oc * (1.0 / tau),
            1,
            &targets,
            Some(&users),
            self.items,
            None,
            0.0,
            store,
            ctx,
        )
    }

    /// Step 2: the outputs of query tokens `conditions` appended after each row's
    /// history (group query), `(batch * conditions.len(), d)`, rows of one example
    /// adjacent in the order of `conditions`.
    pub fn interests<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        conditions: &[u32],
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (b, h, d, q) = (batch.size, batch.max_history, self.dim, conditions.len());
        let len = 2 * h + q;
        let hist = self.history_tokens::<D, T>(store, batch, ctx);
        let ids: Vec<u32> = (0..b).flat_map(|_| conditions.iter().copied()).collect();
        let queries = ctx.lookup::<T>(store, self.conditions, ids);
        ctx.flops.copy(b * len * d);
        let x = (
            hist.reshape_like(&(b, 2 * h * d)),
            queries.reshape_like(&(b, q * d)),
        )
            .concat_along(Axis::<1>)
            .reshape_like(&(b * len, d));
        let mask = group_query_mask(&token_valid(batch), b, 2 * h, q);
        let o = self.encode(store, x, &mask, ctx);
        let rows: Vec<usize> = (0..b)
            .flat_map(|r| (0..q).map(move |n| r * len + 2 * h + n))
            .collect();
        ctx.flops.copy(b * q * d);
        let dev = store.dev().clone();
        o.gather(dev.tensor_from_vec(rows, (b * q,)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_see_the_real_history_and_themselves_only() {
        // One row: history tokens [pad, pad, c, i], two queries.
        let m = group_query_mask(&[false, false, true, true], 1, 4, 2);
        let row = |i: usize| m.allowed[i * 6..(i + 1) * 6].to_vec();
        let (t, f) = (true, false);
        assert_eq!(row(0), [t, f, f, f, f, f]); // padding: itself only
        assert_eq!(row(2), [f, f, t, f, f, f]);
        assert_eq!(row(3), [f, f, t, t, f, f]); // causal
        assert_eq!(row(4), [f, f, t, t, t, f]); // query 0: history + itself
        assert_eq!(row(5), [f, f, t, t, f, t]); // query 1: not query 0
    }
}
