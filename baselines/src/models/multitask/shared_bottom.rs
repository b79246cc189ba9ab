//! Shared-bottom: the multi-task reference (Caruana, "Multitask Learning", Machine
//! Learning 1997; the baseline of MMoE, Ma et al., KDD 2018, Sec. 3.1, Eq. 1):
//! `y_t = h_t(f(x))`, one bottom network `f` (a ReLU MLP over
//! `x = [e_1 | ... | e_F | x_dense]`) shared by every task, one tower `h_t` per task.

use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Track};
use crate::kinds::multitask::{MultiTask, MultiTaskBatch, MultiTaskSpec};
use crate::kinds::ranking::needs_sparse;
use crate::layers::{embed_and_concat, FieldEmbedding, Mlp, Towers};
use crate::models::defaults::ctr::{default_dim, default_hidden};
use crate::models::defaults::multitask::{check_tower, check_widths, default_tower};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedBottomConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    /// Hidden widths of the shared bottom (ReLU after each).
    #[serde(default = "default_hidden")]
    pub bottom: Vec<usize>,
    /// Hidden widths of each task's tower.
    #[serde(default = "default_tower")]
    pub tower: Vec<usize>,
}

impl Default for SharedBottomConfig {
    fn default() -> Self {
        SharedBottomConfig {
            embedding_dim: default_dim(),
            bottom: default_hidden(),
            tower: default_tower(),
        }
    }
}

pub struct SharedBottom {
    pub emb: FieldEmbedding,
    pub bottom: Mlp,
    pub towers: Towers,
}

impl SharedBottom {
    pub fn new<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &MultiTaskSpec,
        cfg: &SharedBottomConfig,
    ) -> Self {
        let mut s = store.scope("shared_bottom");
        let f = &spec.features;
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            f,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = f.n_sparse() * cfg.embedding_dim + f.n_dense();
        let bottom = Mlp::new(&mut s.pp("bottom"), width, &cfg.bottom, None);
        let out = bottom.out_width(width);
        let towers = Towers::new(&mut s.pp("tower"), spec.n_tasks(), out, &cfg.tower);
        SharedBottom {
            emb,
            bottom,
            towers,
        }
    }
}

impl<D: Dev> Forward<MultiTask, D> for SharedBottom {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &MultiTaskBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let x = embed_and_concat::<D, T>(&self.emb, store, &batch.features, ctx);
        let shared = self.bottom.forward(store, x, ctx);
        let k = self.towers.towers.len();
        let mut inputs: Vec<Mat<D, T>> = (1..k).map(|_| shared.retaped::<T>()).collect();
        inputs.push(shared);
        self.towers.forward(store, inputs, ctx)
    }
}

impl Registered<MultiTask> for SharedBottom {
    type Config = SharedBottomConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "shared_bottom",
        kind: "multitask",
        paper: "Caruana, Multitask Learning, Machine Learning 28 (1997); as the shared-bottom baseline of Ma et al., Modeling Task Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts, KDD 2018, Sec. 3.1 Eq. 1",
        summary: "y_t = tower_t(bottom(x)): field embeddings and dense inputs x feed one ReLU MLP shared by every task (config `bottom`, default [128, 64]); each task has its own MLP tower (config `tower`, default [32]) ending in one logit. Trained on the sum over tasks of each task's mean BCE.",
        simplifications: "No dropout or batch normalization; equal task weights in the loss.",
    };

    fn check(cfg: &SharedBottomConfig, spec: &MultiTaskSpec) -> Result<(), String> {
        needs_sparse(&spec.features)?;
        spec.check()?;
        if cfg.embedding_dim == 0 {
            return Err("embedding_dim must be >= 1".into());
        }
        check_widths("bottom", &cfg.bottom)?;
        check_tower(&cfg.tower)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &MultiTaskSpec,
        cfg: &SharedBottomConfig,
    ) -> Result<Self, String> {
        Ok(SharedBottom::new(store, spec, cfg))
    }
}
