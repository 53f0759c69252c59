//! `ceq map`: splices against a saved law, or one fitted on the fly.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{LawArgs, OutputArgs, progress, read_splices};
use crate::export::Format;
use crate::map::map_at;

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
    /// Intervals from a joint bootstrap over the eval sequences: each of the --bootstrap N
    /// replicates resamples the sequences (and the family's runs or checkpoints), recomputes every
    /// checkpoint loss and every clean/spliced CE from them, refits the law and maps the splices
    /// through the refit. Needs --checkpoints from `ceq eval-family` and --splices from `ceq eval
    /// --manifest`, measured on the same tokens (their per_seq.npy files beside them).
    #[arg(long)]
    pub token_bootstrap: bool,
}

pub fn run(a: MapArgs) -> Result<()> {
    let inputs: Vec<_> = a.law.inputs().chain([a.splices.as_path()]).collect();
    a.output.check(&inputs)?;
    let result = if a.token_bootstrap {
        if a.law.law.is_some() {
            anyhow::bail!(
                "--token-bootstrap refits the law on resampled sequences: give the family's \
                 --checkpoints (from `ceq eval-family`) instead of --law"
            );
        }
        let Some(job) = a.law.family.job()? else {
            anyhow::bail!(
                "--token-bootstrap needs --checkpoints (the family from `ceq eval-family`) to refit"
            );
        };
        if job.spec().bootstrap == 0 {
            anyhow::bail!("--token-bootstrap needs --bootstrap N, the number of replicates");
        }
        token_bootstrap(&job, &a.splices)?
    } else {
        let law_file = a.law.load()?;
        map_at(&law_file, &read_splices(&a.splices)?, a.law.family.ci)
    };
    let format = a.output.format();
    let table = match format {
        Format::Csv | Format::Json => result.full_table(),
        Format::Table | Format::Markdown | Format::Latex | Format::Html => result.summary_table(),
    };
    a.output.emit(&format.render(&table), result.rows.len())
}

/// The joint token bootstrap, with a progress bar and the fit's warnings.
fn token_bootstrap(
    job: &crate::pipeline::FitJob,
    splices: &std::path::Path,
) -> Result<crate::map::MapResult> {
    let pb = progress(1, "fit", "");
    let r = crate::token_bootstrap::map_token_bootstrap(job, splices, &|p| {
        pb.set_message(p.stage);
        pb.set_length(p.total as u64);
        pb.set_position(p.done as u64);
    });
    pb.finish_and_clear();
    let r = r?;
    for w in &r.law_file.fit.warnings {
        eprintln!("ceq: warning: {w}");
    }
    Ok(r)
}
