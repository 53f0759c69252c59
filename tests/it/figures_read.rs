//! The figures as a reader takes them (review 11f): an open-ended interval is drawn open, a caption
//! says only what is drawn, a figure says how many splices it leaves out, and `n_and_d` draws each
//! checkpoint of a family that is not a grid against the law at its own N and D.

use crate::common::{ceq, data, fit_law, fit_to, plot_svg, root, succeeds, write};

/// The texts of an SVG's `<text>` elements.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    (doc.descendants())
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect()
}

/// A drawn line or polygon: its points, stroke and opacity.
type Shape = (Vec<(f64, f64)>, String, String);

/// The points of each `<polyline>`/`<polygon>` of tag `tag`, with its attributes.
fn shapes(svg: &str, tag: &str) -> Vec<Shape> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    (doc.descendants())
        .filter(|n| n.has_tag_name(tag))
        .map(|n| {
            let pts = (n.attribute("points").unwrap().split_whitespace())
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect();
            let a = |k: &str| n.attribute(k).unwrap_or("").to_owned();
            (pts, a("stroke"), a("opacity"))
        })
        .collect()
}

const OPEN_NOTE: &str = "arrowhead: the interval runs on past the axis (unbounded)";

/// A training run's checkpoints on L(D) = 2 + 400·D^-0.35 (±0.2 %), 160M parameters.
fn run_checkpoints() -> String {
    let mut out = "name,run,step,params,tokens,loss\n".to_owned();
    for k in 0..9 {
        let step = 250u64 << k;
        let tokens = step as f64 * 524_288.0;
        let wobble = if k % 2 == 0 { 1.002 } else { 0.998 };
        let loss = 2.0 + 400.0 * tokens.powf(-0.35) * wobble;
        out += &format!("ck-{step},myrun,{step},160000000,{tokens},{loss:.6}\n");
    }
    out
}

/// One splice whose spliced CE is within its noise of the floor (its interval's upper end is
/// unbounded), one far from it.
const OPEN_SPLICES: &str =
    "name,model,hook,params,tokens,ce_clean,ce_spliced,ce_zero_ablation,se_ce_clean,se_delta
near-floor,myrun,blocks.3.hook_resid_post,160000000,33554432000,2.085,2.03,11,0.02,0.01
ok-one,myrun,blocks.4.hook_resid_post,160000000,33554432000,2.085,2.3,11,0.005,0.003
";

