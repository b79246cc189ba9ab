//! Retrieval models (next-item prediction from a user's history), one file each, and
//! the kind's registry list. Adding one = a file here plus a line in `entries`.

pub mod hstu;
pub mod kuaiformer;
pub mod next_item;
pub mod sasrec;

pub use hstu::{Hstu, HstuConfig};
pub use kuaiformer::{KuaiFormer, KuaiFormerConfig};
pub use next_item::NextItemEncoder;
pub use sasrec::{SasRec, SasRecConfig, SasRecForm};

use crate::engine::Dev;
use crate::kinds::retrieval::Retrieval;
use crate::registry::{Registration, Registry};

impl Registry for Retrieval {
    fn entries<D: Dev>() -> Vec<Registration<Self, D>> {
        vec![
            Registration::of::<SasRec>(),
            Registration::of::<Hstu>(),
            Registration::of::<KuaiFormer>(),
        ]
    }
}
