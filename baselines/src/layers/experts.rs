//! The parts multi-task models share: a softmax gate over experts and the mixture it
//! weighs (MMoE, Ma et al., KDD 2018, Eq. 5-6; PLE's CGC, Tang et al., RecSys 2020,
//! Eq. 2-4; HoME's task gates), and one tower per task.

use dfdx::prelude::*;

use super::mlp::Mlp;
use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Scope, Track};

/// `g(x) = softmax(x W_g)`: one weight per expert, summing to 1. No bias, as in MMoE's
/// Eq. 6; the weight is named `<scope>.weight`.
#[derive(Debug, Clone)]
pub struct Gate {
    pub w: MatId,
    pub inp: usize,
    pub experts: usize,
}

impl Gate {
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, inp: usize, experts: usize) -> Self {
        let init = Init::XavierUniform {
            fan_in: inp,
            fan_out: experts,
        };
        Gate {
            w: s.mat("weight", inp, experts, init),
            inp,
            experts,
        }
    }

    /// `(n, experts)` weights, rows summing to 1.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let n = x.shape().0;
        ctx.flops.matmul(n, self.inp, self.experts);
        ctx.flops.softmax(n, self.experts);
        x.matmul(store.mat(self.w).retaped::<T>())
            .softmax::<Axis<1>>()
    }
}

/// `Σ_e g_e f_e` for each gate: the experts' outputs (each `(n, h)`) weighed by each
/// gate's `(n, E)` weights, one `(n, h)` mixture per gate. The experts are stacked once;
/// the last mixture carries their tape, the others read retaped copies, so gradients
/// of every mixture reach the experts.
pub fn mixtures<D: Dev, T: Track<D>>(
    experts: Vec<Mat<D, T>>,
    gates: Vec<Mat<D, T>>,
    ctx: &mut Ctx<D>,
) -> Vec<Mat<D, T>> {
    let e = experts.len();
    assert!(e > 0, "a mixture needs at least one expert");
    let (n, h) = *experts[0].shape();
    let mut it = experts.into_iter();
    let mut stacked = it.next().expect("one expert");
    for x in it {
        stacked = (stacked, x).concat_along(Axis::<1>);
    }
    if e > 1 {
        ctx.flops.copy(n * e * h);
    }
    let stacked = stacked.reshape_like(&(n, e, h));
    let k = gates.len();
    let mut owner = Some(stacked);
    gates
        .into_iter()
        .enumerate()
        .map(|(i, gate)| {
            assert_eq!(
                gate.shape(),
                &(n, e),
                "gate width must equal the expert count"
            );
            let x = if i + 1 == k {
                owner.take().expect("the stack is used last here")
            } else {
                owner
                    .as_ref()
                    .expect("the stack is still held")
                    .retaped::<T>()
            };
            ctx.flops.elementwise(n * e * h);
            ctx.flops.reduce(n * e * h);
            let weights = gate.broadcast_like::<_, Axis<2>>(&(n, e, h));
            (x * weights).sum::<(usize, usize), Axis<1>>()
        })
        .collect()
}

/// One MLP tower per task, each ending in one logit.
#[derive(Debug, Clone)]
pub struct Towers {
    pub towers: Vec<Mlp>,
}

impl Towers {
    /// Towers named `<scope>.<t>`, each `Mlp(inp, hidden, 1)`.
    pub fn new<D: Dev>(s: &mut Scope<'_, D>, tasks: usize, inp: usize, hidden: &[usize]) -> Self {
        Towers {
            towers: (0..tasks)
                .map(|t| Mlp::new(&mut s.pp(t), inp, hidden, Some(1)))
                .collect(),
        }
    }

    /// `(n, tasks)` logits; tower `t` reads `inputs[t]`.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        inputs: Vec<Mat<D, T>>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        assert_eq!(inputs.len(), self.towers.len(), "one input per tower");
        let mut logits: Option<Mat<D, T>> = None;
        for (tower, x) in self.towers.iter().zip(inputs) {
            let z = tower.forward(store, x, ctx);
            logits = Some(match logits {
                None => z,
                Some(acc) => (acc, z).concat_along(Axis::<1>),
            });
        }
        let out = logits.expect("at least one task");
        let (n, t) = *out.shape();
        if t > 1 {
            ctx.flops.copy(n * t);
        }
        out
    }
}

/// `n` uses of `x`: `n - 1` retaped copies, then `x` itself (carrying its tape), so
/// gradients of every use reach what `x` came from.
pub fn fan_out<D: Dev, T: Track<D>>(x: Mat<D, T>, n: usize) -> Vec<Mat<D, T>> {
    assert!(n > 0, "a fan-out of no uses");
    let mut out: Vec<Mat<D, T>> = (1..n).map(|_| x.retaped::<T>()).collect();
    out.push(x);
    out
}

/// `Σ_e g_e f_e` of one gate over its own experts (each `(n, h)`, consumed).
pub fn mix<D: Dev, T: Track<D>>(
    experts: Vec<Mat<D, T>>,
    gate: Mat<D, T>,
    ctx: &mut Ctx<D>,
) -> Mat<D, T> {
    mixtures(experts, vec![gate], ctx)
        .pop()
        .expect("one mixture per gate")
}
