//! `synth-seq`: a seeded world of per-user item sequences with sequential structure and
//! KNOWN next-item probabilities, so an oracle ranking and its metrics exist.
//!
//! ```text
//! topic centroid  c_t: random unit vectors in R^d
//! item i          w_i = unit(c_topic(i) + 0.7 z / sqrt(d)),  z ~ N(0, I)
//!                 b_i ~ N(0, popularity_scale^2)            (popularity)
//!                 bid_i ~ LogNormal(0, bid_sigma^2)          (value per item)
//! user u          theta_u = unit(a c_t1 + (1 - a) c_t2 + 0.5 z / sqrt(d)), a ~ U(0.5, 1)
//! transition      A: a random orthogonal d x d matrix (fixed per world)
//! next item       logit_i = tau <theta_u, w_i> + sigma <A w_last, w_i> + b_i
//!                 (no transition term for a user's first item)
//!                 P(next = i) = exp(logit_i) / sum of exp(logit_j) over the items j
//!                 the user has NOT consumed yet (no repeats)
//! length          min_length + Geometric(mean_length - min_length), at most
//!                 max_length and n_items
//! ```
//!
//! with `tau = taste_scale`, `sigma = transition_scale`. `A` is not symmetric: item j
//! pulls the next item towards `A w_j`, not towards itself, so order matters and a bag
//! of past items cannot express the next-item distribution. The logit is a dot product
//! `<[tau theta_u + sigma A w_last, 1], [w_i, b_i]>`, so the oracle ranks the corpus
//! like any single-vector model (`oracle_user`, `oracle_items`); the softmax is
//! monotone in the logit and the seen items are exactly those excluded, so ranking the
//! unseen items by logit ranks them by their true probability. Times are the event
//! index within the user. Everything is drawn from `seed` (users in parallel, each on
//! its own stream), so the same config gives the same sequences.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Geometric, LogNormal, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::error::{DataError, DataResult};
use crate::data::sequences::Sequences;
use crate::data::synth::vectors::{dot, gaussian, unit};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthSeqConfig {
    pub seed: u64,
    pub n_users: u32,
    pub n_items: u32,
    pub n_topics: u32,
    pub latent_dim: u32,
    /// Mean events per user.
    pub mean_length: f64,
    pub min_length: u32,
    pub max_length: u32,
    /// `tau`: weight of the user's static taste.
    pub taste_scale: f64,
    /// `sigma`: weight of the last item's transition.
    pub transition_scale: f64,
    /// Std of the item popularity logit `b_i`.
    pub popularity_scale: f64,
    /// Log-std of the item bids (values), for R/R*.
    pub bid_sigma: f64,
}

impl Default for SynthSeqConfig {
    fn default() -> Self {
        SynthSeqConfig {
            seed: 0,
            n_users: 3000,
            n_items: 1000,
            n_topics: 20,
            latent_dim: 16,
            mean_length: 20.0,
            min_length: 5,
            max_length: 200,
            taste_scale: 3.0,
            transition_scale: 5.0,
            popularity_scale: 1.0,
            bid_sigma: 0.5,
        }
    }
}

impl SynthSeqConfig {
    /// Rejects sizes the generator cannot honour, naming the field.
    pub fn validate(&self) -> DataResult<()> {
        let bad = |field: &str, msg: String| {
            Err(DataError::invalid(
                format!("synth_seq config `{field}`"),
                msg,
            ))
        };
        super::config::require_positive(
            "synth_seq",
            &[
                ("n_users", self.n_users),
                ("n_items", self.n_items),
                ("n_topics", self.n_topics),
                ("latent_dim", self.latent_dim),
            ],
        )?;
        if self.min_length < 3 {
            return bad(
                "min_length",
                format!("{} < 3 (leave-one-out needs 3 events)", self.min_length),
            );
        }
        if self.max_length < self.min_length || self.min_length > self.n_items {
            return bad(
                "max_length",
                format!(
                    "need min_length <= max_length and min_length <= n_items (got {}, {}, {})",
                    self.min_length, self.max_length, self.n_items
                ),
            );
        }
        if !(self.mean_length.is_finite() && self.mean_length >= self.min_length as f64) {
            return bad(
                "mean_length",
                format!("{} must be >= min_length", self.mean_length),
            );
        }
        for (field, v) in [
            ("taste_scale", self.taste_scale),
            ("transition_scale", self.transition_scale),
            ("popularity_scale", self.popularity_scale),
            ("bid_sigma", self.bid_sigma),
        ] {
            if !(v.is_finite() && (0.0..=20.0).contains(&v)) {
                return bad(field, format!("{v} is outside [0, 20]"));
            }
        }
        Ok(())
    }
}

