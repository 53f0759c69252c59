//! SAE training (issue 13): burn's autodiff and Adam against PyTorch autograd, training that
//! reconstructs, saved SAEs that `ceq eval` runs, the sparsity trade-off, determinism.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ceq::eval::job::{EvalJob, EvalReport, SaeSpec as EvalSae, Scoring, TokenSource};
use ceq::eval::sae::{Kind, Sae};
use ceq::eval::tokens::Tokens;
use ceq::eval::{DeviceSpec, Hook};
use ceq::study::sae_train::{Architecture, SaeParams, SaeSpec, Trainer, loss_and_grads};
use ceq::study::{Activations, CaptureSpec, TrainedSae, capture, train_sae};
use safetensors::SafeTensors;
use serde_json::Value;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn acts(model: &str, hook: &str, tokens: &str) -> Activations {
    let path = fixture(tokens);
    let t = Tokens::read_npy(&path).unwrap();
    let spec = CaptureSpec {
        model: fixture(model),
        hook: Hook::parse(hook).unwrap(),
        device: DeviceSpec::Flex,
        batch: 64,
        keep_special: false,
    };
    capture(&spec, &t, &path, &mut |_| {}).unwrap()
}

// ---- (a) gradients and Adam steps against PyTorch ----

struct GradFixture {
    params: SaeParams,
    x: Vec<f32>,
    reference: Value,
}

fn grad_fixture() -> GradFixture {
    let bytes = std::fs::read(fixture("study/sae_grad_inputs.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let get = |name: &str| -> Vec<f32> {
        st.tensor(name)
            .unwrap()
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("study/sae_grad_reference.json")).unwrap(),
    )
    .unwrap();
    let n = |k: &str| reference[k].as_u64().unwrap() as usize;
    GradFixture {
        params: SaeParams {
            d_in: n("d_in"),
            d_sae: n("d_sae"),
            w_enc: get("W_enc"),
            b_enc: get("b_enc"),
            w_dec: get("W_dec"),
            b_dec: get("b_dec"),
        },
        x: get("x"),
        reference,
    }
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Every element within `rel` × the largest reference magnitude of the tensor.
fn assert_close(what: &str, got: &[f32], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0f64, |a, b| a.max(b.abs()));
    assert!(scale > 0.0, "{what}: an all-zero reference checks nothing");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as f64 - w).abs() <= rel * scale,
            "{what}[{i}]: burn {g} vs PyTorch {w} (scale {scale})"
        );
    }
}

fn architecture(name: &str, r: &Value) -> Architecture {
    match name {
        "standard" => Architecture::Standard {
            l1: r["l1_coefficient"].as_f64().unwrap(),
        },
        _ => Architecture::TopK {
            k: r["k"].as_u64().unwrap() as usize,
        },
    }
}

fn check_gradients(name: &str) {
    let fx = grad_fixture();
    let r = &fx.reference;
    let arch = architecture(name, r);
    let (losses, grads) = loss_and_grads(&fx.params, &fx.x, &arch, DeviceSpec::Flex).unwrap();
    let want = &r[name];
    for (got, key) in [
        (losses.mse, "mse_loss"),
        (losses.l1, "l1_loss"),
        (losses.total, "loss"),
        (losses.l0, "l0"),
    ] {
        let w = want[key].as_f64().unwrap();
        assert!(
            (got - w).abs() <= 1e-5 * w.abs().max(1e-3),
            "{name} {key}: burn {got} vs PyTorch {w}"
        );
    }
    all_close(&format!("{name} gradient"), &grads, &want["grads"], 1e-5);
}

/// Every tensor of `got` against the reference's W_enc, b_enc, W_dec and b_dec.
fn all_close(what: &str, got: &SaeParams, want: &Value, tol: f64) {
    for (key, got) in [
        ("W_enc", &got.w_enc),
        ("b_enc", &got.b_enc),
        ("W_dec", &got.w_dec),
        ("b_dec", &got.b_dec),
    ] {
        assert_close(&format!("{what} {key}"), got, &floats(&want[key]), tol);
    }
}

#[test]
fn standard_sae_loss_and_gradients_match_pytorch_autograd() {
    check_gradients("standard");
}

#[test]
fn topk_sae_loss_and_gradients_match_pytorch_autograd() {
    check_gradients("topk");
}

