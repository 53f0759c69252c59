//! Fuzzing every parser with mutated copies of valid inputs: whatever the bytes, the library returns
//! a value or a typed error, never a panic (proptest catches one and shrinks it to a minimal case).
//! Mutations are structure-aware: besides flipping, inserting, deleting and truncating bytes, they
//! replace numbers (in CSV cells, JSON values, safetensors and .npy headers) with extremes — zero,
//! negative, huge, overflowing, NaN — which is where size checks fail.
//!
//! Cases per parser: `CEQ_FUZZ_CASES` (default 48; `.ci/run` runs more, bounded in time).

use std::path::{Path, PathBuf};

use crate::common::copy_dir;
use ceq::eval::sae::Sae;
use ceq::eval::tokens::Tokens;
use ceq::eval::{DeviceSpec, Transformer};
use ceq::law::Form;
use ceq::law_file::LawFile;
use ceq::pipeline::FitSpec;
use ceq::table::{ColumnMap, read_family, read_splices};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// One change to a file's bytes. Positions are taken modulo the length.
#[derive(Clone, Debug)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
    /// Replace the n-th run of digits with an extreme value.
    Number(usize, &'static str),
}

const EXTREMES: [&str; 12] = [
    "0",
    "-1",
    "1e308",
    "1e-320",
    "NaN",
    "inf",
    "4294967296",
    "18446744073709551616",
    "99999999999",
    "1000000",
    "3",
    "",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Edit::Insert(i, v)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), prop::sample::select(&EXTREMES[..])).prop_map(|(i, s)| Edit::Number(i, s)),
        (any::<usize>(), prop::sample::select(&EXTREMES[..])).prop_map(|(i, s)| Edit::Number(i, s)),
    ]
}

/// Byte ranges of the runs of ASCII digits in `b`.
fn digit_runs(b: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = vec![];
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push((s, i));
        } else {
            i += 1;
        }
    }
    runs
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let n = b.len().max(1);
        match e {
            Edit::Set(i, v) if !b.is_empty() => b[i % n] = *v,
            Edit::Insert(i, v) => {
                let at = i % (b.len() + 1);
                b.splice(at..at, v.iter().copied());
            }
            Edit::Delete(i, k) if !b.is_empty() => {
                let at = i % n;
                b.drain(at..(at + k).min(b.len()));
            }
            Edit::Truncate(i) => b.truncate(i % n),
            Edit::Number(i, s) => {
                let runs = digit_runs(&b);
                if !runs.is_empty() {
                    let (lo, hi) = runs[i % runs.len()];
                    b.splice(lo..hi, s.bytes());
                }
            }
            _ => {}
        }
    }
    b
}

fn cases() -> u32 {
    std::env::var("CEQ_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Runs `parse` on mutated copies of `seed` written to `name` inside a fresh copy of `folder` (or a
/// bare temp folder), for `cases()` cases. `parse` returns whether the library accepted the input;
/// it must never panic.
fn fuzz(name: &str, seed: &[u8], folder: Option<&Path>, parse: impl Fn(&Path) -> bool) {
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = prop::collection::vec(edit(), 1..5);
    let result = runner.run(&strategy, |edits| {
        let d = tempfile::tempdir().unwrap();
        if let Some(f) = folder {
            copy_dir(f, d.path());
        }
        std::fs::write(d.path().join(name), apply(seed, &edits)).unwrap();
        parse(d.path());
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

fn flex() -> burn::tensor::Device {
    DeviceSpec::Flex.device().unwrap()
}

#[test]
fn checkpoint_csv() {
    let seed = std::fs::read(fixture("tests/fixtures/synth/checkpoints.csv")).unwrap();
    fuzz("ck.csv", &seed, None, |d| {
        read_family(
            &d.join("ck.csv"),
            &ColumnMap::default(),
            Form::Chinchilla,
            2,
        )
        .is_ok()
    });
}

#[test]
fn splices_csv() {
    let seed = std::fs::read(fixture("tests/fixtures/synth/splices.csv")).unwrap();
    fuzz("sp.csv", &seed, None, |d| {
        read_splices(&d.join("sp.csv")).is_ok()
    });
}

#[test]
fn saebench_result_json() {
    // A folder of SAEBench results, one of them mutated: the folder reader and the file reader.
    let dir = fixture("tests/fixtures/saebench/results");
    let name = "sae_bench_pythia70m_sweep_topk_ctx128_0730_blocks.3.hook_resid_post__trainer_2_eval_results.json";
    let seed = std::fs::read(dir.join(name)).unwrap();
    fuzz(name, &seed, Some(&dir), |d| {
        let file = read_splices(&d.join(name)).is_ok();
        let folder = read_splices(d).is_ok();
        file && folder
    });
}

#[test]
fn law_json() {
    let spec = FitSpec {
        bootstrap: 3,
        ..FitSpec::new(fixture("tests/fixtures/synth/checkpoints.csv"), "fuzz")
    };
    let law = spec.validate().unwrap().run(&|_| {}).unwrap();
    fuzz("law.json", law.to_json().as_bytes(), None, |d| {
        LawFile::read(&d.join("law.json")).is_ok()
    });
}

#[test]
fn npy_tokens() {
    let seed = std::fs::read(fixture("tests/fixtures/eval/tokens.npy")).unwrap();
    fuzz("t.npy", &seed, None, |d| {
        Tokens::read_npy(&d.join("t.npy")).is_ok()
    });
}

#[test]
fn text_and_tokenizer() {
    let dir = fixture("tests/fixtures/tokenizer");
    for (name, other) in [
        ("tokenizer.json", "text.txt"),
        ("text.txt", "tokenizer.json"),
    ] {
        let seed = std::fs::read(dir.join(name)).unwrap();
        fuzz(name, &seed, Some(&dir), |d| {
            let _ = other;
            Tokens::from_text(&d.join("text.txt"), &d.join("tokenizer.json"), 16, Some(0)).is_ok()
        });
    }
}

#[test]
fn model_config_json() {
    let dir = fixture("tests/fixtures/eval/gpt2");
    let seed = std::fs::read(dir.join("config.json")).unwrap();
    fuzz("config.json", &seed, Some(&dir), |d| {
        Transformer::load(d, &flex()).is_ok()
    });
}

#[test]
fn model_safetensors() {
    let dir = fixture("tests/fixtures/eval/gpt2");
    let seed = std::fs::read(dir.join("model.safetensors")).unwrap();
    // The header (JSON) is where offsets and shapes live: mutate only its first few kilobytes.
    let head = seed.len().min(8192);
    fuzz("model.safetensors", &seed[..head], Some(&dir), |d| {
        let mut bytes = std::fs::read(d.join("model.safetensors")).unwrap();
        bytes.extend_from_slice(&seed[head..]);
        std::fs::write(d.join("model.safetensors"), bytes).unwrap();
        Transformer::load(d, &flex()).is_ok()
    });
}

#[test]
fn sae_cfg_and_weights() {
    let dir = fixture("tests/fixtures/eval/saes/gpt2-l0-resid_mid-topk-v6");
    for name in ["cfg.json", "sae_weights.safetensors"] {
        let seed = std::fs::read(dir.join(name)).unwrap();
        fuzz(name, &seed, Some(&dir), |d| Sae::load(d, &flex()).is_ok());
    }
}
