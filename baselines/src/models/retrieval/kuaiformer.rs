//! KuaiFormer (Liu et al., KuaiFormer: Transformer-Based Retrieval at Kuaishou,
//! arXiv 2411.10057, Sec. 3), on item-id histories.
//!
//! - Tokens (Sec. 3.2): the paper's token is `t_i = MLP([x_i, f_i])`, the item
//!   embedding fused with about ten side features; these tasks have item ids only, so
//!   by default the embedding is the token, and `token_mlp: true` keeps the MLP (one
//!   ReLU hidden layer of width `dim`) over the embedding alone.
//! - Sequence compression (Sec. 3.3): the oldest items form groups (levels of `count`
//!   groups of `size` items, oldest level first); each group passes through a one-layer
//!   bidirectional transformer (one per level) and is mean-pooled over its items into
//!   one token; the most recent items stay raw tokens. The paper's 256 items become
//!   2 x 64 + 5 x 16 grouped + 48 raw = 55 tokens; by default (`groups: null`) any
//!   `max_len` n >= 16 is cut in the same proportions: 2 groups of ⌊n/4⌋, 5 groups of
//!   ⌊n/16⌋, the remaining n - 2⌊n/4⌋ - 5⌊n/16⌋ raw (n < 16: no compression). Group and
//!   raw tokens that are padding in every row of a batch are not computed (they hold
//!   nothing and are hidden from every real token, so the outputs are the same; the
//!   layout stays fixed over the window, so the harness does not trim KuaiFormer's
//!   batches itself).
//! - Multi-interest queries (Sec. 3.4): `k` learnable query tokens appended after the
//!   item tokens; a causal Llama-style transformer (RMS norm, masked multi-head
//!   attention with output projection, SwiGLU FFN; learned positions) runs over all
//!   tokens, so query `j` sees every item token and the queries before it; the outputs
//!   at the query positions are the user's interests `u_1..u_k`.
//! - Scoring and training (Sec. 3.5): `score(x) = max_j <u_j, E[x]>`; in-batch softmax
//!   over the batch's next items with the logQ correction `s - log Q(x)` (Q from the
//!   training target counts) and label smoothing (see `layers::in_batch_loss`). The
//!   paper trains one prediction per user request; a user's history here is one
//!   training prefix per epoch, so `requests` (default 4) replays it as that many
//!   requests: the history cut after its last item and after `requests - 1` earlier
//!   items of the user's own history drawn anew at each step (`request_batch`), each
//!   predicting the item that followed its cut. `requests: 1` trains only on the item
//!   after the history's end. A user's replayed requests share a batch, so their
//!   targets are hidden from each other's softmax: they are that user's own items,
//!   not negatives (the paper's batches hold independent requests).

use dfdx::prelude::*;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

use crate::contract::{Forward, Loss};
use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Track};
use crate::kinds::retrieval::{Retrieval, RetrievalHints, SeqBatch, SeqSpec};
use crate::layers::activation::dropout;
use crate::layers::attention::Seq3;
use crate::layers::mlp::Mlp;
use crate::layers::seq_embedding::EMBEDDING_STD;
use crate::layers::{
    in_batch_loss, last_rows, log_sampling_probs, AttnMask, BlockConfig, FfnKind, Norm, NormKind,
    Residual, SeqEmbedding, TransformerBlock,
};
use crate::models::defaults::transformer::{check_width, default_dim, default_dropout};
use crate::registry::{ModelInfo, Registered};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KuaiFormerConfig {
    #[serde(default = "default_dim")]
    pub dim: usize,
    /// Causal transformer layers over the compressed tokens.
    #[serde(default = "default_layers")]
    pub layers: usize,
    #[serde(default = "default_heads")]
    pub heads: usize,
    /// Learnable query tokens = interests per user (k).
    #[serde(default = "default_interests")]
    pub interests: usize,
    /// Compression levels `[count, size]`, oldest first; `null` = the paper's
    /// proportions (see the module doc), `[]` = no compression.
    #[serde(default)]
    pub groups: Option<Vec<[usize; 2]>>,
    /// SwiGLU hidden width as a multiple of `dim`.
    #[serde(default = "default_ffn_mult")]
    pub ffn_mult: usize,
    #[serde(default = "default_dropout")]
    pub dropout: f32,
    /// Label smoothing α of the in-batch softmax.
    #[serde(default = "default_smoothing")]
    pub label_smoothing: f32,
    /// Subtract log Q(x) from in-batch logits (needs `SeqSpec.item_counts`; without
    /// them no correction is made).
    #[serde(default = "yes")]
    pub logq: bool,
    /// Requests replayed per training history (see the module doc); >= 1.
    #[serde(default = "default_requests")]
    pub requests: usize,
    /// Pass each item embedding through the token MLP (`t_i = MLP(x_i)`, Sec. 3.2;
    /// one ReLU hidden layer of width `dim`) before compression and the transformer;
    /// false = the raw embedding is the token.
    #[serde(default)]
    pub token_mlp: bool,
}