/// A few clipped Adam steps from the fixture's weights land where torch.optim.Adam does.
fn check_adam_steps(name: &str) {
    let fx = grad_fixture();
    let r = &fx.reference;
    let steps = r["steps"].as_u64().unwrap() as usize;
    let n = r["n"].as_u64().unwrap() as usize;
    let d = fx.params.d_in;
    let mut spec = SaeSpec::new(architecture(name, r), fx.params.d_sae, 1000, n / steps);
    spec.lr = r["lr"].as_f64().unwrap();
    spec.lr_decay_frac = 0.0;
    let mut t = Trainer::new(&spec, &fx.params).unwrap();
    let rows = n / steps;
    for s in 0..steps {
        t.step(&fx.x[s * rows * d..(s + 1) * rows * d], false);
    }
    let p = t.params();
    let want = &r[name]["after_steps"];
    // The weights moved (by about lr per step) and the check is finer than one step.
    let moved = p
        .w_dec
        .iter()
        .zip(&fx.params.w_dec)
        .fold(0.0f32, |a, (x, y)| a.max((x - y).abs()));
    assert!(
        moved > 0.5 * spec.lr as f32,
        "{name}: the weights did not move"
    );
    all_close(name, &p, want, 2e-5);
}

#[test]
fn standard_sae_adam_steps_match_pytorch() {
    check_adam_steps("standard");
}

#[test]
fn topk_sae_adam_steps_match_pytorch() {
    check_adam_steps("topk");
}

// ---- (b)–(d): SAEs trained on the GPT-2 fixture host, saved, spliced by ceq eval ----

const HOOK: &str = "blocks.1.hook_resid_pre";

/// The sweep of SAEs: three L1 coefficients and three k, least sparse first.
fn sweep() -> Vec<Architecture> {
    vec![
        Architecture::Standard { l1: 0.3 },
        Architecture::Standard { l1: 1.0 },
        Architecture::Standard { l1: 3.0 },
        Architecture::TopK { k: 16 },
        Architecture::TopK { k: 6 },
        Architecture::TopK { k: 2 },
    ]
}

struct Trained {
    acts: Activations,
    saes: Vec<TrainedSae>,
    _dir: tempfile::TempDir,
    dirs: Vec<PathBuf>,
    report: EvalReport,
}

/// Trains the sweep once (shared by the tests below), saves each SAE and splices them all into
/// the host with ceq's eval on held-out tokens.
fn trained() -> &'static Trained {
    static T: OnceLock<Trained> = OnceLock::new();
    T.get_or_init(|| {
        let acts = acts("eval/gpt2", HOOK, "study/sae_train_tokens.npy");
        let dir = tempfile::tempdir().unwrap();
        let mut saes = vec![];
        let mut dirs = vec![];
        for (i, arch) in sweep().into_iter().enumerate() {
            let mut spec = SaeSpec::new(arch, 256, 600, 512);
            spec.lr = 1e-3;
            let sae = train_sae(&acts, &spec, 11, &mut |_| {}).unwrap();
            let out = dir.path().join(format!("sae{i}"));
            sae.save_saelens(&out, "tests/fixtures/study/sae_train_tokens.npy", false)
                .unwrap();
            saes.push(sae);
            dirs.push(out);
        }
        let job = EvalJob {
            model: fixture("eval/gpt2"),
            saes: dirs
                .iter()
                .map(|d| EvalSae {
                    dir: d.clone(),
                    hook: None,
                    name: None,
                    listed: None,
                })
                .collect(),
            scoring: Scoring {
                tokens: TokenSource::Npy(fixture("study/sae_eval_tokens.npy")),
                batch: 32.try_into().unwrap(),
                device: DeviceSpec::Flex,
                keep_special: false,
                cache_mb: 64,
            },
            model_name: None,
            param_count: ceq::law_file::ParamCount::Total,
            host_tokens: None,
        };
        let report = job.run(&mut |_| {}).unwrap();
        for (row, sae) in report.rows.iter().zip(&saes) {
            let r = sae.reconstruction(&acts).unwrap();
            eprintln!(
                "{:?}: nmse {:.4} l0 {:.2} | eval: ce clean {:.4} spliced {:.4} zero {:.4} ev {:.4} l0 {:.2}",
                sae.spec.architecture, r.normalized_mse, r.l0, row.result.ce_clean,
                row.result.ce_spliced, row.result.ce_zero_ablation, row.result.explained_variance,
                row.result.l0
            );
        }
        Trained {
            acts,
            saes,
            _dir: dir,
            dirs,
            report,
        }
    })
}

