//! Host copies of everything training changes, for checkpoints that resume a cell in
//! the middle of its epochs with the same result as an uninterrupted run: parameter
//! values (dense tensors and tables with their row-wise optimizer state), the dense
//! optimizer's step and moments, a snapshot of the best epoch, FLOP counts, and the
//! number of draws taken from the device's random stream (dropout masks, KuaiFormer's
//! replayed requests), which dfdx does not let us read or set: a resumed run replays
//! that many draws from a device opened with the same seed ([`device_seed`]).
//!
//! Loading checks names and sizes, so a checkpoint of another model or configuration
//! is an error rather than silently wrong parameters.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::BTreeMap;

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::device::Dev;
use super::flops::Flops;
use super::optim::Optimizer;
use super::params::{ParamStore, Snapshot};

/// Copies between a device's raw buffers (the optimizer's moments) and the host; dfdx
/// 0.13 only offers that for tensors.
pub trait HostVec: Storage<f32> {
    fn to_host(&self, v: &Self::Vec) -> Vec<f32>;
    fn copy_from_host(&self, v: &mut Self::Vec, src: &[f32]);
}

impl HostVec for Cpu {
    fn to_host(&self, v: &Self::Vec) -> Vec<f32> {
        v.to_vec()
    }
    fn copy_from_host(&self, v: &mut Self::Vec, src: &[f32]) {
        v.copy_from_slice(src);
    }
}

#[cfg(feature = "cuda")]
impl HostVec for dfdx::tensor::Cuda {
    fn to_host(&self, v: &Self::Vec) -> Vec<f32> {
        v.device()
            .dtoh_sync_copy(v)
            .expect("copying optimizer state to the host")
    }
    fn copy_from_host(&self, v: &mut Self::Vec, src: &[f32]) {
        v.device()
            .htod_sync_copy_into(src, v)
            .expect("copying optimizer state to the device");
    }
}

thread_local! {
    /// Draws taken from devices' random streams on this thread (a device is not `Send`,
    /// so its draws are all counted on the thread that made it).
    static DEVICE_DRAWS: Cell<u64> = const { Cell::new(0) };
}

/// A seed drawn from the device's random stream. Every draw from that stream goes
/// through here, so a checkpoint can count them ([`device_draws`]) and a resumed run
/// replay them ([`replay_device_draws`]).
pub fn device_seed<D: Dev>(dev: &D) -> u64 {
    DEVICE_DRAWS.with(|c| c.set(c.get() + 1));
    dev.random_u64()
}

/// Draws taken through [`device_seed`] on this thread so far.
pub fn device_draws() -> u64 {
    DEVICE_DRAWS.with(Cell::get)
}

/// Advances `dev`'s random stream by `n` draws, to where a checkpointed run left it.
pub fn replay_device_draws<D: Dev>(dev: &D, n: u64) {
    for _ in 0..n {
        device_seed(dev);
    }
}

#[derive(Debug, thiserror::Error)]
#[error("checkpoint does not fit this model: {0}")]
pub struct StateMismatch(pub String);

fn check(what: &str, want: usize, got: usize) -> Result<(), StateMismatch> {
    if want == got {
        Ok(())
    } else {
        Err(StateMismatch(format!(
            "{what}: {got} values, expected {want}"
        )))
    }
}

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
}

/// The dense optimizer's step counter and Adam moments (m, v) per matrix and vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimState {
    pub step: i32,
    pub mats: Vec<(Vec<f32>, Vec<f32>)>,
    pub vecs: Vec<(Vec<f32>, Vec<f32>)>,
}

/// Parameter values of a [`Snapshot`] (the best epoch's), in the store's order; the
/// tables borrowed from the snapshot when saving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotState<'a> {
    pub mats: Vec<Vec<f32>>,
    pub vecs: Vec<Vec<f32>>,
    pub tables: Vec<Cow<'a, [f32]>>,
}

/// FLOP counts by phase and kind, with owned names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlopsState {
    pub forward: BTreeMap<String, u64>,
    pub backward: BTreeMap<String, u64>,
    pub optimizer: BTreeMap<String, u64>,
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
        }
    }

    /// Overwrites every value with `state`'s. The tables' optimizer must already be set
    /// (`Optimizer::new`), so their layouts match.
    pub fn load_state(&mut self, state: &StoreState) -> Result<(), StateMismatch> {
        check("matrices", self.mats.len(), state.mats.len())?;
        check("vectors", self.vecs.len(), state.vecs.len())?;
        check("tables", self.tables.len(), state.tables.len())?;
        load_named(&self.dev, &mut self.mats, &state.mats)?;
        load_named(&self.dev, &mut self.vecs, &state.vecs)?;
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
        }
    }
}

impl<D: Dev> Optimizer<D> {
    pub fn state(&self, store: &ParamStore<D>) -> OptimState {
        let dev = store.dev();
        let host = |(m, v): &(<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec)| {
            (dev.to_host(m), dev.to_host(v))
        };
        OptimState {
            step: self.step,
            mats: self.mat_moments.iter().map(host).collect(),
            vecs: self.vec_moments.iter().map(host).collect(),
        }
    }

