//! A rerun of `ceq eval-family` or of a sweep keeps only rows that still match their inputs: the
//! host's training tokens and parameter count, and the model's and SAE's files (recorded in
//! `<stem>.run.json`); and `ceq fit`/`ceq map` refuse a results file whose run did not finish.
//! Every input here is a copy in a temp folder, so the tests can change it.

use std::path::{Path, PathBuf};

use super::common::{ceq, copy_dir};
use super::family::eval_family;
use predicates::str::contains;

fn fixtures(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

fn cells(csv: &Path, column: &str) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(csv).unwrap();
    let h = r.headers().unwrap().clone();
    let (n, c) = (
        h.iter().position(|x| x == "name").unwrap(),
        h.iter().position(|x| x == column).unwrap(),
    );
    r.records()
        .map(|x| {
            let x = x.unwrap();
            (x[n].to_owned(), x[c].to_owned())
        })
        .collect()
}

fn stderr_of(a: assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

/// Five checkpoints of the fixture family (enough to fit a compute law) copied into `dir/fam`,
/// with their manifest and tokens.
fn family_copy(dir: &Path) -> (PathBuf, PathBuf) {
    let fam = dir.join("fam");
    let names = [
        "gpt2_d16_s40",
        "gpt2_d16_s80",
        "gpt2_d16_s160",
        "gpt2_d32_s40",
        "gpt2_d32_s80",
    ];
    for c in names {
        copy_dir(&fixtures("family").join(c), &fam.join(c));
    }
    let manifest = fam.join("family.csv");
    std::fs::write(
        &manifest,
        "name,path,run,step,tokens\ngpt2_d16_s40,gpt2_d16_s40,gpt2_d16,40,40960\n\
         gpt2_d16_s80,gpt2_d16_s80,gpt2_d16,80,81920\ngpt2_d16_s160,gpt2_d16_s160,gpt2_d16,160,163840\n\
         gpt2_d32_s40,gpt2_d32_s40,gpt2_d32,40,40960\ngpt2_d32_s80,gpt2_d32_s80,gpt2_d32,80,81920\n",
    )
    .unwrap();
    let tokens = fam.join("tokens.npy");
    std::fs::copy(fixtures("family").join("tokens.npy"), &tokens).unwrap();
    (manifest, tokens)
}

/// A sweep of `rows` (name, host folder, SAE folder) over copies of the eval fixtures in `dir`.
fn sweep_copy(dir: &Path, rows: &[(&str, &str, &str)]) -> PathBuf {
    for (_, host, sae) in rows {
        let h = dir.join(host);
        if !h.exists() {
            copy_dir(&fixtures("eval").join(host), &h);
        }
        let s = dir.join("saes").join(sae);
        if !s.exists() {
            copy_dir(&fixtures("eval/saes").join(sae), &s);
        }
    }
    let mut text = String::from("name,model,sae\n");
    for (n, h, s) in rows {
        text += &format!("{n},{h},saes/{s}\n");
    }
    let m = dir.join("saes.csv");
    std::fs::write(&m, text).unwrap();
    m
}

fn sweep(manifest: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    ceq()
        .arg("eval")
        .arg("--manifest")
        .arg(manifest)
        .arg("--tokens")
        .arg(fixtures("eval").join("tokens.npy"))
        .args(["--batch", "3", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

#[test]
fn a_sweep_rerun_refuses_rows_whose_host_tokens_or_parameter_count_changed() {
    let dir = tempfile::tempdir().unwrap();
    let m = sweep_copy(dir.path(), &[("a", "gpt2", "gpt2-l0-resid_mid-topk-v6")]);
    let family = dir.path().join("family.csv");
    std::fs::write(&family, "name,path,tokens\ngpt2,gpt2,2e6\n").unwrap();
    let out = dir.path().join("s.csv");
    let fam = ["--family", family.to_str().unwrap()];
    sweep(&m, &out, &fam).success();
    let before = std::fs::read(&out).unwrap();
    assert_eq!(cells(&out, "tokens"), [("a".into(), "2000000".into())]);

    // The host's training tokens raised in the family manifest: the row's compute would be 4.5×
    // off, so the row is refused, naming the family file's line and both numbers.
    std::fs::write(&family, "name,path,tokens\ngpt2,gpt2,9e6\n").unwrap();
    let err = stderr_of(sweep(&m, &out, &fam).failure());
    for want in [
        "s.csv: line 2",
        "'a'",
        "2000000",
        "9000000",
        "family.csv line 2",
    ] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    // Another parameter count than the row's (the tokens as before, so only the count differs).
    std::fs::write(&family, "name,path,tokens\ngpt2,gpt2,2e6\n").unwrap();
    let err = stderr_of(
        sweep(
            &m,
            &out,
            &[&fam[..], &["--param-count", "non-embedding"]].concat(),
        )
        .failure(),
    );
    for want in ["s.csv: line 2", "total parameter count", "non-embedding"] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    // Without a family the row's tokens are not this run's either.
    sweep(&m, &out, &[])
        .failure()
        .stderr(contains("no family manifest"));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "a refused rerun leaves the file"
    );
    // The same inputs resume as before.
    sweep(&m, &out, &fam)
        .success()
        .stderr(contains("1 already there"));

    // A fresh file with the new inputs holds them: what the refused rerun would have kept wrong.
    std::fs::write(&family, "name,path,tokens\ngpt2,gpt2,9e6\n").unwrap();
    let fresh = dir.path().join("fresh.csv");
    sweep(
        &m,
        &fresh,
        &[&fam[..], &["--param-count", "non-embedding"]].concat(),
    )
    .success();
    assert_eq!(cells(&fresh, "tokens"), [("a".into(), "9000000".into())]);
    assert_ne!(cells(&fresh, "params"), cells(&out, "params"));
}

#[test]
fn eval_family_rerun_refuses_a_checkpoint_whose_weights_or_folder_changed() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = family_copy(dir.path());
    let out = dir.path().join("run.csv");
    eval_family(&manifest, &tokens, &out, &[]).success();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.run.json")).unwrap()).unwrap();
    assert_eq!(record["finished"], true);
    let files = record["inputs"]["gpt2_d16_s40"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "fam/gpt2_d16_s40/config.json",
            "fam/gpt2_d16_s40/model.safetensors"
        ]
    );
    // Nothing changed: resumed, and it resumes the same after the whole folder moves.
    eval_family(&manifest, &tokens, &out, &[])
        .success()
        .stderr(contains("5 already there"));
    let moved = tempfile::tempdir().unwrap();
    let to = moved.path().join("elsewhere");
    std::fs::rename(dir.path(), &to).unwrap_or_else(|_| {
        // Another file system: a copy keeps the times with `cp -a`.
        let ok = std::process::Command::new("cp")
            .args(["-a"])
            .arg(dir.path())
            .arg(&to)
            .status()
            .unwrap();
        assert!(ok.success());
    });
    let (manifest, tokens, out) = (
        to.join("fam/family.csv"),
        to.join("fam/tokens.npy"),
        to.join("run.csv"),
    );
    eval_family(&manifest, &tokens, &out, &[])
        .success()
        .stderr(contains("5 already there"));
    // The resume records the inputs where they are now, so the results moved alone next still
    // resume: the old absolute paths named a folder that is gone (review).
    let record = std::fs::read_to_string(to.join("run.run.json")).unwrap();
    assert!(!record.contains(&*dir.path().to_string_lossy()), "{record}");
    let sub = to.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let ours = |d: &Path| -> Vec<PathBuf> {
        let all = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path());
        all.filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("run."))
            .collect()
    };
    for f in ours(&to) {
        std::fs::rename(&f, sub.join(f.file_name().unwrap())).unwrap();
    }
    eval_family(&manifest, &tokens, &sub.join("run.csv"), &[])
        .success()
        .stderr(contains("5 already there"));
    for f in ours(&sub) {
        std::fs::rename(&f, to.join(f.file_name().unwrap())).unwrap();
    }
    let before = std::fs::read(&out).unwrap();

    // Other weights of the same shapes (and so the same size) in one checkpoint's file.
    let weights = to.join("fam/gpt2_d16_s40/model.safetensors");
    std::fs::copy(to.join("fam/gpt2_d16_s80/model.safetensors"), &weights).unwrap();
    let err = stderr_of(eval_family(&manifest, &tokens, &out, &[]).failure());
    for want in [
        "run.csv: line 2",
        "'gpt2_d16_s40'",
        "fam/gpt2_d16_s40/model.safetensors changed since",
        "run.run.json",
        "write to a new file",
    ] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "a refused rerun leaves the file"
    );
    // The kept row would have been wrong: a fresh run measures another loss.
    let fresh = to.join("fresh.csv");
    eval_family(&manifest, &tokens, &fresh, &[]).success();
    let loss = |f: &Path| {
        cells(f, "loss")
            .into_iter()
            .find(|(n, _)| n == "gpt2_d16_s40")
            .unwrap()
            .1
    };
    assert_ne!(loss(&fresh), loss(&out));

    // The manifest's line pointed at another folder (another size, copied: a folder two rows
    // name is refused before any resume): refused, naming what was read.
    let fam = manifest.parent().unwrap();
    copy_dir(&fam.join("gpt2_d32_s40"), &fam.join("other"));
    let fresh_manifest = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        fresh_manifest.replace("gpt2_d16_s40,gpt2_d16_s40,", "gpt2_d16_s40,other,"),
    )
    .unwrap();
    let err = stderr_of(eval_family(&manifest, &tokens, &fresh, &[]).failure());
    for want in [
        "fresh.csv: line 2",
        "fam/gpt2_d16_s40/config.json was read then",
    ] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
}

