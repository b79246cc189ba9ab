//! Prepares a multi-task task's data once for all its cells: the dataset (the
//! synthetic world's multi-task view or files with several labels), the resolved tasks
//! and categories, and the split per seed.

use std::collections::HashMap;
use std::path::Path;

use crate::data::builder::{build_files, DatasetSpec};
use crate::data::hash::sha256_hex;
use crate::data::split::{split, Split, SplitHashes};
use crate::data::synth::{mt_dataset_of, SynthConfig, World};
use crate::data::{DataError, DataResult, Dataset};
use crate::task::{TaskLayout, TaskSpec};

pub struct PreparedMt {
    pub dataset: Dataset,
    pub data_sha256: String,
    pub layout: TaskLayout,
    /// The dataset's label index of each task.
    pub label_of: Vec<usize>,
    pub seconds: f64,
    splits: HashMap<u64, (Split, SplitHashes)>,
}

pub fn prepare_mt(spec: &TaskSpec, data_root: &Path) -> DataResult<PreparedMt> {
    let t0 = std::time::Instant::now();
    let (dataset, data_sha256) = match &spec.dataset {
        DatasetSpec::SynthMt { config } => {
            let value = if config.is_null() {
                serde_json::json!({})
            } else {
                config.clone()
            };
            let cfg: SynthConfig = serde_json::from_value(value).map_err(|e| {
                DataError::invalid(
                    format!("task `{}`: dataset.config", spec.name),
                    e.to_string(),
                )
            })?;
            let ds = mt_dataset_of(&World::new(&cfg)?);
            let resolved = serde_json::to_vec(&cfg).expect("synth config serializes");
            let hash = sha256_hex(&[b"recbench-synth-mt-v1:".as_slice(), &resolved].concat());
            (ds, hash)
        }
        DatasetSpec::Files(files) => {
            let built = build_files(files, data_root)?;
            (built.dataset, built.data_sha256)
        }
        other => {
            return Err(DataError::invalid(
                format!("task `{}`: dataset", spec.name),
                format!(
                    "source `{}` is not for multi-task tasks (synth_mt or files)",
                    other.source()
                ),
            ))
        }
    };
    let layout = spec.task_layout();
    let label_of = layout
        .tasks
        .iter()
        .map(|t| dataset.label_index(t))
        .collect::<DataResult<Vec<usize>>>()?;
    Ok(PreparedMt {
        dataset,
        data_sha256,
        layout,
        label_of,
        seconds: t0.elapsed().as_secs_f64(),
        splits: HashMap::new(),
    })
}

impl PreparedMt {
    /// The split for `seed` (computed once), with its content hashes.
    pub fn split(&mut self, spec: &TaskSpec, seed: u64) -> DataResult<&(Split, SplitHashes)> {
        if !self.splits.contains_key(&seed) {
            let s = split(&self.dataset, &spec.split, seed)?;
            let h = s.hashes(&self.dataset);
            self.splits.insert(seed, (s, h));
        }
        Ok(&self.splits[&seed])
    }

    /// The split of `seed` with its hashes. Panics unless [`PreparedMt::split`] made it.
    pub fn prepared_split(&self, seed: u64) -> &(Split, SplitHashes) {
        &self.splits[&seed]
    }
}
