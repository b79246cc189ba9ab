//! FLOP counter. Each layer adds what it actually ran for the batch shape, by kind, so a
//! model's FLOPs/example is the sum of its ops rather than a guess from its parameter
//! count (thop-style hooks only see `nn.Linear`/`nn.Conv` and miss attention products,
//! softmax, normalizations and embedding work).
//!
//! Three phases are kept apart, each broken down by kind:
//! - `forward`: the ops of the forward pass (plus the loss when training);
//! - `backward`: the ops autodiff runs for them, counted per op (not assumed 2x forward),
//!   recorded only when the forward ran under a tape (`Ctx` in training mode);
//! - `optimizer`: the parameter updates (dense Adam and the sparse row updates).
//!
//! # Conventions (FLOPs; one multiply-add = 2)
//!
//! | op | forward | backward |
//! |----|---------|----------|
//! | matmul `x[n,k] @ w[k,m]` (`matmul`) | `2nkm` | `4nkm`: `dX = dY W^T` and `dW = X^T dY`, `2nkm` each |
//! | binary elementwise (`elementwise`: add, mul, bias add, residual) | 1 / output element | 2 / output element: one to form or accumulate each input's gradient (a broadcast bias's gradient is the batch sum of `dY`: the same count) |
//! | activation (`activation`: ReLU, sigmoid, ...) | 1 / element | 1 / element (`dY ⊙ f'(x)`, the derivative read from saved values) |
//! | reduction (`reduce`: sum over an axis) | 1 / input element | 1 / input element (broadcast of `dY` accumulated into the input's gradient) |
//! | copy (`copy`: concatenation) | 1 / copied element | 1 / copied element (gradient split back) |
//! | embedding gather (`gather`) | 1 / copied value (`rows * dim`) | 1 / value: the scatter-add of per-lookup gradients into per-row sums (`rows * dim`) |
//! | softmax over `len` (`softmax`) | 5 / element (max, sub, exp, sum, div) | 4 / element (`y ⊙ (dY - Σ y dY)`) |
//! | layer norm over `len` (`layer_norm`) | 8 / element (mean, var, normalize, scale, shift) | 14 / element (incl. `dγ`, `dβ`) |
//! | attention `q[n,h,lq,dh]`, `k,v[n,h,lk,dh]` (`attention`) | `4 n h lq lk dh` (two matmuls) + scale 1 / score + softmax of `n h lq lk` | `8 n h lq lk dh` + 1 / score + softmax backward |
//! | pointwise attention (HSTU, `attention`): `SiLU(q k^T + rab) / n ⊙ mask` then `v` | `2 n h lq lk (dqk + dv)` + 4 / score (sigmoid, product, `/n`, mask) | `4 n h lq lk (dqk + dv)` + 6 / score (sigmoid 1, product 2, scale 1, mask 2) |
//! | RMS norm over `len` (`norm`) | 4 / element (square, mean, divide, scale) | 6 / element |
//! | softmax cross-entropy over `len` classes (`loss`) | 5 / element + 3 / row (log-sum-exp, minus the positive, mean) | 4 / element + 1 / row |
//! | smoothing term `Σ w log(1 - p)` (`loss`) | 5 / element (exp, 1 - p, ln, weight, sum) | 4 / element |
//! | pooling (`pool`: sum/mean of `len` vectors of `dim`) | `len * dim` | `len * dim` |
//! | BCE-with-logits + mean (`loss`) | 9 / example | 5 / example (`(σ(z) - y) / n`) |
//!
//! Transcendentals (exp, log, sqrt) and divisions count 1 FLOP, as in fvcore/thop.
//! Reshapes of contiguous tensors are free in dfdx and count 0.
//!
//! The backward counts what dfdx runs. In particular dfdx's matmul backward always forms
//! both `dX` and `dW`, even when `X` needs no gradient (the dense features of LR), so every
//! taped matmul counts `4nkm`; an engine that skipped `dX` there would save `2nkm`
//! (`2 * n * n_dense` for LR, negligible). The first layer of an MLP over
//! `[embeddings | dense]` needs `dX` anyway, for the embeddings.
//!
//! Optimizer FLOPs per updated value: dense Adam 14 (moments 7, bias correction 2,
//! update 5), plus 2 with decoupled weight decay; sparse row-wise Adam 14 and Adagrad 7,
//! applied to each *distinct* row the batch touched (so the count depends on the ids).
//! Sorting lookups by row (an integer sort) is not counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Backward FLOPs per element of an activation, as a multiple of its forward.
pub const ACTIVATION_BACKWARD: u64 = 1;
/// Backward FLOPs per output element of a binary elementwise op.
pub const ELEMENTWISE_BACKWARD: u64 = 2;
/// Forward and backward FLOPs per example of BCE-with-logits followed by the batch mean:
/// forward `max(z,0) - z y + ln(1 + exp(-|z|))` (8) and the mean (1); backward
/// `(σ(z) - y) / n` (sigmoid 3, sub 1, scale 1).
pub const LOSS_FORWARD: u64 = 9;
pub const LOSS_BACKWARD: u64 = 5;
/// Optimizer FLOPs per updated value.
pub const ADAM_PER_VALUE: u64 = 14;
pub const WEIGHT_DECAY_PER_VALUE: u64 = 2;
pub const ADAGRAD_PER_VALUE: u64 = 7;
/// Softmax FLOPs per element.
pub const SOFTMAX_FORWARD: u64 = 5;
pub const SOFTMAX_BACKWARD: u64 = 4;
/// Layer-norm FLOPs per element.
pub const LAYER_NORM_FORWARD: u64 = 8;
pub const LAYER_NORM_BACKWARD: u64 = 14;
/// RMS-norm FLOPs per element: `x / sqrt(mean(x^2) + eps) * g` (square, mean, divide,
/// scale; the per-row `sqrt` and `+ eps` are not counted).
pub const RMS_NORM_FORWARD: u64 = 4;
pub const RMS_NORM_BACKWARD: u64 = 6;
/// Pointwise (HSTU) attention FLOPs per score besides the two products: forward SiLU as
/// sigmoid + product (2), the `1/n` scale (1) and the 0/1 mask (1); backward the
/// sigmoid (1), the product (2), the scale (1) and the mask (2).
pub const POINTWISE_SCORE_FORWARD: u64 = 4;
pub const POINTWISE_SCORE_BACKWARD: u64 = 6;
/// Softmax cross-entropy: per element of the logits (as softmax) and per row.
pub const XENT_FORWARD: u64 = 5;
pub const XENT_BACKWARD: u64 = 4;
pub const XENT_ROW_FORWARD: u64 = 3;
pub const XENT_ROW_BACKWARD: u64 = 1;
/// Label-smoothing term `Σ w log(1 - p)` per element.
pub const SMOOTHING_FORWARD: u64 = 5;
pub const SMOOTHING_BACKWARD: u64 = 4;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Flops {
    forward: BTreeMap<&'static str, u64>,
    backward: BTreeMap<&'static str, u64>,
    optimizer: BTreeMap<&'static str, u64>,
    /// Whether the forward runs under a tape, so each op's backward is counted too.
    #[serde(skip)]
    training: bool,
}

