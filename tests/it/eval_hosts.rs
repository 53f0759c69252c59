//! Llama, Qwen 2 and Gemma 2 against PyTorch: tests/fixtures/eval/make_hosts.py (torch +
//! transformers, run by hand) wrote tiny random checkpoints, SAELens and sparsify SAEs, and the
//! reference numbers in tests/fixtures/eval/hosts/reference.json. The module's name holds "eval",
//! so CI's `cargo test --features tch --test it eval` runs it on libtorch too.

use std::path::{Path, PathBuf};

use ceq::eval::runner::{EvalOptions, clean, evaluate};
use ceq::eval::sae::Sae;
use ceq::eval::tokens::Tokens;
use ceq::eval::{Hook, Transformer};
use serde_json::Value;

use crate::eval::{METRICS, devices, fixtures, matches_reference, npy_f32};

fn hosts() -> PathBuf {
    fixtures().join("hosts")
}

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(hosts().join("reference.json")).unwrap()).unwrap()
}

#[test]
fn host_logits_ce_and_parameter_counts_match_pytorch() {
    let reference = reference();
    let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
    let models = reference["models"].as_object().unwrap();
    assert_eq!(models.len(), 6);
    for (spec, device) in devices() {
        for (name, want) in models {
            let m = Transformer::load(&hosts().join(want["dir"].as_str().unwrap()), &device)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.cfg.arch, want["class"].as_str().unwrap(), "{name}");
            // Independent counts: sum of numel over the PyTorch model's parameters (a tied head
            // is one parameter), less the embedding and an untied head.
            assert_eq!(
                m.n_params as u64,
                want["params_total"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(
                m.n_params_non_embedding() as u64,
                want["params_non_embedding"].as_u64().unwrap(),
                "{name}"
            );
            let logits = m.logits(&tokens.batch(0, tokens.n_seq, &device));
            let got: Vec<f32> = logits.into_data().try_to_vec().unwrap();
            let file = want["logits"]
                .as_str()
                .map_or(format!("logits_{name}.npy"), str::to_owned);
            let (shape, expect) = npy_f32(&hosts().join(file));
            assert_eq!(shape, vec![8, 32, 96], "{name}");
            let worst = got
                .iter()
                .zip(&expect)
                .map(|(a, b)| {
                    if a.is_finite() {
                        (a - b).abs()
                    } else {
                        f32::INFINITY
                    }
                })
                .fold(0.0f32, f32::max);
            assert!(
                worst < 1e-4,
                "{name} on {spec}: largest logit difference {worst:e}"
            );
            for (policy, keep) in [("exclude_special", false), ("keep_special", true)] {
                let opts = EvalOptions {
                    batch: 3,
                    keep_special: keep,
                    host_kernels: true,
                    chunk: 0,
                    cache_bytes: 1 << 30,
                };
                let c = clean(&m, &tokens, &opts, &device, &mut |_| {});
                let w = &want[policy];
                assert_eq!(c.n_tokens as u64, w["n_tokens"].as_u64().unwrap());
                let d = (c.ce - w["ce_clean"].as_f64().unwrap()).abs();
                assert!(
                    d < 2e-4,
                    "{name} {policy} on {spec}: CE {} off by {d:e}",
                    c.ce
                );
            }
        }
    }
}

/// What the fixtures were made to exercise is what ceq read from their config.json files.
#[test]
fn host_configs_read_both_spellings() {
    let cfg = |name: &str| ceq::eval::ModelConfig::read(&hosts().join(name)).unwrap();
    let gemma = cfg("gemma2");
    // layer_types ["sliding_attention", "full_attention"] (transformers 5) and the default
    // alternation of a config without them (the Hub's) agree: layer 0 is the local one.
    assert_eq!(gemma.windows, vec![Some(8), None]);
    assert_eq!(cfg("gemma2_hub").windows, gemma.windows);
    assert_eq!(
        (gemma.head_dim, gemma.n_heads, gemma.n_kv_heads),
        (16, 4, 2)
    );
    assert_eq!(gemma.query_scale, Some(1.0 / 24f64.sqrt()));
    assert_eq!(
        (gemma.attn_softcap, gemma.final_softcap),
        (Some(5.0), Some(3.0))
    );
    let l3 = cfg("llama3_tied");
    assert!(l3.tied_unembedding && l3.rope_scaling.is_some());
    let s = l3.rope_scaling.unwrap();
    assert_eq!((s.factor, s.original_max_positions), (4.0, 16.0));
    let llama = cfg("llama");
    assert!(!llama.tied_unembedding && llama.rope_scaling.is_none());
    assert_eq!(llama.rotary_base, 10000.0);
    let qwen = cfg("qwen2");
    assert!(qwen.biases.qkv && !qwen.biases.out);
    assert_eq!(qwen.rotary_base, 1e6);
    assert_eq!(qwen.windows, vec![None, None]);
    // use_sliding_window with max_window_layers 1: layer 1 slides, as transformers reads it.
    assert_eq!(cfg("qwen2_window").windows, vec![None, Some(8)]);
    // No sliding_window key: transformers' default window of 4096; null: no window.
    for (window, want) in [(None, Some(4096)), (Some(Value::Null), None)] {
        let d = edited(&hosts().join("qwen2_window"), "config.json", |v| {
            let c = v.as_object_mut().unwrap();
            c.remove("sliding_window");
            c.extend(window.clone().map(|w| ("sliding_window".to_owned(), w)));
        });
        let got = ceq::eval::ModelConfig::read(d.path()).unwrap();
        assert_eq!(got.windows, vec![None, want], "{window:?}");
    }
}

#[test]
fn host_sae_metrics_match_pytorch() {
    let reference = reference();
    let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
    let evals = reference["evals"].as_array().unwrap();
    assert_eq!(evals.len(), 8);
    let mut layouts = std::collections::BTreeSet::new();
    for (spec, device) in devices() {
        for e in evals {
            let model =
                Transformer::load(&hosts().join(e["model"].as_str().unwrap()), &device).unwrap();
            let sae = Sae::load(&hosts().join(e["sae"].as_str().unwrap()), &device).unwrap();
            let hook = Hook::parse(e["hook"].as_str().unwrap()).unwrap();
            // SAELens names its hook in cfg.json; sparsify's comes from the folder (layers.0).
            assert_eq!(sae.hook.as_deref(), e["hook"].as_str(), "{}", e["sae"]);
            model.check_hook(&hook, Path::new("model")).unwrap();
            layouts.insert(e["layout"].as_str().unwrap().to_owned());
            for (policy, keep) in [("exclude_special", false), ("keep_special", true)] {
                let got = evaluate(
                    &model,
                    &sae,
                    hook,
                    &tokens,
                    // Logits 7 positions at a time (Gemma 2's final soft-cap per chunk), nothing
                    // cached.
                    &EvalOptions {
                        batch: 3,
                        keep_special: keep,
                        host_kernels: true,
                        chunk: 7,
                        cache_bytes: 0,
                    },
                    &device,
                    &mut |_| {},
                );
                let name = format!("{} + {} ({policy}, {spec})", e["model"], e["sae"]);
                let want = &e[policy];
                // ce_loss_score is left out: it is a ratio of the CEs checked here, and on these
                // random models zero ablation can move CE by only ~0.01, so its 2e-4 would be a
                // far tighter demand on the CEs than their own. The reference has no SEs of the
                // ablated CEs.
                let skip = [
                    "ce_loss_score",
                    "se_ce_zero_ablation",
                    "se_ce_mean_ablation",
                ];
                let metrics: Vec<_> = METRICS
                    .into_iter()
                    .filter(|(k, _)| !skip.contains(k))
                    .collect();
                matches_reference(&got, want, &name, &metrics);
            }
        }
    }
    assert_eq!(layouts.len(), 2, "SAELens and sparsify layouts");
}

/// Keys published configs carry that change nothing transformers computes load, into the
/// config the file without them gives (review: each was refused as unknown): SmolLM2's nanotron
/// markers, early Gemma 2 configs' copy of the window, GPT-NeoX-20B's gelu_fast (the tanh GELU), Qwen 2's window over no layer.
#[test]
fn published_keys_that_change_nothing_load_as_the_model_without_them() {
    let cfg = |d: &Path| ceq::eval::ModelConfig::read(d).unwrap();
    for (model, edit) in [
        (
            "llama",
            (|v: &mut Value| {
                v["is_llama_config"] = true.into();
                v["rope_interleaved"] = false.into();
            }) as fn(&mut Value),
        ),
        ("gemma2", |v| v["sliding_window_size"] = 8.into()),
        // Qwen's own configs: a window switched on for layers from max_window_layers on, of
        // which there are none (review: refused as sliding).
        ("qwen2", |v| {
            v["use_sliding_window"] = true.into();
            v["sliding_window"] = 4.into();
            v["max_window_layers"] = 2.into();
        }),
        ("qwen2", |v| v["use_sliding_window"] = true.into()),
        // A window of 0 where no layer slides: unused, as in transformers (review).
        ("qwen2", |v| {
            v["use_sliding_window"] = true.into();
            v["sliding_window"] = 0.into();
            v["max_window_layers"] = 2.into();
        }),
    ] {
        let d = edited(&hosts().join(model), "config.json", edit);
        assert_eq!(cfg(d.path()), cfg(&hosts().join(model)), "{model}");
    }
    let act = |name: &'static str| {
        let d = edited(&hosts().join("llama"), "config.json", move |v| {
            v["hidden_act"] = name.into()
        });
        cfg(d.path())
    };
    assert_eq!(act("gelu_fast"), act("gelu_new"));
}

