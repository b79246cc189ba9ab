//! GenRank's action-oriented token organisation (arXiv 2505.04180) against HSTU's
//! interleaved layout: token counts, shared candidate positions, the causal mask where
//! candidates see the history but not each other, no leakage of the target request's
//! actions, ALiBi slopes, and the FLOP saving the shorter sequence brings.

use baselines::engine::Flops;
use baselines::sequential::genrank_tokens::*;

/// Three requests: two with history, the last one to be ranked.
fn log() -> Vec<Request> {
    let e = |item, action| Exposure { item, action };
    vec![
        Request {
            time: 1_000,
            exposures: vec![e(11, 1), e(12, 3)],
        },
        Request {
            time: 4_600,
            exposures: vec![e(13, 2), e(14, 1), e(15, 4)],
        },
        Request {
            time: 4_660,
            exposures: vec![e(21, 2), e(22, 1), e(23, 5)],
        },
    ]
}

#[test]
fn one_token_per_exposure_and_one_shared_candidate_position() {
    let l = action_oriented(&log(), 2, 100);
    assert_eq!(l.tokens.len(), 5 + 3);
    let hist: Vec<(u32, u32, u32)> = l.tokens[..5]
        .iter()
        .map(|t| (t.item, t.action, t.position))
        .collect();
    assert_eq!(
        hist,
        vec![(11, 1, 0), (12, 3, 1), (13, 2, 2), (14, 1, 3), (15, 4, 4)]
    );
    for t in &l.tokens[5..] {
        assert_eq!(
            (t.action, t.position, t.part, t.requests_ago),
            (MASK_ACTION, 5, Part::Candidate, 0)
        );
    }
    assert_eq!(l.tokens[0].requests_ago, 2);
    assert_eq!(l.tokens[4].requests_ago, 1);
    // Gaps: first request none (0), 3600 s -> 27, 60 s -> 13.
    assert_eq!(l.tokens[0].time_bucket, 0);
    assert_eq!(l.tokens[2].time_bucket, 27);
    assert_eq!(l.tokens[6].time_bucket, 13);
    // HSTU interleaving doubles the history.
    let h = interleaved(&log(), 2, 100);
    assert_eq!(h.tokens.len(), 2 * 5 + 3);
    assert_eq!(
        (h.tokens[2].item, h.tokens[3].action, h.tokens[3].item),
        (12, 3, 0)
    );
    assert!(h.tokens[10..].iter().all(|t| t.position == 10));
}

#[test]
fn history_is_cut_to_the_most_recent_exposures() {
    let l = action_oriented(&log(), 2, 3);
    let items: Vec<u32> = l.tokens.iter().map(|t| t.item).collect();
    assert_eq!(items, vec![13, 14, 15, 21, 22, 23]);
    assert_eq!(l.tokens[3].position, 3);
    let first = action_oriented(&log(), 0, 10);
    assert_eq!(first.tokens.len(), 2, "no history: candidates only");
}

#[test]
fn candidates_see_the_history_and_themselves_only() {
    for l in [action_oriented(&log(), 2, 100), interleaved(&log(), 2, 100)] {
        let t = l.tokens.len();
        let cands: Vec<usize> = l.candidates().collect();
        assert_eq!(cands.len(), 3);
        for i in 0..t {
            for j in 0..t {
                let want = if cands.contains(&j) {
                    i == j
                } else {
                    cands.contains(&i) || j <= i
                };
                assert_eq!(l.visible(i, j), want, "query {i}, key {j}");
            }
        }
        assert_eq!(l.mask().iter().filter(|&&v| v).count(), {
            let n = t - 3;
            n * (n + 1) / 2 + 3 * (n + 1)
        });
    }
}

#[test]
fn the_target_requests_actions_and_other_candidates_never_reach_a_candidate() {
    let base = action_oriented(&log(), 2, 100);
    let mut changed = log();
    changed[2].exposures[1].action = 7; // a candidate's own action
    changed[2].exposures[2].item = 99; // another candidate
    let l = action_oriented(&changed, 2, 100);
    // What candidate 5 (item 21) sees is identical, token for token.
    let seen = |l: &Layout, i: usize| -> Vec<Token> {
        (0..l.tokens.len())
            .filter(|&j| l.visible(i, j))
            .map(|j| l.tokens[j])
            .collect()
    };
    assert_eq!(seen(&base, 5), seen(&l, 5));
    assert_eq!(
        seen(&base, 6),
        seen(&l, 6),
        "own action changed, nothing visible changed"
    );
    assert_ne!(
        seen(&base, 7),
        seen(&l, 7),
        "the changed candidate itself differs"
    );
    assert!(l
        .tokens
        .iter()
        .filter(|t| t.part == Part::Candidate)
        .all(|t| t.action == MASK_ACTION));
}

#[test]
fn alibi_slopes_for_eight_heads_halve_from_one_half() {
    let s = alibi_slopes(8);
    let want: Vec<f32> = (1..=8).map(|h| 1.0 / 2f32.powi(h)).collect();
    assert_eq!(s, want);
    let l = action_oriented(&log(), 2, 100);
    let b = alibi_bias(&l, 0.5);
    let t = l.tokens.len();
    assert_eq!(b[0], 0.0);
    assert_eq!(b[4], -2.0); // positions 0 and 4
    assert_eq!(b[5 * t + 7], 0.0, "candidates share a position");
}

/// One HSTU-style layer on `t` tokens of width `d` (the spec's per-layer cost:
/// `2 t d 4d + 2 t d d + 4 t^2 d`), counted with the engine's conventions.
fn layer(t: usize, d: usize) -> (u64, u64) {
    let mut f = Flops::default();
    f.matmul(t, d, 4 * d);
    f.matmul(t, d, d);
    let linear = f.forward_total();
    f.pointwise_attention(1, 1, t, t, d, d);
    (linear, f.forward_total() - linear)
}

#[test]
fn the_action_oriented_layout_cuts_attention_by_three_quarters_and_linear_by_half() {
    // 200 exposures of history in 50 requests, 4 candidates.
    let reqs: Vec<Request> = (0..51)
        .map(|k| Request {
            time: 60 * k as i64,
            exposures: (0..4)
                .map(|i| Exposure {
                    item: 1 + k * 4 + i,
                    action: 1,
                })
                .collect(),
        })
        .collect();
    let g = action_oriented(&reqs, 50, 1000).tokens.len();
    let h = interleaved(&reqs, 50, 1000).tokens.len();
    assert_eq!((g, h), (204, 404));
    let ((gl, ga), (hl, ha)) = (layer(g, 64), layer(h, 64));
    let (lin, att) = (gl as f64 / hl as f64, ga as f64 / ha as f64);
    println!("GenRank / HSTU per layer: linear {lin:.3}, attention {att:.3}");
    assert!((lin - 0.5).abs() < 0.01, "linear ratio {lin}");
    assert!((att - 0.25).abs() < 0.01, "attention ratio {att}");
}
