//! A results file that grows as work finishes and survives interruption: a CSV in one of the
//! schema's tables, one row per unit of work (a checkpoint of `ceq eval-family`, an SAE of `ceq
//! eval --manifest`), keyed by its `name`, and beside it `<stem>.per_seq.npy`, every row's
//! per-sequence mean CEs (f64, in the CSV's row order), and `<stem>.per_seq_n.npy`, how many
//! positions each of those means is over ([rows, sequences]; sequences differ where special tokens
//! are left out, and a token-weighted mean of resampled sequences needs them). All are rewritten
//! atomically, the arrays first, so every row on disk has its per-sequence values; a rerun keeps
//! the rows already there (after its own checks) and [`merge_files`] joins shards, once
//! [`super::shard`] finds every shard of the job there and finished.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use super::record::{
    FileId, RunLock, RunRecord, changed, outputs, rebase, record_path, results_path,
};
use super::shard::{check_shards, record_shard};
use crate::error::{DataKind, Error, Result};
use crate::export::{Cell, Format, Table};
use crate::progress::Progress;
use crate::schema::Schema;
use crate::table::token_set_key;

/// A row as written, one string per column, so a rewrite leaves it byte for byte.
pub type Row = Vec<String>;

/// Each row's per-sequence values, by name.
pub type PerSeq = HashMap<String, Vec<f64>>;

/// The rows a rerun keeps, with their per-sequence values and the record of their inputs.
pub struct Resumed {
    pub rows: Vec<Row>,
    pub per_seq: PerSeq,
    /// Every kept row's input files: as recorded, or (for a row an older ceq wrote without a
    /// record) as they are now.
    pub inputs: std::collections::BTreeMap<String, Vec<FileId>>,
    /// How many kept rows had no record of their inputs.
    pub unrecorded: usize,
    /// How the kept rows name their token set: this run's `eval_tokens`, or the same ids and
    /// positions under another file name, which new rows then take too (one name per file).
    pub eval_tokens: String,
    /// Rows dropped to be measured again: their CE is not the mean of their per-sequence values,
    /// so the file or its arrays changed after ceq wrote them.
    pub damaged: Vec<String>,
    /// Rows dropped to be measured again: a cell differs from what ceq wrote (the record's digest).
    pub edited: Vec<String>,
}

/// A row's identity as written: FNV-1a of its cells, each ended by a unit separator.
pub(crate) fn digest(row: &Row) -> String {
    let bytes = row.iter().flat_map(|c| c.bytes().chain([0x1f]));
    format!("{:016x}", super::family::fnv1a64(bytes))
}

/// Whether `got` is the position-weighted mean of the per-sequence means `m` over the counts
/// `n`: what a row's CE is, unless its file or arrays changed after ceq wrote them.
pub(crate) fn is_mean_of(got: f64, m: &[f64], n: &[f64]) -> bool {
    let (mut sum, mut count) = (0.0, 0.0);
    for (m, n) in m.iter().zip(n).filter(|(_, n)| **n > 0.0) {
        sum += n * m;
        count += n;
    }
    let want = sum / count;
    (got - want).abs() <= 1e-9 * want.abs().max(1.0)
}

/// One kind of results file.
pub struct Ledger {
    pub schema: &'static LazyLock<Schema>,
    /// What a file of this kind is, for messages ("a family checkpoints file").
    pub what: &'static str,
    pub title: &'static str,
    /// Per-sequence arrays per row (1: `[sequences]`; 2: `[2, sequences]`, e.g. clean and spliced).
    pub per_row: usize,
    /// The column each array is the per-sequence means of, in the arrays' order.
    pub means: &'static [&'static str],
    /// The one row order, whatever the shards, so merged shards equal one whole run.
    pub order: fn(&Ledger, &Row, &Row) -> Ordering,
}

/// Columns a file written by an older ceq lacks: it is still read (its cells there empty), so
/// its sequences can be resampled and its rows merged; a sweep does not resume rows without them.
const ADDED_LATER: &[&str] = &["batch"];

/// Where a results CSV's per-sequence values live.
pub fn per_seq_path(csv: &Path) -> PathBuf {
    csv.with_extension("per_seq.npy")
}

/// Where a results CSV's per-sequence position counts live. Files written before ceq kept them
/// have none; a rerun of the same job adds them (they follow from the tokens, not the models).
pub fn per_seq_n_path(csv: &Path) -> PathBuf {
    csv.with_extension("per_seq_n.npy")
}

pub(crate) fn csv_error(path: &Path, e: csv::Error) -> Error {
    match e.kind() {
        csv::ErrorKind::Io(_) => Error::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        },
        _ => Error::Csv {
            path: path.to_owned(),
            line: e.position().map_or(0, |p| p.line()),
            message: crate::table::csv_message(&e),
        },
    }
}

pub(crate) fn mismatch(path: PathBuf, message: String) -> Error {
    Error::Data {
        kind: DataKind::Mismatch,
        path,
        message,
    }
}

