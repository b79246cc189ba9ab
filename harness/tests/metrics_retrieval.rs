//! Retrieval metrics, ranks, top-K lists and R/R* against numpy (and sklearn's
//! ndcg_score on tie-free cases). The reference values live in `fixtures/retrieval.json`
//! (made by `fixtures/make_retrieval_fixtures.py`), so these tests need no Python.

use harness::data::seq_batcher::{EvalQuery, SampledCounts};
use harness::kinds::retrieval::eval::{rank_queries, summarize, Vectors};
use harness::metrics::retrieval::RetrievalMetric;
use harness::metrics::revenue::ideal_top;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Fixtures {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Query {
    seen: Vec<u32>,
    target: u32,
    sampled: Vec<u32>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    dim: usize,
    interests: usize,
    users: Vec<f32>,
    items: Vec<f32>,
    queries: Vec<Query>,
    n_sampled: usize,
    values: Vec<Vec<f64>>,
    metrics: BTreeMap<String, f64>,
    ranks: Vec<u32>,
    sampled_ranks: Vec<u32>,
    top_k: usize,
    top: Vec<Vec<u32>>,
    #[serde(default)]
    sklearn_ndcg: Option<BTreeMap<String, f64>>,
}

fn fixtures() -> Fixtures {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/retrieval.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("read retrieval.json"))
        .expect("parse retrieval.json")
}

#[test]
fn ranks_top_lists_and_every_metric_match_numpy() {
    let f = fixtures();
    assert_eq!(f.cases.len(), 4);
    for c in &f.cases {
        let v = Vectors {
            users: c.users.clone(),
            items: c.items.clone(),
            interests: c.interests,
            dim: c.dim,
        };
        let queries: Vec<EvalQuery> = c
            .queries
            .iter()
            .enumerate()
            .map(|(u, q)| EvalQuery {
                user: u,
                seen: q.seen.clone(),
                target: q.target,
                sampled: q.sampled.clone(),
                // The popularity protocol ranks against its own list the same way: given
                // the same negatives it must reproduce the uniform protocol's figures.
                pop_sampled: q.sampled.clone(),
            })
            .collect();
        let counts = SampledCounts {
            uniform: c.n_sampled,
            popularity: c.n_sampled,
        };
        let ranked = rank_queries(&v, &queries, counts, c.top_k);
        assert_eq!(ranked.full, c.ranks, "{}: full ranks", c.name);
        assert_eq!(ranked.sampled, c.sampled_ranks, "{}: sampled ranks", c.name);
        assert_eq!(ranked.pop_sampled, c.sampled_ranks, "{}: _p ranks", c.name);
        assert_eq!(ranked.top, c.top, "{}: top-{} lists", c.name, c.top_k);
        let mut metrics: Vec<RetrievalMetric> = c
            .metrics
            .keys()
            .map(|m| RetrievalMetric::parse(m).unwrap())
            .collect();
        let as_pop =
            |m: &str| m.replace(&format!("_s{}", c.n_sampled), &format!("_p{}", c.n_sampled));
        let pop_names: Vec<String> = c
            .metrics
            .keys()
            .filter(|m| m.ends_with(&format!("_s{}", c.n_sampled)))
            .map(|m| as_pop(m))
            .collect();
        metrics.extend(pop_names.iter().map(|m| RetrievalMetric::parse(m).unwrap()));
        let max_m = 3;
        let ideal: Vec<Vec<(u32, f64)>> = c
            .values
            .iter()
            .zip(&queries)
            .map(|(row, q)| ideal_top(row, &q.seen, max_m))
            .collect();
        let (got, values) = summarize(&metrics, &ranked, &queries, counts, Some(&ideal));
        assert!(
            !pop_names.is_empty(),
            "{}: the case has sampled metrics",
            c.name
        );
        for name in &pop_names {
            let uniform =
                name.replace(&format!("_p{}", c.n_sampled), &format!("_s{}", c.n_sampled));
            let (g, want) = (got[name], c.metrics[&uniform]);
            assert!(
                (g - want).abs() < 1e-12,
                "{}: {name} = {g}, numpy {want}",
                c.name
            );
        }
        assert_eq!(got.len(), c.metrics.len() + pop_names.len(), "{}", c.name);
        for (name, want) in &c.metrics {
            let g = got[name];
            assert!(
                (g - want).abs() < 1e-12,
                "{}: {name} = {g}, numpy {want}",
                c.name
            );
            // The per-user values give the same figure.
            let (per, w) = values.per_user(name).unwrap();
            let mean = per.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / w.iter().sum::<f64>();
            assert!((mean - want).abs() < 1e-12, "{}: per-user {name}", c.name);
        }
        if let Some(sk) = &c.sklearn_ndcg {
            for (name, want) in sk {
                assert!(
                    (got[name] - want).abs() < 1e-12,
                    "{}: {name} vs sklearn",
                    c.name
                );
            }
        }
    }
}
