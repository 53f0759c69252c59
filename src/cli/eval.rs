//! `ceq eval`: splice SAEs into a checkpoint and measure CE; `--out` writes the splices CSV that
//! `ceq map` reads.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::output_format;
use crate::eval::runner::{EvalOptions, EvalResult, evaluate};
use crate::eval::sae::Sae;
use crate::eval::tokens::Tokens;
use crate::eval::{DeviceSpec, Hook, Transformer};
use crate::export::{Cell, Column, Format, Table};
use crate::io::{check_not_input, write_atomic};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model folder (Hugging Face layout: config.json + model.safetensors or a sharded index).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// SAE folder (SAELens layout: cfg.json + sae_weights.safetensors); repeat for several.
    #[arg(long = "sae", value_name = "DIR", required = true)]
    pub saes: Vec<PathBuf>,
    /// Token ids: a .npy integer array [n_seq, ctx].
    #[arg(
        long,
        value_name = "NPY",
        required_unless_present = "text",
        conflicts_with = "text"
    )]
    pub tokens: Option<PathBuf>,
    /// Or a text file, tokenized with --tokenizer and cut into rows of --ctx (each starting with BOS).
    #[arg(long, value_name = "TXT", requires_all = ["tokenizer", "ctx"])]
    pub text: Option<PathBuf>,
    /// A Hugging Face tokenizer.json, for --text.
    #[arg(long, value_name = "JSON")]
    pub tokenizer: Option<PathBuf>,
    /// Row length for --text.
    #[arg(long)]
    pub ctx: Option<usize>,
    /// Hook to splice at (TransformerLens name); default: each SAE's cfg.json.
    #[arg(long, value_name = "NAME")]
    pub hook: Option<String>,
    /// Sequences per batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Backend: flex (pure-Rust CPU), tch (libtorch CPU), tch-cuda or tch-cuda:N; tch needs a build
    /// with `--features tch`.
    #[arg(long, default_value = "flex", value_name = "DEVICE")]
    pub device: DeviceSpec,
    /// Also splice and score positions holding BOS/EOS/pad (left out by default, as SAEBench does).
    #[arg(long)]
    pub keep_special: bool,
    /// Output format (default: from the --out extension, else a table).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the results here; a .csv is a splices file for `ceq map`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn folder_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The results as a table: one row per SAE, in the splices-CSV columns `ceq map` reads plus the
/// evaluation's own metrics (passed through by map).
fn table(
    rows: &[(String, Hook, &Sae, EvalResult)],
    model: &str,
    n_params: usize,
    tokens: &Path,
    keep: bool,
    with_recovered: bool,
    engine: &str,
) -> Table {
    let mut cols = vec![
        Column::new("name", ""),
        Column::new("model", ""),
        Column::new("hook", ""),
        Column::new("architecture", ""),
        Column::new("d_sae", "latents"),
        Column::new("params", "parameters (total)"),
        Column::new("n_tokens", "positions"),
        Column::new("ce_clean", "nats/token"),
        Column::new("ce_spliced", "nats/token"),
        Column::new("ce_zero_ablation", "nats/token"),
        Column::new("ce_mean_ablation", "nats/token"),
    ];
    if with_recovered {
        cols.push(Column::new("loss_recovered", "fraction"));
    }
    for (n, u) in [
        ("kl", "nats/token"),
        ("l0", "latents"),
        ("explained_variance", "fraction"),
        ("mse", "per element"),
        ("cosine", ""),
        ("se_ce_clean", "nats/token"),
        ("se_ce_spliced", "nats/token"),
        ("se_ce_zero_ablation", "nats/token"),
        ("se_ce_mean_ablation", "nats/token"),
        ("se_delta", "nats/token"),
        ("eval_tokens", ""),
        ("engine", ""),
    ] {
        cols.push(Column::new(n, u));
    }
    let rows = rows
        .iter()
        .map(|(name, hook, sae, r)| {
            let mut c = vec![
                Cell::Text(name.clone()),
                Cell::Text(model.to_owned()),
                Cell::Text(hook.to_string()),
                Cell::Text(sae.kind.name().into()),
                Cell::Num(sae.d_sae as f64),
                Cell::Num(n_params as f64),
                Cell::Num(r.n_tokens as f64),
                Cell::Num(r.ce_clean),
                Cell::Num(r.ce_spliced),
                Cell::Num(r.ce_zero_ablation),
                Cell::Num(r.ce_mean_ablation),
            ];
            if with_recovered {
                c.push(Cell::Num(r.loss_recovered));
            }
            for v in [
                r.kl,
                r.l0,
                r.explained_variance,
                r.mse,
                r.cosine,
                r.se_ce_clean,
                r.se_ce_spliced,
                r.se_ce_zero_ablation,
                r.se_ce_mean_ablation,
                r.se_delta,
            ] {
                c.push(Cell::Num(v));
            }
            c.push(Cell::Text(format!(
                "{}{}",
                tokens.display(),
                if keep {
                    " (all positions)"
                } else {
                    " (BOS/EOS/pad positions left out)"
                }
            )));
            c.push(Cell::Text(engine.to_owned()));
            c
        })
        .collect();
    Table {
        title: format!("SAEs spliced into {model}"),
        columns: cols,
        rows,
        notes: vec![
            "CE and KL(clean || spliced) in nats per next-token position; SEs over per-sequence means".into(),
            format!("params: total parameters of {model} (embeddings included)"),
            "engine: the burn backend that computed the row, in f32".into(),
        ],
    }
}

