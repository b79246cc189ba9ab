//! What `hstu_rank` and `genrank` share: the token embedding (a sum of looked-up
//! feature embeddings), the stack of HSTU layers ([`HstuLayer`], arXiv 2402.17152
//! Eq. 1-3, the same implementation as the retrieval `hstu`), and the per-action heads
//! on the candidates' outputs. The two models differ only in their token layout
//! (`genrank_tokens`) and their attention bias (learned `rab^{p,t}` vs ALiBi).

use dfdx::prelude::*;
use serde::Deserialize;

use super::genrank_tokens::Tokens;
use crate::contract::Forward;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, TableId, Track};
use crate::kinds::generative::{GenBatch, GenSpec, Generative, TIME_BUCKETS};
use crate::layers::activation::dropout;
use crate::layers::HstuLayer;
use crate::layers::{last_rows, Mlp, ScoreBias};
use crate::models::defaults::transformer::{check_width, default_dim, default_dropout};

/// Configuration of both generative HSTU rankers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenHstuConfig {
    /// Embedding and hidden width d (U, V, Q, K each d wide, split over the heads).
    #[serde(default = "default_dim")]
    pub dim: usize,
    #[serde(default = "default_blocks")]
    pub blocks: usize,
    #[serde(default = "default_heads")]
    pub heads: usize,
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    /// Hidden widths of the MLP from a candidate's output to its action logits (empty:
    /// one linear head per action).
    #[serde(default)]
    pub head_hidden: Vec<usize>,
    /// `hstu_rank` only: largest bucket of its learned time bias `rab^t` (default 128).
    #[serde(default)]
    pub time_buckets: Option<usize>,
    /// `genrank` only: rows of `E_req` beyond 0; older requests share the last row
    /// (default 64).
    #[serde(default)]
    pub max_requests_ago: Option<usize>,
}

fn default_blocks() -> usize {
    2
}
fn default_heads() -> usize {
    4
}

impl GenHstuConfig {
    /// Checks the shared fields; `model` names the one being built (`hstu_rank` or
    /// `genrank`), whose own option the other must not set.
    pub fn check(&self, model: &str) -> Result<(), String> {
        check_width(self.dim, self.heads, self.dropout)?;
        if self.blocks == 0 || self.head_hidden.contains(&0) {
            return Err("blocks and head_hidden widths must be positive".into());
        }
        let (own, other) = match model {
            "genrank" => (self.max_requests_ago, ("time_buckets", self.time_buckets)),
            _ => (
                self.time_buckets,
                ("max_requests_ago", self.max_requests_ago),
            ),
        };
        if own == Some(0) {
            return Err("time_buckets and max_requests_ago must be positive".into());
        }
        if other.1.is_some() {
            return Err(format!("`{}` is not an option of {model}", other.0));
        }
        Ok(())
    }
}

/// Which features a token's embedding sums.
pub struct TokenEmbedding {
    /// `n_items + 1` rows, row 0 = none: masked out, so action tokens carry no item.
    pub items: TableId,
    /// `2^n_actions + 1` rows, row 0 = the learned mask action `M`.
    pub actions: TableId,
    /// Indexed by `history_len - position` (candidates 0, the newest exposure 1, ...):
    /// the same for an example whatever the padding.
    pub positions: TableId,
    /// GenRank's `E_req` and `E_dt`.
    pub requests: Option<(TableId, usize)>,
    pub gaps: Option<TableId>,
    pub dim: usize,
}

