//! The command line: clap derive options per subcommand, validated once into a config the library
//! trusts. The CLI parses, calls the library and prints; it computes nothing itself.

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

use crate::export::Format;
use crate::law::Form;
use crate::law_file::ParamCount;
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

/// How to read and fit a checkpoints file; shared by `fit` and `map`.
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
    #[arg(long, default_value_t = 1e-3)]
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
    #[arg(long, default_value_t = 0.9, value_name = "LEVEL")]
    pub ci: f64,
    /// The fitting options typed on the command line (not defaulted), as flags: with `--law` they
    /// would have no effect, so they are refused rather than silently ignored.
    #[arg(skip)]
    pub typed: Vec<String>,
}

/// Every FamilyArgs option that only matters when fitting (all but --bootstrap, which has its own
/// message).
const FITTING_OPTIONS: [&str; 16] = [
    "checkpoints",
    "form",
    "params_col",
    "tokens_col",
    "compute_col",
    "loss_col",
    "name_col",
    "run_col",
    "step_col",
    "run",
    "drop_highest",
    "delta",
    "param_count",
    "eval_set",
    "seed",
    "ci",
];

impl FamilyArgs {
    /// Records which fitting options `m` (the subcommand's matches) got from the command line.
    fn record_typed(&mut self, m: &clap::ArgMatches) {
        self.typed = FITTING_OPTIONS
            .iter()
            .filter(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
            .map(|id| format!("--{}", id.replace('_', "-")))
            .collect();
    }
}

impl FamilyArgs {
    fn columns(&self) -> ColumnMap {
        ColumnMap {
            params: self.params_col.clone(),
            tokens: self.tokens_col.clone(),
            compute: self.compute_col.clone(),
            loss: self.loss_col.clone(),
            name: self.name_col.clone(),
            run: self.run_col.clone(),
            step: self.step_col.clone(),
        }
    }
}

/// The law: read from `--law`, or fitted (and bootstrapped) from `--checkpoints`.
fn load_law(law: Option<&Path>, family: &FamilyArgs) -> Result<crate::law_file::LawFile> {
    match (law, &family.checkpoints) {
        (Some(_), _) if family.bootstrap > 0 => anyhow::bail!(
            "--bootstrap applies when fitting: refit with `ceq fit --bootstrap N --out law.json`, whose refits `--law` then uses"
        ),
        (Some(_), _) if !family.typed.is_empty() => anyhow::bail!(
            "{} appl{} only when fitting from --checkpoints; --law uses the law file as it was \
             fitted (its form, data, columns, delta, eval set and interval level): drop {}, or refit \
             with `ceq fit ... --out law.json`",
            family.typed.join(", "),
            if family.typed.len() == 1 { "ies" } else { "y" },
            if family.typed.len() == 1 {
                "it"
            } else {
                "them"
            },
        ),
        (Some(p), _) => Ok(crate::law_file::LawFile::read(p)?),
        (None, Some(_)) => {
            let lf = fit::FitConfig::new(family)?.fit()?;
            for w in &lf.fit.warnings {
                eprintln!("ceq: warning: {w}");
            }
            Ok(lf)
        }
        (None, None) => anyhow::bail!(
            "no law: pass --law law.json (from `ceq fit --out`) or --checkpoints FILE.csv to fit one"
        ),
    }
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
fn output_format(given: Option<Format>, out: Option<&Path>, default: Format) -> Format {
    given.unwrap_or_else(
        || match out.and_then(|p| p.extension()).and_then(|e| e.to_str()) {
            Some("csv") => Format::Csv,
            Some("json") => Format::Json,
            Some("md") => Format::Markdown,
            Some("tex") => Format::Latex,
            Some("html") => Format::Html,
            _ => default,
        },
    )
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

pub fn run() -> Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let matches = Opts::command().get_matches();
    let mut opts = Opts::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Some((_, sub)) = matches.subcommand() {
        match &mut opts.command {
            Command::Map(a) => a.family.record_typed(sub),
            Command::Plot(a) => a.family.record_typed(sub),
            Command::Report(a) => a.family.record_typed(sub),
            _ => {}
        }
    }
    match opts.command {
        Command::Fit(a) => fit::run(a),
        Command::Map(a) => map::run(a),
        Command::Eval(a) => eval::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Report(a) => report::run(a),
        Command::Synth(a) => synth::run(a),
    }
}