fn default_requests() -> usize {
    4
}

/// A training batch replayed as requests (see [`request_batch`]).
pub struct Replay {
    /// One row per request, its one target at `max_len - 1`.
    pub batch: SeqBatch,
    /// The original row (user) each request came from: a user's other requests are
    /// not negatives of each other in the in-batch softmax.
    pub users: Vec<usize>,
}

/// The training batch as up to `requests` requests per row, cut from the row's own
/// history (rows of one user adjacent, latest first). A row with `n` targets (the
/// positions `max_len - n .. max_len` of its left-padded history) gets `min(requests,
/// n)` cuts: the cut after its last item (shift 0, the prediction the evaluation
/// makes) and `requests - 1` distinct earlier cuts drawn uniformly from the other `n -
/// 1` (ChaCha8 from `seed`), so over the epochs every prefix of the history is
/// trained on. Cut `shift` shifts what precedes position `max_len - 1 - shift` right
/// so its last item sits at `max_len - 1` (left padding) and keeps as target only the
/// item that followed the cut: nothing at or after the cut is in the row. Rows
/// without a target give none.
pub fn request_batch(batch: &SeqBatch, requests: usize, seed: u64) -> Replay {
    let l = batch.max_len;
    let n_neg = batch.n_neg;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = SeqBatch {
        size: 0,
        max_len: l,
        n_neg,
        ..Default::default()
    };
    let mut users = Vec::new();
    for r in 0..batch.size {
        let row_targets = &batch.targets[r * l..(r + 1) * l];
        let n = row_targets.iter().filter(|&&t| t != 0).count();
        if n == 0 {
            continue;
        }
        let earlier = requests.max(1).min(n) - 1;
        let mut shifts = vec![0];
        shifts.extend(sample(&mut rng, n - 1, earlier).into_iter().map(|s| s + 1));
        shifts[1..].sort_unstable();
        for shift in shifts {
            let row = |v: &[u32]| -> Vec<u32> {
                let v = &v[r * l..(r + 1) * l];
                (0..l)
                    .map(|j| if j < shift { 0 } else { v[j - shift] })
                    .collect()
            };
            out.items.extend(row(&batch.items));
            let t = &batch.times[r * l..(r + 1) * l];
            out.times
                .extend((0..l).map(|j| if j < shift { 0 } else { t[j - shift] }));
            let mut targets = vec![0; l];
            targets[l - 1] = row_targets[l - 1 - shift];
            out.targets.extend(targets);
            let p = r * l + l - 1 - shift;
            let mut negatives = vec![0; l * n_neg];
            negatives[(l - 1) * n_neg..]
                .copy_from_slice(&batch.negatives[p * n_neg..(p + 1) * n_neg]);
            out.negatives.extend(negatives);
            out.size += 1;
            users.push(r);
        }
    }
    Replay { batch: out, users }
}

fn default_layers() -> usize {
    2
}
fn default_heads() -> usize {
    2
}
fn default_interests() -> usize {
    4
}
fn default_ffn_mult() -> usize {
    2
}
fn default_smoothing() -> f32 {
    0.1
}
fn yes() -> bool {
    true
}

