//! What a claim's check and the claim itself come to: figures, verdicts, and what
//! is missing.

use serde::Serialize;

use super::super::spec::{Claim, Test};
use super::vocab::Verdict;

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
