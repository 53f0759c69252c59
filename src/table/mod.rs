//! Reading the two input tables: checkpoints (a family) and splices (a CSV, or SAEBench core-eval
//! results in `saebench.rs`). The CSV plumbing shared by both lives here so that every error names
//! the file, the line and the column the same way.

mod checkpoints;
mod saebench;
mod splices;

pub use checkpoints::{Checkpoint, ColumnMap, ComputeScale, Dropped, Family, read_family};
pub use saebench::{is_saebench, read_saebench};
pub(crate) use splices::loss_recovered;
pub use splices::{CeErrors, ParamCounts, Source, Splice, Splices, read_splices_csv};

/// A splices table from `path`: SAEBench core-eval results for a folder or a `.json` file, else a
/// splices CSV.
pub fn read_splices(path: &Path) -> Result<Splices> {
    if is_saebench(path) {
        read_saebench(path)
    } else if saebench::holds_json_object(path) {
        Err(Error::Data {
            kind: crate::error::DataKind::Json,
            path: path.to_owned(),
            message: "holds a JSON object, not a CSV table: a SAEBench result is read from a \
                      .json name; rename it"
                .into(),
        })
    } else {
        // An interrupted sweep's rows are a part of it, not the sweep.
        crate::eval::record::check_finished(path)?;
        read_splices_csv(path)
    }
}

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A CSV file read whole: its header and its data rows with their line numbers.
pub(crate) struct RawTable {
    pub path: PathBuf,
    pub headers: Vec<String>,
    pub rows: Vec<(u64, csv::StringRecord)>,
}

/// Lines starting with `#` before the header are comments: they are blanked (so line numbers stay
/// true; the CSV reader skips blank lines). After the header a `#` is data — a row whose name starts
/// with it must not vanish. A UTF-8 byte-order mark (a Windows editor's) goes first, so a comment
/// after it is one too.
fn blank_leading_comments(bytes: Vec<u8>) -> Vec<u8> {
    let mut start = if bytes.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let mut blanks = 0;
    while bytes.get(start) == Some(&b'#') {
        start = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |k| start + k + 1);
        blanks += 1;
    }
    let mut out = vec![b'\n'; blanks];
    out.extend_from_slice(&bytes[start..]);
    out
}

impl RawTable {
    pub fn read(path: &Path) -> Result<RawTable> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let bytes = blank_leading_comments(bytes);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::EmptyFile {
                path: path.to_owned(),
            });
        }
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(bytes.as_slice());
        // Lines are counted from the bytes: the csv crate's own count is short by one per CRLF
        // record before, and its record start can be the '\n' of a CRLF (so counted inclusive).
        let end = |byte: u64| (byte as usize + 1).min(bytes.len());
        let line_at =
            |byte: u64| 1 + bytes[..end(byte)].iter().filter(|&&b| b == b'\n').count() as u64;
        let csv_err = |e: csv::Error| Error::Csv {
            path: path.to_owned(),
            line: e.position().map_or(0, |p| line_at(p.byte())),
            message: csv_message(&e),
        };
        let headers: Vec<String> = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(str::to_owned)
            .collect();
        for (j, h) in headers.iter().enumerate() {
            if let Some(i) = headers[..j].iter().position(|g| g == h) {
                return Err(Error::Csv {
                    path: path.to_owned(),
                    line: 1,
                    message: format!(
                        "column name '{h}' appears twice (columns {} and {}); rename one",
                        i + 1,
                        j + 1
                    ),
                });
            }
        }
        let mut rows = vec![];
        // (byte, line) of the last record, so counting newlines stays one pass over the file.
        let mut at = (0usize, 1u64);
        for rec in rdr.records() {
            let rec = rec.map_err(csv_err)?;
            let byte = rec.position().map_or(0, |p| end(p.byte()));
            at.1 += bytes[at.0..byte].iter().filter(|&&b| b == b'\n').count() as u64;
            at.0 = byte;
            rows.push((at.1, rec));
        }
        if rows.is_empty() {
            let header = headers.join(",");
            let header = match header.chars().count() > 80 {
                true => header.chars().take(77).collect::<String>() + "…",
                false => header,
            };
            return Err(Error::NoRows {
                path: path.to_owned(),
                header,
            });
        }
        Ok(RawTable {
            path: path.to_owned(),
            headers,
            rows,
        })
    }

    /// Index of the column named `name`, if present.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    pub fn require(&self, name: &str, hint: &str) -> Result<usize> {
        self.find(name).ok_or_else(|| Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_owned(),
            available: self.headers.join(", "),
            hint: hint.to_owned(),
            fix: None,
        })
    }

    pub(crate) fn cell_error(&self, line: u64, col: usize, message: String) -> Error {
        Error::BadCell {
            path: self.path.clone(),
            line,
            column: self.headers[col].clone(),
            col_index: col + 1,
            message,
        }
    }

    /// The data rows, each with its line, to read cells from.
    pub fn records(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, rec)| Row {
            table: self,
            line: *line,
            rec,
        })
    }
}

