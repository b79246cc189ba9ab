//! Every model of a task against its best model: all the tests of `compare`, and for
//! each test column the Holm-adjusted p-values (each column is its own family), as the
//! leaderboard's "vs best" and supplementary columns show them.

use std::collections::BTreeMap;

use super::super::compare::{compare, fmt_p, MetricComparison, PairComparison};
use super::options::TableOptions;
use crate::report::load::Cell;
use crate::stats::holm;

/// One test column: the raw p-value per model (None for the best model and where the
/// test could not run) and its Holm adjustment over the column.
pub(super) struct Column {
    pub raw: Vec<Option<f64>>,
    pub adj: Vec<Option<f64>>,
}

impl Column {
    fn new(raw: Vec<Option<f64>>) -> Column {
        let adj = holm(&raw);
        Column { raw, adj }
    }
}

/// The comparisons with the best model, indexed like the task's model list.
pub(super) struct VsBest {
    /// None for the best model itself, and for every model when there is no best.
    pub comparisons: Vec<Option<PairComparison>>,
    /// Paired t over seeds on the primary metric.
    pub t: Column,
    /// Wilcoxon signed-rank over seeds (needs 2 paired seeds).
    pub wilcoxon: Column,
    /// DeLong, the largest p over seeds.
    pub delong: Column,
    /// User-level bootstrap and randomization.
    pub bootstrap: Column,
    pub randomization: Column,
}

impl VsBest {
    /// Runs `compare` for every model in `models` (cells in `by_model`) against
    /// `models[best]`.
    pub fn new(
        models: &[String],
        by_model: &BTreeMap<String, Vec<&Cell>>,
        best: Option<usize>,
        metrics: &[String],
        primary: &str,
        opts: TableOptions,
    ) -> VsBest {
        let comparisons: Vec<Option<PairComparison>> = (0..models.len())
            .map(|i| {
                let b = best?;
                (i != b).then(|| {
                    compare(
                        &by_model[&models[i]],
                        &by_model[&models[b]],
                        metrics,
                        primary,
                        opts.pair,
                    )
                })
            })
            .collect();
        let column = |p: &dyn Fn(&PairComparison) -> Option<f64>| {
            Column::new(comparisons.iter().map(|c| c.as_ref().and_then(p)).collect())
        };
        let t = column(&|c| c.primary()?.t.as_ref().map(|t| t.p));
        let wilcoxon = column(&|c| {
            let m = c.primary().filter(|m| m.seeds.len() >= 2)?;
            m.wilcoxon.as_ref().map(|w| w.p)
        });
        let delong = column(&|c| c.delong_max_p());
        let bootstrap = column(&|c| c.groups.as_ref().map(|g| g.bootstrap.p));
        let randomization = column(&|c| c.groups.as_ref().map(|g| g.randomization.p));
        VsBest {
            comparisons,
            t,
            wilcoxon,
            delong,
            bootstrap,
            randomization,
        }
    }

    /// Model `i`'s comparison on the primary metric.
    pub fn primary(&self, i: usize) -> Option<&MetricComparison> {
        self.comparisons[i].as_ref()?.primary()
    }
}

/// A seed-level p-value cell: "—" for the best model, the adjusted p, or why there is
/// none (`seeds` paired seeds where the test needs `need`).
pub(super) fn p_text(
    column: &Column,
    i: usize,
    is_best: bool,
    seeds: usize,
    need: usize,
) -> String {
    if is_best {
        return "—".to_string();
    }
    match (column.raw[i], column.adj[i]) {
        (Some(_), Some(a)) => fmt_p(a),
        _ if seeds < need => format!("n/a ({seeds} seed)"),
        _ => "n/a".into(),
    }
}
