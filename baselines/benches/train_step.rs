//! One training step (forward, backward, optimizer) of each reference model on a fixed
//! batch of 1024 examples shaped like synth-ctr: 7 sparse fields (vocabularies 2000,
//! 1000, 200, 20, 10, 10, 10), 2 dense fields, embedding dim 16, MLP [128, 64].
//! Same shapes as scripts/bench/torch_dnn.py.
//!
//! cargo bench -p baselines --bench train_step

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::train_step;
use baselines::{registry, Batch, Cpu, FeatureSpec, Ranking};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const VOCABS: [u32; 7] = [2000, 1000, 200, 20, 10, 10, 10];
const BATCH: usize = 1024;

fn batch() -> Batch {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut b = Batch {
        size: BATCH,
        n_sparse: VOCABS.len(),
        n_dense: 2,
        ..Default::default()
    };
    for _ in 0..BATCH {
        b.sparse.extend(VOCABS.iter().map(|&v| rng.gen_range(0..v)));
        b.dense
            .extend([rng.gen_range(-1.0..1.0f32), rng.gen_range(-1.0..1.0f32)]);
        b.labels.push((rng.gen::<f32>() < 0.15) as u8 as f32);
    }
    b
}

fn bench(c: &mut Criterion) {
    let spec = FeatureSpec {
        sparse: VOCABS
            .iter()
            .enumerate()
            .map(|(i, &v)| (format!("f{i}"), v))
            .collect(),
        dense: vec!["d0".into(), "d1".into()],
        frequencies: None,
        pairs: None,
    };
    let batch = batch();
    let mut group = c.benchmark_group("train_step_b1024");
    group.sample_size(30);
    group.throughput(Throughput::Elements(BATCH as u64));
    for name in ["lr", "dnn", "dcnv2"] {
        let config = serde_json::json!({});
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = registry::build::<Ranking, _>(name, &config, &spec, &mut store).unwrap();
        let cfg = OptimConfig {
            sparse: SparseOptim::adam(1e-3),
            ..Default::default()
        };
        let mut opt = Optimizer::new(&cfg, &mut store);
        group.bench_with_input(BenchmarkId::from_parameter(name), &name, |b, _| {
            b.iter(|| train_step(model.as_ref(), &mut store, &mut opt, &batch))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
