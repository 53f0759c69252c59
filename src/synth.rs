//! A synthetic family and splices drawn from a known Chinchilla law, so ceq's output can be checked
//! against the truth. The tests use it (tests/fixtures/synth/); `data/` ships a measured study (`ceq study`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::law::Chinchilla;

/// What to generate. The defaults are the law and grid documented in `tests/fixtures/synth/README.md`.
#[derive(Clone, Debug)]
pub struct SynthSpec {
    pub law: Chinchilla,
    /// Model sizes N (parameters).
    pub sizes: Vec<f64>,
    /// Tokens per parameter of each trained checkpoint.
    pub tokens_per_param: Vec<f64>,
    /// Standard deviation of the multiplicative (log-normal) noise on each loss.
    pub noise: f64,
    /// Host models of the splices: (name, N), each trained at 20 tokens/param.
    pub hosts: Vec<(String, f64)>,
    /// True compute fractions of the SAEs spliced into each host: (d_sae multiplier, L0, fraction).
    pub saes: Vec<(u32, u32, f64)>,
    pub seed: u64,
}

impl Default for SynthSpec {
    fn default() -> Self {
        SynthSpec {
            // Close to Besiroglu et al. (2024)'s refit of Hoffmann et al. (2022).
            law: Chinchilla {
                e: 1.82,
                a: 480.0,
                alpha: 0.347,
                b: 2100.0,
                beta: 0.367,
            },
            sizes: (0..10).map(|i| 2e7 * 10f64.powf(i as f64 * 0.25)).collect(),
            tokens_per_param: vec![2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 160.0],
            noise: 0.01,
            hosts: vec![
                ("host-70m".into(), 7e7),
                ("host-160m".into(), 1.6e8),
                ("host-410m".into(), 4.1e8),
                ("host-1b".into(), 1.0e9),
            ],
            saes: vec![(8, 32, 0.30), (32, 64, 0.08), (8, 16, 0.02)],
            seed: 20260101,
        }
    }
}

/// The two CSV files, as text.
pub struct Synth {
    pub checkpoints: String,
    pub splices: String,
}

fn sig(v: f64) -> String {
    format!("{v:.6e}")
        .parse::<f64>()
        .map(|x| format!("{x}"))
        .unwrap()
}

impl Synth {
    /// Writes `checkpoints.csv` and `splices.csv` into `dir` (made if missing), replacing files of
    /// those names only when `force`; returns their paths.
    pub fn write(
        &self,
        dir: &std::path::Path,
        force: bool,
    ) -> crate::Result<[std::path::PathBuf; 2]> {
        let files = [dir.join("checkpoints.csv"), dir.join("splices.csv")];
        crate::io::make_out_dir(dir, &files, force)?;
        crate::io::write_atomic(&files[0], self.checkpoints.as_bytes())?;
        crate::io::write_atomic(&files[1], self.splices.as_bytes())?;
        Ok(files)
    }
}

/// The family and splices `spec` describes; an error names the first value it cannot use.
pub fn generate(spec: &SynthSpec) -> crate::Result<Synth> {
    let invalid = |option, message: String| crate::Error::Invalid {
        option,
        message,
        fix: None,
    };
    // rand_distr's Normal takes a negative SD; a spec's noise is a size, so refuse one.
    let noise = Normal::new(0.0, spec.noise)
        .ok()
        .filter(|_| spec.noise >= 0.0)
        .ok_or_else(|| invalid("noise", format!("{} is not a finite SD ≥ 0", spec.noise)))?;
    let law = &spec.law;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let l = [law.e, law.a, law.alpha, law.b, law.beta];
    if !l.into_iter().all(positive) {
        return Err(invalid(
            "law",
            format!("{law:?}: every parameter must be finite and > 0"),
        ));
    }
    let bad = |what, v: &[f64]| v.iter().find(|v| !positive(**v)).map(|v| (what, *v));
    let host_sizes: Vec<f64> = spec.hosts.iter().map(|h| h.1).collect();
    if let Some((what, v)) = bad("sizes", &spec.sizes)
        .or(bad("tokens_per_param", &spec.tokens_per_param))
        .or(bad("hosts", &host_sizes))
    {
        return Err(invalid(what, format!("{v} is not finite and > 0")));
    }
    if let Some(n) = host_sizes.iter().find(|n| **n < 1.0) {
        return Err(invalid(
            "hosts",
            format!("a host of {n} parameters: must be ≥ 1"),
        ));
    }
    if let Some(f) = spec
        .saes
        .iter()
        .map(|s| s.2)
        .find(|f| !(*f > 0.0 && *f <= 1.0))
    {
        return Err(invalid(
            "saes",
            format!("a compute fraction of {f} is not in (0, 1]"),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);

    let mut ck = String::from("name,params,tokens,loss\n");
    for &n in &spec.sizes {
        for &r in &spec.tokens_per_param {
            let (n, d) = (n.round(), (n * r).round());
            if n < 1.0 || d < 1.0 {
                let message = format!("{n} parameters trained on {d} tokens: both must be ≥ 1");
                return Err(invalid(
                    if n < 1.0 { "sizes" } else { "tokens_per_param" },
                    message,
                ));
            }
            let loss = law.loss(n, d) * noise.sample(&mut rng).exp();
            ck += &format!("n{}-x{r},{n},{d},{:.5}\n", sig(n), loss);
        }
    }

    let mut sp = String::from(
        "name,model,hook,layer,d_sae,l0,params,tokens,ce_clean,ce_spliced,ce_zero_ablation,ce_mean_ablation,true_compute_fraction\n",
    );
    for (host, n) in &spec.hosts {
        let d = 20.0 * n;
        let clean = law.loss(*n, d);
        // Where the host's clean loss sits on the true frontier; a spliced model with true fraction f is
        // as good as the frontier model with f times that compute.
        let c_clean = law.frontier_compute(clean).ok_or_else(|| {
            invalid(
                "hosts",
                format!("{host}'s loss {clean} is not above the law's floor E"),
            )
        })?;
        for (i, &(mult, l0, f)) in spec.saes.iter().enumerate() {
            let spliced = law.frontier_loss(f * c_clean);
            let layer = 2 + 2 * i;
            // Plausible ablation losses, not measured ones: zero ablation costs ~10 nats, mean ablation less.
            let zero = clean + 9.0 + 0.5 * (n / 1e8).ln();
            let mean = clean + 3.5 + 0.25 * (n / 1e8).ln();
            let d_model = (n / 1e8).sqrt() * 768.0;
            sp += &format!(
                "{host}-L{layer}-{mult}x-l0{l0},{host},blocks.{layer}.hook_resid_post,{layer},{},{l0},{n},{d},{clean:.5},{spliced:.5},{zero:.4},{mean:.4},{f}\n",
                (mult as f64 * d_model).round() as u64,
            );
        }
    }
    Ok(Synth {
        checkpoints: ck,
        splices: sp,
    })
}
