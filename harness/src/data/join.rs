//! Left join of two tables on a token key: how side files (RecBole `.user`/`.item`,
//! KuaiRand user/video features, OBD item context) are attached to interactions before
//! a builder picks features. Matching is by the key's token text, since each table
//! interns its tokens separately.
//!
//! A left row with no match gets `MISSING_TOKEN` in token columns, 0.0 in float columns
//! and an empty list in token-list columns. A key present twice in `right` is an error.

use std::collections::HashMap;

use super::error::{DataError, DataResult};
use super::table::{ColumnData, Table, TokenColumn, TokenSeqColumn};

/// Token given to left rows whose key is not in the right table.
pub const MISSING_TOKEN: &str = "<missing>";

/// Appends `right`'s non-key columns to `left` (named `{prefix}{name}`), matching rows
/// on the token column `key` of both tables. The result has `left`'s rows and source.
pub fn left_join(left: &Table, right: &Table, key: &str, prefix: &str) -> DataResult<Table> {
    let left_key = left.token(key)?;
    let right_key = right.token(key)?;
    // Right row of each right key id; duplicates are ambiguous.
    let mut row_of: HashMap<u32, usize> = HashMap::with_capacity(right_key.vocab.len());
    for (row, &id) in right_key.ids.iter().enumerate() {
        if let Some(first) = row_of.insert(id, row) {
            return Err(DataError::invalid(
                format!("{}: column `{key}`", right.source.display()),
                format!(
                    "duplicate key `{}` (data rows {} and {}); a left join needs unique keys",
                    right_key.vocab[id as usize],
                    first + 1,
                    row + 1
                ),
            ));
        }
    }
    // For each left key id, the matching right row (by token text).
    let matches: Vec<Option<usize>> = left_key
        .vocab
        .iter()
        .map(|tok| right_key.id_of(tok).and_then(|id| row_of.get(&id).copied()))
        .collect();
    let picks: Vec<Option<usize>> = left_key
        .ids
        .iter()
        .map(|&id| matches[id as usize])
        .collect();

    let mut out = left.clone();
    for col in right.columns.iter().filter(|c| c.name != key) {
        let name = format!("{prefix}{}", col.name);
        if out.has(&name) {
            return Err(DataError::invalid(
                format!(
                    "joining {} onto {}",
                    right.source.display(),
                    left.source.display()
                ),
                format!("column `{name}` would appear twice; pass a prefix"),
            ));
        }
        out.push(name, gather(&col.data, &picks));
    }
    Ok(out)
}

