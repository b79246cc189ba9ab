//! Generative-ranking models (issue 7), trained and evaluated through
//! `crate::generative` (`GenBatch`, `GenForward`). Adding one = a file in this folder
//! plus an entry in `GEN_CATALOG`, `validate_gen` and `build_gen`.

use crate::catalog::{ModelError, ModelInfo};
use crate::engine::{Dev, ParamStore};
use crate::generative::{GenModel, GenSpec};

use super::item_only::{ItemOnly, ItemOnlyConfig};
use super::{bad, parse};

/// Generative-ranking models, described like `crate::CATALOG`'s (family "generative").
pub const GEN_CATALOG: &[ModelInfo] = &[ModelInfo {
    name: "item_only",
    family: "generative",
    paper: "none: the history-blind reference of the generative-ranking task",
    summary: "Each candidate's action logits from its item embedding alone, MLP(E[x]) with one output per action: the learned per-item rate of every action, no history.",
    simplifications: "Not a paper model.",
    needs_sparse: false,
}];

fn unknown(name: &str) -> ModelError {
    ModelError::Unknown {
        name: name.to_string(),
        known: GEN_CATALOG
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Checks that generative model `name` exists and its `config` parses and is valid for
/// `spec`, without allocating parameters.
pub fn validate_gen(
    name: &str,
    config: &serde_json::Value,
    _spec: &GenSpec,
) -> Result<(), ModelError> {
    match name {
        "item_only" => parse::<ItemOnlyConfig>(name, config)?
            .check()
            .map_err(|m| bad(name, m)),
        _ => Err(unknown(name)),
    }
}

/// Builds generative model `name` with `config` (JSON; null = defaults) for `spec`.
pub fn build_gen<D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &GenSpec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn GenModel<D>>, ModelError> {
    validate_gen(name, config, spec)?;
    Ok(match name {
        "item_only" => Box::new(ItemOnly::new(store, spec, &parse(name, config)?)),
        _ => unreachable!("validated generative model `{name}` has no constructor"),
    })
}
