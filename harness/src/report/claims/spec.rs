//! The claim file format: one paper claim per JSON file (`tasks/claims/<id>.json`).
//! A file says what the paper claims and which comparisons between result cells
//! would support it; it never says whether it reproduced: the report computes that
//! from the results (`verdict.rs`). Unknown keys are rejected so a typo cannot
//! silently weaken a check; a bad file is an error naming the file, line and field (for
//! a check's values: the line where serde finished reading that check, and the check's
//! `a` and `b`).
//!
//! ```json
//! {
//!   "id": "apg-beats-base",
//!   "models": ["apg_dnn", "apg_dcnv2"],
//!   "claim": "APG improves AUC over its base model.",
//!   "source": {"arxiv": "2203.16218", "section": "Abstract"},
//!   "task": "synth-ctr",
//!   "metric": "auc",
//!   "checks": [
//!     {"a": "apg_dnn", "b": "dnn", "test": "better"},
//!     {"a": "apg_dcnv2", "b": "dcnv2", "test": "better"}
//!   ],
//!   "note": "why it may not reproduce here"
//! }
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::metrics::retrieval::RetrievalMetric;
use crate::task::RANKING_METRICS;

/// Where the paper makes the claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub arxiv: String,
    pub section: String,
}

/// One comparison of model `a` against model `b` on the claim's task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawCheck", into = "RawCheck")]
pub struct Check {
    pub a: String,
    pub b: String,
    /// The claim's metric unless the check names another.
    pub metric: Option<String>,
    pub test: Test,
}

/// What "A compares to B" has to mean for the claim to hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Test {
    /// A is better than B on the metric: paired t-test over seeds, Holm-corrected
    /// within the claim, significant at alpha, in A's favour.
    Better,
    /// A is not significantly worse than B. With a `margin` (metric units) the 95% CI
    /// of A − B must also exclude a loss larger than the margin (non-inferiority), so
    /// a noisy comparison is inconclusive rather than a pass.
    NotWorse { margin: Option<f64> },
    /// A keeps at least `at_least` (e.g. 0.99) of B's metric: the per-seed ratio A/B
    /// (B/A for a lower-is-better metric) with its Student-t CI.
    Keeps { at_least: f64 },
    /// A's `cost` (a `Cost` field, or `embedding_bytes`) is at most `at_most` times B's,
    /// or at least `at_least` times (exactly one is set; `at_least` is for
    /// higher-is-better costs such as `train_examples_per_second`).
    CostRatio {
        cost: String,
        at_most: Option<f64>,
        at_least: Option<f64>,
    },
    /// A's metric matches a figure a paper published (`b` names the source, e.g.
    /// "Kang & McAuley 2018, Table 3"): the Student-t CI over seeds of A / `value` lies
    /// within 1 ± `tolerance`.
    MatchesPublished { value: f64, tolerance: f64 },
}

/// The JSON shape of a check; `Check` is built from it with its values checked.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    a: String,
    b: String,
    test: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metric: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    margin: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at_most: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tolerance: Option<f64>,
}

/// `b` of a metric check that names no model but the task's trivial predictor
/// (popularity on retrieval tasks, the constant on ranking and generative ones), read
/// from A's own cells (`trivial_metrics`): "A learned something" as a check, so a claim
/// about a model that ties the trivial predictor cannot pass vacuously.
pub const TRIVIAL: &str = "trivial";

/// Tests and the extra fields each one takes (for error messages).
const TESTS: &[(&str, &[&str])] = &[
    ("better", &[]),
    ("not_worse", &["margin"]),
    ("keeps", &["at_least"]),
    ("cost_ratio", &["cost", "at_most", "at_least"]),
    ("matches_published", &["value", "tolerance"]),
];

impl TryFrom<RawCheck> for Check {
    type Error = String;

