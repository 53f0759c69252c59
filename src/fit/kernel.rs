//! The objective's inner loop: Σ w·Huber(LSE(e, c_j − k_j·x_j) − y) and its gradient over all points,
//! written so the compiler vectorises it. It is almost all of a fit's time, so it gets its own exp and
//! ln (accurate to a few ulp on the ranges they are used on) instead of libm calls, which do not
//! vectorise, and a copy compiled for AVX2+FMA chosen at run time.

/// Points per block: the accumulators are this many lanes wide, so the lane loop vectorises without
/// reordering any sum the compiler would have to prove associative.
pub const LANES: usize = 16;

/// Multiply-add: fused where the CPU has FMA (that copy of the kernel), two roundings elsewhere.
trait MulAdd {
    fn mul_add(a: f64, b: f64, c: f64) -> f64;
}
struct Fused;
struct Plain;
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}
impl MulAdd for Plain {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// max without NaN handling (inputs are finite): a plain select, which vectorises.
#[inline(always)]
fn max(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// exp(x) for x ≤ 0 (clamped at −708, where it is below any term that matters next to 1); to 1e-17
/// relative, or to 6e-11 with `SCREEN`.
#[inline(always)]
fn exp_neg<M: MulAdd, const SCREEN: bool>(x: f64) -> f64 {
    const MAGIC: f64 = 6755399441055744.0; // 1.5·2^52: adding it rounds to an integer in the low bits
    const LN2_HI: f64 = 0.693_147_180_369_123_8;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let x = max(x, -708.0);
    let t = M::mul_add(x, std::f64::consts::LOG2_E, MAGIC);
    let n = t - MAGIC;
    let r = M::mul_add(-n, LN2_LO, M::mul_add(-n, LN2_HI, x));
    // Chebyshev fit of exp on |r| ≤ 1.002·ln2/2, degree 11 (mpmath.chebyfit; relative error 1e-17,
    // below the Taylor series of degree 13 it replaced, for two fewer multiply-adds).
    const C: [f64; 12] = [
        1.0,
        1.0,
        0.500_000_000_000_001_9,
        0.166_666_666_666_666_82,
        0.041_666_666_666_485_22,
        0.008_333_333_333_319_379,
        0.001_388_888_895_308_017,
        0.000_198_412_698_906_356_88,
        2.480_148_466_465_444_7e-5,
        2.755_724_028_980_526_2e-6,
        2.763_294_159_676_926_7e-7,
        2.511_026_980_437_577_3e-8,
    ];
    // The same fit at degree 7, for screening grid starts.
    const C7: [f64; 8] = [
        0.999_999_999_958_909_8,
        0.999_999_999_995_436_7,
        0.500_000_010_902_954_3,
        0.166_666_667_877_525_3,
        0.041_666_214_717_391_216,
        0.008_333_283_138_759_823,
        0.001_394_881_776_343_849_2,
        0.000_199_078_351_742_196_3,
    ];
    let mut p;
    if SCREEN {
        p = C7[7];
        for c in C7[..7].iter().rev() {
            p = M::mul_add(p, r, *c);
        }
    } else {
        p = C[11];
        for c in C[..11].iter().rev() {
            p = M::mul_add(p, r, *c);
        }
    }
    // 2^n from t's low bits (n + 1023 stays in [315, 1023] after the clamp).
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// (ln s, 1/s) for s in [1, 3] (a sum of three softmax terms whose largest is 1), with one division
/// for both: divisions are the slowest operation in the kernel. ln is good to 3e-17, or to 5e-11 with
/// `SCREEN`.
#[inline(always)]
fn ln_recip_1_3<M: MulAdd, const SCREEN: bool>(s: f64) -> (f64, f64) {
    // s = 2^k·m with m in [1/√2, √2], then ln m = 2·atanh(z), z = (m − 1)/(m + 1), |z| ≤ 0.1716.
    let big = s >= 2.0;
    let mut k = if big { 1.0 } else { 0.0 };
    let mut m = if big { 0.5 * s } else { s };
    let high = m > std::f64::consts::SQRT_2;
    k += if high { 1.0 } else { 0.0 };
    m = if high { 0.5 * m } else { m };
    let d = 1.0 / (s * (m + 1.0));
    let z = (m - 1.0) * s * d;
    let z2 = z * z;
    // Σ z2^i/(2i+1), i = 0..n: z2 ≤ 0.0295, so the first term left out is below 3e-17 (relative)
    // for n = 10, 5e-11 for n = 6.
    let n = if SCREEN { 6 } else { 10 };
    let mut p = 1.0 / (2 * n + 1) as f64;
    for i in (0..n).rev() {
        p = M::mul_add(p, z2, 1.0 / (2 * i + 1) as f64);
    }
    (
        M::mul_add(k, std::f64::consts::LN_2, 2.0 * z * p),
        d * (m + 1.0),
    )
}

/// The points, structure-of-arrays, padded to a multiple of [`LANES`] with weight-0 points.
#[derive(Clone, Debug, Default)]
pub struct Points {
    pub x0: Vec<f64>,
    pub x1: Vec<f64>,
    pub y: Vec<f64>,
    pub w: Vec<f64>,
}

impl Points {
    pub fn push(&mut self, x: [f64; 2], y: f64, w: f64) {
        self.x0.push(x[0]);
        self.x1.push(x[1]);
        self.y.push(y);
        self.w.push(w);
    }

    pub fn pad(&mut self) {
        while !self.y.len().is_multiple_of(LANES) {
            self.push([0.0, 0.0], 0.0, 0.0);
        }
    }
}

#[inline(always)]
fn kernel<M: MulAdd, const K: usize, const SCREEN: bool>(
    p: &Points,
    t: &[f64],
    delta: f64,
    g: &mut [f64],
) -> f64 {
    let (e, c1, k1) = (t[0], t[1], t[2]);
    let (c2, k2) = if K == 2 { (t[3], t[4]) } else { (0.0, 0.0) };
    let mut f = [0.0; LANES];
    let mut ge = [0.0; LANES];
    let mut gc1 = [0.0; LANES];
    let mut gk1 = [0.0; LANES];
    let mut gc2 = [0.0; LANES];
    let mut gk2 = [0.0; LANES];
    let n = p.y.len();
    debug_assert!(n.is_multiple_of(LANES));
    for b in (0..n).step_by(LANES) {
        let x0: &[f64; LANES] = p.x0[b..b + LANES].try_into().unwrap();
        let x1: &[f64; LANES] = p.x1[b..b + LANES].try_into().unwrap();
        let y: &[f64; LANES] = p.y[b..b + LANES].try_into().unwrap();
        let w: &[f64; LANES] = p.w[b..b + LANES].try_into().unwrap();
        for l in 0..LANES {
            let u1 = M::mul_add(-k1, x0[l], c1);
            let u2 = if K == 2 {
                M::mul_add(-k2, x1[l], c2)
            } else {
                f64::NEG_INFINITY
            };
            // The largest term's softmax weight is exactly 1: exponentiate only the other K, chosen
            // with selects so the lanes stay branch-free.
            let top0 = e >= u1 && e >= u2;
            let top1 = !top0 && u1 >= u2;
            let m = if top0 {
                e
            } else if top1 {
                u1
            } else {
                u2
            };
            let qa = exp_neg::<M, SCREEN>(if top0 { u1 } else { e } - m);
            let (p0, p1, p2) = if K == 2 {
                let qb = exp_neg::<M, SCREEN>(if top0 || top1 { u2 } else { u1 } - m);
                if top0 {
                    (1.0, qa, qb)
                } else if top1 {
                    (qa, 1.0, qb)
                } else {
                    (qa, qb, 1.0)
                }
            } else if top0 {
                (1.0, qa, 0.0)
            } else {
                (qa, 1.0, 0.0)
            };
            let s = p0 + p1 + p2;
            let (ln_s, inv_s) = ln_recip_1_3::<M, SCREEN>(s);
            let r = m + ln_s - y[l];
            let a = r.abs();
            let hub = if a <= delta {
                0.5 * r * r
            } else {
                delta * (a - 0.5 * delta)
            };
            f[l] = M::mul_add(w[l], hub, f[l]);
            let h = w[l] * max(-delta, if r < delta { r } else { delta }) * inv_s;
            ge[l] = M::mul_add(h, p0, ge[l]);
            let h1 = h * p1;
            gc1[l] += h1;
            gk1[l] = M::mul_add(-h1, x0[l], gk1[l]);
            if K == 2 {
                let h2 = h * p2;
                gc2[l] += h2;
                gk2[l] = M::mul_add(-h2, x1[l], gk2[l]);
            }
        }
    }
    let sum = |v: &[f64; LANES]| v.iter().sum::<f64>();
    g[0] = sum(&ge);
    g[1] = sum(&gc1);
    g[2] = sum(&gk1);
    if K == 2 {
        g[3] = sum(&gc2);
        g[4] = sum(&gk2);
    }
    sum(&f)
}

/// One copy of [`kernel`] per x86 feature set, each compiled with that set enabled; [`eval`] picks
/// one at run time.
macro_rules! kernel_with_features {
    ($($name:ident: $features:literal),* $(,)?) => {$(
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $features)]
        fn $name<const K: usize, const SCREEN: bool>(
            p: &Points,
            t: &[f64],
            delta: f64,
            g: &mut [f64],
        ) -> f64 {
            kernel::<Fused, K, SCREEN>(p, t, delta, g)
        }
    )*};
}

kernel_with_features! {
    kernel_avx2: "avx2,fma",
    kernel_avx512: "avx512f,avx512dq,avx2,fma",
}

/// Objective value at θ (with K power-law terms), gradient into `g`. `SCREEN` trades precision (to
/// about 1e-10 relative in each residual) for fewer operations: enough to rank grid starts, which are
/// then polished at full precision.
pub fn eval<const K: usize, const SCREEN: bool>(
    p: &Points,
    t: &[f64],
    delta: f64,
    g: &mut [f64],
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq") {
        // SAFETY: the CPU has the features this copy was compiled for.
        return unsafe { kernel_avx512::<K, SCREEN>(p, t, delta, g) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has the features this copy was compiled for.
        return unsafe { kernel_avx2::<K, SCREEN>(p, t, delta, g) };
    }
    kernel::<Plain, K, SCREEN>(p, t, delta, g)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worst error of exp (relative) and of ln and 1/s (relative where ln s ≠ 0, else absolute)
    /// against libm over the ranges the kernel uses them on.
    fn worst_error<const SCREEN: bool>() -> f64 {
        let mut worst: f64 = 0.0;
        for i in 0..=200_000 {
            let x = -700.0 * (i as f64 / 200_000.0).powi(3);
            let (a, b) = (exp_neg::<Plain, SCREEN>(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
            let s = 1.0 + 2.0 * i as f64 / 200_000.0;
            let ((a, inv), b) = (ln_recip_1_3::<Plain, SCREEN>(s), s.ln());
            let err = if b == 0.0 {
                a.abs()
            } else {
                ((a - b) / b).abs()
            };
            worst = worst.max(err).max((inv * s - 1.0).abs());
        }
        worst
    }

    #[test]
    fn exp_and_ln_match_libm() {
        // A few ulp (one ulp of 1 is 2.2e-16).
        let worst = worst_error::<false>();
        assert!(worst < 1e-15, "worst relative error {worst:e}");
        // The screening copies: enough to rank grid starts.
        let worst = worst_error::<true>();
        assert!(worst < 1e-10, "screening: worst error {worst:e}");
    }

    #[test]
    fn every_copy_of_the_kernel_agrees() {
        // The copy this CPU dispatches to (AVX-512, AVX2 or plain) against the plain one, on points
        // spread like real families, at a θ where both Huber branches are used.
        let mut p = Points::default();
        for i in 0..37 {
            let n = 7e7 * 1.3f64.powi(i);
            let d = 20.0 * n * 1.1f64.powi(i % 5);
            let l = 1.8 + 480.0 * n.powf(-0.35) + 2100.0 * d.powf(-0.37);
            p.push(
                [n.ln(), d.ln()],
                l.ln() + 0.01 * ((i * 7 % 11) as f64 - 5.0) / 5.0,
                1.0 + (i % 3) as f64,
            );
        }
        p.pad();
        let t = [0.6, 6.2, 0.35, 7.6, 0.37];
        let (mut g1, mut g2) = ([0.0; 5], [0.0; 5]);
        let f1 = eval::<2, false>(&p, &t, 1e-3, &mut g1);
        let f2 = kernel::<Plain, 2, false>(&p, &t, 1e-3, &mut g2);
        assert!(((f1 - f2) / f2).abs() < 1e-13, "{f1} vs {f2}");
        for (a, b) in g1.iter().zip(&g2) {
            assert!(((a - b) / b).abs() < 1e-11, "{g1:?} vs {g2:?}");
        }
        // The screening copy: each residual off by at most ~1e-10, so the objective (a sum of Huber
        // terms with slope ≤ δ outside ±δ) by far less than a grid start's tolerance.
        let mut g3 = [0.0; 5];
        let f3 = eval::<2, true>(&p, &t, 1e-3, &mut g3);
        assert!(((f3 - f2) / f2).abs() < 1e-8, "{f3} vs {f2}");
        for (a, b) in g3.iter().zip(&g2) {
            assert!(((a - b) / b).abs() < 1e-6, "{g3:?} vs {g2:?}");
        }
    }
}
