//! DNN: the embedding-and-MLP reference model (as in Covington et al. 2016 and the
//! "DNN" baseline of DIN/DCN papers): `logit = MLP([e_1 | ... | e_F | x_dense])`.

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Col, Ctx, Dev, Init, ParamStore, Track};
use crate::kinds::ranking::{needs_sparse, Ranking, RankingInputs};
use crate::layers::{embed_and_concat, EmbeddingStrategy, FieldEmbedding, Mlp};
use crate::models::defaults::ctr::{default_dim, default_hidden};
use crate::registry::{embedding, ModelInfo, Registered};
use crate::{Batch, FeatureSpec};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnnConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// How ids map to embedding rows (default: one per id).
    #[serde(default)]
    pub embedding: EmbeddingStrategy,
}

impl Default for DnnConfig {
    fn default() -> Self {
        DnnConfig {
            embedding_dim: default_dim(),
            hidden: default_hidden(),
            embedding: EmbeddingStrategy::Full,
        }
    }
}

pub struct Dnn {
    pub emb: FieldEmbedding,
    pub mlp: Mlp,
}

impl Dnn {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &DnnConfig) -> Self {
        let mut s = store.scope("dnn");
        let emb = FieldEmbedding::with_strategy(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
            cfg.embedding,
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense();
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        Dnn { emb, mlp }
    }
}

impl<D: Dev> Forward<Ranking, D> for Dnn {
    /// MDE keeps only each id's first `k_v` values: their sum.
    fn embedding_values_used(&self, _store: &ParamStore<D>) -> Option<u64> {
        self.emb.values_used_if_fewer()
    }

    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let x = embed_and_concat::<D, T>(&self.emb, store, batch, ctx);
        self.mlp.forward(store, x, ctx).reshape_like(&(batch.size,))
    }
}

impl Registered<Ranking> for Dnn {
    type Config = DnnConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "dnn",
        kind: "ranking",
        paper: "Embedding + MLP (Covington et al., Deep Neural Networks for YouTube Recommendations, RecSys 2016; the DNN baseline of DIN and DCN)",
        summary: "Field embeddings concatenated with dense features, then a ReLU MLP to one logit.",
        simplifications: "None beyond the usual: no batch norm, no dropout.",
    };

    fn check(cfg: &DnnConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.embedding.check(spec, cfg.embedding_dim)
    }

    fn side_inputs(cfg: &DnnConfig) -> RankingInputs {
        cfg.embedding.side_inputs()
    }

    fn components(cfg: &DnnConfig) -> Vec<&'static ModelInfo> {
        embedding::components(&cfg.embedding)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &DnnConfig,
    ) -> Result<Self, String> {
        cfg.embedding.require_inputs(spec)?;
        Ok(Dnn::new(store, spec, cfg))
    }
}
