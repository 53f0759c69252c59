//! Training sparse autoencoders on captured activations with burn's autodiff and its Adam, in
//! SAELens 6's formulation (`sae_lens/saes/standard_sae.py`, `topk_sae.py`, `sae.py`), so that what
//! is saved ([`super::sae_export`]) is what SAELens and `ceq eval` run:
//!
//! - encode: f = act(W_encᵀ·(x − b_dec) + b_enc); decode: x̂ = W_decᵀ·f + b_dec;
//! - standard: act = ReLU, loss = Σ_d (x̂ − x)² + λ · Σ_j f_j ‖W_dec\[j\]‖ (SAELens 6's current
//!   convention: the L1 penalty on each latent is weighted by its decoder row's norm, and the
//!   decoder is left unconstrained, neither unit-normed nor projected), both averaged over the batch;
//! - topk: act = ReLU of the k largest pre-activations (others 0), loss = the same MSE term alone
//!   (no decoder-norm rescaling; SAELens's AuxK loss for dead latents is not implemented);
//! - init (SAELens `TrainingSAE`, `decoder_init_norm` 0.1): W_dec Kaiming-uniform with rows scaled
//!   to norm 0.1, W_enc = W_decᵀ, b_enc = 0; b_dec = the activations' mean (SAELens 6 starts it at
//!   0; the mean starts the decoder at the best constant reconstruction);
//! - Adam (β 0.9, 0.999, ε 1e-8, torch's form), gradients clipped to global norm 1 as SAELens's
//!   trainer does, constant learning rate with a linear decay to 0 over the last steps, an optional
//!   linear warm-up of λ; batches drawn from a seeded shuffle of the activations, reshuffled each
//!   pass. The same seed on one machine gives the same bytes.

use std::time::Instant;

use burn::optim::{AdamConfig, AdamState, Optimizer};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::activations::Activations;
use crate::error::{Error, Result};
use crate::eval::{DeviceSpec, Hook};

/// The SAE's kind, with its sparsity setting.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "architecture", rename_all = "lowercase")]
pub enum Architecture {
    /// ReLU, with an L1 penalty of coefficient `l1` on decoder-norm-weighted activations.
    Standard { l1: f64 },
    /// The `k` largest pre-activations kept (after a ReLU).
    TopK { k: usize },
}

impl Architecture {
    /// A short name with the sparsity setting, for folder names: `standard-l1-3`, `topk-k4`.
    pub fn label(&self) -> String {
        match self {
            Architecture::Standard { l1 } => format!("standard-l1-{l1}"),
            Architecture::TopK { k } => format!("topk-k{k}"),
        }
    }

    /// SAELens's `architecture` name.
    pub fn name(&self) -> &'static str {
        match self {
            Architecture::Standard { .. } => "standard",
            Architecture::TopK { .. } => "topk",
        }
    }
}

/// How to train one SAE.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SaeSpec {
    pub architecture: Architecture,
    /// Latents.
    pub d_sae: usize,
    /// Optimizer steps.
    pub steps: usize,
    /// Activations per step.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Share of the steps, at the end, over which the learning rate falls linearly to 0.
    pub lr_decay_frac: f64,
    /// Steps over which the L1 coefficient rises linearly from 0 (standard SAEs; SAELens's
    /// `l1_warm_up_steps`).
    pub l1_warmup_steps: usize,
    /// Progress reports (and recorded losses) every this many steps, and at the last step.
    pub report_every: usize,
    #[serde(skip)]
    pub device: DeviceSpec,
}

impl SaeSpec {
    /// A spec with SAELens-like defaults for the rest: learning rate 3e-4 (SAELens's default;
    /// small SAEs on short runs do better nearer 1e-3), the last 20% of steps decaying it, no L1
    /// warm-up, 50 reports, the pure-Rust CPU backend.
    pub fn new(architecture: Architecture, d_sae: usize, steps: usize, batch: usize) -> SaeSpec {
        SaeSpec {
            architecture,
            d_sae,
            steps,
            batch,
            lr: 3e-4,
            lr_decay_frac: 0.2,
            l1_warmup_steps: 0,
            report_every: (steps / 50).max(1),
            device: DeviceSpec::Flex,
        }
    }

