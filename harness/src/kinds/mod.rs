//! Task kinds in the harness: what the runner needs of a kind ([`CellKind`]), what a
//! kind that trains models does for its cells ([`TaskKindData`]), and the one cell
//! runner those kinds share ([`cell::run_cell`]).
//!
//! A kind prepares its data once per task, says what a model is built from (its
//! `baselines` spec, with the side inputs the model's config declares), hands the
//! training loop its rows and batches, evaluates a trained model (metrics and what is
//! written beside the record), and adds its own cost figures and serving latency. The
//! cell runner owns everything else: timing, memory, the model's construction through
//! the registry, early stopping and checkpoints (`crate::train`), the record and its
//! provenance. Adding a kind = a folder here with one `impl TaskKindData`, the kind's
//! spec section (`crate::task`) and its line in `crate::runner::run_task_of`.

pub mod cell;
pub mod cell_kind;
pub mod generative;
pub mod interface;
pub mod multitask;
pub mod ranking;
pub mod record;
pub mod retrieval;

pub use cell::{run_cell, Builder};
pub use cell_kind::CellKind;
pub use interface::{Evaluated, ModelSpec, SideInputs, TaskKindData};
pub use record::{CellError, CellId, DataHashes};
