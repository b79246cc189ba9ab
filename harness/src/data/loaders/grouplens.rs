//! GroupLens MovieLens rating files as distributed by GroupLens (not RecBole):
//! ML-100K `u.data` (tab-separated `user item rating timestamp`, no header) and
//! ML-1M/10M `ratings.dat` (`user::item::rating::timestamp`). Users who download
//! MovieLens directly get these files, so the harness reads them without conversion.
//! Both give columns user_id (token), item_id (token), rating (float), timestamp (float).

use std::path::Path;

use super::common::{self, check_arity, line_of, read_table, Builder, Empty, Format, Kind};
use crate::data::error::{DataError, DataResult};
use crate::data::table::Table;

const NAMES: [&str; 4] = ["user_id", "item_id", "rating", "timestamp"];
const KINDS: [Kind; 4] = [
    Kind::Token,
    Kind::Token,
    Kind::Float(Empty::Reject),
    Kind::Float(Empty::Reject),
];

/// Loads ML-100K `u.data` (or any `user<TAB>item<TAB>rating<TAB>timestamp` file).
pub fn load_u_data(path: impl AsRef<Path>) -> DataResult<Table> {
    let format = Format {
        delimiter: b'\t',
        quoting: false,
        header: false,
    };
    read_table(path.as_ref(), format, Some(&NAMES), |names| {
        Ok(names.iter().cloned().zip(KINDS).collect())
    })
}

/// Loads ML-1M/10M `ratings.dat` (`user::item::rating::timestamp`). The csv crate only
/// splits on one byte, so it splits on `:` and every second piece must be empty.
pub fn load_ratings_dat(path: impl AsRef<Path>) -> DataResult<Table> {
    let path = path.as_ref();
    let format = Format {
        delimiter: b':',
        quoting: false,
        header: false,
    };
    let mut rdr = common::open(path, format)?;
    let mut rec = csv::StringRecord::new();
    let mut cols: Vec<Builder> = KINDS.iter().map(|&k| Builder::new(k)).collect();
    let mut rows = 0;
    while common::next(&mut rdr, path, &mut rec, &[])? {
        let line = line_of(&rec);
        // `a::b::c::d` splits into 7 pieces, every second one empty.
        let stray = (1..rec.len()).step_by(2).find(|&i| !rec[i].is_empty());
        if stray.is_some() || rec.len() % 2 != 1 {
            let at = stray.unwrap_or(rec.len()) / 2;
            return Err(DataError::bad(
                path,
                line,
                NAMES[at.min(NAMES.len() - 1)],
                "fields must be separated by `::`",
            ));
        }
        check_arity(path, line, NAMES.len(), rec.len().div_ceil(2))?;
        for (i, col) in cols.iter_mut().enumerate() {
            col.push(path, line, NAMES[i], &rec[2 * i])?;
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(common::empty_file(path, "no data rows"));
    }
    let mut table = Table::new(path);
    for (name, col) in NAMES.iter().zip(cols) {
        col.finish(name, &mut table);
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::super::common::testutil::*;
    use super::*;

    #[test]
    fn u_data_loads_typed_columns() {
        let (_d, p) = write(
            "u.data",
            "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t377\t1\t878887116\n",
        );
        let t = load_u_data(&p).unwrap();
        assert_eq!(t.names(), NAMES);
        assert_eq!(t.rows(), 3);
        assert_eq!(t.token("user_id").unwrap().vocab, ["196", "186"]);
        assert_eq!(t.float("rating").unwrap(), &[3.0, 3.0, 1.0]);
        assert_eq!(t.float("timestamp").unwrap()[2], 878887116.0);
    }

    #[test]
    fn u_data_errors_name_file_line_field() {
        let (_d, p) = write("u.data", "1\t2\t3\t4\n1\t2\tx\t4\n");
        assert_err(
            load_u_data(&p),
            "u.data",
            &[":2:", "`rating`", "not a number"],
        );
        let (_d, p) = write("u.data", "1\t2\t3\t4\n1\t2\t3\tinf\n");
        assert_err(
            load_u_data(&p),
            "u.data",
            &[":2:", "`timestamp`", "not a finite number"],
        );
        let (_d, p) = write("u.data", "1\t2\t3\t4\n1\t2\t3\t4\n5\t6\t");
        assert_err(
            load_u_data(&p),
            "u.data",
            &[":3:", "expected 4 fields, found 3"],
        );
        let (_d, p) = write("u.data", "1\t2\t\t4\n");
        assert_err(
            load_u_data(&p),
            "u.data",
            &[":1:", "`rating`", "empty value"],
        );
        let (_d, p) = write("u.data", "");
        assert_err(load_u_data(&p), "u.data", &["empty file"]);
    }

    #[test]
    fn ratings_dat_loads_and_rejects_bad_rows() {
        let (_d, p) = write(
            "ratings.dat",
            "1::1193::5::978300760\n1::661::3::978302109\n",
        );
        let t = load_ratings_dat(&p).unwrap();
        assert_eq!(t.names(), NAMES);
        assert_eq!(t.token("item_id").unwrap().token(1), "661");
        assert_eq!(t.float("rating").unwrap(), &[5.0, 3.0]);
        let (_d, p) = write("ratings.dat", "1::1193::5::978300760\n1::661::3\n");
        assert_err(
            load_ratings_dat(&p),
            "ratings.dat",
            &[":2:", "expected 4 fields, found 3"],
        );
        let (_d, p) = write("ratings.dat", "1::1193::five::978300760\n");
        assert_err(
            load_ratings_dat(&p),
            "ratings.dat",
            &[":1:", "`rating`", "not a number"],
        );
        let (_d, p) = write("ratings.dat", "1::1193:5::978300760\n");
        assert_err(load_ratings_dat(&p), "ratings.dat", &[":1:", "`::`"]);
        let (_d, p) = write("ratings.dat", "\n");
        assert_err(load_ratings_dat(&p), "ratings.dat", &["empty file"]);
    }
}
