//! The shared transformer forward pass, split at a hook: [`Transformer::capture`] runs the layers
//! before the hook once, and [`Transformer::resume`] runs the rest from any activation put back there,
//! so the clean, spliced and ablated continuations share one prefix. Each architecture's config.json
//! and key table live in their own file (`gpt2.rs`, `neox.rs`, `llama.rs`, `qwen2.rs`,
//! `gemma2.rs`) and are listed in `ARCHITECTURES`; `rope.rs` reads the rotary settings the Llama
//! family spells two ways.

mod gemma2;
mod gpt2;
mod llama;
mod neox;
mod qwen2;
mod rope;

/// What every architecture file reads its config and takes its weights with.
mod prelude {
    pub(super) use std::path::Path;

    pub(super) use serde::Deserialize;

    pub(super) use super::{
        Architecture, Keys, ModelConfig, Parts, activation, embeddings, epsilon, layer_windows,
        ln_eps_1e5, parse, positive,
    };
    pub(super) use crate::error::{Error, Result};
    pub(super) use crate::eval::weights::Weights;
}

use std::path::Path;

use burn::tensor::{Device, Int, Tensor};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::hook::{Hook, Site};
pub use super::layers::{Activation, Llama3Rope};
use super::layers::{LayerNorm, Linear, Norm, Rotary, Scores, attend, heads, repeat_kv};
use super::weights::Weights;
use crate::error::{DataKind, Error, Result};

/// Every architecture ceq runs; a new one is a file in this folder and one line here.
const ARCHITECTURES: &[Architecture] = &[
    gpt2::ARCH,
    neox::ARCH,
    llama::ARCH,
    qwen2::ARCH,
    gemma2::ARCH,
];

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
    /// Keys it shares with related architectures (the Llama family's), if any.
    base: Option<&'static Keys>,
    /// Every other config.json key besides [`COMMON`]'s that this architecture may hold.
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
        // Older configs' count of classification labels (distilgpt2's).
        "_num_labels",
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
    let lists: Vec<&Keys> = [&COMMON, &arch.keys].into_iter().chain(arch.base).collect();
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
        return Err(Error::key(path, key, message));
    }
    Ok(())
}

/// The weights an architecture's key table yields.
struct Parts {
    embed: Tensor<2>,
    positions: Option<Tensor<2>>,
    blocks: Vec<Block>,
    ln_f: Norm,
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
    /// Separate q, k and v projections, k and v with `n_kv_heads` heads, rotary on q and k
    /// (the Llama family).
    Separate,
}

/// Biases on the Llama family's projections (GPT-2 and GPT-NeoX always have them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Biases {
    /// On q_proj, k_proj and v_proj (Qwen 2; Llama's attention_bias).
    pub qkv: bool,
    /// On o_proj (Llama's attention_bias).
    pub out: bool,
    /// On the MLP's projections (Llama's mlp_bias).
    pub mlp: bool,
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
    /// Key and value heads (grouped-query attention); equal to `n_heads` when not grouped.
    pub n_kv_heads: usize,
    /// Width of each attention head: d_model / n_heads unless the config says otherwise (Gemma 2).
    pub head_dim: usize,
    pub d_mlp: usize,
    pub max_positions: usize,
    pub ln_eps: f64,
    /// Dimensions of each head that are rotated (0: no rotary).
    pub rotary_dims: usize,
    pub rotary_base: f64,
    /// Llama 3's scaling of the rotary frequencies.
    pub rope_scaling: Option<Llama3Rope>,
    /// Attention and MLP read the same input and are added together (GPT-NeoX default).
    pub parallel_residual: bool,
    pub act: Activation,
    pub tied_unembedding: bool,
    /// Token embeddings multiplied by √d_model, rounded to f32 (Gemma 2).
    pub embed_scale: bool,
    /// The factor on q·kᵀ when it is not 1/√head_dim (Gemma 2's query_pre_attn_scalar^-½).
    pub query_scale: Option<f64>,
    /// Gemma 2's soft-caps c·tanh(x / c) on the attention scores and on the final logits.
    pub attn_softcap: Option<f64>,
    pub final_softcap: Option<f64>,
    /// Per layer: the sliding-window width of a local-attention layer (Gemma 2), None for global
    /// attention; empty when every layer is global.
    pub windows: Vec<Option<usize>>,
    pub qkv: QkvLayout,
    /// Which projections of the Llama family have biases.
    pub biases: Biases,
    /// BOS, EOS and pad ids: positions holding them are left out of splicing and metrics by default.
    pub special_ids: Vec<u32>,
    pub bos_id: Option<u32>,
    /// config.json's `_name_or_path`: the Hub name (or folder) the model was saved from, when
    /// recorded; compared with the model an SAE names.
    pub name_or_path: Option<String>,
}

