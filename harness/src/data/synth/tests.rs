//! Tests of the synthetic world: determinism, calibration of labels to the oracle, base
//! rates, streaming, and that the signal lives in user x item interactions.

use std::collections::HashMap;

use super::labels::{CLICK, LIKE, LONG_VIEW};
use super::*;

/// ROC AUC of `scores` for binary `labels`, ties counted as half.
fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut positives) = (0.0f64, 0u64);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j < order.len() && scores[order[j]] == scores[order[i]] {
            j += 1;
        }
        let mid_rank = (i + j + 1) as f64 / 2.0; // 1-based average rank of the tie block
        for &r in &order[i..j] {
            if labels[r] {
                rank_sum += mid_rank;
                positives += 1;
            }
        }
        i = j;
    }
    let (p, n) = (positives as f64, (labels.len() as u64 - positives) as f64);
    (rank_sum - p * (p + 1.0) / 2.0) / (p * n)
}

fn log_loss(probs: &[f32], labels: &[bool]) -> f64 {
    let total: f64 = probs
        .iter()
        .zip(labels)
        .map(|(&p, &y)| {
            let p = (p as f64).clamp(1e-7, 1.0 - 1e-7);
            if y {
                -p.ln()
            } else {
                -(1.0 - p).ln()
            }
        })
        .sum();
    total / probs.len() as f64
}

fn label_column(ds: &Dataset, l: usize) -> Vec<bool> {
    ds.labels[l].iter().map(|&y| y == 1.0).collect()
}

