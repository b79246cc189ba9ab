//! Per-user item sequences for next-item retrieval, and their leave-one-out split.
//!
//! Built from any interaction table with a user, an item and a time column (or file
//! order, `"@row"`). Conventions, stated once here:
//! - Each user's events are ordered by time; equal times keep file order (row index).
//! - Users with fewer than `min_events` events are dropped (default 3: leave-one-out
//!   needs a training item, a validation item and a test item).
//! - Items are renumbered `1..=n_items` (0 = padding, as `baselines::SeqBatch` wants) in
//!   order of first appearance in the file, counting only events of kept users; users
//!   keep their order of first appearance too.
//!
//! Leave-one-out (`LooView`): of a user's sequence `s_0 .. s_{n-1}`, the last item
//! `s_{n-1}` is the test target (history `s_0 .. s_{n-2}`), the second-to-last
//! `s_{n-2}` the validation target (history `s_0 .. s_{n-3}`), and the training prefix
//! `s_0 .. s_{n-3}` is all that training sees: its targets are every next item within
//! the prefix. The split needs no seed; its parts are hashed like the row splits.

use sha2::{Digest, Sha256};

use super::error::{DataError, DataResult};
use super::split::SplitHashes;
use super::table::{ColumnData, Table};

/// Interaction events as parallel columns: `users[r]` and `items[r]` are dense ids
/// (interned in order of first appearance) naming `user_names[..]`/`item_names[..]`,
/// `times[r]` the event time.
#[derive(Debug, Clone, Copy)]
pub struct Events<'a> {
    pub users: &'a [u32],
    pub items: &'a [u32],
    pub times: &'a [i64],
    pub user_names: &'a [String],
    pub item_names: &'a [String],
}

/// Users' chronological item sequences.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sequences {
    pub name: String,
    /// Items are `1..=n_items`.
    pub n_items: u32,
    /// User `u`'s events are `offsets[u]..offsets[u + 1]` of `items` and `times`.
    pub offsets: Vec<usize>,
    pub items: Vec<u32>,
    /// Event times (seconds, or the row/event index when the data has no clock).
    pub times: Vec<i64>,
    /// Original user id per user, for error messages and reports.
    pub user_names: Vec<String>,
    /// Original item id per item (index 0 = padding, empty).
    pub item_names: Vec<String>,
    /// Users (and their events) dropped for having fewer than `min_events` events.
    pub dropped_users: usize,
    pub dropped_events: usize,
}