/// Where the history's positions go: grouped levels, then raw items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `(count, size, first position)` per level, oldest first.
    pub levels: Vec<(usize, usize, usize)>,
    /// First raw position; positions `raw_start..max_len` stay raw tokens.
    pub raw_start: usize,
    pub max_len: usize,
}

impl Layout {
    /// The layout of `max_len` positions for `groups` (`None` = the paper's proportions).
    pub fn new(max_len: usize, groups: Option<&[[usize; 2]]>) -> Result<Layout, String> {
        let default;
        let groups = match groups {
            Some(g) => g,
            None if max_len >= 16 => {
                default = [[2, max_len / 4], [5, max_len / 16]];
                &default[..]
            }
            None => &[],
        };
        let mut levels = Vec::new();
        let mut start = 0;
        for &[count, size] in groups {
            if count == 0 || size == 0 {
                return Err(format!(
                    "groups: [{count}, {size}] needs a count and size >= 1"
                ));
            }
            levels.push((count, size, start));
            start += count * size;
        }
        if start > max_len {
            return Err(format!(
                "groups: {start} grouped positions exceed max_len {max_len}"
            ));
        }
        Ok(Layout {
            levels,
            raw_start: start,
            max_len,
        })
    }
    /// Compressed group tokens.
    pub fn group_tokens(&self) -> usize {
        self.levels.iter().map(|l| l.0).sum()
    }
    pub fn raw_tokens(&self) -> usize {
        self.max_len - self.raw_start
    }
    /// Item tokens after compression (without the query tokens).
    pub fn item_tokens(&self) -> usize {
        self.group_tokens() + self.raw_tokens()
    }
}

impl KuaiFormerConfig {
    pub fn check(&self, spec: &SeqSpec) -> Result<Layout, String> {
        check_width(self.dim, self.heads, self.dropout)?;
        if self.layers == 0 || self.interests == 0 || self.ffn_mult == 0 || self.requests == 0 {
            return Err("layers, interests, ffn_mult and requests must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(format!(
                "label_smoothing must be in [0, 1), got {}",
                self.label_smoothing
            ));
        }
        Layout::new(spec.max_len, self.groups.as_deref())
    }
}

pub struct KuaiFormer {
    pub cfg: KuaiFormerConfig,
    pub layout: Layout,
    pub emb: SeqEmbedding,
    /// `t_i = MLP(x_i)` when `token_mlp`.
    pub token_mlp: Option<Mlp>,
    /// One bidirectional encoder per compression level.
    pub group_encoders: Vec<TransformerBlock>,
    /// `(k, d)` query tokens.
    pub queries: MatId,
    /// `(tokens, d)` positions of the item and query tokens.
    pub positions: MatId,
    pub blocks: Vec<TransformerBlock>,
    pub norm: Norm,
    log_q: Option<Vec<f32>>,
}

impl KuaiFormer {
    /// Parameters under `kuaiformer.`: `embedding.items`, `group.<level>.*`, `queries`,
    /// `positions`, `block.<i>.*`, `norm`. Panics on a config `check` rejects.
    pub fn new<D: Dev>(store: &mut ParamStore<D>, spec: &SeqSpec, cfg: &KuaiFormerConfig) -> Self {
        let layout = cfg.check(spec).expect("kuaiformer config");
        let d = cfg.dim;
        let block = BlockConfig {
            dim: d,
            heads: cfg.heads,
            ffn_hidden: cfg.ffn_mult * d,
            ffn: FfnKind::SwiGlu,
            norm: NormKind::RmsNorm,
            out_proj: true,
            dropout: cfg.dropout,
            residual: Residual::PreNorm,
        };
        let tokens = layout.item_tokens() + cfg.interests;
        let init = Init::Normal { std: EMBEDDING_STD };
        let mut s = store.scope("kuaiformer");
        let emb = SeqEmbedding::new(&mut s.pp("embedding"), spec.n_items, spec.max_len, d, false);
        let token_mlp = cfg
            .token_mlp
            .then(|| Mlp::new(&mut s.pp("token_mlp"), d, &[d], Some(d)));
        let group_encoders = (0..layout.levels.len())
            .map(|i| TransformerBlock::new(&mut s.pp("group").pp(i), block))
            .collect();
        let queries = s.mat("queries", cfg.interests, d, init);
        let positions = s.mat("positions", tokens, d, init);
        let blocks = (0..cfg.layers)
            .map(|i| TransformerBlock::new(&mut s.pp("block").pp(i), block))
            .collect();
        let norm = Norm::new(&mut s.pp("norm"), NormKind::RmsNorm, d);
        let log_q = cfg
            .logq
            .then(|| spec.item_counts.as_deref().map(log_sampling_probs))
            .flatten();
        KuaiFormer {
            cfg: cfg.clone(),
            layout,
            emb,
            token_mlp,
            group_encoders,
            queries,
            positions,
            blocks,
            norm,
            log_q,
        }
    }

