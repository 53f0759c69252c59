//! The burn engine against PyTorch: tests/fixtures/eval/make_reference.py (torch + transformers, run by
//! hand) wrote tiny trained GPT-2 and GPT-NeoX checkpoints, SAEs, tokens and reference numbers.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use ceq::eval::tokens::Tokens;
use ceq::eval::{DeviceSpec, Transformer};

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

pub(crate) fn npy_f32(path: &Path) -> (Vec<u64>, Vec<f32>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f32>().unwrap())
}

/// flex always; libtorch too in a `--features tch` build.
pub(crate) fn devices() -> Vec<(DeviceSpec, Device)> {
    DeviceSpec::cpu_devices()
        .into_iter()
        .map(|d| (d, d.device().unwrap()))
        .collect()
}

#[test]
fn logits_match_pytorch_for_every_checkpoint() {
    for (spec, device) in devices() {
        logits_match_pytorch_on(spec, &device);
    }
}

fn logits_match_pytorch_on(spec: DeviceSpec, device: &Device) {
    let device = device.clone();
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
        assert!(
            worst < 1e-4,
            "{model} on {spec}: largest logit difference {worst:e}"
        );
    }
}

#[test]
fn every_sae_metric_matches_pytorch() {
    for (spec, device) in devices() {
        every_sae_metric_matches_pytorch_on(spec, &device);
    }
}

fn every_sae_metric_matches_pytorch_on(spec: DeviceSpec, device: &Device) {
    use ceq::eval::Hook;
    use ceq::eval::runner::{EvalOptions, evaluate};
    use ceq::eval::sae::Sae;
    let device = device.clone();
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
        // flex runs ceq's host kernels (log-probs, top-k) by default; check its tensor-op path too.
        let host_modes: &[bool] = if spec == DeviceSpec::Flex {
            &[true, false]
        } else {
            &[false]
        };
        for (policy, keep) in [("exclude_special", false), ("keep_special", true)] {
            // Batch 3 also takes logits 5 positions at a time and recomputes the layers before
            // the hook for the splice pass (no cache); batch 8 keeps them.
            for (batch, &host) in [3, 8].into_iter().zip(host_modes.iter().cycle()) {
                let got = evaluate(
                    &model,
                    &sae,
                    hook,
                    &tokens,
                    &EvalOptions {
                        batch,
                        keep_special: keep,
                        host_kernels: host,
                        chunk: if batch == 3 { 5 } else { 0 },
                        cache_bytes: if batch == 3 { 0 } else { 1 << 30 },
                    },
                    &device,
                    &mut |_| {},
                );
                let want = &e[policy];
                let name = format!(
                    "{} + {} ({policy}, batch {batch}, {spec}, host kernels {host})",
                    e["model"], e["sae"]
                );
                matches_reference(&got, want, &name, &METRICS);
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * 22);
}

/// Every metric the PyTorch reference holds, with its tolerance.
pub(crate) const METRICS: [(&str, f64); 15] = [
    ("ce_clean", 2e-4),
    ("ce_spliced", 2e-4),
    ("ce_zero_ablation", 2e-4),
    ("ce_mean_ablation", 2e-4),
    ("ce_loss_score", 2e-4),
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
];

/// `got` against a reference entry: the same positions, and each of `metrics` within its tolerance.
pub(crate) fn matches_reference(
    got: &ceq::eval::runner::EvalResult,
    want: &serde_json::Value,
    name: &str,
    metrics: &[(&str, f64)],
) {
    assert_eq!(
        got.n_tokens as u64,
        want["n_tokens"].as_u64().unwrap(),
        "{name}"
    );
    let got = serde_json::to_value(got).unwrap();
    for &(key, tol) in metrics {
        let (g, w) = (
            got[key]
                .as_f64()
                .unwrap_or_else(|| panic!("{name}: ceq {key} = {}", got[key])),
            // The reference calls the score loss_recovered: its zero ablations lie above clean,
            // where the two are one number.
            want[if key == "ce_loss_score" {
                "loss_recovered"
            } else {
                key
            }]
            .as_f64()
            .unwrap_or_else(|| panic!("{name}: reference has no {key}")),
        );
        assert!((g - w).abs() <= tol, "{name}: {key} = {g}, PyTorch {w}");
    }
}

/// Options for the library-level tests below.
fn options(
    batch: usize,
    keep_special: bool,
    host: bool,
    chunk: usize,
    cache_bytes: usize,
) -> ceq::eval::runner::EvalOptions {
    ceq::eval::runner::EvalOptions {
        batch,
        keep_special,
        host_kernels: host,
        chunk,
        cache_bytes,
    }
}

fn load_sae(rel: &str, device: &Device) -> ceq::eval::sae::Sae {
    ceq::eval::sae::Sae::load(&fixtures().join(rel), device).unwrap()
}

/// Every number two results share, by name, for comparisons.
fn numbers(r: &ceq::eval::runner::EvalResult) -> Vec<(String, f64)> {
    let v = serde_json::to_value(r).unwrap();
    let mut out: Vec<(String, f64)> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| (k.clone(), x.as_f64().unwrap_or(f64::NAN)))
        .collect();
    for (i, (c, s)) in r.per_seq_clean.iter().zip(&r.per_seq_spliced).enumerate() {
        out.push((format!("per_seq_clean[{i}]"), *c));
        out.push((format!("per_seq_spliced[{i}]"), *s));
    }
    out
}

