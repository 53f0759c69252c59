//! The study's trainable transformer: GPT-2's function exactly (`GPT2LMHeadModel`: learned
//! positions, pre-LayerNorm blocks, tanh-GELU MLP 4× wide, tied embedding and unembedding), so that
//! what the trainer saves loads unchanged in ceq's eval engine and in transformers. The forward
//! pass is built from the eval engine's own layers (`crate::eval::layers`), so training and
//! evaluation compute one function.
//!
//! Weights live on the host as one f32 vector per GPT-2 key (the optimizer's master copy); each
//! step makes them into tensors, with or without autodiff.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::language::BOS;
use crate::error::{Error, Result};
use crate::eval::layers::{LayerNorm, Linear, Scores, attend, gelu_tanh, heads};

/// GPT-2's layer norm epsilon.
pub const LN_EPS: f64 = 1e-5;

/// The standard deviation of GPT-2's initial weights (its `initializer_range`).
const INIT_STD: f64 = 0.02;

/// A model's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelSize {
    pub d_model: usize,
    pub n_layer: usize,
    pub n_head: usize,
    /// Positions (GPT-2's n_positions): the longest row it reads.
    pub ctx: usize,
    /// Tokens, BOS included.
    pub vocab: usize,
}

impl ModelSize {
    /// Refuses a shape GPT-2 cannot have.
    pub fn check(&self) -> Result<()> {
        let bad = |message: String| Error::Invalid {
            fix: None,
            option: "model size",
            message,
        };
        if self.d_model == 0 || self.n_layer == 0 || self.n_head == 0 {
            return Err(bad(format!(
                "d_model {}, n_layer {} and n_head {} must be positive",
                self.d_model, self.n_layer, self.n_head
            )));
        }
        if !self.d_model.is_multiple_of(self.n_head) {
            return Err(bad(format!(
                "d_model {} is not a multiple of n_head {}",
                self.d_model, self.n_head
            )));
        }
        if self.ctx < 2 || self.vocab < 2 {
            return Err(bad(format!(
                "ctx {} and vocab {} must be at least 2 (a row needs a next token)",
                self.ctx, self.vocab
            )));
        }
        Ok(())
    }

    /// Every weight as GPT2LMHeadModel names it (without `transformer.`), with its shape, in the
    /// order the trainer keeps them. Conv1D weights are [in, out].
    pub fn layout(&self) -> Vec<(String, Vec<usize>)> {
        let (d, v) = (self.d_model, self.vocab);
        let mut out = vec![
            ("wte.weight".to_owned(), vec![v, d]),
            ("wpe.weight".to_owned(), vec![self.ctx, d]),
        ];
        for l in 0..self.n_layer {
            let shapes: [(&str, Vec<usize>); 12] = [
                ("ln_1.weight", vec![d]),
                ("ln_1.bias", vec![d]),
                ("attn.c_attn.weight", vec![d, 3 * d]),
                ("attn.c_attn.bias", vec![3 * d]),
                ("attn.c_proj.weight", vec![d, d]),
                ("attn.c_proj.bias", vec![d]),
                ("ln_2.weight", vec![d]),
                ("ln_2.bias", vec![d]),
                ("mlp.c_fc.weight", vec![d, 4 * d]),
                ("mlp.c_fc.bias", vec![4 * d]),
                ("mlp.c_proj.weight", vec![4 * d, d]),
                ("mlp.c_proj.bias", vec![d]),
            ];
            out.extend(shapes.into_iter().map(|(n, s)| (format!("h.{l}.{n}"), s)));
        }
        out.push(("ln_f.weight".to_owned(), vec![d]));
        out.push(("ln_f.bias".to_owned(), vec![d]));
        out
    }

    /// Parameters, embeddings included (the tied head counted once).
    pub fn n_params(&self) -> usize {
        self.layout()
            .iter()
            .map(|(_, s)| s.iter().product::<usize>())
            .sum()
    }

    /// Parameters without the token and position embeddings (Kaplan et al.'s N; what
    /// `Transformer::n_params_non_embedding` counts on the saved model).
    pub fn n_params_non_embedding(&self) -> usize {
        self.n_params() - (self.vocab + self.ctx) * self.d_model
    }
}

/// A GPT-2 model's weights, one host vector per entry of [`ModelSize::layout`].
#[derive(Clone, Debug, PartialEq)]
pub struct Gpt {
    pub size: ModelSize,
    pub weights: Vec<Vec<f32>>,
}

impl Gpt {
    /// GPT-2's initialisation: weights N(0, 0.02²), the two projections into the residual stream
    /// N(0, 0.02²/(2·n_layer)) (GPT-2's scaling for depth), biases 0, layer norms 1 and 0. The same
    /// seed gives the same weights.
    pub fn init(size: ModelSize, seed: u64) -> Result<Gpt> {
        size.check()?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let residual_std = INIT_STD / ((2 * size.n_layer) as f64).sqrt();
        let weights = size
            .layout()
            .iter()
            .map(|(name, shape)| {
                let n: usize = shape.iter().product();
                let std = if name.ends_with("c_proj.weight") {
                    residual_std
                } else if shape.len() == 2 {
                    INIT_STD
                } else if name.contains(".ln_") || name.starts_with("ln_") {
                    return vec![if name.ends_with(".weight") { 1.0 } else { 0.0 }; n];
                } else {
                    return vec![0.0; n];
                };
                let normal = Normal::new(0.0, std).expect("a positive standard deviation");
                (0..n).map(|_| normal.sample(&mut rng) as f32).collect()
            })
            .collect();
        Ok(Gpt { size, weights })
    }

