//! `ceq eval-family` and `ceq merge` on the fixture family (tests/fixtures/family, made by
//! make_family.py with PyTorch): CE and parameter counts against PyTorch's, the same clean CE as
//! `ceq eval`, fit → map end to end (a family, and one training run with the run law), resume
//! after a kill, shards merged, and the refusals.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::common::{ceq, write};

fn family() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/family")
}

fn rows(csv: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(csv).unwrap();
    r.records().map(Result::unwrap).collect()
}

fn col(csv: &Path, name: &str) -> usize {
    let mut r = csv::Reader::from_path(csv).unwrap();
    r.headers().unwrap().iter().position(|h| h == name).unwrap()
}

/// `ceq eval-family --manifest M --tokens T --out OUT EXTRA`.
pub(crate) fn eval_family(
    manifest: &Path,
    tokens: &Path,
    out: &Path,
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    ceq()
        .arg("eval-family")
        .arg("--manifest")
        .arg(manifest)
        .arg("--tokens")
        .arg(tokens)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}

/// An int64 .npy [rows, ctx] (NumPy format 1.0).
fn write_npy(path: &Path, ids: &[i64], ctx: usize) {
    let mut h = format!(
        "{{'descr': '<i8', 'fortran_order': False, 'shape': ({}, {ctx}), }}",
        ids.len() / ctx
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend((h.len() as u16).to_le_bytes());
    b.extend(h.as_bytes());
    b.extend(ids.iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, b).unwrap();
}

fn fixture_ids() -> Vec<i64> {
    let b = std::fs::read(family().join("tokens.npy")).unwrap();
    let start = 10 + u16::from_le_bytes([b[8], b[9]]) as usize;
    b[start..]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn family_matches_pytorch_ce_and_parameter_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("checkpoints.csv");
    eval_family(
        &family().join("family.csv"),
        &family().join("tokens.npy"),
        &out,
        &[],
    )
    .success();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(family().join("reference.json")).unwrap())
            .unwrap();
    let got = rows(&out);
    assert_eq!(got.len(), 12);
    let c = |n: &str| col(&out, n);
    let mut worst = 0f64;
    for r in &got {
        let want = &reference["checkpoints"][&r[c("name")]];
        let loss: f64 = r[c("loss")].parse().unwrap();
        worst = worst.max((loss - want["ce_clean"].as_f64().unwrap()).abs());
        assert_eq!(
            r[c("params_total")],
            want["params_total"].to_string(),
            "{}",
            &r[0]
        );
        assert_eq!(
            r[c("params_non_embedding")],
            want["params_non_embedding"].to_string()
        );
        assert_eq!(r[c("params")], r[c("params_total")]);
        assert_eq!(r[c("n_tokens")], want["n_tokens"].to_string());
        let se: f64 = r[c("loss_se")].parse().unwrap();
        assert!((se - want["se_ce_clean"].as_f64().unwrap()).abs() < 2e-4);
        let (p, t): (f64, f64) = (
            r[c("params")].parse().unwrap(),
            r[c("tokens")].parse().unwrap(),
        );
        assert_eq!(r[c("compute")].parse::<f64>().unwrap(), 6.0 * p * t);
    }
    assert!(worst < 2e-4, "largest |CE − PyTorch's| {worst}");
    // Beside the CSV, each checkpoint's per-sequence mean CE, in the CSV's row order.
    let bytes = std::fs::read(out.with_extension("per_seq.npy")).unwrap();
    let npy = npyz::NpyFile::new(&bytes[..]).unwrap();
    assert_eq!(npy.shape(), &[12, 8]);
    let per_seq: Vec<f64> = npy.into_vec().unwrap();
    for (i, r) in got.iter().enumerate() {
        let want = reference["checkpoints"][&r[c("name")]]["per_seq"]
            .as_array()
            .unwrap();
        assert_eq!(want.len(), 8);
        for (j, w) in want.iter().enumerate() {
            let (g, w) = (per_seq[i * 8 + j], w.as_f64().unwrap_or(f64::NAN));
            assert!(
                (g - w).abs() < 2e-4 || (g.is_nan() && w.is_nan()),
                "{} seq {j}: {g} vs {w}",
                &r[0]
            );
        }
    }
    eprintln!("largest |CE − PyTorch's| over 12 checkpoints: {worst:.2e}");

    // The non-embedding count, and tokens from steps.
    let m = write(
        dir.path(),
        "m.csv",
        &format!(
            "name,path,run,step\nb,{}/neox_d16_s80,neox_d16,80\n",
            family().display()
        ),
    );
    let out2 = dir.path().join("ne.csv");
    eval_family(
        &m,
        &family().join("tokens.npy"),
        &out2,
        &[
            "--param-count",
            "non-embedding",
            "--tokens-per-step",
            "1024",
        ],
    )
    .success();
    let r = &rows(&out2)[0];
    assert_eq!(r[col(&out2, "params")], *"6592");
    assert_eq!(r[col(&out2, "tokens")], *"81920");
}

