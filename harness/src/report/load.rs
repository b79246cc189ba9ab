//! Scanning a results directory: every `seed-<n>.json` below it (any depth up to the
//! `<run>/<task>/<model>/` layout), checked against its place in the tree, with its
//! per-example scores beside it. Nothing here aborts on a bad file: each one goes to
//! the `bad` list with the reason, and the report renders everything else.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::results::{read_result, scores_path, CellResult, Scores, Status, UserValues};

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
            Ok(cell) => {
                if let Some(reason) = &cell.1 {
                    out.bad.push(bad(&scores_path(path), reason.clone()));
                }
                let cell = cell.0;
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
    Ok(out)
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

/// Reads one result and its scores. Ok((cell, Some(reason))) when the JSON is good but
/// the scores are not.
fn load_cell(path: &Path) -> Result<(Cell, Option<String>), String> {
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
    let (scores, why) = match (&result.scores_file, result.status) {
        (_, Status::Failed) | (None, _) => (None, None),
        (Some(f), Status::Ok) => {
            let sp = path.with_file_name(f);
            match Scores::read(&sp) {
                Ok(s) => {
                    let n = result.rows.get("test").copied();
                    if n.is_some_and(|n| n != s.scores.len()) {
                        (
                            None,
                            Some(format!(
                                "{} examples but the result says {} test rows",
                                s.scores.len(),
                                n.unwrap()
                            )),
                        )
                    } else {
                        (Some(s), None)
                    }
                }
                Err(crate::results::ResultError::Io { source, .. }) => (
                    None,
                    Some(format!("per-example scores unreadable: {source}")),
                ),
                Err(crate::results::ResultError::Format { msg, .. }) => {
                    (None, Some(format!("per-example scores unusable: {msg}")))
                }
            }
        }
    };
    let (values, why) = match (&result.values_file, result.status) {
        (Some(f), Status::Ok) => match UserValues::read(&path.with_file_name(f)) {
            Ok(v) => (Some(v), why),
            Err(e) => (None, why.or(Some(format!("per-user values unusable: {e}")))),
        },
        _ => (None, why),
    };
    Ok((
        Cell {
            path: path.to_path_buf(),
            result,
            cost_raw,
            scores,
            values,
        },
        why,
    ))
}
