//! `ceq study`: the whole pipeline on a language with a known floor, into one folder. Trains the
//! model family and the SAEs, then runs what a user runs on real checkpoints — eval-family, the
//! sweep, the fit, the map and the report — through the same library functions. Each step's files
//! are written atomically and a rerun skips what is there, so a stopped study resumes.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::activations::{CaptureSpec, capture};
use super::language::{Corpus, Floor};
use super::plan::Settings;
use super::sae_train::{SaeSpec, train_sae};
use super::train::{heldout_seed, train};
use super::written::{Written, changed, fingerprint};
use crate::error::{DataKind, Error, Result};
use crate::eval::family::FamilyJob;
use crate::eval::job::{Scoring, TokenSource};
use crate::eval::model::Transformer;
use crate::eval::record::RunLock;
use crate::eval::sae::Sae;
use crate::eval::sweep::SweepJob;
use crate::eval::tokens::Tokens;
use crate::eval::{DeviceSpec, Hook, Site};
use crate::io::write_atomic;
use crate::law_file::ParamCount;
use crate::pipeline::{FitJob, FitSpec};
use crate::plot::Reference;
use crate::progress::Progress;
use crate::report::Report;
use crate::token_bootstrap::map_token_bootstrap;

/// The study's record.
pub const STUDY_JSON: &str = "study.json";

/// The first line of the README a study writes in its folder.
const README_TITLE: &str = "# A ceq study";

/// The token set the study's losses are measured on, as outputs name it.
const EVAL_SET: &str = "eval_tokens.npy (held-out rows of the study language)";
/// Sequences per batch of the study's evals (its README's commands give it too).
const EVAL_BATCH: usize = 32;

/// A study to run into `out`.
#[derive(Clone, Debug)]
pub struct Study {
    pub out: PathBuf,
    pub settings: Settings,
}

/// study.json: the settings, then (once finished) the truth and what the fit found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub ceq_version: String,
    pub settings: Settings,
    pub outcome: Option<Outcome>,
    /// The files written for the reader, as written (see [`super::written`]).
    #[serde(default, skip_serializing_if = "Written::is_empty")]
    pub written: Written,
}

/// The true floor and the fitted E, side by side.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// The Bayes-optimal cross-entropy on eval_tokens.npy's scored positions (nats/token; BOS
    /// positions left out, as ceq eval scores): exact for these tokens up to f64 rounding.
    pub loss_floor: f64,
    /// Its standard error over sequences, as an estimate of the language's expected floor.
    pub loss_floor_se: f64,
    pub loss_floor_positions: usize,
    /// The fitted chinchilla law's E (nats/token) and its bootstrap interval.
    pub fitted_e: f64,
    pub fitted_e_interval: Option<[f64; 2]>,
    pub interval_level: Option<f64>,
    /// Wall-clock seconds of this run of the study (a resumed study counts only its last run).
    pub seconds: f64,
}

impl Outcome {
    /// The fitted E with its interval: "1.3110 nats/token (90% bootstrap interval 0.0894 to 1.4215)".
    fn fitted_e_said(&self) -> String {
        match self.fitted_e_interval {
            Some([lo, hi]) => format!(
                "{:.4} nats/token ({} bootstrap interval {lo:.4} to {hi:.4})",
                self.fitted_e,
                crate::law_file::percent_level(self.interval_level.unwrap_or(0.9))
            ),
            None => format!("{:.4} nats/token", self.fitted_e),
        }
    }

    /// Whether the fit pins E down, against the true floor ([`Reference::verdict`]).
    fn verdict(&self) -> String {
        let floor = Reference {
            loss: self.loss_floor,
            label: String::new(),
        };
        floor.verdict(self.fitted_e_interval.map(|[lo, hi]| (lo, hi)))
    }
}

/// A trained model's record, written last into its folder: its presence means the model is done.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ModelRecord {
    /// The training's seed (absent from an older ceq's record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    steps: usize,
    tokens: u64,
    params_total: usize,
    params_non_embedding: usize,
    /// Mean training loss of the last tenth of the steps (nats/token, on training batches).
    final_train_loss: f64,
    seconds: f64,
    /// The fingerprints of the model's files as saved (absent from an older ceq's record).
    #[serde(default)]
    files: Written,
}

