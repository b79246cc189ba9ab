//! Result records: one JSON file per cell (task x model x seed) and, beside it, the
//! per-example test scores in a compact binary file, so statistics can be recomputed
//! later (DeLong, per-user bootstrap) without rerunning; retrieval cells store per-user
//! values instead (`UserValues`: the held-out item's ranks, per-user revenue), which
//! pair over users the same way; generative cells store the scores of their primary
//! metric's action over the test requests' candidates (groups = users). All are written to a temporary
//! file in the same directory and renamed into place, so a crash never leaves a partial
//! result: a cell is finished exactly when its JSON exists. Schema: results/README.md.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::provenance::Provenance;

pub const SCHEMA_VERSION: u32 = 1;
const SCORES_MAGIC: &[u8; 8] = b"RBSCORE1";
const USERS_MAGIC: &[u8; 8] = b"RBUSERS1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
}

/// What a model costs: FLOPs, parameters, memory, speed. Filled by `recbench run` for
/// every cell (task/ranking.rs) and printed by `recbench cost` (cost.rs). Fields added
/// after the first schema default when absent, so older result files still read.
///
/// FLOP conventions (what counts, how backward and optimizer work are counted) are in
/// `baselines::engine::flops`. Byte counts assume f32 everywhere.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Cost {
    /// Dense (MLP, cross, ...) parameter count.
    pub params_dense: usize,
    /// Embedding-table parameter count (rows x width over all tables).
    pub params_embedding: usize,
    /// Bytes of parameters alone, f32: `4 * (params_dense + params_embedding)`.
    pub param_bytes: usize,
    /// Bytes of optimizer state: dense Adam moments (2 per dense parameter) plus the
    /// tables' row-wise state (Adam 2, Adagrad 1 value per embedding parameter).
    #[serde(default)]
    pub optimizer_state_bytes: usize,
    /// Bytes of parameters plus optimizer state: what training holds besides activations.
    pub train_state_bytes: usize,
    /// Bytes a serving process needs for the trained model: parameters only, no
    /// optimizer state, embedding tables at f32 (tables could be served at f16/int8,
    /// but this reports f32). Activations are not included.
    #[serde(default)]
    pub serving_bytes: usize,
    /// Embedding values a trained model actually uses, where that is less than the
    /// tables hold (AMTL/MDE keep only a prefix of each row: the sum of the used widths);
    /// `None` when every stored value is used. Bytes = 4 x this.
    #[serde(default)]
    pub embedding_values_used: Option<u64>,
    /// Forward FLOPs per example of the model (inference; loss excluded).
    pub forward_flops_per_example: f64,
    /// Backward FLOPs per example of a training step, loss backward included,
    /// counted op by op (not assumed to be 2x forward).
    #[serde(default)]
    pub backward_flops_per_example: f64,
    /// Optimizer FLOPs per example: dense Adam over every dense parameter plus the
    /// row-wise update of the distinct embedding rows a batch touched, divided by the
    /// batch size (so it depends on the batch size).
    #[serde(default)]
    pub optimizer_flops_per_example: f64,
    /// Train step FLOPs per example: model forward + loss + backward + optimizer.
    #[serde(default)]
    pub train_flops_per_example: f64,
    /// The same FLOPs per example, broken down by phase and kind (`matmul`,
    /// `elementwise`, `activation`, `embedding`, `copy`, `loss`, `dense`, ...).
    #[serde(default)]
    pub flops_by_kind: FlopsByKind,
    /// Training examples per second, optimizer included.
    pub train_examples_per_second: f64,
    /// How `train_examples_per_second` was measured: `None` = over the whole training
    /// run (`recbench run`: every epoch, batch assembly included, validation excluded);
    /// `Some(n)` = n train steps after warm-up on pre-assembled batches (`recbench cost`).
    #[serde(default)]
    pub train_throughput_steps: Option<usize>,
    /// Training batch size the FLOPs and throughput were measured at.
    #[serde(default)]
    pub train_batch_size: usize,
    /// Inference latency (forward only, no tape) per batch size.
    #[serde(default)]
    pub latency: Vec<Latency>,
    /// Peak resident memory (VmHWM) of the process; see `peak_rss_scope`. A cell resumed
    /// from a checkpoint reports the largest peak of its runs (`crate::checkpoint`).
    pub process_peak_rss_bytes: Option<u64>,
    /// What `process_peak_rss_bytes` covers: `cell` (the peak was reset when the cell
    /// started; the task's dataset, loaded before, is included), `measurement` (reset
    /// before building the model in `recbench cost`), or `process` (could not reset: the
    /// peak of the whole process so far, an upper bound).
    #[serde(default)]
    pub peak_rss_scope: String,
    /// Resident memory (VmRSS) when the peak was reset: mostly the dataset, so
    /// `process_peak_rss_bytes - process_rss_at_start_bytes` approximates the model's
    /// training footprint (parameters, optimizer state, activations, allocator slack).
    #[serde(default)]
    pub process_rss_at_start_bytes: Option<u64>,
    /// GPU memory from the CUDA driver after training, when run on CUDA.
    #[serde(default)]
    pub gpu_memory: Option<GpuMemory>,
    /// Retrieval cells only: the serving side per user. On these cells "example" in
    /// the fields above means one training sequence (a user's row), and `latency`
    /// times user vectors plus the full-corpus top-`latency_top_k` of a batch of users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retrieval: Option<RetrievalCost>,
    /// Models that pre-train (LUM, PCF-GNN): what the pre-training cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretraining: Option<PretrainCost>,
    /// Generative-ranking cells only: evaluation per request. On
    /// these cells "example" in the fields above means one request (a `GenBatch` row:
    /// its history and its candidates), and `latency` times the logits of a batch of
    /// test requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generative: Option<GenerativeCost>,
}

