//! Saving a study model in the Hugging Face layout `GPT2LMHeadModel.save_pretrained` writes:
//! config.json and model.safetensors with GPT-2's keys (`transformer.` prefix, Conv1D weights
//! [in, out], no `lm_head.weight`: the head is the tied token embedding). ceq's eval engine and
//! transformers both load the folder.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;

use super::gpt::{Gpt, LN_EPS};
use super::language::BOS;
use crate::error::{Error, Result};
use crate::io::write_atomic;

impl Gpt {
    /// config.json: the keys GPT2Config reads for this model. BOS (token 0) is named as BOS and EOS
    /// so that ceq's eval leaves its positions out by default (the language has no end token).
    pub fn hf_config(&self) -> serde_json::Value {
        let s = &self.size;
        serde_json::json!({
            "architectures": ["GPT2LMHeadModel"],
            "model_type": "gpt2",
            "vocab_size": s.vocab,
            "n_embd": s.d_model,
            "n_layer": s.n_layer,
            "n_head": s.n_head,
            "n_positions": s.ctx,
            "n_inner": null,
            "activation_function": "gelu_new",
            "layer_norm_epsilon": LN_EPS,
            "tie_word_embeddings": true,
            "bos_token_id": BOS,
            "eos_token_id": BOS,
            "attn_pdrop": 0.0,
            "embd_pdrop": 0.0,
            "resid_pdrop": 0.0,
            "initializer_range": 0.02,
            "torch_dtype": "float32",
        })
    }

    /// model.safetensors' bytes (f32, little-endian).
    pub fn safetensors(&self) -> Vec<u8> {
        let layout = self.size.layout();
        let bytes: Vec<Vec<u8>> = self
            .weights
            .iter()
            .map(|w| w.iter().flat_map(|x| x.to_le_bytes()).collect())
            .collect();
        let views: Vec<(String, TensorView<'_>)> = layout
            .iter()
            .zip(&bytes)
            .map(|((name, shape), b)| {
                let view = TensorView::new(safetensors::Dtype::F32, shape.clone(), b)
                    .expect("a shape matching its bytes");
                (format!("transformer.{name}"), view)
            })
            .collect();
        let meta = HashMap::from([("format".to_owned(), "pt".to_owned())]);
        safetensors::serialize(views, Some(meta)).expect("f32 tensors serialize")
    }

    /// Writes config.json and model.safetensors into `dir` (made if missing), each atomically.
    pub fn save_hf(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
        let config = serde_json::to_vec_pretty(&self.hf_config()).expect("JSON values serialize");
        write_atomic(&dir.join("model.safetensors"), &self.safetensors())?;
        write_atomic(&dir.join("config.json"), &config)
    }
}
