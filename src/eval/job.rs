//! One `ceq eval` run as a library call: a validated [`EvalJob`] (model, SAEs, tokens, hook, batch,
//! backend) runs every SAE on the model and returns an [`EvalReport`], whose [`EvalReport::table`]
//! has the columns [`crate::schema::EVAL`] declares. Front ends only parse options, show progress
//! and write the table.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;

use super::runner::{EvalOptions, EvalResult, clean_hidden, evaluate_group, scored_positions};
use super::sae::Sae;
use super::tokens::Tokens;
use super::{DeviceSpec, Hook, ModelConfig, Transformer};
use crate::error::{DataKind, Error, Result};
use crate::export::{Cell, Format, Table};
use crate::law_file::ParamCount;
use crate::progress::Progress;
use crate::schema::EVAL;
use crate::table::loss_recovered;

/// Where the token ids come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A `.npy` integer array [n_seq, ctx].
    Npy(PathBuf),
    /// A text file tokenized with a `tokenizer.json` and cut into rows of `ctx` (each starting with
    /// the model's BOS, when it has one).
    Text {
        text: PathBuf,
        tokenizer: PathBuf,
        ctx: usize,
    },
}

impl TokenSource {
    /// A `.npy` file, else a text file with its tokenizer and row length; `None` without either.
    pub fn new(
        npy: Option<PathBuf>,
        text: Option<PathBuf>,
        tokenizer: Option<PathBuf>,
        ctx: Option<usize>,
    ) -> Option<TokenSource> {
        match (npy, text, tokenizer, ctx) {
            (Some(p), ..) => Some(TokenSource::Npy(p)),
            (None, Some(text), Some(tokenizer), Some(ctx)) => Some(TokenSource::Text {
                text,
                tokenizer,
                ctx,
            }),
            _ => None,
        }
    }

    /// The file the ids come from, as the table's `eval_tokens` names it.
    pub fn path(&self) -> &Path {
        match self {
            TokenSource::Npy(p) => p,
            TokenSource::Text { text, .. } => text,
        }
    }

    /// Every file read for the tokens.
    pub fn inputs(&self) -> Vec<&Path> {
        match self {
            TokenSource::Npy(p) => vec![p],
            TokenSource::Text {
                text, tokenizer, ..
            } => vec![text, tokenizer],
        }
    }

    pub(crate) fn read(&self, bos: Option<u32>) -> Result<Tokens> {
        match self {
            TokenSource::Npy(p) => Tokens::read_npy(p),
            TokenSource::Text {
                text,
                tokenizer,
                ctx,
            } => Tokens::from_text(text, tokenizer, *ctx, bos),
        }
    }
}

/// Everything one evaluation needs.
#[derive(Clone, Debug)]
pub struct EvalJob {
    /// Model folder (Hugging Face layout).
    pub model: PathBuf,
    pub saes: Vec<SaeSpec>,
    pub scoring: Scoring,
    /// What the host is called in the output; `None`: its folder's name.
    pub model_name: Option<String>,
    /// Which count `params` holds.
    pub param_count: ParamCount,
    /// The host's training tokens, when known (from a family manifest).
    pub host_tokens: Option<f64>,
}

/// One SAE to splice.
#[derive(Clone, Debug)]
pub struct SaeSpec {
    /// SAE folder (SAELens layout).
    pub dir: PathBuf,
    /// Where to splice it; `None`: where its cfg.json says.
    pub hook: Option<Hook>,
    /// The row's name; `None`: the folder's (a sweep manifest names each row itself).
    pub name: Option<String>,
    /// Where the SAE is listed (a sweep manifest and its line), for its errors: found maybe
    /// hours into a sweep, they name the row to fix.
    pub listed: Option<(PathBuf, u64)>,
}

impl SaeSpec {
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| folder_name(&self.dir))
    }

    /// `e`, said as this SAE's row where it is listed.
    fn within(&self, e: Error) -> Error {
        match &self.listed {
            Some((path, line)) => Error::Listed {
                path: path.clone(),
                line: *line,
                name: self.name(),
                source: Box::new(e),
            },
            None => e,
        }
    }
}

/// Which tokens are scored, on which backend: what every evaluation (`ceq eval`, `ceq
/// eval-family`) shares, so their numbers are measured the same way.
#[derive(Clone, Debug)]
pub struct Scoring {
    pub tokens: TokenSource,
    /// Sequences per batch.
    pub batch: NonZeroUsize,
    pub device: DeviceSpec,
    /// Also splice and score positions holding BOS/EOS/pad.
    pub keep_special: bool,
    /// MiB of activations kept between passes instead of recomputed (see
    /// [`EvalOptions::cache_bytes`]).
    pub cache_mb: usize,
}