#[test]
fn clean_pass_gives_ceq_evals_ce_clean() {
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval");
    let dir = tempfile::tempdir().unwrap();
    let m = write(
        dir.path(),
        "m.csv",
        &format!(
            "name,path,tokens\ngpt2,{0}/gpt2,1000\nneox,{0}/neox,1000\n",
            eval.display()
        ),
    );
    let out = dir.path().join("f.csv");
    eval_family(&m, &eval.join("tokens.npy"), &out, &["--batch", "3"]).success();
    for (r, (model, sae)) in rows(&out).iter().zip([
        ("gpt2", "gpt2-l1-resid_pre-standard-v6"),
        ("neox", "neox-l1-attn_out-topk-v6"),
    ]) {
        let o = ceq()
            .args(["eval", "--format", "csv", "--batch", "3", "--model"])
            .arg(eval.join(model))
            .arg("--sae")
            .arg(eval.join("saes").join(sae))
            .arg("--tokens")
            .arg(eval.join("tokens.npy"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut rd = csv::Reader::from_reader(&o.stdout[..]);
        let i = rd
            .headers()
            .unwrap()
            .iter()
            .position(|h| h == "ce_clean")
            .unwrap();
        let e = rd.records().next().unwrap().unwrap();
        assert_eq!(
            r[col(&out, "loss")].parse::<f64>().unwrap(),
            e[i].parse::<f64>().unwrap(),
            "{model}"
        );
    }
}

#[test]
fn eval_family_then_fit_then_map() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("checkpoints.csv");
    eval_family(
        &family().join("family.csv"),
        &family().join("tokens.npy"),
        &out,
        &[],
    )
    .success();
    let law = super::common::fit_to(dir.path(), &out, "law.json", &["--form", "compute"]);
    // The chinchilla fit of this family puts E at 0 (exp(e) underflows): its law file must load.
    let chin = super::common::fit_to(dir.path(), &out, "chin.json", &[]);
    let sp0 = write(dir.path(), "sp0.csv", "name,ce_clean,ce_spliced\na,4,4.5\n");
    let o = ceq()
        .arg("map")
        .arg("--law")
        .arg(&chin)
        .arg("--splices")
        .arg(&sp0)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = &rows(&out)[col(&out, "name")..][0];
    let sp = write(
        dir.path(),
        "sp.csv",
        &format!(
            "name,ce_clean,ce_spliced\nsae,{},{}\n",
            &r[col(&out, "loss")],
            4.0
        ),
    );
    let o = ceq()
        .args(["map", "--format", "csv", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&sp)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("compute_equivalent"));
    // A per-sequence value damaged after the run (the last row's last one) made a rerun keep the
    // row, which every token bootstrap then refused, "evaluate again" as it advised notwithstanding;
    // the row is now measured again, to the same bytes (review 2026-12-02 (3)).
    let arrays = out.with_extension("per_seq.npy");
    let (csv0, npy0) = (
        std::fs::read(&out).unwrap(),
        std::fs::read(&arrays).unwrap(),
    );
    let mut damaged = npy0.clone();
    let at = damaged.len() - 8;
    let v = f64::from_le_bytes(damaged[at..].try_into().unwrap()) + 1.0;
    damaged[at..].copy_from_slice(&v.to_le_bytes());
    std::fs::write(&arrays, &damaged).unwrap();
    let o = eval_family(
        &family().join("family.csv"),
        &family().join("tokens.npy"),
        &out,
        &[],
    )
    .success();
    let err = String::from_utf8_lossy(&o.get_output().stderr).into_owned();
    assert!(
        err.contains("1 row(s)") && err.contains("measured again"),
        "{err}"
    );
    assert!(std::fs::read(&out).unwrap() == csv0 && std::fs::read(&arrays).unwrap() == npy0);
    // A mapped table is not written over the family's results (it was, exit 0, leaving their
    // arrays and record beside it: review 2026-12-02 (3)).
    let copy = dir.path().join("copy.csv");
    std::fs::copy(&out, &copy).unwrap();
    std::fs::copy(
        out.with_extension("run.json"),
        copy.with_extension("run.json"),
    )
    .unwrap();
    let o = ceq()
        .args(["map", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&sp)
        .arg("--out")
        .arg(&copy)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("copy.run.json"),
        "{err}"
    );
    assert_eq!(std::fs::read(&copy).unwrap(), csv0);
}

/// One training run is a family too (tests/fixtures/family/run: a tiny GPT-2 trained at a constant
/// learning rate, six checkpoints, steps 100…3200): manifest → eval-family → `fit --form run` → map.
/// Against PyTorch's CEs and an independent scipy fit of the run law to them (make_family.py).
#[test]
fn one_training_run_eval_family_fit_run_map() {
    let run = family().join("run");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("reference.json")).unwrap())
            .unwrap();
    let want = |name: &str, key: &str| reference["checkpoints"][name][key].as_f64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("checkpoints.csv");
    eval_family(&run.join("run.csv"), &run.join("tokens.npy"), &out, &[]).success();
    let c = |n: &str| col(&out, n);
    let got = rows(&out);
    assert_eq!(got.len(), 6);
    // PyTorch's CE at every checkpoint, and a loss that falls with every step (the run trained).
    let mut last = f64::INFINITY;
    let mut losses = vec![];
    for r in &got {
        let (name, loss): (&str, f64) = (&r[c("name")], r[c("loss")].parse().unwrap());
        assert!(
            (loss - want(name, "ce_clean")).abs() < 2e-4,
            "{name}: {loss}"
        );
        assert!(loss < last, "{name}: {loss} after {last}");
        last = loss;
        losses.push((name.to_owned(), r[c("step")].parse::<f64>().unwrap(), loss));
    }

    let law = dir.path().join("law.json");
    let o = ceq()
        .args(["fit", "--form", "run", "--checkpoints"])
        .arg(&out)
        .arg("--out")
        .arg(&law)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains(ceq::law::SCHEDULE_CAVEAT), "{said}");
    // E = 3.66 nats is above Hoffmann et al.'s start grid (ln E ≤ 1) but below every loss: no
    // warning that the data may not pin it down.
    let warned = String::from_utf8_lossy(&o.stderr);
    assert!(!warned.contains("start grid"), "{warned}");
    let lj: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
    assert_eq!(lj["run"]["tokens_per_step"].as_f64(), Some(1024.0));
    for p in ["E", "B", "beta"] {
        let (g, w) = (
            lj["params"][p].as_f64().unwrap(),
            reference["run_law"][p].as_f64().unwrap(),
        );
        assert!((g / w - 1.0).abs() < 1e-3, "{p}: ceq {g}, scipy {w}");
    }

    // Splices as good as each checkpoint of the run, on the last checkpoint as host.
    let host = losses.last().unwrap().2;
    let mut sp = String::from("name,ce_clean,ce_spliced\n");
    for (name, _, loss) in &losses {
        sp += &format!("as_{name},{host},{loss}\n");
    }
    let sp = write(dir.path(), "splices.csv", &sp);
    let map = |format: &str| {
        let o = ceq()
            .args(["map", "--format", format, "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&sp)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o.stdout
    };
    let csv_out = map("csv");
    let mut rd = csv::Reader::from_reader(&csv_out[..]);
    let h = rd.headers().unwrap().clone();
    let at = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mapped: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    let num = |r: &csv::StringRecord, n: &str| r[at(n)].parse::<f64>().unwrap();
    let step_host = num(&mapped[5], "step_equivalent");
    for (r, (name, step, _)) in mapped.iter().zip(&losses) {
        assert_eq!(r[at("status")], *"ok");
        let s = num(r, "step_equivalent");
        // scipy's fit puts the checkpoint's own loss at this step…
        let w = want(name, "step_equivalent");
        assert!((s / w - 1.0).abs() < 1e-4, "{name}: step {s}, scipy {w}");
        // …which is the checkpoint's own step, up to how well a power law fits this run (≤ 7 % here).
        assert!(
            (s / step).ln().abs() < 0.1,
            "{name}: step {s} for step {step}"
        );
        assert!((num(r, "tokens_equivalent") / (1024.0 * s) - 1.0).abs() < 1e-12);
        assert!((num(r, "compute_fraction") / (s / step_host) - 1.0).abs() < 1e-9);
    }
    // The caveat is said where the mapped steps are shown.
    let table = String::from_utf8(map("table")).unwrap();
    assert!(table.contains(ceq::law::SCHEDULE_CAVEAT), "{table}");
}

#[test]
fn killed_run_resumes_to_the_same_csv() {
    let dir = tempfile::tempdir().unwrap();
    // Many rows, so that each checkpoint takes long enough to kill the run between two of them.
    let ids: Vec<i64> = fixture_ids().repeat(64);
    let tokens = dir.path().join("big.npy");
    write_npy(&tokens, &ids, 32);
    let manifest = family().join("family.csv");
    let whole = dir.path().join("whole.csv");
    eval_family(&manifest, &tokens, &whole, &[]).success();

    let part = dir.path().join("part.csv");
    let bin = assert_cmd::cargo::cargo_bin("ceq");
    let mut child = std::process::Command::new(bin)
        .arg("eval-family")
        .arg("--manifest")
        .arg(&manifest)
        .arg("--tokens")
        .arg(&tokens)
        .arg("--out")
        .arg(&part)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !part.exists() && t0.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let n = rows(&part).len();
    assert!((1..12).contains(&n), "{n} rows when killed");
    // The killed run's rows are not the family: fit refuses them, saying how many are there.
    ceq()
        .args(["fit", "--form", "compute", "--checkpoints"])
        .arg(&part)
        .assert()
        .failure()
        .stderr(predicates::str::contains(format!(
            "holds {n} of the 12 rows"
        )));
    // Another policy on the same file is refused, naming the row.
    eval_family(&manifest, &tokens, &part, &["--keep-special"])
        .failure()
        .stderr(predicates::str::contains("all positions"));
    eval_family(&manifest, &tokens, &part, &[])
        .success()
        .stderr(predicates::str::contains(format!("{} already there", n)));
    assert_eq!(
        std::fs::read(&part).unwrap(),
        std::fs::read(&whole).unwrap()
    );
    let npy = |p: &Path| std::fs::read(p.with_extension("per_seq.npy")).unwrap();
    assert_eq!(
        npy(&part),
        npy(&whole),
        "per-sequence losses after a resume"
    );
    // A finished file: nothing to do, nothing changed.
    eval_family(&manifest, &tokens, &part, &[]).success();
    assert_eq!(
        std::fs::read(&part).unwrap(),
        std::fs::read(&whole).unwrap()
    );
}

#[test]
fn three_shards_merged_equal_the_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = (family().join("family.csv"), family().join("tokens.npy"));
    let whole = dir.path().join("whole.csv");
    eval_family(&manifest, &tokens, &whole, &[]).success();
    let bin = assert_cmd::cargo::cargo_bin("ceq");
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("s{i}.csv")))
        .collect();
    let children: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(i, s)| {
            std::process::Command::new(&bin)
                .arg("eval-family")
                .arg("--manifest")
                .arg(&manifest)
                .arg("--tokens")
                .arg(&tokens)
                .arg("--out")
                .arg(s)
                .arg("--shard")
                .arg(format!("{i}/3"))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    assert!(shards.iter().all(|s| rows(s).len() == 4));
    let all = dir.path().join("all.csv");
    ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&all)
        .assert()
        .success();
    assert_eq!(std::fs::read(&all).unwrap(), std::fs::read(&whole).unwrap());
    let npy = |p: &Path| std::fs::read(p.with_extension("per_seq.npy")).unwrap();
    assert_eq!(npy(&all), npy(&whole), "per-sequence losses after a merge");
    // One shard is a third of the family: a fit of it alone is refused, naming the way out.
    let err = fit_fails(&shards[1]);
    assert!(err.contains("s1.csv"), "{err}");
    assert!(
        err.contains("it is shard 1/3 of a job (") && err.contains("merge every shard"),
        "{err}"
    );
    // Through a link too: its records are beside its target.
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&shards[1], &link).unwrap();
    let err = fit_fails(&link);
    assert!(err.contains("it is shard 1/3 of a job ("), "{err}");
    // Merged again over its own output: replaced; over a file of the user's (the manifest): refused
    // and kept (review 12b).
    ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&all)
        .assert()
        .success();
    let mine = dir.path().join("family.csv");
    std::fs::copy(&manifest, &mine).unwrap();
    let err = merge_fails(
        &shards.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        &mine,
    );
    assert!(
        err.contains("a merge replaces only its own earlier output"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&mine).unwrap(),
        std::fs::read(&manifest).unwrap()
    );
    // Over a file of the shards' kind that a run wrote (its rows may be another manifest's), or a
    // merge holding a row none of the shards holds: refused and kept, with its arrays.
    let two = shards[..2].iter().map(|p| p.as_path()).collect::<Vec<_>>();
    let files = |p: &Path| {
        ["csv", "per_seq.npy", "run.json"].map(|e| std::fs::read(p.with_extension(e)).unwrap())
    };
    let before = files(&whole);
    let err = merge_fails(&two, &whole);
    assert!(err.contains("was not written by `ceq merge`"), "{err}");
    assert_eq!(files(&whole), before);
    // The one shard of a job over two of the checkpoints.
    let text = std::fs::read_to_string(&manifest).unwrap();
    let subset: Vec<String> = text
        .lines()
        .take(3)
        .enumerate()
        .map(|(i, l)| match i {
            0 => l.to_owned(),
            _ => l.replacen(",", &format!(",{}/", family().display()), 1),
        })
        .collect();
    let sub = dir.path().join("sub.csv");
    std::fs::write(&sub, subset.join("\n") + "\n").unwrap();
    let one = dir.path().join("one.csv");
    eval_family(&sub, &tokens, &one, &["--shard", "0/1"]).success();
    // The one shard of one is the whole job: not refused as a part (its two checkpoints are too
    // few for a law, which is what is said).
    let err = fit_fails(&one);
    assert!(!err.contains("shard") && err.contains("one.csv"), "{err}");
    let before = files(&all);
    let err = merge_fails(&[&one], &all);
    assert!(err.contains("is in none of the shards"), "{err}");
    assert_eq!(files(&all), before);
    // A shard run with the other parameter count in its params column is refused (review 11b:
    // merged, it fitted E = 3e-49).
    let ne = dir.path().join("ne1.csv");
    eval_family(
        &manifest,
        &tokens,
        &ne,
        &["--shard", "1/3", "--param-count", "non-embedding"],
    )
    .success();
    ceq()
        .arg("merge")
        .args([&shards[0], &ne, &shards[2]])
        .arg("--out")
        .arg(dir.path().join("ne.csv"))
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "param_count non-embedding (the other: total)",
        ));
    // A shard without its per-sequence losses is refused, naming the file.
    std::fs::remove_file(shards[1].with_extension("per_seq.npy")).unwrap();
    ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(dir.path().join("y.csv"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("per_seq.npy"));

    // Refused: a name twice, and another token set.
    ceq()
        .arg("merge")
        .arg(&shards[0])
        .arg(&whole)
        .arg("--out")
        .arg(dir.path().join("x.csv"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("is also in"));
    let other = dir.path().join("other.csv");
    let text = std::fs::read_to_string(&shards[1])
        .unwrap()
        .replace("fnv1a64:", "fnv1a64:0");
    std::fs::write(&other, text).unwrap();
    ceq()
        .arg("merge")
        .arg(&shards[0])
        .arg(&other)
        .arg("--out")
        .arg(dir.path().join("x.csv"))
        .assert()
        .failure()
        .stderr(predicates::str::contains("measured on"));
    // A shard record that cannot be read: whether the file is a shard cannot be told, so it is not
    // read as whole.
    std::fs::write(
        shards[2].with_extension("shard.json"),
        "{\"index\": 2, \"cou",
    )
    .unwrap();
    let err = fit_fails(&shards[2]);
    assert!(err.contains("s2.shard.json cannot be read"), "{err}");
    // A record edited to a shard no `--shard i/n` names (helper-92: "and 18446744073709551615
    // more").
    let record = std::fs::read_to_string(shards[0].with_extension("shard.json")).unwrap();
    assert!(record.contains("\"index\": 0"), "{record}");
    std::fs::write(
        shards[2].with_extension("shard.json"),
        record.replacen("\"index\": 0", "\"index\": 7", 1),
    )
    .unwrap();
    let err = merge_fails(&[&shards[0], &shards[2]], &dir.path().join("x.csv"));
    assert!(
        err.contains("records shard 7/3, which no `--shard i/n` names"),
        "{err}"
    );
}

/// Arrays beside a shard that are not its rows' (another shard's, or measured on fewer sequences)
/// are refused, naming the shard, not merged into a file whose rows are not their sequences' means
/// (review of stop 40: it wrote a malformed .npy, exit 0).
#[test]
fn merge_refuses_arrays_that_are_not_the_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (manifest, tokens) = (family().join("family.csv"), family().join("tokens.npy"));
    let shards: Vec<PathBuf> = (0..2).map(|i| d.join(format!("s{i}.csv"))).collect();
    for (i, s) in shards.iter().enumerate() {
        eval_family(&manifest, &tokens, s, &["--shard", &format!("{i}/2")]).success();
    }
    let arrays = ["per_seq.npy", "per_seq_n.npy"];
    let put = |from: &Path, to: &Path| {
        for e in arrays {
            std::fs::copy(from.with_extension(e), to.with_extension(e)).unwrap();
        }
    };
    let keep = d.join("keep.csv");
    put(&shards[1], &keep);
    let out = d.join("all.csv");
    let inputs: Vec<&Path> = shards.iter().map(|p| p.as_path()).collect();

    // Shard 0's arrays (as many rows) beside shard 1.
    put(&shards[0], &shards[1]);
    let err = merge_fails(&inputs, &out);
    let s1 = shards[1].with_extension("per_seq.npy");
    assert!(
        err.contains(&s1.display().to_string())
            && err.contains("is not their mean")
            && err.contains("run this shard again"),
        "{err}"
    );
    assert!(!out.exists());

    // Shard 1's arrays from a run on the first half of the sequences.
    let ids = fixture_ids();
    let half = d.join("half.npy");
    write_npy(&half, &ids[..ids.len() / 64 * 32], 32);
    let short = d.join("short.csv");
    eval_family(&manifest, &half, &short, &["--shard", "1/2"]).success();
    put(&short, &shards[1]);
    let err = merge_fails(&inputs, &out);
    assert!(
        err.contains(&s1.display().to_string()) && err.contains("is not their mean"),
        "{err}"
    );
    // Without counts (a shard of an older ceq) its means cannot be checked: the sequence count is
    // what tells, and the unchecked shard is the one named, in either order (review of stop 40:
    // the second was blamed).
    std::fs::remove_file(shards[1].with_extension("per_seq_n.npy")).unwrap();
    let n = ids.len() / 32;
    let s0 = shards[0].display().to_string();
    let err = merge_fails(&inputs, &out);
    assert!(
        err.contains(&s1.display().to_string())
            && err.contains(&format!("hold {} sequences a row, {s0}'s {n}", n / 2))
            && err.contains("this shard has no per-sequence counts")
            && err.contains("run this shard again"),
        "{err}"
    );
    let err = merge_fails(&[inputs[1], inputs[0]], &out);
    assert!(
        err.contains(&format!("{s0}: its per-sequence losses"))
            && err.contains(&format!("hold {n} sequences a row and are its rows'"))
            && err.contains("run that shard again"),
        "{err}"
    );
    assert!(!out.exists());

    // Its own arrays back: merged.
    put(&keep, &shards[1]);
    ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();

    // Through links: a shard's side files are read beside its target, and a merge through a link
    // to its earlier output replaces the target, the link kept (review of stop 40: both refused).
    #[cfg(unix)]
    {
        let sub = d.join("sub");
        std::fs::create_dir(&sub).unwrap();
        let link = sub.join("l1.csv");
        std::os::unix::fs::symlink(&shards[1], &link).unwrap();
        let via = d.join("via.csv");
        ceq()
            .arg("merge")
            .arg(&shards[0])
            .arg(&link)
            .arg("--out")
            .arg(&via)
            .assert()
            .success();
        assert_eq!(std::fs::read(&via).unwrap(), std::fs::read(&out).unwrap());
        let to_out = d.join("to_out.csv");
        std::os::unix::fs::symlink(&out, &to_out).unwrap();
        let before = std::fs::read(&out).unwrap();
        ceq()
            .arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(&to_out)
            .assert()
            .success();
        assert!(to_out.is_symlink());
        assert_eq!(std::fs::read(&out).unwrap(), before);
    }
}