/// Why a row's params cell is not the count this run writes: the other count (another
/// `param_count`), or neither of the row's two counts (an edited cell). `was` reads a cell by
/// column; `host` says whose count it is ("", "the host's ").
pub(crate) fn params_differ(
    name: &str,
    was: impl Fn(&str) -> String,
    count: crate::law_file::ParamCount,
    host: &str,
) -> Option<String> {
    let (chosen, other, other_col) = count.of(
        ("params_total", "non-embedding", "params_non_embedding"),
        ("params_non_embedding", "total", "params_total"),
    );
    let (params, this) = (was("params"), count.name());
    if params == was(chosen) {
        return None;
    }
    Some(match params == was(other_col) {
        true => format!(
            "'{name}': its params column holds {host}{other} parameter count ({params}), this run \
             counts {this} parameters ({})",
            was(chosen)
        ),
        false => format!(
            "'{name}': its params cell ({params}) is neither of its counts ({chosen} {}, \
             {other_col} {}): edited by hand? remove the row to measure it again",
            was(chosen),
            was(other_col)
        ),
    })
}

impl Ledger {
    /// The index of column `name`; a name the schema does not declare is a bug in ceq.
    pub fn col(&self, name: &str) -> usize {
        self.schema
            .columns
            .iter()
            .position(|c| c.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "the {} table declares no column '{name}'",
                    self.schema.table
                )
            })
    }

    fn header(&self) -> Vec<&str> {
        self.schema
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect()
    }

    /// Where each of the table's columns is in a file's `header`: the table's header, or one from
    /// before columns of [`ADDED_LATER`] were written (those read as empty).
    fn layout(&self, header: &csv::StringRecord) -> Option<Vec<Option<usize>>> {
        let given: Vec<&str> = header.iter().collect();
        let want = self.header();
        let older: Vec<&str> = want
            .iter()
            .copied()
            .filter(|c| !ADDED_LATER.contains(c))
            .collect();
        if given != want && given != older {
            return None;
        }
        Some(
            want.iter()
                .map(|c| given.iter().position(|g| g == c))
                .collect(),
        )
    }

    /// Whether `path` starts with this kind's header.
    fn is_kind_of(&self, path: &Path) -> bool {
        csv::Reader::from_path(path)
            .and_then(|mut r| r.headers().cloned())
            .is_ok_and(|h| self.layout(&h).is_some())
    }

    /// Reads a file of this kind: its header must be the table's (or an older ceq's, see
    /// `ADDED_LATER`); rows come in the table's column order.
    pub fn read_rows(&self, path: &Path) -> Result<Vec<(u64, Row)>> {
        let mut rdr = csv::Reader::from_path(path).map_err(|e| csv_error(path, e))?;
        let header = rdr.headers().map_err(|e| csv_error(path, e))?.clone();
        let Some(layout) = self.layout(&header) else {
            return Err(Error::Data {
                kind: DataKind::Family,
                path: path.to_owned(),
                message: format!(
                    "not {}: its header is not {}",
                    self.what,
                    self.header().join(",")
                ),
            });
        };
        rdr.records()
            .map(|r| {
                let r = r.map_err(|e| csv_error(path, e))?;
                let cell = |i: &Option<usize>| i.and_then(|i| r.get(i)).unwrap_or("").to_owned();
                Ok((
                    r.position().map_or(0, |p| p.line()),
                    layout.iter().map(cell).collect(),
                ))
            })
            .collect()
    }

    fn has(&self, column: &str) -> bool {
        self.schema.columns.iter().any(|c| c.name == column)
    }

    fn name<'a>(&self, row: &'a Row) -> &'a str {
        &row[self.col("name")]
    }

    /// The run record (naming the arrays' rows in order), the table's per-sequence array, (when
    /// every row has them) the per-sequence position counts; the CSV last, so every row of a CSV
    /// on disk has its per-sequence values and its inputs' record beside it, and arrays saved
    /// ahead of their CSV are read by the record's order. Without counts for every row, a counts file left
    /// from before is removed, so none on disk belongs to other rows.
    pub fn write(
        &self,
        path: &Path,
        rows: &[Row],
        per_seq: &PerSeq,
        counts: &PerSeq,
        record: &mut RunRecord,
    ) -> Result<()> {
        let rows = self.write_record(path, rows, record)?;
        let ordered: Vec<&[f64]> = rows
            .iter()
            .map(|r| per_seq.get(self.name(r)).map_or(&[][..], |v| v.as_slice()))
            .collect();
        let ordered_n: Option<Vec<&[f64]>> = rows
            .iter()
            .map(|r| counts.get(self.name(r)).map(|v| v.as_slice()))
            .collect();
        let t = Table {
            title: self.title.into(),
            columns: self
                .schema
                .columns
                .iter()
                .map(|c| self.schema.column(&c.name))
                .collect(),
            rows: rows
                .into_iter()
                .map(|r| r.into_iter().map(Cell::Raw).collect())
                .collect(),
            ..Table::default()
        };
        crate::io::write_atomic(&per_seq_path(path), &npy(&ordered, self.per_row))?;
        let counts_path = per_seq_n_path(path);
        match ordered_n {
            Some(n) => crate::io::write_atomic(&counts_path, &npy(&n, 1))?,
            None if counts_path.exists() => {
                std::fs::remove_file(&counts_path).map_err(|e| Error::Io {
                    path: counts_path.clone(),
                    source: e,
                })?
            }
            None => {}
        }
        crate::io::write_atomic(path, Format::Csv.render(&t).as_bytes())
    }

    /// The run record of `rows`, naming them in the file's order (returned, sorted so).
    pub fn write_record(
        &self,
        path: &Path,
        rows: &[Row],
        record: &mut RunRecord,
    ) -> Result<Vec<Row>> {
        let mut rows = rows.to_vec();
        rows.sort_by(|a, b| (self.order)(self, a, b));
        record.order = rows.iter().map(|r| self.name(r).to_owned()).collect();
        record.digests = (rows.iter())
            .map(|r| (self.name(r).to_owned(), digest(r)))
            .collect();
        record.write(path)?;
        Ok(rows)
    }

    /// The per-sequence values beside a CSV whose rows hold `names` in order, or why not (the file
    /// is missing or does not match them).
    fn read_per_seq(&self, csv: &Path, names: &[String]) -> std::result::Result<PerSeq, String> {
        read_npy(&per_seq_path(csv), self.per_row, names)
    }

    /// The per-sequence position counts beside a CSV, or why not (an older file, or a mismatch).
    fn read_counts(&self, csv: &Path, names: &[String]) -> std::result::Result<PerSeq, String> {
        read_npy(&per_seq_n_path(csv), 1, names)
    }

    /// Whether the position counts beside `csv` are `counts` for `rows`: a rerun with nothing to
    /// measure writes them where they are missing (an older ceq's file) or damaged.
    pub fn counts_written(&self, csv: &Path, rows: &[Row], counts: &PerSeq) -> bool {
        let names: Vec<String> = rows.iter().map(|r| self.name(r).to_owned()).collect();
        csv.exists() && self.read_counts(csv, &names).ok().as_ref() == Some(counts)
    }

    /// The rows already in `out` and their per-sequence values. Each row must have been measured
    /// on `eval_tokens`'s token set (its ids and scored positions; the file may be named
    /// otherwise, see [`Resumed::eval_tokens`]) by `engine`, `check` says what else differs from this run (`None`:
    /// nothing), and its input files as recorded must be `now`'s for its name (a row without a
    /// record, from an older ceq, is kept and its inputs recorded as they are now); a row whose
    /// per-sequence values are not beside it is dropped, to be measured again.
    pub fn resume(
        &self,
        out: &Path,
        eval_tokens: &str,
        engine: &str,
        now: &HashMap<String, Vec<FileId>>,
        mut check: impl FnMut(&Row) -> Option<String>,
    ) -> Result<Resumed> {
        let mut kept = Resumed {
            rows: vec![],
            per_seq: PerSeq::new(),
            inputs: Default::default(),
            unrecorded: 0,
            eval_tokens: eval_tokens.to_owned(),
            damaged: vec![],
            edited: vec![],
        };
        // An empty file holds nothing to keep or lose: written as a new one.
        if !out.exists() || out.metadata().is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Ok(kept);
        }
        // One that cannot be read is said as such, not as a file of another kind.
        if out.is_file() && !self.is_kind_of(out) {
            std::fs::File::open(out).map_err(Error::io(out))?;
            return Err(Error::Foreign {
                path: out.to_owned(),
                message: format!(
                    "it is not {}: its header is not {}, so this run would replace it rather \
                     than resume it; choose another output path",
                    self.what,
                    self.header().join(",")
                ),
            });
        }
        let record = RunRecord::read(out)?.unwrap_or_default();
        let mut rows = vec![];
        for (line, row) in self.read_rows(out)? {
            let (name, was) = (self.name(&row), |c: &str| row[self.col(c)].as_str());
            // A token set is its ids and scored positions, not the name of the file holding them.
            let differs = if token_set_key(was("eval_tokens")) != token_set_key(eval_tokens) {
                let t = was("eval_tokens");
                Some(format!(
                    "'{name}' was measured on {t}, this run on {eval_tokens}"
                ))
            } else if was("engine") != engine {
                let e = was("engine");
                Some(format!(
                    "'{name}' was computed by {e}, this run by {engine}"
                ))
            } else {
                check(&row)
            };
            if let Some(what) = differs {
                return Err(mismatch(
                    out.to_owned(),
                    format!("line {line}: {what}; write to a new file, or remove it to start over"),
                ));
            }
            let current = now.get(name).cloned().unwrap_or_default();
            // A row of an older ceq's file recorded no inputs: it is kept, recorded as now.
            if let Some(was) = record.inputs.get(name)
                && let Some(what) = changed(was, &current)
            {
                return Err(mismatch(
                    out.to_owned(),
                    format!(
                        "line {line}: '{name}' was measured from other inputs: {what} \
                         (as {} records them, paths from this file's folder); write to a \
                         new file, or remove it to start over",
                        record_path(out).display()
                    ),
                ));
            }
            // The same files, recorded where they are now: a folder moved since keeps its run
            // resumable however it moves next (the old paths would name a folder now gone).
            kept.inputs.insert(name.to_owned(), current);
            rows.push(row);
        }
        let names: Vec<String> = rows.iter().map(|r| self.name(r).to_owned()).collect();
        // Arrays saved ahead of their CSV by a killed run hold its rows and one more, in the
        // record's order.
        let mut per_seq = (self.read_per_seq(out, &names))
            .or_else(|_| self.read_per_seq(out, &record.order))
            .unwrap_or_default();
        let held: std::collections::HashSet<&String> = names.iter().collect();
        per_seq.retain(|n, _| held.contains(n));
        rows.retain(|r| per_seq.contains_key(self.name(r)));
        let counts =
            (self.read_counts(out, &names)).or_else(|_| self.read_counts(out, &record.order));
        if let Ok(counts) = counts {
            kept.damaged = self.not_means(&rows, &per_seq, &counts);
            per_seq.retain(|n, _| !kept.damaged.contains(n));
            rows.retain(|r| per_seq.contains_key(self.name(r)));
        }
        // A row whose cells are not as ceq wrote them (a metric edited by hand) is not a measurement.
        let edited = |r: &Row| (record.digests.get(self.name(r))).is_some_and(|d| *d != digest(r));
        kept.edited = (rows.iter().filter(|r| edited(r)))
            .map(|r| self.name(r).to_owned())
            .collect();
        per_seq.retain(|n, _| !kept.edited.contains(n));
        rows.retain(|r| per_seq.contains_key(self.name(r)));
        kept.inputs.retain(|n, _| per_seq.contains_key(n));
        // Counted among the rows really kept: a dropped one is measured again, and recorded then.
        kept.unrecorded = (rows.iter())
            .filter(|r| !record.inputs.contains_key(self.name(r)))
            .count();
        if let Some(r) = rows.first() {
            kept.eval_tokens = r[self.col("eval_tokens")].clone();
        }
        kept.rows = rows;
        kept.per_seq = per_seq;
        Ok(kept)
    }

    /// The rows whose CE columns are not the position-weighted means of their per-sequence values
    /// over `counts`: the file or its arrays changed after ceq wrote them, or the arrays are
    /// another run's.
    fn not_means(&self, rows: &[Row], per_seq: &PerSeq, counts: &PerSeq) -> Vec<String> {
        let stale = |r: &Row| {
            let name = self.name(r);
            let (m, n) = (per_seq.get(name)?, counts.get(name)?);
            let cell = |c: &str| r[self.col(c)].parse::<f64>().unwrap_or(f64::NAN);
            let mut planes = m.chunks(n.len().max(1)).zip(self.means);
            let ok =
                m.len() == self.per_row * n.len() && planes.all(|(m, c)| is_mean_of(cell(c), m, n));
            (!ok).then(|| name.to_owned())
        };
        rows.iter().filter_map(stale).collect()
    }

    /// Joins shard files (and their per-sequence arrays) into `out` (never one of them), refusing
    /// differing token sets, duplicate names, and shards that are not every shard of one job,
    /// each finished; returns the number of rows, and what to say of a token set that shards name
    /// by other files of the same ids (the merged rows name it as the first shard does).
    fn merge(&self, inputs: &[PathBuf], out: &Path) -> Result<(usize, Vec<String>)> {
        let paths: Vec<PathBuf> = inputs.iter().flat_map(|p| outputs(p)).collect();
        let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let _lock = RunLock::claim(out, &paths)?;
        super::shard::check_counts(inputs)?;
        let mut seen: HashMap<String, (PathBuf, u64)> = HashMap::new();
        // The first row's file, token set (by its ids, see `token_set_key`), `eval_tokens`, and the
        // token set as messages say it.
        let mut first: Option<(PathBuf, String, String, String)> = None;
        let mut renamed: Option<String> = None;
        let (mut rows, mut per_seq) = (vec![], PerSeq::new());
        // Position counts only if every shard has them (shards from an older ceq have none), and
        // the first shard without.
        let mut counts = Some(PerSeq::new());
        let mut uncounted: Option<PathBuf> = None;
        // Sequences a row, and the shard that had them first.
        let mut n_seq: Option<(usize, PathBuf, bool)> = None;
        let mut files: Vec<(PathBuf, Vec<String>)> = vec![];
        // Each input file as the first row measured from it saw it (row, shard).
        let mut versions: HashMap<String, (FileId, String, PathBuf)> = HashMap::new();
        // The merged file is finished (every shard is, checked below), its rows' inputs as each
        // shard recorded them (a shard from an older ceq records none).
        let mut record = RunRecord {
            finished: true,
            merged: true,
            ..RunRecord::default()
        };
        for path in inputs {
            let file_rows = self.read_rows(path)?;
            let names: Vec<String> = file_rows
                .iter()
                .map(|(_, r)| self.name(r).to_owned())
                .collect();
            let shard_record = RunRecord::read(path)?;
            let digests =
                (shard_record.as_ref()).map_or_else(Default::default, |r| r.digests.clone());
            if let Some(r) = shard_record {
                let held: std::collections::HashSet<&String> = names.iter().collect();
                let mine = r.inputs.into_iter().filter(|(n, _)| held.contains(n));
                for (n, ids) in mine {
                    for id in ids.iter().filter(|id| !id.abs.is_empty()) {
                        match versions.get(&id.abs) {
                            Some((was, row, p)) if !was.same_version(id) => {
                                return Err(mismatch(
                                    path.clone(),
                                    format!(
                                        "its row '{n}' was measured from {} as modified at {} \
                                         ({} bytes), but '{row}' in {} from it as modified at {} \
                                         ({} bytes): the file changed between the shards' runs, \
                                         so the rows hold two versions of it; remove the files \
                                         of the shards measured from the old one, run those \
                                         shards again, then merge again",
                                        id.abs,
                                        id.modified(),
                                        id.bytes,
                                        p.display(),
                                        was.modified(),
                                        was.bytes,
                                    ),
                                ));
                            }
                            Some(_) => {}
                            None => {
                                versions
                                    .insert(id.abs.clone(), (id.clone(), n.clone(), path.clone()));
                            }
                        }
                    }
                    record.inputs.insert(n, rebase(ids, path, out));
                }
            }
            files.push((path.clone(), names.clone()));
            for (line, mut row) in file_rows {
                let name = self.name(&row);
                if digests.get(name).is_some_and(|d| *d != digest(&row)) {
                    return Err(mismatch(
                        path.clone(),
                        format!(
                            "line {line}: '{name}' is not as ceq wrote it (a cell changed since, as \
                             the run record's digest of the row shows); restore it, or run this \
                             shard again"
                        ),
                    ));
                }
                // One token set, and for a sweep one batch size (SAEBench's per-batch metrics).
                let batch = self.has("batch").then(|| &row[self.col("batch")]);
                let set = |t: &str| match batch {
                    Some(b) if b.is_empty() => {
                        format!("{t} by a ceq that did not record its batch size")
                    }
                    Some(b) => format!("{t} in batches of {b}"),
                    None => t.to_owned(),
                };
                let label = row[self.col("eval_tokens")].clone();
                let key = set(&token_set_key(&label));
                match &first {
                    None => first = Some((path.clone(), key, label.clone(), set(&label))),
                    Some((p, k, _, said)) if *k != key => {
                        return Err(mismatch(
                            path.clone(),
                            format!(
                                "line {line}: measured on {}, but {} on {}",
                                set(&label),
                                p.display(),
                                said
                            ),
                        ));
                    }
                    // The same ids under another file's name: one name for the merged file.
                    Some((p, _, l, _)) if *l != label => {
                        renamed.get_or_insert_with(|| {
                            format!(
                                "{} names the token set {label}, {} the same ids and positions \
                                 as {l}; the merged file names it {l}",
                                path.display(),
                                p.display()
                            )
                        });
                        row[self.col("eval_tokens")] = l.clone();
                    }
                    _ => {}
                }
                let name = self.name(&row).to_owned();
                if let Some((p, l)) = seen.get(&name) {
                    return Err(mismatch(
                        path.clone(),
                        format!("line {line}: '{name}' is also in {}:{l}", p.display()),
                    ));
                }
                seen.insert(name, (path.clone(), line));
                rows.push(row);
            }
            // Checked after the rows, so a mismatched token set is named as such first.
            let arrays_of = |why: String, redo: &str| Error::Data {
                kind: DataKind::Family,
                path: path.clone(),
                message: format!(
                    "its per-sequence losses ({}) {why}: merge joins the shards of ceq \
                     eval-family and of a sweep (ceq eval with a manifest), which keep them beside \
                     each CSV; run {redo} again",
                    per_seq_path(path).display()
                ),
            };
            let arrays = |why: String| arrays_of(why, "this shard");
            let mine = self.read_per_seq(path, &names).map_err(arrays)?;
            // Missing: a shard from an older ceq, or a file removed; damaged: said, not dropped.
            let my_counts = match self.read_counts(path, &names) {
                Ok(c) => Some(c),
                Err(_) if !per_seq_n_path(path).exists() => {
                    uncounted.get_or_insert(path.clone());
                    None
                }
                Err(why) => {
                    return Err(Error::Data {
                        kind: DataKind::Family,
                        path: path.clone(),
                        message: format!(
                            "its per-sequence position counts ({}) {why}: run this shard again \
                             into the same file (it keeps its rows and writes them again), then \
                             merge again",
                            per_seq_n_path(path).display()
                        ),
                    });
                }
            };
            // Arrays left beside a shard by another run would merge into a file whose rows are
            // not the means of their sequences, or whose sequences are not one token set's. The
            // means first: a shard with counts is checked against its own rows, so a count
            // mismatch after that is the unchecked shard's (one with no counts, from an older ceq).
            let file_rows = &rows[rows.len() - names.len()..];
            let stale = my_counts
                .as_ref()
                .map(|c| self.not_means(file_rows, &mine, c));
            if let Some(name) = stale.as_ref().and_then(|s| s.first()) {
                return Err(arrays(format!(
                    "are not those of its rows: row '{name}' is not their mean (the file or its \
                     arrays changed after ceq wrote them, or the arrays are another run's)"
                )));
            }
            let checked = my_counts.is_some();
            let n = mine.values().next().map(|m| m.len() / self.per_row);
            if let (Some(n), Some((was, p, p_checked))) = (n, &n_seq)
                && n != *was
            {
                let p = p.display();
                let unchecked = "has no per-sequence counts (.per_seq_n.npy), so its arrays could \
                                 not be checked against its rows";
                let (why, redo) = match (checked, p_checked) {
                    (false, true) => (
                        format!(
                            "hold {n} sequences a row, {p}'s {was}, and this shard {unchecked}"
                        ),
                        "this shard",
                    ),
                    (true, false) => (
                        format!(
                            "hold {n} sequences a row and are its rows'; {p}'s hold {was}, and it {unchecked}"
                        ),
                        "that shard",
                    ),
                    _ => (
                        format!(
                            "hold {n} sequences a row, {p}'s {was}, where the shards name one token set: one of the two holds arrays another run left"
                        ),
                        "that one",
                    ),
                };
                return Err(arrays_of(why, redo));
            }
            n_seq = n_seq.or(n.map(|n| (n, path.clone(), checked)));
            per_seq.extend(mine);
            counts = counts.zip(my_counts).map(|(mut all, c)| {
                all.extend(c);
                all
            });
        }
        // Checked last, so a mixed token set or a name twice is named as such first.
        check_shards(&files)?;
        record.rows = rows.iter().map(|r| self.name(r).to_owned()).collect();
        if let Some(earlier) = RunRecord::read(out)?.filter(|_| out.is_file())
            && let now = record.rows.iter().collect::<std::collections::HashSet<_>>()
            && let Some(lost) = earlier.rows.iter().find(|n| !now.contains(n))
        {
            return Err(not_replaced(
                out,
                &format!(
                    "its row '{lost}' is in none of the shards, so replacing the file would lose \
                     it: choose another path, or give every shard it was merged from"
                ),
            ));
        }
        self.write(
            out,
            &rows,
            &per_seq,
            &counts.unwrap_or_default(),
            &mut record,
        )?;
        // The merged file is whole: a record left beside it from a shard run would misdescribe it.
        record_shard(out, None, vec![], &Default::default())?;
        let uncounted = uncounted.map(|p| {
            format!(
                "warning: {} has no per-sequence position counts ({}: removed, or the shard is \
                 from an older ceq), so the merged file has none, and a token bootstrap cannot \
                 read it; run that shard again into the same file (it keeps its rows and writes \
                 them), then merge again",
                p.display(),
                per_seq_n_path(&p).display()
            )
        });
        Ok((rows.len(), renamed.into_iter().chain(uncounted).collect()))
    }
}

