//! The burn engine against PyTorch: tests/fixtures/eval/make_reference.py (torch + transformers, run by
//! hand) wrote tiny trained GPT-2 and GPT-NeoX checkpoints, SAEs, tokens and reference numbers.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use ceq::eval::Transformer;
use ceq::eval::tokens::Tokens;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

fn npy_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

#[test]
fn logits_match_pytorch_for_every_checkpoint() {
    let device = Device::flex();
    let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
    for model in ["gpt2", "gpt2_f16", "neox", "neox_sharded_bf16"] {
        let m = Transformer::load(&fixtures().join(model), &device).unwrap();
        if model.starts_with("neox") {
            assert_eq!(
                m.cfg.rotary_dims, 4,
                "{model}: rotary_pct 0.25 of 16-dim heads"
            );
        }
        let logits = m.logits(&tokens.batch(0, tokens.n_seq, &device));
        let got: Vec<f32> = logits.into_data().try_to_vec().unwrap();
        let (shape, want) = npy_f32(&fixtures().join(format!("logits_{model}.npy")));
        assert_eq!(
            shape,
            vec![tokens.n_seq as u64, tokens.ctx as u64, m.cfg.vocab as u64]
        );
        // NaN counts as the worst difference (f32::max would skip it).
        let worst = got
            .iter()
            .zip(&want)
            .map(|(a, b)| {
                if a.is_finite() {
                    (a - b).abs()
                } else {
                    f32::INFINITY
                }
            })
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "{model}: largest logit difference {worst:e}");
    }
}

#[test]
fn every_sae_metric_matches_pytorch() {
    use ceq::eval::Hook;
    use ceq::eval::runner::{EvalOptions, evaluate};
    use ceq::eval::sae::Sae;
    let device = Device::flex();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("reference.json")).unwrap())
            .unwrap();
    let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
    let mut checked = 0;
    for e in reference["evals"].as_array().unwrap() {
        // ceq applies a stored input scale (SAELens's eval semantics); the "ignored" entries record
        // what SAELens's load_from_disk would do instead.
        if e["normalization"] == "ignored" {
            continue;
        }
        let model =
            Transformer::load(&fixtures().join(e["model"].as_str().unwrap()), &device).unwrap();
        let sae = Sae::load(&fixtures().join(e["sae"].as_str().unwrap()), &device).unwrap();
        let hook = Hook::parse(e["hook"].as_str().unwrap()).unwrap();
        assert_eq!(
            sae.hook.as_deref(),
            e["hook"].as_str(),
            "hook read from cfg.json"
        );
        for (policy, keep) in [("exclude_special", false), ("keep_special", true)] {
            for batch in [3, 8] {
                let got = evaluate(
                    &model,
                    &sae,
                    hook,
                    &tokens,
                    &EvalOptions {
                        batch,
                        keep_special: keep,
                    },
                    &device,
                    &mut |_| {},
                );
                let want = &e[policy];
                let name = format!("{} + {} ({policy}, batch {batch})", e["model"], e["sae"]);
                assert_eq!(
                    got.n_tokens as u64,
                    want["n_tokens"].as_u64().unwrap(),
                    "{name}"
                );
                let got = serde_json::to_value(&got).unwrap();
                for (key, tol) in [
                    ("ce_clean", 2e-4),
                    ("ce_spliced", 2e-4),
                    ("ce_zero_ablation", 2e-4),
                    ("ce_mean_ablation", 2e-4),
                    ("loss_recovered", 2e-4),
                    ("kl", 2e-4),
                    ("l0", 1e-6),
                    ("explained_variance", 1e-4),
                    ("mse", 1e-5),
                    ("cosine", 1e-4),
                    ("se_ce_clean", 1e-4),
                    ("se_ce_spliced", 1e-4),
                    ("se_ce_zero_ablation", 1e-4),
                    ("se_ce_mean_ablation", 1e-4),
                    ("se_delta", 1e-4),
                ] {
                    let (g, w) = (
                        got[key]
                            .as_f64()
                            .unwrap_or_else(|| panic!("{name}: ceq {key} = {}", got[key])),
                        want[key]
                            .as_f64()
                            .unwrap_or_else(|| panic!("{name}: reference has no {key}")),
                    );
                    assert!((g - w).abs() <= tol, "{name}: {key} = {g}, PyTorch {w}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * 22);
}
