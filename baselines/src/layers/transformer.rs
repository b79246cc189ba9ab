//! A pre-norm transformer block over `(batch * len, dim)` sequences:
//!
//! `h = x + Dropout(Attn(N1(x)))`, `y = h + Dropout(FFN(N2(h)))`,
//!
//! with `Attn` multi-head softmax attention under an [`AttnMask`] (queries, keys and
//! values all from `N1(x)`, as SASRec's `g(x) = x + Dropout(g(LayerNorm(x)))`, Kang &
//! McAuley, arXiv 1808.09781, Sec. III-C), an optional output projection, and `FFN`
//! either `ReLU(x W1 + b1) W2 + b2` (SASRec) or SwiGLU `(SiLU(x Wg) ⊙ x Wu) Wd` (Llama,
//! as KuaiFormer's backbone).

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use super::activation::{dropout, silu};
use super::attention::{softmax_attention, AttnMask};
use super::linear::Linear;
use super::norm::{Norm, NormKind};
use crate::engine::{Ctx, Dev, Mat, ParamStore, Scope, Track};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FfnKind {
    Relu,
    SwiGlu,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlockConfig {
    pub dim: usize,
    pub heads: usize,
    /// Hidden width of the feed-forward network.
    pub ffn_hidden: usize,
    pub ffn: FfnKind,
    pub norm: NormKind,
    /// Output projection `W_o` after the heads are concatenated.
    pub out_proj: bool,
    pub dropout: f32,
}

#[derive(Debug, Clone)]
enum Ffn {
    Relu {
        w1: Linear,
        w2: Linear,
    },
    SwiGlu {
        gate: Linear,
        up: Linear,
        down: Linear,
    },
}

#[derive(Debug, Clone)]
pub struct TransformerBlock {
    pub cfg: BlockConfig,
    norm1: Norm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Option<Linear>,
    norm2: Norm,
    ffn: Ffn,
}

impl TransformerBlock {
    /// Parameters `<scope>.{norm1,q,k,v,out,norm2,ffn.*}`.
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, cfg: BlockConfig) -> Self {
        let d = cfg.dim;
        assert_eq!(d % cfg.heads, 0, "transformer: dim divisible by heads");
        let ffn = match cfg.ffn {
            FfnKind::Relu => Ffn::Relu {
                w1: Linear::new(&mut s.pp("ffn.0"), d, cfg.ffn_hidden),
                w2: Linear::new(&mut s.pp("ffn.1"), cfg.ffn_hidden, d),
            },
            FfnKind::SwiGlu => Ffn::SwiGlu {
                gate: Linear::new(&mut s.pp("ffn.gate"), d, cfg.ffn_hidden),
                up: Linear::new(&mut s.pp("ffn.up"), d, cfg.ffn_hidden),
                down: Linear::new(&mut s.pp("ffn.down"), cfg.ffn_hidden, d),
            },
        };
        TransformerBlock {
            cfg,
            norm1: Norm::new(&mut s.pp("norm1"), cfg.norm, d),
            q: Linear::new(&mut s.pp("q"), d, d),
            k: Linear::new(&mut s.pp("k"), d, d),
            v: Linear::new(&mut s.pp("v"), d, d),
            out: cfg.out_proj.then(|| Linear::new(&mut s.pp("out"), d, d)),
            norm2: Norm::new(&mut s.pp("norm2"), cfg.norm, d),
            ffn,
        }
    }

    /// `x` is `(mask.batch * mask.lq, dim)`; returns the same shape.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        mask: &AttnMask,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let n = x.shape().0;
        let d = self.cfg.dim;
        let a = self.norm1.forward(store, x.retaped::<T>(), ctx);
        let q = self.q.forward(store, a.retaped::<T>(), ctx);
        let k = self.k.forward(store, a.retaped::<T>(), ctx);
        let v = self.v.forward(store, a, ctx);
        let mut att = softmax_attention(q, k, v, self.cfg.heads, mask, ctx);
        if let Some(out) = &self.out {
            att = out.forward(store, att, ctx);
        }
        ctx.flops.elementwise(n * d);
        let h = x + dropout(att, self.cfg.dropout, ctx);
        let f = self.norm2.forward(store, h.retaped::<T>(), ctx);
        let f = match &self.ffn {
            Ffn::Relu { w1, w2 } => {
                let z = w1.forward(store, f, ctx);
                ctx.flops.activation(n * w1.out);
                let z = dropout(z.relu(), self.cfg.dropout, ctx);
                w2.forward(store, z, ctx)
            }
            Ffn::SwiGlu { gate, up, down } => {
                let g = silu(gate.forward(store, f.retaped::<T>(), ctx), ctx);
                let u = up.forward(store, f, ctx);
                ctx.flops.elementwise(n * up.out);
                down.forward(store, g * u, ctx)
            }
        };
        ctx.flops.elementwise(n * d);
        h + dropout(f, self.cfg.dropout, ctx)
    }
}
