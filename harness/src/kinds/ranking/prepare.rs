//! Prepares a task's data once for all its cells: build the dataset (synthetic world or
//! files), find the label, and split per seed (random splits depend on the seed).

use std::collections::HashMap;
use std::path::Path;

use crate::data::builder::{build_files, DatasetSpec};
use crate::data::hash::sha256_hex;
use crate::data::split::{split, Split, SplitHashes};
use crate::data::synth::{ctr_dataset, SynthConfig};
use crate::data::{DataError, DataResult, Dataset};

use crate::task::TaskSpec;

pub struct Prepared {
    pub dataset: Dataset,
    pub data_sha256: String,
    /// Index of the task's label among the dataset's labels.
    pub label: usize,
    pub seconds: f64,
    splits: HashMap<u64, (Split, SplitHashes)>,
}

pub fn prepare(spec: &TaskSpec, data_root: &Path) -> DataResult<Prepared> {
    let t0 = std::time::Instant::now();
    let (dataset, data_sha256, label_name) = match &spec.dataset {
        DatasetSpec::SynthCtr { config, label } => {
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
            let ds = ctr_dataset(&cfg)?;
            let resolved = serde_json::to_vec(&cfg).expect("synth config serializes");
            let hash = sha256_hex(&[b"recbench-synth-ctr-v1:".as_slice(), &resolved].concat());
            (ds, hash, label.clone())
        }
        DatasetSpec::Files(files) => {
            let built = build_files(files, data_root)?;
            (built.dataset, built.data_sha256, files.label.column.clone())
        }
        other => {
            return Err(DataError::invalid(
                format!("task `{}`: dataset", spec.name),
                format!(
                    "source `{}` holds sequences for retrieval tasks, not rows",
                    other.source()
                ),
            ))
        }
    };
    let label = dataset.label_index(&label_name)?;
    Ok(Prepared {
        dataset,
        data_sha256,
        label,
        seconds: t0.elapsed().as_secs_f64(),
        splits: HashMap::new(),
    })
}

impl Prepared {
    /// The split for `seed` (computed once), with its content hashes.
    pub fn split(&mut self, spec: &TaskSpec, seed: u64) -> DataResult<&(Split, SplitHashes)> {
        if !self.splits.contains_key(&seed) {
            let s = split(&self.dataset, &spec.split, seed)?;
            let h = s.hashes(&self.dataset);
            self.splits.insert(seed, (s, h));
        }
        Ok(&self.splits[&seed])
    }

    /// The split of `seed` with its hashes. Panics unless [`Prepared::split`] made it.
    pub fn prepared_split(&self, seed: u64) -> &(Split, SplitHashes) {
        &self.splits[&seed]
    }
}
