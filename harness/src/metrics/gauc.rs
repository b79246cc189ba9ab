//! Group AUC (GAUC) as used for CTR models (DIN, Zhou et al. 2018): AUC within each
//! group (user or request), averaged with weights equal to the group's example count.
//! A global AUC mixes users whose base rates differ; GAUC only compares within a user,
//! which is what a per-user ranking serves.

use rayon::prelude::*;

use super::auc::{auc_sorted, item};

/// Above this length the sort and the per-group pass run on the rayon pool.
const PAR_MIN: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq)]
pub struct GaucResult {
    /// Mean of the per-group AUCs weighted by group size (over the groups used).
    pub gauc: f64,
    /// Groups with both classes present; the others have no AUC and are skipped.
    pub groups_used: usize,
    /// Groups skipped because they hold a single class.
    pub groups_skipped: usize,
    /// `(group, auc, examples)` for each group used, by ascending group id, so paired
    /// tests over users can compare two models group by group.
    pub per_group: Vec<(u32, f64, usize)>,
}

/// GAUC of `scores` against 0/1 `labels` within `groups`.
///
/// Returns `None` when no group has both classes. A NaN score makes its group's AUC,
/// and so the mean, NaN. Panics if the lengths differ.
pub fn gauc(scores: &[f32], labels: &[f32], groups: &[u32]) -> Option<GaucResult> {
    assert_eq!(
        scores.len(),
        labels.len(),
        "gauc: scores and labels differ in length"
    );
    assert_eq!(
        scores.len(),
        groups.len(),
        "gauc: scores and groups differ in length"
    );
    let par = scores.len() >= PAR_MIN;
    let pack = |((&g, &s), &l): ((&u32, &f32), &f32)| (g, item(s, l));
    let mut rows: Vec<(u32, u64)> = if par {
        groups
            .par_iter()
            .zip(scores)
            .zip(labels)
            .map(pack)
            .collect()
    } else {
        groups.iter().zip(scores).zip(labels).map(pack).collect()
    };
    // Sorting by (group, item) orders each group's items by score as AUC needs.
    if par {
        rows.par_sort_unstable();
    } else {
        rows.sort_unstable();
    }

    let mut ranges = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].0 != rows[start].0 {
            ranges.push(start..i);
            start = i;
        }
    }
    let group_auc = |r: &std::ops::Range<usize>| {
        let items: Vec<u64> = rows[r.clone()].iter().map(|&(_, it)| it).collect();
        auc_sorted(&items).map(|a| (rows[r.start].0, a, r.len()))
    };
    let per_group: Vec<(u32, f64, usize)> = if par {
        ranges.par_iter().filter_map(group_auc).collect()
    } else {
        ranges.iter().filter_map(group_auc).collect()
    };
    if per_group.is_empty() {
        return None;
    }
    let (sum, n) = per_group.iter().fold((0.0, 0usize), |(s, n), &(_, a, k)| {
        (s + a * k as f64, n + k)
    });
    Some(GaucResult {
        gauc: sum / n as f64,
        groups_used: per_group.len(),
        groups_skipped: ranges.len() - per_group.len(),
        per_group,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::auc;

    #[test]
    fn weights_by_group_size_and_skips_single_class() {
        // Group 7: 4 rows, AUC 0.75. Group 2: 2 rows, AUC 0. Group 5: one class only.
        let scores = [0.1, 0.4, 0.35, 0.8, 0.9, 0.1, 0.3, 0.2];
        let labels = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0];
        let groups = [7, 7, 7, 7, 2, 2, 5, 5];
        let r = gauc(&scores, &labels, &groups).unwrap();
        assert_eq!(r.per_group, vec![(2, 0.0, 2), (7, 0.75, 4)]);
        assert_eq!((r.groups_used, r.groups_skipped), (2, 1));
        assert!((r.gauc - 0.5).abs() < 1e-15);
    }

    #[test]
    fn none_without_mixed_group() {
        assert_eq!(gauc(&[0.1, 0.2], &[0.0, 1.0], &[1, 2]), None);
        assert_eq!(gauc(&[], &[], &[]), None);
    }

    #[test]
    fn one_group_equals_auc_on_large_input() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 100_000;
        let labels: Vec<f32> = (0..n).map(|_| rng.gen_range(0..2) as f32).collect();
        let scores: Vec<f32> = labels.iter().map(|&l| l + rng.gen::<f32>() * 3.0).collect();
        let r = gauc(&scores, &labels, &vec![9; n]).unwrap();
        // Equal up to the rounding of (auc * n) / n.
        assert!((r.gauc - auc(&scores, &labels).unwrap()).abs() < 1e-12);
        // Many groups: each per-group value equals the AUC of that group's rows.
        let groups: Vec<u32> = (0..n).map(|i| (i % 997) as u32).collect();
        let r = gauc(&scores, &labels, &groups).unwrap();
        assert_eq!(r.groups_used, 997);
        let (g, a, k) = r.per_group[10];
        let rows: Vec<usize> = (0..n).filter(|&i| groups[i] == g).collect();
        let s: Vec<f32> = rows.iter().map(|&i| scores[i]).collect();
        let l: Vec<f32> = rows.iter().map(|&i| labels[i]).collect();
        assert_eq!((a, k), (auc(&s, &l).unwrap(), rows.len()));
    }
}
