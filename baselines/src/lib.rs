//! recbench model zoo on dfdx tensors.
//!
//! `Batch` and `FeatureSpec` are the input contract with the harness, `Model` the model
//! interface, `engine` the shared machinery (parameters, optimizers, sparse tables, FLOP
//! counting), `layers` the shared building blocks, and one folder per model family.
//! This crate does not depend on the harness.

pub mod batch;
pub mod catalog;
pub mod engine;
pub mod generative;
pub mod layers;
pub mod model;
pub mod ranking;
pub mod sequence;
pub mod sequential;

pub use batch::{Batch, FeatureSpec, PairStat, PairStats};
pub use catalog::{build, info, pair_fields, validate, ModelError, ModelInfo, CATALOG};
pub use generative::{
    gen_gradient_norms, gen_logits, gen_pretrain_gradient_norms, gen_pretrain_step, gen_train_step,
    GenBatch, GenForward, GenModel, GenSpec,
};
pub use model::{Forward, Model};
pub use sequence::{
    seq_gradient_norms, seq_train_step, seq_user_vectors, SeqBatch, SeqForward, SeqModel, SeqSpec,
};
pub use sequential::{build_gen, build_seq, validate_gen, validate_seq, GEN_CATALOG, SEQ_CATALOG};

/// The CPU device every default build has.
pub type Cpu = dfdx::tensor::Cpu;