fn rate(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

fn small(seed: u64) -> SynthConfig {
    SynthConfig {
        n_users: 500,
        n_items: 300,
        events: 20_000,
        seed,
        ..SynthConfig::default()
    }
}

#[test]
fn same_seed_same_dataset_other_seed_differs() {
    let a = ctr_dataset(&small(1)).unwrap();
    let b = ctr_dataset(&small(1)).unwrap();
    let c = ctr_dataset(&small(2)).unwrap();
    for ds in [&a, &b, &c] {
        ds.validate().unwrap();
        assert_eq!(ds.rows(), 20_000);
    }
    assert_eq!(a.schema, b.schema);
    assert_eq!(
        (&a.sparse, &a.dense, &a.labels),
        (&b.sparse, &b.dense, &b.labels)
    );
    assert_eq!(
        (&a.group, &a.time, &a.oracle),
        (&b.group, &b.time, &b.oracle)
    );
    assert_ne!(a.sparse, c.sparse);
    assert_ne!(a.oracle, c.oracle);
}

/// Labels are Bernoulli draws of the oracle, base rates are in the documented ranges,
/// and like is rarer than long view, which is rarer than click.
#[test]
fn labels_follow_the_oracle_at_documented_rates() {
    let cfg = SynthConfig::default();
    let ds = ctr_dataset(&cfg).unwrap();
    ds.validate().unwrap();
    assert_eq!(ds.rows(), 200_000);
    let time = ds.time().unwrap();
    assert!(time.windows(2).all(|w| w[0] <= w[1]));
    let oracle = ds.oracle.as_ref().unwrap();
    let mut rates = [0.0; 3];
    for (l, name) in LABELS.iter().enumerate() {
        let p = oracle_scores(&ds, name).unwrap();
        assert!(p.iter().all(|&p| (0.0..=1.0).contains(&p)));
        let label_rate = rate(ds.labels[l].iter().map(|&y| y as f64));
        let oracle_rate = rate(p.iter().map(|&p| p as f64));
        let variance: f64 = p.iter().map(|&p| p as f64 * (1.0 - p as f64)).sum();
        let se = variance.sqrt() / p.len() as f64;
        assert!(
            (label_rate - oracle_rate).abs() < 4.0 * se,
            "{name}: label rate {label_rate:.5} vs oracle {oracle_rate:.5} (se {se:.5})"
        );
        rates[l] = label_rate;
    }
    let [click, long_view, like] = rates;
    assert!((0.10..=0.20).contains(&click), "click rate {click}");
    assert!(
        (0.30..=0.40).contains(&(long_view / click)),
        "long view / click {}",
        long_view / click
    );
    assert!((0.02..=0.04).contains(&like), "like rate {like}");
    assert!(like < long_view && long_view < click);
    // Long view and like need a click, row by row, in labels and in the oracle.
    for l in [LONG_VIEW, LIKE] {
        let below = |column: &[Vec<f32>]| column[l].iter().zip(&column[CLICK]).all(|(a, c)| a <= c);
        assert!(
            below(&ds.labels) && below(oracle),
            "{} without a click",
            LABELS[l]
        );
    }
}

#[test]
fn a_million_events_stream_in_time_order() {
    let cfg = SynthConfig {
        events: 1_000_000,
        ..SynthConfig::default()
    };
    let world = World::new(&cfg).unwrap();
    let stream = EventStream::new(&world);
    assert_eq!(stream.len(), 1_000_000);
    let (mut count, mut last_time, mut clicks) = (0u64, i64::MIN, 0u64);
    for e in stream {
        assert!(e.time >= last_time);
        assert!(world.items[e.item as usize].publish_time <= e.time);
        last_time = e.time;
        clicks += e.label[CLICK] as u64;
        count += 1;
    }
    assert_eq!(count, 1_000_000);
    assert!(last_time <= (cfg.days * 86_400.0 * 1.01) as i64);
    assert!(clicks > 50_000);
}

/// The oracle click AUC is high, and removing the user x item interaction (keeping its
/// per-user and per-item means, i.e. what an additive model on ids can learn) loses a
/// large part of it.
#[test]
fn click_signal_lives_in_interactions() {
    let world = World::new(&SynthConfig::default()).unwrap();
    let events: Vec<Event> = EventStream::new(&world).collect();
    let clicked: Vec<bool> = events.iter().map(|e| e.label[CLICK]).collect();
    let mut user_affinity: HashMap<u32, (f64, f64)> = HashMap::new();
    let mut item_affinity: HashMap<u32, (f64, f64)> = HashMap::new();
    for e in &events {
        for (map, key) in [(&mut user_affinity, e.user), (&mut item_affinity, e.item)] {
            let entry = map.entry(key).or_default();
            entry.0 += e.affinity as f64;
            entry.1 += 1.0;
        }
    }
    let mean = |map: &HashMap<u32, (f64, f64)>, key: u32| map[&key].0 / map[&key].1;
    let additive: Vec<f32> = events
        .iter()
        .map(|e| {
            let main_effects = mean(&user_affinity, e.user) + mean(&item_affinity, e.item);
            e.logits[CLICK] - e.affinity + main_effects as f32
        })
        .collect();
    let oracle: Vec<f32> = events.iter().map(|e| e.probability[CLICK]).collect();
    let oracle_auc = auc(&oracle, &clicked);
    let additive_auc = auc(&additive, &clicked);
    eprintln!("click AUC: oracle {oracle_auc:.4}, additive {additive_auc:.4}");
    assert!(
        (0.75..=0.85).contains(&oracle_auc),
        "oracle AUC {oracle_auc}"
    );
    assert!(
        oracle_auc - additive_auc > 0.06,
        "additive AUC {additive_auc}"
    );
}

#[test]
fn oracle_metrics_at_default_config() {
    let ds = ctr_dataset(&SynthConfig::default()).unwrap();
    for (l, name) in LABELS.iter().enumerate() {
        let y = label_column(&ds, l);
        let p = oracle_scores(&ds, name).unwrap();
        let (a, ll) = (auc(p, &y), log_loss(p, &y));
        eprintln!("{name}: oracle AUC {a:.4}, log loss {ll:.4}");
        assert!(a > 0.7 && ll < 0.4, "{name}: AUC {a}, log loss {ll}");
    }
}

#[test]
fn config_reads_defaults_and_rejects_typos_and_bad_values() {
    let cfg: SynthConfig = serde_json::from_str(r#"{"n_users": 10, "seed": 3}"#).unwrap();
    assert_eq!(cfg.n_users, 10);
    assert_eq!(cfg.n_items, SynthConfig::default().n_items);
    let typo = serde_json::from_str::<SynthConfig>(r#"{"n_user": 10}"#);
    assert!(typo.unwrap_err().to_string().contains("n_user"));
    for bad in [
        SynthConfig {
            n_topics: 0,
            ..SynthConfig::default()
        },
        SynthConfig {
            drift_rate: 1.5,
            ..SynthConfig::default()
        },
        SynthConfig {
            label_noise: f64::NAN,
            ..SynthConfig::default()
        },
    ] {
        assert!(World::new(&bad).is_err());
    }
}

#[test]
fn oracle_scores_needs_a_known_label_and_an_oracle() {
    let mut ds = ctr_dataset(&small(5)).unwrap();
    assert_eq!(oracle_scores(&ds, "like").unwrap().len(), ds.rows());
    assert!(oracle_scores(&ds, "purchase").is_err());
    ds.oracle = None;
    assert!(oracle_scores(&ds, "click").is_err());
}

/// Least-squares slope of `ln count` on `ln rank` (1-based) over the head of the ranks,
/// up to the first rank whose count falls below `min_count` (Poisson noise stays small,
/// and cutting by rank, not by each count, keeps lucky tail counts from flattening it).
/// Zero counts mark ranks to skip.
fn log_log_slope(counts_by_rank: &[u64], min_count: u64) -> f64 {
    let head = counts_by_rank
        .iter()
        .position(|&c| c > 0 && c < min_count)
        .unwrap_or(counts_by_rank.len());
    let points: Vec<(f64, f64)> = counts_by_rank[..head]
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(r, &c)| (((r + 1) as f64).ln(), (c as f64).ln()))
        .collect();
    assert!(points.len() >= 50, "too few ranks to fit: {}", points.len());
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

/// Event counts of users by activity rank, and of back-catalogue items (always
/// published, so only popularity decides their share) by popularity rank.
fn counts_by_rank(world: &World) -> (Vec<u64>, Vec<u64>) {
    let (mut users, mut items) = (vec![0u64; world.users.len()], vec![0u64; world.items.len()]);
    for e in EventStream::new(world) {
        users[e.user as usize] += 1;
        items[e.item as usize] += 1;
    }
    let mut by_activity: Vec<usize> = (0..users.len()).collect();
    by_activity.sort_by(|&a, &b| world.users[b].activity.total_cmp(&world.users[a].activity));
    let mut by_popularity: Vec<usize> = (0..items.len()).collect();
    by_popularity.sort_by(|&a, &b| {
        world.items[b]
            .popularity
            .total_cmp(&world.items[a].popularity)
    });
    // Ranks are over all items; items published during the period are left out (their
    // share also depends on when they appear): count 0 marks them.
    let items_by_rank = by_popularity
        .iter()
        .map(|&i| {
            if world.items[i].publish_time <= 0 {
                items[i]
            } else {
                0
            }
        })
        .collect();
    (
        by_activity.iter().map(|&u| users[u]).collect(),
        items_by_rank,
    )
}

/// The Zipf exponents are what the event counts show: with one topic and no random
/// exposure, an item's exposure share is its popularity weight `rank^-s`, and a user's
/// event share is `rank^-s`, so `ln count` falls with `ln rank` at slope `-s`.
#[test]
fn zipf_frequencies_follow_the_configured_exponents() {
    for (s_item, s_user) in [(0.7, 1.1), (1.2, 0.6)] {
        let cfg = SynthConfig {
            n_users: 2_000,
            n_items: 1_000,
            n_topics: 1,
            random_exposure: 0.0,
            events: 300_000,
            item_popularity_exponent: s_item,
            user_activity_exponent: s_user,
            seed: 11,
            ..SynthConfig::default()
        };
        let world = World::new(&cfg).unwrap();
        let (users, items) = counts_by_rank(&world);
        let (fit_user, fit_item) = (log_log_slope(&users, 30), log_log_slope(&items, 30));
        eprintln!("s_user {s_user}: fit {fit_user:.3}; s_item {s_item}: fit {fit_item:.3}");
        assert!(
            (fit_user + s_user).abs() < 0.05,
            "users: slope {fit_user}, s = {s_user}"
        );
        assert!(
            (fit_item + s_item).abs() < 0.05,
            "items: slope {fit_item}, s = {s_item}"
        );
    }
}

#[test]
fn zipf_exponents_are_deterministic_and_leave_the_default_hash_alone() {
    let longtail = SynthConfig {
        item_popularity_exponent: 1.1,
        user_activity_exponent: 1.0,
        ..small(4)
    };
    let (a, b) = (
        ctr_dataset(&longtail).unwrap(),
        ctr_dataset(&longtail).unwrap(),
    );
    assert_eq!(
        (&a.sparse, &a.labels, &a.oracle),
        (&b.sparse, &b.labels, &b.oracle)
    );
    let default = ctr_dataset(&small(4)).unwrap();
    assert_ne!(a.sparse, default.sparse);
    // The resolved config (hashed into results' data_sha256) names the exponents only
    // when they differ from the defaults, so the existing tasks keep their data hashes.
    let text = serde_json::to_string(&small(4)).unwrap();
    assert!(!text.contains("exponent"), "{text}");
    let text = serde_json::to_string(&longtail).unwrap();
    assert!(text.contains("\"item_popularity_exponent\":1.1"), "{text}");
    let back: SynthConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, longtail);
    let bad = SynthConfig {
        user_activity_exponent: -1.0,
        ..small(4)
    };
    let err = World::new(&bad).unwrap_err().to_string();
    assert!(err.contains("user_activity_exponent"), "{err}");
}
