//! The verdict of one check from its figures, per test (see the module doc of
//! `verdict`).

use super::super::spec::Test;
use super::results::CheckResult;
use super::text::pct;
use super::vocab::{ClaimOptions, Verdict};
use crate::metrics::higher_is_better;

/// The verdict of a check with paired data (p_holm already set).
pub(super) fn decide(r: &mut CheckResult, min_seeds: usize, opts: ClaimOptions) {
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