/// One model of the family.
struct Member {
    name: String,
    shape: usize,
    steps: usize,
}

impl Study {
    fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    fn members(&self) -> Vec<Member> {
        let s = &self.settings;
        let mut out = vec![];
        for (i, sh) in s.shapes.iter().enumerate() {
            for &steps in &s.steps {
                out.push(Member {
                    name: format!("d{}-L{}-t{}", sh.d_model, sh.n_layer, s.tokens(steps)),
                    shape: i,
                    steps,
                });
            }
        }
        out
    }

    /// Opens the folder: new, empty, or holding a study with the same settings (resumed). Holds
    /// the lock that keeps a second study out of it while this one runs; under it, the unfinished
    /// copies a killed study left (`.ceq-NAME-XXXXXX`) go.
    fn open(&self) -> Result<RunLock> {
        let record = self.path(STUDY_JSON);
        // Says a file in the way, or a folder where nothing can be made, as such.
        crate::io::make_out_dir(&self.out, &[], true)?;
        let busy = "another study is running in this folder: wait for it to end, or choose \
                    another folder";
        let lock = RunLock::claim_saying(&record, &[], busy)?;
        let lock_name = format!(".ceq-{STUDY_JSON}.lock");
        let empty = std::fs::read_dir(&self.out).map_or(true, |e| {
            e.flatten().all(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name == lock_name || is_left_copy(&name)
            })
        });
        if !empty {
            let bytes = std::fs::read(&record).map_err(|_| Error::Data {
                kind: DataKind::OutputDir,
                path: self.out.clone(),
                message: "is not empty and holds no study.json; a study goes into a new or empty \
                          folder, or resumes one it made"
                    .into(),
            })?;
            let old: Record = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
                kind: DataKind::OutputDir,
                path: record.clone(),
                message: format!("is not a study record ({e}); choose another folder"),
            })?;
            if old.settings != self.settings {
                let (was, now) = (old.settings.options(), self.settings.options());
                let message = match was == now {
                    true => format!(
                        "was made by another ceq version whose '{}' preset has other settings; \
                         choose another folder",
                        old.settings.preset
                    ),
                    false => format!(
                        "was made by `ceq study {was}`, not `{now}`; resume it with those \
                         options, or choose another folder"
                    ),
                };
                return Err(Error::Data {
                    kind: DataKind::OutputDir,
                    path: record,
                    message,
                });
            }
            if let Some(name) = changed(&self.out, &old.written) {
                return Err(Error::Data {
                    kind: DataKind::OutputDir,
                    path: self.path(&name),
                    message: format!(
                        "was changed since this study wrote it ({STUDY_JSON} records what it \
                         wrote), and a rerun writes the study's own there; move it (or remove \
                         it to have it written anew), or choose another folder"
                    ),
                });
            }
        }
        // The study writes its README.md at the end: one it did not write is the user's.
        let readme = self.path("README.md");
        if let Ok(text) = std::fs::read_to_string(&readme)
            && !text.starts_with(README_TITLE)
        {
            return Err(Error::Data {
                kind: DataKind::OutputDir,
                path: readme,
                message: "is not a README ceq study wrote, and the study writes its own there; \
                          move it, or choose another folder"
                    .into(),
            });
        }
        // The folder is this study's (or empty but for a killed one's copies): what it left goes.
        remove_left_copies(&self.out);
        // The report is written last, over the one there: files in it that a report does not
        // write are refused now, before any training, not at the end.
        crate::report::check_dir(&self.path("report"), true, &[])?;
        // A resumed study keeps its record (and its outcome, which its README and report still
        // show) until a new outcome replaces it.
        if empty || !record.exists() {
            let r = Record {
                ceq_version: String::new(),
                settings: self.settings.clone(),
                outcome: None,
                written: Written::new(),
            };
            self.write_record(r)?;
        }
        Ok(lock)
    }

    /// Runs an evaluation of the study's own tables (`csv` in its folder) so that every row is
    /// measured from the folder's models and SAEs as they are now: a table whose rows record no
    /// inputs (copied from data/, or written by an older ceq) is measured again, not kept; one
    /// whose recorded inputs changed (a model or SAE trained again, times lost in a copy) is
    /// measured again whole, since the study made both the table and its inputs.
    fn measure(&self, csv: &str, mut job: impl FnMut() -> Result<()>) -> Result<()> {
        let path = self.path(csv);
        let outputs = crate::eval::record::outputs(&path);
        // Under the table's run lock, so no run started beside the study loses its files.
        let remove = || -> Result<()> {
            let _lock = crate::eval::record::RunLock::hold(&path)?;
            for o in &outputs {
                match std::fs::remove_file(o) {
                    Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                        let path = o.clone();
                        return Err(Error::Write { path, source });
                    }
                    _ => {}
                }
            }
            Ok(())
        };
        if path.exists() && !crate::eval::record::record_path(&path).exists() {
            remove()?;
        }
        match job() {
            Err(e) if e.data_kind() == Some(DataKind::Mismatch) || unreadable(&e, &path) => {
                remove()?;
                job()
            }
            r => r,
        }
    }

    fn write_record(&self, mut r: Record) -> Result<()> {
        r.ceq_version = env!("CARGO_PKG_VERSION").into();
        let json = serde_json::to_vec_pretty(&r).expect("a study record serializes");
        write_atomic(&self.path(STUDY_JSON), &json)
    }

    /// Changes the record in the folder (which [`Study::open`] made or checked).
    fn update_record(&self, edit: impl FnOnce(&mut Record)) -> Result<()> {
        let path = self.path(STUDY_JSON);
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        let mut r: Record = serde_json::from_slice(&bytes).map_err(|e| Error::Data {
            kind: DataKind::OutputDir,
            path,
            message: format!("is not a study record ({e}); choose another folder"),
        })?;
        edit(&mut r);
        self.write_record(r)
    }

    /// Writes `name`, a file for the reader, and records what it wrote. It forgets the old
    /// version first (checked in [`Study::open`]), so a kill between the write and the record
    /// leaves a file taken as the study's, not one refused as changed.
    fn write_own(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.update_record(|r| drop(r.written.remove(name)))?;
        write_atomic(&self.path(name), bytes)?;
        let print = fingerprint(bytes);
        self.update_record(|r| drop(r.written.insert(name.into(), print)))
    }

    /// Writes a token set (or checks the one there: the same seed gives the same ids).
    fn token_set(&self, corpus: &Corpus, name: &str, rows: usize, which: u64) -> Result<Tokens> {
        let s = &self.settings;
        let ids = corpus.sample(rows, s.ctx, heldout_seed(s.seed, which));
        let tokens = Tokens {
            ids,
            n_seq: rows,
            ctx: s.ctx,
        };
        let path = self.path(name);
        let bytes = tokens.npy_bytes();
        if std::fs::read(&path).is_ok_and(|b| b != bytes) {
            return Err(Error::Data {
                kind: DataKind::OutputDir,
                path,
                message: "differs from the tokens this study's seed gives; it was changed after \
                          the study began: remove the folder and rerun"
                    .into(),
            });
        }
        write_atomic(&path, &bytes)?;
        Ok(tokens)
    }

    /// Trains every model not yet trained; writes family.csv (eval-family's manifest).
    fn train_family(&self, corpus: &Corpus, on: &mut dyn FnMut(Progress)) -> Result<()> {
        let s = &self.settings;
        let members = self.members();
        let total: usize = members.iter().map(|m| m.steps).sum();
        on(Progress::Stage {
            name: "training the family (steps)".into(),
            total,
        });
        let mut manifest = String::from("name,path,run,step,tokens\n");
        for m in &members {
            let dir = self.path(&format!("models/{}", m.name));
            let done = dir.join("ceq_training.json");
            on(Progress::Item(m.name.clone()));
            let seed = s.seed ^ (m.shape as u64) << 32;
            if !done.exists() {
                let size = s.size(&s.shapes[m.shape]);
                let start = Instant::now();
                let mut last = 0;
                let t = train(corpus, &size, &s.schedule(m.steps), seed, &mut |p| {
                    on(Progress::Advance(p.step - last));
                    last = p.step;
                })?;
                t.model.save_hf(&dir)?;
                let mut files = Written::new();
                for name in ["config.json", "model.safetensors"] {
                    let path = dir.join(name);
                    let bytes = std::fs::read(&path).map_err(Error::io(path))?;
                    files.insert(name.into(), fingerprint(&bytes));
                }
                let tail = &t.losses[t.losses.len() - (t.losses.len() / 10).max(1)..];
                let record = ModelRecord {
                    seed: Some(seed),
                    steps: t.steps,
                    tokens: t.tokens,
                    params_total: size.n_params(),
                    params_non_embedding: size.n_params_non_embedding(),
                    final_train_loss: tail.iter().sum::<f64>() / tail.len() as f64,
                    seconds: start.elapsed().as_secs_f64(),
                    files,
                };
                let json = serde_json::to_vec_pretty(&record).expect("serializes");
                write_atomic(&done, &json)?;
            } else {
                let size = s.size(&s.shapes[m.shape]);
                let trained = serde_json::json!({
                    "seed": seed,
                    "steps": m.steps,
                    "tokens": s.tokens(m.steps),
                    "params_total": size.n_params(),
                });
                // Model records written before they held the seed are judged by the rest.
                intact(&dir, &trained, &["seed"], || {
                    Transformer::load(&dir, &Device::flex()).map(|_| ())
                })?;
                on(Progress::Advance(m.steps));
            }
            // Each model is its own training run (its own cosine schedule), so the bootstrap
            // resamples models.
            manifest += &format!(
                "{0},models/{0},{0},{1},{2}\n",
                m.name,
                m.steps,
                s.tokens(m.steps)
            );
        }
        self.write_own("family.csv", manifest.as_bytes())
    }

    fn scoring(&self, tokens: &str) -> Scoring {
        Scoring {
            tokens: TokenSource::Npy(self.path(tokens)),
            batch: NonZeroUsize::new(EVAL_BATCH).expect("nonzero"),
            device: DeviceSpec::Flex,
            keep_special: false,
            cache_mb: 256,
        }
    }

    /// The SAEs' hosts: each host shape's model with the most steps.
    fn hosts(&self) -> Vec<(String, usize)> {
        let members = self.members();
        let s = &self.settings;
        s.sae_hosts
            .iter()
            .filter_map(|&h| {
                members
                    .iter()
                    .filter(|m| m.shape == h)
                    .max_by_key(|m| m.steps)
                    .map(|m| (m.name.clone(), h))
            })
            .collect()
    }

    /// Trains every SAE not yet trained, on activations of the SAE token set; writes saes.csv.
    fn train_saes(&self, on: &mut dyn FnMut(Progress)) -> Result<()> {
        let s = &self.settings;
        let hosts = self.hosts();
        let per_hook = s.sae_kinds.len();
        on(Progress::Stage {
            name: "training SAEs (SAEs)".into(),
            total: hosts.len() * s.sae_layers.len() * per_hook,
        });
        let tokens_path = self.path("sae_tokens.npy");
        let tokens = Tokens::read_npy(&tokens_path)?;
        let mut manifest = String::from("name,model,sae,hook\n");
        for (host, h) in &hosts {
            let d_model = s.shapes[*h].d_model;
            for &layer in &s.sae_layers {
                let hook = Hook {
                    layer,
                    site: Site::ResidPost,
                };
                let names: Vec<String> = s
                    .sae_kinds
                    .iter()
                    .map(|k| format!("{host}-L{layer}-{}", k.architecture.label()))
                    .collect();
                let todo = names
                    .iter()
                    .any(|n| !self.path(&format!("saes/{n}")).exists());
                let acts = if todo {
                    let spec = CaptureSpec {
                        model: self.path(&format!("models/{host}")),
                        hook,
                        device: DeviceSpec::Flex,
                        batch: 32,
                        keep_special: false,
                    };
                    Some(capture(&spec, &tokens, &tokens_path, &mut |_| {})?)
                } else {
                    None
                };
                for (kind, name) in s.sae_kinds.iter().zip(&names) {
                    on(Progress::Item(name.clone()));
                    let dir = self.path(&format!("saes/{name}"));
                    let mut spec = SaeSpec::new(
                        kind.architecture.clone(),
                        kind.expansion * d_model,
                        s.sae_steps,
                        s.sae_batch,
                    );
                    spec.lr = s.sae_lr;
                    let seed = s.seed ^ 0x5ae ^ (layer as u64) << 8 ^ (*h as u64) << 16;
                    if let Some(acts) = acts.as_ref().filter(|_| !dir.exists()) {
                        let t = train_sae(acts, &spec, seed, &mut |_| {})?;
                        t.save_saelens(&dir, "sae_tokens.npy", false)?;
                    } else {
                        let trained = serde_json::json!({ "spec": spec, "seed": seed });
                        intact(&dir, &trained, &[], || {
                            Sae::load(&dir, &Device::flex()).map(|_| ())
                        })?;
                    }
                    on(Progress::Advance(1));
                    manifest += &format!("{name},{host},saes/{name},{hook}\n");
                }
            }
        }
        self.write_own("saes.csv", manifest.as_bytes())
    }

    /// Runs the study; returns what it found (also in study.json).
    pub fn run(&self, on: &mut dyn FnMut(Progress)) -> Result<Outcome> {
        let start = Instant::now();
        let s = &self.settings;
        s.check()?;
        let _lock = self.open()?;
        let corpus = s.language.build()?;
        let eval = self.token_set(&corpus, "eval_tokens.npy", s.eval_rows, 0)?;
        self.token_set(&corpus, "sae_tokens.npy", s.sae_rows, 1)?;
        let floor: Floor = corpus.floor_on(&eval.ids, s.ctx, false);

        self.train_family(&corpus, on)?;
        let family = FamilyJob {
            manifest: self.path("family.csv"),
            scoring: self.scoring("eval_tokens.npy"),
            param_count: ParamCount::Total,
            tokens_per_step: None,
            shard: None,
            out: self.path("checkpoints.csv"),
        };
        self.measure("checkpoints.csv", || family.run(&mut |p| on(p)).map(|_| ()))?;

        self.train_saes(on)?;
        on(Progress::Stage {
            name: "sweep: the SAEs, host by host".into(),
            total: 0,
        });
        let sweep = SweepJob {
            manifest: self.path("saes.csv"),
            family: Some(self.path("family.csv")),
            tokens_per_step: None,
            scoring: self.scoring("eval_tokens.npy"),
            param_count: ParamCount::Total,
            shard: None,
            out: self.path("splices.csv"),
        };
        self.measure("splices.csv", || sweep.run(&mut |p| on(p)).map(|_| ()))?;

        on(Progress::Stage {
            name: "fit and report".into(),
            total: 0,
        });
        // The law's bootstrap resamples the eval sequences jointly for the family and the splices:
        // the intervals hold the law's error and the token set's, with their correlation.
        let path = self.path("splices.csv");
        let table = crate::table::read_splices(&path)?;
        let mut map = map_token_bootstrap(&self.fit_job()?, (&path, table), &|_| {})?;
        // Named as the folder's README commands name it, so the folder can move.
        map.law_file.data.file = "checkpoints.csv".into();
        let law = &map.law_file;
        self.write_own("law.json", law.to_json().as_bytes())?;
        let reference = Reference {
            loss: floor.mean,
            label: "true floor on eval_tokens.npy".into(),
        };
        let report = Report {
            law_file: law,
            map: &map,
            group_by: None,
            command: crate::report::command_line(),
            reference: Some(reference),
        };
        let dir = self.path("report");
        crate::report::check_dir(&dir, true, &[])?;
        // A study killed while it swapped its report in left a copy beside it: the report is the
        // study's own and written anew here, so the copy goes.
        for left in crate::io::left_beside(&dir) {
            std::fs::remove_dir_all(&left).map_err(|source| Error::Write { path: left, source })?;
        }
        let ours = |name: &String| name.starts_with("report/");
        self.update_record(|r| r.written.retain(|name, _| !ours(name)))?;
        let mut files = vec![];
        // The study's names are ceq's own, in ASCII: the PNGs draw every character.
        report.write(&dir, &mut |p| {
            if let Progress::Wrote(f) = p {
                files.push(f)
            }
        })?;
        let mut prints = Written::new();
        for f in files {
            let bytes = std::fs::read(&f).map_err(Error::io(&f))?;
            let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
            prints.insert(
                format!("report/{}", name.unwrap_or_default()),
                fingerprint(&bytes),
            );
        }
        self.update_record(|r| r.written.extend(prints))?;

        let interval = law
            .bootstrap
            .as_ref()
            .and_then(|b| Some((b.level, b.intervals.get("E")?.0)));
        let outcome = Outcome {
            loss_floor: floor.mean,
            loss_floor_se: floor.se,
            loss_floor_positions: floor.positions,
            fitted_e: law.law().floor(),
            fitted_e_interval: interval.map(|(_, (lo, hi))| [lo, hi]),
            interval_level: interval.map(|(l, _)| l),
            seconds: start.elapsed().as_secs_f64(),
        };
        self.update_record(|r| r.outcome = Some(outcome.clone()))?;
        self.write_own("README.md", self.readme(&outcome).as_bytes())?;
        Ok(outcome)
    }

    /// One line on a finished study: the truth beside the fit, and where to look.
    pub fn summary(&self, o: &Outcome) -> String {
        format!(
            "true floor {:.4} nats/token, fitted E {}: {}; study in {} (open {})",
            o.loss_floor,
            o.fitted_e_said(),
            o.verdict(),
            self.out.display(),
            self.path("report/index.html").display()
        )
    }

    fn fit_job(&self) -> Result<FitJob> {
        let s = &self.settings;
        FitSpec {
            bootstrap: s.bootstrap,
            seed: s.seed,
            ..FitSpec::new(self.path("checkpoints.csv"), EVAL_SET)
        }
        .validate()
    }

    /// The folder's README: what was done and the commands that redo each step.
    fn readme(&self, o: &Outcome) -> String {
        let s = &self.settings;
        let e = format!("{}; {}", o.fitted_e_said(), o.verdict());
        format!(
            "{README_TITLE}\n\n\
             Made by `ceq study` (ceq {ver}, preset `{preset}`, seed {seed}). Every number here was \
             measured: models and SAEs trained by ceq on a synthetic language whose loss floor is \
             known, then evaluated, fitted and mapped as real checkpoints are.\n\n\
             - True floor on `eval_tokens.npy`: **{floor:.4} nats/token** (exact for these tokens; \
             ±{se:.4} as an estimate of the language's expected floor, over {pos} positions).\n\
             - Fitted E (chinchilla law over the {n} models): **{e}**.\n\n\
             ## Files\n\n\
             | file | what |\n|---|---|\n\
             | `study.json` | settings, the true floor, the fitted E |\n\
             | `models/NAME/` | each model (Hugging Face GPT-2 layout) and `ceq_training.json` |\n\
             | `family.csv` | the family manifest (eval-family's input) |\n\
             | `eval_tokens.npy` | held-out rows every CE is measured on |\n\
             | `checkpoints.csv` | each model's clean CE (eval-family's output), `.per_seq.npy` and `.run.json` beside |\n\
             | `sae_tokens.npy` | the rows whose activations trained the SAEs |\n\
             | `saes/NAME/` | each SAE (SAELens layout) |\n\
             | `saes.csv` | the sweep manifest |\n\
             | `splices.csv` | each SAE's CEs and metrics (the sweep's output), `.per_seq.npy` and `.run.json` beside |\n\
             | `law.json` | the fitted law with its bootstrap |\n\
             | `report/` | tables and figures; open `report/index.html` |\n\n\
             ## Redo each step\n\n\
             Training is `ceq study` itself (the same seed gives the same weights on one machine). \
             From this folder:\n\n```sh\n\
             ceq eval-family --manifest family.csv --tokens eval_tokens.npy --batch {EVAL_BATCH} --out checkpoints.csv\n\
             ceq eval --manifest saes.csv --family family.csv --tokens eval_tokens.npy --batch {EVAL_BATCH} --out splices.csv\n\
             ceq report --checkpoints checkpoints.csv --splices splices.csv --bootstrap {boot} --token-bootstrap --seed {seed} --eval-set \"{EVAL_SET}\" --out report-redo\n\
             ```\n\n\
             The report goes to a new folder: `report/` is the study's, whose figures also draw the \
             language's true floor (which `ceq report` is not told), and a rerun of `ceq study` \
             refuses to resume over a `report/` it did not write.\n\n\
             `law.json` (and `report/law.json`) is the law the token bootstrap fits: its refits \
             resample the eval sequences jointly for the family and the splices, so every interval \
             holds the law's error and the token set's; `ceq report --law law.json` alone would pair \
             those refits with the file's CEs, losing that pairing.\n",
            ver = env!("CARGO_PKG_VERSION"),
            preset = s.preset,
            seed = s.seed,
            floor = o.loss_floor,
            se = o.loss_floor_se,
            pos = o.loss_floor_positions,
            n = self.members().len(),
            boot = s.bootstrap,
        )
    }
}

