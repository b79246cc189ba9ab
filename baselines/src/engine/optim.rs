//! Optimizers. Dense parameters use dfdx's fused Adam kernel (CPU and CUDA) on our
//! runtime-shaped tensors, with moments kept here; weight decay is L2 (Adam) or
//! decoupled (AdamW, Loshchilov & Hutter 2019). Embedding tables use their own row-wise
//! lazy optimizers (see `sparse.rs`).

use dfdx::prelude::*;
use dfdx::tensor_ops::{AdamConfig, WeightDecay};
use serde::{Deserialize, Serialize};

use super::device::Dev;
use super::flops::{Flops, ADAGRAD_PER_VALUE, ADAM_PER_VALUE, WEIGHT_DECAY_PER_VALUE};
use super::params::under;
use super::params::ParamStore;
use super::sparse::SparseOptim;
use super::state::{check, StateMismatch};
use super::step::Lookup;

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    /// Learning rate of dense parameters.
    #[serde(default = "default_lr")]
    pub lr: f32,
    /// Decoupled weight decay (AdamW) on dense parameters; 0 disables it.
    #[serde(default)]
    pub weight_decay: f32,
    /// Optimizer of the embedding tables.
    #[serde(default = "default_sparse")]
    pub sparse: SparseOptim,
}

fn default_lr() -> f32 {
    1e-3
}
fn default_sparse() -> SparseOptim {
    SparseOptim::adam(1e-3)
}

impl Default for OptimConfig {
    fn default() -> Self {
        OptimConfig {
            lr: default_lr(),
            weight_decay: 0.0,
            sparse: default_sparse(),
        }
    }
}

pub struct Optimizer<D: Dev> {
    cfg: AdamConfig,
    pub(super) step: i32,
    pub(super) mat_moments: Vec<(<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec)>,
    pub(super) vec_moments: Vec<(<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec)>,
    /// Host copy of one table's lookup gradients and their row ids, reused across steps.
    sparse_grad: Vec<f32>,
    sparse_ids: Vec<u32>,
    /// Which matrices, vectors and tables [`Optimizer::freeze`] took out of training.
    frozen_mats: Vec<bool>,
    frozen_vecs: Vec<bool>,
    frozen_tables: Vec<bool>,
}

impl<D: Dev> Optimizer<D> {
    /// Allocates dense moments and lays out row-wise state in every table of `store`.
    pub fn new(cfg: &OptimConfig, store: &mut ParamStore<D>) -> Self {
        let dev = store.dev().clone();
        let zeros = |n: usize| {
            <D as Storage<f32>>::try_alloc_len(&dev, n).expect("allocating optimizer state")
        };
        let mat_moments = store
            .mats
            .iter()
            .map(|(_, m)| {
                (
                    zeros(m.shape().num_elements()),
                    zeros(m.shape().num_elements()),
                )
            })
            .collect();
        let vec_moments = store
            .vecs
            .iter()
            .map(|(_, v)| {
                (
                    zeros(v.shape().num_elements()),
                    zeros(v.shape().num_elements()),
                )
            })
            .collect();
        for t in store.tables_mut() {
            t.set_optimizer(cfg.sparse);
        }
        Optimizer {
            cfg: AdamConfig {
                lr: cfg.lr as f64,
                betas: [0.9, 0.999],
                eps: 1e-8,
                weight_decay: (cfg.weight_decay > 0.0)
                    .then_some(WeightDecay::Decoupled(cfg.weight_decay as f64)),
            },
            step: 0,
            mat_moments,
            vec_moments,
            sparse_grad: Vec::new(),
            sparse_ids: Vec::new(),
            frozen_mats: vec![false; store.mats.len()],
            frozen_vecs: vec![false; store.vecs.len()],
            frozen_tables: vec![false; store.tables.len()],
        }
    }

    /// Takes every parameter under one of the dotted `prefixes` out of training: later
    /// steps leave it bit-identical whatever its gradient, its moments or the weight
    /// decay (a backbone frozen after pre-training, as LUM's step 3). A frozen table
    /// must not be looked up under a tape: [`Optimizer::step`] panics if it is, since
    /// that is a model computing gradients it means to throw away.
    pub fn freeze(&mut self, store: &ParamStore<D>, prefixes: &[&str]) {
        for (flag, (name, _)) in self.frozen_mats.iter_mut().zip(&store.mats) {
            *flag |= under(name, prefixes);
        }
        for (flag, (name, _)) in self.frozen_vecs.iter_mut().zip(&store.vecs) {
            *flag |= under(name, prefixes);
        }
        for (flag, t) in self.frozen_tables.iter_mut().zip(&store.tables) {
            *flag |= under(&t.name, prefixes);
        }
    }

