//! Parameter initialisers. Values are drawn on the host from a seeded ChaCha RNG and
//! then copied to the device, so a seed gives the same model on CPU and GPU.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    Zeros,
    Constant(f32),
    /// Uniform(-a, a) with a = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
    XavierUniform {
        fan_in: usize,
        fan_out: usize,
    },
    /// Normal(0, std), truncated at 2 std.
    Normal {
        std: f32,
    },
}

impl Init {
    pub fn sample(&self, rng: &mut ChaCha8Rng, len: usize) -> Vec<f32> {
        match *self {
            Init::Zeros => vec![0.0; len],
            Init::Constant(c) => vec![c; len],
            Init::XavierUniform { fan_in, fan_out } => {
                let a = (6.0 / (fan_in + fan_out).max(1) as f32).sqrt();
                (0..len).map(|_| rng.gen_range(-a..a)).collect()
            }
            Init::Normal { std } => (0..len)
                .map(|_| loop {
                    // Rejection keeps the draw within 2 std.
                    let z: f32 = rng.sample(StandardNormal);
                    if z.abs() <= 2.0 {
                        break z * std;
                    }
                })
                .collect(),
        }
    }
}
