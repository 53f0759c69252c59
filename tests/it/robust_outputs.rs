//! Outputs that must not mislead or break whatever the input: names that would inject markup or escape
//! sequences, bootstrap intervals that cannot be trusted, figures with many groups, and law files
//! whose size does not grow with the data.

use std::path::{Path, PathBuf};

use crate::common::{ceq, data, fit_law, fit_to, map_json, root, write};

/// The synthetic splices.csv with the first names replaced by hostile ones.
const HOSTILE: [&str; 6] = [
    "a|b",
    "line1\nline2",
    "\u{1b}[31mred\u{1b}[0m",
    "`code` *em* <b>x</b> [l](u) ~~s~~ &lt;",
    "1. ordered",
    "bidi\u{202e}desrever",
];

fn hostile_splices(dir: &Path) -> PathBuf {
    let mut rd = csv::Reader::from_path(data("splices.csv")).unwrap();
    let mut wr = csv::Writer::from_path(dir.join("splices.csv")).unwrap();
    wr.write_record(rd.headers().unwrap()).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    for (i, r) in rd.records().enumerate() {
        let mut r: Vec<String> = r.unwrap().iter().map(str::to_owned).collect();
        if let Some(n) = HOSTILE.get(i) {
            r[0] = (*n).to_owned();
        }
        if i == 4 {
            // A splice that lowers the loss gets a note, which starts with its name ("1. ordered").
            let clean: f64 = r[col("ce_clean")].parse().unwrap();
            r[col("ce_spliced")] = format!("{}", clean - 0.01);
        }
        wr.write_record(&r).unwrap();
    }
    wr.flush().unwrap();
    dir.join("splices.csv")
}

fn map_as(law: &Path, splices: &Path, format: &str) -> String {
    let out = ceq()
        .args(["map", "--format", format, "--law"])
        .arg(law)
        .arg("--splices")
        .arg(splices)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Pipes in a Markdown table row that are cell separators (not escaped by a backslash).
fn separators(line: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in line.chars() {
        if c == '|' && !escaped {
            n += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    n
}

#[test]
fn markdown_keeps_hostile_names_in_their_cells_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let md = map_as(&law, &hostile_splices(dir.path()), "markdown");
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'), "{md}");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    // Header, alignment and one row per splice: no name broke a row.
    assert_eq!(rows.len(), 2 + 12, "{md}");
    let cells = separators(rows[0]);
    for r in &rows {
        assert_eq!(separators(r), cells, "a name split a row into cells: {r}");
    }
    for want in [
        "a\\|b",
        "line1<br>line2",
        "\\x1b[31mred\\x1b[0m",
        "\\`code\\` \\*em\\* \\<b\\>x\\</b\\> [l\\](u) \\~\\~s\\~~ \\&lt;",
        "1. ordered",
        "bidi\\u{202e}desrever",
    ] {
        assert!(md.contains(want), "no '{want}' in\n{md}");
    }
    // In a note (a list item) a leading "1." would start a numbered list.
    assert!(
        md.lines().any(|l| l.starts_with("- 1\\. ordered: ")),
        "{md}"
    );
}

#[test]
fn terminal_table_shows_control_characters_visibly_and_stays_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let t = map_as(&law, &hostile_splices(dir.path()), "table");
    assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
    assert!(!t.contains('\u{202e}'));
    for want in [
        "line1\\nline2",
        "\\x1b[31mred\\x1b[0m",
        "bidi\\u{202e}desrever",
    ] {
        assert!(t.contains(want), "no '{want}' in\n{t}");
    }
    assert!(
        !t.lines().any(|l| l.starts_with("line2")),
        "a name broke a row:\n{t}"
    );
    // The rows after the title, header and units line up: each ends with its status (one word,
    // left-aligned) starting at one column.
    let lines: Vec<&str> = t.lines().skip(3).take(12).collect();
    let status_at = |l: &str| l.rsplit_once(' ').map(|(a, _)| a.chars().count());
    assert!(
        lines.iter().all(|l| status_at(l) == status_at(lines[0])),
        "{t}"
    );
}

/// A bidirectional override in a name would reorder the rest of an HTML page or a LaTeX table's
/// line as it does a terminal's (review: it reached both raw); it is written visibly there too.
#[test]
fn html_and_latex_write_a_bidi_override_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let splices = hostile_splices(dir.path());
    for (format, want) in [
        ("html", "bidi\\u{202e}desrever"),
        ("latex", "bidi\\textbackslash{}u\\{202e\\}desrever"),
    ] {
        let text = map_as(&law, &splices, format);
        assert!(!text.contains('\u{202e}'), "{format}: {text}");
        assert!(text.contains(want), "{format}: no {want} in {text}");
    }
}

