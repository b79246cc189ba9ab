//! HSTU (Zhai et al., Actions Speak Louder than Words: Trillion-Parameter Sequential
//! Transducers for Generative Recommendations, ICML 2024, arXiv 2402.17152, Sec. 3.1),
//! as a sequential retrieval model.
//!
//! Each layer (Eq. 1-3), on `X` of `(batch * len, d)`:
//! - `U, V, Q, K = Split(φ1(f1(LN(X))))`, `φ1 = SiLU`, `f1` linear;
//! - `A(X) V(X) = φ2(Q K^T + rab^{p,t}) V / n` with `φ2 = SiLU`, no softmax (pointwise
//!   aggregated attention), `n` the padded length, causal and padding mask;
//! - `Y = X + f2(LN(A V) ⊙ U)` (dropout before `f2`'s residual add when training).
//!
//! `rab^{p,t}` is learned per layer and shared by the heads: a weight per relative
//! position `j - i` (`2 len - 1` of them) plus a weight per time bucket
//! `⌊ln(max(|t_i - t_j|, 1)) / 0.301⌋` clamped to `time_buckets` (the authors' code's
//! bucketization). Inputs are item plus learned absolute position embeddings; outputs
//! score items with the shared item table; training uses the batch's sampled negatives
//! (sampled softmax by default, as Sec. 4.1.1, or BCE).

use serde::Deserialize;

use super::next_item::NextItemEncoder;
use crate::engine::{Ctx, Dev, Mat, ParamStore, TableId, Track};
use crate::kinds::retrieval::{Retrieval, SeqBatch, SeqSpec};
use crate::layers::activation::dropout;
use crate::layers::{
    valid_positions, AttnMask, HstuLayer, RelativeBias, SampledLoss, ScoreBias, SeqEmbedding,
};
use crate::models::defaults::transformer::{check_width, default_dim, default_dropout};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HstuConfig {
    /// Embedding and hidden width d (U, V, Q, K each d wide, split over the heads).
    #[serde(default = "default_dim")]
    pub dim: usize,
    #[serde(default = "default_blocks")]
    pub blocks: usize,
    #[serde(default = "default_heads")]
    pub heads: usize,
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    /// Learned relative position bias `rab^p`.
    #[serde(default = "yes")]
    pub position_bias: bool,
    /// Learned relative time bias `rab^t` over log-bucketed time differences.
    #[serde(default = "yes")]
    pub time_bias: bool,
    /// Largest time bucket (the authors' code: 128).
    #[serde(default = "default_buckets")]
    pub time_buckets: usize,
    #[serde(default = "default_loss")]
    pub loss: SampledLoss,
}

fn default_blocks() -> usize {
    2
}
fn default_heads() -> usize {
    1
}
fn yes() -> bool {
    true
}
fn default_buckets() -> usize {
    128
}
fn default_loss() -> SampledLoss {
    SampledLoss::SampledSoftmax
}

impl HstuConfig {
    pub fn check(&self) -> Result<(), String> {
        check_width(self.dim, self.heads, self.dropout)?;
        if self.blocks == 0 {
            return Err("blocks must be at least 1".into());
        }
        if self.time_bias && self.time_buckets == 0 {
            return Err("time_buckets must be at least 1".into());
        }
        Ok(())
    }
}

pub struct Hstu {
    pub cfg: HstuConfig,
    pub emb: SeqEmbedding,
    pub layers: Vec<HstuLayer>,
    /// One `rab` per layer.
    pub rab: Vec<RelativeBias>,
}

impl Hstu {
    /// Parameters under `hstu.`: `embedding.{items,positions}`, `layer.<i>.*`.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &SeqSpec, cfg: &HstuConfig) -> Self {
        let mut s = store.scope("hstu");
        let emb = SeqEmbedding::new(
            &mut s.pp("embedding"),
            spec.n_items,
            spec.max_len,
            cfg.dim,
            true,
        );
        let (mut layers, mut rab) = (Vec::new(), Vec::new());
        for i in 0..cfg.blocks {
            let mut s = s.pp("layer");
            let mut s = s.pp(i);
            layers.push(HstuLayer::new(&mut s, cfg.dim));
            rab.push(RelativeBias::new(
                &mut s,
                cfg.position_bias.then_some(spec.max_len),
                cfg.time_bias.then_some(cfg.time_buckets),
            ));
        }
        Hstu {
            cfg: cfg.clone(),
            emb,
            layers,
            rab,
        }
    }

    /// The final state at every position, `(batch * max_len, d)`.
    pub fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        assert_eq!(
            batch.times.len(),
            batch.items.len(),
            "hstu: the batch needs a time per position"
        );
        // n = the model's window, also for a batch trimmed to a shorter one.
        let mask = AttnMask::causal(&valid_positions(batch), batch.size, batch.max_len)
            .normalized_over(self.emb.max_len);
        let mut x = self.emb.forward::<D, T>(store, batch, ctx);
        x = dropout(x, self.cfg.dropout, ctx);
        let positions: Vec<u32> = (0..batch.max_len as u32).collect();
        for (layer, rab) in self.layers.iter().zip(&self.rab) {
            let bias = rab.forward(store, &positions, &batch.times, batch.size, ctx);
            let bias = bias.map(ScoreBias::PerExample);
            x = layer.forward(store, x, self.cfg.heads, self.cfg.dropout, &mask, bias, ctx);
        }
        x
    }
}

/// Every position predicts its next item from the final states (`NextItemEncoder`).
impl NextItemEncoder for Hstu {
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        Hstu::states(self, store, batch, ctx)
    }
    fn loss_kind(&self) -> SampledLoss {
        self.cfg.loss
    }
    fn item_table(&self) -> TableId {
        self.emb.table
    }
}

impl Registered<Retrieval> for Hstu {
    type Config = HstuConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "hstu",
        kind: "retrieval",
        paper: "Zhai et al., Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations, ICML 2024, arXiv 2402.17152, Sec. 3.1 (Eq. 1-3), as the retrieval model of Sec. 4.1.1",
        summary: "Item + learned position embeddings, then L HSTU layers: U, V, Q, K = SiLU(f1(LN(X))); pointwise aggregated attention SiLU(Q K^T + rab^{p,t}) V / n (no softmax; causal, padding hidden; rab = learned relative-position weight + learned weight per log-bucketed time difference, per layer, shared by heads); Y = X + f2(LN(AV) ⊙ U). Shared item table scores next items; sampled softmax (default) or BCE over the batch's negatives.",
        simplifications: "Relative time uses t_i - t_j between the query's and the key's own events (the authors' code uses the timestamp of the item after the query, which SeqBatch does not carry); f1 is four d x d linear maps with biases (the code: one bias-free d x 4d matrix), and both layer norms have learned scale and shift (the code: none); no output L2 normalisation or temperature; the sampled softmax uses the batch's uniform negatives, as many per position as the task gives it (retrieval.n_neg, or n_neg_overrides: beauty-seq's hstu_n128 gets 128 as in the authors' MovieLens-1M config, its hstu 1; with one negative the softmax is the two-way -log sigmoid(s+ - s-), and synth-seq's and ml100k-seq's hstu_bce variant trains with SASRec's BCE instead, for the comparison at identical loss); no jagged kernels, M-FALCON or stochastic length.",
    };

    fn check(cfg: &HstuConfig, _spec: &SeqSpec) -> Result<(), String> {
        cfg.check()
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &SeqSpec,
        cfg: &HstuConfig,
    ) -> Result<Self, String> {
        Ok(Hstu::new(store, spec, cfg))
    }
}
