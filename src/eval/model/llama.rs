//! Llama (`LlamaForCausalLM`): RMS norm, rotary on whole heads (with Llama 3's scaling),
//! grouped-query attention, SwiGLU, tied or untied unembedding. Its config.json, and the config
//! keys and key table the Llama family (Qwen 2, Gemma 2) shares.

use super::prelude::*;
use super::rope::{self, RopeDict};
use super::{Activation, Biases, Block, Mlp, Qkv, QkvLayout};
use crate::eval::layers::{Linear, Norm, RmsNorm};

pub(super) const ARCH: Architecture = Architecture {
    class: "LlamaForCausalLM",
    model_type: "llama",
    config,
    weights,
    base: Some(&CORE_KEYS),
    keys: Keys {
        read: &["hidden_act", "attention_bias", "mlp_bias"],
        harmless: &[
            // Splits the projections into slices in transformers 4 (the same function);
            // transformers 5 ignores it.
            "pretraining_tp",
            // nanotron's marker on its Llama exports (SmolLM2); transformers ignores it.
            "is_llama_config",
        ],
        // nanotron's rotary layout; transformers ignores the key and rotates halves, which
        // ceq does too, so only the layout transformers runs is taken.
        fixed: &[("rope_interleaved", "false")],
    },
};

/// The config.json keys Llama, Qwen 2 and Gemma 2 all read (see [`Core`]).
pub(super) const CORE_KEYS: Keys = Keys {
    read: &[
        "vocab_size",
        "hidden_size",
        "intermediate_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        "max_position_embeddings",
        "rms_norm_eps",
        "tie_word_embeddings",
        "rope_theta",
        "rope_scaling",
        "rope_parameters",
    ],
    harmless: &["attention_dropout"],
    fixed: &[],
};

/// The config.json keys Llama, Qwen 2 and Gemma 2 share. Defaults differ between their
/// transformers config classes, so they are applied by [`Core::config`].
#[derive(Deserialize)]
pub(super) struct Core {
    vocab_size: usize,
    hidden_size: usize,
    intermediate_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    /// Absent (the architecture's default) apart from null (one per attention head, as
    /// transformers' configs read `None`).
    #[serde(default, deserialize_with = "present")]
    num_key_value_heads: Option<Option<usize>>,
    head_dim: Option<usize>,
    max_position_embeddings: Option<usize>,
    rms_norm_eps: Option<f64>,
    tie_word_embeddings: Option<bool>,
    rope_theta: Option<f64>,
    rope_scaling: Option<RopeDict>,
    rope_parameters: Option<RopeDict>,
}

/// A key that is present, its value possibly null: `Some(None)` for null, where an absent key is
/// `None` (with `#[serde(default)]`).
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<usize>>, D::Error> {
    Option::<usize>::deserialize(d).map(Some)
}

/// An architecture's transformers config defaults for keys a config.json may leave out.
pub(super) struct Defaults {
    pub max_positions: usize,
    pub eps: f64,
    pub tied: bool,
    /// Key/value heads when absent (None: one per attention head).
    pub kv_heads: Option<usize>,
    /// Head width when absent (None: hidden_size / num_attention_heads).
    pub head_dim: Option<usize>,
}

impl Core {
    pub(super) fn n_layers(&self) -> usize {
        self.num_hidden_layers
    }

    /// The shared part of the config; the caller sets what its architecture adds.
    pub(super) fn config(
        self,
        path: &Path,
        class: &'static str,
        act: Activation,
        defaults: Defaults,
    ) -> Result<ModelConfig> {
        let c = self;
        let kv = c.num_key_value_heads.unwrap_or(defaults.kv_heads);
        let head_dim = c.head_dim.or(defaults.head_dim);
        let max_positions = c.max_position_embeddings.unwrap_or(defaults.max_positions);
        positive(
            path,
            &[
                ("vocab_size", c.vocab_size),
                ("hidden_size", c.hidden_size),
                ("intermediate_size", c.intermediate_size),
                ("num_hidden_layers", c.num_hidden_layers),
                ("num_attention_heads", c.num_attention_heads),
                ("num_key_value_heads", kv.unwrap_or(1)),
                ("head_dim", head_dim.unwrap_or(1)),
                ("max_position_embeddings", max_positions),
            ],
        )?;
        let (rotary_base, rope_scaling) = rope::read(
            path,
            c.rope_theta,
            c.rope_scaling,
            c.rope_parameters,
            max_positions,
        )?;
        let mut cfg = ModelConfig {
            arch: class,
            vocab: c.vocab_size,
            d_model: c.hidden_size,
            n_layers: c.num_hidden_layers,
            n_heads: c.num_attention_heads,
            n_kv_heads: kv.unwrap_or(0),
            head_dim: head_dim.unwrap_or(0),
            d_mlp: c.intermediate_size,
            max_positions,
            ln_eps: epsilon(path, "rms_norm_eps", c.rms_norm_eps.unwrap_or(defaults.eps))?,
            rotary_base,
            rope_scaling,
            act,
            tied_unembedding: c.tie_word_embeddings.unwrap_or(defaults.tied),
            qkv: QkvLayout::Separate,
            ..ModelConfig::default()
        };
        // Rotary turns whole heads; the shared check fills in head_dim when it is derived.
        cfg.rotary_dims = head_dim.unwrap_or(c.hidden_size / c.num_attention_heads);
        if !cfg.rotary_dims.is_multiple_of(2) {
            return Err(crate::error::Error::key(
                path,
                "head_dim",
                format!(
                    "heads of {} dimensions cannot be rotated in pairs",
                    cfg.rotary_dims
                ),
            ));
        }
        Ok(cfg)
    }
}

