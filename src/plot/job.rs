//! `ceq plot`: the figures alone, from a law and (for the splice figures) splices.

use std::path::{Path, PathBuf};

use super::{Data, Figure, files, glyph_warning, not_drawn, not_drawn_lines, write_figures};
use crate::analysis::Analysis;
use crate::error::Result;
use crate::io;
use crate::progress::{Listener, Progress};

pub struct PlotJob {
    pub analysis: Analysis,
    /// Which figures (none: every one the inputs allow).
    pub figures: Vec<Figure>,
    /// The folder NAME.svg, NAME.png and NAME.pdf go into.
    pub out_dir: PathBuf,
    /// Replace figure files of the same names.
    pub force: bool,
}

impl PlotJob {
    /// Checks every output before any work, then draws; each file is told as it is written.
    pub fn run(&self, on: Listener) -> Result<()> {
        let inputs = self.analysis.inputs();
        let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        io::check_none_is_input(files(&self.out_dir, &self.figures), &inputs)?;
        io::check_out_dir(&self.out_dir, &[], self.force)?;
        io::check_writable(files(&self.out_dir, &self.figures))?;
        let a = self.analysis.run(on)?;
        let data = Data::new(a.law_file(), a.map(), self.analysis.group_by.clone());
        let wrote = &mut |p: &Path| on(Progress::Wrote(p.to_owned()));
        let drawn = write_figures(&data, &self.figures, &self.out_dir, self.force, wrote)?;
        if let Some(w) = glyph_warning(&drawn) {
            on(Progress::Warning(w));
        }
        // What a report's caption says of a figure (its axes, how its series are made), said
        // here, where there is no caption.
        for (fig, _) in &drawn {
            if let Some(about) = fig.about(&data) {
                on(Progress::Note(format!("{}: {about}", fig.stem())));
            }
        }
        // With every figure asked for (none named), one the inputs do not allow is said, and its
        // files from an earlier plot, left beside the new ones, are named (they show other inputs).
        if !self.figures.is_empty() {
            return Ok(());
        }
        let (old, new): (Vec<_>, Vec<_>) = (not_drawn(&data, &drawn).into_iter())
            .map(|(fig, why)| {
                let old: Vec<String> = (fig.files(&self.out_dir).iter())
                    .filter(|p| p.exists())
                    .map(|p| p.display().to_string())
                    .collect();
                (fig, why, old)
            })
            .partition(|(_, _, old)| !old.is_empty());
        let new: Vec<(Figure, String)> = new.into_iter().map(|(f, w, _)| (f, w)).collect();
        for line in not_drawn_lines(&new) {
            on(Progress::Note(line));
        }
        for (fig, why, old) in old {
            let line = &not_drawn_lines(&[(fig, why)])[0];
            on(Progress::Warning(format!(
                "{line}; but {} from an earlier plot are there, beside this plot's figures: \
                 remove them, or they may be taken for this plot's",
                old.join(" and ")
            )));
        }
        Ok(())
    }
}