/// What a model's pre-training cost (`baselines::Pretraining`); its seconds are part
/// of the record's `seconds.train`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PretrainCost {
    pub epochs: usize,
    pub steps: usize,
    /// Pre-training rows over all epochs (generative: one per user with a training
    /// history); 0 for a model that pre-trains full-batch on its own data.
    pub examples_seen: usize,
    /// FLOPs of all steps (forward, loss, backward, optimizer) plus the one-off
    /// `prepare_frozen` work after them.
    pub flops: f64,
    pub seconds: f64,
    /// Mean pre-training loss per epoch, before each epoch's updates.
    pub losses: Vec<f64>,
}

/// What a generative-ranking model costs beyond the per-example fields of `Cost`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GenerativeCost {
    /// Forward FLOPs per test request, from the evaluation pass (no tape).
    pub eval_flops_per_request: f64,
    /// Mean real candidates per test request (padding excluded).
    pub candidates_per_request: f64,
    pub max_history: usize,
    pub max_candidates: usize,
    /// Test requests scored per second (batches built, logits, metrics excluded).
    pub eval_requests_per_second: f64,
}

/// What serving a retrieval model costs per user.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct RetrievalCost {
    /// Forward FLOPs of the user side (`user_vectors`) per evaluated user.
    pub user_flops_per_user: f64,
    /// FLOPs of scoring the whole corpus for one user: `2 d` per (interest, item) plus
    /// the max over interests.
    pub scoring_flops_per_user: f64,
    pub items: usize,
    pub dim: usize,
    pub interests: usize,
    /// Test users evaluated per second: user vectors, full-corpus scores, the held-out
    /// item's ranks (and top-K lists when R/R* asks for them).
    pub eval_users_per_second: f64,
    /// K of the top-K the latencies include.
    pub latency_top_k: usize,
}

/// FLOPs per example by phase and kind (see `baselines::engine::flops`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FlopsByKind {
    pub forward: BTreeMap<String, f64>,
    pub backward: BTreeMap<String, f64>,
    pub optimizer: BTreeMap<String, f64>,
}

/// Inference latency at one batch size: wall time of `baselines::predict` (host batch to
/// logits on the host, device transfers included; assembling the batch from the
/// dataset excluded), over `reps` repetitions after warm-up.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub batch_size: usize,
    pub reps: usize,
    /// Median, milliseconds per batch.
    pub p50_ms: f64,
    /// 99th percentile (nearest rank), milliseconds per batch.
    pub p99_ms: f64,
    /// `batch_size / median`.
    pub examples_per_second: f64,
}

/// CUDA device memory from the driver (`cuMemGetInfo`): a snapshot, not a peak.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GpuMemory {
    pub free_bytes: u64,
    pub total_bytes: u64,
    /// `total - free`: everything allocated on the device, other processes included.
    pub used_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Seconds {
    pub data: f64,
    pub train: f64,
    pub eval: f64,
    pub total: f64,
}

