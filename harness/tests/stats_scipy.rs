//! Agreement of `harness::stats` with scipy / statsmodels / scikit-learn on fixed
//! inputs. Reference values: `fixtures/stats.json`, made by
//! `python3 harness/tests/fixtures/make_stats_fixtures.py > harness/tests/fixtures/stats.json`
//! (see that script's header); no Python is needed to run these tests.

use harness::stats::{
    delong, holm, paired_bootstrap, paired_randomization, paired_t, summarize, wilcoxon,
    WilcoxonMethod,
};
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stats.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(name: &str, what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "{name}: {what} = {got}, scipy says {want}"
    );
}

#[test]
fn summary_matches_scipy_t_interval() {
    for c in fixtures()["summary"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let s = summarize(&f64s(&c["values"]), 0.95).unwrap();
        close(name, "mean", s.mean, c["mean"].as_f64().unwrap(), 1e-12);
        if c["ci"].is_null() {
            assert_eq!((s.sd, s.ci), (None, None), "{name}");
        } else {
            let ci = f64s(&c["ci"]);
            close(name, "sd", s.sd.unwrap(), c["sd"].as_f64().unwrap(), 1e-12);
            close(name, "ci.lo", s.ci.unwrap().0, ci[0], 1e-9);
            close(name, "ci.hi", s.ci.unwrap().1, ci[1], 1e-9);
        }
    }
}

#[test]
fn paired_t_matches_ttest_rel() {
    for c in fixtures()["paired_t"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let r = paired_t(&f64s(&c["a"]), &f64s(&c["b"]), 0.95).unwrap();
        close(name, "t", r.t, c["t"].as_f64().unwrap(), 1e-9);
        close(name, "p", r.p, c["p"].as_f64().unwrap(), 1e-9);
        close(name, "df", r.df, c["df"].as_f64().unwrap(), 0.0);
        let ci = f64s(&c["ci"]);
        close(name, "ci.lo", r.ci.0, ci[0], 1e-9);
        close(name, "ci.hi", r.ci.1, ci[1], 1e-9);
    }
}

#[test]
fn wilcoxon_matches_scipy_including_ties_and_zeros() {
    let cases = fixtures()["wilcoxon"].as_array().unwrap().clone();
    assert!(cases.len() >= 6);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let r = wilcoxon(&f64s(&c["a"]), &f64s(&c["b"])).unwrap();
        let method = match c["method"].as_str().unwrap() {
            "exact" => WilcoxonMethod::Exact,
            "permutation" => WilcoxonMethod::Permutation,
            _ => WilcoxonMethod::Normal,
        };
        assert_eq!(r.method, method, "{name}");
        close(
            name,
            "statistic",
            r.statistic,
            c["statistic"].as_f64().unwrap(),
            1e-12,
        );
        close(name, "p", r.p, c["p"].as_f64().unwrap(), 1e-9);
    }
}

#[test]
fn holm_matches_statsmodels() {
    for c in fixtures()["holm"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let p: Vec<Option<f64>> = f64s(&c["p"]).into_iter().map(Some).collect();
        let got = holm(&p);
        for (g, w) in got.iter().zip(f64s(&c["adjusted"])) {
            close(name, "adjusted p", g.unwrap(), w, 1e-12);
        }
    }
}

#[test]
fn delong_matches_the_quadratic_definition_and_sklearn_auc() {
    for c in fixtures()["delong"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let a: Vec<f32> = f64s(&c["a"]).iter().map(|&x| x as f32).collect();
        let b: Vec<f32> = f64s(&c["b"]).iter().map(|&x| x as f32).collect();
        let y: Vec<u8> = f64s(&c["labels"]).iter().map(|&x| x as u8).collect();
        let r = delong(&a, &b, &y, 0.95).unwrap();
        for (what, got) in [
            ("auc_a", r.auc_a),
            ("auc_b", r.auc_b),
            ("var_a", r.var_a),
            ("var_b", r.var_b),
            ("cov", r.cov),
            ("z", r.z),
            ("p", r.p),
        ] {
            close(name, what, got, c[what].as_f64().unwrap(), 1e-9);
        }
    }
}

#[test]
fn randomization_matches_exact_permutation_test() {
    for c in fixtures()["randomization"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let r = paired_randomization(&f64s(&c["a"]), &f64s(&c["b"]), &f64s(&c["w"]), 10_000, 0)
            .unwrap();
        assert!(r.exact, "{name}: small group counts are enumerated");
        close(name, "diff", r.diff, c["diff"].as_f64().unwrap(), 1e-12);
        close(name, "p", r.p, c["p"].as_f64().unwrap(), 1e-12);
    }
}

#[test]
fn bootstrap_agrees_with_scipy_within_monte_carlo_error() {
    for c in fixtures()["bootstrap"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let r = paired_bootstrap(
            &f64s(&c["a"]),
            &f64s(&c["b"]),
            &f64s(&c["w"]),
            20_000,
            7,
            0.95,
        )
        .unwrap();
        let se = c["se"].as_f64().unwrap();
        close(name, "diff", r.diff, c["diff"].as_f64().unwrap(), 1e-12);
        // Two independent Monte Carlo runs: allow a few percent of the standard error.
        assert!((r.se - se).abs() < 0.05 * se, "{name}: se {} vs {se}", r.se);
        let ci = f64s(&c["ci"]);
        assert!(
            (r.ci.0 - ci[0]).abs() < 0.1 * se,
            "{name}: lo {} vs {}",
            r.ci.0,
            ci[0]
        );
        assert!(
            (r.ci.1 - ci[1]).abs() < 0.1 * se,
            "{name}: hi {} vs {}",
            r.ci.1,
            ci[1]
        );
    }
}

#[test]
fn randomization_monte_carlo_close_to_exact() {
    // 16 groups: 65,536 sign patterns; 10,000 random ones estimate the exact p.
    let a: Vec<f64> = (0..16).map(|i| 0.6 + 0.01 * (i % 5) as f64).collect();
    let b: Vec<f64> = (0..16).map(|i| 0.59 + 0.012 * (i % 4) as f64).collect();
    let w = vec![1.0; 16];
    let exact = paired_randomization(&a, &b, &w, 1 << 16, 0).unwrap();
    let mc = paired_randomization(&a, &b, &w, 10_000, 1).unwrap();
    assert!(exact.exact && !mc.exact);
    let sd = (exact.p * (1.0 - exact.p) / 10_000.0).sqrt();
    assert!(
        (mc.p - exact.p).abs() < 4.0 * sd + 1e-4,
        "{} vs {}",
        mc.p,
        exact.p
    );
}
