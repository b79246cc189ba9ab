//! Tasks: specs (JSON files in `tasks/`) and suites. What each kind does with them
//! lives in `crate::kinds`.

pub mod spec;

pub use spec::{
    all_models, check_model, GenMetric, GenerativeSpec, ModelEntry, RetrievalSpec, SuiteSpec,
    TaskKind, TaskSpec, TrainSpec,
};
