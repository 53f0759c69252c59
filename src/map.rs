//! `ceq map`: every splice of a file through one fitted law, and the tables that show the result.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::equivalence::{IntervalSpec, JointCes, Mapped, Method, Status, map_splice};
use crate::error::{Error, Result};
use crate::export::{Cell, Column, Format, Table, sig4};
use crate::law::{Form, Law};
use crate::law_file::{LawFile, ParamCount};
use crate::schema::{Col, MAPPED};
use crate::table::{ComputeScale, Splice, Splices, names_ids, same_token_set, token_set_key};

/// The mapped splices with what is needed to label them.
#[derive(Clone, Debug)]
pub struct MapResult {
    pub law: Law,
    pub law_file: LawFile,
    pub splices: Splices,
    pub rows: Vec<Mapped>,
    /// Interval level, when any row has intervals.
    pub level: Option<f64>,
    pub refits: usize,
    /// What mapping found that every output must say (a compute column set aside).
    pub found: Vec<String>,
    /// The losses of the law's checkpoints by name (names may repeat), looked up for each row.
    family_losses: HashMap<String, Vec<f64>>,
}

/// The interval level of a law without bootstrap refits, when none is asked for.
pub const DEFAULT_LEVEL: f64 = 0.9;

/// Puts the splice's host's actual compute in the law's compute: 6·N·D with N counted as the
/// law counts it, where the file gives that count, and for a law whose compute is 6ND (every
/// Chinchilla law) in place of a compute column of the file's own, as the fit sets one aside.
/// A host whose `params` is known to be the other count (the column of that count equals it) and
/// which gives none in the law's (nor its own compute the law can take) has no actual compute in
/// the law's count: it is left out, not taken as 6ND in the wrong count.
fn count_as(s: &mut Splice, count: ParamCount, six_nd: bool) {
    if counted_otherwise(s, count) && (six_nd || !s.compute_given) {
        (s.params, s.compute) = (None, None);
        return;
    }
    let n = match count {
        ParamCount::Total => s.counts.total,
        ParamCount::NonEmbedding => s.counts.non_embedding,
    };
    if let (Some(n), Some(d)) = (n.or(s.params), s.tokens)
        && (six_nd || (!s.compute_given && Some(n) != s.params))
    {
        (s.params, s.compute) = (Some(n), Some(6.0 * n * d));
    }
}

/// Whether the row's `params` is the count the law does not use (its column equals it) and the
/// law's count is not given.
fn counted_otherwise(s: &Splice, count: ParamCount) -> bool {
    let (law_count, other) = match count {
        ParamCount::Total => (s.counts.total, s.counts.non_embedding),
        ParamCount::NonEmbedding => (s.counts.non_embedding, s.counts.total),
    };
    law_count.is_none() && other.is_some() && other == s.params
}

/// A warning for hosts whose `params` counts parameters otherwise than the law (see
/// [`count_as`]): their compute_fraction_of_actual is left empty.
fn counted_otherwise_said(splices: &Splices, count: ParamCount, six_nd: bool) -> Option<String> {
    let off: Vec<&str> = (splices.rows.iter())
        .filter(|s| counted_otherwise(s, count) && (six_nd || !s.compute_given))
        .map(|s| s.name.as_str())
        .collect();
    let (given, wanted) = match count {
        ParamCount::Total => ("params_non_embedding", "params_total"),
        ParamCount::NonEmbedding => ("params_total", "params_non_embedding"),
    };
    Some(format!(
        "the law counts N as {}; {} splice(s) ('{}'{}) give params equal to their {given} and no \
         {wanted}, so their actual compute in the law's count is unknown: their \
         compute_fraction_of_actual is left empty (add a {wanted} column)",
        count.describe(),
        off.len(),
        off.first()?,
        if off.len() > 1 { ", …" } else { "" },
    ))
}

/// Hosts that are checkpoints of the law's own family by name (the `model` cell) but whose
/// params, tokens or given compute differ from every one of that name the law was fitted on
/// (beyond 1e-3, the tolerance a compute column gets against 6ND): the host's actual compute, and
/// so compute_fraction_of_actual, is read from the splices file, which then says another model
/// than the family does. Compared after [`count_as`], so both count N alike.
fn hosts_unlike_the_family(law_file: &LawFile, splices: &Splices) -> (Option<String>, RowNotes) {
    let Some(col) = splices.columns.iter().position(|c| c == "model") else {
        return (None, vec![]);
    };
    let mut family: HashMap<&str, Vec<&crate::fit::Residual>> = HashMap::new();
    for r in &law_file.fit.residuals {
        if let Some(name) = &r.name {
            family.entry(name).or_default().push(r);
        }
    }
    let far = |a: f64, b: f64| (a - b).abs() > 1e-3 * a.abs().max(b.abs());
    type Field = (
        &'static str,
        fn(&Splice) -> Option<f64>,
        fn(&crate::fit::Residual) -> f64,
    );
    let fields: [Field; 3] = [
        ("params", |s| s.params, |r| r.params),
        ("tokens", |s| s.tokens, |r| r.tokens),
        (
            "compute",
            |s| s.compute.filter(|_| s.compute_given),
            |r| r.compute,
        ),
    ];
    // A law that counts compute as 6ND puts every splice with params and tokens on 6ND too (a
    // compute column that is not is said apart), so their compute column is not compared.
    let six_nd = law_file.data.compute_source != "column";
    let (mut said, mut notes): (Vec<String>, RowNotes) = (vec![], vec![]);
    for (i, s) in splices.rows.iter().enumerate() {
        let host = s.raw.get(col).map_or("", String::as_str);
        let Some(cks) = family.get(host) else {
            continue;
        };
        for (field, own, theirs) in fields {
            // Under 6ND, a splice with params and tokens has its compute from them; without, its
            // compute column is its host's only compute, and is compared.
            let from_nd = six_nd && s.params.is_some() && s.tokens.is_some();
            let Some(v) = own(s).filter(|v| v.is_finite() && !(field == "compute" && from_nd))
            else {
                continue;
            };
            let known: Vec<&&crate::fit::Residual> =
                cks.iter().filter(|r| theirs(r).is_finite()).collect();
            if let Some(r) = known.first()
                && known.iter().all(|r| far(v, theirs(r)))
            {
                said.push(format!(
                    "'{}' (line {}) gives {field} {} where {} gives its host '{host}' {} (line {})",
                    s.name,
                    s.line,
                    crate::export::human(v),
                    law_file.data.file,
                    crate::export::human(theirs(r)),
                    r.line
                ));
                notes.push((
                    i,
                    format!(
                        "{field} {} is not the {} the law's checkpoints give its host (line {} of \
                         {}), so compute_fraction_of_actual is off by the difference",
                        crate::export::human(v),
                        crate::export::human(theirs(r)),
                        r.line,
                        law_file.data.file
                    ),
                ));
            }
        }
    }
    let Some(first) = said.first() else {
        return (None, notes);
    };
    let warning = Some(format!(
        "{} splice(s) describe their host otherwise than the law's checkpoints do ({first}{}): \
         compute_fraction_of_actual reads the host's compute from the splices file, so theirs is \
         off by the difference; correct the splices' column, or check that the host is that \
         checkpoint",
        said.len(),
        if said.len() > 1 { "; …" } else { "" }
    ));
    (warning, notes)
}

