//! The toy task the model tests share: 3 sparse fields (user 60, item 40, noise 7) and
//! 2 dense fields, labels ~ Bernoulli(sigmoid(2.5 <u, v> + 0.8 d0 - 0.5)) with random
//! 3-d user and item vectors, so most of the signal is a user x item interaction.
#![allow(dead_code)] // each test file uses a subset

use std::collections::BTreeMap;

use baselines::kinds::ranking::{fold_of, row_key, ROW_KEY};
use baselines::{Batch, FeatureSpec, PairStat, PairStats};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn toy_spec() -> FeatureSpec {
    FeatureSpec {
        sparse: vec![
            ("user".into(), 60),
            ("item".into(), 40),
            ("noise".into(), 7),
        ],
        dense: vec!["d0".into(), "d1".into()],
        frequencies: None,
        pairs: None,
    }
}

/// How users are drawn: uniformly, or skewed towards small ids (the square of a
/// uniform), which gives frequency-based methods (AMTL, MDE) frequent and rare ids.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Users {
    Uniform,
    Skewed,
}

pub fn toy_batch(n: usize, seed: u64) -> Batch {
    toy_batch_with(n, seed, Users::Uniform)
}

pub fn toy_batch_with(n: usize, seed: u64, users_drawn: Users) -> Batch {
    let mut world = ChaCha8Rng::seed_from_u64(99);
    let mut latent = |k: usize| -> Vec<[f32; 3]> {
        (0..k)
            .map(|_| {
                [
                    world.gen_range(-1.0..1.0),
                    world.gen_range(-1.0..1.0),
                    world.gen_range(-1.0..1.0),
                ]
            })
            .collect()
    };
    let (users, items) = (latent(60), latent(40));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = Batch {
        size: n,
        n_sparse: 3,
        n_dense: 2,
        ..Default::default()
    };
    for _ in 0..n {
        let u = match users_drawn {
            Users::Uniform => rng.gen_range(0..60u32),
            Users::Skewed => {
                let x: f32 = rng.gen_range(0.0..1.0);
                ((x * x * 60.0) as u32).min(59)
            }
        };
        let i = rng.gen_range(0..40u32);
        let d0: f32 = rng.gen_range(-1.0..1.0);
        let dot: f32 = (0..3)
            .map(|k| users[u as usize][k] * items[i as usize][k])
            .sum();
        let p = 1.0 / (1.0 + (-(2.5 * dot + 0.8 * d0 - 0.5)).exp());
        b.sparse.extend([u, i, rng.gen_range(0..7)]);
        b.dense.extend([d0, rng.gen_range(-1.0..1.0)]);
        b.labels.push(if rng.gen::<f32>() < p { 1.0 } else { 0.0 });
    }
    with_row_keys(b)
}

/// `b` with the training batches' row keys (`ROW_KEY`), rows numbered from 0.
pub fn with_row_keys(mut b: Batch) -> Batch {
    b.columns.retain(|(n, _)| n != ROW_KEY);
    b.columns
        .push((ROW_KEY.to_string(), (0..b.size).map(row_key).collect()));
    b
}

/// Rows `lo..hi` of a batch.
pub fn slice(b: &Batch, lo: usize, hi: usize) -> Batch {
    Batch {
        size: hi - lo,
        n_sparse: b.n_sparse,
        n_dense: b.n_dense,
        sparse: b.sparse[lo * b.n_sparse..hi * b.n_sparse].to_vec(),
        dense: b.dense[lo * b.n_dense..hi * b.n_dense].to_vec(),
        labels: b.labels[lo..hi].to_vec(),
        columns: b
            .columns
            .iter()
            .map(|(n, v)| (n.clone(), v[lo..hi].to_vec()))
            .collect(),
    }
}

/// Mean binary cross-entropy of logits: log(1 + e^z) - y z, computed stably.
pub fn logloss(logits: &[f32], labels: &[f32]) -> f64 {
    logits
        .iter()
        .zip(labels)
        .map(|(&z, &y)| {
            let z = z as f64;
            z.max(0.0) + (-z.abs()).exp().ln_1p() - y as f64 * z
        })
        .sum::<f64>()
        / labels.len() as f64
}

/// Co-occurrence statistics of sparse columns `cols` of `b` (what the harness computes
/// from the training rows), named `names`.
pub fn pair_stats(b: &Batch, cols: (usize, usize), names: (&str, &str)) -> PairStats {
    pair_stats_of(b, cols, names, &(0..b.size).collect::<Vec<_>>())
}

/// [`pair_stats`] with the out-of-fold statistics of `folds` folds, by the batch's row
/// keys (as the harness assigns its training rows).
pub fn pair_stats_folds(
    b: &Batch,
    cols: (usize, usize),
    names: (&str, &str),
    folds: usize,
) -> PairStats {
    let keys = b.column(ROW_KEY).expect("a batch with row keys");
    let mut stats = pair_stats(b, cols, names);
    stats.out_of_fold = (0..folds)
        .map(|k| {
            let outside: Vec<usize> = (0..b.size)
                .filter(|&r| fold_of(keys[r], folds) != k)
                .collect();
            pair_stats_of(b, cols, names, &outside).pairs
        })
        .collect();
    stats
}

fn pair_stats_of(
    b: &Batch,
    cols: (usize, usize),
    names: (&str, &str),
    rows: &[usize],
) -> PairStats {
    let mut map = BTreeMap::<(u32, u32), (u32, u32)>::new();
    for &r in rows {
        let row = b.sparse_row(r);
        let e = map.entry((row[cols.0], row[cols.1])).or_default();
        e.0 += 1;
        e.1 += b.labels[r] as u32;
    }
    PairStats {
        fields: (names.0.to_string(), names.1.to_string()),
        pairs: map
            .into_iter()
            .map(|((a, b), (count, positives))| PairStat {
                a,
                b,
                count,
                positives,
            })
            .collect(),
        out_of_fold: Vec::new(),
    }
}

pub mod gen;
pub mod gen_hstu;
pub mod multitask;
pub mod seq;
pub mod transformer;
