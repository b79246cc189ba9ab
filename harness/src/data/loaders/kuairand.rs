//! KuaiRand (Kuaishou short video) CSVs: interaction logs `log_standard_*.csv` /
//! `log_random_*.csv` (the random ones are exposures under a uniformly random policy,
//! rare in public data), `user_features_*.csv` and `video_features_basic_*.csv`.
//!
//! Types follow the KuaiRand documentation, not the look of the digits: ids, `tab`,
//! `onehot_feat*` (encrypted categorical features), `*_range`, `music_type`,
//! `visible_status` are tokens; `tag` (comma-separated tag ids) is a token list; the
//! log's flags, times and durations are floats. Columns not listed are typed by content.
//!
//! Missing values (the real feature files have empty cells): an empty token cell is the
//! token `""`; an empty float cell is stored as 0.0 and a `{name}_missing` column (1.0
//! where empty) is added after it, only in files that have an empty cell there.

use std::path::Path;

use super::common::{read_table, require, Empty, Format, Kind};
use crate::data::error::DataResult;
use crate::data::table::Table;

const CSV: Format = Format {
    delimiter: b',',
    quoting: true,
    header: true,
};

const MISSING: Empty = Empty::FlagIfAny;

/// The columns of every KuaiRand interaction log, in file order.
pub const LOG_COLUMNS: [&str; 19] = [
    "user_id",
    "video_id",
    "date",
    "hourmin",
    "time_ms",
    "is_click",
    "is_like",
    "is_follow",
    "is_comment",
    "is_forward",
    "is_hate",
    "long_view",
    "play_time_ms",
    "duration_ms",
    "profile_stay_time",
    "comment_stay_time",
    "is_profile_enter",
    "is_rand",
    "tab",
];

/// Loads an interaction log; all of `LOG_COLUMNS` must be present.
pub fn load_kuairand_log(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    read_table(path, CSV, None, |names| {
        require(path, names, &LOG_COLUMNS)?;
        Ok(names
            .iter()
            .map(|n| {
                let kind = match n.as_str() {
                    "user_id" | "video_id" | "tab" => Kind::Token,
                    s if LOG_COLUMNS.contains(&s) => Kind::Float(MISSING),
                    _ => Kind::Infer(MISSING),
                };
                (n.clone(), kind)
            })
            .collect())
    })
}

/// Loads `user_features_pure.csv` (or the 1K/27K variants); needs `user_id`.
pub fn load_kuairand_users(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    read_table(path, CSV, None, |names| {
        require(path, names, &["user_id"])?;
        Ok(names
            .iter()
            .map(|n| {
                let categorical = n == "user_id"
                    || n == "user_active_degree"
                    || n.starts_with("onehot_feat")
                    || n.ends_with("_range");
                let kind = if categorical {
                    Kind::Token
                } else {
                    Kind::Infer(MISSING)
                };
                (n.clone(), kind)
            })
            .collect())
    })
}

