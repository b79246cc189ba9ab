//! The synthetic sequence task the sequential model tests share: a Markov world where
//! item `i` is followed by `next[i]` (a fixed random permutation) with probability
//! 0.85 and by a popularity-skewed random item otherwise, so the next item is mostly
//! predictable from the last one while popularity alone is a weak but non-trivial
//! ranking. Plus batching, scoring, training and hit-rate helpers.

use baselines::engine::Ctx;
use baselines::engine::{OptimConfig, Optimizer, ParamStore, SparseOptim};
use baselines::{
    gradient_norms, predict, registry, train_step, Cpu, Model, Retrieval, SeqBatch, SeqSpec,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct MarkovWorld {
    pub n_items: u32,
    next: Vec<u32>,
    follow: f64,
}

impl MarkovWorld {
    pub fn new(n_items: u32) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut next: Vec<u32> = (1..=n_items).collect();
        next.shuffle(&mut rng);
        MarkovWorld {
            n_items,
            next,
            follow: 0.85,
        }
    }

    /// Items drawn with probability ~ 1 / sqrt(rank): popular items exist.
    fn popular(&self, rng: &mut ChaCha8Rng) -> u32 {
        let x: f64 = rng.gen_range(0.0..1.0);
        ((x * x * self.n_items as f64) as u32).min(self.n_items - 1) + 1
    }

    /// `len` items and increasing event times (seconds, random gaps).
    pub fn sequence(&self, len: usize, rng: &mut ChaCha8Rng) -> (Vec<u32>, Vec<i64>) {
        let mut items = vec![self.popular(rng)];
        let mut times = vec![rng.gen_range(1_000_000..2_000_000i64)];
        while items.len() < len {
            let last = *items.last().unwrap();
            let item = if rng.gen_bool(self.follow) {
                self.next[last as usize - 1]
            } else {
                self.popular(rng)
            };
            items.push(item);
            times.push(times.last().unwrap() + rng.gen_range(1..20_000));
        }
        (items, times)
    }
}

pub fn seq_spec(n_items: u32, max_len: usize) -> SeqSpec {
    SeqSpec {
        n_items,
        max_len,
        item_counts: None,
    }
}

/// A training batch: each row a history of 1..=max_len items (left-padded), next-item
/// targets at every real position, `n_neg` uniform negatives per position (never the
/// position's target).
pub fn markov_batch(
    world: &MarkovWorld,
    size: usize,
    max_len: usize,
    n_neg: usize,
    seed: u64,
) -> SeqBatch {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = SeqBatch {
        size,
        max_len,
        n_neg,
        ..Default::default()
    };
    for _ in 0..size {
        let len = rng.gen_range(1..=max_len);
        let (items, times) = world.sequence(len + 1, &mut rng);
        let pad = max_len - len;
        b.items.resize(b.items.len() + pad, 0);
        b.items.extend_from_slice(&items[..len]);
        b.times.resize(b.times.len() + pad, 0);
        b.times.extend_from_slice(&times[..len]);
        b.targets.resize(b.targets.len() + pad, 0);
        b.targets.extend_from_slice(&items[1..]);
    }
    for &t in &b.targets {
        for _ in 0..n_neg {
            b.negatives.push(loop {
                let x = rng.gen_range(1..=world.n_items);
                if x != t {
                    break x;
                }
            });
        }
    }
    b
}

/// `b` without its training fields, as at evaluation.
pub fn eval_view(b: &SeqBatch) -> SeqBatch {
    SeqBatch {
        targets: Vec::new(),
        negatives: Vec::new(),
        n_neg: 0,
        ..b.clone()
    }
}

/// The item after each row's history (the target at the last position).
pub fn last_targets(b: &SeqBatch) -> Vec<u32> {
    (0..b.size)
        .map(|r| b.targets[r * b.max_len + b.max_len - 1])
        .collect()
}

