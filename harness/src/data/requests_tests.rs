//! Tests of request logs: grouping by clock window, the candidate cut, dropping short
//! users, item renumbering, the split, hashes, and errors naming file, line and field.

use super::*;
use crate::data::builder::{ActionSpec, FileFormat};
use crate::data::loaders::recbole::load_atomic;

const HEADER: &str = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";

fn spec() -> RequestFilesSpec {
    RequestFilesSpec {
        name: "t".into(),
        format: FileFormat::Recbole,
        path: "t.inter".into(),
        user: "user_id".into(),
        item: "item_id".into(),
        time: "timestamp".into(),
        actions: vec![
            ActionSpec {
                name: "like".into(),
                column: "rating".into(),
                min: 4.0,
            },
            ActionSpec {
                name: "love".into(),
                column: "rating".into(),
                min: 5.0,
            },
        ],
    }
}

fn table(rows: &str) -> (tempfile::TempDir, Table) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("t.inter");
    std::fs::write(&p, format!("{HEADER}{rows}")).unwrap();
    let t = load_atomic(&p).unwrap();
    (d, t)
}

fn items(r: &Request) -> Vec<u32> {
    r.exposures.iter().map(|e| e.item).collect()
}

/// User a: times 7200 (x2, file order kept), 7210, 10799 (same hour), 10800 (next
/// hour), 20000, 30000; user b: two requests only (dropped at min 3); user c: three.
const ROWS: &str = "a\tm1\t5\t7210\n\
                    b\tm9\t3\t100\n\
                    a\tm2\t4\t7200\n\
                    a\tm3\t1\t7200\n\
                    a\tm4\t3\t10799\n\
                    a\tm5\t5\t10800\n\
                    c\tm2\t2\t0\n\
                    c\tm6\t4\t4000\n\
                    a\tm6\t4\t20000\n\
                    b\tm8\t5\t9000\n\
                    a\tm1\t2\t30000\n\
                    c\tm7\t5\t9000\n";

#[test]
fn requests_are_a_users_events_in_one_clock_window_cut_to_the_candidate_limit() {
    let (_d, t) = table(ROWS);
    let logs = RequestLogs::from_table(&t, &spec(), 3600, 3, 3).unwrap();
    assert_eq!(logs.actions, ["like", "love"]);
    assert_eq!(logs.n_users(), 2);
    assert_eq!(
        (
            logs.dropped_users,
            logs.dropped_requests,
            logs.dropped_exposures
        ),
        (1, 2, 2)
    );
    // Items by first appearance in the file among kept users: m1=1, m2=2, m3=3, m4=4,
    // m5=5, m6=6, m7=7 (m9, m8 belong to the dropped user only).
    assert_eq!(logs.n_items, 7);
    assert_eq!(
        &logs.item_names[1..],
        ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]
    );
    let a = &logs.users[0];
    assert_eq!(a.name, "a");
    // Hour [7200, 10800): m2, m3 (time 7200, file order), m1 (7210), m4 (10799): four
    // exposures cut into 3 + 1, both at the request's first time.
    let got: Vec<(i64, Vec<u32>)> = a.requests.iter().map(|r| (r.time, items(r))).collect();
    assert_eq!(
        got,
        vec![
            (7200, vec![2, 3, 1]),
            (7200, vec![4]),
            (10800, vec![5]),
            (20000, vec![6]),
            (30000, vec![1]),
        ]
    );
    // like = rating >= 4 (bit 0), love = rating >= 5 (bit 1): id = 1 + bits.
    let actions: Vec<u32> = a.requests[0].exposures.iter().map(|e| e.action).collect();
    assert_eq!(actions, [2, 1, 4]); // m2 rated 4, m3 rated 1, m1 rated 5
    assert_eq!(a.requests[2].exposures[0].action, 4);
    // c: three windows -> three requests.
    assert_eq!(logs.users[1].requests.len(), 3);
    assert!(logs.users.iter().all(|u| u.oracle.is_none()));
    assert_eq!(logs.n_requests(), 8);
    assert_eq!(logs.n_exposures(), 10);
}

