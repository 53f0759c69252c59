//! `ceq map`: splices against a saved law, or one fitted on the fly.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{LawArgs, OutputArgs, with_flags, with_progress};

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
    let analysis = a.law.analysis(Some(&a.splices), &None)?;
    a.output
        .dest()
        .check(&analysis.inputs())
        .map_err(with_flags)?;
    let r = with_progress(|on| analysis.map(on))?;
    a.output.emit(r.rows.len(), |f| f.render(&r.table_for(f)))
}
