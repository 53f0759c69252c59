//! `ceq eval-family`: every checkpoint of a family (a manifest CSV) on one token set, measured on the
//! positions `ceq eval` scores, written as a checkpoints CSV that `ceq fit` reads (columns:
//! [`crate::schema::FAMILY`]). The file is rewritten atomically after each checkpoint, and a rerun
//! skips the rows already there once their token set and options are checked, so an interrupted
//! run loses nothing; `shard` takes every n-th checkpoint (and records which, see
//! [`super::shard::ShardRecord`]) and [`super::ledger::merge_files`] joins the shards.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::job::Scoring;
use super::ledger::{Ledger, PerSeq, Row, mismatch, params_differ};
use super::record::{RunRecord, identify};
use super::runner::{clean, scored_per_seq};
use super::shard::{JobSettings, Shard, job_settings};
use super::tokens::Tokens;
use super::{ModelConfig, Transformer};
use crate::error::{DataKind, Error, Fix, Result};
use crate::law_file::ParamCount;
use crate::progress::Progress;
use crate::schema::FAMILY;
use crate::table::{RawTable, near_miss};

/// One checkpoint of a manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    /// The model folder, resolved against the manifest's folder.
    pub dir: PathBuf,
    pub run: String,
    pub step: String,
    /// Training tokens seen.
    pub tokens: f64,
    /// Whether `tokens` is step × the tokens per step (the row gave none).
    pub from_steps: bool,
    /// Line in the manifest (1: the header).
    pub line: u64,
}

/// The tokens per step where some row of `entries` takes its tokens from them; else `None`, so
/// that shards run with and without an unused value are one job.
pub fn tokens_per_step_used(entries: &[Entry], tokens_per_step: Option<f64>) -> Option<f64> {
    tokens_per_step.filter(|_| entries.iter().any(|e| e.from_steps))
}

