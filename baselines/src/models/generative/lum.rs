//! LUM, the three-step paradigm of Yan et al., Unlocking Scaling Law in Industrial
//! Recommendation Systems with a Three-step Paradigm based Large User Model, arXiv
//! 2502.08309 (Sec. 3), as a generative-ranking model:
//!
//! 1. Knowledge construction: a causal transformer over `<condition, item>` token pairs
//!    pre-trained with InfoNCE (`Forward::pretrain_loss`, see `lum_backbone`).
//! 2. Knowledge querying: `N` query condition tokens after the history, one per real
//!    action id (`N = 2^n_actions`: every condition, so never only the target's own),
//!    give the user's `N` interests `o_{q_n}` in one group-query pass.
//! 3. Knowledge utilization: a DLRM consumes them,
//!    `ŷ = MLP([e_x, o_{q_1}, ..., o_{q_N}, <o_{q_1}, e'_x>, ..., <o_{q_N}, e'_x>])`, one
//!    logit per action, with `e_x` the DLRM's own candidate embedding and `e'_x` the
//!    frozen pre-trained item embedding. The backbone is frozen here: steps 2 and the
//!    similarities run without a tape (nothing of them reaches the optimizer) and the
//!    ranking steps freeze `lum.backbone` (`Forward::frozen_in_training`).
//!
//! Ablations (config): `interests: false` is the DLRM alone, `MLP(e_x)` (no backbone,
//! no pre-training; the same network as `item_only`); `pretrain_epochs: 0` keeps the
//! interests but from a frozen, randomly initialised backbone.

use dfdx::prelude::*;

use super::lum_backbone::LumBackbone;
pub use super::lum_config::LumConfig;
use crate::contract::{Forward, PretrainData, Pretraining};
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, TableId, Track};
use crate::kinds::generative::{GenBatch, GenSpec, Generative};
use crate::layers::Mlp;
use crate::registry::{ModelInfo, Registered};

/// Where the frozen backbone's parameters live.
pub const BACKBONE: &str = "lum.backbone";

pub struct Lum {
    pub cfg: LumConfig,
    /// Steps 1-2; `None` for the DLRM alone (`interests: false`).
    pub backbone: Option<LumBackbone>,
    /// The DLRM's own candidate embedding `e_x`.
    pub dlrm_items: TableId,
    pub mlp: Mlp,
    /// The query conditions: every real action id `1..=2^n_actions`.
    pub queries: Vec<u32>,
}

impl Lum {
    /// Parameters `lum.backbone.*` (see `LumBackbone::new`) and `lum.dlrm.{items, mlp.*}`.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &GenSpec, cfg: &LumConfig) -> Self {
        let mut s = store.scope("lum");
        let backbone = cfg
            .interests
            .then(|| LumBackbone::new(&mut s.pp("backbone"), spec, cfg));
        let queries: Vec<u32> = (1..spec.action_vocab() as u32).collect();
        let mut dlrm = s.pp("dlrm");
        let init = Init::Normal { std: 0.02 };
        let dlrm_items = dlrm.table("items", spec.n_items as usize + 1, cfg.dlrm_dim, init);
        let width = cfg.dlrm_dim + Self::interest_width(cfg, queries.len());
        let mlp = Mlp::new(
            &mut dlrm.pp("mlp"),
            width,
            &cfg.hidden,
            Some(spec.n_actions),
        );
        Lum {
            cfg: cfg.clone(),
            backbone,
            dlrm_items,
            mlp,
            queries,
        }
    }

    /// Width of the frozen features: `N` interests of width d and `N` similarities.
    fn interest_width(cfg: &LumConfig, n: usize) -> usize {
        if cfg.interests {
            n * cfg.dim + n
        } else {
            0
        }
    }

    /// Steps 2 and the similarities, frozen: `[o_{q_1..N}, <o_{q_n}, e'_x>_{n=1..N}]` per
    /// candidate slot, `(size * max_candidates, N d + N)`. Runs without a tape and with
    /// the context out of training (no dropout, no backward FLOPs, no lookups recorded),
    /// as the paper's offline-cached interests.
    pub fn frozen_features<D: Dev>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D> {
        let (b, c, d, n) = (
            batch.size,
            batch.max_candidates,
            self.cfg.dim,
            self.queries.len(),
        );
        let backbone = self
            .backbone
            .as_ref()
            .expect("frozen features need the backbone");
        let training = ctx.is_training();
        ctx.set_training(false);
        let o = backbone.interests::<D, NoneTape>(store, batch, &self.queries, ctx);
        let e = ctx.lookup::<NoneTape>(store, backbone.items, batch.cand_items.clone());
        ctx.flops.matmul(b * c, d, n);
        let sims = e
            .reshape_like(&(b, c, d))
            .matmul(
                o.clone()
                    .reshape_like(&(b, n, d))
                    .permute::<_, Axes3<0, 2, 1>>(),
            )
            .reshape_like(&(b * c, n));
        let example: Vec<usize> = (0..b).flat_map(|r| std::iter::repeat_n(r, c)).collect();
        ctx.flops.copy(b * c * n * d);
        let dev = store.dev().clone();
        let per_candidate = o
            .reshape_like(&(b, n * d))
            .gather(dev.tensor_from_vec(example, (b * c,)));
        ctx.flops.copy(b * c * (n * d + n));
        let features = (per_candidate, sims).concat_along(Axis::<1>);
        ctx.set_training(training);
        features
    }
}

