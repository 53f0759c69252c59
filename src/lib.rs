//! ceq: what a spliced sparse autoencoder costs in training compute. It fits a scaling law to a
//! model family's checkpoints (how loss falls with training compute) and inverts it: a host with
//! an SAE spliced in is as good as a model trained with that compute, the SAE's
//! compute-equivalent.
//!
//! Where a library user starts:
//!
//! - Read the inputs: [`table::read_family`] (a checkpoints CSV → a [`table::Family`]) and
//!   [`table::read_splices`] (a splices CSV, or SAEBench core-eval results → [`table::Splices`]).
//! - Fit: [`fit::fit`] gives a [`fit::Fit`] (its [`law::Law`], residuals and warnings), which
//!   [`law_file::LawFile::new`] makes the saved law; [`law_file::LawFile::read`] loads a saved
//!   `law.json` instead.
//! - Or fit as `ceq fit` does, options checked once: a [`pipeline::FitSpec`]
//!   ([`FitSpec::new`](pipeline::FitSpec::new) holds ceq's defaults) becomes a
//!   [`pipeline::FitJob`] by [`validate`](pipeline::FitSpec::validate), and
//!   [`FitJob::run`](pipeline::FitJob::run) reads, fits, bootstraps when asked and returns the
//!   [`law_file::LawFile`].
//! - Map: [`map::map`] takes the [`law_file::LawFile`] and the [`table::Splices`] and returns a
//!   [`map::MapResult`] (one [`equivalence::Mapped`] per splice, and the warnings every output
//!   must carry); [`export::Destination`] writes its table to a file or stdout in any
//!   [`export::Format`].
//! - Every error is an [`Error`]; [`error::Fix`] says what a caller can change to get past it.
//!
//! [`eval`] measures the splices (host models with SAEs spliced in, run with burn), [`study`]
//! makes a whole study from a synthetic language, and [`plot`] and [`report`] draw the figures and
//! the report folder. docs/ARCHITECTURE.md says what each module holds and may import.
//!
//! ```no_run
//! use std::path::Path;
//!
//! use ceq::export::Destination;
//! use ceq::law::Form;
//! use ceq::law_file::{LawFile, ParamCount};
//! use ceq::table::{ColumnMap, read_family, read_splices};
//!
//! fn main() -> ceq::Result<()> {
//!     let mut family = read_family(
//!         Path::new("data/checkpoints.csv"),
//!         &ColumnMap::default(),
//!         Form::Chinchilla,
//!         0,
//!     )?;
//!     let fit = ceq::fit::fit(&family, &ceq::fit::FitOptions::default())?;
//!     // The token set of the rows fitted; two are refused.
//!     family.settle_token_set(&fit.checkpoints)?;
//!     let eval_set = family.eval_tokens.as_deref().unwrap_or(ceq::pipeline::UNNAMED_EVAL_SET);
//!     let law_file = LawFile::new(&fit, &family, eval_set, ParamCount::Total, (None, 0.9))?;
//!
//!     let mapped = ceq::map::map(&law_file, read_splices(Path::new("data/splices.csv"))?)?;
//!     // `replace`: an earlier mapped.csv is replaced rather than refused.
//!     let out = Destination { format: None, out: Some("mapped.csv".into()), replace: true };
//!     out.write_table(&[], |format| mapped.table_for(format))?;
//!     Ok(())
//! }
//! ```

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
mod unique_keys;

pub use error::{DataKind, Error, Result};
