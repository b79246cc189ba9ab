//! RecBole "atomic files" (`.inter`, `.user`, `.item`): tab-separated, one typed header
//! line `name:token | name:float | name:token_seq | name:float_seq`. RecBole is the most
//! common interchange format for public recommendation datasets, so one loader covers
//! many of them. Files are NOT CSV-quoted (titles may contain `"`), so quoting is off.
//!
//! Policies: the `:type` suffix is stripped from names; `token_seq` is split on single
//! spaces; `float_seq` is rejected (a `Table` has no float-list column); an empty float
//! cell is stored as 0.0 with a `{name}_missing` flag column (see `common::Empty`).

use std::path::{Path, PathBuf};

use super::common::{read_table, Empty, Format, Kind};
use crate::data::error::{DataError, DataResult};
use crate::data::table::Table;

/// The tables of one RecBole dataset directory.
#[derive(Debug, Clone)]
pub struct AtomicFiles {
    pub inter: Table,
    pub user: Option<Table>,
    pub item: Option<Table>,
}

const FORMAT: Format = Format {
    delimiter: b'\t',
    quoting: false,
    header: true,
};

/// Loads one atomic file of any kind.
pub fn load_atomic(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    read_table(path, FORMAT, None, |raw| {
        raw.iter().map(|h| typed_column(path, h)).collect()
    })
}

/// Loads `dir/name.inter` and, when present, `dir/name.user` and `dir/name.item`.
pub fn load_atomic_dataset(dir: impl AsRef<Path>, name: &str) -> DataResult<AtomicFiles> {
    let file = |ext: &str| -> PathBuf { dir.as_ref().join(format!("{name}.{ext}")) };
    let optional = |ext: &str| -> DataResult<Option<Table>> {
        let p = file(ext);
        if p.exists() {
            load_atomic(p).map(Some)
        } else {
            Ok(None)
        }
    };
    Ok(AtomicFiles {
        inter: load_atomic(file("inter"))?,
        user: optional("user")?,
        item: optional("item")?,
    })
}

