//! Tests of synth-gen: determinism, well-formed requests and oracle rows, actions drawn
//! at the stated probabilities, and that the history carries what an item-only scorer
//! cannot know (the oracle and a history-reading scorer beat per-item click rates).

use baselines::kinds::generative::action_flags;

use super::*;
use crate::metrics::auc;

fn small() -> SynthGenConfig {
    SynthGenConfig {
        seed: 5,
        n_users: 800,
        n_items: 300,
        ..Default::default()
    }
}

#[test]
fn same_config_same_logs_and_the_seed_matters() {
    let a = synth_gen(&small()).unwrap();
    let b = synth_gen(&small()).unwrap();
    assert_eq!(a.users, b.users);
    let c = synth_gen(&SynthGenConfig { seed: 6, ..small() }).unwrap();
    assert_ne!(a.users, c.users);
}

#[test]
fn requests_are_well_formed_and_actions_follow_the_oracle() {
    let cfg = small();
    let g = synth_gen(&cfg).unwrap();
    assert_eq!(g.users.len(), 800);
    let (mut clicks, mut p_click, mut likes, mut p_like, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut total_requests = 0;
    for u in &g.users {
        let o = u.oracle.as_ref().unwrap();
        assert!((4..=40).contains(&u.requests.len()));
        assert_eq!(o.len(), u.requests.len());
        total_requests += u.requests.len();
        for (k, r) in u.requests.iter().enumerate() {
            assert_eq!(r.time, k as i64);
            let m = r.exposures.len();
            assert!((4..=8).contains(&m));
            let mut items: Vec<u32> = r.exposures.iter().map(|e| e.item).collect();
            items.sort_unstable();
            items.dedup();
            assert_eq!(items.len(), m, "an item twice in one request");
            assert!(items.iter().all(|&i| (1..=300).contains(&i)));
            assert_eq!(o[k].len(), 2 * m);
            for (j, e) in r.exposures.iter().enumerate() {
                let f = action_flags(e.action, 2);
                assert!(!f[1] || f[0], "a like without a click");
                let (pc, pb) = (o[k][2 * j] as f64, o[k][2 * j + 1] as f64);
                assert!(0.0 < pb && pb <= pc && pc < 1.0);
                clicks += f[0] as u8 as f64;
                likes += f[1] as u8 as f64;
                p_click += pc;
                p_like += pb;
                n += 1.0;
            }
        }
    }
    let mean_requests = total_requests as f64 / 800.0;
    assert!((mean_requests - 14.0).abs() < 1.0, "{mean_requests}");
    // Empirical rates match the oracle's mean probabilities (n is about 67k: the
    // standard error of a rate is below 0.002).
    let (cr, lr) = (clicks / n, likes / n);
    eprintln!(
        "click rate {cr:.4} (oracle {:.4}), like rate {lr:.4} (oracle {:.4})",
        p_click / n,
        p_like / n
    );
    assert!((cr - p_click / n).abs() < 0.01 && (lr - p_like / n).abs() < 0.01);
    assert!(
        (0.15..0.5).contains(&cr) && (0.03..0.25).contains(&lr),
        "{cr} {lr}"
    );
}

/// On every user's last request: the oracle's click AUC, a scorer that reads the
/// history (the world's item vectors, averaged over the items clicked in the last 3
/// requests, against the candidate's) plus the item's training click rate, and the
/// item click rate alone (what a history-blind model can learn at best).
#[test]
fn the_oracle_and_the_history_beat_the_per_item_click_rate() {
    let cfg = small();
    let g = synth_gen(&cfg).unwrap();
    let w = &g.world;
    let d = w.dim();
    let mut shown = vec![1.0f64; cfg.n_items as usize + 1];
    let mut clicked = vec![0.3f64; cfg.n_items as usize + 1];
    for u in &g.users {
        for r in &u.requests[..u.requests.len() - 1] {
            for e in &r.exposures {
                shown[e.item as usize] += 1.0;
                clicked[e.item as usize] += action_flags(e.action, 2)[0] as u8 as f64;
            }
        }
    }
    let rate = |i: u32| (clicked[i as usize] / shown[i as usize]) as f32;
    let (mut labels, mut oracle, mut item_rate, mut history) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for u in &g.users {
        let last = u.requests.len() - 1;
        let mut taste = vec![0.0f32; d];
        for r in &u.requests[last.saturating_sub(3)..last] {
            for e in r.exposures.iter().filter(|e| action_flags(e.action, 2)[0]) {
                taste
                    .iter_mut()
                    .zip(w.item(e.item))
                    .for_each(|(t, x)| *t += x);
            }
        }
        for (j, e) in u.requests[last].exposures.iter().enumerate() {
            labels.push(action_flags(e.action, 2)[0] as u8 as f32);
            oracle.push(u.oracle.as_ref().unwrap()[last][2 * j]);
            item_rate.push(rate(e.item));
            let affinity: f32 = taste.iter().zip(w.item(e.item)).map(|(a, b)| a * b).sum();
            history.push(affinity + 4.0 * rate(e.item));
        }
    }
    let (ao, ah, ai) = (
        auc(&oracle, &labels).unwrap(),
        auc(&history, &labels).unwrap(),
        auc(&item_rate, &labels).unwrap(),
    );
    eprintln!(
        "click AUC on last requests: oracle {ao:.4}, history scorer {ah:.4}, item rate {ai:.4}"
    );
    assert!(ao > ai + 0.05, "oracle {ao} vs item rate {ai}");
    assert!(ah > ai + 0.02, "history scorer {ah} vs item rate {ai}");
    assert!(ao > ah, "oracle {ao} vs history scorer {ah}");
}

#[test]
fn bad_configs_name_the_field() {
    for (cfg, field) in [
        (
            SynthGenConfig {
                min_requests: 2,
                ..small()
            },
            "min_requests",
        ),
        (
            SynthGenConfig {
                max_exposures: 400,
                ..small()
            },
            "max_exposures",
        ),
        (
            SynthGenConfig {
                drift: 1.5,
                ..small()
            },
            "drift",
        ),
        (
            SynthGenConfig {
                n_items: 0,
                ..small()
            },
            "n_items",
        ),
    ] {
        let err = synth_gen(&cfg).unwrap_err().to_string();
        assert!(err.contains(&format!("`{field}`")), "{field}: {err}");
    }
}

#[test]
fn zero_sizes_are_errors_that_name_the_world_and_field() {
    for (field, set) in [
        (
            "n_items",
            (|c: &mut SynthGenConfig| c.n_items = 0) as fn(&mut SynthGenConfig),
        ),
        ("min_exposures", |c| c.min_exposures = 0),
    ] {
        let mut cfg = small();
        set(&mut cfg);
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains(&format!("synth_gen config `{field}`")), "{e}");
        assert!(e.contains("must be at least 1"), "{e}");
    }
    assert!(small().validate().is_ok());
}
