//! `ceq study` (issue 13): a model family and SAEs trained on a language with a known loss floor.
//! So far the language itself, and SAE training: activations captured from a host
//! (`activations.rs`), SAEs trained on them with burn's autodiff (`sae_train.rs`) and saved in
//! SAELens's layout (`sae_export.rs`).

pub mod activations;
pub mod language;
pub mod sae_export;
pub mod sae_train;

pub use activations::{Activations, CaptureSpec, capture};
pub use language::{Corpus, Floor, Language};
pub use sae_train::{Architecture, Reconstruction, SaeParams, SaeSpec, TrainedSae, train_sae};
