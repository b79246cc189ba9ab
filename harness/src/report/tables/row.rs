//! One model's row of a task's leaderboard: its metrics over seeds, its difference
//! from the best model with every test's (Holm-adjusted) p-value, and its costs.

use std::collections::BTreeMap;

use super::super::compare::{fmt_p, MetricComparison};
use super::cells::{
    config_diff, cost_cell, cost_mean, latency_at, metric_cell, KNOWN_COST, LATENCY_BATCH,
};
use super::format::{bytes, decimals_for, human, slug};
use super::options::TableOptions;
use super::types::{CostCell, DeltaCell, Row};
use super::vs_best::{p_text, VsBest};
use crate::report::load::{Cell, EMBEDDING_BYTES};

/// What every row of one task's table is built from.
pub(super) struct RowContext<'a> {
    pub primary: &'a str,
    /// Every metric of the task, the primary first.
    pub metrics: &'a [String],
    pub by_model: &'a BTreeMap<String, Vec<&'a Cell>>,
    pub vs_best: &'a VsBest,
    /// Rank group per model (indexed like `vs_best`).
    pub groups: &'a [Option<usize>],
    pub best: Option<usize>,
    pub opts: TableOptions,
}

/// The row of model `i`, named `model`.
pub(super) fn model_row(ctx: &RowContext, i: usize, model: &str) -> Row {
    let cells = &ctx.by_model[model];
    let is_best = Some(i) == ctx.best;
    let values = |metric: &str| -> Vec<(u64, f64)> {
        let mut v: Vec<(u64, f64)> = cells
            .iter()
            .filter_map(|c| Some((c.result.seed, *c.result.metrics.get(metric)?)))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    };
    let primary_values = values(ctx.primary);
    let vs = ctx.vs_best;
    let delta = vs
        .primary(i)
        .map(|pm| delta_cell(pm, vs, i, ctx.opts.alpha));
    let seeds_paired = vs
        .primary(i)
        .map(|m| m.seeds.len())
        .unwrap_or(primary_values.len());
    let group_tests = vs.comparisons[i].as_ref().and_then(|c| c.groups.as_ref());
    let bootstrap_text = match (is_best, group_tests) {
        (true, _) => "—".into(),
        (false, Some(g)) => format!(
            "{:+.5} [{:+.5}, {:+.5}], p {}",
            g.bootstrap.diff,
            g.bootstrap.ci.0,
            g.bootstrap.ci.1,
            fmt_p(vs.bootstrap.adj[i].unwrap_or(f64::NAN))
        ),
        (false, None) => "n/a (no per-user scores)".into(),
    };
    let randomization_text = match (is_best, vs.randomization.adj[i]) {
        (true, _) => "—".into(),
        (false, Some(p)) => fmt_p(p),
        (false, None) => "n/a (no per-user scores)".into(),
    };
    let base_model = cells.iter().find_map(|c| c.result.base_model.clone());
    let config_text = match &base_model {
        None => String::new(),
        Some(b) => config_diff(
            &cells[0].result.model_config,
            ctx.by_model.get(b).map(|bc| &bc[0].result.model_config),
        ),
    };
    let flops = cost_mean(cells, "forward_flops_per_example");
    let costs = cost_cells(cells);
    let builds: std::collections::BTreeSet<String> = cells
        .iter()
        .map(|c| {
            let p = &c.result.provenance;
            let commit = if p.build_commit.is_empty() {
                &p.git_commit
            } else {
                &p.build_commit
            };
            commit.chars().take(12).collect()
        })
        .collect();
    Row {
        model: model.to_string(),
        slug: slug(model),
        base_slug: base_model.as_deref().map(slug).unwrap_or_default(),
        base_model,
        config_text,
        group: ctx.groups[i],
        group_text: match ctx.groups[i] {
            Some(g) => g.to_string(),
            None => "—".into(),
        },
        is_best,
        seeds: primary_values.len(),
        builds: builds.into_iter().collect::<Vec<_>>().join(", "),
        primary: metric_cell(ctx.primary, &primary_values, ctx.opts.pair.level),
        others: ctx.metrics[1..]
            .iter()
            .map(|k| metric_cell(k, &values(k), ctx.opts.pair.level))
            .collect(),
        delta,
        wilcoxon_text: p_text(&vs.wilcoxon, i, is_best, seeds_paired, 2),
        delong_text: if is_best {
            "—".into()
        } else {
            match (vs.delong.raw[i], vs.delong.adj[i]) {
                (Some(_), Some(a)) => format!("{} (max over seeds)", fmt_p(a)),
                _ => "n/a (no scores)".into(),
            }
        },
        bootstrap_text,
        randomization_text,
        flops: cost_cell(flops, |x| human(x, ""), "not measured"),
        params: costs.params,
        memory: costs.memory,
        peak_rss: costs.peak_rss,
        throughput: costs.throughput,
        train_flops: costs.train_flops,
        serving: costs.serving,
        latency: costs.latency,
        embedding_bytes: costs.embedding_bytes,
        other_cost: costs.other,
        flops_value: flops,
        per_seed_values: primary_values,
    }
}