#[derive(Deserialize)]
struct LlamaConfig {
    #[serde(flatten)]
    core: Core,
    #[serde(default = "silu")]
    hidden_act: String,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default)]
    mlp_bias: bool,
}

fn silu() -> String {
    "silu".into()
}

fn config(path: &Path, text: &str) -> Result<ModelConfig> {
    let c: LlamaConfig = parse(path, text)?;
    let act = activation(path, "hidden_act", &c.hidden_act)?;
    let defaults = Defaults {
        max_positions: 2048,
        eps: 1e-6,
        tied: false,
        kv_heads: None,
        head_dim: None,
    };
    Ok(ModelConfig {
        biases: Biases {
            qkv: c.attention_bias,
            out: c.attention_bias,
            mlp: c.mlp_bias,
        },
        ..c.core.config(path, ARCH.class, act, defaults)?
    })
}

fn weights(w: &mut Weights, cfg: &ModelConfig) -> Result<Parts> {
    decoder_weights(w, cfg, false)
}

/// The Llama family's key table (`model.layers.N.self_attn.q_proj`, …). `gemma`: RMS norms store
/// w of (1 + w), and each block has the extra pre-feedforward and post-feedforward norms
/// (Gemma 2's `post_attention_layernorm` is a norm on the attention output, where Llama's is the
/// norm before the MLP).
pub(super) fn decoder_weights(w: &mut Weights, cfg: &ModelConfig, gemma: bool) -> Result<Parts> {
    let (d, ff, eps) = (cfg.d_model, cfg.d_mlp, cfg.ln_eps);
    let (hq, hkv) = (cfg.n_heads * cfg.head_dim, cfg.n_kv_heads * cfg.head_dim);
    let bias = cfg.biases;
    // Rotary frequencies older checkpoints saved as buffers.
    w.ignore(|k| k.ends_with("rotary_emb.inv_freq"));
    w.check_blocks("model.layers.", "num_hidden_layers", cfg.n_layers)?;
    let norm = |w: &mut Weights, key: &str| -> Result<Norm> {
        Ok(Norm::Rms(RmsNorm::load(w, key, d, eps, gemma)?))
    };
    let mut blocks = vec![];
    for l in 0..cfg.n_layers {
        let b = format!("model.layers.{l}");
        let lin = |w: &mut Weights, name: &str, i: usize, o: usize, has_bias: bool| {
            Linear::torch_bias(w, &format!("{b}.{name}"), i, o, has_bias)
        };
        let (ln2, post_attn, post_mlp) = if gemma {
            (
                norm(w, &format!("{b}.pre_feedforward_layernorm"))?,
                Some(norm(w, &format!("{b}.post_attention_layernorm"))?),
                Some(norm(w, &format!("{b}.post_feedforward_layernorm"))?),
            )
        } else {
            (
                norm(w, &format!("{b}.post_attention_layernorm"))?,
                None,
                None,
            )
        };
        blocks.push(Block {
            ln1: norm(w, &format!("{b}.input_layernorm"))?,
            ln2,
            qkv: Qkv::Separate {
                q: lin(w, "self_attn.q_proj", d, hq, bias.qkv)?,
                k: lin(w, "self_attn.k_proj", d, hkv, bias.qkv)?,
                v: lin(w, "self_attn.v_proj", d, hkv, bias.qkv)?,
            },
            proj: lin(w, "self_attn.o_proj", hq, d, bias.out)?,
            mlp: Mlp::Gated {
                gate: lin(w, "mlp.gate_proj", d, ff, bias.mlp)?,
                up: lin(w, "mlp.up_proj", d, ff, bias.mlp)?,
                down: lin(w, "mlp.down_proj", ff, d, bias.mlp)?,
            },
            post_attn,
            post_mlp,
            window: cfg.windows.get(l).copied().flatten(),
        });
    }
    let (embed, unembed) = embeddings(w, cfg, "model.embed_tokens.weight", "lm_head.weight")?;
    Ok(Parts {
        positions: None,
        embed,
        unembed,
        blocks,
        ln_f: norm(w, "model.norm")?,
    })
}
