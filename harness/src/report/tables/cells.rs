//! A table's cells from one model's result cells: metric summaries over seeds, cost
//! means, latency, and a variant's config against its base model's.

use super::format::{decimals_for, fmt_value};
use super::types::{CostCell, MetricCell};
use crate::report::load::Cell;
use crate::stats::summarize;

pub(super) fn metric_cell(metric: &str, values: &[(u64, f64)], level: f64) -> MetricCell {
    let v: Vec<f64> = values.iter().map(|(_, x)| *x).collect();
    let summary = summarize(&v, level);
    let text = match &summary {
        None => "no data".into(),
        Some(s) => match s.ci {
            Some((lo, hi)) => {
                let hw = (hi - lo) / 2.0;
                let d = decimals_for(hw);
                format!("{:.d$} ± {hw:.d$}", s.mean)
            }
            None => format!("{} · n/a ({} seed)", fmt_value(s.mean), s.n),
        },
    };
    let per_seed = values
        .iter()
        .map(|(s, x)| format!("seed {s}: {}", fmt_value(*x)))
        .collect::<Vec<_>>()
        .join("; ");
    MetricCell {
        metric: metric.into(),
        sort: summary
            .as_ref()
            .map(|s| format!("{}", s.mean))
            .unwrap_or_default(),
        summary,
        text,
        per_seed,
    }
}

/// Mean of a numeric cost field over the cells where it is present and > 0 (0 means
/// "not measured" in older results).
pub(super) fn cost_mean(cells: &[&Cell], key: &str) -> Option<f64> {
    let v: Vec<f64> = cells.iter().filter_map(|c| c.cost_value(key)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Mean over seeds of the p50 and p99 latency (ms) at `batch`, from `cost.latency`.
pub(super) fn latency_at(cells: &[&Cell], batch: u64) -> Option<(f64, f64)> {
    let v: Vec<(f64, f64)> = cells
        .iter()
        .filter_map(|c| c.cost_raw.get("latency")?.as_array().cloned())
        .filter_map(|l| {
            let e = l
                .iter()
                .find(|e| e.get("batch_size").and_then(|b| b.as_u64()) == Some(batch))?;
            Some((e.get("p50_ms")?.as_f64()?, e.get("p99_ms")?.as_f64()?))
        })
        .collect();
    (!v.is_empty()).then(|| {
        let n = v.len() as f64;
        (
            v.iter().map(|x| x.0).sum::<f64>() / n,
            v.iter().map(|x| x.1).sum::<f64>() / n,
        )
    })
}

/// The batch size the leaderboard shows latency at.
pub const LATENCY_BATCH: u64 = 256;

pub(super) fn cost_cell(
    value: Option<f64>,
    fmt: impl Fn(f64) -> String,
    missing: &str,
) -> CostCell {
    CostCell {
        value,
        text: value.map(&fmt).unwrap_or_else(|| missing.to_string()),
        sort: value.map(|v| v.to_string()).unwrap_or_default(),
    }
}

pub(super) const KNOWN_COST: &[&str] = &[
    "embedding_values_used",
    "optimizer_state_bytes",
    "serving_bytes",
    "backward_flops_per_example",
    "optimizer_flops_per_example",
    "train_flops_per_example",
    "flops_by_kind",
    "train_throughput_steps",
    "train_batch_size",
    "latency",
    "peak_rss_scope",
    "process_rss_at_start_bytes",
    "gpu_memory",
    "params_dense",
    "params_embedding",
    "train_state_bytes",
    "param_bytes",
    "forward_flops_per_example",
    "train_examples_per_second",
    "process_peak_rss_bytes",
];

pub(super) fn mean_of(cells: &[&Cell], f: impl Fn(&Cell) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = cells.iter().filter_map(|c| f(c)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// A config without the variant's `model` key, as compact JSON.
pub(super) fn config_json(v: &serde_json::Value) -> String {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("model");
    }
    v.to_string()
}

/// The keys of a variant's config whose values differ from its base model's config
/// (`base`: the base's config on the same task, if it ran there), as compact JSON.
pub(super) fn config_diff(variant: &serde_json::Value, base: Option<&serde_json::Value>) -> String {
    let (Some(v), Some(b)) = (variant.as_object(), base.and_then(|b| b.as_object())) else {
        return config_json(variant);
    };
    let mut diff = serde_json::Map::new();
    for (k, x) in v {
        if k != "model" && b.get(k) != Some(x) {
            diff.insert(k.clone(), x.clone());
        }
    }
    for k in b.keys() {
        if !v.contains_key(k) {
            diff.insert(k.clone(), serde_json::Value::String("(default)".into()));
        }
    }
    if diff.is_empty() {
        "same config as the base model".into()
    } else {
        serde_json::Value::Object(diff).to_string()
    }
}