impl<D: Dev> Forward<Generative, D> for Lum {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let e = ctx.lookup::<T>(store, self.dlrm_items, batch.cand_items.clone());
        let x = if self.backbone.is_some() {
            let f = self.frozen_features(store, batch, ctx).retaped::<T>();
            let rows = batch.size * batch.max_candidates;
            ctx.flops.copy(rows * (self.cfg.dlrm_dim + f.shape().1));
            (e, f).concat_along(Axis::<1>)
        } else {
            e
        };
        self.mlp.forward(store, x, ctx)
    }

    fn pretrain_loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Option<Tensor<Rank0, f32, D, T>> {
        let backbone = self.backbone.as_ref()?;
        Some(backbone.pretrain_loss(store, batch, self.cfg.temperature, ctx))
    }

    /// Step 1 on shuffled batches of user histories, updating the backbone only.
    fn pretraining(&self) -> Option<Pretraining> {
        self.backbone.as_ref().map(|_| Pretraining {
            epochs: self.cfg.pretrain_epochs,
            data: PretrainData::Batches,
            trains: &[BACKBONE],
            learning_rate: None,
        })
    }

    fn frozen_in_training(&self) -> &[&'static str] {
        &[BACKBONE]
    }
}

impl Registered<Generative> for Lum {
    type Config = LumConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "lum",
        kind: "generative",
        paper: "Yan et al., Unlocking Scaling Law in Industrial Recommendation Systems with a Three-step Paradigm based Large User Model, arXiv 2502.08309, Sec. 3 (step 1 generative pre-training, step 2 group query, step 3 DLRM)",
        summary: "Step 1: each history exposure as two tokens <condition = its action id, item>, a causal Llama-style transformer (RMS norm, softmax attention with output projection, SwiGLU) pre-trained for pretrain_epochs with InfoNCE at every condition token's output against its item's embedding (the batch's other item tokens as negatives; duplicates of the positive and the other items of the same user's history hidden; temperature τ). Step 2: one query condition token per real action id (all 2^n_actions, never only the target's) appended after the history, each seeing the history and itself only, so one pass gives every interest. Step 3, backbone frozen: MLP([e_x, o_q1..o_qN, <o_qn, e'_x> for each n]) -> one logit per action, e_x the DLRM's own candidate embedding, e'_x the frozen pre-trained one. Ablations: interests=false (DLRM alone), pretrain_epochs=0 (random frozen backbone).",
        simplifications: "The condition is the exposure's action id (GenBatch carries no scenario, query or category, the paper's conditions); tokens are single-feature embeddings, so the paper's proj(concat(features)) token encoder is the embedding itself; no position embeddings (order from the causal mask only; a learned position for the query slot would never be pre-trained); sim is the inner product, scaled by 1/τ in step 1 (the spec's formula has no τ; default τ = 1); in-batch negatives are the item tokens of one batch (no sequence packing, no large negative pool); pre-training has one row per user, the history before the user's last training request (its most recent max_history exposures), so that request's own exposures are not pre-trained on; the DLRM has no user or context features beyond LUM's interests (the paper's DLRM has its own feature set); interests are recomputed per batch without a tape rather than cached offline; model sizes are the spec's scaled-down ones (d 64, 2 blocks, 4 heads), not the paper's up to 7B.",
    };

    fn check(cfg: &LumConfig, _spec: &GenSpec) -> Result<(), String> {
        cfg.check()
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &GenSpec,
        cfg: &LumConfig,
    ) -> Result<Self, String> {
        Ok(Lum::new(store, spec, cfg))
    }
}
