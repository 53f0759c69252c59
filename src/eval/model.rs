//! GPT-2 and GPT-NeoX forward passes, split at a hook: [`Transformer::capture`] runs the layers before
//! the hook once, and [`Transformer::resume`] runs the rest from any activation put back there, so the
//! clean, spliced and ablated continuations share one prefix.

use std::path::Path;

use burn::tensor::activation::gelu;
use burn::tensor::{Device, Int, Tensor};

use super::config::{Arch, ModelConfig};
use super::hook::{Hook, Site};
use super::layers::{LayerNorm, Linear, Rotary, attend, gelu_tanh, heads};
use super::weights::Weights;
use crate::error::{Error, Result};

#[derive(Clone, Debug)]
struct Block {
    ln1: LayerNorm,
    ln2: LayerNorm,
    qkv: Linear,
    proj: Linear,
    fc_in: Linear,
    fc_out: Linear,
}

#[derive(Clone, Debug)]
pub struct Transformer {
    pub cfg: ModelConfig,
    /// Total parameters (embeddings included; a tied unembedding counted once).
    pub n_params: usize,
    embed: Tensor<2>,
    positions: Option<Tensor<2>>,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    /// [d_model, vocab].
    unembed: Tensor<2>,
    rotary: Rotary,
}

/// The state at a hook: the activation there, and what the rest of the block needs besides it.
pub struct Capture {
    pub act: Tensor<3>,
    hook: Hook,
    /// GPT-2 attn_out: the block input; mlp_out: resid_mid. NeoX parallel: block input, attn_out,
    /// mlp_out.
    saved: Vec<Tensor<3>>,
}

impl Transformer {
    /// Loads a Hugging Face folder: config.json + safetensors weights, with the key table of its
    /// architecture; fails on missing or unused weights.
    pub fn load(dir: &Path, device: &Device) -> Result<Transformer> {
        let cfg = ModelConfig::read(dir)?;
        let mut w = Weights::open(dir, device)?;
        let (d, ff, eps) = (cfg.d_model, cfg.d_mlp, cfg.ln_eps);
        let m = match cfg.arch {
            Arch::Gpt2 => {
                // Saved with or without the `transformer.` prefix.
                let p = if w.has("transformer.wte.weight") {
                    "transformer."
                } else {
                    ""
                };
                // Buffers of older transformers versions, and a saved copy of the tied head.
                w.ignore(|k| {
                    k.ends_with(".attn.bias")
                        || k.ends_with(".attn.masked_bias")
                        || k == "lm_head.weight"
                });
                let mut blocks = vec![];
                for l in 0..cfg.n_layers {
                    let b = format!("{p}h.{l}");
                    blocks.push(Block {
                        ln1: LayerNorm::load(&mut w, &format!("{b}.ln_1"), d, eps)?,
                        ln2: LayerNorm::load(&mut w, &format!("{b}.ln_2"), d, eps)?,
                        qkv: Linear::conv1d(&mut w, &format!("{b}.attn.c_attn"), d, 3 * d)?,
                        proj: Linear::conv1d(&mut w, &format!("{b}.attn.c_proj"), d, d)?,
                        fc_in: Linear::conv1d(&mut w, &format!("{b}.mlp.c_fc"), d, ff)?,
                        fc_out: Linear::conv1d(&mut w, &format!("{b}.mlp.c_proj"), ff, d)?,
                    });
                }
                let embed = w.take(&format!("{p}wte.weight"), [cfg.vocab, d])?;
                Transformer {
                    positions: Some(w.take(&format!("{p}wpe.weight"), [cfg.max_positions, d])?),
                    unembed: embed.clone().transpose(),
                    embed,
                    blocks,
                    ln_f: LayerNorm::load(&mut w, &format!("{p}ln_f"), d, eps)?,
                    rotary: Rotary { dims: 0, base: 0.0 },
                    cfg: cfg.clone(),
                    n_params: 0,
                }
            }
            Arch::NeoX => {
                w.ignore(|k| {
                    k.ends_with(".attention.bias")
                        || k.ends_with(".attention.masked_bias")
                        || k.ends_with("rotary_emb.inv_freq")
                });
                let mut blocks = vec![];
                for l in 0..cfg.n_layers {
                    let b = format!("gpt_neox.layers.{l}");
                    blocks.push(Block {
                        ln1: LayerNorm::load(&mut w, &format!("{b}.input_layernorm"), d, eps)?,
                        ln2: LayerNorm::load(
                            &mut w,
                            &format!("{b}.post_attention_layernorm"),
                            d,
                            eps,
                        )?,
                        qkv: Linear::torch(
                            &mut w,
                            &format!("{b}.attention.query_key_value"),
                            d,
                            3 * d,
                        )?,
                        proj: Linear::torch(&mut w, &format!("{b}.attention.dense"), d, d)?,
                        fc_in: Linear::torch(&mut w, &format!("{b}.mlp.dense_h_to_4h"), d, ff)?,
                        fc_out: Linear::torch(&mut w, &format!("{b}.mlp.dense_4h_to_h"), ff, d)?,
                    });
                }
                let embed = w.take("gpt_neox.embed_in.weight", [cfg.vocab, d])?;
                let unembed = if cfg.tied_unembedding {
                    embed.clone().transpose()
                } else {
                    w.take("embed_out.weight", [cfg.vocab, d])?.transpose()
                };
                Transformer {
                    positions: None,
                    embed,
                    unembed,
                    blocks,
                    ln_f: LayerNorm::load(&mut w, "gpt_neox.final_layer_norm", d, eps)?,
                    rotary: Rotary {
                        dims: cfg.rotary_dims,
                        base: cfg.rotary_base,
                    },
                    cfg: cfg.clone(),
                    n_params: 0,
                }
            }
        };
        let n_params = w.taken;
        w.finish("its config.json")?;
        Ok(Transformer { n_params, ..m })
    }

