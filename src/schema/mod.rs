//! Every table ceq reads or writes, declared once: each column's name, unit and meaning. Readers,
//! exporters, the "input column named like an output column" check and the README's column tables
//! (checked by a test) all follow from these declarations; a new table adds one file here.

mod checkpoints;
mod eval;
mod mapped;
mod splices;

pub use checkpoints::CHECKPOINTS;
pub use eval::EVAL;
pub use mapped::MAPPED;
pub use splices::SPLICES;

use crate::export::Column;

/// One column of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Col {
    pub name: &'static str,
    /// Unit, e.g. "nats/token", "FLOPs"; empty for text and counts without one.
    pub unit: &'static str,
    pub meaning: &'static str,
    /// Whether the column gets `_lo`/`_hi` interval columns when the law was bootstrapped.
    pub interval: bool,
}

/// Shorthand for the declarations: a column without intervals.
pub(crate) const fn col(name: &'static str, unit: &'static str, meaning: &'static str) -> Col {
    Col {
        name,
        unit,
        meaning,
        interval: false,
    }
}

/// A column with `_lo`/`_hi` interval columns.
pub(crate) const fn col_ci(name: &'static str, unit: &'static str, meaning: &'static str) -> Col {
    Col {
        interval: true,
        ..col(name, unit, meaning)
    }
}

/// A table's columns, in output order.
#[derive(Debug)]
pub struct Schema {
    /// What the table is, for messages ("mapped", "eval").
    pub table: &'static str,
    pub columns: &'static [Col],
}

impl Schema {
    pub fn get(&self, name: &str) -> Option<&'static Col> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column `name` as an exporter column (name and unit). Panics on a name the schema does not
    /// declare: that is a bug in ceq, caught by every test that writes the table.
    pub fn column(&self, name: &str) -> Column {
        let c = self
            .get(name)
            .unwrap_or_else(|| panic!("the {} table declares no column '{name}'", self.table));
        Column::new(c.name, c.unit)
    }

    /// Every name the table can write, interval columns included.
    pub fn all_names(&self) -> impl Iterator<Item = String> + '_ {
        self.columns.iter().flat_map(|c| {
            let base = std::iter::once(c.name.to_owned());
            let ci = c
                .interval
                .then(|| [format!("{}_lo", c.name), format!("{}_hi", c.name)]);
            base.chain(ci.into_iter().flatten())
        })
    }

    /// Whether `name` is one of the table's columns (interval columns included).
    pub fn writes(&self, name: &str) -> bool {
        self.all_names().any(|n| n == name)
    }

    /// The README's table of these columns (Markdown).
    pub fn markdown(&self) -> String {
        let mut s = String::from("| column | unit | meaning |\n|---|---|---|\n");
        for c in self.columns {
            let name = if c.interval {
                format!("`{0}` (`{0}_lo`, `{0}_hi`)", c.name)
            } else {
                format!("`{}`", c.name)
            };
            s += &format!("| {name} | {} | {} |\n", c.unit, c.meaning.replace('|', "\\|"));
        }
        s
    }
}