/// The keys of config.json every architecture shares: which architecture, and the special tokens.
#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    model_type: Option<String>,
    #[serde(default)]
    architectures: Vec<String>,
    bos_token_id: Option<u32>,
    eos_token_id: Option<Ids>,
    pad_token_id: Option<u32>,
    #[serde(default, rename = "_name_or_path")]
    name_or_path: Option<String>,
}

/// One token id or several (Llama 3 Instruct lists its end-of-turn ids as EOS too).
#[derive(Deserialize)]
#[serde(untagged)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

/// transformers' default layer-norm epsilon of GPT-2 and GPT-NeoX configs.
fn ln_eps_1e5() -> f64 {
    1e-5
}

/// Parses config.json into an architecture's struct; a missing or mistyped key is named in the
/// message (serde's "missing field `n_embd` at line 3 column 1").
fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            // A config is often one line, so the column alone hardly points at the key: named
            // (a missing key is placed at its object's end, and names itself).
            let missing = e.to_string().starts_with("missing field");
            match key_before(text, e.line(), e.column()).filter(|_| !missing) {
                Some(key) => Error::key(path, &key, e.to_string()),
                None => Error::Data {
                    kind: DataKind::Json,
                    path: path.to_owned(),
                    message: e.to_string(),
                },
            }
        } else {
            Error::json(path)(e)
        }
    })
}

/// The last `"key":` before line `line`, column `column` (1-based, as serde_json counts) of `text`:
/// the key whose value a data error is about.
fn key_before(text: &str, line: usize, column: usize) -> Option<String> {
    let start: usize = (text.split_inclusive('\n').take(line.checked_sub(1)?))
        .map(str::len)
        .sum();
    let upto = text.get(..(start + column).min(text.len()))?;
    let colon = upto.rfind("\":")?;
    let open = upto[..colon].rfind('"')?;
    Some(upto[open + 1..colon].to_owned())
}

/// The embedding under `embed` and the unembedding: where tied, the embedding itself (a saved
/// copy of the head under `head` must equal it: see [`Weights::tied_copy`]); else the head's own
/// weights.
fn embeddings(
    w: &mut Weights,
    cfg: &ModelConfig,
    embed: &str,
    head: &str,
) -> Result<(Tensor<2>, Tensor<2>)> {
    let e = w.take(embed, [cfg.vocab, cfg.d_model])?;
    let unembed = if cfg.tied_unembedding {
        w.tied_copy(head, &e, embed)?;
        e.clone().transpose()
    } else {
        w.take(head, [cfg.vocab, cfg.d_model])?.transpose()
    };
    Ok((e, unembed))
}

/// Fails on the first size that is zero.
fn positive(path: &Path, sizes: &[(&str, usize)]) -> Result<()> {
    match sizes.iter().find(|(_, n)| *n == 0) {
        Some((key, _)) => Err(Error::key(path, key, "must be a positive integer")),
        None => Ok(()),
    }
}

/// A layer norm epsilon must be a finite number ≥ 0 (a negative one can take a square root of a
/// negative variance).
fn epsilon(path: &Path, key: &str, eps: f64) -> Result<f64> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(eps)
    } else {
        Err(Error::key(
            path,
            key,
            format!("{eps} must be a finite number ≥ 0"),
        ))
    }
}

/// One of the activation functions ceq implements, by its Hugging Face name: whether it is the
/// tanh approximation of GELU (the other being exact GELU). Any other name is refused.
fn activation(path: &Path, key: &str, name: &str) -> Result<Activation> {
    match name {
        "gelu" => Ok(Activation::Gelu),
        // gelu_fast is transformers' FastGELU: the tanh approximation, its constant rounded.
        "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Activation::GeluTanh),
        "silu" | "swish" => Ok(Activation::Silu),
        other => Err(Error::key(
            path,
            key,
            format!(
                "activation '{other}' is not supported; ceq implements gelu, gelu_new \
                 (gelu_pytorch_tanh, gelu_fast) and silu"
            ),
        )),
    }
}

