//! GPT-NeoX (`GPTNeoXForCausalLM`, Pythia): partial rotary, (usually) parallel residual, exact GELU,
//! untied unembedding. Its config.json and its weights' key table.

use super::prelude::*;
use super::{Block, QkvLayout};
use crate::eval::layers::{LayerNorm, Linear, Norm};

pub(super) const ARCH: Architecture = Architecture {
    class: "GPTNeoXForCausalLM",
    model_type: "gpt_neox",
    config,
    weights,
    base: None,
    keys: Keys {
        read: &[
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
            "layer_norm_eps",
            "rotary_pct",
            "partial_rotary_factor",
            "rotary_emb_base",
            "rope_theta",
            "rope_parameters",
            "use_parallel_residual",
            "hidden_act",
            "tie_word_embeddings",
        ],
        harmless: &["attention_dropout", "hidden_dropout", "classifier_dropout"],
        fixed: &[
            // Linear, dynamic or other scaled rotary embeddings.
            ("rope_scaling", "null"),
            // Biases on the attention projections (the key table takes them).
            ("attention_bias", "true"),
        ],
    },
};

/// Hub checkpoints (Pythia) say `rotary_pct`/`rotary_emb_base`; transformers 5 writes
/// `rope_parameters {partial_rotary_factor, rope_theta}`. Each spelling is its own field rather than
/// a serde alias, so a file that has both reads (the Hub spelling first) instead of failing as a
/// duplicate.
#[derive(Deserialize)]
struct NeoXConfig {
    vocab_size: usize,
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    max_position_embeddings: usize,
    #[serde(default = "ln_eps_1e5")]
    layer_norm_eps: f64,
    rotary_pct: Option<f64>,
    partial_rotary_factor: Option<f64>,
    rotary_emb_base: Option<f64>,
    rope_theta: Option<f64>,
    #[serde(default)]
    rope_parameters: RopeParameters,
    #[serde(default = "yes")]
    use_parallel_residual: bool,
    #[serde(default = "default_activation")]
    hidden_act: String,
    #[serde(default)]
    tie_word_embeddings: bool,
}