#[test]
fn csv_and_json_keep_hostile_names_exact() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let splices = hostile_splices(dir.path());
    let csv_text = map_as(&law, &splices, "csv");
    let mut rd = csv::Reader::from_reader(csv_text.as_bytes());
    let names: Vec<String> = rd.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(&names[..HOSTILE.len()], HOSTILE);
    let json = map_json(&law, &splices).0;
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..HOSTILE.len()], HOSTILE);
}

#[test]
fn a_level_the_refits_cannot_support_is_warned_of_with_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let law = dir.path().join("law.json");
    let out = ceq()
        .args([
            "fit",
            "--bootstrap",
            "2",
            "--ci",
            "0.999999",
            "--checkpoints",
        ])
        .arg(data("checkpoints.csv"))
        .arg("--out")
        .arg(&law)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let want =
        "rest on 2 refits, but a percentile interval at level 0.999999 needs at least 2000000";
    assert!(stderr.contains(want), "{stderr}");
    let lf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
    let warnings = lf["fit"]["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w.as_str().unwrap().contains(want)),
        "{warnings:?}"
    );
    // The table printed and the map of it carry the warning too.
    assert!(String::from_utf8_lossy(&out.stdout).contains(want));
    let mapped = map_as(&law, Path::new(&data("splices.csv")), "table");
    assert!(mapped.contains(want), "{mapped}");
}

#[test]
fn enough_refits_at_an_ordinary_level_give_no_warning() {
    let out = ceq()
        .args(["fit", "--bootstrap", "40", "--checkpoints"])
        .arg(data("checkpoints.csv"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bootstrap intervals"));
}

/// The synthetic family's fit, with refits made by hand that all settle away from the fit.
fn shifted_bootstrap(shift: f64) -> ceq::law_file::LawFile {
    use ceq::fit::{Bootstrap, FitOptions, Resample, fit};
    use ceq::law::Form;
    use ceq::law_file::{LawFile, ParamCount};
    use ceq::table::{ColumnMap, read_family};
    let path = PathBuf::from(data("checkpoints.csv"));
    let family = read_family(&path, &ColumnMap::default(), Form::Chinchilla, 0).unwrap();
    let f = fit(&family, &FitOptions::default()).unwrap();
    let thetas = (0..50)
        .map(|i| {
            let mut t = f.theta.clone();
            // θ[0] is log E: every refit's floor is higher than the fit's.
            t[0] += shift * (1.0 + i as f64 / 100.0);
            t
        })
        .collect();
    let b = Bootstrap {
        resamples: 50,
        seed: 0,
        unit: Resample::Checkpoint,
        failed: 0,
        thetas,
    };
    let pc = ParamCount::Total;
    LawFile::new(&f, &family, "x", pc, (Some(&b), 0.9)).unwrap()
}

#[test]
fn intervals_that_exclude_their_estimate_are_warned_of() {
    let lf = shifted_bootstrap(0.05);
    let w = lf.fit.warnings.join("\n");
    assert!(w.contains("do not contain the fitted value (E = "), "{w}");
    assert!(!w.contains("rest on"), "{w}");
    // Each mapped splice whose interval misses its estimate says so.
    let splices = ceq::table::read_splices(Path::new(&data("splices.csv"))).unwrap();
    let m = ceq::map::map(&lf, splices).unwrap();
    assert!(
        m.rows
            .iter()
            .any(|r| r.detail.contains("does not contain its estimate")),
        "{:?}",
        m.rows.iter().map(|r| &r.detail).collect::<Vec<_>>()
    );
    // Refits around the fit: no such warning.
    let lf = shifted_bootstrap(0.0);
    assert!(
        lf.fit
            .warnings
            .iter()
            .all(|w| !w.contains("do not contain")),
        "{:?}",
        lf.fit.warnings
    );
}

/// Every `<text>` of an SVG (which must parse) with a rough box: (text, x0, y0, x1, y1). Widths are
/// estimated at 0.55 em a character, so boxes are approximate; rotated texts are left out.
pub(crate) fn text_boxes(path: &Path) -> Vec<(String, f64, f64, f64, f64)> {
    let s = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&s)
        .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", path.display()));
    doc.descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("transform").is_none())
        .map(|n| {
            let num = |k: &str| n.attribute(k).map_or(0.0, |v| v.parse::<f64>().unwrap());
            let text = n.text().unwrap_or("").trim().to_owned();
            let fs = num("font-size");
            let w = 0.55 * fs * text.chars().count() as f64;
            let x = num("x");
            let x0 = match n.attribute("text-anchor") {
                Some("middle") => x - w / 2.0,
                Some("end") => x - w,
                _ => x,
            };
            // plotters writes the top with dy="0.76em", else the baseline.
            let top = match n.attribute("dy") {
                Some("0.76em") => num("y"),
                Some("0.5ex") => num("y") - 0.5 * fs,
                _ => num("y") - 0.8 * fs,
            };
            (text, x0, top, x0 + w, top + fs)
        })
        .filter(|t| !t.0.is_empty())
        .collect()
}

