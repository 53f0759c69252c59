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

    /// An output ceq will not write as asked (a file it did not write where it would resume or
    /// replace one, a name that says another format): not an I/O failure.
    #[error("cannot write {path}: {message}")]
    Refused { path: PathBuf, message: String },

    /// A file that is not one ceq wrote where a run resumes or keeps one (a results table of
    /// another kind, a run record that is not one): refused, as [`Error::Refused`].
    #[error("cannot write {path}: {message}")]
    Foreign { path: PathBuf, message: String },

    // ---- CSV tables ----
    #[error("{path}: the file is empty; expected a CSV header line followed by data rows")]
    EmptyFile { path: PathBuf },

    /// `header` is the line read as the header (a file of one data row has none: it shows that).
    #[error("{path}: the file has a header ({header}) but no data rows")]
    NoRows { path: PathBuf, header: String },

    #[error("{path}:{line}: malformed CSV: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error(
        "{path}: {} '{column}' (the header has: {available}){}; {hint}",
        match fix {
            // A column named to group by is asked for, not required by the file's kind.
            Some(Fix::GroupBy) => "no column",
            _ => "missing required column",
        },
        near_miss(column, available)
    )]
    MissingColumn {
        path: PathBuf,
        column: String,
        available: String,
        hint: String,
        /// Which option names the column, if one does.
        fix: Option<Fix>,
    },

    #[error("{path}:{line}: column '{column}' (column {col_index}): {message}")]
    BadCell {
        path: PathBuf,
        line: u64,
        column: String,
        col_index: usize,
        message: String,
    },

    #[error("{path}:1: {}", reserved(.columns, .table))]
    ReservedColumn {
        path: PathBuf,
        columns: Vec<String>,
        table: &'static str,
    },

    #[error(
        "{path}: {n} usable points{}, but the '{form}' law has {k} parameters; \
         a fit needs more points than parameters",
        after_dropping(*.dropped)
    )]
    TooFewPoints {
        path: PathBuf,
        n: usize,
        k: usize,
        form: String,
        /// How many highest-loss checkpoints were dropped before the fit.
        dropped: usize,
    },

    /// A file (or folder) whose content is wrong in a way `kind` names.
    #[error("{path}: {message}")]
    Data {
        path: PathBuf,
        kind: DataKind,
        message: String,
    },

    // ---- JSON files: law files, config.json, cfg.json, shard indexes ----
    #[error("{path}: not a valid ceq law file: {message}")]
    BadLaw { path: PathBuf, message: String },

    #[error("{path}: key '{key}': {message}")]
    Key {
        path: PathBuf,
        key: String,
        message: String,
    },

    // ---- weights and token files ----
    #[error("{path}: tensor '{tensor}': {message}")]
    Tensor {
        path: PathBuf,
        tensor: String,
        message: String,
    },

    // ---- outputs ----
    /// `why` says how the output meets the input ("is the input", "lies inside the input folder", …).
    #[error("refusing to write {out}: it {why} {input}; choose another output path")]
    OutputIsInput {
        out: PathBuf,
        input: PathBuf,
        why: &'static str,
    },

    /// An output file that exists and holds something: replaced only when the caller allows it,
    /// since it may be an earlier result or a file of the user's.
    #[error("refusing to replace {path}: the file exists")]
    OutputExists { path: PathBuf },

    // ---- computation ----
    #[error("fitting the '{form}' law to {path}")]
    Fitting {
        form: &'static str,
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },

    /// An error of one row of a list the user wrote (a sweep manifest's SAE): where it is listed.
    #[error("{path}:{line}: '{name}'")]
    Listed {
        path: PathBuf,
        line: u64,
        name: String,
        #[source]
        source: Box<Error>,
    },

    #[error("every one of the {starts} fit starts failed; last error: {last}")]
    FitFailed { starts: usize, last: String },

    /// The best optimum lies where a parameter overflows f64: the data do not pin the law.
    #[error(
        "the best fit is degenerate ({params}): a parameter overflows, so the law predicts \
         nothing; the checkpoints do not pin this law (too few distinct sizes or token counts?)"
    )]
    DegenerateFit { params: String },

    #[error("drawing the '{figure}' figure: {message}")]
    Plot { figure: String, message: String },

    /// An option value the library cannot use; `option` is the library's name for it.
    #[error("{option}: {message}")]
    Invalid {
        option: &'static str,
        message: String,
        /// What the caller can change, where it is more than this value.
        fix: Option<Fix>,
    },
}

/// What is wrong with the file an [`Error::Data`] names, for callers that react to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DataKind {
    /// A checkpoints file that cannot be fitted (e.g. a scale that never varies).
    Family,
    /// Which training run of a family to fit is unclear or wrong.
    Runs,
    /// Not valid JSON, or not the JSON expected.
    Json,
    /// Not a valid safetensors file.
    Safetensors,
    /// Weights that do not match the config: missing, unused, misshapen.
    Weights,
    /// A token file that cannot be used.
    Tokens,
    /// A model, SAE or format ceq does not run.
    Unsupported,
    /// Two inputs that each read fine but do not fit together (an SAE's width and its hook's).
    Mismatch,
    /// An output folder that cannot be written as asked.
    OutputDir,
    /// NaN or infinite values where the computation needs numbers (a model's activations).
    NonFinite,
    /// A checkpoint manifest without training tokens: no tokens given, and no tokens per step to
    /// compute them from the step.
    TrainingTokens,
    /// A checkpoint manifest where tokens per step cannot give the training tokens either: no
    /// step to multiply (no step column, or a row whose tokens and step are both empty).
    TokensOrSteps,
    /// Shard files that are not every shard of one job, each finished: a shard missing, one
    /// stopped part-way, or a file that records no shard.
    Shards,
    /// A params column that holds the other parameter count than the fit is told.
    ParamCount,
    /// A results file whose evaluation did not finish (its run record says so).
    Unfinished,
    /// A results file another ceq is writing now.
    InUse,
}

