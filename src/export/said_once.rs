//! Warnings said once on a terminal. A run says each warning on stderr as it comes, and a table's
//! notes repeat it, so that a table written to a file (the thing that gets shared) keeps it. Where
//! the table itself goes to the terminal that shows stderr, the notes leave out what was said.

use super::Table;

/// What a standard stream is, for telling whether two of them show on one screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// A terminal, by its device number (0 where the platform gives none).
    Terminal(u64),
    /// A file, a pipe, or anything else that keeps what is written.
    Other,
}

impl Stream {
    pub fn stdout() -> Stream {
        Stream::of(std::io::stdout())
    }

    pub fn stderr() -> Stream {
        Stream::of(std::io::stderr())
    }

    #[cfg(unix)]
    fn of(s: impl std::io::IsTerminal + std::os::fd::AsFd) -> Stream {
        use std::os::unix::fs::MetadataExt;
        if !s.is_terminal() {
            return Stream::Other;
        }
        let meta =
            (s.as_fd().try_clone_to_owned()).and_then(|fd| std::fs::File::from(fd).metadata());
        Stream::Terminal(meta.map_or(0, |m| m.rdev()))
    }

    #[cfg(not(unix))]
    fn of(s: impl std::io::IsTerminal) -> Stream {
        match s.is_terminal() {
            true => Stream::Terminal(0),
            false => Stream::Other,
        }
    }
}

/// Whether a table's notes repeat the warnings already said on stderr: yes, unless the table goes
/// to stdout and stdout and stderr are the same terminal, where each would be read twice.
pub fn notes_repeat_warnings(to_stdout: bool, stdout: Stream, stderr: Stream) -> bool {
    let same_terminal =
        matches!((stdout, stderr), (Stream::Terminal(a), Stream::Terminal(b)) if a == b);
    !(to_stdout && same_terminal)
}

/// `table` as it is shown: without the warnings `said` on stderr, where the table goes to that
/// same terminal (`to_stdout`), so each is read once.
pub fn shown(mut table: Table, to_stdout: bool, said: &[String]) -> Table {
    if !notes_repeat_warnings(to_stdout, Stream::stdout(), Stream::stderr()) {
        drop_said(&mut table, said);
    }
    table
}

/// `table` without the notes that repeat a warning of `said` (notes read "warning: …").
pub fn drop_said(table: &mut Table, said: &[String]) {
    let repeats = |n: &String| {
        n.strip_prefix("warning: ")
            .is_some_and(|w| said.iter().any(|s| s == w))
    };
    let key_dropped = table.notes[..table.key.min(table.notes.len())]
        .iter()
        .filter(|n| repeats(n))
        .count();
    table.key -= key_dropped;
    table.notes.retain(|n| !repeats(n));
}
