//! A model's `config.json` (Hugging Face layout), read into the few numbers ceq's forward pass needs.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// `GPT2LMHeadModel`: learned positions, sequential blocks, tanh-GELU, tied unembedding.
    Gpt2,
    /// `GPTNeoXForCausalLM`: partial rotary, (usually) parallel residual, exact GELU, untied unembedding.
    NeoX,
}

pub const SUPPORTED: &str =
    "GPT2LMHeadModel (model_type gpt2), GPTNeoXForCausalLM (model_type gpt_neox)";

#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub arch: Arch,
    pub vocab: usize,
    pub d_model: usize,
    pub n_layers: usize,
    pub n_heads: usize,
    pub d_mlp: usize,
    pub max_positions: usize,
    pub ln_eps: f64,
    /// GPT-NeoX: dimensions of each head that are rotated.
    pub rotary_dims: usize,
    pub rotary_base: f64,
    /// Attention and MLP read the same input and are added together (GPT-NeoX default).
    pub parallel_residual: bool,
    /// tanh-approximate GELU (GPT-2's gelu_new) rather than exact.
    pub gelu_tanh: bool,
    pub tied_unembedding: bool,
    /// BOS, EOS and pad ids: positions holding them are left out of splicing and metrics by default.
    pub special_ids: Vec<u32>,
    pub bos_id: Option<u32>,
}

impl ModelConfig {
    pub fn read(dir: &Path) -> Result<ModelConfig> {
        let path = dir.join("config.json");
        if !path.exists() {
            return Err(Error::Weights {
                path: dir.to_owned(),
                message: "no config.json: a model folder needs config.json and model.safetensors (Hugging Face layout)".into(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        let v: Value = serde_json::from_str(&text).map_err(Error::json(&path))?;
        let bad = |key: &str| Error::Key {
            path: path.clone(),
            key: key.to_owned(),
            message: "missing or not a positive integer".into(),
        };
        let int = |key: &str| -> Result<usize> {
            v.get(key)
                .and_then(Value::as_u64)
                .filter(|&n| n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| bad(key))
        };
        let float = |key: &str| v.get(key).and_then(Value::as_f64);
        let model_type = v.get("model_type").and_then(Value::as_str).unwrap_or("");
        let archs: Vec<&str> = v
            .get("architectures")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let arch = if model_type == "gpt2" || archs.contains(&"GPT2LMHeadModel") {
            Arch::Gpt2
        } else if model_type == "gpt_neox" || archs.contains(&"GPTNeoXForCausalLM") {
            Arch::NeoX
        } else {
            return Err(Error::Unsupported {
                path,
                message: format!(
                    "unsupported model (model_type '{model_type}', architectures {archs:?}); ceq runs {SUPPORTED}"
                ),
            });
        };
        let bos_id = v
            .get("bos_token_id")
            .and_then(Value::as_u64)
            .map(|n| n as u32);
        let mut special: Vec<u32> = ["bos_token_id", "eos_token_id", "pad_token_id"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(Value::as_u64))
            .map(|n| n as u32)
            .collect();
        special.sort();
        special.dedup();
        let cfg = match arch {
            Arch::Gpt2 => {
                let d = int("n_embd")?;
                let act = v
                    .get("activation_function")
                    .and_then(Value::as_str)
                    .unwrap_or("gelu_new");
                ModelConfig {
                    arch,
                    vocab: int("vocab_size")?,
                    d_model: d,
                    n_layers: int("n_layer")?,
                    n_heads: int("n_head")?,
                    d_mlp: v
                        .get("n_inner")
                        .and_then(Value::as_u64)
                        .map_or(4 * d, |n| n as usize),
                    max_positions: int("n_positions")?,
                    ln_eps: float("layer_norm_epsilon").unwrap_or(1e-5),
                    rotary_dims: 0,
                    rotary_base: 0.0,
                    parallel_residual: false,
                    gelu_tanh: act != "gelu",
                    tied_unembedding: true,
                    special_ids: special,
                    bos_id,
                }
            }
            Arch::NeoX => {
                let d = int("hidden_size")?;
                let heads = int("num_attention_heads")?;
                // Hub checkpoints (Pythia) say rotary_pct/rotary_emb_base; transformers 5 writes
                // rope_parameters {partial_rotary_factor, rope_theta}.
                let rope = v.get("rope_parameters");
                let rope_f = |k: &str| rope.and_then(|r| r.get(k)).and_then(Value::as_f64);
                let pct = float("rotary_pct")
                    .or_else(|| float("partial_rotary_factor"))
                    .or_else(|| rope_f("partial_rotary_factor"))
                    .unwrap_or(1.0);
                let act = v
                    .get("hidden_act")
                    .and_then(Value::as_str)
                    .unwrap_or("gelu");
                ModelConfig {
                    arch,
                    vocab: int("vocab_size")?,
                    d_model: d,
                    n_layers: int("num_hidden_layers")?,
                    n_heads: heads,
                    d_mlp: int("intermediate_size")?,
                    max_positions: int("max_position_embeddings")?,
                    ln_eps: float("layer_norm_eps").unwrap_or(1e-5),
                    rotary_dims: ((d / heads) as f64 * pct) as usize,
                    rotary_base: float("rotary_emb_base")
                        .or_else(|| float("rope_theta"))
                        .or_else(|| rope_f("rope_theta"))
                        .unwrap_or(10000.0),
                    parallel_residual: v
                        .get("use_parallel_residual")
                        .and_then(Value::as_bool)
                        .unwrap_or(true),
                    gelu_tanh: act == "gelu_new" || act == "gelu_pytorch_tanh",
                    tied_unembedding: v
                        .get("tie_word_embeddings")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    special_ids: special,
                    bos_id,
                }
            }
        };
        if cfg.d_model % cfg.n_heads != 0 {
            return Err(Error::Json {
                path,
                message: format!(
                    "hidden size {} is not a multiple of the {} heads",
                    cfg.d_model, cfg.n_heads
                ),
            });
        }
        Ok(cfg)
    }
}
