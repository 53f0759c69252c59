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
