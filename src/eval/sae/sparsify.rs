//! EleutherAI sparsify's layout (`sparsify/sparse_coder.py`): a folder named after its hookpoint
//! holding `cfg.json` (`SparseCoderConfig` + `d_in`) and `sae.safetensors` (`encoder.weight`
//! [num_latents, d_in], `encoder.bias`, `W_dec` [num_latents, d_in], `b_dec`). The forward is
//! ReLU((x − b_dec)·encoderᵀ + bias), the top k kept, decoded by W_dec + b_dec: SAELens's TopK with
//! b_dec applied to the input and no decoder-norm rescaling. Transcoders and skip connections
//! are no residual-stream autoencoders and are refused.

use std::path::Path;

use burn::tensor::Device;
use serde_json::Value;

use super::{Kind, Sae};
use crate::error::{DataKind, Error, Result};
use crate::eval::weights::Weights;

/// cfg.json keys that must be false (absent means false): each makes the coder something other
/// than an autoencoder of one hook's activations.
const REFUSED: &[(&str, &str)] = &[
    (
        "transcode",
        "a transcoder predicts a module's output from its input, so it cannot be spliced in as an \
         autoencoder of one activation",
    ),
    (
        "skip_connection",
        "a skip connection (W_skip) adds a linear map of the input to the reconstruction; ceq \
         splices plain autoencoders only",
    ),
    (
        "embed_skip",
        "an embedding skip connection reads the token embeddings besides the hook; ceq splices \
         plain autoencoders only",
    ),
    (
        "signed",
        "signed latents (sparsify of mid-2024) keep negative activations, where ceq's TopK \
         applies ReLU",
    ),
    (
        "gram_lookup",
        "an n-gram lookup subtracts a table of mean activations ceq does not have",
    ),
];

/// Keys that change training only: Multi-TopK's extra loss, decoder normalisation during
/// training, the n-gram table's settings when gram_lookup is off.
const TRAINING_ONLY: &[&str] = &[
    "multi_topk",
    "normalize_decoder",
    "lookup_max_order",
    "gram_table_hash",
];

/// The TransformerLens hook of a sparsify hookpoint: the output of decoder layer N (`layers.N`,
/// GPT-2's `h.N`) is the residual stream after block N.
fn hook_of(hookpoint: &str) -> Option<String> {
    let n = hookpoint
        .strip_prefix("layers.")
        .or_else(|| hookpoint.strip_prefix("h."))?;
    let n: usize = n.parse().ok()?;
    Some(format!("blocks.{n}.hook_resid_post"))
}

/// The name sparsify gave the folder: a link's target's (a link `layers.3` to `run/layers.6` is
/// layer 6's SAE), and a link named as another hookpoint than its target refused, not read as
/// either.
fn hookpoint_name(dir: &Path) -> Result<String> {
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let given = name(dir).unwrap_or_default();
    let real = (dir.canonicalize().ok().as_deref())
        .and_then(name)
        .unwrap_or_else(|| given.clone());
    match hook_of(&given) {
        Some(h) if hook_of(&real).as_ref() != Some(&h) => Err(Error::Data {
            kind: DataKind::Mismatch,
            path: dir.to_owned(),
            message: format!(
                "its name '{given}' is a hookpoint, but the folder it leads to is '{real}': \
                 sparsify names an SAE's folder after its hookpoint, so the two disagree on where \
                 it splices; give the folder itself, or a link named after it"
            ),
        }),
        _ => Ok(real),
    }
}

/// The hook a sparsify folder's name says, if it names a decoder layer's output.
pub(super) fn folder_hook(dir: &Path) -> Result<Option<String>> {
    Ok(hook_of(&hookpoint_name(dir)?))
}

