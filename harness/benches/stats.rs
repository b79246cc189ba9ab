//! Statistics at leaderboard scale: AUC and DeLong's test on 10M examples, and a
//! 10,000-resample paired bootstrap and randomization over 100,000 users.
//! Run: `cargo bench -p harness --bench stats -- --warm-up-time 1 --measurement-time 10`

use criterion::{criterion_group, criterion_main, Criterion};
use harness::metrics::auc;
use harness::stats::{delong, paired_bootstrap, paired_randomization};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("stats");
    g.sample_size(10);
    let n = 10_000_000;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let labels: Vec<u8> = (0..n).map(|_| u8::from(rng.gen_bool(0.1))).collect();
    let a: Vec<f32> = labels
        .iter()
        .map(|&l| f32::from(l) * 0.5 + rng.gen::<f32>())
        .collect();
    let b: Vec<f32> = a.iter().map(|&s| s + 0.3 * rng.gen::<f32>()).collect();
    let lf: Vec<f32> = labels.iter().map(|&l| f32::from(l)).collect();
    g.bench_function("auc_10M", |bch| bch.iter(|| auc(&a, &lf)));
    g.bench_function("delong_10M", |bch| {
        bch.iter(|| delong(&a, &b, &labels, 0.95))
    });
    let users = 100_000;
    let ua: Vec<f64> = (0..users).map(|_| rng.gen_range(0.5..0.9)).collect();
    let ub: Vec<f64> = ua.iter().map(|x| x - rng.gen_range(-0.02..0.03)).collect();
    let w: Vec<f64> = (0..users).map(|_| rng.gen_range(1..200) as f64).collect();
    g.bench_function("bootstrap_10k_x_100k_users", |bch| {
        bch.iter(|| paired_bootstrap(&ua, &ub, &w, 10_000, 0, 0.95))
    });
    g.bench_function("randomization_10k_x_100k_users", |bch| {
        bch.iter(|| paired_randomization(&ua, &ub, &w, 10_000, 0))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