fn assert_close(got: &[(String, f64)], want: &[(String, f64)], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for ((k, g), (_, w)) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0) || (g.is_nan() && w.is_nan()),
            "{what}: {k} = {g}, alone {w}"
        );
    }
}

#[test]
fn a_sweep_at_one_hook_gives_what_each_sae_gives_alone() {
    use ceq::eval::Hook;
    use ceq::eval::runner::{evaluate, evaluate_group};
    for (spec, device) in devices() {
        let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
        let model = Transformer::load(&fixtures().join("gpt2"), &device).unwrap();
        let hook = Hook::parse("blocks.0.hook_resid_mid").unwrap();
        // Two SAEs at the hook, and the first again, so a sub-group holds a repeat.
        let saes = [
            load_sae("saes/gpt2-l0-resid_mid-topk-v6", &device),
            load_sae("saes/gpt2-l0-resid_mid-standard-v2_flat", &device),
            load_sae("saes/gpt2-l0-resid_mid-topk-v6", &device),
        ];
        let refs: Vec<_> = saes.iter().collect();
        let host = spec == DeviceSpec::Flex;
        // Everything cached, all SAEs in one sub-group; then nothing cached, one SAE at a time.
        for cache in [1usize << 30, 0] {
            let opts = options(3, false, host, 0, cache);
            let together = evaluate_group(
                &model,
                hook,
                &refs,
                &tokens,
                &opts,
                None,
                &device,
                &mut |_| {},
            );
            assert_eq!(together.len(), 3);
            for (i, sae) in saes.iter().enumerate() {
                let alone = evaluate(
                    &model,
                    sae,
                    hook,
                    &tokens,
                    &options(3, false, host, 0, 0),
                    &device,
                    &mut |_| {},
                );
                assert_close(
                    &numbers(&together[i]),
                    &numbers(&alone),
                    1e-5,
                    &format!("{spec}, cache {cache}, SAE {i}"),
                );
            }
            // The repeated SAE gives the same bits as its first appearance.
            assert_eq!(
                numbers(&together[0]),
                numbers(&together[2]),
                "{spec}, cache {cache}"
            );
            // And the clean hidden states of a shared clean pass change nothing.
            let clean =
                ceq::eval::runner::clean_hidden(&model, &tokens, &opts, &device, 1 << 30).unwrap();
            let shared = evaluate_group(
                &model,
                hook,
                &refs,
                &tokens,
                &opts,
                Some(&clean),
                &device,
                &mut |_| {},
            );
            for (a, b) in shared.iter().zip(&together) {
                assert_close(
                    &numbers(a),
                    &numbers(b),
                    1e-6,
                    &format!("{spec}: shared clean pass"),
                );
            }
        }
    }
}

