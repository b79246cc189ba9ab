//! PReLU (He et al., 2015) and an MLP built from it: DIN's activation (Zhou et al.,
//! arXiv 1706.06978, Sec. 5.2: `f(s) = s` for `s > 0`, `α s` otherwise, with a learned
//! `α` per unit; Dice is the variant whose rectification point follows batch
//! statistics). Written `relu(s) + α ⊙ (s - relu(s))`, so every op is one dfdx op.

use dfdx::prelude::*;

use super::linear::Linear;
use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, Track, VecId};

/// He et al.'s initial slope.
pub const PRELU_INIT: f32 = 0.25;

/// A learned slope per unit, `<scope>.alpha`.
#[derive(Debug, Clone)]
pub struct Prelu {
    pub alpha: VecId,
    pub width: usize,
}

impl Prelu {
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, width: usize) -> Self {
        Prelu {
            alpha: s.vec("alpha", width, Init::Constant(PRELU_INIT)),
            width,
        }
    }

    /// One activation (the ReLU) and three elementwise ops (difference, slope, sum).
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        s: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let shape = *s.shape();
        assert_eq!(shape.1, self.width, "prelu: input width");
        let n = shape.0 * shape.1;
        ctx.flops.activation(n);
        ctx.flops.elementwise(3 * n);
        let positive = s.retaped::<T>().relu();
        let negative = s - positive.retaped::<T>();
        let alpha = store
            .vec(self.alpha)
            .retaped::<T>()
            .broadcast_like::<_, Axis<0>>(&shape);
        positive + alpha * negative
    }
}

/// `h_{k+1} = PReLU(h_k W_k + b_k)` for each hidden width, then a linear output layer.
#[derive(Debug, Clone)]
pub struct PreluMlp {
    pub hidden: Vec<(Linear, Prelu)>,
    pub output: Linear,
}

impl PreluMlp {
    /// Layers `<scope>.0`, `<scope>.0.prelu`, ... and `<scope>.out`.
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, inp: usize, hidden: &[usize], out: usize) -> Self {
        let mut width = inp;
        let mut layers = Vec::new();
        for (i, &h) in hidden.iter().enumerate() {
            let mut s = s.pp(i);
            layers.push((
                Linear::new(&mut s, width, h),
                Prelu::new(&mut s.pp("prelu"), h),
            ));
            width = h;
        }
        PreluMlp {
            hidden: layers,
            output: Linear::new(&mut s.pp("out"), width, out),
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        mut x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        for (linear, prelu) in &self.hidden {
            x = linear.forward(store, x, ctx);
            x = prelu.forward(store, x, ctx);
        }
        self.output.forward(store, x, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;

    #[test]
    fn prelu_keeps_positives_and_scales_negatives_by_alpha() {
        let mut store = ParamStore::new(Cpu::default(), 0);
        let p = Prelu::new(&mut store.scope("p"), 2);
        store.set_vec(p.alpha, vec![0.5, -2.0]);
        let x = store
            .dev()
            .tensor_from_vec(vec![3.0, 3.0, -4.0, -4.0, 0.0, -1.0], (3, 2));
        let mut ctx = Ctx::default();
        let y = p.forward::<Cpu, NoneTape>(&store, x, &mut ctx).as_vec();
        assert_eq!(y, vec![3.0, 3.0, -2.0, 8.0, 0.0, 2.0]);
        assert_eq!(ctx.flops.forward_total(), 6 + 3 * 6);
    }
}
