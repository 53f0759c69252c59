//! `ceq report` and `ceq plot`: the folder holds every file, figures are well-formed and show what
//! they claim, tables are snapshot-tested, and the page renders in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{ceq, data, stdout_json};

/// A report on the synthetic family with a small bootstrap, made once per test that needs one.
fn report(dir: &Path) -> PathBuf {
    let out = dir.join("rep");
    ceq()
        .args([
            "report",
            "--checkpoints",
            &data("checkpoints.csv"),
            "--splices",
            &data("splices.csv"),
        ])
        .args(["--bootstrap", "60", "--eval-set", "synthetic", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn report_folder_holds_every_file_and_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = ceq::report::FILES.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(names, want);
    let before = std::fs::read(out.join("law.json")).unwrap();
    let o = ceq()
        .args([
            "report",
            "--checkpoints",
            &data("checkpoints.csv"),
            "--splices",
            &data("splices.csv"),
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read(out.join("law.json")).unwrap(),
        before,
        "a refused report changed a file"
    );
    ceq()
        .args([
            "report",
            "--checkpoints",
            &data("checkpoints.csv"),
            "--splices",
            &data("splices.csv"),
            "--force",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    // The page records the command and version, and inlines every figure.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("ceq report") && html.contains(env!("CARGO_PKG_VERSION")));
    assert!(html.contains("--force"));
    assert_eq!(html.matches("<svg").count(), 6);
}

/// Text of every `<text>` element of an SVG, which must parse as XML.
fn svg_texts(path: &Path) -> (String, Vec<String>) {
    let s = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&s)
        .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", path.display()));
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect();
    (s, texts)
}

fn count(svg: &str, tag: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants().filter(|n| n.has_tag_name(tag)).count()
}

#[test]
fn figures_are_well_formed_labelled_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path());
    let n_splices = 12;
    let n_hosts = 4;
    let law: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("law.json")).unwrap()).unwrap();
    let fitted_e = format!("fitted E = {:.3}", law["params"]["E"].as_f64().unwrap());
    // Axes say which token set the losses are on and which N the compute counts: a figure may be
    // shown without its caption.
    let loss = format!(
        "Loss on {} (nats/token)",
        law["units"]["eval_set"].as_str().unwrap()
    );
    let n = law["data"]["param_count"].as_str().unwrap();
    let compute = format!("Training compute C = 6ND (FLOPs, N {n})");
    let size = format!("Parameters N ({n})");
    for (fig, labels) in [
        (
            "fit",
            vec![compute.as_str(), loss.as_str(), "checkpoints (n = 70)"],
        ),
        (
            "splices",
            vec![compute.as_str(), loss.as_str(), "model host-1b"],
        ),
        (
            "linear_vs_log",
            vec![
                "Compute fraction C_eq(spliced)/C_eq(clean)",
                "Loss recovered vs zero ablation (%)",
                "bars: 90% intervals (law refits)",
            ],
        ),
        (
            "across_sizes",
            vec![
                "C_eq(spliced) / C_eq(clean) (log scale)",
                "host-70m",
                "host-1b",
                "bars: 90% intervals (law refits)",
            ],
        ),
        (
            "residuals",
            vec![
                "ln(predicted) − ln(observed loss)",
                "Huber threshold ±δ = 0.001",
            ],
        ),
        (
            "n_and_d",
            vec![size.as_str(), "Training tokens D", fitted_e.as_str()],
        ),
    ] {
        let (svg, texts) = svg_texts(&out.join(format!("{fig}.svg")));
        for l in labels {
            assert!(
                texts.iter().any(|t| t == l),
                "{fig}.svg has no text '{l}': {texts:?}"
            );
        }
        let circles = count(&svg, "circle");
        match fig {
            // One marker per splice, plus one legend dot per host.
            "splices" | "linear_vs_log" => assert_eq!(circles, n_splices + n_hosts, "{fig}"),
            // One per splice, plus the legend's swatch of each of the 3 configurations (layer,
            // width, L0) that recur on every host: dots, squares and triangles in turn, so the
            // first configuration's points on the 4 hosts and its swatch are the circles.
            "across_sizes" => {
                let markers = circles + count(&svg, "polygon");
                assert_eq!(
                    (circles, markers),
                    (n_splices / 3 + 1, n_splices + 3),
                    "{fig}"
                )
            }
            // One per checkpoint plus the legend's.
            "fit" => assert_eq!(circles, 70 + 1, "{fig}"),
            "residuals" => assert_eq!(circles, 70 + 2, "{fig}"),
            // Each checkpoint in both panels, and each panel's legend dot for them: the synthetic
            // family is not a grid, so its checkpoints are drawn in one colour against the law at
            // their own N and D.
            "n_and_d" => assert_eq!(circles, 2 * 70 + 2, "{fig}"),
            _ => unreachable!(),
        }
    }
    // The page says under its figures what they show and in what units, count and token set.
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let figures = &html[html.find("<h2>Figures</h2>").unwrap()..];
    assert!(figures.contains("eval set 'synthetic'") && figures.contains("N = total parameters"));
    assert!(figures.contains("bars: 90% intervals (law refits)"));
    assert!(figures.contains("<figcaption>Checkpoint losses, the fitted curve"));
    // The across-sizes figure's caption says how its series and axis were made.
    assert!(
        figures.contains("3 configurations, each a splice's name with its model taken out")
            && figures.contains("x: host size, N = total parameters"),
        "{figures}"
    );
    // Every splice's fraction is written next to its arrow, unless it had to be left out to avoid an
    // overlap; on the synthetic family none has to be.
    let (_, texts) = svg_texts(&out.join("splices.svg"));
    assert_eq!(
        texts.iter().filter(|t| t.starts_with('×')).count(),
        n_splices
    );
}