#[test]
fn logits_in_chunks_of_positions_give_the_unchunked_nll_and_kl() {
    use ceq::eval::Hook;
    use ceq::eval::runner::evaluate;
    for (spec, device) in devices() {
        let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
        let model = Transformer::load(&fixtures().join("neox"), &device).unwrap();
        let sae = load_sae("saes/neox-l1-attn_out-topk-v6", &device);
        let hook = Hook::parse("blocks.1.hook_attn_out").unwrap();
        let hosts: &[bool] = if spec == DeviceSpec::Flex {
            &[true, false]
        } else {
            &[false]
        };
        for &host in hosts {
            // All 8 × 31 positions of a batch in one chunk, against 1 and 7 at a time.
            let whole = evaluate(
                &model,
                &sae,
                hook,
                &tokens,
                &options(8, true, host, 1 << 20, 0),
                &device,
                &mut |_| {},
            );
            for chunk in [1, 7] {
                let got = evaluate(
                    &model,
                    &sae,
                    hook,
                    &tokens,
                    &options(8, true, host, chunk, 0),
                    &device,
                    &mut |_| {},
                );
                assert_close(
                    &numbers(&got),
                    &numbers(&whole),
                    1e-6,
                    &format!("{spec}, host {host}, chunk {chunk}"),
                );
            }
        }
    }
}

#[test]
fn saebench_metrics_match_pytorch_with_saebenchs_formulas() {
    use ceq::eval::Hook;
    use ceq::eval::runner::evaluate;
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("saebench_reference.json")).unwrap(),
    )
    .unwrap();
    for (spec, device) in devices() {
        let tokens = Tokens::read_npy(&fixtures().join("tokens.npy")).unwrap();
        let mut checked = 0;
        for e in reference["evals"].as_array().unwrap() {
            let model =
                Transformer::load(&fixtures().join(e["model"].as_str().unwrap()), &device).unwrap();
            let sae = load_sae(e["sae"].as_str().unwrap(), &device);
            let hook = Hook::parse(e["hook"].as_str().unwrap()).unwrap();
            for (policy, keep) in [("exclude_special", false), ("keep_special", true)] {
                let want = &e[policy];
                for batch in [3usize, 8] {
                    let r = evaluate(
                        &model,
                        &sae,
                        hook,
                        &tokens,
                        &options(batch, keep, spec == DeviceSpec::Flex, 0, 1 << 30),
                        &device,
                        &mut |_| {},
                    );
                    let got = serde_json::to_value(&r).unwrap();
                    let by_batch = &want["by_batch"][batch.to_string()];
                    let name = format!("{} {policy} batch {batch} on {spec}", e["sae"]);
                    let check = |key: &str, g: f64, w: &serde_json::Value, tol: f64| {
                        let w = w
                            .as_f64()
                            .unwrap_or_else(|| panic!("{name}: no reference {key}"));
                        assert!(
                            (g - w).abs() <= tol * w.abs().max(1.0),
                            "{name}: {key} = {g}, PyTorch {w}"
                        );
                    };
                    check("kl_div_with_sae", r.kl, &want["kl_div_with_sae"], 2e-4);
                    check(
                        "kl_div_with_ablation",
                        r.kl_div_with_ablation,
                        &want["kl_div_with_ablation"],
                        2e-4,
                    );
                    check("kl_div_score", r.kl_div_score, &want["kl_div_score"], 2e-4);
                    check(
                        "ce_loss_score",
                        r.ce_loss_score,
                        &want["ce_loss_score"],
                        2e-4,
                    );
                    for key in [
                        "l2_norm_in",
                        "l2_norm_out",
                        "l2_ratio",
                        "relative_reconstruction_bias",
                        "l1",
                        "explained_variance_legacy",
                    ] {
                        check(key, got[key].as_f64().unwrap(), &by_batch[key], 1e-5);
                    }
                    // A share of 128 latents: exact.
                    check("frac_alive", r.frac_alive, &by_batch["frac_alive"], 1e-12);
                }
            }
            checked += 1;
        }
        assert_eq!(checked, 11, "every reference SAE on {spec}");
    }
}