impl Sequences {
    pub fn n_users(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn n_events(&self) -> usize {
        self.items.len()
    }
    /// User `u`'s items, oldest first.
    pub fn seq(&self, u: usize) -> &[u32] {
        &self.items[self.offsets[u]..self.offsets[u + 1]]
    }
    pub fn times_of(&self, u: usize) -> &[i64] {
        &self.times[self.offsets[u]..self.offsets[u + 1]]
    }

    /// Sequences from parallel event columns (see `Events`). `what` names the source in
    /// errors.
    pub fn from_events(
        what: &str,
        name: &str,
        events: &Events,
        min_events: usize,
    ) -> DataResult<Sequences> {
        let Events {
            users,
            items,
            times,
            user_names,
            item_names,
        } = *events;
        assert!(users.len() == items.len() && items.len() == times.len());
        let mut order: Vec<usize> = (0..users.len()).collect();
        // Stable: equal (user, time) keep row order.
        order.sort_by_key(|&r| (users[r], times[r]));
        // Users in order of first appearance: ids are interned that way by the loaders,
        // so ascending user id is first-appearance order.
        let mut keep_event = vec![false; users.len()];
        let mut dropped_users = 0;
        let mut dropped_events = 0;
        for run in order.chunk_by(|&a, &b| users[a] == users[b]) {
            if run.len() >= min_events {
                run.iter().for_each(|&r| keep_event[r] = true);
            } else {
                dropped_users += 1;
                dropped_events += run.len();
            }
        }
        // Items: new id by first appearance (row order) among kept events.
        let n_old = items.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
        let mut new_id = vec![0u32; n_old];
        let mut names = vec![String::new()];
        for r in 0..items.len() {
            if keep_event[r] && new_id[items[r] as usize] == 0 {
                new_id[items[r] as usize] = names.len() as u32;
                names.push(item_names[items[r] as usize].clone());
            }
        }
        let mut out = Sequences {
            name: name.to_string(),
            n_items: (names.len() - 1) as u32,
            offsets: vec![0],
            item_names: names,
            dropped_users,
            dropped_events,
            ..Default::default()
        };
        for run in order.chunk_by(|&a, &b| users[a] == users[b]) {
            if !keep_event[run[0]] {
                continue;
            }
            out.items
                .extend(run.iter().map(|&r| new_id[items[r] as usize]));
            out.times.extend(run.iter().map(|&r| times[r]));
            out.offsets.push(out.items.len());
            out.user_names
                .push(user_names[users[run[0]] as usize].clone());
        }
        if out.n_users() == 0 {
            return Err(DataError::invalid(
                what,
                format!(
                    "no user has at least {min_events} events ({} users, {} events in all)",
                    dropped_users, dropped_events
                ),
            ));
        }
        Ok(out)
    }

    /// Sequences from a loaded table: `user` and `item` are token columns, `time` a
    /// float column or `"@row"` (file order).
    pub fn from_table(
        table: &Table,
        name: &str,
        user: &str,
        item: &str,
        time: &str,
        min_events: usize,
    ) -> DataResult<Sequences> {
        let token = |col: &str| -> DataResult<(Vec<u32>, Vec<String>)> {
            match table.column(col)? {
                ColumnData::Token(c) => Ok((c.ids.clone(), c.vocab.clone())),
                other => Err(DataError::invalid(
                    format!("{}: column `{col}`", table.source.display()),
                    format!("must be a token (id) column, found {}", other.kind()),
                )),
            }
        };
        let (users, user_names) = token(user)?;
        let (items, item_names) = token(item)?;
        let times: Vec<i64> = match time {
            "@row" => (0..table.rows() as i64).collect(),
            col => table
                .float(col)?
                .iter()
                .map(|&x| x.round() as i64)
                .collect(),
        };
        let events = Events {
            users: &users,
            items: &items,
            times: &times,
            user_names: &user_names,
            item_names: &item_names,
        };
        Sequences::from_events(
            &table.source.display().to_string(),
            name,
            &events,
            min_events,
        )
    }

    /// How often each item (index = id) occurs in the users' TRAINING prefixes: the
    /// popularity the trivial baseline ranks by.
    pub fn train_counts(&self) -> Vec<u32> {
        self.count_items(|prefix| prefix)
    }

    /// How often each item (index = id) is a TRAINING target (a prefix item after the
    /// first): `SeqSpec::item_counts`, e.g. for sampled-softmax logQ corrections.
    pub fn train_target_counts(&self) -> Vec<u32> {
        self.count_items(|prefix| &prefix[1..])
    }

    fn count_items(&self, part: impl Fn(&[u32]) -> &[u32]) -> Vec<u32> {
        let mut c = vec![0u32; self.n_items as usize + 1];
        for u in 0..self.n_users() {
            for &i in part(LooView::new(self, u).train()) {
                c[i as usize] += 1;
            }
        }
        c
    }
}

/// Which held-out position is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    Valid,
    Test,
}

/// The leave-one-out view of one user's sequence (the user has >= 3 events).
#[derive(Debug, Clone, Copy)]
pub struct LooView<'a> {
    items: &'a [u32],
    times: &'a [i64],
}

