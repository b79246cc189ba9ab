//! GenRank's action-oriented sequence organisation (Huang et al., Towards Large-scale
//! Generative Ranking, arXiv 2505.04180, the GenRank architecture section; details as
//! in the project spec models-part1.md, whose source summaries are secondary), as pure
//! functions from a user's request history to tokens and their visibility. The model
//! that embeds and ranks them is not built yet; "requests ago" as the request index and
//! the first request's time gap of 0 are choices of this file, not the paper's.
//!
//! A user's log is a list of requests, each with exposed items and the actions taken on
//! them. To rank the candidates of request `r`:
//! - [`action_oriented`] (GenRank): every exposure of the requests before `r` is ONE
//!   token carrying item and action (`φ(x_i) + φ(a_i)` downstream), positions
//!   `0..n`; each candidate of `r` is one token with the learned mask action
//!   [`MASK_ACTION`], and all candidates share position `n`. History tokens see the
//!   history up to themselves (causal); a candidate sees the whole history and itself,
//!   never another candidate, and never any action of request `r`.
//! - [`interleaved`] (HSTU's layout, the paper's baseline): each exposure is an item
//!   token followed by an action token, so the history is `2n` tokens; candidates as
//!   above.
//!
//! Each token also carries how many requests ago it was shown and the bucketed time
//! gap between its request and the one before (`E_req`, `E_dt` in the paper's token
//! sum). [`alibi_slopes`] gives the parameter-free ALiBi slopes `m_h = 2^(-8h/H)` that
//! replace HSTU's learned relative bias; the bias is `-m_h |pos_i - pos_j|`.

use super::hstu::time_bucket;
pub use crate::generative::{Exposure, Request, MASK_ACTION, TIME_BUCKETS};

/// What a token is in the interleaved layout; GenRank's tokens are all `Exposure`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Item and action in one token (GenRank history).
    Exposure,
    /// Item only (interleaved history).
    Item,
    /// Action only (interleaved history; `item` is 0).
    Action,
    /// A candidate of the target request (action = [`MASK_ACTION`]).
    Candidate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub item: u32,
    pub action: u32,
    pub position: u32,
    /// Requests between this token's request and the target (candidates 0).
    pub requests_ago: u32,
    /// Bucket of the time gap between this token's request and the previous request.
    pub time_bucket: u32,
    pub part: Part,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub tokens: Vec<Token>,
}

impl Layout {
    /// Whether token `i` may attend to token `j`: candidates see every non-candidate
    /// and themselves; other tokens see non-candidates up to themselves.
    pub fn visible(&self, i: usize, j: usize) -> bool {
        let (a, b) = (&self.tokens[i], &self.tokens[j]);
        if b.part == Part::Candidate {
            return i == j;
        }
        a.part == Part::Candidate || j <= i
    }

    /// `tokens x tokens` visibility, row = query.
    pub fn mask(&self) -> Vec<bool> {
        let t = self.tokens.len();
        (0..t)
            .flat_map(|i| (0..t).map(move |j| (i, j)))
            .map(|(i, j)| self.visible(i, j))
            .collect()
    }

    pub fn candidates(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.tokens.len()).filter(|&i| self.tokens[i].part == Part::Candidate)
    }
}

/// The most recent `max_history` exposures before request `r`, oldest first, with
/// their request index.
fn history(requests: &[Request], r: usize, max_history: usize) -> Vec<(usize, Exposure)> {
    let mut h: Vec<(usize, Exposure)> = requests[..r]
        .iter()
        .enumerate()
        .flat_map(|(k, q)| q.exposures.iter().map(move |e| (k, *e)))
        .collect();
    let cut = h.len().saturating_sub(max_history);
    h.drain(..cut);
    h
}

fn gap_bucket(requests: &[Request], k: usize) -> u32 {
    match k {
        0 => 0,
        _ => time_bucket(requests[k].time - requests[k - 1].time, TIME_BUCKETS) as u32,
    }
}

fn with_candidates(requests: &[Request], r: usize, mut tokens: Vec<Token>) -> Layout {
    let position = tokens.len() as u32;
    let bucket = gap_bucket(requests, r);
    tokens.extend(requests[r].exposures.iter().map(|e| Token {
        item: e.item,
        action: MASK_ACTION,
        position,
        requests_ago: 0,
        time_bucket: bucket,
        part: Part::Candidate,
    }));
    Layout { tokens }
}

/// GenRank's layout for ranking request `r`: `n` history tokens (item + action each,
/// at most `max_history`, most recent kept) then the candidates of `r` at one shared
/// position. Panics if `r` is out of range.
pub fn action_oriented(requests: &[Request], r: usize, max_history: usize) -> Layout {
    let tokens = history(requests, r, max_history)
        .into_iter()
        .enumerate()
        .map(|(p, (k, e))| Token {
            item: e.item,
            action: e.action,
            position: p as u32,
            requests_ago: (r - k) as u32,
            time_bucket: gap_bucket(requests, k),
            part: Part::Exposure,
        })
        .collect();
    with_candidates(requests, r, tokens)
}

/// HSTU's interleaved layout of the same history: an item token and an action token per
/// exposure (`2n` tokens), then the candidates at one shared position.
pub fn interleaved(requests: &[Request], r: usize, max_history: usize) -> Layout {
    let mut tokens = Vec::new();
    for (k, e) in history(requests, r, max_history) {
        for (item, action, part) in [
            (e.item, MASK_ACTION, Part::Item),
            (0, e.action, Part::Action),
        ] {
            tokens.push(Token {
                item,
                action,
                position: tokens.len() as u32,
                requests_ago: (r - k) as u32,
                time_bucket: gap_bucket(requests, k),
                part,
            });
        }
    }
    with_candidates(requests, r, tokens)
}

/// ALiBi slopes `m_h = 2^(-8h/H)`, `h = 1..=H` (Press et al., 2022).
pub fn alibi_slopes(heads: usize) -> Vec<f32> {
    (1..=heads)
        .map(|h| 2f32.powf(-8.0 * h as f32 / heads as f32))
        .collect()
}

/// The ALiBi bias `-m |pos_i - pos_j|` of every token pair for one slope.
pub fn alibi_bias(layout: &Layout, slope: f32) -> Vec<f32> {
    let p: Vec<f32> = layout.tokens.iter().map(|t| t.position as f32).collect();
    p.iter()
        .flat_map(|&a| p.iter().map(move |&b| -slope * (a - b).abs()))
        .collect()
}
