//! Which cells a task's results should have and which are missing, so a page built
//! from a partly finished run says so instead of showing a shorter leaderboard as if
//! it were whole.
//!
//! A cell's `run` is the suite or task it was run as (or the `--run` name given), and
//! `recbench run` wrote its cells for the models and seeds that target resolves to in
//! the tasks folder (`runner::resolve`). The same resolution here gives the cells each
//! run planned per task; a cell counts as present when it has a result, ok or failed.
//! Runs whose name is not a suite or task in the folder have no known plan; they are
//! named in a note and add nothing to the expected set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::report::load::{Cell, Loaded};
use crate::runner::resolve_target;

/// The cells runs planned on one task.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    /// `(run, the spec file it resolved to)`.
    pub runs: Vec<(String, String)>,
    /// Planned seeds per model.
    pub seeds: BTreeMap<String, BTreeSet<u64>>,
}

/// Planned cells per task, for every run in `loaded` that resolves in `tasks_dir`, and
/// a note for each run that does not.
pub fn planned_cells(
    loaded: &Loaded,
    tasks_dir: &Path,
) -> (BTreeMap<String, Planned>, Vec<String>) {
    let runs: BTreeSet<&str> = loaded
        .cells
        .iter()
        .chain(&loaded.failed)
        .map(|c| c.result.run.as_str())
        .collect();
    let mut by_task: BTreeMap<String, Planned> = BTreeMap::new();
    let mut notes = Vec::new();
    for run in runs {
        // A name that is a path would resolve to a task file outside the folder.
        let plan = if run.ends_with(".json") {
            None
        } else {
            resolve_target(tasks_dir, run, None, None).ok()
        };
        let Some(plan) = plan else {
            notes.push(format!(
                "run `{run}` is not a suite or task in {} (or does not load): which of its \
                 cells are missing is unknown",
                tasks_dir.display()
            ));
            continue;
        };
        let source = plan.source.display().to_string();
        for (spec, models, seeds) in plan.tasks {
            let planned = by_task.entry(spec.name.clone()).or_default();
            planned.runs.push((run.to_string(), source.clone()));
            for m in models {
                planned
                    .seeds
                    .entry(m)
                    .or_default()
                    .extend(0..u64::from(seeds));
            }
        }
    }
    (by_task, notes)
}

/// A model with fewer results than planned.
#[derive(Debug, Clone, Serialize)]
pub struct MissingModel {
    pub model: String,
    pub present: usize,
    pub planned: usize,
    pub missing_seeds: Vec<u64>,
}

/// How much of a task's plan has results.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub planned: usize,
    pub present: usize,
    pub complete: bool,
    /// "run `retrieval` (tasks/suites/retrieval.json)".
    pub source: String,
    pub missing: Vec<MissingModel>,
    /// One sentence for the page.
    pub text: String,
}

/// The task's coverage against `planned`; None without a plan for it.
pub fn coverage(cells: &[&Cell], failed: &[&Cell], planned: Option<&Planned>) -> Option<Coverage> {
    let planned = planned?;
    let have: BTreeSet<(&str, u64)> = cells
        .iter()
        .chain(failed)
        .map(|c| (c.result.model.as_str(), c.result.seed))
        .collect();
    let mut missing = Vec::new();
    let (mut n_planned, mut n_present) = (0, 0);
    for (model, seeds) in &planned.seeds {
        let missing_seeds: Vec<u64> = seeds
            .iter()
            .filter(|&&s| !have.contains(&(model.as_str(), s)))
            .copied()
            .collect();
        n_planned += seeds.len();
        n_present += seeds.len() - missing_seeds.len();
        if !missing_seeds.is_empty() {
            missing.push(MissingModel {
                model: model.clone(),
                present: seeds.len() - missing_seeds.len(),
                planned: seeds.len(),
                missing_seeds,
            });
        }
    }
    let source = planned
        .runs
        .iter()
        .map(|(run, file)| format!("run `{run}` ({file})"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = if missing.is_empty() {
        format!("All {n_planned} cells planned by {source} have a result.")
    } else {
        let (not_run, short): (Vec<&MissingModel>, Vec<&MissingModel>) =
            missing.iter().partition(|m| m.present == 0);
        let mut parts = Vec::new();
        if !not_run.is_empty() {
            let names: Vec<String> = not_run
                .iter()
                .map(|m| format!("{} (0 of {} seeds)", m.model, m.planned))
                .collect();
            parts.push(format!("not run yet: {}", names.join(", ")));
        }
        if !short.is_empty() {
            let names: Vec<String> = short
                .iter()
                .map(|m| format!("{} ({} of {} seeds)", m.model, m.present, m.planned))
                .collect();
            parts.push(format!("fewer seeds than planned: {}", names.join(", ")));
        }
        format!(
            "Incomplete: {n_present} of the {n_planned} cells planned by {source} have a \
             result; {}. The leaderboard ranks what has run.",
            parts.join("; ")
        )
    };
    Some(Coverage {
        planned: n_planned,
        present: n_present,
        complete: missing.is_empty(),
        source,
        missing,
        text,
    })
}
