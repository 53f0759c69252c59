//! Writing outputs safely: never over or into an input, and atomically (a temporary file in the same
//! folder, renamed into place), so a crash or a full disk leaves the old file or the new one, never
//! half. A symlink is written through (its target is replaced, the link stays); a device, FIFO or
//! socket is written into directly, never replaced by a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{DataKind, Error, Result};

/// Where writing to `p` lands: `p` with every symlink resolved, a link to a file not made yet
/// included, whether or not the file (or its folder) exists yet.
pub fn resolved(p: &Path) -> PathBuf {
    let mut p = p.to_owned();
    // A dangling link: follow it by hand to where its target would be (as many hops as the kernel allows).
    for _ in 0..40 {
        if let Ok(c) = p.canonicalize() {
            return c;
        }
        match std::fs::read_link(&p) {
            Ok(t) => p = p.parent().unwrap_or(Path::new("")).join(t),
            Err(_) => break,
        }
    }
    // The longest part that exists, resolved, then the rest as written.
    let mut tail = vec![];
    let mut head = p.as_path();
    loop {
        let h = if head.as_os_str().is_empty() {
            Path::new(".")
        } else {
            head
        };
        if let Ok(c) = h.canonicalize() {
            return tail.iter().rev().fold(c, |acc, part| acc.join(part));
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_owned());
                head = parent;
            }
            _ => return p,
        }
    }
}

/// Whether `a` and `b` are one file (device and inode): hard links, and links the paths miss.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (x.dev(), x.ino()) == (y.dev(), y.ino());
        }
    }
    false
}

/// Whether `a` and `b` name one file: the same path once symlinks are resolved, or the same file
/// (a hard link).
pub fn same_path(a: &Path, b: &Path) -> bool {
    resolved(a) == resolved(b) || same_file(a, b)
}

/// Whether `path` is `-`, the usual name for standard output.
pub fn is_dash(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Whether `path` is this process's standard output (`-`, `/dev/stdout`, or the file or pipe
/// stdout was sent to), so that a command writing a file and a summary does not send both there.
pub fn is_stdout(path: &Path) -> bool {
    if is_dash(path) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let fd = std::io::stdout().as_fd().try_clone_to_owned();
        if let (Ok(fd), Ok(p)) = (fd, std::fs::metadata(path)) {
            let out = std::fs::File::from(fd).metadata();
            return out.is_ok_and(|o| (o.dev(), o.ino()) == (p.dev(), p.ino()));
        }
    }
    let _ = path;
    false
}

/// Whether `path` names standard output: `-`, or a path under /dev or /proc that is it
/// (`/dev/stdout`, `/dev/fd/1`). A file's own name that stdout happens to be sent to
/// (`--out f.csv >> f.csv`) is that file, kept to its rules (refused without `--force`).
pub fn names_stdout(path: &Path) -> bool {
    is_dash(path) || ((path.starts_with("/dev") || path.starts_with("/proc")) && is_stdout(path))
}

/// Refuses standard output sent to one of `inputs` (`ceq fit --out - >> ck.csv`): what ceq prints
/// would be written into a file it reads.
pub fn check_stdout_not_input(inputs: &[&Path]) -> Result<()> {
    match inputs.iter().find(|i| !is_dash(i) && is_stdout(i)) {
        Some(i) => Err(Error::OutputIsInput {
            out: "standard output".into(),
            input: i.to_path_buf(),
            why: "is sent to the input",
        }),
        None => Ok(()),
    }
}