/// The static world: item and user vectors, the transition, bids.
#[derive(Debug, Clone)]
pub struct SeqWorld {
    pub cfg: SynthSeqConfig,
    dim: usize,
    /// `(n_items + 1) x d`, row 0 = padding (zeros).
    pub item_vectors: Vec<f32>,
    /// `n_items + 1`, entry 0 unused.
    pub item_bias: Vec<f32>,
    /// `n_items + 1` bids, entry 0 = 0.
    pub bids: Vec<f32>,
    /// `n_users x d`.
    pub tastes: Vec<f32>,
    /// `d x d`, row-major; the transition pulls towards `A w_last`.
    pub transition: Vec<f32>,
}

/// A random orthogonal matrix: Gram-Schmidt on Gaussian rows.
fn orthogonal(rng: &mut ChaCha8Rng, d: usize) -> Vec<f32> {
    let mut m: Vec<f32> = Vec::with_capacity(d * d);
    while m.len() < d * d {
        let mut v = gaussian(rng, d);
        for r in 0..m.len() / d {
            let row = &m[r * d..(r + 1) * d];
            let p = dot(&v, row);
            v.iter_mut().zip(row).for_each(|(x, y)| *x -= p * y);
        }
        let n = dot(&v, &v).sqrt();
        if n > 1e-3 {
            v.iter_mut().for_each(|x| *x /= n);
            m.extend(v);
        }
    }
    m
}

