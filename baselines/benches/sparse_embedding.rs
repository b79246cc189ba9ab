//! Sparse embedding step: lookup, backward and row-wise lazy Adam, through the same
//! code path training uses (`Ctx::lookup` -> tape -> `Optimizer::step`), for 26,624
//! lookups of d = 16 (1024 examples x 26 fields, Criteo-like) into tables of 10k, 1M
//! and 4M rows, ids uniform at random (the cache-unfriendly case). Loss:
//! `mean(x * r)` with a fixed random `r`, as in scripts/bench/torch_sparse_embedding.py:
//! its gradient keeps a constant size. (A mean of squares drives a small table's weights
//! to zero within a few hundred steps, and the subnormal floats that follow slow every
//! op down 5-20x, which measures the CPU's float underflow, not the table.)
//!
//! cargo bench -p baselines --bench sparse_embedding

use baselines::engine::{Ctx, Flops, Init, OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::Cpu;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dfdx::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LOOKUPS: usize = 26_624;
const DIM: usize = 16;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sparse_embedding_step");
    group.sample_size(20);
    group.throughput(Throughput::Elements(LOOKUPS as u64));
    for rows in [10_000usize, 1_000_000, 4_000_000] {
        let dev = Cpu::default();
        let mut store = ParamStore::new(dev, 0);
        let table = store
            .scope("emb")
            .table("table", rows, DIM, Init::Normal { std: 0.01 });
        let cfg = OptimConfig {
            sparse: SparseOptim::adam(1e-3),
            ..Default::default()
        };
        let mut opt = Optimizer::new(&cfg, &mut store);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let batches: Vec<Vec<u32>> = (0..16)
            .map(|_| {
                (0..LOOKUPS)
                    .map(|_| rng.gen_range(0..rows as u32))
                    .collect()
            })
            .collect();
        let r: Tensor<(usize, usize), f32, Cpu> = store.dev().tensor_from_vec(
            (0..LOOKUPS * DIM)
                .map(|_| rng.gen_range(-1.0..1.0))
                .collect(),
            (LOOKUPS, DIM),
        );
        let mut k = 0;
        group.bench_with_input(BenchmarkId::from_parameter(rows), &rows, |b, _| {
            b.iter(|| {
                let ids = batches[k % batches.len()].clone();
                k += 1;
                let mut ctx: Ctx<Cpu> = Ctx::default();
                let x = ctx.lookup::<OwnedTape<f32, Cpu>>(&store, table, ids);
                let mut grads = (x * r.clone()).mean().backward();
                let mut flops = Flops::default();
                opt.step(&mut store, &mut grads, ctx.lookups(), &mut flops);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
