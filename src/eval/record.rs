//! A results file's run record, `<stem>.run.json` beside the CSV of `ceq eval-family` or of a
//! sweep: whether the run finished, the rows it holds once finished, and what identified each
//! row's inputs when it was measured (every weight and config file of its model and SAE folders:
//! path, size and modification time, so no multi-GB file is hashed). A rerun refuses to keep a row
//! whose inputs changed since; `ceq fit` and `ceq map` refuse a file whose run did not finish. A
//! file without a record (from an older ceq) reads as before.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DataKind, Error, Result};

/// One input file as it was when a row was measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    /// Resolved (symlinks followed), relative to the results file's folder where it can be, so a
    /// folder holding both can move.
    pub path: String,
    /// Resolved and absolute, so the results file alone can move (or be merged from a shard in
    /// another folder) while its inputs stay.
    #[serde(default)]
    pub abs: String,
    pub bytes: u64,
    /// Modification time, nanoseconds since 1970 (0 if earlier or unknown).
    pub modified_ns: u64,
}

impl FileId {
    /// The same file as it was: its size and modification time (as a resume judges them: a time
    /// a copy kept to the second only is the same).
    pub fn same_version(&self, other: &FileId) -> bool {
        self.bytes == other.bytes && !times_differ(self.modified_ns, other.modified_ns)
    }

    /// Its modification time, for messages.
    pub fn modified(&self) -> String {
        utc(self.modified_ns)
    }
}

/// What a run was given and how far it got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// False from the run's start until its last row is saved.
    pub finished: bool,
    /// Every row the run holds when finished.
    pub rows: Vec<String>,
    /// Each row's input files, by row name.
    pub inputs: BTreeMap<String, Vec<FileId>>,
    /// The rows of the per-sequence arrays, in order, as last saved: written before them and the
    /// CSV, so a run killed between its saves of the arrays and the CSV leaves arrays a rerun can
    /// still read by name (their rows one more than the CSV's) instead of measuring every row
    /// again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order: Vec<String>,
    /// Each row's cells as written (FNV-1a of them, by row name): a row edited since is measured
    /// again on a rerun, and refused by a merge, instead of kept as ceq's measurement. A record
    /// from an older ceq has none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<String, String>,
    /// Written by `ceq merge`: a later merge may replace the file (it holds nothing the shards do
    /// not), which it may not do to a run's own output.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub merged: bool,
}

/// Where a results CSV's run record lives.
pub fn record_path(csv: &Path) -> PathBuf {
    csv.with_extension("run.json")
}

/// Refuses to write a table over the results of a resumable run (`ceq eval-family`, a sweep, a
/// merge: a file with its run record beside it): they may have taken hours to measure, and their
/// per-sequence arrays and record would be left beside a file they do not describe.
pub fn check_not_results(out: &Path) -> Result<()> {
    check_not_side_file(out)?;
    let record = record_path(out);
    if !out.is_file() || !record.is_file() {
        return Ok(());
    }
    Err(Error::Refused {
        path: out.to_owned(),
        message: format!(
            "it holds the results of a ceq evaluation ({} beside it records the run), which this \
             table would replace; choose another path, or remove the results and their files \
             first",
            record.display()
        ),
    })
}

/// Refuses an output that is one of the files a results CSV keeps beside it (its run record, shard
/// record or per-sequence arrays) while that CSV is there: even with `--force`, replacing it would
/// leave the results unresumable or unmergeable, or their arrays wrong.
pub fn check_not_side_file(out: &Path) -> Result<()> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let csv = ["per_seq.npy", "per_seq_n.npy", "shard.json", "run.json"]
        .iter()
        .find_map(|ext| name.strip_suffix(&format!(".{ext}")))
        .map(|stem| out.with_file_name(format!("{stem}.csv")));
    match csv {
        Some(csv) if csv.is_file() && outputs(&csv).contains(&out.to_path_buf()) => {
            Err(Error::Refused {
                path: out.to_owned(),
                message: format!(
                    "it is one of the files ceq keeps beside the results {} (their run record, \
                     shard record or per-sequence losses), which would be lost with it; choose \
                     another name",
                    csv.display()
                ),
            })
        }
        _ => Ok(()),
    }
}