/// A checkpoint far off the curve in the upper right corner (a diverged run's last checkpoint):
/// the fit figure's legend moves to the lower left rather than cover it.
#[test]
fn the_fit_legend_covers_no_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let mut ck = String::from("step,params,tokens,loss\n");
    for s in [250, 500, 1000, 2000, 4000, 8000, 16000, 32000] {
        let t = s as f64 * 2.0e6;
        let loss = if s == 32000 {
            4.3
        } else {
            2.0 + 1000.0 * t.powf(-0.3)
        };
        ck += &format!("{s},1e8,{t},{loss}\n");
    }
    let ck_path = dir.path().join("run.csv");
    std::fs::write(&ck_path, ck).unwrap();
    let figs = dir.path().join("figs");
    ceq()
        .args(["plot", "--form", "run", "--figure", "fit", "--checkpoints"])
        .arg(&ck_path)
        .arg("--out-dir")
        .arg(&figs)
        .assert()
        .success();
    let svg = std::fs::read_to_string(figs.join("fit.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let num = |n: &roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    let boxes: Vec<[f64; 4]> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("opacity") == Some("0.9"))
        .map(|n| {
            let (x, y) = (num(&n, "x"), num(&n, "y"));
            [x, y, x + num(&n, "width"), y + num(&n, "height")]
        })
        .collect();
    let [[x0, y0, x1, y1]] = boxes[..] else {
        panic!("one legend box expected: {boxes:?}")
    };
    let dots: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .map(|n| (num(&n, "cx"), num(&n, "cy")))
        .collect();
    assert_eq!(dots.len(), 8 + 1);
    let covered = dots
        .iter()
        .filter(|(x, y)| (x0..=x1).contains(x) && (y0..=y1).contains(y))
        .count();
    // Only the legend's own swatch lies inside it.
    assert_eq!(covered, 1, "legend {boxes:?} over {dots:?}");
    assert!(
        y0 > 380.0 / 2.0,
        "the legend stayed in the upper half: {boxes:?}"
    );
}

/// Grouped by a numeric column, the groups are labelled as a table prints numbers, not with every
/// digit of the file.
#[test]
fn numeric_groups_are_labelled_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let figs = dir.path().join("figs");
    ceq()
        .current_dir(root)
        .args(["plot", "--checkpoints", "data/checkpoints.csv"])
        .args(["--splices", "data/splices.csv", "--group-by", "l0"])
        .args(["--figure", "across-sizes", "--out-dir"])
        .arg(&figs)
        .assert()
        .success();
    let (_, texts) = svg_texts(&figs.join("across_sizes.svg"));
    assert!(texts.iter().any(|t| t == "82.93"), "{texts:?}");
    let numbers = texts.iter().filter(|t| t.parse::<f64>().is_ok());
    assert!(
        numbers.clone().count() >= 8 && numbers.clone().all(|t| t.len() <= 6),
        "{texts:?}"
    );
}

