//! The static world: topics, authors, items and users with their latent traits, drawn
//! once from the seed. Equations are in the `synth` module doc; coefficients in `params`.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Gamma, StandardNormal};

use super::config::SynthConfig;
use super::params::*;
use super::sampling::{cumulative, weighted_index, Catalogue};
use crate::data::error::DataResult;

/// RNG stream of the world draws (events use another stream of the same seed).
const WORLD_STREAM: u64 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    pub quality: f32,
    pub home_topic: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub topic: u32,
    pub author: u32,
    pub quality: f32,
    pub duration_s: f32,
    /// Seconds relative to the start of the simulated period (negative = back catalogue).
    pub publish_time: i64,
    /// Relative exposure weight (Zipf over a quality-correlated rank).
    pub popularity: f64,
}

impl Item {
    /// `(ln d - ln DURATION_MEDIAN_S) / DURATION_LOG_SD`.
    pub fn standardized_log_duration(&self) -> f32 {
        (self.duration_s.ln() - DURATION_MEDIAN_S.ln()) / DURATION_LOG_SD
    }

    /// Log-spaced bucket of the duration in `[0, DURATION_BUCKETS)`.
    pub fn duration_bucket(&self) -> u32 {
        let (lo, hi) = (DURATION_MIN_S.ln(), DURATION_MAX_S.ln());
        let x = (self.duration_s.ln() - lo) / (hi - lo) * DURATION_BUCKETS as f32;
        (x.max(0.0) as u32).min(DURATION_BUCKETS - 1)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Relative event rate.
    pub activity: f64,
    /// Activity rank bucket in `[0, ACTIVITY_BUCKETS)`, 0 = most active.
    pub activity_bucket: u32,
    pub click_propensity: f32,
    /// Tendency to watch clicked items through (long view).
    pub patience: f32,
    pub like_propensity: f32,
}

#[derive(Debug, Clone)]
pub struct World {
    pub cfg: SynthConfig,
    pub authors: Vec<Author>,
    pub items: Vec<Item>,
    pub users: Vec<User>,
    /// `n_topics x latent_dim`, row-major.
    pub topic_centroids: Vec<f32>,
    /// `n_items x latent_dim`: `w_i`.
    pub item_latent: Vec<f32>,
    /// `n_users x latent_dim`: the base (mean) latent `v_u`.
    pub user_latent: Vec<f32>,
    /// `n_users x n_topics`: base topic logits `l_u = ln(theta_u + 1/K)`, centred per user.
    pub user_topic_logits: Vec<f32>,
    pub(crate) user_cumulative_activity: Vec<f64>,
    pub(crate) catalogue: Catalogue,
    pub(crate) topic_catalogues: Vec<Catalogue>,
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    rng.sample::<f32, _>(StandardNormal)
}

impl World {
    pub fn new(cfg: &SynthConfig) -> DataResult<World> {
        cfg.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(WORLD_STREAM);
        let (k, d) = (cfg.n_topics as usize, cfg.latent_dim as usize);
        let per_dim = 1.0 / (d as f32).sqrt();

        let topic_centroids: Vec<f32> = (0..k * d)
            .map(|_| normal(&mut rng) * TOPIC_CENTROID_SCALE * per_dim)
            .collect();

        let authors: Vec<Author> = (0..cfg.n_authors)
            .map(|_| Author {
                quality: normal(&mut rng) * AUTHOR_QUALITY_SD,
                home_topic: rng.gen_range(0..cfg.n_topics),
            })
            .collect();

        let horizon = (cfg.days * 86_400.0) as i64;
        let mut items = Vec::with_capacity(cfg.n_items as usize);
        let mut item_latent = Vec::with_capacity(cfg.n_items as usize * d);
        for _ in 0..cfg.n_items {
            let author = rng.gen_range(0..cfg.n_authors);
            let topic = if rng.gen_bool(AUTHOR_TOPIC_LOYALTY) {
                authors[author as usize].home_topic
            } else {
                rng.gen_range(0..cfg.n_topics)
            };
            let log_duration = DURATION_MEDIAN_S.ln() + DURATION_LOG_SD * normal(&mut rng);
            let publish_time = if rng.gen_bool(BACK_CATALOGUE_SHARE) {
                rng.gen_range(-horizon..=0)
            } else {
                rng.gen_range(0..=horizon)
            };
            let centroid = &topic_centroids[topic as usize * d..][..d];
            item_latent.extend(
                centroid
                    .iter()
                    .map(|c| c + normal(&mut rng) * ITEM_LATENT_NOISE * per_dim),
            );
            items.push(Item {
                topic,
                author,
                quality: normal(&mut rng) * ITEM_QUALITY_SD,
                duration_s: log_duration.exp().clamp(DURATION_MIN_S, DURATION_MAX_S),
                publish_time,
                popularity: 0.0,
            });
        }
        // Popularity: Zipf over the rank of a noisy quality score.
        let rank_score: Vec<f32> = items
            .iter()
            .map(|it| it.quality + POPULARITY_RANK_NOISE * normal(&mut rng))
            .collect();
        let mut by_score: Vec<usize> = (0..items.len()).collect();
        by_score.sort_by(|&a, &b| rank_score[b].total_cmp(&rank_score[a]).then(a.cmp(&b)));
        for (rank, &i) in by_score.iter().enumerate() {
            items[i].popularity = ((rank + 1) as f64).powf(-cfg.item_popularity_exponent);
        }

        let gamma = Gamma::new(cfg.interest_concentration, 1.0).expect("validated concentration");
        let mut user_topic_logits = Vec::with_capacity(cfg.n_users as usize * k);
        let mut theta = vec![0.0f64; k];
        for _ in 0..cfg.n_users {
            theta.iter_mut().for_each(|t| *t = rng.sample(gamma));
            let sum: f64 = theta.iter().sum();
            if sum > 0.0 {
                theta.iter_mut().for_each(|t| *t /= sum);
            } else {
                theta.iter_mut().for_each(|t| *t = 0.0);
                theta[rng.gen_range(0..k)] = 1.0;
            }
            let logits = theta.iter().map(|&t| (t + 1.0 / k as f64).ln() as f32);
            let start = user_topic_logits.len();
            user_topic_logits.extend(logits);
            let row = &mut user_topic_logits[start..];
            let mean = row.iter().sum::<f32>() / k as f32;
            row.iter_mut().for_each(|l| *l -= mean);
        }
        let user_latent: Vec<f32> = (0..cfg.n_users as usize * d)
            .map(|_| normal(&mut rng) * USER_LATENT_SCALE * per_dim)
            .collect();
        let mut activity_rank: Vec<u32> = (0..cfg.n_users).collect();
        activity_rank.shuffle(&mut rng);
        let users: Vec<User> = activity_rank
            .iter()
            .map(|&rank| User {
                activity: ((rank + 1) as f64).powf(-cfg.user_activity_exponent),
                activity_bucket: (rank as u64 * ACTIVITY_BUCKETS as u64 / cfg.n_users as u64)
                    as u32,
                click_propensity: normal(&mut rng) * USER_PROPENSITY_SD,
                patience: normal(&mut rng) * USER_PATIENCE_SD,
                like_propensity: normal(&mut rng) * USER_LIKE_PROPENSITY_SD,
            })
            .collect();

        let entry = |(i, it): (usize, &Item)| (it.publish_time, i as u32, it.popularity);
        let catalogue = Catalogue::new(items.iter().enumerate().map(entry).collect());
        let topic_catalogues = (0..cfg.n_topics)
            .map(|t| {
                let in_topic = items.iter().enumerate().filter(|(_, it)| it.topic == t);
                Catalogue::new(in_topic.map(entry).collect())
            })
            .collect();
        Ok(World {
            cfg: cfg.clone(),
            user_cumulative_activity: cumulative(users.iter().map(|u| u.activity)),
            authors,
            items,
            users,
            topic_centroids,
            item_latent,
            user_latent,
            user_topic_logits,
            catalogue,
            topic_catalogues,
        })
    }

    /// A user, proportional to activity.
    pub(crate) fn draw_user<R: Rng>(&self, rng: &mut R) -> u32 {
        weighted_index(&self.user_cumulative_activity, rng) as u32
    }

    pub fn item_latent(&self, item: u32) -> &[f32] {
        let d = self.cfg.latent_dim as usize;
        &self.item_latent[item as usize * d..][..d]
    }
}
