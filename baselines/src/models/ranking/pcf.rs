//! PCF-DNN: the DNN (`dnn`) with PCF-GNN's pre-trained cross feature (Li et al., Graph
//! Intention Network / "Explicit Semantic Cross Feature Learning via Pre-trained Graph
//! Neural Networks for CTR Prediction", SIGIR 2021, arXiv 2105.07752, Sec. 3):
//!
//! 1. Graph: nodes are the ids of two sparse fields (`fields`, e.g. user_id x item_id);
//!    an edge joins u and v when they co-occur in a TRAINING row, with count c_uv and
//!    positive rate a_uv ([`crate::PairStats`]; the harness computes them on the
//!    training split only).
//! 2. GNN: h^0 a learnable node embedding; K rounds of
//!    `h^k_i = ReLU([h^{k-1}_i || mean_{j in N(i)} h^{k-1}_j] W^k)`, with N(i) capped at
//!    `fanout` neighbours chosen deterministically (largest c_uv first, ties by id).
//! 3. CrossNet: `p_uv = dot(h^K_u, h^K_v)`, read as a logit.
//! 4. Pretraining, inside [`PcfDnn::new`]: full-batch Adam for `pretrain_epochs` on
//!    `mean_uv w_uv (sigmoid(p_uv) - a_uv)^2`, `w_uv = log(1 + c_uv)` ([`weighted_sq_loss`]).
//!    It uses only the training statistics (no labels of any row beyond them).
//! 5. Downstream: the GNN is frozen: h^K is kept as a host table outside the parameter
//!    store, so the optimizer never sees it. Every example gets `sigmoid(p_uv)` as an
//!    extra dense feature: `logit = MLP([e_1 | ... | e_F | x_dense | sigmoid(p_uv)])`.
//!    Pairs absent from the statistics still get a value (their nodes' h^K exist; ids
//!    never seen in training keep their random h^0 passed through the GNN).

use dfdx::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::contract::Forward;
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

/// PCF-GNN's pretraining loss, `mean_i w_i (sigmoid(p_i) - a_i)^2` over the pairs, with
/// `p` the CrossNet logits, `a` the pair positive rates and `w` the weights. With all
/// `w = 1` it is the plain MSE of `sigmoid(p)` against `a`.
pub fn weighted_sq_loss<D: Dev, T: Tape<f32, D>>(
    p: Tensor<(usize,), f32, D, T>,
    a: Tensor<(usize,), f32, D>,
    w: Tensor<(usize,), f32, D>,
) -> Tensor<Rank0, f32, D, T> {
    ((p.sigmoid() - a).square() * w).mean()
}

/// The pretraining weight of a pair seen `count` times: `log(1 + c_uv)`.
pub fn pair_weight(count: u32) -> f32 {
    (1.0 + count as f32).ln()
}

/// The pretrained, frozen GNN: `h^K` of every node, host-resident.
#[derive(Debug, Clone)]
pub struct PcfGnn {
    /// `(vocab_a + vocab_b) x dim`: field a's ids first, then field b's.
    pub h: Vec<f32>,
    pub dim: usize,
    pub vocab_a: u32,
    /// Pretraining loss before the first and after the last epoch.
    pub loss_first: f32,
    pub loss_last: f32,
}

impl PcfGnn {
    /// CrossNet logit `p_uv = dot(h^K_u, h^K_v)` for id `u` of field a and `v` of field b.
    pub fn logit(&self, u: u32, v: u32) -> f32 {
        let d = self.dim;
        let hu = &self.h[u as usize * d..(u as usize + 1) * d];
        let j = (self.vocab_a + v) as usize;
        let hv = &self.h[j * d..(j + 1) * d];
        hu.iter().zip(hv).map(|(x, y)| x * y).sum()
    }

