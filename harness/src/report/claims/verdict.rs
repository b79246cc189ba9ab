//! Verdicts of claims, computed from the result cells; nothing is taken from the claim
//! file but what to compare.
//!
//! Per check (A vs B on the claim's task, seeds paired: only seeds both ran count):
//! * `not run`: A or B has no successful cell on the task, or the metric / cost is not
//!   recorded; the page lists the cells needed and the command that makes them.
//! * `inconclusive`: fewer paired seeds than the claim's `min_seeds` (default 3) for a
//!   metric check, or an interval that straddles the threshold.
//! * `better`: figure = mean of d_i = A_i − B_i with its Student-t CI; p = paired
//!   t-test, Holm-corrected over the claim's significance checks (`better`,
//!   `not_worse`) that have enough seeds. Reproduced iff p_Holm < alpha in A's favour.
//! * `not_worse`: not reproduced iff p_Holm < alpha against A; with a margin, reproduced
//!   only when the CI of A − B also excludes a loss larger than the margin.
//! * `keeps`: figure = mean of r_i = A_i / B_i (B_i / A_i for a lower-is-better metric)
//!   with its Student-t CI; reproduced iff the CI's lower end >= the fraction, not
//!   reproduced iff its upper end is below it.
//! * `cost_ratio`: r_i = cost A_i / cost B_i; reproduced iff every seed's ratio is
//!   within the bound (at most `at_most`, or at least `at_least`), not reproduced iff
//!   none is (costs are near-deterministic, so no interval is needed to decide).
//! * `matches_published`: only A is run; figure = mean of A_i / value with its
//!   Student-t CI; reproduced iff the CI lies within 1 ± tolerance, not reproduced iff
//!   it lies wholly outside, inconclusive otherwise.
//!
//! B may be `trivial` (`spec::TRIVIAL`): the task's trivial predictor, whose metrics A's
//! own cells record, paired seed by seed like a model.
//!
//! A claim is the conjunction of its checks: not reproduced if any check is, else not
//! run if any check is, else inconclusive if any is, else reproduced.

use std::collections::BTreeMap;

use serde::Serialize;

use super::spec::{Check, Claim, Test, TRIVIAL};
use crate::report::load::{Cell, EMBEDDING_BYTES};
use crate::report::tables::{decimals_for, fmt_value, slug};
use crate::stats::{holm, paired_t, summarize};
use crate::train::higher_is_better;

/// Ordered from best to worst, so a claim's verdict is the max over its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Reproduced,
    Inconclusive,
    NotRun,
    NotReproduced,
}

