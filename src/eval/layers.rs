//! The pieces every architecture is built from: linear maps, layer norm and RMS norm, causal
//! (optionally sliding-window, soft-capped, grouped-query) attention, rotary position embedding
//! (optionally with Llama 3's frequency scaling), activations.

use burn::tensor::activation::{gelu, sigmoid, silu, softmax};
use burn::tensor::{Bool, Device, Tensor, TensorData};
use rayon::prelude::*;

use super::weights::Weights;
use crate::error::Result;

/// y = x·W + b with W stored [in, out].
#[derive(Clone, Debug)]
pub struct Linear {
    pub w: Tensor<2>,
    pub b: Option<Tensor<1>>,
}

impl Linear {
    /// PyTorch `nn.Linear` stores [out, in]: transposed once here.
    pub fn torch(w: &mut Weights, prefix: &str, d_in: usize, d_out: usize) -> Result<Linear> {
        Ok(Linear {
            w: w.take(&format!("{prefix}.weight"), [d_out, d_in])?
                .transpose(),
            b: Some(w.take(&format!("{prefix}.bias"), [d_out])?),
        })
    }

    /// An `nn.Linear` whose bias exists only when `bias` is set (Llama's `attention_bias`).
    pub fn torch_bias(
        w: &mut Weights,
        prefix: &str,
        d_in: usize,
        d_out: usize,
        bias: bool,
    ) -> Result<Linear> {
        if bias {
            return Linear::torch(w, prefix, d_in, d_out);
        }
        Ok(Linear {
            w: w.take(&format!("{prefix}.weight"), [d_out, d_in])?
                .transpose(),
            b: None,
        })
    }

    /// GPT-2's `Conv1D` already stores [in, out].
    pub fn conv1d(w: &mut Weights, prefix: &str, d_in: usize, d_out: usize) -> Result<Linear> {
        Ok(Linear {
            w: w.take(&format!("{prefix}.weight"), [d_in, d_out])?,
            b: Some(w.take(&format!("{prefix}.bias"), [d_out])?),
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, t, d] = x.dims();
        let out = self.w.dims()[1];
        let mut y = x.reshape([b * t, d]).matmul(self.w.clone());
        if let Some(bias) = &self.b {
            y = y + bias.clone().unsqueeze::<2>();
        }
        y.reshape([b, t, out])
    }
}

#[derive(Clone, Debug)]
pub struct LayerNorm {
    pub gamma: Tensor<1>,
    pub beta: Tensor<1>,
    pub eps: f64,
}

impl LayerNorm {
    pub fn load(w: &mut Weights, prefix: &str, d: usize, eps: f64) -> Result<LayerNorm> {
        Ok(LayerNorm {
            gamma: w.take(&format!("{prefix}.weight"), [d])?,
            beta: w.take(&format!("{prefix}.bias"), [d])?,
            eps,
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        if on_flex(&x) {
            // flex's fused kernel: one multithreaded pass instead of nine single-threaded ones.
            let (gamma, beta) = (self.gamma.clone(), Some(self.beta.clone()));
            return burn::tensor::module::layer_norm(x, gamma, beta, self.eps);
        }
        let mean = x.clone().mean_dim(2);
        let centred = x - mean;
        let var = centred.clone().square().mean_dim(2);
        let normed = centred / (var + self.eps).sqrt();
        normed * self.gamma.clone().unsqueeze::<3>() + self.beta.clone().unsqueeze::<3>()
    }
}

/// RMS norm (Llama, Qwen 2, Gemma 2): x / √(mean(x²) + eps) · gamma, in f32. Gemma stores w and
/// multiplies by 1 + w; `gamma` holds that sum.
#[derive(Clone, Debug)]
pub struct RmsNorm {
    pub gamma: Tensor<1>,
    pub eps: f64,
}

impl RmsNorm {
    /// `plus_one`: the stored weight is w of Gemma's (1 + w).
    pub fn load(
        w: &mut Weights,
        prefix: &str,
        d: usize,
        eps: f64,
        plus_one: bool,
    ) -> Result<RmsNorm> {
        let weight = w.take(&format!("{prefix}.weight"), [d])?;
        Ok(RmsNorm {
            gamma: if plus_one { weight + 1.0 } else { weight },
            eps,
        })
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let ms = x.clone().square().mean_dim(2);
        x * (ms + self.eps).sqrt().recip() * self.gamma.clone().unsqueeze::<3>()
    }
}

/// A block's normalisation: layer norm (GPT-2, GPT-NeoX) or RMS norm (the Llama family).
#[allow(clippy::large_enum_variant)] // a few per model, built once
#[derive(Clone, Debug)]
pub enum Norm {
    Layer(LayerNorm),
    Rms(RmsNorm),
}

impl Norm {
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Norm::Layer(n) => n.forward(x),
            Norm::Rms(n) => n.forward(x),
        }
    }
}

/// The MLP's activation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Activation {
    /// Exact (erf) GELU.
    #[default]
    Gelu,
    /// The tanh approximation (GPT-2's gelu_new, Gemma's gelu_pytorch_tanh).
    GeluTanh,
    /// x·σ(x) (Llama, Qwen 2).
    Silu,
}