/// A tokens per step that no row uses (every row gives its tokens) is not part of the job: a
/// shard run with it merges with one run without it, and the run says it is not used (review of
/// stop 40: refused as another job).
#[test]
fn an_unused_tokens_per_step_does_not_split_a_job() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (manifest, tokens) = (family().join("family.csv"), family().join("tokens.npy"));
    let (s0, s1) = (d.join("s0.csv"), d.join("s1.csv"));
    eval_family(&manifest, &tokens, &s0, &["--shard", "0/2"]).success();
    let a = eval_family(
        &manifest,
        &tokens,
        &s1,
        &["--shard", "1/2", "--tokens-per-step", "1024"],
    )
    .success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("every row gives its training tokens, so the tokens per step are not used"),
        "{err}"
    );
    let run = std::fs::read_to_string(s1.with_extension("shard.json")).unwrap();
    assert!(run.contains(r#""tokens_per_step": "none""#), "{run}");
    let merged = |out: &str| {
        let a = ceq()
            .arg("merge")
            .args([&s0, &s1])
            .arg("--out")
            .arg(d.join(out))
            .assert()
            .success();
        String::from_utf8_lossy(&a.get_output().stderr).into_owned()
    };
    merged("all.csv");
    assert!(d.join("all.per_seq_n.npy").exists());

    // A shard's position counts removed: merged without them, said (a token bootstrap of the
    // merged file needs them); damaged: refused, the file named.
    let counts = s1.with_extension("per_seq_n.npy");
    let bytes = std::fs::read(&counts).unwrap();
    std::fs::remove_file(&counts).unwrap();
    let err = merged("uncounted.csv");
    let want = format!(
        "warning: {} has no per-sequence position counts",
        s1.display()
    );
    assert!(err.contains(&want) && err.contains("merge again"), "{err}");
    assert!(!d.join("uncounted.per_seq_n.npy").exists());
    std::fs::write(&counts, &bytes[..bytes.len() - 8]).unwrap();
    let err = merge_fails(&[&s0, &s1], &d.join("damaged.csv"));
    assert!(
        err.contains(&format!(
            "its per-sequence position counts ({})",
            counts.display()
        )),
        "{err}"
    );
    assert!(!d.join("damaged.csv").exists());
}

/// `ceq fit --checkpoints CHECKPOINTS`, which must fail; returns stderr.
fn fit_fails(checkpoints: &Path) -> String {
    let a = ceq()
        .arg("fit")
        .arg("--checkpoints")
        .arg(checkpoints)
        .assert()
        .failure();
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// `ceq merge INPUTS --out OUT`, which must fail; returns stderr.
fn merge_fails(inputs: &[&Path], out: &Path) -> String {
    let a = ceq()
        .arg("merge")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .assert()
        .failure();
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Every shard records which one it is and the rows it holds when done, so a merge refuses a shard
/// left out, a shard that stopped part-way, and a file that says nothing of its shard.
#[test]
fn merge_refuses_a_missing_or_unfinished_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (manifest, tokens) = (family().join("family.csv"), family().join("tokens.npy"));
    let shard = |i: usize, n: usize, m: &Path| {
        let out = d.join(format!("s{i}of{n}.csv"));
        let a = eval_family(m, &tokens, &out, &["--shard", &format!("{i}/{n}")]);
        (out, a)
    };
    let (s0, a) = shard(0, 3, &manifest);
    a.success();
    let (s2, a) = shard(2, 3, &manifest);
    a.success();
    let out = d.join("merged.csv");
    let err = merge_fails(&[&s0, &s2], &out);
    assert!(
        err.contains("shard 1/3") && err.contains("missing") && err.contains("merge again"),
        "{err}"
    );
    assert!(!out.exists());

    // Shards of two cuttings (0/3 and 1/2 share a checkpoint): the counts are said to differ, not
    // that a name is in two files.
    let half = d.join("half.csv");
    eval_family(&manifest, &tokens, &half, &["--shard", "1/2"]).success();
    let err = merge_fails(&[&s0, &half], &out);
    let want = format!("it is shard 1/2, but {} is shard 0/3", s0.display());
    assert!(err.contains(&want), "{err}");
    assert!(!out.exists());

    // A file that records no shard (an older ceq's, or a record lost) is refused, named.
    let (s1, a) = shard(1, 3, &manifest);
    a.success();
    std::fs::remove_file(s1.with_extension("shard.json")).unwrap();
    let err = merge_fails(&[&s0, &s1, &s2], &out);
    assert!(
        err.contains(&s1.display().to_string()) && err.contains("records no shard"),
        "{err}"
    );
    assert!(!out.exists());

    // Shard 1 of 2 stops at its third checkpoint (weights cut short): two of its rows are on disk.
    let broken = d.join("broken");
    std::fs::create_dir(&broken).unwrap();
    let from = family().join("gpt2_d16_s40");
    std::fs::copy(from.join("config.json"), broken.join("config.json")).unwrap();
    let bytes = std::fs::read(from.join("model.safetensors")).unwrap();
    std::fs::write(broken.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let mut m = String::from("name,path,run,step,tokens\n");
    for (i, size) in ["d16", "d16", "d16", "d32", "d32", "d32"]
        .iter()
        .enumerate()
    {
        let step = [40, 80, 160][i % 3];
        let path = if i == 5 {
            broken.clone()
        } else {
            family().join(format!("gpt2_{size}_s{step}"))
        };
        m += &format!(
            "c{i},{},gpt2_{size},{step},{}\n",
            path.display(),
            step * 1024
        );
    }
    let m = write(d, "m.csv", &m);
    let (h0, a) = shard(0, 2, &m);
    a.success();
    let (h1, a) = shard(1, 2, &m);
    a.failure();
    assert_eq!(rows(&h1).len(), 2);
    let err = merge_fails(&[&h0, &h1], &out);
    assert!(
        err.contains("shard 1/2") && err.contains("c5") && err.contains("run it again"),
        "{err}"
    );
    assert!(!out.exists());
}

/// A copy of a fixture checkpoint with its config.json edited.
fn edited(dir: &Path, from: &str, to: &str, edit: &dyn Fn(&mut serde_json::Value)) -> PathBuf {
    let d = dir.join(to);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(
        family().join(from).join("model.safetensors"),
        d.join("model.safetensors"),
    )
    .unwrap();
    let mut cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(family().join(from).join("config.json")).unwrap(),
    )
    .unwrap();
    edit(&mut cfg);
    std::fs::write(d.join("config.json"), cfg.to_string()).unwrap();
    d
}

/// Training tokens come from a tokens column or from step × tokens per step; a manifest with
/// neither is refused for what is missing, and the command line names the option that gives it.
#[test]
fn a_manifest_without_training_tokens_asks_for_tokens_per_step() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let tokens = family().join("tokens.npy");
    let out = dir.path().join("o.csv");
    for (manifest, says) in [
        (
            format!("name,path,step\na,{f}/gpt2_d16_s40,40\n"),
            "no tokens column",
        ),
        (
            format!("name,path,step,tokens\na,{f}/gpt2_d16_s40,40,\n"),
            "m.csv: line 2",
        ),
    ] {
        let m = write(dir.path(), "m.csv", &manifest);
        for cmd in ["eval-family", "eval"] {
            let mut c = ceq();
            if cmd == "eval" {
                // A sweep names its hosts by the family manifest: the same refusal.
                let saes = write(
                    dir.path(),
                    "saes.csv",
                    &format!("name,model,sae\ns,a,{f}/gpt2_d16_s40\n"),
                );
                c.args(["eval", "--manifest"])
                    .arg(saes)
                    .arg("--family")
                    .arg(&m);
            } else {
                c.args(["eval-family", "--manifest"]).arg(&m);
            }
            let a = c
                .arg("--tokens")
                .arg(&tokens)
                .arg("--out")
                .arg(&out)
                .assert()
                .failure();
            let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
            assert!(
                err.contains(says)
                    && err.contains("training tokens")
                    && err.contains("--tokens-per-step N")
                    && !err.contains("column 'name'"),
                "{cmd}: {err}"
            );
            assert!(!out.exists());
        }
    }
}

/// Training tokens are a count: 1.5 from a manifest was taken (and gave compute 77760 with exit
/// 0) while `eval --trained-tokens 1.5` was refused (review). Refused by line and column, as is a
/// step times tokens per step that is not whole.
#[test]
fn training_tokens_are_a_whole_count() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let out = dir.path().join("o.csv");
    for (manifest, per, says) in [
        (
            format!(
                "name,path,tokens
a,{f}/gpt2_d16_s40,1.5
"
            ),
            None,
            "m.csv:2: column 'tokens' (column 3): checkpoint 'a': training tokens must be a whole \
             count ≥ 1, below 2^53, not '1.5'",
        ),
        (
            format!(
                "name,path,step
a,{f}/gpt2_d16_s40,0
"
            ),
            Some("1024"),
            "m.csv:2: column 'step' (column 3): checkpoint 'a': no training tokens, and its step \
             '0' times the tokens per step is not a whole count ≥ 1, below 2^53",
        ),
        // An empty path, or one naming a file, said as such (was "no folder " and a file's name).
        (
            "name,path,tokens\na,,40960\n".to_owned(),
            None,
            "m.csv:2: column 'path' (column 2): 'a': the cell is empty; give the folder's path",
        ),
        (
            format!("name,path,tokens\na,{f}/tokens.npy,40960\n"),
            None,
            "tokens.npy is a file, not a folder (paths are relative to this manifest's folder)",
        ),
        // A step is an optimiser step, a whole number (4.5 passed through to the output).
        (
            format!(
                "name,path,step,tokens
a,{f}/gpt2_d16_s40,4.5,40960
"
            ),
            None,
            "m.csv:2: column 'step' (column 3): checkpoint 'a': step must be a whole number below \
             2^53, ≥ 0, not '4.5'",
        ),
        // Beyond 2^53 a count would be written rounded (helper-91: step 9007199254740993 became
        // ...992).
        (
            format!(
                "name,path,step,tokens
a,{f}/gpt2_d16_s40,9007199254740993,40960
"
            ),
            None,
            "step must be a whole number below 2^53, ≥ 0, not '9007199254740993'",
        ),
        (
            format!(
                "name,path,tokens
a,{f}/gpt2_d16_s40,1e30
"
            ),
            None,
            "training tokens must be a whole count ≥ 1, below 2^53, not '1e30'",
        ),
    ] {
        let m = write(dir.path(), "m.csv", &manifest);
        let mut c = ceq();
        c.args(["eval-family", "--manifest"]).arg(&m);
        if let Some(per) = per {
            c.args(["--tokens-per-step", per]);
        }
        let a = c
            .arg("--tokens")
            .arg(family().join("tokens.npy"))
            .arg("--out")
            .arg(&out)
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(says), "{err}");
        assert!(!out.exists());
    }
}

