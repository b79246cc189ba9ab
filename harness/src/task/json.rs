//! Reading the project's JSON files (tasks, suites, claims) with errors that name the
//! file, line and column, or the offending key.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {msg}")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        msg: String,
    },
    #[error("{path}: `{key}`: {msg}")]
    Invalid {
        path: PathBuf,
        key: String,
        msg: String,
    },
}

/// Reads and parses a JSON file of the project's (task, suite, claim): an unreadable
/// file or bad JSON becomes a [`SpecError`] naming the file, line and column.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_json(path, &text)
}

/// [`read_json`] on text already read (`path` is for messages).
pub fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, SpecError> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json appends " at line L column C"; the error's prefix already says where.
        let m = e.to_string();
        let at = format!(" at line {} column {}", e.line(), e.column());
        SpecError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            msg: m.strip_suffix(&at).unwrap_or(&m).to_string(),
        }
    })
}