/// A results file's per-sequence values, as a resampling of its sequences needs them.
#[derive(Clone, Debug)]
pub struct Sequences {
    pub csv: PathBuf,
    /// Each row's `eval_tokens`, by name.
    pub eval_tokens: HashMap<String, String>,
    /// Each row's per-sequence means: `planes` runs of `n_seq` values (clean, then spliced).
    pub values: PerSeq,
    /// Each row's per-sequence position counts (`n_seq` values).
    pub counts: PerSeq,
    pub n_seq: usize,
}

impl Ledger {
    /// The per-sequence means and position counts beside `csv`, a file of this kind; errors say
    /// how to get them.
    pub fn sequences(&self, csv: &Path) -> Result<Sequences> {
        // SAEBench results (a folder or a .json) read as splices, but hold no sequences: said so,
        // not as a folder that cannot be read or a header a JSON file does not have.
        let wrong = |is: String| Error::Data {
            kind: DataKind::Mismatch,
            path: csv.to_owned(),
            message: format!(
                "{is}, but resampling the eval sequences needs {}, with the per-sequence .npy \
                 files ceq writes beside it",
                self.what
            ),
        };
        let json = csv
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if csv.is_dir() {
            return Err(wrong("a folder (SAEBench results?)".into()));
        } else if csv.is_file() && !self.is_kind_of(csv) {
            return Err(wrong(if json {
                "a JSON file (SAEBench results?)".into()
            } else {
                format!("its header is not {}", self.header().join(","))
            }));
        }
        let rows = self.read_rows(csv)?;
        let names: Vec<String> = rows.iter().map(|(_, r)| self.name(r).to_owned()).collect();
        let missing = |what: &str, file: PathBuf, why: String, todo: &str| Error::Data {
            kind: DataKind::Mismatch,
            path: csv.to_owned(),
            message: format!("its per-sequence {what} ({}) {why}: {todo}", file.display()),
        };
        let values = self.read_per_seq(csv, &names).map_err(|why| {
            missing(
                "losses",
                per_seq_path(csv),
                why,
                "resampling sequences needs the array ceq writes beside the file it evaluates; \
                 evaluate again into a new file",
            )
        })?;
        let counts = self.read_counts(csv, &names).map_err(|problem| {
            let path = per_seq_n_path(csv);
            let why = match path.exists() {
                true => "it is damaged or another run's",
                false => "a file from an older ceq has none",
            };
            missing(
                "position counts",
                path,
                problem,
                &format!(
                    "{why}; run the same evaluation again with the same output file, which \
                     writes them without measuring anything again"
                ),
            )
        })?;
        // What ceq never writes (a count that is no count, a loss that is not finite where
        // positions were scored, arrays of other lengths) is damage, said as such, not read as
        // rows out of order.
        let damaged = |message: String| Error::Data {
            kind: DataKind::Mismatch,
            path: csv.to_owned(),
            message: format!(
                "{message}, which ceq never writes: the arrays beside the file were damaged or \
                 edited; evaluate again into a new file"
            ),
        };
        let n_seq = counts.values().next().map_or(0, |c| c.len());
        for name in &names {
            let (Some(v), Some(n)) = (values.get(name), counts.get(name)) else {
                continue;
            };
            if n.len() != n_seq || v.len() != self.per_row * n_seq {
                return Err(damaged(format!(
                    "row '{name}' has {} per-sequence values beside {} position counts, where \
                     each sequence has {} and one count",
                    v.len(),
                    n.len(),
                    self.per_row
                )));
            }
            let bad_count = n
                .iter()
                .position(|c| !(c.is_finite() && *c >= 0.0 && c.fract() == 0.0));
            let bad_loss = (v.chunks(n.len().max(1))).find_map(|plane| {
                (0..n.len().min(plane.len()))
                    .find(|&j| n[j] > 0.0 && !plane[j].is_finite())
                    .map(|j| (j, plane[j]))
            });
            let (what, j, x) = match (bad_count, bad_loss) {
                (Some(j), _) => ("position count", j, n[j]),
                (None, Some((j, x))) => ("loss", j, x),
                (None, None) => continue,
            };
            return Err(damaged(format!(
                "row '{name}': sequence {j}'s per-sequence {what} is {x}"
            )));
        }
        Ok(Sequences {
            csv: csv.to_owned(),
            eval_tokens: rows
                .iter()
                .map(|(_, r)| (self.name(r).to_owned(), r[self.col("eval_tokens")].clone()))
                .collect(),
            values,
            counts,
            n_seq,
        })
    }
}

