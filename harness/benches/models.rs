//! Forward (inference, no tape) and train step (forward, backward, optimizer) of every
//! catalog model with its default config on one fixed synthetic batch: 1024 examples,
//! 8 sparse fields of 10,000 ids each, 4 dense features. Models that need training
//! statistics (id frequencies for AMTL/MDE, pair statistics for PCF-GNN and the
//! statistics table) get them from the same batch, with fields f0 x f1 as the pair.
//! Run: `cargo bench -p harness --bench models -- --warm-up-time 1 --measurement-time 3`

use baselines::engine::{OptimConfig, Optimizer, ParamStore};
use baselines::{predict, train_step};
use baselines::{registry, Batch, Cpu, FeatureSpec, PairStat, PairStats, Ranking};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

const BATCH: usize = 1024;
const FIELDS: usize = 8;
const VOCAB: u32 = 10_000;
const DENSE: usize = 4;

/// The features, with training statistics counted over `train`.
fn spec(train: &Batch) -> FeatureSpec {
    let mut frequencies = vec![vec![0u32; VOCAB as usize]; FIELDS];
    let mut pairs: BTreeMap<(u32, u32), (u32, u32)> = BTreeMap::new();
    for (row, &y) in train.sparse.chunks_exact(FIELDS).zip(&train.labels) {
        for (f, &id) in row.iter().enumerate() {
            frequencies[f][id as usize] += 1;
        }
        let e = pairs.entry((row[0], row[1])).or_default();
        e.0 += 1;
        e.1 += y as u32;
    }
    let pairs = pairs
        .into_iter()
        .map(|((a, b), (count, positives))| PairStat {
            a,
            b,
            count,
            positives,
        })
        .collect();
    FeatureSpec {
        sparse: (0..FIELDS).map(|i| (format!("f{i}"), VOCAB)).collect(),
        dense: (0..DENSE).map(|i| format!("d{i}")).collect(),
        frequencies: Some(frequencies),
        pairs: Some(PairStats {
            fields: ("f0".into(), "f1".into()),
            pairs,
            out_of_fold: Vec::new(),
        }),
    }
}

/// Defaults, except the field pair of the models that cross two fields, and no
/// out-of-fold statistics (PCF-GNN: `folds: 0`; a training step then reads one GNN's
/// table instead of a fold's, the same dot product per row).
fn config(name: &str) -> serde_json::Value {
    let pair = serde_json::json!({"fields": ["f0", "f1"]});
    let inputs = registry::side_inputs::<Ranking>(name, &pair).unwrap();
    match (inputs.pair, inputs.pair_folds) {
        (None, _) => serde_json::Value::Null,
        (Some(_), 0) => pair,
        (Some(_), _) => serde_json::json!({"fields": ["f0", "f1"], "folds": 0}),
    }
}

fn batch() -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    Batch {
        size: BATCH,
        n_sparse: FIELDS,
        n_dense: DENSE,
        sparse: (0..BATCH * FIELDS)
            .map(|_| rng.gen_range(0..VOCAB))
            .collect(),
        dense: (0..BATCH * DENSE)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect(),
        labels: (0..BATCH)
            .map(|_| f32::from(rng.gen_bool(0.3) as u8))
            .collect(),
        columns: Vec::new(),
    }
}

fn bench(c: &mut Criterion) {
    let b = batch();
    let spec = spec(&b);
    let mut g = c.benchmark_group("models");
    g.sample_size(20);
    g.throughput(Throughput::Elements(BATCH as u64));
    for info in registry::infos::<Ranking>() {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = registry::build::<Ranking, _>(info.name, &config(info.name), &spec, &mut store)
            .unwrap_or_else(|e| panic!("{}: {e}", info.name));
        g.bench_with_input(BenchmarkId::new("forward", info.name), &b, |bench, b| {
            bench.iter(|| predict(model.as_ref(), &store, b))
        });
        let mut opt = Optimizer::new(&OptimConfig::default(), &mut store);
        g.bench_with_input(BenchmarkId::new("train_step", info.name), &b, |bench, b| {
            bench.iter(|| train_step(model.as_ref(), &mut store, &mut opt, b))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