/// One data row of a [`RawTable`]: its cells are read here, so that every error names the file,
/// the line and the column. A column given as `Option` may be absent (its cells read as empty).
pub(crate) struct Row<'a> {
    table: &'a RawTable,
    pub line: u64,
    rec: &'a csv::StringRecord,
}

impl Row<'_> {
    pub fn error(&self, col: usize, message: String) -> Error {
        self.table.cell_error(self.line, col, message)
    }

    /// The cell's text as written.
    pub fn raw(&self, col: usize) -> &str {
        self.rec.get(col).unwrap_or("")
    }

    /// The cell's text, empty where the column or the cell is absent.
    pub fn text(&self, col: Option<usize>) -> String {
        col.map_or("", |c| self.raw(c)).to_owned()
    }

    /// A finite number, or `None` for an empty cell.
    pub fn number(&self, col: Option<usize>) -> Result<Option<f64>> {
        let Some(col) = col else { return Ok(None) };
        let s = self.raw(col);
        if s.is_empty() {
            return Ok(None);
        }
        let v: f64 = s.parse().map_err(|_| self.error(col, not_a_number(s)))?;
        if !v.is_finite() {
            let why = format!("'{s}' is not a finite number; remove the row or fix the value");
            return Err(self.error(col, why));
        }
        Ok(Some(v))
    }

    /// The value of a cell that must not be empty.
    fn required(&self, col: usize, v: Option<f64>) -> Result<f64> {
        v.ok_or_else(|| self.error(col, "the cell is empty; a value is required".into()))
    }

    /// A finite number > 0, or `None` for an empty cell.
    pub fn optional_positive(&self, col: Option<usize>) -> Result<Option<f64>> {
        let why = "is not > 0; losses, parameter counts, tokens and FLOPs must be positive";
        self.number_where(col, |v| v > 0.0, why)
    }

    /// A count of parameters or tokens: positive and at least 1, or `None` for an empty cell. A
    /// smaller one is a column in millions or billions, whose 6·N·D would be off by as much.
    pub fn optional_amount(&self, col: Option<usize>) -> Result<Option<f64>> {
        let (Some(col), Some(v)) = (col, self.optional_positive(col)?) else {
            return Ok(None);
        };
        if v < 1.0 {
            // As written: 1e-300 printed in full is 300 digits.
            let message = format!(
                "{} is below 1, and a count of parameters or tokens is at least 1: a column in \
                 millions or billions? give whole counts",
                self.raw(col).trim()
            );
            return Err(self.error(col, message));
        }
        Ok(Some(v))
    }

    /// A loss (mean cross-entropy, nats per token) that must be present: see [`MAX_LOSS`].
    pub fn loss(&self, col: usize) -> Result<f64> {
        self.required(col, self.optional_loss(Some(col))?)
    }

    /// A loss > 0 and at most [`MAX_LOSS`], or `None` for an empty cell.
    pub fn optional_loss(&self, col: Option<usize>) -> Result<Option<f64>> {
        let (Some(col), Some(v)) = (col, self.optional_positive(col)?) else {
            return Ok(None);
        };
        if v > MAX_LOSS {
            // As written: 1e308 printed in full is 309 digits.
            return Err(self.error(col, not_a_loss(self.raw(col).trim())));
        }
        Ok(Some(v))
    }

    /// A whole number ≥ 1 (a count of positions), or `None` for an empty cell.
    pub fn optional_count(&self, col: Option<usize>) -> Result<Option<f64>> {
        let why = "is not a whole number ≥ 1; it counts the positions (next-token predictions) \
                   the losses average over";
        self.number_where(col, |v| v >= 1.0 && v.fract() == 0.0, why)
    }

    /// A finite number ≥ 0 (a standard error), or `None` for an empty cell.
    pub fn non_negative(&self, col: Option<usize>) -> Result<Option<f64>> {
        let why = "is negative; a standard error is ≥ 0 (empty where unknown)";
        self.number_where(col, |v| v >= 0.0, why)
    }

    /// A finite number for which `ok` holds (else an error: the value, then `why`), or `None`.
    fn number_where(
        &self,
        col: Option<usize>,
        ok: impl Fn(f64) -> bool,
        why: &str,
    ) -> Result<Option<f64>> {
        match (col, self.number(col)?) {
            (Some(c), Some(v)) if !ok(v) => Err(self.error(c, format!("{v} {why}"))),
            (_, v) => Ok(v),
        }
    }

    /// A manifest row's name: present, and not one of `seen` (name, line) already.
    pub fn unique_name<'a>(
        &self,
        col: usize,
        mut seen: impl Iterator<Item = (&'a str, u64)>,
    ) -> Result<String> {
        self.unique_name_by(col, |name| {
            seen.find(|(n, _)| *n == name).map(|(_, first)| first)
        })
    }

    /// A row's name: present, and not seen before (`first_line` gives the line a name was first
    /// on): a long table looks its names up in a map rather than scanning the rows before.
    pub fn unique_name_by(
        &self,
        col: usize,
        first_line: impl FnOnce(&str) -> Option<u64>,
    ) -> Result<String> {
        let (name, line) = (self.raw(col).to_owned(), self.line);
        if name.is_empty() {
            return Err(self.error(col, "every row needs a name".into()));
        }
        match first_line(&name) {
            Some(first) => {
                let why = format!("'{name}' is named twice (lines {first} and {line})");
                Err(self.error(col, why))
            }
            None => Ok(name),
        }
    }

    /// A folder named by a manifest row, relative to the manifest's own folder; it must exist.
    pub fn folder(&self, col: usize, row: &str) -> Result<PathBuf> {
        let base = self.table.path.parent().unwrap_or(Path::new(""));
        let cell = self.raw(col);
        let dir = base.join(cell);
        // An empty cell joins to the manifest's own folder: said, not read as that folder.
        let why = if cell.trim().is_empty() {
            "the cell is empty; give the folder's path".to_owned()
        } else if dir.is_dir() {
            return Ok(dir);
        } else if dir.exists() {
            format!("{} is a file, not a folder", dir.display())
        } else {
            format!("no folder {}", dir.display())
        };
        let msg = format!("'{row}': {why} (paths are relative to this manifest's folder)");
        Err(self.error(col, msg))
    }
}

