//! Writing outputs safely: never over an input, and atomically (a temporary file in the same folder,
//! renamed into place), so a crash or a full disk leaves the old file or the new one, never half.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The path with its parent folder resolved, whether or not the file exists yet.
fn resolved(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let parent = p
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), p.file_name()) {
        (Ok(d), Some(f)) => d.join(f),
        _ => p.to_owned(),
    }
}

/// Refuses an output path that is one of the inputs.
pub fn check_not_input(out: &Path, inputs: &[&Path]) -> Result<()> {
    let o = resolved(out);
    for i in inputs {
        if resolved(i) == o {
            return Err(Error::OutputIsInput {
                out: out.to_owned(),
                input: i.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Refuses any of `outs` that is one of the inputs.
pub fn check_none_is_input(
    outs: impl IntoIterator<Item = PathBuf>,
    inputs: &[&Path],
) -> Result<()> {
    outs.into_iter()
        .try_for_each(|o| check_not_input(&o, inputs))
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

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let err = |source| Error::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".ceq-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    // A temporary file is private (0600); the output gets the old file's mode, or the usual 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}