/// A step written in exponent form is the whole number it is, and is written so (`4e1` was
/// copied into the step column as given, review).
#[test]
fn a_step_in_exponent_form_is_written_as_its_number() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let m = write(
        dir.path(),
        "m.csv",
        &format!("name,path,step\na,{f}/gpt2_d16_s40,4e1\n"),
    );
    let out = dir.path().join("o.csv");
    eval_family(
        &m,
        &family().join("tokens.npy"),
        &out,
        &["--tokens-per-step", "1024"],
    )
    .success();
    let r = &rows(&out)[0];
    assert_eq!(
        (&r[col(&out, "step")], &r[col(&out, "tokens")]),
        ("40", "40960")
    );
}

/// What a manifest holds that is not used is said, not dropped: columns ceq does not read, and
/// tokens that differ from step × --tokens-per-step (the tokens are used).
#[test]
fn what_a_manifest_gives_and_is_not_used_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let m = write(
        dir.path(),
        "m.csv",
        &format!("name,path,step,tokens,params,loss\na,{f}/gpt2_d16_s40,40,40960,9,3.1\n"),
    );
    let out = dir.path().join("o.csv");
    let tokens_npy = family().join("tokens.npy");
    let a = eval_family(&m, &tokens_npy, &out, &["--tokens-per-step", "1000"]).success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("column(s) params, loss are not read"), "{err}");
    assert!(
        err.contains("1 row(s) give training tokens other than step × 1000 tokens per step (first 'a' (line 2))"),
        "{err}"
    );
    let tokens = col(&out, "tokens");
    assert_eq!(&rows(&out)[0][tokens], "40960");
    assert!(!err.contains("are both step"), "{err}");
    // One run's step under two folders is said (helper-91: run without a word); one step of two
    // models with no run column is not.
    for (header, a, b, said) in [
        (
            "name,path,run,step",
            "a,{f}/gpt2_d16_s40,r,40",
            "b,{f}/gpt2_d32_s40,r,40",
            true,
        ),
        (
            "name,path,step",
            "a,{f}/gpt2_d16_s40,40",
            "b,{f}/gpt2_d32_s40,40",
            false,
        ),
    ] {
        let text = format!("{header}\n{a}\n{b}\n").replace("{f}", &f);
        let m = write(dir.path(), "m2.csv", &text);
        let out = dir.path().join(format!("o2-{said}.csv"));
        let a = eval_family(&m, &tokens_npy, &out, &["--tokens-per-step", "1024"]).success();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        let both = "'a' (line 2) and 'b' (line 3) are both step 40 of run 'r'";
        assert_eq!(err.contains(both), said, "{err}");
    }
}

