//! The shared transformer forward pass, split at a hook: [`Transformer::capture`] runs the layers
//! before the hook once, and [`Transformer::resume`] runs the rest from any activation put back there,
//! so the clean, spliced and ablated continuations share one prefix. Each architecture's config.json
//! and key table live in their own file ([`gpt2`], [`neox`]) and are listed in [`ARCHITECTURES`].

mod gpt2;
mod neox;

use std::path::Path;

use burn::tensor::activation::gelu;
use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::hook::{Hook, Site};
use super::layers::{LayerNorm, Linear, Rotary, attend, gelu_tanh, heads};
use super::weights::Weights;
use crate::error::{DataKind, Error, Result};

/// Every architecture ceq runs; a new one is a file in this folder and one line here.
const ARCHITECTURES: &[Architecture] = &[gpt2::ARCH, neox::ARCH];

/// One architecture: how config.json names it, how to read its config.json, and its key table.
struct Architecture {
    /// The Hugging Face class in `architectures`, e.g. `GPT2LMHeadModel`.
    class: &'static str,
    /// config.json's `model_type`.
    model_type: &'static str,
    /// Reads config.json's text (the architecture's own keys) into the shared config.
    config: fn(&Path, &str) -> Result<ModelConfig>,
    /// Takes every weight from the checkpoint.
    weights: fn(&mut Weights, &ModelConfig) -> Result<Parts>,
    /// Every config.json key besides [`COMMON`]'s that this architecture may hold.
    keys: Keys,
}

/// The config.json keys an architecture knows. Any other key is refused: a key nobody reads might
/// change the forward pass (an activation, a scaling), and ignoring it would give wrong numbers.
struct Keys {
    /// Keys its config reader turns into the forward pass (and validates there).
    read: &'static [&'static str],
    /// Keys that cannot change the numbers: dropout, training or generation settings.
    harmless: &'static [&'static str],
    /// Keys the forward pass implements at one value only, as JSON text (absent means that value).
    fixed: &'static [(&'static str, &'static str)],
}

/// Keys every architecture reads or may hold harmlessly (Hugging Face's `PretrainedConfig`).
const COMMON: Keys = Keys {
    read: &[
        "model_type",
        "architectures",
        "bos_token_id",
        "eos_token_id",
        "pad_token_id",
    ],
    harmless: &[
        "_name_or_path",
        "transformers_version",
        // Storage dtype: the weights are read from their files' own dtype into f32.
        "torch_dtype",
        "dtype",
        "use_cache",
        "initializer_range",
        "is_decoder",
        "sep_token_id",
        "decoder_start_token_id",
        "output_attentions",
        "output_hidden_states",
        "return_dict",
        "torchscript",
        "use_bfloat16",
        "id2label",
        "label2id",
        "finetuning_task",
        "tokenizer_class",
        "problem_type",
        "task_specific_params",
        "prefix",
        "gradient_checkpointing",
        // Which attention kernel: the same function, computed differently.
        "_attn_implementation",
        "attn_implementation",
        // Chunking the MLP over positions computes the same numbers.
        "chunk_size_feed_forward",
        // Generation settings.
        "max_length",
        "min_length",
        "do_sample",
        "early_stopping",
        "num_beams",
        "temperature",
        "top_k",
        "top_p",
        "repetition_penalty",
        "length_penalty",
        "no_repeat_ngram_size",
        "num_return_sequences",
        "bad_words_ids",
    ],
    fixed: &[("is_encoder_decoder", "false"), ("pruned_heads", "{}")],
};

/// Refuses a config.json key neither [`COMMON`] nor the architecture knows, and a fixed key at a
/// value the forward pass does not implement.
fn check_keys(path: &Path, text: &str, arch: &Architecture) -> Result<()> {
    let all: serde_json::Map<String, serde_json::Value> = parse(path, text)?;
    let lists = [&COMMON, &arch.keys];
    for (key, value) in &all {
        let known =
            |l: &&Keys| l.read.contains(&key.as_str()) || l.harmless.contains(&key.as_str());
        if lists.iter().any(known) {
            continue;
        }
        let fixed = lists.iter().flat_map(|l| l.fixed).find(|(k, _)| k == key);
        let message = match fixed {
            Some((_, default)) => {
                let default: serde_json::Value =
                    serde_json::from_str(default).expect("a JSON literal");
                if *value == default {
                    continue;
                }
                format!(
                    "{value} is not supported; ceq runs {} with {key} = {default} only",
                    arch.class
                )
            }
            None => format!(
                "ceq does not know this key of a {} config (value {value}), so it cannot tell \
                 whether it changes the forward pass; remove it if it does not",
                arch.class
            ),
        };
        return Err(Error::Key {
            path: path.to_owned(),
            key: key.clone(),
            message,
        });
    }
    Ok(())
}

