//! `ceq eval`: run a transformer checkpoint with an SAE spliced in and measure CE (burn).

pub mod device;
pub mod family;
pub mod hook;
pub mod job;
pub(crate) mod layers;
pub mod ledger;
mod logprob;
pub mod model;
mod nll;
pub mod record;
pub mod runner;
pub mod sae;
pub mod shard;
pub mod sweep;
pub mod tokens;
mod vmath;
pub mod weights;

pub use device::DeviceSpec;
pub use hook::{Hook, Site};
pub use model::{ModelConfig, QkvLayout, Transformer};

/// A JSON file's text (config.json, cfg.json, an index) without the UTF-8 byte-order mark some
/// Windows editors put first: serde_json refuses it, and the CSV readers skip it too.
pub(crate) fn read_json_text(path: &std::path::Path) -> crate::Result<String> {
    let text = std::fs::read_to_string(path).map_err(crate::Error::io(path))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}
