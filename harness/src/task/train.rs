//! A task's training budget and optimizer settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use baselines::engine::OptimConfig;

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
    /// Early stopping never stops before this epoch (0 = no floor): for tasks where
    /// models sit near the popularity baseline for their first epochs before they
    /// learn, which `patience` alone would take for convergence.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_epochs: usize,
    #[serde(default)]
    pub optim: OptimConfig,
    /// Per-model overrides of `optim` (e.g. a larger sparse learning rate for LR), by
    /// cell model name (a variant's name, not its base model's).
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
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for TrainSpec {
    fn default() -> Self {
        TrainSpec {
            batch_size: default_batch(),
            max_epochs: default_epochs(),
            patience: default_patience(),
            min_epochs: 0,
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
