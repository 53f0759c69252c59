//! The columns `ceq map` adds after a splices file's own: what each spliced loss is worth in compute.
//! A column appears only where the inputs determine it (e.g. `loss_recovered` needs
//! `ce_zero_ablation`); interval columns only when the law was bootstrapped, and only where the row
//! has a point estimate.

use super::{Schema, col, col_ci};

pub static MAPPED: Schema = Schema {
    table: "mapped",
    columns: &[
        col("delta_loss", "nats/token", "ce_spliced − ce_clean"),
        col("loss_recovered", "fraction", "1 − Δ/(ce_zero_ablation − ce_clean), if that column exists"),
        col("loss_recovered_mean", "fraction", "same against mean ablation"),
        col_ci("compute_equivalent_clean", "FLOPs", "compute at which the law's curve reaches ce_clean"),
        col_ci("compute_equivalent", "FLOPs", "compute at which it reaches ce_spliced"),
        col_ci("compute_fraction", "ratio", "C_eq(spliced)/C_eq(clean): the clean model is measured on the same curve, so a model off the frontier is not penalised twice"),
        col_ci("log10_compute_ratio", "orders of magnitude", "−log10(compute_fraction)"),
        col("compute_actual", "FLOPs", "the host's training compute, when the splice row gives it"),
        col_ci("compute_fraction_of_actual", "ratio", "C_eq(spliced)/compute_actual"),
        col_ci("params_equivalent", "parameters", "`chinchilla`: N_opt of the frontier model at C_eq"),
        col_ci("tokens_equivalent", "tokens", "`chinchilla`: D_opt of the frontier model at C_eq; `run`: where the run reaches ce_spliced"),
        col_ci("step_equivalent", "steps", "`run`: the step at which the run reaches ce_spliced"),
        col("status", "", "`ok`; `extrapolated` (outside the fitted compute/token range — `status_detail` says how far); `below_floor` (a loss ≤ E: no finite compute reaches it; compute columns empty); `undefined` (e.g. zero ablation ≤ clean)"),
        col("status_detail", "", "why a row is not `ok`, with numbers"),
        col("law", "", "the law form"),
        col("units", "", "the units, parameter count, eval set and source of every number"),
    ],
};
