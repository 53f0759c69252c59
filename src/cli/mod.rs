//! The command line: clap derive options per subcommand, turned once into the library's validated
//! configs. The CLI parses, calls the library and prints; it computes nothing itself.

mod choices;
mod eval;
mod family;
mod fit;
mod map;
mod plot;
mod report;
mod study;
mod synth;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Parser};

use crate::analysis::Analysis;
use crate::error::{DataKind, Error};
use crate::export::{Destination, Format};
use crate::law::Form;
use crate::law_file::ParamCount;
use crate::pipeline::{FitJob, FitSpec, LawSource};
use crate::progress::{Bar, Listener};
use crate::table::ColumnMap;

#[derive(Parser, Debug)]
#[command(name = "ceq", version, about = "What a spliced SAE costs in training compute", long_about = None)]
pub enum Command {
    /// Fit a scaling law to checkpoint losses.
    Fit(fit::FitArgs),
    /// Map spliced CE losses to compute-equivalents.
    Map(map::MapArgs),
    /// Splice SAEs into a transformer checkpoint and measure CE (burn).
    Eval(eval::EvalArgs),
    /// Measure a checkpoint family's clean CE on one token set (a checkpoints CSV; resumable).
    EvalFamily(family::FamilyArgs),
    /// Join the shards of `eval-family` or `eval --manifest` into one file.
    Merge(family::MergeArgs),
    /// Draw the paper figures (SVG and PNG).
    Plot(plot::PlotArgs),
    /// Fit, map, draw and tabulate everything into one folder with an index.html.
    Report(report::ReportArgs),
    /// Train a model family and SAEs on a language with a known loss floor, then evaluate, fit,
    /// map and report them: the whole pipeline on measured data, into one folder.
    Study(study::StudyArgs),
    /// Write a synthetic family and splices drawn from a known law (the tests' fixture).
    Synth(synth::SynthArgs),
}

/// How to read and fit a checkpoints file; shared by `fit`, `map`, `plot` and `report`. With
/// `--law`, none of these may be given (see [`command`]).
#[derive(Args, Debug, Clone)]
pub struct FamilyArgs {
    /// Checkpoints CSV: params, tokens and/or compute (FLOPs), loss (nats/token).
    #[arg(long, value_name = "CSV")]
    pub checkpoints: Option<PathBuf>,
    /// Law to fit.
    #[arg(long, value_enum, default_value = "chinchilla")]
    pub form: Form,
    /// Column holding the parameter count N.
    #[arg(long, default_value = "params", value_name = "COLUMN")]
    pub params_col: String,
    /// Column holding training tokens D.
    #[arg(long, default_value = "tokens", value_name = "COLUMN")]
    pub tokens_col: String,
    /// Column holding training compute C in FLOPs.
    #[arg(long, default_value = "compute", value_name = "COLUMN")]
    pub compute_col: String,
    /// Column holding the loss in nats/token.
    #[arg(long, default_value = "loss", value_name = "COLUMN")]
    pub loss_col: String,
    /// Column naming each checkpoint (optional: the law file's residuals and bootstrap use it).
    #[arg(long, default_value = "name", value_name = "COLUMN")]
    pub name_col: String,
    /// Column naming the training run a checkpoint belongs to (bootstrap resamples whole runs).
    #[arg(long, default_value = "run", value_name = "COLUMN")]
    pub run_col: String,
    /// Column holding the optimiser step (optional: the run law's tokens per step, for
    /// step_equivalent).
    #[arg(long, default_value = "step", value_name = "COLUMN")]
    pub step_col: String,
    /// Fit only this run (the `run` law fits one run).
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// Drop the K highest-loss checkpoints before fitting (Besiroglu et al. drop 5 of Chinchilla's).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub drop_highest: usize,
    /// Huber threshold on log-loss residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub delta: f64,
    /// Which parameter count the params column holds (recorded in every output).
    #[arg(long, value_enum, default_value = "total")]
    pub param_count: ParamCount,
    /// Name of the token set the losses were measured on (recorded in every output; default: the
    /// checkpoints file's eval_tokens, as ceq eval-family writes it, else "unspecified").
    #[arg(long, value_name = "NAME")]
    pub eval_set: Option<String>,
    /// Bootstrap resamples for confidence intervals (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Level of the percentile intervals.
    #[arg(long, default_value_t = 0.9, value_name = "LEVEL")]
    pub ci: f64,
}

impl FamilyArgs {
    /// The validated fit, or `None` without `--checkpoints`.
    fn job(&self) -> Result<Option<FitJob>> {
        let Some(checkpoints) = self.checkpoints.clone() else {
            return Ok(None);
        };
        let spec = FitSpec {
            checkpoints,
            columns: ColumnMap {
                params: self.params_col.clone(),
                tokens: self.tokens_col.clone(),
                compute: self.compute_col.clone(),
                loss: self.loss_col.clone(),
                name: self.name_col.clone(),
                run: self.run_col.clone(),
                step: self.step_col.clone(),
            },
            form: self.form,
            run: self.run.clone(),
            drop_highest: self.drop_highest,
            delta: self.delta,
            param_count: self.param_count,
            eval_set: self.eval_set.clone(),
            bootstrap: self.bootstrap,
            seed: self.seed,
            level: self.ci,
        };
        Ok(Some(spec.validate().map_err(with_flags)?))
    }
}

