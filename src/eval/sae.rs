//! Sparse autoencoders in the SAELens layout (`cfg.json` + `sae_weights.safetensors`): standard
//! (ReLU), top-k, JumpReLU and gated, with SAELens 6's forward pass (`sae_lens/saes/*.py`), and the
//! older flat cfg.json styles read the way SAELens 6 reads them (`handle_pre_6_0_config`); and
//! EleutherAI sparsify's layout (`sae/sparsify.rs`), read into the same top-k forward.

mod sparsify;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::tensor::activation::relu;
use burn::tensor::{Device, IndexingUpdateOp, Tensor, TensorData};
use rayon::prelude::*;
use serde_json::Value;

use super::weights::Weights;
use crate::error::{DataKind, Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Standard,
    TopK {
        k: usize,
        rescale_by_decoder_norm: bool,
    },
    JumpRelu,
    Gated,
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Standard => "standard",
            Kind::TopK { .. } => "topk",
            Kind::JumpRelu => "jumprelu",
            Kind::Gated => "gated",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Sae {
    pub path: PathBuf,
    pub kind: Kind,
    pub d_in: usize,
    pub d_sae: usize,
    /// The hook named in cfg.json, if any.
    pub hook: Option<String>,
    pub apply_b_dec_to_input: bool,
    /// Input scale of an unfolded `expected_average_only_in` SAE: x̂ = SAE(s·x)/s (1 otherwise).
    pub scale: f64,
    /// The SAE was trained on a host loaded with TransformerLens's `center_writing_weights`
    /// (SAELens's `model_from_pretrained_kwargs`): every write to the residual stream has zero mean
    /// over d_model, so its activations are the raw ones centred over d_model at each position.
    pub center_input: bool,
    /// cfg.json names GPT-2 small as its host and says nothing of how TransformerLens loaded it:
    /// SAELens's releases trained with centred writing weights (gpt2-small-res-jb and others)
    /// lack the key on the Hub, so such an SAE may need it added.
    pub center_unstated: bool,
    /// The model cfg.json says the SAE was trained on (SAELens's `model_name`), when it names one.
    pub model_name: Option<String>,
    w_enc: Tensor<2>,
    w_dec: Tensor<2>,
    b_enc: Option<Tensor<1>>,
    b_dec: Tensor<1>,
    threshold: Option<Tensor<1>>,
    b_gate: Option<Tensor<1>>,
    b_mag: Option<Tensor<1>>,
    w_mag: Option<Tensor<2>>,
    dec_norm: Option<Tensor<1>>,
    /// A top-k SAE's decoder in host memory, copied on the first [`Sae::forward`] that decodes
    /// on the host.
    host: OnceLock<HostDecoder>,
}

/// W_dec [d_sae, d_in], b_dec and the decoder norms, as flat f32 rows.
#[derive(Clone)]
struct HostDecoder {
    w_dec: Vec<f32>,
    b_dec: Vec<f32>,
    norm: Option<Vec<f32>>,
}

impl std::fmt::Debug for HostDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostDecoder({} weights)", self.w_dec.len())
    }
}

/// The latent activations f of a batch of positions.
pub enum Latents {
    /// [n, d_sae].
    Dense(Tensor<2>),
    /// A top-k SAE's, computed on the host: per position its k latents' indices (ascending) and
    /// activations (≥ 0; a zero is a selected latent that ReLU switched off), [n·k] each.
    Sparse {
        k: usize,
        idx: Vec<u32>,
        val: Vec<f32>,
    },
}

fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec()
        .expect("f32 data")
}

/// The k largest of `row` (ties to the lower index, as a stable descending sort would), by
/// index ascending, with ReLU applied: SAELens's TopK without sorting the whole row.
fn top_k(row: &[f32], buf: &mut Vec<u32>, idx: &mut [u32], val: &mut [f32]) {
    let k = idx.len();
    buf.clear();
    buf.extend(0..row.len() as u32);
    let order = |a: &u32, b: &u32| row[*b as usize].total_cmp(&row[*a as usize]).then(a.cmp(b));
    if k < buf.len() {
        buf.select_nth_unstable_by(k - 1, order);
    }
    let top = &mut buf[..k];
    top.sort_unstable();
    for ((i, v), &j) in idx.iter_mut().zip(val.iter_mut()).zip(top.iter()) {
        *i = j;
        *v = row[j as usize].max(0.0);
    }
}

