//! Evaluating a scorer on a retrieval task: user vectors (a trained model's, the
//! oracle's, popularity's) against the item matrix over the full corpus, the held-out
//! item's ranks, the metrics and the per-user values they are means of.

use std::collections::BTreeMap;
use std::time::Duration;

use baselines::engine::{Dev, Flops, ParamStore};
use baselines::{predict, Model, Retrieval};

use crate::data::seq_batcher::{eval_batch, EvalQuery, SampledCounts, Window};
use crate::data::sequences::{LooView, Sequences, Stage};
use crate::data::synth::SeqWorld;
use crate::metrics::retrieval::{
    full_rank, mean_of_ranks, sampled_rank, Protocol, RetrievalMetric,
};
use crate::metrics::revenue::{r_over_r_star, request_revenue};
use crate::metrics::topk::{for_each_user, top_k_row, ItemMatrix, UserMatrix};
use crate::results::UserValues;

/// Serving latency is measured for these numbers of users per call (user vectors plus
/// the full-corpus top-`LATENCY_TOP_K`), each for about `LATENCY_BUDGET`.
pub const LATENCY_USERS: [usize; 2] = [1, 256];
pub const LATENCY_TOP_K: usize = 100;
pub const LATENCY_BUDGET: Duration = Duration::from_millis(500);
pub const LATENCY_MIN_REPS: usize = 10;
pub const LATENCY_MAX_REPS: usize = 1000;

/// What evaluation leaves for the cost block and the latency: the test vectors and the
/// user side's forward FLOPs.
pub struct RetrievalEval {
    pub vectors: Vectors,
    pub user_flops: baselines::engine::Flops,
}

/// Users per forward pass when computing user vectors.
pub const EVAL_USERS: usize = 512;

/// A scorer's vectors, owned: `users` is `n_users x interests x dim`, `items` is
/// `(n_items + 1) x dim`.
#[derive(Debug, Clone)]
pub struct Vectors {
    pub users: Vec<f32>,
    pub items: Vec<f32>,
    pub interests: usize,
    pub dim: usize,
}

impl Vectors {
    pub fn user_matrix(&self) -> UserMatrix<'_> {
        UserMatrix {
            vectors: &self.users,
            interests: self.interests,
            dim: self.dim,
        }
    }
    pub fn item_matrix(&self) -> ItemMatrix<'_> {
        ItemMatrix {
            vectors: &self.items,
            dim: self.dim,
        }
    }
}

/// A trained model's vectors for `users` at `stage`, and the forward FLOPs of the user
/// side. Errors when the model's shapes disagree with the task.
pub fn model_vectors<D: Dev>(
    model: &dyn Model<Retrieval, D>,
    store: &ParamStore<D>,
    seqs: &Sequences,
    users: &[usize],
    stage: Stage,
    max_len: usize,
) -> Result<(Vectors, Flops), String> {
    let interests = model.hints().interests.max(1);
    let items = model
        .item_vectors(store)
        .ok_or("the model has no item vectors (Forward::item_vectors)")?;
    let rows = seqs.n_items as usize + 1;
    if items.is_empty() || !items.len().is_multiple_of(rows) {
        return Err(format!(
            "item_vectors has {} values, not a multiple of n_items + 1 = {rows}",
            items.len()
        ));
    }
    let dim = items.len() / rows;
    let width = interests * dim;
    let window = Window::for_model(model, max_len);
    // Users in order of history length, so a batch holds histories of similar length:
    // a model that trims padding gets batches only as wide as their own histories (and
    // KuaiFormer skips the tokens they leave empty); vectors go back to `users`' order.
    let mut order: Vec<usize> = (0..users.len()).collect();
    order.sort_by_key(|&i| LooView::new(seqs, users[i]).eval(stage).0.len());
    let mut out = vec![0.0f32; users.len() * width];
    let mut flops = Flops::default();
    for chunk in order.chunks(EVAL_USERS) {
        let chunk_users: Vec<usize> = chunk.iter().map(|&i| users[i]).collect();
        let batch = eval_batch(seqs, &chunk_users, stage, window);
        let (v, f) = predict(model, store, &batch);
        if v.len() != chunk.len() * width {
            return Err(format!(
                "user_vectors gave {} values for {} users x {interests} interests x {dim} dims",
                v.len(),
                chunk.len()
            ));
        }
        for (&i, row) in chunk.iter().zip(v.chunks(width)) {
            out[i * width..(i + 1) * width].copy_from_slice(row);
        }
        flops.merge(&f);
    }
    Ok((
        Vectors {
            users: out,
            items,
            interests,
            dim,
        },
        flops,
    ))
}

