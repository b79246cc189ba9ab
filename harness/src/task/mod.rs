//! Tasks: specs (JSON files in `tasks/`) that say what data, which split, which metrics,
//! which models with which hyper-parameters, how many seeds and what training budget,
//! and suites of them. What each kind does with a task lives in `crate::kinds`.
//! Unknown keys are rejected so a typo cannot silently fall back to a default.
//!
//! One file per concern: the task kinds (`kind`), each kind's settings and checks
//! (`ranking`, `retrieval`, `generative`, `multitask`), the training budget (`train`), model entries
//! and variants (`model_entry`), suites (`suite`) and JSON reading (`json`).

mod checks;
mod generative;
mod json;
mod kind;
mod model_entry;
mod multitask;
mod ranking;
mod retrieval;
mod suite;
mod task_spec;
mod train;

pub use generative::{action_names, GenMetric, GenerativeSpec, DEFAULT_REQUEST_WINDOW};
pub use json::{parse_json, read_json, SpecError};
pub use kind::{all_models, check_model, TaskKind};
pub use model_entry::ModelEntry;
pub use multitask::{source_labels, MtMetric, MultiTaskSettings, TaskLayout, MEAN};
pub use ranking::RANKING_METRICS;
pub use retrieval::RetrievalSpec;
pub use suite::SuiteSpec;
pub use task_spec::{KindSpec, TaskFile, TaskSpec};
pub use train::TrainSpec;

#[cfg(test)]
mod tests;
