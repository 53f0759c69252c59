//! Shared helpers: the binary, temp files, and a synthetic family drawn in the test code itself.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use ceq::law::Chinchilla;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub fn ceq() -> Command {
    Command::cargo_bin("ceq").unwrap()
}

/// A path in the repository (`data/…`, the files the README's main job reads).
pub fn root(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// `ceq eval` of the fixture SAE folder `sae` (in tests/fixtures/eval/saes) spliced into the
/// fixture gpt2, on the fixture tokens.
pub fn eval_in_gpt2(sae: &str) -> Command {
    let fx = root("tests/fixtures/eval");
    let mut c = ceq();
    c.arg("eval")
        .arg("--model")
        .arg(fx.join("gpt2"))
        .arg("--sae")
        .arg(fx.join("saes").join(sae))
        .arg("--tokens")
        .arg(fx.join("tokens.npy"));
    c
}

/// A file of the synthetic family drawn from a known law (`ceq synth`), in tests/fixtures/synth/.
pub fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/synth")
        .join(name)
        .display()
        .to_string()
}

/// `ceq fit EXTRA --checkpoints CK --out DIR/NAME --force`, which must succeed (replacing an
/// earlier law of the name: tests refit into one); returns the law file.
pub fn fit_to(dir: &Path, ck: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let law = dir.join(name);
    ceq()
        .arg("fit")
        .args(extra)
        .arg("--checkpoints")
        .arg(ck)
        .arg("--out")
        .arg(&law)
        .arg("--force")
        .assert()
        .success();
    law
}

/// `fit_to` on the synthetic family (tests/fixtures/synth/checkpoints.csv), into DIR/law.json.
pub fn fit_law(dir: &Path, extra: &[&str]) -> PathBuf {
    fit_to(dir, Path::new(&data("checkpoints.csv")), "law.json", extra)
}

/// Runs a ceq command that must succeed; returns its stdout and its stderr (warnings).
pub fn succeeds(cmd: &mut Command) -> (Vec<u8>, String) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    (out.stdout, err)
}

/// `ceq map --law LAW --splices SPLICES`, which must fail (without a panic): its stderr.
pub fn map_refused(law: &Path, splices: &Path) -> String {
    let out = ceq()
        .args(["map", "--law"])
        .arg(law)
        .arg("--splices")
        .arg(splices)
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    err
}

/// `ceq map --format json --law LAW --splices SPLICES`, which must succeed: its rows, and its
/// stderr (warnings).
pub fn map_json(law: &Path, splices: &Path) -> (serde_json::Value, String) {
    let mut map = ceq();
    map.args(["map", "--format", "json", "--law"]).arg(law);
    let (out, err) = succeeds(map.arg("--splices").arg(splices));
    (serde_json::from_slice(&out).unwrap(), err)
}

/// Runs a ceq command that must succeed and returns its stdout as JSON.
pub fn stdout_json(cmd: &mut Command) -> serde_json::Value {
    serde_json::from_slice(&succeeds(cmd).0).unwrap()
}

/// `ceq plot --figure FIGURE --law LAW --splices SPLICES --out-dir OUT`, which must succeed: the
/// figure's SVG.
pub fn plot_svg(figure: &str, law: &Path, splices: &Path, out: &Path) -> String {
    succeeds(
        ceq()
            .args(["plot", "--figure", figure, "--law"])
            .arg(law)
            .arg("--splices")
            .arg(splices)
            .arg("--out-dir")
            .arg(out),
    );
    std::fs::read_to_string(out.join(format!("{}.svg", figure.replace('-', "_")))).unwrap()
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Standard normal by Box–Muller (kept here so the test data do not depend on ceq's generator).
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

pub const TRUE_LAW: Chinchilla = Chinchilla {
    e: 1.7,
    a: 400.0,
    alpha: 0.34,
    b: 1800.0,
    beta: 0.3,
};

/// A checkpoints CSV drawn from `law` with log-normal noise of sd `noise`, computed here by hand.
pub fn family_csv(law: &Chinchilla, noise: f64, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = String::from("name,params,tokens,loss\n");
    for i in 0..9 {
        let n = 1e7 * 10f64.powf(i as f64 * 0.3);
        for r in [4.0, 8.0, 16.0, 32.0, 64.0, 128.0] {
            let d = n * r;
            let l = law.e + law.a * n.powf(-law.alpha) + law.b * d.powf(-law.beta);
            let l = l * (noise * normal(&mut rng)).exp();
            s += &format!("m{i}-{r},{n},{d},{l}\n");
        }
    }
    s
}

/// Is `a` within relative tolerance `rel` of `b`?
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// Copies the files of folder `src` into `dst`, made if missing (one level: a model, an SAE or a
/// fixture folder; subfolders are not copied).
pub fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
}