    /// Checks a hook exists in this model.
    pub fn check_hook(&self, hook: &Hook, dir: &Path) -> Result<()> {
        let bad = |why: String| Error::Mismatch {
            path: dir.to_owned(),
            message: why,
        };
        if hook.layer >= self.cfg.n_layers {
            return Err(bad(format!(
                "hook {hook}: the model has {} blocks (0 to {})",
                self.cfg.n_layers,
                self.cfg.n_layers - 1
            )));
        }
        if hook.site == Site::ResidMid && self.cfg.parallel_residual {
            return Err(bad(format!(
                "hook {hook}: this model's blocks add attention and MLP in parallel, so there is no resid_mid"
            )));
        }
        Ok(())
    }

    fn attn(&self, b: &Block, x: Tensor<3>) -> Tensor<3> {
        let h = self.cfg.n_heads;
        let qkv = b.qkv.forward(x);
        let [bs, t, d3] = qkv.dims();
        let d = d3 / 3;
        let (q, k, v) = match self.cfg.arch {
            Arch::Gpt2 => (
                heads(qkv.clone().slice([0..bs, 0..t, 0..d]), h),
                heads(qkv.clone().slice([0..bs, 0..t, d..2 * d]), h),
                heads(qkv.slice([0..bs, 0..t, 2 * d..3 * d]), h),
            ),
            // Fused per head: [q_h, k_h, v_h] for each head in turn.
            Arch::NeoX => {
                let hd = d / h;
                let per = qkv.reshape([bs, t, h, 3 * hd]);
                let part = |i: usize| {
                    per.clone()
                        .slice([0..bs, 0..t, 0..h, i * hd..(i + 1) * hd])
                        .swap_dims(1, 2)
                };
                (
                    self.rotary.apply(part(0)),
                    self.rotary.apply(part(1)),
                    part(2),
                )
            }
        };
        b.proj.forward(attend(q, k, v))
    }

    fn mlp(&self, b: &Block, x: Tensor<3>) -> Tensor<3> {
        let hdn = b.fc_in.forward(x);
        let act = if self.cfg.gelu_tanh {
            gelu_tanh(hdn)
        } else {
            gelu(hdn)
        };
        b.fc_out.forward(act)
    }

