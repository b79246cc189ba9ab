//! Affine layer: `y = x W + b`, with `W` of shape (in, out) and `b` of length out.

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Scope, Track, VecId};

#[derive(Debug, Clone)]
pub struct Linear {
    pub w: MatId,
    pub b: VecId,
    pub inp: usize,
    pub out: usize,
}

impl Linear {
    /// Xavier-uniform weights and zero bias, named `<scope>.weight` and `<scope>.bias`.
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, inp: usize, out: usize) -> Self {
        Linear {
            w: s.mat(
                "weight",
                inp,
                out,
                Init::XavierUniform {
                    fan_in: inp,
                    fan_out: out,
                },
            ),
            b: s.vec("bias", out, Init::Zeros),
            inp,
            out,
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let n = x.shape().0;
        assert_eq!(x.shape().1, self.inp, "linear: input width");
        ctx.flops.matmul(n, self.inp, self.out);
        ctx.flops.elementwise(n * self.out);
        let w = store.mat(self.w).retaped::<T>();
        let b = store.vec(self.b).retaped::<T>();
        x.matmul(w) + b.broadcast_like::<_, Axis<0>>(&(n, self.out))
    }
}
