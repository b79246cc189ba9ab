//! The task kinds as models see them: each file defines its kind's spec, batch, output
//! and default loss (`crate::contract::Kind`).

pub mod generative;
pub mod ranking;
pub mod retrieval;

pub use generative::Generative;
pub use ranking::Ranking;
pub use retrieval::Retrieval;
