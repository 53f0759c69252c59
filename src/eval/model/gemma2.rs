//! Gemma 2 (`Gemma2ForCausalLM`): Llama's layout with embeddings scaled by √d, RMS norms of
//! (1 + w), norms after attention and after the MLP, soft-capped attention scores and logits,
//! sliding-window attention in alternate layers, GeGLU (tanh GELU), and queries scaled by
//! query_pre_attn_scalar^-½. Its config.json; the key table is Llama's with the extra norms.

use super::llama::{Core, Defaults, decoder_weights};
use super::prelude::*;

pub(super) const ARCH: Architecture = Architecture {
    class: "Gemma2ForCausalLM",
    model_type: "gemma2",
    config,
    weights,
    base: Some(&super::llama::CORE_KEYS),
    keys: Keys {
        read: &[
            "hidden_activation",
            "attention_bias",
            "query_pre_attn_scalar",
            "sliding_window",
            "layer_types",
            "attn_logit_softcapping",
            "final_logit_softcapping",
            "use_bidirectional_attention",
        ],
        harmless: &[
            // transformers' Gemma2MLP reads hidden_activation; published configs carry both.
            "hidden_act",
            // Generation's KV cache layout.
            "cache_implementation",
            // Early gemma-2-9b/27b configs' copy of sliding_window, which transformers ignores.
            "sliding_window_size",
        ],
        fixed: &[],
    },
};

/// Defaults are Gemma2Config's (transformers 5.24), for keys a config.json leaves out.
#[derive(Deserialize)]
struct Gemma2Config {
    #[serde(flatten)]
    core: Core,
    #[serde(default = "gelu_tanh")]
    hidden_activation: String,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default = "d256")]
    query_pre_attn_scalar: f64,
    /// null: refused, since layers slide (their mask needs a window, in transformers too).
    #[serde(default = "window")]
    sliding_window: Option<usize>,
    /// Absent in published checkpoints: then sliding, full, sliding, … (layer 0 local).
    layer_types: Option<Vec<String>>,
    /// null: no cap.
    #[serde(default = "fifty")]
    attn_logit_softcapping: Option<f64>,
    #[serde(default = "thirty")]
    final_logit_softcapping: Option<f64>,
    use_bidirectional_attention: Option<bool>,
}

fn gelu_tanh() -> String {
    "gelu_pytorch_tanh".into()
}
fn d256() -> f64 {
    256.0
}
fn window() -> Option<usize> {
    Some(4096)
}
fn fifty() -> Option<f64> {
    Some(50.0)
}
fn thirty() -> Option<f64> {
    Some(30.0)
}

fn config(path: &Path, text: &str) -> Result<ModelConfig> {
    let c: Gemma2Config = parse(path, text)?;
    let err = |key: &str, message: String| Error::key(path, key, message);
    if c.use_bidirectional_attention == Some(true) {
        return Err(err(
            "use_bidirectional_attention",
            "true is not supported; ceq runs causal language models".into(),
        ));
    }
    let positive = |key: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(err(key, format!("{v} must be a positive number")))
        }
    };
    let scalar = positive("query_pre_attn_scalar", c.query_pre_attn_scalar)?;
    let attn_softcap = c
        .attn_logit_softcapping
        .map(|v| positive("attn_logit_softcapping", v))
        .transpose()?;
    let final_softcap = c
        .final_logit_softcapping
        .map(|v| positive("final_logit_softcapping", v))
        .transpose()?;
    let n_layers = c.core.n_layers();
    let alternate = || {
        (0..n_layers)
            .map(|i| ["sliding_attention", "full_attention"][i % 2].to_owned())
            .collect()
    };
    let types: Vec<String> = c.layer_types.unwrap_or_else(alternate);
    let windows = layer_windows(path, &types, c.sliding_window, n_layers)?;
    let act = activation(path, "hidden_activation", &c.hidden_activation)?;
    let defaults = Defaults {
        max_positions: 8192,
        eps: 1e-6,
        tied: true,
        kv_heads: Some(4),
        head_dim: Some(256),
    };
    Ok(ModelConfig {
        biases: super::Biases {
            qkv: c.attention_bias,
            out: c.attention_bias,
            mlp: false,
        },
        embed_scale: true,
        query_scale: Some(1.0 / scalar.sqrt()),
        attn_softcap,
        final_softcap,
        windows,
        ..c.core.config(path, ARCH.class, act, defaults)?
    })
}

fn weights(w: &mut Weights, cfg: &ModelConfig) -> Result<Parts> {
    decoder_weights(w, cfg, true)
}
