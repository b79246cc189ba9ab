//! A task's `models` entries: registered models and named variants of them.

use super::kind::all_models;

/// One model of a task, resolved: the cell's name (results path, leaderboard row), the
/// registered model it builds, and the config its constructor gets.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// The key in the task's `models`: a registered name or a variant name.
    pub name: String,
    /// The registered model (`baselines::models`) that is built.
    pub base: String,
    /// The entry's config without its `model` key (null = the model's defaults).
    pub config: serde_json::Value,
}

impl ModelEntry {
    /// `Some(base)` for a variant, `None` when the name is the registered model itself
    /// (`CellResult::base_model`).
    pub fn base_model(&self) -> Option<String> {
        (self.name != self.base).then(|| self.base.clone())
    }
}

pub(super) fn registered_names() -> String {
    all_models().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// Resolves one `models` entry. A config with a `model` key is a variant of that registered
/// model; without it, `name` itself must be a registered model. Names become folder names
/// of results, so they are restricted to `[A-Za-z0-9_.-]`, and a registered name cannot be
/// reused for another model's variant (its leaderboard row would be misread).
pub(super) fn model_entry(name: &str, config: &serde_json::Value) -> Result<ModelEntry, String> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(format!(
            "model name `{name}` must be letters, digits, `_`, `-` or `.` (not leading)"
        ));
    }
    let base = match config.get("model") {
        None => None,
        Some(serde_json::Value::String(b)) => Some(b.clone()),
        Some(other) => {
            return Err(format!(
                "`model` must be a registered model name (a string), got {other}"
            ))
        }
    };
    let Some(base) = base else {
        if baselines::models::info(name).is_none() {
            return Err(format!(
                "unknown model `{name}`: not registered ({}), and its config has no `model` key naming the registered model it is a variant of",
                registered_names()
            ));
        }
        return Ok(ModelEntry {
            name: name.to_string(),
            base: name.to_string(),
            config: config.clone(),
        });
    };
    if baselines::models::info(&base).is_none() {
        return Err(format!(
            "unknown base model `{base}` (registry: {})",
            registered_names()
        ));
    }
    if name != base && baselines::models::info(name).is_some() {
        return Err(format!(
            "`{name}` is a registered model and cannot name a variant of `{base}`"
        ));
    }
    let mut config = config.clone();
    if let Some(o) = config.as_object_mut() {
        o.remove("model");
    }
    Ok(ModelEntry {
        name: name.to_string(),
        base,
        config,
    })
}
