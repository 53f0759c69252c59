//! The analysis as the commands run it: a checkpoints file is read, fitted and bootstrapped into a
//! law file, or a saved law file is read back. Options are checked once, in [`FitSpec::validate`];
//! what it returns the rest of the library trusts.

use std::path::{Path, PathBuf};

use crate::error::{Error, Fix, Result};
use crate::eval::ledger::{per_seq_n_path, per_seq_path};
pub use crate::fit::Progress;
use crate::fit::bootstrap::{bootstrap, thin_resamples};
use crate::fit::{Bootstrap, BootstrapOptions, Fit, FitOptions, Solver, Stage, fit_with_progress};
use crate::law::Form;
use crate::law_file::{LawFile, ParamCount};
use crate::map::{MapResult, map_at};
use crate::table::{Checkpoint, ColumnMap, Family, Splices, read_family};
use crate::token_bootstrap::map_token_bootstrap;

/// The eval set's name when the user gives none.
pub const UNNAMED_EVAL_SET: &str = "unspecified";

/// The most bootstrap resamples a fit takes: a million percentile intervals are as sharp as they
/// get, and every refit is kept (in memory and in the law file, about 200 bytes each).
pub const MAX_BOOTSTRAP: usize = 1_000_000;

/// How to read and fit a checkpoints file.
#[derive(Clone, Debug)]
pub struct FitSpec {
    pub checkpoints: PathBuf,
    pub columns: ColumnMap,
    /// The quantities whose column the user named: each must be in the file (a default name
    /// absent is a quantity the file does not give).
    pub named_columns: Vec<&'static str>,
    pub form: Form,
    /// Fit only this run (the `run` law fits one run).
    pub run: Option<String>,
    /// Drop the K highest-loss checkpoints before fitting.
    pub drop_highest: usize,
    /// Huber threshold on log-loss residuals.
    pub delta: f64,
    pub param_count: ParamCount,
    /// The token set the losses were measured on, as the user names it (`None`: as the file's
    /// eval_tokens column names it, else [`UNNAMED_EVAL_SET`]).
    pub eval_set: Option<String>,
    /// Bootstrap resamples (0: none).
    pub bootstrap: usize,
    pub seed: u64,
    /// Level of the percentile intervals.
    pub level: f64,
}

/// A [`FitSpec`] whose options have been checked.
#[derive(Clone, Debug)]
pub struct FitJob(FitSpec);

impl FitSpec {
    /// A Chinchilla fit of `checkpoints` (measured on `eval_set`) with ceq's defaults: the
    /// standard column names, total parameters, Huber δ = 1e-3, no bootstrap, 90 % intervals.
    pub fn new(checkpoints: PathBuf, eval_set: &str) -> FitSpec {
        FitSpec {
            checkpoints,
            columns: ColumnMap::default(),
            named_columns: vec![],
            form: Form::Chinchilla,
            run: None,
            drop_highest: 0,
            delta: 1e-3,
            param_count: ParamCount::Total,
            eval_set: Some(eval_set.into()),
            bootstrap: 0,
            seed: 0,
            level: 0.9,
        }
    }

    pub fn validate(self) -> Result<FitJob> {
        if self.bootstrap > MAX_BOOTSTRAP {
            return Err(Error::Invalid {
                fix: None,
                option: "bootstrap resamples",
                message: format!(
                    "at most {MAX_BOOTSTRAP} (a law file keeps every refit), got {}",
                    self.bootstrap
                ),
            });
        }
        crate::map::check_level(self.level)?;
        self.columns.check()?;
        crate::fit::check_delta(self.delta)?;
        Ok(FitJob(self))
    }
}

impl FitJob {
    pub fn spec(&self) -> &FitSpec {
        &self.0
    }

