//! SAEs on one model over a token set: the clean, spliced, zero- and mean-ablated continuations
//! branch from one run of the layers before the hook, shared by every SAE at that hook, and every
//! metric is averaged over the same next-token positions. Tokens stream in batches and logits in
//! chunks of positions (`eval/nll.rs`), so memory is bounded by the batch, the chunk and the
//! cache budget.

use burn::tensor::{Bool, Device, Tensor, TensorData};
use rayon::prelude::*;
use serde::Serialize;

use super::hook::Hook;
use super::model::{Capture, Transformer};
use super::nll;
use super::sae::{Latents, Sae};
use super::tokens::Tokens;

#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    /// Sequences per batch.
    pub batch: usize,
    /// Splice and score positions holding BOS/EOS/pad too (SAEBench leaves them out).
    pub keep_special: bool,
    /// Run ceq's own multithreaded kernels in host memory rather than tensor ops on the device:
    /// NLL and KL from the logits in one fused pass (`eval/logprob.rs`), and a top-k SAE's
    /// selection and sparse decoding ([`Sae::forward`]); and run a batch's continuations
    /// concurrently. Faster on the pure-Rust CPU backend; on libtorch the tensor ops are already
    /// fused and threaded, and on a GPU the data would have to cross to the host.
    pub host_kernels: bool,
    /// Positions per chunk of logits; 0: about 28 MiB of logits per condition.
    pub chunk: usize,
    /// Bytes of activations kept between passes (the captures at a hook, the spliced hidden
    /// states of a sub-group of SAEs); beyond it they are recomputed.
    pub cache_bytes: usize,
}

/// Every number `ceq eval` reports for one SAE. CE and KL in nats per token.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalResult {
    pub n_tokens: usize,
    pub ce_clean: f64,
    pub ce_spliced: f64,
    pub ce_zero_ablation: f64,
    pub ce_mean_ablation: f64,
    /// SAEBench's ce_loss_score, (zero − spliced)/(zero − clean), whatever the denominator's sign;
    /// ceq's `loss_recovered` column is left empty where zero ablation is not above clean.
    pub ce_loss_score: f64,
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
    /// SAEBench's KL(clean ‖ zero-ablated).
    pub kl_div_with_ablation: f64,
    /// SAEBench's (KL_ablation − KL_sae) / KL_ablation.
    pub kl_div_score: f64,
    /// Mean ‖x‖ at the hook.
    pub l2_norm_in: f64,
    /// Mean ‖x̂‖.
    pub l2_norm_out: f64,
    /// Mean ‖x̂‖ / ‖x‖ (‖x‖ < 1e-4 counts as 1).
    pub l2_ratio: f64,
    /// Per batch mean ‖x̂‖² / mean x·x̂, averaged over batches (Gated SAE paper eq. 10; SAEBench).
    pub relative_reconstruction_bias: f64,
    /// Mean Σ f (latent activations, summed without abs as SAEBench does).
    pub l1: f64,
    /// Share of latents active (> 0) at least once over the scored positions.
    pub frac_alive: f64,
    /// Mean over positions of 1 − ‖x − x̂‖² / ‖x − x̄_batch‖² (SAEBench's per-token form).
    pub explained_variance_legacy: f64,
    /// Each sequence's mean clean CE (NaN for a sequence with no scored position).
    #[serde(skip)]
    pub per_seq_clean: Vec<f64>,
    /// Each sequence's mean spliced CE.
    #[serde(skip)]
    pub per_seq_spliced: Vec<f64>,
}