impl Scoring {
    /// The token ids, checked against a model's vocabulary and positions; at least one position
    /// must be scored, since means over none are NaN.
    pub(crate) fn read_tokens(&self, cfg: &ModelConfig) -> Result<Tokens> {
        let tokens = self.tokens.read(cfg.bos_id)?;
        tokens.check(self.tokens.path(), cfg.vocab, cfg.max_positions)?;
        if scored_positions(&tokens, &cfg.special_ids, self.keep_special) == 0 {
            return Err(Error::Data {
                kind: DataKind::Tokens,
                path: self.tokens.path().to_owned(),
                message: format!(
                    "no position is scored: every position but the last of each row holds a \
                     special token (BOS/EOS/pad ids {:?} of the model's config.json), which are \
                     left out; keep them, or give tokens with text in them",
                    cfg.special_ids
                ),
            });
        }
        Ok(tokens)
    }

    pub(crate) fn options(&self) -> EvalOptions {
        EvalOptions {
            batch: self.batch.get(),
            keep_special: self.keep_special,
            // The fused host pass is faster on the pure-Rust CPU backend only (see EvalOptions).
            host_kernels: self.device == DeviceSpec::Flex,
            chunk: 0,
            cache_bytes: self.cache_mb.saturating_mul(1 << 20),
        }
    }

    /// The token set as outputs name it: the file's name, FNV-1a 64 of the ids (so two files of
    /// the same ids match and a changed file does not), and which positions count.
    pub(crate) fn describe(&self, tokens: &Tokens) -> String {
        let path = self.tokens.path();
        let file = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let hash = super::family::token_hash(tokens);
        format!("{file} fnv1a64:{hash:016x} ({})", self.policy())
    }

    /// Which positions count, for outputs.
    pub(crate) fn policy(&self) -> &'static str {
        if self.keep_special {
            "all positions"
        } else {
            "BOS/EOS/pad positions left out"
        }
    }
}

/// One SAE's results.
#[derive(Clone, Debug)]
pub struct EvalRow {
    /// Where the SAE is in the job's list.
    pub index: usize,
    /// The SAE's folder name.
    pub name: String,
    pub hook: Hook,
    pub architecture: &'static str,
    pub d_sae: usize,
    pub result: EvalResult,
}

/// The results of an [`EvalJob`]: one row per SAE and what every row shares.
#[derive(Clone, Debug)]
pub struct EvalReport {
    /// The model's folder name.
    pub model: String,
    /// The model's parameters, as the job's count says.
    pub params: usize,
    /// Which count `params` is, in words.
    pub params_counted: &'static str,
    /// Both counts, so a law counting N the other way gets the host's compute in its own count.
    pub params_total: usize,
    pub params_non_embedding: usize,
    /// The host's training tokens, when known.
    pub tokens: Option<f64>,
    /// The token file and which positions count.
    pub eval_tokens: String,
    /// The burn backend that computed the numbers.
    pub engine: String,
    /// Sequences per batch: SAEBench's per-batch metrics depend on it.
    pub batch: usize,
    /// Token positions per SAE (n_seq × ctx).
    pub positions: usize,
    /// Wall-clock seconds for all SAEs.
    pub seconds: f64,
    pub rows: Vec<EvalRow>,
}

impl EvalReport {
    /// One line on how long the evaluation took, for a log.
    pub fn timing(&self) -> String {
        let total = self.positions * self.rows.len();
        format!(
            "{} SAE(s) on {} tokens in {:.2} s ({:.0} tokens/s, all four conditions)",
            self.rows.len(),
            self.positions,
            self.seconds,
            total as f64 / self.seconds
        )
    }
}

/// What to do about an SAE whose cfg.json leaves TransformerLens's centring of GPT-2 unstated.
fn center_unstated(dir: &Path) -> String {
    format!(
        "{}: cfg.json names gpt2-small as its host but has no model_from_pretrained_kwargs. If this \
         SAE is from SAELens's gpt2-small-res-jb, gpt2-small-res-jb-feature-splitting or \
         gpt2-small-mlp-tm (trained with centred writing weights, though their cfg.json on the \
         Hub does not say so), add \"model_from_pretrained_kwargs\": {{\"center_writing_weights\": \
         true}} to it, or its ce_spliced is wrong; for any other SAE, add \
         \"model_from_pretrained_kwargs\": {{}} to say the host was not centred",
        dir.join("cfg.json").display()
    )
}