/// Training tokens so large that 6·N·D passes f64's range are refused by manifest line, not
/// written as an infinite compute (now already as no exact count: 2^53 and over).
#[test]
fn tokens_whose_compute_overflows_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let m = write(
        dir.path(),
        "m.csv",
        &format!("name,path,tokens\na,{f}/gpt2_d16_s40,1e305\n"),
    );
    let out = dir.path().join("o.csv");
    let a = eval_family(&m, &family().join("tokens.npy"), &out, &[]).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(err.contains("m.csv:2: column 'tokens'"), "{err}");
    assert!(
        err.contains("checkpoint 'a': training tokens must be a whole count ≥ 1, below 2^53"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}

/// Review 10c item 8: a manifest with neither a tokens column nor a step column used to ask for
/// --tokens-per-step, which then failed on the empty step. Every refusal on this path now names a
/// fix, and doing what it says runs.
#[test]
fn each_missing_tokens_refusal_names_a_fix_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let tokens = family().join("tokens.npy");
    let out = dir.path().join("o.csv");
    let per = ["--tokens-per-step", "1000"];
    let refused = |manifest: &str, extra: &[&str], says: &[&str]| {
        let m = write(dir.path(), "m.csv", manifest);
        let a = eval_family(&m, &tokens, &out, extra).failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        for s in says {
            assert!(err.contains(s), "{extra:?}: {s:?} not in {err}");
        }
        assert!(!err.contains("step ''"), "{err}");
        assert!(!out.exists());
        err
    };
    // name,path only: with or without tokens per step, the two fixes are named.
    let bare = format!("name,path\na,{f}/gpt2_d16_s40\n");
    for extra in [&[][..], &per[..]] {
        refused(
            &bare,
            extra,
            &[
                "no tokens column and no step column",
                "add a tokens column",
                "or a step column and the tokens per step",
                "--tokens-per-step N",
            ],
        );
    }
    // A row with neither: its cells are named, and the tokens per step only while missing.
    let err = refused(
        &format!("name,path,step,tokens\na,{f}/gpt2_d16_s40,,\n"),
        &[],
        &[
            "line 2",
            "fill its tokens cell, or its step cell and give the tokens per step",
        ],
    );
    assert!(err.contains("--tokens-per-step N"), "{err}");
    let err = refused(
        &format!("name,path,step,tokens\na,{f}/gpt2_d16_s40,,\n"),
        &per,
        &["m.csv:2", "fill its tokens cell, or its step cell"],
    );
    assert!(!err.contains("tokens per step"), "{err}");
    refused(
        &format!("name,path,tokens\na,{f}/gpt2_d16_s40,\n"),
        &per,
        &["no step column: fill its tokens cell (or add a step column)"],
    );
    refused(
        &format!("name,path,step\na,{f}/gpt2_d16_s40,\n"),
        &per,
        &["no tokens column: fill its step cell, or add a tokens column"],
    );
    // Not a count of tokens: said of the option, not of a row's step.
    for bad in ["0", "2.5"] {
        refused(
            &format!("name,path,step\na,{f}/gpt2_d16_s40,41\n"),
            &["--tokens-per-step", bad],
            &[
                &format!(
                    "tokens per step: must be a whole number of tokens ≥ 1 (batch × sequence length), not {bad}"
                ),
                "give --tokens-per-step a whole number of tokens",
            ],
        );
    }
    // The fixes: a step column with the tokens per step, or a tokens column.
    for (manifest, extra) in [
        (format!("name,path,step\na,{f}/gpt2_d16_s40,40\n"), &per[..]),
        (
            format!("name,path,tokens\na,{f}/gpt2_d16_s40,40000\n"),
            &[][..],
        ),
    ] {
        let o = dir.path().join(format!("ok{}.csv", extra.len()));
        eval_family(&write(dir.path(), "m.csv", &manifest), &tokens, &o, extra).success();
        assert_eq!(rows(&o)[0][col(&o, "tokens")], *"40000");
    }
}

