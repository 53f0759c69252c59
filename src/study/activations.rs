//! Residual-stream (or any hook's) activations of a host checkpoint over a token set, captured with
//! the eval engine's own transformer ([`Transformer::capture`]): what an SAE is trained on, taken
//! at the very place `ceq eval` later splices it.

use std::path::{Path, PathBuf};

use crate::error::{DataKind, Error, Result};
use crate::eval::tokens::Tokens;
use crate::eval::{DeviceSpec, Hook, Transformer};

/// Activations [n, d] at one hook, row-major, one row per captured token position.
#[derive(Clone, Debug, PartialEq)]
pub struct Activations {
    pub data: Vec<f32>,
    pub n: usize,
    pub d: usize,
    pub hook: Hook,
    /// The host's folder name (SAELens's `model_name`).
    pub model_name: String,
    /// The token rows' length (SAELens's `context_size`).
    pub context_size: usize,
    /// Whether positions holding the host's BOS/EOS/pad ids were kept.
    pub keep_special: bool,
}

/// What to capture: which host, where, on which backend.
#[derive(Clone, Debug)]
pub struct CaptureSpec {
    /// Host folder (Hugging Face layout, any architecture `ceq eval` loads).
    pub model: PathBuf,
    pub hook: Hook,
    pub device: DeviceSpec,
    /// Token rows per forward pass.
    pub batch: usize,
    /// Also keep positions whose input token is BOS/EOS/pad. `ceq eval` scores positions without
    /// them by default (as SAEBench does), and a BOS position's residual is an outlier an SAE
    /// would spend latents on, so they are left out unless asked.
    pub keep_special: bool,
}

/// Runs the host up to `spec.hook` over every row of `tokens` and keeps each position's
/// activation (BOS/EOS/pad positions left out unless `keep_special`; the last position of a row
/// is kept: it has an activation even though it has no next token to score). `tokens_path` names
/// the token set in errors. `progress` receives the rows done after each batch.
pub fn capture(
    spec: &CaptureSpec,
    tokens: &Tokens,
    tokens_path: &Path,
    progress: &mut dyn FnMut(usize),
) -> Result<Activations> {
    let device = spec.device.device()?;
    let model = Transformer::load(&spec.model, &device)?;
    tokens.check(tokens_path, model.cfg.vocab, model.cfg.max_positions)?;
    model.check_hook(&spec.hook, &spec.model)?;
    let d = model.cfg.d_model;
    let ctx = tokens.ctx;
    let special = &model.cfg.special_ids;
    let keep = |id: u32| spec.keep_special || !special.contains(&id);
    let batch = spec.batch.max(1);
    let mut data = Vec::new();
    let mut r0 = 0;
    while r0 < tokens.n_seq {
        let r1 = (r0 + batch).min(tokens.n_seq);
        let cap = model.capture(&tokens.batch(r0, r1, &device), spec.hook);
        let act: Vec<f32> = cap
            .act
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .expect("f32 activations");
        for (i, row) in act.chunks_exact(d).enumerate() {
            if keep(tokens.ids[r0 * ctx + i]) {
                data.extend_from_slice(row);
            }
        }
        progress(r1 - r0);
        r0 = r1;
    }
    let n = data.len() / d;
    if n == 0 {
        return Err(Error::Data {
            kind: DataKind::Tokens,
            path: tokens_path.to_owned(),
            message: format!(
                "no position to capture: every token is one of the host's special ids {special:?} \
                 (BOS/EOS/pad), which are left out"
            ),
        });
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::Data {
            kind: DataKind::NonFinite,
            path: spec.model.clone(),
            message: format!(
                "the activation at {} (captured position {}, dimension {}) is not finite: the \
                 host's activations overflow f32 on these tokens",
                spec.hook,
                i / d,
                i % d
            ),
        });
    }
    Ok(Activations {
        data,
        n,
        d,
        hook: spec.hook,
        model_name: crate::eval::job::folder_name(&spec.model),
        context_size: ctx,
        keep_special: spec.keep_special,
    })
}

impl Activations {
    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// The mean activation, `[d]`, in f64.
    pub fn mean(&self) -> Vec<f64> {
        let mut m = vec![0.0; self.d];
        for r in self.data.chunks_exact(self.d) {
            for (a, &v) in m.iter_mut().zip(r) {
                *a += v as f64;
            }
        }
        m.iter_mut().for_each(|a| *a /= self.n as f64);
        m
    }

    /// Mean squared distance of a row from the mean row, E‖x − x̄‖² (summed over dimensions):
    /// the reconstruction error of the best constant, which normalized MSE divides by.
    pub fn total_variance(&self) -> f64 {
        let m = self.mean();
        let s: f64 = self
            .data
            .chunks_exact(self.d)
            .map(|r| {
                r.iter()
                    .zip(&m)
                    .map(|(&v, a)| (v as f64 - a).powi(2))
                    .sum::<f64>()
            })
            .sum();
        s / self.n as f64
    }
}