#[test]
fn figures_with_40_groups_and_500_splices_keep_legends_and_labels_readable() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &["--bootstrap", "20"]);
    let mut csv = String::from("name,model,params,tokens,ce_clean,ce_spliced,ce_zero_ablation\n");
    for i in 0..500 {
        let g = i % 40;
        let n = 5e7 * 1.12f64.powi(g);
        let clean = 2.2 + 1.6 * (40 - g) as f64 / 40.0;
        let spliced = clean + 0.05 + 0.5 * ((i * 7) % 13) as f64 / 13.0;
        csv += &format!(
            "sae-{i},host-{g:02}-with-a-longish-name,{n},{},{clean},{spliced},{}\n",
            20.0 * n,
            clean + 6.0
        );
    }
    let splices = write(dir.path(), "splices.csv", &csv);
    let figs = dir.path().join("figs");
    let out = ceq()
        .arg("plot")
        .arg("--law")
        .arg(&law)
        .arg("--splices")
        .arg(&splices)
        .arg("--out-dir")
        .arg(&figs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for fig in [
        "fit",
        "splices",
        "linear_vs_log",
        "across_sizes",
        "residuals",
        "n_and_d",
    ] {
        // The two-panel figure is twice as wide; across_sizes wider by its legend (naming SAEs
        // even where none recurs on another host).
        let svg = figs.join(format!("{fig}.svg"));
        let w = match fig {
            "n_and_d" => 1120.0,
            "across_sizes" => {
                let text = std::fs::read_to_string(&svg).unwrap();
                let doc = roxmltree::Document::parse(&text).unwrap();
                let w: f64 = doc
                    .root_element()
                    .attribute("width")
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(w > 560.0 && w < 1120.0, "{w}");
                w
            }
            _ => 560.0,
        };
        texts_fit(&svg, w);
        if fig == "across_sizes" {
            // Each of the 40 hosts named under its points, by what tells it from the others.
            let boxes = text_boxes(&svg);
            let mut hosts: Vec<&str> = (boxes.iter().map(|b| b.0.as_str()))
                .filter(|t| t.starts_with('…') && t.ends_with('…'))
                .collect();
            hosts.sort();
            hosts.dedup();
            let want: Vec<String> = (0..40).map(|g| format!("…{g:02}…")).collect();
            assert_eq!(hosts, want.iter().map(String::as_str).collect::<Vec<_>>());
        }
        if fig == "splices" || fig == "linear_vs_log" {
            let boxes = text_boxes(&svg);
            let texts: Vec<&str> = boxes.iter().map(|b| b.0.as_str()).collect();
            assert!(texts.contains(&"+33 more model groups"), "{fig}: {texts:?}");
        }
    }
}

