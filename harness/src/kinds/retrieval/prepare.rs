//! Prepares a retrieval task's data once for all its cells: the users' sequences (from
//! the synthetic world or a file), the leave-one-out hashes, popularity counts, and per
//! seed the evaluation queries (the sampled protocol's negatives depend on the seed).
//! For the synthetic world also the oracle and the ideal revenue lists of R/R*.

use std::collections::HashMap;
use std::path::Path;

use crate::data::builder::{load_table, resolve, DatasetSpec};
use crate::data::hash::{sha256_files, sha256_hex};
use crate::data::popularity_sampler::PopularitySampler;
use crate::data::seq_batcher::{eval_queries, EvalQuery, SampledCounts};
use crate::data::sequences::{loo_hashes, LooView, Sequences, Stage};
use crate::data::split::SplitHashes;
use crate::data::synth::{synth_seq, SeqWorld, SynthSeqConfig};
use crate::data::{DataError, DataResult};
use crate::metrics::retrieval::{Protocol, RetrievalMetric};
use crate::metrics::revenue::ideal_top;

use crate::task::TaskSpec;

pub struct PreparedSeq {
    pub seqs: Sequences,
    pub data_sha256: String,
    pub split_hashes: SplitHashes,
    /// The synthetic world, when the data is synthetic: oracle vectors and item values.
    pub world: Option<SeqWorld>,
    /// Training-prefix count per item (index = id): popularity.
    pub item_counts: Vec<u32>,
    /// Training-target count per item (index = id): `SeqSpec::item_counts`.
    pub target_counts: Vec<u32>,
    pub seconds: f64,
    /// The task's metrics, parsed.
    pub metrics: Vec<RetrievalMetric>,
    /// Per stage, per user: the ideal top `m` (largest m of the task's R/R* metrics)
    /// by expected revenue, for R/R*; empty when the task has none.
    ideal: HashMap<Stage, Vec<Vec<(u32, f64)>>>,
    queries: HashMap<(u64, Stage), Vec<EvalQuery>>,
}

pub fn prepare_seq(spec: &TaskSpec, data_root: &Path) -> DataResult<PreparedSeq> {
    let t0 = std::time::Instant::now();
    let r = spec.retrieval_spec();
    let (seqs, world, data_sha256) = match &spec.dataset {
        DatasetSpec::SynthSeq { config } => {
            let value = if config.is_null() {
                serde_json::json!({})
            } else {
                config.clone()
            };
            let cfg: SynthSeqConfig = serde_json::from_value(value).map_err(|e| {
                DataError::invalid(
                    format!("task `{}`: dataset.config", spec.name),
                    e.to_string(),
                )
            })?;
            let data = synth_seq(&cfg)?;
            let resolved = serde_json::to_vec(&cfg).expect("config serializes");
            let hash = sha256_hex(&[b"recbench-synth-seq-v1:".as_slice(), &resolved].concat());
            (data.seqs, Some(data.world), hash)
        }
        DatasetSpec::Sequences(f) => {
            let path = resolve(data_root, &f.path);
            let table = load_table(f.format, &path)?;
            let seqs =
                Sequences::from_table(&table, &f.name, &f.user, &f.item, &f.time, r.min_events)?;
            let hash = sha256_files(&[path.as_path()]).map_err(|e| DataError::io(&path, e))?;
            (seqs, None, hash)
        }
        other => {
            return Err(DataError::invalid(
                format!("task `{}`: dataset", spec.name),
                format!(
                    "source `{}` holds rows for ranking tasks, not sequences",
                    other.source()
                ),
            ))
        }
    };
    if seqs.n_items < 2 {
        return Err(DataError::invalid(
            format!("task `{}`: dataset", spec.name),
            format!("{} items: retrieval needs at least 2", seqs.n_items),
        ));
    }
    let metrics = spec
        .metrics
        .iter()
        .map(|m| RetrievalMetric::parse(m).map_err(|e| DataError::invalid("metrics", e)))
        .collect::<DataResult<Vec<_>>>()?;
    let max_m = metrics
        .iter()
        .filter_map(|m| match m {
            RetrievalMetric::Revenue { m, .. } => Some(*m),
            _ => None,
        })
        .max();
    let mut ideal = HashMap::new();
    if let (Some(m), Some(w)) = (max_m, &world) {
        for stage in [Stage::Valid, Stage::Test] {
            ideal.insert(stage, ideal_lists(&seqs, w, stage, m));
        }
    }
    Ok(PreparedSeq {
        split_hashes: loo_hashes(&seqs),
        item_counts: seqs.train_counts(),
        target_counts: seqs.train_target_counts(),
        seqs,
        data_sha256,
        world,
        seconds: t0.elapsed().as_secs_f64(),
        metrics,
        ideal,
        queries: HashMap::new(),
    })
}

/// Per user: the ideal top `m` by expected revenue `P(next = i | history) x bid_i`
/// over the unseen items.
fn ideal_lists(seqs: &Sequences, w: &SeqWorld, stage: Stage, m: usize) -> Vec<Vec<(u32, f64)>> {
    use rayon::prelude::*;
    (0..seqs.n_users())
        .into_par_iter()
        .map(|u| {
            let (hist, _, _) = LooView::new(seqs, u).eval(stage);
            let mut seen = hist.to_vec();
            seen.sort_unstable();
            seen.dedup();
            let values: Vec<f64> = w
                .next_probs(u, hist)
                .iter()
                .zip(&w.bids)
                .map(|(p, &b)| p * b as f64)
                .collect();
            ideal_top(&values, &seen, m)
        })
        .collect()
}

impl PreparedSeq {
    /// Sampled negatives per query, as the task's `_s<N>` and `_p<N>` metrics ask.
    pub fn sampled_counts(&self) -> SampledCounts {
        let mut counts = SampledCounts::default();
        for m in &self.metrics {
            match m.protocol() {
                Protocol::Sampled(n) => counts.uniform = n,
                Protocol::PopularitySampled(n) => counts.popularity = n,
                Protocol::Full => {}
            }
        }
        counts
    }

    /// Computes the evaluation queries of both stages for `seed` (once).
    pub fn prepare_queries(&mut self, seed: u64) {
        let counts = self.sampled_counts();
        let sampler = (counts.popularity > 0).then(|| PopularitySampler::new(&self.item_counts));
        for stage in [Stage::Valid, Stage::Test] {
            let seqs = &self.seqs;
            self.queries
                .entry((seed, stage))
                .or_insert_with(|| eval_queries(seqs, stage, counts, sampler.as_ref(), seed));
        }
    }

    /// The evaluation queries of `stage` for `seed`, one per user in user order.
    /// Panics unless `prepare_queries(seed)` ran.
    pub fn queries(&self, stage: Stage, seed: u64) -> &[EvalQuery] {
        &self.queries[&(seed, stage)]
    }

    /// The ideal revenue lists of `stage` (None without R/R* metrics).
    pub fn ideal(&self, stage: Stage) -> Option<&[Vec<(u32, f64)>]> {
        self.ideal.get(&stage).map(|v| v.as_slice())
    }
}
