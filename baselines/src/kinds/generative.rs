//! The generative-ranking kind: per user, a log of
//! requests, each with the items it exposed and the actions taken on them (click,
//! like, long-view ...). A training or evaluation example is one (user, request `r`)
//! pair: the model sees the exposures and actions of the requests BEFORE `r` and the
//! items of request `r` (the candidates), and predicts every action of every candidate.
//!
//! [`GenBatch::build`] is the only way examples become tensors-to-be, so leakage is
//! ruled out in one place: nothing of request `r`'s actions and nothing after `r`
//! enters a batch's model inputs (the labels travel separately and models never read
//! them). Items are ids `1..=n_items`, 0 = padding. Actions of one exposure are binary
//! flags, encoded as one action id `1 + Σ_k flag_k 2^k` (so `2^n_actions` real ids);
//! id 0 ([`MASK_ACTION`]) is reserved for "unknown", the candidates' action.

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::contract::{Kind, Loss};
use crate::engine::{Ctx, Dev, Mat, Track};

/// The action id of candidate tokens (what is predicted); real actions are `>= 1`.
pub const MASK_ACTION: u32 = 0;
/// Largest time-gap bucket (HSTU's log bucketization, `hstu::time_bucket`).
pub const TIME_BUCKETS: usize = 128;

/// The action id of a set of binary action flags.
pub fn action_id(flags: &[bool]) -> u32 {
    1 + flags
        .iter()
        .enumerate()
        .map(|(k, &f)| (f as u32) << k)
        .sum::<u32>()
}

/// The flags of a real action id (`action >= 1`), `n_actions` of them.
pub fn action_flags(action: u32, n_actions: usize) -> Vec<bool> {
    assert!(
        action >= 1,
        "action id 0 is the mask action and has no flags"
    );
    (0..n_actions).map(|k| (action - 1) >> k & 1 == 1).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    pub item: u32,
    /// Action id `>= 1` ([`action_id`] of the flags).
    pub action: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Request time in seconds (synthetic worlds: the request index).
    pub time: i64,
    pub exposures: Vec<Exposure>,
}

/// What a generative-ranking task looks like; models size their parameters from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenSpec {
    /// Items are `1..=n_items`; tables have `n_items + 1` rows (row 0 = padding).
    pub n_items: u32,
    /// Binary actions per exposure (the heads); action ids are `0..=2^n_actions`.
    pub n_actions: usize,
    /// Exposures of history per example (the most recent are kept).
    pub max_history: usize,
    /// Candidates per example (requests are cut to at most this many by the task).
    pub max_candidates: usize,
}

impl GenSpec {
    /// Rows of an action embedding table: the mask action plus every real id.
    pub fn action_vocab(&self) -> usize {
        (1usize << self.n_actions) + 1
    }
}

/// A batch of examples. History is LEFT-padded to `max_history` (most recent exposure
/// at `max_history - 1`); candidates are RIGHT-padded to `max_candidates`. Row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenBatch {
    pub size: usize,
    pub max_history: usize,
    pub max_candidates: usize,
    pub n_actions: usize,
    /// `size x max_history` item ids, 0 = padding.
    pub hist_items: Vec<u32>,
    /// `size x max_history` action ids (>= 1), 0 on padding.
    pub hist_actions: Vec<u32>,
    /// `size x max_history`: how many requests before the target request the exposure
    /// was shown (>= 1; 0 on padding).
    pub hist_requests_ago: Vec<u32>,
    /// `size x max_history`: the exposure's request time (0 on padding).
    pub hist_times: Vec<i64>,
    /// `size x max_history`: bucket of the gap between the exposure's request and the
    /// request before it (0 for a user's first request and on padding).
    pub hist_gap_buckets: Vec<u32>,
    /// `size x max_candidates` item ids of the target request, 0 = padding.
    pub cand_items: Vec<u32>,
    /// `size`: the target request's time.
    pub target_times: Vec<i64>,
    /// `size`: bucket of the gap between the target request and the one before it.
    pub target_gap_buckets: Vec<u32>,
    /// `size x max_candidates x n_actions` labels in {0, 1} (0 on padding). For the
    /// loss and the metrics only: models must never read them.
    pub labels: Vec<f32>,
}

