//! The checks of a ranking (CTR) spec.

use super::TaskSpec;
use crate::data::builder::DatasetSpec;

/// Metrics a ranking task can report.
pub const RANKING_METRICS: &[&str] = &["auc", "gauc", "logloss"];

impl TaskSpec {
    pub(super) fn check_ranking(&self) -> Result<(), (&'static str, String)> {
        for m in &self.metrics {
            if !RANKING_METRICS.contains(&m.as_str()) {
                return Err((
                    "metrics",
                    format!(
                        "unknown metric `{m}` (known: {})",
                        RANKING_METRICS.join(", ")
                    ),
                ));
            }
        }
        if !matches!(
            self.dataset,
            DatasetSpec::SynthCtr { .. } | DatasetSpec::Files(_)
        ) {
            return Err((
                "dataset",
                format!(
                    "source `{}` is for {} tasks (ranking tasks take synth_ctr or files)",
                    self.dataset.source(),
                    if self.dataset.action_names().is_some() {
                        "generative"
                    } else {
                        "retrieval"
                    }
                ),
            ));
        }
        self.check_foreign_sections()
    }
}