fn add(map: &mut BTreeMap<&'static str, u64>, kind: &'static str, flops: u64) {
    if flops > 0 {
        *map.entry(kind).or_default() += flops;
    }
}

impl Flops {
    /// A counter that also records backward FLOPs (a forward under a tape).
    pub fn training() -> Self {
        Flops {
            training: true,
            ..Default::default()
        }
    }
    pub fn is_training(&self) -> bool {
        self.training
    }
    pub(crate) fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Adds `fwd` forward FLOPs of `kind` and, when training, `bwd` backward FLOPs.
    pub fn add(&mut self, kind: &'static str, fwd: u64, bwd: u64) {
        add(&mut self.forward, kind, fwd);
        if self.training {
            add(&mut self.backward, kind, bwd);
        }
    }
    /// Adds forward FLOPs of `kind` (whether or not training).
    pub fn add_forward(&mut self, kind: &'static str, flops: u64) {
        add(&mut self.forward, kind, flops);
    }
    /// Adds backward FLOPs of `kind` (whether or not training).
    pub fn add_backward(&mut self, kind: &'static str, flops: u64) {
        add(&mut self.backward, kind, flops);
    }
    /// Adds optimizer FLOPs of `kind` (`dense` or `embedding`).
    pub fn add_optimizer(&mut self, kind: &'static str, flops: u64) {
        add(&mut self.optimizer, kind, flops);
    }
    /// Adds everything counted in `other` (phase by phase, kind by kind).
    pub fn merge(&mut self, other: &Flops) {
        for (k, v) in &other.forward {
            add(&mut self.forward, k, *v);
        }
        for (k, v) in &other.backward {
            add(&mut self.backward, k, *v);
        }
        for (k, v) in &other.optimizer {
            add(&mut self.optimizer, k, *v);
        }
    }