/// Review 10c item 10: a token set is its ids and scored positions, not its file's name. A rerun
/// on the same ids under another name (and dtype) resumes, says so, and its new rows name the
/// token set as the kept rows do, so the file equals one run on the first name (and shards merge
/// so); other ids, or other positions scored, are still refused.
#[test]
fn a_resume_knows_the_token_set_by_its_ids_not_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let head = "name,path,tokens\n";
    let (a, b) = (
        format!("a,{f}/gpt2_d16_s40,40960\n"),
        format!("b,{f}/neox_d16_s40,40960\n"),
    );
    let one = write(dir.path(), "one.csv", &format!("{head}{a}"));
    let both = write(dir.path(), "both.csv", &format!("{head}{a}{b}"));
    let tokens = family().join("tokens.npy");
    let whole = dir.path().join("whole.csv");
    eval_family(&both, &tokens, &whole, &[]).success();
    let out = dir.path().join("o.csv");
    eval_family(&one, &tokens, &out, &[]).success();

    // The same ids as int32 under another name.
    let ids: Vec<i64> = fixture_ids();
    let same = dir.path().join("same_ids.npy");
    let mut h = format!(
        "{{'descr': '<i4', 'fortran_order': False, 'shape': ({}, 32), }}",
        ids.len() / 32
    );
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((h.len() as u16).to_le_bytes());
    bytes.extend(h.as_bytes());
    bytes.extend(ids.iter().flat_map(|&v| (v as i32).to_le_bytes()));
    std::fs::write(&same, bytes).unwrap();

    let read = |p: &Path| std::fs::read(p).unwrap();
    let a_ = eval_family(&both, &same, &out, &[]).success();
    let err = String::from_utf8_lossy(&a_.get_output().stderr).into_owned();
    assert!(
        err.contains("this run's same_ids.npy holds the token set its rows name tokens.npy")
            && err.contains("every row, kept or new, names it tokens.npy")
            && err.contains("1 already there"),
        "{err}"
    );
    assert_eq!(read(&out), read(&whole), "one name for the file's rows");
    let names = rows(&out)
        .iter()
        .map(|r| r[col(&out, "eval_tokens")].to_owned())
        .collect::<std::collections::BTreeSet<_>>();
    assert_eq!(names.len(), 1, "{names:?}");

    // So do shards: one measured on each name merges into the file of one whole run, saying so.
    let shards: Vec<PathBuf> = [&tokens, &same]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = dir.path().join(format!("shard{i}.csv"));
            eval_family(&both, t, &p, &["--shard", &format!("{i}/2")]).success();
            p
        })
        .collect();
    let merged = dir.path().join("merged.csv");
    let a_ = ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let err = String::from_utf8_lossy(&a_.get_output().stderr).into_owned();
    assert!(err.contains("the merged file names it tokens.npy"), "{err}");
    assert_eq!(read(&merged), read(&whole), "merged shards");

    // Other ids, or other positions scored, are refused and leave the file as it was.
    let before = read(&out);
    let mut other = ids.clone();
    other[40] = if other[40] == 7 { 8 } else { 7 };
    let other_path = dir.path().join("other.npy");
    write_npy(&other_path, &other, 32);
    for (t, extra, says) in [
        (&other_path, &[][..], "this run on other.npy fnv1a64:"),
        (&same, &["--keep-special"][..], "(all positions)"),
    ] {
        let a_ = eval_family(&both, t, &out, extra).failure();
        let err = String::from_utf8_lossy(&a_.get_output().stderr).into_owned();
        assert!(
            err.contains("was measured on tokens.npy") && err.contains(says),
            "{err}"
        );
        assert_eq!(read(&out), before);
    }
}

#[test]
fn refusals_name_the_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let f = family().display().to_string();
    let tokens = family().join("tokens.npy");
    let out = dir.path().join("o.csv");
    let refuse = |manifest: &str, tokens: &Path, says: &[&str]| {
        let m = write(dir.path(), "m.csv", manifest);
        let a = eval_family(&m, tokens, &out, &[]).failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        for s in says {
            assert!(err.contains(s), "{s:?} not in {err}");
        }
        assert!(!out.exists());
    };
    edited(dir.path(), "gpt2_d16_s40", "vocab", &|c| {
        c["vocab_size"] = 97.into()
    });
    edited(dir.path(), "gpt2_d16_s40", "eos", &|c| {
        c["eos_token_id"] = 5.into()
    });
    let head = format!("name,path,tokens\na,{f}/gpt2_d16_s40,1\n");
    refuse(
        &format!("{head}b,vocab,1\n"),
        &tokens,
        &["'a' (line 2)", "'b' (line 3)", "vocabulary size 96 vs 97"],
    );
    refuse(
        &format!("{head}b,eos,1\n"),
        &tokens,
        &["'a' (line 2)", "'b' (line 3)", "special ids"],
    );
    refuse(
        &format!("{head}b,{f}/nowhere,1\n"),
        &tokens,
        &["m.csv:3", "'b'", "nowhere"],
    );
    refuse(
        &format!("{head}a,{f}/gpt2_d16_s80,1\n"),
        &tokens,
        &["m.csv:3", "'a' is named twice (lines 2 and 3)"],
    );
    // A copied row: one checkpoint measured twice, under two training budgets.
    refuse(
        &format!("{head}b,{f}/gpt2_d16_s40/,2\n"),
        &tokens,
        &["m.csv:3", "'b'", "checkpoint 'a''s too (line 2)"],
    );
    let mut ids = fixture_ids();
    ids[5] = 96;
    let bad = dir.path().join("bad.npy");
    write_npy(&bad, &ids, 32);
    refuse(
        &head,
        &bad,
        &["bad.npy", "token id 96 at [0, 5]", "vocabulary size 96"],
    );
}

