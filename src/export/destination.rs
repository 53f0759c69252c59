//! Where a rendered table goes: a file, written atomically, or standard output; in a format given,
//! else told by the file's extension.

use std::path::{Path, PathBuf};

use super::said_once::shown;
use super::{Format, Table};
use crate::error::Result;
use crate::io;

#[derive(Clone, Debug, Default)]
pub struct Destination {
    pub format: Option<Format>,
    /// The file; `None` is standard output.
    pub out: Option<PathBuf>,
    /// Whether an existing file may be replaced ([`io::check_may_replace`]).
    pub replace: bool,
}

impl Destination {
    /// The file written, `None` for standard output (no `--out`, or `-`).
    fn file(&self) -> Option<&Path> {
        self.out.as_deref().filter(|p| !io::is_dash(p))
    }

    /// The format: as given, else from the file's extension (one ceq does not know is an error),
    /// else the aligned table on standard output. A format given that another extension ceq
    /// knows contradicts is refused: the file would be read as what its name says.
    pub fn format(&self) -> Result<Format> {
        let named = self.file().map(Format::from_path);
        match (self.format, named) {
            (Some(f), Some(Ok(n))) if n != f => Err(crate::error::Error::Invalid {
                option: "output format and file name",
                fix: Some(crate::error::Fix::FormatVsName),
                message: format!(
                    "{} is {} by its extension, but the format asked is {}",
                    self.file().unwrap_or(Path::new("")).display(),
                    n.name(),
                    f.name()
                ),
            }),
            (Some(f), _) => Ok(f),
            (None, Some(n)) => n,
            (None, None) => Ok(Format::Table),
        }
    }

    /// Refuses a file that is one of `inputs` (said first: the graver mistake), in a folder that
    /// does not exist, a run's results, one that exists unless it may be replaced, or whose format
    /// is unclear; before any work is done.
    pub fn check(&self, inputs: &[impl AsRef<Path>]) -> Result<()> {
        let inputs: Vec<&Path> = inputs.iter().map(AsRef::as_ref).collect();
        match self.file() {
            Some(out) if !io::names_stdout(out) => {
                io::check_not_input(out, &inputs)?;
                crate::eval::record::check_not_results(out)?;
                io::check_may_replace(out, self.replace)?;
            }
            _ => io::check_stdout_not_input(&inputs)?,
        }
        self.format().map(drop)
    }

    /// Writes the table `table_for` makes in the format, without the notes that repeat a warning
    /// already `said` on the terminal it goes to; returns the file written, if not stdout.
    pub fn write_table(
        &self,
        said: &[String],
        table_for: impl FnOnce(Format) -> Table,
    ) -> Result<Option<&Path>> {
        let format = self.format()?;
        let to_stdout = self.out.as_deref().is_none_or(io::is_stdout);
        let table = shown(table_for(format), to_stdout, said);
        // Standard output named as a file (`/dev/stdout` sent to a file) is written to, not
        // replaced: what `>>` kept there stays.
        match self.file().filter(|out| !io::names_stdout(out)) {
            None => io::write_stdout(&format.render(&table)).map(|()| None),
            Some(out) => {
                let write = |w: &mut dyn std::io::Write| format.export(&table, w);
                crate::eval::record::write_table_file(out, || io::write_atomic_with(out, write))?;
                Ok(Some(out))
            }
        }
    }
}
