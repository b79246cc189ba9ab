//! Data: raw files -> `Table` (loaders, one per format) -> `Dataset` (builder, by task
//! spec) -> splits -> batches. Synthetic worlds produce a `Dataset` directly. Retrieval
//! tasks use `Sequences` (per-user item sequences, leave-one-out) instead, generative-ranking
//! tasks `RequestLogs` (per-user requests of exposures and actions).

pub mod batcher;
pub mod builder;
pub mod dataset;
pub mod error;
pub mod gen_batcher;
pub mod hash;
pub mod join;
pub mod length_batches;
pub mod loaders;
pub mod popularity_sampler;
pub mod requests;
pub mod seq_batcher;
pub mod sequences;
pub mod split;
pub mod synth;
pub mod table;

pub use dataset::{Dataset, Schema, SparseField};
pub use error::{DataError, DataResult};
pub use table::{Column, ColumnData, Table, TokenColumn, TokenSeqColumn};
