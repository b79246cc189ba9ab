//! ROC AUC as the Mann-Whitney statistic: the probability that a random positive scores
//! above a random negative, ties counting one half. This is exactly what scikit-learn's
//! `roc_auc_score` computes (trapezoids over tie groups = midranks).

use rayon::prelude::*;

use super::radix::sort_items;

/// Above this length the packing pass runs on the rayon pool.
const PAR_MIN: usize = 1 << 16;

/// ROC AUC of `scores` against 0/1 `labels`.
///
/// Returns `None` when only one class is present (AUC is undefined; sklearn raises),
/// `Some(NaN)` when any score is NaN (a diverged model should show up, not be ranked).
/// `-0.0` and `0.0` are one tie, as in sklearn. Panics if the lengths differ.
pub fn auc(scores: &[f32], labels: &[f32]) -> Option<f64> {
    assert_eq!(
        scores.len(),
        labels.len(),
        "auc: scores and labels differ in length"
    );
    let mut items: Vec<u64> = if scores.len() >= PAR_MIN {
        scores
            .par_iter()
            .zip(labels.par_iter())
            .map(|(&s, &l)| item(s, l))
            .collect()
    } else {
        scores
            .iter()
            .zip(labels)
            .map(|(&s, &l)| item(s, l))
            .collect()
    };
    sort_items(&mut items);
    auc_sorted(&items)
}

/// Packs a score and label into one integer whose order is the score order: the
/// score's order-preserving 32-bit key shifted left by one, with the label in bit 0.
#[inline(always)]
pub(crate) fn item(score: f32, label: f32) -> u64 {
    (u64::from(score_key(score)) << 1) | u64::from(label > 0.5)
}

/// Maps an f32 to a u32 with the same order (IEEE total order, -0.0 folded into 0.0).
#[inline(always)]
fn score_key(score: f32) -> u32 {
    let bits = if score == 0.0 { 0 } else { score.to_bits() };
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// True when the key encodes a NaN (of either sign).
#[inline(always)]
fn key_is_nan(key: u64) -> bool {
    let k = key as u32;
    let bits = if k >> 31 == 1 { k & 0x7fff_ffff } else { !k };
    f32::from_bits(bits).is_nan()
}

/// AUC from items sorted ascending: one pass over tie groups, counting for each positive
/// the negatives strictly below it plus half the negatives tied with it. Counts are
/// kept doubled in integers so the result is exact up to the final division.
pub(crate) fn auc_sorted(items: &[u64]) -> Option<f64> {
    let (mut neg_below, mut pos, mut twice_u) = (0u64, 0u64, 0u128);
    let mut i = 0;
    while i < items.len() {
        let key = items[i] >> 1;
        let (mut p, mut q) = (0u64, 0u64);
        while i < items.len() && items[i] >> 1 == key {
            let is_pos = items[i] & 1;
            p += is_pos;
            q += 1 - is_pos;
            i += 1;
        }
        twice_u += u128::from(p) * u128::from(2 * neg_below + q);
        neg_below += q;
        pos += p;
    }
    let neg = neg_below;
    if pos == 0 || neg == 0 {
        return None;
    }
    // NaN keys sort to the two ends.
    if key_is_nan(items[0] >> 1) || key_is_nan(items[items.len() - 1] >> 1) {
        return Some(f64::NAN);
    }
    Some(twice_u as f64 / (2.0 * pos as f64 * neg as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// O(n^2) definition, for cross-checking.
    fn brute(scores: &[f32], labels: &[f32]) -> Option<f64> {
        let (mut u, mut pairs) = (0.0, 0.0);
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] > 0.5 && labels[j] <= 0.5 {
                    pairs += 1.0;
                    u += if si > sj {
                        1.0
                    } else if si == sj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        (pairs > 0.0).then(|| u / pairs)
    }

    #[test]
    fn small_cases() {
        assert_eq!(auc(&[0.1, 0.9], &[0.0, 1.0]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.1], &[0.0, 1.0]), Some(0.0));
        assert_eq!(auc(&[0.5, 0.5], &[0.0, 1.0]), Some(0.5));
        assert_eq!(auc(&[-0.0, 0.0], &[0.0, 1.0]), Some(0.5));
        assert_eq!(
            auc(&[0.1, 0.4, 0.35, 0.8], &[0.0, 0.0, 1.0, 1.0]),
            Some(0.75)
        );
        assert_eq!(auc(&[0.3, 0.2], &[1.0, 1.0]), None);
        assert_eq!(auc(&[], &[]), None);
    }

    #[test]
    fn nan_score_gives_nan() {
        assert!(auc(&[0.1, f32::NAN, 0.3], &[0.0, 1.0, 1.0])
            .unwrap()
            .is_nan());
        assert!(auc(&[0.1, -f32::NAN, 0.3], &[0.0, 1.0, 1.0])
            .unwrap()
            .is_nan());
    }

    #[test]
    fn key_preserves_order() {
        let xs = [
            f32::NEG_INFINITY,
            -3.5,
            -1e-30,
            0.0,
            1e-30,
            2.0,
            f32::INFINITY,
        ];
        for w in xs.windows(2) {
            assert!(score_key(w[0]) < score_key(w[1]), "{} {}", w[0], w[1]);
        }
    }

    #[test]
    fn matches_brute_force_with_ties() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for n in [2, 10, 300, 5000] {
            let scores: Vec<f32> = (0..n)
                .map(|_| rng.gen_range(-5i32..5) as f32 / 2.0)
                .collect();
            let labels: Vec<f32> = (0..n).map(|_| rng.gen_range(0..2) as f32).collect();
            let (a, b) = (auc(&scores, &labels), brute(&scores, &labels));
            match (a, b) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "n={n}: {a} vs {b}"),
                _ => assert_eq!(a, b),
            }
        }
    }

    #[test]
    fn large_parallel_path() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let n = 200_000;
        let labels: Vec<f32> = (0..n).map(|_| rng.gen_range(0..2) as f32).collect();
        // Score = label + noise: AUC well above 0.5; reversing the scores mirrors it.
        let scores: Vec<f32> = labels.iter().map(|&l| l + rng.gen::<f32>() * 2.0).collect();
        let neg: Vec<f32> = scores.iter().map(|s| -s).collect();
        let (a, b) = (auc(&scores, &labels).unwrap(), auc(&neg, &labels).unwrap());
        assert!(a > 0.7, "{a}");
        assert!((a + b - 1.0).abs() < 1e-12);
    }
}
