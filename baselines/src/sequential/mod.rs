//! Sequential retrieval models (issue 7): next-item prediction from a user's history,
//! trained and evaluated through `crate::sequence` (`SeqBatch`, `SeqForward`).
//! Adding one = a file here plus an entry in `SEQ_CATALOG` and `build_seq`.

use crate::catalog::{ModelError, ModelInfo};
use crate::engine::{Dev, ParamStore};
use crate::sequence::{SeqModel, SeqSpec};

/// Sequential models, described like `crate::CATALOG`'s (family "sequential").
pub const SEQ_CATALOG: &[ModelInfo] = &[];

/// Builds sequential model `name` with `config` (JSON; null = defaults) for `spec`.
pub fn build_seq<D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &SeqSpec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn SeqModel<D>>, ModelError> {
    let _ = (config, spec, store);
    Err(ModelError::Unknown {
        name: name.to_string(),
        known: SEQ_CATALOG
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", "),
    })
}
