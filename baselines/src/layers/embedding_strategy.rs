//! How a sparse field's id becomes rows of the shared embedding table
//! ([`FieldEmbedding`](super::FieldEmbedding)'s option `embedding` in the `lr`, `dnn` and
//! `dcnv2` configs):
//!
//! - `full` (default): one row per id, `row = offset_f + id`.
//! - `hash { buckets }`: the hashing trick, per field: field `f` gets
//!   `min(buckets, vocab_f)` rows and `row = offset_f + id mod min(buckets, vocab_f)`.
//!   Chosen over one table of `buckets` rows shared by all fields (a hash of `(field, id)`)
//!   so that collisions stay within a field, as in BH whose block tables are per field too:
//!   the two strategies are then compared at equal rows per field. With `buckets >= vocab_f`
//!   the field is exactly `full`. Ids are dictionary ids (`0..vocab`), so `mod` spreads
//!   them evenly; ids `i` and `i + buckets` collide.
//! - `bh { bits_per_block, strategy, compose }`: binary-code hash embedding (Yan et al.,
//!   "Binary Code based Hash Embedding for Web-scale Applications", CIKM 2021,
//!   arXiv 2109.02471). Field `f`'s id is an `L_f`-bit code (`L_f` = bits of `vocab_f - 1`,
//!   at least 1), cut into `n_b = ceil(L_f / t)` blocks of `t` bits: `succession` takes
//!   bits `j t .. j t + t - 1` (least significant first) for block `j`, `skip` takes bits
//!   `j, j + n_b, j + 2 n_b, ...`. Each block is decimalised and read from its own rows
//!   (block-specific rows, as the reference implementation's `j * 2^t` offset). `sum`
//!   adds the `n_b` rows (width `embedding_dim`); `concat` places them side by side, each
//!   of width `embedding_dim / n_b` (which must divide), so a field still yields
//!   `embedding_dim` values and the model above is unchanged.
//!
//! - `mde`: mixed-dimension embeddings with the frequency rule (Ginart et al.,
//!   "Mixed Dimension Embeddings with Application to Memory-Efficient Recommendation
//!   Systems", arXiv 1909.11810; the MDE baseline of AMTL, arXiv 2108.11513). Rows as
//!   `full`; each id gets a width by its frequency rank in its field, counted on the
//!   training rows ([`FeatureSpec::frequencies`]): the top 10% of ids `dim`, the next
//!   40% `dim / 2`, the rest `dim / 4` (at least 1; see [`super::frequency::mde_width`]).
//!   Implemented as a fixed 0/1 mask over a full-width row: the trailing `dim - k_v`
//!   values of id `v` are multiplied by 0, so they read as zero and get zero gradient
//!   (never trained). Memory is reported as the sum of used widths
//!   ([`Plan::used_values`]), as AMTL does; the table itself keeps full rows.
//!   Simplification: the paper's power-law rule with a temperature `alpha` and block
//!   projections to a common width is replaced by this three-tier rule, and the short
//!   rows are zero-padded instead of projected.
//!
//! Simplifications and choices for BH:
//! - All fields share one table of one width, so every field uses the same number of
//!   blocks `n_b = max_f ceil(L_f / t)`. A field with fewer bits has its own
//!   `ceil(L_f / t)` informative blocks (and its own skip stride) plus empty blocks that
//!   always read the same single row (a learned per-field constant).
//! - Rows no id in `[0, vocab_f)` can reach are not allocated: block `j` gets
//!   `1 + max over ids of dec(block_j)` rows (at most `2^t`), and blocks are placed one
//!   after the other. For `vocab_f = 2^L_f` with `t | L_f` this is the paper's
//!   `n_b 2^t` rows; in general it is fewer, and `t >= L_f` gives exactly the full
//!   embedding (`vocab_f` rows, row = id). As with `full`, ids must be `< vocab_f`
//!   (the dataset guarantees it); out-of-vocabulary ids are not supported.

use serde::{Deserialize, Serialize};

use crate::kinds::ranking::RankingInputs;
use crate::FeatureSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EmbeddingStrategy {
    /// One row per id.
    #[default]
    Full,
    /// Hashing trick: `id mod buckets` within each field.
    Hash { buckets: u32 },
    /// Binary-code hash embedding (arXiv 2109.02471).
    Bh {
        /// Bits per block, `t >= 1`.
        bits_per_block: u32,
        #[serde(default)]
        strategy: BlockStrategy,
        #[serde(default)]
        compose: Compose,
    },
    /// Mixed-dimension embeddings by frequency rank (arXiv 1909.11810), as a mask.
    Mde,
}