    /// Refuses settings that cannot train, naming the setting.
    pub fn validate(&self, d_in: usize) -> Result<()> {
        let bad = |option: &'static str, message: String| {
            Err(Error::Invalid {
                option,
                message,
                fix: None,
            })
        };
        if self.d_sae == 0 {
            return bad("d_sae", "an SAE needs at least one latent".into());
        }
        if self.steps == 0 || self.batch == 0 {
            return bad("steps", "steps and batch must be positive".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad("lr", format!("{} is not a positive learning rate", self.lr));
        }
        if !(0.0..=1.0).contains(&self.lr_decay_frac) {
            return bad(
                "lr_decay_frac",
                format!("{} is not a share between 0 and 1", self.lr_decay_frac),
            );
        }
        match self.architecture {
            Architecture::Standard { l1 } if !(l1 >= 0.0 && l1.is_finite()) => {
                bad("l1", format!("{l1} is not a non-negative L1 coefficient"))
            }
            Architecture::TopK { k } if k == 0 || k > self.d_sae => bad(
                "k",
                format!(
                    "k is {k}; it must be between 1 and the SAE's {} latents",
                    self.d_sae
                ),
            ),
            _ if d_in == 0 => bad("d_in", "activations of width 0".into()),
            _ => Ok(()),
        }
    }

    /// The learning rate at `step` (0-based).
    fn lr_at(&self, step: usize) -> f64 {
        let decay = (self.lr_decay_frac * self.steps as f64).round() as usize;
        let start = self.steps - decay;
        if decay == 0 || step < start {
            self.lr
        } else {
            self.lr * (self.steps - step) as f64 / decay as f64
        }
    }

    /// The L1 coefficient's share at `step` (0-based) under the warm-up.
    fn l1_scale_at(&self, step: usize) -> f64 {
        if self.l1_warmup_steps == 0 {
            1.0
        } else {
            ((step + 1) as f64 / self.l1_warmup_steps as f64).min(1.0)
        }
    }
}

/// An SAE's weights in host memory, in SAELens's shapes: W_enc `[d_in, d_sae]`, b_enc `[d_sae]`,
/// W_dec `[d_sae, d_in]`, b_dec `[d_in]`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct SaeParams {
    pub d_in: usize,
    pub d_sae: usize,
    pub w_enc: Vec<f32>,
    pub b_enc: Vec<f32>,
    pub w_dec: Vec<f32>,
    pub b_dec: Vec<f32>,
}

impl SaeParams {
    /// SAELens's training init (see the module's notes), with b_dec = `b_dec`.
    pub fn init(d_in: usize, d_sae: usize, b_dec: Vec<f32>, rng: &mut ChaCha8Rng) -> SaeParams {
        // torch's kaiming_uniform_ on [d_sae, d_in] (fan_in = d_in); the rows are rescaled below,
        // so only the directions it draws matter.
        let bound = (6.0 / d_in as f64).sqrt();
        let mut w_dec: Vec<f32> = (0..d_sae * d_in)
            .map(|_| rng.random_range(-bound..bound) as f32)
            .collect();
        for row in w_dec.chunks_exact_mut(d_in) {
            let norm = row.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
            row.iter_mut()
                .for_each(|v| *v = (*v as f64 * 0.1 / norm) as f32);
        }
        let mut w_enc = vec![0.0; d_in * d_sae];
        for j in 0..d_sae {
            for i in 0..d_in {
                w_enc[i * d_sae + j] = w_dec[j * d_in + i];
            }
        }
        SaeParams {
            d_in,
            d_sae,
            w_enc,
            b_enc: vec![0.0; d_sae],
            w_dec,
            b_dec,
        }
    }

