//! ceq: what a spliced sparse autoencoder costs in training compute.
//!
//! Data flows one way: a checkpoints table becomes a [`table::Family`], [`fit::fit`] turns it into a
//! [`law::Law`] (saved as a [`law_file::LawFile`]), and [`map::map`] reads splices against it through
//! [`equivalence`]; [`export`] writes the result in any format.

// Messages go through `say!`, which a closed stderr cannot make panic (see io::say).
#![deny(clippy::print_stderr, clippy::print_stdout)]

pub mod analysis;
pub mod cli;
pub mod equivalence;
pub mod error;
pub mod eval;
pub mod export;
pub mod fit;
mod groups;
pub(crate) mod heap;
pub mod io;
pub mod law;
pub mod law_file;
pub mod map;
pub mod measurement;
pub mod pipeline;
pub mod plot;
pub mod progress;
pub mod report;
pub mod schema;
mod serde_nan;
pub mod study;
pub mod synth;
pub mod table;
pub mod token_bootstrap;

pub use error::{DataKind, Error, Result};
