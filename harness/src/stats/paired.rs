//! Paired tests over seeds: the paired t-test and the Wilcoxon signed-rank test.
//!
//! Pairs are (model A, model B) results with the same seed, so seed-to-seed variation
//! shared by both models (data order, initialisation stream) cancels in d_i = a_i - b_i.
//!
//! * Paired t: t = mean(d) / (sd(d) / sqrt(n)), df = n - 1 (scipy.stats.ttest_rel).
//!   The effect size is mean(d) with the Student-t CI mean(d) -/+ t_{.975,n-1} sd/sqrt(n).
//! * Wilcoxon signed-rank, as scipy.stats.wilcoxon with its defaults
//!   (zero_method="wilcox", correction=False, method="auto"): zero differences are
//!   dropped, |d| is ranked with midranks for ties, R+ is the rank sum of the positive
//!   differences and the statistic is min(R+, R-). Three ways to the p-value, chosen
//!   as scipy 1.17's method="auto" chooses (n = pairs, zeros included):
//!   - `Exact`: no zeros and no ties and n <= 50: the null distribution of R+ over the
//!     2^n equally likely sign patterns, counted by dynamic programming;
//!     p = min(1, 2 min(P(R+ <= r), P(R+ >= r))).
//!   - `Permutation`: zeros or ties and n <= 13: the same sign-flip null, enumerated
//!     over the actual (mid)ranks of the nonzero differences, so it stays exact with ties.
//!   - `Normal`: otherwise, z = (R+ - k(k+1)/4) / sigma over the k nonzero differences,
//!     sigma^2 = k(k+1)(2k+1)/24 - sum_t (t^3 - t)/48 over tie groups of size t, and
//!     p = 2 (1 - Phi(|z|)), without continuity correction.
//!
//!   With 3 seeds the smallest exact two-sided p is 0.25: the signed-rank test cannot
//!   reject with so few seeds, which is why the rank groups use the t-test.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedT {
    pub n: usize,
    pub mean_diff: f64,
    pub sd_diff: f64,
    pub t: f64,
    pub df: f64,
    pub p: f64,
    /// CI of the mean difference at `level`.
    pub ci: (f64, f64),
    pub level: f64,
}

