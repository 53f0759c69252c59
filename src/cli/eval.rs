//! The commands that run models: `ceq eval` (splice SAEs into a checkpoint, or a sweep's many, and
//! measure CE: the splices CSV `ceq map` reads), `ceq eval-family` (a checkpoint family's clean CE on
//! one token set: the checkpoints CSV `ceq fit` reads) and `ceq merge` (shards of either joined).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;

use super::{OutputArgs, with_flags, with_progress};
use crate::eval::family::FamilyJob;
use crate::eval::job::{EvalJob, SaeSpec, Scoring, TokenSource};
use crate::eval::shard::Shard;
use crate::eval::sweep::SweepJob;
use crate::eval::{DeviceSpec, Hook};
use crate::law_file::ParamCount;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model folder (Hugging Face layout: config.json + model.safetensors or a sharded index).
    #[arg(long, value_name = "DIR", required_unless_present = "manifest")]
    pub model: Option<PathBuf>,
    /// SAE folder (SAELens: cfg.json + sae_weights.safetensors; or EleutherAI sparsify: cfg.json +
    /// sae.safetensors in a folder named after its hookpoint, layers.N); repeat for several.
    #[arg(long = "sae", value_name = "DIR", required_unless_present = "manifest")]
    pub saes: Vec<PathBuf>,
    /// Hook to splice at (TransformerLens name); default: each SAE's own (cfg.json's hook_name, or
    /// sparsify's layers.N = blocks.N.hook_resid_post).
    #[arg(long, value_name = "NAME")]
    pub hook: Option<Hook>,
    /// A sweep instead: a CSV of name,model,sae[,hook] (paths relative to it), evaluated by model
    /// and hook, saved as each hook finishes and resumed by a rerun; needs --out (a CSV).
    #[arg(long, value_name = "CSV", requires = "out", conflicts_with_all = ["model", "saes", "hook", "format", "force"])]
    pub manifest: Option<PathBuf>,
    /// With --manifest: eval-family's manifest; `model` then names its checkpoints, whose training
    /// tokens fill the tokens column (a complete splices file for `ceq map`).
    #[arg(long, value_name = "CSV", requires = "manifest")]
    pub family: Option<PathBuf>,
    /// Training tokens per step, for family rows without tokens.
    #[arg(long, value_name = "N", requires = "family")]
    pub tokens_per_step: Option<f64>,
    /// The --model's training tokens, for the tokens column (its actual compute, 6·params·tokens).
    #[arg(long, value_name = "N", conflicts_with = "manifest")]
    pub trained_tokens: Option<f64>,
    /// With --manifest: only every n-th (model, hook) group from the i-th (i from 0).
    #[arg(long, value_name = "i/n", requires = "manifest")]
    pub shard: Option<Shard>,
    #[command(flatten)]
    pub tokens: TokenArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The token set and how it is run; shared by `eval` and `eval-family`.
#[derive(Args, Debug)]
pub struct TokenArgs {
    /// Token ids: a .npy integer array [n_seq, ctx].
    #[arg(long, value_name = "NPY", required_unless_present = "text")]
    pub tokens: Option<PathBuf>,
    /// Or a text file, tokenized with --tokenizer and cut into rows of --ctx (each starting with BOS).
    #[arg(long, value_name = "TXT", requires_all = ["tokenizer", "ctx"], conflicts_with = "tokens")]
    pub text: Option<PathBuf>,
    /// A Hugging Face tokenizer.json, for --text.
    #[arg(long, value_name = "JSON")]
    pub tokenizer: Option<PathBuf>,
    /// Row length for --text.
    #[arg(long)]
    pub ctx: Option<usize>,
    /// Sequences per batch.
    #[arg(long, default_value = "8")]
    pub batch: NonZeroUsize,
    /// Backend: flex (pure-Rust CPU), tch (libtorch CPU), tch-cuda or tch-cuda:N; tch needs a build
    /// with `--features tch`.
    #[arg(long, default_value = "flex", value_name = "DEVICE")]
    pub device: DeviceSpec,
    /// Also count positions holding BOS/EOS/pad: score them, and splice an SAE (`eval`) there (by
    /// default neither, as SAEBench's suite runs: exclude_special_tokens_from_reconstruction true).
    #[arg(long)]
    pub keep_special: bool,
    /// MiB of activations an SAE evaluation keeps between its passes (captures at a hook, clean and
    /// spliced hidden states) instead of recomputing them; bounds memory beside the weights, one
    /// batch and one chunk of logits. A clean pass alone (eval-family) keeps none.
    #[arg(long, default_value = "1024", value_name = "MIB")]
    pub cache_mb: usize,
    /// Which count the params column holds.
    #[arg(long, value_enum, default_value = "total")]
    pub param_count: ParamCount,
}

impl TokenArgs {
    pub fn scoring(&self) -> Result<Scoring> {
        let (t, tk) = (self.text.clone(), self.tokenizer.clone());
        let tokens = TokenSource::new(self.tokens.clone(), t, tk, self.ctx)
            .ok_or_else(|| anyhow!("pass --tokens FILE.npy, or --text, --tokenizer and --ctx"))?;
        let (batch, device, keep_special) = (self.batch, self.device, self.keep_special);
        Ok(Scoring {
            tokens,
            batch,
            device,
            keep_special,
            cache_mb: self.cache_mb,
        })
    }
}

pub fn eval(a: EvalArgs) -> Result<()> {
    let Some(model) = a.model.clone() else {
        return sweep(a);
    };
    let saes = a.saes.iter().map(|dir| SaeSpec {
        dir: dir.clone(),
        hook: a.hook,
        name: None,
        listed: None,
    });
    let job = EvalJob {
        model,
        saes: saes.collect(),
        scoring: a.tokens.scoring()?,
        model_name: None,
        param_count: a.tokens.param_count,
        host_tokens: a.trained_tokens,
    };
    a.output.check(&job.inputs())?;
    let (report, said) = with_progress(|on| job.run(&mut |p| on(p)))?;
    crate::say!("ceq: {}", report.timing());
    a.output
        .emit(report.rows.len(), &said, |f| report.table_for(f))
}

fn sweep(a: EvalArgs) -> Result<()> {
    let (Some(manifest), Some(out)) = (a.manifest, a.output.out) else {
        anyhow::bail!("pass --model, or --manifest and --out");
    };
    let job = SweepJob {
        manifest,
        family: a.family,
        tokens_per_step: a.tokens_per_step,
        scoring: a.tokens.scoring()?,
        param_count: a.tokens.param_count,
        shard: a.shard,
        out,
    };
    let (s, _) = with_progress(|on| job.run(&mut |p| on(p)))?;
    crate::say!("ceq: {s} in {}", job.out.display());
    Ok(())
}

#[derive(Args, Debug)]
pub struct EvalFamilyArgs {
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

pub fn eval_family(a: EvalFamilyArgs) -> Result<()> {
    let job = FamilyJob {
        manifest: a.manifest.clone(),
        scoring: a.tokens.scoring()?,
        param_count: a.tokens.param_count,
        tokens_per_step: a.tokens_per_step,
        shard: a.shard,
        out: a.out.clone(),
    };
    let (s, _) = with_progress(|on| job.run(&mut |p| on(p)))?;
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

pub fn merge(a: MergeArgs) -> Result<()> {
    let (n, notes) = crate::eval::ledger::merge_files(&a.inputs, &a.out).map_err(with_flags)?;
    for note in notes {
        crate::say!("ceq: {note}");
    }
    crate::say!("ceq: {n} row(s) written to {}", a.out.display());
    Ok(())
}
