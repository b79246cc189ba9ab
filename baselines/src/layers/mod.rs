//! Shared layers. Models compose these; no model reaches into another model.

pub mod activation;
pub mod amtl;
pub mod apg;
pub mod attention;
pub mod batch_norm;
pub mod cross;
pub mod embedding;
pub mod embedding_strategy;
pub mod experts;
pub mod frequency;
pub mod hstu;
pub mod linear;
pub mod mlp;
pub mod next_item;
pub mod norm;
pub mod prelu;
pub mod seq_embedding;
pub mod transformer;

pub use crate::kinds::time_bucket;
pub use amtl::AmtlLayer;
pub use apg::{ApgCondition, ApgDims, ApgLayer, ApgMlp, Proj};
pub use attention::{
    pointwise_attention, pointwise_attention_with, softmax_attention, AttnMask, ScoreBias,
};
pub use batch_norm::BatchNorm;
pub use cross::CrossNet;
pub use embedding::{dense_input, embed_and_concat, FieldEmbedding};
pub use embedding_strategy::{BlockStrategy, Compose, EmbeddingStrategy};
pub use experts::{mixtures, Gate, Towers};
pub use hstu::{HstuLayer, RelativeBias};
pub use linear::Linear;
pub use mlp::Mlp;
pub use next_item::{in_batch_loss, log_sampling_probs, sampled_loss, SampledLoss};
pub use norm::{Norm, NormKind};
pub use prelu::{Prelu, PreluMlp};
pub use seq_embedding::{last_rows, valid_positions, SeqEmbedding};
pub use transformer::{BlockConfig, FfnKind, Residual, TransformerBlock};
