//! `ceq plot`: the figures alone, as SVG and PNG.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{LawArgs, with_progress};
use crate::plot::{Figure, PlotJob};

#[derive(Args, Debug)]
pub struct PlotArgs {
    #[command(flatten)]
    pub law: LawArgs,
    /// Splices CSV, or SAEBench core-eval results (a .json file or a folder), for the splice figures.
    #[arg(long, value_name = "CSV|JSON|DIR")]
    pub splices: Option<PathBuf>,
    /// Which figures (default: every one the inputs allow).
    #[arg(long = "figure", value_enum, value_name = "NAME")]
    pub figures: Vec<Figure>,
    /// Group splices by this column of the splices file (default: model).
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Folder to write NAME.svg and NAME.png into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Replace figure files of the same names in --out-dir.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: PlotArgs) -> Result<()> {
    let job = PlotJob {
        analysis: a.law.analysis(a.splices.as_deref(), &a.group_by)?,
        figures: a.figures,
        out_dir: a.out_dir,
        force: a.force,
    };
    with_progress(|on| job.run(on))
}
