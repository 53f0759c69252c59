//! The table `ceq eval` writes: one row per SAE. Its CSV is a splices file: `ceq map` reads the
//! columns [`super::SPLICES`] declares, checks `loss_recovered` against its own, and passes the rest
//! through.

use super::{Schema, col};

pub static EVAL: Schema = Schema {
    table: "eval",
    columns: &[
        col("name", "", "the SAE's folder name"),
        col("model", "", "the host model's folder name"),
        col("hook", "", "where the SAE is spliced (TransformerLens name)"),
        col("architecture", "", "standard, topk, jumprelu or gated"),
        col("d_sae", "latents", "the SAE's width"),
        col("params", "parameters (total)", "the host's parameter count, embeddings included, counted from its weights"),
        col("n_tokens", "positions", "next-token positions every number averages over"),
        col("ce_clean", "nats/token", "CE of the host as it is"),
        col("ce_spliced", "nats/token", "CE with the SAE's reconstruction in place of the activation"),
        col("ce_zero_ablation", "nats/token", "CE with the activation zeroed"),
        col("ce_mean_ablation", "nats/token", "CE with the activation replaced by its mean over the evaluated positions"),
        col("loss_recovered", "fraction", "1 − (ce_spliced − ce_clean)/(ce_zero_ablation − ce_clean)"),
        col("kl", "nats/token", "KL(clean ‖ spliced) of the next-token distributions"),
        col("l0", "latents", "mean number of active latents per position"),
        col("explained_variance", "fraction", "1 − Σ‖x − x̂‖²/Σ‖x − x̄‖²"),
        col("mse", "per element", "mean of (x − x̂)² over positions and dimensions"),
        col("cosine", "", "mean cosine similarity of x and x̂"),
        col("se_ce_clean", "nats/token", "standard error of ce_clean over per-sequence means"),
        col("se_ce_spliced", "nats/token", "standard error of ce_spliced over per-sequence means"),
        col("se_ce_zero_ablation", "nats/token", "standard error of ce_zero_ablation over per-sequence means"),
        col("se_ce_mean_ablation", "nats/token", "standard error of ce_mean_ablation over per-sequence means"),
        col("se_delta", "nats/token", "standard error of ce_spliced − ce_clean over per-sequence means"),
        col("eval_tokens", "", "the token file and which positions count (special tokens left out or kept)"),
        col("engine", "", "the burn backend that computed the row, in f32"),
    ],
};
