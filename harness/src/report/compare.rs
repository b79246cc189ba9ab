//! Everything known about "model A vs model B on one task": per metric, the seed-level
//! summaries, paired t-test and Wilcoxon over the seeds both ran; DeLong's test on the
//! shared test examples for every seed (AUC); and the paired bootstrap and
//! randomization over groups (users) of the per-user AUC behind GAUC (ranking; on
//! generative cells of the primary metric's action, whose scores they store) or of
//! the primary metric's per-user values (retrieval), averaged over the seeds both ran. `recbench compare` prints it; the task pages use the same
//! numbers for "vs best".

use std::collections::BTreeMap;

use serde::Serialize;

use super::load::Cell;
use crate::metrics::gauc;
use crate::metrics::higher_is_better;
use crate::stats::{
    delong, paired_bootstrap, paired_randomization, paired_t, summarize, wilcoxon, Bootstrap,
    DeLong, PairedT, Randomization, Summary, Wilcoxon,
};

#[derive(Debug, Clone, Copy)]
pub struct PairOptions {
    /// Confidence level of intervals (0.95).
    pub level: f64,
    pub resamples: usize,
    pub seed: u64,
}

impl Default for PairOptions {
    fn default() -> Self {
        PairOptions {
            level: 0.95,
            resamples: crate::stats::RESAMPLES,
            seed: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricComparison {
    pub metric: String,
    pub higher_is_better: bool,
    pub a: Option<Summary>,
    pub b: Option<Summary>,
    /// Seeds both models ran, with their values.
    pub seeds: Vec<u64>,
    pub a_values: Vec<f64>,
    pub b_values: Vec<f64>,
    /// Paired t-test of a - b; None with fewer than 2 paired seeds.
    pub t: Option<PairedT>,
    pub wilcoxon: Option<Wilcoxon>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupTests {
    /// `gauc` (ranking: per-user AUC from the scores; `gauc:<action>` on generative
    /// cells) or a retrieval task's primary metric (from the per-user values).
    pub metric: String,
    pub seeds: Vec<u64>,
    pub bootstrap: Bootstrap,
    pub randomization: Randomization,
}

#[derive(Debug, Clone, Serialize)]
pub struct PairComparison {
    pub task: String,
    pub a: String,
    pub b: String,
    pub primary: String,
    pub metrics: Vec<MetricComparison>,
    /// DeLong per seed on that seed's test examples.
    pub delong: Vec<(u64, DeLong)>,
    /// The metric DeLong tests: `auc`, or `auc:<action>` on generative cells.
    pub delong_metric: String,
    /// Why DeLong or the group tests did not run (for some seeds or at all).
    pub notes: Vec<String>,
    pub groups: Option<GroupTests>,
}

impl PairComparison {
    pub fn primary(&self) -> Option<&MetricComparison> {
        self.metrics.iter().find(|m| m.metric == self.primary)
    }

    /// The largest DeLong p over seeds: "A and B differ in every seed" iff it is small.
    pub fn delong_max_p(&self) -> Option<f64> {
        self.delong.iter().map(|(_, d)| d.p).reduce(f64::max)
    }
}

/// Compares the cells of model `a` with those of model `b` (both of one task).
pub fn compare(
    a: &[&Cell],
    b: &[&Cell],
    metrics: &[String],
    primary: &str,
    opts: PairOptions,
) -> PairComparison {
    fn by_seed<'c>(cells: &[&'c Cell]) -> BTreeMap<u64, &'c Cell> {
        cells.iter().map(|c| (c.result.seed, *c)).collect()
    }
    let (ma, mb) = (by_seed(a), by_seed(b));
    let task = a
        .first()
        .or(b.first())
        .map(|c| c.result.task.clone())
        .unwrap_or_default();
    let name = |cells: &[&Cell]| {
        cells
            .first()
            .map(|c| c.result.model.clone())
            .unwrap_or_default()
    };
    let mut metric_rows = Vec::new();
    for m in metrics {
        let vals = |map: &BTreeMap<u64, &Cell>| -> Vec<f64> {
            map.values()
                .filter_map(|c| c.result.metrics.get(m).copied())
                .collect()
        };
        let (mut seeds, mut av, mut bv) = (Vec::new(), Vec::new(), Vec::new());
        for (s, ca) in &ma {
            if let (Some(x), Some(y)) = (
                ca.result.metrics.get(m),
                mb.get(s).and_then(|cb| cb.result.metrics.get(m)),
            ) {
                seeds.push(*s);
                av.push(*x);
                bv.push(*y);
            }
        }
        metric_rows.push(MetricComparison {
            metric: m.clone(),
            higher_is_better: higher_is_better(m),
            a: summarize(&vals(&ma), opts.level),
            b: summarize(&vals(&mb), opts.level),
            t: paired_t(&av, &bv, opts.level),
            wilcoxon: wilcoxon(&av, &bv),
            seeds,
            a_values: av,
            b_values: bv,
        });
    }
    let mut notes = Vec::new();
    let mut delongs = Vec::new();
    // Per group (user): (sum auc a, sum auc b, sum examples, seeds).
    let mut per_group: BTreeMap<u32, (f64, f64, f64, usize)> = BTreeMap::new();
    let mut group_seeds = Vec::new();
    // A generative cell's scores are those of its primary metric's action (`auc:click`
    // -> click): DeLong and the per-user tests then speak of `auc:click`/`gauc:click`.
    let suffix = primary
        .split_once(':')
        .map(|(_, action)| format!(":{action}"))
        .unwrap_or_default();
    let (auc_name, gauc_name) = (format!("auc{suffix}"), format!("gauc{suffix}"));
    let want_auc = metrics.contains(&auc_name);
    let want_groups = metrics.contains(&gauc_name);
    for (s, ca) in &ma {
        let Some(cb) = mb.get(s) else { continue };
        let (Some(sa), Some(sb)) = (&ca.scores, &cb.scores) else {
            // Retrieval cells have per-user values instead (tested below).
            if ca.values.is_none() || cb.values.is_none() {
                notes.push(format!(
                    "seed {s}: per-example scores missing, no example-level tests"
                ));
            }
            continue;
        };
        if sa.labels != sb.labels || sa.groups != sb.groups {
            notes.push(format!(
                "seed {s}: the two models' test rows differ (labels or groups), not paired"
            ));
            continue;
        }
        if want_auc {
            match delong(&sa.scores, &sb.scores, &sa.labels, opts.level) {
                Some(d) => delongs.push((*s, d)),
                None => notes.push(format!(
                    "seed {s}: DeLong undefined (a class with < 2 examples or NaN scores)"
                )),
            }
        }
        if want_groups && sa.groups.iter().any(|&g| g != u32::MAX) {
            let labels: Vec<f32> = sa.labels.iter().map(|&l| f32::from(l)).collect();
            let (ga, gb) = (
                gauc(&sa.scores, &labels, &sa.groups),
                gauc(&sb.scores, &labels, &sb.groups),
            );
            if let (Some(ga), Some(gb)) = (ga, gb) {
                let bmap: BTreeMap<u32, f64> =
                    gb.per_group.iter().map(|&(g, v, _)| (g, v)).collect();
                for &(g, va, k) in &ga.per_group {
                    if g == u32::MAX {
                        continue;
                    }
                    if let Some(vb) = bmap.get(&g) {
                        let e = per_group.entry(g).or_default();
                        e.0 += va;
                        e.1 += vb;
                        e.2 += k as f64;
                        e.3 += 1;
                    }
                }
                group_seeds.push(*s);
            }
        }
    }
    let groups = if per_group.is_empty() {
        if want_groups {
            notes.push("no per-group (user) values: group tests not run".into());
        }
        None
    } else {
        // Average each group's values over the seeds in which it was scored.
        let (mut ga, mut gb, mut w) = (Vec::new(), Vec::new(), Vec::new());
        for (sa, sb, k, n) in per_group.values() {
            let n = *n as f64;
            ga.push(sa / n);
            gb.push(sb / n);
            w.push(k / n);
        }
        let bs = paired_bootstrap(&ga, &gb, &w, opts.resamples, opts.seed, opts.level);
        let rz = paired_randomization(&ga, &gb, &w, opts.resamples, opts.seed);
        match (bs, rz) {
            (Some(bootstrap), Some(randomization)) => Some(GroupTests {
                metric: gauc_name.clone(),
                seeds: group_seeds,
                bootstrap,
                randomization,
            }),
            _ => None,
        }
    };
    let groups = groups.or_else(|| user_value_tests(&ma, &mb, primary, opts, &mut notes));
    PairComparison {
        task,
        a: name(a),
        b: name(b),
        primary: primary.to_string(),
        metrics: metric_rows,
        delong: delongs,
        delong_metric: auc_name,
        notes,
        groups,
    }
}

/// The full comparison as terminal text.
/// Paired bootstrap and randomization over users of `metric` from the cells' per-user
/// values (retrieval): each user's value averaged over the seeds both models ran, with
/// the metric's own weights. None when no seed has values for both.
fn user_value_tests(
    ma: &BTreeMap<u64, &Cell>,
    mb: &BTreeMap<u64, &Cell>,
    metric: &str,
    opts: PairOptions,
    notes: &mut Vec<String>,
) -> Option<GroupTests> {
    // Per user: (sum a, sum b, sum weight, seeds).
    let mut per_user: BTreeMap<u32, (f64, f64, f64, usize)> = BTreeMap::new();
    let mut seeds = Vec::new();
    for (s, ca) in ma {
        let (Some(va), Some(vb)) = (&ca.values, mb.get(s).and_then(|c| c.values.as_ref())) else {
            continue;
        };
        let Some((a, b, w)) = va.pair_with(vb, metric) else {
            notes.push(format!(
                "seed {s}: per-user values of `{metric}` not paired (different users or no such column)"
            ));
            continue;
        };
        for (i, &u) in va.users.iter().enumerate() {
            let e = per_user.entry(u).or_default();
            e.0 += a[i];
            e.1 += b[i];
            e.2 += w[i];
            e.3 += 1;
        }
        seeds.push(*s);
    }
    if per_user.is_empty() {
        return None;
    }
    let (mut ua, mut ub, mut uw) = (Vec::new(), Vec::new(), Vec::new());
    for (sa, sb, w, n) in per_user.values() {
        let n = *n as f64;
        ua.push(sa / n);
        ub.push(sb / n);
        uw.push(w / n);
    }
    let bootstrap = paired_bootstrap(&ua, &ub, &uw, opts.resamples, opts.seed, opts.level)?;
    let randomization = paired_randomization(&ua, &ub, &uw, opts.resamples, opts.seed)?;
    Some(GroupTests {
        metric: metric.to_string(),
        seeds,
        bootstrap,
        randomization,
    })
}

pub fn format_text(c: &PairComparison) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "task {}: {} (A) vs {} (B); primary metric {}",
        c.task, c.a, c.b, c.primary
    );
    let summ = |s: &Option<Summary>| match s {
        None => "no data".to_string(),
        Some(s) => match s.ci {
            Some((lo, hi)) => format!(
                "mean {:.5}, sd {:.5}, 95% CI [{lo:.5}, {hi:.5}] (n={})",
                s.mean,
                s.sd.unwrap_or(0.0),
                s.n
            ),
            None => format!("mean {:.5}, CI n/a ({} seed)", s.mean, s.n),
        },
    };
    for m in &c.metrics {
        let dir = if m.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let _ = writeln!(o, "\n{} ({dir})", m.metric);
        let _ = writeln!(o, "  A {}", summ(&m.a));
        let _ = writeln!(o, "  B {}", summ(&m.b));
        let per: Vec<String> = m
            .seeds
            .iter()
            .zip(m.a_values.iter().zip(&m.b_values))
            .map(|(s, (x, y))| format!("seed {s}: {x:.5} vs {y:.5} (Δ {:+.5})", x - y))
            .collect();
        let _ = writeln!(o, "  per seed: {}", per.join("; "));
        match &m.t {
            Some(t) => {
                let _ = writeln!(
                    o,
                    "  Δ = A − B = {:+.5}, 95% CI [{:+.5}, {:+.5}]; paired t({}) = {:.3}, p = {}",
                    t.mean_diff,
                    t.ci.0,
                    t.ci.1,
                    t.df,
                    t.t,
                    fmt_p(t.p)
                );
            }
            None => {
                let _ = writeln!(o, "  paired t-test: n/a ({} paired seed)", m.seeds.len());
            }
        }
        if let Some(w) = &m.wilcoxon {
            let _ = writeln!(
                o,
                "  Wilcoxon signed-rank: W = {}, p = {} ({:?}, {} zero differences dropped)",
                w.statistic,
                fmt_p(w.p),
                w.method,
                w.zeros
            );
        }
    }
    if !c.delong.is_empty() {
        let _ = writeln!(
            o,
            "\nDeLong test of {} on the shared test examples:",
            c.delong_metric
        );
        for (s, d) in &c.delong {
            let _ = writeln!(
                o,
                "  seed {s}: AUC {:.5} vs {:.5}, Δ {:+.5} [{:+.5}, {:+.5}], z = {:.3}, p = {} ({} pos, {} neg)",
                d.auc_a, d.auc_b, d.diff, d.ci.0, d.ci.1, d.z, fmt_p(d.p), d.positives, d.negatives
            );
        }
    }
    if let Some(g) = &c.groups {
        let b = &g.bootstrap;
        let r = &g.randomization;
        let by_auc = g.metric.split(':').next() == Some("gauc");
        let (what, weights) = if by_auc {
            ("AUC".to_string(), ", weighted by examples")
        } else {
            (g.metric.clone(), "")
        };
        let _ = writeln!(
            o,
            "\nOver users ({} groups, per-user {what} averaged over seeds {:?}{weights}):",
            b.groups, g.seeds
        );
        let _ = writeln!(
            o,
            "  Δ{} = {:+.5}; paired bootstrap ({} resamples, seed {}): se {:.5}, 95% CI [{:+.5}, {:+.5}], p = {}",
            if by_auc { "GAUC" } else { g.metric.as_str() },
            b.diff, b.resamples, b.seed, b.se, b.ci.0, b.ci.1, fmt_p(b.p)
        );
        let _ = writeln!(
            o,
            "  paired randomization ({} sign patterns{}): p = {}",
            r.resamples,
            if r.exact { ", exact" } else { "" },
            fmt_p(r.p)
        );
    }
    for n in &c.notes {
        let _ = writeln!(o, "note: {n}");
    }
    o
}

