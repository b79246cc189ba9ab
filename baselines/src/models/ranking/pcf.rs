//! PCF-DNN: the DNN (`dnn`) with PCF-GNN's pre-trained cross feature (Li et al., Graph
//! Intention Network / "Explicit Semantic Cross Feature Learning via Pre-trained Graph
//! Neural Networks for CTR Prediction", SIGIR 2021, arXiv 2105.07752, Sec. 3):
//!
//! 1. Graph: nodes are the ids of two sparse fields (`fields`, e.g. user_id x item_id);
//!    an edge joins u and v when they co-occur in a TRAINING row, with count c_uv and
//!    positive rate a_uv ([`crate::PairStats`]; the harness computes them on the
//!    training split only).
//! 2. GNN (`pcf_gnn.rs`): h^0 a learnable node embedding; K rounds of
//!    `h^k_i = ReLU([h^{k-1}_i || mean_{j in N(i)} h^{k-1}_j] W^k)`, with N(i) capped at
//!    `fanout` neighbours chosen deterministically (largest c_uv first, ties by id).
//! 3. CrossNet: `p_uv = dot(h^K_u, h^K_v)`, read as the pair's rate.
//! 4. Pre-training, through the harness's pre-training hook ([`Pretraining`], data
//!    [`PretrainData::Own`]): `pretrain_epochs` full-batch steps of the engine's Adam on
//!    `mean_uv w_uv (p_uv - a_uv)^2`, `w_uv = log(1 + c_uv)`, updating the GNN
//!    (`pcf_dnn.gnn.*`) only. It reads the training statistics, no row's label beyond
//!    them.
//! 5. Downstream: the GNN is frozen (`frozen_in_training`); `h^K` is computed once from
//!    the frozen parameters (`prepare_frozen`) and kept as a host table. Every example
//!    gets `p_uv`, the predicted rate of its pair, as an extra dense feature:
//!    `logit = MLP([e_1 | ... | e_F | x_dense | p_uv])`. Pairs absent from the
//!    statistics still get a value (their nodes' h^K exist; ids never seen in training
//!    keep their random h^0 passed through the GNN).

use std::sync::{Arc, RwLock};

use dfdx::prelude::*;
use serde::Deserialize;

use super::pcf_gnn::{FrozenNodes, Gnn, PairGraph};
use crate::contract::{Forward, Loss, PretrainData, Pretraining};
use crate::engine::{Col, Ctx, Dev, Init, ParamStore, Track};
use crate::kinds::ranking::{needs_sparse, Ranking, RankingInputs};
use crate::layers::{FieldEmbedding, Mlp};
use crate::models::defaults::ctr::{default_dim, default_fields, default_hidden};
use crate::registry::{ModelInfo, Registered};
use crate::{Batch, FeatureSpec, PairStats};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PcfDnnConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// The two sparse fields whose ids form the graph (default user_id x item_id).
    #[serde(default = "default_fields")]
    pub fields: [String; 2],
    /// GNN width d (the paper: 32).
    #[serde(default = "default_gnn_dim")]
    pub gnn_dim: usize,
    /// Message-passing rounds K (1 or 2; the paper: 2).
    #[serde(default = "default_layers")]
    pub gnn_layers: usize,
    /// Neighbours kept per node (the paper: 10 per relation).
    #[serde(default = "default_fanout")]
    pub fanout: usize,
    /// Full-batch Adam epochs of the pretraining.
    #[serde(default = "default_epochs")]
    pub pretrain_epochs: usize,
    #[serde(default = "default_pretrain_lr")]
    pub pretrain_lr: f32,
}

fn default_gnn_dim() -> usize {
    32
}
fn default_layers() -> usize {
    2
}
fn default_fanout() -> usize {
    10
}
fn default_epochs() -> usize {
    100
}
fn default_pretrain_lr() -> f32 {
    0.01
}

impl Default for PcfDnnConfig {
    fn default() -> Self {
        PcfDnnConfig {
            embedding_dim: default_dim(),
            hidden: default_hidden(),
            fields: default_fields(),
            gnn_dim: default_gnn_dim(),
            gnn_layers: default_layers(),
            fanout: default_fanout(),
            pretrain_epochs: default_epochs(),
            pretrain_lr: default_pretrain_lr(),
        }
    }
}

impl PcfDnnConfig {
    /// Indices of the two graph fields in the spec.
    pub fn field_indices(&self, spec: &FeatureSpec) -> Result<(usize, usize), String> {
        spec.field_pair(&self.fields)
    }

