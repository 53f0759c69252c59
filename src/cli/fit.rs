//! `ceq fit`: fit a law to a checkpoints file, print it, save it as JSON.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use super::{FamilyArgs, with_flags, with_progress};
use crate::analysis::Analysis;
use crate::export::Format;
use crate::pipeline::LawSource;

#[derive(Args, Debug)]
pub struct FitArgs {
    #[command(flatten)]
    pub family: FamilyArgs,
    /// What stdout gets: the summary as table (default), csv, markdown, latex or html; or json, the
    /// law file itself (what --out saves).
    #[arg(long, value_enum, hide_possible_values = true)]
    pub format: Option<Format>,
    /// Save the fitted law as JSON here (reused by `ceq map --law`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(a: FitArgs) -> Result<()> {
    let Some(job) = a.family.job()? else {
        bail!("no checkpoints file: pass --checkpoints FILE.csv");
    };
    if let Some(out) = &a.out {
        job.check_out(out).map_err(with_flags)?;
    }
    // An --out that is stdout gets the law file alone, not the summary after it.
    let to_stdout = a.out.as_deref().is_some_and(crate::io::is_stdout);
    if to_stdout && a.format.is_some_and(|f| f != Format::Json) {
        bail!("--out is standard output, where --format's summary would go too: drop one");
    }
    let law = Analysis {
        law: LawSource::Fit(job),
        splices: None,
        group_by: None,
    };
    let law = with_progress(|on| law.run(on))?;
    let lf = law.law_file();
    if let Some(out) = &a.out {
        crate::io::write_atomic(out, lf.to_json().as_bytes())?;
        crate::say!("ceq: law saved to {}", out.display());
    }
    if !to_stdout {
        crate::io::write_stdout(&lf.render(a.format.unwrap_or(Format::Table)))?;
    }
    Ok(())
}
