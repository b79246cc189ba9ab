//! What SASRec and HSTU share: a causal encoder whose final state at every position
//! predicts the next item with the shared item table, so their loss, user vector and
//! item vectors are written once.

use crate::contract::{Forward, Loss};
use crate::engine::{Ctx, Dev, Mat, ParamStore, TableId, Track};
use crate::kinds::retrieval::{Retrieval, RetrievalHints, SeqBatch};
use crate::layers::{last_rows, sampled_loss, SampledLoss};

/// A model whose final state at every position predicts the next item with the shared
/// item table (SASRec, HSTU): it gets its [`Forward`] from these three methods, so the
/// loss (sampled, over the batch's negatives), the user vector (the last position's
/// state) and the item vectors (the table) are written once.
pub trait NextItemEncoder: Send + Sync {
    /// Final states at every position, `(batch * max_len, d)`, causal.
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T>;
    fn loss_kind(&self) -> SampledLoss;
    /// The item embedding table, input and output side.
    fn item_table(&self) -> TableId;
}

impl<D: Dev, M: NextItemEncoder> Forward<Retrieval, D> for M {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let h = self.states::<D, T>(store, batch, ctx);
        last_rows(h, batch.size, 1, ctx)
    }

    fn loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Loss<D, T> {
        let h = self.states::<D, T>(store, batch, ctx);
        sampled_loss(self.loss_kind(), h, batch, self.item_table(), store, ctx)
    }

    /// Padding rows are zero and hidden from every real position (causal mask over
    /// valid positions, relative biases), and positions are counted from the end.
    fn hints(&self) -> RetrievalHints {
        RetrievalHints {
            trims_padding: true,
            benefits_from_length_buckets: true,
            ..RetrievalHints::default()
        }
    }

    fn item_vectors(&self, store: &ParamStore<D>) -> Option<Vec<f32>> {
        Some(store.table(self.item_table()).weights())
    }
}