    /// Freezes every parameter outside the dotted `prefixes` (a pre-training that
    /// updates one part of a model); `&[]` freezes nothing.
    pub fn train_only(&mut self, store: &ParamStore<D>, prefixes: &[&str]) {
        if prefixes.is_empty() {
            return;
        }
        for (flag, (name, _)) in self.frozen_mats.iter_mut().zip(&store.mats) {
            *flag |= !under(name, prefixes);
        }
        for (flag, (name, _)) in self.frozen_vecs.iter_mut().zip(&store.vecs) {
            *flag |= !under(name, prefixes);
        }
        for (flag, t) in self.frozen_tables.iter_mut().zip(&store.tables) {
            *flag |= !under(&t.name, prefixes);
        }
    }

    /// Dense parameter values the optimizer updates (frozen ones left out).
    fn trained_dense(&self, store: &ParamStore<D>) -> usize {
        let mats = store.mats.iter().zip(&self.frozen_mats);
        let vecs = store.vecs.iter().zip(&self.frozen_vecs);
        mats.filter(|(_, &f)| !f)
            .map(|((_, m), _)| m.shape().num_elements())
            .sum::<usize>()
            + vecs
                .filter(|(_, &f)| !f)
                .map(|((_, v), _)| v.shape().num_elements())
                .sum::<usize>()
    }

    /// Bytes of dense optimizer state (two moments per dense parameter).
    pub fn dense_state_bytes(&self, store: &ParamStore<D>) -> usize {
        2 * store.counts().dense * std::mem::size_of::<f32>()
    }

    /// Bytes of all optimizer state: dense moments plus the tables' row-wise state.
    pub fn state_bytes(&self, store: &ParamStore<D>) -> usize {
        self.dense_state_bytes(store) + store.tables.iter().map(|t| t.state_bytes()).sum::<usize>()
    }

    /// One step: dense parameters from `grads`, tables from this step's lookups. Adds
    /// the update's FLOPs to `flops` (`optimizer` phase, kinds `dense` and `embedding`).
    pub fn step(
        &mut self,
        store: &mut ParamStore<D>,
        grads: &mut Gradients<f32, D>,
        lookups: &[Lookup<D>],
        flops: &mut Flops,
    ) {
        self.step += 1;
        let per_dense = ADAM_PER_VALUE
            + if self.cfg.weight_decay.is_some() {
                WEIGHT_DECAY_PER_VALUE
            } else {
                0
            };
        flops.add_optimizer("dense", per_dense * self.trained_dense(store) as u64);
        let mats = store.mats.iter_mut().zip(self.mat_moments.iter_mut());
        for (((_, p), (m, v)), _) in mats.zip(&self.frozen_mats).filter(|(_, &f)| !f) {
            let g = grads.get_or_alloc_mut(p).expect("gradient alloc");
            self.cfg
                .try_update(self.step, p, m, v, &*g)
                .expect("adam update");
        }
        let vecs = store.vecs.iter_mut().zip(self.vec_moments.iter_mut());
        for (((_, p), (m, v)), _) in vecs.zip(&self.frozen_vecs).filter(|(_, &f)| !f) {
            let g = grads.get_or_alloc_mut(p).expect("gradient alloc");
            self.cfg
                .try_update(self.step, p, m, v, &*g)
                .expect("adam update");
        }
        // One row-wise update per table and step: a model that looks a table up several
        // times in one forward (inputs, targets, negatives of the same item table) must
        // get the summed gradient applied once, not one optimizer step per lookup.
        let mut tables: Vec<usize> = lookups.iter().map(|l| l.table.0).collect();
        tables.sort_unstable();
        tables.dedup();
        for t in tables {
            assert!(
                !self.frozen_tables[t],
                "frozen table `{}` was looked up under a tape",
                store.tables[t].name
            );
            self.sparse_grad.clear();
            self.sparse_ids.clear();
            for lookup in lookups.iter().filter(|l| l.table.0 == t) {
                let start = self.sparse_grad.len();
                self.sparse_grad
                    .resize(start + lookup.leaf.shape().num_elements(), 0.0);
                grads
                    .get(&lookup.leaf)
                    .copy_into(&mut self.sparse_grad[start..]);
                self.sparse_ids.extend_from_slice(&lookup.ids);
            }
            let table = &mut store.tables_mut()[t];
            let rows = table.apply(&self.sparse_ids, &self.sparse_grad);
            let per_value = match table.optimizer() {
                Some(SparseOptim::Adagrad { .. }) => ADAGRAD_PER_VALUE,
                _ => ADAM_PER_VALUE,
            };
            flops.add_optimizer("embedding", per_value * (rows * table.dim()) as u64);
        }
    }
}