/// The weights an architecture's key table yields.
struct Parts {
    embed: Tensor<2>,
    positions: Option<Tensor<2>>,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    /// [d_model, vocab].
    unembed: Tensor<2>,
}

/// How the fused query/key/value projection lays out its output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QkvLayout {
    /// [q, k, v], each d_model wide (GPT-2).
    #[default]
    Split,
    /// [q_h, k_h, v_h] for each head in turn, with rotary on q and k (GPT-NeoX).
    PerHead,
}

/// What the forward pass needs from a model's config.json, whatever its architecture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelConfig {
    /// The architecture's Hugging Face class, e.g. `GPT2LMHeadModel`.
    pub arch: &'static str,
    pub vocab: usize,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_mlp: usize,
    pub max_positions: usize,
    pub ln_eps: f64,
    /// Dimensions of each head that are rotated (0: no rotary).
    pub rotary_dims: usize,
    pub rotary_base: f64,
    /// Attention and MLP read the same input and are added together (GPT-NeoX default).
    pub parallel_residual: bool,
    /// tanh-approximate GELU (GPT-2's gelu_new) rather than exact.
    pub gelu_tanh: bool,
    pub tied_unembedding: bool,
    pub qkv: QkvLayout,
    /// BOS, EOS and pad ids: positions holding them are left out of splicing and metrics by default.
    pub special_ids: Vec<u32>,
    pub bos_id: Option<u32>,
}

/// The keys of config.json every architecture shares: which architecture, and the special tokens.
#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    architectures: Vec<String>,
    bos_token_id: Option<u32>,
    eos_token_id: Option<u32>,
    pad_token_id: Option<u32>,
}

/// Parses config.json into an architecture's struct; a missing or mistyped key is named in the
/// message (serde's "missing field `n_embd` at line 3 column 1").
fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            Error::Data {
                kind: DataKind::Json,
                path: path.to_owned(),
                message: e.to_string(),
            }
        } else {
            Error::json(path)(e)
        }
    })
}

/// Fails on the first size that is zero.
fn positive(path: &Path, sizes: &[(&str, usize)]) -> Result<()> {
    match sizes.iter().find(|(_, n)| *n == 0) {
        Some((key, _)) => Err(Error::Key {
            path: path.to_owned(),
            key: (*key).to_owned(),
            message: "must be a positive integer".into(),
        }),
        None => Ok(()),
    }
}

/// A layer norm epsilon must be a finite number ≥ 0 (a negative one can take a square root of a
/// negative variance).
fn epsilon(path: &Path, key: &str, eps: f64) -> Result<f64> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(eps)
    } else {
        Err(Error::Key {
            path: path.to_owned(),
            key: key.to_owned(),
            message: format!("{eps} must be a finite number ≥ 0"),
        })
    }
}

/// One of the activation functions ceq implements, by its Hugging Face name: whether it is the
/// tanh approximation of GELU (the other being exact GELU). Any other name is refused.
fn gelu_is_tanh(path: &Path, key: &str, name: &str) -> Result<bool> {
    match name {
        "gelu" => Ok(false),
        "gelu_new" | "gelu_pytorch_tanh" => Ok(true),
        other => Err(Error::Key {
            path: path.to_owned(),
            key: key.to_owned(),
            message: format!(
                "activation '{other}' is not supported; ceq implements gelu, gelu_new and \
                 gelu_pytorch_tanh"
            ),
        }),
    }
}

impl ModelConfig {
    /// Reads a model folder's config.json.
    pub fn read(dir: &Path) -> Result<ModelConfig> {
        Ok(read_config(dir)?.0)
    }
}

