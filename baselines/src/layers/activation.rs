//! Elementwise pieces with their FLOP accounting: SiLU `x * sigmoid(x)` (HSTU's φ,
//! Llama's SwiGLU gate) and inverted dropout (active only under a tape).

use dfdx::prelude::*;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::engine::{device_seed, Ctx, Dev, Track};

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
///
/// The keep mask is drawn on the host (ChaCha8 seeded from the device's RNG through
/// `engine::device_seed`, so runs are reproducible and a checkpoint can replay the
/// stream; 16 random bits per element, so `p` is resolved to 1/65536) and
/// multiplied in as a constant. dfdx's own dropout draws a Bernoulli per element with
/// ChaCha12 in the forward and again in the backward pass, which was 17% of a SASRec
/// training step.
pub fn dropout<S: Shape, D: Dev, T: Track<D>>(
    x: Tensor<S, f32, D, T>,
    p: f32,
    ctx: &mut Ctx<D>,
) -> Tensor<S, f32, D, T> {
    if p <= 0.0 || !ctx.is_training() {
        return x;
    }
    let n = x.shape().num_elements();
    ctx.flops.elementwise(n);
    let mut rng = ChaCha8Rng::seed_from_u64(device_seed(x.device()));
    let threshold = (p as f64 * 65536.0).round() as u64;
    let scale = 1.0 / (1.0 - p);
    let mut mask = Vec::with_capacity(n + 3);
    while mask.len() < n {
        let bits = rng.next_u64();
        for k in 0..4 {
            let keep = (bits >> (16 * k)) & 0xffff >= threshold;
            mask.push(if keep { scale } else { 0.0 });
        }
    }
    mask.truncate(n);
    let mask = x.device().tensor_from_vec(mask, *x.shape());
    x * mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cpu;

    #[test]
    fn dropout_keeps_about_1_minus_p_scaled_and_only_when_training() {
        let dev = Cpu::default();
        let x: Tensor<(usize,), f32, Cpu> = dev.tensor_from_vec(vec![1.0; 100_000], (100_000,));
        let mut eval = Ctx::<Cpu>::default();
        assert_eq!(dropout(x.clone(), 0.3, &mut eval).as_vec(), x.as_vec());
        let mut train = Ctx::<Cpu>::training();
        let y = dropout(x.clone(), 0.3, &mut train).as_vec();
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / 1e5;
        assert!((kept - 0.7).abs() < 0.01, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.7).abs() < 1e-6));
        assert_ne!(
            y,
            dropout(x, 0.3, &mut train).as_vec(),
            "a fresh mask per call"
        );
    }
}
