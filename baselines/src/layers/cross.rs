//! DCN-V2 cross layer (Wang et al., arXiv 2008.13535, Eq. 1):
//! `x_{l+1} = x_0 ⊙ (x_l W_l + b_l) + x_l`, with a full-rank `W_l` of shape (d, d).

use dfdx::prelude::*;

use super::linear::Linear;
use crate::engine::{Ctx, Dev, Mat, ParamStore, Scope, Track};

#[derive(Debug, Clone)]
pub struct CrossNet {
    pub layers: Vec<Linear>,
}

impl CrossNet {
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, width: usize, depth: usize) -> Self {
        CrossNet {
            layers: (0..depth)
                .map(|i| Linear::new(&mut s.pp(i), width, width))
                .collect(),
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x0: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        // x0 and x_l are each used twice; split off the tape and reuse the tape-less
        // values (same tensor ids), so their gradients accumulate in one place.
        let (x0, tape) = x0.split_tape();
        let mut xl = x0.clone().put_tape(tape);
        for layer in &self.layers {
            let (xl_value, tape) = xl.split_tape();
            let h = layer.forward(store, xl_value.clone().put_tape(tape), ctx);
            ctx.flops.elementwise(2 * h.shape().num_elements());
            xl = h * x0.clone() + xl_value;
        }
        xl
    }
}
