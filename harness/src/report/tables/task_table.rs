//! One task's leaderboard: the primary metric, rank groups by the paired t-test over
//! seeds, a row per model (`row`), the order, the trivial-to-oracle gap badge, notes
//! and the plots.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::cells::mean_of;
use super::coverage::{coverage, Planned};
use super::format::{fmt_value, slug};
use super::options::TableOptions;
use super::provenance::provenance;
use super::row::{model_row, RowContext};
use super::stale::stale_cells;
use super::types::{FailedRow, GapBadge, Row, TaskTable};
use super::vs_best::VsBest;
use crate::metrics::higher_is_better;
use crate::report::load::Cell;
use crate::stats::{rank_groups, RankInput};
use crate::task::TaskSpec;

/// What the tasks folder says about a task: what its runs planned (`coverage`) and its
/// current task file with that file's path (`stale`).
#[derive(Default, Clone, Copy)]
pub struct TaskFiles<'a> {
    pub planned: Option<&'a Planned>,
    pub spec: Option<(&'a TaskSpec, &'a Path)>,
}

/// Builds one task's table.
pub fn task_table(
    task: &str,
    cells: &[&Cell],
    failed: &[&Cell],
    files: TaskFiles,
    opts: TableOptions,
) -> TaskTable {
    // Primary metric: what the cells say (the task spec's first metric); the most common
    // value if cells disagree.
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for c in cells {
        *votes.entry(c.result.primary_metric.as_str()).or_default() += 1;
    }
    let primary = votes
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(m, _)| m.to_string())
        .unwrap_or_else(|| "auc".into());
    let hib = higher_is_better(&primary);
    let mut metrics: Vec<String> = vec![primary.clone()];
    for c in cells {
        for m in c.result.metrics.keys() {
            if !metrics.contains(m) {
                metrics.push(m.clone());
            }
        }
    }
    let mut notes = Vec::new();
    if votes.len() > 1 {
        notes.push(format!(
            "cells disagree on the primary metric ({}); using {primary}",
            votes.keys().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let mut by_model: BTreeMap<String, Vec<&Cell>> = BTreeMap::new();
    for c in cells {
        by_model.entry(c.result.model.clone()).or_default().push(c);
    }
    let models: Vec<String> = by_model.keys().cloned().collect();
    let inputs: Vec<RankInput> = models
        .iter()
        .map(|m| RankInput {
            model: m.clone(),
            seeds: by_model[m]
                .iter()
                .filter_map(|c| Some((c.result.seed, *c.result.metrics.get(&primary)?)))
                .collect(),
        })
        .collect();
    let t_p = |a: &RankInput, b: &RankInput| {
        let (x, y): (Vec<f64>, Vec<f64>) = a
            .seeds
            .iter()
            .filter_map(|(s, v)| Some((*v, *b.seeds.get(s)?)))
            .unzip();
        crate::stats::paired_t(&x, &y, opts.pair.level).map(|r| r.p)
    };
    let groups = rank_groups(&inputs, hib, opts.alpha, t_p);
    let best_idx = (0..models.len())
        .filter(|&i| groups[i] == Some(1))
        .reduce(|b, i| {
            let (mb, mi) = (inputs[b].mean().unwrap(), inputs[i].mean().unwrap());
            if (hib && mi > mb) || (!hib && mi < mb) {
                i
            } else {
                b
            }
        });
    let vs_best = VsBest::new(&models, &by_model, best_idx, &metrics, &primary, opts);
    let ctx = RowContext {
        primary: &primary,
        metrics: &metrics,
        by_model: &by_model,
        vs_best: &vs_best,
        groups: &groups,
        best: best_idx,
        opts,
    };
    let mut rows: Vec<Row> = models
        .iter()
        .enumerate()
        .map(|(i, m)| model_row(&ctx, i, m))
        .collect();
    // Order: rank group, then mean (best first), then name.
    rows.sort_by(|a, b| {
        let key = |r: &Row| r.group.unwrap_or(usize::MAX);
        let mean = |r: &Row| {
            r.primary
                .summary
                .as_ref()
                .map(|s| if hib { -s.mean } else { s.mean })
                .unwrap_or(f64::INFINITY)
        };
        key(a)
            .cmp(&key(b))
            .then(mean(a).total_cmp(&mean(b)))
            .then(a.model.cmp(&b.model))
    });
    let rank1: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.group == Some(1))
        .map(|r| (r.model.clone(), r.slug.clone()))
        .collect();
    // Ties are shown as ties: "=1" when a group has several members.
    for r in rows.iter_mut() {
        if let Some(g) = r.group {
            if groups.iter().filter(|x| **x == Some(g)).count() > 1 {
                r.group_text = format!("={g}");
            }
        }
    }
    let best = best_idx.map(|i| models[i].clone());
    let best_cells: Vec<&Cell> = best
        .as_ref()
        .map(|b| by_model[b].clone())
        .unwrap_or_default();
    let oracle = mean_of(&best_cells, |c| {
        c.result.oracle_metrics.as_ref()?.get(&primary).copied()
    });
    let trivial = mean_of(&best_cells, |c| {
        c.result.trivial_metrics.get(&primary).copied()
    });
    let best_mean = best_idx.and_then(|i| inputs[i].mean());
    let gap = match (oracle, trivial, best_mean) {
        (Some(o), Some(t), Some(b)) if (o - t).abs() > 1e-12 => {
            let percent = 100.0 * (b - t) / (o - t);
            Some(GapBadge {
                percent,
                oracle: o,
                trivial: t,
                best: b,
                text: format!("{percent:.1}% of the trivial→oracle gap closed"),
            })
        }
        _ => None,
    };
    let max_seeds = rows.iter().map(|r| r.seeds).max().unwrap_or(0);
    if max_seeds < 2 && !rows.is_empty() {
        notes.push(
            "fewer than 2 seeds: confidence intervals and seed-level tests are n/a, so no model \
             can be shown to be worse and all share rank 1"
                .into(),
        );
    }
    let (stale, stale_text) = match files.spec {
        Some((spec, path)) => stale_cells(cells, spec, path),
        None => (Vec::new(), None),
    };
    let all: Vec<&Cell> = cells.iter().chain(failed).copied().collect();
    let mut table = TaskTable {
        task: task.into(),
        slug: slug(task),
        higher_is_better: hib,
        other_metrics: metrics[1..].to_vec(),
        metrics,
        max_seeds,
        failed: failed
            .iter()
            .map(|c| FailedRow {
                model: c.result.model.clone(),
                seed: c.result.seed,
                error: c.result.error.clone().unwrap_or_else(|| "unknown".into()),
            })
            .collect(),
        rank1,
        best_text: best
            .as_ref()
            .and_then(|b| rows.iter().find(|r| &r.model == b))
            .map(|r| r.primary.text.clone())
            .unwrap_or_else(|| "no data".into()),
        best,
        gap,
        oracle_text: oracle.map(fmt_value).unwrap_or_else(|| "unknown".into()),
        trivial_text: trivial.map(fmt_value).unwrap_or_else(|| "unknown".into()),
        rank_test: format!(
            "Rank groups: paired t-test over seeds on {primary} against the group leader, \
             Holm-corrected, alpha = {}; a model joins the group unless it is significantly \
             worse. DeLong (AUC, per seed) and the user-level bootstrap / randomization \
             ({} resamples, GAUC) are supplementary and do not change the ranking.",
            opts.alpha, opts.pair.resamples
        ),
        notes,
        coverage: coverage(cells, failed, files.planned),
        stale,
        stale_text,
        provenance: provenance(&all),
        comparisons: vs_best.comparisons.into_iter().flatten().collect(),
        primary,
        rows,
        plot_svg: String::new(),
        embedding_bytes_differ: false,
        bytes_plot_svg: String::new(),
    };
    table.plot_svg = super::super::plot::scatter(&table, &super::super::plot::FLOPS);
    let distinct_bytes: BTreeSet<u64> = table
        .rows
        .iter()
        .filter_map(|r| r.embedding_bytes.value.map(|b| b.round() as u64))
        .collect();
    if distinct_bytes.len() > 1 {
        table.embedding_bytes_differ = true;
        table.bytes_plot_svg =
            super::super::plot::scatter(&table, &super::super::plot::EMBEDDING_BYTES);
    }
    table
}