/// What the caller can change to get past an error, in the library's terms: a front end names its
/// own control for each (the CLI, a flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fix {
    /// Name the column holding this quantity ("loss", "params", ...).
    Column(&'static str),
    /// Name some quantity's column.
    Columns,
    /// Name a column of the splices file to group by.
    GroupBy,
    /// Choose one training run.
    Run,
    /// Choose a new output folder, or allow replacing.
    OutputFolder,
    /// Choose a new output file, or allow replacing it.
    ReplaceFile,
    /// Evaluate one shard of a job.
    Shard,
    /// Say which parameter count the params column holds, or read the other column.
    ParamCount,
    /// Give the training tokens per step.
    TokensPerStep,
    /// Tokens per step cannot help: say where they come from.
    TokensOrSteps,
    /// Give a whole number of tokens per step.
    WholeTokensPerStep,
    /// Name the output format, or an output file whose extension says it.
    OutputFormat,
    /// Name the output format the file name's extension says, or drop one.
    FormatVsName,
    /// Ask for the law file or a summary on standard output, not both.
    SummaryOrLaw,
    /// Give the splices.
    Splices,
    /// Drop fewer of the highest-loss checkpoints.
    DropFewer,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Input columns named like the columns ceq computes, all at once; many of them are a table
/// ceq itself wrote.
fn reserved(columns: &[String], table: &str) -> String {
    let named: Vec<String> = columns.iter().map(|c| format!("'{c}'")).collect();
    match columns {
        [c] => format!(
            "column '{c}' has the name of a column ceq computes for the {table} table; rename it \
             so the output keeps both"
        ),
        _ if columns.len() < 3 => format!(
            "columns {} have the names of columns ceq computes for the {table} table; rename \
             them so the output keeps both",
            named.join(", ")
        ),
        _ => format!(
            "{} columns ({}) are ones ceq computes for the {table} table: this is a table ceq \
             wrote; give the splices file it was made from, or drop those columns",
            columns.len(),
            named.join(", ")
        ),
    }
}

impl Error {
    /// A configuration key's error: the file, the key and what is wrong with its value.
    pub fn key(path: impl AsRef<std::path::Path>, key: &str, message: impl Into<String>) -> Error {
        Error::Key {
            path: path.as_ref().to_owned(),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// The kind of an [`Error::Data`], looking through a fit's or a listed row's context.
    pub fn data_kind(&self) -> Option<DataKind> {
        match self {
            Error::Data { kind, .. } => Some(*kind),
            Error::Fitting { source, .. } | Error::Listed { source, .. } => source.data_kind(),
            _ => None,
        }
    }

    /// What would get past this error, where the caller can change something.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            Error::MissingColumn { fix, .. } | Error::Invalid { fix, .. } => *fix,
            Error::Fitting { source, .. } | Error::Listed { source, .. } => source.fix(),
            Error::OutputExists { .. } => Some(Fix::ReplaceFile),
            Error::TooFewPoints { dropped, .. } if *dropped > 0 => Some(Fix::DropFewer),
            Error::Data { kind, .. } => Some(match kind {
                DataKind::Runs => Fix::Run,
                DataKind::OutputDir => Fix::OutputFolder,
                DataKind::Shards => Fix::Shard,
                DataKind::ParamCount => Fix::ParamCount,
                DataKind::TrainingTokens => Fix::TokensPerStep,
                DataKind::TokensOrSteps => Fix::TokensOrSteps,
                _ => return None,
            }),
            _ => None,
        }
    }

    /// An I/O error reading `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// A JSON parse error in `path`, located by line and column.
    pub fn json(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> Error {
        let path = path.into();
        move |e| Error::Data {
            kind: DataKind::Json,
            message: format!("not valid JSON: {e}"),
            path,
        }
    }
}

fn after_dropping(dropped: usize) -> String {
    match dropped {
        0 => String::new(),
        k => format!(" left after dropping the {k} highest-loss checkpoint(s)"),
    }
}

/// Why a header may lack a column it seems to hold: a name that differs only in case, or a file
/// separated by another character than the comma.
fn near_miss(column: &str, available: &str) -> String {
    let names: Vec<&str> = available.split(", ").collect();
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case(column)) {
        return format!(": '{n}' differs only in case, and column names are case-sensitive");
    }
    let sep = [(';', "semicolons"), ('\t', "tabs"), ('|', "bars")]
        .into_iter()
        .find(|(c, _)| names.len() == 1 && names[0].contains(*c));
    if let Some((_, what)) = sep {
        return format!(
            ": the header is one column holding {what}, but ceq reads comma-separated files"
        );
    }
    match names.iter().find(|n| crate::table::near_miss(n, column)) {
        Some(n) => format!(": is '{n}' it, misspelled?"),
        None => String::new(),
    }
}
