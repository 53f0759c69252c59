//! Typed errors of the library. Every variant that comes from a user's file names the file and, where
//! there is one, the line, the column, the key or the tensor, and says what to do. Messages describe
//! the data, not a front end: they name no command-line flag (the CLI adds that as context).

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

    // ---- CSV tables ----
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
        /// Which quantity of a column map the column holds ("loss", "params", ...), if any.
        quantity: Option<&'static str>,
    },

    #[error("{path}:{line}: column '{column}' (column {col_index}): {message}")]
    BadCell {
        path: PathBuf,
        line: u64,
        column: String,
        col_index: usize,
        message: String,
    },

    #[error(
        "{path}:1: column '{column}' has the name of a column ceq computes for the {table} table; \
         rename it so the output keeps both"
    )]
    ReservedColumn {
        path: PathBuf,
        column: String,
        table: &'static str,
    },

    #[error("{path}: {message}")]
    Family { path: PathBuf, message: String },

    /// Which training run of a family to fit is unclear or wrong.
    #[error("{path}: {message}")]
    Runs { path: PathBuf, message: String },

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

    // ---- JSON files: law files, config.json, cfg.json, shard indexes ----
    #[error("{path}: not a valid ceq law file: {message}")]
    BadLaw { path: PathBuf, message: String },

    #[error("{path}: {message}")]
    Json { path: PathBuf, message: String },

    #[error("{path}: key '{key}': {message}")]
    Key {
        path: PathBuf,
        key: String,
        message: String,
    },

    // ---- weights and token files ----
    #[error("{path}: {message}")]
    Safetensors { path: PathBuf, message: String },

    #[error("{path}: tensor '{tensor}': {message}")]
    Tensor {
        path: PathBuf,
        tensor: String,
        message: String,
    },

    #[error("{path}: {message}")]
    Weights { path: PathBuf, message: String },

    #[error("{path}: {message}")]
    Tokens { path: PathBuf, message: String },

    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },

    /// Two inputs that each read fine but do not fit together (an SAE's width and its hook's).
    #[error("{path}: {message}")]
    Mismatch { path: PathBuf, message: String },

    // ---- outputs ----
    #[error(
        "refusing to write {out}: it is one of the inputs ({input}); choose another output path"
    )]
    OutputIsInput { out: PathBuf, input: PathBuf },

    #[error("{path}: {message}")]
    OutputDir { path: PathBuf, message: String },

    // ---- computation ----
    #[error("fitting the '{form}' law to {path}")]
    Fitting {
        form: &'static str,
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },

    #[error("every one of the {starts} fit starts failed; last error: {last}")]
    FitFailed { starts: usize, last: String },

    #[error("drawing the '{figure}' figure: {message}")]
    Plot { figure: String, message: String },

    /// An option value the library cannot use; `option` is the library's name for it.
    #[error("{option}: {message}")]
    Invalid {
        option: &'static str,
        message: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error reading `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// A JSON parse error in `path`, located by line and column.
    pub fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> Error {
        let path = path.into();
        move |e| Error::Json {
            message: format!("not valid JSON: {e}"),
            path,
        }
    }
}