/// Whether `e` says the study's own table `path` does not read as a table (a line cut short or
/// added, a cell edited to text, a header renamed) or one of the files beside it is not the
/// kind a run keeps there: the study made them from the folder's models and SAEs, so the table
/// is measured again, as one whose rows record no inputs is (helper-95, helper-98: CSV advice,
/// or "choose another output path" for a path the study fixes, came instead).
fn unreadable(e: &Error, path: &Path) -> bool {
    match e {
        Error::Csv { path: p, .. }
        | Error::BadCell { path: p, .. }
        | Error::EmptyFile { path: p }
        | Error::NoRows { path: p, .. }
        | Error::MissingColumn { path: p, .. } => p == path,
        // Only a file of the wrong kind: a folder in its place, or another file beside the table
        // (`c.CSV`), would be there again after measuring.
        Error::Foreign { path: p, .. } => {
            p.is_file() && crate::eval::record::outputs(path).contains(p)
        }
        _ => false,
    }
}

/// A model or SAE an earlier run trained is reused only if its `ceq_training.json` records what
/// this study trains there (`trained`: each key's value, the training's steps, seed, …; a key of
/// `older_lack` may be absent, from a record of an older ceq), its
/// files are the ones that run saved (by the fingerprints the record keeps, where it keeps them)
/// and it still loads: one replaced since (another model's folder or weights copied over it, a
/// truncated copy, a deleted file) is named with the way to train it again, never measured as
/// if it were the study's.
fn intact(
    dir: &Path,
    trained: &serde_json::Value,
    older_lack: &[&str],
    load: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let refuse = |path: PathBuf, why: String| Error::Data {
        kind: DataKind::OutputDir,
        path,
        message: format!(
            "{why}: another model's, or damaged; remove the folder {} and rerun to train it again",
            dir.display()
        ),
    };
    // The study writes the record with every model and SAE it trains (a model's last): without
    // one that reads, nothing says what the folder holds (helper-98: a folder copied over another
    // with its record removed was measured as the other).
    let path = dir.join("ceq_training.json");
    let record = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or_else(|| {
            refuse(
                path.clone(),
                "is missing or not the JSON a study writes".into(),
            )
        })?;
    let mut keys = trained.as_object().into_iter().flatten();
    let differs = |(k, v): &(&String, &serde_json::Value)| match record.get(k.as_str()) {
        None => !older_lack.contains(&k.as_str()),
        got => got != Some(*v),
    };
    if let Some((key, now)) = keys.find(differs) {
        let was = (record.get(key.as_str())).map_or("nothing".into(), |v| v.to_string());
        let why = format!("records {key} {was}, where this study trains {now}");
        return Err(refuse(path, why));
    }
    let files: Written = (record.get("files").cloned())
        .and_then(|f| serde_json::from_value(f).ok())
        .unwrap_or_default();
    if let Some(name) = changed(dir, &files) {
        let why = "is not the file an earlier run of this study saved there (its bytes differ \
                   from the fingerprint in ceq_training.json)";
        return Err(refuse(dir.join(name), why.into()));
    }
    load().map_err(|e| {
        let mut why = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            why += &format!(": {s}");
            source = s.source();
        }
        Error::Data {
            kind: DataKind::OutputDir,
            path: dir.to_owned(),
            message: format!(
                "an earlier run of this study trained this, and it no longer loads ({why}); \
                 remove the folder and rerun to train it again"
            ),
        }
    })
}

/// Whether a file name is an unfinished copy a killed ceq left (`.ceq-NAME-XXXXXX`: tempfile's 6
/// characters after the name).
fn is_left_copy(name: &str) -> bool {
    name.strip_prefix(".ceq-")
        .and_then(|rest| rest.rsplit_once('-'))
        .is_some_and(|(_, tail)| tail.len() == 6 && tail.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Removes, in a study's folder `dir` and the folders below it, the unfinished copies a killed
/// study left; the caller holds the study's lock, and has checked the folder is the study's.
fn remove_left_copies(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let (path, name) = (e.path(), e.file_name().to_string_lossy().into_owned());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            remove_left_copies(&path);
        } else if is_left_copy(&name) {
            let _ = std::fs::remove_file(&path);
        }
    }
}