#[test]
fn a_law_file_keeps_a_bounded_sample_of_many_residuals() {
    let dir = tempfile::tempdir().unwrap();
    let n = 12_000;
    let mut csv = String::from("name,params,tokens,loss\n");
    for i in 0..n {
        let p = 1e7 * 10f64.powf((i % 97) as f64 / 40.0);
        let d = p * 10f64.powf(1.0 + (i % 89) as f64 / 45.0);
        let noise = 1.0 + 0.004 * (((i * 7919) % 1000) as f64 / 500.0 - 1.0);
        let l = (1.7 + 400.0 * p.powf(-0.34) + 1800.0 * d.powf(-0.3)) * noise;
        csv += &format!("c{i},{p},{d},{l}\n");
    }
    let ck = write(dir.path(), "ck.csv", &csv);
    let law = fit_to(dir.path(), &ck, "law.json", &[]);
    let text = std::fs::read_to_string(&law).unwrap();
    let lf: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(lf["fit"]["residuals_of"], n);
    assert_eq!(lf["data"]["n_points"], n);
    assert_eq!(lf["fit"]["residuals"].as_array().unwrap().len(), 5000);
    assert!(text.len() < 2_000_000, "{} bytes", text.len());
    // It reads back, and the figures are drawn from the sample with the whole fit's counts.
    let figs = dir.path().join("figs");
    ceq()
        .args(["plot", "--law"])
        .arg(&law)
        .arg("--out-dir")
        .arg(&figs)
        .assert()
        .success();
    let texts: Vec<String> = text_boxes(&figs.join("fit.svg"))
        .into_iter()
        .map(|b| b.0)
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t == "checkpoints (5000 of n = 12000 shown)"),
        "{texts:?}"
    );
    let outliers = lf["fit"]["beyond_delta"].as_u64().unwrap();
    let texts: Vec<String> = text_boxes(&figs.join("residuals.svg"))
        .into_iter()
        .map(|b| b.0)
        .collect();
    let want = format!("|r| > δ (linear): {outliers}");
    assert!(texts.contains(&want), "{want}: {texts:?}");
}

/// Every text of an SVG figure `w` wide (and 380 high) lies on the canvas, and no two overlap.
pub(crate) fn texts_fit(svg: &Path, w: f64) {
    let boxes = text_boxes(svg);
    let fig = svg.display();
    for (t, x0, y0, x1, y1) in &boxes {
        assert!(
            *x0 >= -1.0 && *y0 >= -1.0 && *x1 <= w + 1.0 && *y1 <= 381.0,
            "{fig}: '{t}' at ({x0:.0}, {y0:.0})–({x1:.0}, {y1:.0}) is off the {w}×380 canvas"
        );
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            // A little slack: the widths are estimates.
            let overlap_x = a.3.min(b.3) - a.1.max(b.1);
            let overlap_y = a.4.min(b.4) - a.2.max(b.2);
            assert!(
                overlap_x <= 2.0 || overlap_y <= 1.0,
                "{fig}: '{}' and '{}' overlap",
                a.0,
                b.0
            );
        }
    }
}

/// The library's entry points keep the command line's checks (review): `map` maps at the law
/// file's own level, a level outside (0, 1) is an error rather than a panic, `LawFile::new` refuses
/// a parameter count that the family's own columns contradict, and the joint token bootstrap maps
/// the rows it is given.
#[test]
fn the_library_keeps_the_command_lines_checks() {
    use ceq::fit::{FitOptions, fit};
    use ceq::law::Form;
    use ceq::law_file::{LawFile, ParamCount};
    use ceq::map::{map, map_at};
    use ceq::table::{ColumnMap, read_family, read_splices};
    let ck = root("data/checkpoints.csv");
    let family = read_family(&ck, &ColumnMap::default(), Form::Chinchilla, 0).unwrap();
    let f = fit(&family, &FitOptions::default()).unwrap();
    // data/'s params column holds total counts, as its params_total column shows.
    let told = |count, level| LawFile::new(&f, &family, "x", count, (None, level));
    let err = told(ParamCount::NonEmbedding, 0.9).unwrap_err().to_string();
    assert!(err.contains("holds total parameter counts"), "{err}");
    // Below one half, or so near 1 that the column name ci_lo_… would round to 0 or 100.
    for level in [0.0, 1e-9, 0.3, 0.999_999_9, 1.0, 1.5, f64::NAN] {
        let err = told(ParamCount::Total, level).unwrap_err().to_string();
        assert!(
            err.contains("must be from 0.5 to 0.999999"),
            "{level}: {err}"
        );
    }
    // Without refits, intervals are the CEs' noise alone, at the level the law file was made at.
    let lf = told(ParamCount::Total, 0.5).unwrap();
    let splices = || read_splices(&root("data/splices.csv")).unwrap();
    let fraction = |m: &ceq::map::MapResult| m.rows[0].ci.and_then(|c| c.fraction).unwrap();
    let (mapped, at50) = (
        map(&lf, splices()).unwrap(),
        map_at(&lf, splices(), 0.5).unwrap(),
    );
    assert_eq!(fraction(&mapped), fraction(&at50));
    let at90 = map_at(&lf, splices(), 0.9).unwrap();
    assert!(
        fraction(&at90).0 < fraction(&at50).0,
        "90% is wider than 50%"
    );
    for level in [1.5, f64::NAN] {
        assert!(map_at(&lf, splices(), level).is_err());
    }
    // The joint token bootstrap maps the two rows given, not the file's 24.
    let mut spec = ceq::pipeline::FitSpec::new(ck.clone(), "x");
    spec.bootstrap = 3;
    let job = spec.validate().unwrap();
    let mut two = splices();
    two.rows.truncate(2);
    let path = root("data/splices.csv");
    let m = ceq::token_bootstrap::map_token_bootstrap(&job, (&path, two), &|_| {}).unwrap();
    assert_eq!(m.rows.len(), 2);
}

