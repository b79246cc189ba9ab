//! Evaluating a scorer on a generative-ranking task: per real candidate of the
//! evaluated requests, one logit per action (a trained model's, the oracle's, the
//! constant predictor's), then per action AUC, GAUC (grouped by user) and LogLoss with
//! the ranking task's metric code (`train::ranking_metrics`, checked against sklearn).
//!
//! Candidates are listed example by example, each request's exposures in order; a
//! request holds at most `max_candidates` exposures (the task cut them), so every
//! exposure of an evaluated request is scored.

use std::collections::BTreeMap;
use std::time::Duration;

use baselines::engine::{Dev, Flops, ParamStore};
use baselines::kinds::generative::action_flags;
use baselines::{predict, GenSpec, Generative, Model};

use crate::data::gen_batcher::{batch, Example};
use crate::data::requests::RequestLogs;
use crate::metrics::ranking_metrics;
use crate::results::Scores;

use crate::task::GenMetric;

/// Serving latency is measured for these numbers of test requests per call (their
/// logits, batch built beforehand), each for about `LATENCY_BUDGET`.
pub const LATENCY_REQUESTS: [usize; 2] = [1, 256];
pub const LATENCY_BUDGET: Duration = Duration::from_millis(500);
pub const LATENCY_MIN_REPS: usize = 10;
pub const LATENCY_MAX_REPS: usize = 1000;

/// What evaluation leaves for the cost block: the test requests' forward FLOPs and
/// counts.
pub struct GenerativeEval {
    pub flops: Flops,
    pub requests: usize,
    pub candidates: usize,
}

/// Examples per forward pass when scoring.
pub const EVAL_EXAMPLES: usize = 512;

/// The candidates of some examples: labels and user per candidate, and a scorer's
/// logits, all `n_candidates x n_actions` row-major (users: one per candidate).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidates {
    pub n_actions: usize,
    pub labels: Vec<f32>,
    pub users: Vec<u32>,
}

impl Candidates {
    /// The candidates of `examples`, from the logs.
    pub fn of(logs: &RequestLogs, spec: &GenSpec, examples: &[Example]) -> Candidates {
        let a = logs.n_actions();
        let (mut labels, mut users) = (Vec::new(), Vec::new());
        for &(u, r) in examples {
            for e in logs.users[u].requests[r]
                .exposures
                .iter()
                .take(spec.max_candidates)
            {
                labels.extend(
                    action_flags(e.action, a)
                        .into_iter()
                        .map(|f| f as u8 as f32),
                );
                users.push(u as u32);
            }
        }
        Candidates {
            n_actions: a,
            labels,
            users,
        }
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Column `k` of a row-major `len x n_actions` matrix.
    fn column(&self, m: &[f32], k: usize) -> Vec<f32> {
        m.iter().skip(k).step_by(self.n_actions).copied().collect()
    }

    /// Every requested metric of `logits` (one row per candidate). Metrics a class-less
    /// action cannot have (AUC without positives) are left out, as in ranking cells.
    pub fn metrics(
        &self,
        metrics: &[GenMetric],
        actions: &[String],
        logits: &[f32],
    ) -> BTreeMap<String, f64> {
        assert_eq!(logits.len(), self.labels.len(), "one logit per label");
        let mut out = BTreeMap::new();
        for (k, action) in actions.iter().enumerate() {
            let wanted: Vec<&GenMetric> = metrics.iter().filter(|m| &m.action == action).collect();
            if wanted.is_empty() {
                continue;
            }
            let all = ranking_metrics(
                &self.column(logits, k),
                &self.column(&self.labels, k),
                Some(&self.users),
            );
            for m in wanted {
                if let Some(v) = all.get(&m.metric) {
                    out.insert(m.to_string(), *v);
                }
            }
        }
        out
    }

    /// The per-candidate test outputs of action `k` (`scores.bin`): probability,
    /// label, group = user.
    pub fn scores(&self, logits: &[f32], k: usize) -> Scores {
        Scores {
            scores: self
                .column(logits, k)
                .iter()
                .map(|&z| 1.0 / (1.0 + (-z).exp()))
                .collect(),
            labels: self
                .column(&self.labels, k)
                .iter()
                .map(|&y| y as u8)
                .collect(),
            groups: self.users.clone(),
        }
    }
}

/// A trained model's logits for the candidates of `examples` (`Candidates::of` order),
/// and the forward FLOPs. Errors when the model's output shape disagrees with the task.
pub fn model_logits<D: Dev>(
    model: &dyn Model<Generative, D>,
    store: &ParamStore<D>,
    spec: &GenSpec,
    logs: &RequestLogs,
    examples: &[Example],
) -> Result<(Vec<f32>, Flops), String> {
    let a = spec.n_actions;
    let mut out = Vec::new();
    let mut flops = Flops::default();
    for chunk in examples.chunks(EVAL_EXAMPLES) {
        let b = batch(spec, logs, chunk);
        let (z, f) = predict(model, store, &b);
        if z.len() != b.size * b.max_candidates * a {
            return Err(format!(
                "logits has {} values, not {} examples x {} candidates x {a} actions",
                z.len(),
                b.size,
                b.max_candidates
            ));
        }
        for (slot, &item) in b.cand_items.iter().enumerate() {
            if item != 0 {
                out.extend_from_slice(&z[slot * a..(slot + 1) * a]);
            }
        }
        flops.merge(&f);
    }
    Ok((out, flops))
}

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

/// The oracle's logits (the world's true action probabilities) for the candidates of
/// `examples`; `None` for real data.
pub fn oracle_logits(logs: &RequestLogs, spec: &GenSpec, examples: &[Example]) -> Option<Vec<f32>> {
    let a = logs.n_actions();
    let mut out = Vec::new();
    for &(u, r) in examples {
        let probs = &logs.users[u].oracle.as_ref()?[r];
        let n = logs.users[u].requests[r]
            .exposures
            .len()
            .min(spec.max_candidates);
        out.extend(probs[..n * a].iter().map(|&p| logit(p)));
    }
    Some(out)
}

/// The constant predictor: every candidate gets each action's training rate.
pub fn constant_logits(rates: &[f64], n_candidates: usize) -> Vec<f32> {
    let row: Vec<f32> = rates.iter().map(|&p| logit(p as f32)).collect();
    row.repeat(n_candidates)
}
