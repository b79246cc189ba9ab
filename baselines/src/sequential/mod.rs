//! Sequential retrieval models (issue 7): next-item prediction from a user's history,
//! trained and evaluated through `crate::sequence` (`SeqBatch`, `SeqForward`).
//! Adding one = a file here plus an entry in `SEQ_CATALOG` and `build_seq`.

pub mod din;
pub mod gen_catalog;
pub mod gen_hstu;
pub mod genrank;
pub mod genrank_tokens;
pub mod hstu;
pub mod hstu_rank;
pub mod item_only;
pub mod kuaiformer;
pub mod lum;
pub mod lum_backbone;
pub mod sasrec;

pub use din::{Din, DinConfig};
pub use gen_catalog::{build_gen, validate_gen, GEN_CATALOG};
pub use hstu::{Hstu, HstuConfig};
pub use kuaiformer::{KuaiFormer, KuaiFormerConfig};
pub use lum::{Lum, LumConfig};
pub use sasrec::{SasRec, SasRecConfig, SasRecForm};

use dfdx::prelude::*;

use crate::catalog::{ModelError, ModelInfo};
use crate::engine::{Ctx, Mat, TableId, Track};
use crate::engine::{Dev, ParamStore};
use crate::layers::{last_rows, sampled_loss, SampledLoss};
use crate::sequence::{SeqBatch, SeqForward};
use crate::sequence::{SeqModel, SeqSpec};

/// Sequential models, described like `crate::CATALOG`'s (family "sequential").
pub const SEQ_CATALOG: &[ModelInfo] = &[ModelInfo {
    name: "sasrec",
    family: "sequential",
    paper: "Kang & McAuley, Self-Attentive Sequential Recommendation, ICDM 2018, arXiv 1808.09781, Sec. III (A embedding, B-C self-attention blocks, D prediction, E loss)",
    summary: "Item + learned position embeddings, L pre-norm causal self-attention blocks (x + Dropout(SA(LN(x))), then x + Dropout(FFN(LN(x))) with a ReLU FFN of width d), final layer norm; next-item scores <F_t, E[i]> with the shared item table; BCE on the target against the batch's sampled negative(s) per position, or sampled softmax (config loss). Config form: \"paper\" (default, the equations above) or \"authors_code\" (the authors' TensorFlow code and the PyTorch ports behind published Beauty figures: item embeddings x sqrt(d), a = LN(x), x' = a + SA(q = a, k = v = x) with an output projection, then LN(x') + FFN(LN(x'))).",
    simplifications: "In the default paper form, queries, keys and values all come from LN(x) and item embeddings are not scaled (the authors' code differs on both: form authors_code); in either form, no dropout on attention weights (the authors' code has it: here dropout falls on the attention output) and linear layers are Xavier-initialised (Klenitskiy & Vasilev: N(0, 0.02)); linear layers have biases; the BCE sums over every negative the batch carries (SASRec uses one); padding rows of the embedding are zeroed instead of masking outputs after each block (equivalent for real positions, since padding keys are hidden from them).",
    needs_sparse: false,
}, ModelInfo {
    name: "hstu",
    family: "sequential",
    paper: "Zhai et al., Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations, ICML 2024, arXiv 2402.17152, Sec. 3.1 (Eq. 1-3), as the retrieval model of Sec. 4.1.1",
    summary: "Item + learned position embeddings, then L HSTU layers: U, V, Q, K = SiLU(f1(LN(X))); pointwise aggregated attention SiLU(Q K^T + rab^{p,t}) V / n (no softmax; causal, padding hidden; rab = learned relative-position weight + learned weight per log-bucketed time difference, per layer, shared by heads); Y = X + f2(LN(AV) ⊙ U). Shared item table scores next items; sampled softmax (default) or BCE over the batch's negatives.",
    simplifications: "Relative time uses t_i - t_j between the query's and the key's own events (the authors' code uses the timestamp of the item after the query, which SeqBatch does not carry); f1 is four d x d linear maps with biases (the code: one bias-free d x 4d matrix), and both layer norms have learned scale and shift (the code: none); no output L2 normalisation or temperature; the sampled softmax uses the batch's uniform negatives, as many per position as the task gives it (retrieval.n_neg, or n_neg_overrides: beauty-seq's hstu_n128 gets 128 as in the authors' MovieLens-1M config, its hstu 1; with one negative the softmax is the two-way -log sigmoid(s+ - s-), and synth-seq's and ml100k-seq's hstu_bce variant trains with SASRec's BCE instead, for the comparison at identical loss); no jagged kernels, M-FALCON or stochastic length.",
    needs_sparse: false,
}, ModelInfo {
    name: "kuaiformer",
    family: "sequential",
    paper: "Liu et al., KuaiFormer: Transformer-Based Retrieval at Kuaishou, arXiv 2411.10057, Sec. 3 (3.3 sequence compression, 3.4 multi-interest query tokens, 3.5 in-batch softmax with logQ and label smoothing)",
    summary: "Older items in groups (levels of count x size, oldest first; default the paper's proportions: 2 groups of n/4, 5 of n/16, the rest raw, i.e. 256 -> 55 tokens), each group through a one-layer bidirectional transformer and mean-pooled; recent items raw; k learnable query tokens appended; causal Llama-style transformer (RMS norm, multi-head attention with output projection, SwiGLU); the k query outputs are the user's interests, scored by max_j <u_j, E[x]>; in-batch softmax over the batch's next items with logQ correction (training target counts) and label smoothing.",
    simplifications: "Item ids only: tokens are item embeddings by default (the paper: an MLP over the id and about 10 side features, which SeqBatch does not carry; `token_mlp: true` keeps the MLP over the embedding alone); learned absolute positions instead of rotary ones; linear layers have biases; the label-smoothed loss is the project spec's reading, -(1-α) log p_pos - Σ_neg (α/|B|) log(1 - p_neg), not checked against the PDF (α has no reported value; default 0.1); in-batch duplicates of the positive are hidden rather than treated as negatives; Q(x) is the item's share of training targets (the paper: a streaming frequency estimate); a user's requests are replayed from the one training history per epoch (config `requests`, default 4: the history cut at its end and at 3 earlier items drawn anew each step, one target each) rather than logged request by request, so it sees fewer targets per epoch than SASRec (every position); a user's replayed requests share a batch and are hidden from each other's softmax (their targets are that user's items, not negatives); no separate per-interest ANN serving; with a task's length_buckets (beauty-seq) a batch holds users of similar history lengths, so the in-batch negatives do too (the paper's batches are random requests).",
    needs_sparse: false,
}];

