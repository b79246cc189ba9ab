//! Criteo display-advertising TSV (Kaggle challenge / Criteo 1TB day files): no header,
//! 40 tab-separated fields `label, I1..I13, C1..C26`; the classic CTR benchmark. Its
//! terms forbid redistribution, so tests generate their own rows.
//!
//! Types: `label` float (must be present); `I1..I13` floats where an empty cell becomes
//! 0.0 and the always-present column `I{k}_missing` (right after `I{k}`) is 1.0, so every
//! Criteo file has the same 53 columns; `C1..C26` tokens, an empty cell being `""`.

use std::path::Path;

use super::common::{read_table, Empty, Format, Kind};
use crate::data::error::DataResult;
use crate::data::table::Table;

/// Number of integer (`I`) and categorical (`C`) fields.
pub const INTEGER_FIELDS: usize = 13;
pub const CATEGORICAL_FIELDS: usize = 26;

/// The 40 column names in file order.
pub fn criteo_columns() -> Vec<String> {
    std::iter::once("label".to_string())
        .chain((1..=INTEGER_FIELDS).map(|k| format!("I{k}")))
        .chain((1..=CATEGORICAL_FIELDS).map(|k| format!("C{k}")))
        .collect()
}

/// Loads a Criteo TSV file.
pub fn load_criteo(path: impl AsRef<Path>) -> DataResult<Table> {
    let names = criteo_columns();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let format = Format {
        delimiter: b'\t',
        quoting: false,
        header: false,
    };
    read_table(path.as_ref(), format, Some(&names), |names| {
        Ok(names
            .iter()
            .map(|n| {
                let kind = match n.as_bytes()[0] {
                    b'l' => Kind::Float(Empty::Reject),
                    b'I' => Kind::Float(Empty::FlagAlways),
                    _ => Kind::Token,
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

    /// Made-up rows in the Criteo layout; row `r` leaves I(r+1) and C(r+1) empty.
    fn generated(rows: usize) -> String {
        let mut s = String::new();
        for r in 0..rows {
            let mut f = vec![(r % 2).to_string()];
            f.extend((1..=13).map(|k| {
                if k == r + 1 {
                    String::new()
                } else {
                    (k * 10 + r).to_string()
                }
            }));
            f.extend((1..=26).map(|k| {
                if k == r + 1 {
                    String::new()
                } else {
                    format!("{:08x}", k * 7919 + r)
                }
            }));
            s += &(f.join("\t") + "\n");
        }
        s
    }

    #[test]
    fn generated_rows_load_with_missing_flags() {
        let (_d, p) = write("day_0", &generated(3));
        let t = load_criteo(&p).unwrap();
        assert_eq!(t.rows(), 3);
        assert_eq!(t.columns.len(), 1 + 2 * 13 + 26);
        assert_eq!(&t.names()[..4], ["label", "I1", "I1_missing", "I2"]);
        assert_eq!(t.float("label").unwrap(), &[0.0, 1.0, 0.0]);
        assert_eq!(t.float("I1").unwrap(), &[0.0, 11.0, 12.0]);
        assert_eq!(t.float("I1_missing").unwrap(), &[1.0, 0.0, 0.0]);
        assert_eq!(t.float("I13_missing").unwrap(), &[0.0, 0.0, 0.0]);
        assert_eq!(t.token("C2").unwrap().token(1), "");
        assert_eq!(t.token("C2").unwrap().token(0), format!("{:08x}", 2 * 7919));
    }

    #[test]
    fn errors_name_line_and_field() {
        let good = generated(2);
        let (_d, p) = write("day_0", &good.replacen("\t31\t", "\tabc\t", 1));
        let r = load_criteo(&p);
        assert!(matches!(r, Err(DataError::Bad { .. })));
        assert_err(r, "day_0", &[":2:", "`I3`", "`abc` is not a number"]);
        let (_d, p) = write("day_0", &(good.clone() + "1\t2\t3"));
        let r = load_criteo(&p);
        assert!(matches!(r, Err(DataError::Arity { .. })));
        assert_err(r, "day_0", &[":3:", "expected 40 fields, found 3"]);
        let (_d, p) = write("day_0", &good.replacen("0\t", "\t", 1));
        assert_err(load_criteo(&p), "day_0", &[":1:", "`label`", "empty value"]);
    }
}
