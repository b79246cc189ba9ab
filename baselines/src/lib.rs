//! recbench model zoo on dfdx tensors.
//!
//! - `contract`: the one model contract, generic over the task kind (`Kind`,
//!   `Forward`, `Model`) and the one training step (`contract::step`);
//! - `kinds`: each task kind's spec, batch, output and default loss;
//! - `registry`: how a model registers (paper, config, side inputs, build) and the
//!   lookups by name; `models`: the models by kind, one file each;
//! - `engine`: parameters, optimizers, sparse tables, FLOP counting; `layers`: the
//!   shared building blocks.
//!
//! Dependencies point one way: `models -> registry -> layers -> kinds -> contract ->
//! engine`. This crate does not depend on the harness.

pub mod contract;
pub mod engine;
pub mod kinds;
pub mod layers;
pub mod models;
pub mod registry;

pub use contract::step::{
    gradient_norms, predict, pretrain_gradient_norms, pretrain_optimizer, pretrain_step,
    train_step, StepOutput,
};
pub use contract::{Forward, Kind, Loss, Model, PretrainData, Pretraining};
pub use kinds::generative::{GenBatch, GenSpec};
pub use kinds::multitask::{MultiTaskBatch, MultiTaskSpec};
pub use kinds::ranking::{Batch, FeatureSpec, PairStat, PairStats, RankingInputs};
pub use kinds::retrieval::{RetrievalHints, SeqBatch, SeqSpec};
pub use kinds::{Generative, MultiTask, Ranking, Retrieval};
pub use registry::{ModelError, ModelInfo, Registered, Registration, Registry};

/// The CPU device every default build has.
pub type Cpu = dfdx::tensor::Cpu;