/// Reads a manifest: `name,path` required, `run,step,tokens` optional; a row without `tokens`
/// takes `step × tokens_per_step`. Refuses duplicate names and missing folders.
/// Also returns what the manifest holds that is not used (see `unused`).
pub fn read_manifest(
    path: &Path,
    tokens_per_step: Option<f64>,
) -> Result<(Vec<Entry>, Vec<String>)> {
    let t = RawTable::read(path)?;
    let hint = "a manifest has columns name,path and optionally run,step,tokens";
    let (i_name, i_path) = (t.require("name", hint)?, t.require("path", hint)?);
    let (i_run, i_step, i_tokens) = (t.find("run"), t.find("step"), t.find("tokens"));
    let no_tokens = |kind, message: String| Error::Data {
        kind,
        path: path.to_owned(),
        message,
    };
    // A step is a batch of whole sequences: its tokens are a whole count (else each row's
    // step × tokens per step would be refused as the step's fault).
    if let Some(per) = tokens_per_step.filter(|v| !(v.is_finite() && *v >= 1.0 && v.fract() == 0.0))
    {
        return Err(Error::Invalid {
            fix: Some(Fix::WholeTokensPerStep),
            option: "tokens per step",
            message: format!(
                "must be a whole number of tokens ≥ 1 (batch × sequence length), not {per}"
            ),
        });
    }
    // Without a step column, tokens per step cannot help: say the two ways that do.
    if i_tokens.is_none() && i_step.is_none() {
        return Err(no_tokens(
            DataKind::TokensOrSteps,
            "no tokens column and no step column, so no checkpoint's training tokens are known; \
             add a tokens column (the training tokens each checkpoint has seen), or a step column \
             and the tokens per step"
                .into(),
        ));
    }
    if i_tokens.is_none() && tokens_per_step.is_none() {
        return Err(no_tokens(
            DataKind::TrainingTokens,
            "no tokens column, so no checkpoint's training tokens are known; they are \
             step × tokens per step when the tokens per step are given"
                .into(),
        ));
    }
    let mut entries: Vec<Entry> = vec![];
    for row in t.records() {
        let line = row.line;
        let seen = entries.iter().map(|e| (e.name.as_str(), e.line));
        let name = row.unique_name(i_name, seen)?;
        let dir = row.folder(i_path, &name)?;
        // A copied row would measure one checkpoint twice, under two training budgets.
        if let Some(e) = entries.iter().find(|e| crate::io::same_path(&e.dir, &dir)) {
            let msg = format!(
                "'{name}': its folder {} is checkpoint '{}''s too (line {}); each row is a \
                 checkpoint of its own",
                dir.display(),
                e.name,
                e.line
            );
            return Err(row.error(i_path, msg));
        }
        let mut step = row.text(i_step);
        // Below 2^53, as fit reads them (a larger one would be written rounded).
        use crate::export::EXACT_COUNT as EXACT;
        let whole = |v: f64| (0.0..EXACT).contains(&v) && v.fract() == 0.0;
        if !step.is_empty() {
            let Some(v) = step.parse::<f64>().ok().filter(|&v| whole(v)) else {
                let msg = format!(
                    "checkpoint '{name}': step must be a whole number below 2^53, ≥ 0, not '{step}'"
                );
                return Err(row.error(i_step.unwrap_or(i_name), msg));
            };
            // Written as the whole number it is (`4e1` is step 40), as fit reads steps.
            step = format!("{v:.0}");
        }
        // Training tokens are a count, as `eval --trained-tokens` takes them.
        let positive = |v: f64| ((1.0..EXACT).contains(&v) && v.fract() == 0.0).then_some(v);
        let tokens = match (row.text(i_tokens), tokens_per_step) {
            (v, _) if !v.is_empty() => v.parse().ok().and_then(positive).ok_or_else(|| {
                let msg = match v.parse::<f64>() {
                    Ok(_) => format!(
                        "checkpoint '{name}': training tokens must be a whole count ≥ 1, below 2^53, not '{v}'"
                    ),
                    Err(_) => format!(
                        "checkpoint '{name}': training tokens {}",
                        crate::table::not_a_number(&v)
                    ),
                };
                row.error(i_tokens.unwrap_or(i_name), msg)
            }),
            // An empty step cannot be multiplied: only this row's cells can fix it.
            _ if step.is_empty() => Err(neither(
                &t,
                line,
                &name,
                [i_tokens, i_step],
                tokens_per_step,
            )),
            (_, Some(per)) => step
                .parse::<f64>()
                .ok()
                .and_then(|s| positive(s * per))
                .ok_or_else(|| {
                    let msg = format!(
                        "checkpoint '{name}': no training tokens, and its step '{step}' times the \
                     tokens per step is not a whole count ≥ 1, below 2^53"
                    );
                    row.error(i_step.unwrap_or(i_name), msg)
                }),
            (_, None) => Err(no_tokens(
                DataKind::TrainingTokens,
                format!(
                    "line {line}: checkpoint '{name}' has no training tokens (its tokens cell is \
                     empty); they are step × tokens per step when the tokens per step are given"
                ),
            )),
        };
        let tokens = tokens?;
        entries.push(Entry {
            name,
            dir,
            run: row.text(i_run),
            step,
            tokens,
            from_steps: row.text(i_tokens).is_empty(),
            line,
        });
    }
    let warnings = unused(path, &t.headers, &entries, tokens_per_step);
    Ok((entries, warnings))
}