    fn try_from(r: RawCheck) -> Result<Check, String> {
        let ctx = format!("check `{}` vs `{}`", r.a, r.b);
        if r.a.is_empty() || r.b.is_empty() || r.a == r.b || r.a == TRIVIAL {
            return Err(format!("{ctx}: `a` and `b` must be two different models"));
        }
        if r.b == TRIVIAL && !["better", "not_worse", "keeps"].contains(&r.test.as_str()) {
            return Err(format!(
                "{ctx}: `b: \"{TRIVIAL}\"` (the task's trivial predictor) takes the metric \
                 tests better, not_worse and keeps, not `{}`",
                r.test
            ));
        }
        let given: Vec<&str> = [
            ("margin", r.margin.is_some()),
            ("at_least", r.at_least.is_some()),
            ("cost", r.cost.is_some()),
            ("at_most", r.at_most.is_some()),
            ("value", r.value.is_some()),
            ("tolerance", r.tolerance.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let Some((_, allowed)) = TESTS.iter().find(|(t, _)| *t == r.test) else {
            let known: Vec<&str> = TESTS.iter().map(|t| t.0).collect();
            return Err(format!(
                "{ctx}: unknown `test` `{}` (known: {})",
                r.test,
                known.join(", ")
            ));
        };
        if let Some(extra) = given.iter().find(|k| !allowed.contains(k)) {
            return Err(format!(
                "{ctx}: field `{extra}` does not apply to test `{}`",
                r.test
            ));
        }
        let positive = |name: &str, v: Option<f64>| -> Result<f64, String> {
            match v {
                Some(x) if x.is_finite() && x > 0.0 => Ok(x),
                Some(x) => Err(format!(
                    "{ctx}: `{name}` must be a positive number, got {x}"
                )),
                None => Err(format!("{ctx}: test `{}` needs `{name}`", r.test)),
            }
        };
        let test = match r.test.as_str() {
            "better" => Test::Better,
            "not_worse" => Test::NotWorse {
                margin: r.margin.map(|m| positive("margin", Some(m))).transpose()?,
            },
            "keeps" => {
                let f = positive("at_least", r.at_least)?;
                if f > 1.0 {
                    return Err(format!(
                        "{ctx}: `at_least` is a fraction in (0, 1], got {f}"
                    ));
                }
                Test::Keeps { at_least: f }
            }
            "matches_published" => Test::MatchesPublished {
                value: positive("value", r.value)?,
                tolerance: positive("tolerance", r.tolerance)?,
            },
            _ => {
                let cost = r
                    .cost
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| format!("{ctx}: test `cost_ratio` needs `cost`"))?;
                match (r.at_most, r.at_least) {
                    (Some(_), Some(_)) | (None, None) => {
                        return Err(format!(
                            "{ctx}: test `cost_ratio` needs exactly one of `at_most` and `at_least`"
                        ))
                    }
                    (m, l) => Test::CostRatio {
                        cost,
                        at_most: m.map(|m| positive("at_most", Some(m))).transpose()?,
                        at_least: l.map(|l| positive("at_least", Some(l))).transpose()?,
                    },
                }
            }
        };
        if let Some(m) = &r.metric {
            check_metric(m).map_err(|e| format!("{ctx}: {e}"))?;
        }
        Ok(Check {
            a: r.a,
            b: r.b,
            metric: r.metric,
            test,
        })
    }
}

impl From<Check> for RawCheck {
    fn from(c: Check) -> RawCheck {
        let mut r = RawCheck {
            a: c.a,
            b: c.b,
            test: String::new(),
            metric: c.metric,
            margin: None,
            at_least: None,
            cost: None,
            at_most: None,
            value: None,
            tolerance: None,
        };
        r.test = match c.test {
            Test::Better => "better".into(),
            Test::NotWorse { margin } => {
                r.margin = margin;
                "not_worse".into()
            }
            Test::Keeps { at_least } => {
                r.at_least = Some(at_least);
                "keeps".into()
            }
            Test::CostRatio {
                cost,
                at_most,
                at_least,
            } => {
                r.cost = Some(cost);
                r.at_most = at_most;
                r.at_least = at_least;
                "cost_ratio".into()
            }
            Test::MatchesPublished { value, tolerance } => {
                r.value = Some(value);
                r.tolerance = Some(tolerance);
                "matches_published".into()
            }
        };
        r
    }
}

/// A ranking metric, a retrieval metric, or a generative `metric:action` (the action
/// is checked against the task when the claim's task is known, not here).
fn check_metric(m: &str) -> Result<(), String> {
    let generative = m
        .split_once(':')
        .is_some_and(|(k, action)| RANKING_METRICS.contains(&k) && !action.is_empty());
    if RANKING_METRICS.contains(&m) || RetrievalMetric::parse(m).is_ok() || generative {
        Ok(())
    } else {
        Err(format!(
            "unknown `metric` `{m}` (known: {}, a retrieval metric such as ndcg@10, or metric:action such as auc:click)",
            RANKING_METRICS.join(", ")
        ))
    }
}

fn default_min_seeds() -> usize {
    3
}

/// One paper claim and the comparisons that check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    pub id: String,
    /// Models whose pages show this claim.
    pub models: Vec<String>,
    /// The paper's claim, in words.
    pub claim: String,
    pub source: Source,
    /// The task every check runs on.
    pub task: String,
    /// Metric of the metric checks (a check may name another).
    pub metric: String,
    pub checks: Vec<Check>,
    /// Fewest paired seeds a metric check needs; fewer make it inconclusive.
    #[serde(default = "default_min_seeds")]
    pub min_seeds: usize,
    /// Why the claim may not reproduce here (shown beside the verdict).
    #[serde(default)]
    pub note: String,
}

