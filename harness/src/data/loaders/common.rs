//! The engine every delimited-text loader shares: stream records with the `csv` crate,
//! type each column, and turn every problem into a `DataError` naming the file, the
//! 1-based line and the field. Format loaders only say how to name and type columns.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use crate::data::error::{DataError, DataResult};
use crate::data::table::{ColumnData, Table, TokenColumn, TokenSeqColumn};

/// What to do with an empty cell in a float column. Floats must stay finite, so a
/// missing number is never stored as NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Empty {
    /// An empty cell is an error (formats whose numbers are never missing).
    Reject,
    /// Store 0.0 and add a `{name}_missing` float column (1.0 where empty), right after
    /// the column, only if the file has at least one empty cell in it.
    FlagIfAny,
    /// Same, but the `{name}_missing` column is always added, so every file of the
    /// format has the same columns (Criteo integer features).
    FlagAlways,
}

/// How one column's text is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Interned string; an empty cell is the token `""`.
    Token,
    /// List of tokens split on this byte (empty pieces dropped; an empty cell = empty list).
    Seq(char),
    /// Finite number.
    Float(Empty),
    /// Date-time with a UTC offset (`2019-11-24 00:00:34.762830+00:00`, RFC 3339),
    /// stored as float seconds since the Unix epoch.
    DateTime,
    /// Float if every non-empty cell of the file is a finite number (and one exists),
    /// else Token. Needs a first pass over the file.
    Infer(Empty),
}

/// Name of the flag column that marks empty cells of float column `name`.
pub fn missing_flag_name(name: &str) -> String {
    format!("{name}_missing")
}

/// How to split a file into records.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Format {
    pub delimiter: u8,
    /// RecBole, u.data, beauty.txt and Criteo are not CSV-quoted: a `"` is data.
    pub quoting: bool,
    /// The first line names the columns.
    pub header: bool,
}

/// Reads `path` into a table. `resolve` gets the raw column names (the header, or
/// `names` when the format has none) and returns final names and kinds, checking
/// required columns.
pub(crate) fn read_table(
    path: &Path,
    format: Format,
    names: Option<&[&str]>,
    resolve: impl FnOnce(&[String]) -> DataResult<Vec<(String, Kind)>>,
) -> DataResult<Table> {
    let mut rdr = open(path, format)?;
    let mut rec = csv::StringRecord::new();
    let raw: Vec<String> = if format.header {
        if !next(&mut rdr, path, &mut rec, &[])? {
            return Err(empty_file(path, "no header line"));
        }
        rec.iter().map(|s| s.trim().to_string()).collect()
    } else {
        names
            .expect("a format without a header gives its column names")
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut cols = resolve(&raw)?;
    check_unique(path, &cols)?;
    if cols.iter().any(|(_, k)| matches!(k, Kind::Infer(_))) {
        infer(path, format, &mut cols)?;
        rdr = open(path, format)?;
        if format.header {
            next(&mut rdr, path, &mut rec, &[])?;
        }
    }
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let mut builders: Vec<Builder> = cols.iter().map(|(_, k)| Builder::new(*k)).collect();
    let mut rows = 0usize;
    while next(&mut rdr, path, &mut rec, &names)? {
        let line = line_of(&rec);
        check_arity(path, line, names.len(), rec.len())?;
        for ((b, text), name) in builders.iter_mut().zip(rec.iter()).zip(&names) {
            b.push(path, line, name, text)?;
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(empty_file(path, "no data rows"));
    }
    let mut table = Table::new(path);
    table.first_data_line = if format.header { 2 } else { 1 };
    for ((name, _), b) in cols.into_iter().zip(builders) {
        b.finish(&name, &mut table);
    }
    Ok(table)
}

pub(crate) fn open(path: &Path, format: Format) -> DataResult<csv::Reader<BufReader<File>>> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(format.delimiter)
        .quoting(format.quoting)
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 16, file)))
}

/// Reads the next record; false at end of file. `names` name fields in UTF-8 errors.
pub(crate) fn next(
    rdr: &mut csv::Reader<BufReader<File>>,
    path: &Path,
    rec: &mut csv::StringRecord,
    names: &[&str],
) -> DataResult<bool> {
    rdr.read_record(rec).map_err(|e| csv_error(path, e, names))
}

