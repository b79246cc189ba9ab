//! Runtime-shaped parameter store.
//!
//! dfdx 0.13's module system only holds compile-time shapes, but our widths and
//! vocabularies come from data and task specs, so parameters live here instead: dense
//! matrices and vectors as dfdx tensors on the device, embedding tables as host-resident
//! `SparseTable`s. Models keep typed ids (`MatId`, `VecId`, `TableId`) and read tensors
//! from the store in their forward pass. Parameters are created through a scoped
//! builder (`store.scope("tower").pp("0").mat("weight", ..)`), so every parameter has a
//! dotted name, as in candle's VarBuilder.
//!
//! A parameter's initial values are drawn from its own stream, seeded by the cell seed
//! and its dotted name ([`param_rng`]): adding, removing or reordering other parameters
//! changes none of its values, so a model's new option does not change the records of
//! every configuration without it.

use dfdx::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::device::Dev;
use super::init::Init;
use super::sparse::SparseTable;
use super::state::{check, StateMismatch};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatId(pub(crate) usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VecId(pub(crate) usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableId(pub(crate) usize);
/// A buffer: model state that is not trained by gradients (batch normalization's
/// running statistics), updated by the training step from what a forward pass records
/// (`Ctx::update_buffer`), saved and restored with the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferId(pub(crate) usize);

pub type Mat<D, T = NoneTape> = Tensor<(usize, usize), f32, D, T>;
pub type Col<D, T = NoneTape> = Tensor<(usize,), f32, D, T>;

pub struct ParamStore<D: Dev> {
    pub(super) dev: D,
    seed: u64,
    pub(crate) mats: Vec<(String, Mat<D>)>,
    pub(crate) vecs: Vec<(String, Col<D>)>,
    pub(crate) tables: Vec<SparseTable>,
    pub(crate) buffers: Vec<(String, Col<D>)>,
}

/// Sizes of what a store holds, for cost accounting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ParamCounts {
    pub dense: usize,
    pub embedding: usize,
}

impl<D: Dev> ParamStore<D> {
    /// A store whose initial values are drawn from `seed`, one stream per parameter.
    pub fn new(dev: D, seed: u64) -> Self {
        ParamStore {
            dev,
            seed,
            mats: Vec::new(),
            vecs: Vec::new(),
            tables: Vec::new(),
            buffers: Vec::new(),
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
    pub fn buffer(&self, id: BufferId) -> &Col<D> {
        &self.buffers[id.0].1
    }
    /// Replaces a buffer's value (same length).
    pub fn set_buffer(&mut self, id: BufferId, value: Col<D>) {
        assert_eq!(
            value.shape(),
            self.buffers[id.0].1.shape(),
            "buffer `{}`: wrong length",
            self.buffers[id.0].0
        );
        self.buffers[id.0].1 = value;
    }
    /// Buffers by name with their values, on the host.
    pub fn named_buffers(&self) -> Vec<(String, Vec<f32>)> {
        self.buffers
            .iter()
            .map(|(n, v)| (n.clone(), v.as_vec()))
            .collect()
    }
    /// Values held in buffers (not parameters: no gradient, no optimizer state).
    pub fn buffer_values(&self) -> usize {
        self.buffers.iter().map(|(_, v)| v.shape().0).sum()
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
    /// Values (dense and table) of the parameters under the dotted `prefixes`.
    pub fn values_under(&self, prefixes: &[&str]) -> usize {
        let mats = self.mats.iter().filter(|(n, _)| under(n, prefixes));
        let vecs = self.vecs.iter().filter(|(n, _)| under(n, prefixes));
        let tables = self.tables.iter().filter(|t| under(&t.name, prefixes));
        mats.map(|(_, m)| m.shape().num_elements()).sum::<usize>()
            + vecs.map(|(_, v)| v.shape().num_elements()).sum::<usize>()
            + tables.map(|t| t.param_count()).sum::<usize>()
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
    /// Copies into this store the values of `other`'s parameters, each to the
    /// parameter `rename` names (`None`: not copied), shapes checked; returns how many
    /// were copied. For tests that compare two models on the same weights, and warm
    /// starts.
    pub fn copy_from(
        &mut self,
        other: &ParamStore<D>,
        rename: impl Fn(&str) -> Option<String>,
    ) -> usize {
        let mut copied = 0;
        for (name, values) in other.named_values() {
            let Some(target) = rename(&name) else {
                continue;
            };
            if let Some(i) = self.mats.iter().position(|(n, _)| *n == target) {
                self.set_mat(MatId(i), values);
            } else if let Some(i) = self.vecs.iter().position(|(n, _)| *n == target) {
                self.set_vec(VecId(i), values);
            } else if let Some(t) = self.tables.iter_mut().find(|t| t.name == target) {
                assert_eq!(t.param_count(), values.len(), "copy_from: `{target}` size");
                t.set_weights(&values);
            } else {
                continue;
            }
            copied += 1;
        }
        for (name, values) in other.named_buffers() {
            let Some(target) = rename(&name) else {
                continue;
            };
            if let Some(i) = self.buffers.iter().position(|(n, _)| *n == target) {
                let value = self
                    .dev
                    .tensor_from_vec(values, (self.buffers[i].1.shape().0,));
                self.set_buffer(BufferId(i), value);
                copied += 1;
            }
        }
        copied
    }
    pub fn set_vec(&mut self, id: VecId, value: Vec<f32>) {
        let shape = *self.vecs[id.0].1.shape();
        assert_eq!(value.len(), shape.0, "set_vec: wrong length");
        self.vecs[id.0].1 = self.dev.tensor_from_vec(value, shape);
    }
}

/// The random stream of parameter `name` (dotted) in a store of `seed`: ChaCha8 keyed
/// by SHA-256 of a version tag, the seed and the name.
pub fn param_rng(seed: u64, name: &str) -> ChaCha8Rng {
    let mut h = Sha256::new();
    h.update(b"recbench-param-init-v1\0");
    h.update(seed.to_le_bytes());
    h.update(name.as_bytes());
    ChaCha8Rng::from_seed(h.finalize().into())
}

/// Parameter values at one point of training (no optimizer state), e.g. the best
/// epoch for early stopping. Dense tensors are shared copy-on-write, so a snapshot
/// costs the embedding tables' size.
pub struct Snapshot<D: Dev> {
    pub(super) mats: Vec<Mat<D>>,
    pub(super) vecs: Vec<Col<D>>,
    pub(super) tables: Vec<Vec<f32>>,
    pub(super) buffers: Vec<Col<D>>,
}

impl<D: Dev> ParamStore<D> {
    pub fn snapshot(&self) -> Snapshot<D> {
        Snapshot {
            mats: self.mats.iter().map(|(_, t)| t.clone()).collect(),
            vecs: self.vecs.iter().map(|(_, t)| t.clone()).collect(),
            tables: self.tables.iter().map(|t| t.weights()).collect(),
            buffers: self.buffers.iter().map(|(_, t)| t.clone()).collect(),
        }
    }
    pub fn restore(&mut self, snap: &Snapshot<D>) {
        for ((_, t), s) in self.buffers.iter_mut().zip(&snap.buffers) {
            *t = s.clone();
        }
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
    /// The full dotted name of a new parameter `name` and its own random stream.
    /// Panics if the store already holds a parameter of that name: two parameters of
    /// one name would start from the same values.
    fn new_param(&self, name: &str) -> (String, ChaCha8Rng) {
        let full = self.full(name);
        assert!(
            !self.store.names().contains(&full)
                && !self.store.buffers.iter().any(|(n, _)| *n == full),
            "parameter `{full}` is created twice"
        );
        let rng = param_rng(self.store.seed, &full);
        (full, rng)
    }
    pub fn mat(&mut self, name: &str, rows: usize, cols: usize, init: Init) -> MatId {
        let (full, mut rng) = self.new_param(name);
        let values = init.sample(&mut rng, rows * cols);
        let t = self.store.dev.tensor_from_vec(values, (rows, cols));
        self.store.mats.push((full, t));
        MatId(self.store.mats.len() - 1)
    }
    pub fn vec(&mut self, name: &str, len: usize, init: Init) -> VecId {
        let (full, mut rng) = self.new_param(name);
        let values = init.sample(&mut rng, len);
        let t = self.store.dev.tensor_from_vec(values, (len,));
        self.store.vecs.push((full, t));
        VecId(self.store.vecs.len() - 1)
    }
    /// A buffer of `len` values, all `value` (no random draws).
    pub fn buffer(&mut self, name: &str, len: usize, value: f32) -> BufferId {
        let (full, _) = self.new_param(name);
        let t = self.store.dev.tensor_from_vec(vec![value; len], (len,));
        self.store.buffers.push((full, t));
        BufferId(self.store.buffers.len() - 1)
    }
    pub fn table(&mut self, name: &str, rows: usize, dim: usize, init: Init) -> TableId {
        let (full, mut rng) = self.new_param(name);
        let t = SparseTable::new(&full, rows, dim, init, &mut rng);
        self.store.tables.push(t);
        TableId(self.store.tables.len() - 1)
    }
}

// Host copies of the store and of a snapshot, for checkpoints (`super::state`).

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedValues {
    pub name: String,
    pub values: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableState<'a> {
    pub name: String,
    /// Weights and row-wise optimizer state, as the table lays them out; borrowed from
    /// the table when saving, so a checkpoint does not copy the largest state.
    pub data: Cow<'a, [f32]>,
    pub step: u32,
}

/// Every parameter value of a store, with the tables' optimizer state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreState<'a> {
    pub mats: Vec<NamedValues>,
    pub vecs: Vec<NamedValues>,
    pub tables: Vec<TableState<'a>>,
    #[serde(default)]
    pub buffers: Vec<NamedValues>,
}

/// Parameter values of a [`Snapshot`] (the best epoch's), in the store's order; the
/// tables borrowed from the snapshot when saving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotState<'a> {
    pub mats: Vec<Vec<f32>>,
    pub vecs: Vec<Vec<f32>>,
    pub tables: Vec<Cow<'a, [f32]>>,
    #[serde(default)]
    pub buffers: Vec<Vec<f32>>,
}

fn named_values<S: Shape, D: Dev>(params: &[(String, Tensor<S, f32, D>)]) -> Vec<NamedValues> {
    params
        .iter()
        .map(|(name, t)| NamedValues {
            name: name.clone(),
            values: t.as_vec(),
        })
        .collect()
}

impl<D: Dev> ParamStore<D> {
    pub fn state(&self) -> StoreState<'_> {
        StoreState {
            mats: named_values(&self.mats),
            vecs: named_values(&self.vecs),
            tables: self
                .tables
                .iter()
                .map(|t| TableState {
                    name: t.name.clone(),
                    data: Cow::Borrowed(t.raw_data()),
                    step: t.step(),
                })
                .collect(),
            buffers: named_values(&self.buffers),
        }
    }

    /// Overwrites every value with `state`'s. The tables' optimizer must already be set
    /// (`Optimizer::new`), so their layouts match.
    pub fn load_state(&mut self, state: &StoreState) -> Result<(), StateMismatch> {
        check("matrices", self.mats.len(), state.mats.len())?;
        check("vectors", self.vecs.len(), state.vecs.len())?;
        check("tables", self.tables.len(), state.tables.len())?;
        check("buffers", self.buffers.len(), state.buffers.len())?;
        load_named(&self.dev, &mut self.mats, &state.mats)?;
        load_named(&self.dev, &mut self.vecs, &state.vecs)?;
        load_named(&self.dev, &mut self.buffers, &state.buffers)?;
        for (t, s) in self.tables.iter_mut().zip(&state.tables) {
            if t.name != s.name {
                return Err(StateMismatch(format!(
                    "table `{}`, expected `{}`",
                    s.name, t.name
                )));
            }
            check(&t.name, t.raw_data().len(), s.data.len())?;
            t.load_raw(&s.data, s.step);
        }
        Ok(())
    }

    /// A snapshot of the parameter values in `state` (sizes checked against the store).
    pub fn snapshot_from(&self, state: &SnapshotState) -> Result<Snapshot<D>, StateMismatch> {
        check("snapshot tables", self.tables.len(), state.tables.len())?;
        for (t, v) in self.tables.iter().zip(&state.tables) {
            check(&t.name, t.param_count(), v.len())?;
        }
        Ok(Snapshot {
            mats: tensors_like(&self.dev, &self.mats, &state.mats)?,
            vecs: tensors_like(&self.dev, &self.vecs, &state.vecs)?,
            tables: state.tables.iter().map(|t| t.to_vec()).collect(),
            buffers: tensors_like(&self.dev, &self.buffers, &state.buffers)?,
        })
    }
}

/// Tensors shaped like `params`, holding `values` (one list per parameter, sizes checked).
fn tensors_like<S: Shape, D: Dev>(
    dev: &D,
    params: &[(String, Tensor<S, f32, D>)],
    values: &[Vec<f32>],
) -> Result<Vec<Tensor<S, f32, D>>, StateMismatch> {
    check("snapshot parameters", params.len(), values.len())?;
    params
        .iter()
        .zip(values)
        .map(|((name, t), v)| {
            check(name, t.shape().num_elements(), v.len())?;
            Ok(dev.tensor_from_vec(v.clone(), *t.shape()))
        })
        .collect()
}

/// Overwrites `params` with `state`'s values, names and sizes checked.
fn load_named<S: Shape, D: Dev>(
    dev: &D,
    params: &mut [(String, Tensor<S, f32, D>)],
    state: &[NamedValues],
) -> Result<(), StateMismatch> {
    for ((name, t), s) in params.iter_mut().zip(state) {
        if *name != s.name {
            return Err(StateMismatch(format!(
                "parameter `{}`, expected `{name}`",
                s.name
            )));
        }
        check(name, t.shape().num_elements(), s.values.len())?;
        *t = dev.tensor_from_vec(s.values.clone(), *t.shape());
    }
    Ok(())
}

impl<D: Dev> Snapshot<D> {
    pub fn state(&self) -> SnapshotState<'_> {
        SnapshotState {
            mats: self.mats.iter().map(|t| t.as_vec()).collect(),
            vecs: self.vecs.iter().map(|t| t.as_vec()).collect(),
            tables: self
                .tables
                .iter()
                .map(|t| Cow::Borrowed(t.as_slice()))
                .collect(),
            buffers: self.buffers.iter().map(|t| t.as_vec()).collect(),
        }
    }
}

/// Whether parameter `name` lies under one of the dotted `prefixes` (`a.b` covers `a.b`
/// and `a.b.c`, not `a.bc`).
pub(crate) fn under(name: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| {
        name.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(store: &ParamStore<Cpu>, name: &str) -> Vec<f32> {
        let (_, v) = store
            .named_values()
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap();
        v
    }

    #[test]
    fn a_parameter_depends_on_the_seed_and_its_name_only() {
        let init = Init::Normal { std: 1.0 };
        let mut a = ParamStore::new(Cpu::default(), 5);
        a.scope("m").mat("w", 4, 3, init);
        a.scope("m").table("items", 6, 2, init);
        // Another order, an extra parameter before them, another scope path to them.
        let mut b = ParamStore::new(Cpu::default(), 5);
        b.scope("m").vec("extra", 7, init);
        b.scope("m").table("items", 6, 2, init);
        b.scope("").pp("m").mat("w", 4, 3, init);
        assert_eq!(values(&a, "m.w"), values(&b, "m.w"));
        assert_eq!(values(&a, "m.items"), values(&b, "m.items"));
        // Another seed or another name: other values.
        let mut c = ParamStore::new(Cpu::default(), 6);
        c.scope("m").mat("w", 4, 3, init);
        c.scope("m").mat("v", 4, 3, init);
        assert_ne!(values(&a, "m.w"), values(&c, "m.w"));
        assert_ne!(values(&c, "m.w"), values(&c, "m.v"));
    }

    #[test]
    #[should_panic(expected = "parameter `m.w` is created twice")]
    fn a_name_cannot_be_created_twice() {
        let mut s = ParamStore::new(Cpu::default(), 0);
        s.scope("m").mat("w", 2, 2, Init::Zeros);
        s.scope("m").vec("w", 2, Init::Zeros);
    }
}
