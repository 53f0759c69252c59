//! ceq in an unfriendly place: stderr a closed pipe, outputs the user made read-only, folders no
//! file can be made in, counts too large to hold, losses no model has, and names that clash with
//! themselves. Each ends in a clear error (exit 1, never a panic) or in every output written, and
//! nothing of the user's is replaced.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{ceq, data, fit_law, fit_to, write};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_owned()).collect()
}

/// Runs ceq with stderr a pipe nobody reads any more (`ceq … 2>&1 >/dev/null | true`); returns the
/// exit code (None: killed by a signal).
fn with_closed_stderr(args: &[OsString]) -> Option<i32> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ceq"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes before ceq writes its first line: every write to stderr then fails (EPIPE).
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

/// Runs a ceq command that must fail with exit 1 (an error, not a panic or an abort); returns
/// stderr.
fn fails(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn says(err: &str, want: &[&str]) {
    for w in want {
        assert!(err.contains(w), "missing '{w}' in: {err}");
    }
}

#[test]
fn a_closed_stderr_stops_no_command_before_its_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let law = fit_law(d, &[]);
    let figs = d.join("figs");
    let fam = repo("tests/fixtures/family");
    let one = write(
        d,
        "fam.csv",
        &format!(
            "name,path,run,step,tokens\na,{}/gpt2_d16_s40,r,40,40960\n",
            fam.display()
        ),
    );
    let ev = repo("tests/fixtures/eval");
    let saes = write(
        d,
        "saes.csv",
        &format!(
            "name,model,sae\na,{}/gpt2,{}/saes/gpt2-l0-resid_mid-topk-v6\n",
            ev.display(),
            ev.display()
        ),
    );
    let cases: Vec<(Vec<OsString>, Vec<PathBuf>)> = vec![
        (
            os(&[&"plot", &"--law", &law, &"--splices", &data("splices.csv")])
                .into_iter()
                .chain(os(&[&"--out-dir", &figs]))
                .collect(),
            vec![figs.join("splices.svg"), figs.join("fit.png")],
        ),
        (
            os(&[&"fit", &"--checkpoints", &data("checkpoints.csv"), &"--out"])
                .into_iter()
                .chain(os(&[&d.join("law2.json")]))
                .collect(),
            vec![d.join("law2.json")],
        ),
        (
            os(&[&"map", &"--law", &law, &"--splices", &data("splices.csv")])
                .into_iter()
                .chain(os(&[&"--out", &d.join("m.csv")]))
                .collect(),
            vec![d.join("m.csv")],
        ),
        (
            os(&[
                &"report",
                &"--law",
                &law,
                &"--splices",
                &data("splices.csv"),
            ])
            .into_iter()
            .chain(os(&[&"--out", &d.join("rep")]))
            .collect(),
            vec![d.join("rep/index.html"), d.join("rep/mapped.csv")],
        ),
        (
            os(&[&"eval-family", &"--manifest", &one, &"--tokens"])
                .into_iter()
                .chain(os(&[&fam.join("tokens.npy"), &"--out", &d.join("ef.csv")]))
                .collect(),
            vec![d.join("ef.csv"), d.join("ef.per_seq.npy")],
        ),
        (
            os(&[&"eval", &"--manifest", &saes, &"--tokens"])
                .into_iter()
                .chain(os(&[&ev.join("tokens.npy"), &"--out", &d.join("sw.csv")]))
                .collect(),
            vec![d.join("sw.csv")],
        ),
    ];
    for (args, outputs) in cases {
        assert_eq!(with_closed_stderr(&args), Some(0), "{args:?}");
        for o in outputs {
            assert!(o.is_file(), "{args:?}: no {}", o.display());
        }
    }
}

/// Makes `path` read-only (0444).
fn read_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o444)).unwrap();
}

