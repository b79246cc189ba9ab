//! AMTL: the adaptively-masked twins layer (Yang et al., "Learning Effective and
//! Efficient Embedding via an Adaptively-Masked Twins-based Layer", CIKM 2021,
//! arXiv 2108.11513, Sec. 3). For every id `v` of a field it chooses how many of the
//! `d` embedding dimensions to keep, from the id's training frequency:
//!
//! - frequency attributes `s_v = [ln(1 + c_v), 1 - r_v / V_f]` (`c_v`: training count,
//!   `r_v`: frequency rank in the field, 0 = most frequent, `V_f`: vocabulary);
//! - two unshared MLPs (the twins) `hAML`, `lAML`: `2 -> hidden -> ReLU -> d`;
//! - `o_v = α_v hAML(s_v) + (1 - α_v) lAML(s_v)`, `α_v = c_v / max_f c` (the normalised
//!   frequency, so frequent ids lean on hAML and rare ones on lAML);
//! - `t_v = softmax(o_v / T)` over the widths `k = 1..d`;
//! - straight-through: `t̂ = t + sg(onehot(argmax t) - t)` (forward: the one-hot;
//!   backward: the softmax's gradient);
//! - mask `m = t̂ U` with `U[k][j] = 1` for `j <= k` (upper-triangular `Triu` in the
//!   paper's row convention), so `m_j = Σ_{k >= j} t̂_k`: the first `k_v` values are 1;
//! - output `ê_v = m_v ⊙ e_v`.
//!
//! Simplifications: the temperature `T` is fixed (config `temperature`, default 1.0)
//! because the training loop does not tell models the epoch, so the paper's annealing
//! from 1 to 0.1 is not done; no warm start (the layer trains jointly from scratch with
//! the host model); the attributes are the two named in the paper (count and rank),
//! with the count log-scaled. Because the mask depends only on `s_v`, a server can
//! precompute every id's width and store only its first `k_v` values:
//! [`AmtlLayer::used_values`]. The FLOP counter counts what the forward here runs
//! (both AMLs on every lookup), not that precomputed serving path.

use dfdx::prelude::*;

use super::frequency;
use super::mlp::Mlp;
use crate::engine::{Ctx, Dev, Mat, ParamStore, Scope, Track};
use crate::FeatureSpec;

#[derive(Debug, Clone)]
pub struct AmtlLayer {
    pub dim: usize,
    pub h_aml: Mlp,
    pub l_aml: Mlp,
    pub temperature: f32,
    /// Ablation/test hook: every id keeps exactly this many dimensions (a constant
    /// mask; the AMLs are not run). `Some(dim)` is the plain embedding.
    pub force_width: Option<usize>,
    /// `s_v` per table row (`offset_f + id`, the full layout).
    attrs: Vec<[f32; 2]>,
    /// `α_v` per table row.
    alpha: Vec<f32>,
}

impl AmtlLayer {
    /// Panics without training frequencies in `spec` (the registry checks first).
    pub fn new<D: Dev>(
        s: &mut Scope<'_, D>,
        spec: &FeatureSpec,
        dim: usize,
        hidden: usize,
        temperature: f32,
        force_width: Option<usize>,
    ) -> Self {
        let freq = frequency::require(spec, "amtl").unwrap_or_else(|e| panic!("{e}"));
        let mut attrs = Vec::new();
        let mut alpha = Vec::new();
        for counts in freq {
            let v = counts.len().max(1) as f32;
            let max = counts.iter().copied().max().unwrap_or(0).max(1) as f32;
            for (&c, r) in counts.iter().zip(frequency::ranks(counts)) {
                attrs.push([(c as f32).ln_1p(), 1.0 - r as f32 / v]);
                alpha.push(c as f32 / max);
            }
        }
        AmtlLayer {
            dim,
            h_aml: Mlp::new(&mut s.pp("h_aml"), 2, &[hidden], Some(dim)),
            l_aml: Mlp::new(&mut s.pp("l_aml"), 2, &[hidden], Some(dim)),
            temperature,
            force_width,
            attrs,
            alpha,
        }
    }