impl SeqWorld {
    pub fn new(cfg: &SynthSeqConfig) -> DataResult<SeqWorld> {
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
        let noise = |rng: &mut ChaCha8Rng, scale: f32| -> Vec<f32> {
            gaussian(rng, d)
                .into_iter()
                .map(|z| scale * z / (d as f32).sqrt())
                .collect()
        };
        let mut item_vectors = vec![0.0; d];
        let mut item_bias = vec![0.0];
        let bid_dist = LogNormal::new(0.0, cfg.bid_sigma).expect("bid_sigma validated");
        let mut bids = vec![0.0];
        for _ in 0..n_items {
            let t = rng.gen_range(0..n_topics);
            let mut w: Vec<f32> = noise(&mut rng, 0.7)
                .iter()
                .zip(&centroids[t])
                .map(|(z, c)| c + z)
                .collect();
            unit(&mut w);
            item_vectors.extend(w);
            item_bias
                .push(cfg.popularity_scale as f32 * rng.sample::<f64, _>(StandardNormal) as f32);
            bids.push(bid_dist.sample(&mut rng) as f32);
        }
        let mut tastes = Vec::with_capacity(cfg.n_users as usize * d);
        for _ in 0..cfg.n_users {
            let (t1, t2) = (rng.gen_range(0..n_topics), rng.gen_range(0..n_topics));
            let a: f32 = rng.gen_range(0.5..1.0);
            let mut th: Vec<f32> = noise(&mut rng, 0.5)
                .iter()
                .enumerate()
                .map(|(k, z)| a * centroids[t1][k] + (1.0 - a) * centroids[t2][k] + z)
                .collect();
            unit(&mut th);
            tastes.extend(th);
        }
        let transition = orthogonal(&mut rng, d);
        Ok(SeqWorld {
            cfg: cfg.clone(),
            dim: d,
            item_vectors,
            item_bias,
            bids,
            tastes,
            transition,
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

    /// The query `tau theta_u + sigma A w_last` (no transition term without `last`).
    pub fn query(&self, user: usize, last: Option<u32>) -> Vec<f32> {
        let d = self.dim;
        let tau = self.cfg.taste_scale as f32;
        let mut q: Vec<f32> = self.tastes[user * d..(user + 1) * d]
            .iter()
            .map(|x| tau * x)
            .collect();
        if let Some(j) = last {
            let sigma = self.cfg.transition_scale as f32;
            let w = self.item(j);
            for (r, qr) in q.iter_mut().enumerate() {
                *qr += sigma * dot(&self.transition[r * d..(r + 1) * d], w);
            }
        }
        q
    }

    /// Next-item logits of every item (index = id; entry 0 = -inf) for `user` after
    /// `last`.
    pub fn logits(&self, user: usize, last: Option<u32>) -> Vec<f64> {
        let q = self.query(user, last);
        let mut out = vec![f64::NEG_INFINITY; self.n_items() + 1];
        for (i, o) in out.iter_mut().enumerate().skip(1) {
            *o = (dot(&q, self.item(i as u32)) + self.item_bias[i]) as f64;
        }
        out
    }

    /// The true next-item distribution given the user's history (index = id, entry 0
    /// and consumed items = 0).
    pub fn next_probs(&self, user: usize, history: &[u32]) -> Vec<f64> {
        let mut l = self.logits(user, history.last().copied());
        history
            .iter()
            .for_each(|&i| l[i as usize] = f64::NEG_INFINITY);
        softmax_in_place(&mut l);
        l
    }

    /// The oracle's user vector (`d + 1`) for a history: ranks items exactly like
    /// their true next-item probabilities (seen items aside).
    pub fn oracle_user(&self, user: usize, history: &[u32]) -> Vec<f32> {
        let mut q = self.query(user, history.last().copied());
        q.push(1.0);
        q
    }

    /// The oracle's item matrix: `(n_items + 1) x (d + 1)`, rows `[w_i, b_i]`.
    pub fn oracle_items(&self) -> Vec<f32> {
        let d = self.dim;
        let mut out = Vec::with_capacity((self.n_items() + 1) * (d + 1));
        for i in 0..=self.n_items() {
            out.extend_from_slice(&self.item_vectors[i * d..(i + 1) * d]);
            out.push(if i == 0 { 0.0 } else { self.item_bias[i] });
        }
        out
    }

    /// One user's sequence, drawn step by step from `next_probs`.
    fn sequence(&self, user: usize) -> Vec<u32> {
        let cfg = &self.cfg;
        // Stream 0 drew the world; user u draws on stream u + 1.
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(user as u64 + 1);
        let extra = cfg.mean_length - cfg.min_length as f64;
        let len = if extra <= 0.0 {
            cfg.min_length as usize
        } else {
            let g = Geometric::new(1.0 / (extra + 1.0)).expect("p in (0, 1]");
            cfg.min_length as usize + g.sample(&mut rng) as usize
        };
        let len = len.min(cfg.max_length as usize).min(self.n_items());
        let mut seq = Vec::with_capacity(len);
        while seq.len() < len {
            let p = self.next_probs(user, &seq);
            seq.push(draw(&p, rng.gen::<f64>()));
        }
        seq
    }
}

/// `exp(x - max) / sum` in place; `-inf` entries become 0.
pub fn softmax_in_place(l: &mut [f64]) {
    let max = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for x in l.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    l.iter_mut().for_each(|x| *x /= sum);
}

/// The index whose cumulative probability first exceeds `u` in `[0, 1)`; never an
/// index with probability 0.
fn draw(p: &[f64], u: f64) -> u32 {
    let mut acc = 0.0;
    let mut last = 0;
    for (i, &pi) in p.iter().enumerate() {
        if pi > 0.0 {
            acc += pi;
            last = i;
            if u < acc {
                return i as u32;
            }
        }
    }
    last as u32 // rounding left u above the total
}

/// The generated data set: sequences plus the world that knows their probabilities.
#[derive(Debug, Clone)]
pub struct SynthSeq {
    pub world: SeqWorld,
    pub seqs: Sequences,
}

/// Generates the world and every user's sequence.
pub fn synth_seq(cfg: &SynthSeqConfig) -> DataResult<SynthSeq> {
    let world = SeqWorld::new(cfg)?;
    let per_user: Vec<Vec<u32>> = (0..cfg.n_users as usize)
        .into_par_iter()
        .map(|u| world.sequence(u))
        .collect();
    let mut seqs = Sequences {
        name: "synth-seq".into(),
        n_items: cfg.n_items,
        offsets: vec![0],
        user_names: (0..cfg.n_users).map(|u| format!("u{u}")).collect(),
        item_names: std::iter::once(String::new())
            .chain((1..=cfg.n_items).map(|i| format!("i{i}")))
            .collect(),
        ..Default::default()
    };
    for s in per_user {
        seqs.times.extend(0..s.len() as i64);
        seqs.items.extend(s);
        seqs.offsets.push(seqs.items.len());
    }
    Ok(SynthSeq { world, seqs })
}

#[cfg(test)]
#[path = "seq_tests.rs"]
mod tests;
