//! Outputs never destroy anything of the user's: no output goes over or into an input, writes go
//! through symlinks and into devices and FIFOs, an existing `--out` file and files in an output
//! folder are replaced only with `--force`, and a report folder is the old report or the new one,
//! never a mix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{ceq, copy_dir, data, eval_in_gpt2, fit_law, succeeds, write};

/// Runs ceq, expects failure without a panic, and returns stderr.
fn fails(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "{cmd:?} succeeded");
    assert!(!err.contains("panicked"), "{cmd:?} panicked: {err}");
    err
}

/// Every file under `dir` (relative path → bytes), to compare a folder before and after.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let kind = e.file_type().unwrap();
            if kind.is_symlink() {
                let to = std::fs::read_link(&p).unwrap();
                files.insert(
                    p.strip_prefix(dir).unwrap().to_owned(),
                    to.into_os_string().into_encoded_bytes(),
                );
            } else if kind.is_dir() {
                todo.push(p);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                files.insert(p.strip_prefix(dir).unwrap().to_owned(), bytes);
            }
        }
    }
    files
}

/// Names in `dir` starting with `.ceq-`: temporary files or folders left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ceq-"))
        .collect()
}

/// A law fitted to the synthetic checkpoints.csv in `dir`, and a copy of its splices.csv there.
fn law_and_splices(dir: &Path) -> (PathBuf, PathBuf) {
    let law = fit_law(dir, &[]);
    let sp = dir.join("sp.csv");
    std::fs::copy(data("splices.csv"), &sp).unwrap();
    (law, sp)
}

fn map_out(law: &Path, sp: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = ceq();
    c.args(["map", "--format", "csv", "--law"])
        .arg(law)
        .arg("--splices")
        .arg(sp)
        .arg("--out")
        .arg(out);
    c
}

#[test]
fn eval_never_writes_into_a_model_or_sae_folder() {
    let d = tempfile::tempdir().unwrap();
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval");
    let (model, sae) = (d.path().join("gpt2"), d.path().join("sae"));
    copy_dir(&fx.join("gpt2"), &model);
    copy_dir(&fx.join("saes/gpt2-l1-resid_pre-standard-v6"), &sae);
    let before = snapshot(d.path());
    for (folder, out) in [
        (&model, model.join("model.safetensors")),
        (&model, model.join("config.json")),
        // A file the loaders would read next time, and one they would not: the folder is off limits.
        (&model, model.join("model.safetensors.index.json")),
        (&model, model.join("results.csv")),
        (&sae, sae.join("cfg.json")),
        (&sae, sae.join("sae_weights.safetensors")),
        (&sae, sae.join("activation_scaler.json")),
    ] {
        let err = fails(
            ceq()
                .arg("eval")
                .arg("--model")
                .arg(&model)
                .arg("--sae")
                .arg(&sae)
                .arg("--tokens")
                .arg(fx.join("tokens.npy"))
                .arg("--out")
                .arg(&out),
        );
        assert!(
            err.contains(&format!("refusing to write {}", out.display()))
                && err.contains(&format!("inside the input folder {}", folder.display())),
            "{err}"
        );
        assert_eq!(
            snapshot(d.path()),
            before,
            "{} changed a file",
            out.display()
        );
    }
}

#[test]
fn links_to_an_input_are_the_input() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let before = snapshot(d.path());
    let sym = d.path().join("sym.csv");
    let hard = d.path().join("hard.csv");
    std::os::unix::fs::symlink(&sp, &sym).unwrap();
    std::fs::hard_link(&sp, &hard).unwrap();
    // A symlinked folder holding the input: the same file by another path.
    let alias = d.path().join("alias");
    std::os::unix::fs::symlink(d.path(), &alias).unwrap();
    for (out, why) in [
        (sym, "is the input"),
        (hard, "is the same file (a link) as the input"),
        (alias.join("law.json"), "is the input"),
    ] {
        let err = fails(&mut map_out(&law, &sp, &out));
        assert!(
            err.contains(&format!("refusing to write {}: it {why}", out.display())),
            "{err}"
        );
    }
    let after = snapshot(d.path());
    assert_eq!(after[Path::new("sp.csv")], before[Path::new("sp.csv")]);
    assert_eq!(after[Path::new("law.json")], before[Path::new("law.json")]);
}

