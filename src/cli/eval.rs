//! `ceq eval`: splice SAEs into a checkpoint and measure CE; `--out` writes the splices CSV that
//! `ceq map` reads.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;

use super::OutputArgs;
use crate::eval::job::{EvalJob, Scoring, TokenSource};
use crate::eval::{DeviceSpec, Hook};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model folder (Hugging Face layout: config.json + model.safetensors or a sharded index).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// SAE folder (SAELens: cfg.json + sae_weights.safetensors; or EleutherAI sparsify: cfg.json +
    /// sae.safetensors in a folder named after its hookpoint, layers.N); repeat for several.
    #[arg(long = "sae", value_name = "DIR", required = true)]
    pub saes: Vec<PathBuf>,
    /// Hook to splice at (TransformerLens name); default: each SAE's own (cfg.json's hook_name, or
    /// sparsify's layers.N = blocks.N.hook_resid_post).
    #[arg(long, value_name = "NAME")]
    pub hook: Option<Hook>,
    #[command(flatten)]
    pub tokens: TokenArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl EvalArgs {
    /// The library's job for these arguments.
    fn job(&self) -> Result<EvalJob> {
        Ok(EvalJob {
            model: self.model.clone(),
            saes: self.saes.clone(),
            hook: self.hook,
            scoring: self.tokens.scoring()?,
        })
    }
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
    /// Also splice and score positions holding BOS/EOS/pad (left out by default, as SAEBench does).
    #[arg(long)]
    pub keep_special: bool,
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
        })
    }
}

pub fn run(a: EvalArgs) -> Result<()> {
    let job = a.job()?;
    a.output.check(&job.inputs())?;
    let report = super::with_progress("eval", |p| job.run(p))?;
    eprintln!("ceq: {}", report.timing());
    let text = a.output.format().render(&report.table());
    a.output.emit(&text, report.rows.len())
}
