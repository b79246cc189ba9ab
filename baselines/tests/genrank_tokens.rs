//! GenRank's action-oriented token layout (arXiv 2505.04180) against HSTU's
//! interleaved one, built from `GenBatch` rows: token counts, left-padded history, one
//! shared candidate position, the mask where candidates see the history but not each
//! other, no trace of the target request's actions, ALiBi slopes and biases, and the
//! FLOP saving the shorter sequence brings.

use baselines::engine::Flops;
use baselines::models::generative::genrank_tokens::*;
use baselines::{GenBatch, GenSpec};

/// Three requests: two with history, the last one to be ranked (3 actions: ids 1..=8).
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

fn batch(log: &[Request], r: usize, max_history: usize) -> GenBatch {
    let spec = GenSpec {
        n_items: 30,
        n_actions: 3,
        max_history,
        max_candidates: 3,
    };
    GenBatch::build(&spec, &[(log, r)])
}

#[test]
fn one_token_per_exposure_and_one_shared_candidate_position() {
    let t = action_oriented(&batch(&log(), 2, 6));
    assert_eq!((t.len, t.history_len), (6 + 3, 6));
    assert_eq!(t.parts[0], Part::Padding, "5 exposures in 6 slots");
    let hist: Vec<(u32, u32, u32)> = (1..6)
        .map(|s| (t.items[s], t.actions[s], t.position(s)))
        .collect();
    assert_eq!(
        hist,
        vec![(11, 1, 1), (12, 3, 2), (13, 2, 3), (14, 1, 4), (15, 4, 5)]
    );
    for s in t.candidate_slots() {
        assert_eq!(
            (t.actions[s], t.position(s), t.parts[s], t.requests_ago[s]),
            (MASK_ACTION, 6, Part::Candidate, 0)
        );
    }
    assert_eq!(&t.items[6..], &[21, 22, 23]);
    assert_eq!((t.requests_ago[1], t.requests_ago[5]), (2, 1));
    // Gaps: first request none (0), 3600 s -> 27, 60 s -> 13.
    assert_eq!(
        (t.gap_buckets[1], t.gap_buckets[3], t.gap_buckets[7]),
        (0, 27, 13)
    );
    assert_eq!((t.times[1], t.times[3], t.times[7]), (1_000, 4_600, 4_660));
    // HSTU interleaving doubles the history: item token then action token.
    let h = interleaved(&batch(&log(), 2, 6));
    assert_eq!((h.len, h.history_len), (2 * 6 + 3, 12));
    assert_eq!(
        &h.parts[..4],
        &[Part::Padding, Part::Padding, Part::Item, Part::Action]
    );
    assert_eq!((h.items[4], h.actions[4]), (12, MASK_ACTION));
    assert_eq!((h.items[5], h.actions[5]), (0, 3));
    assert_eq!(h.requests_ago[4], h.requests_ago[5]);
    assert!(h.candidate_slots().all(|s| h.position(s) == 12));
}

#[test]
fn history_is_cut_to_the_most_recent_exposures() {
    let t = action_oriented(&batch(&log(), 2, 3));
    assert_eq!(&t.items, &[13, 14, 15, 21, 22, 23]);
    assert_eq!(t.positions(), vec![0, 1, 2, 3, 3, 3]);
    let first = action_oriented(&batch(&log(), 0, 4));
    let real = first.parts.iter().filter(|&&p| p != Part::Padding).count();
    assert_eq!(real, 2, "no history: the two candidates only");
}

#[test]
fn candidates_see_the_history_and_themselves_only() {
    let b = batch(&log(), 2, 7);
    for t in [action_oriented(&b), interleaved(&b)] {
        let real = |s: usize| t.parts[s] != Part::Padding;
        let cand = |s: usize| t.parts[s] == Part::Candidate;
        for i in 0..t.len {
            for j in 0..t.len {
                let want = i == j || (real(i) && real(j) && !cand(j) && (cand(i) || j < i));
                assert_eq!(t.visible(0, i, j), want, "query {i}, key {j}");
            }
        }
        // n real history tokens see a triangle, 3 candidates the history and
        // themselves, padding itself.
        let n = t.parts.iter().filter(|&&p| real_history(p)).count();
        let pad = t.parts.iter().filter(|&&p| p == Part::Padding).count();
        let mask = t.mask();
        assert_eq!(mask.allowed.iter().filter(|&&v| v).count(), {
            n * (n + 1) / 2 + 3 * (n + 1) + pad
        });
        let each: Vec<bool> = (0..t.len)
            .flat_map(|i| (0..t.len).map(move |j| (i, j)))
            .map(|(i, j)| t.visible(0, i, j))
            .collect();
        assert_eq!(mask.allowed, each);
    }
}

fn real_history(p: Part) -> bool {
    matches!(p, Part::Exposure | Part::Item | Part::Action)
}

#[test]
fn the_target_requests_actions_never_become_tokens() {
    let base = batch(&log(), 2, 6);
    for layout in [action_oriented, interleaved] {
        let mut own = log();
        own[2].exposures[1].action = 7; // a candidate's own action (its label)
        assert_eq!(layout(&batch(&own, 2, 6)), layout(&base));
        let mut other = log();
        other[2].exposures[2].item = 29; // another candidate
        let (a, b) = (layout(&base), layout(&batch(&other, 2, 6)));
        let c0 = a.history_len;
        let seen = |t: &Tokens, i: usize| -> Vec<(u32, u32, Part)> {
            (0..t.len)
                .filter(|&j| t.visible(0, i, j))
                .map(|j| (t.items[j], t.actions[j], t.parts[j]))
                .collect()
        };
        assert_eq!(seen(&a, c0), seen(&b, c0), "candidate 0 sees the same");
        assert_ne!(
            seen(&a, c0 + 2),
            seen(&b, c0 + 2),
            "the changed one differs"
        );
        assert!(a.candidate_slots().all(|s| a.actions[s] == MASK_ACTION));
    }
}

#[test]
fn alibi_slopes_for_eight_heads_halve_from_one_half() {
    let s = alibi_slopes(8);
    let want: Vec<f32> = (1..=8).map(|h| 1.0 / 2f32.powi(h)).collect();
    assert_eq!(s, want);
    let t = action_oriented(&batch(&log(), 2, 6));
    let b = alibi_bias(&t, &[0.5, 0.25]);
    let l = t.len;
    assert_eq!(b.len(), 2 * l * l);
    assert_eq!(b[0], 0.0);
    assert_eq!(b[4], -2.0); // head 0, positions 0 and 4
    assert_eq!(b[l * l + 4], -1.0); // head 1
    assert_eq!(b[7 * l + 1], -2.5, "candidate at 6, exposure at 1");
    assert_eq!(b[6 * l + 8], 0.0, "candidates share a position");
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
    let spec = GenSpec {
        n_items: 300,
        n_actions: 1,
        max_history: 200,
        max_candidates: 4,
    };
    let b = GenBatch::build(&spec, &[(&reqs, 50)]);
    let (g, h) = (action_oriented(&b).len, interleaved(&b).len);
    assert_eq!((g, h), (204, 404));
    let ((gl, ga), (hl, ha)) = (layer(g, 64), layer(h, 64));
    let (lin, att) = (gl as f64 / hl as f64, ga as f64 / ha as f64);
    println!("GenRank / HSTU per layer: linear {lin:.3}, attention {att:.3}");
    assert!((lin - 0.5).abs() < 0.01, "linear ratio {lin}");
    assert!((att - 0.25).abs() < 0.01, "attention ratio {att}");
}
