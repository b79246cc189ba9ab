//! Mean, sample standard deviation and Student-t confidence interval over seeds.
//!
//! For values x_1..x_n: mean m = sum x_i / n, s = sqrt(sum (x_i - m)^2 / (n - 1)),
//! CI = m -/+ t_{1 - a/2, n - 1} * s / sqrt(n). Seeds are few (3-5), so the t quantile
//! matters: at n = 3 it is 4.30, not 1.96. With n < 2 there is no spread to estimate
//! and `sd`/`ci` are `None` (shown as "n/a (1 seed)").

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    /// Sample standard deviation (ddof = 1); None for n < 2.
    pub sd: Option<f64>,
    /// Two-sided confidence interval for the mean; None for n < 2.
    pub ci: Option<(f64, f64)>,
    pub level: f64,
}

/// Summary of `values` with a `level` (e.g. 0.95) confidence interval. None when empty.
pub fn summarize(values: &[f64], level: f64) -> Option<Summary> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let (sd, ci) = if n >= 2 {
        let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        let half = super::t_quantile(0.5 + level / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt();
        (Some(sd), Some((mean - half, mean + half)))
    } else {
        (None, None)
    };
    Some(Summary {
        n,
        mean,
        sd,
        ci,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_has_no_interval() {
        let s = summarize(&[0.7], 0.95).unwrap();
        assert_eq!((s.sd, s.ci), (None, None));
        assert!(summarize(&[], 0.95).is_none());
    }

    #[test]
    fn three_seeds_use_t_quantile() {
        let s = summarize(&[1.0, 2.0, 3.0], 0.95).unwrap();
        assert!((s.sd.unwrap() - 1.0).abs() < 1e-12);
        let (lo, hi) = s.ci.unwrap();
        // t_{0.975, 2} = 4.302652729911275
        assert!((hi - 2.0 - 4.302652729911275 / 3f64.sqrt()).abs() < 1e-9);
        assert!((2.0 - lo - (hi - 2.0)).abs() < 1e-12);
    }
}