/// p-values: 3 significant digits, "< 1e-16" below double precision.
pub fn fmt_p(p: f64) -> String {
    if p.is_nan() {
        "n/a".into()
    } else if p < 1e-16 {
        "< 1e-16".into()
    } else if p < 0.001 {
        format!("{p:.2e}")
    } else {
        format!("{p:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::demo::synthetic_cell;
    use crate::results::{Cost, UserValues};

    /// A retrieval cell whose users' full-corpus ranks are `ranks`.
    fn cell(model: &str, seed: u64, users: &[u32], ranks: &[f64]) -> Cell {
        let mut c = synthetic_cell("seq", model, seed, &[("hr@10", 0.0)], Cost::default());
        c.values = Some(UserValues {
            users: users.to_vec(),
            columns: [("rank".to_string(), ranks.to_vec())].into_iter().collect(),
        });
        c
    }

    /// Retrieval cells are compared user by user on the primary metric: A hits the top
    /// 10 for every even user, B for none, so ΔHR@10 over users is exactly 0.5.
    #[test]
    fn retrieval_cells_get_user_level_tests_on_the_primary_metric() {
        let users: Vec<u32> = (0..100).collect();
        let a_ranks: Vec<f64> = users
            .iter()
            .map(|u| if u % 2 == 0 { 1.0 } else { 50.0 })
            .collect();
        let b_ranks = vec![50.0; 100];
        let a: Vec<Cell> = (0..2).map(|s| cell("a", s, &users, &a_ranks)).collect();
        let b: Vec<Cell> = (0..2).map(|s| cell("b", s, &users, &b_ranks)).collect();
        let (ra, rb): (Vec<&Cell>, Vec<&Cell>) = (a.iter().collect(), b.iter().collect());
        let opts = PairOptions {
            level: 0.95,
            resamples: 2000,
            seed: 1,
        };
        let c = compare(&ra, &rb, &["hr@10".into()], "hr@10", opts);
        let g = c.groups.expect("user-level tests");
        assert_eq!(g.metric, "hr@10");
        assert_eq!(g.seeds, vec![0, 1]);
        assert!(
            (g.bootstrap.diff - 0.5).abs() < 1e-12,
            "{}",
            g.bootstrap.diff
        );
        assert!(g.bootstrap.ci.0 > 0.3 && g.bootstrap.ci.1 < 0.7);
        assert!(g.randomization.p < 0.01, "{}", g.randomization.p);

        // Different users in B: not paired, said in a note, no tests.
        let other: Vec<u32> = (1000..1100).collect();
        let b2: Vec<Cell> = (0..2).map(|s| cell("b", s, &other, &b_ranks)).collect();
        let rb2: Vec<&Cell> = b2.iter().collect();
        let c = compare(&ra, &rb2, &["hr@10".into()], "hr@10", opts);
        assert!(c.groups.is_none());
        assert!(
            c.notes.iter().any(|n| n.contains("not paired")),
            "{:?}",
            c.notes
        );
    }
}
