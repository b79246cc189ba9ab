//! The verdicts a claim can get and the options its tests run with.

use serde::Serialize;

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
