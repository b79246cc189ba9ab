//! Item (+ learned absolute position) embeddings of left-padded histories:
//! `x[b, p] = (E[item[b, p]] + P[p]) * [item[b, p] != 0]`, a `(batch * max_len, dim)`
//! matrix. Padding rows are exactly zero, so neither the padding row of `E` nor `P`
//! at padded positions can reach any output. Positions count from the start of the
//! padded window, so the most recent item always has position `max_len - 1` (as in
//! the SASRec authors' code). A batch may come in a shorter window `L < max_len` (the
//! harness trims columns that are padding in every row): its positions are then the
//! last `L` of `P`, so every real item gets the same embedding as in the full window.
//! `E[item]` may be scaled first (`item_scale`, SASRec's authors' code).

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Scope, TableId, Track};
use crate::kinds::retrieval::SeqBatch;

/// Initial scale of item and position embeddings.
pub const EMBEDDING_STD: f32 = 0.02;

#[derive(Debug, Clone)]
pub struct SeqEmbedding {
    /// `n_items + 1` rows, row 0 = padding: also the models' output item vectors.
    pub table: TableId,
    pub positions: Option<MatId>,
    pub dim: usize,
    pub max_len: usize,
    /// Factor on the item embeddings before positions are added: 1, or `sqrt(d)` as
    /// in the SASRec authors' code (it makes items outweigh positions at init).
    pub item_scale: f32,
}

impl SeqEmbedding {
    /// `<scope>.items` (sparse table) and, if `positions`, `<scope>.positions`.
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        n_items: u32,
        max_len: usize,
        dim: usize,
        positions: bool,
    ) -> Self {
        let init = Init::Normal { std: EMBEDDING_STD };
        SeqEmbedding {
            table: s.table("items", n_items as usize + 1, dim, init),
            positions: positions.then(|| s.mat("positions", max_len, dim, init)),
            dim,
            max_len,
            item_scale: 1.0,
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        assert!(
            batch.max_len <= self.max_len,
            "sequence embedding: batch max_len {} but the model was built for {}",
            batch.max_len,
            self.max_len
        );
        let (b, l, d) = (batch.size, batch.max_len, self.dim);
        let mut x = ctx.lookup::<T>(store, self.table, batch.items.clone());
        if self.item_scale != 1.0 {
            ctx.flops.elementwise(b * l * d);
            x = x * self.item_scale;
        }
        if let Some(p) = self.positions {
            ctx.flops.elementwise(b * l * d);
            let mut p = store.mat(p).retaped::<T>();
            if l < self.max_len {
                // The window's positions are the last `l` of the table's.
                let last: Vec<usize> = (self.max_len - l..self.max_len).collect();
                p = p.gather(store.dev().tensor_from_vec(last, (l,)));
            }
            let p = p.broadcast_like::<_, Axis<0>>(&(b, l, d));
            x = (x.reshape_like(&(b, l, d)) + p).reshape_like(&(b * l, d));
        }
        ctx.flops.elementwise(b * l * d);
        let keep: Vec<f32> = batch.items.iter().map(|&i| (i != 0) as u8 as f32).collect();
        let keep = store
            .dev()
            .tensor_from_vec(keep, (b * l,))
            .broadcast_like::<_, Axis<1>>(&(b * l, d));
        x * keep
    }
}

/// Which positions of a batch hold an item (`batch x max_len`).
pub fn valid_positions(batch: &SeqBatch) -> Vec<bool> {
    batch.items.iter().map(|&i| i != 0).collect()
}

/// Rows `(b, len - per_row + j)` of a `(batch * len, d)` matrix for `j < per_row`: the
/// last `per_row` states of each sequence, `(batch * per_row, d)` (a copy).
pub fn last_rows<D: Dev, T: Track<D>>(
    x: Mat<D, T>,
    batch: usize,
    per_row: usize,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    let (rows, d) = *x.shape();
    let len = rows / batch;
    assert!(rows == batch * len && per_row <= len, "last_rows: shape");
    let idx: Vec<usize> = (0..batch)
        .flat_map(|b| (len - per_row..len).map(move |p| b * len + p))
        .collect();
    ctx.flops.copy(batch * per_row * d);
    let dev = x.device().clone();
    x.gather(dev.tensor_from_vec(idx, (batch * per_row,)))
}
