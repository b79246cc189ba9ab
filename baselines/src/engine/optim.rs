//! Optimizers. Dense parameters use dfdx's fused Adam kernel (CPU and CUDA) on our
//! runtime-shaped tensors, with moments kept here; weight decay is L2 (Adam) or
//! decoupled (AdamW, Loshchilov & Hutter 2019). Embedding tables use their own row-wise
//! lazy optimizers (see `sparse.rs`).

use dfdx::prelude::*;
use dfdx::tensor_ops::{AdamConfig, WeightDecay};

use super::device::Dev;
use super::flops::{Flops, ADAGRAD_PER_VALUE, ADAM_PER_VALUE, WEIGHT_DECAY_PER_VALUE};
use super::params::ParamStore;
use super::sparse::SparseOptim;
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
    step: i32,
    mat_moments: Vec<(<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec)>,
    vec_moments: Vec<(<D as Storage<f32>>::Vec, <D as Storage<f32>>::Vec)>,
    /// Host copy of one table's lookup gradients and their row ids, reused across steps.
    sparse_grad: Vec<f32>,
    sparse_ids: Vec<u32>,
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
        }
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
        flops.add_optimizer("dense", per_dense * store.counts().dense as u64);
        for ((_, p), (m, v)) in store.mats.iter_mut().zip(self.mat_moments.iter_mut()) {
            let g = grads.get_or_alloc_mut(p).expect("gradient alloc");
            self.cfg
                .try_update(self.step, p, m, v, &*g)
                .expect("adam update");
        }
        for ((_, p), (m, v)) in store.vecs.iter_mut().zip(self.vec_moments.iter_mut()) {
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
}
