//! `ceq eval --manifest`: a sweep of the eval fixtures' SAEs (tests/fixtures/eval) over two hosts
//! and several hooks gives what `ceq eval` gives one SAE at a time, resumes, shards and merges,
//! fills the hosts' tokens from a family manifest, and `ceq map` reads the result.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::common::{ceq, eval_in_gpt2, root};

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

fn eval_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval")
}

/// (name, model, sae folder, hook or "") of the sweep: two hosts, two SAEs sharing a hook, one
/// hook given in the manifest (the same as its cfg's).
const ROWS: [(&str, &str, &str, &str); 5] = [
    ("a", "gpt2", "gpt2-l0-resid_mid-topk-v6", ""),
    ("b", "neox", "neox-l1-attn_out-topk-v6", ""),
    (
        "c",
        "gpt2",
        "gpt2-l1-resid_pre-standard-v6",
        "blocks.1.hook_resid_pre",
    ),
    ("d", "gpt2", "gpt2-l0-resid_mid-standard-v2_flat", ""),
    ("e", "neox", "neox-l0-mlp_out-gated-v6", ""),
];

/// A sweep manifest of `rows` in `dir`, paths relative to it (through a link to the fixtures).
fn manifest(dir: &Path, rows: &[(&str, &str, &str, &str)]) -> PathBuf {
    let fx = dir.join("fx");
    if !fx.exists() {
        std::os::unix::fs::symlink(eval_fixtures(), &fx).unwrap();
    }
    let mut text = String::from("name,model,sae,hook\n");
    for (n, m, s, h) in rows {
        text += &format!("{n},fx/{m},fx/saes/{s},{h}\n");
    }
    let path = dir.join("saes.csv");
    write(&path, &text);
    path
}

fn sweep(manifest: &Path, out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    ceq()
        .arg("eval")
        .arg("--manifest")
        .arg(manifest)
        .arg("--tokens")
        .arg(eval_fixtures().join("tokens.npy"))
        .args(["--batch", "3", "--out"])
        .arg(out)
        .args(extra)
        .assert()
}

fn table(csv: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(csv).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn npy_f64(path: &Path) -> (Vec<u64>, Vec<f64>) {
    let bytes = std::fs::read(path).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    let shape = npy.shape().to_vec();
    (shape, npy.into_vec::<f64>().unwrap())
}

#[test]
fn a_sweep_gives_what_eval_gives_one_sae_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("splices.csv");
    sweep(&manifest(dir.path(), &ROWS), &out, &[]).success();
    let (header, rows) = table(&out);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    // Sorted by model, hook, name.
    let names: Vec<&str> = rows.iter().map(|r| r[col("name")].as_str()).collect();
    assert_eq!(names, ["a", "d", "c", "e", "b"]);
    for r in &rows {
        let (_, m, s, _) = ROWS.iter().find(|x| x.0 == r[col("name")]).unwrap();
        let alone = dir.path().join(format!("alone-{}.csv", r[col("name")]));
        ceq()
            .arg("eval")
            .arg("--model")
            .arg(eval_fixtures().join(m))
            .arg("--sae")
            .arg(eval_fixtures().join("saes").join(s))
            .arg("--tokens")
            .arg(eval_fixtures().join("tokens.npy"))
            .args(["--batch", "3", "--out"])
            .arg(&alone)
            .assert()
            .success();
        let (h1, want) = table(&alone);
        assert_eq!(h1, header);
        for (i, c) in header.iter().enumerate() {
            let (g, w) = (&r[i], &want[0][i]);
            match (g.parse::<f64>(), w.parse::<f64>()) {
                (Ok(g), Ok(w)) => assert!(
                    (g - w).abs() <= 1e-5 * w.abs().max(1.0),
                    "{}: {c} = {g}, alone {w}",
                    r[col("name")]
                ),
                _ if c == "name" || c == "model" => {}
                _ => assert_eq!(g, w, "{}: {c}", r[col("name")]),
            }
        }
    }
    // Per-sequence clean and spliced CE, [rows, 2, sequences], whose means are the CEs.
    let (shape, v) = npy_f64(&out.with_extension("per_seq.npy"));
    assert_eq!(shape, [5, 2, 8]);
    for (i, r) in rows.iter().enumerate() {
        for (k, c) in ["ce_clean", "ce_spliced"].into_iter().enumerate() {
            let per = &v[(i * 2 + k) * 8..(i * 2 + k + 1) * 8];
            assert!(per.iter().all(|x| x.is_finite()), "{c} of row {i}");
            assert!(
                per.iter().any(|x| (x - per[0]).abs() > 1e-9),
                "{c} varies by sequence"
            );
        }
        let _ = r;
    }
}

