//! APG: Adaptive Parameter Generation (Yan et al., "APG: Adaptive Parameter Generation
//! Network for Click-Through Rate Prediction", NeurIPS 2022, arXiv 2203.16218, Sec. 3).
//!
//! A dense layer `y = x W + b` with `W` of shape (N, M) becomes, per instance `i`,
//! `y_i = ((x_i U) S_i) V + b`, with `U` (N, K) and `V` (K, M) shared by all instances
//! and the small `S_i` (K, K) generated from a condition `z_i` by a generator MLP,
//! `S_i = reshape(MLP_gen(z_i))` (Sec. 3.2, "decomposed feed-forward"). With
//! over-parameterisation (Sec. 3.3) `U = U_l U_r` ((N, P), (P, K)) and
//! `V = V_l V_r` ((K, P), (P, M)), `P >= K`; the factors are multiplied out once after
//! training (`ApgLayer::merged`), which changes no output.
//!
//! Cost per instance (FLOPs): generator `2 C G + 2 G K^2` (condition width C, one hidden
//! layer G), then `2 N K + 2 K^2 + 2 K M`, against `2 N M` for the static layer. While
//! training, the factor products `U_l U_r` and `V_l V_r` are formed once per batch
//! (`2 N P K + 2 K P M`, independent of the batch size).

use dfdx::prelude::*;

use super::linear::Linear;
use super::mlp::Mlp;
use crate::engine::{Ctx, Dev, Init, Mat, MatId, ParamStore, Scope, Track, VecId};

/// A shared projection: one matrix, or two factors multiplied out in the forward pass.
#[derive(Debug, Clone)]
pub enum Proj {
    Full(MatId),
    Factored(MatId, MatId),
}

impl Proj {
    fn new<D: Dev>(s: &mut Scope<'_, D>, name: &str, rows: usize, cols: usize, p: usize) -> Self {
        let xavier = |fan_in, fan_out| Init::XavierUniform { fan_in, fan_out };
        if p == 0 {
            Proj::Full(s.mat(name, rows, cols, xavier(rows, cols)))
        } else {
            Proj::Factored(
                s.mat(&format!("{name}_l"), rows, p, xavier(rows, p)),
                s.mat(&format!("{name}_r"), p, cols, xavier(p, cols)),
            )
        }
    }

    /// The (rows, cols) matrix, taped; a factored one costs one matmul per call.
    fn matrix<D: Dev, T: Track<D>>(&self, store: &ParamStore<D>, ctx: &mut Ctx<D>) -> Mat<D, T> {
        match *self {
            Proj::Full(w) => store.mat(w).retaped::<T>(),
            Proj::Factored(l, r) => {
                let (l, r) = (store.mat(l), store.mat(r));
                ctx.flops.matmul(l.shape().0, l.shape().1, r.shape().1);
                l.retaped::<T>().matmul(r.retaped::<T>())
            }
        }
    }

    /// Host copy of the (multiplied-out) matrix, row-major.
    fn host<D: Dev>(&self, store: &ParamStore<D>) -> (Vec<f32>, (usize, usize)) {
        match *self {
            Proj::Full(w) => (store.mat(w).as_vec(), *store.mat(w).shape()),
            Proj::Factored(l, r) => {
                let (l, r) = (store.mat(l), store.mat(r));
                let shape = (l.shape().0, r.shape().1);
                (l.clone().matmul(r.clone()).as_vec(), shape)
            }
        }
    }
}

/// One APG layer `y_i = x_i U S_i V + b`, `S_i = reshape(MLP_gen(z_i))`. No activation.
#[derive(Debug, Clone)]
pub struct ApgLayer {
    pub u: Proj,
    pub v: Proj,
    pub b: VecId,
    /// Condition (width `cond`) -> hidden ReLU layers -> `k * k` (linear output).
    pub generator: Mlp,
    pub inp: usize,
    pub out: usize,
    pub k: usize,
    pub cond: usize,
}