fn csv_error(path: &Path, e: csv::Error, names: &[&str]) -> DataError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DataError::io(path, io),
        csv::ErrorKind::Utf8 { err, .. } => {
            let field = names
                .get(err.field())
                .map_or_else(|| format!("#{}", err.field() + 1), |n| n.to_string());
            DataError::bad(path, line, &field, "not valid UTF-8")
        }
        other => DataError::invalid(
            format!("{}:{line}", path.display()),
            format!("cannot parse: {other:?}"),
        ),
    }
}

pub(crate) fn line_of(rec: &csv::StringRecord) -> usize {
    rec.position().map_or(0, |p| p.line() as usize)
}

pub(crate) fn check_arity(
    path: &Path,
    line: usize,
    expected: usize,
    found: usize,
) -> DataResult<()> {
    if expected == found {
        Ok(())
    } else {
        Err(DataError::Arity {
            path: path.to_path_buf(),
            line,
            expected,
            found,
        })
    }
}

pub(crate) fn empty_file(path: &Path, why: &str) -> DataError {
    DataError::invalid(path.display().to_string(), format!("empty file: {why}"))
}

/// Parses a finite number; `nan`, `inf` and non-numbers are errors naming the cell.
pub(crate) fn parse_float(path: &Path, line: usize, field: &str, text: &str) -> DataResult<f64> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(DataError::bad(
            path,
            line,
            field,
            format!("`{text}` is not a finite number (NaN and infinity are not allowed)"),
        )),
        Err(_) => Err(DataError::bad(
            path,
            line,
            field,
            format!("`{text}` is not a number"),
        )),
    }
}

