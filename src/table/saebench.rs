//! SAEBench core-eval results (adamkarvonen/SAEBench 0.6.0, `sae_bench/evals/core/`), one result JSON
//! or a folder of them, read into the same [`Splices`] a splices CSV gives: `ce_loss_without_sae` →
//! ce_clean, `ce_loss_with_sae` → ce_spliced, `ce_loss_with_ablation` → ce_zero_ablation, and the SAE,
//! model and hook from the file (`schema::SAEBENCH` names the key behind every column). SAEBench saves
//! NaN as -1 ("not computed"): ceq reads -1 as missing, never as a number.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::unique_keys::UniqueKeys;

use super::splices::{Source, Splice, Splices, disagrees, loss_recovered_as_written};
use crate::error::{DataKind, Error, Result};
use crate::schema::SAEBENCH;

const PERF: &str = "eval_result_metrics.model_performance_preservation";

/// Whether `path` names SAEBench results rather than a splices CSV: a folder, a `.json` file, or
/// a file under another name (not `.csv`) that holds a JSON object, as a result saved under a
/// `.txt` or no extension does (read as CSV it was said to be a malformed table).
pub fn is_saebench(path: &Path) -> bool {
    let ext = |x: &str| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(x));
    path.is_dir() || ext("json") || (!ext("csv") && holds_json_object(path))
}

/// Whether the file's first character (after white space and a byte-order mark) opens a JSON
/// object, which no CSV header does.
pub(super) fn holds_json_object(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)) else {
        return false;
    };
    let text = head[..n]
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&head[..n]);
    text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// SAEBench results: a folder's `*.json` files in name order (results of other SAEBench evals are
/// skipped, and listed in [`Source::SaeBench`]), or one file, which must be a core result.
pub fn read_saebench(path: &Path) -> Result<Splices> {
    let ((files, folders), folder) = if path.is_dir() {
        (json_files(path)?, true)
    } else {
        ((vec![path.to_owned()], vec![]), false)
    };
    let mut rows = vec![];
    let mut files_read: Vec<PathBuf> = vec![];
    let mut token_sets: Vec<String> = vec![];
    let mut row_sets = std::collections::HashMap::new();
    let mut skipped = folders;
    for f in &files {
        let r = ResultFile::read(f)?;
        match r.eval_type()? {
            EvalType::Core => {}
            EvalType::Other(t) if folder => {
                skipped.push((
                    f.clone(),
                    format!("a SAEBench '{t}' result, not a core result"),
                ));
                continue;
            }
            EvalType::Other(t) => return Err(not_core(f, &t)),
        }
        let set = r.token_set()?;
        let set = token_sets
            .iter()
            .position(|s| *s == set)
            .unwrap_or_else(|| {
                token_sets.push(set);
                token_sets.len() - 1
            });
        let splice = r.splice()?;
        // Every output row and note is keyed by the name: two results of one SAE (two runs of
        // SAEBench) would be two rows no reader could tell apart.
        if let Some(i) = rows.iter().position(|s: &Splice| s.name == splice.name) {
            return Err(Error::Data {
                kind: DataKind::Json,
                path: f.clone(),
                message: format!(
                    "a core result for '{}', as is {}: keep one result per SAE in the folder",
                    splice.name,
                    files_read[i].display()
                ),
            });
        }
        files_read.push(f.clone());
        row_sets.insert(splice.name.clone(), set);
        rows.push(splice);
    }
    if rows.is_empty() {
        return Err(Error::Data {
            kind: DataKind::Json,
            path: path.to_owned(),
            message: format!(
                "no SAEBench core result among its {} JSON files (SAEBench writes them to \
                 eval_results/core/)",
                files.len()
            ),
        });
    }
    let columns: Vec<String> = SAEBENCH.columns.iter().map(|c| c.name.clone()).collect();
    let extra_columns = columns
        .iter()
        .filter(|c| crate::schema::SPLICES.get(c).is_none())
        .cloned()
        .collect();
    let mut splices = Splices {
        path: path.to_owned(),
        name_index: 0,
        columns,
        extra_columns,
        rows,
        source: Source::Csv,
    };
    let clean_apart = clean_apart(&splices, &token_sets, &row_sets);
    splices.source = Source::SaeBench {
        token_sets,
        row_sets,
        skipped,
        clean_apart,
    };
    Ok(splices)
}