/// How BH cuts the binary code into blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockStrategy {
    /// Block `j`: bits `j t, ..., j t + t - 1`.
    #[default]
    Succession,
    /// Block `j`: bits `j, j + n_b, j + 2 n_b, ...` (`t` of them).
    Skip,
}

/// How BH combines the blocks' rows into the field's embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compose {
    /// Sum of `n_b` rows of width `dim`.
    #[default]
    Sum,
    /// Concatenation of `n_b` rows of width `dim / n_b`.
    Concat,
}

/// Bits needed for ids `0..vocab` (at least 1).
pub fn code_bits(vocab: u32) -> u32 {
    (32 - vocab.saturating_sub(1).leading_zeros()).max(1)
}

/// One block of one field: which bits of the id it reads (least significant first) and
/// where its rows start in the shared table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub bits: Vec<u32>,
    pub offset: u32,
    pub rows: u32,
}

impl Block {
    /// The block's value for `id`: its bits, decimalised.
    pub fn value(&self, id: u32) -> u32 {
        self.bits
            .iter()
            .enumerate()
            .fold(0, |acc, (k, &b)| acc | (((id >> b) & 1) << k))
    }
}

/// The id-to-rows layout of every field, in one shared table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// `row = offset_f + id mod modulus_f` (full: modulus = vocab).
    Direct { offsets: Vec<u32>, moduli: Vec<u32> },
    /// `blocks[f][j]`; every field has the same number of blocks.
    Blocks {
        blocks: Vec<Vec<Block>>,
        compose: Compose,
    },
}

/// Table shape and id mapping for `spec`'s sparse fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub layout: Layout,
    /// Rows of the shared table.
    pub rows: u64,
    /// Width of a table row (`dim`, or `dim / n_b` for BH concat).
    pub row_dim: usize,
    /// Rows looked up per field and example (1, or `n_b` for BH).
    pub per_field: usize,
    /// MDE: the used width of every table row (the rest of the row is masked to 0).
    pub widths: Option<Vec<u32>>,
}

impl EmbeddingStrategy {
    /// Checks the strategy against the task's fields and the embedding width.
    /// Frequencies are checked for shape only: validation runs before the split exists,
    /// so their absence is reported when the model is built.
    pub fn check(&self, spec: &FeatureSpec, dim: usize) -> Result<(), String> {
        match *self {
            EmbeddingStrategy::Full => Ok(()),
            EmbeddingStrategy::Mde => super::frequency::check_shape(spec),
            EmbeddingStrategy::Hash { buckets } => (buckets > 0)
                .then_some(())
                .ok_or("hash: buckets must be >= 1".into()),
            EmbeddingStrategy::Bh {
                bits_per_block: t,
                compose,
                ..
            } => {
                if !(1..=31).contains(&t) {
                    return Err(format!("bh: bits_per_block must be in 1..=31, got {t}"));
                }
                let n_b = n_blocks(spec, t);
                if compose == Compose::Concat && (n_b == 0 || !dim.is_multiple_of(n_b)) {
                    return Err(format!(
                        "bh concat: embedding_dim {dim} is not a multiple of the {n_b} blocks"
                    ));
                }
                Ok(())
            }
        }
    }

    /// What the strategy needs computed from the training split: MDE the per-id
    /// frequencies, the others nothing.
    pub fn side_inputs(&self) -> RankingInputs {
        RankingInputs {
            frequencies: *self == EmbeddingStrategy::Mde,
            pair: None,
            pair_folds: 0,
        }
    }

    /// Errors unless `spec` holds what [`EmbeddingStrategy::side_inputs`] asks for.
    pub fn require_inputs(&self, spec: &FeatureSpec) -> Result<(), String> {
        if self.side_inputs().frequencies {
            spec.require_frequencies()?;
        }
        Ok(())
    }

