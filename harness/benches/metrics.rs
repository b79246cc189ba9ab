//! AUC / GAUC throughput on random data.
//! Run: `cargo bench -p harness --bench metrics -- --warm-up-time 1 --measurement-time 5`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use harness::metrics::{auc, gauc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn data(n: usize) -> (Vec<f32>, Vec<f32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let labels: Vec<f32> = (0..n).map(|_| f32::from(rng.gen_bool(0.1) as u8)).collect();
    let scores = labels.iter().map(|&l| l * 0.5 + rng.gen::<f32>()).collect();
    let groups = (0..n).map(|_| rng.gen_range(0..(n / 100) as u32)).collect();
    (scores, labels, groups)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics");
    g.sample_size(10);
    for n in [1_000_000, 10_000_000] {
        let (scores, labels, groups) = data(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("auc", n), &n, |b, _| {
            b.iter(|| auc(&scores, &labels))
        });
        if n == 1_000_000 {
            g.bench_with_input(BenchmarkId::new("gauc_100_per_group", n), &n, |b, _| {
                b.iter(|| gauc(&scores, &labels, &groups))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
