//! Labels and their exact probabilities. Every label shares one unobserved per-event
//! shock `e ~ N(0, label_noise^2)` added to its logit:
//!
//! ```text
//! click      ~ Bernoulli(sigmoid(z_click + e))
//! long_view  = click * Bernoulli(sigmoid(z_long_view + e))
//! like       = click * Bernoulli(sigmoid(z_like + e))
//! ```
//!
//! The oracle integrates the shock out (it is in no feature):
//! `P(click) = E_e[s(z_c+e)]`, `P(long_view) = E_e[s(z_c+e) s(z_lv+e)]`, and likewise for
//! like, by the trapezoid rule on a fixed grid (accurate to ~1e-7 for the noise range).

use rand::Rng;
use rand_distr::StandardNormal;

pub const LABELS: [&str; 3] = ["click", "long_view", "like"];
pub const CLICK: usize = 0;
pub const LONG_VIEW: usize = 1;
pub const LIKE: usize = 2;

const GRID_POINTS: usize = 17;
const GRID_STEP: f64 = 0.75;

pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Quadrature nodes and weights of `N(0, label_noise^2)`.
#[derive(Debug, Clone)]
pub(crate) struct Shock {
    sd: f32,
    nodes: [f32; GRID_POINTS],
    weights: [f32; GRID_POINTS],
}

impl Shock {
    pub(crate) fn new(sd: f64) -> Shock {
        let half = (GRID_POINTS / 2) as f64;
        let x = |k: usize| (k as f64 - half) * GRID_STEP;
        let density: Vec<f64> = (0..GRID_POINTS)
            .map(|k| (-0.5 * x(k) * x(k)).exp())
            .collect();
        let total: f64 = density.iter().sum();
        Shock {
            sd: sd as f32,
            nodes: std::array::from_fn(|k| (sd * x(k)) as f32),
            weights: std::array::from_fn(|k| (density[k] / total) as f32),
        }
    }

    /// `[P(click), P(long_view), P(like)]` for logits `[z_click, z_long_view, z_like]`
    /// (long view and like logits are conditional on a click).
    pub(crate) fn probabilities(&self, z: [f32; 3]) -> [f32; 3] {
        if self.sd == 0.0 {
            let c = sigmoid(z[CLICK]);
            return [c, c * sigmoid(z[LONG_VIEW]), c * sigmoid(z[LIKE])];
        }
        let mut p = [0.0f32; 3];
        for (e, w) in self.nodes.iter().zip(&self.weights) {
            let c = w * sigmoid(z[CLICK] + e);
            p[CLICK] += c;
            p[LONG_VIEW] += c * sigmoid(z[LONG_VIEW] + e);
            p[LIKE] += c * sigmoid(z[LIKE] + e);
        }
        p
    }

    /// One draw of the shock `e`.
    pub(crate) fn sample<R: Rng>(&self, rng: &mut R) -> f32 {
        self.sd * rng.sample::<f32, _>(StandardNormal)
    }

    /// `E_e[f(e)]` by the quadrature (exactly `f(0)` without noise).
    pub(crate) fn expect(&self, f: impl Fn(f32) -> f32) -> f32 {
        if self.sd == 0.0 {
            return f(0.0);
        }
        self.nodes
            .iter()
            .zip(&self.weights)
            .map(|(&e, w)| w * f(e))
            .sum()
    }

    /// Draws the shock, then the labels given it.
    pub(crate) fn draw<R: Rng>(&self, z: [f32; 3], rng: &mut R) -> [bool; 3] {
        let e = self.sd * rng.sample::<f32, _>(StandardNormal);
        let click = rng.gen::<f32>() < sigmoid(z[CLICK] + e);
        let long_view = rng.gen::<f32>() < sigmoid(z[LONG_VIEW] + e);
        let like = rng.gen::<f32>() < sigmoid(z[LIKE] + e);
        [click, click && long_view, click && like]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrature_matches_monte_carlo_and_noise_free_limit() {
        use rand::SeedableRng;
        let z = [-1.5, 0.3, -1.0];
        let exact = Shock::new(0.0).probabilities(z);
        let tiny = Shock::new(1e-4).probabilities(z);
        for l in 0..3 {
            assert!((exact[l] - tiny[l]).abs() < 1e-5);
        }
        let shock = Shock::new(1.0);
        let p = shock.probabilities(z);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 400_000;
        let mut hits = [0u32; 3];
        for _ in 0..n {
            for (h, y) in hits.iter_mut().zip(shock.draw(z, &mut rng)) {
                *h += y as u32;
            }
        }
        for l in 0..3 {
            let mean = hits[l] as f32 / n as f32;
            let se = (p[l] * (1.0 - p[l]) / n as f32).sqrt();
            assert!(
                (mean - p[l]).abs() < 4.0 * se,
                "label {l}: {mean} vs {}",
                p[l]
            );
        }
    }
}