impl TokenEmbedding {
    /// Tables `<scope>.{items,actions,positions}` (and `requests_ago`, `time_gaps`
    /// when `max_requests_ago` is given) for `history_len` history slots.
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        spec: &GenSpec,
        history_len: usize,
        max_requests_ago: Option<usize>,
        dim: usize,
    ) -> Self {
        let init = Init::Normal { std: 0.02 };
        let requests = max_requests_ago.map(|r| (s.table("requests_ago", r + 1, dim, init), r));
        TokenEmbedding {
            items: s.table("items", spec.n_items as usize + 1, dim, init),
            actions: s.table("actions", spec.action_vocab(), dim, init),
            positions: s.table("positions", history_len + 1, dim, init),
            gaps: requests.map(|_| s.table("time_gaps", TIME_BUCKETS + 1, dim, init)),
            requests,
            dim,
        }
    }

    /// `x = E_item[x]·[x != 0] + E_action[a] + E_pos[n - p] (+ E_req[r] + E_dt[g])`,
    /// `(size * len, d)`. Padding tokens get whatever their ids give: nothing sees them.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        t: &Tokens,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (n, d) = (t.size * t.len, self.dim);
        let positions: Vec<u32> = (0..t.size)
            .flat_map(|_| (0..t.len).map(|s| t.history_len as u32 - t.position(s)))
            .collect();
        let has_item: Vec<f32> = t.items.iter().map(|&i| (i != 0) as u8 as f32).collect();
        let has_item = store
            .dev()
            .tensor_from_vec(has_item, (n,))
            .broadcast_like::<_, Axis<1>>(&(n, d));
        ctx.flops.elementwise(n * d);
        let mut x = ctx.lookup::<T>(store, self.items, t.items.clone()) * has_item;
        let add = |table: TableId, ids: Vec<u32>, x: Mat<D, T>, ctx: &mut Ctx<D>| {
            let e = ctx.lookup::<T>(store, table, ids);
            ctx.flops.elementwise(n * d);
            x + e
        };
        x = add(self.actions, t.actions.clone(), x, ctx);
        x = add(self.positions, positions, x, ctx);
        if let Some((table, cap)) = self.requests {
            let ids = t.requests_ago.iter().map(|&r| r.min(cap as u32)).collect();
            x = add(table, ids, x, ctx);
        }
        if let Some(table) = self.gaps {
            let ids = t
                .gap_buckets
                .iter()
                .map(|&g| g.min(TIME_BUCKETS as u32))
                .collect();
            x = add(table, ids, x, ctx);
        }
        x
    }
}

/// The HSTU layers and the per-action heads.
pub struct GenHstu {
    pub cfg: GenHstuConfig,
    pub layers: Vec<HstuLayer>,
    pub head: Mlp,
}

impl GenHstu {
    /// `<scope>.layer.<i>.*` and `<scope>.head.*`; `per_layer` adds each layer's own
    /// extra parameters (its bias) in the layer's scope.
    pub fn new<D: Dev, B>(
        s: &mut Scope<'_, D>,
        spec: &GenSpec,
        cfg: &GenHstuConfig,
        mut per_layer: impl FnMut(&mut Scope<'_, D>) -> B,
    ) -> (Self, Vec<B>) {
        let (mut layers, mut extra) = (Vec::new(), Vec::new());
        for i in 0..cfg.blocks {
            let mut s = s.pp("layer");
            let mut s = s.pp(i);
            layers.push(HstuLayer::new(&mut s, cfg.dim));
            extra.push(per_layer(&mut s));
        }
        let head = Mlp::new(
            &mut s.pp("head"),
            cfg.dim,
            &cfg.head_hidden,
            Some(spec.n_actions),
        );
        let model = GenHstu {
            cfg: cfg.clone(),
            layers,
            head,
        };
        (model, extra)
    }

    /// Final states of every token, `(size * len, d)`, from the embedded tokens `x`;
    /// `bias(i, ctx)` is layer `i`'s attention bias.
    pub fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        tokens: &Tokens,
        mut bias: impl FnMut(usize, &mut Ctx<D>) -> Option<ScoreBias<D, T>>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let mask = tokens.mask();
        let mut x = dropout(x, self.cfg.dropout, ctx);
        for (i, layer) in self.layers.iter().enumerate() {
            let rab = bias(i, ctx);
            x = layer.forward(store, x, self.cfg.heads, self.cfg.dropout, &mask, rab, ctx);
        }
        x
    }

    /// The action logits of every candidate slot, `(size * max_candidates, n_actions)`.
    pub fn logits<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        states: Mat<D, T>,
        tokens: &Tokens,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let c = tokens.candidate_slots().len();
        let h = last_rows(states, tokens.size, c, ctx);
        self.head.forward(store, h, ctx)
    }
}

/// A generative ranker built on [`GenHstu`]: how it lays a batch out as tokens and runs
/// them to final states. Its `Forward` is then the heads on the candidates' states.
pub trait TokenRanker: Send + Sync {
    fn tokens(&self, batch: &GenBatch) -> Tokens;
    /// Final states of every token, `(size * len, d)`.
    fn states<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        tokens: &Tokens,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T>;
    fn backbone(&self) -> &GenHstu;
}

impl<D: Dev, M: TokenRanker> Forward<Generative, D> for M {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &GenBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let tokens = self.tokens(batch);
        let h = self.states::<D, T>(store, &tokens, ctx);
        self.backbone().logits(store, h, &tokens, ctx)
    }
}