/// A warning where an SAE's cfg.json names another model than the one the host's config.json was
/// saved from (`_name_or_path`): pythia-70m and pythia-70m-deduped share every shape, so no other
/// check tells them apart. Names are compared without their organisation, in lower case, with
/// TransformerLens's gpt2-small read as gpt2; a host saved from a local path is not compared.
fn other_host(sae: &Sae, host: Option<&str>, dir: &Path) -> Option<String> {
    let (trained, host) = (sae.model_name.as_deref()?, host?);
    if host.starts_with(['/', '.', '~']) || host.contains('\\') || host.matches('/').count() > 1 {
        return None;
    }
    let key = |n: &str| match n.rsplit('/').next().unwrap_or(n).to_lowercase() {
        n if n == "gpt2-small" => "gpt2".to_owned(),
        n => n,
    };
    (key(trained) != key(host)).then(|| {
        format!(
            "{}: trained on {trained} (its model_name), spliced into {} saved from {host} (its \
             config.json's _name_or_path): if these are different models, ce_spliced measures a \
             transfer, not the SAE on the host it was trained for",
            sae.path.join("cfg.json").display(),
            dir.display()
        )
    })
}

pub(crate) fn folder_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

impl EvalJob {
    /// Every file the job reads, so no output is written over one of them. The model's and the
    /// SAEs' folders stand for every file in them (config, weights, shards, index, tokenizer, …):
    /// [`crate::io::check_not_input`] refuses any output inside an input folder.
    pub fn inputs(&self) -> Vec<&Path> {
        let mut v: Vec<&Path> = vec![&self.model];
        v.extend(self.scoring.tokens.inputs());
        v.extend(self.saes.iter().map(|s| s.dir.as_path()));
        v
    }

    /// The host's name in outputs: as given, else its folder's.
    fn name(&self) -> String {
        self.model_name
            .clone()
            .unwrap_or_else(|| folder_name(&self.model))
    }

    /// Loads the model, tokens and SAEs, then evaluates the SAEs hook by hook: the SAEs at one
    /// hook share the layers before it and the clean and ablated continuations
    /// ([`evaluate_group`]); with several hooks the clean final hidden states are shared too, when
    /// they fit the cache budget. Rows come in the order the SAEs were given.
    pub fn run(&self, progress: &mut dyn FnMut(Progress)) -> Result<EvalReport> {
        self.run_groups(progress, &mut |_| Ok(()))
    }

