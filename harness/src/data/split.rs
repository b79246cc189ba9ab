//! Train/valid/test splits as row indices, chosen by a `SplitSpec` from the task file,
//! plus content hashes of each part so a result records exactly which data it saw.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::dataset::Dataset;
use super::error::{DataError, DataResult};

/// How to split, as written in a task file, e.g. `{"kind": "temporal", "valid": 0.1,
/// "test": 0.1}`. Fractions are of rows, except `random_by_user` (of users).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SplitSpec {
    /// Rows in time order (ties by row index): the last `test` fraction is test, the
    /// `valid` fraction before it valid. Models never train on the future.
    Temporal { valid: f64, test: f64 },
    /// Per group, in time order (ties by row): last event test, second-to-last valid,
    /// the rest train. Groups with fewer than 3 events stay wholly in train.
    LeaveOneOut,
    /// Whole users (groups) shuffled by the seed: tests generalization to new users.
    RandomByUser { valid: f64, test: f64 },
    /// Rows shuffled by the seed.
    Random { valid: f64, test: f64 },
}

impl SplitSpec {
    /// The `kind` as written in JSON; error messages name it.
    pub fn key(&self) -> &'static str {
        match self {
            SplitSpec::Temporal { .. } => "temporal",
            SplitSpec::LeaveOneOut => "leave_one_out",
            SplitSpec::RandomByUser { .. } => "random_by_user",
            SplitSpec::Random { .. } => "random",
        }
    }
}

/// Row indices into the dataset; each part is sorted ascending and the parts are
/// disjoint and cover every row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
    pub test: Vec<usize>,
}

/// [`part_sha256`] of each part, for result records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitHashes {
    pub train: String,
    pub valid: String,
    pub test: String,
}

impl Split {
    pub fn hashes(&self, ds: &Dataset) -> SplitHashes {
        SplitHashes {
            train: part_sha256(ds, &self.train),
            valid: part_sha256(ds, &self.valid),
            test: part_sha256(ds, &self.test),
        }
    }
}

/// Splits `ds` by `spec`. `seed` drives the random kinds; temporal and leave-one-out
/// splits do not depend on it. Errors name the dataset and the spec kind.
pub fn split(ds: &Dataset, spec: &SplitSpec, seed: u64) -> DataResult<Split> {
    let what = format!("{}: split `{}`", ds.name, spec.key());
    let err = |msg: String| DataError::invalid(what.clone(), msg);
    let n = ds.rows();
    let part = match *spec {
        SplitSpec::Temporal { valid, test } => {
            check_fractions(valid, test).map_err(err)?;
            let time = column(ds.time.as_deref(), "time", n).map_err(err)?;
            let mut order: Vec<usize> = (0..n).collect();
            order.par_sort_unstable_by_key(|&r| (time[r], r));
            let (n_valid, n_test) = counts(n, valid, test);
            let mut part = vec![Part::Train; n];
            let n_train = n - n_valid - n_test;
            for &r in &order[n_train..n_train + n_valid] {
                part[r] = Part::Valid;
            }
            for &r in &order[n_train + n_valid..] {
                part[r] = Part::Test;
            }
            part
        }
        SplitSpec::LeaveOneOut => {
            let group = column(ds.group.as_deref(), "group", n).map_err(err)?;
            let time = column(ds.time.as_deref(), "time", n).map_err(err)?;
            let mut order: Vec<usize> = (0..n).collect();
            order.par_sort_unstable_by_key(|&r| (group[r], time[r], r));
            let mut part = vec![Part::Train; n];
            for events in order.chunk_by(|&a, &b| group[a] == group[b]) {
                if let [.., valid, test] = *events {
                    if events.len() >= 3 {
                        part[valid] = Part::Valid;
                        part[test] = Part::Test;
                    }
                }
            }
            part
        }
        SplitSpec::RandomByUser { valid, test } => {
            check_fractions(valid, test).map_err(err)?;
            let group = column(ds.group.as_deref(), "group", n).map_err(err)?;
            let mut users = group.to_vec();
            users.par_sort_unstable();
            users.dedup();
            users.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            let of_user: HashMap<u32, Part> = assign(users.len(), valid, test)
                .zip(&users)
                .map(|(p, &u)| (u, p))
                .collect();
            group.iter().map(|u| of_user[u]).collect()
        }
        SplitSpec::Random { valid, test } => {
            check_fractions(valid, test).map_err(err)?;
            let mut rows: Vec<usize> = (0..n).collect();
            rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
            let mut part = vec![Part::Train; n];
            for (p, &r) in assign(n, valid, test).zip(&rows) {
                part[r] = p;
            }
            part
        }
    };
    let pick = |want: Part| -> Vec<usize> { (0..n).filter(|&r| part[r] == want).collect() };
    let out = Split {
        train: pick(Part::Train),
        valid: pick(Part::Valid),
        test: pick(Part::Test),
    };
    for (name, rows) in [
        ("train", &out.train),
        ("valid", &out.valid),
        ("test", &out.test),
    ] {
        if rows.is_empty() {
            return Err(err(format!(
                "empty split: `{name}` has 0 rows (dataset has {n} rows)"
            )));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Train,
    Valid,
    Test,
}

/// Parts for `len` shuffled items: the first `test` fraction test, the next `valid`
/// fraction valid, the rest train.
fn assign(len: usize, valid: f64, test: f64) -> impl Iterator<Item = Part> {
    let (n_valid, n_test) = counts(len, valid, test);
    (0..len).map(move |i| match i {
        i if i < n_test => Part::Test,
        i if i < n_test + n_valid => Part::Valid,
        _ => Part::Train,
    })
}

/// Rounded shares `(valid, test)` of `len` items. With fractions summing below 1 the
/// two rounded shares already fit in `len`; the `min` only guards float edge cases.
fn counts(len: usize, valid: f64, test: f64) -> (usize, usize) {
    let share = |f: f64| (len as f64 * f).round() as usize;
    let n_test = share(test).min(len);
    (share(valid).min(len - n_test), n_test)
}

fn check_fractions(valid: f64, test: f64) -> Result<(), String> {
    for (key, f) in [("valid", valid), ("test", test)] {
        if !(f > 0.0 && f < 1.0) {
            return Err(format!("fraction `{key}` = {f} must be in (0, 1)"));
        }
    }
    if valid + test >= 1.0 {
        return Err(format!(
            "fractions `valid` + `test` = {} must be < 1 (train would be empty)",
            valid + test
        ));
    }
    Ok(())
}

fn column<'a, T>(col: Option<&'a [T]>, name: &str, n: usize) -> Result<&'a [T], String> {
    let col = col.ok_or_else(|| format!("needs a `{name}` column; this dataset has none"))?;
    if col.len() != n {
        return Err(format!(
            "`{name}` column has {} rows, expected {n}",
            col.len()
        ));
    }
    Ok(col)
}

