//! The checks of a ranking (CTR) spec.

/// Metrics a ranking task can report.
pub const RANKING_METRICS: &[&str] = &["auc", "gauc", "logloss"];