/// Each layer's attention window from transformers' `layer_types` (one entry per layer): `window`
/// in a sliding_attention layer, none in a full_attention one. A sliding layer without a window
/// (null, or switched off) is refused, as transformers cannot build its mask either.
fn layer_windows(
    path: &Path,
    types: &[String],
    window: Option<usize>,
    n_layers: usize,
) -> Result<Vec<Option<usize>>> {
    let err = |key: &str, message: String| Error::key(path, key, message);
    if types.len() != n_layers {
        let n = types.len();
        let message = format!("{n} entries for {n_layers} layers (num_hidden_layers)");
        return Err(err("layer_types", message));
    }
    (types.iter().enumerate())
        .map(|(i, t)| match (t.as_str(), window) {
            ("full_attention", _) => Ok(None),
            ("sliding_attention", Some(0)) => Err(err(
                "sliding_window",
                format!("must be a positive integer (layer {i} slides)"),
            )),
            ("sliding_attention", Some(w)) => Ok(Some(w)),
            ("sliding_attention", None) => Err(err(
                "layer_types",
                format!(
                    "layer {i} is sliding_attention but the config sets no window \
                     (sliding_window null, or switched off)"
                ),
            )),
            (other, _) => Err(err(
                "layer_types",
                format!(
                    "'{other}' is not supported; ceq implements sliding_attention and \
                     full_attention"
                ),
            )),
        })
        .collect()
}

impl ModelConfig {
    /// Reads a model folder's config.json.
    pub fn read(dir: &Path) -> Result<ModelConfig> {
        Ok(read_config(dir)?.0)
    }

    /// How a model of this config reads token ids otherwise than one of `other` (another vocabulary
    /// size, other BOS or special ids: other positions scored), if it does: models that do are not
    /// measured on one token set.
    pub fn reads_tokens_unlike(&self, other: &ModelConfig) -> Option<String> {
        if self.vocab != other.vocab {
            return Some(format!("vocabulary size {} vs {}", self.vocab, other.vocab));
        }
        if (self.bos_id, &self.special_ids) == (other.bos_id, &other.special_ids) {
            return None;
        }
        let ids = |c: &ModelConfig| {
            let bos = c.bos_id.map_or("none".into(), |b| b.to_string());
            let special: Vec<String> = c.special_ids.iter().map(u32::to_string).collect();
            format!("BOS {bos}, special ids {}", special.join(" "))
        };
        Some(format!("{} vs {}", ids(self), ids(other)))
    }

