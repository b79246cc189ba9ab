//! Attention over batches of sequences held as `(batch * len, heads * dh)` matrices.
//!
//! - [`softmax_attention`]: `softmax(q k^T / sqrt(dh) + M) v` per head (Vaswani et al.,
//!   2017), `M` additive (0 where a key is visible, -1e9 where not).
//! - [`pointwise_attention`]: HSTU's pointwise aggregated attention
//!   `(SiLU(q k^T + rab) / n ⊙ M) v` (Zhai et al., arXiv 2402.17152, Eq. 2), no softmax,
//!   `M` multiplicative 0/1, `n` the padded sequence length (`AttnMask::norm_len`);
//!   [`pointwise_attention_with`] takes the bias as a [`ScoreBias`], per example
//!   (HSTU's `rab`) or per head (ALiBi).
//!
//! [`AttnMask`] says which keys each query sees. Every query sees at least itself, so no
//! softmax row is empty; a padding query then attends only to itself and its (unused)
//! state never reaches a real position, since padding keys are hidden from real queries.

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, Mat, Track};

/// A `(batch, len, len)` tensor: attention scores or masks.
pub type Seq3<D, T = NoneTape> = Tensor<(usize, usize, usize), f32, D, T>;
type Seq4<D, T = NoneTape> = Tensor<(usize, usize, usize, usize), f32, D, T>;

/// Additive mask value of a hidden key: `exp(-1e9 - max)` is exactly 0 in f32.
pub const HIDDEN: f32 = -1e9;

/// Which keys each query may see, `allowed[(b * lq + i) * lk + j]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttnMask {
    pub batch: usize,
    pub lq: usize,
    pub lk: usize,
    pub allowed: Vec<bool>,
    /// `n` of [`pointwise_attention`]: the padded length the model was built for,
    /// `lk` unless set with [`AttnMask::normalized_over`], so that a batch trimmed to a
    /// shorter window gives the same outputs as the full one.
    pub norm_len: usize,
}

impl AttnMask {
    /// Causal with padding: query `i` sees key `j <= i` when `j` holds an item (or
    /// `j == i`). `valid` is `batch x len`.
    pub fn causal(valid: &[bool], batch: usize, len: usize) -> Self {
        Self::from_fn(valid, batch, len, |i, j, v| j == i || (j < i && v))
    }

    /// Bidirectional with padding: query `i` sees every key holding an item (and itself).
    pub fn bidirectional(valid: &[bool], batch: usize, len: usize) -> Self {
        Self::from_fn(valid, batch, len, |i, j, v| j == i || v)
    }

    fn from_fn(
        valid: &[bool],
        batch: usize,
        len: usize,
        rule: impl Fn(usize, usize, bool) -> bool,
    ) -> Self {
        assert_eq!(valid.len(), batch * len, "mask: validity length");
        let mut allowed = Vec::with_capacity(batch * len * len);
        for b in 0..batch {
            for i in 0..len {
                allowed.extend((0..len).map(|j| rule(i, j, valid[b * len + j])));
            }
        }
        AttnMask {
            batch,
            lq: len,
            lk: len,
            allowed,
            norm_len: len,
        }
    }

    /// The same mask with pointwise attention's `n` set to `n` (at least `lk`).
    pub fn normalized_over(mut self, n: usize) -> Self {
        assert!(n >= self.lk, "mask: n {n} below the key length {}", self.lk);
        self.norm_len = n;
        self
    }

    /// 0 where visible, [`HIDDEN`] where not, as a `(batch, lq, lk)` constant.
    pub fn additive<D: Dev>(&self, dev: &D) -> Seq3<D> {
        let v = self
            .allowed
            .iter()
            .map(|&a| if a { 0.0 } else { HIDDEN })
            .collect();
        dev.tensor_from_vec(v, (self.batch, self.lq, self.lk))
    }

