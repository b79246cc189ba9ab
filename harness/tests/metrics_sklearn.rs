//! Agreement with scikit-learn on fixed vectors. The reference values live in
//! `fixtures/metrics.json` (made by `fixtures/make_metric_fixtures.py`), so these tests
//! need no Python.

use harness::metrics::{auc, gauc, logloss, logloss_from_logits, LOGLOSS_EPS};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixtures {
    auc: Vec<AucCase>,
    logloss: Vec<LoglossCase>,
    logloss_from_logits: Vec<LogitCase>,
    gauc: Vec<GaucCase>,
}

#[derive(Deserialize)]
struct AucCase {
    name: String,
    scores: Vec<f32>,
    labels: Vec<f32>,
    auc: Option<f64>,
}

#[derive(Deserialize)]
struct LoglossCase {
    name: String,
    probs: Vec<f32>,
    labels: Vec<f32>,
    eps: f64,
    logloss: f64,
}

#[derive(Deserialize)]
struct LogitCase {
    name: String,
    logits: Vec<f32>,
    labels: Vec<f32>,
    logloss: f64,
}

#[derive(Deserialize)]
struct GaucCase {
    name: String,
    scores: Vec<f32>,
    labels: Vec<f32>,
    groups: Vec<u32>,
    gauc: Option<f64>,
    groups_used: usize,
    groups_skipped: usize,
    per_group: Vec<(u32, f64, usize)>,
}

fn fixtures() -> Fixtures {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/metrics.json");
    let text = std::fs::read_to_string(path).expect("read metrics.json");
    serde_json::from_str(&text).expect("parse metrics.json")
}

fn close(got: f64, want: f64, tol: f64, what: &str) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, sklearn {want}"
    );
}

#[test]
fn auc_matches_sklearn() {
    let f = fixtures();
    assert!(f.auc.len() >= 10);
    for c in &f.auc {
        match (auc(&c.scores, &c.labels), c.auc) {
            (Some(got), Some(want)) => close(got, want, 1e-9, &c.name),
            (got, want) => assert_eq!(got, want, "{}", c.name),
        }
    }
}

#[test]
fn logloss_matches_sklearn() {
    let f = fixtures();
    for c in &f.logloss {
        assert_eq!(
            c.eps, LOGLOSS_EPS,
            "{}: fixture clipped with another eps",
            c.name
        );
        close(logloss(&c.probs, &c.labels), c.logloss, 1e-6, &c.name);
    }
    for c in &f.logloss_from_logits {
        close(
            logloss_from_logits(&c.logits, &c.labels),
            c.logloss,
            1e-6,
            &c.name,
        );
    }
}

#[test]
fn gauc_matches_sklearn_per_group() {
    let f = fixtures();
    for c in &f.gauc {
        let got = gauc(&c.scores, &c.labels, &c.groups);
        let Some(want) = c.gauc else {
            assert!(got.is_none(), "{}: expected no GAUC", c.name);
            continue;
        };
        let got = got.unwrap_or_else(|| panic!("{}: expected a GAUC", c.name));
        close(got.gauc, want, 1e-9, &c.name);
        assert_eq!(got.groups_used, c.groups_used, "{}", c.name);
        assert_eq!(got.groups_skipped, c.groups_skipped, "{}", c.name);
        assert_eq!(got.per_group.len(), c.per_group.len(), "{}", c.name);
        for (g, w) in got.per_group.iter().zip(&c.per_group) {
            assert_eq!((g.0, g.2), (w.0, w.2), "{}: group id / size", c.name);
            close(g.1, w.1, 1e-9, &format!("{} group {}", c.name, w.0));
        }
    }
}