/// The primary metric's difference from the best model, with the paired t interval and
/// its Holm-adjusted p.
fn delta_cell(pm: &MetricComparison, vs: &VsBest, i: usize, alpha: f64) -> DeltaCell {
    let diff = match (&pm.a, &pm.b) {
        (Some(a), Some(b)) => a.mean - b.mean,
        _ => f64::NAN,
    };
    let (ci, p) = match &pm.t {
        Some(t) => (Some(t.ci), Some(t.p)),
        None => (None, None),
    };
    let p_holm = vs.t.adj[i];
    DeltaCell {
        diff,
        ci,
        p,
        p_holm,
        text: match ci {
            Some((lo, hi)) => format!("{:+.5} [{:+.5}, {:+.5}]", diff, lo, hi),
            None => format!("{diff:+.5} · CI n/a ({} seed)", pm.seeds.len()),
        },
        diff_text: {
            let d = ci
                .map(|(lo, hi)| decimals_for((hi - lo) / 2.0))
                .unwrap_or(5);
            format!("{diff:+.d$}")
        },
        ci_text: match ci {
            Some((lo, hi)) => {
                let d = decimals_for((hi - lo) / 2.0);
                format!("[{lo:+.d$}, {hi:+.d$}]")
            }
            None => format!("CI n/a ({} seed)", pm.seeds.len()),
        },
        p_text: p_text(&vs.t, i, false, pm.seeds.len(), 2),
        significant: p_holm.is_some_and(|p| p < alpha),
    }
}

/// A row's cost columns other than forward FLOPs.
struct CostCells {
    params: CostCell,
    memory: CostCell,
    peak_rss: CostCell,
    throughput: CostCell,
    train_flops: CostCell,
    serving: CostCell,
    latency: CostCell,
    embedding_bytes: CostCell,
    /// Cost fields this version does not know, as text.
    other: Vec<(String, String)>,
}

fn cost_cells(cells: &[&Cell]) -> CostCells {
    let missing = "not measured";
    let pe = cost_mean(cells, "params_embedding").unwrap_or(0.0);
    let pd = cost_mean(cells, "params_dense").unwrap_or(0.0);
    let params = (pe + pd > 0.0).then_some(pe + pd);
    let mut other = Vec::new();
    if let Some(c) = cells.first() {
        for (k, v) in &c.cost_raw {
            if !KNOWN_COST.contains(&k.as_str()) {
                other.push((k.clone(), v.to_string()));
            }
        }
    }
    let latency = latency_at(cells, LATENCY_BATCH);
    CostCells {
        params: cost_cell(params, |x| human(x, ""), missing),
        memory: cost_cell(cost_mean(cells, "train_state_bytes"), bytes, missing),
        peak_rss: cost_cell(cost_mean(cells, "process_peak_rss_bytes"), bytes, missing),
        throughput: cost_cell(
            cost_mean(cells, "train_examples_per_second"),
            |x| format!("{} ex/s", human(x, "")).replace("  ", " "),
            missing,
        ),
        train_flops: cost_cell(
            cost_mean(cells, "train_flops_per_example"),
            |x| human(x, ""),
            missing,
        ),
        serving: cost_cell(cost_mean(cells, "serving_bytes"), bytes, missing),
        embedding_bytes: cost_cell(cost_mean(cells, EMBEDDING_BYTES), bytes, missing),
        latency: CostCell {
            value: latency.map(|l| l.0),
            text: latency.map_or_else(
                || missing.to_string(),
                |(p50, p99)| format!("{p50:.2}/{p99:.2} ms"),
            ),
            sort: latency.map(|l| l.0.to_string()).unwrap_or_default(),
        },
        other,
    }
}
