//! Suites: named lists of tasks with shared overrides.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::json::{read_json, SpecError};

/// A suite: a named list of tasks (by name, resolved in `tasks/`), with optional
/// overrides of seeds and models for all of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub tasks: Vec<String>,
    #[serde(default)]
    pub seeds: Option<u32>,
    #[serde(default)]
    pub models: Option<Vec<String>>,
}

impl SuiteSpec {
    pub fn load(path: &Path) -> Result<SuiteSpec, SpecError> {
        read_json(path)
    }
}