    /// [`EvalJob::run`], handing each hook's rows to `done` as soon as they are measured (a
    /// report holding only them), so a caller can save them before the next hook starts.
    pub fn run_groups(
        &self,
        progress: &mut dyn FnMut(Progress),
        done: &mut dyn FnMut(&EvalReport) -> Result<()>,
    ) -> Result<EvalReport> {
        if let Some(t) = self.host_tokens
            && !(t.is_finite() && t >= 1.0 && t.fract() == 0.0)
        {
            return Err(Error::Invalid {
                fix: None,
                option: "trained tokens",
                message: format!("the host's training tokens, {t}, must be a whole count ≥ 1"),
            });
        }
        // Map keys its rows, notes and per-sequence files by name.
        for (i, a) in self.saes.iter().enumerate() {
            let name = a.name();
            if let Some(b) = self.saes[..i].iter().find(|b| b.name() == name) {
                return Err(Error::Invalid {
                    fix: None,
                    option: "saes",
                    message: format!(
                        "{} and {} are both named '{name}' (the folder's name names the row): \
                         give each SAE its own folder name, or list them in a sweep manifest, \
                         which names each row",
                        b.dir.display(),
                        a.dir.display()
                    ),
                });
            }
        }
        let sc = &self.scoring;
        let device = sc.device.device()?;
        let model = Transformer::load(&self.model, &device)?;
        let tokens = sc.read_tokens(&model.cfg)?;
        let positions = tokens.n_seq * tokens.ctx;
        // Grouped by hook from the cfg.json files alone; each group's SAEs are loaded when it
        // starts, so memory holds one group's weights, not the whole sweep's.
        let mut groups: Vec<(Hook, Vec<usize>)> = vec![];
        for (i, spec) in self.saes.iter().enumerate() {
            let hook = hook_for(spec, &device).map_err(|e| spec.within(e))?;
            model.check_hook(&hook, &self.model)?;
            if let Some(w) = hook_override(spec).map_err(|e| spec.within(e))? {
                progress(Progress::Warning(w));
            }
            match groups.iter_mut().find(|(h, _)| *h == hook) {
                Some((_, members)) => members.push(i),
                None => groups.push((hook, vec![i])),
            }
        }
        progress(Progress::Stage {
            name: format!("eval {} (token positions)", self.name()),
            total: positions * self.saes.len(),
        });
        let options = sc.options();
        let start = Instant::now();
        let clean = if groups.len() > 1 {
            clean_hidden(&model, &tokens, &options, &device, options.cache_bytes / 4)
        } else {
            None
        };
        let params_non_embedding = model.n_params_non_embedding();
        let params = self.param_count.of(model.n_params, params_non_embedding);
        let params_counted = self.param_count.of(
            "total parameters (embeddings included)",
            "non-embedding parameters (without token/position embeddings and an untied unembedding)",
        );
        let report = |rows: Vec<EvalRow>| EvalReport {
            model: self.name(),
            params,
            params_counted,
            params_total: model.n_params,
            params_non_embedding,
            tokens: self.host_tokens,
            eval_tokens: sc.describe(&tokens),
            engine: sc.device.describe(),
            // A batch is never larger than the token set: the size the metrics were computed in.
            batch: sc.batch.get().min(tokens.n_seq),
            positions,
            seconds: start.elapsed().as_secs_f64(),
            rows,
        };
        let mut results: Vec<Option<EvalRow>> = vec![None; self.saes.len()];
        for (hook, members) in &groups {
            let names: Vec<String> = members.iter().map(|&i| self.saes[i].name()).collect();
            progress(Progress::Item(format!("{hook}: {}", names.join(", "))));
            let saes: Vec<Sae> = members
                .iter()
                .map(|&i| self.load_sae(&self.saes[i], *hook, &model, &device))
                .collect::<Result<_>>()?;
            for (&i, sae) in members.iter().zip(&saes) {
                if sae.center_unstated && model.layer_norm() {
                    progress(Progress::Warning(center_unstated(&self.saes[i].dir)));
                }
                if let Some(w) = other_host(sae, model.cfg.name_or_path.as_deref(), &self.model) {
                    progress(Progress::Warning(w));
                }
            }
            let group: Vec<&Sae> = saes.iter().collect();
            let got = evaluate_group(
                &model,
                *hook,
                &group,
                &tokens,
                &options,
                clean.as_ref(),
                &device,
                &mut |n| progress(Progress::Advance(n)),
            );
            let mut rows = vec![];
            for ((&i, result), sae) in members.iter().zip(got).zip(&saes) {
                let spec = &self.saes[i];
                self.check_finite(spec, *hook, &result)?;
                rows.push(EvalRow {
                    index: i,
                    name: spec.name(),
                    hook: *hook,
                    architecture: sae.kind.name(),
                    d_sae: sae.d_sae,
                    result,
                });
            }
            done(&report(rows.clone()))?;
            for (&i, row) in members.iter().zip(rows) {
                results[i] = Some(row);
            }
        }
        Ok(report(results.into_iter().flatten().collect()))
    }

    /// Loads an SAE to splice at `hook`, checking its width against the model's.
    fn load_sae(
        &self,
        spec: &SaeSpec,
        hook: Hook,
        model: &Transformer,
        device: &Device,
    ) -> Result<Sae> {
        let dir = &spec.dir;
        let mut sae = Sae::load(dir, device).map_err(|e| spec.within(e))?;
        // TransformerLens centres writing weights only in models with LayerNorm (it skips the
        // option, with a warning, for RMSNorm ones): the SAE saw the raw activations there.
        sae.center_input &= model.layer_norm();
        if sae.d_in != model.cfg.d_model {
            return Err(spec.within(Error::Data {
                kind: DataKind::Mismatch,
                path: dir.to_owned(),
                message: format!(
                    "the SAE's d_in is {}, but {hook} of {} has width {}",
                    sae.d_in,
                    self.model.display(),
                    model.cfg.d_model
                ),
            }));
        }
        Ok(sae)
    }

