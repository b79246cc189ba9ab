//! Length-bucketed training batches for sequential models whose cost follows the width
//! of the batch (`RetrievalHints::benefits_from_length_buckets`: those that trim padding, and
//! KuaiFormer, which skips tokens that are padding in every row), the bucketing
//! sequence-to-sequence trainers use.
//!
//! Most histories are far shorter than the window (Amazon Beauty: median 6 items of 50),
//! and a random batch is as wide as its longest history, so most of its positions are
//! padding. Grouping histories of similar length makes each batch as wide as its own.
//! The objective stays the one of random batches: a batch holds about as many training
//! targets as a random batch of `batch_size` users would (`batch_size` x the mean
//! targets per user), so every target keeps about the same weight in the mean loss of
//! its step, and an epoch has about the same number of steps. Short histories then come
//! in batches of many users, long ones in batches of few.
//!
//! Each epoch: the shuffled users are cut into pools of `POOL_BATCHES` batches' worth,
//! each pool is sorted by history length and cut greedily at the target budget (for a
//! model with as many targets as positions the two are the same; KuaiFormer has a
//! fixed number of replayed requests per user, so its batches keep `batch_size`
//! users), and the epoch's
//! batches are shuffled, so batch composition and order change every epoch (seeded).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Pools hold this many random batches' worth of users before sorting: large enough
/// for batches of near-equal lengths, small enough to mix the pool's users anew each
/// epoch.
pub const POOL_BATCHES: usize = 64;

/// The batches of one epoch. `order` is the epoch's shuffled users, `length(u)` what
/// batches are bucketed by (the history length), `targets(u)` the number of training
/// targets of user `u` (at least 1), `batch_size` the users of a random batch; `seed`
/// and `epoch` seed the shuffle of the batches.
pub fn length_bucketed(
    order: &[usize],
    length: impl Fn(usize) -> usize,
    targets: impl Fn(usize) -> usize,
    batch_size: usize,
    seed: u64,
    epoch: usize,
) -> Vec<Vec<usize>> {
    assert!(
        batch_size > 0,
        "length buckets: batch_size must be positive"
    );
    if order.is_empty() {
        return Vec::new();
    }
    let total: usize = order.iter().map(|&u| targets(u)).sum();
    // Targets of a random batch of `batch_size` users, in expectation.
    let budget = (total as f64 * batch_size as f64 / order.len() as f64).ceil() as usize;
    let mut batches = Vec::new();
    for pool in order.chunks(POOL_BATCHES * batch_size) {
        let mut pool: Vec<(usize, usize)> = pool.iter().map(|&u| (length(u), u)).collect();
        pool.sort_by_key(|&(len, _)| len);
        let (mut batch, mut filled) = (Vec::new(), 0);
        for (_, u) in pool {
            batch.push(u);
            filled += targets(u);
            if filled >= budget {
                batches.push(std::mem::take(&mut batch));
                filled = 0;
            }
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4C45_4E42_5543_4B54);
    rng.set_stream(epoch as u64);
    batches.shuffle(&mut rng);
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Users 0..n with `u % 50 + 1` targets.
    fn targets(u: usize) -> usize {
        u % 50 + 1
    }

    #[test]
    fn every_user_once_and_batches_hold_a_random_batchs_targets() {
        let order: Vec<usize> = (0..10_000).rev().collect();
        let batches = length_bucketed(&order, targets, targets, 128, 3, 1);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..10_000).collect::<Vec<_>>(),
            "each user exactly once"
        );
        // Budget: 128 x mean targets (25.5) = 3264; a batch stops at the first user that
        // reaches it, so it holds less than budget + the longest history (50).
        let budget = 3264;
        let full: Vec<usize> = batches
            .iter()
            .map(|b| b.iter().map(|&u| targets(u)).sum())
            .collect();
        assert!(full.iter().all(|&t| t < budget + 50));
        let complete = full.iter().filter(|&&t| t >= budget).count();
        // All but the last batch of each of the two pools (8192 + 1808 users) are full.
        assert!(
            complete + 2 >= batches.len(),
            "{complete} of {}",
            batches.len()
        );
        // About as many steps as random batches of 128 (79).
        assert!(
            (78..=81).contains(&batches.len()),
            "{} batches",
            batches.len()
        );
        // Within a batch, lengths are close: sorted pools give spans of a few targets.
        let spans: Vec<usize> = batches
            .iter()
            .map(|b| {
                let t: Vec<usize> = b.iter().map(|&u| targets(u)).collect();
                t.iter().max().unwrap() - t.iter().min().unwrap()
            })
            .collect();
        let mean_span = spans.iter().sum::<usize>() as f64 / spans.len() as f64;
        assert!(mean_span < 10.0, "mean span {mean_span} of 49");
    }

    #[test]
    fn seeded_and_different_every_epoch() {
        let order: Vec<usize> = (0..3000).collect();
        let a = length_bucketed(&order, targets, targets, 64, 7, 1);
        assert_eq!(a, length_bucketed(&order, targets, targets, 64, 7, 1));
        assert_ne!(a, length_bucketed(&order, targets, targets, 64, 7, 2));
        assert_ne!(a, length_bucketed(&order, targets, targets, 64, 8, 1));
        assert!(length_bucketed(&[], targets, targets, 64, 7, 1).is_empty());
    }

    /// A fixed number of targets per user (KuaiFormer's replayed requests): every
    /// batch but a pool's last holds `batch_size` users, still of similar lengths.
    #[test]
    fn a_fixed_target_count_keeps_batch_size_users_of_similar_length() {
        let order: Vec<usize> = (0..5_000).collect();
        let batches = length_bucketed(&order, targets, |_| 4, 100, 5, 2);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, order);
        let full = batches.iter().filter(|b| b.len() == 100).count();
        assert_eq!(
            full, 50,
            "5,000 users in one pool of 6,400: 50 full batches"
        );
        let span = |b: &Vec<usize>| {
            let t: Vec<usize> = b.iter().map(|&u| targets(u)).collect();
            t.iter().max().unwrap() - t.iter().min().unwrap()
        };
        assert!(batches.iter().all(|b| span(b) <= 1), "sorted by length");
    }
}