/// Per row, the score of every item `1..=n_items`: `max_k <u_k, v_item>`.
pub fn scores(
    model: &dyn Model<Retrieval, Cpu>,
    store: &ParamStore<Cpu>,
    b: &SeqBatch,
) -> Vec<Vec<f32>> {
    let (u, _) = predict(model, store, &eval_view(b));
    let items = model.item_vectors(store).unwrap();
    let k = model.hints().interests;
    let d = u.len() / (b.size * k);
    (0..b.size)
        .map(|r| {
            items
                .chunks(d)
                .skip(1)
                .map(|v| {
                    (0..k)
                        .map(|j| {
                            let uj = &u[(r * k + j) * d..(r * k + j + 1) * d];
                            uj.iter().zip(v).map(|(a, b)| a * b).sum::<f32>()
                        })
                        .fold(f32::NEG_INFINITY, f32::max)
                })
                .collect()
        })
        .collect()
}

/// Share of rows whose target is among the `k` best scores (items `1..=n`).
pub fn hit_rate(scores: &[Vec<f32>], targets: &[u32], k: usize) -> f64 {
    let hits = scores
        .iter()
        .zip(targets)
        .filter(|(s, &t)| {
            let mine = s[t as usize - 1];
            s.iter().filter(|&&x| x > mine).count() < k
        })
        .count();
    hits as f64 / targets.len() as f64
}

/// Popularity ranking: every row scores items by their count as training targets.
pub fn popularity_scores(train: &[SeqBatch], n_items: u32, rows: usize) -> Vec<Vec<f32>> {
    let mut counts = vec![0f32; n_items as usize];
    for b in train {
        for &t in b.targets.iter().filter(|&&t| t != 0) {
            counts[t as usize - 1] += 1.0;
        }
    }
    vec![counts; rows]
}

/// Trains `model` for `epochs` passes over `batches` with Adam (dense and row-wise) at
/// learning rate `lr`; returns the mean loss of the first and of the last pass.
pub fn train(
    model: &dyn Model<Retrieval, Cpu>,
    store: &mut ParamStore<Cpu>,
    batches: &[SeqBatch],
    epochs: usize,
    lr: f32,
) -> (f32, f32) {
    let cfg = OptimConfig {
        lr,
        weight_decay: 0.0,
        sparse: SparseOptim::adam(lr),
    };
    let mut opt = Optimizer::new(&cfg, store);
    let (mut first, mut last) = (0.0, 0.0);
    for e in 0..epochs {
        let mut sum = 0.0;
        for b in batches {
            let baselines::StepOutput { loss, .. } = train_step(model, store, &mut opt, b);
            assert!(loss.is_finite(), "loss diverged: {loss}");
            sum += loss;
        }
        let mean = sum / batches.len() as f32;
        if e == 0 {
            first = mean;
        }
        last = mean;
    }
    (first, last)
}

/// Largest absolute difference of two equally long vectors.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// For `states(batch) -> batch * max_len * d` values (evaluation mode): changing the item
/// at position `p` of every row changes no state at an earlier position, and does
/// change the state at `p` itself (so the check can fail).
pub fn assert_causal(states: impl Fn(&SeqBatch) -> Vec<f32>, b: &SeqBatch, d: usize, n_items: u32) {
    let l = b.max_len;
    let base = states(b);
    for p in [l / 2, l - 1] {
        let mut c = b.clone();
        for r in 0..b.size {
            let i = r * l + p;
            if c.items[i] != 0 {
                c.items[i] = c.items[i] % n_items + 1;
            }
        }
        let s = states(&c);
        for r in 0..b.size {
            let at = |q: usize| (r * l + q) * d..(r * l + q + 1) * d;
            for q in 0..p {
                let diff = max_abs_diff(&base[at(q)], &s[at(q)]);
                assert!(
                    diff < 1e-6,
                    "row {r}: position {q} moved by {diff} after a change at {p}"
                );
            }
            if b.items[r * l + p] != 0 {
                let diff = max_abs_diff(&base[at(p)], &s[at(p)]);
                assert!(
                    diff > 1e-5,
                    "row {r}: the changed position {p} did not move"
                );
            }
        }
    }
}

