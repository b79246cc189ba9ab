//! Turns users' sequences into `baselines::SeqBatch`es (left-padded histories, next-item
//! targets, sampled negatives) and into the evaluation queries of the retrieval metrics.
//!
//! Training (leave-one-out): a user's row is the last `max_len + 1` items of their
//! training prefix; inputs are all but its last item, targets all but its first, so
//! every position predicts the item that followed it and nothing at or after the
//! validation item is ever in a training batch. Users whose training prefix has fewer
//! than 2 items have no training target and no training row (they are still
//! evaluated). Older items beyond `max_len` are dropped, as in SASRec.

use baselines::SeqBatch;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::popularity_sampler::PopularitySampler;
use super::sequences::{LooView, Sequences, Stage};

/// Users with at least one training target.
pub fn train_users(seqs: &Sequences) -> Vec<usize> {
    (0..seqs.n_users())
        .filter(|&u| LooView::new(seqs, u).train().len() >= 2)
        .collect()
}

/// Copies the last `max_len` of `src` into `dst` (length `max_len`), right-aligned.
fn left_pad<T: Copy + Default>(dst: &mut [T], src: &[T]) {
    let src = &src[src.len().saturating_sub(dst.len())..];
    let start = dst.len() - src.len();
    dst[..start].fill(T::default());
    dst[start..].copy_from_slice(src);
}

/// How wide a batch is: `max_len` positions, or, with `trim` (for models with
/// `RetrievalHints::trims_padding`), only as many as the batch's longest history fills, so
/// columns that are padding in every row are not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub max_len: usize,
    pub trim: bool,
}

impl Window {
    /// Always `max_len` wide.
    pub fn full(max_len: usize) -> Self {
        Window {
            max_len,
            trim: false,
        }
    }

    /// `max_len` wide, or trimmed when `model` trims padding.
    pub fn for_model<D: baselines::engine::Dev>(
        model: &dyn baselines::Model<baselines::Retrieval, D>,
        max_len: usize,
    ) -> Self {
        Window {
            max_len,
            trim: model.hints().trims_padding,
        }
    }

    /// The width of a batch whose longest history has `longest` items (at least 1).
    pub fn width(&self, longest: usize) -> usize {
        if self.trim {
            longest.clamp(1, self.max_len)
        } else {
            self.max_len
        }
    }
}

/// A training batch of `users`, with `n_neg` negatives per non-padding position drawn
/// from `rng`: uniform over items `1..=n_items` other than the position's target.
pub fn train_batch(
    seqs: &Sequences,
    users: &[usize],
    window: Window,
    n_neg: usize,
    rng: &mut ChaCha8Rng,
) -> SeqBatch {
    let n = users.len();
    let longest = users
        .iter()
        .map(|&u| LooView::new(seqs, u).train().len().saturating_sub(1))
        .max()
        .unwrap_or(0);
    let max_len = window.width(longest);
    let mut b = SeqBatch {
        size: n,
        max_len,
        items: vec![0; n * max_len],
        times: vec![0; n * max_len],
        targets: vec![0; n * max_len],
        negatives: vec![0; n * max_len * n_neg],
        n_neg,
    };
    let n_items = seqs.n_items;
    assert!(n_items >= 2, "negative sampling needs at least 2 items");
    for (row, &u) in users.iter().enumerate() {
        let view = LooView::new(seqs, u);
        let (items, times) = (view.train(), view.train_times());
        let last = items.len();
        assert!(last >= 2, "user {u} has no training target");
        let cells = row * max_len..(row + 1) * max_len;
        left_pad(&mut b.items[cells.clone()], &items[..last - 1]);
        left_pad(&mut b.times[cells.clone()], &times[..last - 1]);
        left_pad(&mut b.targets[cells.clone()], &items[1..]);
        for p in cells {
            let t = b.targets[p];
            if t == 0 {
                continue;
            }
            for slot in &mut b.negatives[p * n_neg..(p + 1) * n_neg] {
                // Uniform over the n_items - 1 items other than t.
                let r = rng.gen_range(1..n_items);
                *slot = if r >= t { r + 1 } else { r };
            }
        }
    }
    b
}

/// An evaluation batch: the histories of `users` before their `stage` item.
pub fn eval_batch(seqs: &Sequences, users: &[usize], stage: Stage, window: Window) -> SeqBatch {
    let n = users.len();
    let longest = users
        .iter()
        .map(|&u| LooView::new(seqs, u).eval(stage).0.len())
        .max()
        .unwrap_or(0);
    let max_len = window.width(longest);
    let mut b = SeqBatch {
        size: n,
        max_len,
        items: vec![0; n * max_len],
        times: vec![0; n * max_len],
        ..Default::default()
    };
    for (row, &u) in users.iter().enumerate() {
        let (hist, times, _) = LooView::new(seqs, u).eval(stage);
        let cells = row * max_len..(row + 1) * max_len;
        left_pad(&mut b.items[cells.clone()], hist);
        left_pad(&mut b.times[cells], times);
    }
    b
}

