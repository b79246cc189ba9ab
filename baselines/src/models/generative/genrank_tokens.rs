//! The two token layouts of generative ranking, built from a [`GenBatch`] (so nothing
//! the batch leaves out, the target request's actions above all, can become a token):
//! GenRank's action-oriented layout (Huang et al., Towards Large-scale Generative
//! Ranking, arXiv 2505.04180, the GenRank architecture section; details as in the
//! project spec models-part1.md, whose source summaries are secondary) and HSTU's
//! interleaved one (Zhai et al., arXiv 2402.17152, Sec. 2.2, the paper's baseline).
//!
//! - [`action_oriented`] (GenRank): every history exposure is ONE token carrying item
//!   and action (`φ(x_i) + φ(a_i)` downstream): `max_history` slots, then the
//!   `max_candidates` candidate slots, `H + C` tokens a row.
//! - [`interleaved`] (HSTU): each exposure is an item token (action = the mask action)
//!   followed by an action token (no item), `2H + C` tokens a row.
//!
//! In both, a candidate token is its item with the learned mask action
//! [`MASK_ACTION`], and all candidates share the position right after the history.
//! Position ids are slot indices, the same in every row: with the history left-padded,
//! differences between the positions of real tokens do not depend on the padding. A
//! history token sees the history up to itself (causal); a candidate sees the whole
//! history and itself, never another candidate; padding is seen by nothing but itself.
//! Each token also carries how many requests ago it was shown and the bucketed time gap
//! between its request and the one before (`E_req`, `E_dt` in GenRank's token sum);
//! candidates get 0 requests ago and the target request's gap (known when it is
//! served). [`alibi_slopes`] gives the parameter-free ALiBi slopes `m_h = 2^(-8h/H)`
//! that replace HSTU's learned relative bias; the bias is `-m_h |pos_i - pos_j|`.

use crate::kinds::generative::GenBatch;
pub use crate::kinds::generative::{Exposure, Request, MASK_ACTION, TIME_BUCKETS};
use crate::layers::AttnMask;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Item and action in one token (GenRank history).
    Exposure,
    /// Item only, action = the mask action (interleaved history).
    Item,
    /// Action only, item 0 (interleaved history).
    Action,
    /// A candidate of the target request (action = [`MASK_ACTION`]).
    Candidate,
    /// An empty history or candidate slot.
    Padding,
}

/// A batch laid out as tokens, `size x len`, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub size: usize,
    /// Tokens per row.
    pub len: usize,
    /// History slots per row: the candidates' shared position id.
    pub history_len: usize,
    /// Item ids, 0 = none (action tokens, padding).
    pub items: Vec<u32>,
    /// Action ids: real (`>= 1`) on history exposures and action tokens,
    /// [`MASK_ACTION`] on item tokens, candidates and padding.
    pub actions: Vec<u32>,
    /// Requests between the token's request and the target (candidates and padding 0).
    pub requests_ago: Vec<u32>,
    /// Bucket of the gap between the token's request and the one before it.
    pub gap_buckets: Vec<u32>,
    /// The token's request time (candidates: the target's).
    pub times: Vec<i64>,
    pub parts: Vec<Part>,
}

impl Tokens {
    fn empty(b: &GenBatch, history_len: usize) -> Self {
        let len = history_len + b.max_candidates;
        let n = b.size * len;
        Tokens {
            size: b.size,
            len,
            history_len,
            items: vec![0; n],
            actions: vec![MASK_ACTION; n],
            requests_ago: vec![0; n],
            gap_buckets: vec![0; n],
            times: vec![0; n],
            parts: vec![Part::Padding; n],
        }
    }

    /// Fills the candidate slots of every row from the batch.
    fn with_candidates(mut self, b: &GenBatch) -> Self {
        let c = b.max_candidates;
        for row in 0..b.size {
            for j in 0..c {
                let t = row * self.len + self.history_len + j;
                let item = b.cand_items[row * c + j];
                if item != 0 {
                    self.items[t] = item;
                    self.parts[t] = Part::Candidate;
                    self.times[t] = b.target_times[row];
                    self.gap_buckets[t] = b.target_gap_buckets[row];
                }
            }
        }
        self
    }