/// Notes on single rows, by the splice's index (SAEBench rows have no line), that its
/// `status_detail` adds to what its status says: a shared file's rows then carry what the warnings
/// said on stderr.
type RowNotes = Vec<(usize, String)>;

/// The rows of each host, in order: one `model` and one ce_clean (rows of one name on other
/// checkpoints or token sets measure another clean model); `None` without a model column.
type Host<'a> = ((&'a str, u64), Vec<&'a Splice>);
fn hosts(splices: &Splices) -> Option<Vec<Host<'_>>> {
    let col = splices.columns.iter().position(|c| c == "model")?;
    fn model(s: &Splice, col: usize) -> &str {
        s.raw.get(col).map_or("", String::as_str)
    }
    let rows = splices.rows.iter().filter(|s| !model(s, col).is_empty());
    Some(crate::groups::in_order(rows, |s| {
        (model(s, col), s.ce_clean.to_bits())
    }))
}

/// Rows of a host without the actual compute its other rows give (a params or tokens cell left
/// empty): their compute_fraction_of_actual is empty where the host's is known.
fn host_gaps(splices: &Splices) -> Option<String> {
    let gaps: Vec<String> = (hosts(splices)?.iter())
        .filter_map(|((host, _), rows)| {
            let with = rows.iter().find(|s| s.compute.is_some())?;
            let without = rows.iter().find(|s| s.compute.is_none())?;
            Some(format!(
                "'{}' of '{host}' has none, '{}' has {}",
                without.name,
                with.name,
                crate::export::human(with.compute.unwrap_or(f64::NAN))
            ))
        })
        .collect();
    let first = gaps.first()?;
    Some(format!(
        "{} host(s) have rows without the actual training compute their other rows give ({first}{}): \
         those rows' compute_fraction_of_actual is empty; fill their params and tokens (or compute)",
        gaps.len(),
        if gaps.len() > 1 { "; …" } else { "" }
    ))
}

/// Rows of one host (the `model` column, and one ce_clean: rows of one name on other checkpoints
/// or token sets measure another clean model) that disagree on the host's parameter count,
/// training tokens or compute: a host has one of each, so at least one row's
/// compute_fraction_of_actual is wrong.
fn host_disagreements(splices: &Splices) -> Option<String> {
    let hosts = hosts(splices)?;
    let differ = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() > 1e-9 * a.abs().max(b.abs()),
        _ => false,
    };
    type Field = (&'static str, fn(&Splice) -> Option<f64>);
    let fields: [Field; 5] = [
        ("params", |s| s.params),
        ("params_total", |s| s.counts.total),
        ("params_non_embedding", |s| s.counts.non_embedding),
        ("tokens", |s| s.tokens),
        ("compute", |s| s.compute.filter(|_| s.compute_given)),
    ];
    let mut said = vec![];
    for ((host, _), rows) in &hosts {
        for (field, get) in fields {
            let first = rows.iter().find(|s| get(s).is_some());
            let other = first.and_then(|f| rows.iter().find(|s| differ(get(f), get(s))));
            if let (Some(a), Some(b)) = (first, other) {
                said.push(format!(
                    "'{host}' has {field} {} ('{}') and {} ('{}')",
                    get(a).unwrap_or(f64::NAN),
                    a.name,
                    get(b).unwrap_or(f64::NAN),
                    b.name
                ));
            }
        }
    }
    let n = said.len();
    let first = said.first()?;
    Some(format!(
        "rows of one host disagree on its size or training ({first}{}): a host has one of each, \
         so the compute_fraction_of_actual of some of its rows is wrong; correct the splices file",
        if n > 1 {
            format!("; and {} more", n - 1)
        } else {
            String::new()
        }
    ))
}

/// A warning for splices whose compute column is not 6·params·tokens under a 6ND law: their
/// compute_fraction_of_actual uses 6ND instead.
fn compute_set_aside(splices: &Splices, six_nd: bool) -> Option<String> {
    let off: Vec<&Splice> = (splices.rows.iter())
        .filter(|s| six_nd && s.compute_given)
        .filter(|s| match (s.params, s.tokens, s.compute) {
            (Some(n), Some(d), Some(c)) => (c - 6.0 * n * d).abs() > 1e-3 * c,
            _ => false,
        })
        .collect();
    let first = off.first()?;
    Some(format!(
        "the 'compute' column of {} splice(s) is not 6·params·tokens ('{}': {:.4e} vs {:.4e}); \
         the law counts compute as 6ND, so compute_fraction_of_actual uses 6ND",
        off.len(),
        first.name,
        first.compute.unwrap_or(f64::NAN),
        6.0 * first.params.unwrap_or(f64::NAN) * first.tokens.unwrap_or(f64::NAN)
    ))
}

