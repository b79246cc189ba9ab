//! Registry entries of the embedding strategies a ranking model's `embedding` option
//! names (`crate::layers::EmbeddingStrategy`): a variant such as `dnn_bh_10x` is the
//! DNN with another strategy, and its page cites the strategy's paper from here.

use super::ModelInfo;
use crate::layers::EmbeddingStrategy;

pub const FULL: ModelInfo = ModelInfo {
    name: "full",
    kind: "embedding",
    paper: "none: one embedding row per id, the reference every strategy is compared with",
    summary: "Row = field offset + id.",
    simplifications: "Not a paper method.",
};

pub const HASH: ModelInfo = ModelInfo {
    name: "hash",
    kind: "embedding",
    paper: "The hashing trick (Weinberger et al., Feature Hashing for Large Scale Multitask Learning, ICML 2009), the baseline of BH (arXiv 2109.02471) and AMTL (arXiv 2108.11513)",
    summary: "Per field, id mod min(buckets, vocab) rows: colliding ids share a row.",
    simplifications: "Modulo of the dictionary id instead of a hash of the raw value (ids are dense 0..vocab, so mod spreads them evenly); buckets per field, not one table shared by all fields.",
};

pub const BH: ModelInfo = ModelInfo {
    name: "bh",
    kind: "embedding",
    paper: "Yan et al., Binary Code based Hash Embedding for Web-scale Applications, CIKM 2021, arXiv 2109.02471, Sec. 3 (binary coding, code blocks, decimal conversion, fusion)",
    summary: "An id's binary code cut into blocks of t bits (succession or skip), each block's decimal value read from block-specific rows, the rows summed or concatenated into the field's embedding.",
    simplifications: "The code is the dictionary id's binary form (the paper hashes the raw feature value first); blocks have their own rows per field; the fusion is sum or concatenation only (no pooling variants).",
};

pub const MDE: ModelInfo = ModelInfo {
    name: "mde",
    kind: "embedding",
    paper: "Ginart et al., Mixed Dimension Embeddings with Application to Memory-Efficient Recommendation Systems, arXiv 1909.11810 (frequency rule); the MDE baseline of AMTL, arXiv 2108.11513",
    summary: "Each id gets a width by its frequency rank in its field over the training rows: the top 10% the full width, the next 40% half, the rest a quarter.",
    simplifications: "A fixed 0/1 mask over a full-width row instead of per-block tables with projections; memory reported as the sum of used widths.",
};

/// Every strategy's entry, for listing.
pub const STRATEGIES: [&ModelInfo; 4] = [&FULL, &HASH, &BH, &MDE];

/// The registry entry of a strategy.
pub fn info(strategy: &EmbeddingStrategy) -> &'static ModelInfo {
    match strategy {
        EmbeddingStrategy::Full => &FULL,
        EmbeddingStrategy::Hash { .. } => &HASH,
        EmbeddingStrategy::Bh { .. } => &BH,
        EmbeddingStrategy::Mde => &MDE,
    }
}

/// The components a config with this strategy names: nothing for the default.
pub fn components(strategy: &EmbeddingStrategy) -> Vec<&'static ModelInfo> {
    match strategy {
        EmbeddingStrategy::Full => Vec::new(),
        other => vec![info(other)],
    }
}
