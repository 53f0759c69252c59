//! The checkpoints table: one row per trained checkpoint, turned into a [`Family`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::RawTable;
use crate::error::{Error, Fix, Result};
use crate::law::Form;

/// One trained checkpoint. Compute is given or 6·params·tokens; tokens are given or
/// compute/(6·params). A quantity the file does not determine is NaN, and only where the chosen
/// law does not need it (e.g. params for a `compute` family given as compute and loss).
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub name: Option<String>,
    /// Parameter count N as the file gives it: total or non-embedding (the fit is told which,
    /// [`crate::law_file::ParamCount`]; [`Family::params_matches`] says which the file's own
    /// columns show).
    pub params: f64,
    /// Training tokens D.
    pub tokens: f64,
    /// Training compute C in FLOPs.
    pub compute: f64,
    /// Loss in nats/token.
    pub loss: f64,
    pub run: Option<String>,
    pub step: Option<f64>,
    /// Line in the source file.
    pub line: u64,
}

/// Which input column holds which quantity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnMap {
    pub params: String,
    pub tokens: String,
    pub compute: String,
    pub loss: String,
    pub name: String,
    pub run: String,
    pub step: String,
}

impl Default for ColumnMap {
    fn default() -> Self {
        ColumnMap {
            params: "params".into(),
            tokens: "tokens".into(),
            compute: "compute".into(),
            loss: "loss".into(),
            name: "name".into(),
            run: "run".into(),
            step: "step".into(),
        }
    }
}

impl ColumnMap {
    /// The columns `given` (params, tokens, compute, loss, name, run, step, as `ColumnMap::named`
    /// orders them), each default where `None`; and the quantities given, whose columns a file
    /// must have (see [`Family::check_named`]).
    pub fn from_given(given: [Option<String>; 7]) -> (ColumnMap, Vec<&'static str>) {
        let mut m = ColumnMap::default();
        let quantities = m.named().map(|(q, _)| q);
        let slots = [
            &mut m.params,
            &mut m.tokens,
            &mut m.compute,
            &mut m.loss,
            &mut m.name,
            &mut m.run,
            &mut m.step,
        ];
        let mut named = vec![];
        for ((q, slot), g) in quantities.into_iter().zip(slots).zip(given) {
            if let Some(c) = g {
                *slot = c;
                named.push(q);
            }
        }
        (m, named)
    }