    pub fn forward_total(&self) -> u64 {
        self.forward.values().sum()
    }
    /// Forward FLOPs of the model alone (the loss left out): what inference runs.
    pub fn model_forward_total(&self) -> u64 {
        self.forward_total() - self.forward.get("loss").copied().unwrap_or(0)
    }
    pub fn backward_total(&self) -> u64 {
        self.backward.values().sum()
    }
    pub fn optimizer_total(&self) -> u64 {
        self.optimizer.values().sum()
    }
    /// Forward + backward + optimizer.
    pub fn total(&self) -> u64 {
        self.forward_total() + self.backward_total() + self.optimizer_total()
    }
    pub fn forward_by_kind(&self) -> &BTreeMap<&'static str, u64> {
        &self.forward
    }
    pub fn backward_by_kind(&self) -> &BTreeMap<&'static str, u64> {
        &self.backward
    }
    pub fn optimizer_by_kind(&self) -> &BTreeMap<&'static str, u64> {
        &self.optimizer
    }

    /// `x[n, k] @ w[k, m]`.
    pub fn matmul(&mut self, n: usize, k: usize, m: usize) {
        let nkm = (n * k * m) as u64;
        self.add("matmul", 2 * nkm, 4 * nkm);
    }
    /// A binary elementwise op (add, mul, broadcast bias) with `elements` outputs.
    pub fn elementwise(&mut self, elements: usize) {
        let e = elements as u64;
        self.add("elementwise", e, ELEMENTWISE_BACKWARD * e);
    }
    pub fn activation(&mut self, elements: usize) {
        let e = elements as u64;
        self.add("activation", e, ACTIVATION_BACKWARD * e);
    }
    /// A sum over an axis of `elements` inputs.
    pub fn reduce(&mut self, elements: usize) {
        let e = elements as u64;
        self.add("reduce", e, e);
    }
    /// A concatenation copying `elements` values.
    pub fn copy(&mut self, elements: usize) {
        let e = elements as u64;
        self.add("copy", e, e);
    }
    /// An embedding gather of `rows` rows of width `dim`; backward = the scatter-add of
    /// the lookups' gradients into per-row sums.
    pub fn gather(&mut self, rows: usize, dim: usize) {
        let e = (rows * dim) as u64;
        self.add("embedding", e, e);
    }
    /// Softmax over `len` values, `rows` times.
    pub fn softmax(&mut self, rows: usize, len: usize) {
        let e = (rows * len) as u64;
        self.add("softmax", SOFTMAX_FORWARD * e, SOFTMAX_BACKWARD * e);
    }
    /// Layer normalization over `len` values (with scale and shift), `rows` times.
    pub fn layer_norm(&mut self, rows: usize, len: usize) {
        let e = (rows * len) as u64;
        self.add("norm", LAYER_NORM_FORWARD * e, LAYER_NORM_BACKWARD * e);
    }
    /// Scaled dot-product attention: `softmax(q k^T / sqrt(dh)) v` for `n * heads`
    /// problems with `lq` queries, `lk` keys and head width `dh` (the projections are
    /// separate matmuls; the scale counts as one elementwise op per score).
    pub fn attention(&mut self, n: usize, heads: usize, lq: usize, lk: usize, dh: usize) {
        let problems = n * heads;
        let prod = (problems * lq * lk * dh) as u64;
        // q k^T and p v: two products of 2 * lq * lk * dh each.
        self.add("attention", 4 * prod, 8 * prod);
        let scores = (problems * lq * lk) as u64;
        self.add("attention", scores, scores); // the 1/sqrt(dh) scale
        self.softmax(problems * lq, lk);
    }
    /// HSTU's pointwise aggregated attention `(SiLU(q k^T + rab) / n ⊙ mask) v` for
    /// `n * heads` problems (the bias add, when present, is a separate elementwise op).
    pub fn pointwise_attention(
        &mut self,
        n: usize,
        heads: usize,
        lq: usize,
        lk: usize,
        dqk: usize,
        dv: usize,
    ) {
        let scores = (n * heads * lq * lk) as u64;
        let prod = scores * (dqk + dv) as u64;
        self.add(
            "attention",
            2 * prod + POINTWISE_SCORE_FORWARD * scores,
            4 * prod + POINTWISE_SCORE_BACKWARD * scores,
        );
    }
    /// RMS normalization over `len` values (with a scale), `rows` times.
    pub fn rms_norm(&mut self, rows: usize, len: usize) {
        let e = (rows * len) as u64;
        self.add("norm", RMS_NORM_FORWARD * e, RMS_NORM_BACKWARD * e);
    }
    /// Softmax cross-entropy of `rows` examples over `len` classes, and its mean.
    pub fn softmax_xent(&mut self, rows: usize, len: usize) {
        let (r, e) = (rows as u64, (rows * len) as u64);
        self.add(
            "loss",
            XENT_FORWARD * e + XENT_ROW_FORWARD * r,
            XENT_BACKWARD * e + XENT_ROW_BACKWARD * r,
        );
    }
    /// The label-smoothing term over `elements` probabilities.
    pub fn smoothing(&mut self, elements: usize) {
        let e = elements as u64;
        self.add("loss", SMOOTHING_FORWARD * e, SMOOTHING_BACKWARD * e);
    }
    /// Sum or mean pooling of `len` vectors of width `dim`, `rows` times.
    pub fn pool(&mut self, rows: usize, len: usize, dim: usize) {
        let e = (rows * len * dim) as u64;
        self.add("pooling", e, e);
    }
    /// BCE-with-logits and its batch mean over `n` examples.
    pub fn loss(&mut self, n: usize) {
        let n = n as u64;
        self.add("loss", LOSS_FORWARD * n, LOSS_BACKWARD * n);
    }
}