const EXCLUDE_SPECIAL: &str = "eval_config.exclude_special_tokens_from_reconstruction";
/// Added to the token-set label of a result spliced at BOS/EOS/pad positions too.
const SPLICED_AT_SPECIAL: &str = ", SAE spliced at special tokens too";
/// Added to the token-set label of a result without the key (an older SAEBench): either way.
const SPECIAL_UNKNOWN: &str = ", whether the SAE was spliced at special tokens not recorded";

/// What every output says of SAEBench CEs.
pub(crate) fn source_note(token_sets: &[String]) -> String {
    format!(
        "CEs from SAEBench core-eval results, on SAEBench's own eval tokens ({})",
        token_sets.join("; ")
    )
}

pub(crate) fn warnings(token_sets: &[String]) -> Vec<String> {
    // A compute-equivalent compares a spliced CE with the law's checkpoint losses: on other text,
    // or another context length, the two are different quantities and the fraction means nothing.
    let mut w = vec![format!(
        "these CEs were measured by SAEBench on its own eval tokens ({}); the law's checkpoint \
         losses must be measured on the same tokens (same text, context length and scored \
         positions) for a compute fraction to mean anything",
        token_sets.join("; ")
    )];
    if token_sets.iter().any(|s| s.ends_with(SPLICED_AT_SPECIAL)) {
        w.push(
            "SAEBench spliced some of these SAEs at BOS/EOS/pad positions too \
             (exclude_special_tokens_from_reconstruction false, the default of its core eval's \
             command line), which raises ce_loss_with_sae at the later positions; `ceq eval` \
             splices as SAEBench's own suite runs do (true), so their CEs differ on the same tokens"
                .into(),
        );
    }
    if token_sets.iter().any(|s| s.ends_with(SPECIAL_UNKNOWN)) {
        w.push(
            "some of these SAEBench results do not record exclude_special_tokens_from_reconstruction \
             (SAEBench wrote no such key before it had the option): whether it spliced their SAEs at \
             BOS/EOS/pad positions too is unknown; if it did (false), ce_loss_with_sae is raised at \
             the later positions and differs from what `ceq eval` measures on the same tokens"
                .into(),
        );
    }
    // Sets that differ only in an unrecorded splicing choice may be the same.
    let known: std::collections::BTreeSet<&str> = (token_sets.iter())
        .map(|s| s.strip_suffix(SPECIAL_UNKNOWN).unwrap_or(s))
        .collect();
    if known.len() > 1 {
        w.push(format!(
            "the SAEBench results were measured on {} different token sets: their CEs are not \
             comparable with each other",
            token_sets.len()
        ));
    } else if token_sets.len() > 1 {
        w.push(
            "some SAEBench results record how SAEBench spliced at special tokens and some do not: \
             on the same text and context, their CEs may not be comparable with each other"
                .into(),
        );
    }
    w
}

/// Results on one token set whose clean CEs differ by more than rounding: SAEBench measured them
/// on other samples of the set (another number of batches, another batch size) or in another
/// precision, so their spliced CEs differ by that as well as by their SAEs. SAEBench averages in
/// the host's dtype, so a bfloat16 host's CEs are on a grid of 2^-6 nats near 3: one step of it
/// (another batch split on another GPU) is rounding too.
/// How the results on one token set disagree on their clean CE.
#[derive(Clone, Debug, PartialEq)]
pub struct CleanApart {
    pub results: usize,
    /// "ce_clean from lo to hi nats", and which recorded settings differ.
    pub range: String,
}

