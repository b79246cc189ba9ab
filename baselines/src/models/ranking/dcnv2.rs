//! DCN-V2 (Wang et al., "DCN V2: Improved Deep & Cross Network", arXiv 2008.13535),
//! stacked structure (Sec. 3, Fig. 2b): `x_0 = [e_1 | ... | e_F | x_dense]`, then L
//! cross layers `x_{l+1} = x_0 ⊙ (x_l W_l + b_l) + x_l` (Eq. 1), then an MLP to the
//! logit. Simplification: full-rank cross matrices only (no low-rank mixture, Sec. 3.2).

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Col, Ctx, Dev, Init, ParamStore, Track};
use crate::kinds::ranking::{needs_sparse, Ranking, RankingInputs};
use crate::layers::{embed_and_concat, CrossNet, EmbeddingStrategy, FieldEmbedding, Mlp};
use crate::models::defaults::ctr::{default_dim, default_hidden};
use crate::registry::{embedding, ModelInfo, Registered};
use crate::{Batch, FeatureSpec};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dcnv2Config {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_cross")]
    pub cross_layers: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// How ids map to embedding rows (default: one per id).
    #[serde(default)]
    pub embedding: EmbeddingStrategy,
}

fn default_cross() -> usize {
    2
}

impl Default for Dcnv2Config {
    fn default() -> Self {
        Dcnv2Config {
            embedding_dim: default_dim(),
            cross_layers: default_cross(),
            hidden: default_hidden(),
            embedding: EmbeddingStrategy::Full,
        }
    }
}

pub struct Dcnv2 {
    emb: FieldEmbedding,
    cross: CrossNet,
    mlp: Mlp,
}

impl Dcnv2 {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &Dcnv2Config) -> Self {
        let mut s = store.scope("dcnv2");
        let emb = FieldEmbedding::with_strategy(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
            cfg.embedding,
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense();
        let cross = CrossNet::new(&mut s.pp("cross"), width, cfg.cross_layers);
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        Dcnv2 { emb, cross, mlp }
    }
}

impl<D: Dev> Forward<Ranking, D> for Dcnv2 {
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
        let x0 = embed_and_concat::<D, T>(&self.emb, store, batch, ctx);
        let x = self.cross.forward(store, x0, ctx);
        self.mlp.forward(store, x, ctx).reshape_like(&(batch.size,))
    }
}

impl Registered<Ranking> for Dcnv2 {
    type Config = Dcnv2Config;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "dcnv2",
        kind: "ranking",
        paper: "Wang et al., DCN V2: Improved Deep & Cross Network, arXiv 2008.13535, Sec. 3 (stacked structure, Eq. 1)",
        summary: "Full-rank cross layers x_{l+1} = x_0 * (x_l W + b) + x_l, then a ReLU MLP.",
        simplifications: "Stacked structure only; no low-rank mixture of experts (DCN-Mix).",
    };

    fn check(cfg: &Dcnv2Config, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.embedding.check(spec, cfg.embedding_dim)
    }

    fn side_inputs(cfg: &Dcnv2Config) -> RankingInputs {
        cfg.embedding.side_inputs()
    }

    fn components(cfg: &Dcnv2Config) -> Vec<&'static ModelInfo> {
        embedding::components(&cfg.embedding)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &Dcnv2Config,
    ) -> Result<Self, String> {
        cfg.embedding.require_inputs(spec)?;
        Ok(Dcnv2::new(store, spec, cfg))
    }
}