impl MapResult {
    /// Warnings every output of the result carries: the splices' own (SAEBench's token sets), and
    /// where the splices and the law may not measure alike.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.splices.warnings();
        w.extend(self.found.iter().cloned());
        w.extend(self.hosts_off_the_run());
        w.extend(self.counts_unsure());
        w.extend(self.other_token_sets());
        w.extend(self.token_sets_unrecorded());
        w.extend(self.clean_unlike_the_family());
        w.extend(self.law_left_out());
        w.extend(self.refits_left_out());
        w.extend(self.high_losses());
        w.extend(self.zero_errors());
        w
    }

    /// A standard error of exactly 0 is a placeholder more often than a measurement: the
    /// measurement-noise intervals built on it have no width.
    fn zero_errors(&self) -> Option<String> {
        let zero: Vec<&str> = (self.splices.rows.iter())
            .filter(|s| [s.se.se_ce_clean, s.se.se_ce_spliced, s.se.se_delta].contains(&Some(0.0)))
            .map(|s| s.name.as_str())
            .collect();
        Some(format!(
            "{} splice(s) ('{}'{}) give a standard error of 0 (se_ce_clean, se_ce_spliced or \
             se_delta): no finite token set measures a CE without noise, so the measurement part \
             of their intervals has no width; leave a cell empty where the error is unknown",
            zero.len(),
            zero.first()?,
            if zero.len() > 1 { ", …" } else { "" }
        ))
    }

    /// Splice CEs far above any real LM's loss (see [`crate::table::HIGH_LOSS`]).
    fn high_losses(&self) -> Option<String> {
        let high: Vec<(&Splice, f64)> = (self.splices.rows.iter())
            .map(|s| (s, s.ce_clean.max(s.ce_spliced)))
            .filter(|(_, ce)| *ce > crate::table::HIGH_LOSS)
            .collect();
        let (s, ce) = high.iter().max_by(|a, b| a.1.total_cmp(&b.1))?;
        let at = format!("the splice '{}'", s.name);
        Some(crate::table::high_loss(*ce, &at, high.len() - 1))
    }

    /// Refits that put both CEs at or below their floor give the fraction ∞/∞: its interval is
    /// then over the other refits only, which every output must say, not status_detail alone.
    fn refits_left_out(&self) -> Option<String> {
        let partial: Vec<(&str, usize)> = (self.splice_rows())
            .filter_map(|(s, m)| Some((s.name.as_str(), m.ci.as_ref()?)))
            .filter(|(_, ci)| ci.fraction.is_some())
            .map(|(name, ci)| (name, ci.used))
            .filter(|&(_, used)| self.refits > 0 && used < self.refits)
            .collect();
        let (name, fewest) = *partial.iter().min_by_key(|p| p.1)?;
        Some(format!(
            "the compute_fraction and log10_compute_ratio intervals of {} splice(s) are over \
             only the refits whose floor E lies below the higher of ce_clean and ce_spliced \
             (fewest: {fewest} of {} refits, '{name}'): the others put both CEs at or below E, \
             where the fraction is undefined, so these intervals leave out that the law may put \
             the host at its floor",
            partial.len(),
            self.refits
        ))
    }

    /// Delta-method intervals hold the CEs' noise alone. The law's own error is often larger (it
    /// dominates params_equivalent and tokens_equivalent), so they read as too sure.
    fn law_left_out(&self) -> Option<String> {
        let n = (self.rows.iter())
            .filter(|m| matches!(m.method, Some(Method::DeltaMethod(_))))
            .count();
        // Only the columns this law gives are named.
        let most = match self.law {
            Law::Chinchilla(_) => " (most of all for params_equivalent and tokens_equivalent)",
            Law::Run(_) | Law::Compute(_) => "",
        };
        (n > 0).then(|| {
            format!(
                "the intervals of {n} splice(s) hold the CEs' measurement noise only, with the law \
                 taken as exact: they leave out the fit's own error, which is often larger{most}, \
                 so they are too narrow; a law fitted with bootstrap resamples holds both"
            )
        })
    }

    /// A run law describes one model; a host of another size is not on its curve.
    fn hosts_off_the_run(&self) -> Option<String> {
        let Law::Run(r) = &self.law else { return None };
        let n_run = r.info.params?;
        let other: Vec<&str> = (self.splices.rows.iter())
            .filter(|s| s.params.is_some_and(|n| (n - n_run).abs() > 1e-6 * n_run))
            .map(|s| s.name.as_str())
            .collect();
        Some(format!(
            "the run law describes one model of {n_run:.4e} parameters; {} splice(s) ({}{}) have \
             a host of another size, which is not on that run's curve",
            other.len(),
            other.first()?,
            if other.len() > 1 { ", …" } else { "" }
        ))
    }

    /// A non-embedding law against hosts whose `params` may count every parameter (ceq eval's
    /// default): compute_fraction_of_actual would mix the two counts unsaid.
    fn counts_unsure(&self) -> Option<String> {
        if self.law_file.data.param_count != ParamCount::NonEmbedding {
            return None;
        }
        let unsure = (self.splices.rows.iter())
            .filter(|s| s.params.is_some() && !s.compute_given && s.counts.non_embedding.is_none())
            .count();
        (unsure > 0).then(|| {
            format!(
                "the law counts N as non-embedding parameters; {unsure} splice(s) give only a \
                 'params' column, so their actual compute (6·params·tokens) is right only if it \
                 counts non-embedding parameters too (a params_non_embedding column settles it)"
            )
        })
    }

    /// Each token set a CSV's `eval_tokens` names, in file order, with its rows' names, and
    /// whether it is apart from the law's: another than the checkpoints' record, or, where they
    /// record none, than the name the law was fitted under.
    fn named_token_sets(&self) -> Vec<(&str, Vec<&str>, bool)> {
        let Some(col) = self.splices.columns.iter().position(|c| c == "eval_tokens") else {
            return vec![];
        };
        let named = (self.splices.rows.iter())
            .map(|s| (s.raw.get(col).map_or("", String::as_str), s.name.as_str()))
            .filter(|(t, _)| !t.is_empty());
        let apart = |t: &str| match self.law_file.data.eval_tokens.as_deref() {
            Some(reference) => !same_token_set(t, reference),
            None => !same_token_set(t, &self.law_file.units.eval_set),
        };
        crate::groups::in_order(named, |(t, _)| token_set_key(t))
            .into_iter()
            .map(|(_, rows)| {
                let t = rows[0].0;
                (
                    t,
                    rows.into_iter().map(|(_, name)| name).collect(),
                    apart(t),
                )
            })
            .collect()
    }

    /// The token sets the splices' CEs were measured on where they are not known to be the law's
    /// (SAEBench's own, or sets a CSV names apart from the law's), each once, in order: what a
    /// figure placing both on one loss axis must say.
    pub fn token_sets_apart(&self) -> Vec<String> {
        match &self.splices.source {
            crate::table::Source::SaeBench { token_sets, .. } => token_sets.clone(),
            crate::table::Source::Csv => (self.named_token_sets().into_iter())
                .filter(|(_, _, apart)| *apart)
                .map(|(t, _, _)| t.to_owned())
                .collect(),
        }
    }

    /// Splices measured on other tokens than the law's checkpoints, or than each other: a CE
    /// depends on the tokens it is measured on, so their compute-equivalents are off by the sets'
    /// difference in loss. Each other set is said with its own rows.
    fn other_token_sets(&self) -> Option<String> {
        let data = &self.law_file.data;
        let sets = self.named_token_sets();
        let listed = |sets: &[&(&str, Vec<&str>, bool)]| -> String {
            let each: Vec<String> = (sets.iter())
                .map(|(t, names, _)| {
                    let more = match names.len() {
                        1..=3 => String::new(),
                        n => format!(" and {} more", n - 3),
                    };
                    let shown = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
                    format!("{} splice(s) ({shown}{more}) on {t}", names.len())
                })
                .collect();
            each.join("; ")
        };
        let other: Vec<&(&str, Vec<&str>, bool)> = sets.iter().filter(|s| s.2).collect();
        // The law's token set: its checkpoints' own record. A name given when fitting (and no
        // record) cannot be checked against the splices' record of theirs, only said.
        let Some(reference) = data.eval_tokens.as_deref() else {
            let (first, _, _) = other.first()?;
            let several = match other.len() {
                1 => format!("on {first}"),
                n => format!(
                    "on {n} token sets ({}), not comparable with each other",
                    listed(&other)
                ),
            };
            // A name given when fitting, unlike the splices' own: said as differing names, which
            // ceq cannot check are two sets (a name is typed by hand), nor that they are one.
            let n = self.law_file.units.eval_set.as_str();
            if n != crate::pipeline::UNNAMED_EVAL_SET {
                return Some(format!(
                    "the splices were measured {several}, not named '{n}' as the law's \
                     checkpoints ({}) were when the law was fitted; that file records no token \
                     set (no eval_tokens column, as ceq eval-family writes), so ceq cannot check \
                     whether these are the same tokens: if not, their compute-equivalents are off \
                     by the sets' difference in loss; measure both on one set, or give one set \
                     one name",
                    data.file
                ));
            }
            return Some(format!(
                "the splices were measured {several}, but the law's checkpoints file ({}) \
                 records no token set (no eval_tokens column, as ceq eval-family writes, or one \
                 with no cell filled on the rows fitted): ceq cannot check that the family's \
                 losses were measured on the same tokens, as a compute-equivalent needs",
                data.file
            ));
        };
        if other.is_empty() {
            return None;
        }
        Some(format!(
            "{} were measured on other tokens than the law's checkpoints ({}), which are \
             {reference}: their compute-equivalents are off by the token sets' difference in \
             loss; measure the family and the SAEs on the same tokens",
            listed(&other),
            data.file
        ))
    }
}