#[test]
fn training_brings_reconstruction_error_far_below_the_activations_variance() {
    let t = trained();
    for sae in &t.saes {
        let arch = &sae.spec.architecture;
        let first = sae.history.first().unwrap().losses.mse;
        let last = sae.history.last().unwrap().losses.mse;
        assert!(last < 0.7 * first, "{arch:?}: batch MSE {first} → {last}");
        let r = sae.reconstruction(&t.acts).unwrap();
        // The least sparse SAE of each kind leaves under a tenth of the variance; every one
        // explains most of it.
        let bound = if matches!(arch, Architecture::Standard { l1 } if *l1 < 0.5)
            || matches!(arch, Architecture::TopK { k: 16 })
        {
            0.1
        } else {
            0.6
        };
        assert!(
            r.normalized_mse < bound,
            "{arch:?}: normalized MSE {} (variance {})",
            r.normalized_mse,
            t.acts.total_variance()
        );
    }
    // Held-out activations are reconstructed too (no memorized training set).
    let held_out = acts("eval/gpt2", HOOK, "study/sae_eval_tokens.npy");
    let r = t.saes[0].reconstruction(&held_out).unwrap();
    assert!(r.normalized_mse < 0.15, "held out: {r:?}");
}

#[test]
fn training_a_neox_host_reconstructs_too() {
    let a = acts(
        "eval/neox",
        "blocks.0.hook_resid_post",
        "study/sae_train_tokens.npy",
    );
    let mut spec = SaeSpec::new(Architecture::TopK { k: 8 }, 128, 300, 512);
    spec.lr = 1e-3;
    let sae = train_sae(&a, &spec, 3, &mut |_| {}).unwrap();
    let r = sae.reconstruction(&a).unwrap();
    assert!(r.normalized_mse < 0.2, "{r:?}");
    assert_eq!(r.l0, 8.0);
}

