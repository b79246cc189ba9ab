//! One SASRec training step (forward, BCE on one sampled negative per position,
//! backward, dense Adam + row-wise Adam on the item table) on Beauty-like shapes:
//! batch 128, max_len 50, d 64, 2 blocks, 1 head, dropout 0.2, 55,000 items; history
//! lengths 3 + ⌊6 · Exp(1)⌋ capped at 50 (mean about 9, like Amazon Beauty's 5-core
//! users), left-padded. Same shapes as scripts/bench/torch_sasrec.py. HSTU and
//! KuaiFormer (default compression: 50 -> 18 item tokens + 4 queries; in-batch loss) run
//! on the same batch at the same width and depth, for comparison.
//!
//! cargo bench -p baselines --bench sasrec

use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::{registry, train_step, Cpu, Retrieval, SeqBatch, SeqSpec};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const BATCH: usize = 128;
const MAX_LEN: usize = 50;
const ITEMS: u32 = 55_000;

fn batch() -> SeqBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut b = SeqBatch {
        size: BATCH,
        max_len: MAX_LEN,
        n_neg: 1,
        ..Default::default()
    };
    for _ in 0..BATCH {
        let u: f64 = rng.gen_range(0.0..1.0);
        let len = (3 + (-(1.0 - u).ln() * 6.0) as usize).min(MAX_LEN);
        let seq: Vec<u32> = (0..=len).map(|_| rng.gen_range(1..=ITEMS)).collect();
        let pad = MAX_LEN - len;
        b.items.resize(b.items.len() + pad, 0);
        b.items.extend_from_slice(&seq[..len]);
        b.targets.resize(b.targets.len() + pad, 0);
        b.targets.extend_from_slice(&seq[1..]);
        b.times.extend((0..MAX_LEN as i64).map(|t| t * 60));
    }
    for &t in &b.targets {
        b.negatives.push(loop {
            let x = rng.gen_range(1..=ITEMS);
            if x != t {
                break x;
            }
        });
    }
    b
}

fn bench(c: &mut Criterion) {
    let spec = SeqSpec {
        n_items: ITEMS,
        max_len: MAX_LEN,
        item_counts: None,
    };
    let b = batch();
    let mut group = c.benchmark_group("seq_train_step_b128_l50_d64");
    group.sample_size(20);
    group.throughput(Throughput::Elements(BATCH as u64));
    let cfg = OptimConfig {
        sparse: SparseOptim::adam(1e-3),
        ..Default::default()
    };
    let common = serde_json::json!({"dim": 64, "heads": 1, "dropout": 0.2});
    for (name, depth) in [
        ("sasrec", "blocks"),
        ("hstu", "blocks"),
        ("kuaiformer", "layers"),
    ] {
        let mut config = common.clone();
        config[depth] = 2.into();
        let mut store = ParamStore::new(Cpu::default(), 0);
        let model = registry::build::<Retrieval, _>(name, &config, &spec, &mut store).unwrap();
        let mut opt = Optimizer::new(&cfg, &mut store);
        group.bench_function(name, |bench| {
            bench.iter(|| train_step(model.as_ref(), &mut store, &mut opt, &b))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
