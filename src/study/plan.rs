//! What a study trains and measures: the language, the model grid, the SAEs, the token sets. Two
//! presets: the default (about 6 minutes on a 2-core CPU) and `quick` (about 10 seconds, for CI).
//! The settings are saved in study.json; a rerun resumes only a study made with the same ones.

use serde::{Deserialize, Serialize};

use super::gpt::ModelSize;
use super::language::Language;
use super::sae_train::Architecture;
use super::train::Schedule;
use crate::error::{Error, Result};

/// One model shape of the family.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shape {
    pub d_model: usize,
    pub n_layer: usize,
    pub n_head: usize,
}

/// One kind of SAE, trained at every (host, layer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SaeKind {
    pub architecture: Architecture,
    /// Latents as a multiple of the host's width.
    pub expansion: usize,
}

/// Everything a study does, saved in study.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub preset: String,
    pub seed: u64,
    pub language: Language,
    /// Row length for training and evaluation (every model's positions).
    pub ctx: usize,
    /// Held-out rows every CE is measured on (eval_tokens.npy).
    pub eval_rows: usize,
    pub shapes: Vec<Shape>,
    /// Training steps of each shape's models; tokens = steps × batch × ctx.
    pub steps: Vec<usize>,
    /// Rows per training step, peak learning rate and warm-up steps (the rest is `Schedule`'s).
    pub batch: usize,
    pub lr: f64,
    pub warmup: usize,
    /// The SAEs' hosts: indices into `shapes`, each host the model with the most steps.
    pub sae_hosts: Vec<usize>,
    /// Layers whose residual stream (`blocks.L.hook_resid_post`) gets SAEs.
    pub sae_layers: Vec<usize>,
    pub sae_kinds: Vec<SaeKind>,
    /// Rows of their own token set whose activations train the SAEs (not the eval tokens).
    pub sae_rows: usize,
    pub sae_steps: usize,
    pub sae_batch: usize,
    pub sae_lr: f64,
    /// Bootstrap replicates of the law (and, jointly, of every CE over the eval sequences).
    pub bootstrap: usize,
}

/// The study's language: few enough quanta that the family's largest models come within a few
/// tenths of a nat of the floor, enough that the smallest stay far from it.
fn language(seed: u64) -> Language {
    Language {
        vocab: 32,
        quanta: 16,
        zipf: 1.0,
        switch: 0.05,
        branching: 4,
        seed,
    }
}

/// Model shapes from (d_model, n_layer, n_head).
fn shapes<const N: usize>(s: [(usize, usize, usize); N]) -> Vec<Shape> {
    (s.iter())
        .map(|&(d_model, n_layer, n_head)| Shape {
            d_model,
            n_layer,
            n_head,
        })
        .collect()
}

fn saes(l1: [f64; 3], k: [usize; 3]) -> Vec<SaeKind> {
    let standard = l1.map(|l1| SaeKind {
        architecture: Architecture::Standard { l1 },
        expansion: 4,
    });
    let topk = k.map(|k| SaeKind {
        architecture: Architecture::TopK { k },
        expansion: 4,
    });
    standard.into_iter().chain(topk).collect()
}

impl Settings {
    /// The default study.
    pub fn default_study(seed: u64) -> Settings {
        Settings {
            preset: "default".into(),
            seed,
            language: language(seed),
            ctx: 64,
            eval_rows: 512,
            shapes: shapes([(16, 2, 2), (32, 2, 2), (48, 2, 4), (64, 2, 4)]),
            steps: vec![500, 1000, 2000],
            batch: 32,
            lr: 1e-2,
            warmup: 20,
            sae_hosts: vec![2, 3],
            sae_layers: vec![0, 1],
            sae_kinds: saes([0.3, 1.0, 3.0], [2, 4, 8]),
            sae_rows: 512,
            sae_steps: 1500,
            sae_batch: 256,
            sae_lr: 1e-3,
            bootstrap: 200,
        }
    }

    /// The `ceq study` options that choose these settings: "--quick --seed 1".
    pub fn options(&self) -> String {
        match self.preset.as_str() {
            "quick" => format!("--quick --seed {}", self.seed),
            _ => format!("--seed {}", self.seed),
        }
    }

    /// The same pipeline, small enough for CI: smaller models, budgets and token sets.
    pub fn quick(seed: u64) -> Settings {
        Settings {
            preset: "quick".into(),
            ctx: 32,
            eval_rows: 128,
            shapes: shapes([(8, 1, 2), (12, 1, 2), (16, 2, 2), (24, 2, 2)]),
            steps: vec![60, 120, 240],
            batch: 16,
            warmup: 10,
            sae_rows: 128,
            sae_steps: 300,
            sae_batch: 128,
            bootstrap: 50,
            ..Settings::default_study(seed)
        }
    }

    /// Refuses settings the pipeline cannot run, naming the setting.
    pub fn check(&self) -> Result<()> {
        let bad = |message: String| {
            Err(Error::Invalid {
                fix: None,
                option: "study settings",
                message,
            })
        };
        if self.shapes.len() < 2 || self.steps.is_empty() {
            return bad("a family needs at least 2 shapes and 1 token budget".into());
        }
        for &h in &self.sae_hosts {
            let Some(s) = self.shapes.get(h) else {
                return bad(format!(
                    "SAE host {h} is not one of the {} shapes",
                    self.shapes.len()
                ));
            };
            if let Some(l) = self.sae_layers.iter().find(|&&l| l >= s.n_layer) {
                return bad(format!(
                    "layer {l} is beyond host {h}'s {} layers",
                    s.n_layer
                ));
            }
        }
        for s in &self.shapes {
            self.size(s).check()?;
        }
        Ok(())
    }

    pub fn size(&self, s: &Shape) -> ModelSize {
        ModelSize {
            d_model: s.d_model,
            n_layer: s.n_layer,
            n_head: s.n_head,
            ctx: self.ctx,
            vocab: self.language.vocab,
        }
    }

    pub fn schedule(&self, steps: usize) -> Schedule {
        Schedule {
            steps,
            batch: self.batch,
            lr: self.lr,
            warmup: self.warmup.min(steps / 4).max(1),
            ..Schedule::default()
        }
    }

    /// Training tokens of a model trained `steps` steps.
    pub fn tokens(&self, steps: usize) -> u64 {
        (steps * self.batch * self.ctx) as u64
    }
}