/// The states of positions holding an item are equal in `a` and `b`.
pub fn assert_real_positions_equal(a: &[f32], b: &[f32], batch: &SeqBatch, d: usize) {
    for (k, &i) in batch.items.iter().enumerate() {
        if i != 0 {
            let diff = max_abs_diff(&a[k * d..(k + 1) * d], &b[k * d..(k + 1) * d]);
            assert!(diff < 1e-6, "position {k} moved by {diff}");
        }
    }
}

/// `b` with the padding row of `table` overwritten in `store` and every padded time
/// changed: what no real position may notice.
pub fn scramble_padding(
    store: &mut ParamStore<Cpu>,
    table: baselines::engine::TableId,
    b: &SeqBatch,
) -> SeqBatch {
    let d = store.table(table).dim();
    let mut w = store.table(table).weights();
    w[..d].iter_mut().for_each(|x| *x = 3.0);
    store.table_mut(table).set_weights(&w);
    let mut c = b.clone();
    for (t, &i) in c.times.iter_mut().zip(&b.items) {
        if i == 0 {
            *t = 123_456;
        }
    }
    c
}

/// Model `name` built with `config` (whose `dim` is `d`) returns `batch * interests`
/// user vectors of width `d`, `(n_items + 1) * d` item values and a finite positive loss.
pub fn assert_shapes(name: &str, config: serde_json::Value, d: usize, interests: usize) {
    let world = MarkovWorld::new(30);
    let spec = seq_spec(30, 7);
    let mut store = ParamStore::new(Cpu::default(), 0);
    let m = registry::build::<Retrieval, _>(name, &config, &spec, &mut store).unwrap();
    let b = markov_batch(&world, 5, 7, 1, 1);
    let (u, _) = predict(m.as_ref(), &store, &eval_view(&b));
    assert_eq!(m.hints().interests, interests);
    assert_eq!(u.len(), 5 * interests * d);
    assert_eq!(m.item_vectors(&store).unwrap().len(), 31 * d);
    let loss = m.loss_train(&store, &b, &mut Ctx::training()).as_vec()[0];
    assert!(loss.is_finite() && loss > 0.0, "{name}: loss {loss}");
}

/// Counts of each item as a target in `batches` (entry 0 unused): the training
/// statistics `SeqSpec.item_counts` holds.
pub fn target_counts(batches: &[SeqBatch], n: u32) -> Vec<u32> {
    let mut c = vec![0u32; n as usize + 1];
    for b in batches {
        for &t in b.targets.iter().filter(|&&t| t != 0) {
            c[t as usize] += 1;
        }
    }
    c
}

/// Every parameter gets a finite, non-zero gradient from `model`'s loss on `b`;
/// returns the parameter names (for checks that a particular one is among them).
pub fn assert_gradients_reach_every_parameter(
    what: &str,
    model: &dyn Model<Retrieval, Cpu>,
    store: &ParamStore<Cpu>,
    b: &SeqBatch,
) -> Vec<String> {
    let norms = gradient_norms(model, store, b);
    for (name, norm) in &norms {
        assert!(
            *norm > 0.0 && norm.is_finite(),
            "{what}: {name} gets gradient {norm}"
        );
    }
    norms.into_iter().map(|(n, _)| n).collect()
}

/// Trains model `name` with `config` on the Markov task (40 items, length 8, 40
/// batches of 64 histories with `negatives` per position, `epochs` at lr 1e-2;
/// `item_counts` from those batches) and asserts that it learns: the loss falls, and
/// HR@5 over 400 held-out histories exceeds 0.7 and popularity's by 0.3.
pub fn assert_learns_markov(
    name: &str,
    config: serde_json::Value,
    negatives: usize,
    epochs: usize,
) {
    let (n, l) = (40, 8);
    let world = MarkovWorld::new(n);
    let train_set: Vec<_> = (0..40)
        .map(|s| markov_batch(&world, 64, l, negatives, 100 + s))
        .collect();
    let mut spec = seq_spec(n, l);
    spec.item_counts = Some(target_counts(&train_set, n));
    let test = markov_batch(&world, 400, l, 1, 999);
    let targets = last_targets(&test);
    let pop = hit_rate(&popularity_scores(&train_set, n, test.size), &targets, 5);
    let mut store = ParamStore::new(Cpu::default(), 5);
    let m = registry::build::<Retrieval, _>(name, &config, &spec, &mut store).unwrap();
    let (first, last) = train(m.as_ref(), &mut store, &train_set, epochs, 1e-2);
    let hr = hit_rate(&scores(m.as_ref(), &store, &test), &targets, 5);
    println!("{name} {config}: loss {first:.3} -> {last:.3}, HR@5 {hr:.3}, popularity {pop:.3}");
    assert!(last < first, "{name} {config}: loss did not fall");
    assert!(
        hr > 0.7 && hr > pop + 0.3,
        "{name} {config}: HR@5 {hr} vs popularity {pop}"
    );
}

