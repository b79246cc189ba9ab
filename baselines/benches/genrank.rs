//! One training step (forward, per-candidate BCE, backward, dense Adam + row-wise Adam
//! on the tables) of GenRank and of its HSTU baseline `hstu_rank` on the same batch:
//! 64 examples, 100 history exposures each (8 per request, all histories full), 8
//! candidates, 2 actions, 10,000 items; d 64, 2 layers, 4 heads, no dropout (the
//! spec's scaled-down shapes). GenRank runs 108 tokens per example, hstu_rank 208. The
//! FLOPs of one step of each are printed first.
//!
//! cargo bench -p baselines --bench genrank

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::kinds::generative::{Exposure, Request};
use baselines::{registry, train_step, Cpu, GenBatch, GenSpec, Generative};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 64;
const PER_REQUEST: usize = 8;
const REQUESTS: usize = 14; // 13 before the target: 104 >= 100 exposures of history

fn spec() -> GenSpec {
    GenSpec {
        n_items: 10_000,
        n_actions: 2,
        max_history: 100,
        max_candidates: PER_REQUEST,
    }
}

fn batch(spec: &GenSpec) -> GenBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let logs: Vec<Vec<Request>> = (0..BATCH)
        .map(|_| {
            (0..REQUESTS)
                .map(|k| Request {
                    time: 600 * k as i64 + rng.gen_range(0..300),
                    exposures: (0..PER_REQUEST)
                        .map(|_| Exposure {
                            item: rng.gen_range(1..=spec.n_items),
                            action: rng.gen_range(1..=4),
                        })
                        .collect(),
                })
                .collect()
        })
        .collect();
    let examples: Vec<(&[Request], usize)> = logs.iter().map(|l| (&l[..], REQUESTS - 1)).collect();
    GenBatch::build(spec, &examples)
}

fn bench(c: &mut Criterion) {
    let spec = spec();
    let b = batch(&spec);
    let mut group = c.benchmark_group("gen_train_step_b64_h100_c8_d64");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    let cfg = OptimConfig {
        sparse: SparseOptim::adam(1e-3),
        ..Default::default()
    };
    let config = serde_json::json!({"dim": 64, "blocks": 2, "heads": 4, "dropout": 0.0});
    for name in ["genrank", "hstu_rank"] {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = registry::build::<Generative, _>(name, &config, &spec, &mut store).unwrap();
        let mut opt = Optimizer::new(&cfg, &mut store);
        let baselines::StepOutput { flops, .. } =
            train_step(model.as_ref(), &mut store, &mut opt, &b);
        eprintln!(
            "{name}: {:.3} GFLOPs per step (forward {:.3}, backward {:.3})",
            flops.total() as f64 / 1e9,
            flops.forward_total() as f64 / 1e9,
            flops.backward_total() as f64 / 1e9,
        );
        group.bench_function(name, |bench| {
            bench.iter(|| train_step(model.as_ref(), &mut store, &mut opt, &b))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