fn fails(args: &[&str]) -> String {
    let out = crate::common::ceq().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "ceq {args:?} succeeded");
    assert!(!err.contains("panicked"), "ceq {args:?} panicked: {err}");
    err
}

fn p(rel: &str) -> String {
    fixtures().join(rel).display().to_string()
}

/// A .npy of int64 ids [1, n], written by hand (the format is a 10-byte preamble and a dict header).
fn npy_i64(path: &Path, ids: &[i64]) {
    let mut header = format!(
        "{{'descr': '<i8', 'fortran_order': False, 'shape': (1, {}), }}",
        ids.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    for v in ids {
        bytes.extend(v.to_le_bytes());
    }
    std::fs::write(path, bytes).unwrap();
}

/// The conversion command a pickle-only folder gets is one to run as it stands: it loads that
/// folder and saves beside it, not a file name in place of the folder.
#[test]
fn the_pickle_conversion_command_names_the_model_folder() {
    let dir = p("bad/pickle");
    let err = fails(&[
        "eval",
        "--model",
        &dir,
        "--sae",
        &p("saes/gpt2-l1-resid_pre-standard-v6"),
        "--tokens",
        &p("tokens.npy"),
    ]);
    assert!(
        err.contains(&format!("from_pretrained(\"{dir}\")"))
            && err.contains(&format!("save_pretrained(\"{dir}-safetensors\"")),
        "{err}"
    );
}

/// An SAE folder whose weights are only a pickle (SAELens's older `sae_weights.pt`) is refused
/// naming the file and the line that converts it, as a model folder is (review: "cannot read
/// sae_weights.safetensors: No such file or directory"). The line is `sae_weights.pt`'s, beside
/// other pickles (review: it took the first by name, log_feature_sparsity.pt), and runs in a shell
/// whatever the folder's name holds: it is run here, with a stand-in `python` that prints its
/// program, and the paths read back from it.
#[test]
fn a_pickle_only_sae_gets_the_conversion_command() {
    let d = tempfile::tempdir().unwrap();
    let sae = d.path().join("it's \"my\" $sae");
    crate::common::copy_dir(Path::new(&p("saes/gpt2-l1-resid_pre-standard-v6")), &sae);
    std::fs::rename(
        sae.join("sae_weights.safetensors"),
        sae.join("sae_weights.pt"),
    )
    .unwrap();
    std::fs::write(sae.join("log_feature_sparsity.pt"), b"x").unwrap();
    let dir = sae.display().to_string();
    let eval = |dir: &str| {
        fails(&[
            "eval",
            "--model",
            &p("gpt2"),
            "--sae",
            dir,
            "--tokens",
            &p("tokens.npy"),
        ])
    };
    let err = eval(&dir);
    let said = "only pickle-based weights (log_feature_sparsity.pt, sae_weights.pt); ceq never \
                unpickles. Convert them once with ";
    assert!(err.contains(said), "{err}");
    let command = err[err.find("python -c").unwrap()..]
        .lines()
        .next()
        .unwrap();
    // The shell reads the command's one argument back: `python` stands in as `printf %s`.
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let python = bin.join("python");
    std::fs::write(&python, "#!/bin/sh\nprintf %s \"$2\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .output()
        .unwrap();
    let program = String::from_utf8(out.stdout).unwrap();
    let quoted = |f: &str| serde_json::Value::from(format!("{dir}/{f}")).to_string();
    assert!(
        program.contains(&format!(
            "torch.load({}, weights_only=True)",
            quoted("sae_weights.pt")
        )) && program.contains(&quoted("sae_weights.safetensors")),
        "{program}"
    );
    // Without sae_weights.pt, two pickles: the user says which holds the weights.
    std::fs::rename(sae.join("sae_weights.pt"), sae.join("weights.pt")).unwrap();
    let err = eval(&dir);
    assert!(
        err.contains("WEIGHTS.pt: the one of them that holds W_enc"),
        "{err}"
    );
}

#[test]
fn bad_models_saes_hooks_and_tokens() {
    let sae = p("saes/gpt2-l1-resid_pre-standard-v6");
    let toks = p("tokens.npy");
    let gpt2 = p("gpt2");
    // The GPT-2 fixture with the standard SAE, plus `extra` arguments.
    let on_gpt2 = |extra: &[&str]| {
        let mut args = vec!["eval", "--model", &gpt2, "--sae", &sae, "--tokens", &toks];
        args.extend(extra);
        fails(&args)
    };
    for (model, want) in [
        ("bad/no_config", "no config.json"),
        ("bad/pickle", "never unpickles"),
        ("bad/truncated", "not a valid safetensors file"),
        (
            "bad/extra_key",
            "unused weights: transformer.h.0.attn.unused_extra.weight",
        ),
        (
            "bad/missing_key",
            "missing weights: transformer.h.1.mlp.c_proj.weight",
        ),
    ] {
        let err = fails(&[
            "eval",
            "--model",
            &p(model),
            "--sae",
            &sae,
            "--tokens",
            &toks,
        ]);
        assert!(err.contains(model) && err.contains(want), "{model}: {err}");
    }
    let err = fails(&[
        "eval",
        "--model",
        &p("gpt2"),
        "--sae",
        &p("bad/sae_wrong_d_in"),
        "--tokens",
        &toks,
    ]);
    assert!(
        err.contains("sae_wrong_d_in") && err.contains("d_in is 32"),
        "{err}"
    );
    let err = on_gpt2(&["--hook", "blocks.7.hook_resid_pre"]);
    assert!(
        err.contains("blocks.7.hook_resid_pre") && err.contains("2 blocks"),
        "{err}"
    );
    let err = fails(&[
        "eval",
        "--model",
        &p("neox"),
        "--sae",
        &p("saes/neox-l1-resid_pre-standard-v6"),
        "--tokens",
        &toks,
        "--hook",
        "blocks.0.hook_resid_mid",
    ]);
    assert!(err.contains("no resid_mid"), "{err}");
    let err = on_gpt2(&["--hook", "blocks.0.hook_q"]);
    assert!(err.contains("unknown hook 'blocks.0.hook_q'"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.npy");
    npy_i64(&big, &[0, 5, 96, 7]);
    let err = fails(&[
        "eval",
        "--model",
        &p("gpt2"),
        "--sae",
        &sae,
        "--tokens",
        &big.display().to_string(),
    ]);
    assert!(
        err.contains("big.npy")
            && err.contains("token id 96 at [0, 2]")
            && err.contains("vocabulary size 96"),
        "{err}"
    );
    // The same ids in int32 and uint16 give the same numbers.
    let run = |t: &str| {
        let out = crate::common::ceq()
            .args([
                "eval",
                "--format",
                "json",
                "--model",
                &p("gpt2"),
                "--sae",
                &sae,
                "--tokens",
                &p(t),
            ])
            .output()
            .unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // Every row says which backend computed it (flex is the default).
        assert!(
            v[0]["engine"].as_str().unwrap().contains("flex backend"),
            "{v}"
        );
        v[0].as_object_mut().unwrap().remove("eval_tokens");
        v
    };
    assert_eq!(run("tokens.npy"), run("tokens_i32.npy"));
    assert_eq!(run("tokens.npy"), run("tokens_u16.npy"));
    // Devices: an unknown name, and libtorch where this build or machine does not have it.
    let on = |device: &str| on_gpt2(&["--device", device]);
    let err = on("gpu");
    assert!(err.contains("unknown device 'gpu'"), "{err}");
    if cfg!(feature = "tch") {
        let err = on("tch-cuda:999");
        assert!(
            err.contains("tch-cuda:999") && err.contains("CUDA device"),
            "{err}"
        );
    } else {
        let err = on("tch");
        assert!(err.contains("--features tch"), "{err}");
    }
}

#[test]
fn eval_output_pipes_into_map() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("splices.csv");
    crate::common::ceq()
        .args([
            "eval",
            "--model",
            &p("neox"),
            "--sae",
            &p("saes/neox-l1-resid_pre-standard-v6"),
            "--sae",
            &p("saes/neox-l0-mlp_out-gated-v6"),
        ])
        .args(["--tokens", &p("tokens.npy"), "--out"])
        .arg(&csv)
        .assert()
        .success();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synth/checkpoints.csv");
    let v = crate::common::stdout_json(
        crate::common::ceq()
            .args(["map", "--format", "json", "--checkpoints"])
            .arg(&data)
            .arg("--splices")
            .arg(&csv),
    );
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("reference.json")).unwrap())
            .unwrap();
    let want = reference["evals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["model"] == "neox" && e["sae"] == "saes/neox-l1-resid_pre-standard-v6")
        .unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["name"], "neox-l1-resid_pre-standard-v6");
    let lr = v[0]["loss_recovered"].as_f64().unwrap();
    assert!((lr - want["exclude_special"]["loss_recovered"].as_f64().unwrap()).abs() < 2e-4);
    assert!(
        v[0]["kl"].as_f64().unwrap() > 0.0,
        "eval metrics pass through map"
    );
}

#[test]
fn text_is_tokenized_as_python_tokenizers_does() {
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokenizer");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.join("text_ids.json")).unwrap()).unwrap();
    let want: Vec<u32> = want["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let toks =
        Tokens::from_text(&t.join("text.txt"), &t.join("tokenizer.json"), 32, Some(0)).unwrap();
    assert_eq!(
        toks.n_seq,
        want.len() / 31,
        "rows of BOS + 31 text tokens, the partial last row dropped"
    );
    for r in 0..toks.n_seq {
        assert_eq!(toks.ids[r * 32], 0, "each row starts with BOS");
        assert_eq!(
            &toks.ids[r * 32 + 1..(r + 1) * 32],
            &want[r * 31..(r + 1) * 31]
        );
    }
}

/// Where zero ablation scores below clean (this tiny GPT-2 on the tokenizer's text), ceq's
/// loss_recovered is undefined and left empty, as `ceq map` says; SAEBench's ce_loss_score keeps
/// its formula, (zero − spliced)/(zero − clean), computed here from the row's own CEs.
#[test]
fn loss_recovered_is_empty_where_zero_ablation_is_below_clean() {
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokenizer");
    let eval = |format: &[&str]| {
        crate::common::ceq()
            .args(["eval", "--model", &p("gpt2"), "--sae"])
            .arg(p("saes/gpt2-l1-resid_pre-standard-v6"))
            .arg("--text")
            .arg(t.join("text.txt"))
            .arg("--tokenizer")
            .arg(t.join("tokenizer.json"))
            .args(["--ctx", "16"])
            .args(format)
            .output()
            .unwrap()
    };
    let out = eval(&["--format", "csv"]);
    assert!(out.status.success());
    let mut r = csv::Reader::from_reader(&out.stdout[..]);
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let get = |k: &str| &row[h.iter().position(|c| c == k).unwrap()];
    let num = |k: &str| get(k).parse::<f64>().unwrap();
    let (clean, spliced, zero) = (num("ce_clean"), num("ce_spliced"), num("ce_zero_ablation"));
    assert!(
        zero < clean,
        "the fixture's point: zero {zero} < clean {clean}"
    );
    assert_eq!(get("loss_recovered"), "");
    let score = (zero - spliced) / (zero - clean);
    assert!((num("ce_loss_score") - score).abs() < 1e-12 * score.abs());
    // The table people read says why the cell is empty.
    let table = String::from_utf8(eval(&[]).stdout).unwrap();
    assert!(
        table.contains("loss_recovered is empty for 1 row(s)"),
        "{table}"
    );
}

/// Two SAEs whose folders share a name would give two rows of one name, which map could not tell
/// apart: refused before the model is loaded, naming both folders.
#[test]
fn two_saes_of_one_folder_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("saes/gpt2-l1-resid_pre-standard-v6");
    let copies: Vec<_> = ["a", "b"]
        .iter()
        .map(|parent| {
            let to = dir.path().join(parent).join("sae");
            std::fs::create_dir_all(&to).unwrap();
            for f in std::fs::read_dir(&src).unwrap() {
                let f = f.unwrap().path();
                std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
            }
            to.display().to_string()
        })
        .collect();
    let toks = p("tokens.npy");
    for pair in [[&copies[0], &copies[1]], [&copies[0], &copies[0]]] {
        let err = fails(&[
            "eval",
            "--model",
            &p("gpt2"),
            "--sae",
            pair[0],
            "--sae",
            pair[1],
            "--tokens",
            &toks,
        ]);
        assert!(
            err.contains("are both named 'sae'") && err.contains(pair[1]),
            "{err}"
        );
    }
}

/// On a terminal (and in Markdown, LaTeX, HTML) eval shows the columns people read and says the
/// rest are in the CSV; the CSV holds every column the eval schema declares, in its order.
#[test]
fn the_terminal_table_is_a_summary_and_the_csv_is_whole() {
    let base = [
        "eval",
        "--model",
        &p("gpt2"),
        "--sae",
        &p("saes/gpt2-l1-resid_pre-standard-v6"),
        "--tokens",
        &p("tokens.npy"),
    ];
    let run = |extra: &[&str]| {
        let (out, _) = crate::common::succeeds(crate::common::ceq().args(base).args(extra));
        String::from_utf8(out).unwrap()
    };
    let all: Vec<&str> = ceq::schema::EVAL
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let csv = run(&["--format", "csv"]);
    assert_eq!(
        csv.lines().next().unwrap().split(',').collect::<Vec<_>>(),
        all
    );
    let table = run(&[]);
    let header: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert!(header.len() < all.len() && header.len() >= 8, "{table}");
    assert!(header.iter().all(|h| all.contains(h)), "{table}");
    for must in ["ce_clean", "ce_spliced", "loss_recovered", "l0"] {
        assert!(header.contains(&must), "{must}: {table}");
    }
    let note = format!("{} of the {} columns", header.len(), all.len());
    assert!(table.contains(&note), "{table}");
}

/// `ceq eval`'s JSON (stdout or `--out x.json`) writes counts as JSON integers (`128`, not `128.0`),
/// the numbers the CSV holds; real numbers, even whole ones, stay JSON reals.
#[test]
fn counts_in_eval_json_are_integers() {
    let dir = tempfile::tempdir().unwrap();
    let sae = p("saes/gpt2-l1-resid_pre-standard-v6");
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(&sae).join("cfg.json")).unwrap())
            .unwrap();
    let run = |out: &str| {
        crate::common::ceq()
            .args(["eval", "--model", &p("gpt2"), "--sae", &sae])
            .args(["--tokens", &p("tokens.npy"), "--trained-tokens", "3e9"])
            .args(["--out", out])
            .assert()
            .success();
        std::fs::read(out).unwrap()
    };
    let json_path = dir.path().join("x.json").display().to_string();
    let v: serde_json::Value = serde_json::from_slice(&run(&json_path)).unwrap();
    let csv_bytes = run(&dir.path().join("x.csv").display().to_string());
    let mut r = csv::Reader::from_reader(&csv_bytes[..]);
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let csv = |k: &str| row[h.iter().position(|c| c == k).unwrap()].to_owned();
    let text = std::fs::read_to_string(&json_path).unwrap();
    for k in [
        "d_sae",
        "batch",
        "params",
        "params_total",
        "params_non_embedding",
        "tokens",
        "n_tokens",
    ] {
        let n = v[0][k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {}", v[0][k]));
        assert_eq!(n.to_string(), csv(k), "{k}");
        assert!(text.contains(&format!("\"{k}\": {n},")), "{k} in {text}");
    }
    assert_eq!(v[0]["d_sae"], cfg["d_sae"]);
    assert_eq!(v[0]["tokens"], 3_000_000_000u64);
    // Reals stay reals: frac_alive is a fraction (1.0 for this SAE), l0 a mean.
    for k in ["frac_alive", "l0", "ce_clean"] {
        assert!(v[0][k].is_f64(), "{k}: {}", v[0][k]);
    }
}

