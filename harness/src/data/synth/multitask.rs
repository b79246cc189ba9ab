//! The multi-task view of a synthetic world: the CTR view's rows (the same events and
//! features, `ctr.rs`) with six feedbacks in two meta-categories, as in HoME's
//! KuaiRand setting (arXiv 2408.05430): passive watch signals and interactions.
//!
//! Each category shares one unobserved per-event shock (`e_p`, `e_i`, both
//! `N(0, label_noise^2)`), so tasks of a category are correlated beyond their features;
//! the rare interactions are conditional on a click. With `A` the event's affinity,
//! `r_u` patience, `k_u` like propensity, `q_i`, `q_a` item and author quality, `d_i`
//! the standardized log duration, and `z_click`, `z_like` the world's logits:
//!
//! ```text
//! effective_view ~ B(s(-0.2 + r_u - 0.4 d_i + 0.5 q_i + 0.6 A + e_p))
//! long_view      = effective_view * B(s(-1.2 + r_u + 0.6 d_i + 0.6 q_i + 0.5 A + e_p))
//! click          ~ B(s(z_click + e_i))
//! like           = click * B(s(z_like + e_i))
//! comment        = click * B(s(-4.5 + k_u + q_a + 0.8 A + e_i))
//! follow         = click * B(s(-6.0 + 0.5 k_u + 2 q_a + 0.5 A + e_i))
//! ```
//!
//! The oracle integrates each category's shock out, e.g.
//! `P(long_view) = E_e[s(z_ev + e) s(z_lv + e)]` (quadrature, `labels.rs`). The labels
//! come from their own random stream, so the CTR view's rows are untouched.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ctr::ctr_dataset_of;
use super::events::EventStream;
use super::labels::{sigmoid, Shock, CLICK, LIKE};
use super::world::World;
use crate::data::dataset::Dataset;

/// The tasks, in label order.
pub const MT_TASKS: [&str; 6] = [
    "effective_view",
    "long_view",
    "click",
    "like",
    "comment",
    "follow",
];
/// The meta-categories and their tasks (indices into [`MT_TASKS`]).
pub const MT_CATEGORIES: [(&str, &[usize]); 2] =
    [("passive", &[0, 1]), ("interactive", &[2, 3, 4, 5])];

const LABEL_STREAM: u64 = 7;

/// The six logits of one event (long view, like, comment, follow: given their parent).
fn logits(world: &World, ev: &super::events::Event) -> [f32; 6] {
    let user = &world.users[ev.user as usize];
    let item = &world.items[ev.item as usize];
    let author = &world.authors[item.author as usize];
    let (a, d) = (ev.affinity, item.standardized_log_duration());
    [
        -0.2 + user.patience - 0.4 * d + 0.5 * item.quality + 0.6 * a,
        -1.2 + user.patience + 0.6 * d + 0.6 * item.quality + 0.5 * a,
        ev.logits[CLICK],
        ev.logits[LIKE],
        -4.5 + user.like_propensity + author.quality + 0.8 * a,
        -6.0 + 0.5 * user.like_propensity + 2.0 * author.quality + 0.5 * a,
    ]
}

/// True `P(label = 1)` of each task, the category shocks integrated out.
fn probabilities(shock: &Shock, z: &[f32; 6]) -> [f32; 6] {
    let child = |parent: f32, own: f32| shock.expect(|e| sigmoid(parent + e) * sigmoid(own + e));
    [
        shock.expect(|e| sigmoid(z[0] + e)),
        child(z[0], z[1]),
        shock.expect(|e| sigmoid(z[2] + e)),
        child(z[2], z[3]),
        child(z[2], z[4]),
        child(z[2], z[5]),
    ]
}

/// The six labels, drawn with one shock per category.
fn draw<R: Rng>(shock: &Shock, z: &[f32; 6], rng: &mut R) -> [bool; 6] {
    let (ep, ei) = (shock.sample(rng), shock.sample(rng));
    let mut b = |z: f32, e: f32| rng.gen::<f32>() < sigmoid(z + e);
    let ev = b(z[0], ep);
    let lv = b(z[1], ep);
    let click = b(z[2], ei);
    let like = b(z[3], ei);
    let comment = b(z[4], ei);
    let follow = b(z[5], ei);
    [
        ev,
        ev && lv,
        click,
        click && like,
        click && comment,
        click && follow,
    ]
}