    /// Why `hook` is not in a model of this config, if it is not.
    pub fn hook_missing(&self, hook: &Hook) -> Option<String> {
        if hook.layer >= self.n_layers {
            return Some(format!(
                "hook {hook}: the model has {} blocks (0 to {})",
                self.n_layers,
                self.n_layers - 1
            ));
        }
        (hook.site == Site::ResidMid && self.parallel_residual).then(|| {
            format!(
                "hook {hook}: this model's blocks add attention and MLP in parallel, so there is \
                 no resid_mid"
            )
        })
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
    let text = super::read_json_text(&path)?;
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
    // model_type and architectures must not name two different supported models: the config
    // would be read with one's key table while it describes the other. (A class ceq does not know,
    // such as GPT2Model or an older spelling, is left to the key table.)
    let by_type = ARCHITECTURES.iter().find(|a| a.model_type == model_type);
    let by_class =
        (ARCHITECTURES.iter()).find(|a| common.architectures.iter().any(|c| c == a.class));
    if let (Some(t), Some(c)) = (by_type, by_class)
        && t.class != c.class
    {
        return Err(Error::key(
            path,
            "model_type",
            format!(
                "'{model_type}' is {}'s, but architectures {:?} names {} (model_type '{}'): the \
                 config names two models",
                t.class, common.architectures, c.class, c.model_type
            ),
        ));
    }
    check_keys(&path, &text, arch)?;
    let eos = match common.eos_token_id {
        None => vec![],
        Some(Ids::One(id)) => vec![id],
        Some(Ids::Many(ids)) => ids,
    };
    // BOS and EOS decide which positions are scored: one no token can be would leave the
    // model's own BOS scored, silently (a pad id beyond the vocabulary is never met, and harmless).
    let base = (arch.config)(&path, &text)?;
    let vocab = base.vocab;
    let beyond = (common
        .bos_token_id
        .into_iter()
        .map(|id| ("bos_token_id", id)))
    .chain(eos.iter().map(|&id| ("eos_token_id", id)))
    .find(|&(_, id)| id as usize >= vocab);
    if let Some((key, id)) = beyond {
        return Err(Error::key(
            &path,
            key,
            format!(
                "{id} is no token of this model, whose vocabulary has {vocab} ids (0 to {}): \
                 the config is another model's, or edited",
                vocab.saturating_sub(1)
            ),
        ));
    }
    let mut special: Vec<u32> = [common.bos_token_id, common.pad_token_id]
        .into_iter()
        .flatten()
        .chain(eos)
        .collect();
    special.sort();
    special.dedup();
    let mut cfg = ModelConfig {
        special_ids: special,
        bos_id: common.bos_token_id,
        name_or_path: common.name_or_path.filter(|n| !n.is_empty()),
        ..base
    };
    let bad = |message: String| Error::Data {
        kind: DataKind::Json,
        path: path.clone(),
        message,
    };
    if cfg.head_dim == 0 {
        if !cfg.d_model.is_multiple_of(cfg.n_heads) {
            return Err(bad(format!(
                "hidden size {} is not a multiple of the {} heads",
                cfg.d_model, cfg.n_heads
            )));
        }
        cfg.head_dim = cfg.d_model / cfg.n_heads;
    }
    if cfg.n_kv_heads == 0 {
        cfg.n_kv_heads = cfg.n_heads;
    }
    if !cfg.n_heads.is_multiple_of(cfg.n_kv_heads) {
        return Err(bad(format!(
            "the {} attention heads cannot share {} key/value heads evenly",
            cfg.n_heads, cfg.n_kv_heads
        )));
    }
    Ok((cfg, arch))
}

/// The query, key and value projections.
// A few per model, built once: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Qkv {
    /// One projection laid out as [`ModelConfig::qkv`] says (GPT-2, GPT-NeoX).
    Fused(Linear),
    /// The Llama family's q_proj, k_proj, v_proj.
    Separate { q: Linear, k: Linear, v: Linear },
}

#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Mlp {
    /// fc_out(act(fc_in(x))).
    Plain { fc_in: Linear, fc_out: Linear },
    /// down(act(gate(x)) · up(x)): SwiGLU (Llama, Qwen 2), GeGLU (Gemma 2).
    Gated {
        gate: Linear,
        up: Linear,
        down: Linear,
    },
}

#[derive(Clone, Debug)]
struct Block {
    /// Before attention.
    ln1: Norm,
    /// Before the MLP.
    ln2: Norm,
    qkv: Qkv,
    proj: Linear,
    mlp: Mlp,
    /// Gemma 2's norms on the attention and MLP outputs, before they are added to the residual
    /// stream; `hook_attn_out` and `hook_mlp_out` are taken after them, as TransformerLens does.
    post_attn: Option<Norm>,
    post_mlp: Option<Norm>,
    /// Sliding-window width of a local-attention layer.
    window: Option<usize>,
}