#[test]
fn saved_saes_load_as_saelens_folders_and_splice_between_clean_and_ablated() {
    let t = trained();
    for ((sae, dir), row) in t.saes.iter().zip(&t.dirs).zip(&t.report.rows) {
        let loaded = Sae::load(dir, &burn::tensor::Device::flex()).unwrap();
        assert_eq!(loaded.hook.as_deref(), Some(HOOK));
        assert_eq!((loaded.d_in, loaded.d_sae), (64, 256));
        let want = match sae.spec.architecture {
            Architecture::Standard { .. } => Kind::Standard,
            Architecture::TopK { k } => Kind::TopK {
                k,
                rescale_by_decoder_norm: false,
            },
        };
        assert_eq!(loaded.kind, want);
        let r = &row.result;
        assert!(
            r.ce_clean < r.ce_spliced && r.ce_spliced < r.ce_zero_ablation,
            "{}: clean {} spliced {} zero-ablated {}",
            row.name,
            r.ce_clean,
            r.ce_spliced,
            r.ce_zero_ablation
        );
        // Top-k keeps exactly k latents wherever it is spliced.
        if let Architecture::TopK { k } = sae.spec.architecture {
            assert!((r.l0 - k as f64).abs() < 1e-9, "{}: l0 {}", row.name, r.l0);
        }
    }
    let cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(t.dirs[3].join("cfg.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["architecture"], "topk");
    assert_eq!(cfg["k"], 16);
    assert_eq!(cfg["normalize_activations"], "none");
    assert_eq!(cfg["metadata"]["model_name"], "gpt2");
    assert_eq!(cfg["metadata"]["hook_name"], HOOK);
}

#[test]
fn fewer_active_latents_raise_reconstruction_error_and_spliced_loss() {
    let t = trained();
    // Within each kind, the sweep goes from the least sparse to the sparsest.
    for kind in t.report.rows.chunks(3) {
        for pair in kind.windows(2) {
            let (a, b) = (&pair[0].result, &pair[1].result);
            let what = format!("{} → {}", pair[0].name, pair[1].name);
            assert!(b.l0 < a.l0, "{what}: l0 {} → {}", a.l0, b.l0);
            assert!(
                b.explained_variance < a.explained_variance,
                "{what}: explained variance {} → {}",
                a.explained_variance,
                b.explained_variance
            );
            assert!(
                b.ce_spliced > a.ce_spliced,
                "{what}: ce_spliced {} → {}",
                a.ce_spliced,
                b.ce_spliced
            );
        }
    }
    // The trainer's own normalized MSE on the training activations agrees in order.
    for kind in t.saes.chunks(3) {
        let nmse: Vec<f64> = kind
            .iter()
            .map(|s| s.reconstruction(&t.acts).unwrap().normalized_mse)
            .collect();
        assert!(nmse[0] < nmse[1] && nmse[1] < nmse[2], "{nmse:?}");
    }
}

// ---- (e) determinism ----

fn saved_bytes(acts: &Activations, arch: Architecture, seed: u64) -> Vec<Vec<u8>> {
    let spec = SaeSpec::new(arch, 64, 40, 256);
    let sae = train_sae(acts, &spec, seed, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sae");
    sae.save_saelens(&out, "tokens", false).unwrap();
    ["cfg.json", "sae_weights.safetensors"]
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let a = acts(
        "eval/gpt2",
        "blocks.0.hook_resid_post",
        "study/sae_eval_tokens.npy",
    );
    for arch in [
        Architecture::Standard { l1: 1.0 },
        Architecture::TopK { k: 4 },
    ] {
        let one = saved_bytes(&a, arch.clone(), 5);
        let two = saved_bytes(&a, arch.clone(), 5);
        let other = saved_bytes(&a, arch.clone(), 6);
        assert!(one == two, "{arch:?}: the same seed gave different files");
        assert_eq!(
            one[0], other[0],
            "{arch:?}: cfg.json does not depend on the seed"
        );
        assert_ne!(
            one[1], other[1],
            "{arch:?}: another seed gave the same weights"
        );
    }
}

// ---- bad settings and outputs ----

#[test]
fn bad_settings_and_occupied_folders_are_refused_by_name() {
    let a = acts(
        "eval/gpt2",
        "blocks.0.hook_resid_post",
        "study/sae_eval_tokens.npy",
    );
    let spec = SaeSpec::new(Architecture::TopK { k: 65 }, 64, 10, 64);
    let err = train_sae(&a, &spec, 1, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("k: k is 65"), "{err}");
    let spec = SaeSpec::new(Architecture::Standard { l1: -1.0 }, 64, 10, 64);
    let err = train_sae(&a, &spec, 1, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("l1:"), "{err}");

    let sae = train_sae(
        &a,
        &SaeSpec::new(Architecture::TopK { k: 4 }, 64, 2, 64),
        1,
        &mut |_| {},
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("notes.txt");
    std::fs::write(&keep, "mine").unwrap();
    let err = sae
        .save_saelens(dir.path(), "t", true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("notes.txt"), "{err}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "mine");
    let out = dir.path().join("sae");
    sae.save_saelens(&out, "t", false).unwrap();
    let err = sae.save_saelens(&out, "t", false).unwrap_err().to_string();
    assert!(err.contains("only when forced"), "{err}");
    sae.save_saelens(&out, "t", true).unwrap();
}

// ---- throughput (run by hand: cargo test --test it sae_train_throughput -- --ignored --nocapture) ----

#[test]
#[ignore]
fn sae_train_throughput() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for d in [32usize, 64, 128] {
        let n = 16384;
        let data: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let a = Activations {
            data,
            n,
            d,
            hook: Hook::parse(HOOK).unwrap(),
            model_name: "random".into(),
            context_size: 32,
            keep_special: false,
        };
        for mult in [4usize, 16] {
            for batch in [1024usize, 4096] {
                for arch in [
                    Architecture::Standard { l1: 1.0 },
                    Architecture::TopK { k: 16 },
                ] {
                    let steps = (200_000 / batch).max(5);
                    let spec = SaeSpec::new(arch.clone(), d * mult, steps, batch);
                    let s = train_sae(&a, &spec, 1, &mut |_| {}).unwrap();
                    println!(
                        "d_in {d:4} d_sae {:5} batch {batch:5} {:9} {:>9.0} activations/s",
                        d * mult,
                        arch.name(),
                        s.throughput()
                    );
                }
            }
        }
    }
}

#[test]
fn training_that_diverges_is_an_error_not_a_saved_nan() {
    let mut a = acts(
        "eval/gpt2",
        "blocks.0.hook_resid_post",
        "study/sae_eval_tokens.npy",
    );
    // Activations of ~1e30: the squared error overflows f32 at once.
    a.data.iter_mut().for_each(|v| *v *= 1e30);
    let spec = SaeSpec::new(Architecture::Standard { l1: 1.0 }, 64, 5, 64);
    let err = train_sae(&a, &spec, 1, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("lr: training diverged"), "{err}");
}
