//! Evaluation metrics over flat score/label slices. Labels are 0/1 floats as in
//! `Dataset::labels`; a label counts as positive when it is greater than 0.5.
//!
//! Every metric is checked against scikit-learn on fixed vectors
//! (`tests/fixtures/metrics.json`, made by `tests/fixtures/make_metric_fixtures.py`).

mod auc;
mod gauc;
mod logloss;
mod radix;
pub mod retrieval;
pub mod revenue;
pub mod topk;

pub use auc::auc;
pub use gauc::{gauc, GaucResult};
pub use logloss::{logloss, logloss_from_logits, LOGLOSS_EPS};

use std::collections::BTreeMap;

/// AUC, GAUC (when there are groups) and LogLoss of logits against labels: a ranking
/// cell's metrics, and a generative cell's per action.
pub fn ranking_metrics(
    logits: &[f32],
    labels: &[f32],
    groups: Option<&[u32]>,
) -> BTreeMap<String, f64> {
    let probs: Vec<f32> = logits.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
    let mut m = BTreeMap::new();
    if let Some(a) = auc(&probs, labels) {
        m.insert("auc".to_string(), a);
    }
    if let Some(g) = groups.and_then(|g| gauc(&probs, labels, g)) {
        m.insert("gauc".to_string(), g.gauc);
    }
    m.insert("logloss".to_string(), logloss_from_logits(logits, labels));
    m
}

/// Whether a larger value of `metric` is better: every metric but log loss, also per
/// action (`logloss:click`, a generative task's).
pub fn higher_is_better(metric: &str) -> bool {
    metric.split(':').next() != Some("logloss")
}
