//! `ceq study --quick`: training, evaluation, fit, map and report on measured data, end to end;
//! the same seed gives the same files; a rerun resumes; another seed is refused.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::ceq;

/// A CSV as maps from column to cell, one per row.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|x| {
            let x = x.unwrap();
            head.iter()
                .cloned()
                .zip(x.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = '{}' is not a number", row[col]))
}

fn study(out: &Path, extra: &[&str]) -> std::process::Output {
    ceq()
        .args(["study", "--quick", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

/// A rerun of the study in `out` that succeeds; its stderr.
fn resumes(out: &Path) -> String {
    let o = study(out, &[]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

/// A rerun of the study in `out` that is refused; its stderr (`what`: the case, for the message).
fn refused(out: &Path, what: &str) -> String {
    let o = study(out, &[]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "{what}: {err}");
    err
}

/// Every file of the study whose bytes the seed fixes.
const DETERMINED: [&str; 11] = [
    "family.csv",
    "saes.csv",
    "eval_tokens.npy",
    "sae_tokens.npy",
    "checkpoints.csv",
    "checkpoints.per_seq.npy",
    "splices.csv",
    "splices.per_seq.npy",
    "law.json",
    "report/mapped.csv",
    "models/d24-L2-t122880/model.safetensors",
];

#[test]
fn quick_study_trains_measures_fits_and_maps() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    // A study killed at its first write left only its record's unfinished copy: the folder is
    // still a new study's, and the copy goes (review: the rerun refused the folder as not empty).
    std::fs::create_dir(&a).unwrap();
    let early = a.join(".ceq-study.json-Ab12Cd");
    std::fs::write(&early, "{").unwrap();
    let summary = resumes(&a);
    assert!(!early.exists());
    for f in ["README.md", "report/index.html", "report/n_and_d.svg"] {
        assert!(a.join(f).exists(), "no {f}");
    }
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("study.json")).unwrap()).unwrap();
    let outcome = &record["outcome"];
    let floor = outcome["loss_floor"].as_f64().unwrap();
    assert!(outcome["loss_floor_se"].as_f64().unwrap() > 0.0);

    // The family: 4 shapes × 3 budgets, every loss above the floor (nothing beats the Bayes-optimal
    // predictor on the same tokens), falling with size at each budget and with tokens at each size.
    let ck = rows(&a.join("checkpoints.csv"));
    assert_eq!(ck.len(), 12);
    let mut grid: BTreeMap<(u64, u64), f64> = BTreeMap::new();
    for r in &ck {
        let loss = num(r, "loss");
        assert!(
            loss > floor,
            "{} beats the floor {floor}: {loss}",
            r["name"]
        );
        grid.insert((num(r, "params") as u64, num(r, "tokens") as u64), loss);
    }
    let sizes: Vec<u64> = grid
        .keys()
        .map(|k| k.0)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let budgets: Vec<u64> = grid
        .keys()
        .map(|k| k.1)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!((sizes.len(), budgets.len()), (4, 3));
    for &d in &budgets {
        for w in sizes.windows(2) {
            assert!(
                grid[&(w[1], d)] < grid[&(w[0], d)],
                "loss does not fall from N = {} to {} at D = {d}",
                w[0],
                w[1]
            );
        }
    }
    for &n in &sizes {
        for w in budgets.windows(2) {
            assert!(
                grid[&(n, w[1])] < grid[&(n, w[0])],
                "loss does not fall from D = {} to {} at N = {n}",
                w[0],
                w[1]
            );
        }
    }

    // The quick models stay far from the floor, so E is loosely determined: the stated tolerance
    // here is the fit's own joint-bootstrap interval, which must hold the true floor.
    let [lo, hi] = [0, 1].map(|i| outcome["fitted_e_interval"][i].as_f64().unwrap());
    assert!(
        lo <= floor && floor <= hi,
        "true floor {floor} outside the fitted E's interval [{lo}, {hi}]"
    );

    // Every SAE costs compute: its fraction lies in (0, 1); within each host, hook and kind, the
    // SAE that reconstructs worse (larger mse) keeps less of the host's compute.
    let mapped = rows(&a.join("report/mapped.csv"));
    assert_eq!(mapped.len(), 2 * 2 * 6);
    let mut groups: BTreeMap<(String, String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for r in &mapped {
        let f = num(r, "compute_fraction");
        assert!(f > 0.0 && f < 1.0, "{}: compute fraction {f}", r["name"]);
        let key = (
            r["model"].clone(),
            r["hook"].clone(),
            r["architecture"].clone(),
        );
        groups.entry(key).or_default().push((num(r, "mse"), f));
    }
    for (key, mut g) in groups {
        g.sort_by(|a, b| a.0.total_cmp(&b.0));
        for w in g.windows(2) {
            assert!(
                w[1].1 < w[0].1,
                "{key:?}: mse {} → {} but fraction {} → {}",
                w[0].0,
                w[1].0,
                w[0].1,
                w[1].1
            );
        }
    }

    // The report shows the true floor beside the fitted E, and says that an interval as wide as
    // half the floor does not pin E down (review 2026-12-07: E = 0.09 beside a floor of 1.40 was
    // printed without a word); so do the folder's README and the summary line.
    let html = std::fs::read_to_string(a.join("report/index.html")).unwrap();
    assert!(html.contains(&format!(
        "true floor on eval_tokens.npy: {floor:.4} nats/token"
    )));
    assert!(
        hi - lo >= 0.5 * floor,
        "the quick grid pins E: [{lo}, {hi}]"
    );
    let loose = format!(
        "the true floor is inside E's interval, which spans {:.2} nats/token: these checkpoints' \
         losses do not pin E down",
        hi - lo
    );
    assert!(html.contains(&format!("The{}", &loose[3..])), "{html}");
    let readme = std::fs::read_to_string(a.join("README.md")).unwrap();
    assert!(readme.contains(&loose), "{readme}");
    assert!(summary.contains(&loose), "{summary}");

    // A rerun resumes: nothing is trained again and nothing changes.
    let before: Vec<Vec<u8>> = DETERMINED
        .iter()
        .map(|f| std::fs::read(a.join(f)).unwrap())
        .collect();
    // A study killed while it swapped its report in left the new copy beside it: the rerun
    // writes the report anew and removes the copy (review 2026-12-02 (3)).
    let left = a.join(".ceq-report-Ab12Cd");
    std::fs::create_dir(&left).unwrap();
    std::fs::write(left.join("law.json"), "{}").unwrap();
    // And a model's unfinished copy, a whole weights file at full size, goes too.
    let weights = a.join("models/d24-L2-t122880/.ceq-model.safetensors-Zz9Yy8");
    std::fs::write(&weights, "partial").unwrap();
    resumes(&a);
    for (f, b) in DETERMINED.iter().zip(&before) {
        assert!(
            &std::fs::read(a.join(f)).unwrap() == b,
            "a resumed study changed {f}"
        );
    }
    assert!(
        !left.exists(),
        "the killed study's report copy is still there"
    );
    assert!(
        !weights.exists(),
        "the killed study's weights copy is still there"
    );

    // Another seed into the same folder is refused, and leaves it as it was.
    let o = study(&a, &["--seed", "7"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    // It names the options the folder was made with and those given (review 2026-12-07).
    assert!(
        err.contains("study.json")
            && err.contains("was made by `ceq study --quick --seed 0`, not `--quick --seed 7`"),
        "{err}"
    );
    assert!(std::fs::read(a.join(DETERMINED[4])).unwrap() == before[4]);

    // A README the study did not write is refused, not replaced; the folder's record keeps its
    // outcome through the failed rerun (review 11e).
    let readme = a.join("README.md");
    let ours = std::fs::read(&readme).unwrap();
    std::fs::write(&readme, "# my notes\n").unwrap();
    let err = refused(&a, "README.md");
    assert!(err.contains("README.md"), "{err}");
    assert_eq!(std::fs::read_to_string(&readme).unwrap(), "# my notes\n");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("study.json")).unwrap()).unwrap();
    assert!(record["outcome"]["fitted_e"].is_f64(), "{record}");
    std::fs::write(&readme, &ours).unwrap();

    // A file the study writes for its reader, changed since (an edited table, a note in the
    // report page), is refused before any work and kept as the user left it; removed, it is
    // written anew (a review found a rerun replaced them silently).
    for f in [
        "family.csv",
        "saes.csv",
        "law.json",
        "report/index.html",
        "README.md",
    ] {
        let path = a.join(f);
        let ours = std::fs::read(&path).unwrap();
        let mut edited = ours.clone();
        edited.extend_from_slice(b"\n");
        std::fs::write(&path, &edited).unwrap();
        let err = refused(&a, f);
        assert!(
            err.contains(&*path.to_string_lossy())
                && err.contains("was changed since this study wrote it"),
            "{f}: {err}"
        );
        assert!(std::fs::read(&path).unwrap() == edited, "{f} replaced");
        std::fs::remove_file(&path).unwrap();
        resumes(&a);
        assert!(std::fs::read(&path).unwrap() == ours, "{f} written anew");
    }

    // Tables whose rows record no inputs (data/'s, or a copy's) are measured again, not kept:
    // a loss moved by 0.3 nats in such a table gave a wrong fit with exit 0 (review 11e).
    let ck = a.join("checkpoints.csv");
    let text = String::from_utf8(before[4].clone()).unwrap();
    let (head, body) = text.split_once('\n').unwrap();
    let loss = head.split(',').position(|c| c == "loss").unwrap();
    let mut lines: Vec<String> = body.lines().map(str::to_owned).collect();
    let mut cells: Vec<String> = lines[0].split(',').map(str::to_owned).collect();
    cells[loss] = format!("{}", cells[loss].parse::<f64>().unwrap() + 0.3);
    lines[0] = cells.join(",");
    std::fs::write(&ck, format!("{head}\n{}\n", lines.join("\n"))).unwrap();
    std::fs::remove_file(a.join("checkpoints.run.json")).unwrap();
    resumes(&a);
    assert!(
        std::fs::read(&ck).unwrap() == before[4],
        "the table measured again"
    );
    assert!(std::fs::read(a.join("law.json")).unwrap() == before[8]);
    // A table of the study's own that no longer reads as one (a line added by hand) is measured
    // again too (helper-95: CSV advice came instead).
    let mut broken = before[4].clone();
    broken.extend_from_slice(b" \n");
    std::fs::write(&ck, &broken).unwrap();
    resumes(&a);
    assert!(
        std::fs::read(&ck).unwrap() == before[4],
        "the broken table measured again"
    );
    // So is one whose header was renamed, or whose run record is not one: the study fixes these
    // paths, so advice to choose another output path could not be taken (helper-98).
    let same_table = |what: &str| assert!(std::fs::read(&ck).unwrap() == before[4], "{what}");
    let text = String::from_utf8(before[4].clone()).unwrap();
    std::fs::write(&ck, text.replacen("loss", "Loss", 1)).unwrap();
    resumes(&a);
    same_table("renamed header");
    std::fs::write(a.join("checkpoints.run.json"), "garbage").unwrap();
    resumes(&a);
    same_table("garbage record");
    // What measuring again would not clear is refused with the table kept (helper-99: it was
    // removed first): a file beside it named but for the case, a folder where its record goes.
    let other = a.join("checkpoints.CSV");
    std::fs::write(&other, "x,y\n").unwrap();
    let err = refused(&a, "checkpoints.CSV");
    assert!(err.contains("checkpoints.CSV is beside it"), "{err}");
    same_table("kept beside c.CSV");
    std::fs::remove_file(&other).unwrap();
    let run = a.join("checkpoints.run.json");
    std::fs::remove_file(&run).unwrap();
    std::fs::create_dir(&run).unwrap();
    let err = refused(&a, "a folder as the run record");
    assert!(err.contains("it is a folder"), "{err}");
    same_table("kept under a folder");
    std::fs::remove_dir(&run).unwrap();
    resumes(&a);
    // A table the study would measure again (its record gone) while another ceq writes it: the
    // study waits its turn, removing nothing (helper-100: its files went outside the lock).
    std::fs::remove_file(&run).unwrap();
    let lock = std::fs::File::create(a.join(".ceq-checkpoints.csv.lock")).unwrap();
    lock.try_lock().unwrap();
    let err = refused(&a, "a table another ceq is writing");
    assert!(err.contains("another ceq is writing it now"), "{err}");
    same_table("kept while locked");
    drop(lock);
    resumes(&a);

    // A model or SAE damaged after training is named with the way to train it again, not
    // read as it is (review 49: a truncated model gave a bare safetensors error); removed, it
    // is trained again to the same bytes.
    for kind in ["models", "saes"] {
        let mut dirs: Vec<_> = std::fs::read_dir(a.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        dirs.sort();
        let weights = std::fs::read_dir(&dirs[0])
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "safetensors"))
            .unwrap();
        let whole = std::fs::read(&weights).unwrap();
        let record = dirs[0].join("ceq_training.json");
        let ours = std::fs::read(&record).unwrap();
        let originals: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&dirs[0])
            .unwrap()
            .map(|f| f.unwrap().path())
            .map(|f| (f.clone(), std::fs::read(&f).unwrap()))
            .collect();
        // Another of the study's own folders copied over this one, record and all (of the same
        // shape: the quick family's first two models differ only in steps, the first two SAEs in
        // their L1 coefficient), loads fine: its record says what it was trained as (helper-97).
        for f in std::fs::read_dir(&dirs[1]).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dirs[0].join(f.file_name().unwrap())).unwrap();
        }
        let err = refused(&a, kind);
        let trained = if kind == "models" { "steps" } else { "spec" };
        assert!(
            err.contains(&*record.to_string_lossy())
                && err.contains(&format!("records {trained} "))
                && err.contains("where this study trains")
                && err.contains("and rerun to train it again"),
            "{kind}: {err}"
        );
        // The same with its record made unreadable: nothing says what the folder holds, so it is
        // not used (helper-98: it was measured as this one).
        std::fs::write(&record, "{").unwrap();
        let err = refused(&a, kind);
        assert!(
            err.contains(&*record.to_string_lossy())
                && err.contains("is missing or not the JSON a study writes"),
            "{kind}: {err}"
        );
        // Trained with another seed (a same-shaped folder of another study): its record says so.
        let mut reseeded: serde_json::Value = serde_json::from_slice(&ours).unwrap();
        let seed = reseeded["seed"].as_u64().unwrap();
        reseeded["seed"] = (seed ^ 1).into();
        std::fs::write(&record, reseeded.to_string()).unwrap();
        let err = refused(&a, kind);
        assert!(
            err.contains(&format!(
                "records seed {}, where this study trains {seed}",
                seed ^ 1
            )),
            "{kind}: {err}"
        );
        // Only its weights copied over these: the fingerprint the record keeps tells them
        // apart (helper-95: they were measured as this one's).
        for (f, bytes) in &originals {
            std::fs::write(f, bytes).unwrap();
        }
        std::fs::copy(dirs[1].join(weights.file_name().unwrap()), &weights).unwrap();
        let err = refused(&a, kind);
        assert!(
            err.contains(&*weights.to_string_lossy())
                && err.contains("is not the file an earlier run of this study saved there")
                && err.contains("and rerun to train it again"),
            "{kind}: {err}"
        );
        // Truncated, under a record of an older ceq (no fingerprints; a model's, no seed): it
        // no longer loads.
        let mut older: serde_json::Value = serde_json::from_slice(&ours).unwrap();
        older.as_object_mut().unwrap().remove("files").unwrap();
        if kind == "models" {
            older.as_object_mut().unwrap().remove("seed").unwrap();
        } else {
            // An SAE's record has always held its seed: one without is not the study's.
            let mut seedless = older.clone();
            seedless.as_object_mut().unwrap().remove("seed").unwrap();
            std::fs::write(&record, seedless.to_string()).unwrap();
            let err = refused(&a, "an SAE record without its seed");
            assert!(err.contains("records seed nothing"), "{err}");
        }
        std::fs::write(&record, older.to_string()).unwrap();
        std::fs::write(&weights, &whole[..whole.len() / 2]).unwrap();
        let err = refused(&a, kind);
        assert!(
            err.contains(&*dirs[0].to_string_lossy())
                && err.contains("no longer loads")
                && err.contains("remove the folder and rerun to train it again"),
            "{kind}: {err}"
        );
        std::fs::remove_dir_all(&dirs[0]).unwrap();
        resumes(&a);
        assert!(
            std::fs::read(&weights).unwrap() == whole,
            "{kind} trained again"
        );
    }

    // A file in report/ that a report does not write is refused before any work (helper-95: it
    // was refused at the end, after retraining what was missing): a model removed stays so.
    let notes = a.join("report/mynotes.txt");
    std::fs::write(&notes, "mine").unwrap();
    let model = std::fs::read_dir(a.join("models"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let kept = dir.path().join("kept-model");
    std::fs::rename(&model, &kept).unwrap();
    let err = refused(&a, "report/mynotes.txt");
    assert!(err.contains("mynotes.txt"), "{err}");
    assert!(!model.exists(), "trained before refusing");
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine");
    std::fs::remove_file(&notes).unwrap();
    std::fs::rename(&kept, &model).unwrap();
    // An unfinished copy a killed run left in report/ is its own, not a foreign file: it goes
    // (helper-97: the check before the clean-up refused it).
    let left = a.join("report/.ceq-index.html-Ab12Cd");
    std::fs::write(&left, "<html").unwrap();
    resumes(&a);
    assert!(!left.exists());

    // The same seed in a new folder gives the same bytes.
    let b = dir.path().join("b");
    let o = study(&b, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (f, bytes) in DETERMINED.iter().zip(&before) {
        assert!(
            &std::fs::read(b.join(f)).unwrap() == bytes,
            "the same seed gave another {f}"
        );
    }
}

/// A folder that is not a study's is refused before any work, and what is in it stays: the
/// unfinished copies of another ceq's run there (which may be running now) are not a killed
/// study's to remove.
#[test]
fn a_folder_that_is_not_a_studys_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("notes.txt");
    std::fs::write(&mine, "mine").unwrap();
    std::fs::create_dir(dir.path().join("run")).unwrap();
    let copy = dir.path().join("run/.ceq-checkpoints.csv-Ab12Cd");
    std::fs::write(&copy, "half").unwrap();
    let o = study(dir.path(), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("is not empty and holds no study.json"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "half");
    assert!(!dir.path().join(".ceq-study.json.lock").exists());
}

/// data/ is the default study: the README's main job on it fits an E near the
/// language's true floor — stated tolerance 0.15 nats/token, and the floor inside E's 90 %
/// joint-bootstrap interval — and maps every SAE to a compute fraction in (0, 1).
#[test]
fn data_is_a_study_whose_fit_finds_the_floor() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("data/study.json")).unwrap()).unwrap();
    assert_eq!(record["settings"]["preset"], "default");
    let floor = record["outcome"]["loss_floor"].as_f64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let o = ceq()
        .current_dir(root)
        .args([
            "report",
            "--checkpoints",
            "data/checkpoints.csv",
            "--splices",
            "data/splices.csv",
        ])
        .args(["--bootstrap", "1000", "--token-bootstrap", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let law: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("law.json")).unwrap()).unwrap();
    let e = law["params"]["E"].as_f64().unwrap();
    assert!(
        (e - floor).abs() <= 0.15,
        "fitted E {e} vs true floor {floor}"
    );
    let iv = &law["bootstrap"]["intervals"]["E"];
    let (lo, hi) = (iv[0].as_f64().unwrap(), iv[1].as_f64().unwrap());
    assert!(
        lo <= floor && floor <= hi,
        "true floor {floor} outside E's interval [{lo}, {hi}]"
    );
    // The fit's table says its refits resampled the eval sequences, not the runs alone.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("token bootstrap: 1000 replicates over 512 sequences"));
    assert!(!html.contains("resamples of runs"));
    // Its law file, mapped again with --law, keeps the refits' token noise: no CE draws on top and
    // no planning number, and it says what its refits are.
    let again = ceq()
        .current_dir(root)
        .args([
            "map",
            "--format",
            "csv",
            "--splices",
            "data/splices.csv",
            "--law",
        ])
        .arg(out.join("law.json"))
        .output()
        .unwrap();
    assert!(again.status.success());
    let text = String::from_utf8(again.stdout).unwrap();
    assert!(!text.lines().next().unwrap().contains("n_tokens_for_10pct"));
    assert!(
        text.contains("refits of a token bootstrap"),
        "{}",
        &text[..2000]
    );
    // Its splices are not the ones resampled with the family: they are said to be taken as exact,
    // and nothing says they were resampled jointly.
    assert!(
        text.contains("CEs taken as exact") && !text.contains("family + splices jointly"),
        "{}",
        &text[..2000]
    );
    let figs = dir.path().join("figs");
    ceq()
        .current_dir(root)
        .args([
            "plot",
            "--figure",
            "across-sizes",
            "--splices",
            "data/splices.csv",
            "--law",
        ])
        .arg(out.join("law.json"))
        .arg("--out-dir")
        .arg(&figs)
        .assert()
        .success();
    let caption = std::fs::read_to_string(figs.join("across_sizes.svg")).unwrap();
    assert!(caption.contains("token-bootstrap refits of the law"));
    // So do the figures: the band and the bars are the joint bootstrap's.
    let svg = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    assert!(svg("fit.svg").contains("90% token-bootstrap band (law + tokens)"));
    assert!(svg("linear_vs_log.svg").contains("token bootstrap: law + tokens jointly"));
    let mapped = rows(&out.join("mapped.csv"));
    assert_eq!(mapped.len(), 24);
    for r in &mapped {
        let f = num(r, "compute_fraction");
        assert!(f > 0.0 && f < 1.0, "{}: compute fraction {f}", r["name"]);
    }
}

