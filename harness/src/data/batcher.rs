//! Turns dataset rows into model batches: the task's sparse and dense columns and one
//! label, row-major, in a seeded shuffled order for training.

use baselines::{Batch, FeatureSpec};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::Dataset;

pub fn feature_spec(ds: &Dataset) -> FeatureSpec {
    FeatureSpec {
        sparse: ds
            .schema
            .sparse
            .iter()
            .map(|f| (f.name.clone(), f.vocab))
            .collect(),
        dense: ds.schema.dense.clone(),
    }
}

/// Builds the batch of `rows` with label column `label`.
pub fn make_batch(ds: &Dataset, rows: &[usize], label: usize) -> Batch {
    let (ns, nd) = (ds.sparse.len(), ds.dense.len());
    let mut b = Batch {
        size: rows.len(),
        n_sparse: ns,
        n_dense: nd,
        sparse: Vec::with_capacity(rows.len() * ns),
        dense: Vec::with_capacity(rows.len() * nd),
        labels: Vec::with_capacity(rows.len()),
    };
    for &r in rows {
        b.sparse.extend(ds.sparse.iter().map(|c| c[r]));
        b.dense.extend(ds.dense.iter().map(|c| c[r]));
        b.labels.push(ds.labels[label][r]);
    }
    b
}

/// The training rows of one epoch, shuffled by `(seed, epoch)`, cut into batches.
pub fn epoch_order(rows: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = rows.to_vec();
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(epoch as u64 + 1)));
    order.shuffle(&mut rng);
    order
}