/// Per-sequence sums, in f64.
#[derive(Clone, Debug, Default)]
struct Seq {
    n: f64,
    ce: f64,
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

/// How many positions each sequence scores (its per-sequence mean's weight in the token mean).
pub fn scored_per_seq(tokens: &Tokens, special: &[u32], keep_special: bool) -> Vec<f64> {
    let m = eval_mask(tokens, 0, tokens.n_seq, special, keep_special);
    m.chunks(tokens.ctx.max(1))
        .map(|r| r.iter().filter(|&&b| b).count() as f64)
        .collect()
}

/// How many positions of `tokens` are scored (see `eval_mask`).
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

/// Token rows per batch: `(r0, r1)` pairs.
fn batches(n_seq: usize, batch: usize) -> Vec<(usize, usize)> {
    (0..n_seq)
        .step_by(batch.max(1))
        .map(|r0| (r0, (r0 + batch.max(1)).min(n_seq)))
        .collect()
}

/// One SAE's running sums over the scored positions.
struct SaeSums {
    /// Per sequence: Σ spliced NLL.
    spliced: Vec<f64>,
    kl: f64,
    l0: f64,
    l1: f64,
    sse: f64,
    cos: f64,
    l2_out: f64,
    l2_ratio: f64,
    ev_legacy: f64,
    /// Per batch: mean ‖x̂‖² / mean x·x̂ (SAEBench takes it per batch, then the mean).
    rrb: Vec<f64>,
    /// Latents active at least once.
    alive: Vec<bool>,
}

impl SaeSums {
    fn new(d_sae: usize) -> SaeSums {
        SaeSums {
            spliced: vec![],
            kl: 0.0,
            l0: 0.0,
            l1: 0.0,
            sse: 0.0,
            cos: 0.0,
            l2_out: 0.0,
            l2_ratio: 0.0,
            ev_legacy: 0.0,
            rrb: vec![],
            alive: vec![false; d_sae],
        }
    }
}

/// What one batch contributes, shared by every SAE at the hook.
struct BatchView<'a> {
    /// Scored positions, [rows, ctx].
    mask: &'a [bool],
    /// ‖x‖² per position.
    nx: &'a [f32],
    /// ‖x − x̄_batch‖² per position (x̄_batch: mean over the batch's scored positions), for the legacy
    /// per-token explained variance.
    tss: &'a [f64],
}

/// The hook metrics of one SAE on one batch, added to `acc`.
fn add_hook_metrics(
    acc: &mut SaeSums,
    x: &Tensor<3>,
    f: Latents,
    x_hat: &Tensor<3>,
    v: &BatchView,
) {
    let [rows, ctx, _] = x.dims();
    let device = x.device();
    let per_pos = |t: Tensor<3>| to_vec(t.sum_dim(2).reshape([rows, ctx]));
    let err = per_pos((x.clone() - x_hat.clone()).square());
    let dot = per_pos(x.clone() * x_hat.clone());
    let nh = per_pos(x_hat.clone().square());
    let (l0, l1) = match f {
        Latents::Dense(f) => {
            let active = f.clone().greater_elem(0.0).float();
            let l0 = to_vec(active.clone().sum_dim(1).reshape([rows, ctx]));
            let l1 = to_vec(f.sum_dim(1).reshape([rows, ctx]));
            let m: Vec<f32> = v.mask.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect();
            let m = Tensor::<2>::from_data(TensorData::new(m, [rows * ctx, 1]), &device);
            let fired = to_vec((active * m).sum_dim(0));
            for (a, n) in acc.alive.iter_mut().zip(fired) {
                *a |= n > 0.0;
            }
            (l0, l1)
        }
        Latents::Sparse { k, idx, val } => {
            let (mut l0, mut l1) = (vec![0f32; rows * ctx], vec![0f32; rows * ctx]);
            for (j, (idx, val)) in idx.chunks_exact(k).zip(val.chunks_exact(k)).enumerate() {
                for (&i, &f) in idx.iter().zip(val).filter(|(_, f)| **f > 0.0) {
                    l0[j] += 1.0;
                    l1[j] += f;
                    acc.alive[i as usize] |= v.mask[j];
                }
            }
            (l0, l1)
        }
    };
    let (mut hh, mut xh) = (0f64, 0f64);
    for j in (0..rows * ctx).filter(|&j| v.mask[j]) {
        let (nx, nh) = (v.nx[j] as f64, nh[j] as f64);
        acc.l0 += l0[j] as f64;
        acc.l1 += l1[j] as f64;
        acc.sse += err[j] as f64;
        acc.cos += dot[j] as f64 / (nx.sqrt() * nh.sqrt()).max(1e-30);
        acc.l2_out += nh.sqrt();
        // SAEBench divides by 1 where ‖x‖ < 1e-4.
        acc.l2_ratio += nh.sqrt() / if nx.sqrt() < 1e-4 { 1.0 } else { nx.sqrt() };
        // A position at its batch's mean has no variance to explain: the mean is undefined.
        acc.ev_legacy += match v.tss[j] > 0.0 {
            true => 1.0 - err[j] as f64 / v.tss[j],
            false => f64::NAN,
        };
        hh += nh;
        xh += dot[j] as f64;
    }
    if v.mask.iter().any(|&b| b) {
        acc.rrb.push(hh / xh);
    }
}