/// A hook asked for that is not the one the SAE was trained at is allowed (a deliberate transfer)
/// but said (review 12b: it passed without a word).
#[test]
fn splicing_at_another_hook_than_the_sae_was_trained_at_is_warned_of() {
    let sae = p("saes/gpt2-l1-resid_pre-standard-v6");
    let run = |extra: &[&str]| {
        let mut c = crate::common::ceq();
        c.args(["eval", "--model", &p("gpt2"), "--sae", &sae]);
        c.args(["--tokens", &p("tokens.npy"), "--format", "csv"])
            .args(extra);
        crate::common::succeeds(&mut c).1
    };
    let err = run(&["--hook", "blocks.1.hook_resid_post"]);
    assert!(
        err.contains(
            "trained at blocks.1.hook_resid_pre (its cfg.json), spliced at blocks.1.hook_resid_post"
        ),
        "{err}"
    );
    for same in [&[][..], &["--hook", "blocks.1.hook_resid_pre"][..]] {
        let err = run(same);
        assert!(!err.contains("trained at"), "{same:?}: {err}");
    }
}

/// An SAE whose cfg.json names another model than the one the host was saved from is allowed (a
/// transfer) but said: pythia-70m and pythia-70m-deduped share every shape, so no shape check can.
#[test]
fn an_sae_trained_on_another_model_than_the_host_is_warned_of() {
    let tmp = tempfile::tempdir().unwrap();
    let sae = p("saes/gpt2-l1-resid_pre-standard-v6");
    let run = |saved_from: Option<&str>| {
        let host = tmp.path().join("host");
        let _ = std::fs::remove_dir_all(&host);
        crate::common::copy_dir(Path::new(&p("gpt2")), &host);
        if let Some(name) = saved_from {
            let cfg = host.join("config.json");
            let mut v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
            v["_name_or_path"] = name.into();
            std::fs::write(&cfg, v.to_string()).unwrap();
        }
        let mut c = crate::common::ceq();
        c.args(["eval", "--model", host.to_str().unwrap(), "--sae", &sae]);
        c.args(["--tokens", &p("tokens.npy"), "--format", "csv"]);
        crate::common::succeeds(&mut c).1
    };
    // The fixture SAE's cfg.json says model_name "gpt2".
    let err = run(Some("distilbert/distilgpt2"));
    assert!(
        err.contains("trained on gpt2 (its model_name), spliced into")
            && err.contains("saved from distilbert/distilgpt2"),
        "{err}"
    );
    // The same model by another spelling, a local path, or no record: nothing to say.
    for same in [
        None,
        Some("openai-community/gpt2"),
        Some("GPT2"),
        Some("gpt2-small"),
        Some("/home/me/models/run-7"),
    ] {
        let err = run(same);
        assert!(!err.contains("its model_name"), "{same:?}: {err}");
    }
}
