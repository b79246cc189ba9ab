//! A toy multi-task world for the multi-task models' tests: the toy ranking features
//! (user, item, noise; two dense), three tasks in two categories. `watch` depends on
//! the user x item affinity and the first dense input; `click` on the affinity; `share`
//! (rare) on the affinity and the item alone.

use baselines::{Batch, FeatureSpec, MultiTaskBatch, MultiTaskSpec};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{toy_batch, toy_spec};

pub const TASKS: [&str; 3] = ["watch", "click", "share"];

/// The toy spec: `watch` in category `passive`, `click` and `share` in `interactive`.
pub fn mt_spec() -> MultiTaskSpec {
    MultiTaskSpec {
        features: toy_spec(),
        tasks: TASKS.iter().map(|s| s.to_string()).collect(),
        categories: vec!["passive".into(), "interactive".into()],
        category_of: vec![0, 1, 1],
    }
}

/// `n` examples of the toy world; the features are `toy_batch`'s, whose own label is
/// dropped (models never read it).
pub fn mt_batch(n: usize, seed: u64) -> MultiTaskBatch {
    let features = toy_batch(n, seed);
    let mut world = ChaCha8Rng::seed_from_u64(5);
    let item_appeal: Vec<f32> = (0..40).map(|_| world.gen_range(-1.5..1.5)).collect();
    let user_taste: Vec<f32> = (0..60).map(|_| world.gen_range(-1.0..1.0)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4d54);
    let mut labels = Vec::with_capacity(n * 3);
    for r in 0..n {
        let row = features.sparse_row(r);
        let (u, i) = (row[0] as usize, row[1] as usize);
        let d0 = features.dense[r * 2];
        let affinity = user_taste[u] * item_appeal[i];
        let p = |z: f32| 1.0 / (1.0 + (-z).exp());
        let z = [
            2.0 * affinity + 1.2 * d0,
            2.5 * affinity - 0.5,
            2.0 * affinity + 1.5 * item_appeal[i] - 2.5,
        ];
        labels.extend(z.iter().map(|&z| (rng.gen::<f32>() < p(z)) as u8 as f32));
    }
    MultiTaskBatch {
        features: Batch {
            labels: Vec::new(),
            ..features
        },
        labels,
        tasks: 3,
    }
}

/// Task `t`'s labels of a batch.
pub fn task_labels(b: &MultiTaskBatch, t: usize) -> Vec<f32> {
    (0..b.size()).map(|r| b.labels[r * b.tasks + t]).collect()
}

/// Rows `lo..hi` of a batch.
pub fn mt_slice(b: &MultiTaskBatch, lo: usize, hi: usize) -> MultiTaskBatch {
    let f = &b.features;
    MultiTaskBatch {
        features: Batch {
            size: hi - lo,
            sparse: f.sparse[lo * f.n_sparse..hi * f.n_sparse].to_vec(),
            dense: f.dense[lo * f.n_dense..hi * f.n_dense].to_vec(),
            ..f.clone()
        },
        labels: b.labels[lo * b.tasks..hi * b.tasks].to_vec(),
        tasks: b.tasks,
    }
}

/// The features spec of the toy world.
pub fn mt_features() -> FeatureSpec {
    toy_spec()
}
