//! `ceq eval --manifest saes.csv`: a sweep of SAEs over hooks and host models on one token set.
//! The manifest has one row per SAE (`name,model,sae[,hook]`, paths relative to it); rows are
//! grouped by model (loaded once) and hook (the passes that do not depend on the SAE run once, see
//! [`super::runner::evaluate_group`]). Results are saved as each hook's group finishes, in the
//! eval table plus `<stem>.per_seq.npy` ([rows, 2, sequences]: each row's per-sequence clean and
//! spliced CE), resumed by a rerun, sharded by (model, hook) group and joined by
//! [`super::ledger::merge_files`]. With a family manifest (`ceq eval-family`'s), `model` names one
//! of its checkpoints, whose training tokens fill the `tokens` column: the output is then a
//! complete splices file for `ceq map`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::family::{Entry, read_manifest, tokens_per_step_used};
use super::job::{EvalJob, SaeSpec, Scoring};
use super::ledger::{Ledger, PerSeq, Row, mismatch, params_differ};
use super::record::{RunRecord, identify};
use super::shard::{Shard, job_settings, record_shard};
use super::{Hook, ModelConfig};
use crate::error::Result;
use crate::law_file::ParamCount;
use crate::progress::Progress;
use crate::schema::EVAL;
use crate::table::RawTable;

/// A sweep's results file: the eval table, clean and spliced per-sequence CEs per SAE.
pub static LEDGER: Ledger = Ledger {
    schema: &EVAL,
    what: "a sweep's splices file (what eval writes from a manifest)",
    title: "SAEs spliced",
    per_row: 2,
    means: &["ce_clean", "ce_spliced"],
    order: by_model_hook_name,
};

fn by_model_hook_name(l: &Ledger, a: &Row, b: &Row) -> std::cmp::Ordering {
    let key = |r: &Row| ["model", "hook", "name"].map(|c| r[l.col(c)].clone());
    key(a).cmp(&key(b))
}

/// One SAE of a sweep manifest.
#[derive(Clone, Debug)]
pub struct SweepEntry {
    pub name: String,
    /// The host: its folder, what the output calls it, and its training tokens when known.
    pub model: PathBuf,
    pub model_name: String,
    pub host_tokens: Option<f64>,
    /// The host's line in the family manifest, when one names it.
    pub host_line: Option<u64>,
    pub sae: PathBuf,
    /// The manifest's hook, else the SAE cfg.json's.
    pub hook: Hook,
    /// Line in the manifest (1: the header).
    pub line: u64,
}

/// Everything a sweep needs.
#[derive(Clone, Debug)]
pub struct SweepJob {
    pub manifest: PathBuf,
    /// `ceq eval-family`'s manifest, naming the hosts.
    pub family: Option<PathBuf>,
    pub tokens_per_step: Option<f64>,
    pub scoring: Scoring,
    pub param_count: ParamCount,
    pub shard: Option<Shard>,
    pub out: PathBuf,
}

/// What a finished sweep did.
#[derive(Clone, Debug)]
pub struct SweepSummary {
    pub evaluated: usize,
    pub skipped: usize,
    /// Rows kept from an older ceq's file, which recorded none of their inputs.
    pub unrecorded: usize,
    pub rows: usize,
    pub seconds: f64,
}

impl std::fmt::Display for SweepSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} SAE(s) evaluated in {:.1} s, {} already there; {} row(s)",
            self.evaluated, self.seconds, self.skipped, self.rows
        )?;
        super::family::unrecorded_note(f, self.unrecorded)
    }
}