/// FLOP counts by phase and kind, with owned names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlopsState {
    pub forward: BTreeMap<String, u64>,
    pub backward: BTreeMap<String, u64>,
    pub optimizer: BTreeMap<String, u64>,
}

impl Flops {
    pub fn state(&self) -> FlopsState {
        let owned =
            |m: &BTreeMap<&'static str, u64>| m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        FlopsState {
            forward: owned(self.forward_by_kind()),
            backward: owned(self.backward_by_kind()),
            optimizer: owned(self.optimizer_by_kind()),
        }
    }

    /// Counts from a checkpoint. Kind names are `&'static str` in the counter, so the
    /// few names read back are leaked (once per resumed cell, a few bytes each).
    pub fn from_state(state: &FlopsState) -> Flops {
        let name = |k: &String| -> &'static str { Box::leak(k.clone().into_boxed_str()) };
        let mut f = Flops::default();
        for (k, v) in &state.forward {
            f.add_forward(name(k), *v);
        }
        for (k, v) in &state.backward {
            f.add_backward(name(k), *v);
        }
        for (k, v) in &state.optimizer {
            f.add_optimizer(name(k), *v);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_is_recorded_only_when_training() {
        let mut eval = Flops::default();
        eval.matmul(2, 3, 4);
        eval.activation(8);
        assert_eq!(eval.forward_total(), 48 + 8);
        assert_eq!(eval.backward_total(), 0);
        let mut train = Flops::training();
        train.matmul(2, 3, 4);
        train.activation(8);
        train.elementwise(8);
        assert_eq!(train.forward_total(), 48 + 8 + 8);
        assert_eq!(train.backward_total(), 96 + 8 + 16);
        assert_eq!(train.backward_by_kind()["matmul"], 96);
    }

    #[test]
    fn attention_counts_both_products_scale_and_softmax() {
        let mut f = Flops::training();
        // batch 2, 1 head, 3 queries, 5 keys, width 4.
        f.attention(2, 1, 3, 5, 4);
        let scores = 2 * 3 * 5;
        assert_eq!(f.forward_by_kind()["attention"], 4 * scores * 4 + scores);
        assert_eq!(f.forward_by_kind()["softmax"], 5 * scores);
        assert_eq!(f.backward_by_kind()["attention"], 8 * scores * 4 + scores);
        assert_eq!(f.backward_by_kind()["softmax"], 4 * scores);
    }

    #[test]
    fn merge_adds_phase_by_phase() {
        let mut a = Flops::training();
        a.gather(10, 4);
        a.add_optimizer("embedding", 7);
        let mut b = a.clone();
        b.merge(&a);
        assert_eq!(b.forward_total(), 80);
        assert_eq!(b.backward_total(), 80);
        assert_eq!(b.optimizer_total(), 14);
        assert_eq!(b.total(), 174);
    }
}
