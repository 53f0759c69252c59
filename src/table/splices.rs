//! The splices table: one row per SAE spliced into a host model. Known columns are parsed; every other
//! column passes through to the output unchanged.

use std::path::{Path, PathBuf};

use super::RawTable;
use crate::error::{Error, Result};

/// Columns ceq reads from a splices file; anything else is passed through.
pub const KNOWN: [&str; 8] = [
    "name",
    "ce_clean",
    "ce_spliced",
    "ce_zero_ablation",
    "ce_mean_ablation",
    "params",
    "tokens",
    "compute",
];

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
    /// Every cell of the row as it was in the file, in [`Splices::columns`] order.
    pub raw: Vec<String>,
    pub line: u64,
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
}

pub fn read_splices(path: &Path) -> Result<Splices> {
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
    if let Some(c) = t
        .headers
        .iter()
        .find(|h| crate::map::COMPUTED.contains(&h.as_str()))
    {
        return Err(Error::BadData {
            path: path.to_owned(),
            message: format!(
                "column '{c}' has the name of a column ceq computes; rename it so the output keeps both"
            ),
        });
    }
    let extra_idx: Vec<usize> = (0..t.headers.len())
        .filter(|&i| !KNOWN.contains(&t.headers[i].as_str()))
        .collect();

    let mut rows = Vec::with_capacity(t.rows.len());
    for (line, rec) in &t.rows {
        let line = *line;
        let opt = |c: Option<usize>| -> Result<Option<f64>> {
            c.map(|c| t.optional_positive(line, rec, c))
                .transpose()
                .map(Option::flatten)
        };
        let n = opt(params)?;
        let d = opt(tokens)?;
        let c = opt(compute)?;
        let (d, c) = match (n, d, c) {
            (Some(n), Some(d), None) => (Some(d), Some(6.0 * n * d)),
            (Some(n), None, Some(c)) => (Some(c / (6.0 * n)), Some(c)),
            (_, d, c) => (d, c),
        };
        let nm = rec.get(name).unwrap_or("");
        if nm.is_empty() {
            return Err(Error::BadCell {
                path: path.to_owned(),
                line,
                column: "name".into(),
                col_index: name + 1,
                message: "the name is empty; every splice needs a name".into(),
            });
        }
        rows.push(Splice {
            name: nm.to_owned(),
            ce_clean: t.positive(line, rec, clean)?,
            ce_spliced: t.positive(line, rec, spliced)?,
            ce_zero_ablation: opt(zero)?,
            ce_mean_ablation: opt(mean)?,
            params: n,
            tokens: d,
            compute: c,
            raw: (0..t.headers.len())
                .map(|i| rec.get(i).unwrap_or("").to_owned())
                .collect(),
            line,
        });
    }
    Ok(Splices {
        path: path.to_owned(),
        columns: t.headers.clone(),
        extra_columns: extra_idx.iter().map(|&i| t.headers[i].clone()).collect(),
        name_index: name,
        rows,
    })
}
