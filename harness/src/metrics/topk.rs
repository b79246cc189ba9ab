//! Scoring every user against the whole corpus, in parallel: the engine behind the
//! retrieval metrics, R/R* and `top_k_all` (serving-style top-K).
//!
//! Users are cut into chunks of `CHUNK_USERS`; rayon runs chunks on its pool. Per chunk
//! one SGEMM (`matrixmultiply`, blocked and SIMD) computes the `(users x interests) x
//! (n_items + 1)` dot products against the host item matrix, a user's score of an item
//! is the max over its interest vectors (multi-interest models such as KuaiFormer), and
//! a caller's function consumes each user's row of scores. The score buffer is reused
//! per rayon job, so a chunk costs no allocation of its own.
//!
//! Top-K: a bounded candidate buffer per user, compacted with `select_nth_unstable`
//! whenever it holds `2K` entries; items scoring at most the current K-th score are
//! skipped without a comparison chain. Order: score descending, then item id ascending
//! (a fixed tie order); NaN scores rank below every number; padding (item 0) and the
//! user's seen items are never returned.

use std::cmp::Ordering;
use std::ops::Range;

use rayon::prelude::*;

/// Users scored per SGEMM: 32 users x 55k items x 4 bytes = 7 MB of scores per job.
pub const CHUNK_USERS: usize = 32;

/// The item side: `(n_items + 1) x dim`, row-major, row 0 = padding.
#[derive(Debug, Clone, Copy)]
pub struct ItemMatrix<'a> {
    pub vectors: &'a [f32],
    pub dim: usize,
}

impl ItemMatrix<'_> {
    /// Rows, padding included (`n_items + 1`).
    pub fn rows(&self) -> usize {
        self.vectors.len() / self.dim.max(1)
    }
}

/// The user side: `n_users x interests x dim`, row-major, one user's rows adjacent.
#[derive(Debug, Clone, Copy)]
pub struct UserMatrix<'a> {
    pub vectors: &'a [f32],
    pub interests: usize,
    pub dim: usize,
}

impl UserMatrix<'_> {
    pub fn users(&self) -> usize {
        self.vectors.len() / (self.interests * self.dim).max(1)
    }
}

/// FLOPs of scoring one user against the corpus: `2 d` per (interest, item) plus the
/// max over interests.
pub fn scoring_flops_per_user(items: usize, dim: usize, interests: usize) -> u64 {
    (items * (2 * dim * interests + interests.saturating_sub(1))) as u64
}

/// `f(user, scores)` for every user, where `scores[i]` is the user's score of item `i`
/// (index 0 = padding; callers skip it). Results come back in user order.
pub fn for_each_user<R, F>(users: UserMatrix, items: ItemMatrix, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(usize, &mut [f32]) -> R + Sync,
{
    assert_eq!(
        users.dim, items.dim,
        "user and item vectors differ in width"
    );
    let n = users.users();
    let chunks: Vec<Range<usize>> = (0..n.div_ceil(CHUNK_USERS))
        .map(|c| c * CHUNK_USERS..((c + 1) * CHUNK_USERS).min(n))
        .collect();
    let per_chunk: Vec<Vec<R>> = chunks
        .into_par_iter()
        .map_init(Vec::new, |buf: &mut Vec<f32>, range| {
            score_chunk(users, items, range.clone(), buf);
            let cols = items.rows();
            let rows_per_user = users.interests * cols;
            range
                .enumerate()
                .map(|(local, user)| {
                    let block = &mut buf[local * rows_per_user..(local + 1) * rows_per_user];
                    let (first, rest) = block.split_at_mut(cols);
                    for other in rest.chunks_exact(cols) {
                        first
                            .iter_mut()
                            .zip(other)
                            .for_each(|(a, &b)| *a = max_nan_low(*a, b));
                    }
                    f(user, first)
                })
                .collect()
        })
        .collect();
    per_chunk.into_iter().flatten().collect()
}

/// The larger of two scores, NaN counting as the lowest.
fn max_nan_low(a: f32, b: f32) -> f32 {
    if a.is_nan() || b > a {
        b
    } else {
        a
    }
}

/// `buf = U[range] x I^T`, `(range.len() * interests) x items.rows()`.
fn score_chunk(users: UserMatrix, items: ItemMatrix, range: Range<usize>, buf: &mut Vec<f32>) {
    let (d, cols) = (items.dim, items.rows());
    let rows = range.len() * users.interests;
    let a = &users.vectors[range.start * users.interests * d..range.end * users.interests * d];
    buf.clear();
    buf.resize(rows * cols, 0.0);
    // SAFETY: `a` is rows x d row-major, the items are cols x d row-major (read as the
    // d x cols matrix B with strides (1, d)), `buf` is rows x cols row-major; all three
    // slices have exactly those lengths, and `buf` does not alias the inputs.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            d,
            cols,
            1.0,
            a.as_ptr(),
            d as isize,
            1,
            items.vectors.as_ptr(),
            1,
            d as isize,
            0.0,
            buf.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
}

/// `a` before `b` in a top-K list: higher score first, NaN last, then lower id.
fn better(a: &(f32, u32), b: &(f32, u32)) -> Ordering {
    match (a.0.is_nan(), b.0.is_nan()) {
        (false, false) => b.0.total_cmp(&a.0),
        (x, y) => x.cmp(&y),
    }
    .then(a.1.cmp(&b.1))
}

/// The `k` best items of one score row (best first), skipping padding and `seen`
/// (ascending, unique).
pub fn top_k_row(scores: &[f32], seen: &[u32], k: usize) -> Vec<u32> {
    debug_assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "seen must be sorted, unique"
    );
    if k == 0 {
        return Vec::new();
    }
    let mut buf: Vec<(f32, u32)> = Vec::with_capacity(2 * k);
    // Once the buffer has been compacted, the K-th best so far: only items strictly
    // better enter (an equal score comes with a larger id, so it ranks below).
    let mut kth: Option<f32> = None;
    // The candidates are the runs of ids between seen items: scan each run in a tight
    // loop, with no per-item seen test.
    let end = scores.len() as u32;
    let mut from = 1u32;
    for stop in seen
        .iter()
        .copied()
        .filter(|&x| x >= 1 && x < end)
        .chain([end])
    {
        for (offset, &s) in scores[from as usize..stop as usize].iter().enumerate() {
            if let Some(f) = kth {
                let enters = if f.is_nan() { !s.is_nan() } else { s > f };
                if !enters {
                    continue;
                }
            }
            buf.push((s, from + offset as u32));
            if buf.len() == 2 * k {
                buf.select_nth_unstable_by(k - 1, better);
                kth = Some(buf[k - 1].0);
                buf.truncate(k);
            }
        }
        from = stop + 1;
    }
    buf.sort_unstable_by(better);
    buf.truncate(k);
    buf.into_iter().map(|(_, i)| i).collect()
}