pub fn run(a: EvalArgs) -> Result<()> {
    if let Some(out) = &a.out {
        let mut inputs: Vec<&Path> = vec![a.model.as_path()];
        inputs.extend(a.tokens.as_deref());
        inputs.extend(a.text.as_deref());
        inputs.extend(a.tokenizer.as_deref());
        inputs.extend(a.saes.iter().map(|p| p.as_path()));
        check_not_input(out, &inputs)?;
    }
    if a.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let device = a.device.device()?;
    let model = Transformer::load(&a.model, &device)?;
    let (tokens, source) = match (&a.tokens, &a.text, &a.tokenizer, a.ctx) {
        (Some(p), _, _, _) => (Tokens::read_npy(p)?, p.clone()),
        (None, Some(t), Some(tk), Some(ctx)) => {
            (Tokens::from_text(t, tk, ctx, model.cfg.bos_id)?, t.clone())
        }
        _ => bail!(
            "pass --tokens FILE.npy, or --text FILE with --tokenizer tokenizer.json and --ctx N"
        ),
    };
    tokens.check(&source, model.cfg.vocab, model.cfg.max_positions)?;
    let forced = a.hook.as_deref().map(Hook::parse).transpose()?;
    let mut results = vec![];
    let total = (tokens.n_seq * tokens.ctx * a.saes.len()) as u64;
    let pb = super::progress(total as usize, "eval");
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} tokens ({per_sec}, {eta} left)",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    let start = Instant::now();
    for dir in &a.saes {
        let sae = Sae::load(dir, &device)?;
        let hook = match (forced, &sae.hook) {
            (Some(h), _) => h,
            (None, Some(name)) => Hook::parse(name)
                .with_context(|| format!("the hook named in {}", dir.join("cfg.json").display()))?,
            (None, None) => bail!("{}: cfg.json names no hook; pass --hook", dir.display()),
        };
        model.check_hook(&hook, &a.model)?;
        if sae.d_in != model.cfg.d_model {
            bail!(
                "{}: the SAE's d_in is {}, but {hook} of {} has width {}",
                dir.display(),
                sae.d_in,
                a.model.display(),
                model.cfg.d_model
            );
        }
        pb.set_message(folder_name(dir));
        let r = evaluate(
            &model,
            &sae,
            hook,
            &tokens,
            &EvalOptions {
                batch: a.batch,
                keep_special: a.keep_special,
                host_logprobs: a.device == DeviceSpec::Flex,
            },
            &device,
            &mut |n| pb.inc(n as u64),
        );
        results.push((folder_name(dir), hook, sae, r));
    }
    pb.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "ceq: {} SAE(s) on {} tokens in {secs:.2} s ({:.0} tokens/s, all four conditions)",
        results.len(),
        tokens.n_seq * tokens.ctx,
        total as f64 / secs
    );
    let refs: Vec<(String, Hook, &Sae, EvalResult)> = results
        .iter()
        .map(|(n, h, s, r)| (n.clone(), *h, s, r.clone()))
        .collect();
    let format = output_format(a.format, a.out.as_deref(), Format::Table);
    // The CSV is the splices format ceq map reads, which computes loss_recovered itself.
    let t = table(
        &refs,
        &folder_name(&a.model),
        model.n_params,
        &source,
        a.keep_special,
        format != Format::Csv,
        &a.device.describe(),
    );
    let text = format.render(&t);
    match &a.out {
        Some(out) => {
            write_atomic(out, text.as_bytes())?;
            eprintln!("ceq: {} rows written to {}", refs.len(), out.display());
        }
        None => super::print_stdout(&text)?,
    }
    Ok(())
}
