//! What the pages show, computed once from the loaded cells: one leaderboard table per
//! task, one results list per model, provenance, and the bad-file list. The HTML, CSV
//! and JSON outputs are all renderings of these structs, so they always agree.
//!
//! The rank group is driven by the task's primary metric (the first in its spec) with
//! the paired t-test over seeds, Holm-corrected within each round (see
//! `stats::ranking`). Seeds are the replication unit the leaderboard cares about
//! ("would a rerun give the same order?"); DeLong and the user-level bootstrap /
//! randomization measure test-set noise for a fixed training run, so they are shown as
//! supplementary columns (each Holm-corrected within its own column), not used to rank.

mod cells;
mod coverage;
mod export_csv;
mod format;
mod options;
mod provenance;
mod row;
mod site_data;
mod stale;
mod task_table;
mod types;
mod vs_best;

pub use cells::LATENCY_BATCH;
pub use coverage::{coverage, planned_cells, Coverage, MissingModel, Planned};
pub use export_csv::to_csv;
pub(crate) use format::{bytes, decimals_for, human};
pub use format::{fmt_value, slug};
pub use options::TableOptions;
pub use site_data::build;
pub use stale::{stale_cells, StaleCell};
pub use task_table::{task_table, TaskFiles};
pub use types::*;
