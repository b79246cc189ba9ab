//! Ranking (CTR) models, one file each, and the kind's registry list. Adding one = a
//! file here plus a line in `entries`.

pub mod amtl;
pub mod apg;
pub mod dcnv2;
pub mod dnn;
pub mod lr;
pub mod pcf;
pub mod pcf_gnn;
pub mod stats;

pub use amtl::{AmtlDnn, AmtlDnnConfig};
pub use apg::{ApgDcnv2, ApgDcnv2Config, ApgDnn, ApgDnnConfig, ConditionConfig, ConditionKind};
pub use dcnv2::{Dcnv2, Dcnv2Config};
pub use dnn::{Dnn, DnnConfig};
pub use lr::{Lr, LrConfig};
pub use pcf::{PcfDnn, PcfDnnConfig};
pub use pcf_gnn::{FrozenNodes, Gnn, PairGraph};
pub use stats::{PairTable, StatsDnn, StatsDnnConfig};

use crate::engine::Dev;
use crate::kinds::ranking::Ranking;
use crate::registry::{Registration, Registry};

impl Registry for Ranking {
    fn entries<D: Dev>() -> Vec<Registration<Self, D>> {
        vec![
            Registration::of::<Lr>(),
            Registration::of::<Dnn>(),
            Registration::of::<Dcnv2>(),
            Registration::of::<ApgDnn>(),
            Registration::of::<ApgDcnv2>(),
            Registration::of::<AmtlDnn>(),
            Registration::of::<PcfDnn>(),
            Registration::of::<StatsDnn>(),
        ]
    }
}
