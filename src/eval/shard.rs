//! Sharding a job (eval-family, a sweep) over a Slurm array: [`Shard`] picks every n-th unit of
//! work from the i-th, and each shard writes `<stem>.shard.json` before its first row
//! ([`ShardRecord`]: which shard of how many, and every row it holds when finished), so a merge can
//! tell a shard left out or stopped part-way.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ledger::mismatch;
use crate::error::{DataKind, Error, Result};
use crate::law_file::ParamCount;

/// Every `count`-th checkpoint from the `index`-th (from 0, like a Slurm array index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or("expected i/n, e.g. 0/8")?;
        let (index, count) = (i.trim().parse(), n.trim().parse());
        match (index, count) {
            (Ok(index), Ok(count)) if index < count => Ok(Shard { index, count }),
            _ => Err(format!("'{s}': expected i/n with 0 ≤ i < n, e.g. 0/8")),
        }
    }
}

/// Where a shard's [`ShardRecord`] lives.
pub fn shard_path(csv: &Path) -> PathBuf {
    csv.with_extension("shard.json")
}

/// What every shard of one job must be run with, by name: the manifest's content, the options that
/// change a row's numbers or which rows there are, and this ceq's version. A merge refuses shards
/// that differ (their rows would be measured two ways, or a manifest's added rows lost).
pub type JobSettings = BTreeMap<String, String>;

/// A file's content as a job's settings name it (FNV-1a 64 of its bytes).
pub fn content_id(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    Ok(format!("fnv1a64:{:016x}", super::family::fnv1a64(bytes)))
}

/// The settings every job records: its manifest's content, the folder its inputs are under (see
/// `inputs_under`), its version of ceq, the parameter count of `params` and the tokens per step.
pub fn job_settings(
    manifest: &Path,
    inputs: &[&Path],
    count: ParamCount,
    tokens_per_step: Option<f64>,
) -> Result<JobSettings> {
    Ok(JobSettings::from([
        ("manifest".into(), content_id(manifest)?),
        ("inputs_under".into(), inputs_under(inputs)),
        ("ceq".into(), env!("CARGO_PKG_VERSION").into()),
        ("param_count".into(), count.name().into()),
        (
            "tokens_per_step".into(),
            tokens_per_step.map_or("none".into(), |t| t.to_string()),
        ),
    ]))
}

/// The deepest folder holding every one of the job's input folders (resolved): one manifest's
/// text read from two copies of a checkpoint tree (a second clone, a retrained family) finds other
/// files, which one merged file must not mix.
fn inputs_under(dirs: &[&Path]) -> String {
    let resolved = dirs
        .iter()
        .map(|d| d.canonicalize().unwrap_or_else(|_| d.to_path_buf()));
    let common = resolved.reduce(|a, b| {
        a.components()
            .zip(b.components())
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| x)
            .collect()
    });
    common.map_or("none".into(), |p| p.to_string_lossy().into_owned())
}

/// Which shard a results file is, the names of every row it holds once finished, and the job's
/// settings (empty from an older ceq).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    pub index: usize,
    pub count: usize,
    pub rows: Vec<String>,
    #[serde(default)]
    pub job: JobSettings,
}

impl ShardRecord {
    /// The record beside `csv`, where there is one that reads (a damaged one is said by a merge,
    /// and by `record::check_finished`).
    pub fn beside(csv: &Path) -> Option<ShardRecord> {
        let text = std::fs::read_to_string(shard_path(csv)).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// Writes the record beside a shard's CSV, or for a whole run (`shard` `None`) removes one left
/// there by an earlier sharded run, so a record never describes rows it does not.
pub fn record_shard(
    csv: &Path,
    shard: Option<Shard>,
    rows: Vec<String>,
    job: &JobSettings,
) -> Result<()> {
    let path = shard_path(csv);
    match shard {
        Some(Shard { index, count }) => {
            let r = ShardRecord {
                index,
                count,
                rows,
                job: job.clone(),
            };
            let json = serde_json::to_string_pretty(&r).expect("a shard record serialises");
            crate::io::write_atomic(&path, (json + "\n").as_bytes())
        }
        None if path.exists() => std::fs::remove_file(&path).map_err(Error::io(&path)),
        None => Ok(()),
    }
}

fn shards_error(path: &Path, message: String) -> Error {
    Error::Data {
        kind: DataKind::Shards,
        path: path.to_owned(),
        message,
    }
}

/// How `b`'s settings differ from `a`'s, in words ("with param_count non-embedding (the other:
/// total)").
fn settings_differ(a: &JobSettings, b: &JobSettings) -> Option<String> {
    if a.is_empty() != b.is_empty() {
        return Some("by another version of ceq (one of the two records no settings)".into());
    }
    let none = String::from("none");
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let each: Vec<String> = keys
        .into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k).unwrap_or(&none), b.get(k).unwrap_or(&none));
            (x != y).then(|| format!("{k} {y} (the other: {x})"))
        })
        .collect();
    (!each.is_empty()).then(|| format!("with {}", each.join(", ")))
}