impl RunRecord {
    /// The record beside `csv`, or `None` when there is none (a file from an older ceq).
    pub fn read(csv: &Path) -> Result<Option<RunRecord>> {
        let path = record_path(csv);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(Error::json(&path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path)(e)),
        }
    }

    /// A run's record at its start, with its shard's: unfinished and naming every row it will
    /// hold. Saved before the first new row, so every shard's CSV on disk says what it will hold
    /// and the file reads as unfinished until its last row is saved.
    pub fn start(
        csv: &Path,
        (shard, job): (Option<super::shard::Shard>, &super::shard::JobSettings),
        rows: Vec<String>,
        inputs: BTreeMap<String, Vec<FileId>>,
    ) -> Result<RunRecord> {
        super::shard::record_shard(csv, shard, rows.clone(), job)?;
        let last = RunRecord::read(csv).ok().flatten().unwrap_or_default();
        let record = RunRecord {
            finished: false,
            rows,
            inputs,
            // The arrays and rows on disk are as the last save left them.
            order: last.order,
            digests: last.digests,
            merged: false,
        };
        if csv.exists() {
            record.write(csv)?;
        }
        Ok(record)
    }

    /// Writes the record beside `csv` (atomically), with the inputs of the rows it names only.
    pub fn write(&self, csv: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("a run record serialises");
        crate::io::write_atomic(&record_path(csv), (json + "\n").as_bytes())
    }
}

/// An exclusive lock on a results file's run, held while the run writes it: a second ceq given the
/// same output (two array tasks with one `--out`, or a rerun while the first still runs) stops at
/// once instead of writing its rows over the first's. The lock is the operating system's, on a
/// hidden file in ceq's own names beside the output (`.ceq-NAME.lock`, never a user's file), so a
/// killed run holds none; the file is removed when a run ends, and one a killed run left is taken
/// and removed by the next.
pub struct RunLock {
    path: PathBuf,
    _file: std::fs::File,
}

/// Where a run keeps `csv`: a symlink's target, so a run given the link and one given the target
/// share one lock, and the rows and the files beside them stay together.
pub fn results_path(csv: &Path) -> PathBuf {
    match csv.is_symlink() {
        true => crate::io::resolved(csv),
        false => csv.to_owned(),
    }
}

/// A results CSV and the files a run writes beside it.
pub fn outputs(csv: &Path) -> [PathBuf; 5] {
    [
        csv.to_owned(),
        super::ledger::per_seq_path(csv),
        super::ledger::per_seq_n_path(csv),
        super::shard::shard_path(csv),
        record_path(csv),
    ]
}

impl RunLock {
    /// Claims `csv` for a run: none of its files may be one of `inputs` (or inside one), and no
    /// other run may be writing it.
    pub fn claim(csv: &Path, inputs: &[&Path]) -> Result<RunLock> {
        let advice = "give each run its own output (a shard its own file, then merge them), or \
                      wait for that run to end";
        RunLock::claim_saying(csv, inputs, advice)
    }

    /// [`RunLock::claim`], with what to do when another run holds the lock.
    pub fn claim_saying(csv: &Path, inputs: &[&Path], advice: &str) -> Result<RunLock> {
        for o in outputs(csv) {
            crate::io::check_not_input(&o, inputs)?;
        }
        check_own_sidecars(csv)?;
        let lock = RunLock::take(csv, advice)?;
        // Under the lock: a run of ours may be writing these until then.
        check_sidecars_are_ceqs(csv)?;
        Ok(lock)
    }

    /// Only the lock of `csv`, checking nothing of its files: for removing them.
    pub fn hold(csv: &Path) -> Result<RunLock> {
        RunLock::take(csv, "wait for that run to end")
    }