    /// Reads and fits, without a bootstrap: the family as read and the fit.
    pub fn fit(&self, on: &(dyn Fn(Progress) + Sync)) -> Result<(Family, Fit)> {
        let s = &self.0;
        let mut family = read_family(&s.checkpoints, &s.columns, s.form, 0)?;
        family.check_named(&s.named_columns)?;
        family.drop_highest(s.drop_highest, s.run.as_deref());
        crate::law_file::check_param_count(&family, self.0.param_count)?;
        if s.form == Form::Compute
            && let Some(w) = off_the_frontier(&family)
        {
            family.warnings.push(w);
        }
        if s.form != Form::Run {
            family
                .warnings
                .extend(intermediate_checkpoints(&family, s.run.as_deref()));
        }
        let f = fit_with_progress(&family, &self.options(), on).map_err(|e| Error::Fitting {
            form: s.form.name(),
            path: s.checkpoints.clone(),
            source: Box::new(e),
        })?;
        family.settle_token_set(&f.checkpoints)?;
        Ok((family, f))
    }

    /// The fit's options.
    pub fn options(&self) -> FitOptions {
        let s = &self.0;
        FitOptions {
            form: s.form,
            delta: s.delta,
            run: s.run.clone(),
            solver: Solver::default(),
        }
    }

    /// The law file of a fit and, when there is one, its bootstrap. An eval set left unnamed is
    /// named by the checkpoints' own `eval_tokens` (file, hash and positions), where they give one;
    /// a name given is kept, whatever it is.
    pub fn law_file(
        &self,
        family: &Family,
        fit: &Fit,
        boot: Option<&Bootstrap>,
    ) -> Result<LawFile> {
        let s = &self.0;
        let eval_set = match (&s.eval_set, &family.eval_tokens) {
            (Some(named), _) => named,
            (None, Some(t)) => t,
            (None, None) => UNNAMED_EVAL_SET,
        };
        LawFile::new(fit, family, eval_set, s.param_count, (boot, s.level))
    }

    /// Refuses a path for the law file that is the checkpoints file, or not named .json (`-`, or a
    /// device or FIFO such as /dev/stdout, has no name to say so).
    pub fn check_out(&self, out: &Path) -> Result<()> {
        if crate::io::is_dash(out) {
            return Ok(());
        }
        crate::io::check_not_input(out, &[&self.0.checkpoints])?;
        // `/dev/stdout` sent to a file is that file, whose name says nothing of ceq's choosing.
        if crate::io::is_special(out) || crate::io::names_stdout(out) {
            return Ok(());
        }
        crate::io::check_extension(out, "json", "a law file (JSON)")?;
        crate::eval::record::check_not_side_file(out)
    }

    /// Reads, fits and (when asked) bootstraps: the law file `ceq fit` saves and `ceq map` reads.
    /// `on` hears of each stage (the fit's starts, then the bootstrap's refits) and each step done.
    pub fn run(&self, on: &(dyn Fn(Progress) + Sync)) -> Result<LawFile> {
        let s = &self.0;
        let (mut family, f) = self.fit(on)?;
        if s.bootstrap > 0 {
            family.warnings.extend(crate::fit::bootstrap::few_runs(&f));
            (family.warnings).extend(thin_resamples(&f, s.bootstrap, s.seed));
        }
        let boot = (s.bootstrap > 0).then(|| {
            let o = BootstrapOptions {
                n: s.bootstrap,
                seed: s.seed,
            };
            let stage = Stage::begin(on, "bootstrap", o.n);
            bootstrap(&f, &o, &self.options().solver, &|| stage.step())
        });
        self.law_file(&family, &f, boot.as_ref())
    }
}

/// A compute law reads every checkpoint as compute-optimal; a grid of sizes × token budgets has
/// checkpoints off the frontier, which pull the curve above it.
fn off_the_frontier(family: &Family) -> Option<String> {
    let mut budgets: Vec<(f64, f64)> = (family.checkpoints.iter())
        .filter(|c| c.params.is_finite() && c.tokens.is_finite())
        .map(|c| (c.params, c.tokens))
        .collect();
    budgets.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    budgets.dedup();
    let sizes = budgets.windows(2).filter(|w| w[0].0 != w[1].0).count() + 1;
    let most = budgets.chunk_by(|a, b| a.0 == b.0).map(<[_]>::len).max()?;
    (sizes > 1 && most > 1).then(|| {
        format!(
            "the compute law reads every checkpoint as compute-optimal, but this family has {sizes} \
             model sizes with up to {most} token budgets each: points off the frontier pull the \
             curve above it; the chinchilla law fits such a grid"
        )
    })
}

