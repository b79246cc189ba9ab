//! SASRec (Kang & McAuley, Self-Attentive Sequential Recommendation, ICDM 2018,
//! arXiv 1808.09781, Sec. III).
//!
//! - Embedding (III-A): `Ê = E[s] + P`, item embeddings plus learned absolute positions;
//!   padding rows are zero.
//! - Blocks (III-B, III-C): `L` causal self-attention blocks, each
//!   `S = x + Dropout(SA(LN(x)))`, `F = S + Dropout(FFN(LN(S)))`,
//!   `SA(X) = softmax(X W^Q (X W^K)^T / sqrt(d) + M) X W^V` with `M` hiding later
//!   positions and padding, `FFN(x) = ReLU(x W1 + b1) W2 + b2` (width d), then a final
//!   layer norm (as in the authors' code).
//! - Prediction (III-D): `r = <F_t, E[i]>` with the shared item embedding `E`.
//! - Loss (III-E): binary cross-entropy on the target and one sampled negative per
//!   position (`loss: "bce"`, every negative of the batch if it has several), or the
//!   sampled softmax over target + negatives (`loss: "sampled_softmax"`).
//!
//! The user vector is the final state at position `max_len - 1` (the latest item).
//!
//! `form: "authors_code"` follows the authors' TensorFlow code and the PyTorch ports
//! whose figures the Beauty claim compares with (pmixer; Klenitskiy & Vasilev, RecSys
//! 2023) instead of the paper's equations: item embeddings scaled by `sqrt(d)` before
//! positions are added, `a = LN(x)`, `S = a + Dropout(SA(q = a, k = v = x))`,
//! `F = LN(S) + Dropout(FFN(LN(S)))` (keys and values from the un-normalised input,
//! residuals from the normalised one), and an output projection after the heads (as
//! `nn.MultiheadAttention` has).

use serde::Deserialize;

use super::next_item::NextItemEncoder;
use crate::engine::{Ctx, Dev, Mat, ParamStore, TableId, Track};
use crate::kinds::retrieval::{Retrieval, SeqBatch, SeqSpec};
use crate::layers::{
    valid_positions, AttnMask, BlockConfig, FfnKind, Norm, NormKind, Residual, SampledLoss,
    SeqEmbedding, TransformerBlock,
};
use crate::models::defaults::transformer::{check_width, default_dim, default_dropout};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SasRecConfig {
    /// Embedding and hidden width d.
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Self-attention blocks.
    #[serde(default = "default_blocks")]
    pub blocks: usize,
    /// Attention heads (the paper uses one; d must be divisible by it).
    #[serde(default = "default_heads")]
    pub heads: usize,
    /// Dropout on embeddings, attention output and FFN (training only).
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    #[serde(default)]
    pub loss: SampledLoss,
    /// The paper's block equations (default) or the authors' code's.
    #[serde(default)]
    pub form: SasRecForm,
}

/// Which of SASRec's two published forms to build (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SasRecForm {
    /// Sec. III-C's `x + Dropout(g(LN(x)))`, no embedding scale, no output projection.
    #[default]
    Paper,
    /// The authors' code: `sqrt(d)` item scale, keys/values from the un-normalised
    /// input, residuals from the normalised one, output projection.
    AuthorsCode,
}

fn default_blocks() -> usize {
    2
}
fn default_heads() -> usize {
    1
}

impl Default for SasRecConfig {
    fn default() -> Self {
        SasRecConfig {
            dim: default_dim(),
            blocks: default_blocks(),
            heads: default_heads(),
            dropout: default_dropout(),
            loss: SampledLoss::Bce,
            form: SasRecForm::Paper,
        }
    }
}

impl SasRecConfig {
    pub fn check(&self) -> Result<(), String> {
        check_width(self.dim, self.heads, self.dropout)?;
        if self.blocks == 0 {
            return Err("blocks must be at least 1".into());
        }
        Ok(())
    }
}

