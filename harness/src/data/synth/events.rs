//! The event stream: a lazy iterator over impressions in global time order. It keeps
//! only the per-user sequential state (drifting interests, session memory); nothing is
//! allocated per event.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::labels::{Shock, CLICK, LIKE, LONG_VIEW};
use super::params::*;
use super::world::World;

const EVENT_STREAM: u64 = 2;

/// How the item came to be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// Uniform over the published catalogue.
    Random,
    /// Proportional to global popularity.
    Popular,
    /// Topic by the user's current interest, then item by popularity within it.
    Interest,
}

/// One impression with its ground truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Event {
    pub user: u32,
    pub item: u32,
    /// Seconds since the start of the period; non-decreasing over the stream.
    pub time: i64,
    pub position: u32,
    pub exposure: Exposure,
    /// Days since the item was published (>= 0).
    pub item_age_days: f32,
    /// The user x item interaction part `A` of the click logit (already scaled).
    pub affinity: f32,
    /// Logits `[z_click, z_long_view | click, z_like | click]`, before the shock.
    pub logits: [f32; 3],
    /// True `[P(click), P(long_view), P(like)]` (unconditional).
    pub probability: [f32; 3],
    pub label: [bool; 3],
}

/// Lazily generated events of a `World`; see `World::events`.
#[derive(Debug, Clone)]
pub struct EventStream<'w> {
    world: &'w World,
    rng: ChaCha8Rng,
    shock: Shock,
    remaining: u64,
    clock_s: f64,
    mean_gap_s: f64,
    /// Current topic logits `l_u(n)`, `n_users x n_topics`.
    topic_logits: Vec<f32>,
    /// Current latent `v_u(n)`, `n_users x latent_dim`.
    latent: Vec<f32>,
    /// Session memory `s_u(n)` (decayed recent clicks per topic), `n_users x n_topics`.
    session: Vec<f32>,
    /// Scratch: cumulative topic weights for the interest exposure.
    topic_cumulative: Vec<f64>,
}

