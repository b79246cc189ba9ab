//! Data errors. Every error names the file, the line (1-based, header = line 1 where
//! there is one) and the field, so a user can open the file and fix it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A value that cannot be parsed or is not allowed (NaN, inf, label outside {0,1}, ...).
    #[error("{path}:{line}: field `{field}`: {msg}")]
    Bad {
        path: PathBuf,
        line: usize,
        field: String,
        msg: String,
    },
    /// A row with too few or too many fields (often a truncated file).
    #[error(
        "{path}:{line}: expected {expected} fields, found {found} (truncated or malformed row?)"
    )]
    Arity {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("{path}: missing column `{column}` (columns found: {found})")]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: String,
    },
    #[error("{what}: {msg}")]
    Invalid { what: String, msg: String },
}

impl DataError {
    pub fn bad(path: impl Into<PathBuf>, line: usize, field: &str, msg: impl Into<String>) -> Self {
        DataError::Bad {
            path: path.into(),
            line,
            field: field.to_string(),
            msg: msg.into(),
        }
    }
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
    pub fn invalid(what: impl Into<String>, msg: impl Into<String>) -> Self {
        DataError::Invalid {
            what: what.into(),
            msg: msg.into(),
        }
    }
}

pub type DataResult<T> = Result<T, DataError>;
