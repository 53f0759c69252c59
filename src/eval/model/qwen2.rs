//! Qwen 2 (`Qwen2ForCausalLM`, Qwen 2 and 2.5): Llama with biases on the query, key and value
//! projections. Its config.json; the key table is Llama's.

use super::Biases;
use super::llama::{Core, Defaults, decoder_weights};
use super::prelude::*;

pub(super) const ARCH: Architecture = Architecture {
    class: "Qwen2ForCausalLM",
    model_type: "qwen2",
    config,
    weights,
    base: Some(&super::llama::CORE_KEYS),
    keys: Keys {
        read: &["hidden_act", "layer_types"],
        harmless: &[
            // Which layers use a sliding window when use_sliding_window is true, which ceq
            // refuses; with it false every layer attends globally.
            "sliding_window",
            "max_window_layers",
        ],
        fixed: &[("use_sliding_window", "false"), ("use_mrope", "false")],
    },
};

#[derive(Deserialize)]
struct Qwen2Config {
    #[serde(flatten)]
    core: Core,
    #[serde(default = "silu")]
    hidden_act: String,
    /// transformers 5 writes one entry per layer; with use_sliding_window false all are global.
    layer_types: Option<Vec<String>>,
}

fn silu() -> String {
    "silu".into()
}

fn config(path: &Path, text: &str) -> Result<ModelConfig> {
    let c: Qwen2Config = parse(path, text)?;
    if let Some(t) = c
        .layer_types
        .iter()
        .flatten()
        .find(|t| *t != "full_attention")
    {
        return Err(Error::key(
            path,
            "layer_types",
            format!(
                "'{t}' is not supported; ceq runs Qwen2ForCausalLM with global attention \
                 (full_attention) in every layer"
            ),
        ));
    }
    let act = activation(path, "hidden_act", &c.hidden_act)?;
    let defaults = Defaults {
        max_positions: 32768,
        eps: 1e-6,
        tied: false,
        kv_heads: Some(32),
        head_dim: None,
    };
    Ok(ModelConfig {
        biases: Biases {
            qkv: true,
            out: false,
            mlp: false,
        },
        ..c.core.config(path, ARCH.class, act, defaults)?
    })
}

fn weights(w: &mut Weights, cfg: &ModelConfig) -> Result<Parts> {
    decoder_weights(w, cfg, false)
}
