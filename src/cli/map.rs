//! `ceq map`: splices against a saved law, or one fitted on the fly.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{FamilyArgs, emit, load_law, output_format};
use crate::export::Format;
use crate::io::check_not_input;
use crate::map::map;
use crate::table::read_splices;

#[derive(Args, Debug)]
pub struct MapArgs {
    /// Splices CSV: name, ce_clean, ce_spliced (nats/token); optional ce_zero_ablation,
    /// ce_mean_ablation, params + tokens or compute; other columns pass through.
    #[arg(long, value_name = "CSV")]
    pub splices: PathBuf,
    /// A law saved by `ceq fit --out` (or fit one here with --checkpoints).
    #[arg(long, value_name = "FILE")]
    pub law: Option<PathBuf>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Output format (default: from the --out extension, else an aligned table).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the mapped table here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(a: MapArgs) -> Result<()> {
    let (law_file, mut inputs) = load_law(a.law.as_deref(), &a.family)?;
    if let Some(out) = &a.out {
        inputs.push(a.splices.clone());
        check_not_input(out, &inputs.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    }
    let splices = read_splices(&a.splices)?;
    let result = map(&law_file, &splices);
    let format = output_format(a.format, a.out.as_deref());
    let table = match format {
        Format::Csv | Format::Json => result.full_table(),
        Format::Table | Format::Markdown | Format::Latex | Format::Html => result.summary_table(),
    };
    emit(&format.render(&table), a.out.as_deref(), result.rows.len())
}
