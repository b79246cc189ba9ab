//! Full-corpus top-100 retrieval: every user scored against every item (SGEMM per chunk
//! of users, rayon over chunks), seen items filtered, top-100 kept. Beauty size: 40k
//! users x 55k items, d = 64, 9 seen items per user (Beauty's mean history).
//! Run (2 cores): `RAYON_NUM_THREADS=2 cargo bench -p harness --bench topk`
//! Quick check of the small case only: `cargo bench -p harness --bench topk -- 4000`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use harness::metrics::topk::{top_k_all, ItemMatrix, UserMatrix};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const ITEMS: usize = 55_000;
const DIM: usize = 64;
const SEEN: usize = 9;

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let items: Vec<f32> = (0..(ITEMS + 1) * DIM)
        .map(|_| rng.gen_range(-1.0..1.0))
        .collect();
    let mut g = c.benchmark_group("topk_full_corpus");
    g.sample_size(10);
    for users in [4_000usize, 40_000] {
        let u: Vec<f32> = (0..users * DIM).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let seen: Vec<Vec<u32>> = (0..users)
            .map(|_| {
                let mut s: Vec<u32> = (0..SEEN).map(|_| rng.gen_range(1..=ITEMS as u32)).collect();
                s.sort_unstable();
                s.dedup();
                s
            })
            .collect();
        let um = UserMatrix {
            vectors: &u,
            interests: 1,
            dim: DIM,
        };
        let im = ItemMatrix {
            vectors: &items,
            dim: DIM,
        };
        g.throughput(Throughput::Elements(users as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("top100_{ITEMS}items_d{DIM}"), users),
            &users,
            |b, _| b.iter(|| top_k_all(um, im, |i| &seen[i], 100)),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
