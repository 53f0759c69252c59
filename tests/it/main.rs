//! ceq's one integration-test binary.

mod bad_input;
mod cli;
mod common;
mod equivalence;
mod eval;
mod export;
mod golden;
mod laws;
mod optimizer;
mod reference_data;
mod report;
mod robust_outputs;
mod truth;
