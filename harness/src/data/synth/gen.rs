//! `synth-gen`: a seeded world of per-user request logs for generative ranking, with
//! sequential structure and KNOWN action probabilities, so an oracle and its metrics
//! exist.
//!
//! ```text
//! topic centroid  c_t: random unit vectors in R^d
//! item i          w_i = unit(c_topic(i) + 0.7 z / sqrt(d)),  z ~ N(0, I)
//!                 b_i ~ N(0, quality_scale^2),  q_i ~ N(0, like_quality_scale^2)
//! user u          theta_u(0) = unit(a c_t1 + (1 - a) c_t2 + 0.5 z / sqrt(d)), a ~ U(0.5, 1)
//! requests        min_requests + Geometric(mean_requests - min_requests), <= max_requests
//! request r       n ~ U{min_exposures..=max_exposures} distinct items, each w.p.
//!                 matched_share from softmax_i(kappa <theta_u(r), w_i>) (taste-matched),
//!                 else uniform over the items
//! exposure i      x = <theta_u(r), w_i>
//!                 P(click) = s(click_bias + click_scale x + b_i)
//!                 P(like | click) = s(like_bias + like_scale x + q_i),  like => click
//! drift           C = the items clicked in request r; with m = mean of w_i over C,
//!                 theta_u(r+1) = unit((1 - eta) theta_u(r) + eta m + nu z / sqrt(d))
//!                 (without clicks: unit(theta_u(r) + nu z / sqrt(d)))
//! ```
//!
//! with `kappa = exposure_sharpness`, `eta = drift`, `nu = taste_noise`, `s` the
//! logistic function. The current taste decides the click and is pulled toward what
//! was clicked, so the history (which items were clicked, recently) carries what a
//! history-blind model cannot know; the oracle is `P(click)` and `P(click and like)`
//! given `theta_u(r)`, the Bayes bound of each action's AUC and log loss. Request times
//! are the request index. Everything is drawn from `seed` (users in parallel, each on
//! its own stream), so the same config gives the same logs.

use baselines::kinds::generative::{action_id, Exposure, Request};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Geometric, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::error::{DataError, DataResult};
use crate::data::requests::UserLog;
use crate::data::synth::vectors::{dot, gaussian, unit};