/// Reads a sweep manifest, resolving hosts against the family's checkpoints when given; also
/// returns the warning on columns it does not read.
pub fn read_sweep(
    path: &Path,
    family: Option<&[Entry]>,
) -> Result<(Vec<SweepEntry>, Option<String>)> {
    let t = RawTable::read(path)?;
    let hint = "a sweep manifest has columns name,model,sae and optionally hook";
    let (i_name, i_model, i_sae) = (
        t.require("name", hint)?,
        t.require("model", hint)?,
        t.require("sae", hint)?,
    );
    let i_hook = t.find("hook");
    let why = "a row's host and SAE come from their folders, its loss from the eval";
    let unread =
        super::family::unread_columns(path, &t.headers, &["name", "model", "sae", "hook"], why);
    let base = path.parent().unwrap_or(Path::new(""));
    let mut out: Vec<SweepEntry> = vec![];
    let mut configs: HashMap<PathBuf, ModelConfig> = HashMap::new();
    // Each host name's folder (resolved) and the first row on it.
    let mut hosts: HashMap<String, (PathBuf, usize)> = HashMap::new();
    for row in t.records() {
        let line = row.line;
        let seen = out.iter().map(|e| (e.name.as_str(), e.line));
        let name = row.unique_name(i_name, seen)?;
        let sae = row.folder(i_sae, &name)?;
        let (model, model_name, host_tokens, host_line) =
            host(base, row.raw(i_model), family).map_err(|m| row.error(i_model, m))?;
        // Without a hook column the error points at the SAE's column.
        let i_h = i_hook.unwrap_or(i_sae);
        let hook_text = match row.text(i_hook) {
            h if !h.is_empty() => h,
            _ => (super::sae::configured_hook(&sae))
                .map_err(|e| row.error(i_sae, format!("'{name}': {e}")))?
                .ok_or_else(|| {
                    let msg = format!(
                        "'{name}': the SAE's cfg.json names no hook; give one in a hook column"
                    );
                    row.error(i_h, msg)
                })?,
        };
        let hook = Hook::parse(&hook_text).map_err(|e| row.error(i_h, format!("'{name}': {e}")))?;
        // Said here, with the line, rather than when the host is reached, maybe hours in.
        if !configs.contains_key(&model) {
            let cfg = ModelConfig::read(&model)
                .map_err(|e| row.error(i_model, format!("'{name}': {e}")))?;
            // Another host reading the tokens otherwise would score other positions under the
            // same eval_tokens label: said here, before any evaluation.
            if let Some(first) = out.first()
                && let Some(differs) = configs[&first.model].reads_tokens_unlike(&cfg)
            {
                let msg = format!(
                    "'{}' (line {}) and '{name}' (line {line}) are on hosts that read tokens \
                     differently ({differs}); a sweep is measured on one token set: sweep them \
                     apart",
                    first.name, first.line
                );
                return Err(row.error(i_model, msg));
            }
            configs.insert(model.clone(), cfg);
        }
        // Rows are told apart by their host's name: two folders of one name (run1/final,
        // run2/final) would be one host in every output.
        let real = model.canonicalize().unwrap_or_else(|_| model.clone());
        let first = hosts
            .entry(model_name.clone())
            .or_insert((real.clone(), out.len()));
        if first.0 != real {
            let e = &out[first.1];
            let msg = format!(
                "'{name}' is on {}, and '{}' (line {}) on {}: two hosts both named '{model_name}', \
                 which no output could tell apart; name the checkpoints in a family manifest (the \
                 one eval-family reads), or rename a folder",
                model.display(),
                e.name,
                e.line,
                e.model.display()
            );
            return Err(row.error(i_model, msg));
        }
        if let Some(why) = configs[&model].hook_missing(&hook) {
            let msg = format!("'{name}': {why} ({})", model.display());
            return Err(row.error(i_h, msg));
        }
        out.push(SweepEntry {
            name,
            model,
            model_name,
            host_tokens,
            host_line,
            sae,
            hook,
            line,
        });
    }
    Ok((out, unread))
}

/// A host: with a family, a checkpoint's name (or its folder); else a folder. Returns the folder,
/// its name for the output, and its training tokens and line when the family gives them.
type Host = (PathBuf, String, Option<f64>, Option<u64>);
fn host(base: &Path, text: &str, family: Option<&[Entry]>) -> std::result::Result<Host, String> {
    if let Some(family) = family {
        let dir = base.join(text);
        let same = |e: &&Entry| {
            e.name == text
                || (dir.canonicalize().ok()).is_some_and(|d| e.dir.canonicalize().ok() == Some(d))
        };
        return match family.iter().find(same) {
            Some(e) => Ok((e.dir.clone(), e.name.clone(), Some(e.tokens), Some(e.line))),
            None => Err(format!(
                "model '{text}' is neither a checkpoint name nor a folder of the family manifest"
            )),
        };
    }
    let dir = base.join(text);
    if !dir.is_dir() {
        return Err(format!(
            "no model folder {}: the model column names a folder relative to this manifest, or, \
             where a family manifest is given, one of its checkpoints",
            dir.display()
        ));
    }
    let name = dir
        .file_name()
        .map_or_else(|| text.to_owned(), |n| n.to_string_lossy().into_owned());
    Ok((dir, name, None, None))
}

