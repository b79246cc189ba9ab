//! Field embedding: every sparse field looks up its id in one shared table, with each
//! field's ids shifted past the earlier fields' vocabularies, so field `f` with id `i`
//! reads row `offset_f + i`. Output: the batch's field vectors side by side,
//! `(batch, n_fields * dim)`. One table means one gather and one sparse update per step.
//!
//! An [`EmbeddingStrategy`] chooses how ids map to rows: one row per id (`full`, the
//! default), the hashing trick, or binary-code hash embedding (BH), which reads `n_b`
//! rows per field and sums or concatenates them (see `embedding_strategy`).

use dfdx::prelude::*;

use super::embedding_strategy::{EmbeddingStrategy, Plan};
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, TableId, Track};
use crate::{Batch, FeatureSpec};

#[derive(Debug, Clone)]
pub struct FieldEmbedding {
    pub table: TableId,
    pub dim: usize,
    pub strategy: EmbeddingStrategy,
    pub plan: Plan,
    n_fields: usize,
}

impl FieldEmbedding {
    /// One row per id (`EmbeddingStrategy::Full`).
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, spec: &FeatureSpec, dim: usize, init: Init) -> Self {
        Self::with_strategy(s, spec, dim, init, EmbeddingStrategy::Full)
    }

    /// Panics if `strategy.check(spec, dim)` fails (the registry checks it first).
    pub fn with_strategy<D: Dev>(
        s: &mut Scope<'_, D>,
        spec: &FeatureSpec,
        dim: usize,
        init: Init,
        strategy: EmbeddingStrategy,
    ) -> Self {
        let plan = strategy.plan(spec, dim);
        assert!(
            plan.rows <= u32::MAX as u64,
            "embedding table exceeds 2^32 rows"
        );
        FieldEmbedding {
            table: s.table("table", plan.rows.max(1) as usize, plan.row_dim, init),
            dim,
            strategy,
            plan,
            n_fields: spec.sparse.len(),
        }
    }

    /// Embedding values a server must store (MDE: the sum of used widths).
    pub fn used_values(&self) -> u64 {
        self.plan.used_values()
    }

    /// [`Self::used_values`] where it is fewer than the table holds (MDE), else `None`:
    /// what a model reports as `Forward::embedding_values_used`.
    pub fn values_used_if_fewer(&self) -> Option<u64> {
        self.plan.widths.is_some().then(|| self.used_values())
    }

    pub fn n_fields(&self) -> usize {
        self.n_fields
    }

    /// The table rows the batch reads, `plan.per_field` per example and field.
    pub fn row_ids(&self, batch: &Batch) -> Vec<u32> {
        let f = self.n_fields();
        let mut ids = Vec::with_capacity(batch.size * f * self.plan.per_field);
        for row in batch.sparse.chunks_exact(f.max(1)) {
            self.plan.rows_of(row, &mut ids);
        }
        ids
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
        let ids = self.row_ids(batch);
        let x = ctx.lookup::<T>(store, self.table, ids);
        if self.plan.sums() {
            // BH sum: (B F n_b, d) -> (B F, n_b, d) -> sum over the blocks.
            let n_b = self.plan.per_field;
            ctx.flops.reduce(batch.size * f * n_b * self.dim);
            let x = x.reshape_like(&(batch.size * f, n_b, self.dim));
            let x = x.sum::<(usize, usize), Axis<1>>();
            return x.reshape_like(&(batch.size, f * self.dim));
        }
        // Full, hash, BH concat (n_b rows of dim / n_b per field, already in order).
        let x = x.reshape_like(&(batch.size, f * self.dim));
        match &self.plan.widths {
            // MDE: zero the trailing `dim - k_v` values of each id (a constant mask, so
            // they also get zero gradient).
            Some(widths) => {
                let mut mask = Vec::with_capacity(batch.size * f * self.dim);
                for row in self.row_ids(batch) {
                    let k = widths[row as usize] as usize;
                    mask.extend((0..self.dim).map(|j| if j < k { 1.0f32 } else { 0.0 }));
                }
                ctx.flops.elementwise(mask.len());
                let mask = store
                    .dev()
                    .tensor_from_vec(mask, (batch.size, f * self.dim));
                x * mask
            }
            None => x,
        }
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