impl Activation {
    pub fn forward(self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Activation::Gelu => gelu(x),
            Activation::GeluTanh if on_flex(&x) => gelu_tanh_host(x),
            Activation::GeluTanh => gelu_tanh(x),
            Activation::Silu => silu(x),
        }
    }
}

/// Whether `x` lives on the plain flex device (not libtorch, not autodiff), where ceq's host
/// kernels beat a chain of single-threaded element-wise tensor ops.
fn on_flex<const D: usize>(x: &Tensor<D>) -> bool {
    let device = x.device();
    device == Device::flex() && !device.is_autodiff()
}

/// [`gelu_tanh`] in one pass over host memory, vectorised ([`super::vmath`]) and in parallel:
/// flex runs each of its seven element-wise ops on one thread, the sigmoid's exp through libm.
fn gelu_tanh_host(x: Tensor<3>) -> Tensor<3> {
    let (dims, device) = (x.dims(), x.device());
    let mut v: Vec<f32> = x
        .into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 data");
    v.par_chunks_mut(1 << 14)
        .for_each(super::vmath::gelu_tanh_in_place);
    Tensor::from_data(TensorData::new(v, dims), &device)
}

/// Splits [b, t, heads·hd] into [b, heads, t, hd].
pub fn heads(x: Tensor<3>, n_heads: usize) -> Tensor<4> {
    let [b, t, d] = x.dims();
    x.reshape([b, t, n_heads, d / n_heads]).swap_dims(1, 2)
}

/// Grouped-query attention: each of the [b, kv, t, hd] key or value heads serves `n_heads / kv`
/// consecutive query heads (Hugging Face's `repeat_kv`).
pub fn repeat_kv(x: Tensor<4>, n_heads: usize) -> Tensor<4> {
    let [b, kv, t, hd] = x.dims();
    if kv == n_heads {
        return x;
    }
    x.unsqueeze_dim::<5>(2)
        .expand([b, kv, n_heads / kv, t, hd])
        .reshape([b, n_heads, t, hd])
}

/// How attention scores are formed, beyond q·kᵀ.
#[derive(Clone, Copy, Debug)]
pub struct Scores {
    /// The factor on q·kᵀ: 1/√head_dim, or Gemma 2's query_pre_attn_scalar^-½.
    pub scale: f64,
    /// Gemma 2's soft-cap: scores ← c·tanh(scores / c), before the mask.
    pub softcap: Option<f64>,
    /// Sliding-window attention: position i sees positions i − window + 1 to i (Hugging Face's
    /// `kv_idx > q_idx - sliding_window`).
    pub window: Option<usize>,
}

/// Causal softmax attention over [b, h, t, hd] → [b, t, h·hd].
pub fn attend(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>, how: Scores) -> Tensor<3> {
    let [b, h, t, hd] = q.dims();
    let mut scores = q.matmul(k.swap_dims(2, 3)) * how.scale;
    if let Some(c) = how.softcap {
        scores = (scores / c).tanh() * c;
    }
    let device = scores.device();
    let mask = match how.window {
        // burn's tril_mask is true outside the lower triangle (diagonal included): the future.
        None => Tensor::<2, Bool>::tril_mask([t, t], 0, &device),
        Some(w) => {
            let hidden: Vec<bool> = (0..t)
                .flat_map(|i| (0..t).map(move |j| j > i || i - j >= w))
                .collect();
            Tensor::<2, Bool>::from_data(TensorData::new(hidden, [t, t]), &device)
        }
    };
    let mask = mask.unsqueeze::<4>().expand([b, h, t, t]);
    let att = softmax(scores.mask_fill(mask, f32::NEG_INFINITY), 3);
    att.matmul(v).swap_dims(1, 2).reshape([b, t, h * hd])
}