/// Each set's disagreement, where it has one.
fn clean_apart(
    splices: &Splices,
    token_sets: &[String],
    row_sets: &std::collections::HashMap<String, usize>,
) -> Vec<Option<CleanApart>> {
    const APART: f64 = 1e-3;
    let col = |name: &str| splices.columns.iter().position(|c| c == name);
    // Each set's rows, in one pass over them.
    let mut by_set: Vec<Vec<&Splice>> = vec![vec![]; token_sets.len()];
    for s in &splices.rows {
        if let Some(rows) = row_sets.get(&s.name).and_then(|&i| by_set.get_mut(i)) {
            rows.push(s);
        }
    }
    let mut said = vec![None; token_sets.len()];
    for (i, rows) in by_set.iter().enumerate() {
        if rows.len() < 2 {
            continue;
        }
        let (lo, hi) = (rows.iter()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s.ce_clean), hi.max(s.ce_clean))
        });
        let half_precision = |s: &&Splice| {
            col("llm_dtype").is_some_and(|j| {
                let d = s.raw[j].to_ascii_lowercase();
                d.contains("bfloat16") || d.contains("bf16")
            })
        };
        // One step of bfloat16's 8-bit significand at the larger CE, and a hair over.
        let step = match rows.iter().any(half_precision) {
            true => 1.01 * 2f64.powi(hi.log2().floor() as i32 - 7),
            false => 0.0,
        };
        if hi - lo <= APART.max(step) {
            continue;
        }
        // Which recorded settings differ among them, where any does.
        let differing: Vec<&str> = ["total_tokens_eval_reconstruction", "llm_dtype"]
            .into_iter()
            .filter(|c| {
                col(c).is_some_and(|j| {
                    let values: std::collections::BTreeSet<&str> =
                        rows.iter().map(|s| s.raw[j].as_str()).collect();
                    values.len() > 1
                })
            })
            .collect();
        let why = match differing.is_empty() {
            true => String::new(),
            false => format!("; their {} differ", differing.join(" and ")),
        };
        said[i] = Some(CleanApart {
            results: rows.len(),
            range: format!("ce_clean from {lo:.4} to {hi:.4} nats{why}"),
        });
    }
    said
}

/// The warning of results on one token set whose clean CEs disagree, naming the first such set.
pub(crate) fn clean_apart_warning(
    token_sets: &[String],
    apart: &[Option<CleanApart>],
) -> Option<String> {
    let mut sets = (token_sets.iter().zip(apart)).filter_map(|(set, a)| Some((set, a.as_ref()?)));
    let (set, a) = sets.next()?;
    let first = format!("{} results on {set} give {}", a.results, a.range);
    Some(format!(
        "SAEBench results of one model on one token set disagree on its clean CE ({first}{}): \
         SAEBench measured them on other samples of that set or in another precision, so their \
         spliced CEs differ by that as well as by their SAEs; compare such SAEs only after rerunning \
         them with one eval config",
        if sets.next().is_some() { "; …" } else { "" }
    ))
}

/// Files passed over, each with why.
type Skipped = Vec<(PathBuf, String)>;

/// The `*.json` files directly in `dir`, by name, and what is passed over (not read, but said:
/// its subfolders, and hidden .json files such as the `._x.json` copies macOS leaves); anything
/// else there is not looked at.
fn json_files(dir: &Path) -> Result<(Vec<PathBuf>, Skipped)> {
    let mut files = vec![];
    let mut folders = vec![];
    let mut hidden = vec![];
    for e in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let p = e.map_err(Error::io(dir))?.path();
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        if p.is_dir() {
            folders.extend(name);
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("json"))
        {
            match name.is_some_and(|n| n.starts_with('.')) {
                true => hidden.push(p),
                false => files.push(p),
            }
        }
    }
    if files.is_empty() {
        let hint = if folders.iter().any(|f| f == "core") {
            "; its subfolder core/ is where SAEBench writes core results: give that folder".into()
        } else if folders.is_empty() {
            String::new()
        } else {
            format!(" (subfolders are not read: {})", folders.join(", "))
        };
        return Err(Error::Data {
            kind: DataKind::Json,
            path: dir.to_owned(),
            message: format!(
                "the folder holds no .json file; expected SAEBench core-eval results{hint}"
            ),
        });
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    folders.sort();
    hidden.sort();
    let subfolder = "a subfolder: only the folder's own .json files are read";
    let hidden_file = "a hidden file (macOS writes ._NAME copies): not read";
    let skipped = (folders.iter().map(|f| (dir.join(f), subfolder.to_owned())))
        .chain(hidden.into_iter().map(|h| (h, hidden_file.to_owned())))
        .collect();
    Ok((files, skipped))
}