    /// Each quantity with the column holding it.
    fn named(&self) -> [(&'static str, &str); 7] {
        [
            ("params", &self.params),
            ("tokens", &self.tokens),
            ("compute", &self.compute),
            ("loss", &self.loss),
            ("name", &self.name),
            ("run", &self.run),
            ("step", &self.step),
        ]
    }

    /// Refuses one column named for two quantities: a fit would take N for D, or a loss for compute.
    pub fn check(&self) -> Result<()> {
        let named = self.named();
        for (i, (q, col)) in named.iter().enumerate() {
            if let Some((other, _)) = named[i + 1..].iter().find(|(_, c)| c == col) {
                return Err(Error::Invalid {
                    fix: Some(Fix::Columns),
                    option: "columns",
                    message: format!(
                        "{q} and {other} both name column '{col}'; each quantity needs a column \
                         of its own"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// A checkpoint `--drop-highest` left out: its line, name and loss, so that the law file says which
/// (Epoch's 240 of Chinchilla's 245 points are reproduced by naming them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    pub line: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Nats/token.
    pub loss: f64,
}

/// A family of checkpoints read from one file.
#[derive(Clone, Debug)]
pub struct Family {
    pub path: PathBuf,
    pub columns: ColumnMap,
    pub checkpoints: Vec<Checkpoint>,
    /// How compute was obtained: "column" or "6*params*tokens".
    pub compute_source: &'static str,
    /// How tokens were obtained: "column", "compute/(6*params)" or "unknown".
    pub tokens_source: &'static str,
    /// Rows dropped by `--drop-highest`.
    pub dropped: usize,
    /// Which they were, highest loss first.
    pub dropped_rows: Vec<Dropped>,
    /// How the compute column compares with 6·params·tokens on the rows that have all three;
    /// `None` where no row does.
    pub compute_per_6nd: Option<ComputeScale>,
    /// What the fit's outputs must say about the file (a compute column set aside).
    pub warnings: Vec<String>,
    /// Whether the params column equals the file's `params_total` and `params_non_embedding`
    /// columns on every row, when it has both (as `ceq eval-family` writes): which count it holds.
    pub params_matches: Option<[bool; 2]>,
    /// The token set the fitted losses were measured on, from the file's `eval_tokens` column (as
    /// `ceq eval-family` writes it): `None` until [`Family::settle_token_set`] has looked at the
    /// rows a fit takes, and where they name none.
    pub eval_tokens: Option<String>,
    /// The `eval_tokens` column's index and its non-empty cells, by line.
    token_cells: Option<(usize, HashMap<u64, String>)>,
    /// The file's column names.
    headers: Vec<String>,
}

impl Family {
    /// Distinct run names, in order of first appearance.
    pub fn runs(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        for c in &self.checkpoints {
            if let Some(r) = &c.run
                && !out.contains(r)
            {
                out.push(r.clone());
            }
        }
        out
    }

    pub fn range(&self, f: impl Fn(&Checkpoint) -> f64) -> (f64, f64) {
        self.checkpoints
            .iter()
            .map(f)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    }
}

/// Reads a checkpoints CSV, checking it holds what `form` needs, and drops the `drop_highest`
/// highest-loss rows (Epoch's filter for the Chinchilla data).
pub fn read_family(
    path: &Path,
    columns: &ColumnMap,
    form: Form,
    drop_highest: usize,
) -> Result<Family> {
    // An interrupted eval-family's rows are a part of the family, not a family to fit.
    crate::eval::record::check_finished(path)?;
    let t = RawTable::read(path)?;
    let missing = |column: &str, quantity: &'static str, hint: String| Error::MissingColumn {
        path: path.to_owned(),
        column: column.to_owned(),
        available: t.headers.join(", "),
        hint,
        fix: Some(Fix::Column(quantity)),
    };
    let loss = t.find(&columns.loss).ok_or_else(|| {
        missing(
            &columns.loss,
            "loss",
            "it holds the loss (nats/token)".into(),
        )
    })?;
    let params = t.find(&columns.params);
    let tokens = t.find(&columns.tokens);
    let compute = t.find(&columns.compute);
    let name = t.find(&columns.name);
    let run = t.find(&columns.run);
    let step = t.find(&columns.step);

    // What each form needs, in terms of columns present.
    let have_nd = params.is_some() && (tokens.is_some() || compute.is_some());
    let ok = match form {
        Form::Chinchilla => have_nd,
        Form::Compute => compute.is_some() || (params.is_some() && tokens.is_some()),
        Form::Run => tokens.is_some() || (params.is_some() && compute.is_some()),
    };
    if !ok {
        let (column, quantity, what) = match form {
            Form::Chinchilla if params.is_none() => {
                (&columns.params, "params", "the parameter count N")
            }
            Form::Chinchilla => (
                &columns.tokens,
                "tokens",
                "training tokens D (or a compute column)",
            ),
            Form::Compute => (&columns.compute, "compute", "training FLOPs C"),
            Form::Run => (&columns.tokens, "tokens", "training tokens D"),
        };
        return Err(missing(
            column,
            quantity,
            format!("the '{}' law needs {what}", form.name()),
        ));
    }

    let mut cks = Vec::with_capacity(t.rows.len());
    // Rows whose compute column is not 6·params·tokens: (line, given, 6ND); of how many rows with
    // all three.
    let mut set_aside: Vec<(u64, f64, f64)> = vec![];
    let mut per_6nd: Vec<f64> = vec![];
    // Each row's name (else its numbers) and run, to the line it was first seen on.
    type Key = (std::result::Result<[u64; 5], String>, Option<String>);
    let mut seen: HashMap<Key, u64> = HashMap::new();
    for row in t.records() {
        let line = row.line;
        let l = row.loss(loss)?;
        // An empty cell is unknown: filled from the others where it can be (compute as 6ND),
        // refused below only where the form needs it.
        let n = row.optional_amount(params)?;
        let d = row.optional_amount(tokens)?;
        let c = row.optional_positive(compute)?;
        // C = 6ND is the convention of Kaplan et al. and Hoffmann et al.; given values win, but
        // for the Chinchilla law (below).
        let (n, d, c) = match (n, d, c) {
            // The Chinchilla law counts compute as 6ND with N as the params column counts it (its
            // frontier, C_eq and ranges are in that compute), so a compute column that says
            // otherwise — another parameter count, FLOPs counted another way — is set aside.
            (Some(n), Some(d), Some(c)) => {
                let c6 = 6.0 * n * d;
                per_6nd.push(c / c6);
                if (c - c6).abs() > 1e-3 * c6 {
                    set_aside.push((line, c, c6));
                }
                (n, d, if form == Form::Chinchilla { c6 } else { c })
            }
            (Some(n), Some(d), c) => (n, d, c.unwrap_or(6.0 * n * d)),
            (Some(n), None, Some(c)) => (n, c / (6.0 * n), c),
            // Only what the chosen form needs is guaranteed; the rest stays unknown (NaN).
            (n, d, c) => (
                n.unwrap_or(f64::NAN),
                d.unwrap_or(f64::NAN),
                c.unwrap_or(f64::NAN),
            ),
        };
        let needed = match form {
            Form::Chinchilla if n.is_nan() => Some((params, "the parameter count N")),
            Form::Chinchilla if d.is_nan() => {
                Some((tokens.or(compute), "training tokens D (or compute C)"))
            }
            Form::Compute if c.is_nan() => Some((
                compute.or(tokens),
                "training FLOPs C (or params and tokens)",
            )),
            Form::Run if d.is_nan() => Some((
                tokens.or(compute),
                "training tokens D (or params and compute)",
            )),
            _ => None,
        };
        if let Some((col, what)) = needed {
            let why = format!(
                "the cell is empty; the '{}' law needs {what} on every row",
                form.name()
            );
            return Err(row.error(col.unwrap_or(loss), why));
        }
        if c.is_infinite() || d.is_infinite() {
            return Err(row.error(
                params.or(compute).unwrap_or(loss),
                "6·params·tokens overflows: params, tokens and compute must be counts (not \
                 exponents)"
                    .into(),
            ));
        }
        let step_v = row.number(step)?;
        if let (Some(v), Some(i)) = (step_v.filter(|v| *v < 0.0), step) {
            let why = format!("step {v} is negative: a step counts optimiser steps from 0");
            return Err(row.error(i, why));
        }
        let nm = name.map(|i| row.raw(i).to_owned());
        // A checkpoint listed twice would count twice in the fit and its bootstrap.
        let key = match &nm {
            Some(n) if !n.is_empty() => Err(n.clone()),
            _ => Ok([n, d, c, l, step_v.unwrap_or(f64::NAN)].map(f64::to_bits)),
        };
        let run_v = run.map(|i| row.raw(i).to_owned());
        if let Some(first) = seen.insert((key.clone(), run_v.clone()), line) {
            let (col, what) = match (key, name) {
                (Err(n), Some(i)) => (
                    i,
                    format!("'{n}' is named twice (lines {first} and {line})"),
                ),
                _ => (loss, format!("line {line} repeats line {first}")),
            };
            return Err(row.error(
                col,
                format!("{what}: a checkpoint listed twice counts twice in the fit; remove one"),
            ));
        }
        cks.push(Checkpoint {
            name: nm,
            params: n,
            tokens: d,
            compute: c,
            loss: l,
            run: run_v,
            step: step_v,
            line,
        });
    }

    let mut warnings: Vec<String> = copied_rows(&cks).into_iter().collect();
    warnings.extend(unread_near_misses(&t, columns));
    let token_cells = t.find("eval_tokens").map(|c| {
        let cells = (t.rows.iter())
            .filter_map(|(line, r)| Some((*line, r.get(c).filter(|v| !v.is_empty())?.to_owned())));
        (c, cells.collect())
    });
    let params_matches = params.and_then(|p| {
        let (tc, nc) = (t.find("params_total")?, t.find("params_non_embedding")?);
        let same = |c: usize| t.rows.iter().all(|(_, r)| r.get(c) == r.get(p));
        Some([same(tc), same(nc)])
    });

    if let Some(c) = (cks.iter()).max_by(|a, b| a.loss.total_cmp(&b.loss))
        && c.loss > super::HIGH_LOSS
    {
        let at = format!("{} line {}", path.display(), c.line);
        let others = cks.iter().filter(|c| c.loss > super::HIGH_LOSS).count() - 1;
        warnings.push(super::high_loss(c.loss, &at, others));
    }
    warnings.extend(more_data_worse(&cks, path));
    // The run law's compute is 6·N·D of its tokens whatever the column says; a compute law's is
    // the column, which only needs saying where it is not 6ND to the rounding of a file.
    let compute_per_6nd = ComputeScale::of(&mut per_6nd);
    let said = match form {
        Form::Chinchilla => true,
        Form::Compute => compute_per_6nd != Some(ComputeScale::Ratio(1.0)),
        Form::Run => false,
    };
    if let Some((line, c, c6)) = set_aside.first().filter(|_| said) {
        let what = if form == Form::Chinchilla {
            "the chinchilla law counts compute as 6ND with N as that column counts it, so 6ND is used"
        } else {
            "the compute law is fitted to the column as given, so a host's actual compute \
             (6·params·tokens) is put on its scale where the column has one ratio to 6ND, and \
             left out where it has none, unless the splices give a compute column of their own"
        };
        warnings.push(format!(
            "the '{}' column is not 6·params·tokens (params as the '{}' column counts them) on {} \
             of {} rows (line {line}: {c:.4e} vs {c6:.4e}); {what}",
            columns.compute,
            columns.params,
            set_aside.len(),
            t.rows.len(),
        ));
    }
    let six_nd = form == Form::Chinchilla && params.is_some() && tokens.is_some();
    let mut family = Family {
        path: path.to_owned(),
        columns: columns.clone(),
        checkpoints: cks,
        compute_source: if compute.is_some() && !six_nd {
            "column"
        } else {
            "6*params*tokens"
        },
        warnings,
        tokens_source: match (tokens, params, compute) {
            (Some(_), _, _) => "column",
            (None, Some(_), Some(_)) => "compute/(6*params)",
            _ => "unknown",
        },
        dropped: 0,
        dropped_rows: vec![],
        compute_per_6nd,
        params_matches,
        eval_tokens: None,
        token_cells,
        headers: t.headers.clone(),
    };
    family.drop_highest(drop_highest, None);
    Ok(family)
}

/// A compute column against 6·params·tokens: one ratio on every row (1 for 6ND; 8/6 for FLOPs
/// counted as 8ND), to 2 % (a file's rounding), or no one ratio (another parameter count, which
/// differs by size).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputeScale {
    Ratio(f64),
    Varies,
}

impl ComputeScale {
    const SLACK: f64 = 0.02;

    /// The scale of these ratios (sorted in place); `None` for none.
    pub fn of(ratios: &mut [f64]) -> Option<ComputeScale> {
        ratios.sort_by(f64::total_cmp);
        let m = *ratios.get(ratios.len() / 2)?;
        if ratios.iter().any(|r| (r / m - 1.0).abs() > Self::SLACK) {
            return Some(ComputeScale::Varies);
        }
        Some(ComputeScale::Ratio(if (m - 1.0).abs() <= Self::SLACK {
            1.0
        } else {
            m
        }))
    }
}

impl Family {
    /// Refuses a column named for one of `quantities` (see `ColumnMap::named`) that the file
    /// does not have: a quantity left out for a misspelt name is a fit without it (no runs to
    /// resample, compute taken as 6ND), not what was asked for.
    pub fn check_named(&self, quantities: &[&str]) -> Result<()> {
        for (q, column) in self.columns.named() {
            if quantities.contains(&q) && !self.headers.iter().any(|h| h == column) {
                return Err(Error::MissingColumn {
                    path: self.path.clone(),
                    column: column.to_owned(),
                    available: self.headers.join(", "),
                    hint: format!("it was named as the {q} column"),
                    fix: Some(Fix::Column(q)),
                });
            }
        }
        Ok(())
    }

    /// Sets [`Family::eval_tokens`] to the token set the `fitted` checkpoints (of this family) were
    /// measured on ([`Family::token_set`]), and warns of rows that name none.
    pub fn settle_token_set(&mut self, fitted: &[Checkpoint]) -> Result<()> {
        let (set, warning) = self.token_set(fitted)?;
        self.eval_tokens = set;
        self.warnings.extend(warning);
        Ok(())
    }

    /// The token set the `fitted` checkpoints (of this family) were measured on, as ids and
    /// positions (the same ids under another file's name are one set), with a warning where some
    /// rows name none. Two sets are refused: losses measured on different tokens are not one
    /// curve, and the fit would be a wrong number. Rows that name none beside rows that do leave
    /// the set the others name, so that splices on other tokens are still refused. Rows left out
    /// of the fit (another run, dropped) are not looked at: a manifest may hold runs measured on
    /// different sets.
    pub fn token_set(&self, fitted: &[Checkpoint]) -> Result<(Option<String>, Option<String>)> {
        let Some((c, cells)) = &self.token_cells else {
            return Ok((None, None));
        };
        let mut named: Vec<(u64, &str)> = vec![];
        let mut empty: Vec<u64> = vec![];
        for ck in fitted {
            match cells.get(&ck.line) {
                Some(cell) => named.push((ck.line, cell)),
                None => empty.push(ck.line),
            }
        }
        let Some(&(first_line, first)) = named.first() else {
            return Ok((None, None));
        };
        if let Some(&(line, other)) = named.iter().find(|(_, s)| !super::same_token_set(s, first)) {
            return Err(Error::BadCell {
                path: self.path.clone(),
                line,
                column: "eval_tokens".into(),
                col_index: c + 1,
                message: format!(
                    "'{other}' is not the token set of line {first_line} ('{first}'): losses \
                     measured on different tokens are not one curve; measure every checkpoint on \
                     the same tokens (ceq eval-family measures a whole family on one), or, if \
                     these name one set, write one name"
                ),
            });
        }
        let warning = empty.first().map(|line| {
            format!(
                "{} fitted row(s) (line {line}{}) leave the 'eval_tokens' cell empty: nothing \
                 tells that their losses were measured on the other rows' tokens, which the law \
                 records; fill the cells, or measure those checkpoints with ceq eval-family",
                empty.len(),
                if empty.len() > 1 { ", …" } else { "" },
            )
        });
        Ok((Some(first.to_owned()), warning))
    }

    /// Drops the `k` highest-loss checkpoints (Epoch's filter for the Chinchilla data): of the
    /// run named, when the fit takes one run, else of the whole file.
    pub fn drop_highest(&mut self, k: usize, run: Option<&str>) {
        let cks = &mut self.checkpoints;
        let among: Vec<usize> = (0..cks.len())
            .filter(|&i| run.is_none_or(|r| cks[i].run.as_deref() == Some(r)))
            .collect();
        let dropped = k.min(among.len());
        // Stable: ties at the cut keep file order, as a sort by loss then line would.
        let mut order = among;
        order.sort_by(|&i, &j| cks[j].loss.total_cmp(&cks[i].loss).then(i.cmp(&j)));
        let mut keep = vec![true; cks.len()];
        for &i in order.iter().take(dropped) {
            keep[i] = false;
            let c = &cks[i];
            self.dropped_rows.push(Dropped {
                line: c.line,
                name: c.name.clone(),
                loss: c.loss,
            });
        }
        let mut keep = keep.iter();
        cks.retain(|_| *keep.next().unwrap());
        self.dropped += dropped;
    }
}

/// Checkpoints of one size whose loss lies more than 1 % above the next one trained on fewer
/// tokens: more data lowers a model's loss, so such a pair is a typo, a diverged run or a
/// mislabelled row, unless the losses were measured on too few tokens (a small downstream set). Within a run every pair counts; across runs only each run's last checkpoint,
/// since a long run's middle (its learning rate not yet decayed) may lie above a short run's end.
fn more_data_worse(cks: &[Checkpoint], path: &Path) -> Option<String> {
    let mut by_run: HashMap<&str, Vec<&Checkpoint>> = HashMap::new();
    let mut across: Vec<&Checkpoint> = vec![];
    for c in cks
        .iter()
        .filter(|c| c.params.is_finite() && c.tokens.is_finite())
    {
        match c.run.as_deref() {
            Some(r) => by_run.entry(r).or_default().push(c),
            None => across.push(c),
        }
    }
    let mut groups: Vec<Vec<&Checkpoint>> = vec![];
    for run in by_run.into_values() {
        across.extend(run.iter().max_by(|a, b| a.tokens.total_cmp(&b.tokens)));
        groups.push(run);
    }
    groups.push(across);
    // Each group by size, then tokens: a point is compared with the one before it (not the lowest
    // before it, which a noisy series undercuts by chance).
    let mut worse: Vec<(&Checkpoint, &Checkpoint)> = vec![];
    for mut g in groups {
        g.sort_by(|a, b| (a.params.total_cmp(&b.params)).then(a.tokens.total_cmp(&b.tokens)));
        for w in g.windows(2) {
            let (b, c) = (w[0], w[1]);
            if b.params == c.params && b.tokens < c.tokens && c.loss > 1.01 * b.loss {
                worse.push((c, b));
            }
        }
    }
    worse.sort_by_key(|(c, _)| c.line);
    worse.dedup_by_key(|(c, _)| c.line);
    let pairs: Vec<String> = (worse.iter().take(3))
        .map(|(c, b)| {
            format!(
                "line {}: {:.4} nats after {:.4e} tokens, above line {}: {:.4} after {:.4e} (N = \
                 {:.4e})",
                c.line, c.loss, c.tokens, b.line, b.loss, b.tokens, c.params
            )
        })
        .collect();
    let more = match worse.len() {
        0 => return None,
        1..=3 => String::new(),
        n => format!("; and {} more", n - 3),
    };
    Some(format!(
        "{} checkpoint(s) have a loss more than 1% above a checkpoint of the same size trained on \
         fewer tokens ({}{more}): more data lowers loss, so look for a typo, a diverged run or a \
         mislabelled row in {}, or losses measured on too few tokens to be told apart to 1%",
        worse.len(),
        pairs.join("; "),
        path.display()
    ))
}

/// Columns ceq does not read that are named like one it would (`Run` for `run`, `tokns`): the fit
/// would go without what they hold — a bootstrap over checkpoints instead of runs, compute taken
/// as 6ND — without a word.
fn unread_near_misses(t: &RawTable, columns: &ColumnMap) -> Option<String> {
    let named = columns.named();
    let read: Vec<&str> = (named.iter().map(|(_, c)| *c))
        .chain(["eval_tokens", "params_total", "params_non_embedding"])
        .collect();
    let absent: Vec<&str> = (read.iter().copied())
        .filter(|k| t.find(k).is_none())
        .collect();
    // Columns of ceq's own files (`n_tokens`, `loss_se`) are not typos of others.
    let known = |h: &str| {
        [&*crate::schema::CHECKPOINTS, &*crate::schema::FAMILY]
            .iter()
            .any(|s| s.get(h).is_some())
    };
    let mut without: Vec<&str> = vec![];
    let mut case = false;
    let misses: Vec<String> = (t.headers.iter())
        .filter(|h| !read.contains(&h.as_str()) && !known(h))
        .filter_map(|h| {
            let k = absent.iter().find(|k| super::near_miss(h, k))?;
            let what = match *k {
                "eval_tokens" => "the law records no token set to check splices against",
                "params_total" | "params_non_embedding" => {
                    "which count 'params' holds goes unchecked"
                }
                "name" => "the law file's residuals go unnamed",
                _ => "the fit goes without them",
            };
            case |= h.eq_ignore_ascii_case(k);
            if !without.contains(&what) {
                without.push(what);
            }
            Some(format!("'{h}' (did you mean '{k}'?)"))
        })
        .collect();
    (!misses.is_empty()).then(|| {
        format!(
            "{}: the column(s) {} are not ones ceq reads{}, so {}; rename them, or name them as \
             the columns to read",
            t.path.display(),
            misses.join(", "),
            if case {
                " (names are case-sensitive)"
            } else {
                ""
            },
            without.join(", and ")
        )
    })
}

/// Rows named apart whose size, tokens and loss are the same to every digit: a row copied under a
/// new name (two measured models never agree to every digit), counted twice in the fit.
fn copied_rows(cks: &[Checkpoint]) -> Option<String> {
    let mut first = std::collections::HashMap::new();
    let pairs: Vec<String> = (cks.iter())
        .filter(|c| [c.params, c.tokens, c.loss].iter().all(|v| v.is_finite()))
        .filter_map(|c| {
            let key = [c.params, c.tokens, c.compute, c.loss].map(f64::to_bits);
            let line = *first.entry(key).or_insert(c.line);
            (line != c.line).then(|| format!("line {} repeats line {line}", c.line))
        })
        .collect();
    let shown = pairs.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
    let more = pairs.len().saturating_sub(3);
    (!pairs.is_empty()).then(|| {
        format!(
            "{shown}{} in params, tokens and loss to every digit, under another name: a row copied \
             counts twice in the fit; remove the copy, or check the losses were not pasted",
            if more > 0 {
                format!(" (and {more} more)")
            } else {
                String::new()
            }
        )
    })
}