/// Refuses an interval level outside (0, 1).
pub fn check_level(level: f64) -> Result<()> {
    if usable_level(level) {
        return Ok(());
    }
    Err(Error::Invalid {
        fix: None,
        option: "interval level",
        message: format!("must be {LEVELS}, got {level}"),
    })
}

/// The interval levels ceq takes: below one half an interval leaves out most refits, and past
/// 99.9999 % its name (ci_lo_99.9999) would round to 100.
pub fn usable_level(level: f64) -> bool {
    (0.5..=0.999_999).contains(&level)
}

pub const LEVELS: &str = "from 0.5 to 0.999999 (e.g. 0.9 for 90% intervals)";

/// Every splice through the law, at the law file's level ([`LawFile::level`]).
pub fn map(law_file: &LawFile, splices: Splices) -> Result<MapResult> {
    map_at(law_file, splices, law_file.level())
}

/// Every splice through the law. Intervals hold the law's bootstrap refits (at their level) and,
/// where a row gives its CEs' standard errors, their measurement noise; without refits, the noise
/// alone by the delta method at `level` (refused outside (0, 1)). Splices recorded as measured on
/// other token ids than the law's checkpoints are refused ([`check_token_sets`]).
pub fn map_at(law_file: &LawFile, splices: Splices, level: f64) -> Result<MapResult> {
    check_level(level)?;
    check_token_sets(law_file, &splices)?;
    Ok(map_with(law_file, splices, level, None))
}

/// Refuses splices whose `eval_tokens` and the law's checkpoints' both name their token ids by
/// hash (as `ceq eval` and `ceq eval-family` record them) and name different ids or positions: a
/// CE depends on the tokens it is measured on, so each such compute-equivalent would be off by the
/// two sets' difference in loss, a wrong number rather than a doubtful one. Records that tell less
/// (a name typed by hand, none) are warned of instead ([`MapResult::warnings`]).
pub fn check_token_sets(law_file: &LawFile, splices: &Splices) -> Result<()> {
    let Some(reference) = (law_file.data.eval_tokens.as_deref()).filter(|r| names_ids(r)) else {
        return Ok(());
    };
    let Some(col) = splices.columns.iter().position(|c| c == "eval_tokens") else {
        return Ok(());
    };
    let other: Vec<&Splice> = (splices.rows.iter())
        .filter(|s| {
            let own = s.raw.get(col).map_or("", String::as_str);
            names_ids(own) && !same_token_set(own, reference)
        })
        .collect();
    let Some(first) = other.first() else {
        return Ok(());
    };
    let more = match other.len() {
        1 => String::new(),
        n => format!(" and {} other splice(s)", n - 1),
    };
    Err(Error::Data {
        kind: crate::error::DataKind::Mismatch,
        path: splices.path.clone(),
        message: format!(
            "line {}: '{}'{more} {} measured on {}, but the law's checkpoints ({}) on {reference}: \
             a CE depends on the tokens it is measured on, so their compute-equivalents would be \
             off by the two sets' difference in loss; measure the SAEs on the tokens the family \
             was measured on",
            first.line,
            first.name,
            if other.len() == 1 { "was" } else { "were" },
            first.raw[col],
            law_file.data.file
        ),
    })
}

/// Every splice through a law whose bootstrap refits come from a joint token bootstrap: `ces[row]`
/// holds each refit's (ce_clean, ce_spliced) recomputed from that refit's resampled sequences, and
/// `what` says what was resampled (see [`crate::token_bootstrap`]).
pub fn map_joint(
    law_file: &LawFile,
    splices: Splices,
    ces: &[Vec<(f64, f64)>],
    what: &str,
) -> MapResult {
    map_with(law_file, splices, DEFAULT_LEVEL, Some((ces, what)))
}

fn map_with(
    law_file: &LawFile,
    mut splices: Splices,
    level: f64,
    joint: Option<JointCes>,
) -> MapResult {
    let law = law_file.law().clone();
    let boot = law_file.bootstrap_laws();
    let ranges = law_file.fit.ranges;
    let spec = IntervalSpec {
        refits: boot.map(|b| b.0),
        level: boot.map_or(level, |b| b.1),
        seed: law_file.bootstrap.as_ref().map_or(0, |b| b.seed),
        // A token bootstrap's refits hold the checkpoints' token noise already; drawing the
        // splices' on top would count the shared tokens twice.
        ce_noise: law_file
            .bootstrap
            .as_ref()
            .is_none_or(|b| b.tokens.is_none()),
        joint,
    };
    let count = law_file.data.param_count;
    let six_nd = !law_file.compute_is_the_files();
    let mut found: Vec<String> = compute_set_aside(&splices, six_nd).into_iter().collect();
    found.extend(host_disagreements(&splices));
    found.extend(counted_otherwise_said(&splices, count, six_nd));
    for s in &mut splices.rows {
        count_as(s, count, six_nd);
    }
    let (unlike, mut notes) = hosts_unlike_the_family(law_file, &splices);
    found.extend(unlike);
    found.extend(actual_off_scale(law_file, &mut splices));
    found.extend(host_gaps(&splices));
    let (off, off_notes) = hosts_off_the_law(&law, law_file, &splices);
    found.extend(off);
    let off_rows: Vec<usize> = off_notes.iter().map(|(i, _)| *i).collect();
    notes.extend(off_notes);
    if !spec.ce_noise && spec.joint.is_none() {
        found.extend(standard_errors_unused(&splices));
    }
    // Each row's draws are seeded by its index, so the rows map in parallel to the same bytes.
    let mut rows: Vec<Mapped> = (splices.rows.par_iter())
        .enumerate()
        .map(|(i, s)| map_splice(&law, &ranges, &spec, s, i))
        .collect();
    // A host off the law is no `ok` row, whatever else holds: a filter on status keeps it out.
    for i in off_rows {
        rows[i].status = rows[i].status.max(Status::OffLaw);
    }
    for (i, note) in notes {
        let m = &mut rows[i];
        m.detail = match m.detail.is_empty() {
            true => note,
            false => format!("{}; {note}", m.detail),
        };
    }
    let any = rows.iter().any(|m| m.method.is_some());
    let mut family_losses: HashMap<String, Vec<f64>> = HashMap::new();
    for r in &law_file.fit.residuals {
        if let Some(name) = &r.name {
            family_losses.entry(name.clone()).or_default().push(r.loss);
        }
    }
    MapResult {
        law,
        law_file: law_file.clone(),
        splices,
        rows,
        level: any.then_some(spec.level),
        refits: boot.map_or(0, |b| b.0.len()),
        found,
        family_losses,
    }
}