/// Full-corpus top-`k` of every user, seen items excluded: `seen(u)` gives user `u`'s
/// seen items (ascending, unique).
pub fn top_k_all<'s>(
    users: UserMatrix,
    items: ItemMatrix,
    seen: impl Fn(usize) -> &'s [u32] + Sync,
    k: usize,
) -> Vec<Vec<u32>> {
    for_each_user(users, items, |u, row| top_k_row(row, seen(u), k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Brute force: every candidate sorted by (score desc, NaN last, id asc).
    fn brute(scores: &[f32], seen: &[u32], k: usize) -> Vec<u32> {
        let mut v: Vec<(f32, u32)> = (1..scores.len() as u32)
            .filter(|i| !seen.contains(i))
            .map(|i| (scores[i as usize], i))
            .collect();
        v.sort_by(better);
        v.into_iter().take(k).map(|x| x.1).collect()
    }

    #[test]
    fn top_k_row_equals_a_full_sort_with_ties_and_seen_items() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for trial in 0..200 {
            let n = rng.gen_range(1..300);
            // Few distinct values: many ties.
            let levels = rng.gen_range(1..8);
            let mut scores: Vec<f32> = (0..n).map(|_| rng.gen_range(0..levels) as f32).collect();
            if trial % 7 == 0 {
                scores[rng.gen_range(0..n)] = f32::NAN;
            }
            let mut seen: Vec<u32> = (0..rng.gen_range(0..n / 2 + 1))
                .map(|_| rng.gen_range(0..n as u32))
                .collect();
            seen.sort_unstable();
            seen.dedup();
            let k = rng.gen_range(0..40);
            assert_eq!(
                top_k_row(&scores, &seen, k),
                brute(&scores, &seen, k),
                "trial {trial}: n {n}, k {k}"
            );
        }
    }

    #[test]
    fn parallel_top_k_over_users_equals_brute_force_per_user() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (n_users, n_items, d, interests) = (70, 500, 6, 2);
        let users: Vec<f32> = (0..n_users * interests * d)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        let mut items: Vec<f32> = (0..(n_items + 1) * d)
            .map(|_| rng.gen_range(-1.0..1.0))
            .collect();
        items[..d].iter_mut().for_each(|x| *x = 100.0); // padding must never be returned
        let seen: Vec<Vec<u32>> = (0..n_users)
            .map(|u| {
                (1..=n_items as u32)
                    .filter(|i| (i + u as u32).is_multiple_of(9))
                    .collect()
            })
            .collect();
        let um = UserMatrix {
            vectors: &users,
            interests,
            dim: d,
        };
        let im = ItemMatrix {
            vectors: &items,
            dim: d,
        };
        let got = top_k_all(um, im, |u| &seen[u], 100);
        for u in 0..n_users {
            let scores: Vec<f32> = (0..=n_items)
                .map(|i| {
                    (0..interests)
                        .map(|k| {
                            let uv = &users[(u * interests + k) * d..(u * interests + k + 1) * d];
                            uv.iter()
                                .zip(&items[i * d..(i + 1) * d])
                                .map(|(a, b)| a * b)
                                .sum::<f32>()
                        })
                        .fold(f32::NEG_INFINITY, f32::max)
                })
                .collect();
            // SGEMM may round differently from this loop; compare as sets of the top
            // 100 by brute force, allowing swaps only between near-equal scores.
            let want = brute(&scores, &seen[u], 100);
            assert_eq!(got[u].len(), 100);
            assert!(!got[u].contains(&0));
            for (g, w) in got[u].iter().zip(&want) {
                let (sg, sw) = (scores[*g as usize], scores[*w as usize]);
                assert!((sg - sw).abs() < 1e-5, "user {u}: {g} ({sg}) vs {w} ({sw})");
            }
        }
    }
}
