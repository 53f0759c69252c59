//! `ceq map`: every splice of a file through one fitted law, and the tables that show the result.

use crate::equivalence::{Mapped, map_splice};
use crate::export::{Cell, Column, Table, human};
use crate::law::{Form, Law};
use crate::law_file::LawFile;
use crate::schema::{Col, MAPPED};
use crate::table::{Splice, Splices};

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
    let law = law_file.law().clone();
    let boot = law_file.bootstrap_laws();
    let ranges = law_file.fit.ranges;
    let rows = splices
        .rows
        .iter()
        .map(|s| map_splice(&law, &ranges, boot, s))
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
    /// Each splice with its mapped numbers, in file order.
    pub fn splice_rows(&self) -> impl Iterator<Item = (&Splice, &Mapped)> {
        self.splices.rows.iter().zip(&self.rows)
    }

    fn has(&self, f: impl Fn(&Splice) -> bool) -> bool {
        self.splices.rows.iter().any(f)
    }

    /// One line saying what the numbers mean, for every output.
    pub fn units_line(&self) -> String {
        let u = &self.law_file.units;
        let mut line = format!(
            "losses in nats/token on eval set '{}'; compute in FLOPs (C = 6ND, N = {}); {} law fitted to {}",
            u.eval_set,
            u.params,
            self.law.form().name(),
            self.law_file.data.file
        );
        if let Some(n) = self.splices.source_note() {
            line += &format!("; {n}");
        }
        line
    }

    /// Whether the full table has the computed column `name` (see [`MAPPED`]).
    fn present(&self, name: &str) -> bool {
        let form = self.law.form();
        match name {
            "loss_recovered" => self.has(|s| s.ce_zero_ablation.is_some()),
            "loss_recovered_mean" => self.has(|s| s.ce_mean_ablation.is_some()),
            "compute_actual" | "compute_fraction_of_actual" => self.has(|s| s.compute.is_some()),
            "params_equivalent" => form == Form::Chinchilla,
            "tokens_equivalent" => form != Form::Compute,
            "step_equivalent" => form == Form::Run,
            _ => true,
        }
    }

    /// The cell of a computed column that has no interval.
    fn cell(&self, name: &str, s: &Splice, m: &Mapped) -> Cell {
        match name {
            "delta_loss" => Cell::Num(m.delta_loss),
            "loss_recovered" => m.loss_recovered.into(),
            "loss_recovered_mean" => m.loss_recovered_mean.into(),
            "compute_actual" => s.compute.into(),
            "status" => Cell::Text(m.status.as_str().into()),
            "status_detail" => Cell::Text(m.detail.clone()),
            "law" => Cell::Text(self.law.form().name().into()),
            "units" => Cell::Text(self.units_line()),
            other => unreachable!("the mapped table declares no column '{other}'"),
        }
    }

    /// Every input column as it was, then every computed column: the CSV and JSON view.
    pub fn full_table(&self) -> Table {
        let boot = self.level.is_some();
        let specs: Vec<&Col> = MAPPED
            .columns
            .iter()
            .filter(|c| self.present(&c.name))
            .collect();
        let mut cols: Vec<Column> = self
            .splices
            .columns
            .iter()
            .map(|c| Column::new(c, ""))
            .collect();
        for c in &specs {
            cols.push(Column::new(&c.name, &c.unit));
            if boot && c.interval {
                cols.push(Column::new(&format!("{}_lo", c.name), &c.unit));
                cols.push(Column::new(&format!("{}_hi", c.name), &c.unit));
            }
        }
        let rows = self
            .splice_rows()
            .map(|(s, m)| {
                let mut r: Vec<Cell> = s.raw.iter().map(|v| Cell::Raw(v.clone())).collect();
                r[self.splices.name_index] = Cell::Text(s.name.clone());
                for c in &specs {
                    match m.scale_column(&c.name) {
                        Some((v, ci)) => {
                            r.push(v.into());
                            if boot {
                                r.push(ci.map(|p| p.0).into());
                                r.push(ci.map(|p| p.1).into());
                            }
                        }
                        None => r.push(self.cell(&c.name, s, m)),
                    }
                }
                debug_assert_eq!(r.len(), cols.len());
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
            .splice_rows()
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
        if self.law.form() == Form::Run {
            notes.push(crate::law::SCHEDULE_CAVEAT.into());
        }
        notes.extend(
            self.splices
                .warnings()
                .iter()
                .map(|w| format!("warning: {w}")),
        );
        notes.extend(lf.fit.warnings.iter().map(|w| format!("warning: {w}")));
        for (s, m) in self.splice_rows() {
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
