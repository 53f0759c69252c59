//! `ceq report`: the whole analysis in one folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{LawArgs, with_progress};
use crate::report::ReportJob;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Splices CSV, or SAEBench core-eval results (a .json file or a folder), as for `ceq map`.
    #[arg(long, value_name = "CSV|JSON|DIR")]
    pub splices: PathBuf,
    #[command(flatten)]
    pub law: LawArgs,
    /// Group splices in the figures by this column of the splices file (default: model).
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Folder to write the report into (new or empty, unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace a folder holding a report (only report files) with the new report, whole.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let job = ReportJob {
        analysis: a.law.analysis(Some(&a.splices), &a.group_by)?,
        out: a.out,
        force: a.force,
    };
    let (index, n) = with_progress(|on| job.run(on))?;
    let (out, index) = (job.out.display(), index.display());
    crate::say!("ceq: report of {n} splices in {out}: open {index}");
    Ok(())
}