/// Refuses to replace a file that exists and is not empty, unless `replace`: an earlier result or a
/// file of the user's is lost only when asked for. Followed through a symlink (its target is what
/// would be replaced); devices, FIFOs and empty files are written as they are, and so is standard
/// output named as such ([`names_stdout`]: `/dev/stdout` sent to a file with `>>`), which ceq
/// writes to, not replaces.
pub fn check_may_replace(out: &Path, replace: bool) -> Result<()> {
    if names_stdout(out) {
        return Ok(());
    }
    match std::fs::metadata(out) {
        Ok(m) if !replace && m.is_file() && m.len() > 0 => Err(Error::OutputExists {
            path: out.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// Refuses an output file that would write over or into an input (see `not_over_input`), whose
/// folder does not exist or cannot be written, or that is read-only: checked before any work, so a
/// long evaluation does not end in an error it could have said at the start.
pub fn check_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    not_over_input(out, inputs)?;
    check_folder(out)
}

/// Refuses an output file whose folder does not exist (or is not a folder, or no file can be made
/// in it), or that exists and is read-only or a folder. A device, FIFO or socket is written into where it is.
pub fn check_folder(out: &Path) -> Result<()> {
    if is_special(out) {
        return Ok(());
    }
    let target = resolved(out);
    if target.is_dir() {
        return Err(not_writable(
            out,
            "it is a folder, and ceq writes a file there; give a file's path".into(),
        ));
    }
    let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    let why = if !dir.exists() {
        "does not exist; make it first, or choose another path"
    } else if !dir.is_dir() {
        "is not a folder; choose another path"
    } else {
        check_can_write_in(out, dir)?;
        return not_read_only(out);
    };
    Err(Error::Write {
        path: out.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("its folder {} {why}", dir.display()),
        ),
    })
}

/// Refuses writing `out` when no file can be made in `dir` (the folder `out` lies in, or where it
/// will be made or swapped in).
pub fn check_can_write_in(out: &Path, dir: &Path) -> Result<()> {
    check_can_create_in(dir).map_err(|source| Error::Write {
        path: out.to_owned(),
        source,
    })
}

/// Whether a file can be made in `dir` (the only sure test: make one), so that an unwritable
/// folder is said before any work, not after it, and not by a side file's name. The probe is an
/// unnamed file (Linux's O_TMPFILE; elsewhere one unlinked at once), so a run killed meanwhile
/// leaves no file behind to be taken for the user's (a named probe left in a report folder made
/// the next forced report refuse it).
fn check_can_create_in(dir: &Path) -> std::io::Result<()> {
    match tempfile::tempfile_in(dir) {
        Ok(_) => Ok(()),
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!(
                "no file can be made in the folder {} ({}); choose another folder, or make it writable",
                dir.display(),
                without_path(e)
            ),
        )),
    }
}

/// Refuses an existing file that is read-only (no write permission in its mode, or none for this
/// user): ceq replaces a file by renaming a new one over it, which the file's mode would not stop,
/// so a file the user protected is left alone here. A device, FIFO or socket is not checked.
fn not_read_only(out: &Path) -> Result<()> {
    let Ok(meta) = std::fs::metadata(out) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Ok(());
    }
    let writable = rustix::fs::access(out, rustix::fs::Access::WRITE_OK).is_ok();
    if writable && !meta.permissions().readonly() {
        return Ok(());
    }
    Err(Error::Write {
        path: out.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "the file exists and is read-only; ceq leaves it as it is: make it writable (chmod u+w), or choose another path",
        ),
    })
}

/// Refuses any of `outs` (files ceq may write) that exists and is read-only: the rename that
/// replaces a file would not heed its mode.
pub fn check_writable(outs: impl IntoIterator<Item = PathBuf>) -> Result<()> {
    outs.into_iter().try_for_each(|o| not_read_only(&o))
}

/// Refuses an output file whose name does not end `.{ext}` (any case): ceq writes `what` there,
/// and a name saying another format would be read as that format.
pub fn check_extension(out: &Path, ext: &str, what: &str) -> Result<()> {
    let has = out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if has {
        return Ok(());
    }
    Err(Error::Refused {
        path: out.to_owned(),
        message: format!("ceq writes {what} there; give it a name ending .{ext}"),
    })
}

/// Refuses an output that would write over or into an input: the input itself (by resolved path or
/// by file identity, so symlinks and hard links count), or any path inside an input folder (a
/// model's or an SAE's folder stands for every file in it, those the loaders would read included).
fn not_over_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    let o = resolved(out);
    for &i in inputs {
        let r = resolved(i);
        let why = if r == o {
            "is the input"
        } else if same_file(out, i) {
            "is the same file (a link) as the input"
        } else if r.is_dir() && o.starts_with(&r) {
            "lies inside the input folder"
        } else {
            continue;
        };
        return Err(Error::OutputIsInput {
            out: out.to_owned(),
            input: i.to_path_buf(),
            why,
        });
    }
    Ok(())
}

/// Refuses any of `outs` (the files of an output folder, which may not exist yet) that would write
/// over or into one of the inputs.
pub fn check_none_is_input(
    outs: impl IntoIterator<Item = PathBuf>,
    inputs: &[&Path],
) -> Result<()> {
    outs.into_iter()
        .try_for_each(|o| not_over_input(&o, inputs))
}

/// An error for an output folder that exists and is not a folder, or that holds what it should not.
pub(crate) fn not_writable(dir: &Path, why: String) -> Error {
    Error::Refused {
        path: dir.to_owned(),
        message: why,
    }
}

