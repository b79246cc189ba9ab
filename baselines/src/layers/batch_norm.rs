//! Batch normalization over the batch axis of a `(rows, dim)` matrix (Ioffe & Szegedy,
//! ICML 2015, Alg. 1-2), as HoME's experts use it (`Swish(BN(Wx + b))`):
//!
//! - training: `y = (x - mu_B) / sqrt(var_B + eps) * g + b` with the batch's mean and
//!   (biased) variance per column, and the running statistics move towards the batch's:
//!   `r <- (1 - m) r + m s_B`, the running variance with the unbiased `var_B n / (n-1)`
//!   (PyTorch's convention);
//! - evaluation: the same with the running mean and variance, so an example's output
//!   does not depend on the rest of its batch (a training batch of one row, whose
//!   variance is undefined, is normalized so too, without updating them).
//!
//! The running statistics are buffers (`engine::BufferId`): the training step stores
//! them after its update, checkpoints and best-epoch snapshots keep them.

use dfdx::prelude::*;

use crate::engine::{BufferId, Ctx, Dev, Init, Mat, ParamStore, Scope, Track, VecId};

pub const BN_EPS: f32 = 1e-5;
/// Weight `m` of the batch's statistics in the running ones.
pub const BN_MOMENTUM: f32 = 0.1;

#[derive(Debug, Clone)]
pub struct BatchNorm {
    pub gamma: VecId,
    pub beta: VecId,
    pub running_mean: BufferId,
    pub running_var: BufferId,
    pub dim: usize,
}

impl BatchNorm {
    /// `<scope>.weight` (1), `<scope>.bias` (0) and the buffers `<scope>.running_mean`
    /// (0) and `<scope>.running_var` (1).
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, dim: usize) -> Self {
        BatchNorm {
            gamma: s.vec("weight", dim, Init::Constant(1.0)),
            beta: s.vec("bias", dim, Init::Zeros),
            running_mean: s.buffer("running_mean", dim, 0.0),
            running_var: s.buffer("running_var", dim, 1.0),
            dim,
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (n, c) = *x.shape();
        assert_eq!(c, self.dim, "batch norm: input width");
        let g = store
            .vec(self.gamma)
            .retaped::<T>()
            .broadcast_like::<_, Axis<0>>(&(n, c));
        let b = store
            .vec(self.beta)
            .retaped::<T>()
            .broadcast_like::<_, Axis<0>>(&(n, c));
        // Evaluation, and a training batch of one row (its variance is undefined; the
        // last chunk of an epoch can be that small): the running statistics, no update.
        if !ctx.is_training() || n == 1 {
            // (x - r_mean) / sqrt(r_var + eps), then scale and shift: 4 ops a value.
            ctx.flops.elementwise(4 * n * c);
            let mean = store
                .buffer(self.running_mean)
                .clone()
                .broadcast_like::<_, Axis<0>>(&(n, c));
            let inv = (store.buffer(self.running_var).clone() + BN_EPS)
                .sqrt()
                .recip();
            let inv = inv.broadcast_like::<_, Axis<0>>(&(n, c));
            return (x - mean) * inv * g + b;
        }
        ctx.flops.layer_norm(n, c);
        let mean: Tensor<(usize,), f32, D, T> = x.retaped::<T>().mean::<(usize,), Axis<0>>();
        let bm = mean.retaped::<NoneTape>();
        let centered = x - mean.broadcast_like::<_, Axis<0>>(&(n, c));
        let var: Tensor<(usize,), f32, D, T> =
            centered.retaped::<T>().square().mean::<(usize,), Axis<0>>();
        // The running statistics move towards this batch's (no tape).
        let bv = var.retaped::<NoneTape>() * (n as f32 / (n - 1) as f32);
        let m = BN_MOMENTUM;
        let rm = store.buffer(self.running_mean).clone() * (1.0 - m) + bm * m;
        let rv = store.buffer(self.running_var).clone() * (1.0 - m) + bv * m;
        ctx.update_buffer(self.running_mean, rm);
        ctx.update_buffer(self.running_var, rv);
        let inv = (var + BN_EPS)
            .sqrt()
            .recip()
            .broadcast_like::<_, Axis<0>>(&(n, c));
        centered * inv * g + b
    }
}
