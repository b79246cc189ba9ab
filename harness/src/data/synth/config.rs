//! `SynthConfig`: the size and knobs of a synthetic world, as read from task JSON.
//! Every field has a default, and unknown fields are rejected so typos fail loudly.

use serde::{Deserialize, Serialize};

use super::params::{ACTIVITY_EXPONENT, POPULARITY_EXPONENT};
use crate::data::error::{DataError, DataResult};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SynthConfig {
    pub n_users: u32,
    pub n_items: u32,
    pub n_topics: u32,
    pub n_authors: u32,
    /// Dimension of the user and item latent vectors.
    pub latent_dim: u32,
    /// Total number of events (rows).
    pub events: u64,
    /// Length of the simulated period; events arrive uniformly at random over it.
    pub days: f64,
    pub seed: u64,
    /// Dirichlet concentration of user topic interests: small = few favourite topics.
    pub interest_concentration: f64,
    /// Per-user-event mean reversion of the interest drift (0 = static interests).
    pub drift_rate: f64,
    /// Per-user-event decay of the session (recent clicks by topic) memory.
    pub session_decay: f64,
    /// Std of the unobserved per-event logit shock shared by all labels (integrated
    /// out of the oracle): larger = noisier labels, lower Bayes AUC.
    pub label_noise: f64,
    /// Multiplier on the user x item affinity (the interaction part of every logit).
    pub interaction_scale: f64,
    /// Share of exposures drawn uniformly from the published catalogue.
    pub random_exposure: f64,
    /// Number of feed positions.
    pub n_positions: u32,
    /// Zipf exponent `s` of item popularity: the item of popularity rank `r` (1-based)
    /// has exposure weight `r^-s`. Left out of the serialized config (and so of the data
    /// hash) at its default.
    #[serde(skip_serializing_if = "is_default_item_exponent")]
    pub item_popularity_exponent: f64,
    /// Zipf exponent of user activity: the user of (random) rank `r` draws events in
    /// proportion to `r^-s`. Left out of the serialized config at its default.
    #[serde(skip_serializing_if = "is_default_user_exponent")]
    pub user_activity_exponent: f64,
}

fn is_default_item_exponent(s: &f64) -> bool {
    *s == POPULARITY_EXPONENT
}

fn is_default_user_exponent(s: &f64) -> bool {
    *s == ACTIVITY_EXPONENT
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            n_users: 5_000,
            n_items: 2_000,
            n_topics: 20,
            n_authors: 200,
            latent_dim: 8,
            events: 200_000,
            days: 30.0,
            seed: 0,
            interest_concentration: 0.3,
            drift_rate: 0.02,
            session_decay: 0.7,
            label_noise: 0.5,
            interaction_scale: 1.0,
            random_exposure: 0.2,
            n_positions: 10,
            item_popularity_exponent: POPULARITY_EXPONENT,
            user_activity_exponent: ACTIVITY_EXPONENT,
        }
    }
}

/// Every synthetic world's check that its sizes are positive: an error naming
/// `<source> config `<field>`` for the first zero.
pub(crate) fn require_positive(source: &str, fields: &[(&str, u32)]) -> DataResult<()> {
    match fields.iter().find(|(_, v)| *v == 0) {
        Some((field, _)) => Err(DataError::invalid(
            format!("{source} config `{field}`"),
            "must be at least 1".to_string(),
        )),
        None => Ok(()),
    }
}

impl SynthConfig {
    /// Rejects sizes and knobs the generator cannot honour, naming the field.
    pub fn validate(&self) -> DataResult<()> {
        let bad = |field: &str, msg: String| {
            Err(DataError::invalid(format!("synth config `{field}`"), msg))
        };
        require_positive(
            "synth",
            &[
                ("n_users", self.n_users),
                ("n_items", self.n_items),
                ("n_topics", self.n_topics),
                ("n_authors", self.n_authors),
                ("latent_dim", self.latent_dim),
                ("n_positions", self.n_positions),
            ],
        )?;
        if self.events == 0 {
            return bad("events", "must be at least 1".into());
        }
        let ranges = [
            ("days", self.days, f64::MIN_POSITIVE, 1e5),
            (
                "interest_concentration",
                self.interest_concentration,
                1e-3,
                1e3,
            ),
            ("drift_rate", self.drift_rate, 0.0, 1.0),
            ("session_decay", self.session_decay, 0.0, 0.99),
            ("label_noise", self.label_noise, 0.0, 3.0),
            ("interaction_scale", self.interaction_scale, 0.0, 10.0),
            ("random_exposure", self.random_exposure, 0.0, 1.0),
            (
                "item_popularity_exponent",
                self.item_popularity_exponent,
                0.0,
                5.0,
            ),
            (
                "user_activity_exponent",
                self.user_activity_exponent,
                0.0,
                5.0,
            ),
        ];
        for (field, v, lo, hi) in ranges {
            if !(v.is_finite() && v >= lo && v <= hi) {
                return bad(field, format!("{v} is outside [{lo}, {hi}]"));
            }
        }
        Ok(())
    }
}