impl Verdict {
    pub fn text(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotRun => "not run",
            Verdict::NotReproduced => "not reproduced",
        }
    }

    /// CSS class of the verdict badge.
    pub fn class(self) -> &'static str {
        match self {
            Verdict::Reproduced => "v-yes",
            Verdict::Inconclusive => "v-maybe",
            Verdict::NotRun => "v-none",
            Verdict::NotReproduced => "v-no",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ClaimOptions {
    pub alpha: f64,
    /// Confidence level of the intervals (0.95).
    pub level: f64,
}

impl Default for ClaimOptions {
    fn default() -> Self {
        ClaimOptions {
            alpha: crate::stats::ALPHA,
            level: 0.95,
        }
    }
}

/// One check's figures and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub a: String,
    pub b: String,
    pub a_slug: String,
    pub b_slug: String,
    /// The metric, or the cost for `cost_ratio`.
    pub quantity: String,
    pub test: Test,
    /// "apg_dnn better than dnn on auc".
    pub statement: String,
    /// Seeds both A and B have a value for, with the values.
    pub seeds: Vec<u64>,
    pub a_values: Vec<f64>,
    pub b_values: Vec<f64>,
    /// "seed 0: 0.71234 vs 0.70911; ..." (hover text).
    pub per_seed: String,
    /// A − B (metric checks `better`/`not_worse`) or A/B (`keeps`, `cost_ratio`).
    pub estimate: Option<f64>,
    /// Student-t CI of the estimate (None below 2 paired seeds, and for costs).
    pub ci: Option<(f64, f64)>,
    /// Smallest and largest per-seed ratio (`cost_ratio`).
    pub range: Option<(f64, f64)>,
    pub p: Option<f64>,
    pub p_holm: Option<f64>,
    /// "Δ auc = +0.0012 [−0.0003, +0.0027], p_Holm 0.21, 3 seeds".
    pub figure: String,
    pub verdict: Verdict,
    pub verdict_text: &'static str,
    pub verdict_class: &'static str,
    /// Why this verdict, in words.
    pub why: String,
    /// (task, model) cells that are needed and missing.
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClaimResult {
    pub claim: Claim,
    pub slug: String,
    pub task_slug: String,
    pub verdict: Verdict,
    pub verdict_text: &'static str,
    pub verdict_class: &'static str,
    /// "2 of 4 checks reproduced, 1 not reproduced, 1 inconclusive".
    pub summary: String,
    pub checks: Vec<CheckResult>,
    /// Every model the checks name that has no result on the task.
    pub missing_models: Vec<String>,
    /// What to run to make the claim checkable (missing cells or too few seeds).
    pub todo: Option<String>,
}

impl ClaimResult {
    /// Whether the claim belongs on `model`'s page.
    pub fn concerns(&self, model: &str) -> bool {
        self.claim.models.iter().any(|m| m == model)
    }
}

/// Verdicts of `claims` from the successful `cells`.
pub fn evaluate(claims: &[Claim], cells: &[Cell], opts: ClaimOptions) -> Vec<ClaimResult> {
    claims
        .iter()
        .map(|c| evaluate_one(c, cells, opts))
        .collect()
}

/// What one side of a check has on the claim's task: seed -> value.
fn values(
    cells: &[Cell],
    task: &str,
    model: &str,
    f: impl Fn(&Cell) -> Option<f64>,
) -> (bool, BTreeMap<u64, f64>) {
    let mine: Vec<&Cell> = cells
        .iter()
        .filter(|c| c.result.task == task && c.result.model == model)
        .collect();
    let map = mine
        .iter()
        .filter_map(|c| Some((c.result.seed, f(c)?)))
        .collect();
    (!mine.is_empty(), map)
}

/// A check's paired data, or why it cannot be computed.
struct Paired {
    seeds: Vec<u64>,
    a: Vec<f64>,
    b: Vec<f64>,
}

/// A's and B's values per seed, `f` read from each side's cells; B = `trivial` reads
/// the trivial predictor's `quantity` from A's cells.
fn pair(
    cells: &[Cell],
    task: &str,
    check: &Check,
    quantity: &str,
    f: impl Fn(&Cell) -> Option<f64> + Copy,
) -> Result<Paired, (String, Vec<String>)> {
    let (has_a, va) = values(cells, task, &check.a, f);
    let (has_b, vb) = if check.b == TRIVIAL {
        values(cells, task, &check.a, |c| {
            c.result.trivial_metrics.get(quantity).copied()
        })
    } else {
        values(cells, task, &check.b, f)
    };
    let missing: Vec<String> = [(has_a, &check.a), (has_b, &check.b)]
        .into_iter()
        .filter(|(has, m)| !has && *m != TRIVIAL)
        .map(|(_, m)| m.clone())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "no successful result for {} on task {task}",
            missing.join(" and ")
        );
        return Err((why, missing));
    }
    for (v, m) in [(&va, &check.a), (&vb, &check.b)] {
        if v.is_empty() {
            return Err((format!("{quantity} is not recorded for {m}"), vec![]));
        }
    }
    let mut p = Paired {
        seeds: vec![],
        a: vec![],
        b: vec![],
    };
    for (s, x) in &va {
        if let Some(y) = vb.get(s) {
            p.seeds.push(*s);
            p.a.push(*x);
            p.b.push(*y);
        }
    }
    if p.seeds.is_empty() {
        return Err((
            format!(
                "{} and {} share no seed (seeds {:?} vs {:?})",
                check.a,
                check.b,
                va.keys().collect::<Vec<_>>(),
                vb.keys().collect::<Vec<_>>()
            ),
            vec![],
        ));
    }
    Ok(p)
}

