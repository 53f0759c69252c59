//! The commands that read a law (`fit`, `map`, `plot`, `report`): where the law comes from (a file,
//! or fitted from a checkpoints file with these options), and what each command makes of it.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;

use super::{OutputArgs, with_flags, with_progress};
use crate::analysis::{Analysis, FitOutput};
use crate::export::Format;
use crate::law::Form;
use crate::law_file::ParamCount;
use crate::pipeline::{FitJob, FitSpec, LawSource};
use crate::plot::{Figure, PlotJob};
use crate::report::ReportJob;
use crate::table::ColumnMap;

/// How to read and fit a checkpoints file; shared by `fit`, `map`, `plot` and `report`. With
/// `--law`, none of these may be given (see [`command`]).
#[derive(Args, Debug, Clone)]
pub struct FamilyArgs {
    /// Checkpoints CSV: params, tokens and/or compute (FLOPs), loss (nats/token).
    #[arg(long, value_name = "CSV")]
    pub checkpoints: Option<PathBuf>,
    /// Law to fit.
    #[arg(long, value_enum, default_value = "chinchilla")]
    pub form: Form,
    /// Column holding the parameter count N [default: params].
    #[arg(long, value_name = "COLUMN")]
    pub params_col: Option<String>,
    /// Column holding training tokens D [default: tokens].
    #[arg(long, value_name = "COLUMN")]
    pub tokens_col: Option<String>,
    /// Column holding training compute C in FLOPs [default: compute].
    #[arg(long, value_name = "COLUMN")]
    pub compute_col: Option<String>,
    /// Column holding the loss in nats/token [default: loss].
    #[arg(long, value_name = "COLUMN")]
    pub loss_col: Option<String>,
    /// Column naming each checkpoint (optional: the law file's residuals and bootstrap use it)
    /// [default: name; a column named must be in the file].
    #[arg(long, value_name = "COLUMN")]
    pub name_col: Option<String>,
    /// Column naming the training run a checkpoint belongs to (bootstrap resamples whole runs)
    /// [default: run; a column named must be in the file].
    #[arg(long, value_name = "COLUMN")]
    pub run_col: Option<String>,
    /// Column holding the optimiser step (optional: the run law's tokens per step, for
    /// step_equivalent) [default: step; a column named must be in the file].
    #[arg(long, value_name = "COLUMN")]
    pub step_col: Option<String>,
    /// Fit only this run (the `run` law fits one run).
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// Drop the K highest-loss checkpoints before fitting (Besiroglu et al. drop 5 of Chinchilla's).
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub drop_highest: usize,
    /// Huber threshold on log-loss residuals.
    #[arg(long, default_value_t = 1e-3)]
    pub delta: f64,
    /// Which parameter count the params column holds (recorded in every output).
    #[arg(long, value_enum, default_value = "total")]
    pub param_count: ParamCount,
    /// Name of the token set the losses were measured on (recorded in every output; default: the
    /// checkpoints file's eval_tokens, as ceq eval-family writes it, else "unspecified").
    #[arg(long, value_name = "NAME")]
    pub eval_set: Option<String>,
    /// Bootstrap resamples for confidence intervals (0: none).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub bootstrap: usize,
    /// Seed of the bootstrap (given, it needs --bootstrap: there is nothing else to seed).
    #[arg(long, default_value_t = 0, requires = "bootstrap")]
    pub seed: u64,
    /// Level of the percentile intervals.
    #[arg(long, default_value_t = 0.9, value_name = "LEVEL")]
    pub ci: f64,
}

impl FamilyArgs {
    /// The validated fit, or `None` without `--checkpoints`.
    fn job(&self) -> Result<Option<FitJob>> {
        let Some(checkpoints) = self.checkpoints.clone() else {
            return Ok(None);
        };
        let (columns, named_columns) = ColumnMap::from_given([
            self.params_col.clone(),
            self.tokens_col.clone(),
            self.compute_col.clone(),
            self.loss_col.clone(),
            self.name_col.clone(),
            self.run_col.clone(),
            self.step_col.clone(),
        ]);
        let spec = FitSpec {
            checkpoints,
            columns,
            named_columns,
            form: self.form,
            run: self.run.clone(),
            drop_highest: self.drop_highest,
            delta: self.delta,
            param_count: self.param_count,
            eval_set: self.eval_set.clone(),
            bootstrap: self.bootstrap,
            seed: self.seed,
            level: self.ci,
        };
        Ok(Some(spec.validate().map_err(with_flags)?))
    }
}

/// A law from a file, or fitted from the family options (never both).
#[derive(Args, Debug)]
pub struct LawArgs {
    /// A law saved by `ceq fit --out`; it fixes the fit, so fitting options (--bootstrap
    /// included) belong to `ceq fit` instead. Or fit one here with --checkpoints.
    #[arg(long, value_name = "FILE")]
    pub law: Option<PathBuf>,
    #[command(flatten)]
    pub family: FamilyArgs,
    /// Intervals from a joint bootstrap over the eval sequences: each of the --bootstrap N
    /// replicates resamples the sequences (and the family's runs or checkpoints), recomputes every
    /// checkpoint loss and every clean/spliced CE from them, refits the law and maps the splices
    /// through the refit. Needs --checkpoints from `ceq eval-family` and --splices from `ceq eval
    /// --manifest`, measured on the same tokens (their per_seq.npy files beside them).
    #[arg(long, requires_all = ["checkpoints", "bootstrap"], conflicts_with = "law")]
    pub token_bootstrap: bool,
}