#[test]
fn shards_merge_into_the_whole_sweep_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), &ROWS);
    let whole = dir.path().join("whole.csv");
    sweep(&m, &whole, &[]).success();
    // Four (model, hook) groups over six shards, each its own process: two have no group, and
    // write an empty file that the merge counts as done.
    let shards: Vec<PathBuf> = (0..6)
        .map(|i| {
            let p = dir.path().join(format!("shard{i}.csv"));
            sweep(&m, &p, &["--shard", &format!("{i}/6")]).success();
            p
        })
        .collect();
    let merged = dir.path().join("merged.csv");
    ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let read = |p: &Path| std::fs::read(p).unwrap();
    assert_eq!(read(&merged), read(&whole), "merged CSV");
    // A shard measured in batches of another size is not joined with the others.
    let odd = dir.path().join("odd1.csv");
    ceq()
        .arg("eval")
        .arg("--manifest")
        .arg(&m)
        .arg("--tokens")
        .arg(eval_fixtures().join("tokens.npy"))
        .args(["--batch", "5", "--shard", "1/6", "--out"])
        .arg(&odd)
        .assert()
        .success();
    let mut mixed = shards.clone();
    mixed[1] = odd;
    let out = ceq()
        .arg("merge")
        .args(&mixed)
        .arg("--out")
        .arg(dir.path().join("mixed.csv"))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("in batches of 5") && err.contains("in batches of 3"),
        "{err}"
    );
    let npy = |p: &Path| p.with_extension("per_seq.npy");
    assert_eq!(
        read(&npy(&merged)),
        read(&npy(&whole)),
        "merged per-sequence array"
    );

    // A sweep over the first shard's output resumes it: only the other groups run, and the file
    // ends equal to the whole sweep. A token set is its ids (review 10c item 10): the same ids
    // under another file name (and dtype) resume it, saying so, and the new rows name the token
    // set as the kept ones do, so the file still equals the whole sweep.
    let resumed = dir.path().join("shard0.csv");
    let same = dir.path().join("same_ids.npy");
    std::fs::copy(eval_fixtures().join("tokens_i32.npy"), &same).unwrap();
    let rerun = |tokens: &Path, extra: &[&str]| {
        ceq()
            .arg("eval")
            .arg("--manifest")
            .arg(&m)
            .arg("--tokens")
            .arg(tokens)
            .args(["--batch", "3", "--out"])
            .arg(&resumed)
            .args(extra)
            .assert()
    };
    let out = rerun(&same, &[]).success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("already there"), "{err}");
    assert!(
        err.contains("this run's same_ids.npy holds the token set its rows name tokens.npy")
            && err.contains("every row, kept or new, names it tokens.npy"),
        "{err}"
    );
    assert_eq!(read(&resumed), read(&whole), "resumed CSV");

    // Other ids are refused, naming both token sets, and the file is left as it was.
    let other = dir.path().join("other.npy");
    let mut ids = read(&eval_fixtures().join("tokens.npy"));
    let last = ids.len() - 8; // the last id, little-endian int64
    ids[last] = if ids[last] == 3 { 4 } else { 3 };
    std::fs::write(&other, ids).unwrap();
    let before = read(&resumed);
    let out = rerun(&other, &[]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("measured on tokens.npy fnv1a64:") && err.contains("this run on other.npy"),
        "{err}"
    );
    assert_eq!(read(&resumed), before);
    // So are the same ids scored at other positions.
    let out = rerun(&same, &["--keep-special"]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("(all positions)"), "{err}");
    assert_eq!(read(&resumed), before);
    // So is another batch size: SAEBench's per-batch metrics of the old rows would not be the
    // new rows'.
    let out = ceq()
        .arg("eval")
        .arg("--manifest")
        .arg(&m)
        .arg("--tokens")
        .arg(eval_fixtures().join("tokens.npy"))
        .args(["--batch", "5", "--out"])
        .arg(&resumed)
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("batches of 3 sequences, this run of 5 (rerun in batches of 3"),
        "{err}"
    );
    assert_eq!(read(&resumed), before);
}

