//! Multi-task metrics: AUC, GAUC (by group) and LogLoss of each task's column of the
//! logits, named `<metric>:<task>`, and each metric's mean over the tasks,
//! `<metric>:mean` (recorded only when every task has it: a task without positives in
//! the evaluated rows has no AUC).

use std::collections::BTreeMap;

use crate::metrics::ranking_metrics;
use crate::task::{TaskLayout, MEAN};

/// Every task's metrics and their means. `logits` and `labels` are `rows x tasks`,
/// row-major; `groups` has one group per row.
pub fn multitask_metrics(
    layout: &TaskLayout,
    logits: &[f32],
    labels: &[f32],
    groups: Option<&[u32]>,
) -> BTreeMap<String, f64> {
    let t = layout.tasks.len();
    assert_eq!(logits.len(), labels.len(), "one logit per label");
    let column =
        |v: &[f32], k: usize| -> Vec<f32> { v.iter().skip(k).step_by(t).copied().collect() };
    let mut out = BTreeMap::new();
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for (k, task) in layout.tasks.iter().enumerate() {
        for (metric, value) in ranking_metrics(&column(logits, k), &column(labels, k), groups) {
            let s = sums.entry(metric.clone()).or_default();
            s.0 += value;
            s.1 += 1;
            out.insert(format!("{metric}:{task}"), value);
        }
    }
    for (metric, (sum, n)) in sums {
        if n == t {
            out.insert(format!("{metric}:{MEAN}"), sum / t as f64);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{auc, logloss_from_logits};

    #[test]
    fn per_task_columns_and_means() {
        let layout = TaskLayout {
            tasks: vec!["a".into(), "b".into()],
            categories: vec!["all".into()],
            category_of: vec![0, 0],
        };
        // Rows: (a, b) logits and labels.
        let logits = [2.0, -1.0, -1.0, 0.5, 0.5, 1.0, -2.0, -0.5];
        let labels = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0];
        let m = multitask_metrics(&layout, &logits, &labels, None);
        let prob =
            |z: &[f32]| -> Vec<f32> { z.iter().map(|&x| 1.0 / (1.0 + (-x).exp())).collect() };
        let (za, ya) = ([2.0, -1.0, 0.5, -2.0], [1.0, 0.0, 1.0, 0.0]);
        let (zb, yb) = ([-1.0, 0.5, 1.0, -0.5], [0.0, 1.0, 1.0, 0.0]);
        let (aa, ab) = (auc(&prob(&za), &ya).unwrap(), auc(&prob(&zb), &yb).unwrap());
        assert_eq!(m["auc:a"], aa);
        assert_eq!(m["auc:b"], ab);
        assert_eq!(m["auc:mean"], (aa + ab) / 2.0);
        let (la, lb) = (logloss_from_logits(&za, &ya), logloss_from_logits(&zb, &yb));
        assert!((m["logloss:mean"] - (la + lb) / 2.0).abs() < 1e-12);
        assert!(!m.contains_key("gauc:mean"), "no groups, no GAUC");
        // A task without positives has no AUC, and then no mean AUC either.
        let none = [0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        let m = multitask_metrics(&layout, &logits, &none, None);
        assert!(!m.contains_key("auc:a") && m.contains_key("auc:b"));
        assert!(!m.contains_key("auc:mean"));
    }
}
