//! Paired resampling tests over groups (users) for a per-group metric such as the
//! per-user AUC behind GAUC.
//!
//! Each group g has the two models' values a_g, b_g and a weight w_g (GAUC weights a
//! user by their number of test examples; use 1 for a plain mean). The statistic is the
//! weighted mean difference T = sum_g w_g (a_g - b_g) / sum_g w_g, which for GAUC is
//! exactly GAUC(a) - GAUC(b). Groups, not examples, are resampled: a user's examples are
//! correlated, so the user is the independent unit.
//!
//! * Paired bootstrap (Efron): draw G groups with replacement, B times; report the
//!   standard error and the percentile CI of T* (linear interpolation between order
//!   statistics, as numpy.percentile), and the two-sided percentile p-value
//!   min(1, 2 min(P*(T* <= 0), P*(T* >= 0))).
//! * Paired randomization (sign-flip permutation): under H0 "the models are
//!   exchangeable within a group" each difference keeps or flips its sign with
//!   probability 1/2. p = (1 + #{|T*| >= |T|}) / (B + 1) (Monte Carlo, never 0); when
//!   2^G <= B every sign pattern is enumerated and p = #{|T*| >= |T|} / 2^G, as
//!   scipy.stats.permutation_test(permutation_type="samples") returns exactly.
//!
//! Resample b draws from its own xoshiro256++ generator seeded by SplitMix64 from
//! (seed, b), so results are the same for any number of threads; resamples run in
//! parallel on the rayon pool. (A statistical, not cryptographic, generator: the inner
//! loop is one draw per group, and xoshiro is several times faster than ChaCha here.)
//! Indices are drawn by 64-bit multiply-shift (Lemire), whose bias g / 2^64 is nil.

