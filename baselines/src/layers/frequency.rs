//! Per-id frequency attributes for frequency-aware embeddings (`mde`, `amtl_dnn`).
//! The counts come from [`FeatureSpec::frequencies`], which the harness computes on the
//! training rows only.

use crate::FeatureSpec;

/// Checks that `spec.frequencies`, when present, has one count per id of every field.
pub fn check_shape(spec: &FeatureSpec) -> Result<(), String> {
    let Some(freq) = &spec.frequencies else {
        return Ok(());
    };
    if freq.len() != spec.sparse.len() {
        return Err(format!(
            "frequencies: {} fields, the task has {}",
            freq.len(),
            spec.sparse.len()
        ));
    }
    for ((name, vocab), counts) in spec.sparse.iter().zip(freq) {
        if counts.len() != (*vocab).max(1) as usize {
            return Err(format!(
                "frequencies of `{name}`: {} counts for vocabulary {vocab}",
                counts.len()
            ));
        }
    }
    Ok(())
}

/// The training counts, or an error naming the model that needs them.
pub fn require<'a>(spec: &'a FeatureSpec, who: &str) -> Result<&'a [Vec<u32>], String> {
    check_shape(spec)?;
    spec.frequencies.as_deref().ok_or_else(|| {
        format!("{who} needs per-id frequencies of the training rows (FeatureSpec::frequencies)")
    })
}

/// Frequency rank of each id within its field: 0 for the most frequent id; ties go to
/// the smaller id, so the order is deterministic.
pub fn ranks(counts: &[u32]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..counts.len() as u32).collect();
    order.sort_by_key(|&id| (std::cmp::Reverse(counts[id as usize]), id));
    let mut rank = vec![0u32; counts.len()];
    for (r, &id) in order.iter().enumerate() {
        rank[id as usize] = r as u32;
    }
    rank
}

/// MDE's width for the id of frequency rank `rank` in a field of `vocab` ids and full
/// width `dim`: the top 10% of ids (`10 rank < vocab`) get `dim`, the next 40%
/// (`2 rank < vocab`) `dim / 2`, the rest `dim / 4` (each at least 1).
pub fn mde_width(rank: u32, vocab: u32, dim: usize) -> usize {
    let (r, v) = (rank as u64, vocab as u64);
    if 10 * r < v {
        dim
    } else if 2 * r < v {
        (dim / 2).max(1)
    } else {
        (dim / 4).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_sort_by_count_then_id() {
        assert_eq!(ranks(&[3, 9, 3, 0, 9]), vec![2, 0, 3, 4, 1]);
    }

    #[test]
    fn mde_rule_splits_10_40_50() {
        let w: Vec<usize> = (0..20).map(|r| mde_width(r, 20, 16)).collect();
        assert_eq!(w.iter().filter(|&&x| x == 16).count(), 2);
        assert_eq!(w.iter().filter(|&&x| x == 8).count(), 8);
        assert_eq!(w.iter().filter(|&&x| x == 4).count(), 10);
        assert_eq!(mde_width(5, 6, 2), 1);
    }
}