/// With a token bootstrap's law file the splices' standard errors are not drawn (see `ce_noise`):
/// a file that gives them must hear that its intervals leave them out.
fn standard_errors_unused(splices: &Splices) -> Option<String> {
    let n = (splices.rows.iter())
        .filter(|s| (s.se.se_ce_clean.or(s.se.se_ce_spliced).or(s.se.se_delta)).is_some())
        .count();
    (n > 0).then(|| {
        format!(
            "the standard errors of {n} splice(s) (se_ce_clean, se_ce_spliced, se_delta) are not \
             used: this law's refits come from a token bootstrap and hold the checkpoints' token \
             noise already, so independent CE draws on top would count the shared tokens twice; \
             the intervals take the CEs as exact. A joint token bootstrap of the checkpoints and \
             these splices (both with their per-sequence files) holds both"
        )
    })
}

/// `v` to `decimals` places, or to 4 significant figures where that would print hundreds of
/// digits: a host given in wrong units can sit 1e300 from the law.
fn short(v: f64, decimals: usize) -> String {
    match v.abs() < 1e5 {
        true => format!("{v:.decimals$}"),
        false => crate::export::human(v),
    }
}

/// Hosts whose clean CE lies far from what the law gives at their own size and tokens (or compute):
/// CEs in bits, on other tokens, or a host from another family. Their compute-equivalents would
/// read them against a curve they are not on. Far: beyond 5 %, and beyond the fitted checkpoints'
/// own misfit: 6 robust spreads of their residuals from its median (as `fit` calls a checkpoint
/// gross), or, with too few checkpoints for a robust spread, twice the largest. The largest alone
/// let one outlying checkpoint (+15 %) hide a host on another token set (+25 %).
fn hosts_off_the_law(
    law: &Law,
    law_file: &LawFile,
    splices: &Splices,
) -> (Option<String>, RowNotes) {
    let residuals = &law_file.fit.residuals;
    let fitted = law.form().param_names().len();
    let (misfit, how) = match crate::fit::robust_spread(residuals, fitted) {
        Some((mid, spread)) => (
            (mid.abs() + crate::fit::GROSS_SPREADS * spread).exp_m1(),
            format!(
                "{} robust spreads of the fitted checkpoints' residuals",
                crate::fit::GROSS_SPREADS
            ),
        ),
        None => {
            let worst = (residuals.iter())
                .map(|r| (r.loss / r.predicted - 1.0).abs())
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            (
                2.0 * worst,
                "twice the fitted checkpoints' largest misfit".into(),
            )
        }
    };
    let bound = misfit.max(0.05);
    let off: Vec<(usize, &Splice, f64)> = (splices.rows.iter().enumerate())
        .filter_map(|(i, s)| {
            let host = crate::table::Checkpoint {
                name: None,
                params: s.params.unwrap_or(f64::NAN),
                tokens: s.tokens.unwrap_or(f64::NAN),
                compute: s.compute.unwrap_or(f64::NAN),
                loss: s.ce_clean,
                run: None,
                step: None,
                line: 0,
            };
            let at = law.predict(&host);
            (at.is_finite() && (s.ce_clean / at - 1.0).abs() > bound).then_some((i, s, at))
        })
        .collect();
    if off.is_empty() {
        return (None, vec![]);
    }
    let off_by = |s: &Splice, at: f64| match 100.0 * (s.ce_clean / at - 1.0) {
        p if p > 0.0 => format!("+{}", short(p, 1)),
        p => short(p, 1),
    };
    let notes = (off.iter())
        .map(|&(i, s, at)| {
            let note = format!(
                "ce_clean {:.4} lies {}% from the law's {} at its host's own size and tokens, \
                 beyond the checkpoints' misfit: CEs in bits, another token set, or a host from \
                 another family?",
                s.ce_clean,
                off_by(s, at),
                short(at, 4)
            );
            (i, note)
        })
        .collect();
    // Each host once (its splices share its clean CE, size and tokens), by its first splice.
    let key = |s: &Splice| {
        [s.ce_clean, s.params.unwrap_or(0.0), s.tokens.unwrap_or(0.0)].map(f64::to_bits)
    };
    let mut hosts: Vec<(&Splice, f64, usize)> = vec![];
    for &(_, s, at) in &off {
        match hosts.iter_mut().find(|h| key(h.0) == key(s)) {
            Some(h) => h.2 += 1,
            None => hosts.push((s, at, 1)),
        }
    }
    const SHOWN: usize = 3;
    let mut said: Vec<String> = (hosts.iter().take(SHOWN))
        .map(|&(s, at, n)| {
            let off_by = off_by(s, at);
            let more = match n {
                1 => String::new(),
                n => format!(" and {} more of its host", n - 1),
            };
            format!(
                "'{}'{more}: ce_clean {:.4} nats where the law gives {}, {off_by}%",
                s.name,
                s.ce_clean,
                short(at, 4)
            )
        })
        .collect();
    if hosts.len() > SHOWN {
        said.push(format!("{} more hosts", hosts.len() - SHOWN));
    }
    let warning = Some(format!(
        "{} splice(s) have a clean CE far from the law at their host's own size and tokens ({}; \
         far: beyond {:.1}%, the larger of 5% and {how}): CEs in bits rather than nats, another \
         token set, or a host from another family? Their compute-equivalents read them against a \
         curve they are not on",
        off.len(),
        said.join("; "),
        100.0 * bound,
    ));
    (warning, notes)
}