/// A batch larger than the 8 sequences runs as one batch of 8, and is recorded so (it was recorded
/// as given); a rerun with another size that also covers every sequence resumes the file.
#[test]
fn a_batch_beyond_the_sequences_is_recorded_as_run() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), &ROWS[..2]);
    let out = dir.path().join("splices.csv");
    let run = |batch: &str| {
        let mut c = ceq();
        c.arg("eval").arg("--manifest").arg(&m).arg("--tokens");
        c.arg(eval_fixtures().join("tokens.npy"));
        c.args(["--batch", batch, "--out"])
            .arg(&out)
            .assert()
            .success()
    };
    run("100");
    let (header, rows) = table(&out);
    let col = header.iter().position(|h| h == "batch").unwrap();
    assert!(rows.iter().all(|r| r[col] == "8"), "{rows:?}");
    let before = std::fs::read(&out).unwrap();
    let a = run("64");
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(!err.contains("batches of"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

#[test]
fn a_family_manifest_names_the_hosts_and_map_reads_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), &ROWS);
    // The family names the fixture hosts; the sweep's model column points at their folders.
    let family = dir.path().join("family.csv");
    write(
        &family,
        "name,path,tokens,loss\nsmall-gpt2,fx/gpt2,2e6,3.1\nsmall-neox,fx/neox,3e6,3.2\n",
    );
    let out = dir.path().join("splices.csv");
    let a = sweep(
        &m,
        &out,
        &[
            "--family",
            family.to_str().unwrap(),
            "--param-count",
            "non-embedding",
        ],
    )
    .success();
    // The family manifest's column the sweep does not read is said, as eval-family says it.
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("column(s) loss are not read"), "{err}");
    let (header, rows) = table(&out);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    for r in &rows {
        let (host, tokens) = if r[col("name")] == "b" || r[col("name")] == "e" {
            ("small-neox", "3000000")
        } else {
            ("small-gpt2", "2000000")
        };
        assert_eq!(r[col("model")], host);
        assert_eq!(r[col("tokens")], tokens);
    }
    // Non-embedding counts as eval-family writes them for the same folders.
    let ck = dir.path().join("checkpoints.csv");
    ceq()
        .arg("eval-family")
        .arg("--manifest")
        .arg(&family)
        .arg("--tokens")
        .arg(eval_fixtures().join("tokens.npy"))
        .args(["--batch", "3", "--param-count", "non-embedding", "--out"])
        .arg(&ck)
        .assert()
        .success();
    let (fh, frows) = table(&ck);
    let fcol = |n: &str| fh.iter().position(|h| h == n).unwrap();
    for f in &frows {
        for r in rows.iter().filter(|r| r[col("model")] == f[fcol("name")]) {
            assert_eq!(
                r[col("params")],
                f[fcol("params")],
                "params of {}",
                f[fcol("name")]
            );
            // The same token set, named the same way, and the same clean CE.
            assert_eq!(r[col("eval_tokens")], f[fcol("eval_tokens")]);
            let (a, b): (f64, f64) = (
                r[col("ce_clean")].parse().unwrap(),
                f[fcol("loss")].parse().unwrap(),
            );
            assert!((a - b).abs() < 1e-9, "ce_clean {a} vs family loss {b}");
        }
    }
    // map reads the sweep as a splices file, with each host's compute 6·N·D in the law's count:
    // this law counts total parameters, so params_total, though `params` is non-embedding here.
    let law = super::common::fit_to(
        dir.path(),
        Path::new(&super::common::data("checkpoints.csv")),
        "law.json",
        &[],
    );
    let mapped = dir.path().join("mapped.csv");
    ceq()
        .arg("map")
        .arg("--law")
        .arg(&law)
        .arg("--splices")
        .arg(&out)
        .arg("--out")
        .arg(&mapped)
        .assert()
        .success();
    let (mh, mrows) = table(&mapped);
    let mc = |n: &str| mh.iter().position(|h| h == n).unwrap();
    assert_eq!(mrows.len(), 5);
    for (r, s) in mrows.iter().zip(&rows) {
        let total: f64 = s[col("params_total")].parse().unwrap();
        assert!(total > s[col("params")].parse::<f64>().unwrap());
        let want = 6.0 * total * s[col("tokens")].parse::<f64>().unwrap();
        let got: f64 = r[mc("compute_actual")].parse().unwrap();
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
    }
}

