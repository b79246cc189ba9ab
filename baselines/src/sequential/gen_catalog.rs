//! Generative-ranking models (issue 7), trained and evaluated through
//! `crate::generative` (`GenBatch`, `GenForward`). Adding one = a file in this folder
//! plus an entry in `GEN_CATALOG`, `validate_gen` and `build_gen`.

use crate::catalog::{ModelError, ModelInfo};
use crate::engine::{Dev, ParamStore};
use crate::generative::{GenModel, GenSpec};

use super::gen_hstu::GenHstuConfig;
use super::genrank::GenRank;
use super::hstu_rank::HstuRank;
use super::item_only::{ItemOnly, ItemOnlyConfig};
use super::{bad, parse};

/// Generative-ranking models, described like `crate::CATALOG`'s (family "generative").
pub const GEN_CATALOG: &[ModelInfo] = &[ModelInfo {
    name: "item_only",
    family: "generative",
    paper: "none: the history-blind reference of the generative-ranking task",
    summary: "Each candidate's action logits from its item embedding alone, MLP(E[x]) with one output per action: the learned per-item rate of every action, no history.",
    simplifications: "Not a paper model.",
    needs_sparse: false,
}, ModelInfo {
    name: "hstu_rank",
    family: "generative",
    paper: "Zhai et al., Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations, ICML 2024, arXiv 2402.17152, Sec. 2.2 (ranking over interleaved items and actions) and Sec. 3.1 (HSTU layer, Eq. 1-3); the baseline of GenRank (arXiv 2505.04180)",
    summary: "Interleaved tokens: each history exposure is an item token (E_item[x] + M, M the learned mask action) then an action token (E_action[a]), 2n tokens for n exposures; the request's candidates (E_item[x] + M) share the position after the history; learned position embeddings. HSTU layers (U, V, Q, K = SiLU(f1(LN(X))); SiLU(QK^T + rab^{p,t}) V / n with a learned per-layer bias per relative position and per log-bucketed time gap; Y = X + f2(LN(AV) * U)); history causal, a candidate sees the history and itself only. One logit per action from each candidate's final state; per-candidate BCE summed over actions.",
    simplifications: "Only the candidates are supervised (the paper's HSTU ranker predicts the action at every item position of the history too); the candidates of a request share one position right after the history instead of being generated one by one; position embeddings count back from the candidates; ids only (no side features or content embeddings); f1 is four d x d linear maps with biases and both layer norms have learned scale and shift (as the retrieval hstu); relative position and time buckets as the retrieval hstu's (time between the tokens' requests); the 1/n of the attention is over the padded token count; no jagged kernels or M-FALCON.",
    needs_sparse: false,
}, ModelInfo {
    name: "genrank",
    family: "generative",
    paper: "Huang et al., Towards Large-scale Generative Ranking, arXiv 2505.04180 (v1: RankGPT), the GenRank architecture section (action-oriented organisation; position and time biases); read through the project spec models-part1.md Sec. 1, not the PDF",
    summary: "Action-oriented tokens: one token per history exposure, E_item[x] + E_action[a] + E_pos + E_req[requests ago] + E_dt[gap bucket], n tokens for n exposures; candidates E_item[x] + M (learned mask action) + the shared position's, request's and gap's embeddings, all at the position after the history. HSTU layers as hstu_rank (same implementation) with the learned rab replaced by parameter-free ALiBi, -m_h |p_i - p_j| with m_h = 2^(-8h/H); history causal, a candidate sees the history and itself only. One logit per action from each candidate's final state; per-candidate BCE summed over actions.",
    simplifications: "Only the candidates are supervised (per the spec the paper's loss covers history positions too, and restricting it costs AUC); ALiBi on positions only (whether the paper also applies it to time distance is unverified), time enters through E_dt; requests ago and the gap bucket of a candidate are the target request's (0 and its gap), a choice; E_req is capped at max_requests_ago; ids only (no side features or frozen content embeddings in phi(x)); positions count back from the candidates; f1 as four d x d linear maps with biases, layer norms with scale and shift; plain attention, not FlashAttention with fused ALiBi; the paper's exact multi-request sample layout is unverified (here one example per (user, request)).",
    needs_sparse: false,
}];

fn unknown(name: &str) -> ModelError {
    ModelError::Unknown {
        name: name.to_string(),
        known: GEN_CATALOG
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Checks that generative model `name` exists and its `config` parses and is valid for
/// `spec`, without allocating parameters.
pub fn validate_gen(
    name: &str,
    config: &serde_json::Value,
    _spec: &GenSpec,
) -> Result<(), ModelError> {
    match name {
        "item_only" => parse::<ItemOnlyConfig>(name, config)?
            .check()
            .map_err(|m| bad(name, m)),
        "hstu_rank" | "genrank" => parse::<GenHstuConfig>(name, config)?
            .check(name)
            .map_err(|m| bad(name, m)),
        _ => Err(unknown(name)),
    }
}

/// Builds generative model `name` with `config` (JSON; null = defaults) for `spec`.
pub fn build_gen<D: Dev>(
    name: &str,
    config: &serde_json::Value,
    spec: &GenSpec,
    store: &mut ParamStore<D>,
) -> Result<Box<dyn GenModel<D>>, ModelError> {
    validate_gen(name, config, spec)?;
    Ok(match name {
        "item_only" => Box::new(ItemOnly::new(store, spec, &parse(name, config)?)),
        "hstu_rank" => Box::new(HstuRank::new(store, spec, &parse(name, config)?)),
        "genrank" => Box::new(GenRank::new(store, spec, &parse(name, config)?)),
        _ => unreachable!("validated generative model `{name}` has no constructor"),
    })
}