    /// The model's own conditions name the model (and the hook, for an ablation); the SAE's
    /// name its folder, and its row where it is listed: a row's own fix.
    fn check_finite(&self, spec: &SaeSpec, hook: Hook, result: &EvalResult) -> Result<()> {
        let Some(metric) = result.non_finite() else {
            return Ok(());
        };
        // The weights are finite (checked on load), so the activations overflowed f32.
        let (what, why) = match metric {
            "ce_clean" => ("the model's own logits".into(), ""),
            // A zeroed residual stream divides 0 by 0 in a norm whose epsilon is 0.
            "ce_zero_ablation" => (
                format!("the model with {hook} zeroed"),
                " or a norm's epsilon of 0 divides a zeroed stream by 0",
            ),
            "ce_mean_ablation" => (format!("the model with {hook} set to its mean"), ""),
            _ => {
                let e = non_finite(&spec.dir, metric, "the SAE's reconstruction spliced in", "");
                return Err(spec.within(e));
            }
        };
        Err(non_finite(&self.model, metric, &what, why))
    }
}

/// An overflow error: `metric` of `what`, found in `path`.
fn non_finite(path: &Path, metric: &str, what: &str, why: &str) -> Error {
    Error::Data {
        kind: DataKind::NonFinite,
        path: path.to_owned(),
        message: format!(
            "{metric} is not finite: {what} on these tokens hold NaN or infinite values (the \
             activations overflow f32{why})"
        ),
    }
}

/// The spec's hook, else the one the SAE folder names (read without its weights). Without one, the
/// SAE is loaded first, so a folder ceq cannot read says why in its own terms.
fn hook_for(spec: &SaeSpec, device: &Device) -> Result<Hook> {
    if let Some(h) = spec.hook {
        return Ok(h);
    }
    let in_cfg = |message: String| Error::Key {
        path: spec.dir.join("cfg.json"),
        key: "hook_name".into(),
        message,
    };
    let Some(name) = super::sae::configured_hook(&spec.dir)? else {
        Sae::load(&spec.dir, device)?;
        return Err(in_cfg(
            "cfg.json names no hook (hook_name or hook_point); name the hook to splice at explicitly"
                .into(),
        ));
    };
    Hook::parse(&name).map_err(|e| match e {
        Error::Invalid { message, .. } => in_cfg(message),
        other => other,
    })
}

/// A warning where a hook asked for is not the one the SAE's cfg.json says it was trained at: the
/// splice then replaces an activation the SAE never saw (allowed: a deliberate transfer).
fn hook_override(spec: &SaeSpec) -> Result<Option<String>> {
    let Some(asked) = spec.hook else {
        return Ok(None);
    };
    let trained = super::sae::configured_hook(&spec.dir)?;
    Ok(trained
        .filter(|name| Hook::parse(name).is_ok_and(|h| h != asked))
        .map(|name| {
            format!(
                "{}: trained at {name} (its cfg.json), spliced at {asked} as asked: its \
                 reconstruction replaces an activation it was not trained on",
                spec.dir.display()
            )
        }))
}

/// The columns of the table read on a terminal or in a paper (the model is in its title).
const SUMMARY: [&str; 10] = [
    "name",
    "hook",
    "d_sae",
    "n_tokens",
    "ce_clean",
    "ce_spliced",
    "loss_recovered",
    "kl",
    "l0",
    "explained_variance",
];

impl EvalReport {
    /// The table for a format: every column for files read by programs (CSV, JSON), the
    /// `SUMMARY` columns for people.
    pub fn table_for(&self, format: Format) -> Table {
        let full = self.table();
        if matches!(format, Format::Csv | Format::Json) {
            return full;
        }
        let keep: Vec<usize> = (SUMMARY.iter())
            .filter_map(|n| full.columns.iter().position(|c| c.name == *n))
            .collect();
        // The full table's notes speak of SEs, params and engine, none of them shown here: this
        // view's notes speak of its own columns and say where the rest is.
        let mut notes = vec![
            "CE and KL(clean || spliced) in nats per next-token position".to_owned(),
            format!("n_tokens: the positions scored, of {}", self.eval_tokens),
        ];
        notes.extend(self.undefined_note());
        notes.push(format!(
            "{} of the {} columns; the CSV and JSON hold every one, among them each CE's SE \
             (se_*, over per-sequence means), params ({}: {} {}) and engine (the burn backend \
             that computed the row, in f32)",
            keep.len(),
            full.columns.len(),
            self.model,
            self.params,
            self.params_counted,
        ));
        Table {
            title: full.title,
            columns: keep.iter().map(|&i| full.columns[i].clone()).collect(),
            rows: (full.rows.iter())
                .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
                .collect(),
            key: notes.len(),
            notes,
        }
    }