/// An interval with an unbounded end runs to the plot's edge and ends in an arrowhead there, with
/// no cap (which would read as a finite end), and the figure's note says so.
#[test]
fn an_unbounded_interval_end_is_drawn_open() {
    let dir = tempfile::tempdir().unwrap();
    let ck = write(dir.path(), "ck.csv", &run_checkpoints());
    let law = fit_to(dir.path(), &ck, "law.json", &["--form", "run"]);
    let splices = write(dir.path(), "s.csv", OPEN_SPLICES);
    let (out, _) = succeeds(
        ceq()
            .args(["map", "--format", "csv", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&splices),
    );
    // The premise: near-floor's upper end is unbounded, ok-one's is not.
    let csv = String::from_utf8(out).unwrap();
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let hi = head
        .iter()
        .position(|h| *h == "compute_fraction_hi")
        .unwrap();
    let his: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(hi).unwrap())
        .collect();
    assert_eq!(his[0], "inf", "{csv}");
    assert!(his[1].parse::<f64>().unwrap().is_finite(), "{csv}");

    let figs = dir.path().join("figs");
    succeeds(
        ceq()
            .args([
                "plot",
                "--figure",
                "across-sizes",
                "--figure",
                "linear-vs-log",
                "--figure",
                "splices",
            ])
            .arg("--law")
            .arg(&law)
            .arg("--splices")
            .arg(&splices)
            .arg("--out-dir")
            .arg(&figs),
    );
    // A run's law maps to training tokens: its markers stand at their D_eq, not a C_eq; the
    // title says what the "×" labels are, so the figure reads alone.
    let svg = std::fs::read_to_string(figs.join("splices.svg")).unwrap();
    let t = texts(&svg);
    let title = "Spliced losses on the fitted curve (×: D_eq spliced/clean)";
    assert!(t.iter().any(|t| t == title), "{t:?}");
    assert!(
        t.iter().any(|t| t.ends_with("spliced, at their D_eq")),
        "{t:?}"
    );
    for (stem, vertical) in [("across_sizes", true), ("linear_vs_log", false)] {
        let svg = std::fs::read_to_string(figs.join(format!("{stem}.svg"))).unwrap();
        assert!(
            texts(&svg).iter().any(|t| t == OPEN_NOTE),
            "{stem}: no note"
        );
        // One arrowhead: near-floor's open upper end. Arrowheads are 7 px triangles; the
        // triangle markers are smaller.
        let heads: Vec<Shape> = (shapes(&svg, "polygon").into_iter())
            .filter(|(p, _, _)| {
                let span = |f: fn(&(f64, f64)) -> f64| {
                    let v = p.iter().map(f);
                    v.clone().fold(f64::MIN, f64::max) - v.fold(f64::MAX, f64::min)
                };
                p.len() == 3 && span(|q| q.0).max(span(|q| q.1)) >= 7.0
            })
            .collect();
        assert_eq!(heads.len(), 1, "{stem}: {heads:?}");
        let pts = &heads[0].0;
        // Its tip: the point furthest up (across_sizes) or right (linear_vs_log).
        let tip = if vertical {
            pts.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1))
        } else {
            pts.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0))
        }
        .unwrap();
        // No cap across the bar at its tip: no short line perpendicular to the bar there.
        let caps = shapes(&svg, "polyline").into_iter().filter(|(p, _, _)| {
            p.len() == 2 && {
                let (a, b) = (p[0], p[1]);
                if vertical {
                    a.1 == b.1
                        && (a.1 - tip.1).abs() <= 3.0
                        && (a.0 - b.0).abs() < 100.0
                        && a.0.min(b.0) <= tip.0
                        && a.0.max(b.0) >= tip.0
                } else {
                    a.0 == b.0 && (a.0 - tip.0).abs() <= 3.0 && (a.1 - b.1).abs() < 100.0
                }
            }
        });
        assert_eq!(caps.count(), 0, "{stem}: a cap at the open end");
    }
    // ok-one's bar in across_sizes keeps both caps, near-floor its lower one: the caps are
    // still drawn where the ends are finite.
    let svg = std::fs::read_to_string(figs.join("across_sizes.svg")).unwrap();
    let caps = shapes(&svg, "polyline")
        .into_iter()
        .filter(|(p, stroke, _)| {
            p.len() == 2 && p[0].1 == p[1].1 && {
                let w = (p[0].0 - p[1].0).abs();
                w > 30.0 && w < 100.0 && stroke != "#969696"
            }
        })
        .count();
    assert_eq!(caps, 3);
}

/// Without bootstrap refits the fit figure has no band, and its caption does not promise one.
#[test]
fn the_fit_caption_says_what_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rep");
    succeeds(
        ceq()
            .args(["report", "--checkpoints", &data("checkpoints.csv")])
            .args(["--splices", &data("splices.csv")])
            .arg("--out")
            .arg(&out),
    );
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    let at = html.find("<figure id=\"fit\">").unwrap();
    let cap = &html[at..];
    let cap = &cap[cap.find("<figcaption>").unwrap()..cap.find("</figcaption>").unwrap()];
    assert!(!cap.contains("bootstrap band"), "{cap}");
    assert!(
        cap.contains(
            "Checkpoint losses and the fitted curve (no band: the law has no bootstrap refits)"
        ),
        "{cap}"
    );
}

