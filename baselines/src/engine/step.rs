//! One forward pass's context.
//!
//! `Ctx` collects what a forward pass did: FLOPs by phase and kind and the embedding
//! lookups whose leaf tensors receive gradients. It knows whether the forward is a
//! training one (under a tape), so layers' FLOP reports include their backward work
//! then. The training step itself is `crate::contract::step`, one for every kind.

use dfdx::prelude::*;

use super::device::{Dev, Track};
use super::flops::Flops;
use super::params::{BufferId, Col, Mat, ParamStore, TableId};

/// An embedding lookup made during a forward pass: which rows of which table, and the
/// leaf tensor holding them (whose gradient goes back to those rows).
pub struct Lookup<D: Dev> {
    pub table: TableId,
    pub ids: Vec<u32>,
    pub leaf: Mat<D>,
}

pub struct Ctx<D: Dev> {
    pub flops: Flops,
    pub(crate) lookups: Vec<Lookup<D>>,
    /// New buffer values a training forward computed (running statistics), applied by
    /// the training step after the optimizer's update.
    pub(crate) buffer_updates: Vec<(BufferId, Col<D>)>,
    scratch: Vec<f32>,
}

impl<D: Dev> Default for Ctx<D> {
    fn default() -> Self {
        Ctx {
            flops: Flops::default(),
            lookups: Vec::new(),
            buffer_updates: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl<D: Dev> Ctx<D> {
    /// A context for a forward pass under a tape: backward FLOPs are counted too.
    pub fn training() -> Self {
        let mut ctx = Ctx::default();
        ctx.set_training(true);
        ctx
    }
    /// Whether this forward runs under a tape (lookups are recorded, backward counted).
    pub fn is_training(&self) -> bool {
        self.flops.is_training()
    }
    /// Set by `Model::logits_train` / `logits_eval`, so a model cannot get it wrong.
    pub(crate) fn set_training(&mut self, training: bool) {
        self.flops.set_training(training);
    }
    /// Gathers rows `ids` of a table into an `(ids.len(), dim)` tensor on the device.
    /// Under a tape the tensor becomes a tracked leaf, remembered for the sparse update.
    pub fn lookup<T: Track<D>>(
        &mut self,
        store: &ParamStore<D>,
        table: TableId,
        ids: Vec<u32>,
    ) -> Mat<D, T> {
        let t = store.table(table);
        t.gather_into(&ids, &mut self.scratch);
        self.flops.gather(ids.len(), t.dim());
        let leaf = store
            .dev()
            .tensor_from_vec(std::mem::take(&mut self.scratch), (ids.len(), t.dim()));
        if T::OWNS_TAPE {
            self.lookups.push(Lookup {
                table,
                ids,
                leaf: leaf.clone(),
            });
        }
        T::track(leaf)
    }
    pub fn lookups(&self) -> &[Lookup<D>] {
        &self.lookups
    }
    /// Records buffer `id`'s new value; a training step stores it after its update.
    pub fn update_buffer(&mut self, id: BufferId, value: Col<D>) {
        self.buffer_updates.push((id, value));
    }
    /// Stores the recorded buffer values (in order, so a later update wins).
    pub fn apply_buffer_updates(&mut self, store: &mut ParamStore<D>) {
        for (id, v) in self.buffer_updates.drain(..) {
            store.set_buffer(id, v);
        }
    }
}

/// L2 norm of each parameter's gradient in `grads` (tables: summed over the forward's
/// lookups of that table), by name; 0 for a parameter the loss does not reach.
pub fn parameter_gradient_norms<D: Dev>(
    store: &ParamStore<D>,
    ctx: &Ctx<D>,
    grads: &mut Gradients<f32, D>,
) -> Vec<(String, f32)> {
    let norm = |v: Vec<f32>| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut out = Vec::new();
    for (name, p) in &store.mats {
        grads.get_or_alloc_mut(p).expect("alloc");
        out.push((name.clone(), norm(grads.get(p).as_vec())));
    }
    for (name, p) in &store.vecs {
        grads.get_or_alloc_mut(p).expect("alloc");
        out.push((name.clone(), norm(grads.get(p).as_vec())));
    }
    for (i, t) in store.tables.iter().enumerate() {
        let g: f32 = ctx
            .lookups
            .iter()
            .filter(|l| l.table.0 == i)
            .map(|l| norm(grads.get(&l.leaf).as_vec()))
            .sum();
        out.push((t.name.clone(), g));
    }
    out
}