/// One continuation besides the clean one.
#[derive(Clone, Copy)]
enum Cond {
    Zero,
    Mean,
    /// The i-th SAE spliced in.
    Sae(usize),
}

/// Final hidden states of the clean model, per batch, when kept between hooks (see
/// [`clean_hidden`]).
pub type CleanHidden = Vec<Tensor<3>>;

/// The clean model's final hidden states for every batch, if they fit in `budget` bytes: one pass
/// that every hook of a sweep then reuses instead of running the layers after its hook again.
pub fn clean_hidden(
    model: &Transformer,
    tokens: &Tokens,
    opts: &EvalOptions,
    device: &Device,
    budget: usize,
) -> Option<CleanHidden> {
    let bytes = 4 * tokens.n_seq * tokens.ctx * model.cfg.d_model;
    (bytes <= budget).then(|| {
        batches(tokens.n_seq, opts.batch)
            .into_iter()
            .map(|(r0, r1)| model.hidden(&tokens.batch(r0, r1, device)))
            .collect()
    })
}

/// One SAE on one model at one hook: [`evaluate_group`] with a group of one.
pub fn evaluate(
    model: &Transformer,
    sae: &Sae,
    hook: Hook,
    tokens: &Tokens,
    opts: &EvalOptions,
    device: &Device,
    tick: &mut dyn FnMut(usize),
) -> EvalResult {
    evaluate_group(model, hook, &[sae], tokens, opts, None, device, tick).remove(0)
}

