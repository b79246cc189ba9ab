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
use crate::engine::{Ctx, Dev, Mat, ParamStore, Track};
use crate::kinds::generative::{GenBatch, GenSpec, Generative};
use crate::layers::RelativeBias;
use crate::layers::ScoreBias;
use crate::registry::{ModelInfo, Registered};

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

impl Registered<Generative> for HstuRank {
    type Config = GenHstuConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "hstu_rank",
        kind: "generative",
        paper: "Zhai et al., Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations, ICML 2024, arXiv 2402.17152, Sec. 2.2 (ranking over interleaved items and actions) and Sec. 3.1 (HSTU layer, Eq. 1-3); the baseline of GenRank (arXiv 2505.04180)",
        summary: "Interleaved tokens: each history exposure is an item token (E_item[x] + M, M the learned mask action) then an action token (E_action[a]), 2n tokens for n exposures; the request's candidates (E_item[x] + M) share the position after the history; learned position embeddings. HSTU layers (U, V, Q, K = SiLU(f1(LN(X))); SiLU(QK^T + rab^{p,t}) V / n with a learned per-layer bias per relative position and per log-bucketed time gap; Y = X + f2(LN(AV) * U)); history causal, a candidate sees the history and itself only. One logit per action from each candidate's final state; per-candidate BCE summed over actions.",
        simplifications: "Only the candidates are supervised (the paper's HSTU ranker predicts the action at every item position of the history too); the candidates of a request share one position right after the history instead of being generated one by one; position embeddings count back from the candidates; ids only (no side features or content embeddings); f1 is four d x d linear maps with biases and both layer norms have learned scale and shift (as the retrieval hstu); relative position and time buckets as the retrieval hstu's (time between the tokens' requests); the 1/n of the attention is over the padded token count; no jagged kernels or M-FALCON.",
    };

    fn check(cfg: &GenHstuConfig, _spec: &GenSpec) -> Result<(), String> {
        cfg.check("hstu_rank")
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &GenSpec,
        cfg: &GenHstuConfig,
    ) -> Result<Self, String> {
        Ok(HstuRank::new(store, spec, cfg))
    }
}
