//! GenRank (Huang et al., Towards Large-scale Generative Ranking, arXiv 2505.04180; v1
//! called it RankGPT), the GenRank architecture section, as read in the project spec
//! models-part1.md Sec. 1 (from secondary summaries of the paper).
//!
//! Action-oriented tokens ([`action_oriented`]): each history exposure is ONE token
//! `e_i = E_item[x_i] + E_action[a_i] + E_pos[i] + E_req[r_i] + E_dt[bucket(Δt)]` (the
//! item is context, the action what is generated), so `n` exposures are `n` tokens,
//! half of HSTU's interleaved `2n`; a candidate is `E_item[x_j] + M` (`M` the learned
//! mask action) plus the shared position's, its request's and its gap's embeddings,
//! every candidate at the position after the history. The layers are HSTU's (the same
//! [`HstuLayer`](super::hstu::HstuLayer) as `hstu_rank`), but the learned relative bias
//! `rab^{p,t}` is replaced by the parameter-free ALiBi bias `B_ij = -m_h |p_i - p_j|`,
//! `m_h = 2^(-8h/H)` for head `h` of `H`; masks as `hstu_rank`'s (history causal, a
//! candidate sees the history and itself). Each candidate's final state gives one
//! logit per action; per-candidate BCE (`generative::candidate_bce`).

use dfdx::prelude::*;

use super::gen_hstu::{GenHstu, GenHstuConfig, TokenEmbedding, TokenRanker};
use super::genrank_tokens::{action_oriented, alibi_bias, alibi_slopes, Tokens};
use crate::engine::{Ctx, Dev, Mat, ParamStore, Track};
use crate::kinds::generative::{GenBatch, GenSpec, Generative};
use crate::layers::ScoreBias;
use crate::registry::{ModelInfo, Registered};

/// `E_req` rows beyond 0 unless configured.
pub const DEFAULT_MAX_REQUESTS_AGO: usize = 64;

pub struct GenRank {
    pub emb: TokenEmbedding,
    pub backbone: GenHstu,
    /// ALiBi slope of each head.
    pub slopes: Vec<f32>,
}

impl GenRank {
    /// Parameters under `genrank.`: `embedding.{items,actions,positions,requests_ago,
    /// time_gaps}`, `layer.<i>.*`, `head.*` (ALiBi has none).
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &GenSpec, cfg: &GenHstuConfig) -> Self {
        let mut s = store.scope("genrank");
        let requests = cfg.max_requests_ago.unwrap_or(DEFAULT_MAX_REQUESTS_AGO);
        let emb = TokenEmbedding::new(
            &mut s.pp("embedding"),
            spec,
            spec.max_history,
            Some(requests),
            cfg.dim,
        );
        let (backbone, _) = GenHstu::new(&mut s, spec, cfg, |_| ());
        GenRank {
            emb,
            backbone,
            slopes: alibi_slopes(cfg.heads),
        }
    }
}

impl TokenRanker for GenRank {
    /// The batch as action-oriented tokens.
    fn tokens(&self, batch: &GenBatch) -> Tokens {
        action_oriented(batch)
    }

    /// Final states of every token, `(size * (max_history + max_candidates), d)`.
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        tokens: &Tokens,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let x = self.emb.forward::<D, T>(store, tokens, ctx);
        // A constant, the same for every layer and row (precomputed, or fused into the
        // attention kernel as the paper does, so its construction counts no FLOPs).
        let l = tokens.len;
        let alibi: Tensor<(usize, usize, usize), f32, D> = store
            .dev()
            .tensor_from_vec(alibi_bias(tokens, &self.slopes), (self.slopes.len(), l, l));
        let bias = |_: usize, _: &mut Ctx<D>| Some(ScoreBias::PerHead(alibi.clone()));
        self.backbone.states(store, x, tokens, bias, ctx)
    }

    fn backbone(&self) -> &GenHstu {
        &self.backbone
    }
}

impl Registered<Generative> for GenRank {
    type Config = GenHstuConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "genrank",
        kind: "generative",
        paper: "Huang et al., Towards Large-scale Generative Ranking, arXiv 2505.04180 (v1: RankGPT), the GenRank architecture section (action-oriented organisation; position and time biases); read through the project spec models-part1.md Sec. 1, not the PDF",
        summary: "Action-oriented tokens: one token per history exposure, E_item[x] + E_action[a] + E_pos + E_req[requests ago] + E_dt[gap bucket], n tokens for n exposures; candidates E_item[x] + M (learned mask action) + the shared position's, request's and gap's embeddings, all at the position after the history. HSTU layers as hstu_rank (same implementation) with the learned rab replaced by parameter-free ALiBi, -m_h |p_i - p_j| with m_h = 2^(-8h/H); history causal, a candidate sees the history and itself only. One logit per action from each candidate's final state; per-candidate BCE summed over actions.",
        simplifications: "Only the candidates are supervised (per the spec the paper's loss covers history positions too, and restricting it costs AUC); ALiBi on positions only (whether the paper also applies it to time distance is unverified), time enters through E_dt; requests ago and the gap bucket of a candidate are the target request's (0 and its gap), a choice; E_req is capped at max_requests_ago; ids only (no side features or frozen content embeddings in phi(x)); positions count back from the candidates; f1 as four d x d linear maps with biases, layer norms with scale and shift; plain attention, not FlashAttention with fused ALiBi; the paper's exact multi-request sample layout is unverified (here one example per (user, request)).",
    };

    fn check(cfg: &GenHstuConfig, _spec: &GenSpec) -> Result<(), String> {
        cfg.check("genrank")
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &GenSpec,
        cfg: &GenHstuConfig,
    ) -> Result<Self, String> {
        Ok(GenRank::new(store, spec, cfg))
    }
}