pub struct SasRec {
    pub cfg: SasRecConfig,
    pub emb: SeqEmbedding,
    pub blocks: Vec<TransformerBlock>,
    pub norm: Norm,
}

impl SasRec {
    /// Parameters under `sasrec.`: `embedding.{items,positions}`, `block.<i>.*`, `norm`.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &SeqSpec, cfg: &SasRecConfig) -> Self {
        let mut s = store.scope("sasrec");
        let d = cfg.dim;
        let code = cfg.form == SasRecForm::AuthorsCode;
        let mut emb =
            SeqEmbedding::new(&mut s.pp("embedding"), spec.n_items, spec.max_len, d, true);
        if code {
            emb.item_scale = (d as f32).sqrt();
        }
        let block = BlockConfig {
            dim: d,
            heads: cfg.heads,
            ffn_hidden: d,
            ffn: FfnKind::Relu,
            norm: NormKind::LayerNorm,
            out_proj: code,
            dropout: cfg.dropout,
            residual: if code {
                Residual::NormalizedQueries
            } else {
                Residual::PreNorm
            },
        };
        let blocks = (0..cfg.blocks)
            .map(|i| TransformerBlock::new(&mut s.pp("block").pp(i), block))
            .collect();
        SasRec {
            cfg: cfg.clone(),
            emb,
            blocks,
            norm: Norm::new(&mut s.pp("norm"), NormKind::LayerNorm, d),
        }
    }

    /// The final state at every position, `(batch * max_len, d)`.
    pub fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let mask = AttnMask::causal(&valid_positions(batch), batch.size, batch.max_len);
        let mut x = self.emb.forward::<D, T>(store, batch, ctx);
        x = crate::layers::activation::dropout(x, self.cfg.dropout, ctx);
        for block in &self.blocks {
            x = block.forward(store, x, &mask, ctx);
        }
        self.norm.forward(store, x, ctx)
    }
}

/// Every position predicts its next item from the final states (`NextItemEncoder`).
impl NextItemEncoder for SasRec {
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        SasRec::states(self, store, batch, ctx)
    }
    fn loss_kind(&self) -> SampledLoss {
        self.cfg.loss
    }
    fn item_table(&self) -> TableId {
        self.emb.table
    }
}

impl Registered<Retrieval> for SasRec {
    type Config = SasRecConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "sasrec",
        kind: "retrieval",
        paper: "Kang & McAuley, Self-Attentive Sequential Recommendation, ICDM 2018, arXiv 1808.09781, Sec. III (A embedding, B-C self-attention blocks, D prediction, E loss)",
        summary: "Item + learned position embeddings, L pre-norm causal self-attention blocks (x + Dropout(SA(LN(x))), then x + Dropout(FFN(LN(x))) with a ReLU FFN of width d), final layer norm; next-item scores <F_t, E[i]> with the shared item table; BCE on the target against the batch's sampled negative(s) per position, or sampled softmax (config loss). Config form: \"paper\" (default, the equations above) or \"authors_code\" (the authors' TensorFlow code and the PyTorch ports behind published Beauty figures: item embeddings x sqrt(d), a = LN(x), x' = a + SA(q = a, k = v = x) with an output projection, then LN(x') + FFN(LN(x'))).",
        simplifications: "In the default paper form, queries, keys and values all come from LN(x) and item embeddings are not scaled (the authors' code differs on both: form authors_code); in either form, no dropout on attention weights (the authors' code has it: here dropout falls on the attention output) and linear layers are Xavier-initialised (Klenitskiy & Vasilev: N(0, 0.02)); linear layers have biases; the BCE sums over every negative the batch carries (SASRec uses one); padding rows of the embedding are zeroed instead of masking outputs after each block (equivalent for real positions, since padding keys are hidden from them).",
    };

    fn check(cfg: &SasRecConfig, _spec: &SeqSpec) -> Result<(), String> {
        cfg.check()
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &SeqSpec,
        cfg: &SasRecConfig,
    ) -> Result<Self, String> {
        Ok(SasRec::new(store, spec, cfg))
    }
}
