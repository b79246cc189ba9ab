//! FLOP formulas of the shared transformer layers, for the models' hand-formula tests.
#![allow(dead_code)]

/// FLOPs of one pre-norm block (RMS norm, attention with output projection, SwiGLU of
/// width `f`) on `r` rows forming `bp` sequences of length `len`: (forward, backward).
pub fn block_flops(r: u64, bp: u64, len: u64, d: u64, h: u64, f: u64) -> (u64, u64) {
    let s = bp * h * len * len;
    let dh = d / h;
    let fwd = 2 * 4 * r * d
        + 3 * (2 * r * d * d + r * d)
        + (4 * s * dh + s + 5 * s + s)
        + r * d
        + (2 * r * d * d + r * d)
        + r * d
        + (2 * r * d * f + r * f)
        + 2 * r * f
        + (2 * r * d * f + r * f)
        + r * f
        + (2 * r * f * d + r * d)
        + r * d;
    let bwd = 2 * 6 * r * d
        + 3 * (4 * r * d * d + 2 * r * d)
        + (8 * s * dh + s + 4 * s + 2 * s)
        + r * d
        + (4 * r * d * d + 2 * r * d)
        + 2 * r * d
        + (4 * r * d * f + 2 * r * f)
        + 3 * r * f
        + (4 * r * d * f + 2 * r * f)
        + 2 * r * f
        + (4 * r * f * d + 2 * r * d)
        + 2 * r * d;
    (fwd, bwd)
}