/// Checks that `dir` is a folder or absent, that files can be made in it (or where it will be
/// made), that none of `files` (paths in it) is read-only, and, unless `force`, that none of them
/// exists yet: files in an output folder are replaced only when asked.
pub fn check_out_dir(dir: &Path, files: &[PathBuf], force: bool) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(not_writable(dir, "it exists and is not a folder".into()));
    }
    // A new folder is made in one that exists, as `mkdir` makes it: a mistyped path is said, not
    // made (a link's target included).
    let target = resolved(dir);
    let made_in = match target.parent().filter(|p| !p.as_os_str().is_empty()) {
        _ if target.is_dir() => target.clone(),
        Some(p) if p.is_dir() => p.to_owned(),
        None => PathBuf::from("."),
        Some(p) => {
            let link = match target != dir.as_os_str() && dir.symlink_metadata().is_ok() {
                true => format!(" (the link's target is {})", target.display()),
                false => String::new(),
            };
            return Err(not_writable(
                dir,
                format!(
                    "the folder it would be made in, {}, does not exist{link}; make it first, or \
                     choose another path",
                    p.display()
                ),
            ));
        }
    };
    check_can_write_in(dir, &made_in)?;
    check_writable(files.iter().cloned())?;
    // A file ceq names in its own folder is written there: a link would carry it to a file
    // elsewhere, which forcing would replace.
    if let Some(link) = files.iter().find(|f| f.is_symlink()) {
        let to = std::fs::read_link(link).unwrap_or_default();
        return Err(not_writable(
            link,
            format!(
                "it is a link (to {}), and ceq writes the files of an output folder in the \
                 folder itself, never through a link; remove the link",
                to.display()
            ),
        ));
    }
    let existing: Vec<String> = files
        .iter()
        .filter(|f| f.symlink_metadata().is_ok())
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if force || existing.is_empty() {
        return Ok(());
    }
    Err(Error::Data {
        kind: DataKind::OutputDir,
        path: dir.to_owned(),
        message: format!(
            "holds {} already; files there are replaced only when forced",
            existing.join(", ")
        ),
    })
}

/// [`check_out_dir`], then makes the folder if it is missing.
pub fn make_out_dir(dir: &Path, files: &[PathBuf], force: bool) -> Result<()> {
    check_out_dir(dir, files, force)?;
    // A link to a folder not made yet is made as its target (which the checks above looked at):
    // made at the link's own name, it failed as "File exists".
    std::fs::create_dir_all(resolved(dir)).map_err(|source| Error::Write {
        path: dir.to_owned(),
        source,
    })
}

/// Writes a command's result to standard output. A closed pipe (`ceq fit | head`) ends the output
/// quietly, as in other Unix tools, rather than with a panic from `print!`.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(source) if source.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "standard output".into(),
            source,
        }),
        _ => Ok(()),
    }
}

/// Writes a line to standard error. A closed stderr (`ceq … 2>&1 | head`) must not stop a run
/// that is writing its outputs, so an error here is ignored (`eprintln!` would panic). Use through
/// [`crate::say!`].
pub fn say(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// `eprintln!` that never panics: see [`say`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::io::say(format_args!($($arg)*))
    };
}

/// A device, FIFO or socket: a file that must be written into, never replaced.
pub fn is_special(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if let Ok(t) = std::fs::metadata(path).map(|m| m.file_type()) {
            return t.is_char_device() || t.is_block_device() || t.is_fifo() || t.is_socket();
        }
    }
    false
}

/// Writes `bytes` to `path` atomically: through a symlink to its target, and straight into a
/// device, FIFO or socket (`/dev/stdout` stays itself). The temporary file is removed on every
/// error (only a killed process leaves one, named `.ceq-NAME-*`).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] of what `write` writes, streamed into the file: a large table is never held
/// whole in memory as text.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    if is_dash(path) {
        let mut bytes = vec![];
        write(&mut bytes).map_err(err)?;
        return write_stdout(&String::from_utf8_lossy(&bytes));
    }
    // Asked of `path` itself, so the kernel follows links /proc makes (`/dev/stdout` to a pipe).
    if is_special(path) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(err)?;
        return buffered(&mut f, write).map_err(err);
    }
    let target = resolved(path);
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile's error names the temporary file, which the user never asked for: only its cause.
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&target))
        .tempfile_in(dir)
        .map_err(|e| err(without_path(e)))?;
    buffered(tmp.as_file_mut(), write).map_err(err)?;
    // A temporary file is private (0600); the output gets the old file's mode, or the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&target).map_or(0o644, |m| m.permissions().mode());
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    // On failure the returned file is dropped here, which deletes it.
    tmp.persist(&target).map_err(|e| err(e.error))?;
    Ok(())
}

/// What `write` writes, into `f` through a buffer.
fn buffered(
    f: &mut std::fs::File,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
    write(&mut w)?;
    w.flush()
}

/// An I/O error without the path tempfile wraps it with ("… at path \"dir/.ceq-XXXX\"": its
/// wrapper is private and gives no cause, so the text is cut), the kind kept.
fn without_path(e: std::io::Error) -> std::io::Error {
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((cause, _)) if e.get_ref().is_some() => std::io::Error::new(e.kind(), cause),
        _ => e,
    }
}