pub(super) fn load(dir: &Path, device: &Device) -> Result<Sae> {
    let (cfg_path, c) = super::read_cfg(dir)?;
    let bad = |key: &str, message: String| super::key_error(&cfg_path, key, message);
    let obj = c.as_object().ok_or_else(|| Error::Data {
        kind: DataKind::Json,
        path: cfg_path.clone(),
        message: "cfg.json must be a JSON object".into(),
    })?;
    for (key, value) in obj {
        if let Some((_, why)) = REFUSED.iter().find(|(k, _)| k == key) {
            if *value != Value::Bool(false) && !value.is_null() {
                return Err(Error::Data {
                    kind: DataKind::Unsupported,
                    path: cfg_path.clone(),
                    message: format!("{key} is {value}: {why}"),
                });
            }
        } else if !TRAINING_ONLY.contains(&key.as_str())
            && !["activation", "k", "d_in", "num_latents", "expansion_factor"]
                .contains(&key.as_str())
        {
            return Err(bad(
                key,
                format!(
                    "ceq does not know this key of a sparsify cfg.json (value {value}), so it \
                     cannot tell whether it changes the forward pass; remove it if it does not"
                ),
            ));
        }
    }
    let int = |k: &str| obj.get(k).and_then(Value::as_u64).map(|n| n as usize);
    let d_in = int("d_in")
        .filter(|&n| n > 0)
        .ok_or_else(|| bad("d_in", "missing or not a positive integer".into()))?;
    match obj
        .get("activation")
        .and_then(Value::as_str)
        .unwrap_or("topk")
    {
        "topk" => {}
        other => {
            return Err(bad(
                "activation",
                format!("'{other}' is not supported; ceq runs sparsify SAEs with topk"),
            ));
        }
    }
    // num_latents 0 (or absent) means d_in × expansion_factor (SparseCoder.__init__).
    let d_sae = match int("num_latents").unwrap_or(0) {
        0 => d_in * int("expansion_factor").unwrap_or(32),
        n => n,
    };
    if d_sae == 0 {
        return Err(bad(
            "expansion_factor",
            "must be a positive integer when num_latents is 0".into(),
        ));
    }
    let k = int("k")
        .filter(|&k| k > 0)
        .ok_or_else(|| bad("k", "a sparsify SAE needs 'k', a positive integer".into()))?;
    if k > d_sae {
        return Err(bad(
            "k",
            format!("k is {k}, more latents than the SAE's {d_sae}"),
        ));
    }
    let name = hookpoint_name(dir)?;
    let hook = hook_of(&name).ok_or_else(|| Error::Data {
        kind: DataKind::Unsupported,
        path: dir.to_owned(),
        message: format!(
            "sparsify names an SAE's folder after its hookpoint, and '{name}' is not the output \
             of a decoder layer (layers.N, or h.N for GPT-2); ceq splices sparsify SAEs at the \
             residual stream after block N (blocks.N.hook_resid_post) only"
        ),
    })?;
    let mut w = Weights::open_file(&dir.join("sae.safetensors"), "cfg.json", device)?;
    let w_enc = w.take("encoder.weight", [d_sae, d_in])?.transpose();
    let b_enc = w.take("encoder.bias", [d_sae])?;
    let w_dec = w.take("W_dec", [d_sae, d_in])?;
    let b_dec = w.take("b_dec", [d_in])?;
    w.finish(&format!(
        "a sparsify topk SAE with d_in {d_in}, {d_sae} latents (cfg.json)"
    ))?;
    Ok(Sae {
        path: dir.to_owned(),
        kind: Kind::TopK {
            k,
            rescale_by_decoder_norm: false,
        },
        d_in,
        d_sae,
        hook: Some(hook),
        apply_b_dec_to_input: true,
        center_input: false,
        center_unstated: false,
        model_name: None,
        scale: 1.0,
        w_enc,
        w_dec,
        b_enc: Some(b_enc),
        b_dec,
        threshold: None,
        b_gate: None,
        b_mag: None,
        w_mag: None,
        dec_norm: None,
        host: std::sync::OnceLock::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::hook_of;

    #[test]
    fn hookpoints_are_decoder_layer_outputs() {
        assert_eq!(
            hook_of("layers.6").as_deref(),
            Some("blocks.6.hook_resid_post")
        );
        assert_eq!(hook_of("h.0").as_deref(), Some("blocks.0.hook_resid_post"));
        assert_eq!(hook_of("layers.6.mlp"), None);
        assert_eq!(hook_of("embed_tokens"), None);
    }
}
