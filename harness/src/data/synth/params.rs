//! The fixed coefficients of the generative model (the knobs live in `SynthConfig`).
//! Kept in one place so the ground truth can be read, and tuned, at a glance.

// --- World ---------------------------------------------------------------------------

/// Norm scale of the topic centroids `c_t ~ N(0, s^2 I / d)`.
pub const TOPIC_CENTROID_SCALE: f32 = 0.8;
/// Item latent noise around its topic centroid: `w_i = c_t + N(0, s^2 I / d)`.
pub const ITEM_LATENT_NOISE: f32 = 0.6;
/// User base latent `v_u ~ N(0, s^2 I / d)`.
pub const USER_LATENT_SCALE: f32 = 1.0;
/// Probability that an item's topic is its author's home topic (else uniform).
pub const AUTHOR_TOPIC_LOYALTY: f64 = 0.7;
pub const AUTHOR_QUALITY_SD: f32 = 0.3;
pub const ITEM_QUALITY_SD: f32 = 0.4;
/// Popularity weight of the item of rank r (1-based) is `r^-s`, `s` =
/// `SynthConfig::item_popularity_exponent` (default this); ranks follow
/// `quality + N(0, POPULARITY_RANK_NOISE^2)`, so popular items are a bit better.
pub const POPULARITY_EXPONENT: f64 = 0.9;
pub const POPULARITY_RANK_NOISE: f32 = 1.0;
/// Activity of the user of (random) rank r is `r^-s`, `s` =
/// `SynthConfig::user_activity_exponent` (default this).
pub const ACTIVITY_EXPONENT: f64 = 0.75;
/// Number of user activity buckets (equal-size rank buckets, 0 = most active).
pub const ACTIVITY_BUCKETS: u32 = 10;
/// Duration: `ln d ~ N(ln DURATION_MEDIAN_S, DURATION_LOG_SD^2)`, clamped to the bucket range.
pub const DURATION_MEDIAN_S: f32 = 90.0;
pub const DURATION_LOG_SD: f32 = 0.9;
pub const DURATION_MIN_S: f32 = 5.0;
pub const DURATION_MAX_S: f32 = 3600.0;
/// Log-spaced duration buckets over `[DURATION_MIN_S, DURATION_MAX_S]`.
pub const DURATION_BUCKETS: u32 = 10;
/// Share of items published before the simulated period (the rest appear during it).
pub const BACK_CATALOGUE_SHARE: f64 = 0.7;
pub const USER_PROPENSITY_SD: f32 = 0.5;
pub const USER_PATIENCE_SD: f32 = 0.4;
pub const USER_LIKE_PROPENSITY_SD: f32 = 0.7;

// --- Sequential state ----------------------------------------------------------------

/// Stationary std of a user's topic-logit drift around their base interests.
pub const TOPIC_DRIFT_SD: f32 = 0.5;
/// Stationary std of a user's latent drift around their base latent (per coordinate).
pub const LATENT_DRIFT_SD: f32 = 0.25;

// --- Exposure ------------------------------------------------------------------------

/// Share of non-random exposures drawn by global popularity; the rest pick a topic by
/// the user's current interest `softmax(l_u + s_u)` and then an item by popularity.
pub const POPULAR_SHARE_OF_TARGETED: f64 = 0.4;

// --- Click -----------------------------------------------------------------------------

pub const CLICK_BIAS: f32 = -2.5;
pub const TOPIC_AFFINITY_WEIGHT: f32 = 0.9;
pub const LATENT_AFFINITY_WEIGHT: f32 = 1.4;
pub const SESSION_AFFINITY_WEIGHT: f32 = 0.3;
/// Position effect `-POSITION_DECAY * ln(1 + position)`.
pub const POSITION_DECAY: f32 = 0.3;
/// Freshness effect `FRESHNESS_BOOST * exp(-age_days / FRESHNESS_DAYS)`.
pub const FRESHNESS_BOOST: f32 = 0.4;
pub const FRESHNESS_DAYS: f32 = 3.0;

// --- Long view and like, given a click -------------------------------------------------

pub const LONG_VIEW_BIAS: f32 = -1.6;
/// Weight on the standardized log duration (longer items are watched through less).
pub const LONG_VIEW_DURATION_WEIGHT: f32 = -0.8;
pub const LONG_VIEW_AFFINITY_WEIGHT: f32 = 0.5;
pub const LONG_VIEW_QUALITY_WEIGHT: f32 = 0.5;
pub const LIKE_BIAS: f32 = -2.5;
pub const LIKE_AFFINITY_WEIGHT: f32 = 0.5;