/// Joins shards of `ceq eval-family` or of `ceq eval --manifest` (told apart by their header)
/// into `out`; returns the number of rows, and notes: when shards name one token set by two files,
/// and a warning when a shard has no position counts (the merged file then has none).
pub fn merge_files(inputs: &[PathBuf], out: &Path) -> Result<(usize, Vec<String>)> {
    let kinds = [&super::family::LEDGER, &super::sweep::LEDGER];
    let first = inputs.first().ok_or_else(|| Error::Invalid {
        fix: None,
        option: "inputs",
        message: "no shard files given".into(),
    })?;
    // Said as such, not as its rows' names being in two files.
    for (j, b) in inputs.iter().enumerate() {
        if let Some(i) = inputs[..j].iter().position(|a| crate::io::same_path(a, b)) {
            let also = if inputs[i] == *b {
                String::new()
            } else {
                format!(", the first time as {}", inputs[i].display())
            };
            return Err(mismatch(
                b.clone(),
                format!(
                    "the shard file is given twice (files {} and {} of the list{also}); give each \
                     shard once",
                    i + 1,
                    j + 1
                ),
            ));
        }
    }
    // A link's side files are beside its target, where the run that wrote it put them.
    let (inputs, out) = (
        &inputs.iter().map(|p| results_path(p)).collect::<Vec<_>>(),
        &results_path(out),
    );
    crate::io::check_extension(
        out,
        "csv",
        "the joined shards as CSV (their per-sequence .npy files beside it)",
    )?;
    let kind = kinds.iter().find(|k| k.is_kind_of(first));
    // A merge replaces only a file of the kind it writes (its own earlier output): anything else
    // there, a manifest or a checkpoints file of the user's, is not overwritten.
    let existing = out.is_file() && !crate::io::is_special(out);
    if existing && !kind.is_some_and(|k| k.is_kind_of(out)) {
        return Err(not_replaced(
            out,
            "it exists and is not a file of the shards' kind (its header differs); a merge \
             replaces only its own earlier output: choose another path",
        ));
    }
    // A run's own output holds rows no shard may hold (another manifest's, another hook's).
    if existing && !RunRecord::read(out)?.is_some_and(|r| r.merged) {
        return Err(not_replaced(
            out,
            "it exists and was not written by `ceq merge` (its run record says another run \
             wrote it, or it has none); a merge replaces only its own earlier output: choose \
             another path",
        ));
    }
    // Read as the first kind when none fits, for its message naming the header expected.
    kind.unwrap_or(&kinds[0]).merge(inputs, out)
}