#[test]
fn the_window_length_decides_the_grouping() {
    let (_d, t) = table(ROWS);
    let logs = RequestLogs::from_table(&t, &spec(), 10_000, 10, 3).unwrap();
    // a: [0, 10000): 7200, 7200, 7210; [10000, 20000): 10799, 10800; 20000; 30000.
    let sizes: Vec<usize> = logs.users[0]
        .requests
        .iter()
        .map(|r| r.exposures.len())
        .collect();
    assert_eq!(sizes, [3, 2, 1, 1]);
    // One day: every user's events fall in [0, 86400), one request each.
    let err = RequestLogs::from_table(&t, &spec(), 86_400, 10, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no user has at least 3 requests"), "{err}");
}

#[test]
fn the_split_gives_training_requests_then_validation_then_test() {
    let (_d, t) = table(ROWS);
    let logs = RequestLogs::from_table(&t, &spec(), 3600, 3, 3).unwrap();
    let s = logs.users[0].split();
    assert_eq!(
        s,
        UserSplit {
            train: 1..=2,
            last_train: 2,
            valid: 3,
            test: 4
        }
    );
    assert_eq!(logs.users[0].eval_request(Stage::Test), 4);
    let c = logs.users[1].split();
    assert!(c.train.is_empty(), "three requests: no training example");
    assert_eq!((c.last_train, c.valid, c.test), (0, 1, 2));
    // Training rates over requests 0..=last_train of each user: a's 0..=2 hold m2 (4),
    // m3 (1), m1 (5), m4 (3), m5 (5); c's request 0 holds m2 (2): like 3/6, love 2/6.
    let rates = logs.train_action_rates();
    assert!((rates[0] - 0.5).abs() < 1e-12 && (rates[1] - 2.0 / 6.0).abs() < 1e-12);
}

#[test]
fn each_part_hash_changes_only_with_its_own_requests() {
    let (_d, t) = table(ROWS);
    let logs = RequestLogs::from_table(&t, &spec(), 3600, 3, 3).unwrap();
    let h = request_hashes(&logs);
    assert_eq!(h, request_hashes(&logs.clone()));
    let mut test_changed = logs.clone();
    test_changed.users[0].requests[4].exposures[0].action = 3;
    let h2 = request_hashes(&test_changed);
    assert_eq!(
        (h.train.as_str(), h.valid.as_str()),
        (h2.train.as_str(), h2.valid.as_str())
    );
    assert_ne!(h.test, h2.test);
    let mut train_changed = logs.clone();
    train_changed.users[1].requests[0].time += 1;
    let h3 = request_hashes(&train_changed);
    assert_ne!(h.train, h3.train);
    assert_eq!(
        (h.valid.as_str(), h.test.as_str()),
        (h3.valid.as_str(), h3.test.as_str())
    );
}

#[test]
fn empty_cells_and_wrong_columns_name_file_line_and_field() {
    // Line 4 (third data row) has no timestamp.
    let (_d, t) = table("a\tm1\t5\t10\nb\tm2\t3\t20\na\tm3\t4\t\n");
    let err = RequestLogs::from_table(&t, &spec(), 3600, 8, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("t.inter:4: field `timestamp`: empty"), "{err}");
    let (_d, t) = table("a\tm1\t\t10\n");
    let err = RequestLogs::from_table(&t, &spec(), 3600, 8, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("t.inter:2: field `rating`: empty"), "{err}");
    let (_d, t) = table(ROWS);
    let mut s = spec();
    s.actions[1].column = "stars".into();
    let err = RequestLogs::from_table(&t, &s, 3600, 8, 3)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing column `stars`"), "{err}");
    s.actions[1].column = "item_id".into();
    let err = RequestLogs::from_table(&t, &s, 3600, 8, 3)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("column `item_id`") && err.contains("float"),
        "{err}"
    );
    let mut s = spec();
    s.user = "rating".into();
    let err = RequestLogs::from_table(&t, &s, 3600, 8, 3)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("column `rating`") && err.contains("token"),
        "{err}"
    );
}

#[test]
fn the_candidate_cut_splits_oracle_rows_with_the_exposures() {
    let e = |item| Exposure { item, action: 1 };
    let user = UserLog {
        name: "u".into(),
        requests: (0..3)
            .map(|t| Request {
                time: t,
                exposures: (1..=5).map(e).collect(),
            })
            .collect(),
        // Two actions: probability 0.1 * item for both.
        oracle: Some(vec![(1..=5).flat_map(|i| [0.1 * i as f32; 2]).collect(); 3]),
    };
    let logs = RequestLogs::from_users(
        "x",
        5,
        vec!["a".into(), "b".into()],
        vec![],
        vec![user],
        2,
        3,
    );
    let u = &logs.users[0];
    assert_eq!(u.requests.len(), 9);
    assert_eq!(items(&u.requests[2]), [5]);
    assert_eq!(u.requests[2].time, 0);
    let o = u.oracle.as_ref().unwrap();
    assert_eq!(o[1], [0.3, 0.3, 0.4, 0.4]);
    assert_eq!(o[2], [0.5, 0.5]);
}
