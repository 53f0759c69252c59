//! Saving a trained SAE in SAELens 6's folder layout — `cfg.json` (top-level `architecture`,
//! `d_in`, `d_sae`, `dtype`, …, a `metadata` object with `model_name` and `hook_name`, and `k` for
//! top-k) and `sae_weights.safetensors` (`W_enc` [d_in, d_sae], `b_enc`, `W_dec` [d_sae, d_in],
//! `b_dec`, f32) — which `SAE.load_from_disk` and `ceq eval` read; plus `ceq_training.json`, how it
//! was trained (neither reader looks at it). The folder appears whole or not at all.

use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use serde_json::json;

use super::sae_train::{Architecture, TrainedSae};
use crate::error::{DataKind, Error, Result};
use crate::io::NewDir;

/// The files a saved SAE folder holds.
pub const FILES: [&str; 3] = ["cfg.json", "sae_weights.safetensors", "ceq_training.json"];

fn bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl TrainedSae {
    /// SAELens's cfg.json for this SAE. `dataset_path` says what the activations were taken on.
    pub fn saelens_cfg(&self, dataset_path: &str) -> serde_json::Value {
        let p = &self.params;
        let arch = self.spec.architecture.name();
        let details = match self.spec.architecture {
            Architecture::Standard { l1 } => json!({
                "decoder_init_norm": 0.1,
                "l1_coefficient": l1,
                "lp_norm": 1.0,
                "l1_warm_up_steps": self.spec.l1_warmup_steps,
            }),
            Architecture::TopK { .. } => json!({
                "decoder_init_norm": 0.1,
                "aux_loss_coefficient": 0.0,
            }),
        };
        let mut cfg = json!({
            "architecture": arch,
            "d_in": p.d_in,
            "d_sae": p.d_sae,
            "dtype": "float32",
            "device": "cpu",
            "apply_b_dec_to_input": true,
            "normalize_activations": "none",
            "reshape_activations": "none",
            "metadata": {
                "model_name": self.model_name,
                "hook_name": self.hook.to_string(),
                "hook_head_index": null,
                "context_size": self.context_size,
                "dataset_path": dataset_path,
                "model_class_name": "HookedTransformer",
                "model_from_pretrained_kwargs": {},
                "seqpos_slice": [null],
                "exclude_special_tokens": !self.keep_special,
                "training_architecture": arch,
                "training_architecture_details": details,
                "trained_by": format!("ceq {}", env!("CARGO_PKG_VERSION")),
            },
        });
        if let Architecture::TopK { k } = self.spec.architecture {
            cfg["k"] = json!(k);
            cfg["rescale_acts_by_decoder_norm"] = json!(false);
        }
        cfg
    }

    /// How the SAE was trained, for `ceq_training.json`; `files`: the fingerprints of the files
    /// saved beside it, so a rerun of the study can tell them from others put there since.
    pub fn training_record(&self, files: &super::written::Written) -> serde_json::Value {
        json!({
            "files": files,
            "spec": self.spec,
            "seed": self.seed,
            "n_activations": self.n_activations,
            "activations_seen": self.spec.steps * self.spec.batch,
            "seconds": self.seconds,
            "engine": self.spec.device.describe(),
            "loss_units": "mse: squared error summed over the hook's dimensions, averaged over a batch; l1: the coefficient times the decoder-norm-weighted sum of latents, averaged",
            "history": self.history,
        })
    }

    /// Writes the SAE's folder `dir` ([`FILES`]), built beside it and swapped in whole. An
    /// existing `dir` is replaced only when `force`, and only if it holds nothing but those files
    /// (so no folder of other things is ever removed).
    pub fn save_saelens(&self, dir: &Path, dataset_path: &str, force: bool) -> Result<()> {
        if dir.exists() {
            let refuse = |message: String| Error::Data {
                kind: DataKind::OutputDir,
                path: dir.to_owned(),
                message,
            };
            if !dir.is_dir() {
                return Err(refuse("exists and is not a folder".into()));
            }
            let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
            let mut names = vec![];
            for e in entries {
                names.push(
                    e.map_err(Error::io(dir))?
                        .file_name()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
            if let Some(other) = names.iter().find(|n| !FILES.contains(&n.as_str())) {
                return Err(refuse(format!(
                    "holds '{other}', which is not part of a saved SAE; choose an empty or new folder"
                )));
            }
            if !names.is_empty() && !force {
                return Err(refuse(format!(
                    "holds a saved SAE already ({}); it is replaced only when forced",
                    names.join(", ")
                )));
            }
        }
        let p = &self.params;
        let tensors = [
            ("W_enc", bytes(&p.w_enc), vec![p.d_in, p.d_sae]),
            ("b_enc", bytes(&p.b_enc), vec![p.d_sae]),
            ("W_dec", bytes(&p.w_dec), vec![p.d_sae, p.d_in]),
            ("b_dec", bytes(&p.b_dec), vec![p.d_in]),
        ];
        let views = tensors.iter().map(|(name, b, shape)| {
            (
                *name,
                TensorView::new(Dtype::F32, shape.clone(), b).expect("shape matches the data"),
            )
        });
        let weights = safetensors::tensor::serialize(views, None).map_err(|e| Error::Write {
            path: dir.join(FILES[1]),
            source: std::io::Error::other(e.to_string()),
        })?;
        let pretty = |v: serde_json::Value| {
            let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
            s.push('\n');
            s.into_bytes()
        };
        let new = NewDir::beside(dir)?;
        let cfg = pretty(self.saelens_cfg(dataset_path));
        let prints = [(FILES[0], &cfg), (FILES[1], &weights)]
            .map(|(name, b)| (name.to_owned(), super::written::fingerprint(b)));
        let record = pretty(self.training_record(&prints.into_iter().collect()));
        let files: [(&str, Vec<u8>); 3] =
            [(FILES[0], cfg), (FILES[1], weights), (FILES[2], record)];
        for (name, content) in files {
            let path = new.path().join(name);
            std::fs::write(&path, content).map_err(|source| Error::Write {
                path: dir.join(name),
                source,
            })?;
        }
        new.swap_in()
    }
}
