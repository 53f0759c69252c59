//! `ceq report`: the whole analysis in one folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{LawArgs, map_splices, read_splices};
use crate::report::{Report, check_dir, command_line};

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
    let law = a.law.source()?;
    let splices = read_splices(&a.splices)?;
    if let Some(g) = &a.group_by {
        splices.require_column(g, "--group-by names a column of the splices file")?;
    }
    let inputs = law.inputs(Some(&a.splices));
    let inputs: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    check_dir(&a.out, a.force, &inputs).map_err(super::with_flags)?;
    let result = map_splices(&law, &a.splices, &splices)?;
    let law_file = &result.law_file;
    // Only now, with the fit done, is the folder made: a failed fit leaves nothing behind.
    let report = Report {
        law_file,
        map: &result,
        group_by: a.group_by.clone(),
        command: command_line(),
        reference: None,
    };
    let index = report.write(&a.out, &mut |p| crate::say!("ceq: wrote {}", p.display()))?;
    let n = result.rows.len();
    crate::say!(
        "ceq: report of {n} splices in {}: open {}",
        a.out.display(),
        index.display()
    );
    Ok(())
}