/// `b` cut to its last `width` columns (the columns before must be padding in every row).
pub fn trim_window(b: &SeqBatch, width: usize) -> SeqBatch {
    let cut = b.max_len - width;
    let keep = |v: &[u32], per: usize| -> Vec<u32> {
        v.chunks(b.max_len * per)
            .flat_map(|row| row[cut * per..].to_vec())
            .collect()
    };
    for row in 0..b.size {
        assert!(b.items_row(row)[..cut].iter().all(|&i| i == 0), "row {row}");
    }
    SeqBatch {
        size: b.size,
        max_len: width,
        items: keep(&b.items, 1),
        times: b
            .times
            .chunks(b.max_len)
            .flat_map(|row| row[cut..].to_vec())
            .collect(),
        targets: keep(&b.targets, 1),
        negatives: keep(&b.negatives, b.n_neg),
        n_neg: b.n_neg,
    }
}

/// A model that says it `trims_padding` gives the same user vectors and the same loss
/// (no dropout) on a batch cut to its longest history as on the full window of
/// `SeqSpec::max_len`; `config` must set dropout 0.
pub fn assert_trimmed_window_changes_nothing(name: &str, config: serde_json::Value) {
    let (n_items, max_len, longest) = (30, 12, 5);
    let world = MarkovWorld::new(n_items);
    let spec = seq_spec(n_items, max_len);
    let mut store = ParamStore::new(Cpu::default(), 5);
    let m = registry::build::<Retrieval, _>(name, &config, &spec, &mut store).unwrap();
    assert!(m.hints().trims_padding, "{name} should trim padding");
    // Histories of 1..=5 items in a 12-wide window, so the first 7 columns are padding.
    let short = markov_batch(&world, 6, longest, 2, 7);
    let mut full = short.clone();
    let pad = max_len - longest;
    let widen = |v: &[u32], per: usize| -> Vec<u32> {
        v.chunks(longest * per)
            .flat_map(|row| std::iter::repeat_n(0, pad * per).chain(row.iter().copied()))
            .collect()
    };
    full.max_len = max_len;
    full.items = widen(&short.items, 1);
    full.targets = widen(&short.targets, 1);
    full.negatives = widen(&short.negatives, 2);
    full.times = short
        .times
        .chunks(longest)
        .flat_map(|row| std::iter::repeat_n(0, pad).chain(row.iter().copied()))
        .collect();
    let trimmed = trim_window(&full, longest);
    assert_eq!(trimmed, short);
    let (u_full, f_full) = predict(m.as_ref(), &store, &eval_view(&full));
    let (u_trim, f_trim) = predict(m.as_ref(), &store, &eval_view(&trimmed));
    assert!(
        max_abs_diff(&u_full, &u_trim) < 1e-5,
        "{name}: user vectors differ by {}",
        max_abs_diff(&u_full, &u_trim)
    );
    assert!(
        f_trim.model_forward_total() < f_full.model_forward_total(),
        "{name}: the trimmed batch should cost fewer FLOPs"
    );
    let loss = |b: &SeqBatch| m.loss_train(&store, b, &mut Ctx::training()).as_vec()[0];
    let (lf, lt) = (loss(&full), loss(&trimmed));
    assert!((lf - lt).abs() < 1e-5, "{name}: loss {lf} vs {lt}");
}