/// What a manifest holds that ceq does not use, said rather than dropped: columns it does not read
/// (a params or loss column there is not what `fit` reads), and rows whose tokens differ from
/// step × `tokens_per_step` (the tokens are used).
fn unused(
    path: &Path,
    headers: &[String],
    entries: &[Entry],
    tokens_per_step: Option<f64>,
) -> Vec<String> {
    let read = ["name", "path", "run", "step", "tokens"];
    let why = "each checkpoint's size comes from its config, its loss from the eval";
    let mut out: Vec<String> = unread_columns(path, headers, &read, why)
        .into_iter()
        .collect();
    if tokens_per_step.is_some() && tokens_per_step_used(entries, tokens_per_step).is_none() {
        out.push(format!(
            "{}: every row gives its training tokens, so the tokens per step are not used",
            path.display()
        ));
    }
    if let Some(per) = tokens_per_step {
        let off: Vec<String> = (entries.iter())
            .filter(|e| e.step.parse::<f64>().is_ok_and(|s| s * per != e.tokens))
            .map(|e| format!("'{}' (line {})", e.name, e.line))
            .collect();
        if let Some(first) = off.first() {
            out.push(format!(
                "{}: {} row(s) give training tokens other than step × {per} tokens per step \
                 (first {first}); their tokens column is used",
                path.display(),
                off.len()
            ));
        }
    }
    // One run's step twice is one checkpoint listed under two folders, or a run mislabelled: the
    // fit would count it twice.
    let mut seen: std::collections::HashMap<(&str, &str), &Entry> = Default::default();
    // (Without a run column, one step of models of several sizes is no such thing.)
    for e in (entries.iter()).filter(|e| !e.step.is_empty() && !e.run.is_empty()) {
        if let Some(first) = seen.insert((e.run.as_str(), e.step.as_str()), e) {
            out.push(format!(
                "{}: '{}' (line {}) and '{}' (line {}) are both step {} of run '{}': one checkpoint \
                 under two folders, or a run column to correct",
                path.display(),
                first.name,
                first.line,
                e.name,
                e.line,
                e.step,
                e.run
            ));
            break;
        }
    }
    out
}

/// A manifest's columns ceq does not read, said rather than dropped, a likely misspelling of one it
/// does named (`Hook`, `hooks`: the SAE's own hook would be used without a word).
pub(super) fn unread_columns(
    path: &Path,
    headers: &[String],
    read: &[&str],
    why: &str,
) -> Option<String> {
    let unread: Vec<String> = (headers.iter())
        .filter(|h| !read.contains(&h.as_str()))
        .map(|h| {
            let near = (read.iter()).find(|k| !headers.iter().any(|c| c == *k) && near_miss(h, k));
            match near {
                Some(k) => format!("{h} (did you mean '{k}'?)"),
                None => h.clone(),
            }
        })
        .collect();
    (!unread.is_empty()).then(|| {
        format!(
            "{}: column(s) {} are not read (a manifest's are {}; {why})",
            path.display(),
            unread.join(", "),
            read.join(", ")
        )
    })
}

/// A row with neither training tokens nor a step: what fills it depends on the columns there are.
/// The tokens per step are named only when they are missing, and then the error is of the kind
/// that says so ([`DataKind::TokensOrSteps`]); otherwise only the row's cells can fix it.
fn neither(
    t: &RawTable,
    line: u64,
    name: &str,
    [i_tokens, i_step]: [Option<usize>; 2],
    tokens_per_step: Option<f64>,
) -> Error {
    let per = match tokens_per_step {
        Some(_) => "",
        None => " and give the tokens per step",
    };
    let fix = match (i_tokens, i_step) {
        (Some(_), Some(_)) => {
            format!(
                "its tokens and step cells are empty: fill its tokens cell, or its step cell{per}"
            )
        }
        (Some(_), None) => format!(
            "its tokens cell is empty and the manifest has no step column: fill its tokens cell \
             (or add a step column{per})"
        ),
        _ => format!(
            "its step cell is empty and the manifest has no tokens column: fill its step \
             cell{per}, or add a tokens column"
        ),
    };
    let message = format!("checkpoint '{name}' has neither training tokens nor a step; {fix}");
    match (tokens_per_step, i_tokens.or(i_step)) {
        (Some(_), Some(col)) => t.cell_error(line, col, message),
        _ => Error::Data {
            kind: DataKind::TokensOrSteps,
            path: t.path.clone(),
            message: format!("line {line}: {message}"),
        },
    }
}

/// FNV-1a 64 over the context length (u64, little-endian) and then every id (u32, little-endian),
/// row-major: a stable name for a token set (no dependency needed for a checksum this small).
pub fn token_hash(tokens: &Tokens) -> u64 {
    let bytes = (tokens.ctx as u64)
        .to_le_bytes()
        .into_iter()
        .chain(tokens.ids.iter().flat_map(|id| id.to_le_bytes()));
    fnv1a64(bytes)
}