/// The splices figure says how many splices it leaves out and why (a loss at or below the floor,
/// which no compute reaches), its caption names their group, and its legend names only the groups
/// it draws.
#[test]
fn the_splices_figure_counts_what_it_leaves_out() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
    let e = json["params"]["E"].as_f64().unwrap();
    // Two rows of a group of their own with a loss below the fitted floor.
    let mut text = std::fs::read_to_string(data("splices.csv")).unwrap();
    let n = text.lines().next().unwrap().split(',').count();
    for (name, clean, spliced) in [
        ("under-a", e - 0.05, e - 0.01),
        ("under-b", e - 0.01, e + 0.05),
    ] {
        let mut cells = vec![String::new(); n];
        cells[0] = name.into();
        cells[1] = "host-tiny".into();
        cells[2] = "blocks.0.hook_resid_post".into();
        cells[6] = "70000000".into();
        cells[7] = "1400000000".into();
        cells[8] = format!("{clean}");
        cells[9] = format!("{spliced}");
        text += &format!("{}\n", cells.join(","));
    }
    let splices = write(dir.path(), "s.csv", &text);
    let out = dir.path().join("rep");
    succeeds(
        ceq()
            .arg("report")
            .arg("--law")
            .arg(&law)
            .arg("--splices")
            .arg(&splices)
            .arg("--out")
            .arg(&out),
    );
    let svg = std::fs::read_to_string(out.join("splices.svg")).unwrap();
    let t = texts(&svg);
    let note = format!(
        "2 splice(s) not drawn: a loss at or below the fitted floor E = {e:.3} (no compute reaches it)"
    );
    assert!(t.contains(&note), "no '{note}': {t:?}");
    assert!(!t.iter().any(|x| x.contains("host-tiny")), "{t:?}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains(&format!(
            "2 splice(s) not drawn, having a loss at or below the fitted floor E = {e:.3} (no \
             compute reaches it): model host-tiny"
        )),
        "no caption line"
    );
}

/// A note too wide for any corner free of the curve still reads: it stands on a white backing
/// (it used to be drawn over the curve bare).
#[test]
fn a_note_with_no_free_corner_stands_on_a_backing() {
    let dir = tempfile::tempdir().unwrap();
    // The shipped splices, their host columns only, and one spliced loss far below the floor.
    let text = std::fs::read_to_string(root("data/splices.csv")).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep = [
        "name",
        "model",
        "params",
        "tokens",
        "ce_clean",
        "ce_spliced",
    ];
    let at: Vec<usize> = keep
        .iter()
        .map(|k| head.iter().position(|h| h == k).unwrap())
        .collect();
    let mut out = format!("{}\n", keep.join(","));
    let mut first = None;
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        let row: Vec<&str> = at.iter().map(|&i| c[i]).collect();
        out += &format!("{}\n", row.join(","));
        first.get_or_insert(row);
    }
    let mut below = first.unwrap();
    below[0] = "below";
    below[5] = "0.5";
    out += &format!("{}\n", below.join(","));
    let splices = write(dir.path(), "s.csv", &out);
    let figs = dir.path().join("figs");
    succeeds(
        ceq()
            .arg("plot")
            .arg("--checkpoints")
            .arg(root("data/checkpoints.csv"))
            .arg("--splices")
            .arg(&splices)
            .args(["--figure", "splices", "--out-dir"])
            .arg(&figs),
    );
    let svg = std::fs::read_to_string(figs.join("splices.svg")).unwrap();
    let note = "1 splice(s) not drawn: a loss at or below the fitted floor";
    let before = &svg[..svg.find(note).expect("no note")];
    let last = |tag: &str| before.rfind(tag).unwrap_or(0);
    assert!(
        last("<rect") > last("</text>") && before[last("<rect")..].contains("fill=\"#FFFFFF\""),
        "no backing right before the note: {}",
        &before[before.len().saturating_sub(400)..]
    );
}

