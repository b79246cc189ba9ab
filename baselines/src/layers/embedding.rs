//! Field embedding: every sparse field looks up its id in one shared table, with each
//! field's ids shifted past the earlier fields' vocabularies, so field `f` with id `i`
//! reads row `offset_f + i`. Output: the batch's field vectors side by side,
//! `(batch, n_fields * dim)`. One table means one gather and one sparse update per step.

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, TableId, Track};
use crate::{Batch, FeatureSpec};

#[derive(Debug, Clone)]
pub struct FieldEmbedding {
    pub table: TableId,
    pub offsets: Vec<u32>,
    pub dim: usize,
}

impl FieldEmbedding {
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, spec: &FeatureSpec, dim: usize, init: Init) -> Self {
        let mut offsets = Vec::with_capacity(spec.sparse.len());
        let mut rows: u64 = 0;
        for (_, vocab) in &spec.sparse {
            offsets.push(rows as u32);
            rows += *vocab as u64;
        }
        assert!(
            rows <= u32::MAX as u64,
            "total vocabulary exceeds 2^32 rows"
        );
        FieldEmbedding {
            table: s.table("table", rows.max(1) as usize, dim, init),
            offsets,
            dim,
        }
    }

    pub fn n_fields(&self) -> usize {
        self.offsets.len()
    }

    /// `(batch, n_fields * dim)` embeddings of the batch's sparse ids.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let f = self.n_fields();
        assert_eq!(
            batch.n_sparse, f,
            "embedding: batch has {} sparse fields, model {f}",
            batch.n_sparse
        );
        let ids: Vec<u32> = batch
            .sparse
            .chunks_exact(f.max(1))
            .flat_map(|row| row.iter().zip(&self.offsets).map(|(id, off)| id + off))
            .collect();
        let x = ctx.lookup::<T>(store, self.table, ids);
        x.reshape_like(&(batch.size, f * self.dim))
    }
}

/// The batch's dense features as a `(batch, n_dense)` tensor.
pub fn dense_input<D: Dev>(dev: &D, batch: &Batch) -> Mat<D> {
    dev.tensor_from_vec(batch.dense.clone(), (batch.size, batch.n_dense))
}

/// `[embeddings | dense]`: the usual input of an MLP-based CTR model,
/// `(batch, n_fields * dim + n_dense)`.
pub fn embed_and_concat<D: Dev, T: Track<D>>(
    emb: &FieldEmbedding,
    store: &ParamStore<D>,
    batch: &Batch,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    let e = emb.forward::<D, T>(store, batch, ctx);
    if batch.n_dense == 0 {
        return e;
    }
    let dense = dense_input(store.dev(), batch).retaped::<T>();
    ctx.flops
        .copy(batch.size * (emb.n_fields() * emb.dim + batch.n_dense));
    (e, dense).concat_along(Axis::<1>)
}