/// cfg.json fields that change what an SAE computes, with the one value ceq's forward pass
/// implements (SAELens's default). Any other value is refused by name rather than read and ignored.
const AT_DEFAULT: &[(&str, &str)] = &[
    // An SAE on one attention head's output (hook_z): ceq splices whole hook activations only.
    ("hook_head_index", "null"),
    ("hook_point_head_index", "null"),
    // Activations reshaped before encoding (hook_z SAEs).
    ("reshape_activations", "\"none\""),
    // A pre-6 SAE whose decoder is multiplied by a learned `scaling_factor` tensor.
    ("finetuning_scaling_factor", "false"),
];

/// Refuses cfg.json fields (at the top level or in `metadata`) set to what ceq does not implement.
fn refuse_unsupported(path: &Path, c: &Value, kind: &Kind) -> Result<()> {
    let bad = |key: &str, message: String| Err(Error::key(path, key, message));
    let levels = [Some(c), c.get("metadata")];
    let fields = || {
        levels
            .iter()
            .flatten()
            .filter_map(|v| v.as_object())
            .flatten()
    };
    for (key, value) in fields() {
        if let Some((_, default)) = AT_DEFAULT.iter().find(|(k, _)| k == key) {
            let default: Value = serde_json::from_str(default).expect("a JSON literal");
            if *value != default {
                return bad(
                    key,
                    format!("{value} is not supported; ceq runs SAEs with {key} = {default} only"),
                );
            }
        }
        // The activation before top-k or thresholding: ReLU (SAELens's) or top-k only.
        if key == "activation_fn" || key == "activation_fn_str" {
            let ok = match value.as_str() {
                Some("relu") => !matches!(kind, Kind::TopK { .. }),
                Some("topk") => matches!(kind, Kind::TopK { .. }),
                _ => false,
            };
            if !ok {
                return bad(
                    key,
                    format!(
                        "{value} is not supported for a {} SAE; ceq applies relu (standard, \
                         jumprelu, gated) or topk (topk)",
                        kind.name()
                    ),
                );
            }
        }
        if key == "rescale_acts_by_decoder_norm"
            && *value == Value::Bool(true)
            && !matches!(kind, Kind::TopK { .. })
        {
            return bad(
                key,
                format!(
                    "only a topk SAE rescales by its decoder norm, but this one is {}",
                    kind.name()
                ),
            );
        }
    }
    Ok(())
}

/// TransformerLens options of the host an SAE was trained on (SAELens's
/// `model_from_pretrained_kwargs`) that leave the activations at every hook ceq splices unchanged:
/// they fold or refactor weights (hook_z and the norms' outputs change, not the residual stream,
/// attn_out or mlp_out), shift the logits by a constant, or say where and in what precision.
const HOST_KWARGS_KEPT: &[&str] = &[
    "fold_ln",
    "center_unembed",
    "fold_value_biases",
    "refactor_factored_attn_matrices",
    "dtype",
    "torch_dtype",
    "device",
    "n_devices",
    "move_to_device",
    "default_prepend_bos",
    "trust_remote_code",
];

/// Whether the SAE's host had centred writing weights; any option that would change the
/// activations in a way ceq does not reproduce is refused by name.
fn centered_host(path: &Path, kwargs: Option<&Value>) -> Result<bool> {
    const KEY: &str = "model_from_pretrained_kwargs";
    let Some(kwargs) = kwargs.filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    let Some(map) = kwargs.as_object() else {
        return Err(key_error(path, KEY, format!("{kwargs} is not an object")));
    };
    let mut center = false;
    for (k, v) in map {
        match k.as_str() {
            "center_writing_weights" => match v.as_bool() {
                Some(b) => center = b,
                None => {
                    let m = format!("center_writing_weights is {v}, not true or false");
                    return Err(key_error(path, KEY, m));
                }
            },
            k if HOST_KWARGS_KEPT.contains(&k) => {}
            other => {
                let m = format!(
                    "'{other}' changes how TransformerLens loads the host, and ceq does not know \
                     what it does to the activations; ceq reproduces center_writing_weights and \
                     options that leave the hooks' activations as they are. Measure this SAE with \
                     SAELens, or, if the option leaves the activations as they are, remove it \
                     from cfg.json"
                );
                return Err(key_error(path, KEY, m));
            }
        }
    }
    Ok(center)
}