pub(crate) fn parse<C: serde::de::DeserializeOwned>(
    model: &str,
    config: &serde_json::Value,
) -> Result<C, ModelError> {
    let value = if config.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        config.clone()
    };
    serde_json::from_value(value).map_err(|e| bad(model, e.to_string()))
}

pub(crate) fn bad(model: &str, msg: String) -> ModelError {
    ModelError::BadConfig {
        model: model.to_string(),
        msg,
    }
}

/// Checks that sequential model `name` exists and its `config` parses and is valid for
/// `spec`, without allocating parameters.
pub fn validate_seq(
    name: &str,
    config: &serde_json::Value,
    spec: &SeqSpec,
) -> Result<(), ModelError> {
    match name {
        "sasrec" => parse::<SasRecConfig>(name, config)?
            .check()
            .map_err(|m| bad(name, m)),
        "hstu" => parse::<HstuConfig>(name, config)?
            .check()
            .map_err(|m| bad(name, m)),
        "kuaiformer" => parse::<KuaiFormerConfig>(name, config)?
            .check(spec)
            .map(|_| ())
            .map_err(|m| bad(name, m)),
        _ => Err(ModelError::Unknown {
            name: name.to_string(),
            known: SEQ_CATALOG
                .iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Builds sequential model `name` with `config` (JSON; null = defaults) for `spec`.
pub fn build_seq<D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &SeqSpec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn SeqModel<D>>, ModelError> {
    validate_seq(name, config, spec)?;
    Ok(match name {
        "sasrec" => Box::new(SasRec::new(store, spec, &parse(name, config)?)),
        "hstu" => Box::new(Hstu::new(store, spec, &parse(name, config)?)),
        "kuaiformer" => Box::new(KuaiFormer::new(store, spec, &parse(name, config)?)),
        _ => unreachable!("validated sequential model `{name}` has no constructor"),
    })
}

/// A model whose final state at every position predicts the next item with the shared
/// item table (SASRec, HSTU): it gets its `SeqForward` from these three methods, so the
/// loss (sampled, over the batch's negatives), the user vector (the last position's
/// state) and the item vectors (the table) are written once.
pub trait NextItemEncoder: Send + Sync {
    /// Final states at every position, `(batch * max_len, d)`, causal.
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T>;
    fn loss_kind(&self) -> SampledLoss;
    /// The item embedding table, input and output side.
    fn item_table(&self) -> TableId;
}

impl<D: Dev, M: NextItemEncoder> SeqForward<D> for M {
    fn loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Tensor<Rank0, f32, D, T> {
        let h = self.states::<D, T>(store, batch, ctx);
        sampled_loss(self.loss_kind(), h, batch, self.item_table(), store, ctx)
    }

    fn user_vectors<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let h = self.states::<D, T>(store, batch, ctx);
        last_rows(h, batch.size, 1, ctx)
    }

    /// Padding rows are zero and hidden from every real position (causal mask over
    /// valid positions, relative biases), and positions are counted from the end.
    fn trims_padding(&self) -> bool {
        true
    }

    fn item_vectors(&self, store: &ParamStore<D>) -> Vec<f32> {
        store.table(self.item_table()).weights()
    }
}