impl Block {
    /// A GPT-2 or GPT-NeoX block: layer norms, one fused q/k/v projection, a plain MLP.
    fn classic(
        ln1: LayerNorm,
        ln2: LayerNorm,
        qkv: Linear,
        proj: Linear,
        fc_in: Linear,
        fc_out: Linear,
    ) -> Block {
        Block {
            ln1: Norm::Layer(ln1),
            ln2: Norm::Layer(ln2),
            qkv: Qkv::Fused(qkv),
            proj,
            mlp: Mlp::Plain { fc_in, fc_out },
            post_attn: None,
            post_mlp: None,
            window: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Transformer {
    pub cfg: ModelConfig,
    /// Total parameters (embeddings included; a tied unembedding counted once).
    pub n_params: usize,
    /// [vocab, d_model]; None when tied: the tokens are then looked up in `unembed`.
    embed: Option<Tensor<2>>,
    positions: Option<Tensor<2>>,
    blocks: Vec<Block>,
    ln_f: Norm,
    /// [d_model, vocab], row-major.
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
        // The unembedding arrives as a transposed view of a [vocab, d_model] matrix. Stored
        // row-major, flex's gemm multiplies it about 10 % faster (measured at 146 positions ×
        // GPT-2's vocabulary), and it is half of a continuation's work. A tied model then looks
        // its tokens up in it, so the matrix is held once.
        let device = p.unembed.device();
        let unembed = Tensor::from_data(p.unembed.into_data(), &device);
        Ok(Transformer {
            rotary: Rotary::new(cfg.rotary_dims, cfg.rotary_base, cfg.rope_scaling),
            embed: (!cfg.tied_unembedding).then_some(p.embed),
            cfg,
            n_params,
            positions: p.positions,
            blocks: p.blocks,
            ln_f: p.ln_f,
            unembed,
        })
    }

    /// Checks a hook exists in this model.
    pub fn check_hook(&self, hook: &Hook, dir: &Path) -> Result<()> {
        self.cfg.hook_missing(hook).map_or(Ok(()), |why| {
            Err(Error::Data {
                kind: DataKind::Mismatch,
                path: dir.to_owned(),
                message: why,
            })
        })
    }

    /// The attention sublayer's output (after Gemma 2's post-attention norm, if any).
    fn attn(&self, b: &Block, x: Tensor<3>) -> Tensor<3> {
        let (h, kv) = (self.cfg.n_heads, self.cfg.n_kv_heads);
        let (q, k, v) = match &b.qkv {
            Qkv::Fused(qkv) => {
                let qkv = qkv.forward(x);
                let [bs, t, d3] = qkv.dims();
                let d = d3 / 3;
                match self.cfg.qkv {
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
                    _ => (
                        heads(qkv.clone().slice([0..bs, 0..t, 0..d]), h),
                        heads(qkv.clone().slice([0..bs, 0..t, d..2 * d]), h),
                        heads(qkv.slice([0..bs, 0..t, 2 * d..3 * d]), h),
                    ),
                }
            }
            Qkv::Separate { q, k, v } => (
                self.rotary.apply(heads(q.forward(x.clone()), h)),
                repeat_kv(self.rotary.apply(heads(k.forward(x.clone()), kv)), h),
                repeat_kv(heads(v.forward(x), kv), h),
            ),
        };
        let how = Scores {
            scale: self
                .cfg
                .query_scale
                .unwrap_or(1.0 / (self.cfg.head_dim as f64).sqrt()),
            softcap: self.cfg.attn_softcap,
            window: b.window,
        };
        let out = b.proj.forward(attend(q, k, v, how));
        match &b.post_attn {
            Some(n) => n.forward(out),
            None => out,
        }
    }

    /// The MLP sublayer's output (after Gemma 2's post-feedforward norm, if any).
    fn mlp(&self, b: &Block, x: Tensor<3>) -> Tensor<3> {
        let act = self.cfg.act;
        let out = match &b.mlp {
            Mlp::Plain { fc_in, fc_out } => fc_out.forward(act.forward(fc_in.forward(x))),
            Mlp::Gated { gate, up, down } => {
                down.forward(act.forward(gate.forward(x.clone())) * up.forward(x))
            }
        };
        match &b.post_mlp {
            Some(n) => n.forward(out),
            None => out,
        }
    }

    fn embed(&self, tokens: &Tensor<2, Int>) -> Tensor<3> {
        let [bs, t] = tokens.dims();
        let ids = tokens.clone().reshape([bs * t]);
        let rows = match &self.embed {
            Some(e) => e.clone().select(0, ids),
            None => self.unembed.clone().select(1, ids).transpose(),
        };
        let mut x = rows.reshape([bs, t, self.cfg.d_model]);
        if let Some(p) = &self.positions {
            let pos = p
                .clone()
                .slice([0..t, 0..self.cfg.d_model])
                .unsqueeze::<3>();
            x = x + pos;
        }
        if self.cfg.embed_scale {
            // Hugging Face multiplies by √d rounded to the hidden dtype; ceq computes in f32.
            x = x * ((self.cfg.d_model as f64).sqrt() as f32);
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
        let logits = h.matmul(self.unembed.clone());
        match self.cfg.final_softcap {
            Some(c) => (logits / c).tanh() * c,
            None => logits,
        }
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

    /// Whether the model normalises with LayerNorm (mean removed), not RMSNorm.
    pub fn layer_norm(&self) -> bool {
        matches!(self.ln_f, Norm::Layer(_))
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
        let embed = self.cfg.vocab * self.cfg.d_model;
        self.n_params - embed - self.positions.as_ref().map_or(0, numel) - untied
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
