//! GPT-2 (`GPT2LMHeadModel`): learned positions, sequential blocks, tanh-GELU, tied unembedding. Its
//! config.json and its weights' key table.

use super::prelude::*;
use super::{Block, QkvLayout};
use crate::eval::layers::{LayerNorm, Linear, Norm};

pub(super) const ARCH: Architecture = Architecture {
    class: "GPT2LMHeadModel",
    model_type: "gpt2",
    config,
    weights,
    base: None,
    keys: Keys {
        read: &[
            "vocab_size",
            "n_embd",
            "n_layer",
            "n_head",
            "n_inner",
            "n_positions",
            "layer_norm_epsilon",
            "activation_function",
        ],
        harmless: &[
            "attn_pdrop",
            "embd_pdrop",
            "resid_pdrop",
            // The sequence-summary head of GPT2DoubleHeadsModel, not the language model.
            "summary_activation",
            "summary_first_dropout",
            "summary_proj_to_labels",
            "summary_type",
            "summary_use_proj",
            // Older configs' copy of n_positions, which transformers no longer reads.
            "n_ctx",
            // Scales before the product and computes attention in f32: the same function, and
            // ceq computes in f32 throughout.
            "reorder_and_upcast_attn",
            // OpenAI GPT's special-token settings, which gpt2-medium and larger still carry;
            // GPT2LMHeadModel reads neither.
            "n_special",
            "predict_special_tokens",
        ],
        fixed: &[
            ("scale_attn_weights", "true"),
            ("scale_attn_by_inverse_layer_idx", "false"),
            ("add_cross_attention", "false"),
            // The head is the input embedding (a saved lm_head.weight is a copy of it).
            ("tie_word_embeddings", "true"),
        ],
    },
};

#[derive(Deserialize)]
struct Gpt2Config {
    vocab_size: usize,
    n_embd: usize,
    n_layer: usize,
    n_head: usize,
    /// The MLP width; null or absent means 4 × n_embd.
    n_inner: Option<usize>,
    n_positions: usize,
    #[serde(default = "ln_eps_1e5")]
    layer_norm_epsilon: f64,
    #[serde(default = "default_activation")]
    activation_function: String,
}

fn default_activation() -> String {
    "gelu_new".into()
}

fn config(path: &Path, text: &str) -> Result<ModelConfig> {
    let c: Gpt2Config = parse(path, text)?;
    positive(
        path,
        &[
            ("vocab_size", c.vocab_size),
            ("n_embd", c.n_embd),
            ("n_layer", c.n_layer),
            ("n_head", c.n_head),
            ("n_positions", c.n_positions),
            ("n_inner", c.n_inner.unwrap_or(1)),
        ],
    )?;
    let d_mlp = match c.n_inner {
        Some(n) => n,
        None => c
            .n_embd
            .checked_mul(4)
            .ok_or_else(|| Error::key(path, "n_embd", format!("{} is too large", c.n_embd)))?,
    };
    Ok(ModelConfig {
        arch: ARCH.class,
        vocab: c.vocab_size,
        d_model: c.n_embd,
        n_layers: c.n_layer,
        n_heads: c.n_head,
        d_mlp,
        max_positions: c.n_positions,
        ln_eps: epsilon(path, "layer_norm_epsilon", c.layer_norm_epsilon)?,
        parallel_residual: false,
        act: activation(path, "activation_function", &c.activation_function)?,
        tied_unembedding: true,
        qkv: QkvLayout::Split,
        ..ModelConfig::default()
    })
}

fn weights(w: &mut Weights, cfg: &ModelConfig) -> Result<Parts> {
    let (d, ff, eps) = (cfg.d_model, cfg.d_mlp, cfg.ln_eps);
    // Saved with or without the `transformer.` prefix.
    let p = if w.has("transformer.wte.weight") {
        "transformer."
    } else {
        ""
    };
    // Buffers of older transformers versions.
    w.ignore(|k| k.ends_with(".attn.bias") || k.ends_with(".attn.masked_bias"));
    w.check_blocks(&format!("{p}h."), "n_layer", cfg.n_layers)?;
    let mut blocks = vec![];
    for l in 0..cfg.n_layers {
        let b = format!("{p}h.{l}");
        blocks.push(Block::classic(
            LayerNorm::load(w, &format!("{b}.ln_1"), d, eps)?,
            LayerNorm::load(w, &format!("{b}.ln_2"), d, eps)?,
            Linear::conv1d(w, &format!("{b}.attn.c_attn"), d, 3 * d)?,
            Linear::conv1d(w, &format!("{b}.attn.c_proj"), d, d)?,
            Linear::conv1d(w, &format!("{b}.mlp.c_fc"), d, ff)?,
            Linear::conv1d(w, &format!("{b}.mlp.c_proj"), ff, d)?,
        ));
    }
    let (embed, unembed) = embeddings(w, cfg, &format!("{p}wte.weight"), "lm_head.weight")?;
    Ok(Parts {
        positions: Some(w.take(&format!("{p}wpe.weight"), [cfg.max_positions, d])?),
        unembed,
        embed,
        blocks,
        ln_f: Norm::Layer(LayerNorm::load(w, &format!("{p}ln_f"), d, eps)?),
    })
}
