//! Splices of several hosts in one map: what `map` checks across rows — the token sets each row
//! was measured on, a host's one size, the parameter count its actual compute takes, and which
//! kind of interval each row has (review 11a).

use std::path::Path;

use crate::common::{ceq, data, fit_law, fit_to, map_json, root, succeeds, write};

/// Rows on three token sets against a law named for one of them (its checkpoints file records
/// none): each other set is said with its own rows and count, the law's own rows are not named.
#[test]
fn each_other_token_set_is_said_with_its_rows() {
    let d = tempfile::tempdir().unwrap();
    let ck = Path::new(&data("checkpoints.csv")).to_owned();
    let law = fit_to(d.path(), &ck, "law.json", &["--eval-set", "pile-val"]);
    let mut sp = String::from("name,ce_clean,ce_spliced,eval_tokens\n");
    for (name, set) in [
        ("p1", "pile-val"),
        ("p2", "pile-val"),
        ("c1", "c4"),
        ("c2", "c4"),
        ("c3", "c4"),
        ("c4x", "c4"),
        ("o1", "owt"),
    ] {
        sp += &format!("{name},3.2,3.4,{set}\n");
    }
    let (_, err) = map_json(&law, &write(d.path(), "sp.csv", &sp));
    assert!(
        err.contains("4 splice(s) (c1, c2, c3 and 1 more) on c4; 1 splice(s) (o1) on owt"),
        "{err}"
    );
    // The law's set is a name, its file records none: said as unchecked (review 11d), and as
    // names that differ, each row too (review 2026-12-07: "records no token set" alone hid that
    // the two names typed by hand differ, and each row's units named the law's set only).
    assert!(
        err.contains("not named 'pile-val' as the law's checkpoints")
            && err.contains("cannot check whether these are the same tokens: if not"),
        "{err}"
    );
    assert!(!err.contains("(p1"), "{err}");
    let (rows, _) = map_json(&law, &write(d.path(), "sp.csv", &sp));
    for row in rows.as_array().unwrap() {
        let (set, units) = (
            row["eval_tokens"].as_str().unwrap(),
            row["units"].as_str().unwrap(),
        );
        let said = format!("these CEs were measured on {set}, not named as the law's token set is");
        assert_eq!(units.contains(&said), set != "pile-val", "{units}");
    }
    // All on the law's set: nothing to say.
    let same = "name,ce_clean,ce_spliced,eval_tokens\np1,3.2,3.4,pile-val\n";
    let (_, err) = map_json(&law, &write(d.path(), "same.csv", same));
    assert!(!err.contains("token"), "{err}");

    // A name that holds the splices' own hash, under another file name and in capitals, is their
    // set: compared as a token set, not as text (review 2026-12-07).
    let hashed = "copy.npy fnv1a64:DA11B7CD00F64ED7 (BOS/EOS/pad positions left out)";
    let law_h = fit_to(d.path(), &ck, "law_h.json", &["--eval-set", hashed]);
    let (rows, err) = map_json(&law_h, &root("data/splices.csv"));
    assert!(!err.contains("not named"), "{err}");
    let units = rows[0]["units"].as_str().unwrap();
    assert!(!units.contains("not named"), "{units}");
    // A law with no name for its set: the splices' own sets, compared with each other.
    let law = fit_to(d.path(), &ck, "law0.json", &[]);
    let (_, err) = map_json(&law, &write(d.path(), "sp2.csv", &sp));
    assert!(err.contains("on 3 token sets"), "{err}");
    assert!(err.contains("records no token set"), "{err}");
}