/// Checks that the shards `csvs` whose records read were cut into one count: checked before their
/// rows, since shards of two counts (0/3 and 1/2) hold rows of one name, which is not the fault.
pub(crate) fn check_counts(csvs: &[PathBuf]) -> Result<()> {
    let mut first: Option<(&Path, ShardRecord)> = None;
    for csv in csvs {
        let Some(r) = ShardRecord::beside(csv) else {
            continue;
        };
        match &first {
            Some((p, f)) if f.count != r.count => {
                return Err(mismatch(
                    csv.clone(),
                    format!(
                        "it is shard {}, but {} is shard {}: the shards of one job have one count",
                        r.label(),
                        p.display(),
                        f.label()
                    ),
                ));
            }
            Some(_) => {}
            None => first = Some((csv, r)),
        }
    }
    Ok(())
}

/// Checks that `files` (each with its rows' names) are every shard of one job, each finished
/// (their counts checked before the rows were read, by [`check_counts`]).
pub(crate) fn check_shards(files: &[(PathBuf, Vec<String>)]) -> Result<()> {
    let mut records: Vec<(&Path, ShardRecord)> = vec![];
    for (csv, names) in files {
        let path = shard_path(csv);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(shards_error(
                    csv,
                    format!(
                        "records no shard (no {} beside it: a whole run, or a shard written by \
                         an older ceq), so the merge cannot check that no shard is missing; run \
                         its shard again with this ceq (it keeps the rows already there and \
                         records the shard), or leave a whole run out of the merge",
                        path.display()
                    ),
                ));
            }
            Err(e) => return Err(Error::io(&path)(e)),
        };
        let r: ShardRecord = serde_json::from_str(&text).map_err(Error::json(&path))?;
        if r.index >= r.count {
            return Err(shards_error(
                csv,
                format!(
                    "{} records shard {}, which no `--shard i/n` names (i runs from 0 to n − 1): \
                     the record was edited; run the shard again",
                    path.display(),
                    r.label()
                ),
            ));
        }
        if let Some((p, first)) = records.first()
            && let Some(differs) = settings_differ(&first.job, &r.job)
        {
            return Err(mismatch(
                csv.clone(),
                format!(
                    "shard {} was run {differs}, unlike {} (shard {}): the shards of one job are run \
                     from one manifest with the same options and one ceq, or their rows are \
                     measured two ways (or some left out); run again, with this ceq, the shards \
                     that differ from the job you want (a rerun keeps the rows that still hold) \
                     and merge again",
                    r.label(),
                    p.display(),
                    first.label()
                ),
            ));
        }
        if let Some((p, _)) = records.iter().find(|(_, o)| o.index == r.index) {
            return Err(mismatch(
                csv.clone(),
                format!("it is shard {}, as is {}", r.label(), p.display()),
            ));
        }
        // Sets: a sweep's shard can hold thousands of rows.
        let recorded: HashSet<&String> = r.rows.iter().collect();
        let present: HashSet<&String> = names.iter().collect();
        if let Some(extra) = names.iter().find(|n| !recorded.contains(n)) {
            return Err(mismatch(
                csv.clone(),
                format!(
                    "'{extra}' is not a row of shard {} as {} records it",
                    r.label(),
                    path.display()
                ),
            ));
        }
        let missing: Vec<&str> = (r.rows.iter())
            .filter(|n| !present.contains(n))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            let shown = missing
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            let more = if missing.len() > 5 { ", …" } else { "" };
            return Err(shards_error(
                csv,
                format!(
                    "shard {} is unfinished: {} of its {} rows are missing ({shown}{more}); \
                     run it again (it resumes) and merge again",
                    r.label(),
                    missing.len(),
                    r.rows.len()
                ),
            ));
        }
        records.push((csv, r));
    }
    records.sort_by_key(|(_, r)| r.index);
    let count = records.first().map_or(0, |(_, r)| r.count);
    let given: std::collections::BTreeSet<usize> = records.iter().map(|(_, r)| r.index).collect();
    // Named up to ten, counted beyond: a mistyped count (3/80000000) must not list millions.
    let n_absent = count.saturating_sub(given.len());
    let absent: Vec<String> = (0..count)
        .filter(|i| !given.contains(i))
        .take(10)
        .map(|i| format!("{i}/{count}"))
        .collect();
    if let (false, Some((first, _))) = (absent.is_empty(), records.first()) {
        let more = match n_absent.saturating_sub(absent.len()) {
            0 => String::new(),
            k => format!(" and {k} more"),
        };
        let labels: Vec<String> = records.iter().map(|(_, r)| r.label()).collect();
        return Err(shards_error(
            first,
            format!(
                "the files given are shards {} of one job; missing: shard {}{more}; evaluate \
                 each missing shard into its own file, then merge again with all of them",
                labels.join(", "),
                absent.join(", shard "),
            ),
        ));
    }
    Ok(())
}