    /// `o_v / T` for table rows `rows`, `(rows.len(), d)`.
    fn scores<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        rows: &[u32],
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (n, d) = (rows.len(), self.dim);
        let dev = store.dev();
        let s: Vec<f32> = rows.iter().flat_map(|&r| self.attrs[r as usize]).collect();
        let s: Mat<D> = dev.tensor_from_vec(s, (n, 2));
        let h = self.h_aml.forward(store, s.retaped::<T>(), ctx);
        let l = self.l_aml.forward(store, s.retaped::<T>(), ctx);
        let mut a = Vec::with_capacity(n * d);
        let mut b = Vec::with_capacity(n * d);
        for &r in rows {
            let al = self.alpha[r as usize];
            a.extend(std::iter::repeat_n(al, d));
            b.extend(std::iter::repeat_n(1.0 - al, d));
        }
        let a: Mat<D> = dev.tensor_from_vec(a, (n, d));
        let b: Mat<D> = dev.tensor_from_vec(b, (n, d));
        // α ⊙ h, (1 - α) ⊙ l, their sum, and the 1/T scale.
        ctx.flops.elementwise(4 * n * d);
        (h * a + l * b) * (1.0 / self.temperature)
    }

    /// Index of the first maximum of each row of `t` (`n x d`, row-major).
    fn argmax(t: &[f32], d: usize) -> Vec<usize> {
        t.chunks_exact(d)
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (j, &x)| {
                        if x > best.1 {
                            (j, x)
                        } else {
                            best
                        }
                    })
                    .0
            })
            .collect()
    }

    /// `ê = m ⊙ e` for embeddings `e` `(rows.len(), d)` of table rows `rows`.
    pub fn forward<D: Dev, T: Track<D>>(
        &self,
        store: &ParamStore<D>,
        e: Mat<D, T>,
        rows: &[u32],
        ctx: &mut Ctx<D>,
    ) -> Mat<D, T> {
        let (n, d) = (rows.len(), self.dim);
        assert_eq!(e.shape(), &(n, d), "amtl: embedding shape");
        let dev = store.dev();
        if let Some(k) = self.force_width {
            let mask: Vec<f32> = (0..n * d)
                .map(|i| if i % d < k { 1.0 } else { 0.0 })
                .collect();
            ctx.flops.elementwise(n * d);
            return e * dev.tensor_from_vec(mask, (n, d));
        }
        let o = self.scores::<D, T>(store, rows, ctx);
        ctx.flops.softmax(n, d);
        let t = o.softmax::<Axis<1>>();
        // sg(onehot(argmax t) - t): a constant added to t.
        let mut delta = t.retaped::<NoneTape>().as_vec();
        for (i, j) in Self::argmax(&delta, d).into_iter().enumerate() {
            for (c, x) in delta[i * d..(i + 1) * d].iter_mut().enumerate() {
                *x = if c == j { 1.0 } else { 0.0 } - *x;
            }
        }
        ctx.flops.elementwise(n * d);
        let t_hat = t + dev.tensor_from_vec(delta, (n, d));
        // m = t̂ U, U[k][j] = 1 for j <= k.
        let u: Vec<f32> = (0..d * d)
            .map(|i| if i % d <= i / d { 1.0 } else { 0.0 })
            .collect();
        let u: Mat<D> = dev.tensor_from_vec(u, (d, d));
        ctx.flops.matmul(n, d, d);
        let m = t_hat.matmul(u.retaped::<T>());
        ctx.flops.elementwise(n * d);
        e * m
    }

    /// The width `k_v = 1 + argmax t_v` of every table row under the current AMLs.
    pub fn widths<D: Dev>(&self, store: &ParamStore<D>) -> Vec<u32> {
        let n = self.attrs.len() as u32;
        if let Some(k) = self.force_width {
            return vec![k as u32; n as usize];
        }
        // In chunks, so a table of millions of ids never holds all AML activations.
        let mut widths = Vec::with_capacity(n as usize);
        let mut ctx = Ctx::default();
        for lo in (0..n).step_by(1 << 16) {
            let rows: Vec<u32> = (lo..n.min(lo + (1 << 16))).collect();
            let o = self.scores::<D, NoneTape>(store, &rows, &mut ctx).as_vec();
            widths.extend(Self::argmax(&o, self.dim).into_iter().map(|j| j as u32 + 1));
        }
        widths
    }

    /// Serving memory in embedding values, `Σ_v k_v` over every id of every field
    /// (the masked trailing values dropped), to compare with `Σ_v d` of the full table.
    pub fn used_values<D: Dev>(&self, store: &ParamStore<D>) -> u64 {
        self.widths(store).iter().map(|&k| k as u64).sum()
    }
}
