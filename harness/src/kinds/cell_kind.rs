//! What the runner needs of any task kind ([`CellKind`]: its data, a check of the
//! task's entries, one cell). A kind that trains a registered model implements
//! `TaskKindData` and gets this from it (the one cell runner). A kind whose cells run a
//! method against a seeded environment instead of training a model (scheduling,
//! allocation under a budget) implements [`CellKind`] itself, filling the same record
//! (`super::record`), so it shares seeds, statistics, claims and the leaderboard.

use std::path::Path;

use anyhow::Context;
use baselines::engine::Dev;
use baselines::registry;
use indicatif::ProgressBar;

use super::cell::{registered, run_cell};
use super::interface::TaskKindData;
use super::record::{CellError, CellId};
use crate::data::DataResult;
use crate::results::{CellResult, SideFile};
use crate::task::TaskSpec;

/// What the runner needs of a task kind.
pub trait CellKind: Sized {
    /// What a cell writes beside its record.
    type Side: SideFile;

    /// Builds the task's data once for all its cells.
    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self>;

    /// Checks the task's entries `names` (models or methods) before any cell runs.
    fn validate(&self, spec: &TaskSpec, names: &[String]) -> anyhow::Result<()>;

    /// Runs one cell on device `dev`: a result (status failed if training diverged),
    /// or an error that concerns every cell, or a pause at the time limit.
    fn run_cell<D: Dev>(
        &mut self,
        dev: &D,
        spec: &TaskSpec,
        id: &CellId,
        progress: &ProgressBar,
    ) -> Result<(CellResult, Option<Self::Side>), CellError>;
}

impl<T: TaskKindData> CellKind for T {
    type Side = T::Side;

    fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Self> {
        <T as TaskKindData>::prepare(spec, data_root)
    }

    /// Every model validates against the task's data (before a split: no side inputs).
    fn validate(&self, spec: &TaskSpec, names: &[String]) -> anyhow::Result<()> {
        let model_spec = self.validation_spec(spec);
        for m in names {
            let entry = spec.require_entry(m).map_err(anyhow::Error::msg)?;
            registry::validate::<T::Models>(&entry.base, &entry.config, &model_spec)
                .with_context(|| format!("task `{}`, model `{m}`", spec.name))?;
        }
        Ok(())
    }

    fn run_cell<D: Dev>(
        &mut self,
        dev: &D,
        spec: &TaskSpec,
        id: &CellId,
        progress: &ProgressBar,
    ) -> Result<(CellResult, Option<Self::Side>), CellError> {
        run_cell(dev, spec, self, id, progress, &registered::<T::Models, D>)
    }
}