/// A law fitted to data/'s family (which records its tokens) against rows on two sets (the other
/// named by hand: one hashed otherwise is refused): the count said is the other set's rows, not
/// every row's.
#[test]
fn the_count_of_rows_on_another_set_is_theirs() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_to(d.path(), &root("data/checkpoints.csv"), "law.json", &[]);
    let text = std::fs::read_to_string(root("data/splices.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len() - 1;
    for l in &mut lines[1..4] {
        let cell = "eval_tokens.npy fnv1a64:da11b7cd00f64ed7 (BOS/EOS/pad positions left out)";
        assert!(l.contains(cell));
        *l = l.replace(cell, "my-own-tokens");
    }
    let (_, err) = map_json(&law, &write(d.path(), "sp.csv", &(lines.join("\n") + "\n")));
    assert!(n > 3);
    assert!(err.contains("3 splice(s) ("), "{err}");
    assert!(!err.contains(&format!("{n} splice(s) (")), "{err}");
}

/// Under a non-embedding law, a host whose `params` equals its params_total and which gives no
/// params_non_embedding has no actual compute in the law's count: left empty and said, while a
/// row of the same host giving the count gets 6·N_ne·D.
#[test]
fn a_host_counted_otherwise_than_the_law_gets_no_fraction_of_actual() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_to(
        d.path(),
        &root("data/checkpoints.csv"),
        "law.json",
        &[
            "--params-col",
            "params_non_embedding",
            "--param-count",
            "non-embedding",
        ],
    );
    let sp = write(
        d.path(),
        "sp.csv",
        "name,model,ce_clean,ce_spliced,params,params_total,params_non_embedding,tokens\n\
         a,d48,1.6317,1.6943,61248,61248,56640,4096000\n\
         b,d48,1.6317,1.8501,61248,61248,,4096000\n",
    );
    let (v, err) = map_json(&law, &sp);
    let rows = v.as_array().unwrap();
    let actual = 6.0 * 56640.0 * 4096000.0;
    let got = rows[0]["compute_actual"].as_f64().unwrap();
    assert!((got - actual).abs() <= 1e-9 * actual, "{got} vs {actual}");
    assert!(
        rows[1]["compute_fraction_of_actual"].is_null(),
        "{}",
        rows[1]
    );
    assert!(rows[1]["compute_actual"].is_null(), "{}", rows[1]);
    assert!(
        err.contains(
            "1 splice(s) ('b') give params equal to their params_total and no params_non_embedding"
        ),
        "{err}"
    );
}

/// Rows of one host that disagree on its parameter count (or tokens) are said, naming both.
#[test]
fn one_host_with_two_sizes_is_said() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_law(d.path(), &[]);
    let sp = "name,model,ce_clean,ce_spliced,params,tokens\n\
              a,m70,3.7,3.9,70426624,1400000000\n\
              b,m70,3.7,4.0,160000000,1400000000\n\
              c,m160,3.5,3.6,160000000,1400000000\n";
    let (_, err) = map_json(&law, &write(d.path(), "sp.csv", sp));
    assert!(
        err.contains("'m70' has params 70426624 ('a') and 160000000 ('b')"),
        "{err}"
    );
    assert!(!err.contains("'m160' has"), "{err}");
    let ok = "name,model,ce_clean,ce_spliced,params,tokens\n\
              a,m70,3.7,3.9,70426624,1400000000\n\
              b,m70,3.7,4.0,70426624,1400000000\n";
    let (_, err) = map_json(&law, &write(d.path(), "ok.csv", ok));
    assert!(!err.contains("disagree"), "{err}");
    // Two checkpoints of one model (another ce_clean, other tokens): two hosts, nothing to say
    // (review 11d).
    let series = "name,model,ce_clean,ce_spliced,params,tokens\n\
                  a,m70,3.7,3.9,70426624,1400000000\n\
                  b,m70,3.5,3.7,70426624,2800000000\n";
    let (_, err) = map_json(&law, &write(d.path(), "series.csv", series));
    assert!(!err.contains("disagree"), "{err}");
}

