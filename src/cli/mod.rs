//! The command line: clap derive options per subcommand, turned once into the library's validated
//! configs. The CLI parses, calls the library and prints; it computes nothing itself.

mod choices;
mod eval;
mod fit;
mod map;
mod plot;
mod report;
mod synth;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::error::Error;
use crate::export::Format;
use crate::law::Form;
use crate::law_file::{LawFile, ParamCount};
use crate::pipeline::{FitJob, FitSpec, LawSource};
use crate::table::ColumnMap;

#[derive(Parser, Debug)]
#[command(name = "ceq", version, about = "What a spliced SAE costs in training compute", long_about = None)]
pub struct Opts {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fit a scaling law to checkpoint losses.
    Fit(fit::FitArgs),
    /// Map spliced CE losses to compute-equivalents.
    Map(map::MapArgs),
    /// Splice SAEs into a transformer checkpoint and measure CE (burn).
    Eval(eval::EvalArgs),
    /// Draw the paper figures (SVG and PNG).
    Plot(plot::PlotArgs),
    /// Fit, map, draw and tabulate everything into one folder with an index.html.
    Report(report::ReportArgs),
    /// Write the synthetic family and splices that data/ ships (from a known law).
    Synth(synth::SynthArgs),
}

/// Writes a command's result to stdout. A closed pipe (`ceq fit | head`) ends the output quietly, as
/// in other Unix tools, rather than with a panic from `print!`.
fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to standard output"))
        }
        _ => Ok(()),
    }
}

fn level(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(v),
        _ => Err("must be between 0 and 1 (e.g. 0.9 for 90% intervals)".into()),
    }
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err("must be a positive number".into()),
    }
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
    #[arg(long, default_value = "name", value_name = "COLUMN")]
    pub name_col: String,
    /// Column naming the training run a checkpoint belongs to (bootstrap resamples whole runs).
    #[arg(long, default_value = "run", value_name = "COLUMN")]
    pub run_col: String,
    #[arg(long, default_value = "step", value_name = "COLUMN")]
    pub step_col: String,
    /// Fit only this run (the `run` law fits one run).
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// Drop the K highest-loss checkpoints before fitting (Besiroglu et al. drop 5 of Chinchilla's).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub drop_highest: usize,
    /// Huber threshold on log-loss residuals.
    #[arg(long, default_value_t = 1e-3, value_parser = positive)]
    pub delta: f64,
    /// Which parameter count the params column holds (recorded in every output).
    #[arg(long, value_enum, default_value = "total")]
    pub param_count: ParamCount,
    /// Name of the token set the losses were measured on (recorded in every output).
    #[arg(long, default_value = "unspecified", value_name = "NAME")]
    pub eval_set: String,
    /// Bootstrap resamples for confidence intervals (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub bootstrap: usize,
    /// Seed of the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Level of the percentile intervals.
    #[arg(long, default_value_t = 0.9, value_name = "LEVEL", value_parser = level)]
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
        Ok(Some(spec.validate()?))
    }
}

/// Fits the job with a progress bar for the bootstrap, printing the fit's warnings.
fn fit_law(source: &LawSource, bootstrap: usize) -> Result<LawFile> {
    let pb = progress(bootstrap, "bootstrap");
    let lf = source.load(&|| pb.inc(1)).map_err(with_flags)?;
    pb.finish_and_clear();
    if let LawSource::Fit(_) = source {
        for w in &lf.fit.warnings {
            eprintln!("ceq: warning: {w}");
        }
    }
    Ok(lf)
}

/// Library errors say what is wrong in the data's terms; here they get the option that fixes them.
fn with_flags(e: Error) -> anyhow::Error {
    let inner = match &e {
        Error::Fitting { source, .. } => source.as_ref(),
        e => e,
    };
    let hint = match inner {
        Error::MissingColumn {
            quantity: Some(q), ..
        } => Some(format!("the {q} column is named with --{q}-col")),
        Error::Runs { .. } => Some("a run is chosen with --run".to_owned()),
        _ => None,
    };
    match hint {
        Some(h) => anyhow::Error::new(e).context(h),
        None => e.into(),
    }
}

/// The law: read from `--law`, or fitted (and bootstrapped) from `--checkpoints`.
fn load_law(law: Option<&Path>, family: &FamilyArgs) -> Result<(LawFile, Vec<PathBuf>)> {
    let job = family.job()?;
    let source = match (law, &job) {
        (Some(p), _) => LawSource::File(p),
        (None, Some(j)) => LawSource::Fit(j),
        (None, None) => anyhow::bail!(
            "no law: pass --law law.json (from `ceq fit --out`) or --checkpoints FILE.csv to fit one"
        ),
    };
    let inputs = source.inputs().into_iter().map(Path::to_owned).collect();
    Ok((fit_law(&source, family.bootstrap)?, inputs))
}

/// Checks that `--group-by` names a column of the splices file.
fn check_group_by(group_by: Option<&str>, splices: &crate::table::Splices) -> Result<()> {
    if let Some(g) = group_by
        && !splices.columns.iter().any(|c| c == g)
    {
        anyhow::bail!(
            "--group-by '{g}': {} has no such column (it has: {})",
            splices.path.display(),
            splices.columns.join(", ")
        );
    }
    Ok(())
}

/// The command line as typed, quoted where needed, for the record.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\`".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The output format: as given, else from the --out extension, else a terminal table.
fn output_format(given: Option<Format>, out: Option<&Path>) -> Format {
    given.unwrap_or_else(|| {
        out.and_then(|p| p.extension())
            .and_then(|e| e.to_str())
            .and_then(Format::from_extension)
            .unwrap_or(Format::Table)
    })
}

/// Writes a rendered table to `out`, or to stdout.
fn emit(text: &str, out: Option<&Path>, rows: usize) -> Result<()> {
    match out {
        Some(out) => {
            crate::io::write_atomic(out, text.as_bytes())?;
            eprintln!("ceq: {rows} rows written to {}", out.display());
            Ok(())
        }
        None => print_stdout(text),
    }
}

/// A progress bar on stderr that stays hidden when stderr is not a terminal.
fn progress(n: usize, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || n == 0 {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(n as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({eta} left)")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

/// The parser. `--law` fixes everything about a fit, so every fitting option is refused next to it
/// (named one by one, so clap's message names only those typed).
fn command() -> clap::Command {
    use clap::CommandFactory;
    let ids: Vec<clap::Id> = FamilyArgs::augment_args(clap::Command::new("family"))
        .get_arguments()
        .map(|a| a.get_id().clone())
        .collect();
    let mut cmd = Opts::command();
    for sub in ["map", "plot", "report"] {
        cmd = cmd.mut_subcommand(sub, |c| c.mut_arg("law", |a| a.conflicts_with_all(&ids)));
    }
    cmd
}

pub fn run() -> Result<()> {
    use clap::FromArgMatches;
    let opts = Opts::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    match opts.command {
        Command::Fit(a) => fit::run(a),
        Command::Map(a) => map::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Report(a) => report::run(a),
        Command::Synth(a) => synth::run(a),
    }
}
