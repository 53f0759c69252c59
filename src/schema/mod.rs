//! Every table ceq reads or writes, declared once in `columns.csv` beside this file: each column's
//! name, unit and meaning. Readers, exporters, the "input column named like an output column" check
//! and the README's column tables (checked by a test) all follow from it; a new table adds rows there.
//!
//! - [`CHECKPOINTS`]: what `ceq fit` reads, one row per trained checkpoint.
//! - [`SPLICES`]: what `ceq map` reads, one row per spliced SAE; other columns pass through.
//! - [`EVAL`]: what `ceq eval` writes. Its CSV is a splices file: `ceq map` reads the columns
//!   [`SPLICES`] declares, checks `loss_recovered` against its own, and passes the rest through.
//! - [`SAEBENCH`]: the splices table made from SAEBench core-eval result JSON; each column's meaning
//!   names the key it comes from.
//! - [`MAPPED`]: what `ceq map` adds. A column appears only where the inputs determine it (e.g.
//!   `loss_recovered` needs `ce_zero_ablation`); interval columns only when the law was bootstrapped,
//!   and only where the row has a point estimate.
//! - [`FAMILY`]: what `ceq eval-family` writes, one row per checkpoint (a checkpoints file).

use std::sync::LazyLock;

use crate::export::Column;

const COLUMNS_CSV: &str = include_str!("columns.csv");

pub static CHECKPOINTS: LazyLock<Schema> = LazyLock::new(|| Schema::load("checkpoints"));
pub static SPLICES: LazyLock<Schema> = LazyLock::new(|| Schema::load("splices"));
pub static EVAL: LazyLock<Schema> = LazyLock::new(|| Schema::load("eval"));
pub static SAEBENCH: LazyLock<Schema> = LazyLock::new(|| Schema::load("saebench"));
pub static MAPPED: LazyLock<Schema> = LazyLock::new(|| Schema::load("mapped"));
pub static FAMILY: LazyLock<Schema> = LazyLock::new(|| Schema::load("family"));

/// One column of a table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Col {
    table: String,
    #[serde(rename = "column")]
    pub name: String,
    /// Unit, e.g. "nats/token", "FLOPs"; empty for text and counts without one.
    pub unit: String,
    /// Whether the column gets `_lo`/`_hi` interval columns when the law was bootstrapped.
    #[serde(rename = "intervals", deserialize_with = "yes")]
    pub interval: bool,
    pub meaning: String,
}

fn yes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(<String as serde::Deserialize>::deserialize(d)? == "yes")
}

/// A table's columns, in output order.
#[derive(Debug)]
pub struct Schema {
    /// What the table is, for messages ("mapped", "eval").
    pub table: &'static str,
    pub columns: Vec<Col>,
}

impl Schema {
    /// The rows of `columns.csv` for `table`; the file is part of the binary and tested whole.
    fn load(table: &'static str) -> Schema {
        let mut rdr = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(COLUMNS_CSV.as_bytes());
        let columns = rdr
            .deserialize::<Col>()
            .map(|r| r.expect("src/schema/columns.csv is well-formed (tested)"))
            .filter(|c| c.table == table)
            .collect();
        Schema { table, columns }
    }

    pub fn get(&self, name: &str) -> Option<&Col> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column `name` as an exporter column (name and unit). Panics on a name the schema does not
    /// declare: that is a bug in ceq, caught by every test that writes the table.
    pub fn column(&self, name: &str) -> Column {
        let c = self
            .get(name)
            .unwrap_or_else(|| panic!("the {} table declares no column '{name}'", self.table));
        Column::new(&c.name, &c.unit)
    }

    /// Every name the table can write, interval columns included.
    pub fn all_names(&self) -> impl Iterator<Item = String> + '_ {
        self.columns.iter().flat_map(|c| {
            let ci = c
                .interval
                .then(|| [format!("{}_lo", c.name), format!("{}_hi", c.name)]);
            std::iter::once(c.name.clone()).chain(ci.into_iter().flatten())
        })
    }

    /// Whether `name` is one of the table's columns (interval columns included).
    pub fn writes(&self, name: &str) -> bool {
        self.all_names().any(|n| n == name)
    }

    /// The README's table of these columns (Markdown).
    pub fn markdown(&self) -> String {
        let mut s = String::from("| column | unit | meaning |\n|---|---|---|\n");
        for c in &self.columns {
            let name = if c.interval {
                format!("`{0}` (`{0}_lo`, `{0}_hi`)", c.name)
            } else {
                format!("`{}`", c.name)
            };
            s += &format!(
                "| {name} | {} | {} |\n",
                c.unit,
                c.meaning.replace('|', "\\|")
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_columns_csv_is_read_into_one_table() {
        let tables = [
            &*CHECKPOINTS,
            &*SPLICES,
            &*EVAL,
            &*SAEBENCH,
            &*MAPPED,
            &*FAMILY,
        ];
        let rows = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(COLUMNS_CSV.as_bytes())
            .records()
            .count();
        assert_eq!(tables.iter().map(|t| t.columns.len()).sum::<usize>(), rows);
        for t in tables {
            assert!(!t.columns.is_empty(), "{}", t.table);
            let names: Vec<String> = t.all_names().collect();
            for (i, n) in names.iter().enumerate() {
                assert!(!names[..i].contains(n), "{}: '{n}' twice", t.table);
            }
        }
    }
}
