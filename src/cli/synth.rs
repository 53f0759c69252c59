//! `ceq synth`: regenerate the synthetic example in data/.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::io::write_atomic;
use crate::synth::{SynthSpec, generate};

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Folder to write checkpoints.csv and splices.csv into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Seed of the noise.
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(a: SynthArgs) -> Result<()> {
    let mut spec = SynthSpec::default();
    if let Some(s) = a.seed {
        spec.seed = s;
    }
    std::fs::create_dir_all(&a.out_dir)?;
    let s = generate(&spec);
    write_atomic(&a.out_dir.join("checkpoints.csv"), s.checkpoints.as_bytes())?;
    write_atomic(&a.out_dir.join("splices.csv"), s.splices.as_bytes())?;
    eprintln!(
        "ceq: wrote checkpoints.csv and splices.csv to {}",
        a.out_dir.display()
    );
    Ok(())
}