    /// Tokens per sequence: compressed item tokens then the `k` queries.
    pub fn tokens(&self) -> usize {
        self.layout.item_tokens() + self.cfg.interests
    }

    /// The tokens worth computing for `batch`: a group or raw token whose positions are
    /// padding in every row holds no content, is hidden from every real token by the
    /// causal mask and so cannot change an output; it is left out (as the tokens before
    /// the first one kept, since histories are left-padded). Returns, per level, the
    /// first group kept, the first raw position kept, and the kept tokens' indices
    /// among `tokens()` (for their position embeddings).
    fn live_tokens(&self, batch: &SeqBatch) -> (Vec<usize>, usize, Vec<usize>) {
        let l = batch.max_len;
        let first_real = (0..batch.size)
            .filter_map(|r| batch.items_row(r).iter().position(|&i| i != 0))
            .min()
            .unwrap_or(0);
        let mut kept = Vec::with_capacity(self.tokens());
        let mut first_groups = Vec::with_capacity(self.layout.levels.len());
        let mut token = 0;
        for &(count, size, start) in &self.layout.levels {
            // Group g covers start + g size .. start + (g + 1) size: live if it ends
            // after the first real position.
            let first = (first_real.saturating_sub(start) / size).min(count);
            kept.extend(token + first..token + count);
            first_groups.push(first);
            token += count;
        }
        let raw_first = first_real.clamp(self.layout.raw_start, l);
        kept.extend(token + raw_first - self.layout.raw_start..token + self.layout.raw_tokens());
        let queries = self.layout.item_tokens();
        kept.extend(queries..queries + self.cfg.interests);
        (first_groups, raw_first, kept)
    }

