//! What a long run reports while it goes, and the bar on stderr that shows it. Eval, eval-family,
//! sweeps and the study report one [`Progress`] type, so a study can hand its eval stages' progress
//! straight through; a fit reports [`crate::fit::Progress`] from many threads, which the same bar
//! shows.

use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// What a long run (eval, eval-family, a sweep, a study) reports while it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A stage starts with `total` units of work; its name says which units, e.g. "eval (token
    /// positions)".
    Stage { name: String, total: usize },
    /// The next item of the stage (an SAE's, a hook's, a checkpoint's or a model's name).
    Item(String),
    /// This many more units are done.
    Advance(usize),
    /// Something the user should know of the numbers being made (said at once, not at the end).
    Warning(String),
    /// A line to say as it is, e.g. an input file passed over and why.
    Note(String),
    /// A file is written, in its place.
    Wrote(PathBuf),
    /// A fit's stage and how much of it is done (from any thread).
    Fit(crate::fit::Progress),
}

/// Hears a run's [`Progress`] from any thread (a fit's bootstrap refits in parallel).
pub type Listener<'a> = &'a (dyn Fn(Progress) + Sync);

/// A bar on stderr following a run's [`Progress`] or a fit's [`crate::fit::Progress`]. It draws
/// only on a terminal and is cleared when dropped; `log_stages` also writes each stage's name as a
/// line of its own, which stays in a log file where no bar is drawn.
pub struct Bar {
    pb: ProgressBar,
    terminal: bool,
    log_stages: bool,
    /// The warnings said, so a table's notes can leave them out (see [`crate::export::said_once`]).
    said: std::sync::Mutex<Vec<String>>,
}

impl Bar {
    pub fn new(log_stages: bool) -> Bar {
        // The message is cut to the terminal's width: a hook's item names all its SAEs.
        let style = ProgressStyle::with_template(
            "{wide_msg} [{bar:30}] {human_pos}/{human_len} ({rate}, {eta} left)",
        )
        .expect("a valid template")
        .with_key("rate", |s: &ProgressState, w: &mut dyn fmt::Write| {
            let r = s.per_sec();
            let _ = if r < 10.0 {
                write!(w, "{r:.1}/s")
            } else {
                write!(w, "{r:.0}/s")
            };
        })
        .progress_chars("=> ");
        Bar {
            pb: ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden()).with_style(style),
            terminal: std::io::stderr().is_terminal(),
            log_stages,
            said: Default::default(),
        }
    }

    /// Shows one event of a run.
    pub fn on(&self, p: Progress) {
        match p {
            Progress::Stage { name, total } => {
                self.pb.finish_and_clear();
                self.pb.set_draw_target(ProgressDrawTarget::hidden());
                if self.log_stages {
                    crate::say!("ceq: {name}");
                }
                self.start(&name, total);
            }
            Progress::Item(name) => self.pb.set_message(name),
            Progress::Advance(n) => self.pb.inc(n as u64),
            Progress::Warning(w) => {
                self.pb.suspend(|| crate::say!("ceq: warning: {w}"));
                self.said.lock().unwrap_or_else(|e| e.into_inner()).push(w);
            }
            Progress::Note(n) => self.pb.suspend(|| crate::say!("ceq: {n}")),
            Progress::Wrote(p) => self
                .pb
                .suspend(|| crate::say!("ceq: wrote {}", p.display())),
            Progress::Fit(p) => {
                if self.pb.message() != p.stage || self.pb.length() != Some(p.total as u64) {
                    self.start(p.stage, p.total);
                }
                self.pb.set_position(p.done as u64);
            }
        }
    }

    /// Every warning said so far, in order.
    pub fn said(&self) -> Vec<String> {
        self.said.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn start(&self, name: &str, total: usize) {
        self.pb.reset();
        self.pb.set_length(total as u64);
        self.pb.set_message(name.to_owned());
        // A new target would forget the line the old one drew and leave it on the screen.
        if self.terminal && total > 0 && self.pb.is_hidden() {
            self.pb.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.pb.finish_and_clear();
    }
}