    /// Shapes and ranges; the pair statistics' presence is checked when building.
    pub fn check(&self, spec: &FeatureSpec) -> Result<(), String> {
        if self.embedding_dim == 0 || self.gnn_dim == 0 || self.fanout == 0 {
            return Err("embedding_dim, gnn_dim and fanout must be >= 1".into());
        }
        if !(1..=2).contains(&self.gnn_layers) {
            return Err(format!(
                "gnn_layers must be 1 or 2, got {}",
                self.gnn_layers
            ));
        }
        if !(self.pretrain_lr > 0.0 && self.pretrain_lr.is_finite()) {
            return Err(format!("pretrain_lr must be > 0, got {}", self.pretrain_lr));
        }
        self.field_indices(spec).map(|_| ())
    }

    /// The pair statistics, checked against the config and the vocabularies.
    pub fn require_pairs<'a>(&self, spec: &'a FeatureSpec) -> Result<&'a PairStats, String> {
        spec.require_pairs(&self.fields)
    }
}

/// The DNN with PCF-GNN's frozen cross feature.
pub struct PcfDnn {
    emb: FieldEmbedding,
    mlp: Mlp,
    pub gnn: Gnn,
    pub graph: PairGraph,
    /// Indices of the two graph fields in the spec.
    fields: (usize, usize),
    pretrain_epochs: usize,
    pretrain_lr: f32,
    /// `h^K` of the current GNN parameters; cleared by every pre-training step, refilled
    /// by `prepare_frozen` (or the first forward after it was cleared).
    frozen: RwLock<Option<Arc<FrozenNodes>>>,
}

/// The GNN's parameters, under `pcf_dnn.gnn`: updated by pre-training only.
pub const GNN: &str = "pcf_dnn.gnn";

impl PcfDnn {
    /// Panics if `cfg.require_pairs(spec)` fails (the registry checks it first).
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &PcfDnnConfig) -> Self {
        let stats = cfg.require_pairs(spec).expect("pcf_dnn: pair statistics");
        let fields = cfg.field_indices(spec).expect("pcf_dnn: fields");
        let (vocab_a, vocab_b) = (spec.sparse[fields.0].1, spec.sparse[fields.1].1);
        let graph = PairGraph::new(stats, vocab_a, vocab_b, cfg.fanout);
        let mut s = store.scope("pcf_dnn");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense() + 1;
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        let gnn = Gnn::new(&mut s.pp("gnn"), graph.nodes, cfg.gnn_dim, cfg.gnn_layers);
        PcfDnn {
            emb,
            mlp,
            gnn,
            graph,
            fields,
            pretrain_epochs: cfg.pretrain_epochs,
            pretrain_lr: cfg.pretrain_lr,
            frozen: RwLock::new(None),
        }
    }

    /// `h^K` of the current GNN parameters: the cached table, or computed now (without
    /// a tape; its FLOPs counted as forward work in `ctx`) and cached.
    pub fn frozen_nodes<D: Dev>(
        &self,
        store: &ParamStore<D>,
        ctx: &mut Ctx<D>,
    ) -> Arc<FrozenNodes> {
        if let Some(nodes) = self.frozen.read().expect("pcf cache").as_ref() {
            return nodes.clone();
        }
        let training = ctx.is_training();
        ctx.set_training(false);
        let h = self.gnn.propagate::<D, NoneTape>(store, &self.graph, ctx);
        ctx.set_training(training);
        let nodes = Arc::new(FrozenNodes {
            h: h.as_vec(),
            dim: self.gnn.dim,
        });
        *self.frozen.write().expect("pcf cache") = Some(nodes.clone());
        nodes
    }

    /// `p_uv` of every example of the batch.
    pub fn cross_feature<D: Dev>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Vec<f32> {
        let nodes = self.frozen_nodes(store, ctx);
        (0..batch.size)
            .map(|r| {
                let row = batch.sparse_row(r);
                let u = row[self.fields.0] as usize;
                nodes.cross(u, self.graph.node_b(row[self.fields.1]))
            })
            .collect()
    }
}