/// The world's actions, in flag order.
pub const ACTIONS: [&str; 2] = ["click", "like"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthGenConfig {
    pub seed: u64,
    pub n_users: u32,
    pub n_items: u32,
    pub n_topics: u32,
    pub latent_dim: u32,
    /// Mean requests per user.
    pub mean_requests: f64,
    pub min_requests: u32,
    pub max_requests: u32,
    /// Exposures per request, uniform in `min_exposures..=max_exposures`.
    pub min_exposures: u32,
    pub max_exposures: u32,
    /// Share of exposures drawn by the user's current taste (the rest uniform).
    pub matched_share: f64,
    /// `kappa`: sharpness of the taste-matched exposure softmax.
    pub exposure_sharpness: f64,
    /// `eta`: how far the taste moves toward the mean of the clicked items.
    pub drift: f64,
    /// `nu`: random walk of the taste per request.
    pub taste_noise: f64,
    pub click_bias: f64,
    pub click_scale: f64,
    /// Std of the item click offset `b_i`.
    pub quality_scale: f64,
    pub like_bias: f64,
    pub like_scale: f64,
    /// Std of the item like offset `q_i`.
    pub like_quality_scale: f64,
}

impl Default for SynthGenConfig {
    fn default() -> Self {
        SynthGenConfig {
            seed: 0,
            n_users: 2500,
            n_items: 800,
            n_topics: 10,
            latent_dim: 8,
            mean_requests: 14.0,
            min_requests: 4,
            max_requests: 40,
            min_exposures: 4,
            max_exposures: 8,
            matched_share: 0.5,
            exposure_sharpness: 4.0,
            drift: 0.3,
            taste_noise: 0.3,
            click_bias: -2.0,
            click_scale: 3.0,
            quality_scale: 0.5,
            like_bias: -1.5,
            like_scale: 2.0,
            like_quality_scale: 0.5,
        }
    }
}

impl SynthGenConfig {
    /// Rejects sizes the generator cannot honour, naming the field.
    pub fn validate(&self) -> DataResult<()> {
        let bad = |field: &str, msg: String| {
            Err(DataError::invalid(
                format!("synth_gen config `{field}`"),
                msg,
            ))
        };
        super::config::require_positive(
            "synth_gen",
            &[
                ("n_users", self.n_users),
                ("n_items", self.n_items),
                ("n_topics", self.n_topics),
                ("latent_dim", self.latent_dim),
                ("min_exposures", self.min_exposures),
            ],
        )?;
        if self.min_requests < 3 {
            return bad(
                "min_requests",
                format!(
                    "{} < 3 (the split needs a training, a validation and a test request)",
                    self.min_requests
                ),
            );
        }
        if self.max_requests < self.min_requests {
            return bad(
                "max_requests",
                format!("{} < min_requests {}", self.max_requests, self.min_requests),
            );
        }
        if !(self.mean_requests.is_finite() && self.mean_requests >= self.min_requests as f64) {
            return bad(
                "mean_requests",
                format!("{} must be >= min_requests", self.mean_requests),
            );
        }
        if self.max_exposures < self.min_exposures || self.max_exposures > self.n_items {
            return bad(
                "max_exposures",
                format!(
                    "need min_exposures <= max_exposures <= n_items (got {}, {}, {})",
                    self.min_exposures, self.max_exposures, self.n_items
                ),
            );
        }
        for (field, v) in [("matched_share", self.matched_share), ("drift", self.drift)] {
            if !(0.0..=1.0).contains(&v) {
                return bad(field, format!("{v} is outside [0, 1]"));
            }
        }
        for (field, v) in [
            ("exposure_sharpness", self.exposure_sharpness),
            ("taste_noise", self.taste_noise),
            ("click_bias", self.click_bias),
            ("click_scale", self.click_scale),
            ("quality_scale", self.quality_scale),
            ("like_bias", self.like_bias),
            ("like_scale", self.like_scale),
            ("like_quality_scale", self.like_quality_scale),
        ] {
            if !(v.is_finite() && (-20.0..=20.0).contains(&v)) {
                return bad(field, format!("{v} is outside [-20, 20]"));
            }
        }
        Ok(())
    }
}

/// The static world: item vectors and offsets, the users' initial tastes.
#[derive(Debug, Clone)]
pub struct GenWorld {
    pub cfg: SynthGenConfig,
    dim: usize,
    /// `(n_items + 1) x d`, row 0 = padding (zeros).
    pub item_vectors: Vec<f32>,
    /// `b_i`, `n_items + 1` (entry 0 unused).
    pub click_offset: Vec<f32>,
    /// `q_i`, `n_items + 1` (entry 0 unused).
    pub like_offset: Vec<f32>,
    /// `theta_u(0)`, `n_users x d`.
    pub tastes: Vec<f32>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl GenWorld {
    pub fn new(cfg: &SynthGenConfig) -> DataResult<GenWorld> {
        cfg.validate()?;
        let d = cfg.latent_dim as usize;
        let (n_items, n_topics) = (cfg.n_items as usize, cfg.n_topics as usize);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let centroids: Vec<Vec<f32>> = (0..n_topics)
            .map(|_| {
                let mut c = gaussian(&mut rng, d);
                unit(&mut c);
                c
            })
            .collect();
        let scaled = |rng: &mut ChaCha8Rng, scale: f32| -> Vec<f32> {
            gaussian(rng, d)
                .into_iter()
                .map(|z| scale * z / (d as f32).sqrt())
                .collect()
        };
        let mut item_vectors = vec![0.0; d];
        let (mut click_offset, mut like_offset) = (vec![0.0], vec![0.0]);
        for _ in 0..n_items {
            let t = rng.gen_range(0..n_topics);
            let mut w: Vec<f32> = scaled(&mut rng, 0.7)
                .iter()
                .zip(&centroids[t])
                .map(|(z, c)| c + z)
                .collect();
            unit(&mut w);
            item_vectors.extend(w);
            let z: f64 = rng.sample(StandardNormal);
            click_offset.push((cfg.quality_scale * z) as f32);
            let z: f64 = rng.sample(StandardNormal);
            like_offset.push((cfg.like_quality_scale * z) as f32);
        }
        let mut tastes = Vec::with_capacity(cfg.n_users as usize * d);
        for _ in 0..cfg.n_users {
            let (t1, t2) = (rng.gen_range(0..n_topics), rng.gen_range(0..n_topics));
            let a: f32 = rng.gen_range(0.5..1.0);
            let mut th: Vec<f32> = scaled(&mut rng, 0.5)
                .iter()
                .enumerate()
                .map(|(k, z)| a * centroids[t1][k] + (1.0 - a) * centroids[t2][k] + z)
                .collect();
            unit(&mut th);
            tastes.extend(th);
        }
        Ok(GenWorld {
            cfg: cfg.clone(),
            dim: d,
            item_vectors,
            click_offset,
            like_offset,
            tastes,
        })
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn n_items(&self) -> usize {
        self.cfg.n_items as usize
    }
    fn item(&self, i: u32) -> &[f32] {
        &self.item_vectors[i as usize * self.dim..(i as usize + 1) * self.dim]
    }

    /// `[P(click), P(click and like)]` of item `i` for a user of taste `theta`.
    pub fn action_probs(&self, theta: &[f32], i: u32) -> [f64; 2] {
        let c = &self.cfg;
        let x = dot(theta, self.item(i)) as f64;
        let click =
            sigmoid(c.click_bias + c.click_scale * x + self.click_offset[i as usize] as f64);
        let like = sigmoid(c.like_bias + c.like_scale * x + self.like_offset[i as usize] as f64);
        [click, click * like]
    }

    /// The items of one request: `n` distinct items, each taste-matched w.p.
    /// `matched_share` (drawn from `softmax(kappa <theta, w_i>)`), else uniform.
    fn exposed_items(&self, theta: &[f32], n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
        let kappa = self.cfg.exposure_sharpness as f32;
        let logits: Vec<f32> = (1..=self.n_items() as u32)
            .map(|i| kappa * dot(theta, self.item(i)))
            .collect();
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut cdf = Vec::with_capacity(logits.len());
        let mut acc = 0.0f64;
        for l in logits {
            acc += ((l - max) as f64).exp();
            cdf.push(acc);
        }
        let mut items = Vec::with_capacity(n);
        while items.len() < n {
            let i = if rng.gen::<f64>() < self.cfg.matched_share {
                let u = rng.gen::<f64>() * acc;
                cdf.partition_point(|&c| c <= u).min(cdf.len() - 1) as u32 + 1
            } else {
                rng.gen_range(1..=self.n_items() as u32)
            };
            if !items.contains(&i) {
                items.push(i);
            }
        }
        items
    }

    /// One user's requests and their oracle rows, drawn request by request.
    fn user_log(&self, user: usize) -> UserLog {
        let cfg = &self.cfg;
        let d = self.dim;
        // Stream 0 drew the world; user u draws on stream u + 1.
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(user as u64 + 1);
        let extra = cfg.mean_requests - cfg.min_requests as f64;
        let n_requests = if extra <= 0.0 {
            cfg.min_requests as usize
        } else {
            let g = Geometric::new(1.0 / (extra + 1.0)).expect("p in (0, 1]");
            cfg.min_requests as usize + g.sample(&mut rng) as usize
        }
        .min(cfg.max_requests as usize);
        let mut theta = self.tastes[user * d..(user + 1) * d].to_vec();
        let (mut requests, mut oracle) = (Vec::new(), Vec::new());
        for r in 0..n_requests {
            let n = rng.gen_range(cfg.min_exposures..=cfg.max_exposures) as usize;
            let items = self.exposed_items(&theta, n, &mut rng);
            let mut exposures = Vec::with_capacity(n);
            let mut probs = Vec::with_capacity(2 * n);
            let mut clicked_mean = vec![0.0f32; d];
            let mut clicks = 0;
            for i in items {
                let [p_click, p_both] = self.action_probs(&theta, i);
                let click = rng.gen::<f64>() < p_click;
                let like = click && rng.gen::<f64>() < p_both / p_click;
                if click {
                    clicks += 1;
                    clicked_mean
                        .iter_mut()
                        .zip(self.item(i))
                        .for_each(|(m, w)| *m += w);
                }
                exposures.push(Exposure {
                    item: i,
                    action: action_id(&[click, like]),
                });
                probs.extend([p_click as f32, p_both as f32]);
            }
            requests.push(Request {
                time: r as i64,
                exposures,
            });
            oracle.push(probs);
            // The taste drifts toward what was clicked, plus a random walk.
            let eta = if clicks > 0 { cfg.drift as f32 } else { 0.0 };
            let noise = gaussian(&mut rng, d);
            let nu = cfg.taste_noise as f32 / (d as f32).sqrt();
            for k in 0..d {
                let m = clicked_mean[k] / clicks.max(1) as f32;
                theta[k] = (1.0 - eta) * theta[k] + eta * m + nu * noise[k];
            }
            unit(&mut theta);
        }
        UserLog {
            name: format!("u{user}"),
            requests,
            oracle: Some(oracle),
        }
    }
}

/// The generated data: the world and every user's full request log (before the task's
/// candidate cut and minimum-request filter).
#[derive(Debug, Clone)]
pub struct SynthGen {
    pub world: GenWorld,
    pub users: Vec<UserLog>,
}

/// Generates the world and every user's requests.
pub fn synth_gen(cfg: &SynthGenConfig) -> DataResult<SynthGen> {
    let world = GenWorld::new(cfg)?;
    let users = (0..cfg.n_users as usize)
        .into_par_iter()
        .map(|u| world.user_log(u))
        .collect();
    Ok(SynthGen { world, users })
}

/// Item names of the world (`i1..`; index 0 = padding).
pub fn item_names(n_items: u32) -> Vec<String> {
    std::iter::once(String::new())
        .chain((1..=n_items).map(|i| format!("i{i}")))
        .collect()
}

#[cfg(test)]
#[path = "gen_tests.rs"]
mod tests;