    /// Builds the graph from `stats` and pretrains the GNN on the CPU (deterministic
    /// given `seed`).
    pub fn pretrain(
        stats: &PairStats,
        vocab_a: u32,
        vocab_b: u32,
        cfg: &PcfDnnConfig,
        seed: u64,
    ) -> Self {
        let dev = Cpu::default();
        let d = cfg.gnn_dim;
        let n = (vocab_a + vocab_b) as usize;
        let f = cfg.fanout;
        // Neighbours: largest count first, ties by node index; capped at the fanout.
        let mut adj: Vec<Vec<(u32, usize)>> = vec![Vec::new(); n];
        for p in &stats.pairs {
            let (i, j) = (p.a as usize, (vocab_a + p.b) as usize);
            adj[i].push((p.count, j));
            adj[j].push((p.count, i));
        }
        let mut nbr = Vec::with_capacity(n * f);
        let mut weight = Vec::with_capacity(n * f * d);
        for list in &mut adj {
            list.sort_by_key(|&(c, j)| (std::cmp::Reverse(c), j));
            let k = list.len().min(f);
            for &(_, j) in &list[..k] {
                nbr.push(j);
                weight.extend(std::iter::repeat_n(1.0 / k as f32, d));
            }
            // Padding slots: node 0 with weight 0.
            nbr.extend(std::iter::repeat_n(0, f - k));
            weight.extend(std::iter::repeat_n(0.0, (f - k) * d));
        }
        let nbr = dev.tensor_from_vec(nbr, (n * f,));
        let mask = dev.tensor_from_vec(weight, (n, f, d));
        let us = dev.tensor_from_vec(
            stats.pairs.iter().map(|p| p.a as usize).collect(),
            (stats.pairs.len(),),
        );
        let vs = dev.tensor_from_vec(
            stats
                .pairs
                .iter()
                .map(|p| (vocab_a + p.b) as usize)
                .collect(),
            (stats.pairs.len(),),
        );
        let m = stats.pairs.len();
        let a = dev.tensor_from_vec(stats.pairs.iter().map(|p| p.rate()).collect(), (m,));
        let w = dev.tensor_from_vec(
            stats.pairs.iter().map(|p| pair_weight(p.count)).collect(),
            (m,),
        );

        // Parameters: h^0 (n x d) and W^k (2d x d), initialised from the seed.
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5043_465f_474e_4e00);
        let mut params: Vec<Vec<f32>> = vec![Init::Normal { std: 0.1 }.sample(&mut rng, n * d)];
        for _ in 0..cfg.gnn_layers {
            params.push(
                Init::XavierUniform {
                    fan_in: 2 * d,
                    fan_out: d,
                }
                .sample(&mut rng, 2 * d * d),
            );
        }
        let propagate = |h0: Tensor<(usize, usize), f32, Cpu, OwnedTape<f32, Cpu>>,
                         ws: &[Tensor<(usize, usize), f32, Cpu>]| {
            let mut h = h0;
            for wk in ws {
                let nb = h
                    .with_empty_tape()
                    .gather(nbr.clone())
                    .reshape_like(&(n, f, d));
                let mean = (nb * mask.clone()).sum::<(usize, usize), Axis<1>>();
                h = (h, mean)
                    .concat_along(Axis::<1>)
                    .matmul(wk.retaped::<OwnedTape<f32, Cpu>>())
                    .relu();
            }
            h
        };
        let mut adam: Vec<(Vec<f32>, Vec<f32>)> = params
            .iter()
            .map(|p| (vec![0.0; p.len()], vec![0.0; p.len()]))
            .collect();
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let mut loss_first = f32::NAN;
        let mut loss_last = f32::NAN;
        for epoch in 0..=cfg.pretrain_epochs {
            let h0 = dev.tensor_from_vec(params[0].clone(), (n, d));
            let ws: Vec<_> = params[1..]
                .iter()
                .map(|p| dev.tensor_from_vec(p.clone(), (2 * d, d)))
                .collect();
            let h = propagate(h0.retaped::<OwnedTape<f32, Cpu>>(), &ws);
            let hu = h.with_empty_tape().gather(us.clone());
            let hv = h.gather(vs.clone());
            let p = (hu * hv).sum::<(usize,), Axis<1>>();
            let loss = weighted_sq_loss(p, a.clone(), w.clone());
            let value = loss.as_vec()[0];
            if epoch == 0 {
                loss_first = value;
            }
            loss_last = value;
            if epoch == cfg.pretrain_epochs || m == 0 {
                break;
            }
            let grads = loss.backward();
            let mut gs = vec![grads.get(&h0).as_vec()];
            gs.extend(ws.iter().map(|wk| grads.get(wk).as_vec()));
            let t = (epoch + 1) as i32;
            let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
            for ((p, g), (m1, m2)) in params.iter_mut().zip(&gs).zip(&mut adam) {
                for i in 0..p.len() {
                    m1[i] = b1 * m1[i] + (1.0 - b1) * g[i];
                    m2[i] = b2 * m2[i] + (1.0 - b2) * g[i] * g[i];
                    p[i] -= cfg.pretrain_lr * (m1[i] / c1) / ((m2[i] / c2).sqrt() + eps);
                }
            }
        }
        let h0 = dev.tensor_from_vec(params[0].clone(), (n, d));
        let ws: Vec<_> = params[1..]
            .iter()
            .map(|p| dev.tensor_from_vec(p.clone(), (2 * d, d)))
            .collect();
        let h = propagate(h0.retaped::<OwnedTape<f32, Cpu>>(), &ws).as_vec();
        PcfGnn {
            h,
            dim: d,
            vocab_a,
            loss_first,
            loss_last,
        }
    }
}

pub struct PcfDnn {
    emb: FieldEmbedding,
    mlp: Mlp,
    pub gnn: PcfGnn,
    fields: (usize, usize),
}