/// A copy of fixture folder `from` with its `file` changed by `edit`.
fn edited(from: &Path, file: &str, edit: impl Fn(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    let path = dir.path().join(file);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, serde_json::to_string(&v).unwrap()).unwrap();
    dir
}

#[test]
fn eval_refuses_what_host_configs_cannot_run() {
    let device = ceq::eval::DeviceSpec::Flex.device().unwrap();
    let load_err = |dir: &Path| Transformer::load(dir, &device).unwrap_err().to_string();
    // An unsupported architecture: the message names every one ceq runs.
    let d = edited(&hosts().join("llama"), "config.json", |v| {
        v["model_type"] = "mistral".into();
        v["architectures"] = serde_json::json!(["MistralForCausalLM"]);
    });
    let err = load_err(d.path());
    for class in [
        "GPT2LMHeadModel",
        "GPTNeoXForCausalLM",
        "LlamaForCausalLM",
        "Qwen2ForCausalLM",
        "Gemma2ForCausalLM",
    ] {
        assert!(err.contains(class) && err.contains("mistral"), "{err}");
    }
    for (model, edit, want) in [
        (
            "llama3_tied",
            (|v: &mut Value| v["rope_scaling"]["rope_type"] = "yarn".into()) as fn(&mut Value),
            "rope_type 'yarn' is not supported",
        ),
        (
            "llama3_tied",
            |v| {
                v["rope_scaling"].as_object_mut().unwrap().remove("factor");
            },
            "needs 'factor'",
        ),
        (
            "llama",
            |v| v["rope_scaling"] = serde_json::json!({"rope_type": "linear", "factor": 2.0}),
            "both rope_scaling and rope_parameters",
        ),
        // Two rotary bases: transformers versions differ on which wins, so neither is guessed.
        (
            "qwen2",
            |v| {
                v["rope_parameters"] =
                    serde_json::json!({"rope_type": "default", "rope_theta": 10000.0})
            },
            "disagrees with rope_parameters.rope_theta = 10000",
        ),
        (
            "qwen2_window",
            |v| v["layer_types"] = serde_json::json!(["full_attention", "chunked_attention"]),
            "'chunked_attention' is not supported",
        ),
        (
            "qwen2_window",
            |v| v["sliding_window"] = 0.into(),
            "'sliding_window': must be a positive integer (layer 1 slides)",
        ),
        // Sliding layers with no window: transformers cannot build their mask; ceq ran them
        // with global attention (review).
        (
            "gemma2",
            |v| v["sliding_window"] = Value::Null,
            "layer 0 is sliding_attention but the config sets no window",
        ),
        (
            "qwen2_window",
            |v| {
                v["layer_types"] = serde_json::json!(["full_attention", "sliding_attention"]);
                v["use_sliding_window"] = false.into();
            },
            "layer 1 is sliding_attention but the config sets no window",
        ),
        (
            "llama",
            |v| v["rope_interleaved"] = true.into(),
            "rope_interleaved = false only",
        ),
        (
            "gemma2",
            |v| v["layer_types"] = serde_json::json!(["sliding_attention"]),
            "1 entries for 2 layers",
        ),
        (
            "gemma2",
            |v| v["layer_types"][1] = "chunked_attention".into(),
            "'chunked_attention' is not supported",
        ),
        (
            "gemma2",
            |v| v["attn_logit_softcapping"] = (-1.0).into(),
            "attn_logit_softcapping",
        ),
        (
            "llama",
            |v| v["hidden_act"] = "relu".into(),
            "activation 'relu'",
        ),
        (
            "llama",
            |v| v["num_key_value_heads"] = 3.into(),
            "3 key/value heads",
        ),
        // null is one key/value head per attention head (transformers' Qwen2Config), not the
        // 32 an absent key means: 4 here, against weights for 2.
        (
            "qwen2",
            |v| v["num_key_value_heads"] = Value::Null,
            "shape [16, 32], expected [32, 32]",
        ),
        (
            "llama",
            |v| v["attention_bias"] = true.into(),
            "missing weights: model.layers.0.self_attn.q_proj.bias",
        ),
    ] {
        let d = edited(&hosts().join(model), "config.json", edit);
        let err = load_err(d.path());
        assert!(err.contains(want), "{model}: {err}");
        assert!(
            err.contains(&d.path().display().to_string()),
            "{model}: names the file: {err}"
        );
    }
    // sparsify coders that are no residual autoencoders, and hookpoints that are no layer output.
    let sp = hosts().join("saes/sparsify-llama/layers.0");
    for (edit, want) in [
        (
            (|v: &mut Value| v["transcode"] = true.into()) as fn(&mut Value),
            "transcoder",
        ),
        (|v| v["skip_connection"] = true.into(), "skip connection"),
        (
            |v| v["activation"] = "groupmax".into(),
            "'groupmax' is not supported",
        ),
        (|v| v["k"] = 1000.into(), "more latents"),
        (|v| v["some_new_option"] = 1.into(), "some_new_option"),
        (|v| v["signed"] = true.into(), "signed latents"),
    ] {
        let d = edited(&sp, "cfg.json", edit);
        let dir = d.path().join("layers.0");
        std::fs::create_dir(&dir).unwrap();
        for f in ["cfg.json", "sae.safetensors"] {
            std::fs::rename(d.path().join(f), dir.join(f)).unwrap();
        }
        let err = Sae::load(&dir, &device).unwrap_err().to_string();
        assert!(err.contains(want) && err.contains("cfg.json"), "{err}");
    }
    // sparsify's cfg.json of mid-2024 says `"signed": false`: plain TopK, read as such.
    let d = edited(&sp, "cfg.json", |v| v["signed"] = false.into());
    let dir = d.path().join("layers.0");
    std::fs::create_dir(&dir).unwrap();
    for f in ["cfg.json", "sae.safetensors"] {
        std::fs::rename(d.path().join(f), dir.join(f)).unwrap();
    }
    Sae::load(&dir, &device).unwrap();
    let d = edited(&sp, "cfg.json", |_| {});
    let err = Sae::load(d.path(), &device).unwrap_err().to_string();
    assert!(err.contains("blocks.N.hook_resid_post"), "{err}");
    // A link is read by the folder it leads to, whose name sparsify wrote; a link named as another
    // hookpoint is refused, not spliced at either layer.
    let links = tempfile::tempdir().unwrap();
    let mine = links.path().join("my-sae");
    std::os::unix::fs::symlink(&sp, &mine).unwrap();
    let hook = Some("blocks.0.hook_resid_post".to_owned());
    assert_eq!(Sae::load(&mine, &device).unwrap().hook, hook);
    assert_eq!(ceq::eval::sae::configured_hook(&mine).unwrap(), hook);
    let other = links.path().join("layers.1");
    std::os::unix::fs::symlink(&sp, &other).unwrap();
    for err in [
        Sae::load(&other, &device).unwrap_err().to_string(),
        ceq::eval::sae::configured_hook(&other)
            .unwrap_err()
            .to_string(),
    ] {
        assert!(
            err.contains(
                "its name 'layers.1' is a hookpoint, but the folder it leads to is 'layers.0'"
            ),
            "{err}"
        );
    }
}

/// A norm's epsilon of 0 makes the zero-ablated stream 0/0: the error names ce_zero_ablation and
/// the model, not the SAE's reconstruction (review: it blamed the SAE).
#[test]
fn a_zero_ablation_that_is_nan_is_not_blamed_on_the_sae() {
    let d = edited(&hosts().join("llama"), "config.json", |v| {
        v["rms_norm_eps"] = 0.0.into();
    });
    let a = crate::common::ceq()
        .arg("eval")
        .arg("--model")
        .arg(d.path())
        .arg("--sae")
        .arg(hosts().join("saes/llama-l1-resid_mid-standard"))
        .arg("--tokens")
        .arg(fixtures().join("tokens.npy"))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains(
            "ce_zero_ablation is not finite: the model with blocks.1.hook_resid_mid zeroed"
        ) && err.contains("epsilon of 0")
            && err.contains(&d.path().display().to_string()),
        "{err}"
    );
}
