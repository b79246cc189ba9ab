//! PCF-DNN: the DNN (`dnn`) with PCF-GNN's pre-trained cross feature (Li et al.,
//! "Explicit Semantic Cross Feature Learning via Pre-trained Graph Neural Networks for
//! CTR Prediction", SIGIR 2021, arXiv 2105.07752, Sec. 3):
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
//! 5. Out of fold (`folds`, default 2): a training row's `p_uv` must not come from a
//!    GNN fitted to statistics that include its own label (a pair seen once would hand
//!    the row its label). Besides the GNN on every training row (GNN 0, which serves
//!    evaluation), one GNN per fold k is pre-trained on the statistics of the training
//!    rows outside fold k ([`crate::PairStats::out_of_fold`], folds by
//!    `kinds::ranking::row_key`), and a training row of fold k reads GNN 1 + k. This is
//!    target encoding's K-fold scheme; the paper builds its graph from a log the CTR
//!    model's rows are not part of, which a task with one training window cannot.
//! 6. Downstream: the GNNs are frozen (`frozen_in_training`); `h^K` is computed once from
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
use crate::kinds::ranking::{fold_of, needs_sparse, Ranking, RankingInputs, ROW_KEY};
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
    /// Out-of-fold GNNs for the training rows (0 = the one GNN for every row, which
    /// hands a training row its own label through its pair's rate).
    #[serde(default = "default_folds")]
    pub folds: usize,
}

fn default_folds() -> usize {
    2
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
            folds: default_folds(),
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
        if self.folds == 1 {
            return Err("folds must be 0 (one GNN) or at least 2 (out of fold)".into());
        }
        if !(self.pretrain_lr > 0.0 && self.pretrain_lr.is_finite()) {
            return Err(format!("pretrain_lr must be > 0, got {}", self.pretrain_lr));
        }
        self.field_indices(spec).map(|_| ())
    }

    /// The pair statistics, checked against the config and the vocabularies, with the
    /// out-of-fold statistics the config asks for.
    pub fn require_pairs<'a>(&self, spec: &'a FeatureSpec) -> Result<&'a PairStats, String> {
        let stats = spec.require_pairs(&self.fields)?;
        if stats.out_of_fold.len() != self.folds {
            return Err(format!(
                "needs the out-of-fold pair statistics of {} folds (PairStats::out_of_fold), got {}",
                self.folds,
                stats.out_of_fold.len()
            ));
        }
        Ok(stats)
    }
}

/// The DNN with PCF-GNN's frozen cross feature.
pub struct PcfDnn {
    emb: FieldEmbedding,
    mlp: Mlp,
    /// GNN 0 is pre-trained on every training row's pair statistics and serves
    /// evaluation; GNN 1 + k on the rows outside fold k, and serves training rows of
    /// fold k.
    pub gnns: Vec<Gnn>,
    pub graphs: Vec<PairGraph>,
    /// Indices of the two graph fields in the spec.
    fields: (usize, usize),
    folds: usize,
    pretrain_epochs: usize,
    pretrain_lr: f32,
    /// `h^K` of each GNN's current parameters; cleared by every pre-training step,
    /// refilled by `prepare_frozen` (or the first forward after it was cleared).
    frozen: RwLock<Option<Vec<Arc<FrozenNodes>>>>,
}

/// The GNNs' parameters, under `pcf_dnn.gnn`: updated by pre-training only.
pub const GNN: &str = "pcf_dnn.gnn";

