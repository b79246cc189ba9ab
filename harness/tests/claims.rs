//! Claim verdicts computed from constructed results: each verdict (reproduced, not
//! reproduced, inconclusive, not run) from values chosen to give it, the figures
//! (difference and ratio CIs, Holm-corrected p) against scipy / statsmodels
//! (`fixtures/claims.json`, made by
//! `python3 harness/tests/fixtures/make_claim_fixtures.py > harness/tests/fixtures/claims.json`),
//! and the claim files in `tasks/claims/` parse.

use harness::report::claims::{
    evaluate, load_claims, parse_claim, ClaimOptions, ClaimResult, TRIVIAL,
};
use harness::report::demo::synthetic_cell;
use harness::report::load::Cell;
use harness::report::Verdict;
use harness::results::Cost;
use serde_json::{json, Value};

const TASK: &str = "t";

fn claim(checks: Value) -> harness::report::Claim {
    let text = json!({
        "id": "c", "models": [checks[0]["a"].clone()], "claim": "a claim",
        "source": {"arxiv": "0000.00000", "section": "Sec. 1"},
        "task": TASK, "metric": "auc", "checks": checks,
    });
    parse_claim(std::path::Path::new("c.json"), &text.to_string()).unwrap()
}

/// One cell per seed of `model` with these AUCs.
fn aucs(model: &str, values: &[f64]) -> Vec<Cell> {
    values
        .iter()
        .enumerate()
        .map(|(s, v)| synthetic_cell(TASK, model, s as u64, &[("auc", *v)], Cost::default()))
        .collect()
}

fn run(checks: Value, cells: Vec<Vec<Cell>>) -> ClaimResult {
    let cells: Vec<Cell> = cells.into_iter().flatten().collect();
    evaluate(&[claim(checks)], &cells, ClaimOptions::default()).remove(0)
}

fn better() -> Value {
    json!([{"a": "a", "b": "b", "test": "better"}])
}

/// `a`'s cells with the trivial predictor's AUC recorded beside each seed's own.
fn with_trivial(model: &str, values: &[f64], trivial: &[f64]) -> Vec<Cell> {
    let mut cells = aucs(model, values);
    for (c, t) in cells.iter_mut().zip(trivial) {
        c.result.trivial_metrics.insert("auc".into(), *t);
    }
    cells
}

/// `b: "trivial"` pairs A with the trivial predictor of A's own cells: a model clearly
/// above it reproduces "better", one that ties it does not, the todo never asks to run
/// a model called trivial, and only metric tests accept it.
#[test]
fn a_check_against_the_trivial_predictor_reads_a_s_own_cells() {
    let vs_trivial = json!([{"a": "a", "b": TRIVIAL, "test": "better"}]);
    let r = run(
        vs_trivial.clone(),
        vec![with_trivial("a", &[0.71, 0.72, 0.70], &[0.60, 0.61, 0.60])],
    );
    assert_eq!(r.verdict, Verdict::Reproduced, "{:?}", r.checks[0]);
    assert_eq!(r.checks[0].b_values, vec![0.60, 0.61, 0.60]);
    assert!(r.checks[0].statement.contains("the trivial predictor"));
    let tie = run(
        vs_trivial.clone(),
        vec![with_trivial(
            "a",
            &[0.601, 0.608, 0.602],
            &[0.60, 0.61, 0.60],
        )],
    );
    assert_eq!(tie.verdict, Verdict::NotReproduced, "{:?}", tie.checks[0]);
    let few = run(
        vs_trivial.clone(),
        vec![with_trivial("a", &[0.71], &[0.60])],
    );
    let todo = few.todo.unwrap();
    assert!(!todo.contains(TRIVIAL), "{todo}");
    let none = run(vs_trivial, vec![]);
    assert_eq!(none.missing_models, vec!["a".to_string()]);
    let cost = json!({
        "id": "c", "models": ["a"], "claim": "x", "source": {"arxiv": "0000.00000", "section": "1"},
        "task": TASK, "metric": "auc",
        "checks": [{"a": "a", "b": TRIVIAL, "test": "cost_ratio", "cost": "param_bytes", "at_most": 1.0}],
    });
    let err = parse_claim(std::path::Path::new("c.json"), &cost.to_string()).unwrap_err();
    assert!(err.to_string().contains("trivial"), "{err}");
}