/// docs/ARCHITECTURE.md says what made each committed folder of outputs, as data/README.md and
/// tests/fixtures/synth/README.md do: data/ is `ceq study`'s, the synth fixture `ceq synth`'s.
#[test]
fn architecture_names_what_writes_data_and_the_synth_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    assert!(read("data/README.md").contains("`ceq study`"));
    assert!(
        read("tests/fixtures/synth/README.md").contains("-- synth --out-dir tests/fixtures/synth")
    );
    let arch = read("docs/ARCHITECTURE.md");
    let said = |folder: &str| {
        let at = arch.find(&format!("`{folder}`")).unwrap();
        arch[at..].split([',', ';']).next().unwrap().to_owned()
    };
    let data = said("data/");
    assert!(data.contains("`ceq study`"), "{data}");
    let synth = said("tests/fixtures/synth/");
    assert!(synth.contains("`ceq synth`"), "{synth}");
}

/// A second study in a folder one is running in stops at once, saying so in a study's terms (review
/// 2026-12-07: it advised shards and merging, which a study has not).
#[test]
fn a_study_running_in_a_folder_is_said_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let held = std::fs::File::create(dir.path().join(".ceq-study.json.lock")).unwrap();
    held.lock().unwrap();
    let o = study(dir.path(), &[]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("another study is running in this folder: wait for it to end"),
        "{err}"
    );
    assert!(!err.contains("merge"), "{err}");
    assert!(!dir.path().join("study.json").exists());
}
