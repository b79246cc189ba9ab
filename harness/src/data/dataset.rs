//! `Dataset`: the columnar, model-ready form of a task's data. Sparse fields hold dense
//! ids in `[0, vocab)`, dense fields hold finite floats, labels hold 0/1 floats. Optional
//! columns (group, time, treatment, oracle probabilities) are present only when the task
//! has them; code that needs one asks with a clear error instead of assuming.

use serde::{Deserialize, Serialize};

use super::error::{DataError, DataResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SparseField {
    pub name: String,
    /// Number of distinct ids; every id in the column is `< vocab`.
    pub vocab: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub sparse: Vec<SparseField>,
    pub dense: Vec<String>,
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub name: String,
    pub schema: Schema,
    /// `sparse[field][row]`.
    pub sparse: Vec<Vec<u32>>,
    /// `dense[field][row]`.
    pub dense: Vec<Vec<f32>>,
    /// `labels[label][row]`, each 0.0 or 1.0.
    pub labels: Vec<Vec<f32>>,
    /// Group id per row (user or request), for GAUC and per-user splits.
    pub group: Option<Vec<u32>>,
    /// Event time per row (seconds or any monotone clock), for temporal splits.
    pub time: Option<Vec<i64>>,
    /// Treatment arm per row (uplift tasks).
    pub treatment: Option<Vec<u32>>,
    /// True P(label = 1) per label and row; known only for synthetic worlds.
    pub oracle: Option<Vec<Vec<f32>>>,
}

impl Dataset {
    pub fn rows(&self) -> usize {
        self.labels
            .first()
            .map(|c| c.len())
            .or_else(|| self.sparse.first().map(|c| c.len()))
            .unwrap_or(0)
    }

    pub fn group(&self) -> DataResult<&[u32]> {
        self.group.as_deref().ok_or_else(|| {
            DataError::invalid(&self.name, "this dataset has no group (user) column")
        })
    }

    pub fn time(&self) -> DataResult<&[i64]> {
        self.time
            .as_deref()
            .ok_or_else(|| DataError::invalid(&self.name, "this dataset has no time column"))
    }

    pub fn label_index(&self, name: &str) -> DataResult<usize> {
        self.schema
            .labels
            .iter()
            .position(|l| l == name)
            .ok_or_else(|| {
                DataError::invalid(
                    &self.name,
                    format!(
                        "no label `{name}` (labels: {})",
                        self.schema.labels.join(", ")
                    ),
                )
            })
    }

    /// Checks the invariants every model relies on: equal column lengths, ids inside
    /// their vocabularies, finite dense values, labels in {0, 1}.
    pub fn validate(&self) -> DataResult<()> {
        let n = self.rows();
        let err =
            |field: &str, msg: String| DataError::invalid(format!("{}: `{field}`", self.name), msg);
        if self.sparse.len() != self.schema.sparse.len()
            || self.dense.len() != self.schema.dense.len()
            || self.labels.len() != self.schema.labels.len()
        {
            return Err(DataError::invalid(
                &self.name,
                "columns do not match the schema",
            ));
        }
        for (f, col) in self.schema.sparse.iter().zip(&self.sparse) {
            if col.len() != n {
                return Err(err(&f.name, format!("{} rows, expected {n}", col.len())));
            }
            if let Some((row, id)) = col.iter().enumerate().find(|(_, &id)| id >= f.vocab) {
                return Err(err(
                    &f.name,
                    format!("row {row}: id {id} >= vocab {}", f.vocab),
                ));
            }
        }
        for (name, col) in self.schema.dense.iter().zip(&self.dense) {
            if col.len() != n {
                return Err(err(name, format!("{} rows, expected {n}", col.len())));
            }
            if let Some((row, v)) = col.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(err(name, format!("row {row}: value {v} is not finite")));
            }
        }
        for (name, col) in self.schema.labels.iter().zip(&self.labels) {
            if col.len() != n {
                return Err(err(name, format!("{} rows, expected {n}", col.len())));
            }
            if let Some((row, v)) = col.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
                return Err(err(name, format!("row {row}: label {v} is not 0 or 1")));
            }
        }
        for (what, len) in [
            ("group", self.group.as_ref().map(|c| c.len())),
            ("time", self.time.as_ref().map(|c| c.len())),
            ("treatment", self.treatment.as_ref().map(|c| c.len())),
        ] {
            if let Some(len) = len {
                if len != n {
                    return Err(err(what, format!("{len} rows, expected {n}")));
                }
            }
        }
        Ok(())
    }

    /// A new dataset holding `rows` (in that order) of this one.
    pub fn subset(&self, rows: &[usize]) -> Dataset {
        let pick_u = |c: &Vec<u32>| rows.iter().map(|&r| c[r]).collect::<Vec<_>>();
        let pick_f = |c: &Vec<f32>| rows.iter().map(|&r| c[r]).collect::<Vec<_>>();
        Dataset {
            name: self.name.clone(),
            schema: self.schema.clone(),
            sparse: self.sparse.iter().map(pick_u).collect(),
            dense: self.dense.iter().map(pick_f).collect(),
            labels: self.labels.iter().map(pick_f).collect(),
            group: self.group.as_ref().map(pick_u),
            time: self
                .time
                .as_ref()
                .map(|c| rows.iter().map(|&r| c[r]).collect()),
            treatment: self.treatment.as_ref().map(pick_u),
            oracle: self.oracle.as_ref().map(|o| o.iter().map(pick_f).collect()),
        }
    }
}
