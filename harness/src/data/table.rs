//! `Table`: what every loader returns. Named, typed columns read from files, before any
//! task decides which column is a feature, a label or a group. Token columns are interned
//! per column (string -> dense id), so the builder can turn them into sparse features
//! with a known vocabulary size. Keeping loaders format-only means any file of the same
//! format works, whatever its columns mean.

use std::collections::HashMap;
use std::path::PathBuf;

use super::error::{DataError, DataResult};

/// Assigns dense ids to strings in order of first appearance.
fn intern(vocab: &mut Vec<String>, index: &mut HashMap<String, u32>, token: &str) -> u32 {
    if let Some(&id) = index.get(token) {
        return id;
    }
    let id = vocab.len() as u32;
    vocab.push(token.to_string());
    index.insert(token.to_string(), id);
    id
}

/// An interned categorical column: `ids[row]` indexes `vocab`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenColumn {
    pub ids: Vec<u32>,
    pub vocab: Vec<String>,
    index: HashMap<String, u32>,
}

impl TokenColumn {
    pub fn push(&mut self, token: &str) {
        let id = intern(&mut self.vocab, &mut self.index, token);
        self.ids.push(id);
    }
    pub fn token(&self, row: usize) -> &str {
        &self.vocab[self.ids[row] as usize]
    }
    pub fn id_of(&self, token: &str) -> Option<u32> {
        self.index.get(token).copied()
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// A variable-length list per row (e.g. RecBole `token_seq`: movie genres).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenSeqColumn {
    /// `offsets[row]..offsets[row + 1]` indexes `ids`; `offsets.len() == rows + 1`.
    pub offsets: Vec<usize>,
    pub ids: Vec<u32>,
    pub vocab: Vec<String>,
    index: HashMap<String, u32>,
}

impl TokenSeqColumn {
    pub fn push_row<'a>(&mut self, tokens: impl IntoIterator<Item = &'a str>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        for t in tokens {
            let id = intern(&mut self.vocab, &mut self.index, t);
            self.ids.push(id);
        }
        self.offsets.push(self.ids.len());
    }
    pub fn row(&self, row: usize) -> &[u32] {
        &self.ids[self.offsets[row]..self.offsets[row + 1]]
    }
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Token(TokenColumn),
    TokenSeq(TokenSeqColumn),
    /// Finite floats only; loaders reject NaN/inf with the file, line and field.
    Float(Vec<f64>),
}

impl ColumnData {
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Token(c) => c.len(),
            ColumnData::TokenSeq(c) => c.len(),
            ColumnData::Float(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn kind(&self) -> &'static str {
        match self {
            ColumnData::Token(_) => "token",
            ColumnData::TokenSeq(_) => "token_seq",
            ColumnData::Float(_) => "float",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

/// Columns of equal length read from one file (or a join of several).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file the rows came from; errors about this table name it.
    pub source: PathBuf,
    pub columns: Vec<Column>,
    /// File line of row 0 (2 after a header line), so later checks can name the line.
    pub first_data_line: usize,
}

impl Table {
    pub fn new(source: impl Into<PathBuf>) -> Self {
        Table {
            source: source.into(),
            columns: Vec::new(),
            first_data_line: 1,
        }
    }
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }
    pub fn column(&self, name: &str) -> DataResult<&ColumnData> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.data)
            .ok_or_else(|| DataError::MissingColumn {
                path: self.source.clone(),
                column: name.to_string(),
                found: self.names().join(", "),
            })
    }
    pub fn has(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.name == name)
    }
    pub fn token(&self, name: &str) -> DataResult<&TokenColumn> {
        match self.column(name)? {
            ColumnData::Token(c) => Ok(c),
            other => Err(self.kind_error(name, "token", other.kind())),
        }
    }
    pub fn float(&self, name: &str) -> DataResult<&[f64]> {
        match self.column(name)? {
            ColumnData::Float(v) => Ok(v),
            other => Err(self.kind_error(name, "float", other.kind())),
        }
    }
    pub fn token_seq(&self, name: &str) -> DataResult<&TokenSeqColumn> {
        match self.column(name)? {
            ColumnData::TokenSeq(c) => Ok(c),
            other => Err(self.kind_error(name, "token_seq", other.kind())),
        }
    }
    fn kind_error(&self, name: &str, want: &str, got: &str) -> DataError {
        DataError::invalid(
            format!("{}: column `{name}`", self.source.display()),
            format!("expected a {want} column, found {got}"),
        )
    }
    pub fn push(&mut self, name: impl Into<String>, data: ColumnData) {
        self.columns.push(Column {
            name: name.into(),
            data,
        });
    }
    /// The file line of data row `row` (blank lines, which readers skip, aside).
    pub fn line_of(&self, row: usize) -> usize {
        self.first_data_line + row
    }
}