fn not_core(path: &Path, t: &str) -> Error {
    Error::Key {
        path: path.to_owned(),
        key: "eval_type_id".into(),
        message: format!(
            "'{t}': this is a SAEBench {t} result; ceq reads the CE losses of a core result \
             (eval_type_id 'core')"
        ),
    }
}

/// The top-level keys ceq reads. Every other key (the per-latent `eval_result_details`, megabytes
/// for a wide SAE) is skipped by the parser, not stored.
#[derive(serde::Deserialize)]
struct Raw {
    eval_type_id: Option<UniqueKeys>,
    eval_config: Option<UniqueKeys>,
    eval_result_metrics: Option<UniqueKeys>,
    sae_lens_id: Option<UniqueKeys>,
    sae_lens_release_id: Option<UniqueKeys>,
    sae_cfg_dict: Option<UniqueKeys>,
}

enum EvalType {
    Core,
    Other(String),
}

/// One result file, its keys as one JSON object.
struct ResultFile {
    path: PathBuf,
    root: Value,
}

impl ResultFile {
    fn read(path: &Path) -> Result<ResultFile> {
        let text = crate::eval::read_json_text(path)?;
        // A struct reads a JSON array as its fields in order: say what the file is instead.
        if text.trim_start().starts_with('[') {
            return Err(Error::Data {
                kind: DataKind::Json,
                path: path.to_owned(),
                message: "a JSON array, not a SAEBench result (a JSON object): a table ceq \
                          wrote? ceq reads splices from a CSV (as `ceq eval` writes them; a \
                          mapped table is made from one) or from SAEBench's results"
                    .into(),
            });
        }
        let raw: Raw = serde_json::from_str(&python_nan_as_null(&text)).map_err(|e| {
            let m = e.to_string();
            if m.starts_with(crate::unique_keys::REPEATED) || m.starts_with("duplicate field") {
                Error::Data {
                    kind: DataKind::Json,
                    path: path.to_owned(),
                    message: format!("{m}: a JSON object holds each key once; keep one"),
                }
            } else if e.classify() == serde_json::error::Category::Data {
                Error::Data {
                    kind: DataKind::Json,
                    path: path.to_owned(),
                    message: format!("not a SAEBench result (a JSON object): {e}"),
                }
            } else if looks_like_csv(&text) {
                Error::Data {
                    kind: DataKind::Json,
                    path: path.to_owned(),
                    message: format!(
                        "not valid JSON ({e}); its first line reads as a CSV header: a splices \
                         CSV is read as one when its name ends in .csv"
                    ),
                }
            } else {
                Error::json(path)(e)
            }
        })?;
        let mut root = serde_json::Map::new();
        for (k, v) in [
            ("eval_type_id", raw.eval_type_id),
            ("eval_config", raw.eval_config),
            ("eval_result_metrics", raw.eval_result_metrics),
            ("sae_lens_id", raw.sae_lens_id),
            ("sae_lens_release_id", raw.sae_lens_release_id),
            ("sae_cfg_dict", raw.sae_cfg_dict),
        ] {
            if let Some(UniqueKeys(v)) = v {
                root.insert(k.into(), v);
            }
        }
        Ok(ResultFile {
            path: path.to_owned(),
            root: Value::Object(root),
        })
    }

    fn err(&self, key: &str, message: String) -> Error {
        Error::Key {
            path: self.path.clone(),
            key: key.into(),
            message,
        }
    }

