//! The splices table: one row per SAE spliced into a host model. Known columns are parsed; every other
//! column passes through to the output unchanged.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{RawTable, Row};
use crate::error::{Error, Fix, Result};
use crate::schema::{MAPPED, SPLICES};

/// An input column ceq computes again rather than passing through: `ceq eval` writes it, and `ceq
/// map` checks it against its own value and writes its own in its place.
const RECOMPUTED: &str = "loss_recovered";

/// One spliced model. Losses in nats/token.
#[derive(Clone, Debug, PartialEq)]
pub struct Splice {
    pub name: String,
    pub ce_clean: f64,
    pub ce_spliced: f64,
    pub ce_zero_ablation: Option<f64>,
    pub ce_mean_ablation: Option<f64>,
    /// The host model's parameter count, when given.
    pub params: Option<f64>,
    /// The host model's training tokens, when given (or compute/(6·params)).
    pub tokens: Option<f64>,
    /// The host model's training compute in FLOPs, when given (or 6·params·tokens).
    pub compute: Option<f64>,
    /// Whether `compute` is the file's own, not 6·params·tokens.
    pub compute_given: bool,
    /// The host's parameter count both ways, where the file gives them (`ceq eval` writes both).
    pub counts: ParamCounts,
    /// Every cell of the row as it was in the file, in [`Splices::columns`] order.
    pub raw: Vec<String>,
    /// The row's line in a CSV; 0 for a row from a SAEBench result (its `file` column names it).
    pub line: u64,
    /// The CEs' standard errors and token count, where the file gives them (`ceq eval` does).
    pub se: CeErrors,
}

/// A host's parameter count both ways (`params_total`, `params_non_embedding`), where given: a law
/// that counts N otherwise than the `params` column then gets the host's compute, 6·N·D, in its own
/// count.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ParamCounts {
    pub total: Option<f64>,
    pub non_embedding: Option<f64>,
}

/// What a splices row says about its CEs' sampling error (nats/token), as `ceq eval` writes it: SEs
/// over per-sequence means, and how many next-token positions the CEs average over.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CeErrors {
    pub se_ce_clean: Option<f64>,
    pub se_ce_spliced: Option<f64>,
    /// SE of ce_spliced − ce_clean: both measured on the same tokens, so not the two SEs combined.
    pub se_delta: Option<f64>,
    pub n_tokens: Option<f64>,
}

/// Where a splices table's CEs come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// A splices CSV (`ceq eval`'s, or the user's own).
    Csv,
    /// SAEBench core-eval result JSON: the token sets its CEs were measured on ("dataset, context
    /// N"), each once, each row's among them (by name), and the JSON files of a folder that were
    /// skipped, with why; `clean_apart`, for each set, how its results' clean CEs disagree, where
    /// they do (more than rounding).
    SaeBench {
        token_sets: Vec<String>,
        row_sets: std::collections::HashMap<String, usize>,
        skipped: Vec<(PathBuf, String)>,
        clean_apart: Vec<Option<super::saebench::CleanApart>>,
    },
}

#[derive(Clone, Debug)]
pub struct Splices {
    pub path: PathBuf,
    /// All input columns, in file order (known and pass-through).
    pub columns: Vec<String>,
    /// The pass-through columns (those ceq does not read), in file order.
    pub extra_columns: Vec<String>,
    /// Index of the `name` column.
    pub name_index: usize,
    pub rows: Vec<Splice>,
    pub source: Source,
}

