//! Task specs: JSON files in `tasks/` that say what data, which split, which metrics,
//! which models with which hyper-parameters, how many seeds and what training budget.
//! Unknown keys are rejected so a typo cannot silently fall back to a default.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::builder::DatasetSpec;
use crate::data::split::SplitSpec;
use baselines::engine::OptimConfig;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Ranking,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    pub name: String,
    pub kind: TaskKind,
    #[serde(default)]
    pub description: String,
    pub dataset: DatasetSpec,
    pub split: SplitSpec,
    /// Metrics to report; the first is primary (used for early stopping and ranking).
    pub metrics: Vec<String>,
    /// Model name -> hyper-parameters (null or {} = the model's defaults).
    pub models: BTreeMap<String, serde_json::Value>,
    #[serde(default = "default_seeds")]
    pub seeds: u32,
    #[serde(default)]
    pub train: TrainSpec,
}

fn default_seeds() -> u32 {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default = "default_epochs")]
    pub max_epochs: usize,
    /// Epochs without improvement of the validation metric before stopping.
    #[serde(default = "default_patience")]
    pub patience: usize,
    #[serde(default)]
    pub optim: OptimConfig,
    /// Per-model overrides of `optim` (e.g. a larger sparse learning rate for LR).
    #[serde(default)]
    pub optim_overrides: BTreeMap<String, OptimConfig>,
}

fn default_batch() -> usize {
    1024
}
fn default_epochs() -> usize {
    10
}
fn default_patience() -> usize {
    2
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            batch_size: default_batch(),
            max_epochs: default_epochs(),
            patience: default_patience(),
            optim: OptimConfig::default(),
            optim_overrides: BTreeMap::new(),
        }
    }
}

impl TrainSpec {
    pub fn optim_for(&self, model: &str) -> OptimConfig {
        self.optim_overrides
            .get(model)
            .copied()
            .unwrap_or(self.optim)
    }
}

/// Metrics a ranking task can report.
pub const RANKING_METRICS: &[&str] = &["auc", "gauc", "logloss"];

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {msg}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        msg: String,
    },
    #[error("{path}: `{key}`: {msg}")]
    Invalid {
        path: PathBuf,
        key: String,
        msg: String,
    },
}

impl TaskSpec {
    pub fn load(path: &Path) -> Result<TaskSpec, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let spec: TaskSpec = serde_json::from_str(&text).map_err(|e| SpecError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            msg: e.to_string(),
        })?;
        spec.check(path)?;
        Ok(spec)
    }

    /// Checks what serde cannot: known metrics and models, sane budgets.
    pub fn check(&self, path: &Path) -> Result<(), SpecError> {
        let invalid = |key: &str, msg: String| SpecError::Invalid {
            path: path.to_path_buf(),
            key: key.to_string(),
            msg,
        };
        if self.metrics.is_empty() {
            return Err(invalid("metrics", "at least one metric is needed".into()));
        }
        for m in &self.metrics {
            if !RANKING_METRICS.contains(&m.as_str()) {
                return Err(invalid(
                    "metrics",
                    format!(
                        "unknown metric `{m}` (known: {})",
                        RANKING_METRICS.join(", ")
                    ),
                ));
            }
        }
        if self.models.is_empty() {
            return Err(invalid("models", "at least one model is needed".into()));
        }
        for name in self.models.keys().chain(self.train.optim_overrides.keys()) {
            if baselines::info(name).is_none() {
                let known: Vec<&str> = baselines::CATALOG.iter().map(|m| m.name).collect();
                return Err(invalid(
                    "models",
                    format!("unknown model `{name}` (known: {})", known.join(", ")),
                ));
            }
        }
        if self.seeds == 0 {
            return Err(invalid("seeds", "must be at least 1".into()));
        }
        if self.train.batch_size == 0 || self.train.max_epochs == 0 {
            return Err(invalid(
                "train",
                "batch_size and max_epochs must be positive".into(),
            ));
        }
        Ok(())
    }

    pub fn primary_metric(&self) -> &str {
        &self.metrics[0]
    }
}

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
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| SpecError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            msg: e.to_string(),
        })
    }
}
