//! Next-token NLL and KL(clean ‖ other) from final hidden states, a few positions at a time: the
//! unembedding, log-softmax and reductions run on chunks of `chunk` positions, so no more than
//! `chunk × vocab` logits per condition exist at once (a whole batch's [batch, ctx, vocab] logits
//! would be gigabytes for a 256k vocabulary). Chunking changes no number: each position's values
//! depend on that position's logits only.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use super::logprob;
use super::model::Transformer;

/// One condition besides the clean one: its final hidden states [rows, ctx, d_model], and whether
/// KL(clean ‖ it) is wanted.
pub struct Other {
    pub hidden: Tensor<3>,
    pub kl: bool,
}

/// Per scored position, [rows × (ctx − 1)] in row-major order (every position but each row's last).
pub struct PerPosition {
    pub clean: Vec<f64>,
    /// One per [`Other`], in order.
    pub nll: Vec<Vec<f64>>,
    /// One per [`Other`]; empty where KL was not asked for.
    pub kl: Vec<Vec<f64>>,
}

/// Positions per chunk: about 28 MiB of f32 logits per condition, and at least one position.
/// Below glibc's largest mmap threshold (32 MiB, set by [`crate::heap::keep_freed_memory`]), so
/// each chunk's logits reuse freed heap instead of fresh pages (a page fault and zeroing per 4 KiB,
/// on one thread: a tenth of a sweep's CPU time with 64 MiB chunks).
pub fn default_chunk(vocab: usize) -> usize {
    ((28usize << 20) / (4 * vocab.max(1))).max(1)
}

fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 data")
}

/// [rows, ctx, d] → [rows·(ctx − 1), d]: the positions that have a next token.
fn flat(h: Tensor<3>) -> Tensor<2> {
    let [rows, ctx, d] = h.dims();
    h.slice([0..rows, 0..ctx - 1, 0..d])
        .reshape([rows * (ctx - 1), d])
}

/// Scores the clean condition and every other one against `targets` (the next token of each
/// position, [rows × (ctx − 1)]). `host`: reduce the logits in host memory with ceq's fused pass
/// ([`logprob`]), else with tensor ops on the device.
pub fn score(
    model: &Transformer,
    clean: Tensor<3>,
    others: Vec<Other>,
    targets: &[u32],
    chunk: usize,
    host: bool,
) -> PerPosition {
    let device = clean.device();
    let clean = flat(clean);
    let [n, d] = clean.dims();
    debug_assert_eq!(n, targets.len());
    let wants: Vec<bool> = others.iter().map(|o| o.kl).collect();
    let others: Vec<Tensor<2>> = others.into_iter().map(|o| flat(o.hidden)).collect();
    let mut out = PerPosition {
        clean: Vec::with_capacity(n),
        nll: vec![Vec::with_capacity(n); others.len()],
        kl: wants
            .iter()
            .map(|&w| Vec::with_capacity(if w { n } else { 0 }))
            .collect(),
    };
    let vocab = model.cfg.vocab;
    let chunk = chunk.max(1);
    for c0 in (0..n).step_by(chunk) {
        let c1 = (c0 + chunk).min(n);
        let logits = |h: &Tensor<2>| model.unembed(h.clone().slice([c0..c1, 0..d]));
        let tgt = &targets[c0..c1];
        if host {
            let lc = to_vec(logits(&clean));
            let lse_c = logprob::logsumexps(&lc, vocab);
            out.clean.extend(logprob::nll(&lc, &lse_c, tgt, vocab));
            for (i, h) in others.iter().enumerate() {
                let lo = to_vec(logits(h));
                let lse_o = logprob::logsumexps(&lo, vocab);
                out.nll[i].extend(logprob::nll(&lo, &lse_o, tgt, vocab));
                if wants[i] {
                    out.kl[i].extend(logprob::kl(&lc, &lse_c, &lo, &lse_o, vocab));
                }
            }
        } else {
            let ids: Vec<i64> = tgt.iter().map(|&t| t as i64).collect();
            let tgt = Tensor::<2, Int>::from_data(TensorData::new(ids, [c1 - c0, 1]), &device);
            let nll = |lp: &Tensor<2>| -> Vec<f64> {
                to_vec(lp.clone().gather(1, tgt.clone()).neg())
                    .into_iter()
                    .map(f64::from)
                    .collect()
            };
            let lp_c = log_softmax(logits(&clean), 1);
            out.clean.extend(nll(&lp_c));
            for (i, h) in others.iter().enumerate() {
                let lp_o = log_softmax(logits(h), 1);
                out.nll[i].extend(nll(&lp_o));
                if wants[i] {
                    let kl = (lp_c.clone().exp() * (lp_c.clone() - lp_o)).sum_dim(1);
                    out.kl[i].extend(to_vec(kl).into_iter().map(f64::from));
                }
            }
        }
    }
    out
}

/// The next token of every position but each row's last, for rows `r0..r1` of `ids` ([n_seq,
/// ctx], flat).
pub fn targets(ids: &[u32], ctx: usize, r0: usize, r1: usize) -> Vec<u32> {
    (r0..r1)
        .flat_map(|r| ids[r * ctx + 1..(r + 1) * ctx].iter().copied())
        .collect()
}
