//! Next-item retrieval metrics from the rank of the held-out item.
//!
//! Each evaluated user has exactly one held-out item (leave-one-out), so every metric is
//! a function of its rank `r` (0 = first) among the candidates:
//!
//! ```text
//! hr@K     = [r < K]                       (hit rate)
//! recall@K = [r < K]                       (= hr@K: one relevant item per user)
//! ndcg@K   = [r < K] / log2(r + 2)         (ideal DCG = 1: one relevant item)
//! mrr      = 1 / (r + 1);  mrr@K = [r < K] / (r + 1)
//! ```
//!
//! averaged over users. The rank counts the candidates whose score is greater than OR
//! EQUAL to the target's (ties go against the model: pessimistic), so a constant scorer
//! gets the worst rank, not an average one.
//!
//! Three protocols (`Protocol`):
//! - `Full`: the candidates are every item of the corpus except padding and the items
//!   the user has already interacted with before the evaluated position (the "seen
//!   filter"); the target itself is never filtered, even when it was seen before.
//! - `Sampled(n)`: the target among `n` sampled negatives, drawn uniformly without
//!   replacement from the items the user has NOT interacted with (not popularity-
//!   sampled). This is the protocol of the older papers (SASRec, BERT4Rec: 100
//!   negatives); it overstates absolute figures and can reorder models (Krichene and
//!   Rendle, KDD 2020), so its metric names carry the suffix `_s<n>` (`hr@10_s100`).
//! - `PopularitySampled(n)`: the same with the negatives drawn by popularity
//!   (`data::popularity_sampler`), as BERT4Rec samples them; suffix `_p<n>`.
//!
//! R/R* (a revenue-weighted recall, `rr@M@K`) is in `metrics::revenue`.

use std::fmt;

/// Which candidates the target is ranked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Full,
    Sampled(usize),
    PopularitySampled(usize),
}

impl Protocol {
    /// The per-user values column (`results::UserValues`) holding the ranks under
    /// this protocol.
    pub fn rank_column(&self) -> String {
        match self {
            Protocol::Full => "rank".into(),
            Protocol::Sampled(n) => format!("rank_s{n}"),
            Protocol::PopularitySampled(n) => format!("rank_p{n}"),
        }
    }
}

/// What a metric measures from the rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RankKind {
    Hr,
    Recall,
    Ndcg,
    Mrr,
}

/// A parsed retrieval metric name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetrievalMetric {
    /// `hr@K`, `recall@K`, `ndcg@K`, `mrr`, `mrr@K`, each optionally `_s<n>` or `_p<n>`.
    Rank {
        kind: RankKind,
        k: Option<usize>,
        protocol: Protocol,
    },
    /// `rr@M@K`: R/R* with the ideal top `m` and the model's top `k` (full corpus).
    Revenue { m: usize, k: usize },
}

/// Largest cutoff a name may ask for (a typo like `hr@10000000` fails loudly).
pub const MAX_CUTOFF: usize = 10_000;

impl RetrievalMetric {
    /// Parses a name such as `ndcg@10`, `mrr`, `hr@10_s100`, `hr@10_p100` or `rr@2@50`.
    pub fn parse(name: &str) -> Result<RetrievalMetric, String> {
        let bad = |why: &str| {
            Err(format!(
                "`{name}`: {why} (retrieval metrics: hr@K, recall@K, ndcg@K, mrr, mrr@K, each \
                 optionally suffixed _s<N> (N uniformly sampled negatives) or _p<N> (sampled \
                 by popularity), and rr@M@K for R/R*)"
            ))
        };
        let cutoff = |s: &str| -> Option<usize> {
            let k: usize = s.parse().ok()?;
            (1..=MAX_CUTOFF).contains(&k).then_some(k)
        };
        if let Some(rest) = name.strip_prefix("rr@") {
            let Some((m, k)) = rest.split_once('@') else {
                return bad("R/R* needs both cutoffs, rr@M@K");
            };
            return match (cutoff(m), cutoff(k)) {
                (Some(m), Some(k)) => Ok(RetrievalMetric::Revenue { m, k }),
                _ => bad("cutoffs must be integers in 1..=10000"),
            };
        }
        let (body, protocol) = match name.rsplit_once('_') {
            Some((body, suffix)) => {
                let n = suffix.get(1..).and_then(|n| n.parse::<usize>().ok());
                match (suffix.chars().next(), n) {
                    (Some('s'), Some(n)) if n >= 1 => (body, Protocol::Sampled(n)),
                    (Some('p'), Some(n)) if n >= 1 => (body, Protocol::PopularitySampled(n)),
                    _ => return bad("the sampled suffix is _s<N> or _p<N> with N >= 1"),
                }
            }
            None => (name, Protocol::Full),
        };
        let (head, k) = match body.split_once('@') {
            Some((head, k)) => match cutoff(k) {
                Some(k) => (head, Some(k)),
                None => return bad("the cutoff must be an integer in 1..=10000"),
            },
            None => (body, None),
        };
        let kind = match head {
            "hr" => RankKind::Hr,
            "recall" => RankKind::Recall,
            "ndcg" => RankKind::Ndcg,
            "mrr" => RankKind::Mrr,
            _ => return bad("unknown metric"),
        };
        if k.is_none() && kind != RankKind::Mrr {
            return bad("this metric needs a cutoff, e.g. @10");
        }
        Ok(RetrievalMetric::Rank { kind, k, protocol })
    }

    /// The metric's value for one user whose target has 0-based rank `rank`.
    /// `None` for R/R*, which is not a function of the rank.
    pub fn of_rank(&self, rank: u32) -> Option<f64> {
        let RetrievalMetric::Rank { kind, k, .. } = *self else {
            return None;
        };
        let r = rank as usize;
        let inside = k.is_none_or(|k| r < k);
        Some(match kind {
            _ if !inside => 0.0,
            RankKind::Hr | RankKind::Recall => 1.0,
            RankKind::Ndcg => 1.0 / ((r + 2) as f64).log2(),
            RankKind::Mrr => 1.0 / (r + 1) as f64,
        })
    }