impl<'w> EventStream<'w> {
    /// The events of `world`, in time order, `cfg.events` of them.
    pub fn new(world: &'w World) -> EventStream<'w> {
        let cfg = &world.cfg;
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(EVENT_STREAM);
        // Start every user in the stationary distribution of the drift.
        let start = |base: &[f32], sd: f32, rng: &mut ChaCha8Rng| -> Vec<f32> {
            base.iter()
                .map(|b| b + sd * rng.sample::<f32, _>(StandardNormal))
                .collect()
        };
        let topic_logits = start(&world.user_topic_logits, TOPIC_DRIFT_SD, &mut rng);
        let latent = start(&world.user_latent, LATENT_DRIFT_SD, &mut rng);
        EventStream {
            world,
            shock: Shock::new(cfg.label_noise),
            remaining: cfg.events,
            clock_s: 0.0,
            mean_gap_s: cfg.days * 86_400.0 / cfg.events as f64,
            session: vec![0.0; world.user_topic_logits.len()],
            topic_cumulative: vec![0.0; cfg.n_topics as usize],
            topic_logits,
            latent,
            rng,
        }
    }

    /// One drift step (Ornstein-Uhlenbeck around the base) and session decay for `user`.
    fn advance_user(&mut self, user: usize) {
        let cfg = &self.world.cfg;
        let (k, d) = (cfg.n_topics as usize, cfg.latent_dim as usize);
        let rho = (1.0 - cfg.drift_rate) as f32;
        let innovation = (1.0 - rho * rho).sqrt();
        if innovation > 0.0 {
            let rng = &mut self.rng;
            let mut step = |current: &mut [f32], base: &[f32], sd: f32| {
                for (x, b) in current.iter_mut().zip(base) {
                    let noise = rng.sample::<f32, _>(StandardNormal);
                    *x = b + rho * (*x - b) + sd * innovation * noise;
                }
            };
            step(
                &mut self.topic_logits[user * k..][..k],
                &self.world.user_topic_logits[user * k..][..k],
                TOPIC_DRIFT_SD,
            );
            step(
                &mut self.latent[user * d..][..d],
                &self.world.user_latent[user * d..][..d],
                LATENT_DRIFT_SD,
            );
        }
        let decay = cfg.session_decay as f32;
        self.session[user * k..][..k]
            .iter_mut()
            .for_each(|s| *s *= decay);
    }

    /// The item shown to `user` at `time`, and how it was chosen.
    fn expose(&mut self, user: usize, time: i64) -> (u32, Exposure) {
        let world = self.world;
        let rng = &mut self.rng;
        let published = world.catalogue.published_by(time);
        if rng.gen::<f64>() < world.cfg.random_exposure {
            if let Some(item) = world.catalogue.uniform(published, rng) {
                return (item, Exposure::Random);
            }
        }
        if rng.gen::<f64>() >= POPULAR_SHARE_OF_TARGETED {
            let k = world.cfg.n_topics as usize;
            let logits = &self.topic_logits[user * k..][..k];
            let session = &self.session[user * k..][..k];
            let mut sum = 0.0;
            for ((c, l), s) in self.topic_cumulative.iter_mut().zip(logits).zip(session) {
                sum += ((l + s) as f64).exp();
                *c = sum;
            }
            let topic = super::sampling::weighted_index(&self.topic_cumulative, rng);
            let catalogue = &world.topic_catalogues[topic];
            if let Some(item) = catalogue.popular(catalogue.published_by(time), rng) {
                return (item, Exposure::Interest);
            }
        }
        let item = world
            .catalogue
            .popular(published, rng)
            .or_else(|| world.catalogue.popular(world.items.len(), rng))
            .expect("catalogue is not empty");
        (item, Exposure::Popular)
    }

    /// `A = scale * (a_t l_u(n)[t_i] + a_v <v_u(n), w_i> + a_s s_u(n)[t_i])`.
    fn affinity(&self, user: usize, item: u32) -> f32 {
        let world = self.world;
        let (k, d) = (world.cfg.n_topics as usize, world.cfg.latent_dim as usize);
        let topic = world.items[item as usize].topic as usize;
        let latent: f32 = self.latent[user * d..][..d]
            .iter()
            .zip(world.item_latent(item))
            .map(|(v, w)| v * w)
            .sum();
        let a = TOPIC_AFFINITY_WEIGHT * self.topic_logits[user * k + topic]
            + LATENT_AFFINITY_WEIGHT * latent
            + SESSION_AFFINITY_WEIGHT * self.session[user * k + topic];
        world.cfg.interaction_scale as f32 * a
    }
}

impl Iterator for EventStream<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let world = self.world;
        let gap = -(1.0 - self.rng.gen::<f64>()).ln() * self.mean_gap_s;
        self.clock_s += gap;
        let time = self.clock_s as i64;
        let user_id = world.draw_user(&mut self.rng);
        let user_ix = user_id as usize;
        self.advance_user(user_ix);
        let (item_id, exposure) = self.expose(user_ix, time);
        let position = self.rng.gen_range(0..world.cfg.n_positions);

        let user = &world.users[user_ix];
        let item = &world.items[item_id as usize];
        let author = &world.authors[item.author as usize];
        let item_age_days = (time - item.publish_time).max(0) as f32 / 86_400.0;
        let affinity = self.affinity(user_ix, item_id);
        let z_click = CLICK_BIAS + user.click_propensity + author.quality + item.quality + affinity
            - POSITION_DECAY * (position as f32).ln_1p()
            + FRESHNESS_BOOST * (-item_age_days / FRESHNESS_DAYS).exp();
        let z_long_view = LONG_VIEW_BIAS
            + user.patience
            + LONG_VIEW_DURATION_WEIGHT * item.standardized_log_duration()
            + LONG_VIEW_QUALITY_WEIGHT * item.quality
            + LONG_VIEW_AFFINITY_WEIGHT * affinity;
        let z_like = LIKE_BIAS
            + user.like_propensity
            + author.quality
            + item.quality
            + LIKE_AFFINITY_WEIGHT * affinity;
        let mut logits = [0.0; 3];
        logits[CLICK] = z_click;
        logits[LONG_VIEW] = z_long_view;
        logits[LIKE] = z_like;
        let probability = self.shock.probabilities(logits);
        let label = self.shock.draw(logits, &mut self.rng);
        if label[CLICK] {
            let k = world.cfg.n_topics as usize;
            self.session[user_ix * k + item.topic as usize] += 1.0;
        }
        Some(Event {
            user: user_id,
            item: item_id,
            time,
            position,
            exposure,
            item_age_days,
            affinity,
            logits,
            probability,
            label,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for EventStream<'_> {}