    /// The value at a dotted key; `None` where it, or an object on the way, is absent or null. A
    /// non-object on the way is an error.
    fn at(&self, key: &str) -> Result<Option<&Value>> {
        let mut v = &self.root;
        let mut walked = String::new();
        for part in key.split('.') {
            let obj = match v {
                Value::Object(o) => o,
                Value::Null => return Ok(None),
                other => {
                    return Err(self.err(
                        &walked,
                        format!("expected an object, found {}", kind(other)),
                    ));
                }
            };
            match obj.get(part) {
                Some(x) => v = x,
                None => return Ok(None),
            }
            if !walked.is_empty() {
                walked.push('.');
            }
            walked.push_str(part);
        }
        Ok(Some(v).filter(|v| !v.is_null()))
    }

    fn eval_type(&self) -> Result<EvalType> {
        match self.at("eval_type_id")? {
            Some(Value::String(t)) if t == "core" => Ok(EvalType::Core),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("core") => Err(self.err(
                "eval_type_id",
                format!(
                    "'{t}': SAEBench writes 'core', in lower case, into its core-eval results; \
                     this file was written otherwise: correct the key's value"
                ),
            )),
            Some(Value::String(t)) => Ok(EvalType::Other(t.clone())),
            found => Err(self.err(
                "eval_type_id",
                format!(
                    "{}: not a SAEBench result (SAEBench writes eval_type_id 'core' into its \
                     core-eval results)",
                    found.map_or("missing".into(), |v| format!(
                        "expected a string, found {}",
                        kind(v)
                    ))
                ),
            )),
        }
    }