    /// The position id of slot `slot` (every row): the slot index, and
    /// `history_len` for every candidate slot.
    pub fn position(&self, slot: usize) -> u32 {
        slot.min(self.history_len) as u32
    }

    /// Position ids of the `len` slots.
    pub fn positions(&self) -> Vec<u32> {
        (0..self.len).map(|s| self.position(s)).collect()
    }

    /// The candidate slots of a row, `history_len..len`.
    pub fn candidate_slots(&self) -> std::ops::Range<usize> {
        self.history_len..self.len
    }

    /// Whether token `i` of row `row` may attend to token `j`.
    pub fn visible(&self, row: usize, i: usize, j: usize) -> bool {
        let part = |s: usize| self.parts[row * self.len + s];
        if i == j {
            return true;
        }
        match (part(i), part(j)) {
            (_, Part::Candidate | Part::Padding) | (Part::Padding, _) => false,
            (Part::Candidate, _) => true,
            _ => j < i,
        }
    }

    /// [`Tokens::visible`] for every row and token pair.
    pub fn mask(&self) -> AttnMask {
        let l = self.len;
        let mut allowed = Vec::with_capacity(self.size * l * l);
        for row in 0..self.size {
            for i in 0..l {
                allowed.extend((0..l).map(|j| self.visible(row, i, j)));
            }
        }
        AttnMask {
            batch: self.size,
            lq: l,
            lk: l,
            allowed,
            norm_len: l,
        }
    }
}

/// GenRank's layout: one token per history slot (item + action), then the candidates.
pub fn action_oriented(b: &GenBatch) -> Tokens {
    let h = b.max_history;
    let mut t = Tokens::empty(b, h);
    for row in 0..b.size {
        for p in 0..h {
            let (src, dst) = (row * h + p, row * t.len + p);
            if b.hist_items[src] == 0 {
                continue;
            }
            t.items[dst] = b.hist_items[src];
            t.actions[dst] = b.hist_actions[src];
            t.requests_ago[dst] = b.hist_requests_ago[src];
            t.gap_buckets[dst] = b.hist_gap_buckets[src];
            t.times[dst] = b.hist_times[src];
            t.parts[dst] = Part::Exposure;
        }
    }
    t.with_candidates(b)
}

/// HSTU's layout: an item token and an action token per history slot, then the
/// candidates.
pub fn interleaved(b: &GenBatch) -> Tokens {
    let h = b.max_history;
    let mut t = Tokens::empty(b, 2 * h);
    for row in 0..b.size {
        for p in 0..h {
            let src = row * h + p;
            if b.hist_items[src] == 0 {
                continue;
            }
            let item = row * t.len + 2 * p;
            for dst in [item, item + 1] {
                t.requests_ago[dst] = b.hist_requests_ago[src];
                t.gap_buckets[dst] = b.hist_gap_buckets[src];
                t.times[dst] = b.hist_times[src];
            }
            t.items[item] = b.hist_items[src];
            t.parts[item] = Part::Item;
            t.actions[item + 1] = b.hist_actions[src];
            t.parts[item + 1] = Part::Action;
        }
    }
    t.with_candidates(b)
}

/// ALiBi slopes `m_h = 2^(-8h/H)`, `h = 1..=H` (Press et al., 2022).
pub fn alibi_slopes(heads: usize) -> Vec<f32> {
    (1..=heads)
        .map(|h| 2f32.powf(-8.0 * h as f32 / heads as f32))
        .collect()
}

/// The ALiBi bias `-m_h |pos_i - pos_j|` of every slot pair, `heads x len x len` (the
/// same for every row, since position ids are).
pub fn alibi_bias(tokens: &Tokens, slopes: &[f32]) -> Vec<f32> {
    let p: Vec<f32> = tokens.positions().iter().map(|&p| p as f32).collect();
    slopes
        .iter()
        .flat_map(|&m| {
            let p = &p;
            p.iter()
                .flat_map(move |&a| p.iter().map(move |&b| -m * (a - b).abs()))
        })
        .collect()
}