impl PcfDnn {
    /// Panics if `cfg.require_pairs(spec)` fails (the registry checks it first).
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &PcfDnnConfig) -> Self {
        let stats = cfg.require_pairs(spec).expect("pcf_dnn: pair statistics");
        let fields = cfg.field_indices(spec).expect("pcf_dnn: fields");
        let (vocab_a, vocab_b) = (spec.sparse[fields.0].1, spec.sparse[fields.1].1);
        let graphs: Vec<PairGraph> = std::iter::once(&stats.pairs)
            .chain(&stats.out_of_fold)
            .map(|pairs| PairGraph::new(pairs, vocab_a, vocab_b, cfg.fanout))
            .collect();
        let mut s = store.scope("pcf_dnn");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense() + 1;
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        let gnns = (0..graphs.len())
            .map(|g| {
                let name = if g == 0 {
                    "all".to_string()
                } else {
                    format!("fold{}", g - 1)
                };
                let mut scope = s.pp("gnn");
                Gnn::new(
                    &mut scope.pp(name),
                    graphs[g].nodes,
                    cfg.gnn_dim,
                    cfg.gnn_layers,
                )
            })
            .collect();
        PcfDnn {
            emb,
            mlp,
            gnns,
            graphs,
            fields,
            folds: cfg.folds,
            pretrain_epochs: cfg.pretrain_epochs,
            pretrain_lr: cfg.pretrain_lr,
            frozen: RwLock::new(None),
        }
    }

    /// `h^K` of every GNN's current parameters: the cached tables, or computed now
    /// (without a tape; their FLOPs counted as forward work in `ctx`) and cached.
    pub fn frozen_nodes<D: Dev>(
        &self,
        store: &ParamStore<D>,
        ctx: &mut Ctx<D>,
    ) -> Vec<Arc<FrozenNodes>> {
        if let Some(nodes) = self.frozen.read().expect("pcf cache").as_ref() {
            return nodes.clone();
        }
        let training = ctx.is_training();
        ctx.set_training(false);
        let nodes: Vec<Arc<FrozenNodes>> = self
            .gnns
            .iter()
            .zip(&self.graphs)
            .map(|(gnn, graph)| {
                let h = gnn.propagate::<D, NoneTape>(store, graph, ctx);
                Arc::new(FrozenNodes {
                    h: h.as_vec(),
                    dim: gnn.dim,
                })
            })
            .collect();
        ctx.set_training(training);
        *self.frozen.write().expect("pcf cache") = Some(nodes.clone());
        nodes
    }

    /// `p_uv` of every example of the batch: in training, from the GNN that did not
    /// see the row's fold (by the batch's row keys); otherwise from GNN 0.
    pub fn cross_feature<D: Dev>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Vec<f32> {
        let nodes = self.frozen_nodes(store, ctx);
        let keys = (ctx.is_training() && self.folds > 0).then(|| {
            batch.column(ROW_KEY).unwrap_or_else(|| {
                panic!("pcf_dnn trains out of fold: a training batch needs the `{ROW_KEY}` column")
            })
        });
        (0..batch.size)
            .map(|r| {
                let g = keys.map_or(0, |k| 1 + fold_of(k[r], self.folds));
                let row = batch.sparse_row(r);
                let u = row[self.fields.0] as usize;
                nodes[g].cross(u, self.graphs[g].node_b(row[self.fields.1]))
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
        let g = self.gnns[0].dim;
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

    /// The sum of every GNN's weighted loss over its pairs (the GNNs are independent,
    /// so one step pre-trains each); the batch is not read.
    fn pretrain_loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        _batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        // The GNNs are about to change: the cached h^K no longer hold.
        *self.frozen.write().expect("pcf cache") = None;
        let mut total: Option<Loss<D, T>> = None;
        for (gnn, graph) in self.gnns.iter().zip(&self.graphs) {
            let loss = gnn.pretrain_loss::<D, T>(store, graph, ctx);
            total = Some(match total {
                None => loss,
                Some(acc) => {
                    ctx.flops.elementwise(1);
                    acc + loss
                }
            });
        }
        total
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
        self.graphs[0].nodes * self.gnns[0].dim * std::mem::size_of::<f32>()
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
        simplifications: "One field pair (one relation) instead of many field pairs and a heterogeneous graph; mean aggregation with one shared W^k for both node types, no bias; deterministic top-count neighbour cap instead of sampling; dot-product CrossNet only; full-batch pre-training for a fixed number of steps (config `pretrain_epochs`, default 100, `pretrain_lr` 0.01), no early stopping on the pre-training loss; the pretrained h^K is not reused as the downstream embedding (the DNN keeps its own field embeddings), only p_uv is; the exact weight form is the spec's guess log(1 + c); statistics from the training split only, with K out-of-fold GNNs (config `folds`, default 2; 0 = one GNN, leaking each training row's label through its pair's rate) serving the training rows, so pre-training costs K + 1 GNNs; no batch norm or dropout.",
    };

    fn check(cfg: &PcfDnnConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.check(spec)
    }

    fn side_inputs(cfg: &PcfDnnConfig) -> RankingInputs {
        RankingInputs {
            frequencies: false,
            pair: Some((cfg.fields[0].clone(), cfg.fields[1].clone())),
            pair_folds: cfg.folds,
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
