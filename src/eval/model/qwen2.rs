//! Qwen 2 (`Qwen2ForCausalLM`, Qwen 2 and 2.5): Llama with biases on the query, key and value
//! projections, and a sliding window in the layers from max_window_layers on where
//! use_sliding_window says so. Its config.json; the key table is Llama's.

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
    /// transformers' default where the key is absent; null: no window.
    #[serde(default = "window")]
    sliding_window: Option<usize>,
    #[serde(default = "twenty_eight")]
    max_window_layers: usize,
}

fn window() -> Option<usize> {
    Some(4096)
}

fn twenty_eight() -> usize {
    28
}

fn silu() -> String {
    "silu".into()
}

fn config(path: &Path, text: &str) -> Result<ModelConfig> {
    let c: Qwen2Config = parse(path, text)?;
    // As transformers' Qwen2Config reads them: the window holds only with use_sliding_window, and
    // without layer_types layer i slides when a window is set and i >= max_window_layers (Qwen's
    // own configs say true with max_window_layers = num_hidden_layers: no layer slides).
    let window = c.sliding_window.filter(|_| c.use_sliding_window);
    let layers = c.core.n_layers();
    let derived = || {
        (0..layers)
            .map(|i| match window.is_some() && i >= c.max_window_layers {
                true => "sliding_attention".to_owned(),
                false => "full_attention".to_owned(),
            })
            .collect()
    };
    let types: Vec<String> = c.layer_types.unwrap_or_else(derived);
    let windows = layer_windows(path, &types, window, layers)?;
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
        windows,
        ..c.core.config(path, ARCH.class, act, defaults)?
    })
}

fn weights(w: &mut Weights, cfg: &ModelConfig) -> Result<Parts> {
    decoder_weights(w, cfg, false)
}