/// Seconds since the Unix epoch of an RFC 3339 date-time (a space may separate date
/// and time, as pandas writes it).
pub(crate) fn parse_datetime(path: &Path, line: usize, field: &str, text: &str) -> DataResult<f64> {
    let t = text.trim();
    chrono::DateTime::parse_from_rfc3339(t)
        .or_else(|_| chrono::DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .map(|d| d.timestamp() as f64 + f64::from(d.timestamp_subsec_micros()) * 1e-6)
        .map_err(|_| {
            DataError::bad(
                path,
                line,
                field,
                format!("`{text}` is not a date-time like `2019-11-24 00:00:34.762830+00:00`"),
            )
        })
}

/// Errors unless `names` holds every column in `required`.
pub(crate) fn require(path: &Path, names: &[String], required: &[&str]) -> DataResult<()> {
    match required.iter().find(|r| !names.iter().any(|n| n == *r)) {
        None => Ok(()),
        Some(r) => Err(DataError::MissingColumn {
            path: path.to_path_buf(),
            column: r.to_string(),
            found: names.join(", "),
        }),
    }
}

fn check_unique(path: &Path, cols: &[(String, Kind)]) -> DataResult<()> {
    for (i, (n, _)) in cols.iter().enumerate() {
        if cols[..i].iter().any(|(m, _)| m == n) {
            return Err(DataError::bad(path, 1, n, "column name appears twice"));
        }
    }
    Ok(())
}

/// First pass: settles each `Infer` column as Float or Token.
fn infer(path: &Path, format: Format, cols: &mut [(String, Kind)]) -> DataResult<()> {
    let mut rdr = open(path, format)?;
    let mut rec = csv::StringRecord::new();
    if format.header {
        next(&mut rdr, path, &mut rec, &[])?;
    }
    let names: Vec<String> = cols.iter().map(|(n, _)| n.clone()).collect();
    let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
    // Per column: still numeric?, seen a non-empty value?
    let mut numeric = vec![true; cols.len()];
    let mut seen = vec![false; cols.len()];
    while next(&mut rdr, path, &mut rec, &names)? {
        check_arity(path, line_of(&rec), cols.len(), rec.len())?;
        for (i, text) in rec.iter().enumerate() {
            if matches!(cols[i].1, Kind::Infer(_)) && numeric[i] && !text.trim().is_empty() {
                seen[i] = true;
                numeric[i] = text.trim().parse::<f64>().is_ok_and(f64::is_finite);
            }
        }
    }
    for (i, (_, kind)) in cols.iter_mut().enumerate() {
        if let Kind::Infer(empty) = *kind {
            *kind = if numeric[i] && seen[i] {
                Kind::Float(empty)
            } else {
                Kind::Token
            };
        }
    }
    Ok(())
}

/// One column being filled, row by row.
pub(crate) enum Builder {
    Token(TokenColumn),
    Seq(char, TokenSeqColumn),
    DateTime(Vec<f64>),
    Float {
        empty: Empty,
        values: Vec<f64>,
        /// 1.0 where the cell was empty; created at the first empty cell (or at once
        /// for `FlagAlways`) and back-filled with 0.0.
        missing: Option<Vec<f64>>,
    },
}

impl Builder {
    pub(crate) fn new(kind: Kind) -> Self {
        match kind {
            Kind::Token | Kind::Infer(_) => Builder::Token(TokenColumn::default()),
            Kind::Seq(sep) => Builder::Seq(sep, TokenSeqColumn::default()),
            Kind::DateTime => Builder::DateTime(Vec::new()),
            Kind::Float(empty) => Builder::Float {
                empty,
                values: Vec::new(),
                missing: (empty == Empty::FlagAlways).then(Vec::new),
            },
        }
    }

    pub(crate) fn push(
        &mut self,
        path: &Path,
        line: usize,
        field: &str,
        text: &str,
    ) -> DataResult<()> {
        match self {
            Builder::Token(c) => c.push(text),
            Builder::Seq(sep, c) => c.push_row(text.split(*sep).filter(|t| !t.is_empty())),
            Builder::DateTime(v) => v.push(parse_datetime(path, line, field, text)?),
            Builder::Float {
                empty,
                values,
                missing,
            } => {
                let is_empty = text.trim().is_empty();
                if is_empty && *empty == Empty::Reject {
                    return Err(DataError::bad(
                        path,
                        line,
                        field,
                        "empty value in a numeric column",
                    ));
                }
                if is_empty && missing.is_none() {
                    *missing = Some(vec![0.0; values.len()]);
                }
                values.push(if is_empty {
                    0.0
                } else {
                    parse_float(path, line, field, text)?
                });
                if let Some(m) = missing {
                    m.push(if is_empty { 1.0 } else { 0.0 });
                }
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self, name: &str, table: &mut Table) {
        match self {
            Builder::Token(c) => table.push(name, ColumnData::Token(c)),
            Builder::Seq(_, mut c) => {
                if c.offsets.is_empty() {
                    c.offsets.push(0);
                }
                table.push(name, ColumnData::TokenSeq(c))
            }
            Builder::DateTime(v) => table.push(name, ColumnData::Float(v)),
            Builder::Float {
                values, missing, ..
            } => {
                table.push(name, ColumnData::Float(values));
                if let Some(m) = missing {
                    table.push(missing_flag_name(name), ColumnData::Float(m));
                }
            }
        }
    }
}

/// Test helpers: where the shared real datasets live, and small file writers.
#[cfg(test)]
pub(crate) mod testutil {
    use std::path::PathBuf;

    /// `../shared/data` beside the workspace root, or `None` (after printing a SKIP
    /// line) when this checkout has no shared data.
    pub fn shared(rel: &str) -> Option<PathBuf> {
        let p = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).join(rel);
        if p.exists() {
            Some(p)
        } else {
            eprintln!(
                "SKIP: {} not found (no ../shared/data in this checkout)",
                p.display()
            );
            None
        }
    }

    /// Writes `text` to `name` in a fresh temp dir; keep the dir alive while using the path.
    pub fn write(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    /// Asserts the error's message names the file, and contains every piece in `parts`.
    pub fn assert_err<T: std::fmt::Debug>(
        r: crate::data::DataResult<T>,
        file: &str,
        parts: &[&str],
    ) -> String {
        let msg = r.expect_err("expected an error").to_string();
        assert!(msg.contains(file), "error should name `{file}`: {msg}");
        for p in parts {
            assert!(msg.contains(p), "error should contain `{p}`: {msg}");
        }
        msg
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

    const CSV: Format = Format {
        delimiter: b',',
        quoting: true,
        header: true,
    };

    fn infer_all(names: &[String]) -> DataResult<Vec<(String, Kind)>> {
        Ok(names
            .iter()
            .map(|n| (n.clone(), Kind::Infer(Empty::FlagIfAny)))
            .collect())
    }

    #[test]
    fn infers_types_and_flags_empty_numbers() {
        let (_d, p) = write("t.csv", "a,b,c\n1,x,\n2.5,y,3\n");
        let t = read_table(&p, CSV, None, infer_all).unwrap();
        assert_eq!(t.names(), ["a", "b", "c", "c_missing"]);
        assert_eq!(t.float("a").unwrap(), &[1.0, 2.5]);
        assert_eq!(t.token("b").unwrap().token(1), "y");
        assert_eq!(t.float("c").unwrap(), &[0.0, 3.0]);
        assert_eq!(t.float("c_missing").unwrap(), &[1.0, 0.0]);
    }

    #[test]
    fn nan_and_inf_are_rejected_with_line_and_field() {
        for bad in ["nan", "inf", "-Infinity", "NaN"] {
            let (_d, p) = write("f.csv", &format!("a,b\n1,2\n3,{bad}\n"));
            let r = read_table(&p, CSV, None, |n| {
                Ok(n.iter()
                    .map(|n| (n.clone(), Kind::Float(Empty::Reject)))
                    .collect())
            });
            assert_err(r, "f.csv", &[":3:", "`b`", "not a finite number"]);
        }
    }

    #[test]
    fn datetimes_parse_to_epoch_seconds() {
        let p = Path::new("x");
        let v = parse_datetime(p, 2, "t", "2019-11-24 00:00:34.762830+00:00").unwrap();
        assert!((v - 1_574_553_634.762_83).abs() < 1e-5, "{v}");
        assert_eq!(
            parse_datetime(p, 2, "t", "1970-01-01T00:01:00+01:00").unwrap(),
            -3540.0
        );
        assert_eq!(
            parse_datetime(p, 2, "t", "1970-01-01 00:00:10+00:00").unwrap(),
            10.0
        );
        let e = parse_datetime(p, 2, "t", "yesterday")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x:2: field `t`") && e.contains("yesterday"),
            "{e}"
        );
    }

    #[test]
    fn missing_file_is_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope.csv");
        let r = read_table(&p, CSV, None, infer_all);
        assert!(matches!(r, Err(DataError::Io { .. })));
        assert_err(r, "nope.csv", &["cannot read"]);
        // A directory opens but cannot be read: also Io.
        let r = read_table(dir.path(), CSV, None, infer_all);
        assert!(matches!(r, Err(DataError::Io { .. })), "{r:?}");
    }

    #[test]
    fn empty_file_and_header_only_are_invalid() {
        for text in ["", "a,b\n"] {
            let (_d, p) = write("e.csv", text);
            let r = read_table(&p, CSV, None, infer_all);
            assert!(matches!(r, Err(DataError::Invalid { .. })), "{r:?}");
            assert_err(r, "e.csv", &["empty file"]);
        }
    }

    #[test]
    fn invalid_utf8_names_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.csv");
        std::fs::write(&p, b"a,b\n1,x\n2,\xff\xfe\n").unwrap();
        let r = read_table(&p, CSV, None, infer_all);
        assert_err(r, "u.csv", &[":3:", "`b`", "UTF-8"]);
    }

    #[test]
    fn byte_order_mark_is_not_part_of_the_first_name() {
        let (_d, p) = write("bom.csv", "\u{feff}a,b\n1,x\n");
        let t = read_table(&p, CSV, None, infer_all).unwrap();
        assert_eq!(t.names(), ["a", "b"]);
    }

    #[test]
    fn duplicate_header_names_are_rejected() {
        let (_d, p) = write("d.csv", "a,a\n1,2\n");
        assert_err(
            read_table(&p, CSV, None, infer_all),
            "d.csv",
            &[":1:", "`a`", "twice"],
        );
    }
}
