//! Next-token NLL and KL(clean ‖ other) straight from logits in host memory: for each position one
//! fused pass over the vocabulary (max, then Σexp), rows in parallel with rayon. On the pure-Rust CPU
//! backend this replaces a chain of whole-tensor ops (log-softmax, gather, exp, multiply, sum) that
//! each walk [batch, ctx, vocab] again, mostly on one thread. All four conditions use it.

use rayon::prelude::*;

/// Lanes for the vectorised reductions (16 f32 = one AVX-512 register).
const W: usize = 16;

/// exp(x) for x ≤ 0 in f32, to about 2e-7 relative (near f32 precision), in a form the compiler
/// vectorises: plain multiplies and adds (`mul_add` and `round` become library calls in a build
/// without FMA/SSE4.1 as the target baseline; libm's expf does not vectorise at all).
#[inline(always)]
fn exp_neg(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5·2^23: adding it rounds to an integer
    let x = if x > -87.0 { x } else { -87.0 };
    // x = n·ln2 + r, |r| ≤ ln2/2, and e^r by its Taylor series to degree 7 (truncation < 1e-8).
    let n = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let mut p: f32 = 1.0 / 5040.0;
    for c in [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    p * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

fn max(row: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; W];
    let chunks = row.chunks_exact(W);
    let tail = chunks.remainder();
    for c in chunks {
        for l in 0..W {
            m[l] = if c[l] > m[l] { c[l] } else { m[l] };
        }
    }
    tail.iter()
        .chain(&m)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max)
}

/// ln Σ exp(row), in f64 at the end.
fn logsumexp(row: &[f32]) -> f64 {
    let m = max(row);
    let mut s = [0f32; W];
    let chunks = row.chunks_exact(W);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|v| exp_neg(v - m) as f64)
        .sum();
    for c in chunks {
        for l in 0..W {
            s[l] += exp_neg(c[l] - m);
        }
    }
    m as f64 + (s.iter().map(|v| *v as f64).sum::<f64>() + tail).ln()
}

/// ln Σexp of each row of `logits` ([positions, vocab], flat).
pub fn logsumexps(logits: &[f32], vocab: usize) -> Vec<f64> {
    let mut out = vec![0f64; logits.len() / vocab];
    out.par_iter_mut()
        .zip(logits.par_chunks_exact(vocab))
        .for_each(|(o, row)| *o = logsumexp(row));
    out
}

/// NLL of each row's target: lse − logit[target].
pub fn nll(logits: &[f32], lse: &[f64], targets: &[u32], vocab: usize) -> Vec<f64> {
    lse.iter()
        .zip(targets)
        .enumerate()
        .map(|(i, (l, &tok))| l - logits[i * vocab + tok as usize] as f64)
        .collect()
}

/// KL(p‖q) per row, p = softmax(clean), q = softmax(other), with both log-partition functions
/// known: Σ p·(lp − lq) = Σ exp(c − lse_c)·(c − o) − lse_c + lse_o.
pub fn kl(
    clean: &[f32],
    lse_clean: &[f64],
    other: &[f32],
    lse_other: &[f64],
    vocab: usize,
) -> Vec<f64> {
    let mut out = vec![0f64; lse_clean.len()];
    out.par_iter_mut().enumerate().for_each(|(i, o)| {
        let at = i * vocab;
        let (c, q) = (&clean[at..at + vocab], &other[at..at + vocab]);
        let lc = lse_clean[i] as f32;
        let mut s = [0f32; W];
        let (cc, qc) = (c.chunks_exact(W), q.chunks_exact(W));
        let tail: f64 = cc
            .remainder()
            .iter()
            .zip(qc.remainder())
            .map(|(a, b)| (exp_neg(a - lc) * (a - b)) as f64)
            .sum();
        for (a, b) in cc.zip(qc) {
            for l in 0..W {
                s[l] += exp_neg(a[l] - lc) * (a[l] - b[l]);
            }
        }
        *o = s.iter().map(|v| *v as f64).sum::<f64>() + tail - lse_clean[i] + lse_other[i];
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fused_reductions_match_a_plain_f64_computation() {
        let (positions, vocab) = (4, 37);
        let logit = |i: usize, k: f64| ((i as f64 * 0.37 + k).sin() * 6.0) as f32;
        let clean: Vec<f32> = (0..positions * vocab).map(|i| logit(i, 0.0)).collect();
        let other: Vec<f32> = (0..positions * vocab).map(|i| logit(i, 0.3)).collect();
        let targets = [3u32, 36, 0, 17];
        let (lc, lo) = (logsumexps(&clean, vocab), logsumexps(&other, vocab));
        let got_nll = nll(&other, &lo, &targets, vocab);
        let got_kl = kl(&clean, &lc, &other, &lo, vocab);
        for i in 0..positions {
            let at = i * vocab;
            let lse = |x: &[f32]| x.iter().map(|v| (*v as f64).exp()).sum::<f64>().ln();
            let (c, o) = (&clean[at..at + vocab], &other[at..at + vocab]);
            let (zc, zo) = (lse(c), lse(o));
            let want_nll = zo - o[targets[i] as usize] as f64;
            let want_kl: f64 = c
                .iter()
                .zip(o)
                .map(|(a, b)| (*a as f64 - zc).exp() * ((*a as f64 - zc) - (*b as f64 - zo)))
                .sum();
            assert!(
                (got_nll[i] - want_nll).abs() < 1e-5,
                "{i}: nll {} vs {want_nll}",
                got_nll[i]
            );
            assert!(
                (got_kl[i] - want_kl).abs() < 1e-5,
                "{i}: kl {} vs {want_kl}",
                got_kl[i]
            );
        }
    }

    #[test]
    fn exp_is_good_to_f32_precision() {
        let worst = (0..=100_000)
            .map(|i| -87.0 * i as f32 / 100_000.0)
            .map(|x| ((exp_neg(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "worst relative error {worst:e}");
    }
}