/// Under a law fitted to the checkpoints' own compute column, a host's actual compute is put on
/// the law's scale: 6·params·tokens where that column is 6ND, times the column's one ratio to 6ND
/// where it has one (FLOPs counted as 8ND), else left out, so compute_fraction_of_actual is empty
/// rather than off (another parameter count, whose ratio differs by size). Hosts that give their
/// own compute are taken as counted like the checkpoints'.
fn actual_off_scale(law_file: &LawFile, splices: &mut Splices) -> Option<String> {
    if !law_file.compute_is_the_files() {
        return None;
    }
    let d = &law_file.data;
    let scale = d.compute_per_6nd;
    let mut names = vec![];
    for s in (splices.rows.iter_mut()).filter(|s| !s.compute_given && s.compute.is_some()) {
        match scale {
            Some(ComputeScale::Ratio(1.0)) => return None,
            Some(ComputeScale::Ratio(r)) => s.compute = s.compute.map(|c| c * r),
            Some(ComputeScale::Varies) => s.compute = None,
            None => {}
        }
        names.push(s.name.clone());
    }
    let first = names.first()?;
    let (n, col) = (names.len(), &d.columns.compute);
    let law_s = format!("the law's compute is the checkpoints file's '{col}' column");
    let hosts = format!("the actual compute of {n} splice(s) ('{first}', …)");
    Some(match scale {
        Some(ComputeScale::Ratio(r)) => format!(
            "{law_s}, {r:.4} times 6·params·tokens on every row; {hosts} is taken as {r:.4} times \
             6·params·tokens likewise"
        ),
        Some(ComputeScale::Varies) => format!(
            "{law_s}, whose ratio to 6·params·tokens differs from row to row (another parameter \
             count, or FLOPs counted per size); {hosts} cannot be put on its scale from params and \
             tokens, so their compute_fraction_of_actual is left empty: give the splices a compute \
             column counted as the checkpoints' is"
        ),
        None => format!(
            "{law_s}, which has no params and tokens to check it against 6·params·tokens; {hosts} \
             is taken as 6·params·tokens, right only if the column counts FLOPs that way too"
        ),
    })
}

impl MapResult {
    /// Each splice with its mapped numbers, in file order.
    pub fn splice_rows(&self) -> impl Iterator<Item = (&Splice, &Mapped)> {
        self.splices.rows.iter().zip(&self.rows)
    }

    fn has(&self, f: impl Fn(&Splice) -> bool) -> bool {
        self.splices.rows.iter().any(f)
    }

    /// One line saying what the numbers mean, for every output.
    pub fn units_line(&self) -> String {
        Self::with_note(self.law_file.units_line(), self.splices.source_note())
    }

    /// The units line of one row: its CEs' own token set only, where results differ in it, and
    /// where its CEs may not be on the law's tokens (the tables with no notes, CSV and JSON, say
    /// it there).
    fn row_units_line(&self, s: &Splice) -> String {
        let note = self.splices.row_source_note(&s.name);
        let line = Self::with_note(self.law_file.units_line(), note);
        Self::with_note(line, self.row_token_note(s))
    }