/// FNV-1a, 64 bits: a content's identity, not a secure hash.
pub fn fnv1a64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    (bytes.into_iter()).fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Everything one family evaluation needs.
#[derive(Clone, Debug)]
pub struct FamilyJob {
    pub manifest: PathBuf,
    pub scoring: Scoring,
    /// Which count `params` holds.
    pub param_count: ParamCount,
    pub tokens_per_step: Option<f64>,
    pub shard: Option<Shard>,
    /// The checkpoints CSV: written after each checkpoint, and read first to resume.
    pub out: PathBuf,
}

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct FamilySummary {
    pub evaluated: usize,
    pub skipped: usize,
    /// Rows kept from an older ceq's file, which recorded none of their inputs.
    pub unrecorded: usize,
    pub rows: usize,
    pub seconds: f64,
    pub positions: usize,
}

/// eval-family's results file: the family table, one per-sequence array per checkpoint.
pub static LEDGER: Ledger = Ledger {
    schema: &FAMILY,
    what: "a family checkpoints file (ceq eval-family)",
    title: "checkpoint family",
    per_row: 1,
    means: &["loss"],
    order: by_run_tokens_name,
};

/// Rows in order of run, then tokens, then name.
fn by_run_tokens_name(l: &Ledger, a: &Row, b: &Row) -> std::cmp::Ordering {
    let (run, tokens, name) = (l.col("run"), l.col("tokens"), l.col("name"));
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    (a[run].as_str())
        .cmp(&b[run])
        .then(num(&a[tokens]).total_cmp(&num(&b[tokens])))
        .then(a[name].cmp(&b[name]))
}

fn column(name: &str) -> usize {
    LEDGER.col(name)
}

/// A job's checkpoints, each with its config; the family's first checkpoint and its config (how
/// every one reads the tokens); the job's settings; the manifest's warnings.
type Checkpoints = (
    Vec<(Entry, ModelConfig)>,
    (Entry, ModelConfig),
    JobSettings,
    Vec<String>,
);

impl FamilyJob {
    /// The manifest's checkpoints this job (or shard) evaluates, after checking the whole family
    /// reads the tokens alike: one vocabulary size and one set of special ids.
    fn checkpoints(&self) -> Result<Checkpoints> {
        let (all, warnings) = read_manifest(&self.manifest, self.tokens_per_step)?;
        let configs =
            (all.iter().map(|e| ModelConfig::read(&e.dir))).collect::<Result<Vec<_>>>()?;
        let (f, fc) = all
            .first()
            .zip(configs.first())
            .expect("a manifest has rows");
        for (e, cfg) in all.iter().zip(&configs) {
            let Some(differs) = fc.reads_tokens_unlike(cfg) else {
                continue;
            };
            return Err(mismatch(
                self.manifest.clone(),
                format!(
                    "checkpoints '{}' (line {}) and '{}' (line {}) read tokens differently ({differs}); \
                     a family is measured on one token set",
                    f.name, f.line, e.name, e.line
                ),
            ));
        }
        let first = (f.clone(), fc.clone());
        let dirs: Vec<&Path> = all.iter().map(|e| e.dir.as_path()).collect();
        let per = tokens_per_step_used(&all, self.tokens_per_step);
        let job = job_settings(&self.manifest, &dirs, self.param_count, per)?;
        let shard = self.shard.unwrap_or(Shard { index: 0, count: 1 });
        let mine = (all.into_iter().zip(configs))
            .skip(shard.index)
            .step_by(shard.count)
            .collect();
        Ok((mine, first, job, warnings))
    }

    /// `err`, about the tokens, said as what checkpoint `e` cannot read.
    fn of_checkpoint(&self, err: Error, e: &Entry) -> Error {
        match err {
            Error::Data {
                kind,
                path,
                message,
            } => Error::Data {
                kind,
                path,
                message: format!(
                    "{message} (checkpoint '{}', line {} of {}: {})",
                    e.name,
                    e.line,
                    self.manifest.display(),
                    e.dir.display()
                ),
            },
            other => other,
        }
    }

