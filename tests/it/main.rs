//! ceq's one integration-test binary.

mod bad_input;
mod cli;
mod common;
mod equivalence;
mod eval;
mod eval_hosts;
mod eval_inputs;
mod export;
mod family;
mod fuzz;
mod golden;
mod intervals;
mod language;
mod laws;
mod optimizer;
mod outputs;
mod reference_data;
mod report;
mod robust_outputs;
mod sae_train;
mod saebench;
mod study;
mod study_train;
mod sweep;
mod token_bootstrap;
mod truth;
