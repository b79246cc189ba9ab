//! Normalizations over the last axis of a `(rows, dim)` matrix:
//! layer norm `y = (x - mean(x)) / sqrt(var(x) + eps) * g + b` (Ba et al., 2016) and
//! RMS norm `y = x / sqrt(mean(x^2) + eps) * g` (Zhang & Sennrich, 2019, as in Llama).

use dfdx::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Dev, Init, Mat, ParamStore, Scope, Track, VecId};

/// Which normalization a transformer block uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    LayerNorm,
    RmsNorm,
}

pub const NORM_EPS: f32 = 1e-6;

/// A normalization with a learned scale `<scope>.weight` (and shift `<scope>.bias` for
/// layer norm).
#[derive(Debug, Clone)]
pub struct Norm {
    pub kind: NormKind,
    pub gamma: VecId,
    pub beta: Option<VecId>,
    pub dim: usize,
}

impl Norm {
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, kind: NormKind, dim: usize) -> Self {
        Norm {
            kind,
            gamma: s.vec("weight", dim, Init::Constant(1.0)),
            beta: (kind == NormKind::LayerNorm).then(|| s.vec("bias", dim, Init::Zeros)),
            dim,
        }
    }

    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let shape = *x.shape();
        assert_eq!(shape.1, self.dim, "norm: input width");
        let g = store
            .vec(self.gamma)
            .retaped::<T>()
            .broadcast_like::<_, Axis<0>>(&shape);
        match self.beta {
            Some(beta) => {
                ctx.flops.layer_norm(shape.0, shape.1);
                let b = store
                    .vec(beta)
                    .retaped::<T>()
                    .broadcast_like::<_, Axis<0>>(&shape);
                x.normalize::<Axis<1>>(NORM_EPS) * g + b
            }
            None => {
                ctx.flops.rms_norm(shape.0, shape.1);
                let rms = (x.retaped::<T>().square().mean::<(usize,), Axis<1>>() + NORM_EPS)
                    .sqrt()
                    .broadcast_like::<_, Axis<1>>(&shape);
                x / rms * g
            }
        }
    }
}
