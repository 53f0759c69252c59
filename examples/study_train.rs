//! Trains one study model with ceq's trainer (src/study/train.rs) and prints one JSON line: the
//! training tokens/s, the last steps' loss, and (with `heldout=N`) the held-out CE beside the
//! language's floor on the same tokens. With `out=DIR` it saves the model in the Hugging Face
//! layout and, with `heldout=N`, the held-out rows as DIR/tokens.npy (int32 [N, ctx]).
//!
//! Used by benches/train_vs_pytorch.py (the speed comparison) and to make the committed tiny
//! checkpoint of tests/fixtures/study/tiny/ (see tests/fixtures/study/ce_check.py):
//!
//!     cargo run --release --example study_train -- d_model=64 n_layer=2 steps=200 out=/tmp/m
//!
//! Arguments are key=value; every key has a default (see `main`).

use std::collections::BTreeMap;
use std::time::Instant;

use ceq::study::{Language, ModelSize, Schedule, heldout_seed, train};
use npyz::WriterBuilder;

fn main() -> anyhow::Result<()> {
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    for a in std::env::args().skip(1) {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("argument '{a}' is not key=value"))?;
        args.insert(k.to_owned(), v.to_owned());
    }
    let mut take =
        |k: &str, default: &str| -> String { args.remove(k).unwrap_or_else(|| default.to_owned()) };
    let lang = Language {
        vocab: take("vocab", "128").parse()?,
        quanta: take("quanta", "256").parse()?,
        zipf: take("zipf", "1.2").parse()?,
        switch: take("switch", "0.02").parse()?,
        branching: take("branching", "3").parse()?,
        seed: take("lang_seed", "1").parse()?,
    };
    let size = ModelSize {
        d_model: take("d_model", "64").parse()?,
        n_layer: take("n_layer", "2").parse()?,
        n_head: take("n_head", "4").parse()?,
        ctx: take("ctx", "64").parse()?,
        vocab: lang.vocab,
    };
    let schedule = Schedule {
        steps: take("steps", "100").parse()?,
        batch: take("batch", "32").parse()?,
        lr: take("lr", "3e-3").parse()?,
        warmup: take("warmup", "10").parse()?,
        ..Schedule::default()
    };
    let seed: u64 = take("seed", "0").parse()?;
    let heldout: usize = take("heldout", "0").parse()?;
    let out = take("out", "");
    if let Some(k) = args.keys().next() {
        anyhow::bail!("unknown argument '{k}'");
    }
    let corpus = lang.build()?;
    let start = Instant::now();
    // The first step (allocations, thread pool start-up) is timed apart, as the PyTorch peer's is.
    let mut first_step = 0.0;
    let trained = train(&corpus, &size, &schedule, seed, &mut |p| {
        if p.step == 1 {
            first_step = start.elapsed().as_secs_f64();
        }
    })?;
    let secs = start.elapsed().as_secs_f64();
    let per_step = (schedule.batch * size.ctx) as f64;
    let last = &trained.losses[trained.losses.len().saturating_sub(10)..];
    let mut report = serde_json::json!({
        "params": size.n_params(),
        "params_non_embedding": size.n_params_non_embedding(),
        "tokens": trained.tokens,
        "steps": trained.steps,
        "seconds": secs,
        "first_step_s": first_step,
        "tokens_per_s": (trained.steps - 1) as f64 * per_step / (secs - first_step),
        "loss_last10": last.iter().sum::<f64>() / last.len() as f64,
        "ln_vocab": (lang.vocab as f64).ln(),
    });
    if heldout > 0 {
        let tokens = corpus.sample(heldout, size.ctx, heldout_seed(seed, 0));
        report["heldout_ce"] = trained.model.ce(&tokens, false).into();
        report["floor"] = corpus.floor_on(&tokens, size.ctx, false).mean.into();
        if !out.is_empty() {
            std::fs::create_dir_all(&out)?;
            let mut buf = vec![];
            let mut w = npyz::WriteOptions::<i32>::new()
                .default_dtype()
                .shape(&[heldout as u64, size.ctx as u64])
                .writer(&mut buf)
                .begin_nd()?;
            w.extend(tokens.iter().map(|&t| t as i32))?;
            w.finish()?;
            std::fs::write(format!("{out}/tokens.npy"), buf)?;
        }
    }
    if !out.is_empty() {
        trained.model.save_hf(std::path::Path::new(&out))?;
    }
    println!("{report}");
    Ok(())
}