/// What a sweep's manifests give one shard.
struct Groups {
    /// This shard's SAEs, grouped by (model, hook) in order of first appearance (a shard takes
    /// every n-th group).
    mine: Vec<Vec<SweepEntry>>,
    /// The folders of the whole sweep's models and SAEs.
    dirs: Vec<PathBuf>,
    /// What the family manifest holds that is not used.
    warnings: Vec<String>,
    /// The tokens per step, where a host's tokens come from them.
    tokens_per_step: Option<f64>,
}

impl SweepJob {
    /// Reads the manifests, and groups this shard's SAEs by host and hook.
    fn groups(&self) -> Result<Groups> {
        let (family, mut warnings) = match &self.family {
            Some(f) => {
                let (entries, warnings) = read_manifest(f, self.tokens_per_step)?;
                (Some(entries), warnings)
            }
            None => (None, vec![]),
        };
        let tokens_per_step =
            tokens_per_step_used(family.as_deref().unwrap_or_default(), self.tokens_per_step);
        let (entries, unread) = read_sweep(&self.manifest, family.as_deref())?;
        warnings.extend(unread);
        let dirs = entries
            .iter()
            .flat_map(|e| [e.model.clone(), e.sae.clone()]);
        let dirs: Vec<PathBuf> = dirs.collect();
        let mut groups: Vec<Vec<SweepEntry>> = vec![];
        for e in entries {
            match groups
                .iter_mut()
                .find(|g| g[0].model == e.model && g[0].hook == e.hook)
            {
                Some(g) => g.push(e),
                None => groups.push(vec![e]),
            }
        }
        let shard = self.shard.unwrap_or(Shard { index: 0, count: 1 });
        let mine = groups.into_iter().skip(shard.index).step_by(shard.count);
        Ok(Groups {
            mine: mine.collect(),
            dirs,
            warnings,
            tokens_per_step,
        })
    }

