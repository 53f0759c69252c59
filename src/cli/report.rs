//! `ceq report`: the whole analysis in one folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{FamilyArgs, check_group_by, command_line, load_law};
use crate::io::check_not_input;
use crate::map::map;
use crate::report::{Report, check_dir, prepare_dir};
use crate::table::read_splices;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Splices CSV (as for `ceq map`).
    #[arg(long, value_name = "CSV")]
    pub splices: PathBuf,
    /// A law saved by `ceq fit --out` (or fit one here with --checkpoints).
    #[arg(long, value_name = "FILE")]
    pub law: Option<PathBuf>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Group splices in the figures by this column of the splices file (default: model).
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Folder to write the report into (new or empty, unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write into a non-empty folder, replacing report files of the same names.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let mut inputs = vec![a.splices.as_path()];
    inputs.extend(a.law.as_deref());
    inputs.extend(a.family.checkpoints.as_deref());
    for name in crate::report::FILES {
        check_not_input(&a.out.join(name), &inputs)?;
    }
    let splices = read_splices(&a.splices)?;
    check_group_by(a.group_by.as_deref(), &splices)?;
    check_dir(&a.out, a.force).map_err(|e| match e {
        crate::Error::OutputDir { .. } if !a.force => {
            anyhow::Error::new(e).context("choose a new folder, or pass --force")
        }
        e => e.into(),
    })?;
    let (law_file, _) = load_law(a.law.as_deref(), &a.family)?;
    let result = map(&law_file, &splices);
    // Only now, with the fit done, is the folder made: a failed fit leaves nothing behind.
    prepare_dir(&a.out)?;
    let report = Report {
        law_file: &law_file,
        map: &result,
        group_by: a.group_by.clone(),
        command: command_line(),
    };
    let index = report.write(&a.out, &mut |p| eprintln!("ceq: wrote {}", p.display()))?;
    eprintln!(
        "ceq: report of {} splices in {}: open {}",
        result.rows.len(),
        a.out.display(),
        index.display()
    );
    Ok(())
}
