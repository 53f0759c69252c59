//! The study's trainer (src/study/gpt.rs, train.rs, export.rs): its loss and gradients against
//! PyTorch autograd, training that approaches the language's floor, the saved checkpoint in ceq's
//! eval engine and (a committed one) in transformers, and determinism.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use ceq::eval::Transformer;
use ceq::eval::runner::{EvalOptions, clean};
use ceq::eval::tokens::Tokens;
use ceq::study::{
    Corpus, Gpt, Language, ModelSize, Schedule, batch_seed, gradients, heldout_seed, train,
};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/study")
        .join(name)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A study model's weights read from a GPT-2 safetensors file by the trainer's own layout.
fn load_gpt(dir: &Path, size: ModelSize) -> Gpt {
    let bytes = std::fs::read(dir.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let weights = size
        .layout()
        .iter()
        .map(|(name, shape)| {
            let t = st.tensor(&format!("transformer.{name}")).unwrap();
            assert_eq!(t.shape(), &shape[..], "{name}");
            t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        })
        .collect();
    Gpt { size, weights }
}

fn size_of(cfg: &Value) -> ModelSize {
    let u = |k: &str| cfg[k].as_u64().unwrap() as usize;
    ModelSize {
        d_model: u("d_model"),
        n_layer: u("n_layer"),
        n_head: u("n_head"),
        ctx: u("ctx"),
        vocab: u("vocab"),
    }
}

/// Loss and every gradient of a tiny GPT-2 at fixed (large, random) weights equal PyTorch
/// autograd's in float64 (tests/fixtures/study/grad_check.py): the loss to 1e-6 relative, each
/// gradient tensor to 1e-5 of its largest entry. A wrong sign, a missing term of the tied
/// embedding, a transposed Conv1D or the exact GELU for the tanh one each break it.
#[test]
fn gradients_match_pytorch() {
    check_gradients("reference.json");
}

/// The same on 35 rows, which the trainer splits into micro-batches of 16, 16 and 3 rows: a part
/// weighted by anything but its share of the rows, or a part left out, breaks it.
#[test]
fn gradients_of_micro_batches_match_pytorch() {
    const { assert!(35 > 2 * ceq::study::MICRO_ROWS && 35 % ceq::study::MICRO_ROWS != 0) };
    check_gradients("reference_parts.json");
}

fn check_gradients(file: &str) {
    let dir = fixture("grad");
    let r = read_json(&dir.join(file));
    let size = size_of(&r["config"]);
    let gpt = load_gpt(&dir, size);
    let tokens: Vec<u32> = r["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    let (loss, grads) = gradients(&gpt, &tokens, r["rows"].as_u64().unwrap() as usize);
    let want = r["loss"].as_f64().unwrap();
    assert!(
        ((loss - want) / want).abs() < 1e-6,
        "loss {loss} vs PyTorch {want}"
    );
    let layout = size.layout();
    let mut worst = 0.0f64;
    assert_eq!(
        r["grads"].as_object().unwrap().len(),
        layout.len(),
        "every weight has a reference gradient"
    );
    for ((name, _), g) in layout.iter().zip(&grads) {
        let want: Vec<f64> = r["grads"][format!("transformer.{name}")]
            .as_array()
            .unwrap_or_else(|| panic!("no reference gradient for {name}"))
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(g.len(), want.len(), "{name}");
        let scale = want.iter().fold(0.0f64, |a, b| a.max(b.abs()));
        assert!(
            scale > 1e-3,
            "{name}: the reference gradient is not trivial"
        );
        let err = g
            .iter()
            .zip(&want)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        worst = worst.max(err / scale);
        assert!(
            err <= 1e-5 * scale,
            "{name}: gradient off by {err:e} (largest entry {scale:e})"
        );
    }
    eprintln!(
        "loss {loss} vs {want}; worst gradient error {worst:e} of its tensor's largest entry"
    );
}

fn small_language() -> Corpus {
    Language {
        vocab: 16,
        quanta: 6,
        zipf: 1.0,
        switch: 0.02,
        branching: 2,
        seed: 3,
    }
    .build()
    .unwrap()
}

fn small_size() -> ModelSize {
    ModelSize {
        d_model: 32,
        n_layer: 2,
        n_head: 4,
        ctx: 16,
        vocab: 16,
    }
}

fn short(steps: usize) -> Schedule {
    Schedule {
        steps,
        batch: 16,
        lr: 1e-2,
        warmup: 20,
        ..Schedule::default()
    }
}

/// A few hundred steps take held-out CE from ln(vocab) most of the way down to the language's
/// floor on the same tokens (which no model can beat).
#[test]
fn training_approaches_the_floor() {
    let corpus = small_language();
    let size = small_size();
    let tokens = corpus.sample(64, size.ctx, heldout_seed(1, 0));
    let floor = corpus.floor_on(&tokens, size.ctx, false).mean;
    let ln_v = (size.vocab as f64).ln();
    let untrained = Gpt::init(size, 1).unwrap().ce(&tokens, false);
    assert!((untrained - ln_v).abs() < 0.05, "untrained CE {untrained}");
    let mut seen = 0;
    let t = train(&corpus, &size, &short(300), 1, &mut |p| {
        seen += 1;
        assert_eq!(p.step, seen);
        assert_eq!(p.tokens, (p.step * 16 * 16) as u64);
    })
    .unwrap();
    assert_eq!((seen, t.steps, t.tokens), (300, 300, 300 * 16 * 16));
    let ce = t.model.ce(&tokens, false);
    eprintln!("ln V {ln_v:.4}  floor {floor:.4}  trained {ce:.4}");
    assert!(ce > floor - 1e-3, "CE {ce} below the floor {floor}");
    assert!(
        ce - floor < 0.15 * (ln_v - floor),
        "CE {ce}: not near the floor {floor} (ln V {ln_v})"
    );
}

fn eval_opts() -> EvalOptions {
    EvalOptions {
        batch: 8,
        keep_special: false,
        host_kernels: true,
        chunk: 0,
        cache_bytes: 1 << 26,
    }
}

/// The saved folder loads in ceq's eval engine with the trainer's parameter counts and gives the
/// trainer's own held-out CE, with and without the BOS positions.
#[test]
fn saved_checkpoint_gives_the_trainers_ce() {
    let corpus = small_language();
    let size = small_size();
    let t = train(&corpus, &size, &short(40), 2, &mut |_| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    t.model.save_hf(dir.path()).unwrap();
    let device = Device::flex();
    let model = Transformer::load(dir.path(), &device).unwrap();
    assert_eq!(model.n_params, size.n_params());
    assert_eq!(
        model.n_params_non_embedding(),
        size.n_params_non_embedding()
    );
    let ids = corpus.sample(24, size.ctx, heldout_seed(2, 0));
    let tokens = Tokens {
        ids: ids.clone(),
        n_seq: 24,
        ctx: size.ctx,
    };
    for keep in [false, true] {
        let opts = EvalOptions {
            keep_special: keep,
            ..eval_opts()
        };
        let ceq_eval = clean(&model, &tokens, &opts, &device, &mut |_| {}).ce;
        let own = t.model.ce(&ids, keep);
        assert!(
            (ceq_eval - own).abs() < 1e-5,
            "keep_special {keep}: eval {ceq_eval} vs trainer {own}"
        );
    }
}

/// The same seed gives the same checkpoint bytes; another seed another checkpoint.
#[test]
fn same_seed_same_bytes() {
    let corpus = small_language();
    let size = small_size();
    let run = |seed| {
        train(&corpus, &size, &short(15), seed, &mut |_| {})
            .unwrap()
            .model
            .safetensors()
    };
    let a = run(7);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
}

/// Warm-up rises linearly to the peak; the cosine ends at 10 % of it on the last step.
#[test]
fn schedule_warms_up_then_decays_to_a_tenth() {
    let s = Schedule {
        steps: 100,
        lr: 1e-3,
        warmup: 10,
        ..Schedule::default()
    };
    assert!((s.lr_at(0) - 1e-4).abs() < 1e-12);
    assert!((s.lr_at(9) - 1e-3).abs() < 1e-12);
    assert!((s.lr_at(10) - 1e-3).abs() < 1e-12);
    assert!((s.lr_at(99) - 1e-4).abs() < 1e-12);
    assert!((0..99).all(|i| i < 10 || s.lr_at(i + 1) <= s.lr_at(i)));
}

/// Training batches never use a held-out seed.
#[test]
fn training_and_heldout_seeds_are_disjoint() {
    for seed in [0, 1, u64::MAX] {
        let held: Vec<u64> = (0..100).map(|i| heldout_seed(seed, i)).collect();
        assert!((0..10_000).all(|s| !held.contains(&batch_seed(seed, s))));
    }
}

/// A model whose vocabulary is not the language's is refused with both numbers.
#[test]
fn vocab_mismatch_is_refused() {
    let size = ModelSize {
        vocab: 17,
        ..small_size()
    };
    let err = train(&small_language(), &size, &short(1), 0, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("17") && err.contains("16"), "{err}");
}

/// The committed tiny checkpoint, trained and saved by ceq's trainer (tests/fixtures/study/tiny/,
/// command in ce_check.py), gives in ceq's eval engine the CE that PyTorch transformers computes
/// on it in float64 (tiny_reference.json), per row too; the trainer's own CE agrees.
#[test]
fn committed_checkpoint_matches_transformers() {
    let dir = fixture("tiny");
    let r = read_json(&fixture("tiny_reference.json"));
    let device = Device::flex();
    let model = Transformer::load(&dir, &device).unwrap();
    assert_eq!(model.n_params as u64, r["n_params"].as_u64().unwrap());
    let tokens = Tokens::read_npy(&dir.join("tokens.npy")).unwrap();
    let size = ModelSize {
        d_model: model.cfg.d_model,
        n_layer: model.cfg.n_layers,
        n_head: model.cfg.n_heads,
        ctx: model.cfg.max_positions,
        vocab: model.cfg.vocab,
    };
    let gpt = load_gpt(&dir, size);
    for keep in [false, true] {
        let want = &r[format!("keep_special_{keep}")];
        let opts = EvalOptions {
            keep_special: keep,
            ..eval_opts()
        };
        let got = clean(&model, &tokens, &opts, &device, &mut |_| {});
        let ce = want["ce"].as_f64().unwrap();
        assert_eq!(got.n_tokens as u64, want["n_tokens"].as_u64().unwrap());
        assert!(
            (got.ce - ce).abs() < 1e-5,
            "keep {keep}: ceq {} vs transformers {ce}",
            got.ce
        );
        for (a, b) in got.per_seq.iter().zip(want["per_seq"].as_array().unwrap()) {
            assert!(
                (a - b.as_f64().unwrap()).abs() < 1e-5,
                "per row: {a} vs {b}"
            );
        }
        let own = gpt.ce(&tokens.ids, keep);
        assert!(
            (own - ce).abs() < 1e-5,
            "trainer {own} vs transformers {ce}"
        );
    }
}