/// Column `data` reordered to `picks` (None -> the missing value).
fn gather(data: &ColumnData, picks: &[Option<usize>]) -> ColumnData {
    match data {
        ColumnData::Token(c) => {
            let mut out = TokenColumn::default();
            for p in picks {
                out.push(p.map_or(MISSING_TOKEN, |r| c.token(r)));
            }
            ColumnData::Token(out)
        }
        ColumnData::Float(v) => {
            ColumnData::Float(picks.iter().map(|p| p.map_or(0.0, |r| v[r])).collect())
        }
        ColumnData::TokenSeq(c) => {
            let mut out = TokenSeqColumn::default();
            out.offsets.push(0);
            for p in picks {
                let row = p.map_or(&[][..], |r| c.row(r));
                out.push_row(row.iter().map(|&id| c.vocab[id as usize].as_str()));
            }
            ColumnData::TokenSeq(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::loaders::common::testutil::*;
    use crate::data::loaders::recbole::{load_atomic, load_atomic_dataset};

    fn seq(c: &TokenSeqColumn, row: usize) -> Vec<&str> {
        c.row(row)
            .iter()
            .map(|&i| c.vocab[i as usize].as_str())
            .collect()
    }

    #[test]
    fn tiny_join_fills_missing_rows() {
        let (_d1, l) = write(
            "l.inter",
            "user_id:token\titem_id:token\n1\ta\n2\tb\n3\ta\n",
        );
        let (_d2, r) = write(
            "r.user",
            "user_id:token\tage:float\tgender:token\ttags:token_seq\n3\t30\tF\tx y\n1\t10\tM\tz\n",
        );
        let (left, right) = (load_atomic(&l).unwrap(), load_atomic(&r).unwrap());
        let j = left_join(&left, &right, "user_id", "u_").unwrap();
        assert_eq!(
            j.names(),
            ["user_id", "item_id", "u_age", "u_gender", "u_tags"]
        );
        assert_eq!(j.rows(), 3);
        assert_eq!(j.source, left.source);
        assert_eq!(j.float("u_age").unwrap(), &[10.0, 0.0, 30.0]);
        let g = j.token("u_gender").unwrap();
        assert_eq!(
            [g.token(0), g.token(1), g.token(2)],
            ["M", MISSING_TOKEN, "F"]
        );
        let t = j.token_seq("u_tags").unwrap();
        assert_eq!(
            (seq(t, 0), seq(t, 1), seq(t, 2)),
            (vec!["z"], vec![], vec!["x", "y"])
        );
        // No prefix: names kept.
        assert!(left_join(&left, &right, "user_id", "").unwrap().has("age"));
    }

    #[test]
    fn duplicate_right_key_names_file_and_key() {
        let (_d1, l) = write("l.inter", "user_id:token\n1\n");
        let (_d2, r) = write("dup.user", "user_id:token\tage:float\n1\t10\n7\t3\n1\t11\n");
        let (left, right) = (load_atomic(&l).unwrap(), load_atomic(&r).unwrap());
        assert_err(
            left_join(&left, &right, "user_id", ""),
            "dup.user",
            &["`user_id`", "duplicate key `1`"],
        );
    }

    #[test]
    fn bad_key_or_clashing_names_are_errors() {
        let (_d1, l) = write("l.inter", "user_id:token\tage:float\n1\t5\n");
        let (_d2, r) = write("r.user", "user_id:token\tage:float\n1\t10\n");
        let (left, right) = (load_atomic(&l).unwrap(), load_atomic(&r).unwrap());
        assert_err(
            left_join(&left, &right, "user_id", ""),
            "r.user",
            &["`age` would appear twice"],
        );
        assert_err(
            left_join(&left, &right, "item_id", ""),
            "l.inter",
            &["missing column `item_id`"],
        );
        assert_err(
            left_join(&left, &right, "age", ""),
            "l.inter",
            &["expected a token column"],
        );
    }

    #[test]
    fn ml100k_inter_user_item() {
        let Some(dir) = shared("ml-100k") else { return };
        let ds = load_atomic_dataset(&dir, "ml-100k").unwrap();
        let j = left_join(&ds.inter, ds.user.as_ref().unwrap(), "user_id", "").unwrap();
        let j = left_join(&j, ds.item.as_ref().unwrap(), "item_id", "").unwrap();
        assert_eq!(j.rows(), 100_000);
        assert_eq!(
            j.names(),
            [
                "user_id",
                "item_id",
                "rating",
                "timestamp",
                "age",
                "gender",
                "occupation",
                "zip_code",
                "movie_title",
                "release_year",
                "class"
            ]
        );
        // Every rating has its user and item.
        assert!(j.token("gender").unwrap().id_of(MISSING_TOKEN).is_none());
        assert!(j
            .token("release_year")
            .unwrap()
            .id_of(MISSING_TOKEN)
            .is_none());
        // First row: user 196 (49, M, writer), item 242 (Kolya, 1996, Comedy).
        assert_eq!(j.token("age").unwrap().token(0), "49");
        assert_eq!(j.token("occupation").unwrap().token(0), "writer");
        assert_eq!(seq(j.token_seq("movie_title").unwrap(), 0), ["Kolya"]);
        assert_eq!(seq(j.token_seq("class").unwrap(), 0), ["Comedy"]);
    }
}
