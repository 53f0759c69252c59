//! Rotary settings of the Llama family, in both spellings in circulation: published checkpoints'
//! `rope_theta` with `rope_scaling` (null, or a dict with `rope_type`/`type`), and transformers 5's
//! `rope_parameters {rope_type, rope_theta, …}`. Only the default rotary and Llama 3's scaling are
//! implemented; any other type or field is refused by name.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Llama3Rope;
use crate::error::{Error, Result};

/// `rope_scaling` or `rope_parameters`.
#[derive(Deserialize)]
pub(super) struct RopeDict {
    rope_type: Option<String>,
    /// The older spelling of `rope_type`.
    #[serde(rename = "type")]
    kind: Option<String>,
    rope_theta: Option<f64>,
    factor: Option<f64>,
    low_freq_factor: Option<f64>,
    high_freq_factor: Option<f64>,
    original_max_position_embeddings: Option<f64>,
    /// Anything else (yarn's beta_fast, partial_rotary_factor, …), refused by name.
    #[serde(flatten)]
    other: BTreeMap<String, serde_json::Value>,
}

/// The rotary base and Llama 3 scaling from a config's `rope_theta`, `rope_scaling` and
/// `rope_parameters`; `max_positions` is the fallback for `original_max_position_embeddings`, as
/// in transformers' `standardize_rope_params`.
pub(super) fn read(
    path: &Path,
    rope_theta: Option<f64>,
    rope_scaling: Option<RopeDict>,
    rope_parameters: Option<RopeDict>,
    max_positions: usize,
) -> Result<(f64, Option<Llama3Rope>)> {
    let err = |key: &str, message: String| Error::key(path, key, message);
    let (key, dict) = match (rope_scaling, rope_parameters) {
        (Some(_), Some(_)) => {
            return Err(err(
                "rope_scaling",
                "both rope_scaling and rope_parameters are given; keep one (transformers 5 \
                 writes rope_parameters only)"
                    .into(),
            ));
        }
        (Some(d), None) => ("rope_scaling", Some(d)),
        (None, d) => ("rope_parameters", d),
    };
    let inner = dict.as_ref().and_then(|d| d.rope_theta);
    if let (Some(a), Some(b)) = (inner, rope_theta)
        && a != b
    {
        // Which one a reader takes differs between transformers versions: the file is ambiguous.
        return Err(err(
            "rope_theta",
            format!("{b} disagrees with {key}.rope_theta = {a}; keep one"),
        ));
    }
    let theta = inner.or(rope_theta).unwrap_or(10000.0);
    if !(theta.is_finite() && theta > 0.0) {
        return Err(err(
            "rope_theta",
            format!("{theta} must be a positive number"),
        ));
    }
    let Some(d) = dict else {
        return Ok((theta, None));
    };
    if let Some(f) = d.other.keys().next() {
        return Err(err(
            key,
            format!(
                "field '{f}' is not supported; ceq implements the default rotary embedding and \
                 Llama 3's scaling"
            ),
        ));
    }
    let kind = d
        .rope_type
        .as_deref()
        .or(d.kind.as_deref())
        .unwrap_or("default");
    let llama3 = [
        ("factor", d.factor),
        ("low_freq_factor", d.low_freq_factor),
        ("high_freq_factor", d.high_freq_factor),
        (
            "original_max_position_embeddings",
            d.original_max_position_embeddings,
        ),
    ];
    match kind {
        "default" => match llama3.iter().find(|(_, v)| v.is_some()) {
            Some((f, _)) => Err(err(
                key,
                format!(
                    "field '{f}' belongs to a scaled rotary embedding, but rope_type is default"
                ),
            )),
            None => Ok((theta, None)),
        },
        "llama3" => {
            let need = |name: &str, v: Option<f64>| {
                v.filter(|v| v.is_finite() && *v > 0.0).ok_or_else(|| {
                    err(
                        key,
                        format!("a llama3 rotary scaling needs '{name}', a positive number"),
                    )
                })
            };
            let s = Llama3Rope {
                factor: need("factor", d.factor)?,
                low_freq_factor: need("low_freq_factor", d.low_freq_factor)?,
                high_freq_factor: need("high_freq_factor", d.high_freq_factor)?,
                original_max_positions: need(
                    "original_max_position_embeddings",
                    d.original_max_position_embeddings
                        .or(Some(max_positions as f64)),
                )?,
            };
            if s.high_freq_factor <= s.low_freq_factor {
                return Err(err(
                    key,
                    format!(
                        "high_freq_factor {} must exceed low_freq_factor {}",
                        s.high_freq_factor, s.low_freq_factor
                    ),
                ));
            }
            Ok((theta, Some(s)))
        }
        other => Err(err(
            key,
            format!("rope_type '{other}' is not supported; ceq implements 'default' and 'llama3'"),
        )),
    }
}
