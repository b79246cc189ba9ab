//! MMoE (Ma et al., "Modeling Task Relationships in Multi-task Learning with Multi-gate
//! Mixture-of-Experts", KDD 2018, Sec. 4.2-4.3):
//!
//! - experts `f_e(x)`, e = 1..E, each a ReLU MLP over `x = [e_1 | ... | e_F | x_dense]`;
//! - one gate per task, `g_t(x) = softmax(x W_gt)` (Eq. 6);
//! - `f_t(x) = Σ_e g_t(x)_e f_e(x)` (Eq. 5), then the task's tower: `y_t = h_t(f_t(x))`.
//!
//! With one expert every gate is exactly 1 and MMoE is the shared-bottom model.

use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Track};
use crate::kinds::multitask::{MultiTask, MultiTaskBatch, MultiTaskSpec};
use crate::kinds::ranking::needs_sparse;
use crate::layers::{embed_and_concat, mixtures, FieldEmbedding, Gate, Mlp, Towers};
use crate::models::defaults::ctr::default_dim;
use crate::models::defaults::multitask::{
    check_tower, check_widths, default_expert_hidden, default_experts, default_tower,
};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmoeConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    /// Number of experts E.
    #[serde(default = "default_experts")]
    pub experts: usize,
    /// Hidden widths of each expert (ReLU after each; the last is its output).
    #[serde(default = "default_expert_hidden")]
    pub expert_hidden: Vec<usize>,
    /// Hidden widths of each task's tower.
    #[serde(default = "default_tower")]
    pub tower: Vec<usize>,
}

impl Default for MmoeConfig {
    fn default() -> Self {
        MmoeConfig {
            embedding_dim: default_dim(),
            experts: default_experts(),
            expert_hidden: default_expert_hidden(),
            tower: default_tower(),
        }
    }
}

/// Expert outputs and gate weights, each `(n, ·)`.
type ExpertsAndGates<D, T> = (Vec<Mat<D, T>>, Vec<Mat<D, T>>);

pub struct Mmoe {
    pub emb: FieldEmbedding,
    pub experts: Vec<Mlp>,
    pub gates: Vec<Gate>,
    pub towers: Towers,
}

impl Mmoe {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &MultiTaskSpec, cfg: &MmoeConfig) -> Self {
        let mut s = store.scope("mmoe");
        let f = &spec.features;
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            f,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = f.n_sparse() * cfg.embedding_dim + f.n_dense();
        let experts: Vec<Mlp> = (0..cfg.experts)
            .map(|e| Mlp::new(&mut s.pp("expert").pp(e), width, &cfg.expert_hidden, None))
            .collect();
        let gates = (0..spec.n_tasks())
            .map(|t| Gate::new(&mut s.pp("gate").pp(t), width, cfg.experts))
            .collect();
        let out = experts[0].out_width(width);
        let towers = Towers::new(&mut s.pp("tower"), spec.n_tasks(), out, &cfg.tower);
        Mmoe {
            emb,
            experts,
            gates,
            towers,
        }
    }

    /// The experts' outputs and every task's gate weights `(n, E)`, for `x`.
    fn experts_and_gates<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> ExpertsAndGates<D, T> {
        let gates = self
            .gates
            .iter()
            .map(|g| g.forward(store, x.retaped::<T>(), ctx))
            .collect();
        let mut x = Some(x);
        let k = self.experts.len();
        let experts = self
            .experts
            .iter()
            .enumerate()
            .map(|(e, expert)| {
                // The last expert carries x's tape (the embeddings' gradients).
                let input = if e + 1 == k {
                    x.take().expect("x is used last here")
                } else {
                    x.as_ref().expect("x is still held").retaped::<T>()
                };
                expert.forward(store, input, ctx)
            })
            .collect();
        (experts, gates)
    }

    /// Each task's gate weights on `batch` (rows of `(n, E)`), for diagnostics.
    pub fn gate_weights<D: Dev>(
        &self,
        store: &ParamStore<D>,
        batch: &MultiTaskBatch,
    ) -> Vec<Vec<f32>> {
        let mut ctx = Ctx::default();
        let x = embed_and_concat::<D, dfdx::prelude::NoneTape>(
            &self.emb,
            store,
            &batch.features,
            &mut ctx,
        );
        let (_, gates) = self.experts_and_gates(store, x, &mut ctx);
        gates.into_iter().map(|g| g.as_vec()).collect()
    }
}

impl<D: Dev> Forward<MultiTask, D> for Mmoe {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &MultiTaskBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let x = embed_and_concat::<D, T>(&self.emb, store, &batch.features, ctx);
        let (experts, gates) = self.experts_and_gates(store, x, ctx);
        let mixed = mixtures(experts, gates, ctx);
        self.towers.forward(store, mixed, ctx)
    }
}

impl Registered<MultiTask> for Mmoe {
    type Config = MmoeConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "mmoe",
        kind: "multitask",
        paper: "Ma et al., Modeling Task Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts, KDD 2018, Sec. 4.2-4.3 (Eq. 5-6)",
        summary: "E experts (ReLU MLPs over the field embeddings and dense inputs; config `experts`, default 4, `expert_hidden`, default [64]) shared by all tasks; each task t mixes them with its own gate softmax(x W_gt) and feeds the mixture to its tower (config `tower`, default [32]) ending in one logit. Trained on the sum over tasks of each task's mean BCE. With one expert it is shared-bottom.",
        simplifications: "No dropout or batch normalization; gates without bias, as in the paper's Eq. 6; equal task weights in the loss.",
    };

    fn check(cfg: &MmoeConfig, spec: &MultiTaskSpec) -> Result<(), String> {
        needs_sparse(&spec.features)?;
        spec.check()?;
        if cfg.embedding_dim == 0 || cfg.experts == 0 {
            return Err("embedding_dim and experts must be >= 1".into());
        }
        check_widths("expert_hidden", &cfg.expert_hidden)?;
        check_tower(&cfg.tower)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &MultiTaskSpec,
        cfg: &MmoeConfig,
    ) -> Result<Self, String> {
        Ok(Mmoe::new(store, spec, cfg))
    }
}
