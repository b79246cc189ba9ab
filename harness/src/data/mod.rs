//! Data: raw files -> `Table` (loaders, one per format) -> `Dataset` (builder, by task
//! spec) -> splits -> batches. Synthetic worlds produce a `Dataset` directly.

pub mod dataset;
pub mod error;
pub mod loaders;
pub mod synth;
pub mod table;

pub use dataset::{Dataset, Schema, SparseField};
pub use error::{DataError, DataResult};
pub use table::{Column, ColumnData, Table, TokenColumn, TokenSeqColumn};