impl Claim {
    /// The metric of `check`.
    pub fn metric_of<'a>(&'a self, check: &'a Check) -> &'a str {
        check.metric.as_deref().unwrap_or(&self.metric)
    }
}

/// Claim files report errors like task specs do: file, then line and column or key.
pub use crate::task::SpecError as ClaimError;

/// Parses one claim file's text (`path` is for messages).
pub fn parse_claim(path: &Path, text: &str) -> Result<Claim, ClaimError> {
    let claim: Claim = crate::task::parse_json(path, text)?;
    let invalid = |key: &str, msg: String| ClaimError::Invalid {
        path: path.to_path_buf(),
        key: key.into(),
        msg,
    };
    let id_ok = !claim.id.is_empty()
        && claim
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !id_ok {
        return Err(invalid(
            "id",
            format!("`{}`: use letters, digits, - and _ only", claim.id),
        ));
    }
    for (key, empty) in [
        ("models", claim.models.is_empty()),
        ("checks", claim.checks.is_empty()),
        ("claim", claim.claim.trim().is_empty()),
        ("task", claim.task.trim().is_empty()),
    ] {
        if empty {
            return Err(invalid(key, "must not be empty".into()));
        }
    }
    check_metric(&claim.metric).map_err(|e| invalid("metric", e))?;
    if claim.min_seeds < 2 {
        return Err(invalid(
            "min_seeds",
            format!(
                "{}: a confidence interval over seeds needs at least 2",
                claim.min_seeds
            ),
        ));
    }
    for m in &claim.models {
        if !claim.checks.iter().any(|c| &c.a == m || &c.b == m) {
            return Err(invalid("models", format!("`{m}` appears in no check")));
        }
    }
    Ok(claim)
}