#[test]
fn a_sweep_rerun_refuses_an_sae_whose_folder_or_weights_changed() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        ("a", "gpt2", "gpt2-l0-resid_mid-topk-v6"),
        ("d", "gpt2", "gpt2-l0-resid_mid-standard-v2_flat"),
    ];
    let m = sweep_copy(dir.path(), &rows);
    let out = dir.path().join("s.csv");
    sweep(&m, &out, &[]).success();
    sweep(&m, &out, &[])
        .success()
        .stderr(contains("2 already there"));

    // Line `a` names another SAE folder at the same hook (another kind).
    let text = std::fs::read_to_string(&m).unwrap();
    std::fs::write(
        &m,
        text.replace(
            "a,gpt2,saes/gpt2-l0-resid_mid-topk-v6",
            "a,gpt2,saes/gpt2-l0-resid_mid-standard-v2_flat",
        ),
    )
    .unwrap();
    let err = stderr_of(sweep(&m, &out, &[]).failure());
    for want in [
        "s.csv: line 2",
        "'a'",
        "saes/gpt2-l0-resid_mid-topk-v6/cfg.json was read then",
    ] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    std::fs::write(&m, text).unwrap();
    sweep(&m, &out, &[])
        .success()
        .stderr(contains("2 already there"));

    // One weight of SAE `d` changed in place: the same size, another value.
    let w = dir
        .path()
        .join("saes/gpt2-l0-resid_mid-standard-v2_flat/sae_weights.safetensors");
    let mut bytes = std::fs::read(&w).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x40;
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&w, &bytes).unwrap();
    let err = stderr_of(sweep(&m, &out, &[]).failure());
    for want in ["'d'", "sae_weights.safetensors changed since: modified"] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    // The host's weights are the row's inputs too.
    let h = dir.path().join("gpt2/model.safetensors");
    let fresh = dir.path().join("fresh.csv");
    sweep(&m, &fresh, &[]).success();
    let host = std::fs::read(&h).unwrap();
    std::fs::write(&h, &host[..]).unwrap();
    let err = stderr_of(sweep(&m, &fresh, &[]).failure());
    assert!(
        err.contains("gpt2/model.safetensors changed since"),
        "{err}"
    );
}

