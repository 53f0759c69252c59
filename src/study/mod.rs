//! `ceq study` (issue 13): a model family and SAEs trained on a language with a known loss floor.
//! So far the language itself.

pub mod language;

pub use language::{Corpus, Floor, Language};