/// A model folder's config.json and the architecture it names.
fn read_config(dir: &Path) -> Result<(ModelConfig, &'static Architecture)> {
    let path = dir.join("config.json");
    if !path.exists() {
        return Err(Error::Data { kind: DataKind::Weights,
            path: dir.to_owned(),
            message: "no config.json: a model folder needs config.json and model.safetensors (Hugging Face layout)".into(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let common: Common = parse(&path, &text)?;
    let model_type = common.model_type.as_deref().unwrap_or("");
    let arch = ARCHITECTURES
        .iter()
        .find(|a| a.model_type == model_type || common.architectures.iter().any(|c| c == a.class))
        .ok_or_else(|| {
            let supported: Vec<String> = ARCHITECTURES
                .iter()
                .map(|a| format!("{} (model_type {})", a.class, a.model_type))
                .collect();
            Error::Data { kind: DataKind::Unsupported,
                path: path.clone(),
                message: format!(
                    "unsupported model (model_type '{model_type}', architectures {:?}); ceq runs {}",
                    common.architectures,
                    supported.join(", ")
                ),
            }
        })?;
    check_keys(&path, &text, arch)?;
    let mut special: Vec<u32> = [
        common.bos_token_id,
        common.eos_token_id,
        common.pad_token_id,
    ]
    .into_iter()
    .flatten()
    .collect();
    special.sort();
    special.dedup();
    let cfg = ModelConfig {
        special_ids: special,
        bos_id: common.bos_token_id,
        ..(arch.config)(&path, &text)?
    };
    if cfg.d_model % cfg.n_heads != 0 {
        return Err(Error::Data {
            kind: DataKind::Json,
            path,
            message: format!(
                "hidden size {} is not a multiple of the {} heads",
                cfg.d_model, cfg.n_heads
            ),
        });
    }
    Ok((cfg, arch))
}

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
#[derive(Clone)]
pub struct Capture {
    pub act: Tensor<3>,
    hook: Hook,
    /// GPT-2 attn_out: the block input; mlp_out: resid_mid. NeoX parallel: block input, attn_out,
    /// mlp_out.
    saved: Vec<Tensor<3>>,
}

impl Capture {
    /// Bytes of f32 held, for a memory budget.
    pub fn bytes(&self) -> usize {
        let numel = |t: &Tensor<3>| t.dims().iter().product::<usize>();
        4 * (numel(&self.act) + self.saved.iter().map(numel).sum::<usize>())
    }
}

impl Transformer {
    /// Loads a Hugging Face folder: config.json + safetensors weights, with the key table of its
    /// architecture; fails on missing or unused weights.
    pub fn load(dir: &Path, device: &Device) -> Result<Transformer> {
        let (cfg, arch) = read_config(dir)?;
        let mut w = Weights::open(dir, device)?;
        let p = (arch.weights)(&mut w, &cfg)?;
        let n_params = w.taken;
        w.finish("its config.json")?;
        Ok(Transformer {
            rotary: Rotary {
                dims: cfg.rotary_dims,
                base: cfg.rotary_base,
            },
            cfg,
            n_params,
            embed: p.embed,
            positions: p.positions,
            blocks: p.blocks,
            ln_f: p.ln_f,
            unembed: p.unembed,
        })
    }

    /// Checks a hook exists in this model.
    pub fn check_hook(&self, hook: &Hook, dir: &Path) -> Result<()> {
        let bad = |why: String| Error::Data {
            kind: DataKind::Mismatch,
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
        let (q, k, v) = match self.cfg.qkv {
            QkvLayout::Split => (
                heads(qkv.clone().slice([0..bs, 0..t, 0..d]), h),
                heads(qkv.clone().slice([0..bs, 0..t, d..2 * d]), h),
                heads(qkv.slice([0..bs, 0..t, 2 * d..3 * d]), h),
            ),
            QkvLayout::PerHead => {
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
        let h = self.resume_hidden(cap, act);
        let [bs, t, d] = h.dims();
        self.unembed(h.reshape([bs * t, d]))
            .reshape([bs, t, self.cfg.vocab])
    }

    /// Logits [positions, vocab] from final hidden states [positions, d_model] (after the final
    /// norm): the unembedding alone, so callers can take it a few positions at a time and never
    /// hold a whole batch's logits.
    pub fn unembed(&self, h: Tensor<2>) -> Tensor<2> {
        h.matmul(self.unembed.clone())
    }

    /// The final hidden states [batch, ctx, d_model] (after the final norm) when the rest of the
    /// model runs from `act` at the capture's hook.
    pub fn resume_hidden(&self, cap: &Capture, act: Tensor<3>) -> Tensor<3> {
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
        self.ln_f.forward(x)
    }

    /// Parameters without the token and position embeddings and an untied unembedding (as Pythia
    /// and Kaplan et al. count them); a tied unembedding is the token embedding, counted once.
    pub fn n_params_non_embedding(&self) -> usize {
        let numel = |t: &Tensor<2>| t.dims().iter().product::<usize>();
        let untied = if self.cfg.tied_unembedding {
            0
        } else {
            numel(&self.unembed)
        };
        self.n_params - numel(&self.embed) - self.positions.as_ref().map_or(0, numel) - untied
    }

    /// Logits of the plain model.
    pub fn logits(&self, tokens: &Tensor<2, Int>) -> Tensor<3> {
        let h = self.hidden(tokens);
        let [bs, t, d] = h.dims();
        self.unembed(h.reshape([bs * t, d]))
            .reshape([bs, t, self.cfg.vocab])
    }

    /// Final hidden states of the plain model (see [`Transformer::resume_hidden`]).
    pub fn hidden(&self, tokens: &Tensor<2, Int>) -> Tensor<3> {
        let cap = self.capture(
            tokens,
            Hook {
                layer: 0,
                site: Site::ResidPre,
            },
        );
        let act = cap.act.clone();
        self.resume_hidden(&cap, act)
    }
}