/// A law from a file, or fitted from the family options (never both).
#[derive(Args, Debug)]
pub struct LawArgs {
    /// A law saved by `ceq fit --out`; it fixes the fit, so fitting options (--bootstrap
    /// included) belong to `ceq fit` instead. Or fit one here with --checkpoints.
    #[arg(long, value_name = "FILE")]
    pub law: Option<PathBuf>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Intervals from a joint bootstrap over the eval sequences: each of the --bootstrap N
    /// replicates resamples the sequences (and the family's runs or checkpoints), recomputes every
    /// checkpoint loss and every clean/spliced CE from them, refits the law and maps the splices
    /// through the refit. Needs --checkpoints from `ceq eval-family` and --splices from `ceq eval
    /// --manifest`, measured on the same tokens (their per_seq.npy files beside them).
    #[arg(long, requires_all = ["checkpoints", "bootstrap"], conflicts_with = "law")]
    pub token_bootstrap: bool,
}

impl LawArgs {
    /// The analysis of `splices` (when given) with this law; checks the options, reads nothing.
    fn analysis(&self, splices: Option<&Path>, group_by: &Option<String>) -> Result<Analysis> {
        Ok(Analysis {
            law: self.source()?,
            splices: splices.map(Path::to_owned),
            group_by: group_by.clone(),
        })
    }

    /// Where the law comes from.
    fn source(&self) -> Result<LawSource> {
        Ok(match (&self.law, self.family.job()?) {
            (Some(p), _) => LawSource::File(p.clone()),
            (None, Some(j)) if self.token_bootstrap => LawSource::TokenBootstrap(j),
            (None, Some(j)) => LawSource::Fit(j),
            (None, None) => anyhow::bail!(
                "no law: pass --law law.json (from `ceq fit --out`) or --checkpoints FILE.csv to fit one"
            ),
        })
    }
}

/// Where a result table goes.
#[derive(Args, Debug)]
pub struct OutputArgs {
    /// Output format (default: from the --out extension, any case: .csv, .json, .md, .tex, .html,
    /// .txt; an aligned table on stdout).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the table here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    fn dest(&self) -> Destination {
        Destination {
            format: self.format,
            out: self.out.clone(),
        }
    }

    /// Writes the table `render` makes, saying how many rows went to a file.
    fn emit(&self, rows: usize, render: impl FnOnce(Format) -> String) -> Result<()> {
        if let Some(out) = self.dest().write(render).map_err(with_flags)? {
            crate::say!("ceq: {rows} rows written to {}", out.display());
        }
        Ok(())
    }
}

/// Library errors say what is wrong in the data's terms; here they get the option that fixes them.
fn with_flags(e: Error) -> anyhow::Error {
    if let Error::MissingColumn {
        quantity: Some(q), ..
    } = &e
    {
        let hint = format!("the {q} column is named with --{q}-col");
        return hinted(e, &hint);
    }
    let option = match &e {
        Error::Invalid { option, .. } => *option,
        _ => "",
    };
    let hint = match (e.data_kind(), option) {
        (Some(DataKind::Runs), _) => "a run is chosen with --run",
        (Some(DataKind::OutputDir), _) => "choose a new folder or --force",
        (Some(DataKind::Shards), _) => "a shard is evaluated with --shard i/n",
        (Some(DataKind::ParamCount), _) => {
            "name the column's count with --param-count, or pick the other column with --params-col"
        }
        (Some(DataKind::TrainingTokens), _) => "give the tokens per step with --tokens-per-step N",
        (_, crate::export::OUTPUT_FORMAT) => {
            "give the format with --format, or an --out name with a known extension"
        }
        (_, "token bootstrap") => "give the splices with --splices",
        _ => return e.into(),
    };
    hinted(e, hint)
}

/// The error (its causes included), then what to do: read in that order, not the hint first as
/// a context would print it.
fn hinted(e: Error, hint: &str) -> anyhow::Error {
    anyhow::anyhow!("{:#}; {hint}", anyhow::Error::new(e))
}

/// Runs a library call with a progress bar (drawn on a terminal only) that also says its warnings.
fn with_progress<T>(run: impl FnOnce(Listener) -> crate::Result<T>) -> Result<T> {
    let bar = Bar::new(false);
    run(&|p| bar.on(p)).map_err(with_flags)
}

/// The parser. `--law` fixes everything about a fit, so every fitting option is refused next to it
/// (named one by one, so clap's message names only those typed).
fn command() -> clap::Command {
    use clap::CommandFactory;
    let ids: Vec<clap::Id> = FamilyArgs::augment_args(clap::Command::new("family"))
        .get_arguments()
        .map(|a| a.get_id().clone())
        .collect();
    let mut cmd = Command::command();
    for sub in ["map", "plot", "report"] {
        cmd = cmd.mut_subcommand(sub, |c| c.mut_arg("law", |a| a.conflicts_with_all(&ids)));
    }
    cmd
}

pub fn run() -> Result<()> {
    use clap::FromArgMatches;
    match Command::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit()) {
        Command::Fit(a) => fit::run(a),
        Command::Map(a) => map::run(a),
        Command::Eval(a) => eval::run(a),
        Command::EvalFamily(a) => family::run(a),
        Command::Merge(a) => family::merge_run(a),
        Command::Plot(a) => plot::run(a),
        Command::Report(a) => report::run(a),
        Command::Study(a) => study::run(a),
        Command::Synth(a) => synth::run(a),
    }
}