/// Every SAE of `saes` spliced at one hook. What does not depend on the SAE runs once for all of
/// them: the layers before the hook (kept between the mean pass and the splice pass when they fit
/// half of `opts.cache_bytes`), the clean continuation (or `clean` from [`clean_hidden`]), and
/// the zero- and mean-ablated continuations. Per SAE only the SAE and its spliced continuation
/// run; SAEs go in sub-groups whose spliced hidden states for one batch fit a quarter of
/// `opts.cache_bytes` (at least one at a time); the last quarter is for [`clean_hidden`].
/// Results come in the order of `saes`, each equal to what the SAE alone would give.
#[allow(clippy::too_many_arguments)]
pub fn evaluate_group(
    model: &Transformer,
    hook: Hook,
    saes: &[&Sae],
    tokens: &Tokens,
    opts: &EvalOptions,
    clean: Option<&CleanHidden>,
    device: &Device,
    tick: &mut dyn FnMut(usize),
) -> Vec<EvalResult> {
    crate::heap::keep_freed_memory();
    let special = &model.cfg.special_ids;
    let (ctx, d) = (tokens.ctx, model.cfg.d_model);
    let batches = batches(tokens.n_seq, opts.batch);
    let chunk = if opts.chunk == 0 {
        nll::default_chunk(model.cfg.vocab)
    } else {
        opts.chunk
    };
    let mask_tensor = |m: &[bool], rows: usize| {
        Tensor::<3, Bool>::from_data(TensorData::new(m.to_vec(), [rows, ctx, 1]), device)
            .expand([rows, ctx, d])
    };

    // Pass 1: the mean activation at the hook over the scored positions (the layers before the
    // hook only), for mean ablation; the captures are kept for pass 2 if they fit the budget.
    let mut sum = vec![0f64; d];
    let mut count = 0f64;
    let mut kept: Vec<Capture> = vec![];
    let mut keep = true;
    let mut kept_bytes = 0usize;
    for &(r0, r1) in &batches {
        let cap = model.capture(&tokens.batch(r0, r1, device), hook);
        let m = eval_mask(tokens, r0, r1, special, opts.keep_special);
        for (i, row) in to_vec(cap.act.clone()).chunks_exact(d).enumerate() {
            if m[i] {
                count += 1.0;
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += *v as f64;
                }
            }
        }
        kept_bytes += cap.bytes();
        keep &= kept_bytes <= opts.cache_bytes / 2;
        if keep {
            kept.push(cap);
        } else {
            kept.clear();
        }
    }
    let mean: Vec<f32> = sum.iter().map(|s| (s / count.max(1.0)) as f32).collect();
    let mean_t = Tensor::<1>::from_data(TensorData::new(mean, [d]), device);

    // Pass 2, per sub-group of SAEs.
    let hidden_bytes = 4 * opts.batch.max(1) * ctx * d;
    let per_group = (opts.cache_bytes / 4 / hidden_bytes.max(1)).clamp(1, saes.len().max(1));
    let mut sums: Vec<SaeSums> = saes.iter().map(|s| SaeSums::new(s.d_sae)).collect();
    // Per sequence: scored positions and Σ NLL of clean, zero- and mean-ablated.
    let (mut seq_n, mut seq_c, mut seq_z, mut seq_m) = (vec![], vec![], vec![], vec![]);
    let (mut kl_zero, mut l2_in) = (0f64, 0f64);
    // Σ‖x − x̄‖² from sums of x − r, r the first scored position's activation, all in f64: the
    // textbook Σ‖x‖² − N‖x̄‖² cancels to f32's rounding where x barely varies (an activation that
    // is a bias alone came out at 1e-7 of Σ‖x‖², an explained variance of −2.8e6), while this is
    // exactly 0 where x does not vary at all.
    let (mut shift, mut dd, mut dsum): (Option<Vec<f64>>, f64, Vec<f64>) =
        (None, 0.0, vec![0.0; d]);
    for g0 in (0..saes.len()).step_by(per_group) {
        let group = g0..(g0 + per_group).min(saes.len());
        let first = g0 == 0;
        for (bi, &(r0, r1)) in batches.iter().enumerate() {
            let rows = r1 - r0;
            let cap = match kept.get(bi) {
                Some(c) => c.clone(),
                None => model.capture(&tokens.batch(r0, r1, device), hook),
            };
            let x = cap.act.clone();
            let m = eval_mask(tokens, r0, r1, special, opts.keep_special);
            let splice_at = mask_tensor(&m, rows);
            let clean_h = match clean {
                Some(h) => h[bi].clone(),
                None => model.resume_hidden(&cap, x.clone()),
            };

            // What every SAE shares: ‖x‖², ‖x − x̄_batch‖², and (once) Σx and Σ‖x‖².
            let xs = to_vec(x.clone());
            let nx = to_vec(x.clone().square().sum_dim(2).reshape([rows, ctx]));
            let scored: Vec<usize> = (0..rows * ctx).filter(|&j| m[j]).collect();
            let mut xbar = vec![0f64; d];
            for &j in &scored {
                for (a, v) in xbar.iter_mut().zip(&xs[j * d..(j + 1) * d]) {
                    *a += *v as f64;
                }
            }
            xbar.iter_mut()
                .for_each(|a| *a /= scored.len().max(1) as f64);
            let tss: Vec<f64> = (0..rows * ctx)
                .map(|j| {
                    xs[j * d..(j + 1) * d]
                        .iter()
                        .zip(&xbar)
                        .map(|(v, b)| (*v as f64 - b).powi(2))
                        .sum()
                })
                .collect();
            if first {
                for &j in &scored {
                    l2_in += (nx[j] as f64).sqrt();
                    let x = &xs[j * d..(j + 1) * d];
                    let r = shift.get_or_insert_with(|| x.iter().map(|v| *v as f64).collect());
                    for ((acc, v), r) in dsum.iter_mut().zip(x).zip(r.iter()) {
                        let dv = *v as f64 - r;
                        *acc += dv;
                        dd += dv * dv;
                    }
                }
            }
            let view = BatchView {
                mask: &m,
                nx: &nx,
                tss: &tss,
            };

            // The ablated and spliced continuations are independent: run them concurrently, so
            // one's single-threaded stretches (element-wise ops, copies) overlap another's
            // multithreaded matmuls. Each gives the same bits as when run alone.
            let mut jobs: Vec<(Cond, Option<&mut SaeSums>)> = vec![];
            if first {
                jobs.push((Cond::Zero, None));
                jobs.push((Cond::Mean, None));
            }
            let (_, rest) = sums.split_at_mut(group.start);
            for (i, acc) in group.clone().zip(rest.iter_mut()) {
                jobs.push((Cond::Sae(i), Some(acc)));
            }
            let run = |(cond, acc): (Cond, Option<&mut SaeSums>)| {
                let input = match cond {
                    Cond::Zero => x.clone().mask_fill(splice_at.clone(), 0.0),
                    Cond::Mean => {
                        let mean_act = mean_t.clone().unsqueeze::<3>().expand([rows, ctx, d]);
                        x.clone().mask_where(splice_at.clone(), mean_act)
                    }
                    Cond::Sae(i) => {
                        // A host with centred writing weights has these activations less their
                        // mean over d_model. The reconstruction goes into the raw stream as it
                        // is: the two differ by a multiple of (1, …, 1), which every LayerNorm
                        // downstream removes.
                        let x_in = if saes[i].center_input {
                            let mean = x.clone().mean_dim(2).expand([rows, ctx, d]);
                            x.clone() - mean
                        } else {
                            x.clone()
                        };
                        let (f, x_hat) = saes[i]
                            .forward(x_in.clone().reshape([rows * ctx, d]), opts.host_kernels);
                        let x_hat = x_hat.reshape([rows, ctx, d]);
                        add_hook_metrics(acc.expect("an SAE's sums"), &x_in, f, &x_hat, &view);
                        x.clone().mask_where(splice_at.clone(), x_hat)
                    }
                };
                nll::Other {
                    hidden: model.resume_hidden(&cap, input),
                    kl: !matches!(cond, Cond::Mean),
                }
            };
            // Only on flex: libtorch's element-wise ops are multithreaded already, and two streams
            // of them would oversubscribe its thread pool (or share one GPU).
            let others: Vec<nll::Other> = if opts.host_kernels {
                jobs.into_par_iter().map(run).collect()
            } else {
                jobs.into_iter().map(run).collect()
            };
            let targets = nll::targets(&tokens.ids, ctx, r0, r1);
            let per = nll::score(model, clean_h, others, &targets, chunk, opts.host_kernels);
            let skip = if first { 2 } else { 0 };
            // Sums per sequence in position order, as `clean` does, so ce_clean is the same bits.
            for r in 0..rows {
                let pos: Vec<usize> = (0..ctx - 1)
                    .filter(|&t| m[r * ctx + t])
                    .map(|t| r * (ctx - 1) + t)
                    .collect();
                let total = |v: &[f64]| pos.iter().map(|&i| v[i]).sum::<f64>();
                if first {
                    seq_n.push(pos.len() as f64);
                    seq_c.push(total(&per.clean));
                    seq_z.push(total(&per.nll[0]));
                    seq_m.push(total(&per.nll[1]));
                    kl_zero += total(&per.kl[0]);
                }
                for (k, i) in group.clone().enumerate() {
                    sums[i].spliced.push(total(&per.nll[skip + k]));
                    sums[i].kl += total(&per.kl[skip + k]);
                }
            }
            tick(rows * ctx * group.len());
        }
    }

    let n: f64 = seq_n.iter().sum();
    let mean_of = |v: &[f64]| v.iter().sum::<f64>() / n;
    let per_seq = |v: &[f64]| -> Vec<f64> { v.iter().zip(&seq_n).map(|(s, c)| s / c).collect() };
    let se_of = |v: &[f64]| {
        se(&per_seq(v)
            .into_iter()
            .filter(|x| !x.is_nan())
            .collect::<Vec<_>>())
    };
    let (ce_clean, ce_zero, ce_mean) = (mean_of(&seq_c), mean_of(&seq_z), mean_of(&seq_m));
    let kl_ablation = kl_zero / n;
    // Σ‖x − x̄‖² = Σ‖x − r‖² − N‖x̄ − r‖²; none where x does not vary: nothing to explain.
    let sst = dd - dsum.iter().map(|s| s * s).sum::<f64>() / n;
    let sst = if sst > 0.0 { sst } else { f64::NAN };
    sums.into_iter()
        .zip(saes)
        .map(|(a, sae)| {
            let ce_spliced = mean_of(&a.spliced);
            let delta: Vec<f64> = a.spliced.iter().zip(&seq_c).map(|(s, c)| s - c).collect();
            let kl = a.kl / n;
            EvalResult {
                n_tokens: n as usize,
                ce_clean,
                ce_spliced,
                ce_zero_ablation: ce_zero,
                ce_mean_ablation: ce_mean,
                ce_loss_score: (ce_zero - ce_spliced) / (ce_zero - ce_clean),
                kl,
                l0: a.l0 / n,
                explained_variance: 1.0 - a.sse / sst,
                mse: a.sse / (n * d as f64),
                cosine: a.cos / n,
                se_ce_clean: se_of(&seq_c),
                se_ce_spliced: se_of(&a.spliced),
                se_ce_zero_ablation: se_of(&seq_z),
                se_ce_mean_ablation: se_of(&seq_m),
                se_delta: se_of(&delta),
                kl_div_with_ablation: kl_ablation,
                kl_div_score: (kl_ablation - kl) / kl_ablation,
                l2_norm_in: l2_in / n,
                l2_norm_out: a.l2_out / n,
                l2_ratio: a.l2_ratio / n,
                relative_reconstruction_bias: a.rrb.iter().sum::<f64>() / a.rrb.len() as f64,
                l1: a.l1 / n,
                frac_alive: a.alive.iter().filter(|&&b| b).count() as f64 / sae.d_sae as f64,
                explained_variance_legacy: a.ev_legacy / n,
                per_seq_clean: per_seq(&seq_c),
                per_seq_spliced: per_seq(&a.spliced),
            }
        })
        .collect()
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
    crate::heap::keep_freed_memory();
    let special = &model.cfg.special_ids;
    let (ctx, step) = (tokens.ctx, opts.batch.max(1));
    let chunk = if opts.chunk == 0 {
        nll::default_chunk(model.cfg.vocab)
    } else {
        opts.chunk
    };
    let mut seqs: Vec<Seq> = vec![];
    for r0 in (0..tokens.n_seq).step_by(step) {
        let r1 = (r0 + step).min(tokens.n_seq);
        let rows = r1 - r0;
        let h = model.hidden(&tokens.batch(r0, r1, device));
        let targets = nll::targets(&tokens.ids, ctx, r0, r1);
        let c = nll::score(model, h, vec![], &targets, chunk, opts.host_kernels).clean;
        let m = eval_mask(tokens, r0, r1, special, opts.keep_special);
        for r in 0..rows {
            let mut q = Seq::default();
            for t in (0..ctx - 1).filter(|&t| m[r * ctx + t]) {
                q.n += 1.0;
                q.ce += c[r * (ctx - 1) + t];
            }
            seqs.push(q);
        }
        tick(rows * ctx);
    }
    let n: f64 = seqs.iter().map(|q| q.n).sum();
    let per_seq: Vec<f64> = seqs.iter().map(|q| q.ce / q.n).collect();
    CleanResult {
        n_tokens: n as usize,
        ce: seqs.iter().map(|q| q.ce).sum::<f64>() / n,
        se: se(&per_seq
            .iter()
            .copied()
            .filter(|v| !v.is_nan())
            .collect::<Vec<_>>()),
        per_seq,
    }
}
