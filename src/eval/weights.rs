//! Weights from safetensors files only (one file, or shards named by `model.safetensors.index.json`),
//! f32/f16/bf16 read into f32. Keys are taken one by one against an explicit table, so a missing key
//! and a key nobody used are both errors that list every offender. Pickle-based formats are refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::error::{Error, Result};

/// One tensor read from disk: its shape and its values as f32.
struct Raw {
    shape: Vec<usize>,
    data: Vec<f32>,
}

/// All tensors of a checkpoint, taken out one key at a time.
pub struct Weights {
    dir: PathBuf,
    tensors: BTreeMap<String, Raw>,
    missing: Vec<String>,
    device: Device,
    /// Elements of every weight taken so far: the model's parameter count.
    pub taken: usize,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Refuses folders whose weights exist only in formats that would need unpickling.
fn refuse_pickles(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
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
    Err(Error::BadData {
        path: dir.to_owned(),
        message: if pickles.is_empty() {
            "no model.safetensors (or model.safetensors.index.json) in this folder".into()
        } else {
            format!(
                "only pickle-based weights here ({}); ceq never unpickles. Convert them once with \
                 python -c \"from transformers import AutoModelForCausalLM as M; \
                 M.from_pretrained('{0}').save_pretrained('{0}-safetensors', safe_serialization=True)\"",
                pickles.join(", "),
            )
            .replace("{0}", &dir.display().to_string())
        },
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
            return Err(Error::BadData {
                path: path.to_owned(),
                message: format!(
                    "tensor '{name}' has dtype {other:?}; ceq reads f32, f16 and bf16 weights"
                ),
            });
        }
    })
}

fn read_file(path: &Path, into: &mut BTreeMap<String, Raw>) -> Result<()> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| Error::BadData {
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

impl Weights {
    /// Reads `model.safetensors`, or every shard listed in `model.safetensors.index.json`.
    pub fn open(dir: &Path, device: &Device) -> Result<Weights> {
        let mut tensors = BTreeMap::new();
        let single = dir.join("model.safetensors");
        let index = dir.join("model.safetensors.index.json");
        if single.exists() {
            read_file(&single, &mut tensors)?;
        } else if index.exists() {
            let text = std::fs::read_to_string(&index).map_err(io_err(&index))?;
            let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::BadData {
                path: index.clone(),
                message: format!("not valid JSON: {e}"),
            })?;
            let map = v
                .get("weight_map")
                .and_then(|m| m.as_object())
                .ok_or_else(|| Error::BadData {
                    path: index.clone(),
                    message: "no 'weight_map' object".into(),
                })?;
            let mut shards: Vec<&str> = map.values().filter_map(|s| s.as_str()).collect();
            shards.sort();
            shards.dedup();
            for s in shards {
                if s.contains('/') || s.contains("..") {
                    return Err(Error::BadData {
                        path: index.clone(),
                        message: format!("shard name '{s}' must be a file in the same folder"),
                    });
                }
                read_file(&dir.join(s), &mut tensors)?;
            }
        } else {
            refuse_pickles(dir)?;
        }
        Ok(Weights {
            dir: dir.to_owned(),
            tensors,
            missing: vec![],
            device: device.clone(),
            taken: 0,
        })
    }

    /// Takes a tensor of rank D and the given shape. A missing key is recorded for
    /// [`Weights::finish`] (which then fails) and stands in as zeros, so loading can go on to list
    /// every problem at once.
    pub fn take<const D: usize>(&mut self, key: &str, shape: [usize; D]) -> Result<Tensor<D>> {
        let Some(raw) = self.tensors.remove(key) else {
            self.missing.push(key.to_owned());
            return Ok(Tensor::zeros(shape, &self.device));
        };
        if raw.shape != shape {
            return Err(Error::BadData {
                path: self.dir.clone(),
                message: format!(
                    "weight '{key}' has shape {:?}, expected {shape:?} from config.json",
                    raw.shape
                ),
            });
        }
        self.taken += raw.data.len();
        Ok(Tensor::from_data(
            TensorData::new(raw.data, shape),
            &self.device,
        ))
    }

    /// Whether a key is present (to tell optional weights apart).
    pub fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// Drops keys that hold buffers, not weights (causal masks, rotary frequencies), if present.
    pub fn ignore(&mut self, pred: impl Fn(&str) -> bool) {
        self.tensors.retain(|k, _| !pred(k));
    }

    /// Fails when any key was missing or any key was left unused, naming them all.
    pub fn finish(self) -> Result<()> {
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
        Err(Error::BadData {
            path: self.dir,
            message: format!(
                "{}; the checkpoint does not match its config.json",
                parts.join("; ")
            ),
        })
    }
}
