//! What the pages show, computed once from the loaded cells: one leaderboard table per
//! task, one results list per model, provenance, and the bad-file list. The HTML, CSV
//! and JSON outputs are all renderings of these structs, so they always agree.
//!
//! The rank group is driven by the task's primary metric (the first in its spec) with
//! the paired t-test over seeds, Holm-corrected within each round (see
//! `stats::ranking`). Seeds are the replication unit the leaderboard cares about
//! ("would a rerun give the same order?"); DeLong and the user-level bootstrap /
//! randomization measure test-set noise for a fixed training run, so they are shown as
//! supplementary columns (each Holm-corrected within its own column), not used to rank.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::claims::{evaluate, Claim, ClaimOptions, ClaimResult};
use super::compare::{compare, fmt_p, PairComparison, PairOptions};
use super::load::{BadFile, Cell, Loaded, EMBEDDING_BYTES};
use crate::stats::{holm, rank_groups, summarize, RankInput, Summary};
use crate::train::higher_is_better;

#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    pub alpha: f64,
    pub pair: PairOptions,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            alpha: crate::stats::ALPHA,
            pair: PairOptions::default(),
        }
    }
}

/// A metric value over seeds, with display strings.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCell {
    pub metric: String,
    pub summary: Option<Summary>,
    /// "0.71234 ± 0.00120" (half-width of the 95% CI), or "0.71234 · n/a (1 seed)".
    pub text: String,
    /// Per-seed values, for the title/hover text.
    pub per_seed: String,
    /// Sort key (mean; empty when missing).
    pub sort: String,
}

