//! Tasks: specs (JSON), data preparation shared by a task's cells, and one module per
//! task kind.

pub mod cell;
pub mod prepare;
pub mod ranking;
pub mod retrieval;
pub mod retrieval_eval;
pub mod retrieval_prep;
pub mod spec;

pub use spec::{check_model, ModelEntry, RetrievalSpec, SuiteSpec, TaskKind, TaskSpec, TrainSpec};
