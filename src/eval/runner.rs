//! One SAE on one model over a token set: the clean, spliced, zero- and mean-ablated continuations
//! branch from one run of the layers before the hook, and every metric is averaged over the same
//! next-token positions. Tokens stream in batches, so memory is bounded by the batch.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::Serialize;

use super::hook::Hook;
use super::logprob;
use super::model::Transformer;
use super::sae::Sae;
use super::tokens::Tokens;

#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    /// Sequences per batch.
    pub batch: usize,
    /// Splice and score positions holding BOS/EOS/pad too (SAEBench leaves them out).
    pub keep_special: bool,
    /// Compute NLL and KL from the logits in host memory with ceq's fused multithreaded pass
    /// ([`super::logprob`]) rather than with tensor ops on the device. Faster on the pure-Rust CPU
    /// backend; on libtorch the tensor ops are already fused and threaded, and on a GPU the logits
    /// would have to cross to the host.
    pub host_logprobs: bool,
}

/// Every number `ceq eval` reports for one SAE. CE and KL in nats per token.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalResult {
    pub n_tokens: usize,
    pub ce_clean: f64,
    pub ce_spliced: f64,
    pub ce_zero_ablation: f64,
    pub ce_mean_ablation: f64,
    pub loss_recovered: f64,
    pub kl: f64,
    pub l0: f64,
    pub explained_variance: f64,
    pub mse: f64,
    pub cosine: f64,
    pub se_ce_clean: f64,
    pub se_ce_spliced: f64,
    pub se_ce_zero_ablation: f64,
    pub se_ce_mean_ablation: f64,
    pub se_delta: f64,
}

/// Per-sequence sums, in f64.
#[derive(Clone, Debug, Default)]
struct Seq {
    n: f64,
    ce: [f64; 4],
}

/// Standard error of the mean of per-sequence means.
fn se(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    if v.len() < 2 {
        return f64::NAN;
    }
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt()
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 data")
}

/// Which positions count: [rows, ctx], true where the input token is not special (or always, with
/// `keep_special`), and never the last position, which has no next token.
fn eval_mask(tokens: &Tokens, r0: usize, r1: usize, special: &[u32], keep: bool) -> Vec<bool> {
    let ctx = tokens.ctx;
    (r0..r1)
        .flat_map(|r| (0..ctx).map(move |t| (r, t)))
        .map(|(r, t)| t + 1 < ctx && (keep || !special.contains(&tokens.ids[r * ctx + t])))
        .collect()
}

/// How many positions of `tokens` are scored (see [`eval_mask`]).
pub fn scored_positions(tokens: &Tokens, special: &[u32], keep_special: bool) -> usize {
    eval_mask(tokens, 0, tokens.n_seq, special, keep_special)
        .into_iter()
        .filter(|&m| m)
        .count()
}

impl EvalResult {
    /// The first metric that came out NaN or infinite, by name: the clean cross-entropy points at
    /// the model, any other at the SAE.
    pub fn non_finite(&self) -> Option<&'static str> {
        const NAMES: [&str; 8] = [
            "ce_clean",
            "ce_spliced",
            "ce_zero_ablation",
            "ce_mean_ablation",
            "kl",
            "l0",
            "mse",
            "cosine",
        ];
        let values = [
            self.ce_clean,
            self.ce_spliced,
            self.ce_zero_ablation,
            self.ce_mean_ablation,
            self.kl,
            self.l0,
            self.mse,
            self.cosine,
        ];
        values.iter().position(|v| !v.is_finite()).map(|i| NAMES[i])
    }
}

/// Next-token negative log-likelihood at every position but the last: [rows, ctx − 1].
fn nll(logits: Tensor<3>, targets: &Tensor<3, Int>) -> (Tensor<2>, Tensor<3>) {
    let [b, t, v] = logits.dims();
    let lp = log_softmax(logits.slice([0..b, 0..t - 1, 0..v]), 2);
    let picked = lp.clone().gather(2, targets.clone()).reshape([b, t - 1]);
    (picked.neg(), lp)
}

/// NLL of the clean, spliced, zero- and mean-ablated continuations and KL(clean‖spliced), per
/// position [rows, ctx − 1], from logits copied to the host one condition at a time (at most two
/// conditions' logits are held at once).
fn host_nll_kl(
    model: &Transformer,
    cap: &super::model::Capture,
    clean: Tensor<3>,
    [spliced, zero, mean]: [Tensor<3>; 3],
    tokens: &Tokens,
    r0: usize,
    r1: usize,
) -> [Vec<f64>; 5] {
    let (rows, ctx) = (r1 - r0, tokens.ctx);
    let targets: Vec<u32> = (r0..r1)
        .flat_map(|r| tokens.ids[r * ctx + 1..(r + 1) * ctx].iter().copied())
        .collect();
    let vocab = model.cfg.vocab;
    let run = |x: Tensor<3>| {
        let l = to_vec(model.resume(cap, x));
        let lse = logprob::logsumexps(&l, rows, ctx, vocab);
        let nll = logprob::nll(&l, &lse, &targets, ctx, vocab);
        (l, lse, nll)
    };
    let (lc, lse_c, nll_c) = run(clean);
    let (ls, lse_s, nll_s) = run(spliced);
    let kl = logprob::kl(&lc, &lse_c, &ls, &lse_s, ctx, vocab);
    drop((lc, ls));
    let nll_z = run(zero).2;
    let nll_m = run(mean).2;
    [nll_c, nll_s, nll_z, nll_m, kl]
}