/// The dense optimizer's step counter and Adam moments (m, v) per matrix and vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimState {
    pub step: i32,
    pub mats: Vec<(Vec<f32>, Vec<f32>)>,
    pub vecs: Vec<(Vec<f32>, Vec<f32>)>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Ctx, Init, Mat};
    use crate::Cpu;

    /// Weights of a 4-row table after one Adam step on `loss = Σ_k <x_k, r_k>` where the
    /// rows `ids` are looked up in the given groups (one lookup per group).
    fn step_with_lookups(groups: &[&[u32]]) -> Vec<f32> {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let table = store
            .scope("t")
            .table("items", 4, 2, Init::Normal { std: 0.1 });
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
        let mut ctx = Ctx::<Cpu>::training();
        let mut loss = None;
        let mut k: f32 = 0.0;
        for ids in groups {
            let x: Mat<Cpu, OwnedTape<f32, Cpu>> = ctx.lookup(&store, table, ids.to_vec());
            let r: Vec<f32> = (0..ids.len() * 2)
                .map(|_| {
                    k += 1.0;
                    k.sin()
                })
                .collect();
            let r = store.dev().tensor_from_vec(r, (ids.len(), 2));
            let term = (x * r).sum::<Rank0, _>();
            loss = Some(match loss {
                None => term,
                Some(l) => l + term,
            });
        }
        let mut grads = loss.unwrap().backward();
        let mut flops = Flops::default();
        opt.step(&mut store, &mut grads, ctx.lookups(), &mut flops);
        assert_eq!(flops.optimizer_by_kind()["embedding"], 14 * 3 * 2);
        store.table(table).weights()
    }

    #[test]
    fn several_lookups_of_one_table_make_one_update_with_summed_gradients() {
        let split = step_with_lookups(&[&[0, 1], &[1, 2]]);
        let joined = step_with_lookups(&[&[0, 1, 1, 2]]);
        assert_eq!(split, joined);
    }

    /// A frozen matrix stays bit-identical under decoupled weight decay and with
    /// momentum left from earlier steps, while its unfrozen sibling keeps moving; the
    /// optimizer FLOPs leave it out.
    #[test]
    fn frozen_parameters_stay_put_whatever_the_moments_and_decay() {
        let mut store = ParamStore::new(Cpu::default(), 1);
        let (a, b) = {
            let mut s = store.scope("m");
            let init = Init::Normal { std: 0.5 };
            (
                s.mat("backbone.w", 2, 2, init),
                s.mat("backbone_head", 2, 2, init),
            )
        };
        let cfg = OptimConfig {
            weight_decay: 0.1,
            ..OptimConfig::default()
        };
        let mut opt = Optimizer::new(&cfg, &mut store);
        let step = |store: &mut ParamStore<Cpu>, opt: &mut Optimizer<Cpu>| {
            let loss = (store
                .mat(a)
                .retaped::<OwnedTape<f32, Cpu>>()
                .sum::<Rank0, _>())
                + store
                    .mat(b)
                    .retaped::<OwnedTape<f32, Cpu>>()
                    .sum::<Rank0, _>();
            let mut grads = loss.backward();
            let mut flops = Flops::default();
            opt.step(store, &mut grads, &[], &mut flops);
            flops.optimizer_by_kind()["dense"]
        };
        step(&mut store, &mut opt);
        let (a0, b0) = (store.mat(a).as_vec(), store.mat(b).as_vec());
        opt.freeze(&store, &["m.backbone"]);
        let flops = step(&mut store, &mut opt);
        assert_eq!(store.mat(a).as_vec(), a0, "frozen matrix moved");
        assert_ne!(
            store.mat(b).as_vec(),
            b0,
            "`m.backbone_head` is not under `m.backbone`"
        );
        assert_eq!(flops, (ADAM_PER_VALUE + WEIGHT_DECAY_PER_VALUE) * 4);
    }

    #[test]
    #[should_panic(expected = "frozen table `t.items` was looked up under a tape")]
    fn a_frozen_table_looked_up_under_a_tape_is_a_bug() {
        let mut store = ParamStore::new(Cpu::default(), 3);
        let table = store.scope("t").table("items", 4, 2, Init::Zeros);
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
        opt.freeze(&store, &["t"]);
        let mut ctx = Ctx::<Cpu>::training();
        let x: Mat<Cpu, OwnedTape<f32, Cpu>> = ctx.lookup(&store, table, vec![1, 2]);
        let mut grads = x.sum::<Rank0, _>().backward();
        opt.step(&mut store, &mut grads, ctx.lookups(), &mut Flops::default());
    }
}