    fn tensors(&self, device: &Device) -> Params {
        let t2 = |v: &[f32], shape: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(v.to_vec(), shape), device)
        };
        let t1 = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device);
        Params {
            w_enc: t2(&self.w_enc, [self.d_in, self.d_sae]),
            b_enc: t1(&self.b_enc),
            w_dec: t2(&self.w_dec, [self.d_sae, self.d_in]),
            b_dec: t1(&self.b_dec),
        }
    }
}

/// 1 at the `k` largest entries of each row of `pre` ([rows, m], row-major), 0 elsewhere (ties
/// broken by position, as a selection does).
fn topk_mask(pre: &[f32], m: usize, k: usize) -> Vec<f32> {
    use rayon::prelude::*;
    let mut mask = vec![0.0f32; pre.len()];
    mask.par_chunks_mut(m).zip(pre.par_chunks(m)).for_each_init(
        Vec::new,
        |idx: &mut Vec<usize>, (out, row)| {
            idx.clear();
            idx.extend(0..m);
            if k < m {
                idx.select_nth_unstable_by(k - 1, |&a, &b| row[b].total_cmp(&row[a]));
            }
            for &j in &idx[..k] {
                out[j] = 1.0;
            }
        },
    );
    mask
}

/// The parameters as tensors (with or without autodiff).
#[derive(Clone)]
struct Params {
    w_enc: Tensor<2>,
    b_enc: Tensor<1>,
    w_dec: Tensor<2>,
    b_dec: Tensor<1>,
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 tensor data")
}

impl Params {
    fn to_host(&self) -> SaeParams {
        let [d_in, d_sae] = self.w_enc.dims();
        SaeParams {
            d_in,
            d_sae,
            w_enc: host(self.w_enc.clone()),
            b_enc: host(self.b_enc.clone()),
            w_dec: host(self.w_dec.clone()),
            b_dec: host(self.b_dec.clone()),
        }
    }

    /// Latents f [n, d_sae] and reconstruction x̂ [n, d_in].
    fn forward(&self, x: Tensor<2>, arch: &Architecture) -> (Tensor<2>, Tensor<2>) {
        let row = |t: &Tensor<1>| t.clone().unsqueeze::<2>();
        let pre = (x - row(&self.b_dec)).matmul(self.w_enc.clone()) + row(&self.b_enc);
        let f = match arch {
            Architecture::Standard { .. } => relu(pre),
            Architecture::TopK { k } => {
                // Which latents are kept does not depend on the weights' gradient: a constant mask
                // (outside the graph) times ReLU(pre) has the gradient of SAELens's
                // scatter(topk(pre).values.relu()). The mask is found on the host: burn's topk
                // sorts whole rows, several times slower than a selection.
                let plain = pre.clone().inner();
                let [n, m] = plain.dims();
                let mask = topk_mask(&host(plain.clone()), m, *k);
                relu(pre) * Tensor::<2>::from_data(TensorData::new(mask, [n, m]), &plain.device())
            }
        };
        let x_hat = f.clone().matmul(self.w_dec.clone()) + row(&self.b_dec);
        (f, x_hat)
    }

    /// The loss terms on a batch: (total, mse, sparsity penalty, latents). `l1` is the coefficient
    /// in force (standard SAEs).
    fn loss(
        &self,
        x: Tensor<2>,
        arch: &Architecture,
        l1: f64,
    ) -> (Tensor<1>, Tensor<1>, Option<Tensor<1>>, Tensor<2>) {
        let (f, x_hat) = self.forward(x.clone(), arch);
        let mse = (x_hat - x).square().sum_dim(1).mean();
        match arch {
            Architecture::Standard { .. } => {
                let dec_norm = self.w_dec.clone().square().sum_dim(1).sqrt(); // [d_sae, 1]
                let [n, d_sae] = f.dims();
                // mean_i Σ_j f_ij ‖W_dec[j]‖ = Σ_j (Σ_i f_ij) ‖W_dec[j]‖ / n: the batch is summed
                // first, which spares an [n, d_sae] product.
                let sparsity = (f.clone().sum_dim(0) * dec_norm.reshape([1, d_sae]))
                    .sum()
                    .mul_scalar(l1 / n as f64);
                (mse.clone() + sparsity.clone(), mse, Some(sparsity), f)
            }
            Architecture::TopK { .. } => (mse.clone(), mse, None, f),
        }
    }
}