    /// A number; `None` where absent, null, or -1 (SAEBench's NaN).
    fn number(&self, key: &str) -> Result<Option<(f64, String)>> {
        match self.at(key)? {
            None => Ok(None),
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                if v == -1.0 {
                    return Ok(None);
                }
                Ok(Some((v, n.to_string())))
            }
            Some(other) => Err(self.err(key, format!("expected a number, found {}", kind(other)))),
        }
    }

    /// One of the three CEs: present in every core result, a positive number, or -1 or NaN.
    fn ce(&self, key: &str, required: bool) -> Result<Option<(f64, String)>> {
        let key = format!("{PERF}.{key}");
        // Null (NaN as Python writes it) is there, like -1: not computed, rather than missing.
        let pointer = format!("/{}", key.replace('.', "/"));
        // `at` first: it names a non-object on the way.
        if self.at(&key)?.is_none() && self.root.pointer(&pointer).is_none() {
            return Err(self.err(
                &key,
                "missing; every SAEBench core result has this number (was the core eval run with \
                 compute_ce_loss?)"
                    .into(),
            ));
        }
        let v = self.number(&key)?;
        match v {
            None if required => Err(self.err(
                &key,
                "-1, NaN or infinite: SAEBench's marks for a value it could not compute: this result has no \
                 such CE to map; rerun SAEBench's core eval for this SAE, or move the file aside"
                    .into(),
            )),
            Some((x, _)) if x <= 0.0 => Err(self.err(
                &key,
                format!("{x} is not > 0; a cross-entropy in nats/token is positive"),
            )),
            Some((x, written)) if x > super::MAX_LOSS => Err(self.err(&key, super::not_a_loss(&written))),
            v => Ok(v),
        }
    }

    /// A cell as text: strings as they are, numbers as written (-1 and null: empty).
    fn cell(&self, key: &str) -> Result<String> {
        match self.at(key)? {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(Value::Number(_)) => Ok(self.number(key)?.map_or(String::new(), |n| n.1)),
            Some(other) => Err(self.err(
                key,
                format!("expected a string or a number, found {}", kind(other)),
            )),
        }
    }

    /// A name (a hook, a model, a dataset): a string, or empty where absent or null.
    fn text(&self, key: &str) -> Result<String> {
        match self.at(key)? {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(self.err(key, format!("expected a string, found {}", kind(other)))),
        }
    }

    /// A size or count (d_sae, a context, a layer): a whole number ≥ `least`, or empty where
    /// absent, null or -1.
    fn whole(&self, key: &str, least: f64) -> Result<String> {
        match self.number(key)? {
            None => Ok(String::new()),
            Some((v, _)) if v.fract() == 0.0 && v >= least && v < 1e15 => Ok(format!("{v}")),
            Some((v, _)) => Err(self.err(
                key,
                format!("{v} is not a whole number of at least {least}"),
            )),
        }
    }

    /// A mean count (L0): a number ≥ 0 as written, or empty where absent, null or -1.
    fn non_negative(&self, key: &str) -> Result<String> {
        match self.number(key)? {
            None => Ok(String::new()),
            Some((v, written)) if v >= 0.0 && v.is_finite() => Ok(written),
            Some((v, _)) => Err(self.err(key, format!("{v} is not a number ≥ 0"))),
        }
    }

    /// A setting that is true or false (SAEBench writes a JSON boolean; "true"/"false" strings are
    /// read too); `None` where absent or null.
    fn flag(&self, key: &str) -> Result<Option<bool>> {
        match self.at(key)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(other) => Err(self.err(key, format!("expected true or false, found {other}"))),
        }
    }

    /// The first non-empty name among `keys`.
    fn first(&self, keys: &[&str]) -> Result<String> {
        for k in keys {
            let c = self.text(k)?;
            if !c.is_empty() {
                return Ok(c);
            }
        }
        Ok(String::new())
    }

    /// The eval tokens as a label: text, context, the model whose tokenizer made the ids, and
    /// whether the SAE was spliced at special tokens (which changes every later position's CE, so results differing in it are measured
    /// differently).
    fn token_set(&self) -> Result<String> {
        let dataset = self.text("eval_config.dataset")?;
        let ctx = self.whole("eval_config.context_size", 1.0)?;
        let mut set = if dataset.is_empty() {
            "dataset not recorded".into()
        } else {
            dataset
        };
        if !ctx.is_empty() {
            set = format!("{set}, context {ctx}");
        }
        // The ids are the host's tokenizer's: two models' nats/token are not one scale.
        let model = self.first(&[
            "eval_config.model_name",
            "sae_cfg_dict.model_name",
            "sae_cfg_dict.metadata.model_name",
        ])?;
        if !model.is_empty() {
            set = format!("{set}, tokenized for {model}");
        }
        match self.flag(EXCLUDE_SPECIAL)? {
            Some(false) => set.push_str(SPLICED_AT_SPECIAL),
            // Absent or null: unknown, not SAEBench's suite setting (true).
            None => set.push_str(SPECIAL_UNKNOWN),
            Some(true) => {}
        }
        Ok(set)
    }

    fn splice(&self) -> Result<Splice> {
        let clean = self.ce("ce_loss_without_sae", true)?.expect("required");
        let spliced = self.ce("ce_loss_with_sae", true)?.expect("required");
        let zero = self.ce("ce_loss_with_ablation", false)?;
        // SAEBench's ce_loss_score is ceq's loss_recovered (its formula, from the same CEs): one
        // that disagrees means a file edited by hand or corrupt.
        let score_key = format!("{PERF}.ce_loss_score");
        if let (Some((given, _)), Some(e)) = (
            self.number(&score_key)?,
            loss_recovered_as_written(clean.0, spliced.0, zero.as_ref().map(|z| z.0)),
        ) && disagrees(given, e)
        {
            return Err(self.err(
                &score_key,
                format!(
                    "{given} disagrees with (ce_loss_with_ablation - ce_loss_with_sae)/\
                     (ce_loss_with_ablation - ce_loss_without_sae) = {e}, as SAEBench computes \
                     it: the file was edited or is corrupt"
                ),
            ));
        }
        let release = self.cell("sae_lens_release_id")?;
        let sae_id = self.cell("sae_lens_id")?;
        let file = self
            .path
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let name = match (release.is_empty(), sae_id.is_empty()) {
            (false, false) => format!("{release}/{sae_id}"),
            (false, true) => release.clone(),
            (true, false) => sae_id.clone(),
            (true, true) => self
                .path
                .file_stem()
                .map_or(file.clone(), |n| n.to_string_lossy().into_owned()),
        };
        let cfg = |k: &str| {
            [
                format!("sae_cfg_dict.{k}"),
                format!("sae_cfg_dict.metadata.{k}"),
            ]
        };
        let [hook, hook_meta] = cfg("hook_name");
        let [layer, layer_meta] = cfg("hook_layer");
        let [model, model_meta] = cfg("model_name");
        let mut raw = vec![];
        for c in &SAEBENCH.columns {
            raw.push(match c.name.as_str() {
                "name" => name.clone(),
                "release" => release.clone(),
                "sae_id" => sae_id.clone(),
                "model" => self.first(&["eval_config.model_name", &model, &model_meta])?,
                "hook" => self.first(&[&hook, &hook_meta])?,
                "layer" => match self.whole(&layer, 0.0)? {
                    l if l.is_empty() => self.whole(&layer_meta, 0.0)?,
                    l => l,
                },
                "architecture" => self.text("sae_cfg_dict.architecture")?,
                "d_sae" => self.whole("sae_cfg_dict.d_sae", 1.0)?,
                "l0" => self.non_negative("eval_result_metrics.sparsity.l0")?,
                "ce_clean" => clean.1.clone(),
                "ce_spliced" => spliced.1.clone(),
                "ce_zero_ablation" => zero.as_ref().map_or(String::new(), |z| z.1.clone()),
                "dataset" => self.text("eval_config.dataset")?,
                "context_size" => self.whole("eval_config.context_size", 1.0)?,
                "total_tokens_eval_reconstruction" => self.whole(
                    "eval_result_metrics.token_stats.total_tokens_eval_reconstruction",
                    0.0,
                )?,
                "llm_dtype" => self.text("eval_config.llm_dtype")?,
                "exclude_special_tokens_from_reconstruction" => self
                    .flag(EXCLUDE_SPECIAL)?
                    .map_or(String::new(), |b| b.to_string()),
                "file" => file.clone(),
                other => unreachable!("the saebench table declares no column '{other}'"),
            });
        }
        Ok(Splice {
            name,
            ce_clean: clean.0,
            ce_spliced: spliced.0,
            ce_zero_ablation: zero.map(|z| z.0),
            ce_mean_ablation: None,
            params: None,
            tokens: None,
            compute: None,
            compute_given: false,
            counts: Default::default(),
            raw,
            line: 0,
            // SAEBench's core results carry no standard errors.
            se: Default::default(),
        })
    }
}