/// An SAE folder's cfg.json: its path and its JSON.
fn read_cfg(dir: &Path) -> Result<(PathBuf, Value)> {
    let path = dir.join("cfg.json");
    if !path.is_file() {
        let what = match dir.is_dir() {
            true => "the folder has no cfg.json",
            false => "no such folder",
        };
        return Err(Error::Data {
            kind: DataKind::Unsupported,
            path: dir.to_owned(),
            message: format!(
                "{what}; an SAE is a folder holding cfg.json and sae_weights.safetensors \
                 (SAELens) or sae.safetensors (EleutherAI sparsify)"
            ),
        });
    }
    let text = super::read_json_text(&path)?;
    let value = serde_json::from_str(&text).map_err(Error::json(&path))?;
    Ok((path, value))
}

/// Refuses an SAE folder whose weights are only pickles (SAELens's older `sae_weights.pt`),
/// naming them and the one line that converts them; ceq never unpickles. The weights are
/// `sae_weights.*` or the one pickle there; among several others the user says which.
fn refuse_pickles(dir: &Path) -> Result<()> {
    use super::weights::{py_str, python_c};
    let pickles = super::weights::pickles_in(dir)?;
    let weights = (pickles.iter().find(|p| p.starts_with("sae_weights.")))
        .or(pickles.first().filter(|_| pickles.len() == 1));
    let (from, which) = match weights {
        Some(w) => (dir.join(w), String::new()),
        None if pickles.is_empty() => return Ok(()),
        None => (
            dir.join("WEIGHTS.pt"),
            " (WEIGHTS.pt: the one of them that holds W_enc, W_dec, b_enc and b_dec)".into(),
        ),
    };
    let program = format!(
        "import torch; from safetensors.torch import save_file; \
         save_file(torch.load({}, weights_only=True), {})",
        py_str(&from),
        py_str(&dir.join("sae_weights.safetensors")),
    );
    Err(Error::Data {
        kind: DataKind::Unsupported,
        path: dir.to_owned(),
        message: format!(
            "no sae_weights.safetensors, only pickle-based weights ({}); ceq never unpickles. \
             Convert them once with {}{which}",
            pickles.join(", "),
            python_c(&program),
        ),
    })
}

/// A bad value of `key` in the cfg.json at `path`.
fn key_error(path: &Path, key: &str, message: String) -> Error {
    Error::key(path, key, message)
}

