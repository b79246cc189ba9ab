//! APG-wrapped CTR models (Yan et al., "APG: Adaptive Parameter Generation Network for
//! Click-Through Rate Prediction", NeurIPS 2022, arXiv 2203.16218, Sec. 3): the hidden
//! layers of the model's MLP become APG layers (`layers::apg`), whose per-instance
//! `K x K` core is generated from a condition:
//! - `self`: each layer's own input (self-wise);
//! - `group`: the embedding of one sparse field, e.g. `user_id` (group-wise);
//! - `mix`: the concatenated embeddings of several sparse fields (mix-wise, aggregated
//!   before the generator).
//!
//! `apg_dnn` is the DNN (embedding + MLP) with an APG MLP; `apg_dcnv2` is DCN-V2
//! (stacked) whose deep part is an APG MLP, as FuxiCTR's APG_DCNv2. The condition
//! embeddings are rows of the model's own field-embedding table.

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Col, Ctx, Dev, Init, Mat, ParamStore, Track};
use crate::kinds::ranking::{needs_sparse, Ranking};
use crate::layers::embedding_strategy::Layout;
use crate::layers::{embed_and_concat, ApgCondition, ApgDims, ApgMlp, CrossNet, FieldEmbedding};
use crate::models::defaults::ctr::{default_dim, default_hidden};
use crate::registry::{ModelInfo, Registered};
use crate::{Batch, FeatureSpec};

