//! LSD radix sort for the packed `(score key, label)` items AUC ranks. Comparison sorts
//! of 10M items cost about a second; three counting passes over 11-bit digits cost a
//! fraction of that and give the same (total) order.

/// Bits used by an item: a 32-bit score key shifted left by one, plus the label bit.
const ITEM_BITS: u32 = 33;
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const PASSES: usize = ITEM_BITS.div_ceil(DIGIT_BITS) as usize;

/// Below this length a comparison sort is faster than allocating and scanning buckets.
const SMALL: usize = 1 << 12;

/// Sorts items whose value fits in the low 33 bits, ascending.
pub(crate) fn sort_items(items: &mut Vec<u64>) {
    if items.len() <= SMALL {
        items.sort_unstable();
        return;
    }
    // All histograms in one read pass.
    let mut counts = vec![[0usize; BUCKETS]; PASSES];
    for &x in items.iter() {
        for (p, c) in counts.iter_mut().enumerate() {
            c[digit(x, p)] += 1;
        }
    }
    let mut buf = vec![0u64; items.len()];
    for (p, c) in counts.iter().enumerate() {
        // A digit shared by every item leaves the order unchanged: skip the pass.
        if c.contains(&items.len()) {
            continue;
        }
        let mut offsets = [0usize; BUCKETS];
        let mut sum = 0;
        for (o, &k) in offsets.iter_mut().zip(c.iter()) {
            *o = sum;
            sum += k;
        }
        for &x in items.iter() {
            let d = digit(x, p);
            buf[offsets[d]] = x;
            offsets[d] += 1;
        }
        std::mem::swap(items, &mut buf);
    }
}

#[inline(always)]
fn digit(x: u64, pass: usize) -> usize {
    ((x >> (pass as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn matches_comparison_sort() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for n in [0, 1, 5, SMALL + 1, 100_000] {
            for range in [2u64, 1 << 12, 1 << 33] {
                let mut a: Vec<u64> = (0..n).map(|_| rng.gen_range(0..range)).collect();
                let mut b = a.clone();
                sort_items(&mut a);
                b.sort_unstable();
                assert_eq!(a, b, "n={n} range={range}");
            }
        }
    }
}
