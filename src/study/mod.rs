//! `ceq study` (issue 13): a model family and SAEs trained on a language with a known loss floor.
//! So far the language ([`language`]) and the model family's training: the GPT-2 model
//! ([`gpt`]), its training loop ([`train`]) and its Hugging Face export ([`export`]).

pub mod export;
pub mod gpt;
pub mod language;
pub mod train;

pub use gpt::{Gpt, ModelSize};
pub use language::{Corpus, Floor, Language};
pub use train::{Progress, Schedule, Trained, batch_seed, gradients, heldout_seed, train};