/// One epoch of a cell's training curve.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CurvePoint {
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    pub valid: BTreeMap<String, f64>,
    /// Seconds since training started, at the end of this epoch's validation.
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CellResult {
    pub schema_version: u32,
    pub run: String,
    pub task: String,
    /// The cell's model name: a catalog name, or a task's variant name (`models` entry
    /// with a `"model"` key, e.g. `dnn_bh_100x`).
    pub model: String,
    /// The catalog model a variant is a configuration of; `None` when `model` is itself
    /// a catalog name.
    #[serde(default)]
    pub base_model: Option<String>,
    pub seed: u64,
    pub status: Status,
    /// Why the cell failed (divergence, bad data, ...); None when ok.
    pub error: Option<String>,
    pub primary_metric: String,
    /// Test metrics of the best validation epoch.
    pub metrics: BTreeMap<String, f64>,
    /// Validation metrics of the best epoch.
    pub valid_metrics: BTreeMap<String, f64>,
    /// Metrics of the true label probabilities on the same test rows (synthetic worlds).
    pub oracle_metrics: Option<BTreeMap<String, f64>>,
    /// Metrics of the constant predictor (training base rate) on the test rows.
    pub trivial_metrics: BTreeMap<String, f64>,
    pub best_epoch: usize,
    pub curve: Vec<CurvePoint>,
    /// Epochs after which this cell was continued from a checkpoint by a later run
    /// (empty: it trained in one run). The result equals an uninterrupted run's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_after_epochs: Vec<usize>,
    pub rows: BTreeMap<String, usize>,
    pub seconds: Seconds,
    pub cost: Cost,
    pub model_config: serde_json::Value,
    pub train_config: serde_json::Value,
    pub provenance: Provenance,
    /// File name (beside this JSON) of the per-example test scores, if written.
    pub scores_file: Option<String>,
    /// File name (beside this JSON) of the per-user test values of a retrieval cell
    /// (`UserValues`), if written.
    #[serde(default)]
    pub values_file: Option<String>,
}

/// `<root>/<run>/<task>/<model>/seed-<n>.json`.
pub fn cell_path(root: &Path, run: &str, task: &str, model: &str, seed: u64) -> PathBuf {
    root.join(run)
        .join(task)
        .join(model)
        .join(format!("seed-{seed}.json"))
}

/// What a cell writes beside its record: per-example scores (ranking, generative) or
/// per-user values (retrieval), so two models can be paired example by example.
pub trait SideFile {
    /// The file's path beside the record at `json`.
    fn path_beside(json: &Path) -> PathBuf;
    fn encode(&self) -> Vec<u8>;
    /// Names the file (`file_name`) in the record.
    fn name_in(result: &mut CellResult, file_name: String);
}

impl SideFile for Scores {
    fn path_beside(json: &Path) -> PathBuf {
        scores_path(json)
    }
    fn encode(&self) -> Vec<u8> {
        Scores::encode(self)
    }
    fn name_in(result: &mut CellResult, file_name: String) {
        result.scores_file = Some(file_name);
    }
}

impl SideFile for UserValues {
    fn path_beside(json: &Path) -> PathBuf {
        values_path(json)
    }
    fn encode(&self) -> Vec<u8> {
        UserValues::encode(self)
    }
    fn name_in(result: &mut CellResult, file_name: String) {
        result.values_file = Some(file_name);
    }
}

pub fn scores_path(json: &Path) -> PathBuf {
    json.with_extension("scores.bin")
}

pub fn values_path(json: &Path) -> PathBuf {
    json.with_extension("users.bin")
}

/// Writes `bytes` to `path` atomically (temporary file in the same directory, fsync,
/// rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Like [`write_atomic`], with the contents streamed by `write` through a buffer (no
/// copy of a large file in memory).
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut buf = std::io::BufWriter::new(tmp);
    write(&mut buf)?;
    let tmp = buf.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn write_result(path: &Path, result: &CellResult) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(result).expect("results serialize");
    write_atomic(path, &json)
}

#[derive(Debug, thiserror::Error)]
pub enum ResultError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a recbench result: {msg}")]
    Format { path: PathBuf, msg: String },
}

pub fn read_result(path: &Path) -> Result<CellResult, ResultError> {
    let bytes = std::fs::read(path).map_err(|source| ResultError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let r: CellResult = serde_json::from_slice(&bytes).map_err(|e| ResultError::Format {
        path: path.to_path_buf(),
        msg: e.to_string(),
    })?;
    if r.schema_version != SCHEMA_VERSION {
        return Err(ResultError::Format {
            path: path.to_path_buf(),
            msg: format!(
                "schema_version {} (this recbench reads {SCHEMA_VERSION})",
                r.schema_version
            ),
        });
    }
    Ok(r)
}

/// Per-example test outputs: probability, label and group (u32::MAX = no group).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scores {
    pub scores: Vec<f32>,
    pub labels: Vec<u8>,
    pub groups: Vec<u32>,
}