/// The largest loss (nats per token) a table may hold. A model's mean cross-entropy starts near
/// ln(vocabulary size), 13.8 for a million tokens, and falls; a thousand is a sum, a unit mix-up or
/// a typo, which a fit would take in silently (its robust loss tames any residual) and a mapping
/// would turn into infinities and 309-digit numbers. Refused rather than warned: nothing
/// computed from it is worth reading.
pub const MAX_LOSS: f64 = 1000.0;

/// Above this a loss is warned of: guessing uniformly over 400 million tokens costs 20 nats, so a
/// higher "loss" is more likely a perplexity or a sum over a sequence than a mean cross-entropy.
pub const HIGH_LOSS: f64 = 20.0;

/// The warning for losses above [`HIGH_LOSS`], naming where the highest one stands and how many
/// `others` lie above it too.
pub(crate) fn high_loss(loss: f64, at: &str, others: usize) -> String {
    let more = match others {
        0 => String::new(),
        n => format!(" (so do {n} more row(s))"),
    };
    format!(
        "{at} holds a loss of {loss:.4} nats/token, above {HIGH_LOSS}{more}, which uniform \
         guessing over 400 million tokens stays below: is it a perplexity, a sum over a sequence, or in bits? \
         ceq reads losses as mean cross-entropies in nats per token"
    )
}