/// Several checkpoints of one run along its length: where its learning rate decayed over the run,
/// an intermediate checkpoint's loss is above what a run stopped there would reach, which a law
/// over sizes and budgets reads as the budget's loss. Only the run fitted counts where one is.
fn intermediate_checkpoints(family: &Family, fitted: Option<&str>) -> Option<String> {
    let mut tokens: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let fitted = |c: &&Checkpoint| fitted.is_none_or(|r| c.run.as_deref() == Some(r));
    for c in family.checkpoints.iter().filter(fitted) {
        let along = if c.tokens.is_finite() {
            c.tokens
        } else {
            c.compute
        };
        tokens.entry(c.run.as_deref()?).or_default().push(along);
    }
    let several = (tokens.values())
        .filter(|t| t.iter().any(|&d| d != t[0]))
        .count();
    (several > 0).then(|| {
        format!(
            "{several} run(s) hold several checkpoints along their length: where a run's learning \
             rate decayed over it, its intermediate checkpoints' losses are above what runs \
             stopped there would reach (Hägele et al. 2024) and pull the law up; fit each run's \
             final checkpoint, or runs trained at a constant learning rate"
        )
    })
}

/// Where a command's law comes from.
#[derive(Clone, Debug)]
pub enum LawSource {
    /// A file saved by `ceq fit --out`.
    File(PathBuf),
    /// Fitted here.
    Fit(FitJob),
    /// Fitted here and refitted jointly with the splices on resampled eval sequences
    /// (see [`crate::token_bootstrap`]); it needs splices.
    TokenBootstrap(FitJob),
}

impl LawSource {
    /// The law alone: read or fitted.
    pub fn load(&self, on: &(dyn Fn(Progress) + Sync)) -> Result<LawFile> {
        match self {
            LawSource::File(p) => LawFile::read(p),
            LawSource::Fit(job) => job.run(on),
            LawSource::TokenBootstrap(_) => Err(Error::Invalid {
                option: "token bootstrap",
                fix: Some(Fix::Splices),
                message: "it resamples the splices' sequences, so it needs splices".into(),
            }),
        }
    }

    /// `splices` (read from `path`) mapped through the law; a token bootstrap refits the law with
    /// them. Intervals at the fit's level (a law file's at its own).
    pub fn map(
        &self,
        path: &Path,
        splices: Splices,
        on: &(dyn Fn(Progress) + Sync),
    ) -> Result<MapResult> {
        match self {
            LawSource::TokenBootstrap(job) => map_token_bootstrap(job, (path, splices), on),
            LawSource::Fit(job) => map_at(&job.run(on)?, splices, job.spec().level),
            LawSource::File(p) => {
                let lf = LawFile::read(p)?;
                map_at(&lf, splices, lf.level())
            }
        }
    }

    /// The files it reads with `splices`, when given: a token bootstrap reads the per-sequence
    /// arrays beside both CSVs too.
    pub fn inputs(&self, splices: Option<&Path>) -> Vec<PathBuf> {
        let first = match self {
            LawSource::File(p) => p,
            LawSource::Fit(j) | LawSource::TokenBootstrap(j) => &j.spec().checkpoints,
        };
        let csvs: Vec<PathBuf> = std::iter::once(first.as_path())
            .chain(splices)
            .map(Path::to_path_buf)
            .collect();
        let mut files = csvs.clone();
        if let LawSource::File(p) = self {
            files.extend(law_data_file(p));
        }
        if let LawSource::TokenBootstrap(_) = self {
            for c in &csvs {
                files.extend([per_seq_path(c), per_seq_n_path(c)]);
            }
        }
        files
    }
}

/// The checkpoints file a law file was fitted to, where it still exists (its name as the fit was
/// given it: from the folder the fit ran in, or the law file's own): the user's data, which no
/// output of a map through the law may replace.
fn law_data_file(law: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(law).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let Some(file) = v["data"]["file"].as_str().map(PathBuf::from) else {
        return vec![];
    };
    let beside = law.parent().map(|d| d.join(&file));
    [Some(file), beside]
        .into_iter()
        .flatten()
        .filter(|f| f.is_file())
        .collect()
}
