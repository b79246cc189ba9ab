//! Scanning a results directory: every `seed-<n>.json` below it (any depth up to the
//! `<run>/<task>/<model>/` layout), checked against its place in the tree, with its
//! per-example scores beside it. Nothing here aborts on a bad file: each one goes to
//! the `bad` list with the reason, and the report renders everything else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::results::{read_result, CellResult, Scores, Status, UserValues};

/// One finished or failed cell.
#[derive(Debug, Clone)]
pub struct Cell {
    pub path: PathBuf,
    pub result: CellResult,
    /// The `cost` object as stored, so fields added to `Cost` later still show.
    pub cost_raw: serde_json::Map<String, serde_json::Value>,
    /// Per-example test scores; None when absent or unreadable (then in `bad`).
    pub scores: Option<Scores>,
    /// Per-user test values (retrieval cells); None when absent or unreadable.
    pub values: Option<UserValues>,
}

impl Cell {
    /// A numeric cost of this cell: a field of the stored `cost` object, or the derived
    /// `embedding_bytes` (4 x `embedding_values_used` when recorded, else 4 x
    /// `params_embedding`: f32 values a trained model's embeddings use). None when
    /// absent, zero (older results: "not measured") or not finite.
    pub fn cost_value(&self, key: &str) -> Option<f64> {
        let field = |k: &str| {
            self.cost_raw
                .get(k)
                .and_then(|v| v.as_f64())
                .filter(|x| *x > 0.0 && x.is_finite())
        };
        if key == EMBEDDING_BYTES {
            field("embedding_values_used")
                .or_else(|| field("params_embedding"))
                .map(|v| 4.0 * v)
        } else {
            field(key)
        }
    }
}

/// The derived cost key of [`Cell::cost_value`]: bytes of the embedding values used.
pub const EMBEDDING_BYTES: &str = "embedding_bytes";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadFile {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Loaded {
    /// Cells with status ok, one per (task, model, seed).
    pub cells: Vec<Cell>,
    /// Cells recorded as failed (diverged, bad data), shown on their task page.
    pub failed: Vec<Cell>,
    pub bad: Vec<BadFile>,
    /// Other things worth telling (duplicates resolved, ...).
    pub notes: Vec<String>,
}

/// Scans `dir`. Errors only when `dir` itself cannot be read.
pub fn scan(dir: &Path) -> std::io::Result<Loaded> {
    std::fs::read_dir(dir)?;
    let mut files = Vec::new();
    walk(dir, 0, &mut files);
    files.sort();
    let mut out = Loaded::default();
    let mut by_key: BTreeMap<(String, String, u64), Cell> = BTreeMap::new();
    let mut without_side_files = 0;
    for path in &files {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".scores.bin") {
            let json = PathBuf::from(path.to_string_lossy().replace(".scores.bin", ".json"));
            if !json.exists() {
                out.bad
                    .push(bad(path, "scores without a result JSON beside them".into()));
            }
            continue;
        }
        if !(name.starts_with("seed-") && name.ends_with(".json")) {
            continue;
        }
        match load_cell(path) {
            Ok((cell, side)) => {
                match side {
                    SideFiles::Usable => {}
                    SideFiles::Absent => without_side_files += 1,
                    SideFiles::Bad(file, reason) => out.bad.push(bad(&file, reason)),
                }
                if cell.result.status == Status::Failed {
                    out.failed.push(cell);
                    continue;
                }
                let r = &cell.result;
                let key = (r.task.clone(), r.model.clone(), r.seed);
                if let Some(old) = by_key.get(&key) {
                    let keep_new = r.provenance.finished > old.result.provenance.finished;
                    let (kept, dropped) = if keep_new {
                        (&cell.path, &old.path)
                    } else {
                        (&old.path, &cell.path)
                    };
                    out.notes.push(format!(
                        "{} {} seed {} appears twice; using the later {} over {}",
                        key.0,
                        key.1,
                        key.2,
                        kept.display(),
                        dropped.display()
                    ));
                    if !keep_new {
                        continue;
                    }
                }
                by_key.insert(key, cell);
            }
            Err(reason) => out.bad.push(bad(path, reason)),
        }
    }
    out.cells = by_key.into_values().collect();
    if without_side_files > 0 {
        out.notes.push(format!(
            "{without_side_files} cells have no per-example or per-user file beside their \
             result (published records keep only the JSON, results/published/README.md): \
             ranks and claims use their seed-level metrics; the per-example (DeLong) and \
             per-user (bootstrap, randomization) columns leave them out"
        ));
    }
    Ok(out)
}

