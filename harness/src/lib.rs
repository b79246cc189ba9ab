//! recbench harness: data, tasks, training, metrics, statistics, results and reports.
//! Models live in the `baselines` crate; nothing here depends on a particular model.

pub mod checkpoint;
pub mod cost;
pub mod data;
pub mod kinds;
pub mod measure;
pub mod metrics;
pub mod provenance;
pub mod report;
pub mod results;
pub mod runner;
pub mod stats;
pub mod task;
pub mod train;
