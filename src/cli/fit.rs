//! `ceq fit`: fit a law to a checkpoints file, print it, save it as JSON.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{FamilyArgs, load_law};
use crate::export::Format;
use crate::io::{check_not_input, write_atomic};
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
        anyhow::bail!("no checkpoints file: pass --checkpoints FILE.csv");
    };
    let law = LawSource::Fit(job);
    if let Some(out) = &a.out {
        check_not_input(out, &[&law.inputs(None)[0]])?;
        // A law file is JSON; a device or FIFO (`/dev/stdout`) has no name to say so.
        if !crate::io::is_special(out) {
            crate::io::check_extension(out, "json", "a law file (JSON)")?;
        }
    }
    // An --out that is stdout gets the law file alone, not the summary after it.
    let to_stdout = a.out.as_deref().is_some_and(crate::io::is_stdout);
    if to_stdout && a.format.is_some_and(|f| f != Format::Json) {
        anyhow::bail!("--out is standard output, where --format's summary would go too: drop one");
    }
    let lf = load_law(&law)?;
    if let Some(out) = &a.out {
        write_atomic(out, lf.to_json().as_bytes())?;
        crate::say!("ceq: law saved to {}", out.display());
    }
    if to_stdout {
        return Ok(());
    }
    let text = match a.format.unwrap_or(Format::Table) {
        Format::Json => lf.to_json(),
        format => format.render(&lf.summary_table()),
    };
    Ok(crate::io::write_stdout(&text)?)
}
