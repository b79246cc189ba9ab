//! Per-user request logs for generative ranking (issue 7), and their split.
//!
//! A request is what a recommender served at once: a few exposed items, each with the
//! binary actions the user took on it (`baselines::kinds::generative::{Request, Exposure}`).
//! Built from the synthetic world (`synth::gen`, requests given) or from any
//! interaction table with a user, an item, a time column and one numeric column per
//! action rule (`builder::ActionSpec`: action on when `column >= min`). Conventions,
//! stated once here:
//! - A user's events are ordered by time; equal times keep file order (row index).
//! - A request is a run of a user's consecutive events whose times fall in the same
//!   clock window `floor(time / window)` (`request_window_seconds`, default 3600: the
//!   same hour of the epoch clock, not a gap rule); its time is its first event's.
//! - Every request (also synthetic ones) is cut into consecutive chunks of at most
//!   `max_candidates` exposures, so no exposure is lost to the candidate limit; chunks
//!   of one request share its time.
//! - Users with fewer than `min_requests` requests (after the cut) are dropped, and
//!   counted.
//! - Items of files are renumbered `1..=n_items` (0 = padding) in order of first
//!   appearance in the file among kept users' events.
//!
//! Split (`UserLog::split`): of a user's requests `0..n`, request `n - 1` is the test
//! example and `n - 2` the validation example; every earlier request `r >= 1` is a
//! training example (request 0 has no history). An example `(u, r)` sees the requests
//! before `r` as history and is built from `requests[..=r]` only.

use std::ops::RangeInclusive;

use baselines::kinds::generative::{action_id, Exposure, Request};
use sha2::{Digest, Sha256};

use super::builder::RequestFilesSpec;
use super::error::{DataError, DataResult};
use super::sequences::Stage;
use super::split::SplitHashes;
use super::table::{ColumnData, Table};

/// Most binary actions a task may have (action ids `0..=2^MAX_ACTIONS`).
pub const MAX_ACTIONS: usize = 8;

/// One user's requests, oldest first, with the true action probabilities of every
/// exposure when the data is synthetic.
#[derive(Debug, Clone, PartialEq)]
pub struct UserLog {
    /// Original user id, for messages and reports.
    pub name: String,
    pub requests: Vec<Request>,
    /// Per request, `exposures x n_actions` probabilities (row-major): `P(action k)`
    /// of each exposure given everything the world knows. `None` for real data.
    pub oracle: Option<Vec<Vec<f32>>>,
}

/// Which requests of a user each part of the split holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSplit {
    /// Training examples: `1..=n - 3` (empty when the user has 3 requests).
    pub train: RangeInclusive<usize>,
    /// The last training-split request: `n - 3` (pre-training sees `0..=last_train`).
    pub last_train: usize,
    pub valid: usize,
    pub test: usize,
}

impl UserLog {
    /// The split of this user's requests (the user has at least 3).
    pub fn split(&self) -> UserSplit {
        let n = self.requests.len();
        assert!(
            n >= 3,
            "user {} has {n} requests, the split needs 3",
            self.name
        );
        UserSplit {
            train: 1..=n - 3,
            last_train: n - 3,
            valid: n - 2,
            test: n - 1,
        }
    }

    /// The request evaluated at `stage`.
    pub fn eval_request(&self, stage: Stage) -> usize {
        let s = self.split();
        match stage {
            Stage::Valid => s.valid,
            Stage::Test => s.test,
        }
    }
}

/// Every user's request log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestLogs {
    pub name: String,
    /// Items are `1..=n_items`.
    pub n_items: u32,
    /// Action names in flag order (`action_id` bit `k` = `actions[k]`).
    pub actions: Vec<String>,
    pub users: Vec<UserLog>,
    /// Original item id per item (index 0 = padding, empty).
    pub item_names: Vec<String>,
    /// Users dropped for having fewer than `min_requests` requests, and their requests
    /// and exposures.
    pub dropped_users: usize,
    pub dropped_requests: usize,
    pub dropped_exposures: usize,
}

impl RequestLogs {
    pub fn n_users(&self) -> usize {
        self.users.len()
    }
    pub fn n_actions(&self) -> usize {
        self.actions.len()
    }
    pub fn n_requests(&self) -> usize {
        self.users.iter().map(|u| u.requests.len()).sum()
    }
    pub fn n_exposures(&self) -> usize {
        self.users
            .iter()
            .flat_map(|u| &u.requests)
            .map(|r| r.exposures.len())
            .sum()
    }

