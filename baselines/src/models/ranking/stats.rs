//! STATS-DNN: the DNN (`dnn`) with an explicit statistical cross feature, the baseline
//! PCF-GNN is compared against (Li et al., "Explicit Semantic Cross Feature Learning via
//! Pre-trained Graph Neural Networks for CTR Prediction", SIGIR 2021, arXiv 2105.07752,
//! Sec. 1 and 4: "statistical explicit semantic cross features", SESCF). For one pair of
//! sparse fields (`fields`, e.g. user_id x item_id) a lookup table holds, for every pair
//! `(u, v)` seen in the TRAINING rows, its count `c_uv` and positives `y_uv`
//! ([`crate::PairStats`], computed by the harness on the training split only). Each
//! example gets two extra dense inputs:
//!
//! ```text
//! rate_uv  = (y_uv + a * prior) / (c_uv + a)      additive smoothing towards the prior
//! count_uv = ln(1 + c_uv)
//! logit    = MLP([e_1 | ... | e_F | x_dense | rate_uv | count_uv])
//! ```
//!
//! with `prior = Σ y_uv / Σ c_uv` (the training positive rate) and `a = smoothing`
//! pseudo-counts. A pair absent from the table gets `(prior, 0)`: the table cannot
//! generalise to unseen pairs, which is PCF-GNN's first argument against it; its
//! memory, `pairs x (2 ids + 2 values)` = 16 bytes per pair, grows with the observed
//! cross product, the second ([`Forward::extra_serving_bytes`]).
//!
//! Leave-one-out while training (`leave_one_out`, default true): the table is built from
//! the very rows the DNN trains on, so a pair seen once would hand the model that row's
//! own label. In training forwards each row's own label is removed from its pair's
//! statistics (`c - 1`, `y - label`), so a pair seen once looks unseen, as it will for a
//! new row at test time; evaluation uses the full statistics. (Production systems count
//! over an earlier time window instead; a task here has one training window.)

use dfdx::prelude::*;
use serde::Deserialize;

use crate::contract::Forward;
use crate::engine::{Col, Ctx, Dev, Init, ParamStore, Track};
use crate::kinds::ranking::{needs_sparse, Ranking, RankingInputs};
use crate::layers::{FieldEmbedding, Mlp};
use crate::models::defaults::ctr::default_fields;
use crate::models::defaults::ctr::{default_dim, default_hidden};
use crate::registry::{ModelInfo, Registered};
use crate::{Batch, FeatureSpec, PairStats};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsDnnConfig {
    #[serde(default = "default_dim")]
    pub embedding_dim: usize,
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// The two sparse fields whose pairs are counted (default user_id x item_id).
    #[serde(default = "default_fields")]
    pub fields: [String; 2],
    /// Pseudo-counts `a` of the prior in the smoothed rate.
    #[serde(default = "default_smoothing")]
    pub smoothing: f32,
    /// Remove each training row's own label from its pair's statistics while training.
    #[serde(default = "default_leave_one_out")]
    pub leave_one_out: bool,
}

fn default_smoothing() -> f32 {
    10.0
}
fn default_leave_one_out() -> bool {
    true
}

impl Default for StatsDnnConfig {
    fn default() -> Self {
        StatsDnnConfig {
            embedding_dim: default_dim(),
            hidden: default_hidden(),
            fields: default_fields(),
            smoothing: default_smoothing(),
            leave_one_out: default_leave_one_out(),
        }
    }
}

impl StatsDnnConfig {
    /// Shapes and ranges; the pair statistics' presence is checked when building.
    pub fn check(&self, spec: &FeatureSpec) -> Result<(), String> {
        if self.embedding_dim == 0 {
            return Err("embedding_dim must be >= 1".into());
        }
        if !(self.smoothing > 0.0 && self.smoothing.is_finite()) {
            return Err(format!("smoothing must be > 0, got {}", self.smoothing));
        }
        spec.field_pair(&self.fields).map(|_| ())
    }
}

/// Bytes of one table entry: two u32 ids and two 4-byte values.
pub const BYTES_PER_PAIR: usize = 16;

/// The frozen statistics table of one field pair.
#[derive(Debug, Clone)]
pub struct PairTable {
    pub stats: PairStats,
    /// Training positive rate `Σ y / Σ c` (0.5 for an empty table).
    pub prior: f32,
    pub smoothing: f32,
}

impl PairTable {
    pub fn new(stats: &PairStats, smoothing: f32) -> Self {
        let (c, y) = stats.pairs.iter().fold((0u64, 0u64), |(c, y), p| {
            (c + p.count as u64, y + p.positives as u64)
        });
        PairTable {
            stats: stats.clone(),
            prior: if c == 0 { 0.5 } else { y as f32 / c as f32 },
            smoothing,
        }
    }

    /// `[rate, ln(1 + count)]` of a pair seen `count` times with `positives` positives.
    pub fn features(&self, count: f32, positives: f32) -> [f32; 2] {
        let a = self.smoothing;
        [(positives + a * self.prior) / (count + a), count.ln_1p()]
    }

