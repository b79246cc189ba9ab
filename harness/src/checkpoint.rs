//! Checkpoints inside a cell, so a run interrupted in the middle of a long cell (a
//! KuaiFormer on Beauty trains for hours on a CPU) resumes at its last saved epoch
//! instead of epoch 1, and ends with the result an uninterrupted run gives, bit for
//! bit: the epochs' shuffles and negatives are drawn per (seed, epoch) already, and the
//! checkpoint holds everything else training changes (`baselines::engine::state`).
//!
//! A checkpoint lies beside the cell's result (`seed-<n>.ckpt` next to
//! `seed-<n>.json`), is written atomically after an epoch when `every` has passed since
//! the last one, and is removed once the result is written. It carries a key (a hash
//! of the cell's task, model, seed, configs, data and build); a checkpoint whose key
//! differs is not resumed from: the cell starts over and says why.
//!
//! Only the epochs of `train::run_epochs` are checkpointed. A generative model's
//! pre-training (LUM's step 1) runs again in a resumed cell, deterministically, before
//! the saved state replaces what it produced: it costs its time again, nothing else.
//!
//! Memory: saving streams the file and borrows the tables, so it adds about the dense
//! parameters' size to the cell's peak. Loading reads the whole checkpoint while the
//! freshly built tables exist, so a resumed cell's peak RSS can include one extra copy
//! of its tables (the record says it was resumed). Each checkpoint carries the largest
//! peak RSS of the cell's runs so far, so a resumed cell reports the peak over all its
//! runs, not the last run's alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baselines::engine::{FlopsState, OptimState, SnapshotState, StoreState};
use bincode::Options;
use serde::{Deserialize, Serialize};

use crate::provenance;
use crate::results::write_atomic_with;
use crate::results::CurvePoint;

/// Bumped when the file's layout changes; other versions are not resumed from.
pub const FORMAT: u32 = 2;

/// Where a cell's checkpoint goes, how often it is written, and the key a checkpoint
/// must carry to be resumed from.
#[derive(Debug, Clone)]
pub struct CheckpointPlan {
    pub path: PathBuf,
    pub every: Duration,
    /// Whether an existing checkpoint may be resumed from (`--resume`).
    pub resume: bool,
    /// After the first epoch that ends past this time, save and stop (`--time-limit`).
    pub stop_at: Option<Instant>,
    pub key: String,
}

/// Where and how often the runner wants checkpoints; the cell adds the key.
#[derive(Debug, Clone)]
pub struct CheckpointAt {
    pub path: PathBuf,
    pub every: Duration,
    pub resume: bool,
    pub stop_at: Option<Instant>,
}

impl CheckpointAt {
    /// The plan for a cell whose inputs are `fingerprint` (its configs and data hashes):
    /// the key adds the build (its commit and any uncommitted changes it was built
    /// with), so a checkpoint of another build is not resumed from.
    pub fn with_fingerprint(&self, fingerprint: &serde_json::Value) -> CheckpointPlan {
        let keyed = serde_json::json!({
            "format": FORMAT,
            "build_commit": provenance::build_commit(),
            "build_changes": provenance::build_changes(),
            "cell": fingerprint,
        });
        CheckpointPlan {
            path: self.path.clone(),
            every: self.every,
            resume: self.resume,
            stop_at: self.stop_at,
            key: crate::data::hash::sha256_hex(keyed.to_string().as_bytes()),
        }
    }
}

/// `seed-<n>.ckpt` beside the cell's `seed-<n>.json`.
pub fn checkpoint_path(result_path: &Path) -> PathBuf {
    result_path.with_extension("ckpt")
}

/// Training state after `epochs_done` epochs. Saving borrows the embedding tables (the
/// bulk of it) rather than copying them, so a save adds little to the cell's peak
/// memory; a loaded checkpoint owns its data (`Checkpoint<'static>`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint<'a> {
    pub format: u32,
    pub key: String,
    pub epochs_done: usize,
    /// Draws taken from the device's random stream by the training steps so far.
    pub device_draws: u64,
    pub store: StoreState<'a>,
    pub optim: OptimState,
    /// The best epoch's parameters (None while no epoch had a score).
    pub best: Option<SnapshotState<'a>>,
    pub best_score: Option<f64>,
    pub best_epoch: usize,
    pub curve: Vec<CurvePoint>,
    pub train_seconds: f64,
    /// Wall seconds since training started, at the end of epoch `epochs_done`.
    pub wall_seconds: f64,
    pub examples_seen: usize,
    pub flops: FlopsState,
    /// Epochs after which earlier runs of this cell were resumed.
    pub resumed_after: Vec<usize>,
    /// The largest peak resident memory (VmHWM, bytes) of this cell's runs up to the
    /// save, this one included (None where it cannot be read).
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a readable checkpoint ({msg})", path.display())]
    Corrupt { path: PathBuf, msg: String },
    #[error("{}: checkpoint format {found}, this build reads format {FORMAT}", path.display())]
    Format { path: PathBuf, found: u32 },
}