/// For a family that is not a grid (every checkpoint its own D), each checkpoint in n_and_d is
/// drawn against the law at its own N and D: a tick at the law's loss there, so the gap a reader
/// sees is the checkpoint's residual, not its distance to a curve at another D.
#[test]
fn n_and_d_draws_each_checkpoint_against_the_law_at_its_own_n_and_d() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
    let p = &json["params"];
    let f = |k: &str| p[k].as_f64().unwrap();
    // The law's loss at each checkpoint, from its parameters (not from the file's "predicted").
    let mut want: Vec<f64> = (json["fit"]["residuals"].as_array().unwrap().iter())
        .map(|r| {
            let (n, d) = (r["params"].as_f64().unwrap(), r["tokens"].as_f64().unwrap());
            f("E") + f("A") / n.powf(f("alpha")) + f("B") / d.powf(f("beta"))
        })
        .collect();
    want.sort_by(f64::total_cmp);
    let figs = dir.path().join("figs");
    succeeds(
        ceq()
            .args(["plot", "--figure", "n-and-d", "--law"])
            .arg(&law)
            .arg("--out-dir")
            .arg(&figs),
    );
    let svg = std::fs::read_to_string(figs.join("n_and_d.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let width: f64 = doc
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    // The left panel's y axis, from its tick labels (right-anchored numbers left of the plot).
    let ticks: Vec<(f64, f64)> = (doc.descendants())
        .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
        .filter_map(|n| {
            let x: f64 = n.attribute("x")?.parse().ok()?;
            let v: f64 = n.text()?.trim().parse().ok()?;
            (x < width / 2.0).then(|| (v, n.attribute("y").unwrap().parse().unwrap()))
        })
        .collect();
    assert!(ticks.len() >= 2, "{ticks:?}");
    let (a, b) = (ticks[0], ticks[ticks.len() - 1]);
    let value = |y: f64| a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1);
    // The ticks: short horizontal dark lines (the axes' own tick marks are opaque), in the left
    // panel.
    let mut got: Vec<f64> = shapes(&svg, "polyline")
        .into_iter()
        .filter(|(p, stroke, opacity)| {
            p.len() == 2
                && stroke == "#000000"
                && opacity == "0.75"
                && p[0].1 == p[1].1
                && (p[0].0 - p[1].0).abs() > 4.0
                && (p[0].0 - p[1].0).abs() < 12.0
                && p[0].0 < width / 2.0
        })
        .map(|(p, _, _)| value(p[0].1))
        .collect();
    got.sort_by(f64::total_cmp);
    assert_eq!(got.len(), want.len(), "{got:?}");
    // One pixel is about 0.02 nats here.
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 0.04, "tick at {g}, law {w}");
    }
}

