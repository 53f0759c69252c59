//! The `linear_vs_log` figure where some splices have no loss recovered (no ce_zero_ablation):
//! its legend names only the groups it draws, it says how many splices it leaves out and why, and
//! its note on the bars describes the drawn rows only.

use crate::common::{ceq, data, fit_law, plot_svg, succeeds, write};

/// The synthetic fixture with host-160m's and host-1b's ce_zero_ablation blank, and those two hosts
/// given standard errors of their CEs (so their rows, and only theirs, have law refits + CE noise
/// intervals).
fn some_without_zero_ablation() -> String {
    let text = std::fs::read_to_string(data("splices.csv")).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out += &format!("{line},se_ce_clean,se_ce_spliced,se_delta\n");
            continue;
        }
        let mut cells: Vec<&str> = line.split(',').collect();
        let se = if ["host-160m", "host-1b"].contains(&cells[1]) {
            // ce_zero_ablation is the 11th column.
            cells[10] = "";
            "0.01,0.012,0.006"
        } else {
            ",,"
        };
        out += &format!("{},{se}\n", cells.join(","));
    }
    out
}

#[test]
fn only_drawn_groups_are_in_the_legend_and_the_left_out_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &["--bootstrap", "30"]);
    let splices = write(dir.path(), "s.csv", &some_without_zero_ablation());
    // The table's own note names both kinds of interval: the undrawn rows have CE noise.
    let md = ceq()
        .args(["map", "--format", "markdown", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&splices)
        .output()
        .unwrap();
    assert!(md.status.success());
    let md = String::from_utf8([md.stdout, md.stderr].concat()).unwrap();
    assert!(md.contains("law refits + CE measurement noise"), "{md}");

    let out = dir.path().join("figs");
    let run = ceq()
        .args(["plot", "--figure", "linear-vs-log", "--law"])
        .arg(&law)
        .arg("--splices")
        .arg(&splices)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    let svg = std::fs::read_to_string(out.join("linear_vs_log.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<String> = (doc.descendants())
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .collect();
    for t in ["model host-70m", "model host-410m"] {
        assert!(texts.iter().any(|x| x == t), "no '{t}': {texts:?}");
    }
    for t in ["host-160m", "host-1b"] {
        assert!(
            !texts.iter().any(|x| x.contains(t)),
            "'{t}' named: {texts:?}"
        );
    }
    // 6 drawn points and 2 legend swatches: one circle each.
    let circles = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(circles, 6 + 2);
    for t in [
        "bars: 90% intervals (law refits)",
        "6 splice(s) not drawn: no loss recovered (no ce_zero_ablation)",
    ] {
        assert!(texts.iter().any(|x| x == t), "no '{t}': {texts:?}");
    }
    // `ceq plot` names the groups left out (a report's caption does too).
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(
        stderr.contains(
            "linear_vs_log: 6 splice(s) not drawn, having no loss recovered (no \
             ce_zero_ablation): model host-160m, host-1b"
        ),
        "{stderr}"
    );
}

/// Splices whose zero ablation does not raise the loss are left out for that reason, not as having
/// no ce_zero_ablation; a default plot says which figures it cannot draw, and names their files
/// left from an earlier plot (review of stop 40: both silent, the reason wrong).
#[test]
fn a_figure_not_drawn_is_said_with_its_reason_and_its_old_files() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &[]);
    let text = std::fs::read_to_string(data("splices.csv")).unwrap();
    let (mut some, mut both, mut none) = (String::new(), String::new(), String::new());
    for (i, line) in text.lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        // ce_clean is the 9th column, ce_zero_ablation the 11th.
        if i > 0 && cells[1] == "host-1b" {
            cells[10] = cells[8].clone();
        }
        some += &(cells.join(",") + "\n");
        if i > 0 && cells[1] == "host-160m" {
            cells[10] = String::new();
        }
        both += &(cells.join(",") + "\n");
        if i > 0 {
            cells[10] = String::new();
        }
        none += &(cells.join(",") + "\n");
    }
    let some = write(dir.path(), "some.csv", &some);
    let none = write(dir.path(), "none.csv", &none);
    let out = dir.path().join("figs");
    let plot = |splices: &std::path::Path, extra: &[&str]| {
        let run = ceq()
            .arg("plot")
            .args(extra)
            .arg("--law")
            .arg(&law)
            .arg("--splices")
            .arg(splices)
            .arg("--out-dir")
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success(), "{run:?}");
        String::from_utf8(run.stderr).unwrap()
    };
    let stderr = plot(&some, &[]);
    assert!(
        stderr.contains(
            "linear_vs_log: 3 splice(s) not drawn, having no loss recovered (ce_zero_ablation \
             not above ce_clean): model host-1b"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("not drawn: it"), "{stderr}");
    // Two reasons: the figure says the kind, short enough for its corner; the caption each.
    let both = write(dir.path(), "both.csv", &both);
    let stderr = plot(&both, &["--force"]);
    assert!(
        stderr.contains(
            "6 splice(s) not drawn, having no loss recovered (no ce_zero_ablation) or no loss \
             recovered (ce_zero_ablation not above ce_clean): model host-160m, host-1b"
        ),
        "{stderr}"
    );
    let svg = std::fs::read_to_string(out.join("linear_vs_log.svg")).unwrap();
    assert!(
        svg.contains("\n6 splice(s) not drawn: no loss recovered (the caption says why)\n"),
        "{svg}"
    );
    // A kind between two reasons of the other kind: each kind still once (review of stop 40).
    let three: String = (std::fs::read_to_string(&both).unwrap().lines())
        .map(|line| {
            let mut cells: Vec<&str> = line.split(',').collect();
            if cells[1] == "host-410m" {
                cells[9] = "0.5"; // a spliced CE below the floor: no compute fraction
            }
            cells.join(",") + "\n"
        })
        .collect();
    plot(&write(dir.path(), "three.csv", &three), &["--force"]);
    let svg = std::fs::read_to_string(out.join("linear_vs_log.svg")).unwrap();
    assert!(
        svg.contains("\n9 splice(s) not drawn: no loss recovered or no compute fraction (the caption says why)\n"),
        "{svg}"
    );
    // No row has a loss recovered: the figure is said not drawn, and its earlier files named.
    let stderr = plot(&none, &["--force"]);
    let svg = out.join("linear_vs_log.svg");
    assert!(
        stderr.contains("linear_vs_log not drawn: it needs splices whose ce_zero_ablation")
            && stderr.contains(&svg.display().to_string())
            && stderr.contains("from an earlier plot"),
        "{stderr}"
    );
    std::fs::remove_file(&svg).unwrap();
    std::fs::remove_file(svg.with_extension("png")).unwrap();
    std::fs::remove_file(svg.with_extension("pdf")).unwrap();
    let stderr = plot(&none, &["--force"]);
    assert!(
        stderr.contains("linear_vs_log not drawn: it needs splices whose ce_zero_ablation")
            && !stderr.contains("from an earlier plot"),
        "{stderr}"
    );
    // From a law alone, the three splice figures are said in one line, for their one reason.
    let (_, stderr) = succeeds(
        ceq()
            .args(["plot", "--law"])
            .arg(&law)
            .arg("--out-dir")
            .arg(dir.path().join("law-only")),
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("not drawn")).collect();
    assert_eq!(
        lines,
        ["ceq: splices, linear_vs_log and across_sizes not drawn: each needs a splices file"],
        "{stderr}"
    );
    // A report says so too, on the console and on its page (review of stop 40: it left the
    // figure out without a word).
    let rep = dir.path().join("rep");
    let (_, stderr) = succeeds(
        ceq()
            .args(["report", "--law"])
            .arg(&law)
            .arg("--splices")
            .arg(&none)
            .arg("--out")
            .arg(&rep),
    );
    let said = "linear_vs_log not drawn: it needs splices whose ce_zero_ablation is given";
    assert!(stderr.contains(said), "{stderr}");
    let page = std::fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(page.contains(said), "{page}");
    assert!(!rep.join("linear_vs_log.svg").exists());
}