/// `user_id:token` -> (`user_id`, Token).
fn typed_column(path: &Path, header: &str) -> DataResult<(String, Kind)> {
    let Some((name, ty)) = header.rsplit_once(':') else {
        return Err(DataError::bad(
            path,
            1,
            header,
            "RecBole header fields must be `name:type` (token, float, token_seq)",
        ));
    };
    let kind =
        match ty {
            "token" => Kind::Token,
            "float" => Kind::Float(Empty::FlagIfAny),
            "token_seq" => Kind::Seq(' '),
            "float_seq" => return Err(DataError::bad(
                path,
                1,
                header,
                "float_seq columns are not supported (drop the column or convert it to token_seq)",
            )),
            other => {
                return Err(DataError::bad(
                    path,
                    1,
                    header,
                    format!("unknown RecBole type `{other}` (expected token, float, token_seq)"),
                ))
            }
        };
    Ok((name.to_string(), kind))
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;
    use crate::data::error::DataError;

    #[test]
    fn ml100k_loads_with_stripped_names_and_types() {
        let Some(dir) = shared("ml-100k") else { return };
        let ds = load_atomic_dataset(&dir, "ml-100k").unwrap();
        let inter = &ds.inter;
        assert_eq!(inter.names(), ["user_id", "item_id", "rating", "timestamp"]);
        assert_eq!(inter.rows(), 100_000);
        assert_eq!(inter.token("user_id").unwrap().vocab.len(), 943);
        assert_eq!(inter.token("item_id").unwrap().vocab.len(), 1682);
        assert_eq!(inter.token("user_id").unwrap().token(0), "196");
        assert_eq!(inter.float("rating").unwrap()[0], 3.0);
        assert_eq!(inter.float("timestamp").unwrap()[0], 881250949.0);

        let user = ds.user.as_ref().unwrap();
        assert_eq!(
            user.names(),
            ["user_id", "age", "gender", "occupation", "zip_code"]
        );
        assert_eq!(user.rows(), 943);

        let item = ds.item.as_ref().unwrap();
        assert_eq!(
            item.names(),
            ["item_id", "movie_title", "release_year", "class"]
        );
        assert_eq!(item.rows(), 1682);
        let class = item.token_seq("class").unwrap();
        let genres = |row: usize| -> Vec<&str> {
            class
                .row(row)
                .iter()
                .map(|&i| class.vocab[i as usize].as_str())
                .collect()
        };
        assert_eq!(genres(0), ["Animation", "Children's", "Comedy"]);
        // Non-ASCII titles survive, and no row swallowed another (quoting is off).
        let ids = item.token("item_id").unwrap();
        let title = item.token_seq("movie_title").unwrap();
        let row = (0..item.rows()).find(|&r| ids.token(r) == "543").unwrap();
        let words: Vec<&str> = title
            .row(row)
            .iter()
            .map(|&i| title.vocab[i as usize].as_str())
            .collect();
        assert_eq!(words, ["Misérables,", "Les"]);
        assert_eq!(item.token("release_year").unwrap().token(row), "1995");
    }

    #[test]
    fn quotes_are_data_not_quoting() {
        let (_d, p) = write(
            "q.item",
            "item_id:token\ttitle:token_seq\tyear:float\n1\t\"Quoted\ttitle\t1995\n2\tb\"c\t1996\n",
        );
        // Row 1 has 4 tab-separated fields: an arity error, not a silently merged row.
        assert_err(
            load_atomic(&p),
            "q.item",
            &[":2:", "expected 3 fields, found 4"],
        );
        let (_d, p) = write(
            "q.item",
            "item_id:token\ttitle:token_seq\tyear:float\n1\t\"Quoted title\t1995\n2\tb\"c\t1996\n",
        );
        let t = load_atomic(&p).unwrap();
        assert_eq!(t.rows(), 2);
        assert_eq!(
            t.token_seq("title").unwrap().vocab,
            ["\"Quoted", "title", "b\"c"]
        );
        assert_eq!(t.float("year").unwrap(), &[1995.0, 1996.0]);
    }

    #[test]
    fn non_numeric_float_names_file_line_field() {
        let (_d, p) = write(
            "bad.inter",
            "user_id:token\titem_id:token\trating:float\n1\t2\t3\n1\t3\tfour\n",
        );
        let r = load_atomic(&p);
        assert!(matches!(r, Err(DataError::Bad { .. })));
        assert_err(
            r,
            "bad.inter",
            &[":3:", "`rating`", "`four` is not a number"],
        );
    }

    #[test]
    fn truncated_last_row_is_arity_error() {
        let (_d, p) = write(
            "cut.inter",
            "user_id:token\titem_id:token\trating:float\n1\t2\t3\n1\t3",
        );
        let r = load_atomic(&p);
        assert!(matches!(r, Err(DataError::Arity { .. })));
        assert_err(r, "cut.inter", &[":3:", "expected 3 fields, found 2"]);
    }

    #[test]
    fn bad_headers_are_rejected() {
        let (_d, p) = write("h.inter", "user_id\titem_id:token\n1\t2\n");
        assert_err(
            load_atomic(&p),
            "h.inter",
            &[":1:", "`user_id`", "name:type"],
        );
        let (_d, p) = write("h.inter", "user_id:token\temb:float_seq\n1\t0.1 0.2\n");
        assert_err(
            load_atomic(&p),
            "h.inter",
            &[":1:", "`emb:float_seq`", "not supported"],
        );
        let (_d, p) = write("h.inter", "user_id:blob\n1\n");
        assert_err(
            load_atomic(&p),
            "h.inter",
            &[":1:", "unknown RecBole type `blob`"],
        );
    }

    #[test]
    fn empty_float_is_zero_with_flag_and_empty_token_is_empty_string() {
        let (_d, p) = write(
            "e.user",
            "user_id:token\tage:float\tzip:token\n1\t\t\n2\t30\t123\n",
        );
        let t = load_atomic(&p).unwrap();
        assert_eq!(t.names(), ["user_id", "age", "age_missing", "zip"]);
        assert_eq!(t.float("age").unwrap(), &[0.0, 30.0]);
        assert_eq!(t.float("age_missing").unwrap(), &[1.0, 0.0]);
        assert_eq!(t.token("zip").unwrap().token(0), "");
    }

    #[test]
    fn dataset_without_side_files_has_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("x.inter"),
            "user_id:token\titem_id:token\n1\t2\n",
        )
        .unwrap();
        let ds = load_atomic_dataset(dir.path(), "x").unwrap();
        assert!(ds.user.is_none() && ds.item.is_none());
        assert_eq!(ds.inter.rows(), 1);
        let r = load_atomic_dataset(dir.path(), "y");
        assert!(matches!(r, Err(DataError::Io { .. })));
        assert_err(r, "y.inter", &["cannot read"]);
    }
}