/// across_sizes' layout (review 11f): the notes in the upper left corner stand above every point
/// (here points at about 100 %), the end hosts' markers are whole inside the frame though two hosts
/// are close together, and a group with nothing drawn is not named under the axis (the note counts
/// its splices).
#[test]
fn across_sizes_keeps_its_points_clear_of_the_notes_and_the_frame() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&law).unwrap()).unwrap();
    let e = json["params"]["E"].as_f64().unwrap();
    let mut text = std::fs::read_to_string(data("splices.csv")).unwrap();
    let n = text.lines().next().unwrap().split(',').count();
    let rows = [
        // A host 3 % larger than host-70m, its SAEs keeping about all the compute.
        ("near-a", "host-72m", 72e6, 3.6, 3.6004),
        ("near-b", "host-72m", 72e6, 3.6, 3.601),
        // A host whose losses lie below the floor: nothing of it is drawn.
        ("under-a", "host-tiny", 5e10, e - 0.05, e - 0.01),
        ("under-b", "host-tiny", 5e10, e - 0.01, e + 0.05),
    ];
    for (name, host, params, clean, spliced) in rows {
        let mut cells = vec![String::new(); n];
        cells[0] = name.into();
        cells[1] = host.into();
        cells[2] = "blocks.0.hook_resid_post".into();
        cells[6] = format!("{params}");
        cells[7] = "1400000000".into();
        cells[8] = format!("{clean}");
        cells[9] = format!("{spliced}");
        text += &format!("{}\n", cells.join(","));
    }
    let splices = write(dir.path(), "s.csv", &text);
    let figs = dir.path().join("figs");
    succeeds(
        ceq()
            .args(["plot", "--figure", "across-sizes", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&splices)
            .arg("--out-dir")
            .arg(&figs),
    );
    let svg = std::fs::read_to_string(figs.join("across_sizes.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let t = texts(&svg);
    assert!(
        t.iter()
            .any(|x| x == "Host parameters N (total; a host's SAEs stand around its ▲)"),
        "{t:?}"
    );
    assert!(!t.iter().any(|x| x.contains("host-tiny")), "{t:?}");
    let note = "2 splice(s) not drawn: no compute fraction (see mapped status)";
    assert!(t.iter().any(|x| x == note), "{t:?}");
    // The y axis: the frame's long vertical black line.
    let axis_x = shapes(&svg, "polyline")
        .into_iter()
        .filter(|(p, stroke, _)| {
            p.len() == 2
                && stroke == "#000000"
                && p[0].0 == p[1].0
                && (p[0].1 - p[1].1).abs() > 200.0
        })
        .map(|(p, _, _)| p[0].0)
        .next()
        .unwrap();
    // The notes: grey text in the plot's upper left corner; the lowest one's baseline region.
    let notes_bottom = (doc.descendants())
        .filter(|n| {
            n.has_tag_name("text")
                && n.attribute("fill") == Some("#969696")
                && n.attribute("x").unwrap().parse::<f64>().unwrap() < axis_x + 20.0
                && n.attribute("x").unwrap().parse::<f64>().unwrap() > axis_x
        })
        .map(|n| n.attribute("y").unwrap().parse::<f64>().unwrap() + 12.0)
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(notes_bottom.is_finite(), "no notes");
    // The points left of the legend (whose swatches stand past x = 560): filled circles, and the
    // filled polygons of the other marker shapes, as their centre and largest radius.
    let mut circles: Vec<(f64, f64, f64)> = (doc.descendants())
        .filter(|n| n.has_tag_name("circle"))
        .map(|n| {
            let a = |k: &str| n.attribute(k).unwrap().parse::<f64>().unwrap();
            (a("cx"), a("cy"), a("r"))
        })
        .collect();
    let filled =
        (doc.descendants()).filter(|n| n.has_tag_name("polygon") && n.has_attribute("fill"));
    for n in filled {
        let pts: Vec<(f64, f64)> = (n.attribute("points").unwrap().split_whitespace())
            .map(|p| p.split_once(',').unwrap())
            .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
            .collect();
        let k = pts.len() as f64;
        let (cx, cy) = (
            pts.iter().map(|p| p.0).sum::<f64>() / k,
            pts.iter().map(|p| p.1).sum::<f64>() / k,
        );
        let r = (pts.iter())
            .map(|p| (p.0 - cx).hypot(p.1 - cy))
            .fold(0.0, f64::max);
        circles.push((cx, cy, r));
    }
    circles.retain(|c| c.0 < 560.0);
    assert!(circles.len() >= 10, "{circles:?}");
    for &(cx, cy, r) in &circles {
        assert!(cx - r >= axis_x, "a marker cut by the frame at x = {cx}");
        assert!(
            cy - r > notes_bottom,
            "a marker under the notes at y = {cy}"
        );
    }
}

/// Hosts whose names share a long start and end (Pythia's) are told apart in the legends, by what
/// differs ("…70m…"), not cut to one text for every host.
#[test]
fn legends_tell_hosts_with_long_shared_names_apart() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("splices.csv"))
        .unwrap()
        .replace(",host-", ",EleutherAI/pythia-")
        .replace("m,blocks", "m-deduped-step143000,blocks")
        .replace("b,blocks", "b-deduped-step143000,blocks");
    let splices = write(dir.path(), "s.csv", &text);
    let out = dir.path().join("figs");
    succeeds(
        ceq()
            .arg("plot")
            .arg("--checkpoints")
            .arg(data("checkpoints.csv"))
            .arg("--splices")
            .arg(&splices)
            .args([
                "--figure",
                "splices",
                "--figure",
                "linear-vs-log",
                "--out-dir",
            ])
            .arg(&out),
    );
    for fig in ["splices", "linear_vs_log"] {
        let svg = std::fs::read_to_string(out.join(format!("{fig}.svg"))).unwrap();
        let t = texts(&svg);
        let entries: Vec<&String> = t.iter().filter(|x| x.starts_with("model ")).collect();
        let want = ["model …70m…", "model …160m…", "model …410m…", "model …1b…"];
        assert_eq!(entries, want, "{fig}: {t:?}");
    }
}