#[test]
fn rows_an_older_ceq_wrote_without_a_record_are_kept_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = family_copy(dir.path());
    let out = dir.path().join("run.csv");
    eval_family(&manifest, &tokens, &out, &[]).success();
    let record = dir.path().join("run.run.json");
    let written = std::fs::read(&record).unwrap();
    std::fs::remove_file(&record).unwrap();
    // fit reads a file without a record as before.
    ceq()
        .args(["fit", "--form", "compute", "--checkpoints"])
        .arg(&out)
        .assert()
        .success();
    eval_family(&manifest, &tokens, &out, &[])
        .success()
        .stderr(contains("5 already there"))
        .stderr(contains(
            "5 kept from a file with no record of their inputs",
        ));
    assert_eq!(
        std::fs::read(&record).unwrap(),
        written,
        "the inputs recorded as they are"
    );
}

#[test]
fn shards_merged_keep_every_rows_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = family_copy(dir.path());
    // The shards in a folder of their own: their records name the inputs from there.
    let part = dir.path().join("shards");
    std::fs::create_dir(&part).unwrap();
    let mut shards = vec![];
    for i in 0..2 {
        let shard = part.join(format!("p{i}.csv"));
        eval_family(&manifest, &tokens, &shard, &["--shard", &format!("{i}/2")]).success();
        shards.push(shard);
    }
    let merged = dir.path().join("merged.csv");
    ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("merged.run.json")).unwrap())
            .unwrap();
    assert_eq!(record["finished"], true);
    assert_eq!(record["inputs"].as_object().unwrap().len(), 5);
    // Resumed as a whole run: every row's inputs checked, none taken as unrecorded.
    let err = stderr_of(eval_family(&manifest, &tokens, &merged, &[]).success());
    assert!(
        err.contains("5 already there") && !err.contains("older ceq"),
        "{err}"
    );
    // The results alone moved deeper, the inputs where they were: still the same inputs.
    let deep = dir.path().join("deep/er");
    std::fs::create_dir_all(&deep).unwrap();
    for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = f.file_name().to_string_lossy().into_owned();
        if name.starts_with("merged.") {
            std::fs::rename(f.path(), deep.join(&name)).unwrap();
        }
    }
    let err = stderr_of(eval_family(&manifest, &tokens, &deep.join("merged.csv"), &[]).success());
    assert!(err.contains("5 already there"), "{err}");
}