impl Splices {
    /// Checks the file has a column `name` (one to group figures by, say: `fix`).
    pub fn require_column(&self, name: &str, hint: &str, fix: Fix) -> Result<()> {
        if self.columns.iter().any(|c| c == name) {
            return Ok(());
        }
        Err(Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_owned(),
            available: self.columns.join(", "),
            hint: hint.to_owned(),
            fix: Some(fix),
        })
    }

    /// What every output says about where the CEs come from, beyond the file's name (SAEBench).
    pub fn source_note(&self) -> Option<String> {
        match &self.source {
            Source::Csv => None,
            Source::SaeBench { token_sets, .. } => Some(super::saebench::source_note(token_sets)),
        }
    }

    /// The same for one row: only the token set its own CEs were measured on.
    pub fn row_source_note(&self, name: &str) -> Option<String> {
        match &self.source {
            Source::Csv => None,
            Source::SaeBench {
                token_sets,
                row_sets,
                clean_apart,
                ..
            } => {
                let set = row_sets.get(name).copied();
                let own = set.map(|i| token_sets[i].clone());
                let note = super::saebench::source_note(&Vec::from_iter(own));
                // A CSV row carries this, not the table's warnings (review 96).
                Some(match set.and_then(|i| clean_apart[i].as_ref()) {
                    Some(a) => format!(
                        "{note}; its set's {} results give {}: not comparable with each other as \
                         they stand",
                        a.results, a.range
                    ),
                    None => note,
                })
            }
        }
    }

    /// Warnings every output carries: for SAEBench results, that the law's losses must be measured
    /// on SAEBench's tokens.
    pub fn warnings(&self) -> Vec<String> {
        match &self.source {
            Source::Csv => self.near_misses().into_iter().collect(),
            Source::SaeBench {
                token_sets,
                clean_apart,
                ..
            } => {
                let mut w = super::saebench::warnings(token_sets);
                w.extend(super::saebench::clean_apart_warning(
                    token_sets,
                    clean_apart,
                ));
                w
            }
        }
    }

    /// Pass-through columns named like one ceq reads ([`super::near_miss`]: `tokns`, `se_ce_clen`):
    /// likely typos, whose numbers would be left out without a word.
    fn near_misses(&self) -> Option<String> {
        use crate::schema::{EVAL, MAPPED, SPLICES};
        let known = |c: &str| {
            [&*SPLICES, &*EVAL, &*MAPPED]
                .iter()
                .any(|s| s.get(c).is_some())
        };
        let misses: Vec<String> = (self.extra_columns.iter())
            .filter(|c| !known(c))
            .filter_map(|c| {
                // Beside the columns parsed, two that pass through but are read: the host
                // check's `model` and the token-set check's `eval_tokens`.
                let near = (SPLICES.columns.iter())
                    .map(|k| k.name.as_str())
                    .chain(["model", "eval_tokens"])
                    .filter(|k| !self.columns.iter().any(|h| h == k))
                    .find(|k| super::near_miss(c, k))?;
                Some(format!("'{c}' (did you mean '{near}'?)"))
            })
            .collect();
        (!misses.is_empty()).then(|| {
            format!(
                "{}: the column(s) {} are not ones ceq reads, so they pass through unread",
                self.path.display(),
                misses.join(", ")
            )
        })
    }
}

