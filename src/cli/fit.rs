//! `ceq fit`: fit a law to a checkpoints file, print it, save it as JSON.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::{FamilyArgs, progress};
use crate::export::{Cell, Column, Format, Table, human};
use crate::fit::bootstrap::bootstrap;
use crate::fit::{BootstrapOptions, FitOptions, Solver, fit};
use crate::io::{check_not_input, write_atomic};
use crate::law_file::{LawFile, Units};
use crate::table::read_family;

#[derive(Args, Debug)]
pub struct FitArgs {
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Output format of the summary printed to stdout (json prints the law file).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Save the fitted law as JSON here (reused by `ceq map --law`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// A validated family + fit configuration.
pub struct FitConfig {
    pub checkpoints: PathBuf,
    pub args: FamilyArgs,
}

impl FitConfig {
    pub fn new(a: &FamilyArgs) -> Result<FitConfig> {
        let Some(path) = a.checkpoints.clone() else {
            bail!("no checkpoints file: pass --checkpoints FILE.csv");
        };
        if !(a.ci > 0.0 && a.ci < 1.0) {
            bail!(
                "--ci must be between 0 and 1 (e.g. 0.9 for 90% intervals), got {}",
                a.ci
            );
        }
        if !(a.delta > 0.0 && a.delta.is_finite()) {
            bail!("--delta must be a positive number, got {}", a.delta);
        }
        Ok(FitConfig {
            checkpoints: path,
            args: a.clone(),
        })
    }

    /// Reads, fits and (optionally) bootstraps: the law file `fit` saves and `map` reads.
    pub fn fit(&self) -> Result<LawFile> {
        let a = &self.args;
        let family = read_family(&self.checkpoints, &a.columns(), a.form, a.drop_highest)?;
        let opts = FitOptions {
            form: a.form,
            delta: a.delta,
            run: a.run.clone(),
            solver: Solver::default(),
        };
        let f = fit(&family, &opts).with_context(|| {
            format!(
                "fitting the '{}' law to {}",
                a.form.name(),
                self.checkpoints.display()
            )
        })?;
        let boot = (a.bootstrap > 0).then(|| {
            let pb = progress(a.bootstrap, "bootstrap");
            let b = bootstrap(
                &f,
                &BootstrapOptions {
                    n: a.bootstrap,
                    seed: a.seed,
                },
                &opts.solver,
                &|| pb.inc(1),
            );
            pb.finish_and_clear();
            b
        });
        Ok(LawFile::new(
            &f,
            &family,
            Units::new(a.param_count, &a.eval_set),
            a.param_count,
            boot.as_ref().map(|b| (b, a.ci)),
        ))
    }
}

/// The fitted parameters as a table, with intervals and diagnostics as notes.
pub fn summary(lf: &LawFile) -> Table {
    let iv = |k: &str| {
        lf.bootstrap
            .as_ref()
            .and_then(|b| b.intervals.get(k))
            .and_then(|v| {
                let a = v.as_array()?;
                Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
            })
    };
    let meaning = |k: &str| match k {
        "E" => "irreducible loss (nats/token)",
        "A" => "scale of the parameter (or compute) term",
        "B" => "scale of the data term",
        "alpha" => "exponent of N (or C)",
        "beta" => "exponent of D",
        "G" => "N_opt = G (C/6)^n_opt_exponent",
        "gamma" => "frontier exponent: L*(C) = E + K C^-gamma",
        "K" => "frontier coefficient",
        "n_opt_exponent" => "N_opt ~ C^this",
        "d_opt_exponent" => "D_opt ~ C^this",
        _ => "",
    };
    let level = lf.bootstrap.as_ref().map(|b| b.level);
    let mut cols = vec![Column::new("parameter", ""), Column::new("value", "")];
    if let Some(l) = level {
        cols.push(Column::new("ci_lo", &format!("{:.0}%", 100.0 * l)));
        cols.push(Column::new("ci_hi", &format!("{:.0}%", 100.0 * l)));
    }
    cols.push(Column::new("meaning", ""));
    let rows = lf
        .params
        .iter()
        .chain(lf.derived.iter())
        .map(|(k, v)| {
            let mut r = vec![Cell::Text(k.clone()), v.as_f64().into()];
            if level.is_some() {
                let ci = iv(k);
                r.push(ci.map(|c| c.0).into());
                r.push(ci.map(|c| c.1).into());
            }
            r.push(Cell::Text(meaning(k).into()));
            r
        })
        .collect();
    let f = &lf.fit;
    let mut notes = vec![
        format!(
            "{}; {} points from {}",
            lf.formula, lf.data.n_points, lf.data.file
        ),
        format!(
            "Huber(delta = {}) sum over log residuals = {:.10}; {} starts ({} hit a line-search failure, best point kept); {} points beyond delta",
            f.delta, f.objective, f.starts, f.failed_starts, f.outliers
        ),
        format!(
            "units: loss {}; N = {}; compute {}; eval set '{}'",
            lf.units.loss, lf.units.params, lf.units.compute, lf.units.eval_set
        ),
        format!(
            "fitted range: compute {} to {} FLOPs, loss {} to {} nats",
            human(f.ranges.compute.0),
            human(f.ranges.compute.1),
            human(f.ranges.loss.0),
            human(f.ranges.loss.1)
        ),
    ];
    if let Some(b) = &lf.bootstrap {
        notes.push(format!(
            "bootstrap: {} resamples of {}s (seed {}), {} failed",
            b.resamples,
            format!("{:?}", b.unit).to_lowercase(),
            b.seed,
            b.failed
        ));
    }
    notes.extend(f.warnings.iter().map(|w| format!("warning: {w}")));
    Table {
        title: format!("Fitted {} law", lf.form.name()),
        columns: cols,
        rows,
        notes,
    }
}

pub fn run(a: FitArgs) -> Result<()> {
    let cfg = FitConfig::new(&a.family)?;
    if let Some(out) = &a.out {
        check_not_input(out, &[&cfg.checkpoints])?;
    }
    let lf = cfg.fit()?;
    if let Some(out) = &a.out {
        write_atomic(out, lf.to_json().as_bytes())?;
    }
    for w in &lf.fit.warnings {
        eprintln!("ceq: warning: {w}");
    }
    let format = a.format.unwrap_or(Format::Table);
    if format == Format::Json {
        super::print_stdout(&lf.to_json())?;
    } else {
        super::print_stdout(&format.render(&summary(&lf)))?;
    }
    if let Some(out) = &a.out {
        eprintln!("ceq: law saved to {}", out.display());
    }
    Ok(())
}
