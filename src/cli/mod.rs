//! The command line: clap derive options per subcommand, turned once into the library's validated
//! configs. The CLI parses, calls the library and prints; it computes nothing itself.

mod analysis;
mod choices;
mod eval;
mod study;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser};

use crate::error::{Error, Fix};
use crate::export::{Destination, Format, Table};
use crate::progress::{Bar, Listener};

#[derive(Parser, Debug)]
#[command(name = "ceq", version, about = "What a spliced SAE costs in training compute", long_about = None)]
pub enum Command {
    /// Fit a scaling law to checkpoint losses.
    Fit(analysis::FitArgs),
    /// Map spliced CE losses to compute-equivalents.
    Map(analysis::MapArgs),
    /// Splice SAEs into a transformer checkpoint and measure CE (burn).
    Eval(eval::EvalArgs),
    /// Measure a checkpoint family's clean CE on one token set (a checkpoints CSV; resumable).
    EvalFamily(eval::EvalFamilyArgs),
    /// Join the shards of `eval-family` or `eval --manifest` into one file.
    Merge(eval::MergeArgs),
    /// Draw the paper figures (SVG, PNG and PDF).
    Plot(analysis::PlotArgs),
    /// Fit, map, draw and tabulate everything into one folder with an index.html.
    Report(analysis::ReportArgs),
    /// Train a model family and SAEs on a language with a known loss floor, then evaluate, fit,
    /// map and report them: the whole pipeline on measured data, into one folder.
    Study(study::StudyArgs),
    /// Write a synthetic family and splices drawn from a known law (the tests' fixture).
    Synth(study::SynthArgs),
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
    /// Replace --out where it exists (else an existing file is refused).
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl OutputArgs {
    fn dest(&self) -> Destination {
        let (format, out, replace) = (self.format, self.out.clone(), self.force);
        Destination {
            format,
            out,
            replace,
        }
    }

    /// Refuses an output over one of `inputs`, or of an unclear format, before any work.
    fn check(&self, inputs: &[impl AsRef<std::path::Path>]) -> Result<()> {
        self.dest().check(inputs).map_err(with_flags)
    }

    /// Writes the table `table_for` makes, saying how many rows went to a file.
    fn emit(
        &self,
        rows: usize,
        said: &[String],
        table_for: impl FnOnce(Format) -> Table,
    ) -> Result<()> {
        if let Some(out) = self
            .dest()
            .write_table(said, table_for)
            .map_err(with_flags)?
        {
            crate::say!("ceq: {rows} row(s) written to {}", out.display());
        }
        Ok(())
    }
}

/// Library errors say what is wrong in the data's terms, and what would fix it; here the fix gets
/// the option that makes it.
fn with_flags(e: Error) -> anyhow::Error {
    let Some(fix) = e.fix() else {
        return e.into();
    };
    let hint = match fix {
        Fix::Column(q) => return hinted(e, &format!("the {q} column is named with --{q}-col")),
        Fix::Columns => "a quantity's column is named with --QUANTITY-col",
        Fix::GroupBy => "name one of its columns with --group-by",
        Fix::Run => "a run is chosen with --run",
        Fix::OutputFolder => "choose a new folder or --force",
        Fix::ReplaceFile => "choose another --out, or --force to replace it",
        Fix::Shard => "a shard is evaluated with --shard i/n",
        Fix::ParamCount => {
            "name the column's count with --param-count, or pick the other column with --params-col"
        }
        Fix::TokensPerStep => "give the tokens per step with --tokens-per-step N",
        Fix::TokensOrSteps => "the tokens per step are given with --tokens-per-step N",
        Fix::WholeTokensPerStep => "give --tokens-per-step a whole number of tokens",
        Fix::OutputFormat => {
            "give the format with --format, or an --out name with a known extension"
        }
        Fix::FormatVsName => "drop --format, or end --out with its extension",
        Fix::SummaryOrLaw => "drop --format or --out",
        Fix::Splices => "give the splices with --splices",
        Fix::DropFewer => "drop fewer with --drop-highest",
    };
    hinted(e, hint)
}

/// The error (its causes included), then what to do: read in that order, not the hint first as
/// a context would print it.
fn hinted(e: Error, hint: &str) -> anyhow::Error {
    anyhow::anyhow!("{:#}; {hint}", anyhow::Error::new(e))
}

/// Runs a library call with a progress bar (drawn on a terminal only) that also says its warnings;
/// returns what it said too.
fn with_progress<T>(run: impl FnOnce(Listener) -> crate::Result<T>) -> Result<(T, Vec<String>)> {
    let bar = Bar::new(false);
    let t = run(&|p| bar.on(p)).map_err(with_flags)?;
    Ok((t, bar.said()))
}

/// The parser. `--law` fixes everything about a fit, so every fitting option is refused next to it
/// (named one by one, so clap's message names only those typed); negative numbers are values.
fn command() -> clap::Command {
    use clap::CommandFactory;
    let ids: Vec<clap::Id> = analysis::FamilyArgs::augment_args(clap::Command::new("family"))
        .get_arguments()
        .map(|a| a.get_id().clone())
        .collect();
    let mut cmd = Command::command();
    for sub in ["map", "plot", "report"] {
        cmd = cmd.mut_subcommand(sub, |c| c.mut_arg("law", |a| a.conflicts_with_all(&ids)));
    }
    // `--bootstrap -1` is a bad value, said as such, not an unknown option `-1`.
    cmd.mut_subcommands(|c| {
        c.mut_args(|a| {
            let numbers = a.get_action().takes_values();
            a.allow_negative_numbers(numbers)
        })
    })
}

pub fn run() -> Result<()> {
    use clap::FromArgMatches;
    match Command::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit()) {
        Command::Fit(a) => analysis::fit(a),
        Command::Map(a) => analysis::map(a),
        Command::Eval(a) => eval::eval(a),
        Command::EvalFamily(a) => eval::eval_family(a),
        Command::Merge(a) => eval::merge(a),
        Command::Plot(a) => analysis::plot(a),
        Command::Report(a) => analysis::report(a),
        Command::Study(a) => study::study(a),
        Command::Synth(a) => study::synth(a),
    }
}