/// The log-bucketed time gap (HSTU's bucketization), `TIME_BUCKETS` at most.
fn gap_bucket(requests: &[Request], k: usize) -> u32 {
    match k {
        0 => 0,
        _ => super::time_bucket(requests[k].time - requests[k - 1].time, TIME_BUCKETS) as u32,
    }
}

/// Panics unless exposure `index` of request `request` holds a real item and action.
fn check_exposure(spec: &GenSpec, e: &Exposure, request: usize, index: usize) {
    let max_action = 1u32 << spec.n_actions;
    assert!(
        (1..=spec.n_items).contains(&e.item),
        "request {request}, exposure {index}: item {} outside 1..={}",
        e.item,
        spec.n_items
    );
    assert!(
        (1..=max_action).contains(&e.action),
        "request {request}, exposure {index}: action id {} outside 1..={max_action}",
        e.action
    );
}

impl GenBatch {
    /// One row per example `(requests, r)`: history = the exposures of `requests[..r]`
    /// (the most recent `spec.max_history`), candidates = the first
    /// `spec.max_candidates` exposures of `requests[r]`, labels = their action flags.
    /// Panics if `r` is out of range, or if an exposure it uses has an item outside
    /// `1..=n_items` (0 would pass for padding) or an action id outside
    /// `1..=2^n_actions` (a larger one would lose its high flags).
    pub fn build(spec: &GenSpec, examples: &[(&[Request], usize)]) -> GenBatch {
        let (h, c, a) = (spec.max_history, spec.max_candidates, spec.n_actions);
        let n = examples.len();
        let mut b = GenBatch {
            size: n,
            max_history: h,
            max_candidates: c,
            n_actions: a,
            hist_items: vec![0; n * h],
            hist_actions: vec![0; n * h],
            hist_requests_ago: vec![0; n * h],
            hist_times: vec![0; n * h],
            hist_gap_buckets: vec![0; n * h],
            cand_items: vec![0; n * c],
            target_times: vec![0; n],
            target_gap_buckets: vec![0; n],
            labels: vec![0.0; n * c * a],
        };
        for (row, &(requests, r)) in examples.iter().enumerate() {
            assert!(r < requests.len(), "request {r} of {}", requests.len());
            let history: Vec<(usize, Exposure)> = requests[..r]
                .iter()
                .enumerate()
                .flat_map(|(k, q)| {
                    q.exposures.iter().enumerate().map(move |(i, e)| {
                        check_exposure(spec, e, k, i);
                        (k, *e)
                    })
                })
                .collect();
            let kept = &history[history.len().saturating_sub(h)..];
            let offset = row * h + (h - kept.len());
            for (p, &(k, e)) in kept.iter().enumerate() {
                b.hist_items[offset + p] = e.item;
                b.hist_actions[offset + p] = e.action;
                b.hist_requests_ago[offset + p] = (r - k) as u32;
                b.hist_times[offset + p] = requests[k].time;
                b.hist_gap_buckets[offset + p] = gap_bucket(requests, k);
            }
            for (j, e) in requests[r].exposures.iter().take(c).enumerate() {
                check_exposure(spec, e, r, j);
                b.cand_items[row * c + j] = e.item;
                for (k, f) in action_flags(e.action, a).into_iter().enumerate() {
                    b.labels[(row * c + j) * a + k] = f as u8 as f32;
                }
            }
            b.target_times[row] = requests[r].time;
            b.target_gap_buckets[row] = gap_bucket(requests, r);
        }
        b
    }

    /// Which candidate slots hold an item, `size x max_candidates`.
    pub fn candidate_valid(&self) -> Vec<bool> {
        self.cand_items.iter().map(|&i| i != 0).collect()
    }
    /// Which history slots hold an exposure, `size x max_history`.
    pub fn history_valid(&self) -> Vec<bool> {
        self.hist_items.iter().map(|&i| i != 0).collect()
    }
    /// Number of real candidates: what the mean loss divides by (times `n_actions`).
    pub fn n_candidates(&self) -> usize {
        self.cand_items.iter().filter(|&&i| i != 0).count()
    }
}

/// The generative-ranking kind: [`GenSpec`] sizes a model, [`GenBatch`] runs it, the
/// output is one logit per (candidate slot, action), `(size * max_candidates,
/// n_actions)` with one example's rows adjacent. Padding slots may hold any FINITE
/// value: they are masked out of the loss (by a 0 weight, so a NaN there still poisons
/// it) and the metrics. Default loss: [`candidate_bce`].
pub struct Generative;

