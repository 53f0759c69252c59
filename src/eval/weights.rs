//! Weights from safetensors files only (a model folder's one file or shards named by
//! `model.safetensors.index.json`, or one named file such as an SAE's `sae_weights.safetensors`),
//! f32/f16/bf16 read into f32. Keys are taken one by one against an explicit table, so a missing key
//! and a key nobody used are both errors that list every offender. Pickle-based formats are refused.
//!
//! Opening reads only the files' headers; each tensor is read from disk and converted when it is
//! taken, so loading holds the f32 weights taken so far plus one tensor's bytes, never a whole
//! bf16 file besides its f32 copy.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use safetensors::Dtype;
use safetensors::tensor::Metadata;
use serde::Deserialize;

use crate::error::{DataKind, Error, Result};

/// Where one tensor lies on disk.
struct Raw {
    shape: Vec<usize>,
    dtype: Dtype,
    /// The file (of a sharded checkpoint) that holds it.
    file: PathBuf,
    /// Byte offset of its data in the file, and its length in bytes.
    start: u64,
    len: usize,
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

/// The files of `dir` in formats that would need unpickling to read.
pub(crate) fn pickles_in(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(Error::io(dir))?;
    let mut pickles: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [".bin", ".pt", ".pth", ".pkl", ".ckpt"]
                .iter()
                .any(|ext| n.ends_with(ext))
        })
        .collect();
    pickles.sort();
    Ok(pickles)
}

/// A path as a Python string literal (JSON's quoting is Python's), whatever it holds.
pub(crate) fn py_str(path: &Path) -> String {
    serde_json::Value::from(path.display().to_string()).to_string()
}

/// `python -c 'program'`, quoted for a POSIX shell whatever the program holds.
pub(crate) fn python_c(program: &str) -> String {
    format!("python -c '{}'", program.replace('\'', "'\\''"))
}

