//! The checkpoints table `ceq fit` reads: one row per trained checkpoint. The names are defaults; the
//! fit's column map may point each quantity at another column.

use super::{Schema, col};

pub static CHECKPOINTS: Schema = Schema {
    table: "checkpoints",
    columns: &[
        col("name", "", "the checkpoint's name (optional)"),
        col("run", "", "the training run it belongs to (optional): the bootstrap resamples whole runs"),
        col("step", "steps", "optimiser step (optional): gives `run` laws tokens per step"),
        col("params", "parameters", "N: total or non-embedding, as the parameter count says"),
        col("tokens", "tokens", "D: training tokens seen; default compute/(6·params)"),
        col("compute", "FLOPs", "C: training compute; default 6·params·tokens"),
        col("loss", "nats/token", "natural-log cross-entropy on the named token set"),
    ],
};