/// Twelve hosts of three SAEs each, whose points fill the plot's lower right: the legend (seven
/// groups and "+5 more") no longer covers any of them (review 2026-12-07: it hid four), and the
/// notes above still clear them.
#[test]
fn the_legend_covers_no_point() {
    let dir = tempfile::tempdir().unwrap();
    let law = fit_law(dir.path(), &["--bootstrap", "30"]);
    let clean = [
        4.6995, 4.24946, 3.87051, 3.55141, 3.28272, 3.05646, 2.86593, 2.7055, 2.5704, 2.45664,
        2.36085, 2.28018,
    ];
    let mut csv = "name,model,params,tokens,ce_clean,ce_spliced,ce_zero_ablation\n".to_owned();
    for (k, c) in clean.iter().enumerate() {
        let params = 2e7 * 1.6f64.powi(k as i32);
        for j in 0..3 {
            let spliced = c + 0.1 * (j + 1) as f64 + 0.05 * k as f64;
            csv += &format!(
                "host{k:02}-sae{j},host{k:02},{params},{},{c},{spliced},12.4\n",
                20.0 * params
            );
        }
    }
    let splices = write(dir.path(), "s.csv", &csv);
    let figs = dir.path().join("figs");
    plot_svg("linear-vs-log", &law, &splices, &figs);
    let svg = crate::across_sizes::Svg::read(&figs.join("linear_vs_log.svg"));
    // The legend's own swatches are its 8 dots (7 groups and "+5 more"); every splice is outside.
    let (plot, in_legend) = svg.markers();
    assert_eq!((plot.len(), in_legend), (36, 8));
}