/// The loss terms of one batch, as numbers.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Losses {
    /// Σ_d (x̂ − x)², averaged over the batch (SAELens's `mse_loss`).
    pub mse: f64,
    /// λ · Σ_j f_j ‖W_dec\[j\]‖ averaged over the batch (SAELens's `l1_loss`); 0 for top-k.
    pub l1: f64,
    pub total: f64,
    /// Mean number of active latents.
    pub l0: f64,
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

fn l0_of(f: Tensor<2>) -> f64 {
    let [n, _] = f.dims();
    scalar(f.inner().greater_elem(0.0).float().sum()) / n as f64
}

/// The loss of `params` on the rows `x` ([n, d_in], row-major) and its gradient with respect to
/// each parameter (in SAELens's shapes), by burn's autodiff: what the gradient check compares
/// against PyTorch autograd.
pub fn loss_and_grads(
    params: &SaeParams,
    x: &[f32],
    arch: &Architecture,
    device: DeviceSpec,
) -> Result<(Losses, SaeParams)> {
    let device = device.device()?;
    let n = x.len() / params.d_in;
    let p = leaves(&params.tensors(&device));
    let xt = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [n, params.d_in]), &device);
    let l1 = match arch {
        Architecture::Standard { l1 } => *l1,
        Architecture::TopK { .. } => 0.0,
    };
    let (total, mse, sparsity, f) = p.loss(xt, arch, l1);
    let grads = total.backward();
    let g = |t: &Tensor<2>| host(t.grad(&grads).expect("a gradient for every parameter"));
    let g1 = |t: &Tensor<1>| host(t.grad(&grads).expect("a gradient for every parameter"));
    let losses = Losses {
        mse: scalar(mse),
        l1: sparsity.map_or(0.0, scalar),
        total: scalar(total),
        l0: l0_of(f),
    };
    Ok((
        losses,
        SaeParams {
            d_in: params.d_in,
            d_sae: params.d_sae,
            w_enc: g(&p.w_enc),
            b_enc: g1(&p.b_enc),
            w_dec: g(&p.w_dec),
            b_dec: g1(&p.b_dec),
        },
    ))
}

/// The parameters as fresh autodiff leaves that keep their gradients.
fn leaves(p: &Params) -> Params {
    Params {
        w_enc: p.w_enc.clone().autodiff().require_grad(),
        b_enc: p.b_enc.clone().autodiff().require_grad(),
        w_dec: p.w_dec.clone().autodiff().require_grad(),
        b_dec: p.b_dec.clone().autodiff().require_grad(),
    }
}

/// The largest global gradient norm kept (SAELens's trainer: `clip_grad_norm_(…, 1.0)`).
const CLIP_NORM: f64 = 1.0;

/// Adam's state for the four parameters.
#[derive(Default)]
struct AdamStates {
    w_enc: Option<AdamState<2>>,
    b_enc: Option<AdamState<1>>,
    w_dec: Option<AdamState<2>>,
    b_dec: Option<AdamState<1>>,
}

/// An SAE being trained: its parameters on the device, Adam's state, the step count.
pub struct Trainer {
    spec: SaeSpec,
    device: Device,
    params: Params,
    adam: burn::optim::Adam,
    states: AdamStates,
    step: usize,
}

