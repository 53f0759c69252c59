//! `ceq map`: splices against a saved law, or one fitted on the fly.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{LawArgs, OutputArgs, map_splices, read_splices};
use crate::export::Format;

#[derive(Args, Debug)]
pub struct MapArgs {
    /// Splices CSV: name, ce_clean, ce_spliced (nats/token); optional ce_zero_ablation,
    /// ce_mean_ablation, params + tokens or compute; other columns pass through. Or SAEBench
    /// core-eval results: one result .json, or a folder of them.
    #[arg(long, value_name = "CSV|JSON|DIR")]
    pub splices: PathBuf,
    #[command(flatten)]
    pub law: LawArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn run(a: MapArgs) -> Result<()> {
    let law = a.law.source()?;
    let inputs = law.inputs(Some(&a.splices));
    a.output
        .check(&inputs.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    let result = map_splices(&law, &a.splices, &read_splices(&a.splices)?)?;
    let format = a.output.format()?;
    let table = match format {
        Format::Csv | Format::Json => result.full_table(),
        Format::Table | Format::Markdown | Format::Latex | Format::Html => result.summary_table(),
    };
    a.output.emit(&format.render(&table), result.rows.len())
}