    /// The weights as flat tensors on `device` (an autodiff device for training).
    pub fn tensors(&self, device: &Device) -> Vec<Tensor<1>> {
        self.weights
            .iter()
            .map(|w| Tensor::from_data(TensorData::new(w.clone(), [w.len()]), device))
            .collect()
    }

    /// The next-token NLL (nats) of every position but each row's last, for rows of `ctx` tokens,
    /// in f64 from f32 logits, row-major, `ctx − 1` per row; `batch` rows per forward pass.
    pub fn nll(&self, tokens: &[u32], device: &Device, batch: usize) -> Vec<f64> {
        let (ctx, v) = (self.size.ctx, self.size.vocab);
        let w = self.tensors(device);
        let mut out = Vec::with_capacity(tokens.len() / ctx * (ctx - 1));
        for rows in tokens.chunks(batch.max(1) * ctx) {
            let n = rows.len() / ctx;
            let logits = forward(&self.size, &w, token_tensor(rows, n, ctx, device));
            let logits: Vec<f32> = logits
                .into_data()
                .try_into_vec()
                .expect("f32 logits from an f32 model");
            for r in 0..n {
                for t in 0..ctx - 1 {
                    let at = (r * ctx + t) * v;
                    let row = &logits[at..at + v];
                    // In f64, max-shifted: the same log-sum-exp ceq's eval takes.
                    let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
                    let lse = m + row.iter().map(|&x| (x as f64 - m).exp()).sum::<f64>().ln();
                    out.push(lse - row[rows[r * ctx + t + 1] as usize] as f64);
                }
            }
        }
        out
    }

    /// Next-token CE (nats/token) on rows of `ctx` tokens, on the positions ceq's eval scores for a
    /// study model (BOS is its special token): every position but a row's last, and without
    /// `keep_special` not one whose input is BOS. Computed on the flex backend.
    pub fn ce(&self, tokens: &[u32], keep_special: bool) -> f64 {
        let ctx = self.size.ctx;
        let nll = self.nll(tokens, &Device::flex(), 16);
        let (mut sum, mut n) = (0.0, 0usize);
        for (r, row) in tokens.chunks_exact(ctx).enumerate() {
            for t in 0..ctx - 1 {
                if keep_special || row[t] != BOS {
                    sum += nll[r * (ctx - 1) + t];
                    n += 1;
                }
            }
        }
        sum / n as f64
    }
}

/// Rows of token ids as an Int tensor [n, ctx].
pub fn token_tensor(ids: &[u32], n: usize, ctx: usize, device: &Device) -> Tensor<2, Int> {
    let data: Vec<i64> = ids.iter().map(|&t| t as i64).collect();
    Tensor::from_data(TensorData::new(data, [n, ctx]), device)
}

fn matrix(t: &Tensor<1>, shape: [usize; 2]) -> Tensor<2> {
    t.clone().reshape(shape)
}

fn conv1d(w: &[Tensor<1>], at: usize, d_in: usize, d_out: usize) -> Linear {
    Linear {
        w: matrix(&w[at], [d_in, d_out]),
        b: Some(w[at + 1].clone()),
    }
}

fn layer_norm(w: &[Tensor<1>], at: usize) -> LayerNorm {
    LayerNorm {
        gamma: w[at].clone(),
        beta: w[at + 1].clone(),
        eps: LN_EPS,
    }
}

/// Logits [batch, ctx, vocab] of GPT-2 with weights `w` (in [`ModelSize::layout`]'s order) on
/// `tokens` [batch, t ≤ ctx]; differentiable when `w` are autodiff leaves.
pub fn forward(size: &ModelSize, w: &[Tensor<1>], tokens: Tensor<2, Int>) -> Tensor<3> {
    let (d, v) = (size.d_model, size.vocab);
    let [b, t] = tokens.dims();
    let wte = matrix(&w[0], [v, d]);
    let wpe = matrix(&w[1], [size.ctx, d]);
    let mut x = wte
        .clone()
        .select(0, tokens.reshape([b * t]))
        .reshape([b, t, d])
        + wpe.slice([0..t, 0..d]).unsqueeze::<3>();
    let how = Scores {
        scale: 1.0 / ((d / size.n_head) as f64).sqrt(),
        softcap: None,
        window: None,
    };
    for l in 0..size.n_layer {
        let at = 2 + 12 * l;
        let qkv = conv1d(w, at + 2, d, 3 * d).forward(layer_norm(w, at).forward(x.clone()));
        let q = heads(qkv.clone().slice([0..b, 0..t, 0..d]), size.n_head);
        let k = heads(qkv.clone().slice([0..b, 0..t, d..2 * d]), size.n_head);
        let vv = heads(qkv.slice([0..b, 0..t, 2 * d..3 * d]), size.n_head);
        x = x + conv1d(w, at + 4, d, d).forward(attend(q, k, vv, how));
        let h = conv1d(w, at + 8, d, 4 * d).forward(layer_norm(w, at + 6).forward(x.clone()));
        x = x + conv1d(w, at + 10, 4 * d, d).forward(gelu_tanh(h));
    }
    let h = layer_norm(w, 2 + 12 * size.n_layer).forward(x);
    h.reshape([b * t, d])
        .matmul(wte.transpose())
        .reshape([b, t, v])
}

/// The mean next-token CE over every position but each row's last: the training loss.
pub fn loss(size: &ModelSize, w: &[Tensor<1>], tokens: Tensor<2, Int>) -> Tensor<1> {
    let [b, t] = tokens.dims();
    let n = b * (t - 1);
    let logits = forward(size, w, tokens.clone().slice([0..b, 0..t - 1]));
    let targets = tokens.slice([0..b, 1..t]).reshape([n, 1]);
    let logp = log_softmax(logits.reshape([n, size.vocab]), 1);
    logp.gather(1, targets).mean().neg()
}