#[test]
fn a_read_only_output_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let law = fit_law(d, &[]);
    let mine = "my notes\n";
    // One command each, with the output it is given (and the flag that names it).
    let map = |out: &Path| {
        let mut c = ceq();
        c.args(["map", "--law"]).arg(&law);
        c.args(["--splices", &data("splices.csv"), "--out"])
            .arg(out);
        c
    };
    let fit = |out: &Path| {
        let mut c = ceq();
        c.args(["fit", "--checkpoints", &data("checkpoints.csv"), "--out"])
            .arg(out);
        c
    };
    type Cmd<'a> = &'a dyn Fn(&Path) -> assert_cmd::Command;
    let cmds: [(&str, Cmd); 2] = [("ro.csv", &map), ("ro.json", &fit)];
    for (name, cmd) in cmds {
        let ro = write(d, name, mine);
        read_only(&ro);
        let err = fails(&mut cmd(&ro));
        says(&err, &[name, "read-only"]);
        assert_eq!(std::fs::read_to_string(&ro).unwrap(), mine);
        // Through a symlink too: the file it points to is the one replaced.
        let link = d.join(format!("link-{name}"));
        std::os::unix::fs::symlink(&ro, &link).unwrap();
        says(&fails(&mut cmd(&link)), &["read-only"]);
        assert_eq!(std::fs::read_to_string(&ro).unwrap(), mine);
    }

    // A figure file in a plot folder, replaced only with --force: refused even then.
    let figs = d.join("figs");
    std::fs::create_dir(&figs).unwrap();
    let svg = write(&figs, "splices.svg", mine);
    read_only(&svg);
    let err = fails(
        ceq()
            .args(["plot", "--law"])
            .arg(&law)
            .args(["--splices", &data("splices.csv"), "--force", "--out-dir"])
            .arg(&figs),
    );
    says(&err, &["splices.svg", "read-only"]);
    assert_eq!(std::fs::read_to_string(&svg).unwrap(), mine);
    assert!(!figs.join("fit.svg").exists(), "drew figures first");

    // A report file in a report folder, which --force replaces whole.
    let rep = d.join("rep");
    let report = |force: bool| {
        let mut c = ceq();
        c.args(["report", "--law"]).arg(&law);
        c.args(["--splices", &data("splices.csv"), "--out"])
            .arg(&rep);
        if force {
            c.arg("--force");
        }
        c
    };
    report(false).assert().success();
    let md = rep.join("mapped.md");
    std::fs::write(&md, mine).unwrap();
    read_only(&md);
    says(&fails(&mut report(true)), &["mapped.md", "read-only"]);
    assert_eq!(std::fs::read_to_string(&md).unwrap(), mine);
}

/// A folder no file can be made in, whoever runs the tests (root included): sysfs makes none.
fn unwritable_folder() -> Option<PathBuf> {
    let sys = PathBuf::from("/sys");
    let probe = sys.join("ceq-probe");
    match std::fs::File::create(&probe) {
        Err(_) => Some(sys),
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
    }
}

#[test]
fn an_unwritable_folder_is_named_before_any_work() {
    let Some(ro) = unwritable_folder() else {
        eprintln!("SKIPPED: /sys takes files here");
        return;
    };
    let folder = ro.display().to_string();
    let fam = repo("tests/fixtures/family");
    let cases: Vec<(assert_cmd::Command, &str)> = vec![
        {
            let mut c = ceq();
            c.args(["eval-family", "--manifest"])
                .arg(fam.join("family.csv"))
                .arg("--tokens")
                .arg(fam.join("tokens.npy"))
                .arg("--out")
                .arg(ro.join("ef.csv"));
            (c, "ef.csv")
        },
        {
            let mut c = ceq();
            c.args(["fit", "--checkpoints", &data("checkpoints.csv")])
                .args(["--bootstrap", "100000", "--out"])
                .arg(ro.join("law.json"));
            (c, "law.json")
        },
        {
            let mut c = ceq();
            c.args(["report", "--checkpoints", &data("checkpoints.csv")])
                .args(["--splices", &data("splices.csv"), "--bootstrap", "100000"])
                .arg("--out")
                .arg(ro.join("rep"));
            (c, "rep")
        },
        {
            let mut c = ceq();
            c.args(["study", "--quick", "--out"]).arg(ro.join("st"));
            (c, "st")
        },
    ];
    for (mut c, out) in cases {
        let err = fails(&mut c);
        says(
            &err,
            &[out, &format!("folder {folder}"), "no file can be made"],
        );
        assert!(
            !err.contains("per_seq") && !err.contains("cannot read"),
            "{err}"
        );
        // The up-front check's words: a write failing after the work names its file instead.
    }
}