/// Rows with two kinds of interval (refits alone; refits with the CEs' noise): the tables that
/// show intervals inline give each row a letter, and each note names its letter.
#[test]
fn each_row_says_which_kind_of_interval_it_has() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_law(d.path(), &["--bootstrap", "30"]);
    let sp = write(
        d.path(),
        "sp.csv",
        "name,ce_clean,ce_spliced,se_ce_clean,se_ce_spliced,n_tokens\n\
         exact,3.2,3.4,,,\n\
         noisy,3.2,3.4,0.01,0.012,20000\n",
    );
    let (md, _) = map_markdown(&law, &sp);
    let row = |name: &str| {
        let l = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} ")))
            .unwrap();
        l.split('|').map(str::trim).collect::<Vec<_>>()
    };
    let header: Vec<&str> = md
        .lines()
        .find(|l| l.starts_with("| name"))
        .unwrap()
        .split('|')
        .map(str::trim)
        .collect();
    let col = header
        .iter()
        .position(|h| h.starts_with("intervals"))
        .expect(&md);
    assert_eq!((row("exact")[col], row("noisy")[col]), ("a", "b"), "{md}");
    let note = |k: &str| {
        md.lines()
            .find(|l| l.contains(&format!("[lo, hi] of rows {k}:")))
            .unwrap_or_else(|| panic!("no note {k}: {md}"))
            .to_owned()
    };
    assert!(!note("a").contains("noise"), "{}", note("a"));
    assert!(note("b").contains("noise"), "{}", note("b"));
    // One kind: no letters.
    let one = write(
        d.path(),
        "one.csv",
        "name,ce_clean,ce_spliced\nexact,3.2,3.4\n",
    );
    let (md, _) = map_markdown(&law, &one);
    assert!(!md.contains("intervals") || !md.contains("of rows"), "{md}");
    assert!(md.contains("[lo, hi]: "), "{md}");
}

/// A host whose clean CE lies far from the law at its own size and tokens (here every CE in bits,
/// a factor 1/ln 2 too high) is said, with the law's value; the same rows in nats are not (review
/// 13: the bits mapped with exit 0 and status ok, compute_fraction 0.83 where nats give 0.68).
#[test]
fn a_host_far_from_the_law_at_its_own_size_is_said() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_to(d.path(), &root("data/checkpoints.csv"), "law.json", &[]);
    let (_, err) = map_json(&law, &root("data/splices.csv"));
    assert!(!err.contains("far from the law"), "{err}");
    let mut r = csv::Reader::from_path(root("data/splices.csv")).unwrap();
    let head = r.headers().unwrap().clone();
    let mut w = csv::Writer::from_path(d.path().join("bits.csv")).unwrap();
    w.write_record(&head).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let cells = head.iter().zip(&rec).map(|(h, v)| match h {
            "ce_clean" | "ce_spliced" | "ce_zero_ablation" | "ce_mean_ablation" => {
                (v.parse::<f64>().unwrap() / std::f64::consts::LN_2).to_string()
            }
            // loss_recovered is a ratio, the same in bits; the SEs are left as they are.
            _ => v.to_owned(),
        });
        w.write_record(cells).unwrap();
    }
    w.flush().unwrap();
    let mut cleans: Vec<String> = csv::Reader::from_path(root("data/splices.csv"))
        .unwrap()
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| r.unwrap()["ce_clean"].clone())
        .collect();
    cleans.dedup();
    let (_, err) = map_json(&law, &d.path().join("bits.csv"));
    assert!(
        err.contains("24 splice(s) have a clean CE far from the law at their host's own size"),
        "{err}"
    );
    // Every host is named, once (it named the first splice only).
    assert_eq!(cleans.len(), 2);
    for c in cleans {
        let v: f64 = c.parse().unwrap();
        let named = format!(
            "and 11 more of its host: ce_clean {:.4} nats where the law gives",
            v / std::f64::consts::LN_2
        );
        assert_eq!(err.matches(&named).count(), 1, "{named}: {err}");
    }
}

