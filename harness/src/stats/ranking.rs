//! Rank groups: a significance-aware ranking that shows ties as ties.
//!
//! Round 1: the leader is the model with the best mean; every other model is compared
//! with it by a two-sided test (the leaderboard uses the paired t-test over seeds), the
//! p-values of the round are Holm-corrected together, and every model whose adjusted
//! p is >= alpha, or that cannot be tested (fewer than 2 paired seeds), joins the
//! leader in group 1. Round 2 repeats on the models left, and so on. A model is thus
//! placed below a group only when the data show it is worse than that group's leader;
//! "rank 1" means "not distinguishable from the best", not "the best".

use std::collections::BTreeMap;

/// One model's per-seed values of the ranking metric.
#[derive(Debug, Clone, PartialEq)]
pub struct RankInput {
    pub model: String,
    pub seeds: BTreeMap<u64, f64>,
}

impl RankInput {
    pub fn mean(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .seeds
            .values()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    }
}

/// Rank group (1-based) of each model, in input order; None for models without a
/// finite value. `test(model, leader)` returns the raw two-sided p-value of model vs
/// leader, or None when no test is possible.
pub fn rank_groups(
    models: &[RankInput],
    higher_is_better: bool,
    alpha: f64,
    test: impl Fn(&RankInput, &RankInput) -> Option<f64>,
) -> Vec<Option<usize>> {
    let mut group = vec![None; models.len()];
    let mut left: Vec<usize> = (0..models.len())
        .filter(|&i| models[i].mean().is_some())
        .collect();
    let better = |x: f64, y: f64| if higher_is_better { x > y } else { x < y };
    let mut g = 0;
    while !left.is_empty() {
        g += 1;
        let leader = *left
            .iter()
            .reduce(|best, i| {
                let (b, m) = (models[*best].mean().unwrap(), models[*i].mean().unwrap());
                if better(m, b) {
                    i
                } else {
                    best
                }
            })
            .unwrap();
        let others: Vec<usize> = left.iter().copied().filter(|&i| i != leader).collect();
        let raw: Vec<Option<f64>> = others
            .iter()
            .map(|&i| test(&models[i], &models[leader]))
            .collect();
        let adj = super::holm(&raw);
        group[leader] = Some(g);
        let mut rest = Vec::new();
        for (k, &i) in others.iter().enumerate() {
            match adj[k] {
                Some(p) if p < alpha => rest.push(i),
                _ => group[i] = Some(g),
            }
        }
        left = rest;
    }
    group
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(model: &str, v: &[f64]) -> RankInput {
        RankInput {
            model: model.into(),
            seeds: v.iter().enumerate().map(|(i, x)| (i as u64, *x)).collect(),
        }
    }

    #[test]
    fn groups_by_paired_t() {
        let t = |a: &RankInput, b: &RankInput| {
            let (x, y): (Vec<f64>, Vec<f64>) = a
                .seeds
                .iter()
                .filter_map(|(s, v)| Some((*v, *b.seeds.get(s)?)))
                .unzip();
            crate::stats::paired_t(&x, &y, 0.95).map(|r| r.p)
        };
        let models = vec![
            input("best", &[0.80, 0.81, 0.82, 0.80]),
            input("tie", &[0.80, 0.815, 0.81, 0.805]),
            input("worse", &[0.70, 0.71, 0.72, 0.70]),
            input("worst", &[0.50, 0.51, 0.52, 0.50]),
            input("failed", &[]),
        ];
        let g = rank_groups(&models, true, 0.05, t);
        assert_eq!(g, vec![Some(1), Some(1), Some(2), Some(3), None]);
        // Lower is better: the order flips.
        let g = rank_groups(&models, false, 0.05, t);
        assert_eq!(g[3], Some(1));
        // One seed: nothing can be told apart, everyone shares rank 1.
        let one: Vec<RankInput> = ["a", "b"].iter().map(|m| input(m, &[0.5])).collect();
        assert_eq!(rank_groups(&one, true, 0.05, t), vec![Some(1), Some(1)]);
    }
}