#[test]
fn outputs_that_are_folders_or_files_in_the_way_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fam = repo("tests/fixtures/family");
    let adir = d.join("adir.csv");
    std::fs::create_dir(&adir).unwrap();
    let err = fails(
        ceq()
            .args(["eval-family", "--manifest"])
            .arg(fam.join("family.csv"))
            .arg("--tokens")
            .arg(fam.join("tokens.npy"))
            .arg("--out")
            .arg(&adir),
    );
    says(&err, &["adir.csv", "is a folder"]);
    assert!(!err.contains("cannot read"), "{err}");

    let afile = write(d, "afile", "mine\n");
    let err = fails(ceq().args(["study", "--quick", "--out"]).arg(&afile));
    says(&err, &["afile", "not a folder"]);
    assert!(!err.contains("cannot read"), "{err}");
    assert_eq!(std::fs::read_to_string(&afile).unwrap(), "mine\n");
}

#[test]
fn bootstrap_counts_too_large_to_hold_are_refused_not_a_crash() {
    let tb = repo("tests/fixtures/tokboot");
    for n in ["18446744073709551615", "4294967296", "1000001"] {
        let err = fails(ceq().args([
            "fit",
            "--checkpoints",
            &data("checkpoints.csv"),
            "--bootstrap",
            n,
        ]));
        says(&err, &["at most 1000000", n]);
        let err = fails(
            ceq()
                .args(["map", "--checkpoints"])
                .arg(tb.join("checkpoints.csv"))
                .arg("--splices")
                .arg(tb.join("splices.csv"))
                .args(["--token-bootstrap", "--bootstrap", n]),
        );
        says(&err, &["at most 1000000", n]);
    }
}

/// Many splices map, one per row, and a repeated name among them is said with both lines.
#[test]
fn many_splices_map_and_a_repeated_name_among_them_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let law = fit_law(d, &[]);
    let text = std::fs::read_to_string(data("splices.csv")).unwrap();
    let mut lines = text.lines();
    let head = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut big = format!("{head}\n");
    // Its speed (names looked up in a hash map, not every earlier row) is measured in the README's
    // Performance section, not here.
    let n = 5_000;
    for i in 0..n {
        let r = rows[i % rows.len()];
        let rest = &r[r.find(',').unwrap()..];
        big += &format!("s{i}{rest}\n");
    }
    let p = write(d, "big.csv", &big);
    ceq()
        .args(["map", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&p)
        .arg("--out")
        .arg(d.join("o.csv"))
        .assert()
        .success();
    let written = std::fs::read_to_string(d.join("o.csv")).unwrap();
    assert_eq!(written.lines().count(), n + 1);

    // The last row named as the 2500th: both lines said.
    let r = rows[(n - 1) % rows.len()];
    big += &format!("s2499{}\n", &r[r.find(',').unwrap()..]);
    let p = write(d, "dup.csv", &big);
    let err = fails(
        ceq()
            .args(["map", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&p),
    );
    says(&err, &["'s2499' is named twice", "lines 2501 and 5002"]);
}

#[test]
fn losses_no_language_model_has_are_refused_by_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let law = fit_law(d, &[]);
    // Line 3 (the second row) gets the loss.
    let with = |file: &str, col: &str, value: &str| {
        let text = std::fs::read_to_string(data(file)).unwrap();
        let mut rd = csv::Reader::from_reader(text.as_bytes());
        let head = rd.headers().unwrap().clone();
        let i = head.iter().position(|h| h == col).unwrap();
        let mut wr = csv::Writer::from_path(d.join(file)).unwrap();
        wr.write_record(&head).unwrap();
        for (k, r) in rd.records().enumerate() {
            let mut r: Vec<String> = r.unwrap().iter().map(str::to_owned).collect();
            if k == 1 {
                r[i] = value.into();
            }
            wr.write_record(&r).unwrap();
        }
        wr.flush().unwrap();
        d.join(file)
    };
    for value in ["1e308", "1001"] {
        let ck = with("checkpoints.csv", "loss", value);
        let err = fails(ceq().arg("fit").arg("--checkpoints").arg(&ck));
        says(
            &err,
            &["checkpoints.csv:3", "'loss'", value, "nats per token"],
        );
        for col in ["ce_clean", "ce_spliced", "ce_zero_ablation"] {
            let sp = with("splices.csv", col, value);
            let mut c = ceq();
            c.args(["map", "--law"]).arg(&law).arg("--splices").arg(&sp);
            says(
                &fails(&mut c),
                &["splices.csv:3", col, value, "nats per token"],
            );
        }
    }
    // A large loss a model can have is kept.
    let ck = with("checkpoints.csv", "loss", "900");
    ceq()
        .arg("fit")
        .arg("--checkpoints")
        .arg(&ck)
        .assert()
        .success();
}