    fn take(csv: &Path, advice: &str) -> Result<RunLock> {
        let name = csv.file_name().unwrap_or_default().to_string_lossy();
        let path = csv.with_file_name(format!(".ceq-{name}.lock"));
        let open = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path);
        // One another user's killed run left, which this user may not write: a lock needs reading
        // only.
        let file = open.or_else(|_| std::fs::File::open(&path)).map_err(|e| Error::Data {
            kind: DataKind::InUse,
            path: path.clone(),
            message: format!(
                "cannot open it ({e}): it is the lock ceq takes beside {} while a run writes it; \
                 one left by a killed run may be removed while no ceq runs on that output",
                csv.display()
            ),
        })?;
        match file.try_lock() {
            // A run that ended removed this lock file after we opened it: ours locks nothing
            // another run would see, so take the lock again, in the file now there.
            Ok(()) if !still_named(&file, &path) => RunLock::take(csv, advice),
            Ok(()) => {
                // Held, so no run is writing these: copies a killed run left unfinished go.
                for left in outputs(csv)
                    .iter()
                    .flat_map(|o| crate::io::files_left_beside(o))
                {
                    let _ = std::fs::remove_file(left);
                }
                Ok(RunLock { path, _file: file })
            }
            // A filesystem without locks (some network mounts) runs unlocked, as before.
            Err(std::fs::TryLockError::Error(_)) => Ok(RunLock { path, _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Data {
                kind: DataKind::InUse,
                path: csv.to_owned(),
                message: format!(
                    "another ceq is writing it now (it holds {}): {advice}",
                    path.display()
                ),
            }),
        }
    }
}

