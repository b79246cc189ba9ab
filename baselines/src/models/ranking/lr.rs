//! Logistic regression, the linear reference of every CTR paper:
//! `logit = b + Σ_f w_f[x_f] + x_dense · v`, one scalar weight per sparse id (an
//! embedding table of width 1).

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Col, Ctx, Dev, Init, Mat, MatId, ParamStore, Track, VecId};
use crate::kinds::ranking::{needs_sparse, Ranking, RankingInputs};
use crate::layers::{dense_input, EmbeddingStrategy, FieldEmbedding};
use crate::registry::{embedding, ModelInfo, Registered};
use crate::{Batch, FeatureSpec};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrConfig {
    /// How ids map to weight rows (default: one per id).
    #[serde(default)]
    pub embedding: EmbeddingStrategy,
}

pub struct Lr {
    weights: FieldEmbedding,
    dense: Option<MatId>,
    bias: VecId,
}

impl Lr {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &LrConfig) -> Self {
        let mut s = store.scope("lr");
        let nd = spec.n_dense();
        Lr {
            weights: FieldEmbedding::with_strategy(
                &mut s.pp("weights"),
                spec,
                1,
                Init::Zeros,
                cfg.embedding,
            ),
            dense: (nd > 0).then(|| s.mat("dense", nd, 1, Init::Zeros)),
            bias: s.vec("bias", 1, Init::Zeros),
        }
    }
}

impl<D: Dev> Forward<Ranking, D> for Lr {
    /// MDE keeps only each id's first `k_v` values: their sum.
    fn embedding_values_used(&self, _store: &ParamStore<D>) -> Option<u64> {
        self.weights.values_used_if_fewer()
    }

    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let n = batch.size;
        let w: Mat<D, T> = self.weights.forward(store, batch, ctx);
        ctx.flops.reduce(n * batch.n_sparse);
        let mut logit = w.sum::<(usize,), Axis<1>>();
        if let Some(v) = self.dense {
            ctx.flops.matmul(n, batch.n_dense, 1);
            ctx.flops.elementwise(n);
            let x = dense_input(store.dev(), batch).retaped::<T>();
            logit = logit + x.matmul(store.mat(v).retaped::<T>()).reshape_like(&(n,));
        }
        ctx.flops.elementwise(n);
        let b = store.vec(self.bias).retaped::<T>().reshape_like(&());
        logit + b.broadcast_like::<_, Axis<0>>(&(n,))
    }
}

impl Registered<Ranking> for Lr {
    type Config = LrConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "lr",
        kind: "ranking",
        paper: "Logistic regression (McMahan et al., Ad Click Prediction: a View from the Trenches, KDD 2013)",
        summary: "One weight per sparse id and per dense field, plus a bias.",
        simplifications: "Adam/Adagrad instead of FTRL-Proximal; no L1 sparsity.",
    };

    fn check(cfg: &LrConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.embedding.check(spec, 1)
    }

    fn side_inputs(cfg: &LrConfig) -> RankingInputs {
        cfg.embedding.side_inputs()
    }

    fn components(cfg: &LrConfig) -> Vec<&'static ModelInfo> {
        embedding::components(&cfg.embedding)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &LrConfig,
    ) -> Result<Self, String> {
        cfg.embedding.require_inputs(spec)?;
        Ok(Lr::new(store, spec, cfg))
    }
}
