//! How a check is put in words: its statement, and its estimate with interval and
//! raw p-value (the figure).

use super::super::spec::{Check, Test, TRIVIAL};
use super::results::CheckResult;
use super::vocab::ClaimOptions;
use crate::metrics::higher_is_better;
use crate::report::load::EMBEDDING_BYTES;
use crate::report::tables::{decimals_for, fmt_value};
use crate::stats::{paired_t, summarize};

pub(super) fn statement(check: &Check, quantity: &str) -> String {
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

pub(super) fn pct(x: f64) -> String {
    let s = format!("{:.2}", 100.0 * x);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

pub(super) fn pct_ci(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

pub(super) fn seeds_text(n: usize) -> String {
    format!("{n} seed{}", if n == 1 { "" } else { "s" })
}

/// The estimate, its interval and the raw p-value of a check with paired data.
pub(super) fn figures(r: &mut CheckResult, metric: &str, opts: ClaimOptions) {
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

pub(super) fn cost_text(cost: &str, x: f64) -> String {
    if cost == EMBEDDING_BYTES || cost.ends_with("_bytes") {
        crate::report::tables::bytes(x)
    } else {
        crate::report::tables::human(x, "")
    }
}