/// A record another writer left (a sweep's, unfinished) beside a file it does not describe (a
/// single `ceq eval --out` written over it later) does not make that file unfinished.
#[test]
fn a_record_naming_other_rows_is_not_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.csv");
    ceq()
        .arg("eval")
        .arg("--model")
        .arg(fixtures("eval").join("gpt2"))
        .arg("--sae")
        .arg(fixtures("eval/saes").join("gpt2-l1-resid_pre-standard-v6"))
        .arg("--tokens")
        .arg(fixtures("eval").join("tokens.npy"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stale = r#"{"finished": false, "rows": ["a", "b"], "inputs": {}}"#;
    std::fs::write(dir.path().join("s.run.json"), stale).unwrap();
    let law = super::common::fit_to(
        dir.path(),
        Path::new(&super::common::data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let map = || {
        ceq()
            .args(["map", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&out)
            .assert()
    };
    map().success();
    // One that names the file's rows and more is its run's, unfinished.
    let unfinished =
        r#"{"finished": false, "rows": ["gpt2-l1-resid_pre-standard-v6", "b"], "inputs": {}}"#;
    std::fs::write(dir.path().join("s.run.json"), unfinished).unwrap();
    let err = stderr_of(map().failure());
    assert!(err.contains("holds 1 of the 2 rows"), "{err}");
}

#[test]
fn fit_and_map_refuse_a_results_file_whose_run_did_not_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = family_copy(dir.path());
    // The last checkpoint's weights are cut short: the run stops there, four rows saved.
    let w = dir.path().join("fam/gpt2_d32_s80/model.safetensors");
    let whole = std::fs::read(&w).unwrap();
    std::fs::write(&w, &whole[..whole.len() / 2]).unwrap();
    let out = dir.path().join("run.csv");
    eval_family(&manifest, &tokens, &out, &[]).failure();
    assert_eq!(cells(&out, "loss").len(), 4);
    let err = stderr_of(
        ceq()
            .args(["fit", "--form", "compute", "--checkpoints"])
            .arg(&out)
            .assert()
            .failure(),
    );
    for want in [
        "run.csv",
        "did not finish",
        "holds 4 of the 5 rows",
        "run.run.json",
    ] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    // Finished, it reads.
    std::fs::write(&w, &whole).unwrap();
    eval_family(&manifest, &tokens, &out, &[])
        .success()
        .stderr(contains("4 already there"));
    ceq()
        .args(["fit", "--form", "compute", "--checkpoints"])
        .arg(&out)
        .assert()
        .success();

    // A sweep stopped after its first host: map and report refuse it.
    let rows = [
        ("a", "gpt2", "gpt2-l0-resid_mid-topk-v6"),
        ("b", "neox", "neox-l1-attn_out-topk-v6"),
    ];
    let m = sweep_copy(dir.path(), &rows);
    let w = dir
        .path()
        .join("saes/neox-l1-attn_out-topk-v6/sae_weights.safetensors");
    std::fs::write(&w, b"not safetensors").unwrap();
    let s = dir.path().join("s.csv");
    sweep(&m, &s, &[]).failure();
    assert_eq!(cells(&s, "ce_spliced").len(), 1);
    let law = super::common::fit_to(
        dir.path(),
        Path::new(&super::common::data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let map = |s: &Path| {
        let mut c = ceq();
        c.arg("map").arg("--law").arg(&law).arg("--splices").arg(s);
        c.assert()
    };
    let err = stderr_of(map(&s).failure());
    for want in ["s.csv", "holds 1 of the 2 rows", "s.run.json"] {
        assert!(err.contains(want), "{want} not in: {err}");
    }
    ceq()
        .arg("report")
        .arg("--law")
        .arg(&law)
        .arg("--splices")
        .arg(&s)
        .arg("--out")
        .arg(dir.path().join("rep"))
        .assert()
        .failure()
        .stderr(contains("did not finish"));
    // The way out the message names: without the record the rows read as they are.
    std::fs::remove_file(dir.path().join("s.run.json")).unwrap();
    map(&s).success();
}

/// A rerun over an older ceq's file whose per-sequence values are gone measures every row again:
/// none of them is counted as kept from that file (eval-family and a sweep alike).
#[test]
fn rows_measured_again_are_not_counted_as_kept_from_an_older_file() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = family_copy(dir.path());
    let out = dir.path().join("run.csv");
    eval_family(&manifest, &tokens, &out, &[]).success();
    std::fs::remove_file(dir.path().join("run.run.json")).unwrap();
    std::fs::remove_file(dir.path().join("run.per_seq.npy")).unwrap();
    let err = stderr_of(eval_family(&manifest, &tokens, &out, &[]).success());
    assert!(
        err.contains("5 checkpoint(s) evaluated") && err.contains("0 already there"),
        "{err}"
    );
    assert!(!err.contains("older ceq"), "{err}");

    let m = sweep_copy(dir.path(), &[("a", "gpt2", "gpt2-l0-resid_mid-topk-v6")]);
    let out = dir.path().join("s.csv");
    sweep(&m, &out, &[]).success();
    std::fs::remove_file(dir.path().join("s.run.json")).unwrap();
    std::fs::remove_file(dir.path().join("s.per_seq.npy")).unwrap();
    let err = stderr_of(sweep(&m, &out, &[]).success());
    assert!(
        err.contains("1 SAE(s) evaluated") && err.contains("0 already there"),
        "{err}"
    );
    assert!(!err.contains("older ceq"), "{err}");
    // With the per-sequence values there, the rows are kept and counted.
    std::fs::remove_file(dir.path().join("s.run.json")).unwrap();
    let err = stderr_of(sweep(&m, &out, &[]).success());
    assert!(
        err.contains("1 already there")
            && err.contains("1 kept from a file with no record of their inputs"),
        "{err}"
    );
}
