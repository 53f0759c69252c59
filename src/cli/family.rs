//! `ceq eval-family` (a checkpoint family's clean CE on one token set: a checkpoints CSV) and
//! `ceq merge` (shards of it joined).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::eval::TokenArgs;
use crate::eval::family::FamilyJob;
use crate::eval::shard::Shard;

#[derive(Args, Debug)]
pub struct FamilyArgs {
    /// Checkpoints CSV: name,path[,run,step,tokens]; paths relative to its folder.
    #[arg(long, value_name = "CSV")]
    pub manifest: PathBuf,
    #[command(flatten)]
    pub tokens: TokenArgs,
    /// The checkpoints CSV to write (a rerun resumes it).
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
    /// Training tokens per step, for rows without tokens (Pythia: 2097152).
    #[arg(long, value_name = "N")]
    pub tokens_per_step: Option<f64>,
    /// Only every n-th checkpoint from the i-th (i from 0, e.g. $SLURM_ARRAY_TASK_ID/8).
    #[arg(long, value_name = "i/n")]
    pub shard: Option<Shard>,
}

pub fn run(a: FamilyArgs) -> Result<()> {
    let job = FamilyJob {
        manifest: a.manifest.clone(),
        scoring: a.tokens.scoring()?,
        non_embedding: a.tokens.non_embedding(),
        tokens_per_step: a.tokens_per_step,
        shard: a.shard,
        out: a.out.clone(),
    };
    let s = super::with_progress(|on| job.run(&mut |p| on(p)))?;
    crate::say!("ceq: {s} in {}", a.out.display());
    Ok(())
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard files written by `ceq eval-family --shard` or `ceq eval --manifest --shard`.
    #[arg(required = true, value_name = "CSV")]
    pub inputs: Vec<PathBuf>,
    /// The joined file to write (its per-sequence .npy files beside it); not one of the shards.
    #[arg(long, value_name = "CSV")]
    pub out: PathBuf,
}

pub fn merge_run(a: MergeArgs) -> Result<()> {
    let n = crate::eval::ledger::merge_files(&a.inputs, &a.out).map_err(super::with_flags)?;
    crate::say!("ceq: {n} rows written to {}", a.out.display());
    Ok(())
}