/// The oracle of a synthetic world: its true next-item logits as a dot product.
pub fn oracle_vectors(world: &SeqWorld, seqs: &Sequences, stage: Stage) -> Vectors {
    let mut users = Vec::with_capacity(seqs.n_users() * (world.dim() + 1));
    for u in 0..seqs.n_users() {
        let (hist, _, _) = LooView::new(seqs, u).eval(stage);
        users.extend(world.oracle_user(u, hist));
    }
    Vectors {
        users,
        items: world.oracle_items(),
        interests: 1,
        dim: world.dim() + 1,
    }
}

/// The trivial baseline: every user ranks items by their training-prefix count.
pub fn popularity_vectors(counts: &[u32], n_users: usize) -> Vectors {
    Vectors {
        users: vec![1.0; n_users],
        items: counts.iter().map(|&c| c as f32).collect(),
        interests: 1,
        dim: 1,
    }
}

/// The held-out items' ranks (one query per user, in user order) and, when `top_k` >
/// 0, each user's top-`top_k` list (seen items excluded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ranked {
    pub full: Vec<u32>,
    /// Ranks among the sampled negatives; empty when the task samples none.
    pub sampled: Vec<u32>,
    /// Ranks among the popularity-sampled negatives; likewise.
    pub pop_sampled: Vec<u32>,
    pub top: Vec<Vec<u32>>,
}

/// Ranks every query's target under the full protocol and the sampled protocols
/// `counts` asks for.
pub fn rank_queries(
    v: &Vectors,
    queries: &[EvalQuery],
    counts: SampledCounts,
    top_k: usize,
) -> Ranked {
    assert_eq!(v.user_matrix().users(), queries.len(), "one query per user");
    let per_user = for_each_user(v.user_matrix(), v.item_matrix(), |u, row| {
        let q = &queries[u];
        let full = full_rank(row, q.target, &q.seen);
        let among = |negatives: &[u32]| {
            let neg: Vec<f32> = negatives.iter().map(|&i| row[i as usize]).collect();
            sampled_rank(row[q.target as usize], &neg)
        };
        let s = (counts.uniform > 0).then(|| among(&q.sampled));
        let p = (counts.popularity > 0).then(|| among(&q.pop_sampled));
        let top = (top_k > 0).then(|| top_k_row(row, &q.seen, top_k));
        (full, s, p, top)
    });
    let mut out = Ranked::default();
    for (f, s, p, t) in per_user {
        out.full.push(f);
        out.sampled.extend(s);
        out.pop_sampled.extend(p);
        out.top.extend(t);
    }
    out
}

