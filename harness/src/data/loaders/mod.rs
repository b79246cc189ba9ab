//! One loader per file format. Each reads a user-supplied path into a `Table`, and
//! rejects bad input with the file, line and field.
