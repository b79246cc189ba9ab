//! The leaderboard as one CSV: a row per task x model, every metric's mean and CI,
//! the comparison with the best model and the costs.

use std::collections::BTreeSet;

use super::types::SiteData;

/// One CSV of every task's table (one row per task x model).
pub fn to_csv(site: &SiteData) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut metric_names: Vec<String> = site
        .tasks
        .iter()
        .flat_map(|t| t.metrics.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    metric_names.sort();
    let mut header: Vec<String> = [
        "task",
        "primary_metric",
        "rank_group",
        "model",
        "seeds",
        "primary_mean",
        "primary_ci_low",
        "primary_ci_high",
        "primary_sd",
        "delta_vs_best",
        "delta_ci_low",
        "delta_ci_high",
        "p_t",
        "p_t_holm",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for m in &metric_names {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_ci_low"));
        header.push(format!("{m}_ci_high"));
    }
    header.extend(
        [
            "forward_flops_per_example",
            "params",
            "train_state_bytes",
            "process_peak_rss_bytes",
            "train_examples_per_second",
            "train_flops_per_example",
            "serving_bytes",
            "latency_p50_ms_batch256",
            "embedding_bytes",
            "base_model",
        ]
        .map(String::from),
    );
    w.write_record(&header).unwrap();
    let o = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for t in &site.tasks {
        for r in &t.rows {
            let s = r.primary.summary.as_ref();
            let mut rec = vec![
                t.task.clone(),
                t.primary.clone(),
                r.group.map(|g| g.to_string()).unwrap_or_default(),
                r.model.clone(),
                r.seeds.to_string(),
                o(s.map(|s| s.mean)),
                o(s.and_then(|s| s.ci.map(|c| c.0))),
                o(s.and_then(|s| s.ci.map(|c| c.1))),
                o(s.and_then(|s| s.sd)),
                o(r.delta.as_ref().map(|d| d.diff)),
                o(r.delta.as_ref().and_then(|d| d.ci.map(|c| c.0))),
                o(r.delta.as_ref().and_then(|d| d.ci.map(|c| c.1))),
                o(r.delta.as_ref().and_then(|d| d.p)),
                o(r.delta.as_ref().and_then(|d| d.p_holm)),
            ];
            for m in &metric_names {
                let cell = std::iter::once(&r.primary)
                    .chain(&r.others)
                    .find(|c| &c.metric == m)
                    .and_then(|c| c.summary.as_ref());
                rec.push(o(cell.map(|s| s.mean)));
                rec.push(o(cell.and_then(|s| s.ci.map(|c| c.0))));
                rec.push(o(cell.and_then(|s| s.ci.map(|c| c.1))));
            }
            for c in [
                &r.flops,
                &r.params,
                &r.memory,
                &r.peak_rss,
                &r.throughput,
                &r.train_flops,
                &r.serving,
                &r.latency,
                &r.embedding_bytes,
            ] {
                rec.push(o(c.value));
            }
            rec.push(r.base_model.clone().unwrap_or_default());
            w.write_record(&rec).unwrap();
        }
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}