    /// The table shape and id mapping; panics where `check` fails.
    pub fn plan(&self, spec: &FeatureSpec, dim: usize) -> Plan {
        if let Err(e) = self.check(spec, dim) {
            panic!("embedding strategy: {e}");
        }
        let vocabs: Vec<u32> = spec.sparse.iter().map(|(_, v)| (*v).max(1)).collect();
        match *self {
            EmbeddingStrategy::Full | EmbeddingStrategy::Hash { .. } | EmbeddingStrategy::Mde => {
                let moduli: Vec<u32> = match *self {
                    EmbeddingStrategy::Hash { buckets } => {
                        vocabs.iter().map(|&v| v.min(buckets)).collect()
                    }
                    _ => vocabs.clone(),
                };
                let mut offsets = Vec::with_capacity(moduli.len());
                let mut rows = 0u64;
                for &m in &moduli {
                    offsets.push(rows as u32);
                    rows += m as u64;
                }
                let widths = (*self == EmbeddingStrategy::Mde).then(|| {
                    let freq = super::frequency::require(spec, "embedding `mde`")
                        .unwrap_or_else(|e| panic!("{e}"));
                    freq.iter()
                        .zip(&vocabs)
                        .flat_map(|(counts, &v)| {
                            super::frequency::ranks(counts)
                                .into_iter()
                                .map(move |r| super::frequency::mde_width(r, v, dim) as u32)
                        })
                        .collect()
                });
                Plan {
                    layout: Layout::Direct { offsets, moduli },
                    rows,
                    row_dim: dim,
                    per_field: 1,
                    widths,
                }
            }
            EmbeddingStrategy::Bh {
                bits_per_block: t,
                strategy,
                compose,
            } => {
                let n_b = n_blocks(spec, t);
                let mut rows = 0u64;
                let blocks = vocabs
                    .iter()
                    .map(|&v| {
                        block_bits(code_bits(v), t, n_b, strategy)
                            .into_iter()
                            .map(|bits| {
                                let r = max_block_value(v - 1, &bits) + 1;
                                let b = Block {
                                    bits,
                                    offset: rows as u32,
                                    rows: r,
                                };
                                rows += r as u64;
                                b
                            })
                            .collect()
                    })
                    .collect();
                Plan {
                    layout: Layout::Blocks { blocks, compose },
                    rows,
                    row_dim: match compose {
                        Compose::Sum => dim,
                        Compose::Concat => dim / n_b,
                    },
                    per_field: n_b,
                    widths: None,
                }
            }
        }
    }
}

impl EmbeddingStrategy {
    /// Whether this strategy needs per-id training frequencies to build.
    pub fn needs_frequencies(&self) -> bool {
        *self == EmbeddingStrategy::Mde
    }
}

/// Blocks per field for BH: `max_f ceil(L_f / t)`.
fn n_blocks(spec: &FeatureSpec, t: u32) -> usize {
    spec.sparse
        .iter()
        .map(|(_, v)| code_bits((*v).max(1)).div_ceil(t) as usize)
        .max()
        .unwrap_or(0)
}

/// Bit positions of each of the `n_b` blocks of an `l`-bit code (blocks past the field's
/// own `ceil(l / t)` are empty).
pub fn block_bits(l: u32, t: u32, n_b: usize, strategy: BlockStrategy) -> Vec<Vec<u32>> {
    let own = l.div_ceil(t);
    (0..n_b as u32)
        .map(|j| {
            if j >= own {
                return Vec::new();
            }
            match strategy {
                BlockStrategy::Succession => (j * t..((j + 1) * t).min(l)).collect(),
                BlockStrategy::Skip => (0..t).map(|k| j + k * own).filter(|&b| b < l).collect(),
            }
        })
        .collect()
}

/// `max over x in [0, m] of dec(bits of x)`. Any `x < m` agrees with `m` above some bit
/// `p` where `m` has a 1 and `x` a 0; below `p` it is free, and setting free bits only
/// raises the block's value, so the candidates are `m` and, for each such `p`, `m` with
/// bit `p` cleared and all lower bits set.
fn max_block_value(m: u32, bits: &[u32]) -> u32 {
    let block = Block {
        bits: bits.to_vec(),
        offset: 0,
        rows: 0,
    };
    let mut best = block.value(m);
    for p in 0..32 {
        if (m >> p) & 1 == 1 {
            let low = (1u64 << p) as u32 - 1;
            best = best.max(block.value((m & !(1 << p)) | low));
        }
    }
    best
}

impl Plan {
    /// The table rows an example's sparse ids read, `per_field` per field, in field order.
    pub fn rows_of(&self, ids: &[u32], out: &mut Vec<u32>) {
        match &self.layout {
            Layout::Direct { offsets, moduli } => {
                for ((&id, &off), &m) in ids.iter().zip(offsets).zip(moduli) {
                    out.push(off + id % m);
                }
            }
            Layout::Blocks { blocks, .. } => {
                for (&id, field) in ids.iter().zip(blocks) {
                    out.extend(field.iter().map(|b| b.offset + b.value(id)));
                }
            }
        }
    }

    /// Embedding values a server must store: the sum of used widths for MDE (the masked
    /// trailing values dropped), otherwise `rows * row_dim`.
    pub fn used_values(&self) -> u64 {
        match &self.widths {
            Some(w) => w.iter().map(|&k| k as u64).sum(),
            None => self.rows * self.row_dim as u64,
        }
    }