    /// Evaluates every checkpoint not yet in the output, rewriting it after each one.
    pub fn run(&self, progress: &mut dyn FnMut(Progress)) -> Result<FamilySummary> {
        let out = super::record::results_path(&self.out);
        if out != self.out {
            return Self {
                out,
                ..self.clone()
            }
            .run(progress);
        }
        crate::io::check_extension(
            &self.out,
            "csv",
            "a family checkpoints file as CSV (its per-sequence .npy files beside it)",
        )?;
        let sc = &self.scoring;
        let (mine, (first, cfg), job, warnings) = self.checkpoints()?;
        let entries: Vec<&Entry> = mine.iter().map(|(e, _)| e).collect();
        for w in warnings {
            progress(Progress::Warning(w));
        }
        let mut inputs: Vec<&Path> = vec![&self.manifest];
        inputs.extend(sc.tokens.inputs());
        inputs.extend(entries.iter().map(|e| e.dir.as_path()));
        let _lock = super::record::RunLock::claim(&self.out, &inputs)?;

        let tokens = (sc.read_tokens(&cfg)).map_err(|err| self.of_checkpoint(err, &first))?;
        // Checkpoints that read tokens alike may still hold fewer positions than the first: each
        // is checked now, and named, rather than hours in.
        for (e, c) in &mine {
            (tokens.check(sc.tokens.path(), c.vocab, c.max_positions))
                .map_err(|err| self.of_checkpoint(err, e))?;
        }
        // Every checkpoint reads the tokens alike (checked above), so one count per sequence
        // serves every row, those resumed from an older file without counts included.
        let seq_n = scored_per_seq(&tokens, &cfg.special_ids, sc.keep_special);
        let eval_tokens = sc.describe(&tokens);
        let engine = sc.device.describe();

        let by_name: HashMap<&str, &Entry> =
            entries.iter().map(|e| (e.name.as_str(), *e)).collect();
        // What each checkpoint's row is measured from: its folder's weights and config as now.
        let now = entries
            .iter()
            .map(|e| Ok((e.name.clone(), identify(&self.out, &[&e.dir])?)))
            .collect::<Result<HashMap<_, _>>>()?;
        let resumed = LEDGER.resume(&self.out, &eval_tokens, &engine, &now, |row| {
            self.differs(row, &by_name)
        })?;
        resumed.tell(&self.out, &eval_tokens, progress);
        let eval_tokens = resumed.eval_tokens.clone();
        let (mut rows, mut per_seq) = (resumed.rows, resumed.per_seq);
        let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        let mut record = RunRecord::start(&self.out, (self.shard, &job), names, resumed.inputs)?;
        let done: Vec<String> = rows.iter().map(|r| r[column("name")].clone()).collect();
        let mut counts: PerSeq = done.iter().map(|n| (n.clone(), seq_n.clone())).collect();
        let todo: Vec<&Entry> = (entries.iter().copied())
            .filter(|e| !done.contains(&e.name))
            .collect();
        let positions = tokens.n_seq * tokens.ctx;
        progress(Progress::Stage {
            name: "eval-family (token positions)".into(),
            total: todo.len() * positions,
        });

        let device = sc.device.device()?;
        let options = sc.options();
        let start = Instant::now();
        for (i, e) in todo.iter().enumerate() {
            progress(Progress::Item(format!(
                "{}/{} {}",
                i + 1,
                todo.len(),
                e.name
            )));
            let model = Transformer::load(&e.dir, &device)?;
            let (total, non_emb) = (model.n_params, model.n_params_non_embedding());
            let params = self.param_count.of(total, non_emb);
            let compute = 6.0 * params as f64 * e.tokens;
            if !compute.is_finite() {
                return Err(Error::Data {
                    kind: DataKind::NonFinite,
                    path: self.manifest.clone(),
                    message: format!(
                        "line {}: checkpoint '{}': its training compute 6 × {params} params × {} \
                         tokens is beyond f64's range; its training tokens are wrong",
                        e.line, e.name, e.tokens
                    ),
                });
            }
            let r = clean(&model, &tokens, &options, &device, &mut |n| {
                progress(Progress::Advance(n))
            });
            if !r.ce.is_finite() {
                return Err(Error::Data {
                    kind: DataKind::NonFinite,
                    path: e.dir.clone(),
                    message: "the clean CE is not finite: the model's logits on these tokens hold \
                              NaN or infinite values"
                        .into(),
                });
            }
            let num = |v: f64| crate::export::exact(v);
            let row: Row = FAMILY
                .columns
                .iter()
                .map(|c| match c.name.as_str() {
                    "name" => e.name.clone(),
                    "run" => e.run.clone(),
                    "step" => e.step.clone(),
                    "params" => params.to_string(),
                    "params_total" => total.to_string(),
                    "params_non_embedding" => non_emb.to_string(),
                    "tokens" => num(e.tokens),
                    "compute" => num(compute),
                    "loss" => num(r.ce),
                    "loss_se" => num(r.se),
                    "n_tokens" => r.n_tokens.to_string(),
                    "eval_tokens" => eval_tokens.clone(),
                    "engine" => engine.clone(),
                    other => unreachable!("the family table has no value for column '{other}'"),
                })
                .collect();
            rows.push(row);
            per_seq.insert(e.name.clone(), r.per_seq);
            counts.insert(e.name.clone(), seq_n.clone());
            record.inputs.insert(e.name.clone(), now[&e.name].clone());
            // Written now, so an interrupted run keeps every finished checkpoint.
            LEDGER.write(&self.out, &rows, &per_seq, &counts, &mut record)?;
        }
        record.finished = true;
        if todo.is_empty() && !LEDGER.counts_written(&self.out, &rows, &counts) {
            LEDGER.write(&self.out, &rows, &per_seq, &counts, &mut record)?;
        } else {
            LEDGER.write_record(&self.out, &rows, &mut record)?;
        }
        Ok(FamilySummary {
            evaluated: todo.len(),
            skipped: done.len(),
            unrecorded: resumed.unrecorded,
            rows: rows.len(),
            seconds: start.elapsed().as_secs_f64(),
            positions,
        })
    }