    pub fn protocol(&self) -> Protocol {
        match *self {
            RetrievalMetric::Rank { protocol, .. } => protocol,
            RetrievalMetric::Revenue { .. } => Protocol::Full,
        }
    }
}

impl fmt::Display for RetrievalMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            RetrievalMetric::Revenue { m, k } => write!(f, "rr@{m}@{k}"),
            RetrievalMetric::Rank { kind, k, protocol } => {
                let head = match kind {
                    RankKind::Hr => "hr",
                    RankKind::Recall => "recall",
                    RankKind::Ndcg => "ndcg",
                    RankKind::Mrr => "mrr",
                };
                write!(f, "{head}")?;
                if let Some(k) = k {
                    write!(f, "@{k}")?;
                }
                match protocol {
                    Protocol::Full => {}
                    Protocol::Sampled(n) => write!(f, "_s{n}")?,
                    Protocol::PopularitySampled(n) => write!(f, "_p{n}")?,
                }
                Ok(())
            }
        }
    }
}

/// Mean of `metric` over users with the given ranks; `None` for no users or R/R*.
pub fn mean_of_ranks(metric: &RetrievalMetric, ranks: &[u32]) -> Option<f64> {
    if ranks.is_empty() {
        return None;
    }
    let mut sum = 0.0;
    for &r in ranks {
        sum += metric.of_rank(r)?;
    }
    Some(sum / ranks.len() as f64)
}

/// 0-based pessimistic rank of the target: the number of candidates other than the
/// target whose score is `>=` the target's. `scores[i]` is item `i`'s score (index 0 =
/// padding, never a candidate); `seen` (ascending, no duplicates) holds the items to
/// skip; the target is ranked even when it is in `seen`. A NaN target score ranks last.
pub fn full_rank(scores: &[f32], target: u32, seen: &[u32]) -> u32 {
    debug_assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "seen must be sorted, unique"
    );
    let s = scores[target as usize];
    let above = |x: f32| s.is_nan() || x >= s;
    // Every item >= the target's score, minus the target itself.
    let all = scores[1..].iter().filter(|&&x| above(x)).count() as u32 - 1;
    let seen_above = seen
        .iter()
        .filter(|&&i| i != 0 && i != target && above(scores[i as usize]))
        .count() as u32;
    all - seen_above
}

/// 0-based pessimistic rank of the target among `negatives` (their scores).
pub fn sampled_rank(target_score: f32, negative_scores: &[f32]) -> u32 {
    negative_scores
        .iter()
        .filter(|&&x| target_score.is_nan() || x >= target_score)
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_back() {
        for name in [
            "hr@10",
            "recall@50",
            "ndcg@100",
            "mrr",
            "mrr@10",
            "hr@10_s100",
            "ndcg@10_s100",
            "mrr_s100",
            "hr@10_p100",
            "mrr_p50",
            "rr@2@50",
        ] {
            let m = RetrievalMetric::parse(name).unwrap();
            assert_eq!(m.to_string(), name);
        }
        for bad in [
            "hr",
            "ndcg",
            "hr@0",
            "hr@x",
            "auc",
            "hr@10_s",
            "hr@10_s0",
            "hr@10_p",
            "hr@10_q100",
            "rr@2",
            "rr@0@5",
        ] {
            let err = RetrievalMetric::parse(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn values_of_ranks_match_the_formulas() {
        let ndcg10 = RetrievalMetric::parse("ndcg@10").unwrap();
        assert_eq!(ndcg10.of_rank(0), Some(1.0));
        assert!((ndcg10.of_rank(1).unwrap() - 1.0 / 3f64.log2()).abs() < 1e-15);
        assert_eq!(ndcg10.of_rank(10), Some(0.0));
        let hr = RetrievalMetric::parse("hr@3").unwrap();
        assert_eq!(mean_of_ranks(&hr, &[0, 2, 3, 100]), Some(0.5));
        let mrr = RetrievalMetric::parse("mrr").unwrap();
        assert_eq!(
            mean_of_ranks(&mrr, &[0, 1, 3]),
            Some((1.0 + 0.5 + 0.25) / 3.0)
        );
        let mrr2 = RetrievalMetric::parse("mrr@2").unwrap();
        assert_eq!(mean_of_ranks(&mrr2, &[0, 1, 3]), Some(0.5));
        assert_eq!(mean_of_ranks(&mrr, &[]), None);
    }

    #[test]
    fn rank_is_pessimistic_and_filters_seen_items_but_never_the_target() {
        // items 1..=5; item 0 is padding with a huge score that must be ignored.
        let scores = [9.0, 0.5, 0.9, 0.5, 0.1, 0.7];
        assert_eq!(full_rank(&scores, 2, &[]), 0);
        // target 1 ties item 3: the tie counts against it.
        assert_eq!(full_rank(&scores, 1, &[]), 3);
        // seen items 2 and 5 are filtered; duplicates and the target in `seen` are fine.
        assert_eq!(full_rank(&scores, 1, &[0, 1, 2, 5]), 1);
        assert_eq!(full_rank(&scores, 4, &[4]), 4);
        let nan = [0.0, f32::NAN, 0.2, 0.3];
        assert_eq!(full_rank(&nan, 1, &[]), 2);
        assert_eq!(sampled_rank(0.5, &[0.1, 0.5, 0.9]), 2);
        assert_eq!(sampled_rank(f32::NAN, &[0.1, 0.5]), 2);
    }
}