/// Decodes a PNG; returns (width, height, distinct colours seen).
fn decode(path: &Path) -> (u32, u32, usize) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let mut colours: Vec<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    colours.sort();
    colours.dedup();
    (info.width, info.height, colours.len())
}

#[test]
fn pngs_decode_at_their_stated_size() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("figs");
    ceq()
        .args([
            "plot",
            "--checkpoints",
            &data("checkpoints.csv"),
            "--splices",
            &data("splices.csv"),
            "--out-dir",
        ])
        .arg(&out)
        .assert()
        .success();
    for f in [
        "fit",
        "splices",
        "linear_vs_log",
        "across_sizes",
        "residuals",
        "n_and_d",
    ] {
        let (w, h, colours) = decode(&out.join(format!("{f}.png")));
        // Two panels side by side get twice the width; a legend beside the plot widens the SVG,
        // and the PNG follows it at 3×.
        let svg = std::fs::read_to_string(out.join(format!("{f}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let svg_w: u32 = doc
            .root_element()
            .attribute("width")
            .unwrap()
            .parse()
            .unwrap();
        let w_want = match f {
            "n_and_d" => 3360,
            "across_sizes" => {
                assert!(svg_w > 560, "the legend of its series widens it: {svg_w}");
                3 * svg_w
            }
            _ => 1680,
        };
        assert_eq!((w, h), (w_want, 1140), "{f}.png");
        // Anti-aliased text and several series: far more than a blank or single-colour image.
        assert!(colours > 50, "{f}.png has only {colours} colours");
        assert!(out.join(format!("{f}.svg")).exists());
    }
}

#[test]
fn tables_snapshot() {
    // No bootstrap: the numbers depend only on the fit, printed to 4 significant digits. Run from the
    // repository root with relative paths, so the notes do not name this machine's folders.
    let table = |format: &str| {
        let o = ceq()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "map",
                "--format",
                format,
                "--checkpoints",
                "tests/fixtures/synth/checkpoints.csv",
                "--splices",
                "tests/fixtures/synth/splices.csv",
            ])
            .output()
            .unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap()
    };
    insta::assert_snapshot!("mapped_markdown", table("markdown"));
    insta::assert_snapshot!("mapped_latex", table("latex"));
}

fn chromium() -> Option<PathBuf> {
    on_path(&["chromium", "chromium-browser", "google-chrome"])
}

/// The first of `programs` found on PATH.
fn on_path(programs: &[&str]) -> Option<PathBuf> {
    programs.iter().find_map(|b| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(b))
            .find(|p| p.exists())
    })
}

/// Every figure is also a one-page PDF of its SVG's size at 100 px per inch (5.6 × 3.8 in for most),
/// whose text is text: poppler, a PDF reader of its own, finds each of the SVG's texts in it.
#[test]
fn every_figure_is_also_a_pdf_of_its_size_with_its_text_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path());
    let poppler = on_path(&["pdftotext"]).zip(on_path(&["pdfinfo"]));
    if poppler.is_none() {
        // CI installs poppler-utils (.ci/run); there, a missing reader is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have poppler-utils installed"
        );
        eprintln!(
            "SKIPPED (the text and page checks): no pdftotext on PATH (apt-get install poppler-utils)"
        );
    }
    let stem = |f: &str| f.strip_suffix(".pdf").map(str::to_owned);
    let figures: Vec<String> = ceq::report::FILES.iter().filter_map(|f| stem(f)).collect();
    assert_eq!(figures.len(), 6);
    for fig in figures {
        let pdf = out.join(format!("{fig}.pdf"));
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{fig}.pdf is no PDF");
        let (svg, texts) = svg_texts(&out.join(format!("{fig}.svg")));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let size = |k: &str| {
            doc.root_element()
                .attribute(k)
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        let inches = (size("width") / 100.0, size("height") / 100.0);
        let Some((pdftotext, pdfinfo)) = &poppler else {
            continue;
        };
        let run = |c: &Path, args: &[&str], after: &[&str]| {
            let o = Command::new(c)
                .args(args)
                .arg(&pdf)
                .args(after)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}: {o:?}", c.display());
            String::from_utf8(o.stdout).unwrap()
        };
        let info = run(pdfinfo, &[], &[]);
        let page = (info.lines())
            .find_map(|l| l.strip_prefix("Page size:"))
            .unwrap_or_else(|| panic!("{fig}.pdf: no page size in {info}"));
        let pts: Vec<f64> = (page.split_whitespace())
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(pts.len(), 2, "{page}");
        let want = [inches.0 * 72.0, inches.1 * 72.0];
        assert!(
            (pts[0] - want[0]).abs() < 0.01 && (pts[1] - want[1]).abs() < 0.01,
            "{fig}.pdf is {page}, not {want:?} pt"
        );
        assert!(
            info.lines()
                .any(|l| l.split_whitespace().eq(["Pages:", "1"])),
            "{fig}.pdf: {info}"
        );
        // In drawing order (-raw), each text stays whole; spacing is the reader's own.
        let flat = |s: &str| s.split_whitespace().collect::<String>();
        let read = flat(&run(pdftotext, &["-raw"], &["-"]));
        for t in texts.iter().filter(|t| !t.is_empty()) {
            assert!(
                read.contains(&flat(t)),
                "{fig}.pdf lacks the text '{t}': {read}"
            );
        }
    }
}