impl LawArgs {
    /// The analysis of `splices` (when given) with this law; checks the options, reads nothing.
    fn analysis(&self, splices: Option<&Path>, group_by: &Option<String>) -> Result<Analysis> {
        let law = match (&self.law, self.family.job()?) {
            (Some(p), _) => LawSource::File(p.clone()),
            (None, Some(j)) if self.token_bootstrap => LawSource::TokenBootstrap(j),
            (None, Some(j)) => LawSource::Fit(j),
            (None, None) => anyhow::bail!(
                "no law: pass --law law.json (from `ceq fit --out`) or --checkpoints FILE.csv to fit one"
            ),
        };
        let (splices, group_by) = (splices.map(Path::to_owned), group_by.clone());
        Ok(Analysis {
            law,
            splices,
            group_by,
        })
    }
}

#[derive(Args, Debug)]
pub struct FitArgs {
    #[command(flatten)]
    pub family: FamilyArgs,
    /// What stdout gets: the summary as table (default), csv, markdown, latex or html; or json, the
    /// law file itself (what --out saves).
    #[arg(long, value_enum, hide_possible_values = true)]
    pub format: Option<Format>,
    /// Save the fitted law as JSON here (reused by `ceq map --law`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace --out where it exists (else an existing file is refused).
    #[arg(long, requires = "out")]
    pub force: bool,
}

pub fn fit(a: FitArgs) -> Result<()> {
    let Some(job) = a.family.job()? else {
        bail!("no checkpoints file: pass --checkpoints FILE.csv");
    };
    let output = FitOutput {
        law_out: a.out,
        format: a.format,
        replace: a.force,
    };
    output.check(&job).map_err(with_flags)?;
    let fit = Analysis {
        law: LawSource::Fit(job),
        splices: None,
        group_by: None,
    };
    let (law, said) = with_progress(|on| fit.run(on))?;
    if let Some(out) = output.write(law.law_file(), &said).map_err(with_flags)? {
        crate::say!("ceq: law saved to {}", out.display());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct MapArgs {
    /// Splices CSV: name, ce_clean, ce_spliced (nats/token); optional ce_zero_ablation,
    /// ce_mean_ablation, params + tokens or compute; other columns pass through. Or SAEBench
    /// core-eval results: one result .json, or a folder of them.
    #[arg(long, value_name = "CSV|JSON|DIR")]
    pub splices: PathBuf,
    #[command(flatten)]
    pub law: LawArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

pub fn map(a: MapArgs) -> Result<()> {
    let analysis = a.law.analysis(Some(&a.splices), &None)?;
    a.output.check(&analysis.inputs())?;
    let (r, said) = with_progress(|on| analysis.map(on))?;
    a.output.emit(r.rows.len(), &said, |f| r.table_for(f))
}

#[derive(Args, Debug)]
pub struct PlotArgs {
    #[command(flatten)]
    pub law: LawArgs,
    /// Splices CSV, or SAEBench core-eval results (a .json file or a folder), for the splice figures.
    #[arg(long, value_name = "CSV|JSON|DIR")]
    pub splices: Option<PathBuf>,
    /// Which figures (default: every one the inputs allow).
    #[arg(long = "figure", value_enum, value_name = "NAME")]
    pub figures: Vec<Figure>,
    /// Group splices by this column of the splices file (default: model).
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Folder to write NAME.svg, NAME.png and NAME.pdf into.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Replace figure files of the same names in --out-dir.
    #[arg(long)]
    pub force: bool,
}

pub fn plot(a: PlotArgs) -> Result<()> {
    let job = PlotJob {
        analysis: a.law.analysis(a.splices.as_deref(), &a.group_by)?,
        figures: a.figures,
        out_dir: a.out_dir,
        force: a.force,
    };
    with_progress(|on| job.run(on))?;
    Ok(())
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Splices CSV, or SAEBench core-eval results (a .json file or a folder), as for `ceq map`.
    #[arg(long, value_name = "CSV|JSON|DIR")]
    pub splices: PathBuf,
    #[command(flatten)]
    pub law: LawArgs,
    /// Group splices in the figures by this column of the splices file (default: model).
    #[arg(long, value_name = "COLUMN")]
    pub group_by: Option<String>,
    /// Folder to write the report into (new or empty, unless --force).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace a folder holding a report (only report files) with the new report, whole.
    #[arg(long)]
    pub force: bool,
}

pub fn report(a: ReportArgs) -> Result<()> {
    let job = ReportJob {
        analysis: a.law.analysis(Some(&a.splices), &a.group_by)?,
        out: a.out,
        force: a.force,
    };
    let ((index, n), _) = with_progress(|on| job.run(on))?;
    let (out, index) = (job.out.display(), index.display());
    crate::say!("ceq: report of {n} splices in {out}: open {index}");
    Ok(())
}
