//! f32 math for ceq's host kernels, written so the compiler vectorises it (no libm calls), and the
//! run-time choice of a copy of each kernel compiled for AVX-512 (the crate itself is built for
//! the x86-64 baseline, SSE2: 4 lanes instead of 16).

/// exp(x) for x ≤ 0 in f32, to about 2e-7 relative (near f32 precision), in a form the compiler
/// vectorises: plain multiplies and adds (`mul_add` and `round` become library calls in a build
/// without FMA/SSE4.1 as the target baseline; libm's expf does not vectorise at all).
#[inline(always)]
pub fn exp_neg(x: f32) -> f32 {
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

/// σ(t) = 1 / (1 + e^−t) for any t, from e^−|t| ≤ 1 (no overflow).
#[inline(always)]
pub fn sigmoid(t: f32) -> f32 {
    let e = exp_neg(-t.abs());
    let r = 1.0 / (1.0 + e);
    if t >= 0.0 { r } else { e * r }
}

/// GPT-2's tanh-approximate GELU of one value, as [`super::layers::gelu_tanh`] computes it:
/// x·σ(2u), u = √(2/π)·(x + 0.044715·x³), x³ as two multiplications.
#[inline(always)]
fn gelu_tanh(x: f32) -> f32 {
    const TWO_SQRT_2_OVER_PI: f32 = (2.0 * 0.797_884_560_802_865_4) as f32;
    let cube = x * x * x;
    x * sigmoid((x + cube * 0.044715) * TWO_SQRT_2_OVER_PI)
}

#[inline(always)]
fn gelu_tanh_slice(v: &mut [f32]) {
    for y in v {
        *y = gelu_tanh(*y);
    }
}

/// Whether this CPU runs the AVX-512 copies of the kernels.
#[inline]
pub fn avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Declares `$name`, a copy of the `#[inline(always)]` function `$body` compiled with AVX-512
/// enabled; call it only where [`avx512`] holds.
macro_rules! avx512_copy {
    ($name:ident = $body:ident ($($arg:ident: $t:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
        pub(crate) fn $name($($arg: $t),*) -> $ret {
            $body($($arg),*)
        }
    };
}
pub(crate) use avx512_copy;

avx512_copy!(gelu_tanh_slice_avx512 = gelu_tanh_slice(v: &mut [f32]) -> ());

/// The tanh GELU of every value of `v`, in place.
pub fn gelu_tanh_in_place(v: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if avx512() {
        // SAFETY: the CPU has the features this copy was compiled for.
        return unsafe { gelu_tanh_slice_avx512(v) };
    }
    gelu_tanh_slice(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_good_to_f32_precision() {
        let worst = (0..=100_000)
            .map(|i| -87.0 * i as f32 / 100_000.0)
            .map(|x| ((exp_neg(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs())
            .fold(0.0, f64::max);
        assert!(worst < 5e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn gelu_matches_the_tanh_formula_in_f64() {
        // Over [-12, 12]: both tails and the bend.
        let xs: Vec<f32> = (0..=240_000).map(|i| -12.0 + i as f32 / 10_000.0).collect();
        let mut got = xs.clone();
        gelu_tanh_in_place(&mut got);
        let mut plain = xs.clone();
        gelu_tanh_slice(&mut plain);
        // Element-wise IEEE operations without contraction: the AVX-512 copy gives the same bits.
        assert_eq!(got, plain);
        for (&x, &g) in xs.iter().zip(&got) {
            let x64 = x as f64;
            let u = (2.0 / std::f64::consts::PI).sqrt() * (x64 + 0.044715 * x64.powi(3));
            let want = 0.5 * x64 * (1.0 + u.tanh());
            let err = (g as f64 - want).abs();
            assert!(
                err <= 1e-6 * x64.abs().max(1.0),
                "gelu({x}) = {g}, want {want}"
            );
        }
    }
}