/// Hex SHA-256 of the contents of `rows` (in the given order): the schema's field names
/// and vocab sizes, then every column (sparse, dense, labels in schema order, then the
/// optional group, time, treatment and oracle columns) as little-endian values. Equal
/// content gives equal hashes whatever the dataset's name; any changed value changes
/// it. Columns are hashed in parallel and their digests hashed together.
pub fn part_sha256(ds: &Dataset, rows: &[usize]) -> String {
    let mut cols: Vec<(String, Col)> = Vec::new();
    for (f, c) in ds.schema.sparse.iter().zip(&ds.sparse) {
        cols.push((format!("sparse:{}:{}", f.name, f.vocab), Col::U32(c)));
    }
    for (name, c) in ds.schema.dense.iter().zip(&ds.dense) {
        cols.push((format!("dense:{name}"), Col::F32(c)));
    }
    for (name, c) in ds.schema.labels.iter().zip(&ds.labels) {
        cols.push((format!("label:{name}"), Col::F32(c)));
    }
    if let Some(c) = &ds.group {
        cols.push(("group".into(), Col::U32(c)));
    }
    if let Some(c) = &ds.time {
        cols.push(("time".into(), Col::I64(c)));
    }
    if let Some(c) = &ds.treatment {
        cols.push(("treatment".into(), Col::U32(c)));
    }
    for (i, c) in ds.oracle.iter().flatten().enumerate() {
        let label = ds.schema.labels.get(i).map_or("", String::as_str);
        cols.push((format!("oracle:{label}"), Col::F32(c)));
    }
    let digests: Vec<[u8; 32]> = cols.par_iter().map(|(_, c)| c.digest(rows)).collect();

    let mut h = Sha256::new();
    h.update(b"recbench-part-v1\0");
    h.update((rows.len() as u64).to_le_bytes());
    h.update((cols.len() as u64).to_le_bytes());
    for ((name, _), digest) in cols.iter().zip(&digests) {
        // Length prefix: names cannot run into each other.
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(digest);
    }
    hex::encode(h.finalize())
}

enum Col<'a> {
    U32(&'a [u32]),
    F32(&'a [f32]),
    I64(&'a [i64]),
}

impl Col<'_> {
    fn digest(&self, rows: &[usize]) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut buf = Vec::with_capacity(8 * 4096);
        for chunk in rows.chunks(4096) {
            buf.clear();
            for &r in chunk {
                match self {
                    Col::U32(c) => buf.extend_from_slice(&c[r].to_le_bytes()),
                    Col::F32(c) => buf.extend_from_slice(&c[r].to_le_bytes()),
                    Col::I64(c) => buf.extend_from_slice(&c[r].to_le_bytes()),
                }
            }
            h.update(&buf);
        }
        h.finalize().into()
    }
}