    /// Evaluates every SAE not yet in the output, saving after each (model, hook) group.
    pub fn run(&self, progress: &mut dyn FnMut(Progress)) -> Result<SweepSummary> {
        let out = super::record::results_path(&self.out);
        if out != self.out {
            return Self {
                out,
                ..self.clone()
            }
            .run(progress);
        }
        let what = "a splices file as CSV (its per-sequence .npy files beside it)";
        crate::io::check_extension(&self.out, "csv", what)?;
        let Groups {
            mine: groups,
            dirs,
            warnings,
            tokens_per_step,
        } = self.groups()?;
        for w in warnings {
            progress(Progress::Warning(w));
        }
        let mut inputs: Vec<&Path> = vec![&self.manifest];
        inputs.extend(self.family.as_deref());
        inputs.extend(self.scoring.tokens.inputs());
        for e in groups.iter().flatten() {
            inputs.extend([e.model.as_path(), e.sae.as_path()]);
        }
        let _lock = super::record::RunLock::claim(&self.out, &inputs)?;

        // The token set as every row names it, read with the first host's config.
        let dirs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        let count = self.param_count;
        let mut job = job_settings(&self.manifest, &dirs, count, tokens_per_step)?;
        let family = self.family.as_deref().map(super::shard::content_id);
        job.insert(
            "family".into(),
            family.transpose()?.unwrap_or("none".into()),
        );
        let Some(first) = groups.first().map(|g| &g[0]) else {
            // More shards than (model, hook) groups (a Slurm array sized ahead): this one has
            // none, and says so with an empty file and its record, so that merging every shard
            // is complete. What is at --out is checked first, as a resume would: only an empty
            // shard's file is replaced, and the tokens are read as every shard reads them.
            let host = dirs.first().map(|d| ModelConfig::read(d)).transpose()?;
            let eval_tokens = match host {
                Some(cfg) => self.scoring.describe(&self.scoring.read_tokens(&cfg)?),
                None => String::new(),
            };
            let engine = self.scoring.device.describe();
            LEDGER.resume(&self.out, &eval_tokens, &engine, &HashMap::new(), |row| {
                let name = &row[LEDGER.col("name")];
                Some(format!(
                    "'{name}' is not this shard's: it has no (model, hook) group to evaluate"
                ))
            })?;
            record_shard(&self.out, self.shard, vec![], &job)?;
            let mut record = RunRecord {
                finished: true,
                ..RunRecord::default()
            };
            LEDGER.write(&self.out, &[], &PerSeq::new(), &PerSeq::new(), &mut record)?;
            return Ok(SweepSummary {
                evaluated: 0,
                skipped: 0,
                unrecorded: 0,
                rows: 0,
                seconds: 0.0,
            });
        };
        let tokens = self
            .scoring
            .read_tokens(&ModelConfig::read(&first.model)?)?;
        let eval_tokens = self.scoring.describe(&tokens);
        let engine = self.scoring.device.describe();
        let by_name: HashMap<&str, &SweepEntry> = groups
            .iter()
            .flatten()
            .map(|e| (e.name.as_str(), e))
            .collect();
        // The batch the metrics are computed in: never more than the sequences.
        let batch = self.scoring.batch.get().min(tokens.n_seq);
        // What each SAE's row is measured from: its host's and its own weights and config as now.
        let now = by_name
            .iter()
            .map(|(name, e)| Ok((name.to_string(), identify(&self.out, &[&e.model, &e.sae])?)))
            .collect::<Result<HashMap<_, _>>>()?;
        let resumed = LEDGER.resume(&self.out, &eval_tokens, &engine, &now, |row| {
            // Rows of another batch size would mix two versions of the per-batch metrics.
            let was = row[LEDGER.col("batch")].parse::<usize>().ok();
            let name = &row[LEDGER.col("name")];
            let other = match was {
                // Rows written before the batch was recorded as run kept the size given.
                Some(b) if b.min(tokens.n_seq) == batch => None,
                Some(b) => Some(format!(
                    "'{name}' was measured in batches of {b} sequences, this run of {batch} (rerun \
                     in batches of {b} to resume it)"
                )),
                None => Some(format!(
                    "'{name}' was measured by a ceq that did not record its batch size"
                )),
            };
            other.or_else(|| differs(row, &by_name, self.param_count, self.family.as_deref()))
        })?;
        resumed.tell(&self.out, &eval_tokens, progress);
        let file_tokens = resumed.eval_tokens.clone();
        let (mut rows, mut per_seq) = (resumed.rows, resumed.per_seq);
        let names: Vec<String> = groups.iter().flatten().map(|e| e.name.clone()).collect();
        let mut record = RunRecord::start(&self.out, (self.shard, &job), names, resumed.inputs)?;
        let done: Vec<String> = rows.iter().map(|r| r[LEDGER.col("name")].clone()).collect();
        let skipped = done.len();
        // How many positions each sequence scores follows from the tokens and the host's special
        // ids alone: every row gets them, those resumed from an older file without them included.
        let mut host_counts: HashMap<PathBuf, Vec<f64>> = HashMap::new();
        let mut count_of = |e: &SweepEntry| -> Result<Vec<f64>> {
            if !host_counts.contains_key(&e.model) {
                let cfg = ModelConfig::read(&e.model)?;
                let n = super::runner::scored_per_seq(
                    &tokens,
                    &cfg.special_ids,
                    self.scoring.keep_special,
                );
                host_counts.insert(e.model.clone(), n);
            }
            Ok(host_counts[&e.model].clone())
        };
        let mut counts = PerSeq::new();
        for name in &done {
            counts.insert(name.clone(), count_of(by_name[name.as_str()])?);
        }

        // Pending SAEs by model, in group order, so each model loads once.
        let mut by_model: Vec<(PathBuf, Vec<&SweepEntry>)> = vec![];
        for e in groups.iter().flatten().filter(|e| !done.contains(&e.name)) {
            match by_model.iter_mut().find(|(m, _)| *m == e.model) {
                Some((_, v)) => v.push(e),
                None => by_model.push((e.model.clone(), vec![e])),
            }
        }
        let start = Instant::now();
        let mut evaluated = 0;
        for (model, entries) in &by_model {
            let job = EvalJob {
                model: model.clone(),
                saes: entries
                    .iter()
                    .map(|e| SaeSpec {
                        dir: e.sae.clone(),
                        hook: Some(e.hook),
                        name: Some(e.name.clone()),
                        listed: Some((self.manifest.clone(), e.line)),
                    })
                    .collect(),
                scoring: self.scoring.clone(),
                model_name: Some(entries[0].model_name.clone()),
                param_count: self.param_count,
                host_tokens: entries[0].host_tokens,
            };
            job.run_groups(progress, &mut |report| {
                for r in &report.rows {
                    let e = entries[r.index];
                    let mut row = report.csv_row(r);
                    if report.eval_tokens != eval_tokens {
                        return Err(mismatch(
                            e.model.clone(),
                            format!(
                                "'{}' reads the tokens as {}, the sweep's first host as \
                                 {eval_tokens}; a sweep is measured on one token set",
                                e.name, report.eval_tokens
                            ),
                        ));
                    }
                    row[LEDGER.col("eval_tokens")] = file_tokens.clone();
                    let mut both = r.result.per_seq_clean.clone();
                    both.extend(&r.result.per_seq_spliced);
                    per_seq.insert(e.name.clone(), both);
                    counts.insert(e.name.clone(), count_of(e)?);
                    record.inputs.insert(e.name.clone(), now[&e.name].clone());
                    rows.push(row);
                    evaluated += 1;
                }
                // Saved now, so an interrupted sweep keeps every finished group.
                LEDGER.write(&self.out, &rows, &per_seq, &counts, &mut record)
            })?;
        }
        record.finished = true;
        if by_model.is_empty() && !LEDGER.counts_written(&self.out, &rows, &counts) {
            LEDGER.write(&self.out, &rows, &per_seq, &counts, &mut record)?;
        } else {
            LEDGER.write_record(&self.out, &rows, &mut record)?;
        }
        Ok(SweepSummary {
            evaluated,
            skipped,
            unrecorded: resumed.unrecorded,
            rows: rows.len(),
            seconds: start.elapsed().as_secs_f64(),
        })
    }
}