    /// Logs from users' full request lists: cuts every request into chunks of at most
    /// `max_candidates` and drops users left with fewer than `min_requests` requests.
    /// Items keep their ids (`n_items`, `item_names` as given).
    pub fn from_users(
        name: &str,
        n_items: u32,
        actions: Vec<String>,
        item_names: Vec<String>,
        users: Vec<UserLog>,
        max_candidates: usize,
        min_requests: usize,
    ) -> RequestLogs {
        assert!(max_candidates >= 1 && min_requests >= 3);
        let n_actions = actions.len();
        let mut out = RequestLogs {
            name: name.to_string(),
            n_items,
            actions,
            item_names,
            ..Default::default()
        };
        for user in users {
            let user = chunked(user, max_candidates, n_actions);
            if user.requests.len() >= min_requests {
                out.users.push(user);
            } else {
                out.dropped_users += 1;
                out.dropped_requests += user.requests.len();
                out.dropped_exposures += user
                    .requests
                    .iter()
                    .map(|r| r.exposures.len())
                    .sum::<usize>();
            }
        }
        out
    }

    /// Logs from a loaded table (see the module doc): `spec`'s user and item are token
    /// columns, its time and action columns float columns. Errors name the file, the
    /// line and the field (an empty time or action cell, a column of the wrong kind).
    pub fn from_table(
        table: &Table,
        spec: &RequestFilesSpec,
        window_seconds: u64,
        max_candidates: usize,
        min_requests: usize,
    ) -> DataResult<RequestLogs> {
        let what = table.source.display().to_string();
        if window_seconds == 0 {
            return Err(DataError::invalid(what, "request window of 0 seconds"));
        }
        let token = |col: &str| -> DataResult<(&[u32], &[String])> {
            match table.column(col)? {
                ColumnData::Token(c) => Ok((&c.ids, &c.vocab)),
                other => Err(DataError::invalid(
                    format!("{what}: column `{col}`"),
                    format!("must be a token (id) column, found {}", other.kind()),
                )),
            }
        };
        let (users, user_names) = token(&spec.user)?;
        let (items, item_names) = token(&spec.item)?;
        // A float cell left empty reads as 0.0 with a `<name>_missing` flag column.
        let present = |col: &str| -> DataResult<&[f64]> {
            let values = table.float(col)?;
            if let Ok(ColumnData::Float(flags)) = table.column(&format!("{col}_missing")) {
                if let Some(row) = flags.iter().position(|&f| f != 0.0) {
                    return Err(DataError::bad(
                        &table.source,
                        table.line_of(row),
                        col,
                        "empty: every event needs a time and a value per action",
                    ));
                }
            }
            Ok(values)
        };
        let times: Vec<i64> = present(&spec.time)?
            .iter()
            .map(|&x| x.round() as i64)
            .collect();
        let flags: Vec<(&[f64], f64)> = spec
            .actions
            .iter()
            .map(|a| present(&a.column).map(|v| (v, a.min)))
            .collect::<DataResult<_>>()?;
        let action_of = |row: usize| {
            action_id(
                &flags
                    .iter()
                    .map(|(v, min)| v[row] >= *min)
                    .collect::<Vec<_>>(),
            )
        };

        let mut order: Vec<usize> = (0..users.len()).collect();
        // Stable: equal (user, time) keep row order.
        order.sort_by_key(|&r| (users[r], times[r]));
        let window = window_seconds as i64;
        let mut logs = Vec::new();
        for run in order.chunk_by(|&a, &b| users[a] == users[b]) {
            let mut requests: Vec<Request> = Vec::new();
            for group in
                run.chunk_by(|&a, &b| times[a].div_euclid(window) == times[b].div_euclid(window))
            {
                requests.push(Request {
                    time: times[group[0]],
                    exposures: group
                        .iter()
                        .map(|&r| Exposure {
                            // Old id + 1 for now; renumbered below once users are kept.
                            item: items[r] + 1,
                            action: action_of(r),
                        })
                        .collect(),
                });
            }
            logs.push(UserLog {
                name: user_names[users[run[0]] as usize].clone(),
                requests,
                oracle: None,
            });
        }
        let actions = spec.actions.iter().map(|a| a.name.clone()).collect();
        let mut out = RequestLogs::from_users(
            &spec.name,
            0,
            actions,
            Vec::new(),
            logs,
            max_candidates,
            min_requests,
        );
        if out.users.is_empty() {
            return Err(DataError::invalid(
                what,
                format!(
                    "no user has at least {min_requests} requests ({} users, {} requests in all)",
                    out.dropped_users, out.dropped_requests
                ),
            ));
        }
        out.renumber_by_first_appearance(items, item_names);
        Ok(out)
    }

