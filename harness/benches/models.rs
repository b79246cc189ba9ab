//! Forward (inference, no tape) and train step (forward, backward, optimizer) of every
//! catalog model with its default config on one fixed synthetic batch: 1024 examples,
//! 8 sparse fields of 10,000 ids each, 4 dense features.
//! Run: `cargo bench -p harness --bench models -- --warm-up-time 1 --measurement-time 3`

use baselines::engine::{predict_logits, train_step, OptimConfig, Optimizer, ParamStore};
use baselines::{build, Batch, Cpu, FeatureSpec, CATALOG};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 1024;
const FIELDS: usize = 8;
const VOCAB: u32 = 10_000;
const DENSE: usize = 4;

fn spec() -> FeatureSpec {
    FeatureSpec {
        sparse: (0..FIELDS).map(|i| (format!("f{i}"), VOCAB)).collect(),
        dense: (0..DENSE).map(|i| format!("d{i}")).collect(),
        frequencies: None,
        pairs: None,
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
    }
}

fn bench(c: &mut Criterion) {
    let b = batch();
    let mut g = c.benchmark_group("models");
    g.sample_size(20);
    g.throughput(Throughput::Elements(BATCH as u64));
    for info in CATALOG {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = build(info.name, &serde_json::Value::Null, &spec(), &mut store).unwrap();
        g.bench_with_input(BenchmarkId::new("forward", info.name), &b, |bench, b| {
            bench.iter(|| predict_logits(model.as_ref(), &store, b))
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
