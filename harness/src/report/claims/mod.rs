//! Paper claims checked against the results: `spec` reads the claim files
//! (`tasks/claims/*.json`: what the paper says and which comparisons would support
//! it), `verdict` computes each check's figure with its interval and the verdict
//! (reproduced / not reproduced / inconclusive / not run) from the result cells.
//! The model pages, `claims.html` and `recbench claims` all show these results.

pub mod spec;
pub mod verdict;

pub use spec::{load_claims, parse_claim, Check, Claim, ClaimError, Source, Test, TRIVIAL};
pub use verdict::{evaluate, CheckResult, ClaimOptions, ClaimResult, Verdict};

/// The verdicts as terminal text: one block per claim, one line per check.
pub fn format_text(results: &[ClaimResult]) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let w_stmt = results
        .iter()
        .flat_map(|r| r.checks.iter().map(|c| c.statement.chars().count()))
        .max()
        .unwrap_or(0);
    for r in results {
        let c = &r.claim;
        let _ = writeln!(
            o,
            "{} [{}] on {}: {}",
            c.id,
            r.verdict_text.to_uppercase(),
            c.task,
            c.claim
        );
        let _ = writeln!(
            o,
            "  source: arXiv {}, {}",
            c.source.arxiv, c.source.section
        );
        for k in &r.checks {
            let _ = writeln!(
                o,
                "  {:<w_stmt$}  {:<14}  {}",
                k.statement, k.verdict_text, k.figure
            );
            let _ = writeln!(o, "  {:<w_stmt$}  {:<14}  {}", "", "", k.why);
        }
        if let Some(t) = &r.todo {
            let _ = writeln!(o, "  to check it: {t}");
        }
        if !c.note.is_empty() {
            let _ = writeln!(o, "  note: {}", c.note);
        }
        o.push('\n');
    }
    let _ = writeln!(
        o,
        "{} claim(s): {}",
        results.len(),
        verdict::count_text(results.iter().map(|r| r.verdict))
    );
    o
}