impl Sae {
    /// Reads an SAE folder: sparsify's layout when it holds `sae.safetensors` and no
    /// `sae_weights.safetensors`, SAELens's otherwise.
    pub fn load(dir: &Path, device: &Device) -> Result<Sae> {
        if dir.join("sae.safetensors").exists() && !dir.join("sae_weights.safetensors").exists() {
            return sparsify::load(dir, device);
        }
        let (cfg_path, c) = read_cfg(dir)?;
        let bad = |key: &str, message: String| key_error(&cfg_path, key, message);
        let get = |k: &str| {
            c.get(k)
                .or_else(|| c.get("metadata").and_then(|m| m.get(k)))
        };
        let int = |k: &str| -> Result<usize> {
            get(k)
                .and_then(Value::as_u64)
                .filter(|&n| n > 0)
                .map(|n| n as usize)
                .ok_or_else(|| bad(k, "missing or not a positive integer".into()))
        };
        let d_in = int("d_in")?;
        let d_sae = int("d_sae")?;
        // Pre-6 files: activation_fn(_str) "topk" with activation_fn_kwargs.k means a top-k SAE,
        // whatever `architecture` says (SAELens 3.9-4.3 wrote "standard"; SAELens 6 reads them
        // so, in handle_pre_6_0_config).
        let act_fn = get("activation_fn_str")
            .or_else(|| get("activation_fn"))
            .and_then(Value::as_str);
        let kwargs_k = get("activation_fn_kwargs").and_then(|a| a.get("k"));
        let arch = match get("architecture").and_then(Value::as_str) {
            _ if act_fn == Some("topk") && kwargs_k.is_some_and(|k| !k.is_null()) => "topk",
            Some(a) => a,
            None if act_fn == Some("topk") => "topk",
            None => "standard",
        };
        let kind = match arch {
            "standard" => Kind::Standard,
            "jumprelu" => Kind::JumpRelu,
            "gated" => Kind::Gated,
            "topk" => Kind::TopK {
                k: match get("k").or_else(|| get("activation_fn_kwargs").and_then(|a| a.get("k"))) {
                    None | Some(Value::Null) => Err(bad(
                        "k",
                        "a topk SAE needs 'k' (or activation_fn_kwargs.k)".into(),
                    )),
                    Some(v) => v.as_u64().filter(|&k| k > 0).ok_or_else(|| {
                        bad(
                            "k",
                            format!("k is {v}; it must be a whole number ≥ 1 (the latents kept per token)"),
                        )
                    }),
                }? as usize,
                rescale_by_decoder_norm: get("rescale_acts_by_decoder_norm")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            other => {
                return Err(Error::Data {
                    kind: DataKind::Unsupported,
                    path: cfg_path.clone(),
                    message: format!(
                        "architecture '{other}' is not supported; ceq runs standard, topk, jumprelu and gated SAEs"
                    ),
                });
            }
        };
        if let Kind::TopK { k, .. } = kind
            && k > d_sae
        {
            let key = if get("k").is_some() {
                "k"
            } else {
                "activation_fn_kwargs"
            };
            return Err(bad(
                key,
                format!("k is {k}, more latents than the SAE's d_sae {d_sae}"),
            ));
        }
        refuse_unsupported(&cfg_path, &c, &kind)?;
        let kwargs = get("model_from_pretrained_kwargs");
        let center_input = centered_host(&cfg_path, kwargs)?;
        let host = get("model_name").and_then(Value::as_str).unwrap_or("");
        let center_unstated = kwargs.is_none() && matches!(host, "gpt2" | "gpt2-small");
        let hook = get("hook_name")
            .or_else(|| get("hook_point"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let apply_b_dec_to_input = get("apply_b_dec_to_input")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let norm = match c.get("normalize_activations") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => "none".to_owned(),
            Some(Value::Bool(true)) => "expected_average_only_in".to_owned(),
            Some(v) => v.as_str().unwrap_or("?").to_owned(),
        };
        let scale = match norm.as_str() {
            "none" => 1.0,
            "expected_average_only_in" => {
                let p = dir.join("activation_scaler.json");
                let v = std::fs::read_to_string(&p)
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok());
                let scaler_error = |key: &str, message: String| key_error(&p, key, message);
                // SAELens's ActivationScaler writes these two; a whitening, or a key of another
                // scaler, would be a transform of the input that ceq would not apply.
                let keys = v.as_ref().and_then(Value::as_object).into_iter().flatten();
                let unread = |(k, x): &(&String, &Value)| match k.as_str() {
                    "scaling_factor" => false,
                    "has_whitening" => !matches!(x, Value::Bool(false) | Value::Null),
                    _ => true,
                };
                if let Some((k, x)) = keys.clone().find(unread) {
                    return Err(scaler_error(
                        k,
                        format!(
                            "is {x}: a transform of the SAE's input beyond its scaling factor, \
                             which ceq does not apply (it reads scaling_factor, and has_whitening \
                             false)"
                        ),
                    ));
                }
                match v.as_ref().and_then(|v| v.get("scaling_factor")) {
                    None | Some(Value::Null) => {
                        return Err(bad(
                            "normalize_activations",
                            format!(
                                "normalize_activations is 'expected_average_only_in' but {} has no \
                                 scaling_factor: this SAE was saved before its input scale was \
                                 folded into the weights, and using it unscaled gives wrong numbers",
                                p.display()
                            ),
                        ));
                    }
                    Some(f) => match f.as_f64().filter(|s| *s > 0.0 && s.is_finite()) {
                        Some(s) => s,
                        None => {
                            return Err(scaler_error(
                                "scaling_factor",
                                format!("is {f}; the input's scale is a number > 0"),
                            ));
                        }
                    },
                }
            }
            other => {
                return Err(Error::Data {
                    kind: DataKind::Unsupported,
                    path: cfg_path.clone(),
                    message: format!(
                        "normalize_activations '{other}' is not supported; ceq handles 'none' and 'expected_average_only_in'"
                    ),
                });
            }
        };

        let file = dir.join("sae_weights.safetensors");
        if !file.exists() {
            refuse_pickles(dir)?;
        }
        let mut w = Weights::open_file(&file, "cfg.json", device)?;
        // Only the tensors this kind's forward pass uses are taken: any other (a threshold on a
        // standard SAE, b_enc on a gated one) is left over, and `finish` refuses it as unused.
        let gated = kind == Kind::Gated;
        let w_enc = w.take("W_enc", [d_in, d_sae])?;
        let w_dec = w.take("W_dec", [d_sae, d_in])?;
        let b_dec = w.take("b_dec", [d_in])?;
        let mut used = |on: bool, key: &str| on.then(|| w.take(key, [d_sae])).transpose();
        let b_enc = used(!gated, "b_enc")?;
        let threshold = used(kind == Kind::JumpRelu, "threshold")?;
        let b_gate = used(gated, "b_gate")?;
        let b_mag = used(gated, "b_mag")?;
        let r_mag = used(gated, "r_mag")?;
        w.finish(&format!(
            "a {arch} SAE with d_in {d_in}, d_sae {d_sae} (cfg.json)"
        ))?;
        let w_mag = r_mag.map(|r| w_enc.clone() * r.exp().unsqueeze::<2>());
        let dec_norm = matches!(
            kind,
            Kind::TopK {
                rescale_by_decoder_norm: true,
                ..
            }
        )
        .then(|| w_dec.clone().square().sum_dim(1).sqrt().reshape([d_sae]));
        Ok(Sae {
            path: dir.to_owned(),
            kind,
            d_in,
            d_sae,
            hook,
            apply_b_dec_to_input,
            scale,
            center_input,
            center_unstated,
            model_name: Some(host.to_owned()).filter(|h| !h.is_empty()),
            w_enc,
            w_dec,
            b_enc,
            b_dec,
            threshold,
            b_gate,
            b_mag,
            w_mag,
            dec_norm,
            host: OnceLock::new(),
        })
    }

    /// Latents f and reconstruction x̂ [n, d_in] of activations x [n, d_in]. With `host`, a
    /// top-k SAE selects its k latents per position and decodes them in host memory (k rows of
    /// W_dec instead of a dense [n, d_sae]·[d_sae, d_in] product, and a partial selection instead of
    /// a full sort of each row), rows in parallel; the same function, summed in another order.
    pub fn forward(&self, x: Tensor<2>, host: bool) -> (Latents, Tensor<2>) {
        let row = |t: &Tensor<1>| t.clone().unsqueeze::<2>();
        let x = if self.scale != 1.0 { x * self.scale } else { x };
        let sae_in = if self.apply_b_dec_to_input {
            x - row(&self.b_dec)
        } else {
            x
        };
        let pre = || sae_in.clone().matmul(self.w_enc.clone());
        let f = match &self.kind {
            Kind::Standard => relu(pre() + row(self.b_enc.as_ref().unwrap())),
            Kind::JumpRelu => {
                let h = pre() + row(self.b_enc.as_ref().unwrap());
                let [n, m] = h.dims();
                let keep = h
                    .clone()
                    .greater(row(self.threshold.as_ref().unwrap()).expand([n, m]));
                relu(h) * keep.float()
            }
            Kind::Gated => {
                let g = pre() + row(self.b_gate.as_ref().unwrap());
                let mag = relu(
                    sae_in.clone().matmul(self.w_mag.clone().unwrap())
                        + row(self.b_mag.as_ref().unwrap()),
                );
                mag * g.greater_elem(0.0).float()
            }
            Kind::TopK { k, .. } => {
                let mut h = pre() + row(self.b_enc.as_ref().unwrap());
                if let Some(n) = &self.dec_norm {
                    h = h * row(n);
                }
                if host {
                    return self.top_k_host(h, *k);
                }
                let (vals, idx) = h.clone().topk_with_indices(*k, 1);
                h.zeros_like()
                    .scatter(1, idx, relu(vals), IndexingUpdateOp::Add)
            }
        };
        let dec_in = match &self.dec_norm {
            Some(n) => f.clone() / row(n),
            None => f.clone(),
        };
        let x_hat = dec_in.matmul(self.w_dec.clone()) + row(&self.b_dec);
        (Latents::Dense(f), self.unscale(x_hat))
    }

    fn unscale(&self, x_hat: Tensor<2>) -> Tensor<2> {
        if self.scale != 1.0 {
            x_hat / self.scale
        } else {
            x_hat
        }
    }

    /// A top-k SAE's selection and decoding from its pre-activations h [n, d_sae], on the host.
    fn top_k_host(&self, h: Tensor<2>, k: usize) -> (Latents, Tensor<2>) {
        let device = h.device();
        let [n, m] = h.dims();
        let dec = self.host.get_or_init(|| HostDecoder {
            w_dec: to_vec(self.w_dec.clone()),
            b_dec: to_vec(self.b_dec.clone()),
            norm: self.dec_norm.clone().map(to_vec),
        });
        let h = to_vec(h);
        let d = self.d_in;
        let (mut idx, mut val) = (vec![0u32; n * k], vec![0f32; n * k]);
        let mut x_hat = vec![0f32; n * d];
        x_hat
            .par_chunks_mut(d)
            .zip(idx.par_chunks_mut(k))
            .zip(val.par_chunks_mut(k))
            .zip(h.par_chunks(m))
            .for_each_init(
                || (Vec::with_capacity(m), vec![0f32; d]),
                |(buf, acc), (((out, idx), val), row)| {
                    top_k(row, buf, idx, val);
                    acc.fill(0.0);
                    for (&j, &v) in idx.iter().zip(val.iter()) {
                        // As the dense path: f / ‖W_dec row‖ when rescaled, then f·W_dec.
                        let c = match &dec.norm {
                            Some(nr) => v / nr[j as usize],
                            None => v,
                        };
                        let w = &dec.w_dec[j as usize * d..(j as usize + 1) * d];
                        for (a, w) in acc.iter_mut().zip(w) {
                            *a += c * w;
                        }
                    }
                    for ((o, a), b) in out.iter_mut().zip(acc.iter()).zip(&dec.b_dec) {
                        *o = a + b;
                    }
                },
            );
        let x_hat = Tensor::<2>::from_data(TensorData::new(x_hat, [n, d]), &device);
        (Latents::Sparse { k, idx, val }, self.unscale(x_hat))
    }
}

/// The hook an SAE folder names (SAELens: cfg.json's `hook_name`, or the older `hook_point`;
/// sparsify: the folder's hookpoint name), read without its weights: enough to group a sweep's SAEs by hook before loading any.
pub fn configured_hook(dir: &Path) -> Result<Option<String>> {
    if dir.join("sae.safetensors").exists() && !dir.join("sae_weights.safetensors").exists() {
        return sparsify::folder_hook(dir);
    }
    let (_, c) = read_cfg(dir)?;
    let get = |k: &str| {
        c.get(k)
            .or_else(|| c.get("metadata").and_then(|m| m.get(k)))
    };
    Ok(get("hook_name")
        .or_else(|| get("hook_point"))
        .and_then(Value::as_str)
        .map(String::from))
}

#[cfg(test)]
mod tests {
    use super::top_k;

    /// The partial selection keeps what a full descending sort (ties to the lower index) keeps.
    #[test]
    fn top_k_selects_what_a_full_sort_selects() {
        let mut buf = vec![];
        for (seed, m, k) in [
            (1u64, 97usize, 5usize),
            (2, 64, 64),
            (3, 300, 1),
            (4, 40, 39),
        ] {
            // Values on a coarse grid, so many tie; some negative, so ReLU zeroes a few.
            let row: Vec<f32> = (0..m as u64)
                .map(|i| ((i * 7919 + seed * 104_729) % 23) as f32 - 6.0)
                .collect();
            let mut order: Vec<u32> = (0..m as u32).collect();
            order.sort_by(|&a, &b| row[b as usize].total_cmp(&row[a as usize]).then(a.cmp(&b)));
            let mut want: Vec<u32> = order[..k].to_vec();
            want.sort_unstable();
            let (mut idx, mut val) = (vec![0u32; k], vec![0f32; k]);
            top_k(&row, &mut buf, &mut idx, &mut val);
            assert_eq!(idx, want, "seed {seed}");
            for (&i, &v) in idx.iter().zip(&val) {
                assert_eq!(v, row[i as usize].max(0.0));
            }
        }
    }
}
