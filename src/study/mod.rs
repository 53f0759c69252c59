//! `ceq study`: a model family and SAEs trained on a language with a known loss floor, then the
//! whole pipeline on them (`run.rs`, with the settings of `plan.rs`).
//! The model family's training: the GPT-2 model (`gpt.rs`), its training loop (`train.rs`) and its
//! Hugging Face export (`export.rs`). SAE training: activations captured from a host
//! (`activations.rs`), SAEs trained on them with burn's autodiff (`sae_train.rs`) and saved in
//! SAELens's layout (`sae_export.rs`). What it wrote for the reader, kept so that a rerun replaces
//! nothing the user changed (`written.rs`).

pub mod activations;
pub mod export;
pub mod gpt;
pub mod language;
pub mod plan;
pub mod run;
pub mod sae_export;
pub mod sae_train;
pub mod train;
pub mod written;

pub use activations::{Activations, CaptureSpec, capture};
pub use gpt::{Gpt, ModelSize};
pub use language::{Corpus, Floor, Language};
pub use plan::{SaeKind, Settings, Shape};
pub use run::{Outcome, Record, Study};
pub use sae_train::{Architecture, Reconstruction, SaeParams, SaeSpec, TrainedSae, train_sae};
pub use train::{
    MICRO_ROWS, Progress, Schedule, Trained, batch_seed, gradients, heldout_seed, train,
};
