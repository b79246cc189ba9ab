//! Holm's step-down correction for the comparisons of one table (Holm 1979).
//!
//! Sort the k p-values ascending p_(1) <= ... <= p_(k); the adjusted values are
//! p~_(i) = max_{j <= i} min(1, (k - j + 1) p_(j)). The running maximum keeps the
//! adjusted values in the same order as the raw ones (monotone), as statsmodels'
//! `multipletests(method="holm")` returns them. It controls the family-wise error rate
//! under any dependence between the tests, which matters here: every comparison in a
//! table shares the same best model.

/// Holm-adjusted p-values, in the input order. `None` entries (tests that could not
/// run) are left out of the family and stay `None`.
pub fn holm(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_some()).collect();
    idx.sort_by(|&i, &j| p[i].unwrap().total_cmp(&p[j].unwrap()));
    let k = idx.len();
    let mut out = vec![None; p.len()];
    let mut running = 0.0f64;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = ((k - rank) as f64 * p[i].unwrap()).min(1.0);
        running = running.max(adj);
        out[i] = Some(running);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_is_outside_the_family() {
        let r = holm(&[Some(0.01), None, Some(0.04)]);
        assert_eq!(r, vec![Some(0.02), None, Some(0.04)]);
        assert!(holm(&[]).is_empty());
    }
}