#[test]
fn a_sweep_manifests_columns_it_does_not_read_are_said() {
    // `Hook` is not `hook`: the SAE's own hook is used, and the column named, not dropped unsaid.
    let dir = tempfile::tempdir().unwrap();
    manifest(dir.path(), &[]);
    let m = dir.path().join("saes.csv");
    write(
        &m,
        "name,model,sae,Hook,lr\na,fx/gpt2,fx/saes/gpt2-l0-resid_mid-topk-v6,blocks.1.hook_resid_pre,3e-4\n",
    );
    let out = dir.path().join("splices.csv");
    let a = sweep(&m, &out, &[]).success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let want = "saes.csv: column(s) Hook (did you mean 'hook'?), lr are not read \
                (a manifest's are name, model, sae, hook;";
    assert!(err.contains(want), "{err}");
    let (header, rows) = table(&out);
    let hook = header.iter().position(|h| h == "hook").unwrap();
    assert_eq!(rows[0][hook], "blocks.0.hook_resid_mid");
}

/// An SAE that reads as a row but whose weights do not load is found when its host is reached,
/// maybe hours in: the error names its manifest line and name (it named the weights file alone),
/// and the hosts finished before it are kept.
#[test]
fn an_sae_failing_to_load_mid_sweep_is_named_by_its_manifest_line() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged");
    std::fs::create_dir(&damaged).unwrap();
    let from = eval_fixtures().join("saes/neox-l1-attn_out-topk-v6");
    std::fs::copy(from.join("cfg.json"), damaged.join("cfg.json")).unwrap();
    let weights = std::fs::read(from.join("sae_weights.safetensors")).unwrap();
    let cut = damaged.join("sae_weights.safetensors");
    std::fs::write(&cut, &weights[..weights.len() / 2]).unwrap();
    let m = manifest(dir.path(), &ROWS[..1]);
    let text = std::fs::read_to_string(&m).unwrap() + "b,fx/neox,damaged,\n";
    write(&m, &text);
    let out = dir.path().join("x.csv");
    let run = sweep(&m, &out, &[]).failure();
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    let listed = format!("{}:3: 'b': ", m.display());
    assert!(
        err.contains(&listed) && err.contains(&*cut.to_string_lossy()),
        "{err}"
    );
    let (header, rows) = table(&out);
    let name = header.iter().position(|c| c == "name").unwrap();
    let kept: Vec<&str> = rows.iter().map(|r| r[name].as_str()).collect();
    assert_eq!(kept, ["a"]);
}