#[test]
fn a_symlinked_output_stays_a_link() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    std::fs::create_dir(d.path().join("real")).unwrap();
    for target in ["real/old.csv", "real/new.csv"] {
        let link = d.path().join(format!("{}.link", target.replace('/', "_")));
        if target == "real/old.csv" {
            write(d.path(), target, "old\n");
        }
        // A link to an existing file (replaced as asked), and a dangling one: both written
        // through.
        std::os::unix::fs::symlink(target, &link).unwrap();
        map_out(&law, &sp, &link).arg("--force").assert().success();
        assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
        let text = std::fs::read_to_string(d.path().join(target)).unwrap();
        assert!(text.starts_with("name,model,"), "{target}: {text}");
        assert!(leftovers(&d.path().join("real")).is_empty());
    }
}

/// A link to a folder not made yet is made as its target, as `report` made it; `plot`, `synth` and
/// `study` failed at the link's own name with "File exists (os error 17)" (review 2026-12-07).
#[test]
fn a_link_to_a_folder_not_made_yet_is_made_through() {
    let d = tempfile::tempdir().unwrap();
    let link = d.path().join("figs");
    std::os::unix::fs::symlink("real-figs", &link).unwrap();
    succeeds(
        ceq()
            .args(["plot", "--figure", "fit", "--checkpoints"])
            .arg(data("checkpoints.csv"))
            .arg("--out-dir")
            .arg(&link),
    );
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    assert!(d.path().join("real-figs/fit.svg").is_file());
    let synth = d.path().join("synth");
    std::os::unix::fs::symlink("real-synth", &synth).unwrap();
    succeeds(ceq().args(["synth", "--out-dir"]).arg(&synth));
    assert!(d.path().join("real-synth/checkpoints.csv").is_file());
}

#[test]
fn special_files_are_written_into_not_replaced() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    // /dev/stdout (a pipe here): the table arrives on standard output.
    let out = map_out(&law, &sp, Path::new("/dev/stdout"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .starts_with("name,model,")
    );

    let fifo = d.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let status = map_out(&law, &sp, &fifo).output().unwrap().status;
    // Should ceq not have opened the FIFO, open it once (without waiting) so the reader ends.
    const O_NONBLOCK: i32 = 0o4000;
    let _ = std::os::unix::fs::OpenOptionsExt::custom_flags(
        std::fs::OpenOptions::new().write(true),
        O_NONBLOCK,
    )
    .open(&fifo);
    let text = reader.join().unwrap();
    assert!(status.success());
    assert!(text.starts_with("name,model,"), "{text}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(leftovers(d.path()).is_empty());

    // `fit --out /dev/stdout`: stdout gets the law file alone, one JSON document that reads back;
    // asking for a summary there as well is refused.
    let fit = |extra: &[&str]| {
        let mut c = ceq();
        c.arg("fit")
            .arg("--checkpoints")
            .arg(data("checkpoints.csv"));
        c.args(["--out", "/dev/stdout"]).args(extra);
        c
    };
    let out = fit(&[]).output().unwrap();
    assert!(out.status.success());
    let law: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(law["form"], "chinchilla");
    let err = fails(&mut fit(&["--format", "csv"]));
    assert!(err.contains("standard output"), "{err}");
}

#[test]
fn a_failed_write_leaves_no_temporary_file() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let folder = d.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let err = fails(&mut map_out(&law, &sp, &folder));
    assert!(
        err.contains(&format!("cannot write {}", folder.display())),
        "{err}"
    );
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
    assert!(folder.is_dir());
}