    /// A cell of the splices' own column `name`, empty where the column or the cell is.
    fn raw<'s>(&self, s: &'s Splice, name: &str) -> &'s str {
        let col = self.splices.columns.iter().position(|c| c == name);
        col.and_then(|c| s.raw.get(c)).map_or("", String::as_str)
    }

    /// The token set a CSV row's CEs were measured on, as far as the files tell: `Err` where the
    /// law's checkpoints record one and the row does not; `Ok(None)` where neither tells.
    fn row_token_set<'s>(&'s self, s: &'s Splice) -> std::result::Result<Option<&'s str>, ()> {
        let own = self.raw(s, "eval_tokens");
        match (own, self.law_file.data.eval_tokens.as_deref()) {
            _ if !matches!(self.splices.source, crate::table::Source::Csv) => Ok(None),
            ("", Some(_)) => Err(()),
            ("", None) => Ok(None),
            (own, _) => Ok(Some(own)),
        }
    }

    /// The loss the law's checkpoints file gives the splice's host, where the host (its `model`
    /// cell) is one of the family's checkpoints by name and its clean CE is more than 1e-3 nats
    /// from that loss (from each, where the name repeats: the nearest is said). The same
    /// checkpoint measured on the same tokens agrees to rounding (other batches or devices:
    /// 1e-5); another sample of the same text differs by about its SE, which still moves
    /// compute_fraction_of_actual, so the SE is no excuse.
    fn family_loss_unlike(&self, s: &Splice) -> Option<f64> {
        let host = Some(self.raw(s, "model")).filter(|h| !h.is_empty())?;
        let losses = self.family_losses.get(host)?;
        let gap = |l: &&f64| (s.ce_clean - **l).abs();
        let nearest = *losses.iter().min_by(|a, b| gap(a).total_cmp(&gap(b)))?;
        ((s.ce_clean - nearest).abs() > 1e-3).then_some(nearest)
    }

    /// What a row's own units line adds about its tokens: another set than the law's, none
    /// recorded, or a clean CE unlike the family's loss of the same checkpoint.
    fn row_token_note(&self, s: &Splice) -> Option<String> {
        let set = match self.row_token_set(s) {
            Err(()) => Some("these CEs record no token set, unlike the law's".to_owned()),
            Ok(Some(own)) if self.on_another_set(s) => {
                Some(match &self.law_file.data.eval_tokens {
                    Some(_) => format!("these CEs were measured on {own}, not the law's token set"),
                    None => format!(
                        "these CEs were measured on {own}, not named as the law's token set is ('{}')",
                        self.law_file.units.eval_set
                    ),
                })
            }
            Ok(_) => None,
        };
        let clean = self.family_loss_unlike(s).map(|loss| {
            format!(
                "ce_clean {} is not the loss {} the law's checkpoints give its host",
                sig4(s.ce_clean),
                sig4(loss)
            )
        });
        let notes: Vec<String> = set.into_iter().chain(clean).collect();
        (!notes.is_empty()).then(|| notes.join("; "))
    }

    /// Whether a row records another token set than the law's checkpoints, or, where they record
    /// none, than the name the law was fitted under (`--eval-set`): two names typed by hand that
    /// differ are two sets as far as anyone can tell.
    fn on_another_set(&self, s: &Splice) -> bool {
        let reference = self.law_file.data.eval_tokens.as_deref();
        let named = &self.law_file.units.eval_set;
        match (self.row_token_set(s), reference) {
            (Ok(Some(own)), Some(r)) => !same_token_set(r, own),
            (Ok(Some(own)), None) => {
                named != crate::pipeline::UNNAMED_EVAL_SET && !same_token_set(own, named)
            }
            _ => false,
        }
    }

    /// CSV splices that record no token set against a law whose checkpoints record one: nothing
    /// tells that they were measured on the family's tokens.
    fn token_sets_unrecorded(&self) -> Option<String> {
        let reference = self.law_file.data.eval_tokens.as_deref()?;
        let none: Vec<&str> = (self.splices.rows.iter())
            .filter(|s| self.row_token_set(s).is_err())
            .map(|s| s.name.as_str())
            .collect();
        Some(format!(
            "{} splice(s) ('{}'{}) record no token set (no eval_tokens column, or an empty cell), \
             while the law's checkpoints ({}) were measured on {reference}: nothing tells that \
             the splices were measured on those tokens, as a compute-equivalent needs (ceq eval \
             records them)",
            none.len(),
            none.first()?,
            if none.len() > 1 { ", …" } else { "" },
            self.law_file.data.file
        ))
    }

    /// Hosts that are checkpoints of the law's own family, measured clean at another loss than
    /// the family's file gives them: other tokens, or another scoring, whatever the records say.
    fn clean_unlike_the_family(&self) -> Option<String> {
        // Rows on another recorded set are said so already.
        let off: Vec<(&Splice, f64)> = (self.splices.rows.iter())
            .filter(|s| !self.on_another_set(s))
            .filter_map(|s| Some((s, self.family_loss_unlike(s)?)))
            .collect();
        let (s, loss) = off.first()?;
        Some(format!(
            "the clean CE of {} splice(s) is not the loss the law's checkpoints file ({}) gives \
             their host, one of its checkpoints ('{}': ce_clean {} vs {} for '{}'): they were \
             measured otherwise (other tokens or positions), so their compute-equivalents are off \
             by that difference; measure the family and the SAEs on the same tokens",
            off.len(),
            self.law_file.data.file,
            s.name,
            sig4(s.ce_clean),
            sig4(*loss),
            self.raw(s, "model")
        ))
    }

    fn with_note(line: String, note: Option<String>) -> String {
        match note {
            Some(n) => format!("{line}; {n}"),
            None => line,
        }
    }

    /// What a row's intervals hold: which sources of error, how, at what level.
    pub fn interval_line(&self, m: &Mapped) -> String {
        // Every digit of the level: a 97.5 % interval is not a 98 % one.
        let pct = crate::law_file::percent_level(self.level.unwrap_or(DEFAULT_LEVEL));
        let refits = || {
            let b = self.law_file.bootstrap.as_ref();
            format!(
                "{pct} bootstrap percentile intervals over {} refits ({} resampled, seed {})",
                self.refits,
                b.map_or("?".into(), |b| format!("{:?}s", b.unit).to_lowercase()),
                b.map_or(0, |b| b.seed)
            )
        };
        let tokens = self
            .law_file
            .bootstrap
            .as_ref()
            .and_then(|b| b.tokens.as_ref());
        match &m.method {
            Some(Method::Refits) if let Some(what) = tokens => format!(
                "{pct} percentile intervals over {} refits of a token bootstrap ({what}): the law \
                 with its checkpoints' token noise; the splices' CEs taken as exact (a joint token \
                 bootstrap takes law + tokens together)",
                self.refits
            ),
            Some(Method::Refits) => format!(
                "{}: law refits only, the CEs taken as exact (no se_ce_clean, se_delta)",
                refits()
            ),
            Some(Method::RefitsAndNoise(src)) => format!(
                "{}, each with one draw of the CEs: law refits + CE measurement noise ({src})",
                refits()
            ),
            Some(Method::TokenBootstrap(what)) => format!(
                "{pct} token bootstrap percentile intervals ({what}): law + token sampling error, \
                 with their correlation"
            ),
            Some(Method::DeltaMethod(src)) => format!(
                "{pct} normal intervals by the delta method on CE measurement noise only ({src}); \
                 the law taken as exact (a law fitted with bootstrap resamples adds its uncertainty)"
            ),
            None => "no intervals: fit the law with bootstrap resamples, or give the CEs' standard errors \
                     (se_ce_clean, se_delta)"
                .into(),
        }
    }

    /// A short name of the intervals' sources, for a figure's caption.
    pub fn interval_caption(&self) -> Option<String> {
        self.interval_caption_of(|_| true)
    }

    /// The same, of the rows `drawn` keeps (a figure that leaves rows out names only its own).
    pub fn interval_caption_of(&self, drawn: impl Fn(&Mapped) -> bool) -> Option<String> {
        let mut kinds: Vec<&str> = vec![];
        for m in self.rows.iter().filter(|m| drawn(m)) {
            let k = match m.method {
                Some(Method::Refits) if self.token_refits() => "token-bootstrap refits of the law",
                Some(Method::Refits) => "law refits",
                Some(Method::RefitsAndNoise(_)) => "law refits + CE noise",
                Some(Method::DeltaMethod(_)) => "CE noise only, delta method",
                Some(Method::TokenBootstrap(_)) => "token bootstrap: law + tokens jointly",
                None => continue,
            };
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        // No drawn row has an interval: no bars to explain.
        let level = self.level.filter(|_| !kinds.is_empty())?;
        Some(format!(
            "bars: {} intervals ({})",
            crate::law_file::percent_level(level),
            kinds.join("; ")
        ))
    }

    /// Whether the law's refits are a token bootstrap's (read back from its law file).
    fn token_refits(&self) -> bool {
        (self.law_file.bootstrap.as_ref()).is_some_and(|b| b.tokens.is_some())
    }

    /// Whether the full table has the computed column `name` (see [`MAPPED`]).
    fn present(&self, name: &str) -> bool {
        let form = self.law.form();
        match name {
            "loss_recovered" => self.has(|s| s.ce_zero_ablation.is_some()),
            "loss_recovered_mean" => self.has(|s| s.ce_mean_ablation.is_some()),
            "compute_actual" | "compute_fraction_of_actual" => self.has(|s| s.compute.is_some()),
            "params_equivalent" => form == Form::Chinchilla,
            "tokens_equivalent" => form != Form::Compute,
            "step_equivalent" => form == Form::Run,
            // Not under a token bootstrap: its intervals have no law-only part to hold fixed.
            "n_tokens_for_10pct" => {
                let joint = |m: &Mapped| matches!(m.method, Some(Method::TokenBootstrap(_)));
                !self.token_refits()
                    && !self.rows.iter().any(joint)
                    && self.has(|s| {
                        s.se.n_tokens.is_some() && crate::measurement::CeNoise::of(&s.se).is_some()
                    })
            }
            _ => true,
        }
    }

    /// The cell of a computed column that has no interval.
    fn cell(&self, name: &str, s: &Splice, m: &Mapped) -> Cell {
        match name {
            "delta_loss" => Cell::Num(m.delta_loss),
            "loss_recovered" => m.loss_recovered.into(),
            "loss_recovered_mean" => m.loss_recovered_mean.into(),
            "compute_actual" => s.compute.into(),
            "status" => Cell::Text(m.status.as_str().into()),
            "status_detail" => Cell::Text(m.detail.clone()),
            "law" => Cell::Text(self.law.form().name().into()),
            "n_tokens_for_10pct" => m.tokens_for_target.map_or(Cell::Empty, Cell::count),
            "units" => Cell::Text(format!(
                "{}; intervals: {}",
                self.row_units_line(s),
                self.interval_line(m)
            )),
            other => unreachable!("the mapped table declares no column '{other}'"),
        }
    }

    /// The table for a format: every column for files read by programs, the summary for people.
    pub fn table_for(&self, format: Format) -> Table {
        match format {
            Format::Csv | Format::Json => self.full_table(),
            Format::Table | Format::Markdown | Format::Latex | Format::Html => self.summary_table(),
        }
    }

    /// Every input column as it was, then every computed column: the CSV and JSON view.
    pub fn full_table(&self) -> Table {
        let intervals = self.level.is_some();
        let specs: Vec<&Col> = MAPPED
            .columns
            .iter()
            .filter(|c| self.present(&c.name))
            .collect();
        let mut cols: Vec<Column> = self
            .splices
            .columns
            .iter()
            .map(|c| Column::new(c, ""))
            .collect();
        for c in &specs {
            cols.push(Column::new(&c.name, &c.unit));
            if intervals && c.interval {
                cols.push(Column::new(&format!("{}_lo", c.name), &c.unit));
                cols.push(Column::new(&format!("{}_hi", c.name), &c.unit));
            }
        }
        let rows = self
            .splice_rows()
            .map(|(s, m)| {
                let mut r: Vec<Cell> = s.raw.iter().map(|v| Cell::Raw(v.clone())).collect();
                r[self.splices.name_index] = Cell::Text(s.name.clone());
                for c in &specs {
                    match m.scale_column(&c.name) {
                        Some((v, ci)) => {
                            r.push(v.into());
                            if intervals {
                                r.push(ci.map(|p| p.0).into());
                                r.push(ci.map(|p| p.1).into());
                            }
                        }
                        None => r.push(self.cell(&c.name, s, m)),
                    }
                }
                debug_assert_eq!(r.len(), cols.len());
                r
            })
            .collect();
        Table {
            title: String::new(),
            columns: cols,
            rows,
            ..Table::default()
        }
    }

    /// The columns a reader needs, with intervals inline: the terminal, Markdown and LaTeX view.
    pub fn summary_table(&self) -> Table {
        let zero = self.has(|s| s.ce_zero_ablation.is_some());
        let actual = self.has(|s| s.compute.is_some());
        let mut cols = vec![
            Column::new("name", ""),
            Column::new("ce_clean", "nats"),
            Column::new("ce_spliced", "nats"),
            Column::new("delta_loss", "nats"),
        ];
        // A fraction, as in the CSV and in `ceq eval`'s table, so the two views read alike.
        if zero {
            cols.push(Column::new("loss_recovered", "fraction"));
        }
        cols.push(Column::new("compute_fraction", "ratio"));
        cols.push(Column::new("log10_compute_ratio", "orders of mag."));
        if actual {
            cols.push(Column::new("compute_fraction_of_actual", "ratio"));
        }
        // A run law's answer is a step of that run.
        let run = self.law.form() == Form::Run;
        if run {
            cols.push(Column::new("step_equivalent", "steps"));
        }
        // Each kind of interval once, in order; with more than one, each row says which it has.
        let lines: Vec<String> = self.rows.iter().map(|m| self.interval_line(m)).collect();
        let mut kinds: Vec<(&str, bool)> = vec![];
        for (line, m) in lines.iter().zip(&self.rows) {
            if !kinds.iter().any(|k| k.0 == line) {
                kinds.push((line, m.method.is_some()));
            }
        }
        let mixed = kinds.len() > 1;
        let key = |line: &str| {
            let k = kinds.iter().position(|k| k.0 == line).unwrap_or(0);
            char::from(b'a' + (k % 26) as u8).to_string()
        };
        if mixed {
            cols.push(Column::new("intervals", "see notes"));
        }
        cols.push(Column::new("status", ""));
        let iv = |v: Option<f64>, ci: Option<(f64, f64)>| {
            v.map_or(Cell::Empty, |v| Cell::Interval(v, ci))
        };
        let rows = self
            .splice_rows()
            .map(|(s, m)| {
                let mut r = vec![
                    Cell::Text(s.name.clone()),
                    Cell::Num(s.ce_clean),
                    Cell::Num(s.ce_spliced),
                    Cell::Num(m.delta_loss),
                ];
                if zero {
                    r.push(m.loss_recovered.into());
                }
                r.push(iv(m.eq.fraction, m.ci.and_then(|c| c.fraction)));
                r.push(iv(m.eq.log10_ratio, m.ci.and_then(|c| c.log10_ratio)));
                if actual {
                    r.push(iv(
                        m.eq.fraction_of_actual,
                        m.ci.and_then(|c| c.fraction_of_actual),
                    ));
                }
                if run {
                    r.push(iv(m.eq.step, m.ci.and_then(|c| c.step)));
                }
                if mixed {
                    r.push(Cell::Text(key(&self.interval_line(m))));
                }
                r.push(Cell::Text(m.status.as_str().into()));
                r
            })
            .collect();
        let lf = &self.law_file;
        let params: Vec<String> = self
            .law
            .params()
            .iter()
            .map(|(k, v)| format!("{k} = {}", sig4(*v)))
            .collect();
        let mut notes = vec![
            format!("{} with {}", lf.formula, params.join(", ")),
            self.units_line(),
        ];
        // Two fractions of compute stand side by side: a reader of a paper table needs which is
        // which (review: the title alone suggested the other).
        let actual = self.has(|s| s.compute.is_some());
        notes.push(format!(
            "compute_fraction = C_eq(spliced)/C_eq(clean), both CEs read on the law's curve; \
             log10_compute_ratio = −log10(compute_fraction){}",
            if actual {
                "; compute_fraction_of_actual = C_eq(spliced)/the host's actual training compute"
            } else {
                ""
            }
        ));
        // Which ablation the linear number is against: SAE papers report both (review 96).
        if zero {
            notes.push(format!(
                "loss_recovered = 1 − (ce_spliced − ce_clean)/(ce_zero_ablation − ce_clean), against \
                 zero ablation{}",
                if self.has(|s| s.ce_mean_ablation.is_some()) {
                    " (against mean ablation: loss_recovered_mean, in the CSV and JSON)"
                } else {
                    ""
                }
            ));
        }
        // One note per kind of interval, keyed by the rows' `intervals` letter where they differ.
        for (line, has) in &kinds {
            notes.push(match (has, mixed) {
                (true, false) => format!("[lo, hi]: {line}"),
                (true, true) => format!("[lo, hi] of rows {}: {line}", key(line)),
                (false, false) => line.to_string(),
                (false, true) => format!("rows {}: {line}", key(line)),
            });
        }
        if self.law.form() == Form::Run {
            notes.push(crate::law::SCHEDULE_CAVEAT.into());
        }
        let key = notes.len();
        notes.extend(self.warnings().iter().map(|w| format!("warning: {w}")));
        notes.extend(lf.fit.warnings.iter().map(|w| format!("warning: {w}")));
        // Each status the rows show, said once, before the rows' own lines.
        let mut statuses: Vec<Status> = self.splice_rows().map(|(_, m)| m.status).collect();
        statuses.sort_by_key(|s| s.as_str());
        statuses.dedup();
        notes.extend(
            statuses
                .iter()
                .filter_map(|s| s.meaning())
                .map(|m| format!("status {m}")),
        );
        for (s, m) in self.splice_rows() {
            if !m.detail.is_empty() {
                notes.push(format!("{}: {}", s.name, m.detail));
            }
        }
        Table {
            title: format!(
                "Spliced CE loss as a fraction of training compute ({} law)",
                self.law.form().name()
            ),
            columns: cols,
            rows,
            notes,
            key,
        }
    }
}