    fn embed(&self, tokens: &Tensor<2, Int>) -> Tensor<3> {
        let [bs, t] = tokens.dims();
        let ids = tokens.clone().reshape([bs * t]);
        let mut x = self
            .embed
            .clone()
            .select(0, ids)
            .reshape([bs, t, self.cfg.d_model]);
        if let Some(p) = &self.positions {
            let pos = p
                .clone()
                .slice([0..t, 0..self.cfg.d_model])
                .unsqueeze::<3>();
            x = x + pos;
        }
        x
    }

    fn block(&self, b: &Block, x: Tensor<3>) -> Tensor<3> {
        if self.cfg.parallel_residual {
            let a = self.attn(b, b.ln1.forward(x.clone()));
            let m = self.mlp(b, b.ln2.forward(x.clone()));
            x + a + m
        } else {
            let mid = x.clone() + self.attn(b, b.ln1.forward(x));
            mid.clone() + self.mlp(b, b.ln2.forward(mid))
        }
    }

    /// Runs the layers up to the hook.
    pub fn capture(&self, tokens: &Tensor<2, Int>, hook: Hook) -> Capture {
        let mut x = self.embed(tokens);
        for b in &self.blocks[..hook.layer] {
            x = self.block(b, x);
        }
        let b = &self.blocks[hook.layer];
        let (act, saved) = match (hook.site, self.cfg.parallel_residual) {
            (Site::ResidPre, _) => (x, vec![]),
            (Site::ResidPost, _) => (self.block(b, x), vec![]),
            (Site::ResidMid, _) => (x.clone() + self.attn(b, b.ln1.forward(x)), vec![]),
            (Site::AttnOut, false) => (self.attn(b, b.ln1.forward(x.clone())), vec![x]),
            (Site::MlpOut, false) => {
                let mid = x.clone() + self.attn(b, b.ln1.forward(x));
                (self.mlp(b, b.ln2.forward(mid.clone())), vec![mid])
            }
            (Site::AttnOut | Site::MlpOut, true) => {
                let a = self.attn(b, b.ln1.forward(x.clone()));
                let m = self.mlp(b, b.ln2.forward(x.clone()));
                let act = if hook.site == Site::AttnOut {
                    a.clone()
                } else {
                    m.clone()
                };
                (act, vec![x, a, m])
            }
        };
        Capture { act, hook, saved }
    }

    /// Runs the rest of the model from activation `act` at the capture's hook; returns logits
    /// [batch, ctx, vocab].
    pub fn resume(&self, cap: &Capture, act: Tensor<3>) -> Tensor<3> {
        let l = cap.hook.layer;
        let b = &self.blocks[l];
        let (mut x, next) = match (cap.hook.site, self.cfg.parallel_residual) {
            (Site::ResidPre, _) => (act, l),
            (Site::ResidPost, _) => (act, l + 1),
            (Site::ResidMid, _) => (act.clone() + self.mlp(b, b.ln2.forward(act)), l + 1),
            (Site::AttnOut, false) => {
                let mid = cap.saved[0].clone() + act;
                (mid.clone() + self.mlp(b, b.ln2.forward(mid)), l + 1)
            }
            (Site::MlpOut, false) => (cap.saved[0].clone() + act, l + 1),
            (Site::AttnOut, true) => (cap.saved[0].clone() + act + cap.saved[2].clone(), l + 1),
            (Site::MlpOut, true) => (cap.saved[0].clone() + cap.saved[1].clone() + act, l + 1),
        };
        for b in &self.blocks[next..] {
            x = self.block(b, x);
        }
        let [bs, t, d] = x.dims();
        self.ln_f
            .forward(x)
            .reshape([bs * t, d])
            .matmul(self.unembed.clone())
            .reshape([bs, t, self.cfg.vocab])
    }

    /// Logits of the plain model.
    pub fn logits(&self, tokens: &Tensor<2, Int>) -> Tensor<3> {
        let cap = self.capture(
            tokens,
            Hook {
                layer: 0,
                site: Site::ResidPre,
            },
        );
        let act = cap.act.clone();
        self.resume(&cap, act)
    }
}