/// Llama 3's rotary frequency scaling (`rope_type: "llama3"`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Llama3Rope {
    pub factor: f64,
    pub low_freq_factor: f64,
    pub high_freq_factor: f64,
    pub original_max_positions: f64,
}

/// Rotary embedding (GPT-NeoX's half-split form) of the first `dims` of each head.
#[derive(Clone, Debug)]
pub struct Rotary {
    pub dims: usize,
    /// One inverse frequency per rotated pair.
    inv_freq: Vec<f32>,
}

impl Rotary {
    /// Inverse frequencies 1/base^(2i/dims), in f32 as Hugging Face computes them, then scaled as
    /// transformers' `_compute_llama3_parameters` does (in f32 too): wavelengths above
    /// original/low_freq_factor divided by `factor`, those below original/high_freq_factor kept,
    /// the ones between interpolated.
    pub fn new(dims: usize, base: f64, llama3: Option<Llama3Rope>) -> Rotary {
        let inv_freq = (0..dims / 2)
            .map(|i| {
                let inv = 1.0 / (base as f32).powf((2 * i) as f32 / dims as f32);
                let Some(s) = llama3 else { return inv };
                let (factor, low, high) = (
                    s.factor as f32,
                    s.low_freq_factor as f32,
                    s.high_freq_factor as f32,
                );
                let old = s.original_max_positions as f32;
                let wavelen = 2.0 * std::f32::consts::PI / inv;
                let scaled = if wavelen > old / low {
                    inv / factor
                } else {
                    inv
                };
                if wavelen < old / high || wavelen > old / low {
                    scaled
                } else {
                    let smooth = (old / wavelen - low) / (high - low);
                    (1.0 - smooth) * scaled / factor + smooth * scaled
                }
            })
            .collect();
        Rotary { dims, inv_freq }
    }

    /// cos and sin tables [t, dims], computed in f32 as Hugging Face does.
    fn tables(&self, t: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let half = self.dims / 2;
        let mut cos = Vec::with_capacity(t * self.dims);
        let mut sin = Vec::with_capacity(t * self.dims);
        for p in 0..t {
            for j in 0..self.dims {
                let a = p as f32 * self.inv_freq[j % half];
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        let make = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [t, self.dims]), device);
        (make(cos), make(sin))
    }

    /// Rotates q or k [b, h, t, hd] in its first `dims` dimensions.
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        if self.dims == 0 {
            return x;
        }
        let [b, h, t, hd] = x.dims();
        let (cos, sin) = self.tables(t, &x.device());
        let cos = cos.unsqueeze::<4>().expand([b, h, t, self.dims]);
        let sin = sin.unsqueeze::<4>().expand([b, h, t, self.dims]);
        let rot = x.clone().slice([0..b, 0..h, 0..t, 0..self.dims]);
        let half = self.dims / 2;
        let x1 = rot.clone().slice([0..b, 0..h, 0..t, 0..half]);
        let x2 = rot.clone().slice([0..b, 0..h, 0..t, half..self.dims]);
        let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
        let out = rot * cos + rotated * sin;
        if self.dims == hd {
            out
        } else {
            Tensor::cat(vec![out, x.slice([0..b, 0..h, 0..t, self.dims..hd])], 3)
        }
    }
}

/// GPT-2's tanh-approximate GELU, 0.5·x·(1 + tanh(u)) with u = √(2/π)·(x + 0.044715·x³), computed as
/// the identical x·σ(2u): burn's CPU backend takes libm's tanhf per element (an expm1f inside), a
/// sigmoid one expf; x³ as two multiplications rather than a `powf`.
pub fn gelu_tanh(x: Tensor<3>) -> Tensor<3> {
    const TWO_SQRT_2_OVER_PI: f64 = 2.0 * 0.797_884_560_802_865_4;
    let cube = x.clone() * x.clone() * x.clone();
    let two_u = (x.clone() + cube * 0.044715) * TWO_SQRT_2_OVER_PI;
    x * sigmoid(two_u)
}