use rayon::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bootstrap {
    pub groups: usize,
    pub diff: f64,
    pub se: f64,
    pub ci: (f64, f64),
    pub level: f64,
    pub p: f64,
    pub resamples: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Randomization {
    pub groups: usize,
    pub diff: f64,
    pub p: f64,
    /// Sign patterns evaluated (2^G when exact).
    pub resamples: usize,
    pub exact: bool,
    pub seed: u64,
}

/// Checks inputs and returns (w * d, sum w, observed T). None when there is no group
/// or the weights sum to zero.
fn prepare(a: &[f64], b: &[f64], w: &[f64]) -> Option<(Vec<f64>, f64, f64)> {
    assert!(
        a.len() == b.len() && a.len() == w.len(),
        "resample: lengths differ"
    );
    let wsum: f64 = w.iter().sum();
    if a.is_empty() || wsum <= 0.0 || a.iter().chain(b).any(|x| x.is_nan()) {
        return None;
    }
    let wd: Vec<f64> = a
        .iter()
        .zip(b)
        .zip(w)
        .map(|((x, y), w)| w * (x - y))
        .collect();
    let t = wd.iter().sum::<f64>() / wsum;
    Some((wd, wsum, t))
}

/// xoshiro256++ (Blackman & Vigna 2018).
struct Xoshiro([u64; 4]);

impl Xoshiro {
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let out = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform index in 0..n.
    #[inline(always)]
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn rng_for(seed: u64, stream: u64) -> Xoshiro {
    let mut x = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let _ = splitmix(&mut x);
    Xoshiro([
        splitmix(&mut x),
        splitmix(&mut x),
        splitmix(&mut x),
        splitmix(&mut x),
    ])
}

/// Paired bootstrap over groups (see module doc). None for no groups.
pub fn paired_bootstrap(
    a: &[f64],
    b: &[f64],
    w: &[f64],
    resamples: usize,
    seed: u64,
    level: f64,
) -> Option<Bootstrap> {
    let (wd, _, t) = prepare(a, b, w)?;
    let g = wd.len();
    // (w d, w) side by side: one cache line per draw.
    let pairs: Vec<(f64, f64)> = wd.iter().copied().zip(w.iter().copied()).collect();
    let mut stats: Vec<f64> = (0..resamples as u64)
        .into_par_iter()
        .map(|r| {
            let mut rng = rng_for(seed, r);
            let (mut num, mut den) = (0.0, 0.0);
            for _ in 0..g {
                let (x, y) = pairs[rng.below(g)];
                num += x;
                den += y;
            }
            if den > 0.0 {
                num / den
            } else {
                0.0
            }
        })
        .collect();
    stats.par_sort_unstable_by(f64::total_cmp);
    let bm = stats.iter().sum::<f64>() / resamples as f64;
    let se = (stats.iter().map(|x| (x - bm).powi(2)).sum::<f64>() / (resamples.max(2) - 1) as f64)
        .sqrt();
    let lo = percentile(&stats, (1.0 - level) / 2.0);
    let hi = percentile(&stats, 0.5 + level / 2.0);
    // Two-sided percentile p with the add-one estimate, as the randomization test: a
    // finite number of resamples cannot show a p below about 1 / (resamples + 1).
    let le = stats.partition_point(|&x| x <= 0.0);
    let ge = resamples - stats.partition_point(|&x| x < 0.0);
    let p = 2.0 * (le.min(ge) + 1) as f64 / (resamples + 1) as f64;
    Some(Bootstrap {
        groups: g,
        diff: t,
        se,
        ci: (lo, hi),
        level,
        p: p.min(1.0),
        resamples,
        seed,
    })
}

/// numpy.percentile (linear) of sorted values at quantile q in [0, 1].
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    if i + 1 < sorted.len() {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

/// Paired sign-flip randomization test over groups (see module doc).
pub fn paired_randomization(
    a: &[f64],
    b: &[f64],
    w: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<Randomization> {
    let (wd, wsum, t) = prepare(a, b, w)?;
    let g = wd.len();
    let thresh = t.abs() * (1.0 - 1e-12);
    // One random bit per group flips the sign bit of w d (branch-free).
    let flipped = |signs: &mut dyn FnMut() -> u64| {
        let mut s = 0.0;
        for chunk in wd.chunks(64) {
            let bits = signs();
            for (j, x) in chunk.iter().enumerate() {
                s += f64::from_bits(x.to_bits() ^ (((bits >> j) & 1) << 63));
            }
        }
        (s / wsum).abs() >= thresh
    };
    if g < 63 && (1u64 << g) <= resamples as u64 {
        let total = 1u64 << g;
        let hits = (0..total)
            .into_par_iter()
            .filter(|&mask| flipped(&mut || mask))
            .count();
        return Some(Randomization {
            groups: g,
            diff: t,
            p: hits as f64 / total as f64,
            resamples: total as usize,
            exact: true,
            seed,
        });
    }
    let hits = (0..resamples as u64)
        .into_par_iter()
        .filter(|&r| {
            let mut rng = rng_for(seed, r);
            flipped(&mut || rng.next_u64())
        })
        .count();
    Some(Randomization {
        groups: g,
        diff: t,
        p: (1 + hits) as f64 / (resamples + 1) as f64,
        resamples,
        exact: false,
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_and_thread_independent() {
        let a: Vec<f64> = (0..500).map(|i| (i % 7) as f64 / 7.0).collect();
        let b: Vec<f64> = (0..500).map(|i| (i % 5) as f64 / 5.0).collect();
        let w = vec![1.0; 500];
        let x = paired_bootstrap(&a, &b, &w, 2000, 3, 0.95).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let y = pool.install(|| paired_bootstrap(&a, &b, &w, 2000, 3, 0.95).unwrap());
        assert_eq!(x, y);
        let r1 = paired_randomization(&a, &b, &w, 2000, 3).unwrap();
        let r2 = pool.install(|| paired_randomization(&a, &b, &w, 2000, 3).unwrap());
        assert_eq!(r1, r2);
        assert!(!r1.exact);
    }

    #[test]
    fn identical_models_never_significant() {
        let a = vec![0.6, 0.7, 0.8, 0.9];
        let r = paired_randomization(&a, &a, &[1.0; 4], 10_000, 0).unwrap();
        assert!(r.exact && r.p == 1.0);
        let bs = paired_bootstrap(&a, &a, &[1.0; 4], 1000, 0, 0.95).unwrap();
        assert_eq!((bs.p, bs.ci), (1.0, (0.0, 0.0)));
    }
}