impl Trainer {
    pub fn new(spec: &SaeSpec, init: &SaeParams) -> Result<Trainer> {
        spec.validate(init.d_in)?;
        let device = spec.device.device()?;
        Ok(Trainer {
            spec: spec.clone(),
            params: init.tensors(&device),
            device,
            // torch.optim.Adam's defaults (burn's ε default is 1e-5).
            adam: AdamConfig::new()
                .with_beta_1(0.9)
                .with_beta_2(0.999)
                .with_epsilon(1e-8)
                .build(),
            states: AdamStates::default(),
            step: 0,
        })
    }

    /// One optimizer step on the rows `x` ([n, d_in], row-major); returns the batch's losses
    /// when `measure` (reading them back costs a little).
    pub fn step(&mut self, x: &[f32], measure: bool) -> Option<Losses> {
        let d_in = self.params.w_enc.dims()[0];
        let n = x.len() / d_in;
        let xt = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [n, d_in]), &self.device);
        let l1 = match self.spec.architecture {
            Architecture::Standard { l1 } => l1 * self.spec.l1_scale_at(self.step),
            Architecture::TopK { .. } => 0.0,
        };
        let p = leaves(&self.params);
        let (total, mse, sparsity, f) = p.loss(xt, &self.spec.architecture, l1);
        let grads = total.backward();
        let grad = |t: &Tensor<2>| t.grad(&grads).expect("a gradient for every parameter");
        let grad1 = |t: &Tensor<1>| t.grad(&grads).expect("a gradient for every parameter");
        let (mut gwe, mut gbe, mut gwd, mut gbd) = (
            grad(&p.w_enc),
            grad1(&p.b_enc),
            grad(&p.w_dec),
            grad1(&p.b_dec),
        );
        let sq = gwe.clone().square().sum()
            + gbe.clone().square().sum()
            + gwd.clone().square().sum()
            + gbd.clone().square().sum();
        let norm = scalar(sq).sqrt();
        // torch: grads × max_norm / (norm + 1e-6) when that factor is below 1.
        let factor = CLIP_NORM / (norm + 1e-6);
        if factor < 1.0 {
            gwe = gwe.mul_scalar(factor);
            gbe = gbe.mul_scalar(factor);
            gwd = gwd.mul_scalar(factor);
            gbd = gbd.mul_scalar(factor);
        }
        let lr = self.spec.lr_at(self.step);
        let s = &mut self.states;
        let a = &self.adam;
        let pr = &mut self.params;
        (pr.w_enc, s.w_enc) = a.step(lr, pr.w_enc.clone(), gwe, s.w_enc.take());
        (pr.b_enc, s.b_enc) = a.step(lr, pr.b_enc.clone(), gbe, s.b_enc.take());
        (pr.w_dec, s.w_dec) = a.step(lr, pr.w_dec.clone(), gwd, s.w_dec.take());
        (pr.b_dec, s.b_dec) = a.step(lr, pr.b_dec.clone(), gbd, s.b_dec.take());
        self.step += 1;
        measure.then(|| Losses {
            mse: scalar(mse),
            l1: sparsity.map_or(0.0, scalar),
            total: scalar(total),
            l0: l0_of(f),
        })
    }

    /// The current weights.
    pub fn params(&self) -> SaeParams {
        self.params.to_host()
    }
}

/// A progress report: the losses of the batch at `step` (1-based) of `steps`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct TrainProgress {
    pub step: usize,
    pub steps: usize,
    pub losses: Losses,
}

/// A trained SAE and how it was trained.
#[derive(Clone, Debug)]
pub struct TrainedSae {
    pub params: SaeParams,
    pub spec: SaeSpec,
    pub seed: u64,
    pub hook: Hook,
    pub model_name: String,
    pub context_size: usize,
    /// Whether BOS/EOS/pad positions were among the activations.
    pub keep_special: bool,
    /// Activations in the training set.
    pub n_activations: usize,
    /// The reports made during training.
    pub history: Vec<TrainProgress>,
    /// Wall-clock seconds of the training loop.
    pub seconds: f64,
}