    pub fn load_state(
        &mut self,
        store: &ParamStore<D>,
        state: &OptimState,
    ) -> Result<(), StateMismatch> {
        check(
            "moments of matrices",
            self.mat_moments.len(),
            state.mats.len(),
        )?;
        check(
            "moments of vectors",
            self.vec_moments.len(),
            state.vecs.len(),
        )?;
        let dev = store.dev();
        let pairs = self
            .mat_moments
            .iter_mut()
            .zip(&state.mats)
            .chain(self.vec_moments.iter_mut().zip(&state.vecs));
        for ((m, v), (hm, hv)) in pairs {
            check("moment", Storage::<f32>::len(dev, m), hm.len())?;
            check("moment", Storage::<f32>::len(dev, v), hv.len())?;
            dev.copy_from_host(m, hm);
            dev.copy_from_host(v, hv);
        }
        self.step = state.step;
        Ok(())
    }
}

impl Flops {
    pub fn state(&self) -> FlopsState {
        let owned =
            |m: &BTreeMap<&'static str, u64>| m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        FlopsState {
            forward: owned(self.forward_by_kind()),
            backward: owned(self.backward_by_kind()),
            optimizer: owned(self.optimizer_by_kind()),
        }
    }

    /// Counts from a checkpoint. Kind names are `&'static str` in the counter, so the
    /// few names read back are leaked (once per resumed cell, a few bytes each).
    pub fn from_state(state: &FlopsState) -> Flops {
        let name = |k: &String| -> &'static str { Box::leak(k.clone().into_boxed_str()) };
        let mut f = Flops::default();
        for (k, v) in &state.forward {
            f.add_forward(name(k), *v);
        }
        for (k, v) in &state.backward {
            f.add_backward(name(k), *v);
        }
        for (k, v) in &state.optimizer {
            f.add_optimizer(name(k), *v);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Init, OptimConfig};

    fn store(seed: u64) -> ParamStore<Cpu> {
        let mut s = ParamStore::new(Cpu::seed_from_u64(seed), seed);
        let mut sc = s.scope("m");
        sc.mat("w", 3, 2, Init::Normal { std: 0.5 });
        sc.vec("b", 2, Init::Normal { std: 0.5 });
        sc.table("items", 5, 2, Init::Normal { std: 0.5 });
        s
    }

    #[test]
    fn store_optimizer_and_snapshot_round_trip_bit_for_bit() {
        let mut a = store(1);
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut a);
        let best = a.snapshot();
        // Give the moments and the step something other than zeros.
        let mut os = opt.state(&a);
        os.step = 7;
        os.mats[0].0.iter_mut().for_each(|x| *x = 0.25);
        os.vecs[0].1.iter_mut().for_each(|x| *x = 1.5);
        opt.load_state(&a, &os).unwrap();
        let mut b = store(2);
        let mut opt_b = Optimizer::new(&OptimConfig::default(), &mut b);
        assert_ne!(b.state(), a.state());
        b.load_state(&a.state()).unwrap();
        opt_b.load_state(&b, &opt.state(&a)).unwrap();
        assert_eq!(b.state(), a.state());
        assert_eq!(opt_b.state(&b), os);
        let snap = b.snapshot_from(&best.state()).unwrap();
        assert_eq!(snap.state(), best.state());
    }

    #[test]
    fn a_state_of_another_shape_or_name_is_refused() {
        let a = store(1);
        let mut other = ParamStore::new(Cpu::default(), 1);
        other.scope("m").mat("w", 2, 2, Init::Zeros);
        let err = other.load_state(&a.state()).unwrap_err().to_string();
        assert!(err.contains("vectors: 1 values, expected 0"), "{err}");
        let mut renamed = a.state();
        renamed.mats[0].name = "m.v".into();
        let mut b = store(1);
        let err = b.load_state(&renamed).unwrap_err().to_string();
        assert!(err.contains("parameter `m.v`, expected `m.w`"), "{err}");
    }

    #[test]
    fn replayed_draws_put_a_fresh_device_where_the_first_one_was() {
        let a = Cpu::seed_from_u64(9);
        let before = device_draws();
        let _ = (device_seed(&a), device_seed(&a), device_seed(&a));
        assert_eq!(device_draws() - before, 3);
        let b = Cpu::seed_from_u64(9);
        replay_device_draws(&b, 3);
        assert_eq!(device_seed(&a), device_seed(&b));
    }

    /// A model drawing from the device's stream directly (not through `device_seed`:
    /// dfdx's RNG, its random tensors or its dropout) would make resumed cells differ
    /// from uninterrupted ones without any error.
    #[test]
    fn every_device_draw_goes_through_device_seed() {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs")
                    && !p.ends_with("engine/state.rs")
                {
                    // dfdx's own draws from the device: its RNG, random tensors, dropout.
                    let text = std::fs::read_to_string(&p).unwrap();
                    let direct = [
                        ".random_u64()",
                        ".sample_normal",
                        ".sample_uniform",
                        ".sample_like",
                        ".sample_rand",
                        ".dropout(",
                    ];
                    for call in direct.iter().filter(|c| text.contains(*c)) {
                        out.push(format!("{} ({call})", p.display()));
                    }
                }
            }
        }
        let mut direct = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut direct,
        );
        assert!(direct.is_empty(), "use engine::device_seed in {direct:?}");
    }

    #[test]
    fn flop_counts_round_trip() {
        let mut f = Flops::training();
        f.matmul(2, 3, 4);
        f.add_optimizer("dense", 11);
        assert_eq!(Flops::from_state(&f.state()).state(), f.state());
    }
}
