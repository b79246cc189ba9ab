//! Kevin Hillstrom's MineThatData e-mail campaign CSV (comma-separated, quoted, header),
//! the standard public uplift benchmark. Its twelve columns must be present: the known
//! numeric ones are floats (an empty or non-numeric cell is an error), the known
//! categorical ones tokens; any extra column is typed by its content (numbers -> float).

use std::path::Path;

use super::common::{read_table, require, Empty, Format, Kind};
use crate::data::error::DataResult;
use crate::data::table::Table;

/// Numeric Hillstrom columns (outcomes `visit`, `conversion`, `spend` included).
pub const NUMERIC: [&str; 8] = [
    "recency",
    "history",
    "mens",
    "womens",
    "newbie",
    "visit",
    "conversion",
    "spend",
];
/// Categorical Hillstrom columns (`segment` is the treatment arm).
pub const CATEGORICAL: [&str; 4] = ["history_segment", "zip_code", "channel", "segment"];

/// Loads a Hillstrom CSV.
pub fn load_hillstrom(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    let format = Format {
        delimiter: b',',
        quoting: true,
        header: true,
    };
    read_table(path, format, None, |names| {
        require(path, names, &NUMERIC)?;
        require(path, names, &CATEGORICAL)?;
        Ok(names
            .iter()
            .map(|n| {
                let kind = if NUMERIC.contains(&n.as_str()) {
                    Kind::Float(Empty::Reject)
                } else if CATEGORICAL.contains(&n.as_str()) {
                    Kind::Token
                } else {
                    Kind::Infer(Empty::FlagIfAny)
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

    const HEADER: &str =
        "recency,history_segment,history,mens,womens,zip_code,newbie,channel,segment,visit,conversion,spend";

    #[test]
    fn real_file_loads() {
        let Some(p) = shared("hillstrom/hillstrom.csv") else {
            return;
        };
        let t = load_hillstrom(&p).unwrap();
        assert_eq!(t.rows(), 64_000);
        assert_eq!(t.names(), HEADER.split(',').collect::<Vec<_>>());
        let mut arms = t.token("segment").unwrap().vocab.clone();
        arms.sort();
        assert_eq!(arms, ["Mens E-Mail", "No E-Mail", "Womens E-Mail"]);
        assert_eq!(
            t.token("history_segment").unwrap().token(0),
            "2) $100 - $200"
        );
        assert_eq!(t.float("history").unwrap()[0], 142.44);
        assert!(t.float("spend").unwrap().iter().all(|&v| v >= 0.0));
    }

    #[test]
    fn extra_columns_are_inferred() {
        let (_d, p) = write(
            "h.csv",
            &format!("{HEADER},score,note\n10,\"2) $100 - $200\",142.44,1,0,Rural,0,Web,No E-Mail,0,0,0,0.5,\"a,b\"\n"),
        );
        let t = load_hillstrom(&p).unwrap();
        assert_eq!(t.float("score").unwrap(), &[0.5]);
        assert_eq!(t.token("note").unwrap().token(0), "a,b");
    }

    #[test]
    fn missing_column_is_named() {
        let header = HEADER.replace(",spend", "");
        let (_d, p) = write(
            "h.csv",
            &format!("{header}\n10,x,1,1,0,Rural,0,Web,No E-Mail,0,0\n"),
        );
        let r = load_hillstrom(&p);
        assert!(matches!(r, Err(DataError::MissingColumn { .. })));
        assert_err(r, "h.csv", &["missing column `spend`", "recency"]);
    }

    #[test]
    fn bad_number_and_short_row_name_line_and_field() {
        let ok = "10,x,142.44,1,0,Rural,0,Web,No E-Mail,0,0,0";
        let (_d, p) = write(
            "h.csv",
            &format!("{HEADER}\n{ok}\n10,x,142.44,1,0,Rural,0,Web,No E-Mail,0,0,abc\n"),
        );
        assert_err(
            load_hillstrom(&p),
            "h.csv",
            &[":3:", "`spend`", "not a number"],
        );
        let (_d, p) = write("h.csv", &format!("{HEADER}\n{ok}\n{ok}\n10,x,142.4"));
        let r = load_hillstrom(&p);
        assert!(matches!(r, Err(DataError::Arity { .. })));
        assert_err(r, "h.csv", &[":4:", "expected 12 fields, found 3"]);
    }
}