/// A `matches_published` check's data: A's seeds, with the published value as "B".
fn published(
    cells: &[Cell],
    task: &str,
    check: &Check,
    metric: &str,
    value: f64,
) -> Result<Paired, (String, Vec<String>)> {
    let (has_a, va) = values(cells, task, &check.a, |c| {
        c.result.metrics.get(metric).copied()
    });
    if !has_a {
        let why = format!("no successful result for {} on task {task}", check.a);
        return Err((why, vec![check.a.clone()]));
    }
    if va.is_empty() {
        return Err((format!("{metric} is not recorded for {}", check.a), vec![]));
    }
    Ok(Paired {
        seeds: va.keys().copied().collect(),
        b: vec![value; va.len()],
        a: va.into_values().collect(),
    })
}

fn statement(check: &Check, quantity: &str) -> String {
    let a = &check.a;
    let b = if check.b == TRIVIAL {
        "the trivial predictor"
    } else {
        check.b.as_str()
    };
    match &check.test {
        Test::Better => format!("{a} better than {b} on {quantity}"),
        Test::NotWorse { margin: None } => {
            format!("{a} not significantly worse than {b} on {quantity}")
        }
        Test::NotWorse { margin: Some(m) } => {
            format!("{a} not significantly worse than {b} on {quantity}, and no loss beyond {m}")
        }
        Test::Keeps { at_least } => {
            format!("{a} keeps ≥ {} of {b}'s {quantity}", pct(*at_least))
        }
        Test::CostRatio {
            cost,
            at_most,
            at_least,
        } => {
            let (rel, bound) = match (at_most, at_least) {
                (Some(m), _) => ("≤", *m),
                (None, l) => ("≥", l.expect("cost_ratio has a bound")),
            };
            format!(
                "{a} has {rel} {} of {b}'s {}",
                pct(bound),
                cost.replace('_', " ")
            )
        }
        Test::MatchesPublished { value, tolerance } => {
            format!(
                "{a}'s {quantity} within ±{} of the published {} ({b})",
                pct(*tolerance),
                fmt_value(*value)
            )
        }
    }
}