impl ApgLayer {
    /// Parameters `<scope>.u` (or `u_l`, `u_r` when `p > 0`), `v` (`v_l`, `v_r`),
    /// `bias` and `gen.*`. Call `init_identity` once the scope is released, so that
    /// `S_i` starts near the identity.
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        inp: usize,
        out: usize,
        k: usize,
        p: usize,
        cond: usize,
        gen_hidden: &[usize],
    ) -> Self {
        assert!(k > 0, "apg: k must be positive");
        assert!(
            p == 0 || p >= k,
            "apg: over-parameterisation needs p >= k (or p = 0)"
        );
        ApgLayer {
            u: Proj::new(s, "u", inp, k, p),
            v: Proj::new(s, "v", k, out, p),
            b: s.vec("bias", out, Init::Zeros),
            generator: Mlp::new(&mut s.pp("gen"), cond, gen_hidden, Some(k * k)),
            inp,
            out,
            k,
            cond,
        }
    }

    /// The generator's output layer (`-> k * k`).
    pub fn generator_output(&self) -> &Linear {
        self.generator
            .output
            .as_ref()
            .expect("apg generator has an output layer")
    }

    /// Sets the generator's output bias to `vec(I_K)`, so that at initialisation
    /// `S_i = I + (small generated part)` and the layer starts as the low-rank layer
    /// `x U V + b` (a zero bias would make `S_i` and every gradient through it tiny).
    pub fn init_identity<D: Dev>(&self, store: &mut ParamStore<D>) {
        let k = self.k;
        let eye: Vec<f32> = (0..k * k)
            .map(|i| if i / k == i % k { 1.0 } else { 0.0 })
            .collect();
        store.set_vec(self.generator_output().b, eye);
    }

    /// `x` (B, inp), condition `z` (B, cond) -> (B, out).
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        x: Mat<D, T>,
        z: Mat<D, T>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let n = x.shape().0;
        let k = self.k;
        assert_eq!(x.shape().1, self.inp, "apg: input width");
        assert_eq!(*z.shape(), (n, self.cond), "apg: condition shape");
        // S_i = reshape(MLP_gen(z_i)), (B, K, K).
        let s = self.generator.forward(store, z, ctx);
        let s = s.reshape_like(&(n, k, k));
        // h = x U, (B, K).
        let u = self.u.matrix::<D, T>(store, ctx);
        ctx.flops.matmul(n, self.inp, k);
        let h = x.matmul(u);
        // h_i S_i for every instance: a batched (1, K) x (K, K) matmul, 2 K^2 per
        // instance forward and 4 K^2 backward (dh and dS), as `Flops::matmul(B, K, K)`.
        ctx.flops.matmul(n, k, k);
        let hs = h.reshape_like(&(n, 1, k)).matmul(s).reshape_like(&(n, k));
        // y = (h S) V + b.
        let v = self.v.matrix::<D, T>(store, ctx);
        ctx.flops.matmul(n, k, self.out);
        ctx.flops.elementwise(n * self.out);
        let b = store.vec(self.b).retaped::<T>();
        hs.matmul(v) + b.broadcast_like::<_, Axis<0>>(&(n, self.out))
    }

    /// The same layer with the over-parameterised factors multiplied out
    /// (`U = U_l U_r`, `V = V_l V_r`, stored under `<scope>.u` and `<scope>.v`); the
    /// bias and generator are shared with `self`. Outputs are unchanged up to rounding.
    pub fn merged<D: Dev>(&self, store: &mut ParamStore<D>, scope: &str) -> ApgLayer {
        let (u, us) = self.u.host(store);
        let (v, vs) = self.v.host(store);
        let mut s = store.scope(scope);
        let uid = s.mat("u", us.0, us.1, Init::Zeros);
        let vid = s.mat("v", vs.0, vs.1, Init::Zeros);
        store.set_mat(uid, u);
        store.set_mat(vid, v);
        ApgLayer {
            u: Proj::Full(uid),
            v: Proj::Full(vid),
            ..self.clone()
        }
    }
}

/// Where an APG MLP's condition comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApgCondition {
    /// Self-wise: each layer's own input.
    SelfInput,
    /// Group-/mix-wise: one external condition vector (B, width) shared by every layer.
    External(usize),
}

/// An MLP whose hidden layers are APG layers (each followed by ReLU), then an optional
/// static linear output layer.
#[derive(Debug, Clone)]
pub struct ApgMlp {
    pub layers: Vec<ApgLayer>,
    pub output: Option<Linear>,
}

/// Sizes of an APG MLP.
#[derive(Debug, Clone)]
pub struct ApgDims<'a> {
    pub hidden: &'a [usize],
    pub k: usize,
    pub p: usize,
    pub gen_hidden: &'a [usize],
    pub condition: ApgCondition,
}

impl ApgMlp {
    /// Layers `<scope>.0`, `<scope>.1`, ... and `<scope>.out`. Call `init_identity`
    /// once the scope is released.
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        inp: usize,
        dims: &ApgDims<'_>,
        out: Option<usize>,
    ) -> Self {
        let mut width = inp;
        let mut layers = Vec::new();
        for (i, &h) in dims.hidden.iter().enumerate() {
            let cond = match dims.condition {
                ApgCondition::SelfInput => width,
                ApgCondition::External(c) => c,
            };
            layers.push(ApgLayer::new(
                &mut s.pp(i),
                width,
                h,
                dims.k,
                dims.p,
                cond,
                dims.gen_hidden,
            ));
            width = h;
        }
        ApgMlp {
            layers,
            output: out.map(|o| Linear::new(&mut s.pp("out"), width, o)),
        }
    }

    pub fn init_identity<D: Dev>(&self, store: &mut ParamStore<D>) {
        for l in &self.layers {
            l.init_identity(store);
        }
    }

    /// The same MLP with every layer's factors multiplied out (see `ApgLayer::merged`).
    pub fn merged<D: Dev>(&self, store: &mut ParamStore<D>, scope: &str) -> ApgMlp {
        ApgMlp {
            layers: self
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| l.merged(store, &format!("{scope}.{i}")))
                .collect(),
            output: self.output.clone(),
        }
    }

    /// `x` (B, inp); `cond` the external condition (B, width), or `None` for self-wise.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        mut x: Mat<D, T>,
        cond: Option<Mat<D, T>>,
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        // A tensor used by several ops keeps its tape on one use; the others are the
        // same tensor (same id) without a tape, so gradients accumulate in one place.
        let (zv, mut ztape) = match cond {
            Some(z) => {
                let (v, t) = z.split_tape();
                (Some(v), Some(t))
            }
            None => (None, None),
        };
        for layer in &self.layers {
            let (xv, xt) = x.split_tape();
            let z = match &zv {
                Some(zv) => match ztape.take() {
                    Some(t) => zv.clone().put_tape(t),
                    None => zv.retaped::<T>(),
                },
                None => xv.retaped::<T>(),
            };
            x = layer.forward(store, xv.put_tape(xt), z, ctx);
            ctx.flops.activation(x.shape().num_elements());
            x = x.relu();
        }
        match &self.output {
            Some(out) => out.forward(store, x, ctx),
            None => x,
        }
    }
}