/// A splices CSV (see the README's "Splices CSV").
pub fn read_splices_csv(path: &Path) -> Result<Splices> {
    let t = RawTable::read(path)?;
    let hint = "a splices file needs name, ce_clean and ce_spliced (nats/token)";
    let name = t.require("name", hint)?;
    let clean = t.require("ce_clean", hint)?;
    let spliced = t.require("ce_spliced", hint)?;
    let zero = t.find("ce_zero_ablation");
    let mean = t.find("ce_mean_ablation");
    let params = t.find("params");
    let tokens = t.find("tokens");
    let compute = t.find("compute");
    let se_cols = [
        t.find("se_ce_clean"),
        t.find("se_ce_spliced"),
        t.find("se_delta"),
    ];
    let n_tokens = t.find("n_tokens");
    let (n_total, n_non_embedding) = (t.find("params_total"), t.find("params_non_embedding"));
    let reserved: Vec<String> = (t.headers.iter())
        .filter(|h| MAPPED.writes(h) && *h != RECOMPUTED)
        .cloned()
        .collect();
    if !reserved.is_empty() {
        return Err(Error::ReservedColumn {
            path: path.to_owned(),
            columns: reserved,
            table: MAPPED.table,
        });
    }
    let recomputed = t.find(RECOMPUTED);
    // Every column but the recomputed one is kept, in file order.
    let kept: Vec<usize> = (0..t.headers.len())
        .filter(|&i| Some(i) != recomputed)
        .collect();
    let extra_idx: Vec<usize> = kept
        .iter()
        .copied()
        .filter(|&i| SPLICES.get(&t.headers[i]).is_none())
        .collect();

    let mut rows = Vec::with_capacity(t.rows.len());
    // Each name to the line it was first on: a map, as 1e5 rows scanned pairwise take minutes.
    let mut first_line: HashMap<String, u64> = HashMap::with_capacity(t.rows.len());
    for row in t.records() {
        let line = row.line;
        let n = row.optional_amount(params)?;
        let d = row.optional_amount(tokens)?;
        let c = row.optional_positive(compute)?;
        let compute_given = c.is_some();
        let (d, c) = match (n, d, c) {
            (Some(n), Some(d), None) => (Some(d), Some(6.0 * n * d)),
            (Some(n), None, Some(c)) => (Some(c / (6.0 * n)), Some(c)),
            (_, d, c) => (d, c),
        };
        if let (Some(p), Some(c)) = (params, c)
            && !c.is_finite()
        {
            return Err(row.error(
                p,
                "6·params·tokens overflows: params and tokens must be counts (not exponents or \
                 FLOPs)"
                    .into(),
            ));
        }
        let se = CeErrors {
            se_ce_clean: row.non_negative(se_cols[0])?,
            se_ce_spliced: row.non_negative(se_cols[1])?,
            se_delta: row.non_negative(se_cols[2])?,
            n_tokens: row.optional_count(n_tokens)?,
        };
        // The SE of a difference lies between |se_c − se_s| and se_c + se_s (correlation ±1). A
        // little beyond is rounding and is clamped (see `CeNoise`); far beyond is a wrong column.
        if let (Some(c), Some(s), Some(d), Some(col)) =
            (se.se_ce_clean, se.se_ce_spliced, se.se_delta, se_cols[2])
            && (d > 1.1 * (c + s) || d < (c - s).abs() / 1.1)
        {
            return Err(row.error(
                col,
                format!(
                    "se_delta {d} is impossible with se_ce_clean {c} and se_ce_spliced {s}: the \
                     SE of their difference lies between {:.4} and {:.4}; check the SE columns",
                    (c - s).abs(),
                    c + s
                ),
            ));
        }
        // Every output row, note and per-sequence file is keyed by the name.
        let nm = row.unique_name_by(name, |n| first_line.get(n).copied())?;
        first_line.insert(nm.clone(), line);
        let splice = Splice {
            name: nm,
            ce_clean: row.loss(clean)?,
            ce_spliced: row.loss(spliced)?,
            ce_zero_ablation: row.optional_loss(zero)?,
            ce_mean_ablation: row.optional_loss(mean)?,
            params: n,
            tokens: d,
            compute: c,
            compute_given,
            counts: ParamCounts {
                total: row.optional_amount(n_total)?,
                non_embedding: row.optional_amount(n_non_embedding)?,
            },
            raw: kept.iter().map(|&i| row.raw(i).to_owned()).collect(),
            line,
            se,
        };
        if let Some(col) = recomputed {
            check_recomputed(&row, col, &splice)?;
        }
        rows.push(splice);
    }
    Ok(Splices {
        path: path.to_owned(),
        columns: kept.iter().map(|&i| t.headers[i].clone()).collect(),
        extra_columns: extra_idx.iter().map(|&i| t.headers[i].clone()).collect(),
        name_index: kept.iter().position(|&i| i == name).unwrap_or(name),
        rows,
        source: Source::Csv,
    })
}

/// `loss_recovered` as ceq computes it from a row's CEs; `None` where zero ablation is missing or
/// not above the clean CE.
pub(crate) fn loss_recovered(clean: f64, spliced: f64, zero: Option<f64>) -> Option<f64> {
    loss_recovered_as_written(clean, spliced, zero.filter(|z| *z > clean))
}

/// The formula's value wherever it gives a number, also where ceq's is undefined (zero ablation
/// below clean), as other tools (SAEBench too) write it there: what a given value is checked
/// against, so that a stale one is refused either way.
pub(crate) fn loss_recovered_as_written(
    clean: f64,
    spliced: f64,
    zero: Option<f64>,
) -> Option<f64> {
    zero.filter(|z| *z != clean)
        .map(|z| 1.0 - (spliced - clean) / (z - clean))
}

/// Whether a given loss recovered disagrees with ceq's beyond rounding.
pub(crate) fn disagrees(given: f64, expected: f64) -> bool {
    (given - expected).abs() > 1e-9 * expected.abs().max(1.0)
}

/// A given `loss_recovered` must be the one the row's CEs give (as `ceq eval` writes it); it is
/// checked, then left out of the pass-through columns.
fn check_recomputed(row: &Row, col: usize, s: &Splice) -> Result<()> {
    let given = row.raw(col).parse::<f64>().ok();
    let expected = loss_recovered_as_written(s.ce_clean, s.ce_spliced, s.ce_zero_ablation);
    match (given.filter(|v| v.is_finite()), expected) {
        (Some(v), Some(e)) if disagrees(v, e) => Err(row.error(
            col,
            format!(
                "{v} disagrees with 1 - (ce_spliced - ce_clean)/(ce_zero_ablation - ce_clean) = {e}; \
                 ceq computes loss_recovered from those columns: remove this column or rename it"
            ),
        )),
        _ => Ok(()),
    }
}
