//! The task kinds as models see them: each file defines its kind's spec, batch, output
//! and default loss (`crate::contract::Kind`).

pub mod generative;
pub mod multitask;
pub mod ranking;
pub mod retrieval;

pub use generative::Generative;
pub use multitask::MultiTask;
pub use ranking::Ranking;
pub use retrieval::Retrieval;

/// HSTU's log bucketization of a time gap (the authors' code): batches precompute it
/// (`GenBatch`), layers read it (`crate::layers::RelativeBias`).
pub fn time_bucket(dt: i64, max_bucket: usize) -> usize {
    let x = (dt.unsigned_abs().max(1) as f64).ln() / 0.301;
    (x as usize).min(max_bucket)
}
