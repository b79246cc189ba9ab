//! CTR ranking models: one file per model.

pub mod amtl;
pub mod apg;
pub mod dcnv2;
pub mod dnn;
pub mod lr;
pub mod pcf;
pub mod stats;

pub use amtl::{AmtlDnn, AmtlDnnConfig};
pub use apg::{ApgDcnv2, ApgDcnv2Config, ApgDnn, ApgDnnConfig, ConditionConfig, ConditionKind};
pub use dcnv2::{Dcnv2, Dcnv2Config};
pub use dnn::{Dnn, DnnConfig};
pub use lr::{Lr, LrConfig};
pub use pcf::{PcfDnn, PcfDnnConfig, PcfGnn};
pub use stats::{PairTable, StatsDnn, StatsDnnConfig};