/// What is wrong in a CSV file, without the csv crate's own record and line numbers (the error
/// names the line once, counted from the file's bytes).
pub(crate) fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        // A header of one column and rows of more: the file is separated by another character,
        // the rows split only at their decimal commas (a locale's CSV: `1;5,97`).
        csv::ErrorKind::UnequalLengths {
            expected_len: 1,
            len,
            ..
        } => format!(
            "the row has {len} fields, but the header is one column: ceq reads comma-separated \
             files; one separated by semicolons or tabs has its rows split at decimal commas \
             only, so save it comma-separated, with decimal points (else the header lacks the \
             other columns' names)"
        ),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "the row has {len} fields, but the header has {expected_len} columns; every row needs \
             one field per column (empty ones included){}",
            if len < expected_len {
                ": is a comma missing, or a quote (\") opened and not closed, running the field on?"
            } else {
                ""
            }
        ),
        csv::ErrorKind::Utf8 { err, .. } => {
            format!(
                "not UTF-8 text (field {}); save the file as UTF-8",
                err.field() + 1
            )
        }
        _ => e.to_string(),
    }
}

/// Why a cell is not a number, with the plain number where it reads as one with a metric suffix
/// ("111M": 111000000), a common way to write sizes that a CSV reader does not take.
pub(crate) fn not_a_number(s: &str) -> String {
    let scaled = s.char_indices().last().and_then(|(i, c)| {
        let (scale, word) = match c.to_ascii_uppercase() {
            'K' => (1e3, "thousand"),
            'M' => (1e6, "million"),
            'B' | 'G' => (1e9, "billion"),
            'T' => (1e12, "trillion"),
            _ => return None,
        };
        let v = s[..i].trim().parse::<f64>().ok()? * scale;
        // 1.1 × 1e6 is 1100000.0000000002 in binary: said as the whole number it is meant as.
        let v = if (v - v.round()).abs() <= 1e-9 * v.abs() {
            v.round()
        } else {
            v
        };
        v.is_finite().then_some((c, word, v))
    });
    match scaled {
        Some((c, word, v)) => format!(
            "'{s}' is not a number; if {c} means {word}, write {}",
            crate::export::exact(v)
        ),
        None => format!("'{s}' is not a number"),
    }
}

/// An `eval_tokens` cell without the token file's name: the ids' hash (its hex in lower case, as
/// ceq writes it) and which positions count, so the same tokens under another file name, or a hash
/// retyped in upper case, are the same set. A name typed by hand (no hash) is kept as it is.
pub(crate) fn token_set_key(eval_tokens: &str) -> String {
    const HASH: &str = "fnv1a64:";
    // ASCII lower-casing keeps byte offsets.
    let lower = eval_tokens.to_ascii_lowercase();
    let Some(i) = lower.find(HASH) else {
        return eval_tokens.to_owned();
    };
    let end = lower[i..].find(' ').map_or(lower.len(), |n| i + n);
    format!("{}{}", &lower[i..end], &eval_tokens[end..])
}

/// Whether an `eval_tokens` cell names its ids by hash (as ceq writes it), not by a name typed by
/// hand.
pub(crate) fn names_ids(eval_tokens: &str) -> bool {
    eval_tokens.to_ascii_lowercase().contains("fnv1a64:")
}

/// Whether two `eval_tokens` cells name one token set ([`token_set_key`]).
pub(crate) fn same_token_set(a: &str, b: &str) -> bool {
    token_set_key(a) == token_set_key(b)
}