    /// Whether the looked-up rows are summed (BH sum with more than one block).
    pub fn sums(&self) -> bool {
        matches!(
            self.layout,
            Layout::Blocks {
                compose: Compose::Sum,
                ..
            }
        ) && self.per_field > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(vocabs: &[u32]) -> FeatureSpec {
        FeatureSpec {
            sparse: vocabs
                .iter()
                .enumerate()
                .map(|(i, &v)| (format!("f{i}"), v))
                .collect(),
            dense: vec![],
            frequencies: None,
            pairs: None,
        }
    }

    #[test]
    fn code_bits_counts_bits_of_the_largest_id() {
        assert_eq!(code_bits(1), 1);
        assert_eq!(code_bits(2), 1);
        assert_eq!(code_bits(3), 2);
        assert_eq!(code_bits(4096), 12);
        assert_eq!(code_bits(4097), 13);
        assert_eq!(code_bits(3706), 12);
    }

    #[test]
    fn block_bits_follow_succession_and_skip() {
        let succ = block_bits(12, 4, 3, BlockStrategy::Succession);
        assert_eq!(
            succ,
            vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9, 10, 11]]
        );
        let skip = block_bits(12, 4, 3, BlockStrategy::Skip);
        assert_eq!(
            skip,
            vec![vec![0, 3, 6, 9], vec![1, 4, 7, 10], vec![2, 5, 8, 11]]
        );
        // L = 5, t = 2: 3 blocks; the last is short. Padded to 4 blocks: one empty.
        let succ = block_bits(5, 2, 4, BlockStrategy::Succession);
        assert_eq!(succ, vec![vec![0, 1], vec![2, 3], vec![4], vec![]]);
        let skip = block_bits(5, 2, 4, BlockStrategy::Skip);
        assert_eq!(skip, vec![vec![0, 3], vec![1, 4], vec![2], vec![]]);
    }

    #[test]
    fn max_block_value_matches_brute_force() {
        for v in [1u32, 2, 3, 7, 8, 9, 100, 3706, 4096] {
            for t in 1..=5 {
                for strategy in [BlockStrategy::Succession, BlockStrategy::Skip] {
                    let l = code_bits(v);
                    let n_b = l.div_ceil(t) as usize;
                    for bits in block_bits(l, t, n_b, strategy) {
                        let b = Block {
                            bits: bits.clone(),
                            offset: 0,
                            rows: 0,
                        };
                        let brute = (0..v).map(|id| b.value(id)).max().unwrap();
                        assert_eq!(max_block_value(v - 1, &bits), brute, "v {v} t {t} {bits:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn ml1m_example_from_the_paper() {
        // L = 12, t = 4: 3 blocks of 16 rows = 48 rows instead of 4096 (vocab 2^12).
        let p = EmbeddingStrategy::Bh {
            bits_per_block: 4,
            strategy: BlockStrategy::Succession,
            compose: Compose::Sum,
        }
        .plan(&spec(&[4096]), 16);
        assert_eq!((p.rows, p.per_field, p.row_dim), (48, 3, 16));
    }

    #[test]
    fn config_parses_with_defaults_and_rejects_unknown_fields() {
        let s: EmbeddingStrategy = serde_json::from_str(r#"{"kind": "full"}"#).unwrap();
        assert_eq!(s, EmbeddingStrategy::Full);
        let s: EmbeddingStrategy =
            serde_json::from_str(r#"{"kind": "bh", "bits_per_block": 4}"#).unwrap();
        assert_eq!(
            s,
            EmbeddingStrategy::Bh {
                bits_per_block: 4,
                strategy: BlockStrategy::Succession,
                compose: Compose::Sum
            }
        );
        let s: EmbeddingStrategy = serde_json::from_str(
            r#"{"kind": "bh", "bits_per_block": 2, "strategy": "skip", "compose": "concat"}"#,
        )
        .unwrap();
        assert!(matches!(
            s,
            EmbeddingStrategy::Bh {
                strategy: BlockStrategy::Skip,
                compose: Compose::Concat,
                ..
            }
        ));
        assert!(serde_json::from_str::<EmbeddingStrategy>(
            r#"{"kind": "hash", "buckets": 8, "x": 1}"#
        )
        .is_err());
        assert!(serde_json::from_str::<EmbeddingStrategy>(r#"{"kind": "hash"}"#).is_err());
        assert!(EmbeddingStrategy::Bh {
            bits_per_block: 2,
            strategy: BlockStrategy::Skip,
            compose: Compose::Concat
        }
        .check(&spec(&[64]), 16)
        .is_err()); // 3 blocks do not divide 16
    }
}
