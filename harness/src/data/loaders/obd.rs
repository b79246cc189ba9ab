//! Open Bandit Dataset (ZOZOTOWN) CSVs as pandas wrote them: `{policy}/{campaign}.csv`
//! impressions and `item_context.csv`. It is the public dataset with logged propensities
//! under a uniformly random policy, which off-policy evaluation needs.
//!
//! Types: the unnamed pandas index column becomes `index` (float); `timestamp` becomes
//! float seconds since the Unix epoch; `item_id` and the hashed `user_feature_*` are
//! tokens; `position`, `click`, `propensity_score` and `user-item_affinity_*` are floats
//! (empty or non-numeric cells are errors). Other columns (`item_feature_*`, extras)
//! are typed by content: numbers -> float, else token.

use std::path::Path;

use super::common::{read_table, require, Empty, Format, Kind};
use crate::data::error::DataResult;
use crate::data::table::Table;

const CSV: Format = Format {
    delimiter: b',',
    quoting: true,
    header: true,
};

/// Columns every impressions file must have.
pub const IMPRESSION_COLUMNS: [&str; 5] = [
    "timestamp",
    "item_id",
    "position",
    "click",
    "propensity_score",
];

/// Loads an impressions file (`all.csv`, `men.csv`, `women.csv`).
pub fn load_obd_impressions(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    read_table(path, CSV, None, |raw| {
        let names = name_index(raw);
        require(path, &names, &IMPRESSION_COLUMNS)?;
        Ok(names
            .into_iter()
            .map(|n| {
                let kind = match n.as_str() {
                    "timestamp" => Kind::DateTime,
                    "item_id" => Kind::Token,
                    "index" | "position" | "click" | "propensity_score" => {
                        Kind::Float(Empty::Reject)
                    }
                    s if s.starts_with("user_feature_") => Kind::Token,
                    s if s.starts_with("user-item_affinity_") => Kind::Float(Empty::Reject),
                    _ => Kind::Infer(Empty::FlagIfAny),
                };
                (n, kind)
            })
            .collect())
    })
}

/// Loads `item_context.csv`: `item_id` (token) and `item_feature_*` typed by content.
pub fn load_obd_item_context(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    read_table(path, CSV, None, |raw| {
        let names = name_index(raw);
        require(path, &names, &["item_id"])?;
        Ok(names
            .into_iter()
            .map(|n| {
                let kind = match n.as_str() {
                    "item_id" => Kind::Token,
                    "index" => Kind::Float(Empty::Reject),
                    _ => Kind::Infer(Empty::FlagIfAny),
                };
                (n, kind)
            })
            .collect())
    })
}

/// pandas writes its row index as a first column with an empty name.
fn name_index(raw: &[String]) -> Vec<String> {
    raw.iter()
        .enumerate()
        .map(|(i, n)| {
            if i == 0 && n.is_empty() {
                "index".to_string()
            } else {
                n.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;
    use crate::data::error::DataError;

    #[test]
    fn real_samples_load() {
        for policy in ["random", "bts"] {
            let Some(dir) = shared(&format!("open-bandit/{policy}")) else {
                return;
            };
            let t = load_obd_impressions(dir.join("all.csv")).unwrap();
            assert_eq!(t.rows(), 10_000);
            assert_eq!(
                &t.names()[..6],
                [
                    "index",
                    "timestamp",
                    "item_id",
                    "position",
                    "click",
                    "propensity_score"
                ]
            );
            assert!(t.token("user_feature_3").is_ok());
            assert!(t.float("user-item_affinity_79").is_ok());
            let click = t.float("click").unwrap();
            assert!(click.iter().all(|&c| c == 0.0 || c == 1.0));
            assert!(click.iter().sum::<f64>() > 0.0);
            let pos = t.float("position").unwrap();
            assert!(pos.iter().all(|&p| (1.0..=3.0).contains(&p)));
            let ts = t.float("timestamp").unwrap();
            assert!(
                ts.windows(2).all(|w| w[0] <= w[1]),
                "impressions are in time order"
            );
            assert!(ts[0] > 1.5e9 && ts[0] < 1.6e9);
            assert!(t.token("item_id").unwrap().vocab.len() <= 80);

            let items = load_obd_item_context(dir.join("item_context.csv")).unwrap();
            assert_eq!(items.rows(), 80);
            assert_eq!(
                items.names(),
                [
                    "index",
                    "item_id",
                    "item_feature_0",
                    "item_feature_1",
                    "item_feature_2",
                    "item_feature_3"
                ]
            );
            assert!(items.float("item_feature_0").is_ok());
            assert!(items.token("item_feature_1").is_ok());
        }
    }

    const HEADER: &str =
        ",timestamp,item_id,position,click,propensity_score,user_feature_0,user-item_affinity_0";
    const ROW: &str = "0,2019-11-24 00:00:34.762830+00:00,14,3,0,0.0125,81ce,0.0";

    #[test]
    fn bad_propensity_and_timestamp_are_named() {
        let (_d, p) = write(
            "all.csv",
            &format!("{HEADER}\n{ROW}\n1,2019-11-24 00:00:35+00:00,14,3,0,NaN,81ce,0.0\n"),
        );
        assert_err(
            load_obd_impressions(&p),
            "all.csv",
            &[":3:", "`propensity_score`", "not a finite number"],
        );
        let (_d, p) = write(
            "all.csv",
            &format!("{HEADER}\n{ROW}\n1,soon,14,3,0,0.1,81ce,0.0\n"),
        );
        assert_err(
            load_obd_impressions(&p),
            "all.csv",
            &[":3:", "`timestamp`", "`soon`"],
        );
    }

    #[test]
    fn truncated_row_and_missing_column() {
        let (_d, p) = write(
            "all.csv",
            &format!("{HEADER}\n{ROW}\n1,2019-11-24 00:00:35+00:00,14"),
        );
        let r = load_obd_impressions(&p);
        assert!(matches!(r, Err(DataError::Arity { .. })));
        assert_err(r, "all.csv", &[":3:", "expected 8 fields, found 3"]);
        let (_d, p) = write(
            "all.csv",
            ",timestamp,item_id,position,propensity_score\n0,2019-11-24 00:00:34+00:00,1,1,0.1\n",
        );
        assert_err(
            load_obd_impressions(&p),
            "all.csv",
            &["missing column `click`"],
        );
        let (_d, p) = write("item_context.csv", ",item_feature_0\n0,0.5\n");
        assert_err(
            load_obd_item_context(&p),
            "item_context.csv",
            &["missing column `item_id`"],
        );
    }
}
