//! The leaderboard site: `recbench report --results DIR --out SITE`.
//!
//! `load` scans the results (collecting bad files with reasons instead of stopping),
//! `compare` runs every test between two models, `tables` turns cells into what the
//! pages show (also exported as CSV and JSON) and finds the planned cells that have no
//! result, `plot` draws the accuracy-vs-FLOPs and accuracy-vs-embedding-bytes SVGs,
//! `claims` checks paper claims against the results (verdicts on the model pages and
//! `claims.html`), and `site` renders minijinja templates into static, self-contained
//! HTML (inline CSS and SVG, a few lines of optional inline script for sorting; no CDN,
//! opens from the file system).

pub mod claims;
pub mod compare;
pub mod demo;
pub mod load;
pub mod plot;
pub mod site;
pub mod tables;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use claims::{load_claims, Claim, ClaimResult, Verdict};
pub use compare::{compare, format_text, PairOptions};
pub use load::{scan, BadFile, Loaded};
pub use tables::{build, SiteData, TableOptions};

/// What `report` did.
#[derive(Debug)]
pub struct ReportOutcome {
    pub written: Vec<PathBuf>,
    pub tasks: usize,
    pub models: usize,
    pub bad: Vec<BadFile>,
    pub notes: Vec<String>,
    pub templates_from_dir: Vec<String>,
}

/// Scans `results`, checks `claims` against them, renders the site into `out`; with
/// `tasks_dir`, each task page also lists the planned cells that have no result. Errors
/// when the results cannot be read at all or nothing could be rendered (no usable
/// cell).
pub fn report(
    results: &Path,
    out: &Path,
    templates: Option<&Path>,
    claims: &[Claim],
    tasks_dir: Option<&Path>,
    opts: TableOptions,
) -> Result<ReportOutcome> {
    let loaded = scan(results).with_context(|| format!("reading {}", results.display()))?;
    if loaded.cells.is_empty() && loaded.failed.is_empty() {
        let mut msg = format!("no usable result under {}", results.display());
        for b in &loaded.bad {
            msg.push_str(&format!("\n  {}: {}", b.path, b.reason));
        }
        anyhow::bail!(msg);
    }
    let site = build(&loaded, claims, tasks_dir, opts);
    let tpl = site::load_templates(templates)?;
    let written = site::render(&site, &tpl, out)?;
    Ok(ReportOutcome {
        written,
        tasks: site.tasks.len(),
        models: site.models.len(),
        bad: loaded.bad,
        notes: site.notes.clone(),
        templates_from_dir: tpl.from_dir,
    })
}