/// Why a merge leaves the file at its output as it is.
fn not_replaced(out: &Path, why: &str) -> Error {
    Error::Refused {
        path: out.to_owned(),
        message: why.to_owned(),
    }
}

/// A little-endian f64 .npy array of `rows` (all of one length): [rows, n] or [rows, planes,
/// n / planes].
fn npy(rows: &[&[f64]], planes: usize) -> Vec<u8> {
    let n = rows.first().map_or(0, |r| r.len());
    let shape = match planes {
        1 => format!("({}, {n})", rows.len()),
        k => format!("({}, {k}, {})", rows.len(), n / k),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic, version and length take 10 bytes; the header ends in '\n' at a multiple of 64.
    header.push_str(&" ".repeat((64 - (10 + header.len() + 1) % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    rows.iter()
        .flat_map(|r| r.iter())
        .for_each(|v| out.extend(v.to_le_bytes()));
    out
}

/// An f64 .npy of `names.len()` rows ([rows, n], or [rows, planes, n]) as each name's flat row, or
/// `None` when the file is missing or does not match.
/// The per-row arrays of `names` in a .npy [rows, n] (`planes` = 1) or [rows, planes, n], or why
/// not, in words that follow the array's name ("are missing", "hold 24 rows, the CSV 23").
fn read_npy(path: &Path, planes: usize, names: &[String]) -> std::result::Result<PerSeq, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "are missing".to_owned(),
        _ => format!("cannot be read ({e})"),
    })?;
    let not_npy = |e: &dyn std::fmt::Display| format!("are not a NumPy array ({e})");
    let npy = npyz::NpyFile::new(&bytes[..]).map_err(|e| not_npy(&e))?;
    let shape = npy.shape().to_vec();
    let (rows, n) = match (planes, &shape[..]) {
        (1, &[rows, n]) => (rows, n),
        (k, &[rows, kk, n]) if kk == k as u64 && kk.checked_mul(n).is_some() => (rows, kk * n),
        _ => {
            let want = match planes {
                1 => "[rows, sequences]".to_owned(),
                k => format!("[rows, {k}, sequences]"),
            };
            return Err(format!("have shape {shape:?}, not {want}"));
        }
    };
    if rows as usize != names.len() {
        return Err(format!("hold {rows} rows, the CSV {}", names.len()));
    }
    // Said as what they are, not as a length or an order their bytes do not have.
    match npy.dtype() {
        npyz::DType::Plain(t) if t.to_string() == "<f8" => {}
        other => {
            return Err(format!(
                "hold '{}' values, not the float64 ('<f8') ceq writes; save them as float64",
                other.descr().trim_matches('\'')
            ));
        }
    }
    if npy.order() == npyz::Order::Fortran {
        return Err(
            "are saved in Fortran order, not the C order ceq writes; save them C-contiguous \
             (numpy.ascontiguousarray)"
                .into(),
        );
    }
    let short = || "are shorter than their header says".to_owned();
    if rows
        .checked_mul(n)
        .and_then(|v| v.checked_mul(8))
        .is_none_or(|b| b > bytes.len() as u64)
    {
        return Err(short());
    }
    let data: Vec<f64> = npy.into_vec().map_err(|e| not_npy(&e))?;
    let n = n as usize;
    if data.len() < names.len() * n {
        return Err(short());
    }
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), data[i * n..(i + 1) * n].to_vec()))
        .collect())
}

