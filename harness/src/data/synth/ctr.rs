//! The CTR view of a synthetic world: one row per impression, in time order.

use super::config::SynthConfig;
use super::events::EventStream;
use super::labels::LABELS;
use super::params::{ACTIVITY_BUCKETS, DURATION_BUCKETS};
use super::world::World;
use crate::data::dataset::{Dataset, Schema, SparseField};
use crate::data::error::DataResult;

pub const CTR_SPARSE: [&str; 7] = [
    "user_id",
    "item_id",
    "author_id",
    "topic",
    "duration_bucket",
    "user_activity_bucket",
    "position",
];
pub const CTR_DENSE: [&str; 2] = ["log_duration", "log1p_item_age_days"];

/// Vocabulary sizes of the `CTR_SPARSE` fields of a world with config `cfg`, known
/// before any event is drawn.
pub fn ctr_vocabularies(cfg: &SynthConfig) -> [u32; 7] {
    [
        cfg.n_users,
        cfg.n_items,
        cfg.n_authors,
        cfg.n_topics,
        DURATION_BUCKETS,
        ACTIVITY_BUCKETS,
        cfg.n_positions,
    ]
}

/// The CTR dataset of the world `cfg` describes (see `ctr_dataset_of`).
pub fn ctr_dataset(cfg: &SynthConfig) -> DataResult<Dataset> {
    Ok(ctr_dataset_of(&World::new(cfg)?))
}

/// Sparse: user, item, author, topic, duration bucket, user activity bucket, position.
/// Dense: standardized log duration, `ln(1 + item age in days)`. Labels: click,
/// long_view, like. Group = user, time = event seconds, oracle = true probabilities.
pub fn ctr_dataset_of(world: &World) -> Dataset {
    let cfg = &world.cfg;
    let vocab = ctr_vocabularies(cfg);
    let schema = Schema {
        sparse: CTR_SPARSE
            .iter()
            .zip(vocab)
            .map(|(name, vocab)| SparseField {
                name: name.to_string(),
                vocab,
            })
            .collect(),
        dense: CTR_DENSE.iter().map(|s| s.to_string()).collect(),
        labels: LABELS.iter().map(|s| s.to_string()).collect(),
    };
    let n = cfg.events as usize;
    let mut sparse: Vec<Vec<u32>> = columns(CTR_SPARSE.len(), n);
    let mut dense: Vec<Vec<f32>> = columns(CTR_DENSE.len(), n);
    let mut labels: Vec<Vec<f32>> = columns(LABELS.len(), n);
    let mut oracle: Vec<Vec<f32>> = columns(LABELS.len(), n);
    let mut group = Vec::with_capacity(n);
    let mut time = Vec::with_capacity(n);
    for e in EventStream::new(world) {
        let item = &world.items[e.item as usize];
        let row = [
            e.user,
            e.item,
            item.author,
            item.topic,
            item.duration_bucket(),
            world.users[e.user as usize].activity_bucket,
            e.position,
        ];
        for (col, v) in sparse.iter_mut().zip(row) {
            col.push(v);
        }
        dense[0].push(item.standardized_log_duration());
        dense[1].push(e.item_age_days.ln_1p());
        for l in 0..LABELS.len() {
            labels[l].push(if e.label[l] { 1.0 } else { 0.0 });
            oracle[l].push(e.probability[l]);
        }
        group.push(e.user);
        time.push(e.time);
    }
    Dataset {
        name: format!("synth_ctr(seed={})", cfg.seed),
        schema,
        sparse,
        dense,
        labels,
        group: Some(group),
        time: Some(time),
        treatment: None,
        oracle: Some(oracle),
    }
}

fn columns<T: Clone>(count: usize, rows: usize) -> Vec<Vec<T>> {
    (0..count).map(|_| Vec::with_capacity(rows)).collect()
}