/// The progress a family run reports: one stage counting the token positions still to do, one item
/// per checkpoint, and advances that add up to the stage's total; a finished file has none to do.
#[test]
fn progress_counts_the_positions_left_to_do() {
    use ceq::eval::DeviceSpec;
    use ceq::eval::family::FamilyJob;
    use ceq::eval::job::{Scoring, TokenSource};
    use ceq::progress::Progress;

    let dir = tempfile::tempdir().unwrap();
    let job = FamilyJob {
        manifest: family().join("family.csv"),
        scoring: Scoring {
            tokens: TokenSource::Npy(family().join("tokens.npy")),
            batch: 8.try_into().unwrap(),
            device: DeviceSpec::Flex,
            keep_special: false,
            cache_mb: 64,
        },
        param_count: ceq::law_file::ParamCount::Total,
        tokens_per_step: None,
        shard: None,
        out: dir.path().join("checkpoints.csv"),
    };
    let run = || {
        let mut events = vec![];
        job.run(&mut |p| events.push(p)).unwrap();
        events
    };
    let positions = fixture_ids().len();
    let checkpoints = rows(&family().join("family.csv")).len();
    let events = run();
    let Progress::Stage { total, .. } = &events[0] else {
        panic!("the first event is {:?}, not a stage", events[0]);
    };
    assert_eq!(*total, checkpoints * positions);
    let items = events.iter().filter(|e| matches!(e, Progress::Item(_)));
    assert_eq!(items.count(), checkpoints);
    let done: usize = events
        .iter()
        .map(|e| match e {
            Progress::Advance(n) => *n,
            _ => 0,
        })
        .sum();
    assert_eq!(done, *total);

    let again = run();
    assert!(
        matches!(&again[..], [Progress::Stage { total: 0, .. }]),
        "a finished file reports {again:?}"
    );
}

/// A run killed after saving its per-sequence arrays and before its CSV (the arrays hold one row
/// more than the CSV) resumes every row its CSV holds, reading the arrays by the run record's
/// order, and ends equal to an uninterrupted run (review 11b: it measured every row again).
#[test]
fn arrays_saved_ahead_of_their_csv_are_resumed_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(family().join("family.csv")).unwrap();
    let (head, body) = text.split_once('\n').unwrap();
    let absolute = |line: &str| {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        cells[1] = family().join(&cells[1]).display().to_string();
        cells.join(",")
    };
    let lines: Vec<String> = body.lines().map(absolute).collect();
    let manifest = |name: &str, skip: Option<usize>| {
        let kept: Vec<&String> = (lines.iter().enumerate())
            .filter(|(i, _)| Some(*i) != skip)
            .map(|(_, l)| l)
            .collect();
        let text = format!(
            "{head}\n{}\n",
            kept.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        write(d, name, &text)
    };
    let (all, part) = (manifest("all.csv", None), manifest("part.csv", Some(5)));
    let tokens = family().join("tokens.npy");
    let whole = d.join("whole.csv");
    eval_family(&all, &tokens, &whole, &[]).success();
    let cut = d.join("cut.csv");
    eval_family(&part, &tokens, &cut, &[]).success();
    // The state a kill leaves between the saves: the whole run's arrays and record, the CSV one
    // row short.
    for ext in ["per_seq.npy", "per_seq_n.npy", "run.json"] {
        std::fs::copy(whole.with_extension(ext), cut.with_extension(ext)).unwrap();
    }
    let out = eval_family(&all, &tokens, &cut, &[]).success();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    let n = lines.len();
    assert!(
        err.contains("1 checkpoint(s) evaluated")
            && err.contains(&format!("{} already there", n - 1)),
        "{err}"
    );
    for ext in ["csv", "per_seq.npy", "per_seq_n.npy"] {
        assert_eq!(
            std::fs::read(cut.with_extension(ext)).unwrap(),
            std::fs::read(whole.with_extension(ext)).unwrap(),
            "{ext}"
        );
    }
}

/// Shards are one job only if they read one set of files: one manifest's text in two copies of
/// the checkpoint tree (a second clone, a retrained family) is refused at the merge, naming both
/// folders. Two outputs whose names differ only in the extension's case would share the files
/// written beside them: the second is refused. A mistyped shard count names ten missing shards
/// and counts the rest, rather than listing millions.
#[test]
fn shards_from_two_copies_or_sharing_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let copy = d.join("copy");
    crate::common::copy_dir(&family(), &copy);
    for e in std::fs::read_dir(family()).unwrap() {
        let e = e.unwrap().path();
        if e.is_dir() {
            crate::common::copy_dir(&e, &copy.join(e.file_name().unwrap()));
        }
    }
    let tokens = family().join("tokens.npy");
    let (s0, s1) = (d.join("s0.csv"), d.join("s1.csv"));
    eval_family(
        &family().join("family.csv"),
        &tokens,
        &s0,
        &["--shard", "0/2"],
    )
    .success();
    eval_family(&copy.join("family.csv"), &tokens, &s1, &["--shard", "1/2"]).success();
    let err = merge_fails(&[&s0, &s1], &d.join("all.csv"));
    assert!(
        err.contains("inputs_under")
            && err.contains(&copy.canonicalize().unwrap().display().to_string()),
        "{err}"
    );

    let upper = d.join("s0.CSV");
    let before = std::fs::read(s0.with_extension("per_seq.npy")).unwrap();
    let out = eval_family(&family().join("family.csv"), &tokens, &upper, &[]).failure();
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("s0.csv is beside it"), "{err}");
    assert_eq!(
        std::fs::read(s0.with_extension("per_seq.npy")).unwrap(),
        before
    );

    let big = d.join("big.csv");
    eval_family(
        &family().join("family.csv"),
        &tokens,
        &big,
        &["--shard", "0/10000000"],
    )
    .success();
    let err = merge_fails(&[&big], &d.join("bigm.csv"));
    assert!(err.contains("shard 10/10000000 and 9999989 more;"), "{err}");
}

/// A user's file in a name a run writes beside its output (its run record, shard record or
/// per-sequence arrays) is refused by name and left as it was (review: k3.run.json was replaced,
/// and a k3.shard.json removed by a run without --shard).
#[test]
fn a_users_file_where_a_run_keeps_its_records_is_refused() {
    for side in [
        "o.run.json",
        "o.shard.json",
        "o.per_seq.npy",
        "o.per_seq_n.npy",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mine = write(dir.path(), side, "{\"mine\": true}\n");
        let out = dir.path().join("o.csv");
        let (m, t) = (family().join("family.csv"), family().join("tokens.npy"));
        let a = eval_family(&m, &t, &out, &[]).failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(
            err.contains(side) && err.contains("it is not a file ceq wrote"),
            "{side}: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&mine).unwrap(),
            "{\"mine\": true}\n"
        );
        assert!(!out.exists());
    }
    // A NumPy array of another kind is no more ceq's (review of stop 40: token ids in
    // o.per_seq.npy were replaced, as any file starting with NumPy's magic was).
    let dir = tempfile::tempdir().unwrap();
    let (m, t) = (family().join("family.csv"), family().join("tokens.npy"));
    let mine = dir.path().join("o.per_seq.npy");
    std::fs::copy(&t, &mine).unwrap();
    let out = dir.path().join("o.csv");
    eval_family(&m, &t, &out, &[]).failure();
    assert_eq!(std::fs::read(&mine).unwrap(), std::fs::read(&t).unwrap());
    // ceq's own arrays are rerun over.
    std::fs::remove_file(&mine).unwrap();
    eval_family(&m, &t, &out, &[]).success();
    eval_family(&m, &t, &out, &[]).success();
}