impl TrainedSae {
    /// Activations processed per second of training.
    pub fn throughput(&self) -> f64 {
        (self.spec.steps * self.spec.batch) as f64 / self.seconds
    }
}

/// Trains one SAE on `acts` (see the module's notes); `progress` gets a report every
/// `spec.report_every` steps and at the last.
pub fn train_sae(
    acts: &Activations,
    spec: &SaeSpec,
    seed: u64,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<TrainedSae> {
    let d = acts.d;
    spec.validate(d)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let b_dec: Vec<f32> = acts.mean().iter().map(|&m| m as f32).collect();
    let init = SaeParams::init(d, spec.d_sae, b_dec, &mut rng);
    let mut trainer = Trainer::new(spec, &init)?;
    let mut order: Vec<usize> = (0..acts.n).collect();
    order.shuffle(&mut rng);
    let mut next = 0;
    let mut buf = vec![0.0f32; spec.batch * d];
    let mut history = vec![];
    let start = Instant::now();
    for step in 0..spec.steps {
        for row in buf.chunks_exact_mut(d) {
            if next == order.len() {
                order.shuffle(&mut rng);
                next = 0;
            }
            row.copy_from_slice(acts.row(order[next]));
            next += 1;
        }
        let report = (step + 1) % spec.report_every.max(1) == 0 || step + 1 == spec.steps;
        if let Some(losses) = trainer.step(&buf, report) {
            if !losses.total.is_finite() {
                return Err(diverged(spec, step + 1));
            }
            let p = TrainProgress {
                step: step + 1,
                steps: spec.steps,
                losses,
            };
            history.push(p);
            progress(p);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let params = trainer.params();
    if [&params.w_enc, &params.b_enc, &params.w_dec, &params.b_dec]
        .iter()
        .any(|v| v.iter().any(|x| !x.is_finite()))
    {
        return Err(diverged(spec, spec.steps));
    }
    Ok(TrainedSae {
        params,
        spec: spec.clone(),
        seed,
        hook: acts.hook,
        model_name: acts.model_name.clone(),
        context_size: acts.context_size,
        keep_special: acts.keep_special,
        n_activations: acts.n,
        history,
        seconds,
    })
}

/// Training that ended in NaN or infinite numbers.
fn diverged(spec: &SaeSpec, step: usize) -> Error {
    Error::Invalid {
        fix: None,
        option: "lr",
        message: format!(
            "training diverged by step {step} (the loss or the weights are not finite) at learning \
             rate {}; lower it (activations far from unit scale diverge too)",
            spec.lr
        ),
    }
}

/// How well an SAE reconstructs a set of activations.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Reconstruction {
    /// E‖x − x̂‖² (summed over dimensions, averaged over activations).
    pub mse: f64,
    /// mse / E‖x − x̄‖²: the share of the activations' variance left unexplained (OpenAI's
    /// normalized MSE about the mean).
    pub normalized_mse: f64,
    /// Mean active latents.
    pub l0: f64,
}

impl TrainedSae {
    /// Reconstruction error and L0 on `acts` (the training set or another), by the training
    /// forward pass without autodiff.
    pub fn reconstruction(&self, acts: &Activations) -> Result<Reconstruction> {
        let device = self.spec.device.device()?;
        let p = self.params.tensors(&device);
        let d = acts.d;
        let (mut sq, mut active) = (0.0, 0.0);
        for chunk in acts.data.chunks(4096 * d) {
            let n = chunk.len() / d;
            let x = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [n, d]), &device);
            let (f, x_hat) = p.forward(x.clone(), &self.spec.architecture);
            sq += scalar((x_hat - x).square().sum());
            active += scalar(f.greater_elem(0.0).float().sum());
        }
        let n = acts.n as f64;
        Ok(Reconstruction {
            mse: sq / n,
            normalized_mse: sq / n / acts.total_variance(),
            l0: active / n,
        })
    }
}
