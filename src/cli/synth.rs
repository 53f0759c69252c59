//! `ceq synth`: regenerate the synthetic example in data/.

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
}

pub fn run(a: SynthArgs) -> Result<()> {
    let spec = SynthSpec {
        seed: a.seed,
        ..SynthSpec::default()
    };
    for f in generate(&spec).write(&a.out_dir)? {
        eprintln!("ceq: wrote {}", f.display());
    }
    Ok(())
}
