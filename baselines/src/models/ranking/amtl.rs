//! AMTL-DNN: the DNN (`dnn`) with the adaptively-masked twins layer on its field
//! embeddings (arXiv 2108.11513, Sec. 3; see [`AmtlLayer`]):
//! `logit = MLP([ê_1 | ... | ê_F | x_dense])`, `ê_v = m_v ⊙ e_v`.

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Col, Ctx, Dev, Init, ParamStore, Track};
use crate::kinds::ranking::{needs_sparse, Ranking, RankingInputs};
use crate::layers::{dense_input, frequency, AmtlLayer, FieldEmbedding, Mlp};
use crate::models::defaults::ctr::{default_dim, default_hidden};
use crate::registry::{ModelInfo, Registered};
use crate::{Batch, FeatureSpec};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmtlDnnConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Hidden width of each AML (the paper: 32).
    #[serde(default = "default_aml_hidden")]
    pub aml_hidden: usize,
    /// Softmax temperature `T`, fixed (no annealing: the model is not told the epoch).
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    /// Ablation: every id keeps exactly this many dimensions (`embedding_dim` = DNN).
    #[serde(default)]
    pub force_width: Option<usize>,
}

fn default_aml_hidden() -> usize {
    32
}
fn default_temperature() -> f32 {
    1.0
}

impl Default for AmtlDnnConfig {
    fn default() -> Self {
        AmtlDnnConfig {
            embedding_dim: default_dim(),
            hidden: default_hidden(),
            aml_hidden: default_aml_hidden(),
            temperature: default_temperature(),
            force_width: None,
        }
    }
}

impl AmtlDnnConfig {
    /// Shapes and ranges; the frequencies' presence is checked when building.
    pub fn check(&self, spec: &FeatureSpec) -> Result<(), String> {
        if self.embedding_dim == 0 || self.aml_hidden == 0 {
            return Err("embedding_dim and aml_hidden must be >= 1".into());
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(format!("temperature must be > 0, got {}", self.temperature));
        }
        if let Some(k) = self.force_width {
            if !(1..=self.embedding_dim).contains(&k) {
                return Err(format!("force_width {k} not in 1..={}", self.embedding_dim));
            }
        }
        frequency::check_shape(spec)
    }
}

pub struct AmtlDnn {
    pub emb: FieldEmbedding,
    pub amtl: AmtlLayer,
    mlp: Mlp,
}

impl AmtlDnn {
    /// Parameters are created in the order of `dnn` (table, MLP) and then the AMLs, so
    /// with the same seed the table and MLP equal `dnn`'s.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &AmtlDnnConfig) -> Self {
        let mut s = store.scope("amtl_dnn");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense();
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        let amtl = AmtlLayer::new(
            &mut s.pp("amtl"),
            spec,
            cfg.embedding_dim,
            cfg.aml_hidden,
            cfg.temperature,
            cfg.force_width,
        );
        AmtlDnn { emb, amtl, mlp }
    }

    /// Serving memory of the embeddings in values, `Σ_v k_v` (see [`AmtlLayer`]).
    pub fn used_embedding_values<D: Dev>(&self, store: &ParamStore<D>) -> u64 {
        self.amtl.used_values(store)
    }
}

impl<D: Dev> Forward<Ranking, D> for AmtlDnn {
    /// The sum of the widths AMTL picks, `Σ_v k_v` over every id of the table.
    fn embedding_values_used(&self, store: &ParamStore<D>) -> Option<u64> {
        Some(self.used_embedding_values(store))
    }

    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let (f, d) = (self.emb.n_fields(), self.emb.dim);
        let e = self.emb.forward::<D, T>(store, batch, ctx);
        let rows = self.emb.row_ids(batch);
        let e = self
            .amtl
            .forward(store, e.reshape_like(&(batch.size * f, d)), &rows, ctx)
            .reshape_like(&(batch.size, f * d));
        let x = if batch.n_dense == 0 {
            e
        } else {
            let dense = dense_input(store.dev(), batch).retaped::<T>();
            ctx.flops.copy(batch.size * (f * d + batch.n_dense));
            (e, dense).concat_along(Axis::<1>)
        };
        self.mlp.forward(store, x, ctx).reshape_like(&(batch.size,))
    }
}

impl Registered<Ranking> for AmtlDnn {
    type Config = AmtlDnnConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "amtl_dnn",
        kind: "ranking",
        paper: "Yang et al., Learning Effective and Efficient Embedding via an Adaptively-Masked Twins-based Layer, CIKM 2021, arXiv 2108.11513, Sec. 3 (AMTL: twin AMLs, straight-through one-hot width, Triu mask)",
        summary: "DNN whose field embeddings pass through AMTL: per id, frequency attributes s_v (log training count, normalised frequency rank) feed two unshared MLPs; o_v = a_v hAML(s_v) + (1 - a_v) lAML(s_v) with a_v the normalised frequency; t_v = softmax(o_v / T) over widths 1..d with the straight-through one-hot; mask m = t_hat Triu keeps the first k_v dims of e_v.",
        simplifications: "Temperature T fixed (config `temperature`, default 1.0): the training loop does not tell models the epoch, so the paper's annealing 1 -> 0.1 is not done; no warm start (joint training from scratch); masked dims stay in the table (memory reported as the sum of used widths, as the paper does); frequencies counted on the training split only; the FLOP counter counts the AMLs on every lookup (a server would precompute the per-id width); no batch norm or dropout.",
    };

    fn check(cfg: &AmtlDnnConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.check(spec)
    }

    fn side_inputs(_: &AmtlDnnConfig) -> RankingInputs {
        RankingInputs {
            frequencies: true,
            pair: None,
            pair_folds: 0,
        }
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &AmtlDnnConfig,
    ) -> Result<Self, String> {
        spec.require_frequencies()?;
        Ok(AmtlDnn::new(store, spec, cfg))
    }
}