#[test]
fn sweep_manifests_with_mistakes_are_refused_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let check = |rows: &[(&str, &str, &str, &str)], want: &[&str]| {
        let m = manifest(dir.path(), rows);
        let out = sweep(&m, &dir.path().join("x.csv"), &[]).failure();
        let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(!err.contains("panicked"), "{err}");
        for w in want {
            assert!(err.contains(w), "{w:?} not in: {err}");
        }
        assert!(!dir.path().join("x.csv").exists());
    };
    check(
        &[ROWS[0], ("a", "neox", "neox-l1-attn_out-topk-v6", "")],
        &["saes.csv:3", "'a' is named twice"],
    );
    check(
        &[("a", "gpt3", "gpt2-l0-resid_mid-topk-v6", "")],
        &["saes.csv:2", "model", "gpt3"],
    );
    check(&[("a", "gpt2", "nope", "")], &["saes.csv:2", "sae", "nope"]);
    // A model folder as the SAE, an SAE folder as the model: said with the manifest's line.
    check(
        &[("a", "gpt2", "../gpt2", "")],
        &["saes.csv:2: column 'sae'", "'a'", "has no cfg.json"],
    );
    check(
        &[(
            "a",
            "saes/gpt2-l0-resid_mid-topk-v6",
            "gpt2-l0-resid_mid-topk-v6",
            "",
        )],
        &["saes.csv:2: column 'model'", "'a'", "no config.json"],
    );
    check(
        &[(
            "a",
            "gpt2",
            "gpt2-l0-resid_mid-topk-v6",
            "blocks.0.hook_nothing",
        )],
        &["saes.csv:2", "hook"],
    );
    // A hook the host does not have: said by line before any host is evaluated, not when the
    // sweep reaches it.
    check(
        &[
            ROWS[0],
            (
                "b",
                "gpt2",
                "gpt2-l0-resid_mid-topk-v6",
                "blocks.7.hook_resid_post",
            ),
        ],
        &["saes.csv:3", "'b'", "the model has 2 blocks"],
    );
    check(
        &[(
            "a",
            "neox",
            "neox-l1-attn_out-topk-v6",
            "blocks.0.hook_resid_mid",
        )],
        &["saes.csv:2", "in parallel, so there is no resid_mid"],
    );
    // Hosts that read the tokens otherwise (other special ids: other positions scored) were
    // measured under one eval_tokens label with exit 0 (review): refused by line, before any work.
    let g2 = dir.path().join("g2");
    std::fs::create_dir(&g2).unwrap();
    for f in std::fs::read_dir(eval_fixtures().join("gpt2")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, g2.join(f.file_name().unwrap())).unwrap();
    }
    let cfg = std::fs::read_to_string(g2.join("config.json")).unwrap();
    assert!(cfg.contains("\"eos_token_id\": 1"));
    write(
        &g2.join("config.json"),
        &cfg.replace("\"eos_token_id\": 1", "\"eos_token_id\": 5"),
    );
    let sae = eval_fixtures().join("saes/gpt2-l1-resid_pre-standard-v6");
    let (g1, sae) = (eval_fixtures().join("gpt2"), sae.display());
    let m = dir.path().join("special.csv");
    let rows = format!("a,{},{sae}\nb,{},{sae}\n", g1.display(), g2.display());
    write(&m, &format!("name,model,sae\n{rows}"));
    let out = sweep(&m, &dir.path().join("x.csv"), &[]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("special.csv:3") && err.contains("read tokens differently"),
        "{err}"
    );
    assert!(!dir.path().join("x.csv").exists());

    // Two host folders of one name (run1/final, run2/final) were one `model` in every output
    // (review): refused by line; one folder written two ways is one host.
    for run in ["r1", "r2"] {
        let to = dir.path().join(run).join("final");
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(eval_fixtures().join("gpt2")).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
        }
    }
    let other = eval_fixtures().join("saes/gpt2-l0-resid_mid-topk-v6");
    let other = other.display();
    let m = dir.path().join("finals.csv");
    write(
        &m,
        &format!("name,model,sae\na,r1/final,{sae}\nb,./r1/final,{other}\n"),
    );
    sweep(&m, &dir.path().join("y.csv"), &[]).success();
    write(
        &m,
        &format!("name,model,sae\na,r1/final,{sae}\nb,r2/final,{sae}\n"),
    );
    let out = sweep(&m, &dir.path().join("x.csv"), &[]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("finals.csv:3") && err.contains("two hosts both named 'final'"),
        "{err}"
    );

    // --format was ignored by a sweep, which writes CSV (review): refused.
    let m = manifest(dir.path(), &ROWS[..1]);
    let out = sweep(&m, &dir.path().join("x.csv"), &["--format", "json"]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("'--manifest <CSV>' cannot be used with '--format"),
        "{err}"
    );

    // A family manifest that lacks the host.
    let m = manifest(dir.path(), &ROWS[..1]);
    let family = dir.path().join("family.csv");
    write(&family, "name,path,tokens\nonly-neox,fx/neox,1e6\n");
    let out = sweep(
        &m,
        &dir.path().join("x.csv"),
        &["--family", family.to_str().unwrap()],
    )
    .failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("saes.csv:2") && err.contains("family manifest"),
        "{err}"
    );
}