/// Splices from 2e-5 % to 100 % of the compute: linear_vs_log labels its x axis by decades, few
/// enough to read (it labelled 1, 2 and 5 of every decade, 21 labels run together), and its
/// corner notes stand above every point and bar (a bar at 99 % recovered struck through them).
#[test]
fn linear_vs_log_over_many_decades_stays_readable() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &["--bootstrap", "200"]);
    let head = "name,model,hook,params,tokens,ce_clean,ce_spliced,ce_zero_ablation";
    let rows = [
        "far-above,host-70m,blocks.2.hook_resid_post,70000000,1400000000,3.65372,9.5,12.4754",
        "tiny,host-70m,blocks.2.hook_resid_post,70000000,1400000000,3.65372,3.65373,12.4754",
        "big-host,host-1t,blocks.2.hook_resid_post,1e12,2e13,1.95,2.05,12.4754",
        "near-floor,host-y,blocks.2.hook_resid_post,70000000,1400000000,1.90,1.95,12.4754",
    ];
    let splices = write(
        dir.path(),
        "s.csv",
        &format!("{head}\n{}\n", rows.join("\n")),
    );
    let svg = plot_svg("linear-vs-log", &law, &splices, &dir.path().join("figs"));
    let ticks: Vec<f64> = (texts(&svg).iter())
        .filter_map(|t| t.strip_suffix('%')?.parse().ok())
        .collect();
    assert!(ticks.len() >= 5 && ticks.len() <= 9, "{ticks:?}");
    for v in &ticks {
        assert!(
            v.log10().fract().abs() < 1e-9,
            "{v}% is not a decade: {ticks:?}"
        );
    }
    // The notes' lowest line ends above the highest point and bar of the data.
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let notes_bottom = (doc.descendants())
        .filter(|n| n.has_tag_name("text") && n.attribute("fill") == Some("#969696"))
        .map(|n| n.attribute("y").unwrap().parse::<f64>().unwrap() + 12.0)
        .fold(f64::MIN, f64::max);
    assert!(notes_bottom > 0.0, "no notes");
    let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"];
    let circles = (doc.descendants())
        .filter(|n| n.has_tag_name("circle") && palette.contains(&n.attribute("fill").unwrap()))
        .map(|n| {
            let a = |k| n.attribute(k).unwrap().parse::<f64>().unwrap();
            a("cy") - a("r")
        });
    let bars = (shapes(&svg, "polyline").into_iter())
        .filter(|(_, stroke, _)| palette.contains(&stroke.as_str()))
        .flat_map(|(p, _, _)| p.into_iter().map(|(_, y)| y));
    let top = circles.chain(bars).fold(f64::MAX, f64::min);
    assert!(
        notes_bottom < top,
        "notes end at y = {notes_bottom}, data begin at {top}"
    );
}

/// Names the PNGs' font (DejaVu Sans, embedded) cannot draw are said, with the figures that draw
/// them as empty boxes — those whose SVG text holds them — and the SVGs keep them; names it can
/// draw (Latin, Greek, Cyrillic) say nothing. For `plot` and `report` alike.
#[test]
fn characters_the_png_font_lacks_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let text = std::fs::read_to_string(data("splices.csv")).unwrap();
    let run = |host: &str, cmd: &str| {
        let splices = write(dir.path(), "s.csv", &text.replace("host-70m", host));
        let out = dir.path().join(format!("{cmd}-{host}"));
        let mut c = ceq();
        c.arg(cmd)
            .arg("--law")
            .arg(&law)
            .arg("--splices")
            .arg(&splices);
        c.arg(if cmd == "plot" { "--out-dir" } else { "--out" })
            .arg(&out);
        let (_, err) = succeeds(&mut c);
        (out, err)
    };
    for cmd in ["plot", "report"] {
        let (out, err) = run("主机-70m", cmd);
        let mut with: Vec<String> = vec![];
        for e in std::fs::read_dir(&out).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "svg") {
                let t = texts(&std::fs::read_to_string(&p).unwrap());
                if t.iter().any(|s| s.contains("主机")) {
                    with.push(p.file_stem().unwrap().to_string_lossy().into_owned());
                }
            }
        }
        assert!(!with.is_empty(), "{cmd}: no SVG draws the host's name");
        let line = (err.lines())
            .find(|l| l.contains("as empty boxes"))
            .unwrap_or_else(|| panic!("{cmd}: {err}"));
        assert!(
            line.contains("draw 2 character(s) as empty boxes"),
            "{line}"
        );
        assert!(line.contains("no glyph for '主', '机'"), "{line}");
        let named = line.split("the PNG(s) and PDF(s) of ").nth(1).unwrap();
        let named: Vec<&str> = named.split(" draw ").next().unwrap().split(", ").collect();
        with.sort();
        let mut named: Vec<String> = named.iter().map(|s| s.to_string()).collect();
        named.sort();
        assert_eq!(named, with, "{cmd}");
        let (_, err) = run("хост-70m-é-α", cmd);
        assert!(!err.contains("empty boxes"), "{cmd}: {err}");
    }
}