impl Resumed {
    /// Says what a rerun found in `out` beside the rows it keeps: its token set under another
    /// name, rows changed after ceq wrote them.
    pub(crate) fn tell(&self, out: &Path, eval_tokens: &str, progress: &mut dyn FnMut(Progress)) {
        if let Some(note) = renamed_tokens(out, self, eval_tokens) {
            progress(Progress::Note(note));
        }
        if let Some(w) = damaged_rows(out, self) {
            progress(Progress::Warning(w));
        }
        if let Some(first) = self.edited.first() {
            progress(Progress::Warning(format!(
                "{}: {} row(s) ('{first}'{}) are not as ceq wrote them (a cell changed since, as \
                 the run record's digest of each row shows): they are measured again",
                out.display(),
                self.edited.len(),
                if self.edited.len() > 1 { ", …" } else { "" }
            )));
        }
    }
}

/// What a rerun says of the rows it measures again because they changed after ceq wrote them.
fn damaged_rows(out: &Path, resumed: &Resumed) -> Option<String> {
    let first = resumed.damaged.first()?;
    Some(format!(
        "{}: {} row(s) ('{first}'{}) are not the means of their per-sequence values beside the file \
         (the file or its arrays changed after ceq wrote them): they are measured again",
        out.display(),
        resumed.damaged.len(),
        if resumed.damaged.len() > 1 {
            ", …"
        } else {
            ""
        }
    ))
}

/// What a rerun says when `out`'s rows name their token set otherwise than this run (`resumed`):
/// the same ids and positions under another file name, which every row keeps naming.
fn renamed_tokens(out: &Path, resumed: &Resumed, eval_tokens: &str) -> Option<String> {
    let file = |t: &str| t.find(" fnv1a64:").map_or(t, |i| &t[..i]).to_owned();
    // "fnv1a64:… (positions)" said without nested brackets.
    let key = token_set_key(eval_tokens).replacen(" (", ", ", 1);
    let (now, was) = (file(eval_tokens), file(&resumed.eval_tokens));
    (resumed.eval_tokens != eval_tokens).then(|| {
        format!(
            "{}: this run's {now} holds the token set its rows name {was} (the same ids and scored \
             positions: {}); every row, kept or new, names it {was}",
            out.display(),
            key.trim_end_matches(')'),
        )
    })
}