/// Every `*.json` in `dir`, sorted by file name; duplicate ids are an error.
pub fn load_claims(dir: &Path) -> Result<Vec<Claim>, ClaimError> {
    let io = |source| ClaimError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out: Vec<Claim> = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|source| ClaimError::Io {
            path: f.clone(),
            source,
        })?;
        let claim = parse_claim(&f, &text)?;
        if out.iter().any(|c| c.id == claim.id) {
            return Err(ClaimError::Invalid {
                path: f,
                key: "id".into(),
                msg: format!("`{}` is used by another claim file", claim.id),
            });
        }
        out.push(claim);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Claim, String> {
        parse_claim(Path::new("tasks/claims/x.json"), text).map_err(|e| e.to_string())
    }

    const GOOD: &str = r#"{
  "id": "x",
  "models": ["a"],
  "claim": "A beats B",
  "source": {"arxiv": "1234.5678", "section": "Sec. 4"},
  "task": "t",
  "metric": "auc",
  "checks": [
    {"a": "a", "b": "b", "test": "better"},
    {"a": "a", "b": "b", "test": "cost_ratio", "cost": "embedding_bytes", "at_most": 0.4}
  ]
}"#;

    #[test]
    fn a_good_file_parses_with_defaults_and_round_trips() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.min_seeds, 3);
        assert_eq!(
            c.checks[1].test,
            Test::CostRatio {
                cost: "embedding_bytes".into(),
                at_most: Some(0.4),
                at_least: None,
            }
        );
        let back: Claim = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let bad = GOOD.replace("\"cost\": \"embedding_bytes\", ", "");
        let e = parse(&bad).unwrap_err();
        assert!(
            e.starts_with("tasks/claims/x.json:11:") && e.ends_with("needs `cost`"),
            "{e}"
        );
        let e = parse(&GOOD.replace("\"better\"", "\"beter\"")).unwrap_err();
        assert!(
            e.starts_with("tasks/claims/x.json:10:") && e.contains("unknown `test` `beter`"),
            "{e}"
        );
        let e = parse(&GOOD.replace("\"at_most\": 0.4", "\"value\": 0.4")).unwrap_err();
        assert!(
            e.contains("`value` does not apply to test `cost_ratio`"),
            "{e}"
        );
        let e = parse(&GOOD.replace("\"task\"", "\"taks\"")).unwrap_err();
        assert!(
            e.contains(":6:") && e.contains("unknown field `taks`"),
            "{e}"
        );
        let e = parse(&GOOD.replace("\"models\": [\"a\"]", "\"models\": [\"c\"]")).unwrap_err();
        assert!(e.contains("`models`: `c` appears in no check"), "{e}");
        let e = parse(&GOOD.replace("\"auc\"", "\"acc\"")).unwrap_err();
        assert!(e.contains("`metric`: unknown `metric` `acc`"), "{e}");
        let e = parse(&GOOD.replace("\"b\", \"test\": \"better\"", "\"a\", \"test\": \"better\""))
            .unwrap_err();
        assert!(e.contains("two different models"), "{e}");
    }

    #[test]
    fn keeps_is_a_fraction() {
        let f = GOOD.replace(
            "\"test\": \"better\"",
            "\"test\": \"keeps\", \"at_least\": 99",
        );
        assert!(parse(&f).unwrap_err().contains("fraction in (0, 1]"));
    }

    #[test]
    fn cost_ratio_takes_exactly_one_bound_and_published_checks_parse() {
        let both = GOOD.replace("\"at_most\": 0.4", "\"at_most\": 0.4, \"at_least\": 0.1");
        let e = parse(&both).unwrap_err();
        assert!(e.contains("exactly one of `at_most` and `at_least`"), "{e}");
        let faster = GOOD.replace("\"at_most\": 0.4", "\"at_least\": 1.5");
        assert_eq!(
            parse(&faster).unwrap().checks[1].test,
            Test::CostRatio {
                cost: "embedding_bytes".into(),
                at_most: None,
                at_least: Some(1.5),
            }
        );
        let published = GOOD.replace(
            r#"{"a": "a", "b": "b", "test": "better"}"#,
            r#"{"a": "a", "b": "Paper, Table 3", "test": "matches_published", "value": 0.32, "tolerance": 0.1}"#,
        );
        let c = parse(&published).unwrap();
        assert_eq!(
            c.checks[0].test,
            Test::MatchesPublished {
                value: 0.32,
                tolerance: 0.1
            }
        );
        let back: Claim = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back, c);
        let e = parse(&published.replace("\"tolerance\": 0.1", "\"margin\": 0.1")).unwrap_err();
        assert!(e.contains("`margin` does not apply"), "{e}");
    }

    #[test]
    fn retrieval_metrics_are_known() {
        assert!(parse(&GOOD.replace("\"auc\"", "\"ndcg@10\"")).is_ok());
        assert!(parse(&GOOD.replace("\"auc\"", "\"ndcg@ten\"")).is_err());
        assert!(parse(&GOOD.replace("\"auc\"", "\"auc:click\"")).is_ok());
        assert!(parse(&GOOD.replace("\"auc\"", "\"acc:click\"")).is_err());
        assert!(parse(&GOOD.replace("\"auc\"", "\"auc:\"")).is_err());
    }
}
