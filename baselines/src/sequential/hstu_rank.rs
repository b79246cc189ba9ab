//! HSTU as a generative ranker (Zhai et al., Actions Speak Louder than Words, ICML
//! 2024, arXiv 2402.17152, Sec. 2.2 ranking with interleaved items and actions, Sec.
//! 3.1 the HSTU layer): the baseline GenRank (arXiv 2505.04180) is measured against.
//!
//! Tokens ([`interleaved`]): each history exposure is an item token `E_item[x_i] + M`
//! followed by an action token `E_action[a_i]`, so `n` exposures are `2n` tokens; the
//! candidates `E_item[x_j] + M` (`M` the learned mask action) share the position after
//! the history; every token adds a learned position embedding. Then HSTU layers
//! `U, V, Q, K = SiLU(f1(LN(X)))`, `A V = SiLU(Q K^T + rab^{p,t}) V / n` (history causal,
//! a candidate sees the history and itself), `Y = X + f2(LN(A V) ⊙ U)`, where `rab`
//! (per layer, shared by heads) is a learned weight per relative position plus one per
//! log-bucketed time difference of the tokens' requests. Each candidate's final state
//! gives one logit per action (a linear head per action, or an MLP: `head_hidden`),
//! trained with the per-candidate BCE of `generative::candidate_bce`.

use super::gen_hstu::{GenHstu, GenHstuConfig, TokenEmbedding, TokenRanker};
use super::genrank_tokens::{interleaved, Tokens};
use super::hstu::RelativeBias;
use crate::engine::{Ctx, Dev, Mat, ParamStore, Track};
use crate::generative::{GenBatch, GenSpec};
use crate::layers::ScoreBias;

/// `rab^t`'s largest bucket unless configured (the authors' code: 128).
pub const DEFAULT_TIME_BUCKETS: usize = 128;

pub struct HstuRank {
    pub emb: TokenEmbedding,
    pub backbone: GenHstu,
    /// One `rab^{p,t}` per layer.
    pub rab: Vec<RelativeBias>,
}

impl HstuRank {
    /// Parameters under `hstu_rank.`: `embedding.{items,actions,positions}`,
    /// `layer.<i>.*` (with `rab_position`, `rab_time`), `head.*`.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &GenSpec, cfg: &GenHstuConfig) -> Self {
        let mut s = store.scope("hstu_rank");
        let history_len = 2 * spec.max_history;
        let emb = TokenEmbedding::new(&mut s.pp("embedding"), spec, history_len, None, cfg.dim);
        let buckets = cfg.time_buckets.unwrap_or(DEFAULT_TIME_BUCKETS);
        let (backbone, rab) = GenHstu::new(&mut s, spec, cfg, |s| {
            RelativeBias::new(s, Some(history_len + 1), Some(buckets))
        });
        HstuRank { emb, backbone, rab }
    }
}

impl TokenRanker for HstuRank {
    /// The batch as interleaved tokens.
    fn tokens(&self, batch: &GenBatch) -> Tokens {
        interleaved(batch)
    }

    /// Final states of every token, `(size * (2 max_history + max_candidates), d)`.
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        tokens: &Tokens,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let x = self.emb.forward::<D, T>(store, tokens, ctx);
        let positions = tokens.positions();
        let bias = |i: usize, ctx: &mut Ctx<D>| {
            self.rab[i]
                .forward(store, &positions, &tokens.times, tokens.size, ctx)
                .map(ScoreBias::PerExample)
        };
        self.backbone.states(store, x, tokens, bias, ctx)
    }

    fn backbone(&self) -> &GenHstu {
        &self.backbone
    }
}