impl<'a> LooView<'a> {
    pub fn new(seqs: &'a Sequences, u: usize) -> Self {
        let items = seqs.seq(u);
        assert!(
            items.len() >= 3,
            "leave-one-out needs 3 events per user, user {u} has {}",
            items.len()
        );
        LooView {
            items,
            times: seqs.times_of(u),
        }
    }
    /// The training prefix (everything before the validation item).
    pub fn train(&self) -> &'a [u32] {
        &self.items[..self.items.len() - 2]
    }
    pub fn train_times(&self) -> &'a [i64] {
        &self.times[..self.times.len() - 2]
    }
    /// (history, history times, target) of the evaluated position.
    pub fn eval(&self, stage: Stage) -> (&'a [u32], &'a [i64], u32) {
        let n = match stage {
            Stage::Valid => self.items.len() - 2,
            Stage::Test => self.items.len() - 1,
        };
        (&self.items[..n], &self.times[..n], self.items[n])
    }
}

/// SHA-256 of each leave-one-out part: train = every user's training prefix (items and
/// times), valid/test = every user's (history length, target, target time). Any change
/// of a user's order, an item or a time changes the hash of the part it is in.
pub fn loo_hashes(seqs: &Sequences) -> SplitHashes {
    let part = |tag: &str, f: &dyn Fn(usize, &mut Vec<u8>)| -> String {
        let mut h = Sha256::new();
        h.update(b"recbench-seq-part-v1\0");
        h.update(tag.as_bytes());
        h.update((seqs.n_users() as u64).to_le_bytes());
        h.update(seqs.n_items.to_le_bytes());
        let mut buf = Vec::new();
        for u in 0..seqs.n_users() {
            buf.clear();
            buf.extend_from_slice(&(u as u32).to_le_bytes());
            f(u, &mut buf);
            h.update(&buf);
        }
        hex::encode(h.finalize())
    };
    let target = |stage: Stage| {
        move |u: usize, buf: &mut Vec<u8>| {
            let view = LooView::new(seqs, u);
            let (hist, _, t) = view.eval(stage);
            let time = seqs.times_of(u)[hist.len()];
            buf.extend_from_slice(&(hist.len() as u32).to_le_bytes());
            buf.extend_from_slice(&t.to_le_bytes());
            buf.extend_from_slice(&time.to_le_bytes());
        }
    };
    SplitHashes {
        train: part("train", &|u, buf| {
            let view = LooView::new(seqs, u);
            buf.extend_from_slice(&(view.train().len() as u32).to_le_bytes());
            view.train()
                .iter()
                .for_each(|i| buf.extend_from_slice(&i.to_le_bytes()));
            view.train_times()
                .iter()
                .for_each(|t| buf.extend_from_slice(&t.to_le_bytes()));
        }),
        valid: part("valid", &target(Stage::Valid)),
        test: part("test", &target(Stage::Test)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    /// users 0..3; user 1 has 2 events (dropped at min 3); times tie for user 0.
    fn small() -> Sequences {
        let users = [0, 1, 0, 2, 0, 1, 2, 2, 0];
        let items = [5, 6, 4, 7, 5, 3, 4, 9, 8];
        let times = [10, 1, 30, 5, 30, 2, 6, 7, 40];
        let (un, inames) = (names("u", 3), names("i", 10));
        let events = Events {
            users: &users,
            items: &items,
            times: &times,
            user_names: &un,
            item_names: &inames,
        };
        Sequences::from_events("t", "t", &events, 3).unwrap()
    }

    #[test]
    fn orders_by_time_then_row_drops_short_users_and_renumbers_items() {
        let s = small();
        assert_eq!(s.n_users(), 2);
        assert_eq!((s.dropped_users, s.dropped_events), (1, 2));
        assert_eq!(s.user_names, ["u0", "u2"]);
        // Kept events in row order: 5 (u0), 4 (u0), 7 (u2), 5, 4, 9, 8 -> i5=1, i4=2,
        // i7=3, i9=4, i8=5. Item 6 and 3 belong to the dropped user only.
        assert_eq!(s.n_items, 5);
        assert_eq!(&s.item_names[1..], ["i5", "i4", "i7", "i9", "i8"]);
        // u0: times 10, 30 (row 2: i4), 30 (row 4: i5), 40 -> 1, 2, 1, 5.
        assert_eq!(s.seq(0), &[1, 2, 1, 5]);
        assert_eq!(s.times_of(0), &[10, 30, 30, 40]);
        assert_eq!(s.seq(1), &[3, 2, 4]);
    }

    #[test]
    fn leave_one_out_parts_do_not_overlap() {
        let s = small();
        let v = LooView::new(&s, 0);
        assert_eq!(v.train(), &[1, 2]);
        assert_eq!(v.eval(Stage::Valid), (&[1u32, 2][..], &[10i64, 30][..], 1));
        assert_eq!(
            v.eval(Stage::Test),
            (&[1u32, 2, 1][..], &[10i64, 30, 30][..], 5)
        );
        let v = LooView::new(&s, 1);
        assert_eq!(v.train(), &[3]);
        assert_eq!(s.train_counts(), vec![0, 1, 1, 1, 0, 0]);
        assert_eq!(s.train_target_counts(), vec![0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn every_part_hash_reacts_to_its_own_part_only() {
        let s = small();
        let h = loo_hashes(&s);
        assert_eq!(h, loo_hashes(&s.clone()));
        let mut t = s.clone();
        t.items[s.offsets[1] + 2] = 1; // user 1's test target
        let ht = loo_hashes(&t);
        assert_eq!(
            (ht.train.clone(), ht.valid.clone()),
            (h.train.clone(), h.valid.clone())
        );
        assert_ne!(ht.test, h.test);
        let mut t = s.clone();
        t.times[0] = 11; // user 0's first training event
        let ht = loo_hashes(&t);
        assert_ne!(ht.train, h.train);
        assert_eq!((ht.valid, ht.test), (h.valid, h.test));
    }

    #[test]
    fn too_few_events_everywhere_is_an_error() {
        let (un, inames) = (names("u", 2), names("i", 1));
        let events = Events {
            users: &[0, 1],
            items: &[0, 0],
            times: &[0, 0],
            user_names: &un,
            item_names: &inames,
        };
        let err = Sequences::from_events("f.txt", "t", &events, 3)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("f.txt") && err.contains("at least 3 events"),
            "{err}"
        );
    }
}

/// The real files, when `../shared/data` is present: sizes after the leave-one-out
/// filter (users with >= 3 events), as the data cards state them.
#[cfg(test)]
mod shared_data {
    use super::*;
    use crate::data::loaders::common::testutil::shared;
    use crate::data::loaders::{recbole, seqlines};

    fn describe(s: &Sequences) -> (usize, u32, usize, usize) {
        (s.n_users(), s.n_items, s.n_events(), s.dropped_users)
    }

    #[test]
    fn beauty_sequences() {
        let Some(p) = shared("amazon-beauty/beauty.txt") else {
            return;
        };
        let t = seqlines::load_seq_lines(&p).unwrap();
        let s =
            Sequences::from_table(&t, "amazon-beauty", "user_id", "item_id", "@row", 3).unwrap();
        assert_eq!(describe(&s), (40_226, 54_542, 353_962, 0));
        // File order is chronological per user: times are the row index.
        assert!(s
            .offsets
            .windows(2)
            .all(|w| s.times[w[0]..w[1]].windows(2).all(|t| t[0] < t[1])));
        assert_eq!(s.n_events() + s.dropped_events, 353_962);
    }

    #[test]
    fn ml100k_sequences() {
        let Some(p) = shared("ml-100k/ml-100k.inter") else {
            return;
        };
        let t = recbole::load_atomic(&p).unwrap();
        let s = Sequences::from_table(&t, "ml-100k", "user_id", "item_id", "timestamp", 3).unwrap();
        assert_eq!(describe(&s), (943, 1682, 100_000, 0));
        assert_eq!(s.n_events() + s.dropped_events, 100_000);
    }
}