    /// The input tokens `(batch, kept tokens, d)` before positions, which hold content
    /// (a group with at least one item, a raw item, a query), and the kept tokens'
    /// indices among `tokens()` (see `live_tokens`).
    pub fn input_tokens<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> (Seq3<D, T>, Vec<bool>, Vec<usize>) {
        let (b, l, d) = (batch.size, batch.max_len, self.cfg.dim);
        let dev = store.dev().clone();
        let (first_groups, raw_first, kept) = self.live_tokens(batch);
        let e = self.emb.forward::<D, T>(store, batch, ctx);
        let mut parts: Vec<Seq3<D, T>> = Vec::new();
        let mut part_valid: Vec<(usize, Vec<bool>)> = Vec::new();
        for ((&(count, size, start), enc), &first) in self
            .layout
            .levels
            .iter()
            .zip(&self.group_encoders)
            .zip(&first_groups)
        {
            if first == count {
                continue;
            }
            let (count, start) = (count - first, start + first * size);
            let idx: Vec<usize> = (0..b)
                .flat_map(|r| (0..count * size).map(move |o| r * l + start + o))
                .collect();
            let valid: Vec<bool> = idx.iter().map(|&i| batch.items[i] != 0).collect();
            let rows = idx.len();
            ctx.flops.copy(rows * d);
            let x = self.tokens_of(
                store,
                e.retaped::<T>().gather(dev.tensor_from_vec(idx, (rows,))),
                ctx,
            );
            let mask = AttnMask::bidirectional(&valid, b * count, size);
            let y = enc.forward(store, x, &mask, ctx);
            // Mean over each group's items: weights valid / (items in the group).
            let filled: Vec<usize> = valid
                .chunks(size)
                .map(|g| g.iter().filter(|&&v| v).count())
                .collect();
            let w: Vec<f32> = valid
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    if v {
                        1.0 / filled[i / size] as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            ctx.flops.elementwise(rows * d);
            ctx.flops.pool(b * count, size, d);
            let w = dev
                .tensor_from_vec(w, (rows,))
                .broadcast_like::<_, Axis<1>>(&(rows, d));
            let pooled = (y * w)
                .reshape_like(&(b * count, size, d))
                .sum::<(usize, usize), Axis<1>>()
                .reshape_like(&(b, count, d));
            parts.push(pooled);
            part_valid.push((count, filled.iter().map(|&f| f > 0).collect()));
        }
        let raw = l - raw_first;
        if raw > 0 {
            let idx: Vec<usize> = (0..b)
                .flat_map(|r| (raw_first..l).map(move |p| r * l + p))
                .collect();
            let valid = idx.iter().map(|&i| batch.items[i] != 0).collect();
            ctx.flops.copy(b * raw * d);
            let x = self.tokens_of(store, e.gather(dev.tensor_from_vec(idx, (b * raw,))), ctx);
            parts.push(x.reshape_like(&(b, raw, d)));
            part_valid.push((raw, valid));
        }
        let k = self.cfg.interests;
        ctx.flops.copy(b * k * d);
        parts.push(
            store
                .mat(self.queries)
                .retaped::<T>()
                .broadcast_like::<_, Axis<0>>(&(b, k, d)),
        );
        part_valid.push((k, vec![true; b * k]));
        let mut parts = parts.into_iter();
        let mut x = parts.next().expect("query tokens");
        for p in parts {
            ctx.flops
                .copy(x.shape().num_elements() + p.shape().num_elements());
            x = (x, p).concat_along(Axis::<1>);
        }
        // Token validity in (row, token) order.
        let mut valid = Vec::with_capacity(b * kept.len());
        for r in 0..b {
            for (n, v) in &part_valid {
                valid.extend_from_slice(&v[r * n..(r + 1) * n]);
            }
        }
        (x, valid, kept)
    }

    /// Item embeddings to tokens: the token MLP when configured, else unchanged.
    fn tokens_of<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        match &self.token_mlp {
            Some(mlp) => mlp.forward(store, x, ctx),
            None => x,
        }
    }

    /// Every token's final state, `(batch * tokens, d)`; the last `k` rows of each
    /// sequence are the interests.
    pub fn encode<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (b, d) = (batch.size, self.cfg.dim);
        let (x, valid, kept) = self.input_tokens::<D, T>(store, batch, ctx);
        let t = kept.len();
        ctx.flops.elementwise(b * t * d);
        let mut p = store.mat(self.positions).retaped::<T>();
        if t < self.tokens() {
            ctx.flops.copy(t * d);
            p = p.gather(store.dev().tensor_from_vec(kept, (t,)));
        }
        let p = p.broadcast_like::<_, Axis<0>>(&(b, t, d));
        let mut x = dropout((x + p).reshape_like(&(b * t, d)), self.cfg.dropout, ctx);
        let mask = AttnMask::causal(&valid, b, t);
        for block in &self.blocks {
            x = block.forward(store, x, &mask, ctx);
        }
        self.norm.forward(store, x, ctx)
    }
}

impl KuaiFormer {
    /// The k interests at the end of each history, `(size * k, d)`.
    pub fn user_vectors<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let h = self.encode::<D, T>(store, batch, ctx);
        last_rows(h, batch.size, self.cfg.interests, ctx)
    }
}