/// The start of the name of a temporary file or folder made beside `path` while writing it:
/// `.ceq-NAME-`, so one a killed run leaves says what it was a copy of.
fn temp_prefix(path: &Path) -> String {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    // A file name holds 255 bytes; the temporary one adds the prefix and 6 random characters.
    let cut = (0..=name.len().min(200))
        .rev()
        .find(|&i| name.is_char_boundary(i));
    format!(".ceq-{}-", &name[..cut.unwrap_or(0)])
}

/// Temporary folders a killed ceq left beside `dir` while replacing it (see [`NewDir`]): each holds
/// a new copy or the old one, so ceq does not remove them.
pub fn left_beside(dir: &Path) -> Vec<PathBuf> {
    temps_left(dir, true)
}

/// Temporary files a killed ceq left beside `path` while writing it atomically: each an unfinished
/// copy (the file itself was not replaced), which a later run of the same output may remove.
pub fn files_left_beside(path: &Path) -> Vec<PathBuf> {
    temps_left(path, false)
}

fn temps_left(path: &Path, dirs: bool) -> Vec<PathBuf> {
    let dir = resolved(path);
    let (Some(parent), prefix) = (dir.parent(), temp_prefix(&dir)) else {
        return vec![];
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return vec![];
    };
    let mut left: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            // tempfile's 6 random characters follow the prefix: `.ceq-rep2-old-Ab12Cd` is not rep2's.
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix(&prefix)
                .is_some_and(|r| r.len() == 6 && r.chars().all(|c| c.is_ascii_alphanumeric()))
        })
        .filter(|e| {
            e.file_type()
                .is_ok_and(|t| if dirs { t.is_dir() } else { t.is_file() })
        })
        .map(|e| e.path())
        .collect();
    left.sort();
    left
}

/// A new, hidden folder (`.ceq-NAME-*`) made beside `dir`, to be filled and then swapped in for `dir`
/// whole, so that `dir` is at every moment the old folder or the new one. Dropped before
/// [`NewDir::swap_in`] (an error while filling it), it is removed.
pub struct NewDir {
    tmp: tempfile::TempDir,
    /// The folder it replaces, symlinks resolved (a link to a folder stays a link).
    dir: PathBuf,
}

impl NewDir {
    pub fn beside(dir: &Path) -> Result<NewDir> {
        let dir = resolved(dir);
        let err = |source| Error::Write {
            path: dir.clone(),
            source,
        };
        let Some(parent) = dir.parent() else {
            return Err(not_writable(
                &dir,
                "a folder with no parent cannot be replaced".into(),
            ));
        };
        std::fs::create_dir_all(parent).map_err(err)?;
        let prefix = temp_prefix(&dir);
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix);
        // The usual mode of a new folder (the umask applies), not a temporary folder's 0700.
        #[cfg(unix)]
        b.permissions(
            <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o777),
        );
        let tmp = b.tempdir_in(parent).map_err(|e| err(without_path(e)))?;
        // A replaced folder keeps its mode.
        if let Ok(m) = std::fs::metadata(&dir) {
            std::fs::set_permissions(tmp.path(), m.permissions()).map_err(err)?;
        }
        Ok(NewDir { tmp, dir })
    }

    /// Where to write the new folder's files.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Puts the new folder where the old one was; the old one is removed.
    pub fn swap_in(self) -> Result<()> {
        let err = |source| Error::Write {
            path: self.dir.clone(),
            source,
        };
        let new = self.tmp.path();
        if self.dir.symlink_metadata().is_err() {
            return std::fs::rename(new, &self.dir).map_err(err);
        }
        // One step where the system has it: the temporary folder then holds the old one, and is
        // removed when dropped.
        if exchange(new, &self.dir).is_ok() {
            return Ok(());
        }
        // Else two renames, the old folder first moved aside (onto an empty temporary folder).
        let parent = self.dir.parent().unwrap_or(Path::new("."));
        let old = tempfile::Builder::new()
            .prefix(&temp_prefix(&self.dir))
            .tempdir_in(parent)
            .map_err(|e| err(without_path(e)))?;
        std::fs::rename(&self.dir, old.path()).map_err(err)?;
        if let Err(e) = std::fs::rename(new, &self.dir) {
            let _ = std::fs::rename(old.path(), &self.dir);
            return Err(err(e));
        }
        Ok(())
    }
}

/// Swaps two paths in one step (Linux's `renameat2` with `RENAME_EXCHANGE`), so neither is ever
/// missing; an error where the system or the file system lacks it.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}
