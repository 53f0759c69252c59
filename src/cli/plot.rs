//! `ceq plot`: the figures alone, as SVG and PNG.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::{LawArgs, load_law, map_splices, read_splices};
use crate::plot::{Data, Figure};

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
    let law = a.law.source()?;
    let inputs = law.inputs(a.splices.as_deref());
    let inputs: Vec<&Path> = inputs.iter().map(|p| p.as_path()).collect();
    crate::io::check_none_is_input(crate::plot::files(&a.out_dir, &a.figures), &inputs)?;
    crate::io::check_out_dir(&a.out_dir, &[], a.force)?;
    crate::io::check_writable(crate::plot::files(&a.out_dir, &a.figures))?;
    let splices = a.splices.as_deref().map(read_splices).transpose()?;
    if let (Some(s), Some(g)) = (&splices, &a.group_by) {
        s.require_column(g, "--group-by names a column of the splices file")?;
    }
    let result = match (&splices, &a.splices) {
        (Some(s), Some(p)) => Some(map_splices(&law, p, s)?),
        _ => None,
    };
    let law_file = match &result {
        Some(r) => r.law_file.clone(),
        None => load_law(&law)?,
    };
    let data = Data::new(&law_file, result.as_ref(), a.group_by.clone());
    let wrote = &mut |p: &Path| crate::say!("ceq: wrote {}", p.display());
    let drawn = crate::plot::write_figures(&data, &a.figures, &a.out_dir, a.force, wrote);
    drawn.map(drop).map_err(super::with_flags)
}