    /// 1 where visible, 0 where not, as a `(batch, lq, lk)` constant.
    pub fn multiplicative<D: Dev>(&self, dev: &D) -> Seq3<D> {
        let v = self.allowed.iter().map(|&a| a as u8 as f32).collect();
        dev.tensor_from_vec(v, (self.batch, self.lq, self.lk))
    }

    fn scores(&self, heads: usize) -> (usize, usize, usize, usize) {
        (self.batch, heads, self.lq, self.lk)
    }
}

/// `(batch * len, heads * dh)` -> `(batch, heads, len, dh)` (a view; free for one head).
fn split_heads<D: Dev, T: Track<D>>(
    x: Mat<D, T>,
    batch: usize,
    len: usize,
    heads: usize,
) -> Seq4<D, T> {
    let (rows, width) = *x.shape();
    assert_eq!(rows, batch * len, "attention: rows = batch * len");
    assert_eq!(width % heads, 0, "attention: width divisible by heads");
    let dh = width / heads;
    if heads == 1 {
        return x.reshape_like(&(batch, 1, len, dh));
    }
    x.reshape_like(&(batch, len, heads, dh))
        .permute::<_, Axes4<0, 2, 1, 3>>()
}

/// `(batch, heads, len, dh)` -> `(batch * len, heads * dh)`; with several heads the
/// permuted result is copied to contiguous memory (counted as a copy).
fn merge_heads<D: Dev, T: Track<D>>(x: Seq4<D, T>, ctx: &mut Ctx<D>) -> Mat<D, T> {
    let (batch, heads, len, dh) = *x.shape();
    if heads == 1 {
        return x.reshape_like(&(batch * len, dh));
    }
    ctx.flops.copy(batch * heads * len * dh);
    x.permute::<_, Axes4<0, 2, 1, 3>>()
        .reshape_like(&(batch * len, heads * dh))
}

/// Multi-head scaled dot-product attention: `q` is `(batch * lq, heads * dh)`, `k` and
/// `v` are `(batch * lk, heads * dh)`; returns `(batch * lq, heads * dh)`. The mask add
/// counts one elementwise op per score.
pub fn softmax_attention<D: Dev, T: Track<D>>(
    q: Mat<D, T>,
    k: Mat<D, T>,
    v: Mat<D, T>,
    heads: usize,
    mask: &AttnMask,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    let dev = q.device().clone();
    let dh = q.shape().1 / heads;
    let shape = mask.scores(heads);
    ctx.flops.attention(mask.batch, heads, mask.lq, mask.lk, dh);
    ctx.flops.elementwise(shape.0 * shape.1 * shape.2 * shape.3);
    let q = split_heads(q, mask.batch, mask.lq, heads);
    let kt = split_heads(k, mask.batch, mask.lk, heads).permute::<_, Axes4<0, 1, 3, 2>>();
    let v = split_heads(v, mask.batch, mask.lk, heads);
    let m = mask.additive(&dev).broadcast_like::<_, Axis<1>>(&shape);
    let p = (q.matmul(kt) * (1.0 / (dh as f32).sqrt()) + m).softmax::<Axis<3>>();
    merge_heads(p.matmul(v), ctx)
}

/// An additive bias on the attention scores, before the nonlinearity.
pub enum ScoreBias<D: Dev, T> {
    /// `(batch, lq, lk)`, shared by the heads (HSTU's learned `rab^{p,t}`).
    PerExample(Seq3<D, T>),
    /// `(heads, lq, lk)`, shared by the batch: a constant (ALiBi's `-m_h |i - j|`).
    PerHead(Seq3<D>),
}

/// HSTU's pointwise aggregated attention `(SiLU(q k^T + rab) / n ⊙ M) v` with `n` =
/// `mask.norm_len` (the key length unless the mask says otherwise). `q`, `k` are
/// `(batch * len, heads * dqk)`, `v` is `(batch * len, heads * dv)`; `bias` (`rab`,
/// shared by the heads) is `(batch, lq, lk)`, its add counted as one elementwise op per
/// score.
pub fn pointwise_attention<D: Dev, T: Track<D>>(
    q: Mat<D, T>,
    k: Mat<D, T>,
    v: Mat<D, T>,
    heads: usize,
    mask: &AttnMask,
    bias: Option<Seq3<D, T>>,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    pointwise_attention_with(q, k, v, heads, mask, bias.map(ScoreBias::PerExample), ctx)
}

