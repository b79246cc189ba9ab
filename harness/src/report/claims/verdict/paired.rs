//! The data of a check: A's and B's values on the seeds both ran, or a published
//! figure in B's place; or why there is none.

use std::collections::BTreeMap;

use super::super::spec::{Check, TRIVIAL};
use crate::report::load::Cell;

/// What one side of a check has on the claim's task: seed -> value.
pub(super) fn values(
    cells: &[Cell],
    task: &str,
    model: &str,
    f: impl Fn(&Cell) -> Option<f64>,
) -> (bool, BTreeMap<u64, f64>) {
    let mine: Vec<&Cell> = cells
        .iter()
        .filter(|c| c.result.task == task && c.result.model == model)
        .collect();
    let map = mine
        .iter()
        .filter_map(|c| Some((c.result.seed, f(c)?)))
        .collect();
    (!mine.is_empty(), map)
}

/// A check's paired data, or why it cannot be computed.
pub(super) struct Paired {
    pub seeds: Vec<u64>,
    pub a: Vec<f64>,
    pub b: Vec<f64>,
}

/// A's and B's values per seed, `f` read from each side's cells; B = `trivial` reads
/// the trivial predictor's `quantity` from A's cells.
pub(super) fn pair(
    cells: &[Cell],
    task: &str,
    check: &Check,
    quantity: &str,
    f: impl Fn(&Cell) -> Option<f64> + Copy,
) -> Result<Paired, (String, Vec<String>)> {
    let (has_a, va) = values(cells, task, &check.a, f);
    let (has_b, vb) = if check.b == TRIVIAL {
        values(cells, task, &check.a, |c| {
            c.result.trivial_metrics.get(quantity).copied()
        })
    } else {
        values(cells, task, &check.b, f)
    };
    let missing: Vec<String> = [(has_a, &check.a), (has_b, &check.b)]
        .into_iter()
        .filter(|(has, m)| !has && *m != TRIVIAL)
        .map(|(_, m)| m.clone())
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "no successful result for {} on task {task}",
            missing.join(" and ")
        );
        return Err((why, missing));
    }
    for (v, m) in [(&va, &check.a), (&vb, &check.b)] {
        if v.is_empty() {
            return Err((format!("{quantity} is not recorded for {m}"), vec![]));
        }
    }
    let mut p = Paired {
        seeds: vec![],
        a: vec![],
        b: vec![],
    };
    for (s, x) in &va {
        if let Some(y) = vb.get(s) {
            p.seeds.push(*s);
            p.a.push(*x);
            p.b.push(*y);
        }
    }
    if p.seeds.is_empty() {
        return Err((
            format!(
                "{} and {} share no seed (seeds {:?} vs {:?})",
                check.a,
                check.b,
                va.keys().collect::<Vec<_>>(),
                vb.keys().collect::<Vec<_>>()
            ),
            vec![],
        ));
    }
    Ok(p)
}

/// A `matches_published` check's data: A's seeds, with the published value as "B".
pub(super) fn published(
    cells: &[Cell],
    task: &str,
    check: &Check,
    metric: &str,
    value: f64,
) -> Result<Paired, (String, Vec<String>)> {
    let (has_a, va) = values(cells, task, &check.a, |c| {
        c.result.metrics.get(metric).copied()
    });
    if !has_a {
        let why = format!("no successful result for {} on task {task}", check.a);
        return Err((why, vec![check.a.clone()]));
    }
    if va.is_empty() {
        return Err((format!("{metric} is not recorded for {}", check.a), vec![]));
    }
    Ok(Paired {
        seeds: va.keys().copied().collect(),
        b: vec![value; va.len()],
        a: va.into_values().collect(),
    })
}
