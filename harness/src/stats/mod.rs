//! Statistics for the leaderboard: summaries over seeds, paired tests between two
//! models, DeLong's test for AUC, resampling tests over groups (users), Holm's
//! correction and rank groups.
//!
//! Every function is checked against scipy / statsmodels / scikit-learn on fixed
//! inputs (`tests/fixtures/stats.json`, made by `tests/fixtures/make_stats_fixtures.py`).
//!
//! Conventions: p-values are two-sided; `None` means "not computable" (too few seeds,
//! one class only) and is shown as "n/a", never as a zero-width interval or p = 0.

pub mod delong;
pub mod holm;
pub mod paired;
pub mod ranking;
pub mod resample;
pub mod summary;

pub use delong::{delong, DeLong};
pub use holm::holm;
pub use paired::{paired_t, wilcoxon, PairedT, Wilcoxon, WilcoxonMethod};
pub use ranking::{rank_groups, RankInput};
pub use resample::{paired_bootstrap, paired_randomization, Bootstrap, Randomization};
pub use summary::{summarize, Summary};

/// Default significance level of the rank groups.
pub const ALPHA: f64 = 0.05;
/// Default number of resamples of the bootstrap and randomization tests.
pub const RESAMPLES: usize = 10_000;

/// Quantile `q` of Student's t with `df` degrees of freedom.
pub(crate) fn t_quantile(q: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(q)
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub(crate) fn t_two_sided_p(t: f64, df: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    let d = StudentsT::new(0.0, 1.0, df).expect("df > 0");
    (2.0 * d.sf(t.abs())).min(1.0)
}

/// Two-sided p-value of a standard normal statistic.
pub(crate) fn z_two_sided_p(z: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    let d = Normal::new(0.0, 1.0).unwrap();
    (2.0 * d.sf(z.abs())).min(1.0)
}

/// Quantile of the standard normal.
pub(crate) fn z_quantile(q: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0).unwrap().inverse_cdf(q)
}