/// `fit --out`, `map --out` and `eval --out` refuse a file that exists and holds something, before
/// any work, naming it and `--force`; with `--force` it is replaced, through a symlink to its
/// target (review: a user's file, and another model's config.json behind a link, were replaced
/// without a word). An empty file (made by `mktemp`, say) is written without it.
#[test]
fn fit_map_and_eval_replace_an_existing_out_only_when_forced() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    std::fs::create_dir(d.path().join("other-model")).unwrap();
    let config = write(
        &d.path().join("other-model"),
        "config.json",
        "{\"mine\": 1}\n",
    );
    std::os::unix::fs::symlink(&config, d.path().join("link.json")).unwrap();
    let fit = |out: &Path| {
        let mut c = ceq();
        c.arg("fit")
            .arg("--checkpoints")
            .arg(data("checkpoints.csv"))
            .arg("--out")
            .arg(out);
        c
    };
    let eval = |out: &Path| {
        let mut c = eval_in_gpt2("gpt2-l1-resid_pre-standard-v6");
        c.arg("--out").arg(out);
        c
    };
    let map = |out: &Path| map_out(&law, &sp, out);
    type Make<'a> = &'a dyn Fn(&Path) -> assert_cmd::Command;
    let cases: [(Make, &str, &str); 4] = [
        (&fit, "law2.json", "\"ceq_version\""),
        (&map, "mapped.csv", "name,"),
        (&eval, "notes.csv", "name,"),
        (&fit, "link.json", "\"ceq_version\""),
    ];
    for (make, name, written) in cases {
        let out = d.path().join(name);
        if !out.exists() {
            write(d.path(), name, "my notes\n");
        }
        let target = std::fs::canonicalize(&out).unwrap();
        let before = snapshot(d.path());
        let err = fails(&mut make(&out));
        assert!(
            err.contains(&format!(
                "refusing to replace {}: the file exists",
                out.display()
            )) && err.contains("--force"),
            "{name}: {err}"
        );
        assert_eq!(snapshot(d.path()), before, "{name}");
        make(&out).arg("--force").assert().success();
        let text = std::fs::read_to_string(&target).unwrap();
        assert!(
            text.starts_with(written) || text.contains(written),
            "{name}: {text}"
        );
        assert!(out.symlink_metadata().is_ok());
    }
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .contains("ceq_version")
    );
    // An empty file holds nothing to lose.
    let empty = write(d.path(), "empty.csv", "");
    map(&empty).assert().success();
    // --force says what it replaces: without --out, or with a sweep's resumable --out, refused.
    let err = fails(
        ceq()
            .args(["map", "--force", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&sp),
    );
    assert!(err.contains("--out"), "{err}");
    let err = fails(
        ceq()
            .args([
                "eval",
                "--manifest",
                "m.csv",
                "--tokens",
                "t.npy",
                "--out",
                "o.csv",
            ])
            .arg("--force"),
    );
    assert!(
        err.contains("--force") && err.contains("--manifest"),
        "{err}"
    );
}

/// Standard output named as `--out` is written to, never refused or replaced as a file (review:
/// `fit --out -` was refused where the folder held a file named `-`, and `--out /dev/stdout`
/// sent to a file with `>>` was refused, or with --force replaced what `>>` kept).
#[test]
fn standard_output_as_out_is_written_to_not_replaced() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let dash = write(d.path(), "-", "my notes\n");
    let (stdout, _) = succeeds(
        ceq()
            .current_dir(d.path())
            .args(["fit", "--out", "-", "--checkpoints"])
            .arg(data("checkpoints.csv")),
    );
    assert!(
        String::from_utf8(stdout)
            .unwrap()
            .contains("\"ceq_version\"")
    );
    assert_eq!(std::fs::read_to_string(&dash).unwrap(), "my notes\n");
    // `>> log` then `--out /dev/stdout`: the log keeps its lines and gets the output after them.
    let appended = |args: &[&str], wrote: &str| {
        let log = write(d.path(), "log.txt", "kept\n");
        let file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_ceq"))
            .args(args)
            .args(["--out", "/dev/stdout"])
            .stdout(file)
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.starts_with("kept\n") && text.contains(wrote),
            "{args:?}: {text}"
        );
    };
    let ck = data("checkpoints.csv");
    appended(&["fit", "--checkpoints", &ck], "\"ceq_version\"");
    let (law, sp) = (law.display().to_string(), sp.display().to_string());
    let map = ["map", "--format", "csv", "--law", &law, "--splices", &sp];
    appended(&map, "name,");
    // Standard output sent to an input is refused, the input kept as it was (review: `fit --out -
    // >> ck.csv` appended the law file to the checkpoints it read).
    let with_stdout_to = |file: &Path, args: &[&str]| {
        let before = std::fs::read(file).unwrap();
        let to = std::fs::OpenOptions::new().append(true).open(file).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ceq"))
            .args(args)
            .stdout(to)
            .output()
            .unwrap();
        let kept = std::fs::read(file).unwrap() == before;
        (
            out.status.success(),
            String::from_utf8(out.stderr).unwrap(),
            kept,
        )
    };
    let ck = write(
        d.path(),
        "ck.csv",
        &std::fs::read_to_string(data("checkpoints.csv")).unwrap(),
    );
    let ck_s = ck.display().to_string();
    for args in [
        vec!["fit", "--checkpoints", &ck_s, "--out", "-"],
        vec!["fit", "--checkpoints", &ck_s],
    ] {
        let (ok, err, kept) = with_stdout_to(&ck, &args);
        assert!(!ok && kept, "{args:?}: {err}");
        assert!(
            err.contains("standard output: it is sent to the input"),
            "{err}"
        );
    }
    let (ok, err, kept) = with_stdout_to(Path::new(&sp), &map);
    assert!(!ok && kept, "{err}");
    // A file named by its own name is that file, whatever stdout is sent to: refused as it exists,
    // replaced with --force.
    let f = write(d.path(), "f.csv", "KEEP\n");
    let f_s = f.display().to_string();
    let named: Vec<&str> = map.iter().copied().chain(["--out", &f_s]).collect();
    let (ok, err, kept) = with_stdout_to(&f, &named);
    assert!(!ok && kept && err.contains("--force"), "{err}");
    let forced: Vec<&str> = named.iter().copied().chain(["--force"]).collect();
    let (ok, err, _) = with_stdout_to(&f, &forced);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(
        text.starts_with("name,") && !text.contains("KEEP"),
        "{text}"
    );
}