#[test]
fn consistently_better_over_three_seeds_is_reproduced() {
    let r = run(
        better(),
        vec![
            aucs("a", &[0.710, 0.721, 0.705]),
            aucs("b", &[0.700, 0.710, 0.696]),
        ],
    );
    let k = &r.checks[0];
    assert_eq!(
        (r.verdict, k.verdict),
        (Verdict::Reproduced, Verdict::Reproduced)
    );
    assert!((k.estimate.unwrap() - 0.01).abs() < 1e-12, "{k:?}");
    let (lo, hi) = k.ci.unwrap();
    assert!(lo > 0.0 && hi < 0.02 && k.p_holm.unwrap() < 0.05, "{k:?}");
    assert!(r.todo.is_none() && r.missing_models.is_empty());
}

#[test]
fn no_significant_difference_or_a_worse_model_is_not_reproduced() {
    let r = run(
        better(),
        vec![
            aucs("a", &[0.710, 0.700, 0.705]),
            aucs("b", &[0.705, 0.706, 0.704]),
        ],
    );
    assert_eq!(r.verdict, Verdict::NotReproduced);
    assert!(
        r.checks[0].why.contains("no significant difference"),
        "{r:?}"
    );
    let r = run(
        better(),
        vec![
            aucs("a", &[0.690, 0.701, 0.685]),
            aucs("b", &[0.700, 0.710, 0.696]),
        ],
    );
    assert_eq!(r.verdict, Verdict::NotReproduced);
    assert!(r.checks[0].why.contains("significantly worse"), "{r:?}");
}

