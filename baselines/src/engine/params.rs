//! Runtime-shaped parameter store.
//!
//! dfdx 0.13's module system only holds compile-time shapes, but our widths and
//! vocabularies come from data and task specs, so parameters live here instead: dense
//! matrices and vectors as dfdx tensors on the device, embedding tables as host-resident
//! `SparseTable`s. Models keep typed ids (`MatId`, `VecId`, `TableId`) and read tensors
//! from the store in their forward pass. Parameters are created through a scoped
//! builder (`store.scope("tower").pp("0").mat("weight", ..)`), so every parameter has a
//! dotted name, as in candle's VarBuilder.

use dfdx::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::device::Dev;
use super::init::Init;
use super::sparse::SparseTable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatId(pub(crate) usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VecId(pub(crate) usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableId(pub(crate) usize);

pub type Mat<D, T = NoneTape> = Tensor<(usize, usize), f32, D, T>;
pub type Col<D, T = NoneTape> = Tensor<(usize,), f32, D, T>;

pub struct ParamStore<D: Dev> {
    pub(super) dev: D,
    rng: ChaCha8Rng,
    pub(crate) mats: Vec<(String, Mat<D>)>,
    pub(crate) vecs: Vec<(String, Col<D>)>,
    pub(crate) tables: Vec<SparseTable>,
}

/// Sizes of what a store holds, for cost accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParamCounts {
    pub dense: usize,
    pub embedding: usize,
}

impl<D: Dev> ParamStore<D> {
    /// A store whose initial values are drawn from `seed`.
    pub fn new(dev: D, seed: u64) -> Self {
        ParamStore {
            dev,
            rng: ChaCha8Rng::seed_from_u64(seed),
            mats: Vec::new(),
            vecs: Vec::new(),
            tables: Vec::new(),
        }
    }
    pub fn dev(&self) -> &D {
        &self.dev
    }
    pub fn scope(&mut self, prefix: &str) -> Scope<'_, D> {
        Scope {
            store: self,
            prefix: prefix.to_string(),
        }
    }
    pub fn mat(&self, id: MatId) -> &Mat<D> {
        &self.mats[id.0].1
    }
    pub fn vec(&self, id: VecId) -> &Col<D> {
        &self.vecs[id.0].1
    }
    pub fn table(&self, id: TableId) -> &SparseTable {
        &self.tables[id.0]
    }
    pub fn table_mut(&mut self, id: TableId) -> &mut SparseTable {
        &mut self.tables[id.0]
    }
    pub fn tables(&self) -> &[SparseTable] {
        &self.tables
    }
    pub fn tables_mut(&mut self) -> &mut [SparseTable] {
        &mut self.tables
    }
    /// Names of every parameter, dense then tables, in creation order.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = self.mats.iter().map(|(n, _)| n.clone()).collect();
        out.extend(self.vecs.iter().map(|(n, _)| n.clone()));
        out.extend(self.tables.iter().map(|t| t.name.clone()));
        out
    }
    /// Every parameter's values by name (dense then tables, in creation order), on the
    /// host: what tests compare before and after training.
    pub fn named_values(&self) -> Vec<(String, Vec<f32>)> {
        let mut out: Vec<(String, Vec<f32>)> = self
            .mats
            .iter()
            .map(|(n, m)| (n.clone(), m.as_vec()))
            .collect();
        out.extend(self.vecs.iter().map(|(n, v)| (n.clone(), v.as_vec())));
        out.extend(self.tables.iter().map(|t| (t.name.clone(), t.weights())));
        out
    }
    pub fn counts(&self) -> ParamCounts {
        let dense = self
            .mats
            .iter()
            .map(|(_, m)| m.shape().num_elements())
            .sum::<usize>()
            + self
                .vecs
                .iter()
                .map(|(_, v)| v.shape().num_elements())
                .sum::<usize>();
        let embedding = self.tables.iter().map(|t| t.param_count()).sum();
        ParamCounts { dense, embedding }
    }
    /// Replaces a matrix's value (used by tests and by warm starts).
    pub fn set_mat(&mut self, id: MatId, value: Vec<f32>) {
        let shape = *self.mats[id.0].1.shape();
        assert_eq!(value.len(), shape.0 * shape.1, "set_mat: wrong length");
        self.mats[id.0].1 = self.dev.tensor_from_vec(value, shape);
    }
    pub fn set_vec(&mut self, id: VecId, value: Vec<f32>) {
        let shape = *self.vecs[id.0].1.shape();
        assert_eq!(value.len(), shape.0, "set_vec: wrong length");
        self.vecs[id.0].1 = self.dev.tensor_from_vec(value, shape);
    }
}

/// Parameter values at one point of training (no optimizer state), e.g. the best
/// epoch for early stopping. Dense tensors are shared copy-on-write, so a snapshot
/// costs the embedding tables' size.
pub struct Snapshot<D: Dev> {
    pub(super) mats: Vec<Mat<D>>,
    pub(super) vecs: Vec<Col<D>>,
    pub(super) tables: Vec<Vec<f32>>,
}

impl<D: Dev> ParamStore<D> {
    pub fn snapshot(&self) -> Snapshot<D> {
        Snapshot {
            mats: self.mats.iter().map(|(_, t)| t.clone()).collect(),
            vecs: self.vecs.iter().map(|(_, t)| t.clone()).collect(),
            tables: self.tables.iter().map(|t| t.weights()).collect(),
        }
    }
    pub fn restore(&mut self, snap: &Snapshot<D>) {
        for ((_, t), s) in self.mats.iter_mut().zip(&snap.mats) {
            *t = s.clone();
        }
        for ((_, t), s) in self.vecs.iter_mut().zip(&snap.vecs) {
            *t = s.clone();
        }
        for (t, s) in self.tables.iter_mut().zip(&snap.tables) {
            t.set_weights(s);
        }
    }
}

/// A named view into the store; `pp` descends one level (`tower` -> `tower.0`).
pub struct Scope<'a, D: Dev> {
    store: &'a mut ParamStore<D>,
    prefix: String,
}

impl<D: Dev> Scope<'_, D> {
    pub fn pp(&mut self, name: impl std::fmt::Display) -> Scope<'_, D> {
        Scope {
            prefix: self.full(&name.to_string()),
            store: self.store,
        }
    }
    fn full(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }
    pub fn mat(&mut self, name: &str, rows: usize, cols: usize, init: Init) -> MatId {
        let values = init.sample(&mut self.store.rng, rows * cols);
        let t = self.store.dev.tensor_from_vec(values, (rows, cols));
        self.store.mats.push((self.full(name), t));
        MatId(self.store.mats.len() - 1)
    }
    pub fn vec(&mut self, name: &str, len: usize, init: Init) -> VecId {
        let values = init.sample(&mut self.store.rng, len);
        let t = self.store.dev.tensor_from_vec(values, (len,));
        self.store.vecs.push((self.full(name), t));
        VecId(self.store.vecs.len() - 1)
    }
    pub fn table(&mut self, name: &str, rows: usize, dim: usize, init: Init) -> TableId {
        let t = SparseTable::new(&self.full(name), rows, dim, init, &mut self.store.rng);
        self.store.tables.push(t);
        TableId(self.store.tables.len() - 1)
    }
}