pub fn evaluate(
    model: &Transformer,
    sae: &Sae,
    hook: Hook,
    tokens: &Tokens,
    opts: &EvalOptions,
    device: &Device,
    tick: &mut dyn FnMut(usize),
) -> EvalResult {
    let special = &model.cfg.special_ids;
    let (ctx, d) = (tokens.ctx, sae.d_in);
    let batches: Vec<(usize, usize)> = (0..tokens.n_seq)
        .step_by(opts.batch.max(1))
        .map(|r0| (r0, (r0 + opts.batch.max(1)).min(tokens.n_seq)))
        .collect();
    let mask_tensor = |m: &[bool], rows: usize| {
        Tensor::<3, Bool>::from_data(TensorData::new(m.to_vec(), [rows, ctx, 1]), device)
            .expand([rows, ctx, d])
    };

    // Pass 1: the mean activation at the hook over the evaluated positions (the layers before the
    // hook only), for mean ablation.
    let mut sum = vec![0f64; d];
    let mut count = 0f64;
    for &(r0, r1) in &batches {
        let cap = model.capture(&tokens.batch(r0, r1, device), hook);
        let m = eval_mask(tokens, r0, r1, special, opts.keep_special);
        for (i, row) in to_vec(cap.act).chunks_exact(d).enumerate() {
            if m[i] {
                count += 1.0;
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += *v as f64;
                }
            }
        }
    }
    let mean: Vec<f32> = sum.iter().map(|s| (s / count.max(1.0)) as f32).collect();
    let mean_t = Tensor::<1>::from_data(TensorData::new(mean, [d]), device);

    // Pass 2: four continuations per batch from one capture.
    let mut seqs: Vec<Seq> = vec![];
    let (mut kl, mut l0, mut sse, mut cos, mut xx) = (0f64, 0f64, 0f64, 0f64, 0f64);
    let mut xsum = vec![0f64; d];
    for &(r0, r1) in &batches {
        let rows = r1 - r0;
        let toks = tokens.batch(r0, r1, device);
        let targets = toks
            .clone()
            .slice([0..rows, 1..ctx])
            .reshape([rows, ctx - 1, 1]);
        let m = eval_mask(tokens, r0, r1, special, opts.keep_special);
        let splice_at = mask_tensor(&m, rows);
        let cap = model.capture(&toks, hook);
        let x = cap.act.clone();
        let (f, x_hat) = sae.forward(x.clone().reshape([rows * ctx, d]));
        let x_hat = x_hat.reshape([rows, ctx, d]);

        let mean_act = mean_t.clone().unsqueeze::<3>().expand([rows, ctx, d]);
        let inputs = [
            x.clone().mask_where(splice_at.clone(), x_hat.clone()),
            x.clone().mask_fill(splice_at.clone(), 0.0),
            x.clone().mask_where(splice_at, mean_act),
        ];
        let [c, s, z, mn, k] = if opts.host_logprobs {
            host_nll_kl(model, &cap, x.clone(), inputs, tokens, r0, r1)
        } else {
            let (nll_clean, lp_clean) = nll(model.resume(&cap, x.clone()), &targets);
            let [spliced, zero, mean] = inputs;
            let (nll_spliced, lp_spliced) = nll(model.resume(&cap, spliced), &targets);
            let (nll_zero, _) = nll(model.resume(&cap, zero), &targets);
            let (nll_mean, _) = nll(model.resume(&cap, mean), &targets);
            let kl_pos = (lp_clean.clone().exp() * (lp_clean - lp_spliced))
                .sum_dim(2)
                .reshape([rows, ctx - 1]);
            [nll_clean, nll_spliced, nll_zero, nll_mean, kl_pos]
                .map(|t| to_vec(t).into_iter().map(f64::from).collect())
        };

        // Hook metrics per position.
        let err = (x.clone() - x_hat.clone())
            .square()
            .sum_dim(2)
            .reshape([rows, ctx]);
        let dot = (x.clone() * x_hat.clone()).sum_dim(2).reshape([rows, ctx]);
        let nx = x.clone().square().sum_dim(2).reshape([rows, ctx]);
        let nh = x_hat.square().sum_dim(2).reshape([rows, ctx]);
        let active = f.greater_elem(0.0).float().sum_dim(1).reshape([rows, ctx]);

        let [err, dot, nx, nh, active] = [err, dot, nx, nh, active].map(to_vec);
        let xs = to_vec(x);
        for r in 0..rows {
            let mut q = Seq::default();
            for t in 0..ctx - 1 {
                if !m[r * ctx + t] {
                    continue;
                }
                let (i, j) = (r * (ctx - 1) + t, r * ctx + t);
                q.n += 1.0;
                for (acc, v) in q.ce.iter_mut().zip([c[i], s[i], z[i], mn[i]]) {
                    *acc += v;
                }
                kl += k[i];
                l0 += active[j] as f64;
                sse += err[j] as f64;
                xx += nx[j] as f64;
                cos += dot[j] as f64 / ((nx[j] as f64).sqrt() * (nh[j] as f64).sqrt()).max(1e-30);
                for (acc, v) in xsum.iter_mut().zip(&xs[j * d..(j + 1) * d]) {
                    *acc += *v as f64;
                }
            }
            seqs.push(q);
        }
        tick(rows * ctx);
    }

    let n: f64 = seqs.iter().map(|q| q.n).sum();
    let total = |i: usize| seqs.iter().map(|q| q.ce[i]).sum::<f64>() / n;
    let per_seq = |f: &dyn Fn(&Seq) -> f64| -> Vec<f64> {
        seqs.iter().filter(|q| q.n > 0.0).map(f).collect()
    };
    let [ce_clean, ce_spliced, ce_zero, ce_mean] = [0, 1, 2, 3].map(total);
    // Σ‖x − x̄‖² = Σ‖x‖² − N‖x̄‖².
    let sst = xx - xsum.iter().map(|s| s * s).sum::<f64>() / n;
    EvalResult {
        n_tokens: n as usize,
        ce_clean,
        ce_spliced,
        ce_zero_ablation: ce_zero,
        ce_mean_ablation: ce_mean,
        loss_recovered: 1.0 - (ce_spliced - ce_clean) / (ce_zero - ce_clean),
        kl: kl / n,
        l0: l0 / n,
        explained_variance: 1.0 - sse / sst,
        mse: sse / (n * d as f64),
        cosine: cos / n,
        se_ce_clean: se(&per_seq(&|q| q.ce[0] / q.n)),
        se_ce_spliced: se(&per_seq(&|q| q.ce[1] / q.n)),
        se_ce_zero_ablation: se(&per_seq(&|q| q.ce[2] / q.n)),
        se_ce_mean_ablation: se(&per_seq(&|q| q.ce[3] / q.n)),
        se_delta: se(&per_seq(&|q| (q.ce[1] - q.ce[0]) / q.n)),
    }
}

