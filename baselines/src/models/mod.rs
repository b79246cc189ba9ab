//! The models, by kind (`ranking/`, `retrieval/`, `generative/`, `multitask/`), one file each; each
//! kind's `mod.rs` lists its registrations. Shared config defaults live in `defaults`.

pub mod defaults;
pub mod generative;
pub mod multitask;
pub mod ranking;
pub mod retrieval;

use crate::kinds::{Generative, MultiTask, Ranking, Retrieval};
use crate::registry::{components as components_of, infos, ModelError, ModelInfo};

/// Every registered model of every kind, kind by kind in registration order.
pub fn all() -> Vec<&'static ModelInfo> {
    let mut out = infos::<Ranking>();
    out.extend(infos::<Retrieval>());
    out.extend(infos::<Generative>());
    out.extend(infos::<MultiTask>());
    out
}

/// The registry entry of model `name`, whatever its kind.
pub fn info(name: &str) -> Option<&'static ModelInfo> {
    all().into_iter().find(|m| m.name == name)
}

/// The registry entries of the components (an embedding strategy) that model `name`
/// uses with `config`, whatever its kind; empty for an unknown name or a bad config.
pub fn components(name: &str, config: &serde_json::Value) -> Vec<&'static ModelInfo> {
    let found = |r: Result<Vec<&'static ModelInfo>, ModelError>| r.ok();
    found(components_of::<Ranking>(name, config))
        .or_else(|| found(components_of::<Retrieval>(name, config)))
        .or_else(|| found(components_of::<Generative>(name, config)))
        .or_else(|| found(components_of::<MultiTask>(name, config)))
        .unwrap_or_default()
}