/// Paired t-test of `a` against `b` (equal lengths). None for fewer than 2 pairs.
///
/// Degenerate case (every difference equal): scipy returns NaN when all are zero; here
/// identical results give t = 0, p = 1, and a constant nonzero difference gives
/// t = +/-inf, p = 0.
pub fn paired_t(a: &[f64], b: &[f64], level: f64) -> Option<PairedT> {
    assert_eq!(a.len(), b.len(), "paired_t: lengths differ");
    let n = a.len();
    if n < 2 {
        return None;
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let se = sd / (n as f64).sqrt();
    let df = (n - 1) as f64;
    let (t, p) = if se > 0.0 {
        let t = mean / se;
        (t, super::t_two_sided_p(t, df))
    } else if mean == 0.0 {
        (0.0, 1.0)
    } else {
        (mean.signum() * f64::INFINITY, 0.0)
    };
    let half = super::t_quantile(0.5 + level / 2.0, df) * se;
    Some(PairedT {
        n,
        mean_diff: mean,
        sd_diff: sd,
        t,
        df,
        p,
        ci: (mean - half, mean + half),
        level,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WilcoxonMethod {
    Exact,
    Permutation,
    Normal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// Pairs given.
    pub n: usize,
    /// Zero differences dropped.
    pub zeros: usize,
    /// min(R+, R-), as scipy reports for the two-sided test.
    pub statistic: f64,
    pub r_plus: f64,
    pub p: f64,
    pub method: WilcoxonMethod,
}

/// Wilcoxon signed-rank test of `a` against `b`, two-sided (see the module doc).
/// None when there is no pair. All differences zero gives statistic 0 and p = 1
/// (scipy returns NaN there).
pub fn wilcoxon(a: &[f64], b: &[f64]) -> Option<Wilcoxon> {
    assert_eq!(a.len(), b.len(), "wilcoxon: lengths differ");
    let n_all = a.len();
    if n_all == 0 {
        return None;
    }
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x - y)
        .filter(|d| *d != 0.0)
        .collect();
    let zeros = n_all - d.len();
    let n = d.len();
    if n == 0 {
        return Some(Wilcoxon {
            n: n_all,
            zeros,
            statistic: 0.0,
            r_plus: 0.0,
            p: 1.0,
            method: WilcoxonMethod::Normal,
        });
    }
    let abs: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let (ranks, tie_sizes) = midranks(&abs);
    let r_plus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    let r_minus = total - r_plus;
    let statistic = r_plus.min(r_minus) + 0.0; // + 0.0 turns -0.0 into 0.0
    let has_ties = tie_sizes.iter().any(|&t| t > 1);
    let (p, method) = if n_all <= 50 && zeros == 0 && !has_ties {
        (exact_p(n, statistic), WilcoxonMethod::Exact)
    } else if n_all <= 13 {
        (permutation_p(&ranks, r_plus), WilcoxonMethod::Permutation)
    } else {
        let nf = n as f64;
        let mean = nf * (nf + 1.0) / 4.0;
        let tie_term: f64 = tie_sizes
            .iter()
            .map(|&t| {
                let t = t as f64;
                t * t * t - t
            })
            .sum::<f64>()
            / 48.0;
        let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term;
        let z = (r_plus - mean) / var.sqrt();
        (super::z_two_sided_p(z), WilcoxonMethod::Normal)
    };
    Some(Wilcoxon {
        n: n_all,
        zeros,
        statistic,
        r_plus,
        p,
        method,
    })
}

/// Two-sided exact p = min(1, 2 P(R+ <= s)) for s = min(R+, R-) under the null where
/// each of the n ranks carries a + sign with probability 1/2 independently.
fn exact_p(n: usize, s: f64) -> f64 {
    let max = n * (n + 1) / 2;
    // counts[k] = number of subsets of {1..n} with sum k (f64: 2^50 is exact).
    let mut counts = vec![0f64; max + 1];
    counts[0] = 1.0;
    for r in 1..=n {
        for k in (r..=max).rev() {
            counts[k] += counts[k - r];
        }
    }
    let s = s.floor() as usize;
    let below: f64 = counts[..=s.min(max)].iter().sum();
    (2.0 * below / 2f64.powi(n as i32)).min(1.0)
}

/// Two-sided p of R+ = `r_plus` under every sign pattern of the given ranks (k <= 13),
/// as scipy.stats.permutation_test: 2 min(P(null <= r), P(null >= r)), capped at 1.
fn permutation_p(ranks: &[f64], r_plus: f64) -> f64 {
    let k = ranks.len();
    let total = 1usize << k;
    let tol = 1e-12 * r_plus.abs().max(1.0);
    let (mut le, mut ge) = (0usize, 0usize);
    for mask in 0..total {
        let s: f64 = (0..k)
            .filter(|i| mask >> i & 1 == 1)
            .map(|i| ranks[i])
            .sum();
        le += usize::from(s <= r_plus + tol);
        ge += usize::from(s >= r_plus - tol);
    }
    (2.0 * le.min(ge) as f64 / total as f64).min(1.0)
}

/// Midranks (1-based, ties get the mean of their positions) and the tie group sizes.
pub(crate) fn midranks(x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut ranks = vec![0.0; x.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        ties.push(j - i + 1);
        i = j + 1;
    }
    (ranks, ties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_pairs() {
        assert!(paired_t(&[1.0], &[0.5], 0.95).is_none());
        assert!(wilcoxon(&[], &[]).is_none());
    }

    #[test]
    fn identical_results_are_not_different() {
        let t = paired_t(&[0.7, 0.8], &[0.7, 0.8], 0.95).unwrap();
        assert_eq!((t.t, t.p), (0.0, 1.0));
        let w = wilcoxon(&[0.7, 0.8], &[0.7, 0.8]).unwrap();
        assert_eq!((w.zeros, w.p), (2, 1.0));
    }

    #[test]
    fn three_seeds_exact_floor() {
        let w = wilcoxon(&[0.9, 0.91, 0.92], &[0.1, 0.2, 0.3]).unwrap();
        assert_eq!(w.method, WilcoxonMethod::Exact);
        assert!((w.p - 0.25).abs() < 1e-15);
    }
}
