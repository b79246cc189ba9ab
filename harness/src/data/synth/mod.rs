//! A seeded synthetic recommendation world with planted structure and known ground
//! truth. Everything is drawn from `SynthConfig::seed`; same config, same data.
//!
//! World (static, `world.rs`; coefficients in `params.rs`):
//!
//! ```text
//! topic centroid  c_t ~ N(0, 0.8^2 I/d)
//! author          q_a ~ N(0, 0.3^2), home topic uniform
//! item            author uniform; topic = author's home w.p. 0.7 else uniform
//!                 q_i ~ N(0, 0.4^2); ln duration ~ N(ln 90s, 0.9^2)
//!                 w_i = c_topic + N(0, 0.6^2 I/d); published before (70%) or during the period
//!                 popularity = rank^-s_item (default 0.9), rank by q_i + N(0, 1)
//! user            theta_u ~ Dirichlet(interest_concentration); l_u = ln(theta_u + 1/K), centred
//!                 v_u ~ N(0, I/d); activity = rank^-s_user (default 0.75; random rank)
//!                 b_u ~ N(0, 0.5^2) click, r_u ~ N(0, 0.4^2) patience, k_u ~ N(0, 0.7^2) like
//! ```
//!
//! Sequence (`events.rs`): events arrive as a Poisson process over `days`; the user of
//! each is drawn proportional to activity. At the user's n-th event, with
//! `rho = 1 - drift_rate`, interests drift (Ornstein-Uhlenbeck around the base) and the
//! session memory decays, then grows by one on the topic of every click:
//!
//! ```text
//! l_u(n) = l_u + rho (l_u(n-1) - l_u) + 0.5  sqrt(1 - rho^2) N(0, I)
//! v_u(n) = v_u + rho (v_u(n-1) - v_u) + 0.25 sqrt(1 - rho^2) N(0, I)
//! s_u(n) = session_decay * s_u(n-1)   (+ e_topic after a click)
//! ```
//!
//! Exposure: w.p. `random_exposure` uniform over published items; otherwise w.p. 0.4 by
//! popularity, else topic ~ softmax(l_u(n) + s_u(n)) then item by popularity in topic.
//! Position uniform in `[0, n_positions)`.
//!
//! Labels (`labels.rs`), with the interaction (affinity) term
//!
//! ```text
//! A       = interaction_scale * (0.9 l_u(n)[t_i] + 1.4 <v_u(n), w_i> + 0.3 s_u(n)[t_i])
//! z_click = -2.5 + b_u + q_a + q_i + A - 0.3 ln(1 + pos) + 0.4 exp(-age_days / 3)
//! z_lv    = -1.6 + r_u - 0.8 std_log_duration + 0.5 q_i + 0.5 A        (given click)
//! z_like  = -2.5 + k_u + q_a + q_i + 0.5 A                             (given click)
//! e ~ N(0, label_noise^2) shared;  click ~ B(s(z_click + e));
//! long_view = click * B(s(z_lv + e));  like = click * B(s(z_like + e))
//! oracle  = E_e of the above: P(click), P(click and long view), P(click and like)
//! ```
//!
//! The oracle is the exact label probability given everything a model could know (and
//! more: latent state), so its AUC / log loss is the Bayes bound of a task. At the
//! default config: click ~13%, long view ~4.7% (~35% of clicks), like ~3.2%; oracle
//! click AUC ~0.79, while the best additive (user + item main effects) version of the
//! click logit reaches only ~0.68.

pub mod config;
pub mod ctr;
pub mod events;
pub mod gen;
pub mod labels;
pub mod multitask;
pub mod params;
mod sampling;
pub mod seq;
mod vectors;
pub mod world;

#[cfg(test)]
mod tests;

pub use config::SynthConfig;
pub use ctr::{ctr_dataset, ctr_dataset_of, ctr_vocabularies, CTR_DENSE, CTR_SPARSE};
pub use events::{Event, EventStream, Exposure};
pub use gen::{synth_gen, GenWorld, SynthGen, SynthGenConfig};
pub use labels::LABELS;
pub use multitask::{mt_dataset_of, MT_CATEGORIES, MT_TASKS};
pub use seq::{synth_seq, SeqWorld, SynthSeq, SynthSeqConfig};
pub use world::World;

use crate::data::dataset::Dataset;
use crate::data::error::{DataError, DataResult};

/// The oracle probabilities of `label` (e.g. "click"), one per row.
pub fn oracle_scores<'d>(ds: &'d Dataset, label: &str) -> DataResult<&'d [f32]> {
    let index = ds.label_index(label)?;
    let oracle = ds
        .oracle
        .as_ref()
        .ok_or_else(|| DataError::invalid(&ds.name, "this dataset has no oracle probabilities"))?;
    Ok(&oracle[index])
}
