//! Generative-ranking models (issue 7), trained and evaluated through
//! `crate::generative` (`GenBatch`, `GenForward`). Adding one = a file in this folder
//! plus an entry in `GEN_CATALOG`, `validate_gen` and `build_gen`.

use crate::catalog::{ModelError, ModelInfo};
use crate::engine::{Dev, ParamStore};
use crate::generative::{GenModel, GenSpec};

use super::din::{Din, DinConfig};
use super::gen_hstu::GenHstuConfig;
use super::genrank::GenRank;
use super::hstu_rank::HstuRank;
use super::item_only::{ItemOnly, ItemOnlyConfig};
use super::lum::{Lum, LumConfig};
use super::{bad, parse};

/// Generative-ranking models, described like `crate::CATALOG`'s (family "generative").
pub const GEN_CATALOG: &[ModelInfo] = &[
    ModelInfo {
        name: "item_only",
        family: "generative",
        paper: "none: the history-blind reference of the generative-ranking task",
        summary: "Each candidate's action logits from its item embedding alone, MLP(E[x]) with one output per action: the learned per-item rate of every action, no history.",
        simplifications: "Not a paper model.",
        needs_sparse: false,
    },
    ModelInfo {
        name: "din",
        family: "generative",
        paper: "Zhou et al., Deep Interest Network for Click-Through Rate Prediction, KDD 2018, arXiv 1706.06978, Sec. 4.3 (Eq. 3, the local activation unit) and Fig. 2",
        summary: "History exposures e_j = E_item[x_j] + E_action[y_j], candidate v_A = E_item[x]; local activation unit a(e_j, v_A) = MLP([e_j, v_A, e_j - v_A, e_j * v_A]) -> one weight (PReLU hidden 36); user interest v_U = sum_j a_j e_j with no softmax (Eq. 3), padding weighted 0; one logit per action from MLP([v_U, v_A]) (PReLU hidden 200, 80).",
        simplifications: "The action embedding is added to each history item (the paper's behaviours are clicked goods only, with no action); the activation unit takes the difference and elementwise product (the authors' code) instead of Fig. 2's out product; PReLU instead of Dice (Dice's batch statistics would make a candidate's score depend on its batch and need running averages); no mini-batch aware regularisation (Sec. 5.1); no user-profile or context features (the task has none).",
        needs_sparse: false,
    },
    ModelInfo {
        name: "lum",
        family: "generative",
        paper: "Yan et al., Unlocking Scaling Law in Industrial Recommendation Systems with a Three-step Paradigm based Large User Model, arXiv 2502.08309, Sec. 3 (step 1 generative pre-training, step 2 group query, step 3 DLRM)",
        summary: "Step 1: each history exposure as two tokens <condition = its action id, item>, a causal Llama-style transformer (RMS norm, softmax attention with output projection, SwiGLU) pre-trained for pretrain_epochs with InfoNCE at every condition token's output against its item's embedding (the batch's other item tokens as negatives; duplicates of the positive and the other items of the same user's history hidden; temperature τ). Step 2: one query condition token per real action id (all 2^n_actions, never only the target's) appended after the history, each seeing the history and itself only, so one pass gives every interest. Step 3, backbone frozen: MLP([e_x, o_q1..o_qN, <o_qn, e'_x> for each n]) -> one logit per action, e_x the DLRM's own candidate embedding, e'_x the frozen pre-trained one. Ablations: interests=false (DLRM alone), pretrain_epochs=0 (random frozen backbone).",
        simplifications: "The condition is the exposure's action id (GenBatch carries no scenario, query or category, the paper's conditions); tokens are single-feature embeddings, so the paper's proj(concat(features)) token encoder is the embedding itself; no position embeddings (order from the causal mask only; a learned position for the query slot would never be pre-trained); sim is the inner product, scaled by 1/τ in step 1 (the spec's formula has no τ; default τ = 1); in-batch negatives are the item tokens of one batch (no sequence packing, no large negative pool); pre-training has one row per user, the history before the user's last training request (its most recent max_history exposures), so that request's own exposures are not pre-trained on; the DLRM has no user or context features beyond LUM's interests (the paper's DLRM has its own feature set); interests are recomputed per batch without a tape rather than cached offline; model sizes are the spec's scaled-down ones (d 64, 2 blocks, 4 heads), not the paper's up to 7B.",
        needs_sparse: false,
    },
    ModelInfo {
        name: "hstu_rank",
        family: "generative",
        paper: "Zhai et al., Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations, ICML 2024, arXiv 2402.17152, Sec. 2.2 (ranking over interleaved items and actions) and Sec. 3.1 (HSTU layer, Eq. 1-3); the baseline of GenRank (arXiv 2505.04180)",
        summary: "Interleaved tokens: each history exposure is an item token (E_item[x] + M, M the learned mask action) then an action token (E_action[a]), 2n tokens for n exposures; the request's candidates (E_item[x] + M) share the position after the history; learned position embeddings. HSTU layers (U, V, Q, K = SiLU(f1(LN(X))); SiLU(QK^T + rab^{p,t}) V / n with a learned per-layer bias per relative position and per log-bucketed time gap; Y = X + f2(LN(AV) * U)); history causal, a candidate sees the history and itself only. One logit per action from each candidate's final state; per-candidate BCE summed over actions.",
        simplifications: "Only the candidates are supervised (the paper's HSTU ranker predicts the action at every item position of the history too); the candidates of a request share one position right after the history instead of being generated one by one; position embeddings count back from the candidates; ids only (no side features or content embeddings); f1 is four d x d linear maps with biases and both layer norms have learned scale and shift (as the retrieval hstu); relative position and time buckets as the retrieval hstu's (time between the tokens' requests); the 1/n of the attention is over the padded token count; no jagged kernels or M-FALCON.",
        needs_sparse: false,
    },
    ModelInfo {
        name: "genrank",
        family: "generative",
        paper: "Huang et al., Towards Large-scale Generative Ranking, arXiv 2505.04180 (v1: RankGPT), the GenRank architecture section (action-oriented organisation; position and time biases); read through the project spec models-part1.md Sec. 1, not the PDF",
        summary: "Action-oriented tokens: one token per history exposure, E_item[x] + E_action[a] + E_pos + E_req[requests ago] + E_dt[gap bucket], n tokens for n exposures; candidates E_item[x] + M (learned mask action) + the shared position's, request's and gap's embeddings, all at the position after the history. HSTU layers as hstu_rank (same implementation) with the learned rab replaced by parameter-free ALiBi, -m_h |p_i - p_j| with m_h = 2^(-8h/H); history causal, a candidate sees the history and itself only. One logit per action from each candidate's final state; per-candidate BCE summed over actions.",
        simplifications: "Only the candidates are supervised (per the spec the paper's loss covers history positions too, and restricting it costs AUC); ALiBi on positions only (whether the paper also applies it to time distance is unverified), time enters through E_dt; requests ago and the gap bucket of a candidate are the target request's (0 and its gap), a choice; E_req is capped at max_requests_ago; ids only (no side features or frozen content embeddings in phi(x)); positions count back from the candidates; f1 as four d x d linear maps with biases, layer norms with scale and shift; plain attention, not FlashAttention with fused ALiBi; the paper's exact multi-request sample layout is unverified (here one example per (user, request)).",
        needs_sparse: false,
    },
];

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
        "din" => parse::<DinConfig>(name, config)?
            .check()
            .map_err(|m| bad(name, m)),
        "lum" => parse::<LumConfig>(name, config)?
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
        "din" => Box::new(Din::new(store, spec, &parse(name, config)?)),
        "lum" => Box::new(Lum::new(store, spec, &parse(name, config)?)),
        "hstu_rank" => Box::new(HstuRank::new(store, spec, &parse(name, config)?)),
        "genrank" => Box::new(GenRank::new(store, spec, &parse(name, config)?)),
        _ => unreachable!("validated generative model `{name}` has no constructor"),
    })
}