#[derive(Default, Deserialize)]
struct RopeParameters {
    partial_rotary_factor: Option<f64>,
    rope_theta: Option<f64>,
    /// Only "default": scaled variants (linear, dynamic, yarn, …) are not implemented.
    rope_type: Option<String>,
    /// Any other field (a scaling `factor`, …), refused by name.
    #[serde(flatten)]
    other: std::collections::BTreeMap<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

fn default_activation() -> String {
    "gelu".into()
}

fn config(path: &Path, text: &str) -> Result<ModelConfig> {
    let c: NeoXConfig = parse(path, text)?;
    positive(
        path,
        &[
            ("vocab_size", c.vocab_size),
            ("hidden_size", c.hidden_size),
            ("num_hidden_layers", c.num_hidden_layers),
            ("num_attention_heads", c.num_attention_heads),
            ("intermediate_size", c.intermediate_size),
            ("max_position_embeddings", c.max_position_embeddings),
        ],
    )?;
    let key = |key: &str, message: String| Error::key(path, key, message);
    let rope = &c.rope_parameters;
    let unsupported = rope
        .other
        .keys()
        .next()
        .map(|f| format!("field '{f}'"))
        .or_else(|| {
            let t = rope.rope_type.as_deref().filter(|t| *t != "default")?;
            Some(format!("rope_type '{t}'"))
        });
    if let Some(what) = unsupported {
        return Err(key(
            "rope_parameters",
            format!("{what} is not supported; ceq implements the default rotary embedding"),
        ));
    }
    // transformers' GPTNeoXConfig: rope_parameters' factor, else rotary_pct, else 0.25; a file
    // whose keys disagree is refused rather than read one way.
    let given = [
        (
            "rope_parameters.partial_rotary_factor",
            c.rope_parameters.partial_rotary_factor,
        ),
        ("rotary_pct", c.rotary_pct),
        ("partial_rotary_factor", c.partial_rotary_factor),
    ];
    let mut set = given.iter().filter_map(|(k, v)| Some((*k, (*v)?)));
    let pct = match set.next() {
        None => 0.25,
        Some((first, v)) => match set.find(|(_, w)| *w != v) {
            Some((other, w)) => {
                return Err(key(
                    other,
                    format!("{w} disagrees with {first} = {v}: keep one"),
                ));
            }
            None => v,
        },
    };
    if !(0.0..=1.0).contains(&pct) {
        return Err(key("rotary_pct", format!("{pct} must be between 0 and 1")));
    }
    let head = c.hidden_size / c.num_attention_heads;
    let rotary_dims = (head as f64 * pct) as usize;
    // The half-split rotation pairs dimension i with i + dims/2.
    if !rotary_dims.is_multiple_of(2) {
        return Err(key(
            "rotary_pct",
            format!(
                "{pct} of {head}-dimension heads rotates {rotary_dims} dimensions, an odd number"
            ),
        ));
    }
    // transformers' GPTNeoXConfig: rope_parameters' theta, else rotary_emb_base, else 10000; it
    // never reads a top-level rope_theta. A file whose keys disagree is refused, as above.
    let (rotary_base, read) = match (c.rope_parameters.rope_theta, c.rotary_emb_base) {
        (Some(t), _) => (t, "rope_parameters.rope_theta"),
        (None, Some(b)) => (b, "rotary_emb_base"),
        (None, None) => (10000.0, "transformers' default"),
    };
    for (k, v) in [
        ("rotary_emb_base", c.rotary_emb_base),
        ("rope_theta", c.rope_theta),
    ] {
        if let Some(v) = v.filter(|v| *v != rotary_base) {
            return Err(key(
                k,
                format!(
                    "{v} disagrees with the rotary base transformers reads, {read} = \
                     {rotary_base}: keep one"
                ),
            ));
        }
    }
    if rotary_dims > 0 && !(rotary_base.is_finite() && rotary_base > 0.0) {
        return Err(key(
            "rotary_emb_base",
            format!("{rotary_base} must be a positive number"),
        ));
    }
    Ok(ModelConfig {
        arch: ARCH.class,
        vocab: c.vocab_size,
        d_model: c.hidden_size,
        n_layers: c.num_hidden_layers,
        n_heads: c.num_attention_heads,
        d_mlp: c.intermediate_size,
        max_positions: c.max_position_embeddings,
        ln_eps: epsilon(path, "layer_norm_eps", c.layer_norm_eps)?,
        rotary_dims,
        rotary_base,
        parallel_residual: c.use_parallel_residual,
        act: activation(path, "hidden_act", &c.hidden_act)?,
        tied_unembedding: c.tie_word_embeddings,
        qkv: QkvLayout::PerHead,
        ..ModelConfig::default()
    })
}

fn weights(w: &mut Weights, cfg: &ModelConfig) -> Result<Parts> {
    let (d, ff, eps) = (cfg.d_model, cfg.d_mlp, cfg.ln_eps);
    w.ignore(|k| {
        k.ends_with(".attention.bias")
            || k.ends_with(".attention.masked_bias")
            || k.ends_with("rotary_emb.inv_freq")
    });
    w.check_blocks("gpt_neox.layers.", "num_hidden_layers", cfg.n_layers)?;
    let mut blocks = vec![];
    for l in 0..cfg.n_layers {
        let b = format!("gpt_neox.layers.{l}");
        blocks.push(Block::classic(
            LayerNorm::load(w, &format!("{b}.input_layernorm"), d, eps)?,
            LayerNorm::load(w, &format!("{b}.post_attention_layernorm"), d, eps)?,
            Linear::torch(w, &format!("{b}.attention.query_key_value"), d, 3 * d)?,
            Linear::torch(w, &format!("{b}.attention.dense"), d, d)?,
            Linear::torch(w, &format!("{b}.mlp.dense_h_to_4h"), d, ff)?,
            Linear::torch(w, &format!("{b}.mlp.dense_4h_to_h"), ff, d)?,
        ));
    }
    let (embed, unembed) = embeddings(w, cfg, "gpt_neox.embed_in.weight", "embed_out.weight")?;
    Ok(Parts {
        positions: None,
        embed,
        unembed,
        blocks,
        ln_f: Norm::Layer(LayerNorm::load(w, "gpt_neox.final_layer_norm", d, eps)?),
    })
}