/// Shards of another job are not joined (review 11b): one run with another parameter count, or
/// from a manifest with a row added (whose row the merge would lose), or after a host's files
/// changed between the shards' runs (its rows would hold two versions of it). Each is refused,
/// naming what differs; the shards of one job still merge.
/// A shard with no (model, hook) group checks what is at `--out` as any shard does before writing
/// its empty file (review of stop 40: it replaced a finished sweep, a checkpoints file or a
/// user's CSV with a header, exit 0, and never read `--tokens`).
#[test]
fn a_shard_with_nothing_to_do_replaces_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), &ROWS[..2]);
    let whole = dir.path().join("whole.csv");
    sweep(&m, &whole, &[]).success();
    let notes = dir.path().join("notes.csv");
    write(&notes, "my,own\n1,2\n");
    for out in [&whole, &notes] {
        let before = std::fs::read(out).unwrap();
        sweep(&m, out, &["--shard", "2/3"]).failure();
        assert_eq!(std::fs::read(out).unwrap(), before, "{}", out.display());
    }
    // Its own earlier empty file is rerun over, and its tokens are read.
    let empty = dir.path().join("empty.csv");
    sweep(&m, &empty, &["--shard", "2/3"]).success();
    sweep(&m, &empty, &["--shard", "2/3"]).success();
    ceq()
        .args(["eval", "--manifest"])
        .arg(&m)
        .args(["--tokens", "no-such.npy", "--shard", "2/3", "--out"])
        .arg(dir.path().join("e.csv"))
        .assert()
        .failure();
}

#[test]
fn shards_of_another_job_are_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    // The host copied, so that its files can change.
    let host = dir.path().join("host");
    std::fs::create_dir(&host).unwrap();
    for f in ["config.json", "model.safetensors"] {
        std::fs::copy(eval_fixtures().join("gpt2").join(f), host.join(f)).unwrap();
    }
    let m = manifest(dir.path(), &[]);
    let fx = |s: &str| format!("fx/saes/{s}");
    let rows = format!(
        "name,model,sae,hook\na,host,{},\nc,host,{},blocks.1.hook_resid_pre\n",
        fx("gpt2-l0-resid_mid-topk-v6"),
        fx("gpt2-l1-resid_pre-standard-v6")
    );
    write(&m, &rows);
    let shard = |i: usize, name: &str, extra: &[&str]| {
        let p = dir.path().join(name);
        let mut args = vec!["--shard".to_owned(), format!("{i}/2")];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        sweep(&m, &p, &args).success();
        p
    };
    let merge = |files: &[&PathBuf]| {
        let out = dir.path().join("merged.csv");
        let _ = std::fs::remove_file(&out);
        ceq()
            .arg("merge")
            .args(files)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let fails = |files: &[&PathBuf], want: &[&str]| {
        let out = merge(files);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "merged: {err}");
        for w in want {
            assert!(err.contains(w), "no '{w}' in: {err}");
        }
    };
    let s0 = shard(0, "s0.csv", &[]);
    let s1 = shard(1, "s1.csv", &[]);
    assert!(merge(&[&s0, &s1]).status.success());

    let ne = shard(1, "ne1.csv", &["--param-count", "non-embedding"]);
    fails(
        &[&s0, &ne],
        &["param_count non-embedding (the other: total)"],
    );

    // A row added to the manifest after shard 0 ran.
    write(
        &m,
        &format!(
            "{rows}d,host,{},\n",
            fx("gpt2-l0-resid_mid-standard-v2_flat")
        ),
    );
    let added = shard(1, "added1.csv", &[]);
    fails(&[&s0, &added], &["manifest fnv1a64:"]);
    write(&m, &rows);

    // The host's time kept to the second only (a copy restored from an archive) between the runs:
    // the same file, as a resume judges it (review 11d: merge compared to the nanosecond).
    let w = host.join("model.safetensors");
    let t = std::fs::metadata(&w).unwrap().modified().unwrap();
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let whole = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(&w)
        .unwrap()
        .set_modified(whole)
        .unwrap();
    let restored = shard(1, "restored1.csv", &[]);
    assert!(
        merge(&[&s0, &restored]).status.success(),
        "{}",
        String::from_utf8_lossy(&merge(&[&s0, &restored]).stderr)
    );

    // The host's weights rewritten (the same bytes, a new modification time) before shard 1 ran.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let bytes = std::fs::read(&w).unwrap();
    std::fs::write(&w, bytes).unwrap();
    let later = shard(1, "later1.csv", &[]);
    fails(
        &[&s0, &later],
        &["model.safetensors", "changed between the shards' runs"],
    );
}

