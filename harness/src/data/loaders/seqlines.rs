//! SASRec / BERT4Rec "user item" lines: one action per line, space-separated, no header,
//! chronological within each user. The sequential-recommendation literature ships its
//! preprocessed datasets (Beauty, Steam, ML-1M, ...) this way. There is no timestamp, so
//! the loader adds `position` (0-based line order) for a builder to order events by.
//! Columns: user_id (token), item_id (token), position (float).

use std::path::Path;

use super::common::{read_table, Format, Kind};
use crate::data::error::DataResult;
use crate::data::table::{ColumnData, Table};

/// Loads a "user item" file.
pub fn load_seq_lines(path: impl AsRef<Path>) -> DataResult<Table> {
    let format = Format {
        delimiter: b' ',
        quoting: false,
        header: false,
    };
    let mut table = read_table(
        path.as_ref(),
        format,
        Some(&["user_id", "item_id"]),
        |names| Ok(names.iter().map(|n| (n.clone(), Kind::Token)).collect()),
    )?;
    let position = (0..table.rows()).map(|i| i as f64).collect();
    table.push("position", ColumnData::Float(position));
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;
    use crate::data::error::DataError;

    #[test]
    fn beauty_loads_fast_with_expected_counts() {
        let Some(p) = shared("amazon-beauty/beauty.txt") else {
            return;
        };
        let start = std::time::Instant::now();
        let t = load_seq_lines(&p).unwrap();
        let took = start.elapsed();
        assert_eq!(t.rows(), 353_962);
        assert_eq!(t.token("user_id").unwrap().vocab.len(), 40_226);
        assert_eq!(t.token("item_id").unwrap().vocab.len(), 54_542);
        let pos = t.float("position").unwrap();
        assert_eq!((pos[0], pos[353_961]), (0.0, 353_961.0));
        eprintln!("beauty.txt loaded in {took:?}");
        assert!(took.as_secs_f64() < 2.0, "beauty.txt took {took:?}");
    }

    #[test]
    fn small_file_keeps_order() {
        let (_d, p) = write("s.txt", "1 10\n1 11\n2 10\n");
        let t = load_seq_lines(&p).unwrap();
        assert_eq!(t.names(), ["user_id", "item_id", "position"]);
        assert_eq!(t.token("item_id").unwrap().token(2), "10");
        assert_eq!(t.float("position").unwrap(), &[0.0, 1.0, 2.0]);
    }

    #[test]
    fn wrong_field_count_is_arity_error() {
        let (_d, p) = write("s.txt", "1 10\n1 11 5\n");
        let r = load_seq_lines(&p);
        assert!(matches!(r, Err(DataError::Arity { .. })));
        assert_err(r, "s.txt", &[":2:", "expected 2 fields, found 3"]);
        let (_d, p) = write("s.txt", "1 10\n1");
        assert_err(
            load_seq_lines(&p),
            "s.txt",
            &[":2:", "expected 2 fields, found 1"],
        );
    }
}