/// [`pointwise_attention`] with either kind of [`ScoreBias`]; the add counts one
/// elementwise op per score (`batch * heads * lq * lk`) either way.
pub fn pointwise_attention_with<D: Dev, T: Track<D>>(
    q: Mat<D, T>,
    k: Mat<D, T>,
    v: Mat<D, T>,
    heads: usize,
    mask: &AttnMask,
    bias: Option<ScoreBias<D, T>>,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    let dev = q.device().clone();
    let (dqk, dv) = (q.shape().1 / heads, v.shape().1 / heads);
    let shape = mask.scores(heads);
    ctx.flops
        .pointwise_attention(mask.batch, heads, mask.lq, mask.lk, dqk, dv);
    let q = split_heads(q, mask.batch, mask.lq, heads);
    let kt = split_heads(k, mask.batch, mask.lk, heads).permute::<_, Axes4<0, 1, 3, 2>>();
    let v = split_heads(v, mask.batch, mask.lk, heads);
    let mut s = q.matmul(kt);
    if let Some(bias) = bias {
        ctx.flops.elementwise(shape.0 * shape.1 * shape.2 * shape.3);
        s = match bias {
            ScoreBias::PerExample(rab) => s + rab.broadcast_like::<_, Axis<1>>(&shape),
            ScoreBias::PerHead(b) => {
                assert_eq!(
                    *b.shape(),
                    (heads, mask.lq, mask.lk),
                    "attention: per-head bias shape"
                );
                s + b.broadcast_like::<_, Axis<0>>(&shape)
            }
        };
    }
    let silu = s.retaped::<T>().sigmoid() * s;
    let m = mask
        .multiplicative(&dev)
        .broadcast_like::<_, Axis<1>>(&shape);
    let a = silu * (1.0 / mask.norm_len as f32) * m;
    merge_heads(a.matmul(v), ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;

    #[test]
    fn causal_mask_hides_the_future_and_padding_but_never_self() {
        // One row: [pad, a, b].
        let m = AttnMask::causal(&[false, true, true], 1, 3);
        let want = [
            [true, false, false],
            [false, true, false],
            [false, true, true],
        ];
        let got: Vec<bool> = want.iter().flatten().copied().collect();
        assert_eq!(m.allowed, got);
        let b = AttnMask::bidirectional(&[true, false, true], 1, 3);
        assert_eq!(
            b.allowed,
            vec![true, false, true, true, true, true, true, false, true]
        );
    }

    #[test]
    fn two_heads_equal_two_single_head_runs() {
        let dev = Cpu::default();
        let (b, l, dh) = (2, 3, 2);
        let val = |n: usize, seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * 7 + seed * 13) % 11) as f32 - 5.0) / 5.0)
                .collect()
        };
        let (q, k, v) = (
            val(b * l * 2 * dh, 1),
            val(b * l * 2 * dh, 2),
            val(b * l * 2 * dh, 3),
        );
        let mask = AttnMask::causal(&[true, true, true, false, true, true], b, l);
        let mut ctx = Ctx::<Cpu>::default();
        let t = |x: &Vec<f32>, w: usize| -> Mat<Cpu> { dev.tensor_from_vec(x.clone(), (b * l, w)) };
        let both = softmax_attention(
            t(&q, 2 * dh),
            t(&k, 2 * dh),
            t(&v, 2 * dh),
            2,
            &mask,
            &mut ctx,
        )
        .as_vec();
        let both_pw = pointwise_attention(
            t(&q, 2 * dh),
            t(&k, 2 * dh),
            t(&v, 2 * dh),
            2,
            &mask,
            None,
            &mut ctx,
        )
        .as_vec();
        for h in 0..2 {
            let head = |x: &Vec<f32>| -> Vec<f32> {
                x.chunks(2 * dh)
                    .flat_map(|r| r[h * dh..(h + 1) * dh].to_vec())
                    .collect()
            };
            let one = softmax_attention(
                t(&head(&q), dh),
                t(&head(&k), dh),
                t(&head(&v), dh),
                1,
                &mask,
                &mut ctx,
            )
            .as_vec();
            let one_pw = pointwise_attention(
                t(&head(&q), dh),
                t(&head(&k), dh),
                t(&head(&v), dh),
                1,
                &mask,
                None,
                &mut ctx,
            )
            .as_vec();
            for (got, want) in [(&both, &one), (&both_pw, &one_pw)] {
                for (r, w) in got.chunks(2 * dh).zip(want.chunks(dh)) {
                    for (a, b) in r[h * dh..(h + 1) * dh].iter().zip(w) {
                        assert!((a - b).abs() < 1e-6, "head {h}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_per_head_bias_equals_one_shared_bias_per_single_head_run() {
        let dev = Cpu::default();
        let (b, l, dh) = (2, 3, 2);
        let val = |n: usize, seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * 5 + seed * 7) % 13) as f32 - 6.0) / 6.0)
                .collect()
        };
        let (q, k, v) = (
            val(b * l * 2 * dh, 1),
            val(b * l * 2 * dh, 2),
            val(b * l * 2 * dh, 3),
        );
        // Head 0 gets -|i - j|, head 1 gets -0.25 |i - j| (ALiBi-like).
        let per_head: Vec<f32> = [1.0f32, 0.25]
            .iter()
            .flat_map(|m| {
                (0..l).flat_map(move |i| (0..l).map(move |j| -m * (i as f32 - j as f32).abs()))
            })
            .collect();
        let mask = AttnMask::causal(&[true, true, true, false, true, true], b, l);
        let mut ctx = Ctx::<Cpu>::default();
        let t = |x: &Vec<f32>, w: usize| -> Mat<Cpu> { dev.tensor_from_vec(x.clone(), (b * l, w)) };
        let bias = dev.tensor_from_vec(per_head.clone(), (2, l, l));
        let both = pointwise_attention_with(
            t(&q, 2 * dh),
            t(&k, 2 * dh),
            t(&v, 2 * dh),
            2,
            &mask,
            Some(ScoreBias::PerHead(bias)),
            &mut ctx,
        )
        .as_vec();
        let unbiased = pointwise_attention(
            t(&q, 2 * dh),
            t(&k, 2 * dh),
            t(&v, 2 * dh),
            2,
            &mask,
            None,
            &mut ctx,
        )
        .as_vec();
        let moved = both
            .iter()
            .zip(&unbiased)
            .any(|(a, b)| (a - b).abs() > 1e-4);
        assert!(moved, "the bias changes the output");
        for h in 0..2 {
            let head = |x: &Vec<f32>| -> Vec<f32> {
                x.chunks(2 * dh)
                    .flat_map(|r| r[h * dh..(h + 1) * dh].to_vec())
                    .collect()
            };
            let shared: Vec<f32> = (0..b)
                .flat_map(|_| per_head[h * l * l..(h + 1) * l * l].to_vec())
                .collect();
            let one = pointwise_attention(
                t(&head(&q), dh),
                t(&head(&k), dh),
                t(&head(&v), dh),
                1,
                &mask,
                Some(dev.tensor_from_vec(shared, (b, l, l))),
                &mut ctx,
            )
            .as_vec();
            for (r, w) in both.chunks(2 * dh).zip(one.chunks(dh)) {
                for (a, b) in r[h * dh..(h + 1) * dh].iter().zip(w) {
                    assert!((a - b).abs() < 1e-6, "head {h}: {a} vs {b}");
                }
            }
        }
    }
}