impl Kind for Generative {
    const NAME: &'static str = "generative";
    type Spec = GenSpec;
    type Batch = GenBatch;
    type Output<D: Dev, T: Track<D>> = Mat<D, T>;
    type Hints = ();
    type SideInputs = ();

    fn default_loss<D: Dev, T: Track<D>>(
        logits: Mat<D, T>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Option<Loss<D, T>> {
        Some(candidate_bce(logits, batch, ctx))
    }

    fn to_host<D: Dev>(out: Mat<D>) -> Vec<f32> {
        out.as_vec()
    }

    fn batch_size(batch: &GenBatch) -> usize {
        batch.size
    }
}

/// The ranking loss: binary cross-entropy of every (real candidate, action), summed
/// over actions and averaged over real candidates. Padding slots get weight 0.
pub fn candidate_bce<D: Dev, T: Track<D>>(
    logits: Mat<D, T>,
    batch: &GenBatch,
    ctx: &mut Ctx<D>,
) -> Tensor<Rank0, f32, D, T> {
    let (rows, a) = *logits.shape();
    assert_eq!(
        (rows, a),
        (batch.size * batch.max_candidates, batch.n_actions),
        "generative logits shape"
    );
    let dev = logits.device().clone();
    let weight: Vec<f32> = batch
        .cand_items
        .iter()
        .flat_map(|&i| std::iter::repeat_n((i != 0) as u8 as f32, a))
        .collect();
    let n = batch.n_candidates().max(1) as f32;
    ctx.flops.loss(rows * a);
    ctx.flops.elementwise(rows * a);
    let labels = dev.tensor_from_vec(batch.labels.clone(), (rows, a));
    let weight = dev.tensor_from_vec(weight, (rows, a));
    // bce_with_logits is elementwise here: the per-element losses are masked, then summed.
    let per = logits.bce_with_logits(labels);
    (per * weight).sum::<Rank0, _>() / n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(time: i64, items: &[(u32, u32)]) -> Request {
        Request {
            time,
            exposures: items
                .iter()
                .map(|&(item, action)| Exposure { item, action })
                .collect(),
        }
    }

    #[test]
    fn action_ids_round_trip() {
        for a in 1..=8u32 {
            assert_eq!(action_id(&action_flags(a, 3)), a);
        }
        assert_eq!(action_id(&[false, false]), 1);
        assert_eq!(action_id(&[true, false]), 2);
        assert_eq!(action_id(&[false, true]), 3);
    }

    #[test]
    fn batch_holds_only_the_past_and_the_target_items() {
        let spec = GenSpec {
            n_items: 20,
            n_actions: 2,
            max_history: 4,
            max_candidates: 2,
        };
        let log = [
            req(10, &[(1, 1), (2, 2)]),
            req(20, &[(3, 4), (4, 1), (5, 3)]),
            req(25, &[(6, 4), (7, 2), (8, 1)]),
            req(90, &[(9, 4)]),
        ];
        let b = GenBatch::build(&spec, &[(&log[..], 2), (&log[..], 0)]);
        // Row 0: the 4 most recent exposures of requests 0..2, oldest first.
        assert_eq!(&b.hist_items[..4], &[2, 3, 4, 5]);
        assert_eq!(&b.hist_actions[..4], &[2, 4, 1, 3]);
        assert_eq!(&b.hist_requests_ago[..4], &[2, 1, 1, 1]);
        assert_eq!(&b.hist_times[..4], &[10, 20, 20, 20]);
        assert_eq!(&b.cand_items[..2], &[6, 7]); // cut to max_candidates
        assert_eq!(&b.labels[..4], &[1.0, 1.0, 1.0, 0.0]); // ids 4 = both, 2 = first
        assert_eq!(b.target_times[0], 25);
        // Row 1: the first request has no history.
        assert!(b.hist_items[4..].iter().all(|&i| i == 0));
        assert_eq!(&b.cand_items[2..], &[1, 2]);
        assert_eq!(b.n_candidates(), 4);
        // Nothing of request 3 (the future) is anywhere in row 0.
        assert!(!b.hist_items.contains(&9) && !b.cand_items.contains(&9));
    }
}