impl Scores {
    /// Layout (little-endian): magic `RBSCORE1`, n: u64, n x f32 scores, n x u8 labels,
    /// n x u32 groups.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.scores.len();
        assert!(self.labels.len() == n && self.groups.len() == n);
        let mut out = Vec::with_capacity(16 + 9 * n);
        out.extend_from_slice(SCORES_MAGIC);
        out.extend_from_slice(&(n as u64).to_le_bytes());
        self.scores
            .iter()
            .for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
        out.extend_from_slice(&self.labels);
        self.groups
            .iter()
            .for_each(|g| out.extend_from_slice(&g.to_le_bytes()));
        out
    }

    pub fn read(path: &Path) -> Result<Scores, ResultError> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|source| ResultError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Scores::decode(&bytes).map_err(|msg| ResultError::Format {
            path: path.to_path_buf(),
            msg,
        })
    }

    pub fn decode(bytes: &[u8]) -> Result<Scores, String> {
        if bytes.len() < 16 || &bytes[..8] != SCORES_MAGIC {
            return Err("missing RBSCORE1 header".into());
        }
        let n = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
        if bytes.len() != 16 + 9 * n {
            return Err(format!(
                "{} bytes, expected {} for {n} examples (truncated?)",
                bytes.len(),
                16 + 9 * n
            ));
        }
        let body = &bytes[16..];
        let scores = body[..4 * n]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let labels = body[4 * n..5 * n].to_vec();
        let groups = body[5 * n..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        Ok(Scores {
            scores,
            labels,
            groups,
        })
    }
}

/// Per-user test values of a retrieval cell, one row per evaluated user (dense user
/// index of the task's sequences, ascending), one named column per quantity:
/// `rank` (0-based pessimistic full-corpus rank of the held-out item), `rank_s<N>`
/// (its rank among N sampled negatives), and for each R/R* metric `rr@M@K` the
/// per-user `rr@M@K:R` and `rr@M@K:R*`. Every retrieval metric of the cell is a mean
/// over these rows, so two models' files pair user by user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserValues {
    pub users: Vec<u32>,
    pub columns: BTreeMap<String, Vec<f64>>,
}

impl UserValues {
    /// Per-user values of metric `name` and their weights in its mean: rank metrics
    /// weigh users equally; `rr@M@K` gives `R_u / R*_u` weighted by `R*_u` (users
    /// with `R*_u = 0` get value 0 and weight 0), whose weighted mean is `sum R / sum R*`.
    /// `None` when the file lacks the columns the metric needs.
    pub fn per_user(&self, name: &str) -> Option<(Vec<f64>, Vec<f64>)> {
        use crate::metrics::retrieval::RetrievalMetric;
        let metric = RetrievalMetric::parse(name).ok()?;
        if let RetrievalMetric::Revenue { .. } = metric {
            let r = self.columns.get(&format!("{name}:R"))?;
            let rs = self.columns.get(&format!("{name}:R*"))?;
            let v = r
                .iter()
                .zip(rs)
                .map(|(&a, &b)| if b > 0.0 { a / b } else { 0.0 })
                .collect();
            return Some((v, rs.clone()));
        }
        let ranks = self.columns.get(&metric.protocol().rank_column())?;
        let v: Vec<f64> = ranks
            .iter()
            .map(|&r| metric.of_rank(r as u32).unwrap_or(f64::NAN))
            .collect();
        Some((v, vec![1.0; ranks.len()]))
    }

    /// `(a, b, weights)` of metric `name` user by user, for the paired tests over users
    /// (`stats::paired_bootstrap`, `stats::paired_randomization`): `self` is model A,
    /// `other` model B of the same task and seed. `None` when either lacks the metric,
    /// the users differ, or the weights differ (R/R*'s `R*_u` is the ideal revenue, the
    /// same for every model).
    pub fn pair_with(
        &self,
        other: &UserValues,
        name: &str,
    ) -> Option<(Vec<f64>, Vec<f64>, Vec<f64>)> {
        if self.users != other.users {
            return None;
        }
        let (a, wa) = self.per_user(name)?;
        let (b, wb) = other.per_user(name)?;
        (wa == wb).then_some((a, b, wa))
    }

