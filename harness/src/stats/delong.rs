//! DeLong's test for two correlated ROC AUCs measured on the same examples
//! (DeLong, DeLong & Clarke-Pearson 1988), with the fast midrank algorithm of
//! Sun & Xu (IEEE SPL 2014): O(N log N) instead of O(m n).
//!
//! For m positives x_i and n negatives y_j of model r, the structural components are
//! the placements V10_i = (1/n) sum_j psi(x_i, y_j) and V01_j = (1/m) sum_i psi(x_i, y_j),
//! psi = 1 if x > y, 1/2 if tied, 0 otherwise. AUC_r = mean_i V10_i. Sun & Xu obtain
//! them from midranks; here one sort per model by score and one pass over tie groups
//! gives every placement directly (the same numbers: V10_i = (#neg below x_i + half
//! the tied negatives) / n). With S10 and S01 the 2x2 sample covariances (ddof = 1)
//! of the placements over positives and negatives,
//!
//!   Var(AUC_a - AUC_b) = L (S10 / m + S01 / n) L',   L = (1, -1),
//!   z = (AUC_a - AUC_b) / sqrt(Var),   p = 2 (1 - Phi(|z|)),
//!
//! and the effect size is the difference with the CI diff -/+ z_{.975} sqrt(Var).

use rayon::prelude::*;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeLong {
    pub auc_a: f64,
    pub auc_b: f64,
    pub diff: f64,
    pub var_a: f64,
    pub var_b: f64,
    pub cov: f64,
    pub se_diff: f64,
    pub z: f64,
    pub p: f64,
    pub ci: (f64, f64),
    pub level: f64,
    pub positives: usize,
    pub negatives: usize,
}

/// DeLong's test of AUC(a) vs AUC(b) on the same examples (label != 0 is positive).
/// None when a class has fewer than 2 examples (no variance) or a score is NaN.
/// Identical placements (e.g. identical scores) give z = 0, p = 1.
pub fn delong(a: &[f32], b: &[f32], labels: &[u8], level: f64) -> Option<DeLong> {
    assert!(
        a.len() == labels.len() && b.len() == labels.len(),
        "delong: lengths differ"
    );
    let m = labels.iter().filter(|&&l| l != 0).count();
    let n = labels.len() - m;
    if m < 2 || n < 2 || a.iter().chain(b).any(|s| s.is_nan()) {
        return None;
    }
    let (pa, pb) = rayon::join(
        || placements(a, labels, m, n),
        || placements(b, labels, m, n),
    );
    // Means: positives' placements average to the AUC; negatives' too.
    let (auc_a, auc_b) = mean_pair(&pa, &pb, labels, true, m);
    let (na, nb) = mean_pair(&pa, &pb, labels, false, n);
    let s10 = cov2(&pa, &pb, labels, true, (auc_a, auc_b), m);
    let s01 = cov2(&pa, &pb, labels, false, (na, nb), n);
    let (m, n) = (m as f64, n as f64);
    let var_a = s10[0] / m + s01[0] / n;
    let var_b = s10[2] / m + s01[2] / n;
    let cov = s10[1] / m + s01[1] / n;
    let diff = auc_a - auc_b;
    let var = (var_a + var_b - 2.0 * cov).max(0.0);
    let se = var.sqrt();
    let (z, p) = if se > 0.0 {
        let z = diff / se;
        (z, super::z_two_sided_p(z))
    } else if diff == 0.0 {
        (0.0, 1.0)
    } else {
        (diff.signum() * f64::INFINITY, 0.0)
    };
    let half = super::z_quantile(0.5 + level / 2.0) * se;
    Some(DeLong {
        auc_a,
        auc_b,
        diff,
        var_a,
        var_b,
        cov,
        se_diff: se,
        z,
        p,
        ci: (diff - half, diff + half),
        level,
        positives: m as usize,
        negatives: n as usize,
    })
}

/// Order-preserving u32 key of an f32 (-0.0 folded into 0.0).
#[inline(always)]
fn score_key(s: f32) -> u32 {
    let bits = if s == 0.0 { 0 } else { s.to_bits() };
    if bits >> 31 == 1 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// Placement of every example: V10 for positives, V01 for negatives (see module doc).
fn placements(scores: &[f32], labels: &[u8], m: usize, n: usize) -> Vec<f64> {
    assert!(scores.len() < u32::MAX as usize);
    let mut keys: Vec<u64> = scores
        .par_iter()
        .enumerate()
        .map(|(i, &s)| (u64::from(score_key(s)) << 32) | i as u64)
        .collect();
    keys.par_sort_unstable();
    let mut out = vec![0.0; scores.len()];
    let (mut neg_below, mut pos_below) = (0usize, 0usize);
    let mut i = 0;
    while i < keys.len() {
        let key = keys[i] >> 32;
        let mut j = i;
        let (mut p, mut q) = (0usize, 0usize);
        while j < keys.len() && keys[j] >> 32 == key {
            if labels[(keys[j] & 0xffff_ffff) as usize] != 0 {
                p += 1;
            } else {
                q += 1;
            }
            j += 1;
        }
        let v10 = (neg_below as f64 + q as f64 / 2.0) / n as f64;
        let v01 = ((m - pos_below - p) as f64 + p as f64 / 2.0) / m as f64;
        for &k in &keys[i..j] {
            let idx = (k & 0xffff_ffff) as usize;
            out[idx] = if labels[idx] != 0 { v10 } else { v01 };
        }
        neg_below += q;
        pos_below += p;
        i = j;
    }
    out
}

fn mean_pair(a: &[f64], b: &[f64], labels: &[u8], pos: bool, k: usize) -> (f64, f64) {
    let (sa, sb) = (0..labels.len())
        .into_par_iter()
        .filter(|&i| (labels[i] != 0) == pos)
        .map(|i| (a[i], b[i]))
        .reduce(|| (0.0, 0.0), |x, y| (x.0 + y.0, x.1 + y.1));
    (sa / k as f64, sb / k as f64)
}

/// Sample covariance matrix [aa, ab, bb] (ddof = 1) over one class.
fn cov2(a: &[f64], b: &[f64], labels: &[u8], pos: bool, mean: (f64, f64), k: usize) -> [f64; 3] {
    let s = (0..labels.len())
        .into_par_iter()
        .filter(|&i| (labels[i] != 0) == pos)
        .map(|i| {
            let (x, y) = (a[i] - mean.0, b[i] - mean.1);
            [x * x, x * y, y * y]
        })
        .reduce(|| [0.0; 3], |u, v| [u[0] + v[0], u[1] + v[1], u[2] + v[2]]);
    let d = (k - 1) as f64;
    [s[0] / d, s[1] / d, s[2] / d]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_models_are_not_different() {
        let s = [0.1, 0.4, 0.35, 0.8, 0.5];
        let l = [0, 0, 1, 1, 1];
        let d = delong(&s, &s, &l, 0.95).unwrap();
        assert_eq!((d.z, d.p), (0.0, 1.0));
        assert!((d.auc_a - crate::metrics::auc(&s, &[0., 0., 1., 1., 1.]).unwrap()).abs() < 1e-15);
    }

    #[test]
    fn too_few_of_a_class() {
        assert!(delong(&[0.1, 0.2, 0.3], &[0.1, 0.2, 0.3], &[0, 1, 1], 0.95).is_none());
    }
}