impl<D: Dev> Forward<Retrieval, D> for KuaiFormer {
    fn forward<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        self.user_vectors::<D, T>(store, batch, ctx)
    }

    fn loss<T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        batch: &SeqBatch,
        ctx: &mut Ctx<D>,
    ) -> Loss<D, T> {
        let k = self.cfg.interests;
        let seed = crate::engine::device_seed(store.dev());
        let Replay { batch, users } = request_batch(batch, self.cfg.requests, seed);
        if batch.size == 0 {
            // No targets: a zero loss that still reaches the parameters' tape.
            return store.mat(self.queries).retaped::<T>().sum::<Rank0, _>() * 0.0;
        }
        let u = self.user_vectors::<D, T>(store, &batch, ctx);
        let l = batch.max_len;
        let targets: Vec<u32> = (0..batch.size)
            .map(|r| batch.targets[r * l + l - 1])
            .collect();
        in_batch_loss(
            u,
            k,
            &targets,
            Some(&users),
            self.emb.table,
            self.log_q.as_deref(),
            self.cfg.label_smoothing,
            store,
            ctx,
        )
    }

    /// k interests; group and raw tokens that are padding in every row are skipped, so
    /// a batch of short histories costs less; one target per replayed request
    /// (`request_batch`).
    fn hints(&self) -> RetrievalHints {
        RetrievalHints {
            interests: self.cfg.interests,
            trims_padding: false,
            benefits_from_length_buckets: true,
            targets_per_history: Some(self.cfg.requests),
        }
    }

    fn item_vectors(&self, store: &ParamStore<D>) -> Option<Vec<f32>> {
        Some(store.table(self.emb.table).weights())
    }
}

impl Registered<Retrieval> for KuaiFormer {
    type Config = KuaiFormerConfig;
    const INFO: &'static ModelInfo = &ModelInfo {
        name: "kuaiformer",
        kind: "retrieval",
        paper: "Liu et al., KuaiFormer: Transformer-Based Retrieval at Kuaishou, arXiv 2411.10057, Sec. 3 (3.3 sequence compression, 3.4 multi-interest query tokens, 3.5 in-batch softmax with logQ and label smoothing)",
        summary: "Older items in groups (levels of count x size, oldest first; default the paper's proportions: 2 groups of n/4, 5 of n/16, the rest raw, i.e. 256 -> 55 tokens), each group through a one-layer bidirectional transformer and mean-pooled; recent items raw; k learnable query tokens appended; causal Llama-style transformer (RMS norm, multi-head attention with output projection, SwiGLU); the k query outputs are the user's interests, scored by max_j <u_j, E[x]>; in-batch softmax over the batch's next items with logQ correction (training target counts) and label smoothing.",
        simplifications: "Item ids only: tokens are item embeddings by default (the paper: an MLP over the id and about 10 side features, which SeqBatch does not carry; `token_mlp: true` keeps the MLP over the embedding alone); learned absolute positions instead of rotary ones; linear layers have biases; the label-smoothed loss is the project spec's reading, -(1-α) log p_pos - Σ_neg (α/|B|) log(1 - p_neg), not checked against the PDF (α has no reported value; default 0.1); in-batch duplicates of the positive are hidden rather than treated as negatives; Q(x) is the item's share of training targets (the paper: a streaming frequency estimate); a user's requests are replayed from the one training history per epoch (config `requests`, default 4: the history cut at its end and at 3 earlier items drawn anew each step, one target each) rather than logged request by request, so it sees fewer targets per epoch than SASRec (every position); a user's replayed requests share a batch and are hidden from each other's softmax (their targets are that user's items, not negatives); no separate per-interest ANN serving; with a task's length_buckets (beauty-seq) a batch holds users of similar history lengths, so the in-batch negatives do too (the paper's batches are random requests).",
    };

    fn check(cfg: &KuaiFormerConfig, spec: &SeqSpec) -> Result<(), String> {
        cfg.check(spec).map(|_| ())
    }

    fn build<D: Dev>(
        store: &mut ParamStore<D>,
        spec: &SeqSpec,
        cfg: &KuaiFormerConfig,
    ) -> Result<Self, String> {
        Ok(KuaiFormer::new(store, spec, cfg))
    }
}
