//! The checks of a ranking (CTR) spec.

use super::TaskSpec;

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
        self.kind.check_dataset(&self.dataset)?;
        self.check_foreign_sections()
    }
}