/// The splices figure puts the family's losses and the splices' CEs on one axis: where the CEs are
/// on other tokens (SAEBench's own; a CSV naming another set), the axis does not name the family's
/// set as theirs, and the report's caption names both (review of stop 40: "Loss on
/// study-eval-tokens" over SAEBench's openwebtext CEs).
#[test]
fn the_loss_axis_names_no_token_set_the_splices_are_not_on() {
    let d = tempfile::tempdir().unwrap();
    let law = fit_law(d.path(), &["--eval-set", "family-tokens"]);
    let label = |splices: &std::path::Path, out: &str| {
        let out = d.path().join(out);
        succeeds(
            ceq()
                .args(["plot", "--figure", "splices", "--law"])
                .arg(&law)
                .arg("--splices")
                .arg(splices)
                .arg("--out-dir")
                .arg(&out),
        );
        let svg = std::fs::read_to_string(out.join("splices.svg")).unwrap();
        texts(&svg).into_iter().find(|t| t.starts_with("Loss"))
    };
    let own = root("tests/fixtures/synth/splices.csv");
    assert_eq!(
        label(&own, "own").as_deref(),
        Some("Loss on family-tokens (nats/token)")
    );
    let text = std::fs::read_to_string(&own).unwrap();
    let mut lines = text.lines();
    let mut other = format!("{},eval_tokens\n", lines.next().unwrap());
    for l in lines {
        other += &format!("{l},web-tokens\n");
    }
    let other = write(d.path(), "other.csv", &other);
    let saebench = root("tests/fixtures/saebench/results");
    for (splices, out) in [(&other, "other"), (&saebench, "saebench")] {
        assert_eq!(
            label(splices, out).as_deref(),
            Some("Loss (nats/token; SAEs on other tokens)"),
            "{out}"
        );
    }
    let report = d.path().join("report");
    succeeds(
        ceq()
            .args(["report", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&other)
            .arg("--out")
            .arg(&report),
    );
    let page = std::fs::read_to_string(report.join("index.html")).unwrap();
    let caption = "the fitted losses are on family-tokens, the SAEs' CEs on web-tokens";
    assert!(page.contains(caption), "{page}");
}

/// A splice whose spliced CE is its clean one makes the loss axis as narrow as it gets: its tick
/// labels still differ from each other (review 2026-12-07: every label read "1.632").
#[test]
fn a_narrow_axis_labels_each_tick_apart() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_to(dir.path(), &root("data/checkpoints.csv"), "law.json", &[]);
    let splices = write(
        dir.path(),
        "eq.csv",
        "name,model,ce_clean,ce_spliced,ce_zero_ablation,params,tokens\n\
         a,d48-L2-t4096000,1.6316558551527878,1.6316558551527878,4.67,61248,4096000\n",
    );
    for figure in ["splices", "linear-vs-log"] {
        let svg = plot_svg(figure, &law, &splices, &dir.path().join(figure));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        // The y axis's labels: right-aligned texts that read as numbers.
        let labels: Vec<String> = (doc.descendants())
            .filter(|n| n.has_tag_name("text") && n.attribute("text-anchor") == Some("end"))
            .map(|n| n.text().unwrap_or("").trim().to_owned())
            .filter(|t| t.parse::<f64>().is_ok())
            .collect();
        let mut distinct = labels.clone();
        distinct.dedup();
        assert!(
            labels.len() >= 3 && distinct == labels,
            "{figure}: {labels:?}"
        );
    }
}
