//! `ceq map`: every splice of a file through one fitted law, and the tables that show the result.

use crate::equivalence::{Mapped, map_splice};
use crate::export::{Cell, Column, Table, human};
use crate::law::{Form, Law};
use crate::law_file::LawFile;
use crate::table::{Splice, Splices};

/// Names of the columns `ceq map` adds (with `_lo`/`_hi` for intervals); an input column may not
/// take one of them.
pub const COMPUTED: &[&str] = &[
    "delta_loss",
    "loss_recovered",
    "loss_recovered_mean",
    "compute_equivalent_clean",
    "compute_equivalent_clean_lo",
    "compute_equivalent_clean_hi",
    "compute_equivalent",
    "compute_equivalent_lo",
    "compute_equivalent_hi",
    "compute_fraction",
    "compute_fraction_lo",
    "compute_fraction_hi",
    "log10_compute_ratio",
    "log10_compute_ratio_lo",
    "log10_compute_ratio_hi",
    "compute_actual",
    "compute_fraction_of_actual",
    "compute_fraction_of_actual_lo",
    "compute_fraction_of_actual_hi",
    "params_equivalent",
    "params_equivalent_lo",
    "params_equivalent_hi",
    "tokens_equivalent",
    "tokens_equivalent_lo",
    "tokens_equivalent_hi",
    "step_equivalent",
    "step_equivalent_lo",
    "step_equivalent_hi",
    "status",
    "status_detail",
    "law",
    "units",
];

/// The mapped splices with what is needed to label them.
#[derive(Clone, Debug)]
pub struct MapResult {
    pub law: Law,
    pub law_file: LawFile,
    pub splices: Splices,
    pub rows: Vec<Mapped>,
    /// Interval level, when bootstrapped.
    pub level: Option<f64>,
    pub refits: usize,
}

pub fn map(law_file: &LawFile, splices: &Splices) -> MapResult {
    let law = law_file.law().expect("validated when read");
    let boot = law_file.bootstrap_laws();
    let ranges = law_file.fit.ranges;
    let rows = splices
        .rows
        .iter()
        .map(|s| {
            map_splice(
                &law,
                &ranges,
                boot.as_ref().map(|(l, lv)| (l.as_slice(), *lv)),
                s,
            )
        })
        .collect();
    MapResult {
        law,
        law_file: law_file.clone(),
        splices: splices.clone(),
        rows,
        level: boot.as_ref().map(|b| b.1),
        refits: boot.map_or(0, |b| b.0.len()),
    }
}

impl MapResult {
    fn has(&self, f: impl Fn(&Splice) -> bool) -> bool {
        self.splices.rows.iter().any(f)
    }

    /// One line saying what the numbers mean, for every output.
    pub fn units_line(&self) -> String {
        let u = &self.law_file.units;
        format!(
            "losses in nats/token on eval set '{}'; compute in FLOPs (C = 6ND, N = {}); {} law fitted to {}",
            u.eval_set,
            u.params,
            self.law.form().name(),
            self.law_file.data.file
        )
    }

    /// Every input column as it was, then every computed column: the CSV and JSON view.
    pub fn full_table(&self) -> Table {
        let boot = self.level.is_some();
        let form = self.law.form();
        let mut cols: Vec<Column> = self
            .splices
            .columns
            .iter()
            .map(|c| Column::new(c, ""))
            .collect();
        let n_in = cols.len();
        type Get = Box<dyn Fn(&Splice, &Mapped) -> Cell>;
        let mut getters: Vec<Get> = vec![];
        let mut add = |name: &str, unit: &str, g: Get, cols: &mut Vec<Column>| {
            cols.push(Column::new(name, unit));
            getters.push(g);
        };
        add(
            "delta_loss",
            "nats/token",
            Box::new(|_, m| Cell::Num(m.delta_loss)),
            &mut cols,
        );
        if self.has(|s| s.ce_zero_ablation.is_some()) {
            add(
                "loss_recovered",
                "fraction",
                Box::new(|_, m| m.loss_recovered.into()),
                &mut cols,
            );
        }
        if self.has(|s| s.ce_mean_ablation.is_some()) {
            add(
                "loss_recovered_mean",
                "fraction",
                Box::new(|_, m| m.loss_recovered_mean.into()),
                &mut cols,
            );
        }
        macro_rules! with_ci {
            ($name:expr, $unit:expr, $field:ident) => {
                add($name, $unit, Box::new(|_, m| m.eq.$field.into()), &mut cols);
                if boot {
                    add(
                        concat!($name, "_lo"),
                        $unit,
                        Box::new(|_, m| m.ci.and_then(|c| c.$field).map(|p| p.0).into()),
                        &mut cols,
                    );
                    add(
                        concat!($name, "_hi"),
                        $unit,
                        Box::new(|_, m| m.ci.and_then(|c| c.$field).map(|p| p.1).into()),
                        &mut cols,
                    );
                }
            };
        }
        with_ci!("compute_equivalent_clean", "FLOPs", compute_clean);
        with_ci!("compute_equivalent", "FLOPs", compute);
        with_ci!("compute_fraction", "ratio", fraction);
        with_ci!("log10_compute_ratio", "orders of magnitude", log10_ratio);
        if self.has(|s| s.compute.is_some()) {
            add(
                "compute_actual",
                "FLOPs",
                Box::new(|s, _| s.compute.into()),
                &mut cols,
            );
            with_ci!("compute_fraction_of_actual", "ratio", fraction_of_actual);
        }
        match form {
            Form::Chinchilla => {
                with_ci!("params_equivalent", "parameters", params);
                with_ci!("tokens_equivalent", "tokens", tokens);
            }
            Form::Run => {
                with_ci!("tokens_equivalent", "tokens", tokens);
                with_ci!("step_equivalent", "steps", step);
            }
            Form::Compute => {}
        }
        add(
            "status",
            "",
            Box::new(|_, m| Cell::Text(m.status.as_str().into())),
            &mut cols,
        );
        add(
            "status_detail",
            "",
            Box::new(|_, m| Cell::Text(m.detail.clone())),
            &mut cols,
        );
        let law_name = form.name().to_owned();
        add(
            "law",
            "",
            Box::new(move |_, _| Cell::Text(law_name.clone())),
            &mut cols,
        );
        let units = self.units_line();
        add(
            "units",
            "",
            Box::new(move |_, _| Cell::Text(units.clone())),
            &mut cols,
        );

        let rows = self
            .splices
            .rows
            .iter()
            .zip(&self.rows)
            .map(|(s, m)| {
                let mut r: Vec<Cell> = s.raw.iter().map(|v| Cell::Raw(v.clone())).collect();
                r[self.splices.name_index] = Cell::Text(s.name.clone());
                r.extend(getters.iter().map(|g| g(s, m)));
                debug_assert_eq!(r.len(), n_in + getters.len());
                r
            })
            .collect();
        Table {
            title: String::new(),
            columns: cols,
            rows,
            notes: vec![],
        }
    }

