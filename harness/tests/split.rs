//! Split kinds, their determinism and invariants, content hashes and error messages.

use std::collections::{HashMap, HashSet};

use harness::data::split::{part_sha256, split, Split, SplitSpec};
use harness::data::{Dataset, Schema, SparseField};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` rows over `users` users, times with many ties, one field of each kind.
fn dataset(n: usize, users: u32) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    Dataset {
        name: "toy".into(),
        schema: Schema {
            sparse: vec![SparseField {
                name: "item".into(),
                vocab: 50,
            }],
            dense: vec!["price".into()],
            labels: vec!["click".into()],
        },
        sparse: vec![(0..n).map(|_| rng.gen_range(0..50)).collect()],
        dense: vec![(0..n).map(|_| rng.gen::<f32>()).collect()],
        labels: vec![(0..n).map(|_| f32::from(rng.gen_bool(0.3) as u8)).collect()],
        group: Some((0..n).map(|_| rng.gen_range(0..users)).collect()),
        time: Some((0..n).map(|_| rng.gen_range(0..n as i64 / 4)).collect()),
        treatment: None,
        oracle: None,
    }
}

fn temporal() -> SplitSpec {
    SplitSpec::Temporal {
        valid: 0.1,
        test: 0.2,
    }
}
fn random() -> SplitSpec {
    SplitSpec::Random {
        valid: 0.1,
        test: 0.2,
    }
}
fn by_user() -> SplitSpec {
    SplitSpec::RandomByUser {
        valid: 0.1,
        test: 0.2,
    }
}

fn all_specs() -> Vec<SplitSpec> {
    vec![temporal(), SplitSpec::LeaveOneOut, by_user(), random()]
}

/// Parts are sorted, disjoint and cover all rows.
fn assert_partition(s: &Split, n: usize) {
    let mut all: Vec<usize> = [&s.train[..], &s.valid[..], &s.test[..]].concat();
    for part in [&s.train, &s.valid, &s.test] {
        assert!(
            part.windows(2).all(|w| w[0] < w[1]),
            "part not sorted ascending"
        );
    }
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

#[test]
fn every_kind_partitions_the_rows_deterministically() {
    let ds = dataset(2000, 100);
    for spec in all_specs() {
        let a = split(&ds, &spec, 7).unwrap();
        assert_partition(&a, ds.rows());
        assert_eq!(a, split(&ds, &spec, 7).unwrap(), "{spec:?}");
        assert_eq!(a.hashes(&ds), split(&ds, &spec, 7).unwrap().hashes(&ds));
    }
}

#[test]
fn seed_changes_random_splits_only() {
    let ds = dataset(2000, 100);
    for spec in [random(), by_user()] {
        let (a, b) = (split(&ds, &spec, 1).unwrap(), split(&ds, &spec, 2).unwrap());
        assert_ne!(a.test, b.test, "{spec:?}");
        assert_ne!(a.hashes(&ds).test, b.hashes(&ds).test);
    }
    for spec in [temporal(), SplitSpec::LeaveOneOut] {
        assert_eq!(split(&ds, &spec, 1).unwrap(), split(&ds, &spec, 2).unwrap());
    }
}

#[test]
fn row_fractions_are_as_requested() {
    let ds = dataset(2001, 100);
    for spec in [temporal(), random()] {
        let s = split(&ds, &spec, 3).unwrap();
        // 0.1 * 2001 = 200.1, 0.2 * 2001 = 400.2.
        assert_eq!(
            (s.train.len(), s.valid.len(), s.test.len()),
            (1401, 200, 400)
        );
    }
}

#[test]
fn temporal_never_trains_on_the_future() {
    let ds = dataset(2000, 100);
    let time = ds.time.as_ref().unwrap();
    let s = split(&ds, &temporal(), 0).unwrap();
    let max = |rows: &[usize]| rows.iter().map(|&r| time[r]).max().unwrap();
    let min = |rows: &[usize]| rows.iter().map(|&r| time[r]).min().unwrap();
    assert!(max(&s.train) <= min(&s.valid));
    assert!(max(&s.valid) <= min(&s.test));
    assert!(max(&s.train) <= min(&s.test));
    // Ties across a cut are broken by row index.
    let key = |r: usize| (time[r], r);
    let last_train = s.train.iter().map(|&r| key(r)).max().unwrap();
    assert!(s.valid.iter().all(|&r| key(r) > last_train));
}

#[test]
fn leave_one_out_holds_out_each_users_last_two_events() {
    let mut ds = dataset(600, 150);
    // A user with two events stays in train.
    ds.group.as_mut().unwrap()[..2].copy_from_slice(&[999, 999]);
    let (group, time) = (ds.group.clone().unwrap(), ds.time.clone().unwrap());
    let s = split(&ds, &SplitSpec::LeaveOneOut, 0).unwrap();
    let mut events: HashMap<u32, Vec<usize>> = HashMap::new();
    for (r, &u) in group.iter().enumerate() {
        events.entry(u).or_default().push(r);
    }
    let (valid, test): (HashSet<usize>, HashSet<usize>) = (
        s.valid.iter().copied().collect(),
        s.test.iter().copied().collect(),
    );
    assert_eq!(events[&999].len(), 2);
    for (u, mut rows) in events {
        rows.sort_by_key(|&r| (time[r], r));
        let in_valid: Vec<usize> = rows.iter().copied().filter(|r| valid.contains(r)).collect();
        let in_test: Vec<usize> = rows.iter().copied().filter(|r| test.contains(r)).collect();
        if rows.len() >= 3 {
            assert_eq!(in_test, [rows[rows.len() - 1]], "user {u}");
            assert_eq!(in_valid, [rows[rows.len() - 2]], "user {u}");
        } else {
            assert!(in_valid.is_empty() && in_test.is_empty(), "user {u}");
        }
    }
}

#[test]
fn random_by_user_keeps_each_user_in_one_part() {
    let ds = dataset(3000, 200);
    let group = ds.group.as_ref().unwrap();
    let s = split(&ds, &by_user(), 5).unwrap();
    let users = |rows: &[usize]| rows.iter().map(|&r| group[r]).collect::<HashSet<u32>>();
    let (tr, va, te) = (users(&s.train), users(&s.valid), users(&s.test));
    assert!(tr.is_disjoint(&va) && tr.is_disjoint(&te) && va.is_disjoint(&te));
    // Fractions are of users: 200 users -> 20 valid, 40 test.
    assert_eq!((tr.len(), va.len(), te.len()), (140, 20, 40));
}

#[test]
fn hash_follows_content() {
    let ds = dataset(500, 20);
    let rows: Vec<usize> = (100..300).collect();
    let h = part_sha256(&ds, &rows);
    assert_eq!(h.len(), 64);
    // Same content under another name and from a copied subset: same hash.
    let mut renamed = ds.clone();
    renamed.name = "other".into();
    assert_eq!(part_sha256(&renamed, &rows), h);
    let sub = ds.subset(&rows);
    assert_eq!(part_sha256(&sub, &(0..200).collect::<Vec<_>>()), h);
    // One flipped label, one changed time, one renamed field: different hashes.
    let mut flipped = ds.clone();
    flipped.labels[0][150] = 1.0 - flipped.labels[0][150];
    assert_ne!(part_sha256(&flipped, &rows), h);
    // ... but a change outside the rows does not matter.
    assert_eq!(
        part_sha256(&flipped, &(0..100).collect::<Vec<_>>()),
        part_sha256(&ds, &(0..100).collect::<Vec<_>>())
    );
    let mut moved = ds.clone();
    moved.time.as_mut().unwrap()[299] += 1;
    assert_ne!(part_sha256(&moved, &rows), h);
    let mut renamed_field = ds.clone();
    renamed_field.schema.dense[0] = "cost".into();
    assert_ne!(part_sha256(&renamed_field, &rows), h);
    let mut bigger_vocab = ds.clone();
    bigger_vocab.schema.sparse[0].vocab = 51;
    assert_ne!(part_sha256(&bigger_vocab, &rows), h);
    // The split's hashes see the flip in whichever part holds the row.
    let s = split(&ds, &random(), 0).unwrap();
    let (a, b) = (s.hashes(&ds), s.hashes(&flipped));
    assert_eq!(
        [a.train == b.train, a.valid == b.valid, a.test == b.test]
            .iter()
            .filter(|&&x| !x)
            .count(),
        1
    );
}

#[test]
fn spec_reads_from_json() {
    let read = |s: &str| serde_json::from_str::<SplitSpec>(s);
    assert_eq!(
        read(r#"{"kind": "temporal", "valid": 0.1, "test": 0.2}"#).unwrap(),
        temporal()
    );
    assert_eq!(
        read(r#"{"kind": "leave_one_out"}"#).unwrap(),
        SplitSpec::LeaveOneOut
    );
    assert_eq!(
        read(r#"{"kind": "random_by_user", "valid": 0.1, "test": 0.2}"#).unwrap(),
        by_user()
    );
    assert_eq!(
        read(r#"{"kind": "random", "valid": 0.1, "test": 0.2}"#).unwrap(),
        random()
    );
    assert!(read(r#"{"kind": "random", "valid": 0.1, "tset": 0.2}"#).is_err());
    assert!(read(r#"{"kind": "shuffled"}"#).is_err());
}

fn error(ds: &Dataset, spec: &SplitSpec) -> String {
    split(ds, spec, 0).unwrap_err().to_string()
}

#[test]
fn missing_columns_are_named() {
    let mut ds = dataset(100, 10);
    ds.time = None;
    let e = error(&ds, &temporal());
    assert!(
        e.contains("toy: split `temporal`") && e.contains("`time`"),
        "{e}"
    );
    let e = error(&ds, &SplitSpec::LeaveOneOut);
    assert!(
        e.contains("toy: split `leave_one_out`") && e.contains("`time`"),
        "{e}"
    );
    let mut ds = dataset(100, 10);
    ds.group = None;
    for spec in [SplitSpec::LeaveOneOut, by_user()] {
        let e = error(&ds, &spec);
        assert!(
            e.contains(&format!("split `{}`", spec.key())) && e.contains("`group`"),
            "{e}"
        );
    }
}

#[test]
fn bad_fractions_are_rejected() {
    let ds = dataset(100, 10);
    for (valid, test, needle) in [
        (0.0, 0.2, "`valid` = 0"),
        (0.1, 1.0, "`test` = 1"),
        (-0.1, 0.2, "`valid` = -0.1"),
        (0.1, f64::NAN, "`test` = NaN"),
        (0.5, 0.5, "must be < 1"),
        (0.7, 0.4, "must be < 1"),
    ] {
        for spec in [
            SplitSpec::Temporal { valid, test },
            SplitSpec::RandomByUser { valid, test },
            SplitSpec::Random { valid, test },
        ] {
            let e = error(&ds, &spec);
            assert!(
                e.starts_with(&format!("toy: split `{}`", spec.key())),
                "{e}"
            );
            assert!(e.contains(needle), "{e} lacks {needle}");
        }
    }
}

#[test]
fn empty_parts_are_rejected() {
    let ds = dataset(4, 2);
    let spec = SplitSpec::Random {
        valid: 0.3,
        test: 0.1,
    };
    let e = error(&ds, &spec);
    assert!(e.contains("empty split: `test` has 0 rows"), "{e}");
    let e = error(&dataset(0, 1), &temporal());
    assert!(e.contains("empty split: `train` has 0 rows"), "{e}");
    // Every user has fewer than 3 events: nothing to hold out.
    let mut ds = dataset(20, 10);
    ds.group = Some((0..20).map(|r| r / 2).collect());
    let e = error(&ds, &SplitSpec::LeaveOneOut);
    assert!(e.contains("empty split: `valid` has 0 rows"), "{e}");
    // Two users cannot fill three parts.
    let e = error(&dataset(50, 2), &by_user());
    assert!(e.contains("empty split:"), "{e}");
}
