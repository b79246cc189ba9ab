//! Shared layers. Models compose these; no model reaches into another model.

pub mod amtl;
pub mod apg;
pub mod cross;
pub mod embedding;
pub mod embedding_strategy;
pub mod frequency;
pub mod linear;
pub mod mlp;

pub use amtl::AmtlLayer;
pub use apg::{ApgCondition, ApgDims, ApgLayer, ApgMlp, Proj};
pub use cross::CrossNet;
pub use embedding::{dense_input, embed_and_concat, FieldEmbedding};
pub use embedding_strategy::{BlockStrategy, Compose, EmbeddingStrategy};
pub use linear::Linear;
pub use mlp::Mlp;