/// Loads `video_features_basic_pure.csv` (or variants); needs `video_id`.
pub fn load_kuairand_videos(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    read_table(path, CSV, None, |names| {
        require(path, names, &["video_id"])?;
        Ok(names
            .iter()
            .map(|n| {
                let kind = match n.as_str() {
                    "video_id" | "author_id" | "music_id" | "video_type" | "upload_dt"
                    | "upload_type" | "visible_status" | "music_type" => Kind::Token,
                    "tag" => Kind::Seq(','),
                    "video_duration" | "server_width" | "server_height" => Kind::Float(MISSING),
                    _ => Kind::Infer(MISSING),
                };
                (n.clone(), kind)
            })
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;
    use crate::data::error::DataError;

    /// A small log with exactly the real columns; row `i` of user `i % 3`.
    fn generated_log(rows: usize) -> String {
        let mut s = LOG_COLUMNS.join(",") + "\n";
        for i in 0..rows {
            let t = 1_649_412_000_000u64 + 60_000 * i as u64;
            s += &format!(
                "{},{},20220408,{},{t},{},0,0,0,0,0,{},{},{},0,0,0,0,{}\n",
                i % 3,
                100 + i % 5,
                1000 + i,
                i % 2,
                i % 2,
                if i == 1 {
                    String::new()
                } else {
                    (1000 * i).to_string()
                },
                12_000 + i,
                i % 4
            );
        }
        s
    }

    #[test]
    fn generated_log_loads_with_real_columns() {
        let (_d, p) = write("log_standard_4_08_to_4_21_pure.csv", &generated_log(6));
        let t = load_kuairand_log(&p).unwrap();
        assert_eq!(t.rows(), 6);
        let mut expect: Vec<&str> = LOG_COLUMNS.to_vec();
        expect.insert(13, "play_time_ms_missing");
        assert_eq!(t.names(), expect);
        assert_eq!(t.token("user_id").unwrap().vocab, ["0", "1", "2"]);
        assert_eq!(t.token("tab").unwrap().token(3), "3");
        assert_eq!(t.float("time_ms").unwrap()[1], 1_649_412_060_000.0);
        assert_eq!(
            t.float("is_click").unwrap(),
            &[0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
        );
        assert_eq!(t.float("play_time_ms").unwrap()[..3], [0.0, 0.0, 2000.0]);
        assert_eq!(
            t.float("play_time_ms_missing").unwrap()[..3],
            [0.0, 1.0, 0.0]
        );
    }

    #[test]
    fn log_errors_name_line_and_field() {
        let good = generated_log(3);
        let bad = good.replacen(",12001,", ",12s,", 1);
        let (_d, p) = write("log_random_4_22_to_5_08_pure.csv", &bad);
        assert_err(
            load_kuairand_log(&p),
            "log_random",
            &[":3:", "`duration_ms`", "`12s` is not a number"],
        );
        let cut = &good[..good.len() - 12];
        let (_d, p) = write("log_random_4_22_to_5_08_pure.csv", cut);
        let r = load_kuairand_log(&p);
        assert!(matches!(r, Err(DataError::Arity { .. })), "{r:?}");
        assert_err(r, "log_random", &[":4:", "expected 19 fields"]);
        let no_tab = good.replace(",tab\n", ",tabs\n");
        let (_d, p) = write("log_random_4_22_to_5_08_pure.csv", &no_tab);
        assert_err(
            load_kuairand_log(&p),
            "log_random",
            &["missing column `tab`"],
        );
    }

    #[test]
    fn real_user_features_load() {
        let Some(p) = shared("kuairand-pure/user_features_pure.csv") else {
            return;
        };
        let t = load_kuairand_users(&p).unwrap();
        assert_eq!(t.rows(), 27_285);
        assert_eq!(
            t.columns.len(),
            31,
            "no float column has empty cells here: {:?}",
            t.names()
        );
        assert_eq!(
            t.token("user_active_degree").unwrap().token(0),
            "full_active"
        );
        assert_eq!(t.token("fans_user_num_range").unwrap().token(0), "[100,1k)");
        assert_eq!(t.float("follow_user_num").unwrap()[0], 514.0);
        let f4 = t.token("onehot_feat4").unwrap();
        assert!(f4.id_of("").is_some(), "empty cells are the token \"\"");
        assert_eq!(
            f4.ids
                .iter()
                .filter(|&&i| f4.vocab[i as usize].is_empty())
                .count(),
            874
        );
    }

    #[test]
    fn real_video_features_load() {
        let Some(p) = shared("kuairand-pure/video_features_basic_pure.csv") else {
            return;
        };
        let t = load_kuairand_videos(&p).unwrap();
        assert_eq!(t.rows(), 7_583);
        let missing = t.float("video_duration_missing").unwrap();
        assert_eq!(missing.iter().sum::<f64>(), 239.0);
        assert_eq!(t.float("video_duration").unwrap()[0], 87433.0);
        let tag = t.token_seq("tag").unwrap();
        let row7: Vec<&str> = tag
            .row(7)
            .iter()
            .map(|&i| tag.vocab[i as usize].as_str())
            .collect();
        assert_eq!(row7, ["20", "67"]);
        assert_eq!((0..t.rows()).filter(|&r| tag.row(r).is_empty()).count(), 96);
        assert_eq!(t.token("music_type").unwrap().token(0), "9.0");
        assert_eq!(t.token("upload_dt").unwrap().token(0), "2022-04-10");
    }

    #[test]
    fn feature_files_need_their_id() {
        let (_d, p) = write("user_features_pure.csv", "uid,x\n1,2\n");
        assert_err(
            load_kuairand_users(&p),
            "user_features_pure.csv",
            &["missing column `user_id`"],
        );
        let (_d, p) = write(
            "video_features_basic_pure.csv",
            "video_id,video_duration\n1,2\n3,x\n",
        );
        assert_err(
            load_kuairand_videos(&p),
            "video_features_basic_pure.csv",
            &[":3:", "`video_duration`", "not a number"],
        );
    }
}
