//! `ceq plot`: the figures alone, as SVG and PNG.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{FamilyArgs, check_group_by, load_law};
use crate::map::map;
use crate::plot::{Data, Figure};
use crate::table::read_splices;

#[derive(Args, Debug)]
pub struct PlotArgs {
    /// A law saved by `ceq fit --out` (or fit one here with --checkpoints).
    #[arg(long, value_name = "FILE")]
    pub law: Option<PathBuf>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Splices CSV, for the splice figures.
    #[arg(long, value_name = "CSV")]
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
}

pub fn run(a: PlotArgs) -> Result<()> {
    let mut inputs: Vec<&std::path::Path> = a.splices.iter().map(|p| p.as_path()).collect();
    inputs.extend(a.law.as_deref());
    inputs.extend(a.family.checkpoints.as_deref());
    for fig in Figure::ALL {
        for ext in ["svg", "png"] {
            crate::io::check_not_input(&a.out_dir.join(format!("{}.{ext}", fig.stem())), &inputs)?;
        }
    }
    let (law_file, _) = load_law(a.law.as_deref(), &a.family)?;
    let splices = a.splices.as_deref().map(read_splices).transpose()?;
    if let Some(s) = &splices {
        check_group_by(a.group_by.as_deref(), s)?;
    }
    let result = splices.as_ref().map(|s| map(&law_file, s));
    let data = Data::new(&law_file, result.as_ref(), a.group_by.clone());
    if let Some(f) = a.figures.iter().find(|f| !f.available(&data)) {
        anyhow::bail!(
            "the '{}' figure needs --splices (with ce_zero_ablation for linear-vs-log)",
            f.stem()
        );
    }
    let figures = if a.figures.is_empty() {
        Figure::ALL.to_vec()
    } else {
        a.figures.clone()
    };
    crate::plot::write_figures(&data, &figures, &a.out_dir, &mut |p| {
        eprintln!("ceq: wrote {}", p.display())
    })?;
    Ok(())
}