impl<D: Dev> Forward<Ranking, D> for PcfDnn {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let (f, d) = (self.emb.n_fields(), self.emb.dim);
        let e = self.emb.forward::<D, T>(store, batch, ctx);
        // The frozen CrossNet on the host: a dot product of width gnn_dim per example,
        // no backward (counted as forward-only work below).
        let pcf = self.cross_feature(store, batch, ctx);
        let g = self.gnn.dim;
        let mut host = Vec::with_capacity(batch.size * (batch.n_dense + 1));
        for (r, &p) in pcf.iter().enumerate() {
            host.extend_from_slice(&batch.dense[r * batch.n_dense..(r + 1) * batch.n_dense]);
            host.push(p);
        }
        let training = ctx.is_training();
        ctx.set_training(false);
        ctx.flops.matmul(batch.size, g, 1);
        ctx.set_training(training);
        let extra = store
            .dev()
            .tensor_from_vec(host, (batch.size, batch.n_dense + 1))
            .retaped::<T>();
        ctx.flops.copy(batch.size * (f * d + batch.n_dense + 1));
        let x = (e, extra).concat_along(Axis::<1>);
        self.mlp.forward(store, x, ctx).reshape_like(&(batch.size,))
    }

    /// The GNN's weighted loss over the training pairs; the batch is not read.
    fn pretrain_loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        _batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        // The GNN is about to change: the cached h^K no longer holds.
        *self.frozen.write().expect("pcf cache") = None;
        Some(self.gnn.pretrain_loss(store, &self.graph, ctx))
    }

    /// Full-batch on the model's own pair graph, the GNN only, at `pretrain_lr`.
    fn pretraining(&self) -> Option<Pretraining> {
        Some(Pretraining {
            epochs: self.pretrain_epochs,
            data: PretrainData::Own,
            trains: &[GNN],
            learning_rate: Some(self.pretrain_lr),
        })
    }

    fn frozen_in_training(&self) -> &[&'static str] {
        &[GNN]
    }

    /// A server keeps the frozen `h^K` table ((vocab_a + vocab_b) x gnn_dim f32), not
    /// the GNN that computed it.
    fn extra_serving_bytes(&self) -> usize {
        self.graph.nodes * self.gnn.dim * std::mem::size_of::<f32>()
    }

    fn training_only(&self) -> &[&'static str] {
        &[GNN]
    }

    fn prepare_frozen(&self, store: &ParamStore<D>, ctx: &mut Ctx<D>) {
        *self.frozen.write().expect("pcf cache") = None;
        self.frozen_nodes(store, ctx);
    }
}

impl Registered<Ranking> for PcfDnn {
    type Config = PcfDnnConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "pcf_dnn",
        kind: "ranking",
        paper: "Li et al., Explicit Semantic Cross Feature Learning via Pre-trained Graph Neural Networks for CTR Prediction (PCF-GNN), SIGIR 2021, arXiv 2105.07752, Sec. 3 (graph construction, message passing, CrossNet, weighted pretraining, frozen downstream use)",
        summary: "DNN with one pre-trained cross feature: a bipartite graph over the ids of two fields (config `fields`, default user_id x item_id) with edges from training co-occurrences (count c_uv, positive rate a_uv); K rounds of h^k = ReLU(W^k [h^{k-1} || mean of <= fanout neighbours]); CrossNet p_uv = dot(h_u^K, h_v^K); pre-trained before training (the harness's pre-training hook: full-batch steps of the engine's Adam, GNN parameters only) on mean w_uv (p_uv - a_uv)^2, w_uv = log(1 + c_uv), so p_uv regresses the pair's rate; then frozen, and p_uv enters the MLP as an extra dense feature (unseen pairs included). Serving bytes count the frozen h^K table ((vocab_a + vocab_b) x gnn_dim f32) a server keeps instead of the GNN's parameters.",
        simplifications: "One field pair (one relation) instead of many field pairs and a heterogeneous graph; mean aggregation with one shared W^k for both node types, no bias; deterministic top-count neighbour cap instead of sampling; dot-product CrossNet only; full-batch pre-training for a fixed number of steps (config `pretrain_epochs`, default 100, `pretrain_lr` 0.01), no early stopping on the pre-training loss; the pretrained h^K is not reused as the downstream embedding (the DNN keeps its own field embeddings), only p_uv is; the exact weight form is the spec's guess log(1 + c); statistics from the training split only; no batch norm or dropout.",
    };

    fn check(cfg: &PcfDnnConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.check(spec)
    }

    fn side_inputs(cfg: &PcfDnnConfig) -> RankingInputs {
        RankingInputs {
            frequencies: false,
            pair: Some((cfg.fields[0].clone(), cfg.fields[1].clone())),
        }
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &PcfDnnConfig,
    ) -> Result<Self, String> {
        cfg.require_pairs(spec)?;
        Ok(PcfDnn::new(store, spec, cfg))
    }
}
