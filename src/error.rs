//! Typed errors of the library. Every variant that comes from a user's file names the file and, where
//! there is one, the line, the column and the key, and says what to do.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: the file is empty; expected a CSV header line followed by data rows")]
    EmptyFile { path: PathBuf },

    #[error("{path}: the file has a header but no data rows")]
    NoRows { path: PathBuf },

    #[error("{path}:{line}: malformed CSV: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{path}: missing required column '{column}' (the header has: {available}); {hint}")]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: String,
        hint: String,
    },

    #[error("{path}:{line}: column '{column}' (column {col_index}): {message}")]
    BadCell {
        path: PathBuf,
        line: u64,
        column: String,
        col_index: usize,
        message: String,
    },

    #[error("{path}: {message}")]
    BadData { path: PathBuf, message: String },

    #[error(
        "{path}: {n} usable points, but the '{form}' law has {k} parameters; \
         a fit needs more points than parameters"
    )]
    TooFewPoints {
        path: PathBuf,
        n: usize,
        k: usize,
        form: String,
    },

    #[error("{path}: not a valid ceq law file: {message}")]
    BadLaw { path: PathBuf, message: String },

    #[error(
        "refusing to write {out}: it is one of the inputs ({input}); choose another --out path"
    )]
    OutputIsInput { out: PathBuf, input: PathBuf },

    #[error("every one of the {starts} fit starts failed; last error: {last}")]
    FitFailed { starts: usize, last: String },

    #[error("drawing the '{figure}' figure: {message}")]
    Plot { figure: String, message: String },

    #[error("invalid option: {0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
