//! Negatives drawn by popularity for the popularity-sampled evaluation protocol
//! (metrics suffixed `_p<N>`): BERT4Rec (Sun et al. 2019, arXiv 1904.06690, Sec. 4.2)
//! ranks the held-out item against 100 negatives "sampled according to their
//! popularity", and its figures on the same Beauty file are only comparable under that
//! protocol.
//!
//! Popularity here is an item's count over the training prefixes (the same counts the
//! popularity baseline ranks by, so no held-out event shapes the sampler), plus one so
//! that every item can be drawn. Negatives are distinct, never the target, never an
//! item the user has seen: drawn by rejection from the weighted distribution, and, when
//! a user has seen most of the popular mass (rejections pile up), completed uniformly
//! from the remaining eligible items.

use rand::distributions::{Distribution, WeightedIndex};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Draws per wanted negative before the uniform completion takes over.
const TRIES_PER_NEGATIVE: usize = 50;

/// The weighted item distribution, built once per task and shared by every user.
#[derive(Debug, Clone)]
pub struct PopularitySampler {
    dist: WeightedIndex<u64>,
    n_items: u32,
}

impl PopularitySampler {
    /// `counts[i]` = item `i`'s training count (index 0 = padding, never drawn).
    /// Panics when there is no item.
    pub fn new(counts: &[u32]) -> PopularitySampler {
        assert!(counts.len() >= 2, "popularity sampler: no items");
        let weights = (1..counts.len()).map(|i| counts[i] as u64 + 1);
        PopularitySampler {
            dist: WeightedIndex::new(weights).expect("positive weights"),
            n_items: (counts.len() - 1) as u32,
        }
    }

    /// `n` distinct items outside `seen` (ascending) and `target`, each drawn with
    /// probability proportional to its weight among those not yet drawn; every such
    /// item when there are at most `n`.
    pub fn sample(&self, seen: &[u32], target: u32, n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
        let excluded = |i: u32| i == target || seen.binary_search(&i).is_ok();
        let mut out: Vec<u32> = Vec::with_capacity(n);
        let mut tries = 0;
        while out.len() < n && tries < TRIES_PER_NEGATIVE * n {
            tries += 1;
            let i = self.dist.sample(rng) as u32 + 1;
            if !excluded(i) && !out.contains(&i) {
                out.push(i);
            }
        }
        if out.len() < n {
            let mut rest: Vec<u32> = (1..=self.n_items)
                .filter(|&i| !excluded(i) && !out.contains(&i))
                .collect();
            rest.shuffle(rng);
            rest.truncate(n - out.len());
            out.extend(rest);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Item i has count 10 i (weights 10 i + 1): draws are distinct, unseen, never the
    /// target, and an item is drawn about in proportion to its weight.
    #[test]
    fn negatives_are_distinct_unseen_and_follow_popularity() {
        let counts: Vec<u32> = (0..=200).map(|i| 10 * i).collect();
        let sampler = PopularitySampler::new(&counts);
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let seen = [3, 150, 200];
        let mut drawn = vec![0usize; 201];
        for _ in 0..3000 {
            let s = sampler.sample(&seen, 7, 5, &mut rng);
            assert_eq!(s.len(), 5);
            let mut d = s.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), 5, "distinct");
            for &i in &s {
                assert!(!seen.contains(&i) && i != 7 && (1..=200).contains(&i));
                drawn[i as usize] += 1;
            }
        }
        // 5 of 197 eligible items a draw: close to with-replacement proportions.
        let ratio = drawn[180] as f64 / drawn[20].max(1) as f64;
        assert!((6.0..13.0).contains(&ratio), "181/21 ≈ 8.6, got {ratio}");
        assert!(
            drawn[100] > 10 * drawn[1].max(1) / 2,
            "{} vs {}",
            drawn[100],
            drawn[1]
        );
    }

    /// A user who has seen almost every popular item still gets n negatives (the
    /// uniform completion), and every eligible item when fewer than n exist.
    #[test]
    fn completes_when_the_popular_mass_is_seen() {
        let mut counts = vec![0u32; 11];
        counts[1] = 1_000_000;
        let sampler = PopularitySampler::new(&counts);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let s = sampler.sample(&[1], 2, 4, &mut rng);
        assert_eq!(s.len(), 4);
        assert!(s.iter().all(|&i| (3..=10).contains(&i)));
        let mut all = sampler.sample(&[1, 2, 3], 4, 100, &mut rng);
        all.sort_unstable();
        assert_eq!(all, vec![5, 6, 7, 8, 9, 10]);
    }
}
