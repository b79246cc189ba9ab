//! A transformer block over `(batch * len, dim)` sequences, pre-norm by default:
//!
//! `h = x + Dropout(Attn(N1(x)))`, `y = h + Dropout(FFN(N2(h)))`,
//!
//! with `Attn` multi-head softmax attention under an [`AttnMask`] (queries, keys and
//! values all from `N1(x)`, as SASRec's `g(x) = x + Dropout(g(LayerNorm(x)))`, Kang &
//! McAuley, arXiv 1808.09781, Sec. III-C). [`Residual::NormalizedQueries`] is the form
//! of the SASRec authors' code instead: `a = N1(x)`, `h = a + Dropout(Attn(q = a,
//! k = v = x))`, `f = N2(h)`, `y = f + Dropout(FFN(f))`. An optional output
//! projection follows the heads, and `FFN` is
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

/// Where the residual stream and the attention's keys and values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Residual {
    /// `h = x + Attn(N1(x))`, `y = h + FFN(N2(h))`: SASRec's paper (Sec. III-C).
    #[default]
    PreNorm,
    /// `a = N1(x)`, `h = a + Attn(q = a, k = v = x)`, `f = N2(h)`, `y = f + FFN(f)`:
    /// the SASRec authors' TensorFlow code and its PyTorch ports (pmixer, and
    /// Klenitskiy & Vasilev's), where keys and values see the un-normalised input.
    NormalizedQueries,
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
    pub residual: Residual,
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
        // `kv` feeds keys and values; `stream` is what the attention output is added to.
        let (kv, stream) = match self.cfg.residual {
            Residual::PreNorm => (a, x),
            Residual::NormalizedQueries => (x, a),
        };
        let k = self.k.forward(store, kv.retaped::<T>(), ctx);
        let v = self.v.forward(store, kv, ctx);
        let mut att = softmax_attention(q, k, v, self.cfg.heads, mask, ctx);
        if let Some(out) = &self.out {
            att = out.forward(store, att, ctx);
        }
        ctx.flops.elementwise(n * d);
        let h = stream + dropout(att, self.cfg.dropout, ctx);
        // `f` feeds the FFN and `h` is what its output is added to; the copy without
        // the tape goes where the other carries it.
        let (f, h) = match self.cfg.residual {
            Residual::PreNorm => (self.norm2.forward(store, h.retaped::<T>(), ctx), h),
            Residual::NormalizedQueries => {
                let f = self.norm2.forward(store, h, ctx);
                (f.retaped::<T>(), f)
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Ctx, ParamStore};
    use crate::Cpu;

    /// A one-head ReLU block of width `d` without dropout.
    fn config(d: usize, residual: Residual, out_proj: bool) -> BlockConfig {
        BlockConfig {
            dim: d,
            heads: 1,
            ffn_hidden: d,
            ffn: FfnKind::Relu,
            norm: NormKind::LayerNorm,
            out_proj,
            dropout: 0.0,
            residual,
        }
    }

    /// Outputs of a one-block causal run over one sequence of `rows` (each `d` wide).
    fn run(residual: Residual, rows: &[f32], d: usize) -> Vec<f32> {
        let mut store = ParamStore::new(Cpu::default(), 11);
        let cfg = config(d, residual, true);
        let block = TransformerBlock::new(&mut store.scope("b"), cfg);
        let len = rows.len() / d;
        let mask = AttnMask::causal(&vec![true; len], 1, len);
        let x = store.dev().tensor_from_vec(rows.to_vec(), (len, d));
        let mut ctx = Ctx::<Cpu>::default();
        block.forward(&store, x, &mask, &mut ctx).as_vec()
    }

    /// Layer norm cannot tell `x_0` from `3 x_0`. Under pre-norm, later positions read
    /// `x_0` only through `N1(x_0)`, so scaling it leaves them unchanged; in the authors'
    /// form they read `x_0` itself as a key and value, so they change.
    #[test]
    fn keys_and_values_come_from_the_input_only_in_the_authors_form() {
        let d = 4;
        let x: Vec<f32> = (0..3 * d)
            .map(|i| ((i * 5 % 7) as f32 - 3.0) / 3.0)
            .collect();
        let mut scaled = x.clone();
        scaled[..d].iter_mut().for_each(|v| *v *= 3.0);
        let later = |v: Vec<f32>| v[d..].to_vec();
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-4);

        let pre = (
            run(Residual::PreNorm, &x, d),
            run(Residual::PreNorm, &scaled, d),
        );
        assert!(close(&later(pre.0.clone()), &later(pre.1.clone())));
        assert!(
            !close(&pre.0[..d], &pre.1[..d]),
            "pre-norm: x_0's own residual"
        );

        let code = (
            run(Residual::NormalizedQueries, &x, d),
            run(Residual::NormalizedQueries, &scaled, d),
        );
        assert!(!close(&later(code.0), &later(code.1)));
    }

    /// In the authors' form the residual stream is normalised: a lone position
    /// whose value projection and FFN output are zero returns `N2(N1(x))`; under
    /// pre-norm it returns `x` itself.
    #[test]
    fn the_authors_form_adds_to_the_normalised_stream() {
        let d = 4;
        let x = vec![2.0, -1.0, 0.5, 3.0];
        let mut store = ParamStore::new(Cpu::default(), 3);
        let mut outputs = |residual| {
            let cfg = config(d, residual, false);
            let mut s = store.scope(if residual == Residual::PreNorm {
                "p"
            } else {
                "c"
            });
            TransformerBlock::new(&mut s, cfg)
        };
        let blocks = [
            outputs(Residual::PreNorm),
            outputs(Residual::NormalizedQueries),
        ];
        // Zero the value projection and the FFN's output layer.
        for block in &blocks {
            let Ffn::Relu { w2, .. } = &block.ffn else {
                unreachable!()
            };
            for lin in [&block.v, w2] {
                store.set_mat(lin.w, vec![0.0; d * d]);
                store.set_vec(lin.b, vec![0.0; d]);
            }
        }
        let mask = AttnMask::causal(&[true], 1, 1);
        let out = |b: &TransformerBlock| {
            let t = store.dev().tensor_from_vec(x.clone(), (1, d));
            b.forward(&store, t, &mask, &mut Ctx::<Cpu>::default())
                .as_vec()
        };
        let norm = |v: &[f32]| {
            let m = v.iter().sum::<f32>() / v.len() as f32;
            let var = v.iter().map(|a| (a - m) * (a - m)).sum::<f32>() / v.len() as f32;
            v.iter()
                .map(|a| (a - m) / (var + super::super::norm::NORM_EPS).sqrt())
                .collect::<Vec<f32>>()
        };
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(p, q)| (p - q).abs() < 1e-3);
        assert!(close(&out(&blocks[0]), &x), "{:?}", out(&blocks[0]));
        let want = norm(&norm(&x));
        assert!(close(&out(&blocks[1]), &want), "{:?}", out(&blocks[1]));
    }
}