/// What became of a cell's per-example scores or per-user values file.
enum SideFiles {
    /// Read and consistent with the result (or the cell names none).
    Usable,
    /// Named by the result but not there: a published record (JSON only).
    Absent,
    /// There but unreadable or inconsistent: the file and the reason.
    Bad(PathBuf, String),
}

fn bad(path: &Path, reason: String) -> BadFile {
    BadFile {
        path: path.display().to_string(),
        reason,
    }
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 6 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, depth + 1, out);
        } else {
            out.push(p);
        }
    }
}

/// Reads one result and its scores or per-user values; Err only when the JSON itself is
/// unusable.
fn load_cell(path: &Path) -> Result<(Cell, SideFiles), String> {
    let result = read_result(path).map_err(|e| match e {
        crate::results::ResultError::Io { source, .. } => format!("cannot read: {source}"),
        crate::results::ResultError::Format { msg, .. } => {
            format!("not a valid recbench result (schema mismatch or corrupt): {msg}")
        }
    })?;
    // The file must lie where its contents say: <task>/<model>/seed-<n>.json.
    let model_dir = path.parent().and_then(|p| p.file_name());
    let task_dir = path
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.file_name());
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let expect = format!("seed-{}", result.seed);
    if model_dir.map(|m| m.to_string_lossy() != result.model.as_str()) != Some(false)
        || task_dir.map(|t| t.to_string_lossy() != result.task.as_str()) != Some(false)
        || stem != expect
    {
        return Err(format!(
            "contents say task `{}` model `{}` seed {}, which does not match where the file lies",
            result.task, result.model, result.seed
        ));
    }
    for (k, v) in &result.metrics {
        if !v.is_finite() && result.status == Status::Ok {
            return Err(format!("metric `{k}` is {v} in a cell marked ok"));
        }
    }
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap_or_default())
        .unwrap_or(serde_json::Value::Null);
    let cost_raw = raw
        .get("cost")
        .and_then(|c| c.as_object())
        .cloned()
        .unwrap_or_default();
    let absent = |e: &crate::results::ResultError| {
        matches!(e, crate::results::ResultError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::NotFound)
    };
    let mut side = SideFiles::Usable;
    let scores = match (&result.scores_file, result.status) {
        (Some(f), Status::Ok) => match Scores::read(&path.with_file_name(f)) {
            Ok(s) => match result.rows.get("test") {
                Some(&n) if n != s.scores.len() => {
                    side = SideFiles::Bad(
                        path.with_file_name(f),
                        format!(
                            "{} examples but the result says {n} test rows",
                            s.scores.len()
                        ),
                    );
                    None
                }
                _ => Some(s),
            },
            Err(e) if absent(&e) => {
                side = SideFiles::Absent;
                None
            }
            Err(crate::results::ResultError::Io { source, .. }) => {
                side = SideFiles::Bad(
                    path.with_file_name(f),
                    format!("per-example scores unreadable: {source}"),
                );
                None
            }
            Err(crate::results::ResultError::Format { msg, .. }) => {
                side = SideFiles::Bad(
                    path.with_file_name(f),
                    format!("per-example scores unusable: {msg}"),
                );
                None
            }
        },
        _ => None,
    };
    let values = match (&result.values_file, result.status) {
        (Some(f), Status::Ok) => match UserValues::read(&path.with_file_name(f)) {
            Ok(v) => Some(v),
            Err(e) => {
                if matches!(side, SideFiles::Usable) {
                    side = if absent(&e) {
                        SideFiles::Absent
                    } else {
                        SideFiles::Bad(
                            path.with_file_name(f),
                            format!("per-user values unusable: {e}"),
                        )
                    };
                }
                None
            }
        },
        _ => None,
    };
    Ok((
        Cell {
            path: path.to_path_buf(),
            result,
            cost_raw,
            scores,
            values,
        },
        side,
    ))
}