/// A first line of comma-separated names, no JSON value's start.
fn looks_like_csv(text: &str) -> bool {
    let first = text.trim_start().lines().next().unwrap_or("");
    !first.starts_with(['{', '[', '"']) && first.contains(',')
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `text` with the bare `NaN`, `Infinity` and `-Infinity` Python's `json.dump` writes (not JSON,
/// so serde_json stops at them) made `null`, as a missing value: a metric SAEBench could not
/// compute must not stop the whole results folder. Strings are left as they are.
fn python_nan_as_null(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            (in_string, escaped) = (escaped || c != '"', !escaped && c == '\\');
        } else if c == '"' {
            in_string = true;
        } else if let Some(word) = ["NaN", "Infinity", "-Infinity"]
            .iter()
            .find(|w| rest.starts_with(**w))
        {
            out.push_str("null");
            rest = &rest[word.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::python_nan_as_null;

    #[test]
    fn python_nan_is_null_outside_strings_only() {
        let text =
            r#"{"a": NaN, "b": [-Infinity, Infinity, 1.5], "c": "NaN \" Infinity", "d": -1}"#;
        let want = r#"{"a": null, "b": [null, null, 1.5], "c": "NaN \" Infinity", "d": -1}"#;
        assert_eq!(python_nan_as_null(text), want);
        let v: serde_json::Value = serde_json::from_str(&python_nan_as_null(text)).unwrap();
        assert!(v["a"].is_null() && v["b"][2] == 1.5 && v["c"] == "NaN \" Infinity");
    }
}
