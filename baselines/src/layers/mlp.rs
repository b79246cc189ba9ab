//! Multi-layer perceptron: `h_{k+1} = ReLU(h_k W_k + b_k)` for each hidden width, then
//! an optional linear output layer without activation.

use dfdx::prelude::*;

use super::linear::Linear;
use crate::engine::{Ctx, Dev, Mat, ParamStore, Scope, Track};

#[derive(Debug, Clone)]
pub struct Mlp {
    pub hidden: Vec<Linear>,
    pub output: Option<Linear>,
}

impl Mlp {
    /// Layers are named `<scope>.0`, `<scope>.1`, ... and `<scope>.out`.
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        inp: usize,
        hidden: &[usize],
        out: Option<usize>,
    ) -> Self {
        let mut width = inp;
        let mut layers = Vec::new();
        for (i, &h) in hidden.iter().enumerate() {
            layers.push(Linear::new(&mut s.pp(i), width, h));
            width = h;
        }
        Mlp {
            hidden: layers,
            output: out.map(|o| Linear::new(&mut s.pp("out"), width, o)),
        }
    }

    pub fn out_width(&self, inp: usize) -> usize {
        self.output
            .as_ref()
            .map(|l| l.out)
            .or_else(|| self.hidden.last().map(|l| l.out))
            .unwrap_or(inp)
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        mut x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        for layer in &self.hidden {
            x = layer.forward(store, x, ctx);
            ctx.flops.activation(x.shape().num_elements());
            x = x.relu();
        }
        match &self.output {
            Some(out) => out.forward(store, x, ctx),
            None => x,
        }
    }
}