#[test]
fn synth_and_plot_replace_files_only_when_forced() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let dir = d.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "checkpoints.csv", "mine\n");
    write(&dir, "fit.svg", "mine\n");
    let synth = |dir: &Path, force: bool| {
        let mut c = ceq();
        c.args(["synth", "--out-dir"]).arg(dir);
        if force {
            c.arg("--force");
        }
        c
    };
    let plot = |dir: &Path, force: bool| {
        let mut c = ceq();
        c.args(["plot", "--law"])
            .arg(&law)
            .arg("--out-dir")
            .arg(dir);
        if force {
            c.arg("--force");
        }
        c
    };
    for (mut cmd, file) in [
        (synth(&dir, false), "checkpoints.csv"),
        (plot(&dir, false), "fit.svg"),
    ] {
        let before = snapshot(&dir);
        let err = fails(&mut cmd);
        assert!(
            err.contains(&format!("{}: holds {file}", dir.display())) && err.contains("--force"),
            "{err}"
        );
        // Nothing written, not even the files that did not exist.
        assert_eq!(snapshot(&dir), before);
    }
    synth(&dir, true).assert().success();
    plot(&dir, true).assert().success();
    assert_ne!(
        std::fs::read(dir.join("checkpoints.csv")).unwrap(),
        b"mine\n"
    );
    assert_ne!(std::fs::read(dir.join("fit.svg")).unwrap(), b"mine\n");

    // A link at a figure's (or synth file's) name is not written through, forced or not: it
    // replaced a file outside the folder (review 2026-12-06).
    let precious = write(d.path(), "precious.txt", "mine\n");
    for (mut cmd, name) in [
        (plot(&dir, true), "fit.svg"),
        (synth(&dir, true), "splices.csv"),
    ] {
        std::fs::remove_file(dir.join(name)).unwrap();
        std::os::unix::fs::symlink(&precious, dir.join(name)).unwrap();
        let err = fails(&mut cmd);
        let want = format!(
            "cannot write {}: it is a link (to {})",
            dir.join(name).display(),
            precious.display()
        );
        assert!(
            err.contains(&want) && err.contains("remove the link"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "mine\n");
        std::fs::remove_file(dir.join(name)).unwrap();
    }

    // --out-dir naming a file: an error naming it, the file untouched.
    let file = write(d.path(), "a-file", "mine\n");
    for force in [false, true] {
        for mut cmd in [synth(&file, force), plot(&file, force)] {
            let err = fails(&mut cmd);
            let want = format!(
                "cannot write {}: it exists and is not a folder",
                file.display()
            );
            assert!(err.contains(&want), "{err}");
            assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine\n");
        }
    }

    // A new folder is made in one that exists, not with its missing parents: a mistyped path,
    // or a link to a folder that is not there, made every folder on the way (review 2026-12-06).
    let dangling = d.path().join("link");
    std::os::unix::fs::symlink(d.path().join("far/away"), &dangling).unwrap();
    let before = snapshot(d.path());
    let typo = d.path().join("nope/a");
    for (mut cmd, path, missing) in [
        (synth(&typo, false), &typo, d.path().join("nope")),
        (plot(&typo, true), &typo, d.path().join("nope")),
        (
            report(&law, &sp, &typo, false),
            &typo,
            d.path().join("nope"),
        ),
        (
            report(&law, &sp, &dangling, true),
            &dangling,
            d.path().join("far"),
        ),
    ] {
        let err = fails(&mut cmd);
        let want = format!(
            "cannot write {}: the folder it would be made in, {}, does not exist",
            path.display(),
            missing.display()
        );
        assert!(err.contains(&want), "{err}");
        assert_eq!(snapshot(d.path()), before);
    }
    report(&law, &sp, &d.path().join("new"), false)
        .assert()
        .success();
}