/// What the metrics need of one evaluated user.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalQuery {
    pub user: usize,
    /// Every item of the history before the evaluated position, ascending, unique:
    /// the seen filter (it may contain the target, which is still ranked).
    pub seen: Vec<u32>,
    pub target: u32,
    /// The sampled protocol's negatives: distinct items outside `seen` and the target
    /// (all of them when fewer than asked exist); empty when not asked for.
    pub sampled: Vec<u32>,
    /// The popularity-sampled protocol's negatives, likewise.
    pub pop_sampled: Vec<u32>,
}

/// Negatives per query of the two sampled protocols (0 = the task does not ask for it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampledCounts {
    /// `_s<N>` metrics: uniform over the unseen items.
    pub uniform: usize,
    /// `_p<N>` metrics: by popularity (`PopularitySampler`).
    pub popularity: usize,
}

/// The queries of every user at `stage`, with `counts` sampled negatives each (the
/// popularity-sampled ones drawn by `sampler`, needed when `counts.popularity > 0`),
/// seeded by `seed` (the same for every model of a seed, so their ranks pair).
pub fn eval_queries(
    seqs: &Sequences,
    stage: Stage,
    counts: SampledCounts,
    sampler: Option<&PopularitySampler>,
    seed: u64,
) -> Vec<EvalQuery> {
    assert!(
        counts.popularity == 0 || sampler.is_some(),
        "popularity-sampled negatives need a sampler"
    );
    let stream_base = match stage {
        Stage::Valid => 0,
        Stage::Test => 1u64 << 40,
    };
    (0..seqs.n_users())
        .map(|u| {
            let (hist, _, target) = LooView::new(seqs, u).eval(stage);
            let mut seen = hist.to_vec();
            seen.sort_unstable();
            seen.dedup();
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5A3D_1E5E_u64);
            rng.set_stream(stream_base + u as u64);
            let sampled = sample_unseen(seqs.n_items, &seen, target, counts.uniform, &mut rng);
            let pop_sampled = match sampler {
                Some(p) if counts.popularity > 0 => {
                    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9E37_79B9_u64);
                    rng.set_stream(stream_base + u as u64);
                    p.sample(&seen, target, counts.popularity, &mut rng)
                }
                _ => Vec::new(),
            };
            EvalQuery {
                user: u,
                seen,
                target,
                sampled,
                pop_sampled,
            }
        })
        .collect()
}

