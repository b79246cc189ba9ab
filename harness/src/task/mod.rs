//! Tasks: specs (JSON), data preparation shared by a task's cells, and one module per
//! task kind.

pub mod cell;
pub mod generative;
pub mod generative_eval;
pub mod generative_prep;
pub mod prepare;
pub mod ranking;
pub mod retrieval;
pub mod retrieval_eval;
pub mod retrieval_prep;
pub mod spec;

pub use spec::{
    all_models, check_model, GenMetric, GenerativeSpec, ModelEntry, RetrievalSpec, SuiteSpec,
    TaskKind, TaskSpec, TrainSpec,
};