/// A synthetic spec the generator cannot draw from is an error naming the value (review: an
/// infinite host size panicked), and the default spec still generates.
#[test]
fn synth_refuses_a_spec_it_cannot_draw_from() {
    use ceq::synth::{SynthSpec, generate};
    let spec = SynthSpec::default;
    assert!(generate(&spec()).is_ok());
    let mut cases: Vec<(SynthSpec, &str)> = Vec::new();
    let mut s = spec();
    s.hosts[1].1 = f64::INFINITY;
    cases.push((s, "hosts: inf"));
    let mut s = spec();
    s.hosts[0].1 = 1e300;
    cases.push((s, "not above the law's floor E"));
    let mut s = spec();
    s.noise = f64::NAN;
    cases.push((s, "noise: NaN"));
    let mut s = spec();
    s.noise = -0.01;
    cases.push((s, "noise: -0.01 is not a finite SD ≥ 0"));
    let mut s = spec();
    s.sizes[0] = 0.3;
    cases.push((s, "sizes: 0 parameters"));
    let mut s = spec();
    s.tokens_per_param = vec![1e-9];
    cases.push((s, "tokens_per_param: "));
    let mut s = spec();
    s.hosts[0].1 = 0.5;
    cases.push((s, "hosts: a host of 0.5 parameters"));
    let mut s = spec();
    s.sizes[3] = -1.0;
    cases.push((s, "sizes: -1"));
    let mut s = spec();
    s.law.beta = 0.0;
    cases.push((s, "law: "));
    let mut s = spec();
    s.saes[0].2 = 1.5;
    cases.push((s, "saes: a compute fraction of 1.5"));
    for (s, want) in cases {
        let err = generate(&s).err().expect(want).to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
}

/// A family built or edited by hand with a value the readers refuse is an error naming its line
/// and checkpoint, not a fit of NaNs (review).
#[test]
fn fit_names_a_hand_made_point_it_cannot_use() {
    use ceq::fit::{FitOptions, fit};
    use ceq::law::Form;
    use ceq::table::{ColumnMap, read_family};
    let path = PathBuf::from(data("checkpoints.csv"));
    let family = read_family(&path, &ColumnMap::default(), Form::Chinchilla, 0).unwrap();
    for (field, value, want) in [
        ("loss", f64::NAN, "loss NaN"),
        ("params", -3.0, "params -3"),
        ("tokens", f64::INFINITY, "tokens inf"),
    ] {
        let mut f = family.clone();
        let c = &mut f.checkpoints[4];
        *match field {
            "loss" => &mut c.loss,
            "params" => &mut c.params,
            _ => &mut c.tokens,
        } = value;
        let (line, name) = (
            f.checkpoints[4].line,
            f.checkpoints[4].name.clone().unwrap(),
        );
        let err = fit(&f, &FitOptions::default()).unwrap_err().to_string();
        let at = format!("line {line} ({name}): {want} is not a finite number > 0");
        assert!(err.contains(&at), "{at}: {err}");
    }
}
