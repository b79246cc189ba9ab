//! Elementwise pieces with their FLOP accounting: SiLU `x * sigmoid(x)` (HSTU's φ,
//! Llama's SwiGLU gate) and inverted dropout (active only under a tape).

use dfdx::prelude::*;

use crate::engine::{Ctx, Dev, Track};

/// `x * sigmoid(x)`: a sigmoid (activation) and a product (elementwise).
pub fn silu<S: Shape, D: Dev, T: Track<D>>(
    x: Tensor<S, f32, D, T>,
    ctx: &mut Ctx<D>,
) -> Tensor<S, f32, D, T> {
    let e = x.shape().num_elements();
    ctx.flops.activation(e);
    ctx.flops.elementwise(e);
    x.retaped::<T>().sigmoid() * x
}

/// Inverted dropout with drop probability `p` when training (one elementwise op: the
/// mask product); the identity at evaluation or when `p == 0`.
pub fn dropout<S: Shape, D: Dev, T: Track<D>>(
    x: Tensor<S, f32, D, T>,
    p: f32,
    ctx: &mut Ctx<D>,
) -> Tensor<S, f32, D, T> {
    if p <= 0.0 || !ctx.is_training() {
        return x;
    }
    ctx.flops.elementwise(x.shape().num_elements());
    x.dropout(p)
}
