//! What `fit`, `map`, `plot` and `report` share: a law, read or fitted, and the splices (when given) read
//! and mapped through it, with what the user must hear said as it comes.

use std::path::{Path, PathBuf};

use crate::error::{Error, Fix, Result};
use crate::export::Format;
use crate::export::said_once::shown;
use crate::law_file::LawFile;
use crate::map::MapResult;
use crate::pipeline::{FitJob, LawSource};
use crate::progress::{Listener, Progress};
use crate::table::Source;

/// Why a splices file must have the column the figures group by.
pub const GROUP_BY: &str = "the figures group splices by a column of the splices file";

/// A law and, when given, a splices file (a CSV, or SAEBench results) to map through it.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub law: LawSource,
    pub splices: Option<PathBuf>,
    /// The splices file's column the figures group by; checked when the splices are read.
    pub group_by: Option<String>,
}

/// The law alone, or the splices mapped through it (which holds the law).
pub enum Analyzed {
    Law(Box<LawFile>),
    Mapped(Box<MapResult>),
}

impl Analyzed {
    pub fn law_file(&self) -> &LawFile {
        match self {
            Analyzed::Law(lf) => lf,
            Analyzed::Mapped(r) => &r.law_file,
        }
    }

    pub fn map(&self) -> Option<&MapResult> {
        match self {
            Analyzed::Law(_) => None,
            Analyzed::Mapped(r) => Some(r),
        }
    }
}

impl Analysis {
    /// Every file it reads, for the checks that no output overwrites one.
    pub fn inputs(&self) -> Vec<PathBuf> {
        self.law.inputs(self.splices.as_deref())
    }

    /// Reads the splices (saying which files of a SAEBench folder were skipped), then reads or
    /// fits the law and maps them; the fit's and the mapping's warnings are said as they come.
    pub fn run(&self, on: Listener) -> Result<Analyzed> {
        let fit_on = &|p| on(Progress::Fit(p));
        let warn = |ws: &[String]| ws.iter().for_each(|w| on(Progress::Warning(w.clone())));
        let Some(path) = &self.splices else {
            let lf = self.law.load(fit_on)?;
            warn(&lf.fit.warnings);
            return Ok(Analyzed::Law(Box::new(lf)));
        };
        let splices = crate::table::read_splices(path)?;
        if let Source::SaeBench { skipped, .. } = &splices.source {
            for (f, why) in skipped {
                on(Progress::Note(format!("skipped {}: {why}", f.display())));
            }
        }
        if let Some(g) = &self.group_by {
            // A column map computes (status, compute_fraction) is not there to group by yet.
            let hint = match crate::schema::MAPPED.get(g) {
                Some(_) => format!(
                    "{GROUP_BY}, and '{g}' is one ceq computes from the law, not one of the file's"
                ),
                None => GROUP_BY.to_owned(),
            };
            splices.require_column(g, &hint, Fix::GroupBy)?;
        }
        let r = self.law.map(path, splices, fit_on)?;
        // A law file's too: who maps with a shared law file did not see its fit.
        warn(&r.law_file.fit.warnings);
        warn(&r.warnings());
        Ok(Analyzed::Mapped(Box::new(r)))
    }

    /// The splices mapped, which must be given.
    pub fn map(&self, on: Listener) -> Result<MapResult> {
        match self.run(on)? {
            Analyzed::Mapped(r) => Ok(*r),
            Analyzed::Law(_) => Err(Error::Invalid {
                fix: None,
                option: "splices",
                message: "there are no splices to map".into(),
            }),
        }
    }
}

/// What `fit` writes: the law file to `law_out` (when given), and to standard output the law's
/// summary in `format` (the aligned table by default) or, for JSON, the law file itself. A
/// `law_out` that is standard output gets the law file alone.
#[derive(Clone, Debug, Default)]
pub struct FitOutput {
    pub law_out: Option<PathBuf>,
    pub format: Option<Format>,
    /// Whether an existing law file may be replaced ([`crate::io::check_may_replace`]).
    pub replace: bool,
}

impl FitOutput {
    /// Refuses, before any work, a law file over an input, not named .json or existing (unless it
    /// may be replaced), and a summary asked for on the standard output the law file takes.
    pub fn check(&self, job: &FitJob) -> Result<()> {
        // Standard output gets the summary, or the law file.
        crate::io::check_stdout_not_input(&[&job.spec().checkpoints])?;
        if let Some(out) = &self.law_out {
            job.check_out(out)?;
            crate::io::check_may_replace(out, self.replace)?;
        }
        if self.law_to_stdout() && self.format.is_some_and(|f| f != Format::Json) {
            return Err(Error::Invalid {
                fix: Some(Fix::SummaryOrLaw),
                option: "summary and law file",
                message: "the law file goes to standard output, where the summary would go too"
                    .into(),
            });
        }
        Ok(())
    }

    fn law_to_stdout(&self) -> bool {
        self.law_out.as_deref().is_some_and(crate::io::is_stdout)
    }

    /// Writes the law file and the summary (without the notes that repeat a warning `said`);
    /// returns the file the law was saved to, if not standard output.
    pub fn write(&self, lf: &LawFile, said: &[String]) -> Result<Option<&Path>> {
        if self.law_to_stdout() {
            // Appended to or replaced as the shell opened it, not swapped for a new file.
            return crate::io::write_stdout(&lf.to_json()).map(|()| None);
        }
        if let Some(out) = &self.law_out {
            crate::io::write_atomic(out, lf.to_json().as_bytes())?;
        }
        let text = match self.format.unwrap_or(Format::Table) {
            Format::Json => lf.to_json(),
            f => f.render(&shown(lf.summary_table_for(f), true, said)),
        };
        crate::io::write_stdout(&text)?;
        Ok(self.law_out.as_deref())
    }
}
