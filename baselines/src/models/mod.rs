//! The models, by kind (`ranking/`, `retrieval/`, `generative/`), one file each; each
//! kind's `mod.rs` lists its registrations. Shared config defaults live in `defaults`.

pub mod defaults;
pub mod generative;
pub mod ranking;
pub mod retrieval;

use crate::kinds::{Generative, Ranking, Retrieval};
use crate::registry::{infos, ModelInfo};

/// Every registered model of every kind, kind by kind in registration order.
pub fn all() -> Vec<&'static ModelInfo> {
    let mut out = infos::<Ranking>();
    out.extend(infos::<Retrieval>());
    out.extend(infos::<Generative>());
    out
}

/// The registry entry of model `name`, whatever its kind.
pub fn info(name: &str) -> Option<&'static ModelInfo> {
    all().into_iter().find(|m| m.name == name)
}