    /// Layout (little-endian): magic `RBUSERS1`, n: u64, columns: u64, n x u32 users,
    /// then per column: name length u32, name (UTF-8), n x f64.
    pub fn encode(&self) -> Vec<u8> {
        let n = self.users.len();
        let mut out = Vec::with_capacity(24 + 4 * n + self.columns.len() * (8 * n + 32));
        out.extend_from_slice(USERS_MAGIC);
        out.extend_from_slice(&(n as u64).to_le_bytes());
        out.extend_from_slice(&(self.columns.len() as u64).to_le_bytes());
        self.users
            .iter()
            .for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
        for (name, col) in &self.columns {
            assert_eq!(
                col.len(),
                n,
                "column `{name}` has {} rows, not {n}",
                col.len()
            );
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            col.iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<UserValues, String> {
        let mut at = 0usize;
        let mut take = |len: usize| -> Result<&[u8], String> {
            let s = bytes
                .get(at..at + len)
                .ok_or_else(|| format!("truncated at byte {at} of {}", bytes.len()))?;
            at += len;
            Ok(s)
        };
        if take(8)? != USERS_MAGIC {
            return Err("missing RBUSERS1 header".into());
        }
        let u64_of = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap()) as usize;
        let n = u64_of(take(8)?);
        let cols = u64_of(take(8)?);
        let users = take(4 * n)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let mut columns = BTreeMap::new();
        for _ in 0..cols {
            let len = u32::from_le_bytes(take(4)?.try_into().unwrap()) as usize;
            let name = String::from_utf8(take(len)?.to_vec()).map_err(|e| e.to_string())?;
            let col = take(8 * n)?
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            columns.insert(name, col);
        }
        if at != bytes.len() {
            return Err(format!("{} trailing bytes", bytes.len() - at));
        }
        Ok(UserValues { users, columns })
    }

    pub fn read(path: &Path) -> Result<UserValues, ResultError> {
        let bytes = std::fs::read(path).map_err(|source| ResultError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        UserValues::decode(&bytes).map_err(|msg| ResultError::Format {
            path: path.to_path_buf(),
            msg,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_values_round_trip_and_give_per_user_metrics() {
        let v = UserValues {
            users: vec![0, 2, 5],
            columns: [
                ("rank".to_string(), vec![0.0, 3.0, 20.0]),
                ("rank_s100".to_string(), vec![0.0, 0.0, 1.0]),
                ("rr@2@10:R".to_string(), vec![1.0, 0.0, 0.5]),
                ("rr@2@10:R*".to_string(), vec![2.0, 0.0, 1.0]),
            ]
            .into_iter()
            .collect(),
        };
        let bytes = v.encode();
        assert_eq!(UserValues::decode(&bytes).unwrap(), v);
        assert!(UserValues::decode(&bytes[..bytes.len() - 3])
            .unwrap_err()
            .contains("truncated"));
        let (hr, w) = v.per_user("hr@10").unwrap();
        assert_eq!((hr, w), (vec![1.0, 1.0, 0.0], vec![1.0; 3]));
        assert_eq!(v.per_user("hr@1_s100").unwrap().0, vec![1.0, 1.0, 0.0]);
        let (rr, w) = v.per_user("rr@2@10").unwrap();
        assert_eq!((rr, w), (vec![0.5, 0.0, 0.5], vec![2.0, 0.0, 1.0]));
        assert!(v.per_user("hr@10_s50").is_none());
        assert!(v.per_user("auc").is_none());
        // Pairing with a second model of the same users and ideal revenue.
        let mut w = v.clone();
        w.columns.insert("rank".into(), vec![12.0, 0.0, 1.0]);
        let (a, b, weights) = v.pair_with(&w, "hr@10").unwrap();
        assert_eq!(
            (a, b, weights),
            (vec![1.0, 1.0, 0.0], vec![0.0, 1.0, 1.0], vec![1.0; 3])
        );
        let boot = crate::stats::paired_bootstrap(
            &v.pair_with(&w, "mrr").unwrap().0,
            &w.per_user("mrr").unwrap().0,
            &[1.0; 3],
            200,
            0,
            0.95,
        );
        assert!(boot.is_some());
        w.users[0] = 1;
        assert!(
            v.pair_with(&w, "hr@10").is_none(),
            "different users do not pair"
        );
    }

    #[test]
    fn scores_round_trip_and_truncation_is_detected() {
        let s = Scores {
            scores: vec![0.25, 0.5, 1.0],
            labels: vec![0, 1, 1],
            groups: vec![7, u32::MAX, 0],
        };
        let bytes = s.encode();
        assert_eq!(Scores::decode(&bytes).unwrap(), s);
        let err = Scores::decode(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(Scores::decode(b"nonsense-file-of-bytes").is_err());
    }

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/seed-0.json");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let entries: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(entries.len(), 1, "temporary files left behind");
    }
}