/// Whether `path` still names the open `file` (not removed, nor replaced by another).
fn still_named(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Writes a table to `out` with `write`, under the lock a run takes on its results: a table may
/// not replace a run's results, and a run that starts after the check (an evaluation writing
/// `out` as its results) is still writing, or has finished, when the table would land.
pub fn write_table_file(out: &Path, write: impl FnOnce() -> Result<()>) -> Result<()> {
    if crate::io::is_special(out) {
        return write();
    }
    let target = results_path(out);
    let _lock = RunLock::take(
        &target,
        "wait for that run to end, or write the table elsewhere",
    )?;
    check_not_results(&target)?;
    write()
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A file in a name a run writes beside `csv` that is not what ceq writes there (its run record,
/// shard record, or per-sequence arrays) is the user's: refused, never replaced or removed.
fn check_sidecars_are_ceqs(csv: &Path) -> Result<()> {
    let json_is = |p: &Path, ok: fn(&str) -> bool| std::fs::read_to_string(p).is_ok_and(|t| ok(&t));
    // An array of ceq's kind (f64, C order, as ceq writes its header): one ceq wrote but that was
    // damaged since is the ledger's to say and replace; token ids or another dtype are not ceq's.
    let npy_is = |p: &Path| {
        let head = b"\x93NUMPY\x01\x00??{'descr': '<f8', 'fortran_order': False, 'shape': (";
        let mut start = vec![0u8; head.len()];
        std::fs::File::open(p)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut start))
            .is_ok_and(|()| {
                (start.iter().zip(head))
                    .enumerate()
                    .all(|(i, (a, b))| matches!(i, 8 | 9) || a == b)
            })
    };
    // One that cannot be read is said as such, not as a file of another kind.
    for p in outputs(csv).iter().skip(1).filter(|p| p.is_file()) {
        std::fs::File::open(p).map_err(Error::io(p))?;
    }
    let checks: [(PathBuf, &str, bool); 4] = {
        let run = record_path(csv);
        let shard = super::shard::shard_path(csv);
        let (seq, seq_n) = (
            super::ledger::per_seq_path(csv),
            super::ledger::per_seq_n_path(csv),
        );
        [
            (
                run.clone(),
                "run record",
                !run.exists() || json_is(&run, |t| serde_json::from_str::<RunRecord>(t).is_ok()),
            ),
            (
                shard.clone(),
                "shard record",
                !shard.exists()
                    || json_is(&shard, |t| {
                        serde_json::from_str::<super::shard::ShardRecord>(t).is_ok()
                    }),
            ),
            (
                seq.clone(),
                "per-sequence losses",
                !seq.exists() || npy_is(&seq),
            ),
            (
                seq_n.clone(),
                "per-sequence counts",
                !seq_n.exists() || npy_is(&seq_n),
            ),
        ]
    };
    match checks.into_iter().find(|c| !c.2) {
        None => Ok(()),
        Some((path, what, _)) => Err(Error::Foreign {
            path: path.clone(),
            message: format!(
                "it is not a file ceq wrote, and a run on {} keeps its {what} there: move it, or \
                 choose another output name",
                csv.display()
            ),
        }),
    }
}

/// Refuses `csv` where another results file beside it has its name but for the extension's case
/// (`c.csv` and `c.CSV`): the files a run writes beside one (`c.per_seq.npy`, …) are the other's
/// too, and each run would overwrite the other's.
fn check_own_sidecars(csv: &Path) -> Result<()> {
    let (Some(stem), Some(name)) = (csv.file_stem(), csv.file_name()) else {
        return Ok(());
    };
    let dir = csv.parent().filter(|d| !d.as_os_str().is_empty());
    let Ok(entries) = std::fs::read_dir(dir.unwrap_or(Path::new("."))) else {
        return Ok(());
    };
    let other = entries.filter_map(|e| e.ok()).map(|e| e.path()).find(|p| {
        p.file_name() != Some(name)
            && p.file_stem() == Some(stem)
            && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
            && !crate::io::same_path(p, csv)
    });
    match other {
        None => Ok(()),
        Some(other) => Err(Error::Refused {
            path: csv.to_owned(),
            message: format!(
                "{} is beside it, and the files a run writes beside a results file ({}, …) would \
                 be both files': choose a name that differs from it by more than the case of its \
                 extension",
                Path::new(other.file_name().unwrap_or_default()).display(),
                super::ledger::per_seq_path(csv).display()
            ),
        }),
    }
}

/// The files of a model or SAE folder that decide what it computes, by name: those ceq reads (a
/// model's weights, their shards and index, its config; an SAE's weights, cfg.json and activation
/// scaler), not others a download may add beside them.
fn decides(name: &str) -> bool {
    let model_weights = name.starts_with("model") && name.ends_with(".safetensors");
    model_weights
        || [
            "model.safetensors.index.json",
            "config.json",
            "sae_weights.safetensors",
            "sae.safetensors",
            "cfg.json",
            "activation_scaler.json",
        ]
        .contains(&name)
}

/// Whether two records name the same file: by the path relative to the results file (the whole
/// project moved) or by the absolute one (the results file moved, or was merged from a shard).
fn same_file(a: &FileId, b: &FileId) -> bool {
    a.path == b.path || (!a.abs.is_empty() && a.abs == b.abs)
}

/// Whether two modification times differ. Archives (tar, zip) and some file systems keep whole or
/// even seconds: a time with no fraction of a second matches one within 2 s; otherwise the times
/// must agree to the nanosecond (a file rewritten a moment after it was read is another file).
fn times_differ(a: u64, b: u64) -> bool {
    const SECOND: u64 = 1_000_000_000;
    if a.is_multiple_of(SECOND) || b.is_multiple_of(SECOND) {
        a.abs_diff(b) >= 2 * SECOND
    } else {
        a != b
    }
}

/// `to` relative to the folder `from` (both resolved), else `to` whole.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let (a, b): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return to.to_owned();
    }
    let mut out: PathBuf = a[common..].iter().map(|_| "..").collect();
    out.extend(&b[common..]);
    out
}

/// `ids` recorded beside `from` (a shard), named relative to the folder of `to` (the merged file).
pub fn rebase(ids: Vec<FileId>, from: &Path, to: &Path) -> Vec<FileId> {
    let folder = |p: &Path| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
        dir.unwrap_or(Path::new(".")).canonicalize().ok()
    };
    let (Some(from), Some(to)) = (folder(from), folder(to)) else {
        return ids;
    };
    ids.into_iter()
        .map(|mut id| {
            if let Ok(real) = from.join(&id.path).canonicalize() {
                id.path = relative(&to, &real).to_string_lossy().into_owned();
            }
            id
        })
        .collect()
}

