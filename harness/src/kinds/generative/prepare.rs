//! Prepares a generative-ranking task's data once for all its cells: the users' request
//! logs (from the synthetic world or a file, cut to the candidate limit, short users
//! dropped), the split's hashes, the model-facing `GenSpec`, the parsed metrics and the
//! training action rates of the constant predictor. The split needs no seed.

use std::path::Path;

use baselines::GenSpec;

use crate::data::builder::{load_table, resolve, DatasetSpec};
use crate::data::hash::{sha256_files, sha256_hex};
use crate::data::requests::{request_hashes, RequestLogs};
use crate::data::split::SplitHashes;
use crate::data::synth::gen::{item_names, ACTIONS};
use crate::data::synth::{synth_gen, SynthGenConfig};
use crate::data::{DataError, DataResult};

use crate::task::{GenMetric, TaskSpec};

pub struct PreparedGen {
    pub logs: RequestLogs,
    pub gen_spec: GenSpec,
    pub data_sha256: String,
    pub split_hashes: SplitHashes,
    /// The task's metrics, parsed, in the task's order (the first is primary).
    pub metrics: Vec<GenMetric>,
    /// Per action, its rate over the training split's exposures.
    pub train_rates: Vec<f64>,
    pub seconds: f64,
}

pub fn prepare_gen(spec: &TaskSpec, data_root: &Path) -> DataResult<PreparedGen> {
    let t0 = std::time::Instant::now();
    let g = spec.generative_spec();
    let what = format!("task `{}`: dataset", spec.name);
    let (logs, data_sha256) = match &spec.dataset {
        DatasetSpec::SynthGen { config } => {
            let value = if config.is_null() {
                serde_json::json!({})
            } else {
                config.clone()
            };
            let cfg: SynthGenConfig = serde_json::from_value(value).map_err(|e| {
                DataError::invalid(
                    format!("task `{}`: dataset.config", spec.name),
                    e.to_string(),
                )
            })?;
            let data = synth_gen(&cfg)?;
            let logs = RequestLogs::from_users(
                "synth-gen",
                cfg.n_items,
                ACTIONS.iter().map(|a| a.to_string()).collect(),
                item_names(cfg.n_items),
                data.users,
                g.max_candidates,
                g.min_requests,
            );
            let resolved = serde_json::to_vec(&cfg).expect("config serializes");
            let hash = sha256_hex(&[b"recbench-synth-gen-v1:".as_slice(), &resolved].concat());
            (logs, hash)
        }
        DatasetSpec::Requests(f) => {
            let path = resolve(data_root, &f.path);
            let table = load_table(f.format, &path)?;
            let logs =
                RequestLogs::from_table(&table, f, g.window(), g.max_candidates, g.min_requests)?;
            let hash = sha256_files(&[path.as_path()]).map_err(|e| DataError::io(&path, e))?;
            (logs, hash)
        }
        other => {
            return Err(DataError::invalid(
                what,
                format!(
                "source `{}` holds no request logs (generative tasks take synth_gen or requests)",
                other.source()
            ),
            ))
        }
    };
    if logs.users.is_empty() || logs.n_items == 0 {
        return Err(DataError::invalid(
            what,
            format!(
                "{} users with at least {} requests and {} items: nothing to rank",
                logs.users.len(),
                g.min_requests,
                logs.n_items
            ),
        ));
    }
    let metrics = spec
        .metrics
        .iter()
        .map(|m| GenMetric::parse(m, &logs.actions).map_err(|e| DataError::invalid("metrics", e)))
        .collect::<DataResult<Vec<_>>>()?;
    Ok(PreparedGen {
        gen_spec: GenSpec {
            n_items: logs.n_items,
            n_actions: logs.n_actions(),
            max_history: g.max_history,
            max_candidates: g.max_candidates,
        },
        split_hashes: request_hashes(&logs),
        train_rates: logs.train_action_rates(),
        logs,
        data_sha256,
        metrics,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

impl PreparedGen {
    /// Index of `action` among the logs' actions. Panics on an unknown name (metrics
    /// are parsed against the same list).
    pub fn action_index(&self, action: &str) -> usize {
        self.logs
            .actions
            .iter()
            .position(|a| a == action)
            .expect("metric actions were checked against the logs")
    }
}