/// The world's CTR rows with the six tasks as labels and their true probabilities as
/// the oracle. Sparse and dense features, group (user) and time are the CTR view's.
pub fn mt_dataset_of(world: &World) -> Dataset {
    let mut ds = ctr_dataset_of(world);
    let n = ds.rows();
    let shock = Shock::new(world.cfg.label_noise);
    let mut rng = ChaCha8Rng::seed_from_u64(world.cfg.seed);
    rng.set_stream(LABEL_STREAM);
    let mut labels = vec![Vec::with_capacity(n); MT_TASKS.len()];
    let mut oracle = vec![Vec::with_capacity(n); MT_TASKS.len()];
    for ev in EventStream::new(world) {
        let z = logits(world, &ev);
        let p = probabilities(&shock, &z);
        let y = draw(&shock, &z, &mut rng);
        for t in 0..MT_TASKS.len() {
            labels[t].push(y[t] as u8 as f32);
            oracle[t].push(p[t]);
        }
    }
    ds.schema.labels = MT_TASKS.iter().map(|s| s.to_string()).collect();
    ds.labels = labels;
    ds.oracle = Some(oracle);
    ds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synth::SynthConfig;

    fn small() -> World {
        let cfg = SynthConfig {
            n_users: 300,
            n_items: 200,
            events: 60_000,
            ..Default::default()
        };
        World::new(&cfg).unwrap()
    }

    #[test]
    fn rates_follow_the_design_and_the_oracle_is_calibrated() {
        let world = small();
        let ds = mt_dataset_of(&world);
        let ctr = ctr_dataset_of(&world);
        assert_eq!(ds.sparse, ctr.sparse, "the CTR view's rows");
        assert_eq!(ds.time, ctr.time);
        let n = ds.rows() as f64;
        let rate = |t: usize| ds.labels[t].iter().map(|&y| y as f64).sum::<f64>() / n;
        let rates: Vec<f64> = (0..6).map(rate).collect();
        eprintln!("rates {rates:?}");
        // Children never exceed their parents; follow is the rarest (about 0.1%).
        for (child, parent) in [(1, 0), (3, 2), (4, 2), (5, 2)] {
            assert!(ds.labels[child]
                .iter()
                .zip(&ds.labels[parent])
                .all(|(c, p)| c <= p));
        }
        assert!(
            rates[0] > rates[2] && rates[5] < rates[4] && rates[5] < 0.003,
            "{rates:?}"
        );
        assert!(rates[5] > 0.0003, "{rates:?}");
        // The oracle's mean matches each task's rate within sampling error.
        let oracle = ds.oracle.as_ref().unwrap();
        for t in 0..6 {
            let p = oracle[t].iter().map(|&x| x as f64).sum::<f64>() / n;
            let se = (p * (1.0 - p) / n).sqrt();
            assert!(
                (p - rates[t]).abs() < 4.0 * se + 1e-4,
                "task {t}: {p} vs {}",
                rates[t]
            );
        }
    }

    #[test]
    fn tasks_of_a_category_share_their_shock() {
        let world = small();
        let ds = mt_dataset_of(&world);
        let o = ds.oracle.as_ref().unwrap();
        let n = ds.rows();
        let both = |a: usize, b: usize| {
            (0..n)
                .map(|r| (ds.labels[a][r] * ds.labels[b][r]) as f64)
                .sum::<f64>()
        };
        // Across categories the shocks are independent: given the features, effective
        // view and click co-occur as the product of their probabilities.
        let indep: f64 = (0..n).map(|r| (o[0][r] * o[2][r]) as f64).sum();
        let across = both(0, 2) / indep;
        assert!((across - 1.0).abs() < 0.05, "across categories: {across}");
        // Within one, like and comment share the click's shock:
        // P(like, comment) = E_e[s(z_click + e) s(z_like + e) s(z_comment + e)].
        let shock = Shock::new(world.cfg.label_noise);
        let shared: f64 = EventStream::new(&world)
            .map(|ev| {
                let z = logits(&world, &ev);
                shock.expect(|e| sigmoid(z[2] + e) * sigmoid(z[3] + e) * sigmoid(z[4] + e)) as f64
            })
            .sum();
        let got = both(3, 4);
        assert!(
            (got - shared).abs() < 4.0 * shared.sqrt() + 2.0,
            "like and comment: {got} vs {shared} expected"
        );
    }
}
