//! The commands that make data: `ceq study` (train a family and SAEs on a language with a known
//! floor and run the pipeline) and `ceq synth` (the synthetic family drawn from a known law that
//! the tests read, tests/fixtures/synth/).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::progress::Bar;
use crate::study::{Settings, Study};
use crate::synth::{SynthSpec, generate};

#[derive(Args, Debug)]
pub struct StudyArgs {
    /// Folder of the study (new or empty; a folder holding a study with the same settings resumes).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed of the language, the training and the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The same pipeline on a smaller grid (about 10 seconds on 2 cores), as CI runs it.
    #[arg(long)]
    pub quick: bool,
}

pub fn study(a: StudyArgs) -> Result<()> {
    let settings = match a.quick {
        true => Settings::quick(a.seed),
        false => Settings::default_study(a.seed),
    };
    let study = Study {
        out: a.out,
        settings,
    };
    let bar = Bar::new(true);
    let outcome = study.run(&mut |p| bar.on(p));
    drop(bar);
    crate::say!("ceq: {}", study.summary(&outcome?));
    Ok(())
}

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

pub fn synth(a: SynthArgs) -> Result<()> {
    let spec = SynthSpec {
        seed: a.seed,
        ..SynthSpec::default()
    };
    let files = generate(&spec).and_then(|s| s.write(&a.out_dir, a.force));
    for f in files.map_err(super::with_flags)? {
        crate::say!("ceq: wrote {}", f.display());
    }
    Ok(())
}