    /// What differs between a row already in the output and this job's checkpoint of its name.
    fn differs(&self, row: &Row, entries: &HashMap<&str, &Entry>) -> Option<String> {
        let was = |c: &str| row[column(c)].as_str();
        let name = was("name");
        let Some(e) = entries.get(name) else {
            return Some(format!(
                "checkpoint '{name}' is not one this manifest (and shard) evaluates"
            ));
        };
        if let Some(d) = params_differ(name, |c| was(c).to_owned(), self.param_count, "the ") {
            return Some(d);
        }
        // Each value that differs, the file's and the manifest's as this run reads it.
        let mut differ = vec![];
        for (column, now) in [("run", e.run.as_str()), ("step", e.step.as_str())] {
            if was(column) != now {
                differ.push(format!("{column} '{}' (now '{now}')", was(column)));
            }
        }
        if was("tokens").parse::<f64>().ok() != Some(e.tokens) {
            let from_steps = if e.from_steps {
                ", step × tokens per step"
            } else {
                ""
            };
            let now = crate::export::exact(e.tokens);
            differ.push(format!("tokens {} (now {now}{from_steps})", was("tokens")));
        }
        (!differ.is_empty()).then(|| {
            format!(
                "'{name}': its {} differ from the manifest's line {}",
                differ.join(", "),
                e.line
            )
        })
    }
}

impl std::fmt::Display for FamilySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = (self.evaluated * self.positions) as f64 / self.seconds;
        write!(
            f,
            "{} checkpoint(s) evaluated ({rate:.0} tokens/s), {} already there; {} row(s)",
            self.evaluated, self.skipped, self.rows
        )?;
        unrecorded_note(f, self.unrecorded)
    }
}

/// Says how many rows were kept from a file without a record of their inputs (an older ceq's, or
/// one whose record was removed), and that they could not be checked against them.
pub(crate) fn unrecorded_note(f: &mut std::fmt::Formatter<'_>, n: usize) -> std::fmt::Result {
    if n == 0 {
        return Ok(());
    }
    write!(
        f,
        " ({n} kept from a file with no record of their inputs (an older ceq's, or one whose \
         .run.json was removed): they could not be checked against the files they were measured \
         from; they are recorded as those files are now, and a later change to them is refused)"
    )
}