    /// The columns a reader needs, with intervals inline: the terminal, Markdown and LaTeX view.
    pub fn summary_table(&self) -> Table {
        let zero = self.has(|s| s.ce_zero_ablation.is_some());
        let actual = self.has(|s| s.compute.is_some());
        let mut cols = vec![
            Column::new("name", ""),
            Column::new("ce_clean", "nats"),
            Column::new("ce_spliced", "nats"),
            Column::new("delta_loss", "nats"),
        ];
        if zero {
            cols.push(Column::new("loss_recovered", "%"));
        }
        cols.push(Column::new("compute_fraction", "ratio"));
        cols.push(Column::new("log10_compute_ratio", "orders of mag."));
        if actual {
            cols.push(Column::new("compute_fraction_of_actual", "ratio"));
        }
        cols.push(Column::new("status", ""));
        let iv = |v: Option<f64>, ci: Option<(f64, f64)>| {
            v.map_or(Cell::Empty, |v| Cell::Interval(v, ci))
        };
        let rows = self
            .splices
            .rows
            .iter()
            .zip(&self.rows)
            .map(|(s, m)| {
                let mut r = vec![
                    Cell::Text(s.name.clone()),
                    Cell::Num(s.ce_clean),
                    Cell::Num(s.ce_spliced),
                    Cell::Num(m.delta_loss),
                ];
                if zero {
                    r.push(m.loss_recovered.map(|v| 100.0 * v).into());
                }
                r.push(iv(m.eq.fraction, m.ci.and_then(|c| c.fraction)));
                r.push(iv(m.eq.log10_ratio, m.ci.and_then(|c| c.log10_ratio)));
                if actual {
                    r.push(iv(
                        m.eq.fraction_of_actual,
                        m.ci.and_then(|c| c.fraction_of_actual),
                    ));
                }
                r.push(Cell::Text(m.status.as_str().into()));
                r
            })
            .collect();
        let lf = &self.law_file;
        let params: Vec<String> = self
            .law
            .params()
            .iter()
            .map(|(k, v)| format!("{k} = {}", human(*v)))
            .collect();
        let mut notes = vec![
            format!("{} with {}", lf.formula, params.join(", ")),
            self.units_line(),
        ];
        notes.push(match self.level {
            Some(l) => format!(
                "[lo, hi]: {:.0}% bootstrap percentile intervals over {} refits ({} resampled, seed {})",
                100.0 * l,
                self.refits,
                lf.bootstrap.as_ref().map_or("?".into(), |b| format!("{:?}s", b.unit).to_lowercase()),
                lf.bootstrap.as_ref().map_or(0, |b| b.seed)
            ),
            None => "no intervals: fit with --bootstrap N to get them".into(),
        });
        notes.extend(lf.fit.warnings.iter().map(|w| format!("warning: {w}")));
        for (s, m) in self.splices.rows.iter().zip(&self.rows) {
            if !m.detail.is_empty() {
                notes.push(format!("{}: {}", s.name, m.detail));
            }
        }
        Table {
            title: format!(
                "Spliced CE loss as a fraction of training compute ({} law)",
                self.law.form().name()
            ),
            columns: cols,
            rows,
            notes,
        }
    }
}