fn pct(x: f64) -> String {
    let s = format!("{:.2}", 100.0 * x);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

fn pct_ci(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

fn seeds_text(n: usize) -> String {
    format!("{n} seed{}", if n == 1 { "" } else { "s" })
}

fn evaluate_one(claim: &Claim, cells: &[Cell], opts: ClaimOptions) -> ClaimResult {
    let task = claim.task.as_str();
    let mut results: Vec<CheckResult> = Vec::new();
    // First pass: data, figures and raw p-values.
    for check in &claim.checks {
        let metric = claim.metric_of(check).to_string();
        let quantity = match &check.test {
            Test::CostRatio { cost, .. } => cost.clone(),
            _ => metric.clone(),
        };
        let mut r = CheckResult {
            a: check.a.clone(),
            b: check.b.clone(),
            a_slug: slug(&check.a),
            b_slug: slug(&check.b),
            per_seed: String::new(),
            statement: statement(check, &quantity),
            quantity: quantity.clone(),
            test: check.test.clone(),
            seeds: vec![],
            a_values: vec![],
            b_values: vec![],
            estimate: None,
            ci: None,
            range: None,
            p: None,
            p_holm: None,
            figure: String::new(),
            verdict: Verdict::NotRun,
            verdict_text: "",
            verdict_class: "",
            why: String::new(),
            missing: vec![],
        };
        let paired = match &check.test {
            Test::CostRatio { cost, .. } => pair(cells, task, check, cost, |c| c.cost_value(cost)),
            Test::MatchesPublished { value, .. } => published(cells, task, check, &metric, *value),
            _ => pair(cells, task, check, &metric, |c| {
                c.result.metrics.get(&metric).copied()
            }),
        };
        match paired {
            Err((why, missing)) => {
                r.figure = "—".into();
                r.why = why;
                r.missing = missing;
            }
            Ok(p) => {
                r.seeds = p.seeds;
                r.a_values = p.a;
                r.b_values = p.b;
                r.per_seed = r
                    .seeds
                    .iter()
                    .zip(r.a_values.iter().zip(&r.b_values))
                    .map(|(s, (a, b))| format!("seed {s}: {} vs {}", fmt_value(*a), fmt_value(*b)))
                    .collect::<Vec<_>>()
                    .join("; ");
                figures(&mut r, &metric, opts);
            }
        }
        results.push(r);
    }
    // Holm over the significance checks that have enough seeds to be decided.
    let in_family = |r: &CheckResult| {
        matches!(r.test, Test::Better | Test::NotWorse { .. }) && r.seeds.len() >= claim.min_seeds
    };
    let raw: Vec<Option<f64>> = results
        .iter()
        .map(|r| r.p.filter(|_| in_family(r)))
        .collect();
    let adj = holm(&raw);
    for (r, p_holm) in results.iter_mut().zip(adj) {
        r.p_holm = p_holm;
        if !r.seeds.is_empty() {
            decide(r, claim.min_seeds, opts);
        }
        if let (Some(p), Test::Better | Test::NotWorse { .. }) = (r.p_holm, &r.test) {
            r.figure
                .push_str(&format!(", p_Holm {}", crate::report::compare::fmt_p(p)));
        }
        if !r.seeds.is_empty() {
            r.figure
                .push_str(&format!(", {}", seeds_text(r.seeds.len())));
        }
        r.verdict_text = r.verdict.text();
        r.verdict_class = r.verdict.class();
    }
    let verdict = results
        .iter()
        .map(|r| r.verdict)
        .max()
        .unwrap_or(Verdict::NotRun);
    let mut missing_models: Vec<String> = results.iter().flat_map(|r| r.missing.clone()).collect();
    missing_models.sort();
    missing_models.dedup();
    let few_seeds = results.iter().any(|r| {
        r.verdict == Verdict::Inconclusive
            && !matches!(r.test, Test::CostRatio { .. })
            && r.seeds.len() < claim.min_seeds
    });
    let todo = if !missing_models.is_empty() {
        Some(format!(
            "recbench run {task} --models {} --seeds {}",
            missing_models.join(","),
            claim.min_seeds
        ))
    } else if few_seeds {
        // B is a model unless it is the trivial predictor or a published figure's
        // source (matches_published), which no run can make.
        let mut models: Vec<String> = results
            .iter()
            .flat_map(|r| {
                let b_is_model = !matches!(r.test, Test::MatchesPublished { .. });
                [Some(r.a.clone()), b_is_model.then(|| r.b.clone())]
            })
            .flatten()
            .filter(|m| m != TRIVIAL)
            .collect();
        models.sort();
        models.dedup();
        Some(format!(
            "recbench run {task} --models {} --seeds {} --resume",
            models.join(","),
            claim.min_seeds
        ))
    } else {
        None
    };
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for r in &results {
        *counts.entry(r.verdict).or_default() += 1;
    }
    let summary = if results.len() == 1 {
        format!("1 check, {}", results[0].verdict.text())
    } else {
        format!(
            "{} checks: {}",
            results.len(),
            counts
                .iter()
                .map(|(v, n)| format!("{n} {}", v.text()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    ClaimResult {
        slug: slug(&claim.id),
        task_slug: slug(task),
        claim: claim.clone(),
        verdict,
        verdict_text: verdict.text(),
        verdict_class: verdict.class(),
        summary,
        checks: results,
        missing_models,
        todo,
    }
}

/// The estimate, its interval and the raw p-value of a check with paired data.
fn figures(r: &mut CheckResult, metric: &str, opts: ClaimOptions) {
    let hib = higher_is_better(metric);
    match &r.test {
        Test::Better | Test::NotWorse { .. } => {
            let n = r.seeds.len();
            let mean = r
                .a_values
                .iter()
                .zip(&r.b_values)
                .map(|(a, b)| a - b)
                .sum::<f64>()
                / n as f64;
            r.estimate = Some(mean);
            if let Some(t) = paired_t(&r.a_values, &r.b_values, opts.level) {
                r.ci = Some(t.ci);
                r.p = Some(t.p);
            }
            // Two significant digits of the half-width, but at least 4 decimals so a
            // small difference does not print as +0.000.
            let d =
                r.ci.map(|(lo, hi)| decimals_for((hi - lo) / 2.0).max(4))
                    .unwrap_or(5);
            r.figure = match r.ci {
                Some((lo, hi)) => format!("Δ {metric} (A − B) {mean:+.d$} [{lo:+.d$}, {hi:+.d$}]"),
                None => format!("Δ {metric} (A − B) {mean:+.d$}, CI n/a"),
            };
        }
        Test::MatchesPublished { value, .. } => {
            let ratios: Vec<f64> = r.a_values.iter().map(|a| a / value).collect();
            let s = summarize(&ratios, opts.level).expect("published data is not empty");
            let m = summarize(&r.a_values, opts.level).expect("published data is not empty");
            r.estimate = Some(s.mean);
            r.ci = s.ci;
            let d = 4;
            let ours = match m.ci {
                Some((lo, hi)) => format!("{:.d$} [{lo:.d$}, {hi:.d$}]", m.mean),
                None => format!("{:.d$}, CI n/a", m.mean),
            };
            let ratio = match s.ci {
                Some((lo, hi)) => format!("{} [{}, {}]", pct_ci(s.mean), pct_ci(lo), pct_ci(hi)),
                None => pct_ci(s.mean),
            };
            r.figure = format!("{metric} {ours} vs published {value}: {ratio} of it");
        }
        Test::Keeps { .. } => {
            let ratios: Vec<f64> = r
                .a_values
                .iter()
                .zip(&r.b_values)
                .map(|(a, b)| if hib { a / b } else { b / a })
                .collect();
            let s = summarize(&ratios, opts.level).expect("paired data is not empty");
            r.estimate = Some(s.mean);
            r.ci = s.ci;
            let kept = if hib { "A / B" } else { "B / A" };
            r.figure = match s.ci {
                Some((lo, hi)) => format!(
                    "{kept} {metric} {} [{}, {}]",
                    pct_ci(s.mean),
                    pct_ci(lo),
                    pct_ci(hi)
                ),
                None => format!("{kept} {metric} {}, CI n/a", pct_ci(s.mean)),
            };
        }
        Test::CostRatio { cost, .. } => {
            let ratios: Vec<f64> = r
                .a_values
                .iter()
                .zip(&r.b_values)
                .map(|(a, b)| a / b)
                .collect();
            let n = ratios.len() as f64;
            let mean = ratios.iter().sum::<f64>() / n;
            let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            r.estimate = Some(mean);
            r.range = Some((lo, hi));
            let ma = r.a_values.iter().sum::<f64>() / n;
            let mb = r.b_values.iter().sum::<f64>() / n;
            let range = if hi > lo {
                format!(" (per seed {}–{})", pct_ci(lo), pct_ci(hi))
            } else {
                String::new()
            };
            r.figure = format!(
                "A / B {} {}{range}: {} vs {}",
                cost.replace('_', " "),
                pct_ci(mean),
                cost_text(cost, ma),
                cost_text(cost, mb)
            );
        }
    }
}

fn cost_text(cost: &str, x: f64) -> String {
    if cost == EMBEDDING_BYTES || cost.ends_with("_bytes") {
        crate::report::tables::bytes(x)
    } else {
        crate::report::tables::human(x, "")
    }
}

/// The verdict of a check with paired data (p_holm already set).
fn decide(r: &mut CheckResult, min_seeds: usize, opts: ClaimOptions) {
    let n = r.seeds.len();
    let hib = higher_is_better(&r.quantity);
    let few = n < min_seeds && !matches!(r.test, Test::CostRatio { .. });
    if few {
        r.verdict = Verdict::Inconclusive;
        r.why = format!(
            "{n} paired seed{}; the check needs at least {min_seeds}",
            if n == 1 { "" } else { "s" }
        );
        return;
    }
    // Orient A − B so that positive favours A.
    let sign = if hib { 1.0 } else { -1.0 };
    let favours_a = r.estimate.unwrap_or(0.0) * sign > 0.0;
    let significant = r.p_holm.is_some_and(|p| p < opts.alpha);
    let p_text = r
        .p_holm
        .map(crate::report::compare::fmt_p)
        .unwrap_or_else(|| "n/a".into());
    let (verdict, why) = match &r.test {
        Test::Better => match (significant, favours_a) {
            (true, true) => (
                Verdict::Reproduced,
                format!("{} is significantly better (p_Holm {p_text} < {})", r.a, opts.alpha),
            ),
            (true, false) => (
                Verdict::NotReproduced,
                format!("{} is significantly worse (p_Holm {p_text})", r.a),
            ),
            (false, _) => (
                Verdict::NotReproduced,
                format!(
                    "no significant difference (p_Holm {p_text} ≥ {}): no evidence that {} is better",
                    opts.alpha, r.a
                ),
            ),
        },
        Test::NotWorse { margin } => {
            if significant && !favours_a {
                (
                    Verdict::NotReproduced,
                    format!("{} is significantly worse (p_Holm {p_text} < {})", r.a, opts.alpha),
                )
            } else if let Some(m) = margin {
                // The worst loss for A the interval allows, in metric units.
                let (lo, hi) = r.ci.expect("n >= min_seeds >= 2 gives an interval");
                let worst_loss = if hib { -lo } else { hi };
                if worst_loss <= *m {
                    (
                        Verdict::Reproduced,
                        format!(
                            "not significantly worse, and the CI excludes a loss beyond {m}"
                        ),
                    )
                } else {
                    (
                        Verdict::Inconclusive,
                        format!(
                            "not significantly worse, but the CI allows a loss of {worst_loss:.5}, more than the margin {m}"
                        ),
                    )
                }
            } else {
                (
                    Verdict::Reproduced,
                    format!("not significantly worse (p_Holm {p_text} ≥ {})", opts.alpha),
                )
            }
        }
        Test::Keeps { at_least } => {
            let (lo, hi) = r.ci.expect("n >= min_seeds >= 2 gives an interval");
            if lo >= *at_least {
                (
                    Verdict::Reproduced,
                    format!("the whole CI is at or above {}", pct(*at_least)),
                )
            } else if hi < *at_least {
                (
                    Verdict::NotReproduced,
                    format!("the whole CI is below {}", pct(*at_least)),
                )
            } else {
                (
                    Verdict::Inconclusive,
                    format!("the CI contains {}", pct(*at_least)),
                )
            }
        }
        Test::CostRatio {
            at_most, at_least, ..
        } => {
            let (lo, hi) = r.range.expect("cost ratios have a range");
            // Flip an `at_least` bound into an `at_most` one on the negated ratios.
            let (lo, hi, bound, within, beyond) = match (at_most, at_least) {
                (Some(m), _) => (lo, hi, *m, "at most", "above"),
                (None, l) => {
                    let l = l.expect("cost_ratio has a bound");
                    (-hi, -lo, -l, "at least", "below")
                }
            };
            let shown = pct(bound.abs());
            if hi <= bound {
                (
                    Verdict::Reproduced,
                    format!("every seed's ratio is {within} {shown}"),
                )
            } else if lo > bound {
                (
                    Verdict::NotReproduced,
                    format!("every seed's ratio is {beyond} {shown}"),
                )
            } else {
                (
                    Verdict::Inconclusive,
                    format!("some seeds' ratios are {beyond} {shown}, some not"),
                )
            }
        }
        Test::MatchesPublished { tolerance, .. } => {
            let (lo, hi) = r.ci.expect("n >= min_seeds >= 2 gives an interval");
            let (min, max) = (1.0 - tolerance, 1.0 + tolerance);
            if lo >= min && hi <= max {
                (
                    Verdict::Reproduced,
                    format!("the CI of our / published lies within {} – {}", pct(min), pct(max)),
                )
            } else if hi < min || lo > max {
                (
                    Verdict::NotReproduced,
                    format!("the CI of our / published lies outside {} – {}", pct(min), pct(max)),
                )
            } else {
                (
                    Verdict::Inconclusive,
                    format!("the CI of our / published reaches outside {} – {}", pct(min), pct(max)),
                )
            }
        }
    };
    r.verdict = verdict;
    r.why = why;
}
