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
use crate::generative::{GenBatch, GenSpec};
use crate::layers::ScoreBias;

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
