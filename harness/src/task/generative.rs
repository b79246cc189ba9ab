//! A generative-ranking task's settings, its `metric:action` metrics, and the checks
//! of a generative spec.

use serde::{Deserialize, Serialize};

use super::ranking::RANKING_METRICS;
use crate::data::builder::DatasetSpec;
use crate::data::synth::gen::ACTIONS;

/// Settings of a generative-ranking task (`"generative": {...}` in the task file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerativeSpec {
    /// Exposures of history per example (`GenSpec::max_history`), the most recent.
    #[serde(default = "default_max_history")]
    pub max_history: usize,
    /// Candidates per example (`GenSpec::max_candidates`); longer requests are cut into
    /// consecutive chunks of at most this many exposures.
    #[serde(default = "default_max_candidates")]
    pub max_candidates: usize,
    /// Users with fewer requests (after the cut) are dropped (at least 3: a training,
    /// a validation and a test request).
    #[serde(default = "default_min_requests")]
    pub min_requests: usize,
    /// Request files only: a request is a user's events within one clock window of
    /// this many seconds (`floor(time / window)`; default 3600, the same hour).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_window_seconds: Option<u64>,
}

fn default_max_history() -> usize {
    64
}
fn default_max_candidates() -> usize {
    8
}
fn default_min_requests() -> usize {
    3
}
/// The default request window of request files: one hour.
pub const DEFAULT_REQUEST_WINDOW: u64 = 3600;

impl Default for GenerativeSpec {
    fn default() -> Self {
        GenerativeSpec {
            max_history: default_max_history(),
            max_candidates: default_max_candidates(),
            min_requests: default_min_requests(),
            request_window_seconds: None,
        }
    }
}

impl GenerativeSpec {
    /// The request window of request files (the default when the spec has none).
    pub fn window(&self) -> u64 {
        self.request_window_seconds
            .unwrap_or(DEFAULT_REQUEST_WINDOW)
    }
}

/// A generative task's metric: a ranking metric of one action, written `metric:action`
/// (e.g. `auc:click`, `gauc:like`, `logloss:click`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenMetric {
    /// `auc`, `gauc` or `logloss`.
    pub metric: String,
    pub action: String,
}

impl GenMetric {
    /// Parses `metric:action` against the task's action names.
    pub fn parse(name: &str, actions: &[String]) -> Result<GenMetric, String> {
        let Some((metric, action)) = name.split_once(':') else {
            return Err(format!(
                "`{name}`: generative metrics are `metric:action` (e.g. `auc:{}`)",
                actions.first().map_or("click", |a| a.as_str())
            ));
        };
        if !RANKING_METRICS.contains(&metric) {
            return Err(format!(
                "`{name}`: unknown metric `{metric}` (known: {})",
                RANKING_METRICS.join(", ")
            ));
        }
        if !actions.iter().any(|a| a == action) {
            return Err(format!(
                "`{name}`: unknown action `{action}` (this dataset's actions: {})",
                actions.join(", ")
            ));
        }
        Ok(GenMetric {
            metric: metric.to_string(),
            action: action.to_string(),
        })
    }
}

impl std::fmt::Display for GenMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.metric, self.action)
    }
}

/// The action names of a generative-ranking source, in flag order (`None` for the
/// other sources).
pub fn action_names(dataset: &DatasetSpec) -> Option<Vec<String>> {
    match dataset {
        DatasetSpec::SynthGen { .. } => Some(ACTIONS.iter().map(|a| a.to_string()).collect()),
        DatasetSpec::Requests(r) => Some(r.actions.iter().map(|a| a.name.clone()).collect()),
        _ => None,
    }
}