pub fn save(path: &Path, ck: &Checkpoint) -> Result<(), CheckpointError> {
    let io = |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    };
    write_atomic_with(path, |w| {
        bincode::serialize_into(w, ck).map_err(|e| match *e {
            bincode::ErrorKind::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        })
    })
    .map_err(io)
}

/// The checkpoint at `path`, or None when there is none.
pub fn load(path: &Path) -> Result<Option<Checkpoint<'static>>, CheckpointError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    // The format number leads the file (bincode writes fields in order), so an old
    // layout is named as such rather than reported as corrupt.
    if let Some(head) = bytes.get(..4) {
        let found = u32::from_le_bytes(head.try_into().expect("4 bytes"));
        if found != FORMAT {
            return Err(CheckpointError::Format {
                path: path.to_path_buf(),
                found,
            });
        }
    }
    bincode::deserialize(&bytes)
        .map(Some)
        .map_err(|e| CheckpointError::Corrupt {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })
}

/// The leading fields of a checkpoint, read without the parameters.
#[derive(Debug, Clone)]
pub struct CheckpointHead {
    pub key: String,
    pub epochs_done: usize,
}

/// The head of the checkpoint at `path` (None when there is none or it is unreadable),
/// for listings: it reads a few bytes, not the whole file.
pub fn head(path: &Path) -> Option<CheckpointHead> {
    use std::io::Read;
    let mut file = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut format = [0u8; 4];
    file.read_exact(&mut format).ok()?;
    if u32::from_le_bytes(format) != FORMAT {
        return None;
    }
    // The key is a 64-character hash: a longer length is not a checkpoint of ours,
    // and must not make bincode allocate what a corrupt file claims.
    let (key, epochs_done): (String, usize) = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(1024)
        .deserialize_from(file)
        .ok()?;
    Some(CheckpointHead { key, epochs_done })
}

/// Removes a finished cell's checkpoint (a missing one is fine).
pub fn remove(path: &Path) -> Result<(), CheckpointError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint<'static> {
        Checkpoint {
            format: FORMAT,
            key: "k".into(),
            epochs_done: 3,
            device_draws: 12,
            store: StoreState {
                mats: vec![],
                vecs: vec![],
                tables: vec![],
                buffers: vec![],
            },
            optim: OptimState {
                step: 5,
                mats: vec![(vec![0.1, f32::MIN_POSITIVE], vec![1e-30, 2.0])],
                vecs: vec![],
            },
            best: None,
            best_score: Some(0.1 + 0.2),
            best_epoch: 2,
            curve: vec![],
            train_seconds: 1.5,
            wall_seconds: 2.5,
            examples_seen: 10,
            flops: FlopsState::default(),
            resumed_after: vec![1],
            peak_rss_bytes: Some(123 << 20),
        }
    }

    #[test]
    fn saved_checkpoints_load_back_exactly_and_missing_ones_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m").join("seed-0.ckpt");
        assert!(load(&p).unwrap().is_none());
        save(&p, &sample()).unwrap();
        assert_eq!(head(&p).map(|h| h.epochs_done), Some(3));
        let back = load(&p).unwrap().unwrap();
        assert_eq!(back.optim, sample().optim);
        assert_eq!(back.best_score, Some(0.1 + 0.2));
        assert_eq!(back.resumed_after, vec![1]);
        assert_eq!(back.peak_rss_bytes, Some(123 << 20));
        remove(&p).unwrap();
        assert!(!p.exists());
        remove(&p).unwrap();
    }

    #[test]
    fn truncated_or_other_format_checkpoints_are_named_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("seed-0.ckpt");
        save(&p, &sample()).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err = load(&p).unwrap_err().to_string();
        assert!(
            err.contains("seed-0.ckpt: not a readable checkpoint"),
            "{err}"
        );
        let mut other = bytes.clone();
        other[..4].copy_from_slice(&7u32.to_le_bytes());
        std::fs::write(&p, other).unwrap();
        let err = load(&p).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "checkpoint format 7, this build reads format {FORMAT}"
            )),
            "{err}"
        );
        assert!(head(&p).is_none());
        // A key length no checkpoint has: the head is refused, nothing that size read.
        let mut huge = FORMAT.to_le_bytes().to_vec();
        huge.extend(u64::MAX.to_le_bytes());
        std::fs::write(&p, huge).unwrap();
        assert!(head(&p).is_none());
    }

    #[test]
    fn the_key_changes_with_the_cell_inputs() {
        let at = CheckpointAt {
            path: "x.ckpt".into(),
            every: Duration::from_secs(1),
            resume: true,
            stop_at: None,
        };
        let a = at.with_fingerprint(&serde_json::json!({"seed": 0}));
        let b = at.with_fingerprint(&serde_json::json!({"seed": 1}));
        assert_ne!(a.key, b.key);
        assert_eq!(
            a.key,
            at.with_fingerprint(&serde_json::json!({"seed": 0})).key
        );
    }
}
