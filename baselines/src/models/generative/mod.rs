//! Generative-ranking models (the next request's actions from the user's earlier
//! requests), one file each, and the kind's registry list. Adding one = a file here
//! plus a line in `entries`. `gen_hstu`, `genrank_tokens`, `lum_backbone` and `lum_config` are parts
//! of the models beside them, not models.

pub mod din;
pub mod gen_hstu;
pub mod genrank;
pub mod genrank_tokens;
pub mod hstu_rank;
pub mod item_only;
pub mod lum;
pub mod lum_backbone;
pub mod lum_config;

pub use din::{Din, DinConfig};
pub use gen_hstu::GenHstuConfig;
pub use genrank::GenRank;
pub use hstu_rank::HstuRank;
pub use item_only::{ItemOnly, ItemOnlyConfig};
pub use lum::{Lum, LumConfig};

use crate::engine::Dev;
use crate::kinds::generative::Generative;
use crate::registry::{Registration, Registry};

impl Registry for Generative {
    fn entries<D: Dev>() -> Vec<Registration<Self, D>> {
        vec![
            Registration::of::<ItemOnly>(),
            Registration::of::<Din>(),
            Registration::of::<Lum>(),
            Registration::of::<HstuRank>(),
            Registration::of::<GenRank>(),
        ]
    }
}