/// A "vs best" comparison cell.
#[derive(Debug, Clone, Serialize)]
pub struct DeltaCell {
    pub diff: f64,
    pub ci: Option<(f64, f64)>,
    pub p: Option<f64>,
    pub p_holm: Option<f64>,
    /// "+0.00123 [-0.00352, +0.00598]" (CSV/JSON readers).
    pub text: String,
    pub diff_text: String,
    /// "[-0.00352, +0.00598]" or "CI n/a (1 seed)".
    pub ci_text: String,
    pub p_text: String,
    pub significant: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostCell {
    pub value: Option<f64>,
    pub text: String,
    pub sort: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub model: String,
    pub slug: String,
    /// The catalog model this row is a variant (configuration) of; None for a catalog
    /// model itself.
    pub base_model: Option<String>,
    pub base_slug: String,
    /// A variant's config where it differs from its base model's on this task (the
    /// whole config when the base did not run here); empty for catalog models.
    pub config_text: String,
    pub group: Option<usize>,
    pub group_text: String,
    pub is_best: bool,
    pub seeds: usize,
    pub primary: MetricCell,
    pub others: Vec<MetricCell>,
    /// Primary-metric difference vs the best model (None for the best itself).
    pub delta: Option<DeltaCell>,
    pub wilcoxon_text: String,
    pub delong_text: String,
    pub bootstrap_text: String,
    pub randomization_text: String,
    pub flops: CostCell,
    pub params: CostCell,
    pub memory: CostCell,
    pub peak_rss: CostCell,
    pub throughput: CostCell,
    /// Train-step (forward + backward + optimizer) FLOPs per example.
    pub train_flops: CostCell,
    /// Bytes a serving process needs for the trained model (parameters only).
    pub serving: CostCell,
    /// Inference latency at batch 256: value = p50 ms, text = "p50 / p99 ms".
    pub latency: CostCell,
    /// Bytes of the embedding values the trained model uses (see `Cell::cost_value`).
    pub embedding_bytes: CostCell,
    /// Cost fields this version does not know (added to `Cost` later), as text.
    pub other_cost: Vec<(String, String)>,
    /// FLOPs/example for the plot (None when not measured).
    pub flops_value: Option<f64>,
    pub per_seed_values: Vec<(u64, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedRow {
    pub model: String,
    pub seed: u64,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GapBadge {
    /// Percent of the gap from the trivial predictor to the oracle that the best model
    /// closes: 100 (best - trivial) / (oracle - trivial).
    pub percent: f64,
    pub oracle: f64,
    pub trivial: f64,
    pub best: f64,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Provenance {
    pub commits: Vec<String>,
    pub data_sha256: Vec<String>,
    pub split_sha256: Vec<String>,
    pub toolchains: Vec<String>,
    pub devices: Vec<String>,
    pub runs: Vec<String>,
    pub first_started: String,
    pub last_finished: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskTable {
    pub task: String,
    pub slug: String,
    pub primary: String,
    pub higher_is_better: bool,
    pub metrics: Vec<String>,
    pub other_metrics: Vec<String>,
    pub max_seeds: usize,
    pub rows: Vec<Row>,
    pub failed: Vec<FailedRow>,
    /// Models in rank group 1: (name, slug).
    pub rank1: Vec<(String, String)>,
    pub best: Option<String>,
    pub best_text: String,
    pub gap: Option<GapBadge>,
    pub oracle_text: String,
    pub trivial_text: String,
    pub rank_test: String,
    pub notes: Vec<String>,
    pub provenance: Provenance,
    /// Full comparisons of every model with the best (JSON export).
    pub comparisons: Vec<PairComparison>,
    #[serde(skip)]
    pub plot_svg: String,
    /// Whether rows differ in embedding bytes (then the page shows `bytes_plot_svg`).
    pub embedding_bytes_differ: bool,
    #[serde(skip)]
    pub bytes_plot_svg: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    pub task: String,
    pub task_slug: String,
    pub primary: String,
    pub text: String,
    pub group_text: String,
    pub seeds: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelPage {
    pub model: String,
    pub slug: String,
    /// For a variant: the catalog model it configures (its page is `base_slug`).
    pub base_model: Option<String>,
    pub base_slug: String,
    /// Per task, the variant's full config (compact JSON).
    pub configs: Vec<(String, String)>,
    /// Variants of this model in the results: (name, slug).
    pub variants: Vec<(String, String)>,
    /// The claims naming this model, with their verdicts.
    pub claims: Vec<ClaimResult>,
    pub in_catalog: bool,
    pub family: String,
    pub paper: String,
    pub summary: String,
    pub simplifications: String,
    pub results: Vec<ModelResult>,
    pub provenance: Provenance,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteData {
    pub generated: String,
    pub alpha: f64,
    pub resamples: usize,
    pub resample_seed: u64,
    pub tasks: Vec<TaskTable>,
    pub models: Vec<ModelPage>,
    /// Every claim file's verdict (`claims.html`).
    pub claims: Vec<ClaimResult>,
    /// Slugs of the model and task pages that exist (claims link only to those).
    pub model_pages: Vec<String>,
    pub task_pages: Vec<String>,
    pub bad_files: Vec<BadFile>,
    pub notes: Vec<String>,
    pub provenance: Provenance,
}

/// File-name-safe version of a task or model name.
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// Significant digits that show differences between models: 5 decimals for values in
/// [0, 10), fewer for large ones.
pub fn fmt_value(x: f64) -> String {
    if !x.is_finite() {
        format!("{x}")
    } else if x.abs() >= 1000.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.5}")
    }
}

/// Decimals that give the interval half-width `hw` two significant digits (3 to 6).
pub(crate) fn decimals_for(hw: f64) -> usize {
    if hw > 0.0 && hw.is_finite() {
        (1.0 - hw.log10().floor()).clamp(3.0, 6.0) as usize
    } else {
        5
    }
}

fn metric_cell(metric: &str, values: &[(u64, f64)], level: f64) -> MetricCell {
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

/// Three significant digits with an SI prefix: 46193 -> "46.2 k".
pub(crate) fn human(x: f64, unit: &str) -> String {
    let (v, p) = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")]
        .into_iter()
        .find(|(s, _)| x.abs() >= *s)
        .unwrap_or((1.0, ""));
    let y = x / v;
    let num = if y >= 100.0 {
        format!("{y:.0}")
    } else if y >= 10.0 {
        format!("{y:.1}")
    } else {
        format!("{y:.2}")
    };
    format!("{num} {p}{unit}").trim_end().to_string()
}

pub(crate) fn bytes(x: f64) -> String {
    let (v, p) = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        .into_iter()
        .find(|(s, _)| x >= *s as f64)
        .unwrap_or((1, "B"));
    format!("{:.1} {p}", x / v as f64)
}

/// Mean of a numeric cost field over the cells where it is present and > 0 (0 means
/// "not measured" in older results).
fn cost_mean(cells: &[&Cell], key: &str) -> Option<f64> {
    let v: Vec<f64> = cells.iter().filter_map(|c| c.cost_value(key)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Mean over seeds of the p50 and p99 latency (ms) at `batch`, from `cost.latency`.
fn latency_at(cells: &[&Cell], batch: u64) -> Option<(f64, f64)> {
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

fn cost_cell(value: Option<f64>, fmt: impl Fn(f64) -> String, missing: &str) -> CostCell {
    CostCell {
        value,
        text: value.map(&fmt).unwrap_or_else(|| missing.to_string()),
        sort: value.map(|v| v.to_string()).unwrap_or_default(),
    }
}

const KNOWN_COST: &[&str] = &[
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

fn provenance(cells: &[&Cell]) -> Provenance {
    let set = |f: &dyn Fn(&Cell) -> String| -> Vec<String> {
        cells
            .iter()
            .map(|c| f(c))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    Provenance {
        commits: set(&|c| {
            let p = &c.result.provenance;
            let short: String = p.git_commit.chars().take(12).collect();
            let mut s = if p.git_dirty {
                format!("{short} (dirty)")
            } else {
                short
            };
            if !p.build_commit.is_empty() && p.build_commit != p.git_commit {
                let built: String = p.build_commit.chars().take(12).collect();
                s.push_str(&format!(", binary built from {built}"));
            }
            s
        }),
        data_sha256: set(&|c| {
            format!(
                "{}: {}",
                c.result.task,
                c.result
                    .provenance
                    .data_sha256
                    .chars()
                    .take(16)
                    .collect::<String>()
            )
        }),
        split_sha256: set(&|c| {
            let s = &c.result.provenance.split_sha256;
            format!(
                "{}: train {} · valid {} · test {}",
                c.result.task,
                &s.train.chars().take(12).collect::<String>(),
                &s.valid.chars().take(12).collect::<String>(),
                &s.test.chars().take(12).collect::<String>()
            )
        }),
        toolchains: set(&|c| c.result.provenance.rustc.clone()),
        devices: set(&|c| {
            let p = &c.result.provenance;
            format!("{} on {} ({} CPUs)", p.device, p.host, p.cpus)
        }),
        runs: set(&|c| c.result.run.clone()),
        first_started: cells
            .iter()
            .map(|c| c.result.provenance.started.clone())
            .min()
            .unwrap_or_default(),
        last_finished: cells
            .iter()
            .map(|c| c.result.provenance.finished.clone())
            .max()
            .unwrap_or_default(),
    }
}

fn mean_of(cells: &[&Cell], f: impl Fn(&Cell) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = cells.iter().filter_map(|c| f(c)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// A config without the variant's `model` key, as compact JSON.
fn config_json(v: &serde_json::Value) -> String {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("model");
    }
    v.to_string()
}

/// The keys of a variant's config whose values differ from its base model's config
/// (`base`: the base's config on the same task, if it ran there), as compact JSON.
fn config_diff(variant: &serde_json::Value, base: Option<&serde_json::Value>) -> String {
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

/// Builds one task's table.
pub fn task_table(task: &str, cells: &[&Cell], failed: &[&Cell], opts: TableOptions) -> TaskTable {
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
    // Every model vs the best, all tests.
    let comparisons: Vec<Option<PairComparison>> = (0..models.len())
        .map(|i| {
            let b = best_idx?;
            (i != b).then(|| {
                compare(
                    &by_model[&models[i]],
                    &by_model[&models[b]],
                    &metrics,
                    &primary,
                    opts.pair,
                )
            })
        })
        .collect();
    let prim = |c: &PairComparison| c.primary().cloned();
    let t_raw: Vec<Option<f64>> = comparisons
        .iter()
        .map(|c| c.as_ref().and_then(prim).and_then(|m| m.t.map(|t| t.p)))
        .collect();
    let w_raw: Vec<Option<f64>> = comparisons
        .iter()
        .map(|c| {
            c.as_ref()
                .and_then(prim)
                .filter(|m| m.seeds.len() >= 2)
                .and_then(|m| m.wilcoxon.map(|w| w.p))
        })
        .collect();
    let d_raw: Vec<Option<f64>> = comparisons
        .iter()
        .map(|c| c.as_ref().and_then(|c| c.delong_max_p()))
        .collect();
    let b_raw: Vec<Option<f64>> = comparisons
        .iter()
        .map(|c| {
            c.as_ref()
                .and_then(|c| c.groups.as_ref().map(|g| g.bootstrap.p))
        })
        .collect();
    let r_raw: Vec<Option<f64>> = comparisons
        .iter()
        .map(|c| {
            c.as_ref()
                .and_then(|c| c.groups.as_ref().map(|g| g.randomization.p))
        })
        .collect();
    let (t_adj, w_adj, d_adj, b_adj, r_adj) = (
        holm(&t_raw),
        holm(&w_raw),
        holm(&d_raw),
        holm(&b_raw),
        holm(&r_raw),
    );
    let ptext = |raw: Option<f64>, adj: Option<f64>, is_best: bool, seeds: usize, need: usize| {
        if is_best {
            "—".to_string()
        } else {
            match (raw, adj) {
                (Some(_), Some(a)) => fmt_p(a),
                _ if seeds < need => format!("n/a ({seeds} seed)"),
                _ => "n/a".into(),
            }
        }
    };
    let mut rows = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let mc = &by_model[m];
        let is_best = Some(i) == best_idx;
        let vals = |metric: &str| -> Vec<(u64, f64)> {
            let mut v: Vec<(u64, f64)> = mc
                .iter()
                .filter_map(|c| Some((c.result.seed, *c.result.metrics.get(metric)?)))
                .collect();
            v.sort_by_key(|x| x.0);
            v
        };
        let pv = vals(&primary);
        let cmp = comparisons[i].as_ref();
        let delta = cmp.and_then(prim).map(|pm| {
            let diff = match (&pm.a, &pm.b) {
                (Some(a), Some(b)) => a.mean - b.mean,
                _ => f64::NAN,
            };
            let (ci, p) = match &pm.t {
                Some(t) => (Some(t.ci), Some(t.p)),
                None => (None, None),
            };
            let sig = t_adj[i].is_some_and(|p| p < opts.alpha);
            DeltaCell {
                diff,
                ci,
                p,
                p_holm: t_adj[i],
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
                p_text: ptext(p, t_adj[i], false, pm.seeds.len(), 2),
                significant: sig,
            }
        });
        let seeds_paired = cmp
            .and_then(prim)
            .map(|m| m.seeds.len())
            .unwrap_or(pv.len());
        let delong_text = if is_best {
            "—".into()
        } else {
            match (d_raw[i], d_adj[i]) {
                (Some(_), Some(a)) => format!("{} (max over seeds)", fmt_p(a)),
                _ => "n/a (no scores)".into(),
            }
        };
        let group_tests = cmp.and_then(|c| c.groups.as_ref());
        let bootstrap_text = match (is_best, group_tests) {
            (true, _) => "—".into(),
            (false, Some(g)) => format!(
                "{:+.5} [{:+.5}, {:+.5}], p {}",
                g.bootstrap.diff,
                g.bootstrap.ci.0,
                g.bootstrap.ci.1,
                fmt_p(b_adj[i].unwrap_or(f64::NAN))
            ),
            (false, None) => "n/a (no per-user scores)".into(),
        };
        let randomization_text = match (is_best, r_adj[i]) {
            (true, _) => "—".into(),
            (false, Some(p)) => fmt_p(p),
            (false, None) => "n/a (no per-user scores)".into(),
        };
        let pe = cost_mean(mc, "params_embedding").unwrap_or(0.0);
        let pd = cost_mean(mc, "params_dense").unwrap_or(0.0);
        let params = (pe + pd > 0.0).then_some(pe + pd);
        let flops = cost_mean(mc, "forward_flops_per_example");
        let mut other_cost = Vec::new();
        if let Some(c) = mc.first() {
            for (k, v) in &c.cost_raw {
                if !KNOWN_COST.contains(&k.as_str()) {
                    other_cost.push((k.clone(), v.to_string()));
                }
            }
        }
        let group_text = match groups[i] {
            Some(g) => g.to_string(),
            None => "—".into(),
        };
        let base_model = mc.iter().find_map(|c| c.result.base_model.clone());
        let config_text = match &base_model {
            None => String::new(),
            Some(b) => config_diff(
                &mc[0].result.model_config,
                by_model.get(b).map(|bc| &bc[0].result.model_config),
            ),
        };
        rows.push(Row {
            model: m.clone(),
            slug: slug(m),
            base_slug: base_model.as_deref().map(slug).unwrap_or_default(),
            base_model,
            config_text,
            group: groups[i],
            group_text,
            is_best,
            seeds: pv.len(),
            primary: metric_cell(&primary, &pv, opts.pair.level),
            others: metrics[1..]
                .iter()
                .map(|k| metric_cell(k, &vals(k), opts.pair.level))
                .collect(),
            delta,
            wilcoxon_text: ptext(w_raw[i], w_adj[i], is_best, seeds_paired, 2),
            delong_text,
            bootstrap_text,
            randomization_text,
            flops: cost_cell(flops, |x| human(x, ""), "not measured"),
            params: cost_cell(params, |x| human(x, ""), "not measured"),
            memory: cost_cell(cost_mean(mc, "train_state_bytes"), bytes, "not measured"),
            peak_rss: cost_cell(
                cost_mean(mc, "process_peak_rss_bytes"),
                bytes,
                "not measured",
            ),
            throughput: cost_cell(
                cost_mean(mc, "train_examples_per_second"),
                |x| format!("{} ex/s", human(x, "")).replace("  ", " "),
                "not measured",
            ),
            train_flops: cost_cell(
                cost_mean(mc, "train_flops_per_example"),
                |x| human(x, ""),
                "not measured",
            ),
            serving: cost_cell(cost_mean(mc, "serving_bytes"), bytes, "not measured"),
            embedding_bytes: cost_cell(cost_mean(mc, EMBEDDING_BYTES), bytes, "not measured"),
            latency: {
                let l = latency_at(mc, LATENCY_BATCH);
                CostCell {
                    value: l.map(|l| l.0),
                    text: l.map_or_else(
                        || "not measured".to_string(),
                        |(p50, p99)| format!("{p50:.2}/{p99:.2} ms"),
                    ),
                    sort: l.map(|l| l.0.to_string()).unwrap_or_default(),
                }
            },
            other_cost,
            flops_value: flops,
            per_seed_values: pv,
        });
    }
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
        provenance: provenance(&all),
        comparisons: comparisons.into_iter().flatten().collect(),
        primary,
        rows,
        plot_svg: String::new(),
        embedding_bytes_differ: false,
        bytes_plot_svg: String::new(),
    };
    table.plot_svg = super::plot::scatter(&table, &super::plot::FLOPS);
    let distinct_bytes: BTreeSet<u64> = table
        .rows
        .iter()
        .filter_map(|r| r.embedding_bytes.value.map(|b| b.round() as u64))
        .collect();
    if distinct_bytes.len() > 1 {
        table.embedding_bytes_differ = true;
        table.bytes_plot_svg = super::plot::scatter(&table, &super::plot::EMBEDDING_BYTES);
    }
    table
}

/// Everything the site shows; `claims` are checked against `loaded`'s cells.
pub fn build(loaded: &Loaded, claims: &[Claim], opts: TableOptions) -> SiteData {
    let mut tasks: BTreeMap<String, (Vec<&Cell>, Vec<&Cell>)> = BTreeMap::new();
    for c in &loaded.cells {
        tasks.entry(c.result.task.clone()).or_default().0.push(c);
    }
    for c in &loaded.failed {
        tasks.entry(c.result.task.clone()).or_default().1.push(c);
    }
    let tables: Vec<TaskTable> = tasks
        .iter()
        .map(|(t, (ok, failed))| task_table(t, ok, failed, opts))
        .collect();
    let claim_results = evaluate(
        claims,
        &loaded.cells,
        ClaimOptions {
            alpha: opts.alpha,
            level: opts.pair.level,
        },
    );
    let all: Vec<&Cell> = loaded.cells.iter().chain(&loaded.failed).collect();
    // Result models, and the catalog models variants are based on (their pages hold
    // the paper and list the variants, even when the base itself did not run).
    let mut base_of: BTreeMap<String, String> = BTreeMap::new();
    let mut model_names: BTreeSet<String> = BTreeSet::new();
    for c in &all {
        model_names.insert(c.result.model.clone());
        if let Some(b) = &c.result.base_model {
            base_of.insert(c.result.model.clone(), b.clone());
            model_names.insert(b.clone());
        }
    }
    let models: Vec<ModelPage> = model_names
        .into_iter()
        .map(|m| {
            let base = base_of.get(&m).cloned();
            let info = baselines::info(base.as_deref().unwrap_or(&m));
            let results = tables
                .iter()
                .filter_map(|t| {
                    let r = t.rows.iter().find(|r| r.model == m)?;
                    Some(ModelResult {
                        task: t.task.clone(),
                        task_slug: t.slug.clone(),
                        primary: t.primary.clone(),
                        text: r.primary.text.clone(),
                        group_text: r.group_text.clone(),
                        seeds: r.seeds,
                    })
                })
                .collect();
            let cells: Vec<&Cell> = all
                .iter()
                .filter(|c| c.result.model == m)
                .copied()
                .collect();
            let mut configs: Vec<(String, String)> = Vec::new();
            if base.is_some() {
                for c in &cells {
                    let cfg = config_json(&c.result.model_config);
                    if !configs.iter().any(|(t, _)| t == &c.result.task) {
                        configs.push((c.result.task.clone(), cfg));
                    }
                }
            }
            ModelPage {
                slug: slug(&m),
                base_slug: base.as_deref().map(slug).unwrap_or_default(),
                base_model: base,
                configs,
                variants: base_of
                    .iter()
                    .filter(|(_, b)| **b == m)
                    .map(|(v, _)| (v.clone(), slug(v)))
                    .collect(),
                claims: claim_results
                    .iter()
                    .filter(|c| c.concerns(&m))
                    .cloned()
                    .collect(),
                in_catalog: info.is_some(),
                family: info.map(|i| i.family).unwrap_or("unknown").into(),
                paper: info
                    .map(|i| i.paper)
                    .unwrap_or("not in baselines::CATALOG")
                    .into(),
                summary: info.map(|i| i.summary).unwrap_or("").into(),
                simplifications: info.map(|i| i.simplifications).unwrap_or("").into(),
                results,
                provenance: provenance(&cells),
                model: m,
            }
        })
        .collect();
    let model_pages = models.iter().map(|m| m.slug.clone()).collect();
    let task_pages = tables.iter().map(|t| t.slug.clone()).collect();
    SiteData {
        generated: crate::provenance::now_rfc3339(),
        alpha: opts.alpha,
        resamples: opts.pair.resamples,
        resample_seed: opts.pair.seed,
        tasks: tables,
        models,
        claims: claim_results,
        model_pages,
        task_pages,
        bad_files: loaded.bad.clone(),
        notes: loaded.notes.clone(),
        provenance: provenance(&all),
    }
}

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
