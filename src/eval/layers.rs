//! The pieces both architectures are built from: linear maps, layer norm, causal attention, rotary
//! position embedding.

use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Bool, Device, Tensor};

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
        let mean = x.clone().mean_dim(2);
        let centred = x - mean;
        let var = centred.clone().square().mean_dim(2);
        let normed = centred / (var + self.eps).sqrt();
        normed * self.gamma.clone().unsqueeze::<3>() + self.beta.clone().unsqueeze::<3>()
    }
}

/// Splits [b, t, heads·hd] into [b, heads, t, hd].
pub fn heads(x: Tensor<3>, n_heads: usize) -> Tensor<4> {
    let [b, t, d] = x.dims();
    x.reshape([b, t, n_heads, d / n_heads]).swap_dims(1, 2)
}

/// Causal softmax attention over [b, h, t, hd] → [b, t, h·hd].
pub fn attend(q: Tensor<4>, k: Tensor<4>, v: Tensor<4>) -> Tensor<3> {
    let [b, h, t, hd] = q.dims();
    let scores = q.matmul(k.swap_dims(2, 3)) / (hd as f64).sqrt();
    // burn's tril_mask is true outside the lower triangle (diagonal included): the future.
    let mask = Tensor::<2, Bool>::tril_mask([t, t], 0, &scores.device())
        .unsqueeze::<4>()
        .expand([b, h, t, t]);
    let att = softmax(scores.mask_fill(mask, f32::NEG_INFINITY), 3);
    att.matmul(v).swap_dims(1, 2).reshape([b, t, h * hd])
}

/// Rotary embedding (GPT-NeoX's half-split form) of the first `dims` of each head.
#[derive(Clone, Debug)]
pub struct Rotary {
    pub dims: usize,
    pub base: f64,
}

impl Rotary {
    /// cos and sin tables [t, dims], computed in f32 as Hugging Face does.
    fn tables(&self, t: usize, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let half = self.dims / 2;
        let inv: Vec<f32> = (0..half)
            .map(|i| 1.0 / (self.base as f32).powf((2 * i) as f32 / self.dims as f32))
            .collect();
        let mut cos = Vec::with_capacity(t * self.dims);
        let mut sin = Vec::with_capacity(t * self.dims);
        for p in 0..t {
            for j in 0..self.dims {
                let a = p as f32 * inv[j % half];
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        let make = |v: Vec<f32>| {
            Tensor::<2>::from_data(burn::tensor::TensorData::new(v, [t, self.dims]), device)
        };
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