fn report(law: &Path, sp: &Path, out: &Path, force: bool) -> assert_cmd::Command {
    let mut c = ceq();
    c.args(["report", "--law"])
        .arg(law)
        .arg("--splices")
        .arg(sp)
        .arg("--out")
        .arg(out);
    if force {
        c.arg("--force");
    }
    c
}

#[test]
fn a_forced_report_replaces_the_folder_whole() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let rep = d.path().join("rep");
    report(&law, &sp, &rep, false).assert().success();
    let old = snapshot(&rep);

    // A file a report does not write would be lost: refused, named, kept.
    write(&rep, "notes.txt", "mine\n");
    let err = fails(&mut report(&law, &sp, &rep, true));
    assert!(
        err.contains("notes.txt") && err.contains(&rep.display().to_string()),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(rep.join("notes.txt")).unwrap(),
        "mine\n"
    );
    std::fs::remove_file(rep.join("notes.txt")).unwrap();

    // A report file's name is not enough: a folder under one would go with its contents, and an
    // index.html of the user's is not a report's. Both refused, named, kept.
    let index = std::fs::read(rep.join("index.html")).unwrap();
    std::fs::remove_file(rep.join("index.html")).unwrap();
    let own = rep.join("index.html");
    std::fs::create_dir(&own).unwrap();
    write(&own, "keep", "only copy\n");
    let err = fails(&mut report(&law, &sp, &rep, true));
    assert!(err.contains("a folder named index.html"), "{err}");
    assert_eq!(
        std::fs::read_to_string(own.join("keep")).unwrap(),
        "only copy\n"
    );
    std::fs::remove_dir_all(&own).unwrap();
    write(&rep, "index.html", "<html><title>my notes</title></html>\n");
    let err = fails(&mut report(&law, &sp, &rep, true));
    assert!(err.contains("an index.html no ceq report wrote"), "{err}");
    assert!(std::fs::read_to_string(&own).unwrap().contains("my notes"));
    std::fs::write(&own, index).unwrap();

    // Nor do report names alone make a report folder (review: a user's own law.json in a folder
    // with no report in it was replaced).
    let mine = d.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    write(&mine, "law.json", "{\"my\": \"law\"}\n");
    let err = fails(&mut report(&law, &sp, &mine, true));
    assert!(
        err.contains("law.json, but no index.html of a ceq report"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("law.json")).unwrap(),
        "{\"my\": \"law\"}\n"
    );

    // An input inside the folder would be lost with it.
    let inside = rep.join("law.json");
    let err = fails(&mut report(&inside, &sp, &rep, true));
    assert!(
        err.contains(&format!("refusing to write {}", rep.display()))
            && err.contains(&format!("holds the input {}", inside.display())),
        "{err}"
    );
    // The input file itself as the folder: said as such, kept.
    let before = std::fs::read(&sp).unwrap();
    let err = fails(&mut report(&law, &sp, &sp, true));
    assert!(
        err.contains(&format!("it is the input {}", sp.display())),
        "{err}"
    );
    assert_eq!(std::fs::read(&sp).unwrap(), before);
    assert_eq!(snapshot(&rep), old);

    // Fewer splices: the new report is written whole, and the old one is gone with no temporary
    // folder left; a symlink to the folder stays a link.
    let text = std::fs::read_to_string(&sp).unwrap();
    let few: Vec<&str> = text.lines().take(3).collect();
    let sp2 = write(d.path(), "sp2.csv", &(few.join("\n") + "\n"));
    let link = d.path().join("rep-link");
    std::os::unix::fs::symlink(&rep, &link).unwrap();
    report(&law, &sp2, &link, true).assert().success();
    assert!(link.symlink_metadata().unwrap().file_type().is_symlink());
    let new = snapshot(&rep);
    assert_ne!(new[Path::new("mapped.csv")], old[Path::new("mapped.csv")]);
    assert_eq!(new.len(), ceq::report::FILES.len());
    assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
}

