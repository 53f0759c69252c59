//! `ceq synth`: write the synthetic family drawn from a known law (tests/fixtures/synth/).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::synth::{SynthSpec, generate};

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Folder to write checkpoints.csv and splices.csv into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Seed of the noise.
    #[arg(long, default_value_t = SynthSpec::default().seed)]
    pub seed: u64,
    /// Replace checkpoints.csv and splices.csv where they exist.
    #[arg(long)]
    pub force: bool,
}

pub fn run(a: SynthArgs) -> Result<()> {
    let spec = SynthSpec {
        seed: a.seed,
        ..SynthSpec::default()
    };
    let files = generate(&spec).write(&a.out_dir, a.force);
    for f in files.map_err(super::with_flags)? {
        crate::say!("ceq: wrote {}", f.display());
    }
    Ok(())
}