    /// Gives items ids `1..` in order of first appearance in the file (`file_items`:
    /// each row's interned id) among the kept users' exposures, whose items currently
    /// hold `interned id + 1`.
    fn renumber_by_first_appearance(&mut self, file_items: &[u32], names: &[String]) {
        let mut kept = vec![false; names.len() + 1];
        for e in self
            .users
            .iter()
            .flat_map(|u| &u.requests)
            .flat_map(|r| &r.exposures)
        {
            kept[e.item as usize] = true;
        }
        let mut new_id = vec![0u32; names.len() + 1];
        self.item_names = vec![String::new()];
        for &old in file_items {
            let i = old as usize + 1;
            if kept[i] && new_id[i] == 0 {
                new_id[i] = self.item_names.len() as u32;
                self.item_names.push(names[old as usize].clone());
            }
        }
        self.n_items = (self.item_names.len() - 1) as u32;
        for e in self
            .users
            .iter_mut()
            .flat_map(|u| &mut u.requests)
            .flat_map(|r| &mut r.exposures)
        {
            e.item = new_id[e.item as usize];
        }
    }

    /// Per action, the share of the training split's exposures (requests before each
    /// user's validation request) on which it was taken: the constant predictor's rate.
    pub fn train_action_rates(&self) -> Vec<f64> {
        let a = self.n_actions();
        let (mut on, mut n) = (vec![0usize; a], 0usize);
        for u in &self.users {
            for r in &u.requests[..=u.split().last_train] {
                for e in &r.exposures {
                    n += 1;
                    for (k, f) in baselines::kinds::generative::action_flags(e.action, a)
                        .into_iter()
                        .enumerate()
                    {
                        on[k] += f as usize;
                    }
                }
            }
        }
        on.iter().map(|&c| c as f64 / n.max(1) as f64).collect()
    }
}

/// `user` with every request cut into consecutive chunks of at most `c` exposures (and
/// its oracle rows with them).
fn chunked(user: UserLog, c: usize, n_actions: usize) -> UserLog {
    if user.requests.iter().all(|r| r.exposures.len() <= c) {
        return user;
    }
    let mut requests = Vec::new();
    let mut oracle = user.oracle.as_ref().map(|_| Vec::new());
    for (k, r) in user.requests.iter().enumerate() {
        for (j, part) in r.exposures.chunks(c).enumerate() {
            requests.push(Request {
                time: r.time,
                exposures: part.to_vec(),
            });
            if let (Some(out), Some(o)) = (oracle.as_mut(), user.oracle.as_ref()) {
                let a = n_actions;
                out.push(o[k][j * c * a..(j * c + part.len()) * a].to_vec());
            }
        }
    }
    UserLog {
        name: user.name,
        requests,
        oracle,
    }
}

/// SHA-256 of each part of the split: train = every user's requests before the
/// validation request (items, actions, times), valid/test = every user's validation /
/// test request. Any change of a request, an action or a time changes the hash of the
/// part it is in.
pub fn request_hashes(logs: &RequestLogs) -> SplitHashes {
    let part = |tag: &str, pick: &dyn Fn(&UserLog) -> &[Request]| -> String {
        let mut h = Sha256::new();
        h.update(b"recbench-gen-part-v1\0");
        h.update(tag.as_bytes());
        h.update((logs.n_users() as u64).to_le_bytes());
        h.update(logs.n_items.to_le_bytes());
        for a in &logs.actions {
            h.update(a.as_bytes());
            h.update([0]);
        }
        let mut buf = Vec::new();
        for (u, user) in logs.users.iter().enumerate() {
            buf.clear();
            buf.extend_from_slice(&(u as u32).to_le_bytes());
            for r in pick(user) {
                buf.extend_from_slice(&r.time.to_le_bytes());
                buf.extend_from_slice(&(r.exposures.len() as u32).to_le_bytes());
                for e in &r.exposures {
                    buf.extend_from_slice(&e.item.to_le_bytes());
                    buf.extend_from_slice(&e.action.to_le_bytes());
                }
            }
            h.update(&buf);
        }
        hex::encode(h.finalize())
    };
    SplitHashes {
        train: part("train", &|u| &u.requests[..u.split().valid]),
        valid: part("valid", &|u| {
            let v = u.split().valid;
            &u.requests[v..=v]
        }),
        test: part("test", &|u| {
            let t = u.split().test;
            &u.requests[t..=t]
        }),
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