#[test]
fn report_page_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        // CI installs Chromium (.ci/run); there, a missing browser is a failure, not a skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have chromium installed"
        );
        eprintln!("SKIPPED: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = report(dir.path());
    let page = format!("file://{}", out.join("index.html").display());
    let shot = dir.path().join("screenshot.png");
    let profile = dir.path().join("profile");
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let o = Command::new(&browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1200,1600")
        .arg(&page)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium failed: {log}");
    for bad in ["Uncaught", "CONSOLE(", "Failed to load", "net::ERR_"] {
        assert!(!log.contains(bad), "chromium reported '{bad}': {log}");
    }
    let (w, h, colours) = decode(&shot);
    assert_eq!((w, h), (1200, 1600));
    assert!(
        colours > 50,
        "the screenshot looks blank ({colours} colours)"
    );
    // The DOM Chromium built holds the tables and the inlined figures.
    let dom = Command::new(&browser)
        .args(flags)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<svg").count(), 6);
    assert!(dom.contains("host-1b-L6-8x-l016") && dom.contains("compute_fraction"));
    std::fs::copy(
        &shot,
        std::env::temp_dir().join("ceq-report-screenshot.png"),
    )
    .ok();
}

/// Each "×fraction" label of the splices figure is nearer its own arrow than any other: on the
/// README's data, where arrows crowd, the arrow nearest a label has the fraction the label says
/// (an arrow's length on the log axis is its fraction).
#[test]
fn splice_labels_sit_by_their_own_arrows() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let figs = dir.path().join("figs");
    ceq()
        .current_dir(root)
        .args(["plot", "--checkpoints", "data/checkpoints.csv"])
        .args(["--splices", "data/splices.csv", "--figure", "splices"])
        .arg("--out-dir")
        .arg(&figs)
        .assert()
        .success();
    let svg = std::fs::read_to_string(figs.join("splices.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let num = |s: &str| s.parse::<f64>().unwrap();
    // Arrow shafts: opaque two-point horizontal lines in a group's colour, from the host's
    // compute to the head's base (the head is 6 px long).
    let mut shafts = vec![];
    for n in doc.descendants().filter(|n| n.has_tag_name("polyline")) {
        let stroke = n.attribute("stroke").unwrap();
        let pts: Vec<(f64, f64)> = (n.attribute("points").unwrap().split_whitespace())
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (num(x), num(y))
            })
            .collect();
        let grey_or_black = ["#000000", "#969696"].contains(&stroke);
        if n.attribute("opacity") == Some("1") && !grey_or_black && pts.len() == 2 {
            let [(xa, ya), (xb, yb)] = [pts[0], pts[1]];
            if ya == yb && xa != xb {
                shafts.push((xb.min(xa) - 6.0, xa.max(xb), ya));
            }
        }
    }
    let mapped = stdout_json(
        ceq()
            .current_dir(root)
            .args([
                "map",
                "--format",
                "json",
                "--checkpoints",
                "data/checkpoints.csv",
            ])
            .args(["--splices", "data/splices.csv"]),
    );
    let mut decades: Vec<f64> = (mapped.as_array().unwrap().iter())
        .map(|r| -r["compute_fraction"].as_f64().unwrap().log10())
        .collect();
    assert_eq!(shafts.len(), decades.len(), "one arrow per splice");
    // Pixels per decade: arrow lengths and decades lost sort alike.
    let mut lengths: Vec<f64> = shafts.iter().map(|s| s.1 - s.0).collect();
    lengths.sort_by(f64::total_cmp);
    decades.sort_by(f64::total_cmp);
    let mut ppd: Vec<f64> = lengths.iter().zip(&decades).map(|(l, d)| l / d).collect();
    ppd.sort_by(f64::total_cmp);
    let ppd = ppd[ppd.len() / 2];
    let labels: Vec<(f64, f64, f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.text().unwrap_or("").trim().starts_with('×'))
        .map(|n| {
            let t = n.text().unwrap().trim();
            let fs = num(n.attribute("font-size").unwrap());
            let (x, y) = (
                num(n.attribute("x").unwrap()),
                num(n.attribute("y").unwrap()),
            );
            let w = 0.6 * fs * t.chars().count() as f64;
            (x, y, w, num(&t['×'.len_utf8()..]))
        })
        .collect();
    assert!(labels.len() >= 6, "too few labels: {labels:?}");
    for &(x, y, w, said) in &labels {
        let (y0, y1) = (y, y + 11.0);
        let dist = |&(a, b, ys): &(f64, f64, f64)| {
            let dx = (a - (x + w)).max(x - b).max(0.0);
            let dy = (y0 - ys).max(ys - y1).max(0.0);
            dx.hypot(dy)
        };
        let near = shafts
            .iter()
            .min_by(|p, q| dist(p).total_cmp(&dist(q)))
            .unwrap();
        let fraction = 10f64.powf(-(near.1 - near.0) / ppd);
        assert!(
            (fraction / said).ln().abs() < 1.08f64.ln(),
            "label ×{said} at ({x}, {y}) is nearest an arrow of ×{fraction:.3}"
        );
    }
}