fn default_k() -> usize {
    8
}
fn default_p() -> usize {
    32
}
fn default_cross() -> usize {
    2
}
fn default_gen() -> Vec<usize> {
    vec![64]
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ConditionKind {
    /// Each APG layer's own input.
    #[default]
    #[serde(rename = "self")]
    SelfWise,
    /// The embedding of one sparse field.
    #[serde(rename = "group")]
    Group,
    /// The concatenated embeddings of several sparse fields.
    #[serde(rename = "mix")]
    Mix,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionConfig {
    pub kind: ConditionKind,
    /// Sparse field names (`group`: exactly one; `mix`: two or more; `self`: none).
    #[serde(default)]
    pub fields: Vec<String>,
}

impl ConditionConfig {
    /// Indices of the condition's fields in the task's sparse fields.
    pub fn field_indices(&self, spec: &FeatureSpec) -> Result<Vec<usize>, String> {
        let n = self.fields.len();
        match self.kind {
            ConditionKind::SelfWise if n != 0 => {
                return Err("condition `self` takes no fields".into())
            }
            ConditionKind::Group if n != 1 => {
                return Err(format!(
                    "condition `group` takes exactly one field, got {n}"
                ))
            }
            ConditionKind::Mix if n < 2 => {
                return Err(format!(
                    "condition `mix` takes two or more fields, got {n} (use `group` for one)"
                ))
            }
            _ => {}
        }
        let mut out = Vec::with_capacity(n);
        for f in &self.fields {
            let i = spec
                .sparse
                .iter()
                .position(|(name, _)| name == f)
                .ok_or_else(|| {
                    let known: Vec<&str> = spec.sparse.iter().map(|(n, _)| n.as_str()).collect();
                    format!(
                        "condition field `{f}` is not a sparse field of the task (sparse: {})",
                        known.join(", ")
                    )
                })?;
            if out.contains(&i) {
                return Err(format!("condition field `{f}` listed twice"));
            }
            out.push(i);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApgDnnConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Rank of the generated core `S_i` (K x K).
    #[serde(default = "default_k")]
    pub k: usize,
    /// Over-parameterisation width P (`U = U_l U_r`, `V = V_l V_r`); 0 disables it.
    #[serde(default = "default_p")]
    pub p: usize,
    /// Hidden widths of each layer's generator MLP.
    #[serde(default = "default_gen")]
    pub generator_hidden: Vec<usize>,
    #[serde(default)]
    pub condition: ConditionConfig,
}

impl Default for ApgDnnConfig {
    fn default() -> Self {
        ApgDnnConfig {
            embedding_dim: default_dim(),
            hidden: default_hidden(),
            k: default_k(),
            p: default_p(),
            generator_hidden: default_gen(),
            condition: ConditionConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApgDcnv2Config {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_cross")]
    pub cross_layers: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    #[serde(default = "default_k")]
    pub k: usize,
    #[serde(default = "default_p")]
    pub p: usize,
    #[serde(default = "default_gen")]
    pub generator_hidden: Vec<usize>,
    #[serde(default)]
    pub condition: ConditionConfig,
}

impl Default for ApgDcnv2Config {
    fn default() -> Self {
        ApgDcnv2Config {
            embedding_dim: default_dim(),
            cross_layers: default_cross(),
            hidden: default_hidden(),
            k: default_k(),
            p: default_p(),
            generator_hidden: default_gen(),
            condition: ConditionConfig::default(),
        }
    }
}

/// Checks what serde cannot: sizes and the condition's fields against the task.
fn check(
    hidden: &[usize],
    k: usize,
    p: usize,
    cond: &ConditionConfig,
    spec: &FeatureSpec,
) -> Result<Vec<usize>, String> {
    if hidden.is_empty() || hidden.contains(&0) {
        return Err("`hidden` needs at least one nonzero width (the APG layers)".into());
    }
    if k == 0 {
        return Err("`k` must be positive".into());
    }
    if p != 0 && p < k {
        return Err(format!("`p` ({p}) must be >= `k` ({k}), or 0 to disable"));
    }
    cond.field_indices(spec)
}

impl ApgDnnConfig {
    pub fn check(&self, spec: &FeatureSpec) -> Result<(), String> {
        check(&self.hidden, self.k, self.p, &self.condition, spec).map(drop)
    }
}

impl ApgDcnv2Config {
    pub fn check(&self, spec: &FeatureSpec) -> Result<(), String> {
        check(&self.hidden, self.k, self.p, &self.condition, spec).map(drop)
    }
}

/// The condition fields (empty = self-wise) and the condition vector of a batch.
#[derive(Debug, Clone)]
struct Condition {
    fields: Vec<usize>,
}

impl Condition {
    fn new(cfg: &ConditionConfig, spec: &FeatureSpec) -> Self {
        Condition {
            fields: cfg
                .field_indices(spec)
                .unwrap_or_else(|e| panic!("apg: {e}")),
        }
    }

    fn kind(&self, dim: usize) -> ApgCondition {
        if self.fields.is_empty() {
            ApgCondition::SelfInput
        } else {
            ApgCondition::External(self.fields.len() * dim)
        }
    }

    /// `(B, fields * dim)`: the condition fields' embeddings (one more gather from the
    /// model's table), or `None` for self-wise.
    fn forward<D: Dev, T: Track<D>>(
        &self,
        emb: &FieldEmbedding,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Mat<D, T>> {
        if self.fields.is_empty() {
            return None;
        }
        let f = batch.n_sparse;
        // APG models build a full table: one row per (field, id) at a field offset.
        let Layout::Direct { offsets, moduli } = &emb.plan.layout else {
            unreachable!("APG condition fields need a direct (full or hash) embedding layout")
        };
        let ids: Vec<u32> = batch
            .sparse
            .chunks_exact(f.max(1))
            .flat_map(|row| self.fields.iter().map(|&i| offsets[i] + row[i] % moduli[i]))
            .collect();
        let z = ctx.lookup::<T>(store, emb.table, ids);
        Some(z.reshape_like(&(batch.size, self.fields.len() * emb.dim)))
    }
}

fn dims<'a>(
    hidden: &'a [usize],
    k: usize,
    p: usize,
    gen_hidden: &'a [usize],
    condition: ApgCondition,
) -> ApgDims<'a> {
    ApgDims {
        hidden,
        k,
        p,
        gen_hidden,
        condition,
    }
}

/// DNN whose hidden layers are APG layers: `logit = APG-MLP([e_1 | ... | x_dense])`.
#[derive(Debug, Clone)]
pub struct ApgDnn {
    emb: FieldEmbedding,
    cond: Condition,
    pub mlp: ApgMlp,
}

impl ApgDnn {
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &ApgDnnConfig) -> Self {
        let cond = Condition::new(&cfg.condition, spec);
        let mut s = store.scope("apg_dnn");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense();
        let d = dims(
            &cfg.hidden,
            cfg.k,
            cfg.p,
            &cfg.generator_hidden,
            cond.kind(cfg.embedding_dim),
        );
        let mlp = ApgMlp::new(&mut s.pp("mlp"), width, &d, Some(1));
        mlp.init_identity(store);
        ApgDnn { emb, cond, mlp }
    }

    /// The model for inference, with the over-parameterised factors multiplied out
    /// (new parameters `apg_dnn.merged.*`; everything else shared).
    pub fn merged<D: Dev>(&self, store: &mut ParamStore<D>) -> Self {
        ApgDnn {
            mlp: self.mlp.merged(store, "apg_dnn.merged"),
            ..self.clone()
        }
    }
}

impl<D: Dev> Forward<Ranking, D> for ApgDnn {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let x = embed_and_concat::<D, T>(&self.emb, store, batch, ctx);
        let z = self.cond.forward::<D, T>(&self.emb, store, batch, ctx);
        self.mlp
            .forward(store, x, z, ctx)
            .reshape_like(&(batch.size,))
    }
}

/// DCN-V2 (stacked) whose deep part is an APG MLP.
#[derive(Debug, Clone)]
pub struct ApgDcnv2 {
    emb: FieldEmbedding,
    cond: Condition,
    cross: CrossNet,
    pub mlp: ApgMlp,
}

impl ApgDcnv2 {
    pub fn new<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &ApgDcnv2Config,
    ) -> Self {
        let cond = Condition::new(&cfg.condition, spec);
        let mut s = store.scope("apg_dcnv2");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense();
        let cross = CrossNet::new(&mut s.pp("cross"), width, cfg.cross_layers);
        let d = dims(
            &cfg.hidden,
            cfg.k,
            cfg.p,
            &cfg.generator_hidden,
            cond.kind(cfg.embedding_dim),
        );
        let mlp = ApgMlp::new(&mut s.pp("mlp"), width, &d, Some(1));
        mlp.init_identity(store);
        ApgDcnv2 {
            emb,
            cond,
            cross,
            mlp,
        }
    }

    /// The model for inference, with the over-parameterised factors multiplied out.
    pub fn merged<D: Dev>(&self, store: &mut ParamStore<D>) -> Self {
        ApgDcnv2 {
            mlp: self.mlp.merged(store, "apg_dcnv2.merged"),
            ..self.clone()
        }
    }
}

impl<D: Dev> Forward<Ranking, D> for ApgDcnv2 {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let x0 = embed_and_concat::<D, T>(&self.emb, store, batch, ctx);
        let z = self.cond.forward::<D, T>(&self.emb, store, batch, ctx);
        let x = self.cross.forward(store, x0, ctx);
        self.mlp
            .forward(store, x, z, ctx)
            .reshape_like(&(batch.size,))
    }
}

impl Registered<Ranking> for ApgDnn {
    type Config = ApgDnnConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "apg_dnn",
        kind: "ranking",
        paper: "Yan et al., APG: Adaptive Parameter Generation Network for Click-Through Rate Prediction, NeurIPS 2022, arXiv 2203.16218, Sec. 3 (3.2 decomposed feed-forward, 3.3 over-parameterisation)",
        summary: "DNN whose hidden layers are APG layers y_i = x_i U S_i V + b: U (N x K) and V (K x M) shared, the K x K core S_i = reshape(MLP_gen(z_i)) generated per instance from a condition (self: the layer input; group: one field's embedding, e.g. user_id; mix: several fields' embeddings concatenated); U = U_l U_r and V = V_l V_r over-parameterised (P >= K) and mergeable after training.",
        simplifications: "Static shared bias b (the paper's optional generated bias is not implemented); static linear output layer; generator is a ReLU MLP with a linear output whose bias starts at vec(I) so S_i starts near the identity; condition embeddings are rows of the model's own field table (no separate condition embedding, no stop-gradient); mix-wise aggregation before the generator only (concatenation); no batch norm or dropout.",
    };

    fn check(cfg: &ApgDnnConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.check(spec)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &ApgDnnConfig,
    ) -> Result<Self, String> {
        Ok(ApgDnn::new(store, spec, cfg))
    }
}

impl Registered<Ranking> for ApgDcnv2 {
    type Config = ApgDcnv2Config;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "apg_dcnv2",
        kind: "ranking",
        paper: "Yan et al., APG: Adaptive Parameter Generation Network for Click-Through Rate Prediction, NeurIPS 2022, arXiv 2203.16218, Sec. 3, on DCN V2 (Wang et al., arXiv 2008.13535, stacked structure) as FuxiCTR's APG_DCNv2",
        summary: "DCN-V2 (full-rank cross layers, then an MLP) whose MLP hidden layers are APG layers x_i U S_i V + b with a per-instance generated K x K core (conditions self, group or mix) and over-parameterised, mergeable U and V.",
        simplifications: "As apg_dnn; the cross layers stay static (only the deep part is APG); no low-rank mixture of experts in the cross network.",
    };

    fn check(cfg: &ApgDcnv2Config, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.check(spec)
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &ApgDcnv2Config,
    ) -> Result<Self, String> {
        Ok(ApgDcnv2::new(store, spec, cfg))
    }
}
