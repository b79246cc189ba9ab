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

mod decide;
mod paired;
mod results;
mod text;
mod vocab;

use std::collections::BTreeMap;

use super::spec::{Check, Claim, Test, TRIVIAL};
use crate::report::load::Cell;
use crate::report::tables::{fmt_value, slug};
use crate::stats::holm;
use decide::decide;
use paired::{pair, published};
pub use results::{CheckResult, ClaimResult};
use text::{figures, seeds_text, statement};
pub use vocab::{ClaimOptions, Verdict};

/// Verdicts of `claims` from the successful `cells`.
pub fn evaluate(claims: &[Claim], cells: &[Cell], opts: ClaimOptions) -> Vec<ClaimResult> {
    claims
        .iter()
        .map(|c| evaluate_one(c, cells, opts))
        .collect()
}

fn evaluate_one(claim: &Claim, cells: &[Cell], opts: ClaimOptions) -> ClaimResult {
    let task = claim.task.as_str();
    let mut results: Vec<CheckResult> = claim
        .checks
        .iter()
        .map(|check| check_result(claim, check, cells, opts))
        .collect();
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
    let todo = todo_command(claim, &results, &missing_models);
    let summary = summary_text(&results);
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

/// One check's paired data, figures and raw p-value (its verdict comes later, once
/// the claim's p-values are Holm-adjusted).
fn check_result(claim: &Claim, check: &Check, cells: &[Cell], opts: ClaimOptions) -> CheckResult {
    let task = claim.task.as_str();
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
    r
}

/// The command that makes the claim checkable: the missing models' cells, or more
/// seeds when a check has too few; None when nothing is missing.
fn todo_command(
    claim: &Claim,
    results: &[CheckResult],
    missing_models: &[String],
) -> Option<String> {
    let task = claim.task.as_str();
    let few_seeds = results.iter().any(|r| {
        r.verdict == Verdict::Inconclusive
            && !matches!(r.test, Test::CostRatio { .. })
            && r.seeds.len() < claim.min_seeds
    });
    if !missing_models.is_empty() {
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
    }
}

/// "2 checks: 1 reproduced, 1 inconclusive".
fn summary_text(results: &[CheckResult]) -> String {
    if results.len() == 1 {
        format!("1 check, {}", results[0].verdict.text())
    } else {
        format!(
            "{} checks: {}",
            results.len(),
            count_text(results.iter().map(|r| r.verdict))
        )
    }
}

/// How many of each verdict, best first: "1 reproduced, 2 not run".
pub fn count_text(verdicts: impl Iterator<Item = Verdict>) -> String {
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for v in verdicts {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .iter()
        .map(|(v, n)| format!("{n} {}", v.text()))
        .collect::<Vec<_>>()
        .join(", ")
}
