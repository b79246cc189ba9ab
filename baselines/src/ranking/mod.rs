//! CTR ranking models: one file per model.

pub mod dcnv2;
pub mod dnn;
pub mod lr;

pub use dcnv2::{Dcnv2, Dcnv2Config};
pub use dnn::{Dnn, DnnConfig};
pub use lr::{Lr, LrConfig};