#[test]
fn fewer_seeds_than_the_claim_needs_is_inconclusive_and_says_what_to_run() {
    // A large, consistent gain, but only 2 paired seeds (b has no seed 2 of a's 3).
    let r = run(
        better(),
        vec![aucs("a", &[0.75, 0.76, 0.77]), aucs("b", &[0.70, 0.71])],
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert_eq!(r.checks[0].seeds, vec![0, 1]);
    assert!(r.checks[0].why.contains("2 paired seeds"), "{r:?}");
    assert_eq!(
        r.todo.as_deref(),
        Some("recbench run t --models a,b --seeds 3 --resume")
    );
}

#[test]
fn missing_cells_are_not_run_and_named() {
    let r = run(better(), vec![aucs("a", &[0.7, 0.71, 0.72])]);
    assert_eq!(r.verdict, Verdict::NotRun);
    assert_eq!(r.missing_models, vec!["b".to_string()]);
    assert_eq!(r.checks[0].missing, vec!["b".to_string()]);
    assert_eq!(
        r.todo.as_deref(),
        Some("recbench run t --models b --seeds 3")
    );
    // Cells of another task do not count.
    let other: Vec<Cell> = (0..3)
        .map(|s| synthetic_cell("other", "b", s, &[("auc", 0.7)], Cost::default()))
        .collect();
    let r = run(better(), vec![aucs("a", &[0.7, 0.71, 0.72]), other]);
    assert_eq!(r.verdict, Verdict::NotRun);
}

#[test]
fn a_claim_is_the_conjunction_of_its_checks() {
    // Check 1 reproduced, check 2 not run (c missing): the claim is not run.
    let checks = json!([
        {"a": "a", "b": "b", "test": "better"},
        {"a": "c", "b": "b", "test": "better"},
    ]);
    let a = aucs("a", &[0.710, 0.721, 0.705]);
    let b = aucs("b", &[0.700, 0.710, 0.696]);
    let r = run(checks.clone(), vec![a.clone(), b.clone()]);
    assert_eq!(r.verdict, Verdict::NotRun);
    assert_eq!(r.checks[0].verdict, Verdict::Reproduced);
    // c ran and is worse: one check not reproduced makes the claim not reproduced.
    let c = aucs("c", &[0.690, 0.701, 0.685]);
    let r = run(checks, vec![a, b, c]);
    assert_eq!(r.verdict, Verdict::NotReproduced);
    assert_eq!(r.summary, "2 checks: 1 reproduced, 1 not reproduced");
}

#[test]
fn keeps_decides_on_the_ratio_interval() {
    let keeps = |f: f64| json!([{"a": "a", "b": "b", "test": "keeps", "at_least": f}]);
    let a = aucs("a", &[0.693, 0.703, 0.699]);
    let b = aucs("b", &[0.700, 0.710, 0.706]);
    // Ratios 0.99, 0.990140..., 0.990085...: the CI is about [0.9898, 0.9903].
    let at = |f| run(keeps(f), vec![a.clone(), b.clone()]).verdict;
    assert_eq!(at(0.98), Verdict::Reproduced);
    assert_eq!(at(0.995), Verdict::NotReproduced);
    assert_eq!(at(0.990), Verdict::Inconclusive);
}

#[test]
fn lower_is_better_metrics_are_oriented() {
    // LogLoss: a is lower (better) in every seed.
    let ll = |m: &str, v: &[f64]| -> Vec<Cell> {
        v.iter()
            .enumerate()
            .map(|(s, x)| synthetic_cell(TASK, m, s as u64, &[("logloss", *x)], Cost::default()))
            .collect()
    };
    let checks = json!([
        {"a": "a", "b": "b", "test": "better", "metric": "logloss"},
        {"a": "a", "b": "b", "test": "keeps", "at_least": 0.99, "metric": "logloss"},
    ]);
    let r = run(
        checks,
        vec![
            ll("a", &[0.340, 0.342, 0.341]),
            ll("b", &[0.350, 0.351, 0.352]),
        ],
    );
    assert_eq!(r.checks[0].verdict, Verdict::Reproduced, "{r:?}");
    assert!(r.checks[0].estimate.unwrap() < 0.0, "A − B stays signed");
    // Kept share = b / a > 1 for a lower-is-better metric.
    assert!(r.checks[1].estimate.unwrap() > 1.0);
    assert_eq!(r.checks[1].verdict, Verdict::Reproduced);
}

#[test]
fn not_worse_with_a_margin_needs_a_tight_interval() {
    let nw = |m: f64| json!([{"a": "a", "b": "b", "test": "not_worse", "margin": m}]);
    // Differences -0.001, +0.001, -0.002: not significant, CI about [-0.0048, +0.0035].
    let a = aucs("a", &[0.699, 0.711, 0.704]);
    let b = aucs("b", &[0.700, 0.710, 0.706]);
    let r = run(nw(0.01), vec![a.clone(), b.clone()]);
    assert_eq!(r.verdict, Verdict::Reproduced, "{r:?}");
    let r = run(nw(0.001), vec![a.clone(), b.clone()]);
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert!(r.checks[0].why.contains("more than the margin"));
    // Without a margin, "not significantly worse" is enough.
    let r = run(
        json!([{"a": "a", "b": "b", "test": "not_worse"}]),
        vec![a, b],
    );
    assert_eq!(r.verdict, Verdict::Reproduced);
}

#[test]
fn cost_ratio_uses_embedding_values_used_when_recorded() {
    let cost = |params: usize, used: Option<u64>| Cost {
        params_embedding: params,
        embedding_values_used: used,
        ..Cost::default()
    };
    let cells = |m: &str, costs: Vec<Cost>| -> Vec<Cell> {
        costs
            .into_iter()
            .enumerate()
            .map(|(s, c)| synthetic_cell(TASK, m, s as u64, &[("auc", 0.7)], c))
            .collect()
    };
    let check = json!([{"a": "a", "b": "b", "test": "cost_ratio", "cost": "embedding_bytes", "at_most": 0.4}]);
    // a holds as many values as b but uses 35% and 38%: reproduced.
    let b = cells("b", vec![cost(1000, None), cost(1000, None)]);
    let a = cells("a", vec![cost(1000, Some(350)), cost(1000, Some(380))]);
    let r = run(check.clone(), vec![a, b.clone()]);
    assert_eq!(r.verdict, Verdict::Reproduced, "{r:?}");
    assert_eq!(r.checks[0].range, Some((0.35, 0.38)));
    assert_eq!(r.checks[0].a_values, vec![1400.0, 1520.0]);
    // One seed above the bound: inconclusive; both above: not reproduced.
    let a = cells("a", vec![cost(1000, Some(350)), cost(1000, Some(450))]);
    assert_eq!(
        run(check.clone(), vec![a, b.clone()]).verdict,
        Verdict::Inconclusive
    );
    let a = cells("a", vec![cost(1000, None), cost(1000, None)]);
    assert_eq!(
        run(check.clone(), vec![a, b.clone()]).verdict,
        Verdict::NotReproduced
    );
    // No cost recorded (older results, 0 = not measured): not run.
    let a = cells("a", vec![Cost::default()]);
    let r = run(check, vec![a, b]);
    assert_eq!(r.verdict, Verdict::NotRun);
    assert!(r.checks[0].why.contains("not recorded"), "{r:?}");
}

#[test]
fn cost_ratio_at_least_bounds_a_higher_is_better_cost() {
    let speed = |v: f64| Cost {
        train_examples_per_second: v,
        ..Cost::default()
    };
    let cells = |m: &str, v: &[f64]| -> Vec<Cell> {
        v.iter()
            .enumerate()
            .map(|(s, &x)| synthetic_cell(TASK, m, s as u64, &[("auc", 0.7)], speed(x)))
            .collect()
    };
    let check = json!([{"a": "a", "b": "b", "test": "cost_ratio",
                        "cost": "train_examples_per_second", "at_least": 1.5}]);
    let b = cells("b", &[100.0, 100.0]);
    let r = run(check.clone(), vec![cells("a", &[190.0, 160.0]), b.clone()]);
    assert_eq!(r.verdict, Verdict::Reproduced, "{r:?}");
    assert!(
        r.checks[0].statement.contains("≥ 150%"),
        "{}",
        r.checks[0].statement
    );
    let r = run(check.clone(), vec![cells("a", &[190.0, 140.0]), b.clone()]);
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    let r = run(check, vec![cells("a", &[120.0, 140.0]), b]);
    assert_eq!(r.verdict, Verdict::NotReproduced, "{r:?}");
    assert!(
        r.checks[0].why.contains("below 150%"),
        "{}",
        r.checks[0].why
    );
}

#[test]
fn matches_published_compares_the_seed_mean_ci_with_the_tolerance_band() {
    let check = json!([{"a": "a", "b": "Paper 2018, Table 3", "test": "matches_published",
                        "value": 0.32, "tolerance": 0.1}]);
    let r = run(check.clone(), vec![aucs("a", &[0.315, 0.320, 0.325])]);
    assert_eq!(r.verdict, Verdict::Reproduced, "{r:?}");
    let k = &r.checks[0];
    // The ratio's CI is the Student-t CI of a / 0.32 (t_{0.975, 2} = 4.302653).
    let half = 4.302653 * (0.005 / 0.32) / 3f64.sqrt();
    let (lo, hi) = k.ci.unwrap();
    assert!(
        (lo - (1.0 - half)).abs() < 1e-5 && (hi - (1.0 + half)).abs() < 1e-5,
        "{k:?}"
    );
    assert!(k.figure.contains("vs published 0.32"), "{}", k.figure);
    let r = run(check.clone(), vec![aucs("a", &[0.20, 0.21, 0.22])]);
    assert_eq!(r.verdict, Verdict::NotReproduced, "{r:?}");
    let r = run(check.clone(), vec![aucs("a", &[0.25, 0.32, 0.40])]);
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    // Too few seeds: the command to run names the model, never the paper.
    let r = run(check.clone(), vec![aucs("a", &[0.30, 0.34])]);
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
    assert_eq!(
        r.todo.as_deref(),
        Some("recbench run t --models a --seeds 3 --resume")
    );
    // Only A is needed; without it the check is not run.
    let r = run(check, vec![aucs("b", &[0.3, 0.3, 0.3])]);
    assert_eq!(r.verdict, Verdict::NotRun, "{r:?}");
    assert_eq!(r.missing_models, vec!["a".to_string()]);
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
        "{what}: {got}, scipy says {want}"
    );
}