/// What differs between a row already in the output and this sweep's SAE of its name: its model
/// or hook, the parameter count its params column holds, or its host's training tokens (as
/// eval-family checks its own rows, so a map of the file never mixes two counts or two manifests).
fn differs(
    row: &Row,
    entries: &HashMap<&str, &SweepEntry>,
    count: ParamCount,
    family: Option<&Path>,
) -> Option<String> {
    let was = |c: &str| row[LEDGER.col(c)].as_str();
    let name = was("name");
    let Some(e) = entries.get(name) else {
        return Some(format!(
            "'{name}' is not an SAE this manifest (and shard) evaluates"
        ));
    };
    if was("model") != e.model_name || was("hook") != e.hook.to_string() {
        return Some(format!(
            "'{name}': model or hook differ from the manifest's line {}",
            e.line
        ));
    }
    if let Some(d) = params_differ(name, |c| was(c).to_owned(), count, "the host's ") {
        return Some(d);
    }
    let tokens = was("tokens");
    let same = match e.host_tokens {
        None => tokens.is_empty(),
        Some(t) => tokens.parse::<f64>().ok() == Some(t),
    };
    (!same).then(|| {
        let then = if tokens.is_empty() { "none" } else { tokens };
        match (e.host_tokens, e.host_line, family) {
            (Some(t), Some(l), Some(f)) => format!(
                "'{name}': its host '{}' trained on {then} tokens as the row says, on {} as {} \
                 line {l} says now",
                e.model_name,
                crate::export::exact(t),
                f.display()
            ),
            _ => format!(
                "'{name}': the row gives its host '{}' {then} training tokens, but this run has \
                 no family manifest to give them",
                e.model_name
            ),
        }
    })
}
