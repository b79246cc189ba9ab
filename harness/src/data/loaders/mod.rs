//! One loader per file format. Each reads a user-supplied path into a `Table`, and
//! rejects bad input with the file, line and field.

/// Shared engine: csv streaming, column typing, missing-value policies, error mapping.
pub(crate) mod common;

pub use common::missing_flag_name;