/// One checkpoint 15 % off the law no longer widens "far" for every host: a host whose clean CE
/// lies 25 % above the law (measured on another token set) is said. The bound was twice the
/// largest misfit, 30 % here (review 2026-12-07: the open_lm family's one outlier hid hosts on
/// another eval set, compute_fraction_of_actual 0.013 for 0.45, exit 0 and no warning).
#[test]
fn one_outlying_checkpoint_does_not_hide_a_host_off_the_law() {
    let d = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root("data/checkpoints.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let head: Vec<String> = lines[0].split(',').map(String::from).collect();
    let loss = head.iter().position(|h| h == "loss").unwrap();
    // Line 6's loss 15 % higher; the host is line 12's model (the largest).
    let mut cells: Vec<String> = lines[5].split(',').map(String::from).collect();
    cells[loss] = (cells[loss].parse::<f64>().unwrap() * 1.15).to_string();
    lines[5] = cells.join(",");
    let host: Vec<String> = lines[12].split(',').map(String::from).collect();
    let ckpts = write(d.path(), "ck.csv", &(lines.join("\n") + "\n"));
    let law = fit_to(d.path(), &ckpts, "law.json", &[]);
    let col = |c: &str| host[head.iter().position(|h| h == c).unwrap()].clone();
    let clean = col("loss").parse::<f64>().unwrap();
    let row = |name: &str, c: f64| {
        format!(
            "{name},{},{},{c},{},10\n",
            col("params"),
            col("tokens"),
            c + 0.2
        )
    };
    let head = "name,params,tokens,ce_clean,ce_spliced,ce_zero_ablation\n";
    let on = write(d.path(), "on.csv", &(head.to_owned() + &row("on", clean)));
    let (rows, err) = map_json(&law, &on);
    assert!(!err.contains("far from the law"), "{err}");
    assert_ne!(rows[0]["status"], "off_law");
    let off = write(
        d.path(),
        "off.csv",
        &(head.to_owned() + &row("off", 1.25 * clean)),
    );
    let (rows, err) = map_json(&law, &off);
    assert!(
        err.contains("1 splice(s) have a clean CE far from the law at their host's own size"),
        "{err}"
    );
    // The row says it too, in its status and status_detail, for a file shared without the run's
    // stderr: a filter on status `ok` leaves it out.
    assert_eq!(rows[0]["status"], "off_law");
    let detail = rows[0]["status_detail"].as_str().unwrap();
    let said = format!("ce_clean {:.4} lies +", 1.25 * clean);
    assert!(
        detail.contains(&said) && detail.contains("% from the law's"),
        "{detail}"
    );
    assert!(
        err.contains("robust spreads of the fitted checkpoints' residuals"),
        "{err}"
    );
}

/// A host in absurd units (6e-300 FLOPs, 1e150 parameters and tokens) is said in short numbers: the
/// law's value at it and every ratio in scientific form, never hundreds of digits or "infx". (A
/// count below 1 is refused: `bad_input::counts_in_other_units_are_said`.)
#[test]
fn a_host_in_absurd_units_is_said_in_short_numbers() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_to(d.path(), &root("data/checkpoints.csv"), "law.json", &[]);
    let sp = write(
        d.path(),
        "big.csv",
        "name,ce_clean,ce_spliced,params,tokens,compute\nb,1.7,1.8,,,6e-300\nd,1.7,1.8,1e150,1e150,\n",
    );
    let (md, err) = map_markdown(&law, &sp);
    let all = md + &err;
    assert!(all.contains("far from the law"), "{all}");
    let longest = all
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap();
    assert!(longest < 12, "a number of {longest} digits: {all}");
    let words = all.split(|c: char| !c.is_ascii_alphanumeric());
    assert!(
        !words.into_iter().any(|w| w == "inf" || w == "infx"),
        "{all}"
    );
    assert!(
        all.contains(
            "the host's training compute 6.000e-300 is over 1e308x below the smallest fitted"
        ),
        "{all}"
    );
}

/// `ceq map --format markdown` of `splices` through the law file `law`: the table and stderr.
fn map_markdown(law: &Path, splices: &Path) -> (String, String) {
    let mut cmd = ceq();
    cmd.args(["map", "--format", "markdown", "--law"]).arg(law);
    let (out, err) = succeeds(cmd.arg("--splices").arg(splices));
    (String::from_utf8(out).unwrap(), err)
}