#[test]
fn a_params_column_is_not_compared_with_itself() {
    let err = fails(ceq().args([
        "fit",
        "--checkpoints",
        repo("data/checkpoints.csv").to_str().unwrap(),
        "--params-col",
        "params_non_embedding",
    ]));
    says(
        &err,
        &[
            "'params_non_embedding' column holds non-embedding parameter counts",
            "told it holds total",
        ],
    );
    assert!(
        !err.contains("same counts as 'params_non_embedding'"),
        "{err}"
    );
    // Another column holding those counts is still found by comparing, and said so.
    let mut rd = csv::Reader::from_path(repo("data/checkpoints.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck.csv");
    let mut wr = csv::Writer::from_path(&ck).unwrap();
    wr.write_record(&head).unwrap();
    for r in rd.records() {
        let mut r: Vec<String> = r.unwrap().iter().map(str::to_owned).collect();
        r[col("params")] = r[col("params_non_embedding")].clone();
        wr.write_record(&r).unwrap();
    }
    wr.flush().unwrap();
    let err = fails(ceq().arg("fit").arg("--checkpoints").arg(&ck));
    says(
        &err,
        &[
            "'params' column holds non-embedding parameter counts (the same counts as \
             'params_non_embedding')",
            "told it holds total",
        ],
    );
}

#[test]
fn an_eval_set_given_is_kept_and_the_help_claims_no_default() {
    let dir = tempfile::tempdir().unwrap();
    let ck = repo("data/checkpoints.csv");
    for (given, want) in [
        (Some("unspecified"), "unspecified".to_owned()),
        (Some("mine"), "mine".to_owned()),
        (None, {
            let mut rd = csv::Reader::from_path(&ck).unwrap();
            let i = rd
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "eval_tokens")
                .unwrap();
            rd.records().next().unwrap().unwrap()[i].to_owned()
        }),
    ] {
        let extra: Vec<&str> = given.map(|g| vec!["--eval-set", g]).unwrap_or_default();
        let law = fit_to(dir.path(), &ck, "law.json", &extra);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(law).unwrap()).unwrap();
        assert_eq!(v["units"]["eval_set"], want.as_str(), "{given:?}");
    }
    for cmd in ["fit", "map", "plot", "report"] {
        let out = ceq().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let at = help.find("--eval-set").unwrap();
        let entry = &help[at..help[at + 1..]
            .find("\n      -")
            .map_or(help.len(), |e| at + 1 + e)];
        assert!(!entry.contains("[default:"), "{cmd}: {entry}");
        assert!(entry.contains("eval_tokens"), "{cmd}: {entry}");
    }
}