/// Refuses folders whose weights exist only in formats that would need unpickling.
fn refuse_pickles(dir: &Path) -> Result<()> {
    let pickles = pickles_in(dir)?;
    let path = dir.to_owned();
    Err(if pickles.is_empty() {
        Error::Data {
            kind: DataKind::Weights,
            path,
            message: "no model.safetensors (or model.safetensors.index.json) in this folder".into(),
        }
    } else {
        Error::Data {
            kind: DataKind::Unsupported,
            message: format!(
                "only pickle-based weights here ({}); ceq never unpickles. Convert them once with \
                 {}",
                pickles.join(", "),
                python_c(&format!(
                    "from transformers import AutoModelForCausalLM as M; \
                     M.from_pretrained({}).save_pretrained({}, safe_serialization=True)",
                    py_str(dir),
                    py_str(Path::new(&format!("{}-safetensors", dir.display())))
                )),
            ),
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

/// Larger headers are refused before they are read (safetensors' own limit).
const MAX_HEADER: u64 = 100_000_000;

/// Reads a safetensors file's header (validated by the safetensors crate: dtypes, shapes and
/// contiguous offsets) and records where each tensor lies; the data is read by [`Weights::take`].
fn read_file(path: &Path, into: &mut BTreeMap<String, Raw>) -> Result<()> {
    let invalid = |message: String| Error::Data {
        kind: DataKind::Safetensors,
        path: path.to_owned(),
        message: format!("not a valid safetensors file: {message}"),
    };
    let mut f = std::fs::File::open(path).map_err(Error::io(path))?;
    let file_len = f.metadata().map_err(Error::io(path))?.len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|_| {
        invalid(format!(
            "{file_len} bytes, shorter than the 8-byte header length"
        ))
    })?;
    let n = u64::from_le_bytes(n);
    if n > MAX_HEADER || 8 + n > file_len {
        return Err(invalid(format!(
            "its header length {n} exceeds the file's {file_len} bytes"
        )));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header).map_err(Error::io(path))?;
    let text = std::str::from_utf8(&header).map_err(|e| invalid(format!("header: {e}")))?;
    let meta: Metadata = serde_json::from_str(text)
        .map_err(|e| bad_entry(path, text).unwrap_or_else(|| invalid(format!("header: {e}"))))?;
    let data_start = 8 + n;
    let held = file_len - data_start;
    if meta.data_len() as u64 > held {
        // Truncated: the first tensor whose bytes are not all there is named.
        let mut cut: Vec<(String, (usize, usize))> = meta
            .tensors()
            .into_iter()
            .map(|(k, i)| (k, i.data_offsets))
            .filter(|(_, (_, e))| *e as u64 > held)
            .collect();
        cut.sort_by_key(|(_, o)| *o);
        if let Some((name, (a, b))) = cut.into_iter().next() {
            return Err(Error::Tensor {
                path: path.to_owned(),
                tensor: name,
                message: format!(
                    "its data (bytes {a}..{b} after the header) lies past the end of the file, which \
                     holds {held} bytes of tensor data where the header declares {}: the file is \
                     truncated; copy or download it again",
                    meta.data_len()
                ),
            });
        }
    }
    if data_start + meta.data_len() as u64 != file_len {
        return Err(invalid(format!(
            "its header declares {} bytes of tensor data, but the file holds {held}",
            meta.data_len(),
        )));
    }
    for (name, info) in meta.tensors() {
        // A key in two shards would silently take whichever was read last.
        if into.contains_key(&name) {
            return Err(Error::Tensor {
                path: path.to_owned(),
                tensor: name,
                message: "this key is also in another shard of the checkpoint; keep it in one"
                    .into(),
            });
        }
        // Other dtypes are refused when taken ([`to_f32`]), not here: a key the model ignores
        // (older transformers saved the causal mask as a u8 or bool `attention.bias`) is no weight.
        let (a, b) = info.data_offsets;
        into.insert(
            name,
            Raw {
                shape: info.shape.clone(),
                dtype: info.dtype,
                file: path.to_owned(),
                start: data_start + a as u64,
                len: b - a,
            },
        );
    }
    Ok(())
}

/// The header entry that the safetensors crate refused, named with what its shape and dtype need:
/// the crate's own message does not say which tensor. `None` where no single entry is to blame.
fn bad_entry(path: &Path, header: &str) -> Option<Error> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(header).ok()?;
    let mut entries = vec![];
    for (name, v) in map.into_iter().filter(|(k, _)| k != "__metadata__") {
        let bad = |message: String| Error::Tensor {
            path: path.to_owned(),
            tensor: name.clone(),
            message: format!("not a valid safetensors entry: {message}"),
        };
        let dtype: Dtype = match serde_json::from_value(v["dtype"].clone()) {
            Ok(d) => d,
            Err(_) => {
                return Some(bad(format!(
                    "dtype {}; a safetensors dtype is expected (ceq reads F32, F16 and BF16)",
                    v["dtype"]
                )));
            }
        };
        let (Ok(shape), Ok((a, b))) = (
            serde_json::from_value::<Vec<usize>>(v["shape"].clone()),
            serde_json::from_value::<(usize, usize)>(v["data_offsets"].clone()),
        ) else {
            return Some(bad(format!(
                "shape {} and data_offsets {}; a list of sizes and a [start, end] pair are expected",
                v["shape"], v["data_offsets"]
            )));
        };
        let bytes = (shape
            .iter()
            .try_fold(dtype.bitsize(), |n, &d| n.checked_mul(d)))
        .map(|bits| bits.div_ceil(8));
        if b < a || bytes != Some(b - a) {
            let need = bytes.map_or("more than the address space".into(), |n| format!("{n}"));
            return Some(bad(format!(
                "shape {shape:?} of dtype {dtype:?} needs {need} bytes, but its data_offsets \
                 [{a}, {b}] hold {}",
                b as i128 - a as i128
            )));
        }
        entries.push((a, b, name));
    }
    // Tensors must tile the data from byte 0 without gaps or overlaps.
    entries.sort();
    let mut end = 0;
    for (a, b, name) in entries {
        if a != end {
            return Some(Error::Tensor {
                path: path.to_owned(),
                tensor: name,
                message: format!(
                    "not a valid safetensors entry: its data_offsets start at {a}, where the \
                     previous tensor's data end at {end} (tensors must follow each other without \
                     gaps or overlaps)"
                ),
            });
        }
        end = b;
    }
    None
}

/// One tensor's values as f32, read from its file.
fn read_tensor(name: &str, raw: &Raw) -> Result<Vec<f32>> {
    let mut bytes = vec![0u8; raw.len];
    let mut f = std::fs::File::open(&raw.file).map_err(Error::io(&raw.file))?;
    f.seek(SeekFrom::Start(raw.start))
        .and_then(|_| f.read_exact(&mut bytes))
        .map_err(Error::io(&raw.file))?;
    to_f32(&raw.file, name, raw.dtype, &bytes)
}

/// At most this many names of a list go into a message (a config can declare millions of layers).
const LISTED: usize = 12;

/// `names` joined by commas, the first [`LISTED`] of them and a count of the rest.
fn list(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        s += &format!(" and {} more", names.len() - LISTED);
    }
    s
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
            let text = super::read_json_text(&index)?;
            let map: ShardIndex = serde_json::from_str(&text).map_err(Error::json(&index))?;
            let mut shards: Vec<&str> = map.weight_map.values().map(String::as_str).collect();
            shards.sort();
            shards.dedup();
            for s in shards {
                // Only a plain file name: no folder, no `..`, no absolute path.
                let plain = matches!(
                    Path::new(s).components().collect::<Vec<_>>()[..],
                    [std::path::Component::Normal(n)] if n == s
                );
                if !plain || s.contains('\\') {
                    return Err(Error::key(
                        index,
                        "weight_map",
                        format!("shard name '{s}' must be a file in the same folder"),
                    ));
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
    /// [`Weights::finish`] (which then fails) so loading can go on to list every problem at once;
    /// what stands in for it is a one-element placeholder, never a tensor of the declared size,
    /// so a config cannot make ceq allocate memory the files do not hold.
    pub fn take<const D: usize>(&mut self, key: &str, shape: [usize; D]) -> Result<Tensor<D>> {
        match self.take_optional(key, shape)? {
            Some(t) => Ok(t),
            None => {
                self.missing.push(key.to_owned());
                Ok(Tensor::zeros([1; D], &self.device))
            }
        }
    }

    /// A saved copy under `key` of the tensor `tied_to` holds (a tied head, which some checkpoints
    /// keep): taken without counting it as parameters, and refused where its values differ, since
    /// transformers 5 then unties the head and uses the copy, and older versions the tensor tied
    /// to: ceq cannot tell which the model was trained with.
    pub fn tied_copy(&mut self, key: &str, like: &Tensor<2>, tied_to: &str) -> Result<()> {
        let Some(raw) = self.tensors.remove(key) else {
            return Ok(());
        };
        let saved = read_tensor(key, &raw)?;
        let want: Vec<f32> = like.clone().into_data().try_to_vec().unwrap_or_default();
        let worst = (raw.shape == like.dims().to_vec())
            .then(|| (saved.iter().zip(&want)).fold(0f32, |m, (a, b)| m.max((a - b).abs())));
        if worst == Some(0.0) {
            return Ok(());
        }
        let by = worst.map_or(format!("shape {:?}", raw.shape), |w| {
            format!("by up to {w}")
        });
        Err(Error::Tensor {
            path: raw.file,
            tensor: key.to_owned(),
            message: format!(
                "differs from {tied_to} ({by}), though {}'s tie_word_embeddings ties them: \
                 transformers 5 then uses {key} (untied), older versions {tied_to}; set \
                 tie_word_embeddings to how the model was trained",
                self.config
            ),
        })
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
                path: raw.file,
                tensor: key.to_owned(),
                message: format!(
                    "shape {:?}, expected {shape:?} from {}",
                    raw.shape, self.config
                ),
            });
        }
        let data = read_tensor(key, &raw)?;
        // NaN or inf in a weight makes every number of the evaluation NaN.
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::Tensor {
                path: raw.file,
                tensor: key.to_owned(),
                message: format!(
                    "element {i} (in row-major order) is {}; every weight must be finite",
                    data[i]
                ),
            });
        }
        self.taken += data.len();
        Ok(Some(Tensor::from_data(
            TensorData::new(data, shape),
            &self.device,
        )))
    }

    /// Whether a key is present (to tell optional weights apart).
    pub fn has(&self, key: &str) -> bool {
        self.tensors.contains_key(key)
    }

    /// Checks that the blocks under `prefix` (`transformer.h.`, keys `{prefix}{l}.…`) are exactly
    /// 0 to `declared` − 1, before any block is taken: a config that declares more layers than the
    /// files hold fails here, naming `key` of the config, instead of listing (and standing in for)
    /// every weight of every missing layer.
    pub fn check_blocks(&self, prefix: &str, key: &str, declared: usize) -> Result<()> {
        let held: std::collections::BTreeSet<usize> = self
            .tensors
            .keys()
            .filter_map(|k| k.strip_prefix(prefix)?.split('.').next()?.parse().ok())
            .collect();
        if held.len() == declared && held.iter().next_back() == declared.checked_sub(1).as_ref() {
            return Ok(());
        }
        let blocks = match (held.first(), held.last()) {
            (Some(a), Some(b)) => format!("{} blocks, numbered {a} to {b}", held.len()),
            _ => "no blocks".into(),
        };
        Err(Error::Data {
            kind: DataKind::Weights,
            path: self.path.clone(),
            message: format!(
                "{}'s {key} is {declared}, but the weights hold {blocks} ({prefix}N); the weights \
                 do not match {}",
                self.config, self.config
            ),
        })
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
            parts.push(format!("missing weights: {}", list(&self.missing)));
        }
        if !unused.is_empty() {
            parts.push(format!("unused weights: {}", list(&unused)));
        }
        Err(Error::Data {
            kind: DataKind::Weights,
            path: self.path,
            message: format!("{}; the weights do not match {what}", parts.join("; ")),
        })
    }
}
