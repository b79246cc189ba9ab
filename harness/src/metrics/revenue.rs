//! R/R*: revenue-weighted recall against the ideal ranking (Wang et al., Scaling Laws
//! for Online Advertisement Retrieval, arXiv 2411.13322, Sec. 3, Eq. 2).
//!
//! Per request (here: a user at the evaluated position) every candidate item `i` has a
//! value `v_i` (the paper: eCPM; our synthetic worlds: P(next = i) x bid_i, the expected
//! revenue of showing `i`). With `G_m` the ideal top `m` (by value) and `S_k` the
//! model's top `k` over the SAME candidates,
//!
//! ```text
//! R  = sum over requests of sum_{i in G_m and i in S_k} v_i
//! R* = sum over requests of sum_{i in G_m} v_i
//! rr@m@k = R / R*
//! ```
//!
//! so a model that retrieves the whole ideal top `m` within its top `k` scores 1, and
//! R/R* is non-decreasing in `k`. Ties: both rankings order by score (value) descending,
//! then item id ascending.
//!
//! What was verified (the paper's text beyond its abstract could not be read here): the
//! abstract names the metric R/R* and its linear correlation with online revenue; the
//! public ICLR 2026 reviews call it a "revenue-weighted recall", a "normalized @k
//! metric" with a cutoff m (m = 2 in the paper's Table 1, sensitivity m = 1..6 in its
//! appendix B.3), over ground-truth orders by eCPM. The exact place of `k` in Eq. 2
//! (which uses a hard permutation matrix) is NOT verified: we follow the notation of
//! the same first author's Recall@m@k (ARF, arXiv 2310.10462: the share of the
//! ground-truth top m inside the model's top k), weighted by value, and expose both `m`
//! and `k`. The values are the world's expected revenue, not realized revenue.

/// The ideal top `m` of one request: `(item, value)`, best first, over items `1..` of
/// `values` except `seen` (ascending, unique).
pub fn ideal_top(values: &[f64], seen: &[u32], m: usize) -> Vec<(u32, f64)> {
    let mut cand: Vec<(u32, f64)> = (1..values.len() as u32)
        .filter(|i| seen.binary_search(i).is_err())
        .map(|i| (i, values[i as usize]))
        .collect();
    let order = |a: &(u32, f64), b: &(u32, f64)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if cand.len() > m && m > 0 {
        cand.select_nth_unstable_by(m - 1, order);
    }
    cand.truncate(m);
    cand.sort_by(order);
    cand
}

/// `(R, R*)` of one request: `ideal` is the request's ideal list (at least `m` long
/// unless there are fewer candidates), `model_top` the model's ranking (at least `k`
/// long unless there are fewer candidates).
pub fn request_revenue(ideal: &[(u32, f64)], model_top: &[u32], m: usize, k: usize) -> (f64, f64) {
    let top = &model_top[..k.min(model_top.len())];
    let mut r = 0.0;
    let mut r_star = 0.0;
    for &(item, v) in &ideal[..m.min(ideal.len())] {
        r_star += v;
        if top.contains(&item) {
            r += v;
        }
    }
    (r, r_star)
}

/// `sum R / sum R*` over requests; `None` when `sum R* = 0`.
pub fn r_over_r_star(per_request: &[(f64, f64)]) -> Option<f64> {
    let (r, rs) = per_request
        .iter()
        .fold((0.0, 0.0), |(a, b), &(r, s)| (a + r, b + s));
    (rs > 0.0).then(|| r / rs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn hand_computed_request() {
        // Items 1..=5 with values; item 2 is seen, so the ideal top 2 is 4 (5.0), 1 (3.0).
        let values = [0.0, 3.0, 9.0, 1.0, 5.0, 3.0];
        let ideal = ideal_top(&values, &[2], 3);
        // 1 and 5 tie at 3.0: the lower id first.
        assert_eq!(ideal, vec![(4, 5.0), (1, 3.0), (5, 3.0)]);
        // The model's list: 3, 1, 4, 5.
        let model = [3, 1, 4, 5];
        assert_eq!(request_revenue(&ideal, &model, 2, 1), (0.0, 8.0));
        assert_eq!(request_revenue(&ideal, &model, 2, 2), (3.0, 8.0));
        assert_eq!(request_revenue(&ideal, &model, 2, 3), (8.0, 8.0));
        assert_eq!(request_revenue(&ideal, &model, 3, 3), (8.0, 11.0));
        // Two requests: (3 + 0) / (8 + 2).
        assert_eq!(r_over_r_star(&[(3.0, 8.0), (0.0, 2.0)]), Some(0.3));
        assert_eq!(r_over_r_star(&[(0.0, 0.0)]), None);
    }

    #[test]
    fn perfect_scorer_gets_one_random_gets_about_k_over_candidates_and_k_is_monotone() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 50usize;
        let (mut perfect, mut random) = (Vec::new(), Vec::new());
        let mut by_k = vec![Vec::new(); 11];
        for _ in 0..4000 {
            let values: Vec<f64> = (0..=n)
                .map(|i| {
                    if i == 0 {
                        0.0
                    } else {
                        rand::Rng::gen::<f64>(&mut rng)
                    }
                })
                .collect();
            let ideal = ideal_top(&values, &[], 2);
            let best: Vec<u32> = ideal_top(&values, &[], n).iter().map(|x| x.0).collect();
            perfect.push(request_revenue(&ideal, &best, 2, 2));
            let mut shuffled: Vec<u32> = (1..=n as u32).collect();
            shuffled.shuffle(&mut rng);
            random.push(request_revenue(&ideal, &shuffled, 2, 10));
            for (k, acc) in by_k.iter_mut().enumerate() {
                acc.push(request_revenue(&ideal, &shuffled, 2, k));
            }
        }
        assert_eq!(r_over_r_star(&perfect), Some(1.0));
        let rr = r_over_r_star(&random).unwrap();
        assert!((rr - 10.0 / n as f64).abs() < 0.02, "random R/R* {rr}");
        let curve: Vec<f64> = by_k.iter().map(|v| r_over_r_star(v).unwrap()).collect();
        assert!(curve.windows(2).all(|w| w[0] <= w[1]), "{curve:?}");
        assert_eq!(curve[0], 0.0);
    }
}