/// Whether a column named `c` looks like a typo for `k`, a column ceq reads: another case or
/// separator (`Run`, `eval-tokens`), a plural (`steps`), one letter left out but the first
/// (`tokns`, `los`), or two neighbours swapped (`tokesn`). Other one-letter edits make other
/// words too often (`stem`, `same`, `computer`, `val_tokens`) to call them typos.
pub(crate) fn near_miss(c: &str, k: &str) -> bool {
    let plain = |s: &str| -> Vec<char> {
        (s.chars().filter(|ch| !matches!(ch, '_' | '-' | ' ')))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let (c2, k2) = (plain(c), plain(k));
    // `a` is `b` with an s, or an es after an s (`losses`).
    let plural = |a: &[char], b: &[char]| {
        a.starts_with(b)
            && (a[b.len()..] == ['s'] || (a[b.len()..] == ['e', 's'] && b.ends_with(&['s'])))
    };
    // `short` is `long` with one letter left out, not its first.
    let dropped = |short: &[char], long: &[char]| {
        short.len() + 1 == long.len()
            && (1..long.len()).any(|i| long[..i] == short[..i] && long[i + 1..] == short[i..])
    };
    let swapped = |a: &[char], b: &[char]| {
        if a.len() != b.len() {
            return false;
        }
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        diff.len() == 2
            && diff[1] == diff[0] + 1
            && a[diff[0]] == b[diff[1]]
            && a[diff[1]] == b[diff[0]]
    };
    c != k
        && (c2 == k2
            || plural(&c2, &k2)
            || plural(&k2, &c2)
            || (k2.len() >= 4 && dropped(&c2, &k2))
            || (k2.len() >= 5 && swapped(&c2, &k2)))
}

/// Why `cell`, a number above [`MAX_LOSS`], is refused as a loss.
pub(crate) fn not_a_loss(cell: &str) -> String {
    format!(
        "{cell} nats per token is no language model's loss (guessing uniformly over a million \
         tokens costs 13.8); losses are mean cross-entropies in nats per token, at most \
         {MAX_LOSS}: is it a sum over a sequence, or another unit?"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_token_set_is_its_ids_and_positions() {
        let set = "a.npy fnv1a64:da11b7cd00f64ed7 (BOS/EOS/pad positions left out)";
        let same = [
            "b.npy fnv1a64:da11b7cd00f64ed7 (BOS/EOS/pad positions left out)",
            "a.npy FNV1A64:DA11B7CD00F64ED7 (BOS/EOS/pad positions left out)",
        ];
        for s in same {
            assert!(super::same_token_set(set, s), "{s}");
        }
        let other = [
            "a.npy fnv1a64:da11b7cd00f64ed8 (BOS/EOS/pad positions left out)",
            "a.npy fnv1a64:da11b7cd00f64ed7 (every position)",
        ];
        for s in other {
            assert!(!super::same_token_set(set, s), "{s}");
        }
        // Names typed by hand are compared as typed.
        assert!(!super::same_token_set("Pile", "pile"));
        assert!(super::names_ids("x FNV1A64:00") && !super::names_ids("pile"));
    }

    #[test]
    fn near_misses_are_typos_not_other_words() {
        let typos = [
            ("Run", "run"),
            ("eval-tokens", "eval_tokens"),
            ("steps", "step"),
            ("losses", "loss"),
            ("Losses", "loss"),
            ("tokns", "tokens"),
            ("los", "loss"),
            ("tokesn", "tokens"),
            ("se_ce_clen", "se_ce_clean"),
        ];
        for (c, k) in typos {
            assert!(super::near_miss(c, k), "{c} for {k}");
        }
        let words = [
            ("stem", "step"),
            ("stop", "step"),
            ("same", "name"),
            ("name2", "name"),
            ("computer", "compute"),
            ("val_tokens", "eval_tokens"),
            ("eval_toks", "eval_tokens"),
            ("run", "run"),
            ("rn", "run"),
            ("runes", "run"),
        ];
        for (c, k) in words {
            assert!(!super::near_miss(c, k), "{c} for {k}");
        }
    }
}
