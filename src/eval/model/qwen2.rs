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
        read: &[
            "hidden_act",
            "layer_types",
            "use_sliding_window",
            "sliding_window",
            "max_window_layers",
        ],
        harmless: &[],
        fixed: &[("use_mrope", "false")],
    },
};

#[derive(Deserialize)]
struct Qwen2Config {
    #[serde(flatten)]
    core: Core,
    #[serde(default = "silu")]
    hidden_act: String,
    /// transformers 5 writes one entry per layer; where it is absent, the three keys below say
    /// which layers slide.
    layer_types: Option<Vec<String>>,
    #[serde(default)]
    use_sliding_window: bool,
    sliding_window: Option<u64>,
    #[serde(default = "twenty_eight")]
    max_window_layers: usize,
}

fn twenty_eight() -> usize {
    28
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
    // transformers' Qwen2Config without layer_types: layer i slides when use_sliding_window,
    // a sliding_window is set and i >= max_window_layers. Qwen's configs say true with
    // max_window_layers = num_hidden_layers, where no layer slides.
    let layers = c.core.n_layers();
    let slides = c.use_sliding_window && c.sliding_window.is_some();
    if c.layer_types.is_none() && slides && c.max_window_layers < layers {
        return Err(Error::key(
            path,
            "use_sliding_window",
            format!(
                "true makes layers {}..{layers} attend within a window of {} tokens, which ceq \
                 does not run (it runs Qwen2ForCausalLM with global attention in every layer)",
                c.max_window_layers,
                c.sliding_window.unwrap_or_default(),
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