    /// The features of pair `(u, v)`; with `own_label`, that row's label is taken out of
    /// the pair's statistics first (leave-one-out). Unseen pairs: `[prior, 0]`.
    pub fn lookup(&self, u: u32, v: u32, own_label: Option<f32>) -> [f32; 2] {
        match self.stats.get(u, v) {
            None => self.features(0.0, 0.0),
            Some(p) => {
                let (c, y) = (p.count as f32, p.positives as f32);
                match own_label {
                    Some(l) => self.features(c - 1.0, (y - l).max(0.0)),
                    None => self.features(c, y),
                }
            }
        }
    }

    /// Serving memory of the table: `pairs x BYTES_PER_PAIR`.
    pub fn bytes(&self) -> usize {
        self.stats.pairs.len() * BYTES_PER_PAIR
    }
}

pub struct StatsDnn {
    pub emb: FieldEmbedding,
    pub mlp: Mlp,
    pub table: PairTable,
    fields: (usize, usize),
    leave_one_out: bool,
}

impl StatsDnn {
    /// Panics if the pair statistics are missing (the registry checks first). Parameters
    /// are created in `dnn`'s order (table, then MLP, whose input is 2 wider).
    pub fn new<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &StatsDnnConfig,
    ) -> Self {
        let stats = spec
            .require_pairs(&cfg.fields)
            .expect("stats_dnn: pair statistics");
        let fields = spec.field_pair(&cfg.fields).expect("stats_dnn: fields");
        let mut s = store.scope("stats_dnn");
        let emb = FieldEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            cfg.embedding_dim,
            Init::Normal { std: 0.01 },
        );
        let width = spec.n_sparse() * cfg.embedding_dim + spec.n_dense() + 2;
        let mlp = Mlp::new(&mut s.pp("mlp"), width, &cfg.hidden, Some(1));
        StatsDnn {
            emb,
            mlp,
            table: PairTable::new(stats, cfg.smoothing),
            fields,
            leave_one_out: cfg.leave_one_out,
        }
    }

    /// `[rate, ln(1 + count)]` of every example; leave-one-out when `training`.
    pub fn cross_features(&self, batch: &Batch, training: bool) -> Vec<[f32; 2]> {
        (0..batch.size)
            .map(|r| {
                let row = batch.sparse_row(r);
                let own = (training && self.leave_one_out).then(|| batch.labels[r]);
                self.table
                    .lookup(row[self.fields.0], row[self.fields.1], own)
            })
            .collect()
    }
}

impl<D: Dev> Forward<Ranking, D> for StatsDnn {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &Batch,
        ctx: &mut Ctx<D>,
    ) -> Col<D, T> {
        let (f, d) = (self.emb.n_fields(), self.emb.dim);
        let e = self.emb.forward::<D, T>(store, batch, ctx);
        let training = ctx.is_training();
        let stats = self.cross_features(batch, training);
        let mut host = Vec::with_capacity(batch.size * (batch.n_dense + 2));
        for (r, s) in stats.iter().enumerate() {
            host.extend_from_slice(&batch.dense[r * batch.n_dense..(r + 1) * batch.n_dense]);
            host.extend_from_slice(s);
        }
        // The table read: 2 values per example, a constant input (no backward).
        ctx.set_training(false);
        ctx.flops.gather(batch.size, 2);
        ctx.set_training(training);
        let extra = store
            .dev()
            .tensor_from_vec(host, (batch.size, batch.n_dense + 2))
            .retaped::<T>();
        ctx.flops.copy(batch.size * (f * d + batch.n_dense + 2));
        let x = (e, extra).concat_along(Axis::<1>);
        self.mlp.forward(store, x, ctx).reshape_like(&(batch.size,))
    }

    /// The pair table: 16 bytes per training pair, outside the parameter store.
    fn extra_serving_bytes(&self) -> usize {
        self.table.bytes()
    }
}

impl Registered<Ranking> for StatsDnn {
    type Config = StatsDnnConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "stats_dnn",
        kind: "ranking",
        paper: "The explicit statistical cross feature (SESCF) baseline of Li et al., PCF-GNN, SIGIR 2021, arXiv 2105.07752, Sec. 1 and 4; smoothed target statistics of a feature pair",
        summary: "DNN with a lookup table of one field pair's training statistics (config `fields`, default user_id x item_id): every example gets rate_uv = (y_uv + a prior) / (c_uv + a) and ln(1 + c_uv) as two extra dense inputs (c_uv count, y_uv positives, prior the training positive rate, a = `smoothing`, default 10); unseen pairs get (prior, 0). The table (16 bytes per pair) is counted in serving_bytes.",
        simplifications: "One field pair; additive smoothing with a fixed a (not tuned); statistics over the whole training split (the paper's production SESCF count an earlier time window), with leave-one-out while training (config `leave_one_out`, default true: a row's own label is removed from its pair's statistics, so the table does not hand the model its label; evaluation uses the full table); no batch norm or dropout.",
    };

    fn check(cfg: &StatsDnnConfig, spec: &FeatureSpec) -> Result<(), String> {
        needs_sparse(spec)?;
        cfg.check(spec)
    }

    fn side_inputs(cfg: &StatsDnnConfig) -> RankingInputs {
        RankingInputs {
            frequencies: false,
            pair: Some((cfg.fields[0].clone(), cfg.fields[1].clone())),
            pair_folds: 0,
        }
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &FeatureSpec,
        cfg: &StatsDnnConfig,
    ) -> Result<Self, String> {
        spec.require_pairs(&cfg.fields)?;
        Ok(StatsDnn::new(store, spec, cfg))
    }
}
