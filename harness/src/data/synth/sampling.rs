//! Allocation-free draws used by the event stream: weighted indices over a cumulative
//! table, and "items published by time t" catalogues (a prefix of publish order).

use rand::Rng;

/// Index `i` with probability `w_i / sum(w)`, given `cumulative[i] = w_0 + ... + w_i`.
pub(crate) fn weighted_index<R: Rng>(cumulative: &[f64], rng: &mut R) -> usize {
    let total = cumulative[cumulative.len() - 1];
    let u = rng.gen::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= u)
        .min(cumulative.len() - 1)
}

/// Running sums of `weights`.
pub(crate) fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// A set of items in publish order with cumulative popularity, so that drawing among the
/// items already published at time `t` is a draw over a prefix.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    items: Vec<u32>,
    publish_time: Vec<i64>,
    cumulative_popularity: Vec<f64>,
}

impl Catalogue {
    /// `items` with their publish times and popularity weights (any order).
    pub(crate) fn new(mut entries: Vec<(i64, u32, f64)>) -> Catalogue {
        entries.sort_by_key(|e| (e.0, e.1));
        Catalogue {
            items: entries.iter().map(|e| e.1).collect(),
            publish_time: entries.iter().map(|e| e.0).collect(),
            cumulative_popularity: cumulative(entries.iter().map(|e| e.2)),
        }
    }

    /// How many items are published at or before `time`.
    pub(crate) fn published_by(&self, time: i64) -> usize {
        self.publish_time.partition_point(|&p| p <= time)
    }

    /// One of the first `n` (published) items, proportional to popularity.
    pub(crate) fn popular<R: Rng>(&self, n: usize, rng: &mut R) -> Option<u32> {
        (n > 0).then(|| self.items[weighted_index(&self.cumulative_popularity[..n], rng)])
    }

    /// One of the first `n` (published) items, uniformly.
    pub(crate) fn uniform<R: Rng>(&self, n: usize, rng: &mut R) -> Option<u32> {
        (n > 0).then(|| self.items[rng.gen_range(0..n)])
    }
}