/// A law saved over a results file's run record, even with --force, is refused: the record makes
/// the results resumable and mergeable (review of stop 40: `fit --out X.run.json --force`
/// replaced it).
#[test]
fn a_law_is_not_saved_over_a_results_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ck.csv");
    eval_family(
        &family().join("family.csv"),
        &family().join("tokens.npy"),
        &out,
        &["--shard", "0/1"],
    )
    .success();
    for ext in ["run.json", "shard.json"] {
        let side = out.with_extension(ext);
        let before = std::fs::read(&side).unwrap();
        let a = ceq()
            .args(["fit", "--form", "compute", "--checkpoints"])
            .arg(&out)
            .arg("--out")
            .arg(&side)
            .arg("--force")
            .assert()
            .failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(
            err.contains("one of the files ceq keeps beside the results")
                && err.contains(&out.display().to_string()),
            "{err}"
        );
        assert_eq!(std::fs::read(&side).unwrap(), before);
    }
}

/// A checkpoint with fewer positions than the token set's context (but the same vocabulary and
/// special ids) is refused before any is evaluated, named with its manifest line, not hours in
/// under the token file's name alone.
#[test]
fn a_checkpoint_too_short_for_the_tokens_is_named_before_any_is_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let short = d.join("short");
    std::fs::create_dir(&short).unwrap();
    let from = family().join("gpt2_d32_s40");
    std::fs::copy(
        from.join("model.safetensors"),
        short.join("model.safetensors"),
    )
    .unwrap();
    let config = std::fs::read_to_string(from.join("config.json")).unwrap();
    assert!(config.contains("\"n_positions\": 32,"));
    let config = config.replace("\"n_positions\": 32,", "\"n_positions\": 16,");
    std::fs::write(short.join("config.json"), config).unwrap();
    let manifest = d.join("family.csv");
    let first = family().join("gpt2_d16_s40");
    let text = format!(
        "name,path,tokens\nfirst,{},40960\nshort,short,40960\n",
        first.display()
    );
    std::fs::write(&manifest, text).unwrap();
    let out = d.join("checkpoints.csv");
    let a = eval_family(&manifest, &family().join("tokens.npy"), &out, &[]).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let want = format!(
        "context 32 must be between 2 and the model's 16 positions (checkpoint 'short', line 3 of {}",
        manifest.display()
    );
    assert!(err.contains(&want), "{err}");
    // Refused before the first checkpoint was measured (its row would be written at once).
    assert!(!out.exists());
    // The family's first checkpoint is named too (helper-91: its token check named the tokens
    // alone).
    let text = format!(
        "name,path,tokens\nshort,short,40960\nfirst,{},40960\n",
        first.display()
    );
    std::fs::write(&manifest, text).unwrap();
    let a = eval_family(&manifest, &family().join("tokens.npy"), &out, &[]).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("16 positions (checkpoint 'short', line 2 of"),
        "{err}"
    );
}

/// A rerun whose rows would differ from those in the file names each value that differs, the
/// file's and this run's, not just that something does.
#[test]
fn a_rerun_that_differs_names_both_values() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f = family();
    let manifest = d.join("m.csv");
    let text = format!(
        "name,path,step\na,{},40\nb,{},80\n",
        f.join("gpt2_d16_s40").display(),
        f.join("gpt2_d16_s80").display()
    );
    std::fs::write(&manifest, text).unwrap();
    let (tokens, out) = (f.join("tokens.npy"), d.join("o.csv"));
    eval_family(&manifest, &tokens, &out, &["--tokens-per-step", "1024"]).success();
    let before = std::fs::read(&out).unwrap();
    let refused = |extra: &[&str], want: &str| {
        let a = eval_family(&manifest, &tokens, &out, extra).failure();
        let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(err.contains(want), "{want:?} not in {err}");
        assert_eq!(std::fs::read(&out).unwrap(), before);
    };
    refused(
        &["--tokens-per-step", "2048"],
        "line 2: 'a': its tokens 40960 (now 81920, step × tokens per step) differ from the \
         manifest's line 2",
    );
    let row = std::fs::read_to_string(&out).unwrap();
    let mut r = csv::Reader::from_reader(row.as_bytes());
    let head = r.headers().unwrap().clone();
    let rec = r.records().next().unwrap().unwrap();
    let col = |n: &str| {
        rec.get(head.iter().position(|h| h == n).unwrap())
            .unwrap()
            .to_owned()
    };
    refused(
        &[
            "--tokens-per-step",
            "1024",
            "--param-count",
            "non-embedding",
        ],
        &format!(
            "'a': its params column holds the total parameter count ({}), this run counts \
             non-embedding parameters ({})",
            col("params_total"),
            col("params_non_embedding")
        ),
    );
    // A params cell edited by hand is neither count: said so, not as the other count (review).
    let p = head.iter().position(|h| h == "params").unwrap();
    let mut lines: Vec<String> = row.lines().map(str::to_owned).collect();
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[p] = "9999";
    lines[1] = cells.join(",");
    std::fs::write(&out, lines.join("\n") + "\n").unwrap();
    let a = eval_family(&manifest, &tokens, &out, &["--tokens-per-step", "1024"]).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let want = format!(
        "'a': its params cell (9999) is neither of its counts (params_total {}, \
         params_non_embedding {}): edited by hand?",
        col("params_total"),
        col("params_non_embedding")
    );
    assert!(err.contains(&want), "{want:?} not in {err}");
}

/// An `--out` that exists: empty, it holds nothing to resume and is written; another table, it is
/// refused and kept, the way out said.
#[test]
fn an_existing_out_that_is_empty_or_another_table() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = (
        family().join("family_gpt2.csv"),
        family().join("tokens.npy"),
    );
    let empty = write(dir.path(), "empty.csv", "");
    eval_family(&manifest, &tokens, &empty, &[]).success();
    assert_eq!(rows(&empty).len(), 6);
    let mine = write(dir.path(), "mine.csv", "a,b\n1,2\n");
    let a = eval_family(&manifest, &tokens, &mine, &[]).failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("it is not a family checkpoints file")
            && err.contains("choose another output path"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "a,b\n1,2\n");
}

/// A cell of ceq's results edited by hand is not a measurement: a rerun measures the row again
/// (the file comes back as ceq wrote it) and a merge refuses the shard (review: n_tokens and a
/// shard's params were kept as edited, exit 0). Each row's digest in the run record tells.
#[test]
fn an_edited_row_is_measured_again_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (manifest, tokens) = (family().join("family.csv"), family().join("tokens.npy"));
    let out = dir.path().join("o.csv");
    eval_family(&manifest, &tokens, &out, &[]).success();
    let whole = std::fs::read_to_string(&out).unwrap();
    // The same row with one cell other than its losses changed.
    let edit = |path: &Path, column: &str| {
        let text = std::fs::read_to_string(path).unwrap();
        let c = col(path, column);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let mut cells: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
        cells[c] = format!("{}1", cells[c]);
        lines[1] = cells.join(",");
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    };
    edit(&out, "n_tokens");
    let a = eval_family(&manifest, &tokens, &out, &[]).success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("1 row(s) (") && err.contains("are not as ceq wrote them"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), whole);

    let shards: Vec<PathBuf> = (0..2)
        .map(|i| {
            let s = dir.path().join(format!("s{i}.csv"));
            eval_family(&manifest, &tokens, &s, &["--shard", &format!("{i}/2")]).success();
            s
        })
        .collect();
    edit(&shards[0], "params");
    let a = ceq()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(dir.path().join("m.csv"))
        .assert()
        .failure();
    let err = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(
        err.contains("s0.csv")
            && err.contains("line 2: '")
            && err.contains("is not as ceq wrote it"),
        "{err}"
    );
    assert!(!dir.path().join("m.csv").exists());
}
