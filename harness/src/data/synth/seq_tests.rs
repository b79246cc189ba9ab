//! Tests of synth-seq: determinism, generated next items following the stated
//! probabilities, the oracle beating popularity, and that order carries signal.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::data::sequences::{LooView, Stage};
use crate::metrics::retrieval::full_rank;

fn small() -> SynthSeqConfig {
    SynthSeqConfig {
        seed: 7,
        n_users: 300,
        n_items: 200,
        n_topics: 8,
        latent_dim: 8,
        mean_length: 12.0,
        ..Default::default()
    }
}

fn sorted(h: &[u32]) -> Vec<u32> {
    let mut s = h.to_vec();
    s.sort_unstable();
    s.dedup();
    s
}

#[test]
fn same_config_same_sequences_and_the_seed_matters() {
    let a = synth_seq(&small()).unwrap();
    let b = synth_seq(&small()).unwrap();
    assert_eq!(a.seqs, b.seqs);
    let c = synth_seq(&SynthSeqConfig { seed: 8, ..small() }).unwrap();
    assert_ne!(a.seqs.items, c.seqs.items);
    let s = &a.seqs;
    assert_eq!(s.n_users(), 300);
    for u in 0..s.n_users() {
        let q = s.seq(u);
        assert!(q.len() >= 5 && q.len() <= 200);
        assert_eq!(sorted(q).len(), q.len(), "user {u} repeats an item");
        assert!(q.iter().all(|&i| (1..=200).contains(&i)));
    }
    let mean = s.n_events() as f64 / s.n_users() as f64;
    assert!((mean - 12.0).abs() < 1.0, "mean length {mean}");
}

#[test]
fn next_probabilities_are_a_distribution_over_unconsumed_items() {
    let w = SeqWorld::new(&small()).unwrap();
    let p = w.next_probs(3, &[5, 9]);
    assert_eq!((p[0], p[5], p[9]), (0.0, 0.0, 0.0));
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    // The oracle vectors give exactly the logits the probabilities come from.
    let (q, items, d) = (w.oracle_user(3, &[5, 9]), w.oracle_items(), w.dim() + 1);
    let l = w.logits(3, Some(9));
    for i in [1usize, 17, 200] {
        let s: f32 = q
            .iter()
            .zip(&items[i * d..(i + 1) * d])
            .map(|(a, b)| a * b)
            .sum();
        assert!((s as f64 - l[i]).abs() < 1e-4, "item {i}: {s} vs {}", l[i]);
    }
}

/// Randomized probability integral transform of each generated step: with `p` the stated
/// next-item distribution and `r` the item drawn, `sum_{p_j > p_r} p_j + V p_r` (V
/// uniform) is uniform on [0, 1) exactly when the draws follow `p`. A generator that used
/// the wrong context (another user's taste, the wrong last item, repeats) piles mass at
/// the top. 10 bins, Pearson chi-square with 9 degrees of freedom: 27.9 is its 99.9%
/// quantile.
#[test]
fn generated_next_items_follow_the_stated_probabilities() {
    let data = synth_seq(&small()).unwrap();
    let (w, s) = (&data.world, &data.seqs);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut bins = [0usize; 10];
    let mut expected = vec![0.0f64; w.n_items() + 1];
    let mut observed = vec![0.0f64; w.n_items() + 1];
    for u in 0..s.n_users() {
        let q = s.seq(u);
        for t in 0..q.len() {
            let p = w.next_probs(u, &q[..t]);
            let r = q[t] as usize;
            let above: f64 = p.iter().filter(|&&x| x > p[r]).sum();
            let pit = above + rng.gen::<f64>() * p[r];
            bins[((pit * 10.0) as usize).min(9)] += 1;
            p.iter().zip(expected.iter_mut()).for_each(|(x, e)| *e += x);
            observed[r] += 1.0;
        }
    }
    let n: usize = bins.iter().sum();
    let e = n as f64 / 10.0;
    let chi: f64 = bins.iter().map(|&b| (b as f64 - e).powi(2) / e).sum();
    assert!(chi < 27.9, "PIT chi-square {chi:.1} (bins {bins:?})");
    // Marginal item counts against the summed probabilities (items with E >= 5, the rest
    // pooled). Each count is a sum of independent Bernoullis, so its variance is below E
    // and the statistic is at most chi-square in distribution: df + 4 sqrt(2 df) is a
    // generous bound.
    let (mut stat, mut df, mut pool_e, mut pool_o) = (0.0, 0usize, 0.0, 0.0);
    for i in 1..expected.len() {
        if expected[i] >= 5.0 {
            stat += (observed[i] - expected[i]).powi(2) / expected[i];
            df += 1;
        } else {
            pool_e += expected[i];
            pool_o += observed[i];
        }
    }
    if pool_e > 0.0 {
        stat += (pool_o - pool_e).powi(2) / pool_e;
        df += 1;
    }
    let df = (df - 1) as f64;
    assert!(
        stat < df + 4.0 * (2.0 * df).sqrt(),
        "item-count chi-square {stat:.1} with {df} df"
    );
}

/// HR@10 on the test position of every user, for a scorer giving each item a score.
fn hr10(s: &Sequences, score: impl Fn(usize, &[u32]) -> Vec<f32>) -> f64 {
    let mut hits = 0;
    for u in 0..s.n_users() {
        let (hist, _, target) = LooView::new(s, u).eval(Stage::Test);
        let scores = score(u, hist);
        hits += (full_rank(&scores, target, &sorted(hist)) < 10) as usize;
    }
    hits as f64 / s.n_users() as f64
}

#[test]
fn oracle_beats_popularity_and_the_transition_carries_signal() {
    let data = synth_seq(&SynthSeqConfig {
        n_users: 600,
        ..small()
    })
    .unwrap();
    let (w, s) = (&data.world, &data.seqs);
    let counts = s.train_counts();
    let pop = hr10(s, |_, _| counts.iter().map(|&c| c as f32).collect());
    let logits = |u: usize, last: Option<u32>| -> Vec<f32> {
        w.logits(u, last).iter().map(|&x| x as f32).collect()
    };
    let oracle = hr10(s, |u, h| logits(u, h.last().copied()));
    let no_transition = hr10(s, |u, _| logits(u, None));
    eprintln!("HR@10 popularity {pop:.3}, oracle {oracle:.3}, taste-only {no_transition:.3}");
    assert!(oracle > pop + 0.1, "oracle {oracle} vs popularity {pop}");
    assert!(
        oracle > no_transition + 0.1,
        "oracle {oracle} vs taste-only {no_transition}"
    );
}

#[test]
fn bad_configs_name_the_field() {
    for (cfg, field) in [
        (
            SynthSeqConfig {
                min_length: 2,
                ..small()
            },
            "min_length",
        ),
        (
            SynthSeqConfig {
                n_items: 0,
                ..small()
            },
            "n_items",
        ),
        (
            SynthSeqConfig {
                taste_scale: f64::NAN,
                ..small()
            },
            "taste_scale",
        ),
    ] {
        let err = synth_seq(&cfg).unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
}