/// A folder a killed report left beside its output (`.ceq-rep-*`: a new report cut short, or a
/// whole copy of the new or the old one) is named in a warning on the next run, which says which of
/// the two it is, and kept: ceq cannot know it is not the only copy.
#[test]
fn a_folder_left_by_a_killed_report_is_named_and_kept() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let rep = d.path().join("rep");
    let left = d.path().join(".ceq-rep-Ab12Cd");
    // Another output's leftovers are not this report's.
    for l in [
        &left,
        &d.path().join(".ceq-rep2-Ab12Cd"),
        &d.path().join(".ceq-rep-old-Ab12Cd"),
    ] {
        std::fs::create_dir(l).unwrap();
        write(l, "law.json", "{}\n");
    }
    let out = report(&law, &sp, &rep, false).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert!(
        warnings.len() == 1
            && warnings[0].contains(&left.display().to_string())
            && warnings[0].contains("killed")
            && warnings[0].contains("an unfinished report (no index.html)"),
        "{err}"
    );
    assert!(left.join("law.json").exists());
    // index.html is written last: a copy holding one is a whole report, new or old.
    write(&left, "index.html", "<title>x</title>\n");
    let out = report(&law, &sp, &rep, true).output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("it holds a whole report, that run's new one or the old one"),
        "{err}"
    );
    assert!(left.join("index.html").exists());
}

#[test]
fn a_killed_report_leaves_the_old_folder_or_the_new_one() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let rep = d.path().join("rep");
    report(&law, &sp, &rep, false).assert().success();
    let old = snapshot(&rep);
    let text = std::fs::read_to_string(&sp).unwrap();
    let sp2 = write(
        d.path(),
        "sp2.csv",
        &text.lines().take(4).collect::<Vec<_>>().join("\n"),
    );
    // One command line throughout: index.html records it.
    let run = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ceq"));
        c.arg("report")
            .arg("--law")
            .arg(&law)
            .arg("--splices")
            .arg(&sp2);
        c.args(["--force", "--out"]).arg(&rep);
        c.stderr(std::process::Stdio::null());
        c
    };
    let mut killed = vec![];
    for ms in [0, 100, 300, 600, 1000, 1500, 2500, 4000] {
        let mut child = run().spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        child.wait().unwrap();
        let now = snapshot(&rep);
        if now != old {
            killed.push(now);
            break;
        }
    }
    // The same command run to the end: what a folder that is not the old report must be, whole.
    let last = run().stderr(std::process::Stdio::piped()).output().unwrap();
    assert!(
        last.status.success(),
        "after {} killed run(s): {:?} {}",
        killed.len(),
        last.status,
        String::from_utf8_lossy(&last.stderr)
    );
    let new = snapshot(&rep);
    assert_eq!(
        new[Path::new("mapped.csv")]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
        4
    );
    for now in killed {
        assert!(
            now == new,
            "a killed report left a mix of the old and new files"
        );
    }
    // What a killed run leaves beside the report is named after it.
    let left = leftovers(d.path());
    assert!(left.iter().all(|n| n.starts_with(".ceq-rep-")), "{left:?}");
}

