//! Weights from safetensors files only (a model folder's one file or shards named by
//! `model.safetensors.index.json`, or one named file such as an SAE's `sae_weights.safetensors`),
//! f32/f16/bf16 read into f32. Keys are taken one by one against an explicit table, so a missing key
//! and a key nobody used are both errors that list every offender. Pickle-based formats are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;

use crate::error::{DataKind, Error, Result};

/// One tensor read from disk: its shape and its values as f32.
struct Raw {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// All tensors of a checkpoint, taken out one key at a time.
pub struct Weights {
    /// The folder or file the weights came from, for messages.
    path: PathBuf,
    /// The file whose numbers the shapes come from ("config.json", "cfg.json"), for messages.
    config: String,
    tensors: BTreeMap<String, Raw>,
    missing: Vec<String>,
    device: Device,
    /// Elements of every weight taken so far: the model's parameter count.
    pub taken: usize,
}

/// Refuses folders whose weights exist only in formats that would need unpickling.
fn refuse_pickles(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    let pickles: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".bin")
                || n.ends_with(".pt")
                || n.ends_with(".pth")
                || n.ends_with(".pkl")
                || n.ends_with(".ckpt")
        })
        .collect();
    let path = dir.to_owned();
    Err(if pickles.is_empty() {
        Error::Data {
            kind: DataKind::Weights,
            path,
            message: "no model.safetensors (or model.safetensors.index.json) in this folder".into(),
        }
    } else {
        Error::Data { kind: DataKind::Unsupported,
            message: format!(
                "only pickle-based weights here ({}); ceq never unpickles. Convert them once with \
                 python -c \"from transformers import AutoModelForCausalLM as M; \
                 M.from_pretrained('{0}').save_pretrained('{0}-safetensors', safe_serialization=True)\"",
                pickles.join(", "),
            )
            .replace("{0}", &dir.display().to_string()),
            path,
        }
    })
}

fn to_f32(path: &Path, name: &str, dtype: Dtype, bytes: &[u8]) -> Result<Vec<f32>> {
    let chunks = |n: usize| bytes.chunks_exact(n);
    Ok(match dtype {
        Dtype::F32 => chunks(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => chunks(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => chunks(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(Error::Tensor {
                path: path.to_owned(),
                tensor: name.to_owned(),
                message: format!("dtype {other:?}; ceq reads f32, f16 and bf16 weights"),
            });
        }
    })
}

fn read_file(path: &Path, into: &mut BTreeMap<String, Raw>) -> Result<()> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| Error::Data {
        kind: DataKind::Safetensors,
        path: path.to_owned(),
        message: format!("not a valid safetensors file: {e}"),
    })?;
    for (name, view) in st.tensors() {
        let data = to_f32(path, &name, view.dtype(), view.data())?;
        into.insert(
            name,
            Raw {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(())
}

/// `model.safetensors.index.json`: which shard holds each key.
#[derive(Deserialize)]
struct ShardIndex {
    weight_map: BTreeMap<String, String>,
}

impl Weights {
    /// Reads a model folder: `model.safetensors`, or every shard listed in
    /// `model.safetensors.index.json`; shapes come from its config.json.
    pub fn open(dir: &Path, device: &Device) -> Result<Weights> {
        let mut tensors = BTreeMap::new();
        let single = dir.join("model.safetensors");
        let index = dir.join("model.safetensors.index.json");
        if single.exists() {
            read_file(&single, &mut tensors)?;
        } else if index.exists() {
            let text = std::fs::read_to_string(&index).map_err(Error::io(&index))?;
            let map: ShardIndex = serde_json::from_str(&text).map_err(Error::json(&index))?;
            let mut shards: Vec<&str> = map.weight_map.values().map(String::as_str).collect();
            shards.sort();
            shards.dedup();
            for s in shards {
                if s.contains('/') || s.contains("..") {
                    return Err(Error::Key {
                        path: index.clone(),
                        key: "weight_map".into(),
                        message: format!("shard name '{s}' must be a file in the same folder"),
                    });
                }
                read_file(&dir.join(s), &mut tensors)?;
            }
        } else {
            refuse_pickles(dir)?;
        }
        Ok(Weights::new(dir, "config.json", tensors, device))
    }

    /// Reads one safetensors file (an SAE's `sae_weights.safetensors`); shapes come from `config`.
    pub fn open_file(path: &Path, config: &str, device: &Device) -> Result<Weights> {
        let mut tensors = BTreeMap::new();
        read_file(path, &mut tensors)?;
        Ok(Weights::new(path, config, tensors, device))
    }

    fn new(path: &Path, config: &str, tensors: BTreeMap<String, Raw>, device: &Device) -> Weights {
        Weights {
            path: path.to_owned(),
            config: config.to_owned(),
            tensors,
            missing: vec![],
            device: device.clone(),
            taken: 0,
        }
    }

    /// Takes a tensor of rank D and the given shape. A missing key is recorded for
    /// [`Weights::finish`] (which then fails) and stands in as zeros, so loading can go on to list
    /// every problem at once.
    pub fn take<const D: usize>(&mut self, key: &str, shape: [usize; D]) -> Result<Tensor<D>> {
        match self.take_optional(key, shape)? {
            Some(t) => Ok(t),
            None => {
                self.missing.push(key.to_owned());
                Ok(Tensor::zeros(shape, &self.device))
            }
        }
    }

    /// Takes a tensor that may be absent (a bias only some variants have); a present one must have
    /// the given shape.
    pub fn take_optional<const D: usize>(
        &mut self,
        key: &str,
        shape: [usize; D],
    ) -> Result<Option<Tensor<D>>> {
        let Some(raw) = self.tensors.remove(key) else {
            return Ok(None);
        };
        if raw.shape != shape {
            return Err(Error::Tensor {
                path: self.path.clone(),
                tensor: key.to_owned(),
                message: format!(
                    "shape {:?}, expected {shape:?} from {}",
                    raw.shape, self.config
                ),
            });
        }
        self.taken += raw.data.len();
        Ok(Some(Tensor::from_data(
            TensorData::new(raw.data, shape),
            &self.device,
        )))
    }

    /// Takes a tensor that is required when `required` holds and optional otherwise.
    pub fn take_if<const D: usize>(
        &mut self,
        required: bool,
        key: &str,
        shape: [usize; D],
    ) -> Result<Option<Tensor<D>>> {
        if required {
            self.take(key, shape).map(Some)
        } else {
            self.take_optional(key, shape)
        }
    }

    /// Whether a key is present (to tell optional weights apart).
    pub fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// Drops keys that hold buffers, not weights (causal masks, rotary frequencies), if present.
    pub fn ignore(&mut self, pred: impl Fn(&str) -> bool) {
        self.tensors.retain(|k, _| !pred(k));
    }

    /// Fails when any key was missing or any key was left unused, naming them all; `what` says what
    /// the weights should have matched ("its config.json", "a gated SAE with d_in 16, d_sae 64").
    pub fn finish(self, what: &str) -> Result<()> {
        let unused: Vec<String> = self.tensors.into_keys().collect();
        if self.missing.is_empty() && unused.is_empty() {
            return Ok(());
        }
        let mut parts = vec![];
        if !self.missing.is_empty() {
            parts.push(format!("missing weights: {}", self.missing.join(", ")));
        }
        if !unused.is_empty() {
            parts.push(format!("unused weights: {}", unused.join(", ")));
        }
        Err(Error::Data {
            kind: DataKind::Weights,
            path: self.path,
            message: format!("{}; the weights do not match {what}", parts.join("; ")),
        })
    }
}