/// The plain model's next-token CE over a token set, on the positions [`evaluate`] scores.
#[derive(Clone, Debug, PartialEq)]
pub struct CleanResult {
    pub n_tokens: usize,
    /// Mean over every scored position (nats/token).
    pub ce: f64,
    /// SE of the mean of per-sequence means.
    pub se: f64,
    /// Each sequence's mean CE (NaN for a sequence with no scored position).
    pub per_seq: Vec<f64>,
}

/// The clean CE alone. The sums run in the same order as [`evaluate`]'s clean condition, so both
/// give the same `ce_clean` on the same model and tokens.
pub fn clean(
    model: &Transformer,
    tokens: &Tokens,
    opts: &EvalOptions,
    device: &Device,
    tick: &mut dyn FnMut(usize),
) -> CleanResult {
    let special = &model.cfg.special_ids;
    let (ctx, vocab, step) = (tokens.ctx, model.cfg.vocab, opts.batch.max(1));
    let mut seqs: Vec<Seq> = vec![];
    for r0 in (0..tokens.n_seq).step_by(step) {
        let r1 = (r0 + step).min(tokens.n_seq);
        let rows = r1 - r0;
        let toks = tokens.batch(r0, r1, device);
        let logits = model.logits(&toks);
        let c: Vec<f64> = if opts.host_logprobs {
            let targets: Vec<u32> = (r0..r1)
                .flat_map(|r| tokens.ids[r * ctx + 1..(r + 1) * ctx].iter().copied())
                .collect();
            let l = to_vec(logits);
            let lse = logprob::logsumexps(&l, rows, ctx, vocab);
            logprob::nll(&l, &lse, &targets, ctx, vocab)
        } else {
            let targets = toks.slice([0..rows, 1..ctx]).reshape([rows, ctx - 1, 1]);
            to_vec(nll(logits, &targets).0)
                .into_iter()
                .map(f64::from)
                .collect()
        };
        let m = eval_mask(tokens, r0, r1, special, opts.keep_special);
        for r in 0..rows {
            let mut q = Seq::default();
            for t in (0..ctx - 1).filter(|&t| m[r * ctx + t]) {
                q.n += 1.0;
                q.ce[0] += c[r * (ctx - 1) + t];
            }
            seqs.push(q);
        }
        tick(rows * ctx);
    }
    let n: f64 = seqs.iter().map(|q| q.n).sum();
    let per_seq: Vec<f64> = seqs.iter().map(|q| q.ce[0] / q.n).collect();
    CleanResult {
        n_tokens: n as usize,
        ce: seqs.iter().map(|q| q.ce[0]).sum::<f64>() / n,
        se: se(&per_seq
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .collect::<Vec<_>>()),
        per_seq,
    }
}