#[test]
fn figures_match_scipy_and_statsmodels() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/claims.json");
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let claim = parse_claim(std::path::Path::new(path), &fx["claim"].to_string()).unwrap();
    let mut cells = Vec::new();
    for (model, metrics) in fx["cells"].as_object().unwrap() {
        for (i, seed) in fx["seeds"].as_array().unwrap().iter().enumerate() {
            let m: Vec<(&str, f64)> = metrics
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str(), f64s(v)[i]))
                .collect();
            cells.push(synthetic_cell(
                &claim.task,
                model,
                seed.as_u64().unwrap(),
                &m,
                Cost::default(),
            ));
        }
    }
    let r = evaluate(&[claim], &cells, ClaimOptions::default()).remove(0);
    let want = fx["checks"].as_array().unwrap();
    assert_eq!(r.checks.len(), want.len());
    for (k, w) in r.checks.iter().zip(want) {
        let name = &k.statement;
        close(
            &format!("{name}: estimate"),
            k.estimate.unwrap(),
            w["estimate"].as_f64().unwrap(),
        );
        let ci = f64s(&w["ci"]);
        close(&format!("{name}: ci.lo"), k.ci.unwrap().0, ci[0]);
        close(&format!("{name}: ci.hi"), k.ci.unwrap().1, ci[1]);
        match w["p"].as_f64() {
            Some(p) => {
                close(&format!("{name}: p"), k.p.unwrap(), p);
                close(
                    &format!("{name}: p_holm"),
                    k.p_holm.unwrap(),
                    w["p_holm"].as_f64().unwrap(),
                );
            }
            None => assert_eq!((k.p, k.p_holm), (None, None), "{name}"),
        }
        assert_eq!(
            serde_json::to_value(k.verdict).unwrap(),
            w["verdict"],
            "{name}: {}",
            k.why
        );
    }
    // The fixture covers both outcomes of a significance check and a ratio check.
    assert_eq!(r.verdict, Verdict::NotReproduced);
}

#[test]
fn the_claim_files_of_the_repository_parse_and_name_models_their_task_runs() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tasks"));
    let claims = load_claims(&root.join("claims")).unwrap();
    assert!(claims.len() >= 9, "{} claim files", claims.len());
    for c in &claims {
        assert!(!c.note.is_empty(), "{}: say why it may not reproduce", c.id);
        let task = harness::runner::load_task(root, &c.task)
            .unwrap_or_else(|e| panic!("{}: task {}: {e}", c.id, c.task));
        for k in &c.checks {
            let metric = c.metric_of(k);
            let is_cost = matches!(k.test, harness::report::claims::Test::CostRatio { .. });
            assert!(
                is_cost || task.metrics.iter().any(|m| m == metric),
                "{}: metric {metric} is not one task {} reports",
                c.id,
                c.task
            );
            let published = matches!(
                k.test,
                harness::report::claims::Test::MatchesPublished { .. }
            );
            let sides = if published || k.b == TRIVIAL {
                vec![&k.a]
            } else {
                vec![&k.a, &k.b]
            };
            for m in sides {
                assert!(
                    task.models.contains_key(m),
                    "{}: model {m} is not in task {}",
                    c.id,
                    c.task
                );
            }
        }
    }
}
