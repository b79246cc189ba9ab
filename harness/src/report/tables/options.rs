//! How the leaderboard's tables are computed: the significance level and the paired
//! tests' options.

use crate::report::compare::PairOptions;

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
