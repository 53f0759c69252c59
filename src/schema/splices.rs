//! The splices table `ceq map` reads: one row per SAE spliced into a host model. Columns it does not
//! declare pass through to the output unchanged.

use super::{Schema, col};

pub static SPLICES: Schema = Schema {
    table: "splices",
    columns: &[
        col("name", "", "the splice's name (required)"),
        col("ce_clean", "nats/token", "the host's CE (required)"),
        col("ce_spliced", "nats/token", "the CE with the SAE spliced in (required)"),
        col("ce_zero_ablation", "nats/token", "the CE with the hook's activation zeroed (optional)"),
        col("ce_mean_ablation", "nats/token", "the CE with the hook's activation replaced by its mean (optional)"),
        col("params", "parameters", "the host's parameter count (optional)"),
        col("tokens", "tokens", "the host's training tokens (optional)"),
        col("compute", "FLOPs", "the host's training compute (optional; default 6·params·tokens)"),
    ],
};