#[test]
fn an_empty_folder_is_filled_in_place() {
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let rep = d.path().join("rep");
    std::fs::create_dir(&rep).unwrap();
    let ino = std::fs::metadata(&rep).unwrap().ino();
    report(&law, &sp, &rep, false).assert().success();
    // The same folder (a mount point or a shell's working folder stays usable), every file in it.
    assert_eq!(std::fs::metadata(&rep).unwrap().ino(), ino);
    assert_eq!(snapshot(&rep).len(), ceq::report::FILES.len());
    assert!(leftovers(d.path()).is_empty() && leftovers(&rep).is_empty());
}

/// `--out` picks the format from its extension, in either case; an extension ceq has no format
/// for, or none, is refused (naming it and the ones ceq knows) unless `--format` says the format,
/// and nothing is written.
#[test]
fn the_out_extension_picks_the_format_or_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let (law, sp) = law_and_splices(d.path());
    let map = |out: &Path, extra: &[&str]| {
        let mut c = ceq();
        c.args(["map", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&sp)
            .arg("--out")
            .arg(out)
            .args(extra);
        c
    };
    let upper = d.path().join("x.CSV");
    map(&upper, &[]).assert().success();
    let text = std::fs::read_to_string(&upper).unwrap();
    assert!(text.starts_with("name,model,"), "{text}");
    let json = d.path().join("x.Json");
    map(&json, &[]).assert().success();
    serde_json::from_slice::<serde_json::Value>(&std::fs::read(&json).unwrap()).unwrap();
    for (name, says) in [
        ("x.tsv", "'.tsv'"),
        ("x.xlsx", "'.xlsx'"),
        ("results", "no extension"),
    ] {
        let out = d.path().join(name);
        let err = fails(&mut map(&out, &[]));
        assert!(
            err.contains(says) && err.contains(".csv") && err.contains("--format"),
            "{name}: {err}"
        );
        assert!(!out.exists(), "{name} was written");
    }
    // Said with --format, any name goes.
    let out = d.path().join("x.xlsx");
    map(&out, &["--format", "csv"]).assert().success();
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("name,model,")
    );
}

#[test]
fn dash_is_standard_output_and_a_format_the_name_contradicts_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_law(d.path(), &[]);
    let map = |extra: &[&str]| {
        let mut c = ceq();
        c.current_dir(d.path()).args(["map", "--law"]).arg(&law);
        c.args(["--splices", &data("splices.csv")]).args(extra);
        c
    };
    // `-` is stdout, as in most tools, not a file named `-`.
    let out = map(&["--out", "-", "--format", "csv"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("name,"), "{text}");
    let mut fit = ceq();
    fit.current_dir(d.path())
        .args(["fit", "--checkpoints", &data("checkpoints.csv")]);
    let law_json = fit.args(["--out", "-"]).output().unwrap();
    assert!(law_json.status.success());
    let v: serde_json::Value = serde_json::from_slice(&law_json.stdout).unwrap();
    assert!(v["params"]["E"].is_number());
    assert!(!d.path().join("-").exists());
    // CSV in a file named .json would be read as JSON: refused, nothing written.
    let err = fails(&mut map(&["--out", "x.json", "--format", "csv"]));
    assert!(
        err.contains("x.json is json by its extension, but the format asked is csv"),
        "{err}"
    );
    assert!(!d.path().join("x.json").exists());
    // An extension that names no format leaves the choice to --format.
    map(&["--out", "x.dat", "--format", "csv"])
        .assert()
        .success();
}

#[test]
fn a_map_does_not_replace_the_checkpoints_file_its_law_was_fitted_to() {
    // The law file names its checkpoints file; map reads the law, not that file, but the file is
    // the user's data (review 12b: `map --out ck.csv` replaced it).
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(data("checkpoints.csv"), d.path().join("ck.csv")).unwrap();
    let mut fit = ceq();
    fit.current_dir(d.path());
    fit.args(["fit", "--checkpoints", "ck.csv", "--out", "law.json"]);
    fit.assert().success();
    let before = std::fs::read(d.path().join("ck.csv")).unwrap();
    let mut map = ceq();
    map.current_dir(d.path());
    map.args([
        "map",
        "--law",
        "law.json",
        "--splices",
        &data("splices.csv"),
    ]);
    let err = fails(map.args(["--out", "ck.csv"]));
    assert!(err.contains("it is the input ck.csv"), "{err}");
    assert_eq!(std::fs::read(d.path().join("ck.csv")).unwrap(), before);
}
