//! The law file as a table for people: parameters with their intervals and meanings, and the fit's
//! diagnostics as notes (what `ceq fit` prints and the report shows).

use super::LawFile;
use crate::export::{Cell, Column, Table, human};
use crate::serde_nan::Num;

/// The fitted parameters as a table, with intervals and diagnostics as notes.
impl LawFile {
    /// What the intervals are: their level, percentiles of the bootstrap's refits, and what each
    /// refit resampled (a joint token bootstrap's resample the eval sequences too).
    fn intervals_said(&self) -> Option<String> {
        let b = self.bootstrap.as_ref()?;
        let what = match &b.tokens {
            Some(what) => what.clone(),
            None => format!(
                "{} resamples of {}s, seed {}, {} failed",
                b.resamples,
                format!("{:?}", b.unit).to_lowercase(),
                b.seed,
                b.failed
            ),
        };
        let pct = super::percent_level(b.level);
        Some(format!(
            "intervals: {pct} bootstrap percentile intervals ({what})"
        ))
    }

    /// The summary as a format shows it: a CSV, which keeps no notes, carries what its numbers
    /// mean in a `units` column on every row instead, as `ceq map`'s CSV does.
    pub fn summary_table_for(&self, format: crate::export::Format) -> Table {
        let mut t = self.summary_table();
        if format == crate::export::Format::Csv {
            let mut units = self.units_line();
            if let Some(intervals) = self.intervals_said() {
                units += &format!("; {intervals}");
            }
            t.columns.push(Column::new("units", ""));
            for r in &mut t.rows {
                r.push(Cell::Text(units.clone()));
            }
        }
        t
    }

    /// What the numbers mean: units, the token set, how compute and N are counted, the data.
    pub fn units_line(&self) -> String {
        let mut line = format!(
            "losses in nats/token on eval set {}; compute in FLOPs ({}); {} law fitted to {}",
            self.eval_set_said(),
            self.compute_counted(),
            self.form.name(),
            self.data.file
        );
        if let Some(c) = self.fit_choices() {
            line += &format!(" ({c})");
        }
        line
    }

    /// The eval set's name, quoted, and the token set the checkpoints file records where the name
    /// was given otherwise: a name stands for the ids, and a reader must see which (review: a
    /// name given hid the recorded hash).
    fn eval_set_said(&self) -> String {
        let name = &self.units.eval_set;
        match self.data.eval_tokens.as_deref() {
            Some(t) if t != name => format!("'{name}' (the checkpoints file records '{t}')"),
            _ => format!("'{name}'"),
        }
    }

    /// How the law's compute is counted: a compute law fitted to a compute column as that file
    /// counts it (N then plays no part), else 6ND with N counted as the file's params column.
    fn compute_counted(&self) -> String {
        if self.compute_is_the_files() {
            let c = &self.data.columns.compute;
            format!("as '{c}' of the checkpoints file gives it")
        } else {
            format!("C = 6ND, N = {}", self.units.params)
        }
    }

    pub fn summary_table(&self) -> Table {
        let lf = self;
        let iv = |k: &str| lf.interval(k);
        let compute = lf.form == crate::law::Form::Compute;
        let meaning = |k: &str| match k {
            "E" => "irreducible loss (nats/token)",
            "A" if compute => "scale of the compute term",
            "A" => "scale of the parameter term",
            "B" => "scale of the data term",
            "alpha" if compute => "exponent of C (FLOPs)",
            "alpha" => "exponent of N",
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
            // The level in the names: a CSV carries no units, and its reader must tell 90 % from 95 %.
            let pct = super::percent_level(l).replace('%', "");
            cols.push(Column::new(&format!("ci_lo_{pct}"), ""));
            cols.push(Column::new(&format!("ci_hi_{pct}"), ""));
        }
        cols.push(Column::new("meaning", ""));
        let rows = lf
            .params
            .params()
            .into_iter()
            .map(|(k, v)| (k, Num(v)))
            .chain(lf.derived.0.iter().map(|(k, v)| (k.as_str(), *v)))
            .map(|(k, v)| {
                let mut r = vec![
                    Cell::Text(k.to_owned()),
                    v.0.is_finite().then_some(v.0).into(),
                ];
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
                "{}; {} points from {}{}",
                lf.formula,
                lf.data.n_points,
                lf.data.file,
                lf.fit_choices()
                    .map_or(String::new(), |c| format!(" ({c})"))
            ),
            format!(
                "Huber(delta = {}) sum over log residuals = {:.10}; {} starts ({} hit a line-search failure, best point kept); {} points beyond delta",
                f.delta, f.objective, f.starts, f.failed_starts, f.beyond_delta
            ),
            format!(
                "units: loss {}; compute in FLOPs ({}); eval set {}",
                lf.units.loss,
                lf.compute_counted(),
                lf.eval_set_said()
            ),
            fitted_range(&f.ranges),
        ];
        if let Some(n) = f.residuals_of {
            notes.push(format!(
                "residuals: the law file keeps {} of the {n} points' residuals (the largest and an even spread)",
                f.residuals.len()
            ));
        }
        notes.extend(lf.intervals_said());
        if lf.form == crate::law::Form::Run {
            notes.push(crate::law::SCHEDULE_CAVEAT.into());
        }
        let key = notes.len();
        notes.extend(f.warnings.iter().map(|w| format!("warning: {w}")));
        Table {
            title: format!("Fitted {} law", lf.form.name()),
            columns: cols,
            rows,
            notes,
            key,
        }
    }
}

/// The checkpoints' ranges a mapping is checked against (N and D where the data give them).
fn fitted_range(r: &crate::fit::Ranges) -> String {
    let mut parts = vec![format!(
        "compute {} to {} FLOPs",
        human(r.compute.0),
        human(r.compute.1)
    )];
    for (what, (lo, hi)) in [("N", r.params), ("D", r.tokens)] {
        if lo.is_finite() && hi.is_finite() {
            parts.push(format!("{what} {} to {}", human(lo), human(hi)));
        }
    }
    parts.push(format!(
        "loss {} to {} nats",
        human(r.loss.0),
        human(r.loss.1)
    ));
    format!("fitted range: {}", parts.join(", "))
}