/// A second run on an output another run is writing stops at once, naming the lock, and writes
/// nothing (review 11b: two array tasks given one --out left a half file that read as finished);
/// once the lock is free, the run goes on and removes its lock file. The lock is a hidden file in
/// ceq's own names: a user's `s.lock` is never touched (review 11d: it was deleted), and a lock
/// file left read-only by another user's killed run still locks.
#[test]
fn an_output_being_written_is_not_written_twice() {
    let dir = tempfile::tempdir().unwrap();
    let m = manifest(dir.path(), &ROWS[..1]);
    let out = dir.path().join("s.csv");
    // The lock as a running ceq holds it.
    let mine = write_in(dir.path(), "s.lock");
    let lock = dir.path().join(".ceq-s.csv.lock");
    let held = std::fs::File::create(&lock).unwrap();
    held.lock().unwrap();
    let r = sweep(&m, &out, &[]).failure();
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(
        err.contains("another ceq is writing it now") && err.contains(".ceq-s.csv.lock"),
        "{err}"
    );
    assert!(!out.exists());
    // A link to the output is the output (review: a run given the link took a lock of its own
    // name, and the two runs wrote one CSV at once).
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("s.csv", &link).unwrap();
    let r = sweep(&m, &link, &[]).failure();
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(err.contains("another ceq is writing it now"), "{err}");
    std::fs::remove_file(&link).unwrap();
    // eval-family on it, and a plain eval whose table is written under the lock too (review: one
    // that began before a sweep on its --out replaced the sweep's finished rows when it ended).
    let fam = root("tests/fixtures/family");
    let mut family = ceq();
    family
        .arg("eval-family")
        .arg("--manifest")
        .arg(fam.join("family.csv"))
        .arg("--tokens")
        .arg(fam.join("tokens.npy"));
    let mut eval = eval_in_gpt2("gpt2-l0-resid_mid-topk-v6");
    eval.args(["--batch", "3"]);
    for cmd in [&mut family, &mut eval] {
        let r = cmd.arg("--out").arg(&out).assert().failure();
        let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
        assert!(err.contains("another ceq is writing it now"), "{err}");
    }
    assert!(!out.exists());
    held.unlock().unwrap();
    drop(held);
    // Unfinished copies a killed run left beside its outputs (tempfile's 6 characters after the
    // prefix) go when the next run takes the lock; a file of another name stays.
    let left = ["s.csv-Ab12Cd", "s.per_seq.npy-x9Y8z7", "s.run.json-000000"]
        .map(|n| write_in(dir.path(), &format!(".ceq-{n}")));
    let other = write_in(dir.path(), ".ceq-s.csv-old-Ab12Cd");
    // Left read-only by a killed run: taken all the same, and removed.
    std::fs::set_permissions(&lock, std::fs::Permissions::from_mode(0o444)).unwrap();
    sweep(&m, &out, &[]).success();
    assert!(out.exists() && !lock.exists());
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "partial");
    for l in &left {
        assert!(!l.exists(), "{} left", l.display());
    }
    assert!(other.exists());
    // Through a link, the run resumes the target's rows and writes nothing beside the link.
    std::os::unix::fs::symlink("s.csv", &link).unwrap();
    sweep(&m, &link, &[]).success();
    assert!(link.is_symlink() && !dir.path().join("link.run.json").exists());
}

fn write_in(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    write(&p, "partial");
    p
}

/// Rows are named by the manifest, not by their SAE's folder: one SAE at two hooks of one host
/// (or two sparsify `layers.N` folders of other runs) is two rows (review: refused as "both named
/// 'gpt2-l0-…'", with a fix to list them in a sweep manifest, which they were).
#[test]
fn one_sae_folder_on_two_rows_of_a_host_is_two_rows() {
    let dir = tempfile::tempdir().unwrap();
    let sae = "gpt2-l0-resid_mid-topk-v6";
    let rows = [
        ("mid", "gpt2", sae, ""),
        ("pre", "gpt2", sae, "blocks.0.hook_resid_pre"),
    ];
    let out = dir.path().join("s.csv");
    sweep(&manifest(dir.path(), &rows), &out, &[]).success();
    let (header, got) = table(&out);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let names: Vec<&str> = got.iter().map(|r| r[col("name")].as_str()).collect();
    assert_eq!(names, ["mid", "pre"]);
    let hooks: Vec<&str> = got.iter().map(|r| r[col("hook")].as_str()).collect();
    assert_eq!(
        hooks,
        ["blocks.0.hook_resid_mid", "blocks.0.hook_resid_pre"]
    );
    assert_ne!(got[0][col("ce_spliced")], got[1][col("ce_spliced")]);
}
