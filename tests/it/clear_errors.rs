//! Errors said early and plainly (review 8): an output in a folder that does not exist is refused
//! before any work, an output named for another format than ceq writes there is refused, a shard
//! given twice, a short row, a token bootstrap on SAEBench results and a missing shard are each
//! said in one clear sentence, n_tokens must count positions, and a figure's zero tick reads 0.

use std::path::{Path, PathBuf};

use super::common::{ceq, data, fit_to, write};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs ceq with `args`, which must fail without a panic; returns stderr.
fn fails(args: &[&str]) -> String {
    let out = ceq().args(args).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "ceq {args:?} succeeded: {err}");
    assert!(!err.contains("panicked"), "ceq {args:?} panicked: {err}");
    err
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Every command writing a file checks its folder before it reads or computes anything: the only
/// line on stderr is the error, naming the output (not a temporary file) and the missing folder.
#[test]
fn an_output_in_a_missing_folder_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = |name: &str| s(&d.join("missing").join(name));
    let law = fit_to(d, Path::new(&data("checkpoints.csv")), "law.json", &[]);
    let (ev, fam, tb) = (
        fixtures().join("eval"),
        fixtures().join("family"),
        fixtures().join("tokboot"),
    );
    let sweep_manifest = write(
        d,
        "saes.csv",
        &format!(
            "name,model,sae\na,{},{}\n",
            s(&ev.join("gpt2")),
            s(&ev.join("saes/gpt2-l0-resid_mid-topk-v6"))
        ),
    );
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec![
                "eval".into(),
                "--model".into(),
                s(&ev.join("gpt2")),
                "--sae".into(),
                s(&ev.join("saes/gpt2-l0-resid_mid-topk-v6")),
                "--tokens".into(),
                s(&ev.join("tokens.npy")),
                "--out".into(),
            ],
            out("splices.csv"),
        ),
        (
            vec![
                "eval".into(),
                "--manifest".into(),
                s(&sweep_manifest),
                "--tokens".into(),
                s(&ev.join("tokens.npy")),
                "--out".into(),
            ],
            out("sweep.csv"),
        ),
        (
            vec![
                "map".into(),
                "--law".into(),
                s(&law),
                "--splices".into(),
                data("splices.csv"),
                "--out".into(),
            ],
            out("mapped.csv"),
        ),
        (
            vec![
                "fit".into(),
                "--checkpoints".into(),
                data("checkpoints.csv"),
                "--bootstrap".into(),
                "50".into(),
                "--out".into(),
            ],
            out("law.json"),
        ),
        (
            vec![
                "eval-family".into(),
                "--manifest".into(),
                s(&fam.join("family.csv")),
                "--tokens".into(),
                s(&fam.join("tokens.npy")),
                "--out".into(),
            ],
            out("ck.csv"),
        ),
        (
            vec!["merge".into(), s(&tb.join("splices.csv")), "--out".into()],
            out("merged.csv"),
        ),
    ];
    for (args, o) in cases {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push(&o);
        let err = fails(&args);
        assert!(
            err.contains(&o) && err.contains("does not exist") && !err.contains(".ceq-"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "{args:?}: work done first: {err}"
        );
    }
}

/// A write that fails names the output, never the temporary file it goes through.
#[test]
fn a_failed_write_names_the_output_not_its_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("missing/x.csv");
    let e = ceq::io::write_atomic(&out, b"a\n").unwrap_err();
    let chain = format!("{:#}", anyhow::Error::new(e));
    assert!(
        chain.contains(&s(&out)) && !chain.contains(".ceq-"),
        "{chain}"
    );
}

/// merge and eval-family write CSV, fit writes JSON: an --out named for another format is refused
/// (any case of the right one is taken), and `fit --out /dev/stdout` still prints the law file.
#[test]
fn an_output_named_for_another_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (fam, tb) = (fixtures().join("family"), fixtures().join("tokboot"));
    for name in ["merged.json", "merged.per_seq.npy", "merged"] {
        let o = s(&d.join(name));
        let err = fails(&["merge", &s(&tb.join("splices.csv")), "--out", &o]);
        assert!(err.contains(&o) && err.contains(".csv"), "{name}: {err}");
        assert!(!d.join(name).exists(), "{name} written");
    }
    // The right extension in capitals passes this check (and fails later: the file records no
    // shard).
    let err = fails(&[
        "merge",
        &s(&tb.join("splices.csv")),
        "--out",
        &s(&d.join("M.CSV")),
    ]);
    assert!(err.contains("records no shard"), "{err}");
    for name in ["ck.json", "ck.per_seq.npy"] {
        let o = s(&d.join(name));
        let err = fails(&[
            "eval-family",
            "--manifest",
            &s(&fam.join("family.csv")),
            "--tokens",
            &s(&fam.join("tokens.npy")),
            "--out",
            &o,
        ]);
        assert!(
            err.contains(&o) && err.contains(".csv") && err.trim().lines().count() == 1,
            "{name}: {err}"
        );
        assert!(!d.join(name).exists(), "{name} written");
    }
    let ck = data("checkpoints.csv");
    for name in ["law.csv", "law"] {
        let o = s(&d.join(name));
        let err = fails(&["fit", "--checkpoints", &ck, "--out", &o]);
        assert!(err.contains(&o) && err.contains(".json"), "{name}: {err}");
        assert!(!d.join(name).exists(), "{name} written");
    }
    fit_to(d, Path::new(&ck), "LAW.JSON", &[]);
    let out = ceq()
        .args(["fit", "--checkpoints", &ck, "--out", "/dev/stdout"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["form"], "chinchilla");
}