    /// Why loss_recovered is empty in some rows, if it is.
    fn undefined_note(&self) -> Option<String> {
        let undefined = (self.rows.iter())
            .filter(|r| r.result.ce_zero_ablation <= r.result.ce_clean)
            .count();
        (undefined > 0).then(|| {
            format!(
                "loss_recovered is empty for {undefined} row(s): zero ablation does not raise their \
                 CE above clean, so the ratio is undefined (ce_loss_score keeps SAEBench's formula)"
            )
        })
    }

    /// The results as a table: one row per SAE, in the columns the eval schema declares (a splices
    /// file `ceq map` reads, plus the evaluation's own metrics, which map passes through).
    pub fn table(&self) -> Table {
        let mut notes = vec![
            "CE and KL(clean || spliced) in nats per next-token position; SEs over per-sequence means".into(),
            format!("params: {} of {}", self.params_counted, self.model),
            "engine: the burn backend that computed the row, in f32".into(),
        ];
        notes.extend(self.undefined_note());
        Table {
            title: format!("SAEs spliced into {}", self.model),
            columns: EVAL.columns.iter().map(|c| EVAL.column(&c.name)).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| EVAL.columns.iter().map(|c| self.cell(r, &c.name)).collect())
                .collect(),
            key: notes.len(),
            notes,
        }
    }

    /// `row` as the CSV holds it, one string per column.
    pub fn csv_row(&self, row: &EvalRow) -> Vec<String> {
        EVAL.columns
            .iter()
            .map(|c| crate::export::csv_text(&self.cell(row, &c.name)))
            .collect()
    }

    /// The value of `column` in `row`.
    fn cell(&self, row: &EvalRow, column: &str) -> Cell {
        let text = |s: &str| Cell::Text(s.to_owned());
        let count = |n: usize| Cell::Count(n as u64);
        let r = &row.result;
        Cell::Num(match column {
            "name" => return text(&row.name),
            "model" => return text(&self.model),
            "hook" => return Cell::Text(row.hook.to_string()),
            "architecture" => return text(row.architecture),
            "eval_tokens" => return text(&self.eval_tokens),
            "engine" => return text(&self.engine),
            "d_sae" => return count(row.d_sae),
            "batch" => return count(self.batch),
            "params" => return count(self.params),
            "params_total" => return count(self.params_total),
            "params_non_embedding" => return count(self.params_non_embedding),
            "tokens" => return self.tokens.map_or(Cell::Empty, Cell::count),
            "n_tokens" => return count(r.n_tokens),
            "ce_clean" => r.ce_clean,
            "ce_spliced" => r.ce_spliced,
            "ce_zero_ablation" => r.ce_zero_ablation,
            "ce_mean_ablation" => r.ce_mean_ablation,
            "loss_recovered" => {
                let lr = loss_recovered(r.ce_clean, r.ce_spliced, Some(r.ce_zero_ablation));
                return lr.map_or(Cell::Empty, Cell::Num);
            }
            "kl" => r.kl,
            "l0" => r.l0,
            "explained_variance" => r.explained_variance,
            "mse" => r.mse,
            "cosine" => r.cosine,
            "se_ce_clean" => r.se_ce_clean,
            "se_ce_spliced" => r.se_ce_spliced,
            "se_ce_zero_ablation" => r.se_ce_zero_ablation,
            "se_ce_mean_ablation" => r.se_ce_mean_ablation,
            "se_delta" => r.se_delta,
            "kl_div_with_sae" => r.kl,
            "kl_div_with_ablation" => r.kl_div_with_ablation,
            "kl_div_score" => r.kl_div_score,
            "ce_loss_score" => r.ce_loss_score,
            "l2_norm_in" => r.l2_norm_in,
            "l2_norm_out" => r.l2_norm_out,
            "l2_ratio" => r.l2_ratio,
            "relative_reconstruction_bias" => r.relative_reconstruction_bias,
            "l1" => r.l1,
            "frac_alive" => r.frac_alive,
            "explained_variance_legacy" => r.explained_variance_legacy,
            // Every declared column has an arm; a new declaration without one is a bug in ceq.
            other => unreachable!("the eval table has no value for column '{other}'"),
        })
    }
}