#[test]
fn axes_name_the_parameter_count_the_token_set_and_how_compute_was_counted() {
    use crate::common::{TRUE_LAW, family_csv, fit_to, write};
    let d = tempfile::tempdir().unwrap();
    let texts_of = |law: &Path, fig: &str| {
        let stem = law.file_stem().unwrap().to_str().unwrap();
        let out = d.path().join(format!("figs-{stem}-{fig}"));
        let mut plot = ceq();
        plot.args(["plot", "--figure", &fig.replace('_', "-"), "--law"]);
        plot.arg(law).arg("--out-dir").arg(&out).assert().success();
        svg_texts(&out.join(format!("{fig}.svg"))).1
    };
    let has = |texts: &[String], want: &str| {
        assert!(texts.iter().any(|t| t == want), "no '{want}' in {texts:?}");
    };
    // No eval_tokens column and no --eval-set: no token set to name.
    let ck = write(d.path(), "ck.csv", &family_csv(&TRUE_LAW, 0.01, 1));
    let law = fit_to(
        d.path(),
        &ck,
        "ne.json",
        &["--param-count", "non-embedding"],
    );
    let fit = texts_of(&law, "fit");
    has(&fit, "Training compute C = 6ND (FLOPs, N non-embedding)");
    has(&fit, "Loss (nats/token)");
    has(&texts_of(&law, "n_and_d"), "Parameters N (non-embedding)");
    // A compute law of the file's own compute column: C is not 6ND, whatever N counts.
    let mut csv = String::from("name,compute,loss\n");
    for i in 0..12 {
        let c = 1e18 * 10f64.powf(i as f64 * 0.3);
        csv += &format!("c{i},{c},{}\n", 1.7 + 2e3 * c.powf(-0.2));
    }
    let ck = write(d.path(), "compute.csv", &csv);
    let law = fit_to(
        d.path(),
        &ck,
        "c.json",
        &["--form", "compute", "--eval-set", "pile-val-10k"],
    );
    let fit = texts_of(&law, "fit");
    has(
        &fit,
        "Training compute C (FLOPs, as the checkpoints file gives it)",
    );
    has(&fit, "Loss on pile-val-10k (nats/token)");
    // The name evals give a token set keeps its file and hash on the axis (review: the hash was
    // cut away), not the positions rule the notes carry.
    let set = "pile_val_ctx128.npy fnv1a64:0123456789abcdef (BOS/EOS/pad positions left out)";
    let law = fit_to(
        d.path(),
        &ck,
        "h.json",
        &["--form", "compute", "--eval-set", set],
    );
    has(
        &texts_of(&law, "fit"),
        "Loss on pile_va…x128.npy #01234567 (nats/token)",
    );
}