/// `n` distinct items from `1..=n_items` outside `seen` (ascending) and `target`,
/// uniformly without replacement; every such item when there are at most `n`.
pub fn sample_unseen(
    n_items: u32,
    seen: &[u32],
    target: u32,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let excluded = |i: u32| i == target || seen.binary_search(&i).is_ok();
    let n_excluded = seen.len() + usize::from(seen.binary_search(&target).is_err());
    let available = n_items as usize - n_excluded;
    if available <= 2 * n {
        let mut all: Vec<u32> = (1..=n_items).filter(|&i| !excluded(i)).collect();
        all.shuffle(rng);
        all.truncate(n);
        return all;
    }
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let i = rng.gen_range(1..=n_items);
        if !excluded(i) && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::sequences::Events;

    fn seqs() -> Sequences {
        // user 0: 1 2 3 4 5 6 (train 1 2 3 4, valid 5, test 6); user 1: 7 8 2 (train 7).
        let users = [0, 0, 0, 0, 0, 0, 1, 1, 1];
        let items = [0, 1, 2, 3, 4, 5, 6, 7, 1];
        let times: Vec<i64> = (10..19).collect();
        let names = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        let (un, inames) = (names(2), names(8));
        let events = Events {
            users: &users,
            items: &items,
            times: &times,
            user_names: &un,
            item_names: &inames,
        };
        Sequences::from_events("t", "t", &events, 3).unwrap()
    }

    #[test]
    fn training_rows_hold_only_the_training_prefix_left_padded() {
        let s = seqs();
        assert_eq!(train_users(&s), vec![0]);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let b = train_batch(&s, &[0], Window::full(5), 2, &mut rng);
        assert_eq!(b.items, vec![0, 0, 1, 2, 3]);
        assert_eq!(b.targets, vec![0, 0, 2, 3, 4]);
        assert_eq!(b.times, vec![0, 0, 10, 11, 12]);
        assert_eq!(b.n_targets(), 3);
        // Neither the validation item (5) nor the test item (6) appears as an input or
        // a target; negatives avoid their position's target and padding has none.
        assert!(!b.items.contains(&5) && !b.items.contains(&6));
        assert!(!b.targets.contains(&5) && !b.targets.contains(&6));
        for p in 0..5 {
            let negs = &b.negatives[p * 2..(p + 1) * 2];
            if b.targets[p] == 0 {
                assert_eq!(negs, &[0, 0]);
            } else {
                assert!(negs
                    .iter()
                    .all(|&x| x != b.targets[p] && (1..=8).contains(&x)));
            }
        }
        // max_len shorter than the prefix keeps the most recent positions.
        let b = train_batch(&s, &[0], Window::full(2), 1, &mut rng);
        assert_eq!((b.items, b.targets), (vec![2, 3], vec![3, 4]));
    }

    #[test]
    fn trimmed_windows_are_as_wide_as_the_longest_history_and_hold_the_same_rows() {
        let s = seqs();
        let trim = Window {
            max_len: 10,
            trim: true,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        // User 0's training row has 3 inputs (1 2 3): the window is 3, not 10.
        let b = train_batch(&s, &[0], trim, 1, &mut rng);
        assert_eq!(
            (b.max_len, b.items, b.targets),
            (3, vec![1, 2, 3], vec![2, 3, 4])
        );
        // Evaluation: the longest history (user 0's 4 before the validation item) sets
        // the width; the shorter one is left-padded inside it, as in the full window.
        let b = eval_batch(&s, &[1, 0], Stage::Valid, trim);
        assert_eq!(b.max_len, 4);
        assert_eq!(b.items, vec![0, 0, 0, 7, 1, 2, 3, 4]);
        let full = eval_batch(&s, &[1, 0], Stage::Valid, Window::full(10));
        assert_eq!(&full.items[6..10], &b.items[..4]);
        assert_eq!(&full.items[16..20], &b.items[4..8]);
        // A window never exceeds max_len, and trimming off changes nothing.
        let capped = Window {
            max_len: 2,
            trim: true,
        };
        assert_eq!(eval_batch(&s, &[0], Stage::Test, capped).items, vec![4, 5]);
        assert_eq!(Window::full(7).width(3), 7);
        assert_eq!(trim.width(0), 1);
    }

    #[test]
    fn evaluation_histories_stop_before_the_evaluated_item() {
        let s = seqs();
        let b = eval_batch(&s, &[0, 1], Stage::Valid, Window::full(5));
        assert_eq!(b.items, vec![0, 1, 2, 3, 4, 0, 0, 0, 0, 7]);
        assert!(b.targets.is_empty() && b.negatives.is_empty());
        let b = eval_batch(&s, &[0, 1], Stage::Test, Window::full(3));
        assert_eq!(b.items, vec![3, 4, 5, 0, 7, 8]);
        let three = SampledCounts {
            uniform: 3,
            popularity: 0,
        };
        let q = eval_queries(&s, Stage::Test, three, None, 9);
        assert_eq!((q[1].seen.clone(), q[1].target), (vec![7, 8], 2));
        assert_eq!(q[0].seen, vec![1, 2, 3, 4, 5]);
        // User 0 has 8 - 6 = 2 unseen items other than the target: both, and no more.
        let mut s0 = q[0].sampled.clone();
        s0.sort_unstable();
        assert_eq!(s0, vec![7, 8]);
        assert_eq!(q, eval_queries(&s, Stage::Test, three, None, 9), "seeded");
        assert!(q.iter().all(|q| q.pop_sampled.is_empty()), "not asked for");
        // Popularity-sampled negatives: distinct, unseen, seeded, on their own stream.
        let counts: Vec<u32> = (0..=8).collect();
        let sampler = PopularitySampler::new(&counts);
        let both = SampledCounts {
            uniform: 3,
            popularity: 2,
        };
        let p = eval_queries(&s, Stage::Test, both, Some(&sampler), 9);
        for (a, b) in q.iter().zip(&p) {
            assert_eq!(a.sampled, b.sampled, "the uniform draws do not move");
            assert_eq!(b.pop_sampled.len(), 2);
            assert!(b
                .pop_sampled
                .iter()
                .all(|&i| i != b.target && !b.seen.contains(&i)));
            assert_ne!(b.pop_sampled[0], b.pop_sampled[1]);
        }
        assert_eq!(p, eval_queries(&s, Stage::Test, both, Some(&sampler), 9));
    }

    #[test]
    fn sampled_negatives_are_distinct_unseen_and_roughly_uniform() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let seen = [2, 4, 6, 8];
        let mut counts = vec![0usize; 101];
        for _ in 0..2000 {
            let s = sample_unseen(100, &seen, 10, 20, &mut rng);
            assert_eq!(s.len(), 20);
            let mut d = s.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), 20);
            for &i in &s {
                assert!(!seen.contains(&i) && i != 10 && (1..=100).contains(&i));
                counts[i as usize] += 1;
            }
        }
        // 95 candidates, 40000 draws: about 421 each.
        let used: Vec<usize> = counts.iter().copied().filter(|&c| c > 0).collect();
        assert_eq!(used.len(), 95);
        assert!(used.iter().all(|&c| (330..=520).contains(&c)), "{used:?}");
    }
}
