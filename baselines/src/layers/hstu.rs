//! The HSTU layer (Zhai et al., Actions Speak Louder than Words, ICML 2024, arXiv
//! 2402.17152, Sec. 3.1, Eq. 1-3) and its learned relative attention bias, shared by
//! the retrieval model `hstu` and the generative rankers `hstu_rank` and `genrank`.

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, Track, VecId};
use crate::kinds::time_bucket;
use crate::layers::activation::{dropout, silu};
use crate::layers::attention::Seq3;
use crate::layers::{pointwise_attention_with, AttnMask, Linear, Norm, NormKind, ScoreBias};

/// One HSTU layer (Eq. 1-3), without its attention bias: the caller passes `rab`
/// (this retrieval model and `hstu_rank`: a [`RelativeBias`]; GenRank: ALiBi), so the
/// sequential and the generative-ranking models share this one implementation.
pub struct HstuLayer {
    pub norm_in: Norm,
    pub u: Linear,
    pub v: Linear,
    pub q: Linear,
    pub k: Linear,
    pub norm_attn: Norm,
    pub out: Linear,
}

impl HstuLayer {
    /// Parameters `<scope>.{norm_in,u,v,q,k,norm_attn,out}.*`, all `d` wide.
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, d: usize) -> Self {
        HstuLayer {
            norm_in: Norm::new(&mut s.pp("norm_in"), NormKind::LayerNorm, d),
            u: Linear::new(&mut s.pp("u"), d, d),
            v: Linear::new(&mut s.pp("v"), d, d),
            q: Linear::new(&mut s.pp("q"), d, d),
            k: Linear::new(&mut s.pp("k"), d, d),
            norm_attn: Norm::new(&mut s.pp("norm_attn"), NormKind::LayerNorm, d),
            out: Linear::new(&mut s.pp("out"), d, d),
        }
    }

    /// `Y = X + f2(LN(A(X) V(X)) ⊙ U(X))` on `x` of `(batch * len, d)`, dropout
    /// `dropout` before `f2` when training.
    #[allow(clippy::too_many_arguments)]
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        heads: usize,
        dropout_p: f32,
        mask: &AttnMask,
        rab: Option<ScoreBias<D, T>>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (n, d) = *x.shape();
        let a = self.norm_in.forward(store, x.retaped::<T>(), ctx);
        let proj = |lin: &Linear, a: Mat<D, T>, ctx: &mut Ctx<D>| {
            let y = lin.forward(store, a, ctx);
            silu(y, ctx)
        };
        let u = proj(&self.u, a.retaped::<T>(), ctx);
        let v = proj(&self.v, a.retaped::<T>(), ctx);
        let q = proj(&self.q, a.retaped::<T>(), ctx);
        let k = proj(&self.k, a, ctx);
        let av = pointwise_attention_with(q, k, v, heads, mask, rab, ctx);
        ctx.flops.elementwise(n * d);
        let gated = self.norm_attn.forward(store, av, ctx) * u;
        let y = self.out.forward(store, dropout(gated, dropout_p, ctx), ctx);
        ctx.flops.elementwise(n * d);
        x + y
    }
}

/// HSTU's learned relative attention bias `rab^{p,t}`, per layer and shared by the
/// heads: a weight per relative position `p_j - p_i` plus a weight per log-bucketed
/// time difference `t_i - t_j` ([`time_bucket`]).
pub struct RelativeBias {
    /// `2 positions - 1` weights (relative positions `-(positions - 1)..positions`).
    pub position: Option<VecId>,
    /// `time_buckets + 1` weights.
    pub time: Option<VecId>,
    pub positions: usize,
    pub time_buckets: usize,
}

impl RelativeBias {
    /// `<scope>.rab_position` if `positions` is given (the number of distinct position
    /// ids), `<scope>.rab_time` if `time_buckets` is.
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        positions: Option<usize>,
        time_buckets: Option<usize>,
    ) -> Self {
        let init = Init::Normal { std: 0.02 };
        RelativeBias {
            position: positions.map(|p| s.vec("rab_position", 2 * p - 1, init)),
            time: time_buckets.map(|b| s.vec("rab_time", b + 1, init)),
            positions: positions.unwrap_or(0),
            time_buckets: time_buckets.unwrap_or(0),
        }
    }

    /// `rab` of a batch, `(batch, len, len)`, or `None` with both parts off. `positions`
    /// (`len`, each `< self.positions`) are the tokens' position ids, the same in every
    /// row; `times` (`batch x len`) their timestamps.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        positions: &[u32],
        times: &[i64],
        batch: usize,
        ctx: &mut Ctx<D>,
    ) -> Option<Seq3<D, T>> {
        let (b, l) = (batch, positions.len());
        let dev = store.dev().clone();
        let pos = self.position.map(|w| {
            let p = self.positions;
            let idx: Vec<usize> = positions
                .iter()
                .flat_map(|&i| {
                    positions
                        .iter()
                        .map(move |&j| p - 1 + j as usize - i as usize)
                })
                .collect();
            ctx.flops.copy(l * l);
            store
                .vec(w)
                .retaped::<T>()
                .gather(dev.tensor_from_vec(idx, (l * l,)))
                .reshape_like(&(l, l))
                .broadcast_like::<_, Axis<0>>(&(b, l, l))
        });
        let time = self.time.map(|w| {
            assert_eq!(times.len(), b * l, "rab: a time per token");
            let mut idx = Vec::with_capacity(b * l * l);
            for row in times.chunks(l) {
                for &ti in row {
                    idx.extend(
                        row.iter()
                            .map(|&tj| time_bucket(ti - tj, self.time_buckets)),
                    );
                }
            }
            ctx.flops.copy(b * l * l);
            store
                .vec(w)
                .retaped::<T>()
                .gather(dev.tensor_from_vec(idx, (b * l * l,)))
                .reshape_like(&(b, l, l))
        });
        match (pos, time) {
            (Some(p), Some(t)) => {
                ctx.flops.elementwise(b * l * l);
                Some(t + p)
            }
            (p, t) => p.or(t),
        }
    }
}