/// The files in `dirs` that decide what a row computes, as they are now, named relative to the
/// folder of `csv`.
pub fn identify(csv: &Path, dirs: &[&Path]) -> Result<Vec<FileId>> {
    let base = csv.parent().filter(|p| !p.as_os_str().is_empty());
    let base = base
        .unwrap_or(Path::new("."))
        .canonicalize()
        .unwrap_or_default();
    let mut ids = vec![];
    for dir in dirs {
        let dir = dir.canonicalize().map_err(Error::io(dir))?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(Error::io(&dir))?
            .filter_map(|e| e.ok())
            .filter(|e| decides(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            // Resolved, so a link pointed elsewhere reads as another file.
            let real = file.canonicalize().map_err(Error::io(&file))?;
            let meta = std::fs::metadata(&real).map_err(Error::io(&real))?;
            if !meta.is_file() {
                continue;
            }
            let modified_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
            ids.push(FileId {
                path: relative(&base, &real).to_string_lossy().into_owned(),
                abs: real.to_string_lossy().into_owned(),
                bytes: meta.len(),
                modified_ns,
            });
        }
    }
    Ok(ids)
}

/// A modification time as UTC date and time, to the nanosecond (days to a civil date by Howard
/// Hinnant's `civil_from_days`, so no date crate is needed for a message).
fn utc(ns: u64) -> String {
    let (secs, nanos) = (ns / 1_000_000_000, ns % 1_000_000_000);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, sec) = (rem / 3600, rem / 60 % 60, rem % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{sec:02}.{nanos:09} UTC")
}

/// What differs between a row's inputs as recorded (`was`) and as they are now, in words; `None`
/// when nothing does.
pub fn changed(was: &[FileId], now: &[FileId]) -> Option<String> {
    for w in was {
        match now.iter().find(|n| same_file(n, w)) {
            None => {
                return Some(format!(
                    "{} was read then, but is not now (the manifest names another folder, or the \
                     file is gone)",
                    w.path
                ));
            }
            Some(n) if n.bytes != w.bytes => {
                return Some(format!(
                    "{} changed since: {} bytes then, {} now",
                    w.path, w.bytes, n.bytes
                ));
            }
            Some(n) if times_differ(n.modified_ns, w.modified_ns) => {
                return Some(format!(
                    "{} changed since: modified {} then, {} now",
                    w.path,
                    utc(w.modified_ns),
                    utc(n.modified_ns)
                ));
            }
            Some(_) => {}
        }
    }
    now.iter()
        .find(|n| !was.iter().any(|w| same_file(n, w)))
        .map(|n| {
            format!(
                "this run reads {}, which it was not measured from (the manifest names another \
                 folder, or the file is new)",
                n.path
            )
        })
}

/// Refuses a results file whose run record says the run did not finish, or whose shard record
/// says it is one shard of several: its rows are a part of the job, and a fit or map of them would
/// read as the whole. A file without either record reads as before.
pub fn check_finished(csv: &Path) -> Result<()> {
    // SAEBench results (a folder or JSON) and other CSVs have no record beside them.
    if !csv.is_file() {
        return Ok(());
    }
    // A link's records are beside its target, where the run that wrote it put them.
    let csv = &results_path(csv);
    let record = RunRecord::read(csv)?;
    let shard_path = super::shard::shard_path(csv);
    let shard = super::shard::ShardRecord::beside(csv);
    if shard.is_none() && shard_path.is_file() {
        return Err(Error::Data {
            kind: DataKind::Unfinished,
            path: csv.to_owned(),
            message: format!(
                "its shard record {} cannot be read, so whether it is one shard of a job (a part \
                 of its rows) cannot be told; run its shard again into the same file (it keeps \
                 the rows there and writes the record), or, if the file is a whole run, remove \
                 the record",
                shard_path.display()
            ),
        });
    }
    let shard = shard.filter(|s| s.count > 1);
    if record.as_ref().is_none_or(|r| r.finished) && shard.is_none() {
        return Ok(());
    }
    // A record left by another writer (a single `ceq eval --out` over a sweep's file) does not
    // describe rows it does not name.
    let names: Vec<String> = csv::Reader::from_path(csv)
        .ok()
        .and_then(|mut r| {
            let i = r.headers().ok()?.iter().position(|h| h == "name")?;
            Some(
                r.records()
                    .filter_map(|x| Some(x.ok()?.get(i)?.to_owned()))
                    .collect(),
            )
        })
        .unwrap_or_default();
    let present = names.len();
    let error = |message| Error::Data {
        kind: DataKind::Unfinished,
        path: csv.to_owned(),
        message,
    };
    if let Some(record) = record.filter(|r| !r.finished)
        && names.iter().all(|n| record.rows.contains(n))
    {
        let path = record_path(csv);
        return Err(error(format!(
            "the evaluation that writes it did not finish ({} says so): it holds {present} of the \
             {} rows the run will hold; run the same evaluation again into this file to finish it \
             (it keeps the rows already there), or, to use the rows there as they are, remove {}",
            path.display(),
            record.rows.len(),
            path.display()
        )));
    }
    if let Some(s) = shard.filter(|s| names.iter().all(|n| s.rows.contains(n))) {
        let path = shard_path.display();
        return Err(error(format!(
            "it is shard {}/{} of a job ({path} says so): its {present} row(s) are a part of the \
             job's; merge every shard of the job into one file and read that, or, to use this \
             shard's rows alone, remove {path} (a merge then refuses the shard until it is run \
             again)",
            s.index, s.count,
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        let r = relative(
            Path::new("/a/b/out"),
            Path::new("/a/b/models/m/x.safetensors"),
        );
        assert_eq!(r, Path::new("../models/m/x.safetensors"));
        assert_eq!(relative(Path::new("/a"), Path::new("/a/f")), Path::new("f"));
    }

    /// A lock file a finished run removed, or one put in its place, is not the lock: a run that
    /// opened it before takes the lock again in the file now there.
    #[test]
    fn a_removed_lock_file_is_not_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".ceq-x.csv.lock");
        let file = std::fs::File::create(&path).unwrap();
        assert!(still_named(&file, &path));
        std::fs::remove_file(&path).unwrap();
        assert!(!still_named(&file, &path));
        std::fs::File::create(&path).unwrap();
        assert!(!still_named(&file, &path));
    }

    #[test]
    fn times_read_as_utc_dates() {
        // `date -u -d @1796082465` (GNU date) gives 2026-11-30 23:47:45 UTC.
        assert_eq!(
            utc(1_796_082_465_327_322_620),
            "2026-11-30 23:47:45.327322620 UTC"
        );
        // A leap day: `date -u -d @951782400` gives 2000-02-29 00:00:00 UTC.
        assert_eq!(
            utc(951_782_400_000_000_000),
            "2000-02-29 00:00:00.000000000 UTC"
        );
    }

    #[test]
    fn a_changed_size_time_or_file_is_named() {
        let f = |p: &str, b, t| FileId {
            path: p.into(),
            abs: format!("/data/{p}"),
            bytes: b,
            modified_ns: t,
        };
        let was = vec![f("m/model.safetensors", 10, 5)];
        assert_eq!(changed(&was, &was), None);
        let size = changed(&was, &[f("m/model.safetensors", 11, 5)]).unwrap();
        assert!(size.contains("10 bytes then, 11 now"), "{size}");
        let time = changed(&was, &[f("m/model.safetensors", 10, 6)]).unwrap();
        assert!(
            time.contains("modified 1970-01-01 00:00:00.000000005 UTC then"),
            "{time}"
        );
        // Kept to whole seconds (a tar archive restored): the same file.
        let secs = [f("m/model.safetensors", 10, 1_000_000_000)];
        let was_ns = [f("m/model.safetensors", 10, 1_500_000_007)];
        assert_eq!(changed(&was_ns, &secs), None);
        let moved = changed(&was, &[f("n/model.safetensors", 10, 5)]).unwrap();
        assert!(moved.contains("m/model.safetensors"), "{moved}");
        let more = [f("m/model.safetensors", 10, 5), f("m/config.json", 1, 1)];
        assert!(changed(&was, &more).unwrap().contains("m/config.json"));
        // The results file moved, its inputs did not: another relative path, the same file.
        let mut here = f("../m/model.safetensors", 10, 5);
        here.abs = was[0].abs.clone();
        assert_eq!(changed(&was, &[here]), None);
    }
}