impl PcfDnn {
    /// Panics if `cfg.require_pairs(spec)` fails (the registry checks it first). The
    /// embedding table and MLP are drawn from `store`'s seed; the GNN's own seed is
    /// derived from the first embedding values, so it too follows the store's seed.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &FeatureSpec, cfg: &PcfDnnConfig) -> Self {
        let stats = cfg.require_pairs(spec).expect("pcf_dnn: pair statistics");
        let fields = cfg.field_indices(spec).expect("pcf_dnn: fields");
        let mut s = store.scope("pcf_dnn");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense() + 1;
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        let mut first = Vec::new();
        store.table(emb.table).gather_into(&[0], &mut first);
        let seed = first
            .iter()
            .fold(0u64, |acc, x| acc.rotate_left(7) ^ x.to_bits() as u64);
        let gnn = PcfGnn::pretrain(
            stats,
            spec.sparse[fields.0].1,
            spec.sparse[fields.1].1,
            cfg,
            seed,
        );
        PcfDnn {
            emb,
            mlp,
            gnn,
            fields,
        }
    }

    /// `sigmoid(p_uv)` of every example of the batch.
    pub fn cross_feature(&self, batch: &Batch) -> Vec<f32> {
        (0..batch.size)
            .map(|r| {
                let row = batch.sparse_row(r);
                let p = self.gnn.logit(row[self.fields.0], row[self.fields.1]);
                1.0 / (1.0 + (-p).exp())
            })
            .collect()
    }
}

impl<D: Dev> Forward<Ranking, D> for PcfDnn {
    /// The frozen `h^K` table a server keeps to compute `p_uv` for any pair:
    /// `(vocab_a + vocab_b) x gnn_dim` f32 values, outside the parameter store.
    fn extra_serving_bytes(&self) -> usize {
        self.gnn.h.len() * std::mem::size_of::<f32>()
    }

    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let (f, d) = (self.emb.n_fields(), self.emb.dim);
        let e = self.emb.forward::<D, T>(store, batch, ctx);
        // The frozen CrossNet on the host: a dot product of width gnn_dim and a sigmoid
        // per example, no backward (counted as forward-only work below).
        let pcf = self.cross_feature(batch);
        let g = self.gnn.dim;
        let mut host = Vec::with_capacity(batch.size * (batch.n_dense + 1));
        for (r, &p) in pcf.iter().enumerate() {
            host.extend_from_slice(&batch.dense[r * batch.n_dense..(r + 1) * batch.n_dense]);
            host.push(p);
        }
        let training = ctx.is_training();
        ctx.set_training(false);
        ctx.flops.matmul(batch.size, g, 1);
        ctx.flops.activation(batch.size);
        ctx.set_training(training);
        let extra = store
            .dev()
            .tensor_from_vec(host, (batch.size, batch.n_dense + 1))
            .retaped::<T>();
        ctx.flops.copy(batch.size * (f * d + batch.n_dense + 1));
        let x = (e, extra).concat_along(Axis::<1>);
        self.mlp.forward(store, x, ctx).reshape_like(&(batch.size,))
    }
}

impl Registered<Ranking> for PcfDnn {
    type Config = PcfDnnConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "pcf_dnn",
        kind: "ranking",
        paper: "Li et al., Explicit Semantic Cross Feature Learning via Pre-trained Graph Neural Networks for CTR Prediction (PCF-GNN), SIGIR 2021, arXiv 2105.07752, Sec. 3 (graph construction, message passing, CrossNet, weighted pretraining, frozen downstream use)",
        summary: "DNN with one pre-trained cross feature: a bipartite graph over the ids of two fields (config `fields`, default user_id x item_id) with edges from training co-occurrences (count c_uv, positive rate a_uv); K rounds of h^k = ReLU(W^k [h^{k-1} || mean of <= fanout neighbours]); CrossNet p_uv = dot(h_u^K, h_v^K); pretrained at construction on mean w_uv (sigmoid(p_uv) - a_uv)^2, w_uv = log(1 + c_uv); then frozen, and sigmoid(p_uv) enters the MLP as an extra dense feature (unseen pairs included). The frozen h^K table ((vocab_a + vocab_b) x gnn_dim f32) is counted in serving_bytes.",
        simplifications: "One field pair (one relation) instead of many field pairs and a heterogeneous graph; mean aggregation with one shared W^k for both node types, no bias; deterministic top-count neighbour cap instead of sampling; dot-product CrossNet only; full-batch Adam pretraining on the CPU for a fixed number of epochs (config `pretrain_epochs`, default 100, lr 0.01) inside model construction, so the harness counts it in a cell's `data` seconds, not `train` (about 21 s per seed on synth-ctr with 2 CPU cores); the pretrained h^K is not reused as the downstream embedding (the DNN keeps its own field embeddings), only p_uv is; the exact weight form is the spec's guess log(1 + c); statistics from the training split only; no batch norm or dropout.",
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