/// The largest `k` of the R/R* metrics (the top-K lists to keep), 0 without any.
pub fn top_k_needed(metrics: &[RetrievalMetric]) -> usize {
    metrics
        .iter()
        .filter_map(|m| match m {
            RetrievalMetric::Revenue { k, .. } => Some(*k),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Every metric's mean and the per-user values (`UserValues`) they are means of.
/// `ideal` holds the per-user ideal revenue lists when the task has R/R* metrics.
pub fn summarize(
    metrics: &[RetrievalMetric],
    ranked: &Ranked,
    queries: &[EvalQuery],
    counts: SampledCounts,
    ideal: Option<&[Vec<(u32, f64)>]>,
) -> (BTreeMap<String, f64>, UserValues) {
    let mut values = UserValues {
        users: queries.iter().map(|q| q.user as u32).collect(),
        columns: BTreeMap::new(),
    };
    values.columns.insert(
        "rank".into(),
        ranked.full.iter().map(|&r| r as f64).collect(),
    );
    for (protocol, ranks) in [
        (Protocol::Sampled(counts.uniform), &ranked.sampled),
        (
            Protocol::PopularitySampled(counts.popularity),
            &ranked.pop_sampled,
        ),
    ] {
        if !ranks.is_empty() {
            values.columns.insert(
                protocol.rank_column(),
                ranks.iter().map(|&r| r as f64).collect(),
            );
        }
    }
    let mut out = BTreeMap::new();
    for metric in metrics {
        let name = metric.to_string();
        let value = match *metric {
            RetrievalMetric::Rank { protocol, .. } => {
                let ranks = match protocol {
                    Protocol::Full => &ranked.full,
                    Protocol::Sampled(_) => &ranked.sampled,
                    Protocol::PopularitySampled(_) => &ranked.pop_sampled,
                };
                mean_of_ranks(metric, ranks)
            }
            RetrievalMetric::Revenue { m, k } => ideal.and_then(|ideal| {
                let per: Vec<(f64, f64)> = ideal
                    .iter()
                    .zip(&ranked.top)
                    .map(|(i, t)| request_revenue(i, t, m, k))
                    .collect();
                values
                    .columns
                    .insert(format!("{name}:R"), per.iter().map(|p| p.0).collect());
                values
                    .columns
                    .insert(format!("{name}:R*"), per.iter().map(|p| p.1).collect());
                r_over_r_star(&per)
            }),
        };
        if let Some(v) = value {
            out.insert(name, v);
        }
    }
    (out, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_ranks_by_count_with_seen_items_filtered() {
        // counts: item 1: 5, 2: 9, 3: 1, 4: 5.
        let v = popularity_vectors(&[0, 5, 9, 1, 5], 2);
        let queries = vec![
            EvalQuery {
                user: 0,
                seen: vec![2],
                target: 4,
                sampled: vec![3],
                pop_sampled: vec![1],
            },
            EvalQuery {
                user: 1,
                seen: vec![],
                target: 3,
                sampled: vec![1, 2],
                pop_sampled: vec![2, 4],
            },
        ];
        let counts = SampledCounts {
            uniform: 2,
            popularity: 2,
        };
        let r = rank_queries(&v, &queries, counts, 2);
        // User 0: 2 is seen; 1 ties the target 4 at 5 -> rank 1 (pessimistic).
        // User 1: 3 is the least popular of 4 -> rank 3; among {1, 2} -> 2.
        assert_eq!(r.full, vec![1, 3]);
        assert_eq!(r.sampled, vec![0, 2]);
        // Popularity-sampled: user 0's 4 ties item 1 -> 1; user 1's 3 below {2, 4} -> 2.
        assert_eq!(r.pop_sampled, vec![1, 2]);
        assert_eq!(r.top, vec![vec![1, 4], vec![2, 1]]);
        let metrics: Vec<RetrievalMetric> = ["hr@2", "mrr", "hr@1_s2", "hr@2_p2", "mrr_p2"]
            .iter()
            .map(|m| RetrievalMetric::parse(m).unwrap())
            .collect();
        let (m, values) = summarize(&metrics, &r, &queries, counts, None);
        assert_eq!(m["hr@2"], 0.5);
        assert_eq!(m["mrr"], (0.5 + 0.25) / 2.0);
        assert_eq!(m["hr@1_s2"], 0.5);
        assert_eq!(m["hr@2_p2"], 0.5);
        assert_eq!(m["mrr_p2"], (0.5 + 1.0 / 3.0) / 2.0);
        assert_eq!(values.columns["rank_p2"], vec![1.0, 2.0]);
        assert_eq!(values.per_user("hr@2_p2").unwrap().0, vec![1.0, 0.0]);
        assert_eq!(values.columns["rank"], vec![1.0, 3.0]);
        assert_eq!(values.per_user("mrr").unwrap().0, vec![0.5, 0.25]);
    }
}
