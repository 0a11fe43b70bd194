//! Writing a file whole or not at all: a temporary file beside it, synced, then renamed over it.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` whole or not at all, as the kit writes every file (profiles,
/// baselines, the command's outputs): through a temporary file in the same directory, named for
/// this process and this write (so that writers in other threads and processes never share one),
/// synced, then renamed over `path`. A reader sees the old file or the new one, never half of one.
/// The temporary file is removed if anything fails. A `path` that exists and is not a regular
/// file (`/dev/null`, a terminal, a named pipe) is written in place: a rename would replace
/// the device with a file. This process's standard output or error by name (`/dev/stdout`,
/// `/dev/fd/2`, `/proc/self/fd/1`) is written through its descriptor, whatever it is open on:
/// after what was written there before, as a shell's `>>` or `(echo header; ...) > log` expects.
/// A symbolic link is followed (the file it names is replaced, the link stays), and a file
/// replaced keeps its permissions.
///
/// # Errors
///
/// The I/O error of creating, writing, syncing or renaming the file. Another descriptor of this
/// process by name (`/dev/fd/3`) open on a regular file is refused
/// ([`InvalidInput`](std::io::ErrorKind::InvalidInput)): it can be written through only as that
/// descriptor, and replacing the file it names would lose what was written to it.
///
/// # Examples
///
/// ```
/// let path = std::env::temp_dir().join(format!("dhat-kit-doc-atomic-{}.svg", std::process::id()));
/// dhat_kit::write_atomically(&path, b"<svg/>")?;
/// assert_eq!(std::fs::read(&path)?, b"<svg/>");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |out| out.write_all(bytes))
}

/// [`write()`], streaming: `fill` writes the contents into a buffered writer (of the temporary file,
/// or of `path` itself when it is a device).
pub(crate) fn write_with<E: From<std::io::Error>>(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<File>) -> Result<(), E>,
) -> Result<(), E> {
    // Standard output or error by name (`/dev/stdout`, `/dev/fd/2`, `/proc/self/fd/1`): written
    // through the descriptor itself, where the shell's redirection put it (`>> log` appends,
    // `(echo header; dhat-kit .. -o /dev/stdout) > log` writes after the header). Replacing the
    // file it names, or opening that file again, would lose what the shell wrote there.
    #[cfg(unix)]
    if let Some((own, fd)) = descriptor(path) {
        use std::os::fd::AsFd;
        let fd = match fd.to_str() {
            Some("1") if own => {
                std::io::stdout().flush()?;
                Some(std::io::stdout().as_fd().try_clone_to_owned()?)
            }
            Some("2") if own => Some(std::io::stderr().as_fd().try_clone_to_owned()?),
            // Another descriptor open on a file (of this process, or another's: the shell's
            // `/proc/$$/fd/1`): refused, for the same reason.
            _ if std::fs::metadata(path).is_ok_and(|m| m.is_file()) => {
                let whose = if own {
                    "this process"
                } else {
                    "another process"
                };
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "{} is descriptor {} of {whose}, open on a file, which would be \
                         replaced: write to standard output (-o -) and redirect it instead",
                        path.display(),
                        fd.to_string_lossy()
                    ),
                )
                .into());
            }
            // A pipe or a terminal: opened as any device is, below.
            _ => None,
        };
        if let Some(fd) = fd {
            let mut out = BufWriter::with_capacity(1 << 16, File::from(fd));
            fill(&mut out)?;
            out.flush()?;
            return Ok(());
        }
    }
    // A device or pipe, however reached: `/dev/stdout` names `/proc/self/fd/1`, whose link to a
    // pipe (`pipe:[1234]`) is no path to follow, but which opens.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut out = BufWriter::with_capacity(1 << 16, OpenOptions::new().write(true).open(path)?);
        fill(&mut out)?;
        out.flush()?;
        return Ok(());
    }
    // `-o out/` where there is no `out`: said as such (the rename said "Not a directory" of a
    // temporary file `out.tmp-..`).
    if path.as_os_str().as_encoded_bytes().ends_with(b"/") && !path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!(
                "{} ends with `/`, naming a directory, and there is none: name a file",
                path.display()
            ),
        )
        .into());
    }
    let resolved = follow_links(path);
    let path = resolved.as_deref().unwrap_or(path);
    let metadata = std::fs::metadata(path);
    // Said before anything is written, and naming it: the rename over it said "Is a directory"
    // alone.
    if metadata.as_ref().is_ok_and(|m| m.is_dir()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            format!("{} is a directory", path.display()),
        )
        .into());
    }
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = with_suffix(path, &format!(".tmp-{}-{seq}", std::process::id()));
    let result = (|| {
        // Said as the temporary file's failure: `path` itself may exist and be writable (a file
        // in `/proc`, a directory where only existing files may be written).
        let created = File::create(&tmp).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot create the temporary file {} beside it to write it whole: {e}",
                    tmp.display()
                ),
            )
        })?;
        let mut out = BufWriter::with_capacity(1 << 16, created);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        if let Ok(replaced) = &metadata {
            file.set_permissions(replaced.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&tmp, path).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot put the temporary file {} in place of {}: {e}",
                    tmp.display(),
                    path.display()
                ),
            )
        })?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A directory of this process's own for the unit test `tag`, empty (made anew).
#[cfg(test)]
pub(crate) fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dhat-kit-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The file (a plain one, or a device as `/dev/null`) where `dir` or one of its ancestors should
/// be a directory, if there is one: said as such, where making the directory says only "File
/// exists".
pub(crate) fn file_in_the_way(dir: &Path) -> Option<&Path> {
    dir.ancestors()
        .find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir()))
}

/// The error of [`file_in_the_way`]'s `file`.
pub(crate) fn not_a_directory(file: &Path) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotADirectory,
        format!("{} is a file, not a directory", file.display()),
    )
}

/// `path` with `suffix` added to its file name: `memory-baseline.json.new`.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Whether `path` names a process's descriptor, and which: its entry in `/dev/fd` or
/// `/proc/PID/fd` (or a thread's, `/proc/PID/task/TID/fd`), or a chain of links ending there
/// (`/dev/stdout`, `/dev/stderr`); with whether the process is this one (by `self`, its id or
/// one of its threads) and the descriptor's number as named.
#[cfg(unix)]
fn descriptor(path: &Path) -> Option<(bool, std::ffi::OsString)> {
    let pid = std::process::id().to_string();
    // Whose directory of descriptors `dir` (whose links are resolved) is, if it is one: this
    // process's (true) or another's.
    let whose = |dir: &Path| {
        let parts: Vec<_> = dir.iter().filter_map(|c| c.to_str()).collect();
        match parts[..] {
            ["/", "dev", "fd"] => Some(true),
            ["/", "proc", p, "fd"] | ["/", "proc", p, "task", _, "fd"] => Some(p == pid),
            _ => None,
        }
    };
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        let name = at.file_name()?.to_owned();
        let dir = match at.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.canonicalize().ok()?,
            _ => std::env::current_dir().ok()?,
        };
        if let Some(own) = whose(&dir) {
            return Some((own, name));
        }
        at = dir.join(std::fs::read_link(dir.join(name)).ok()?);
    }
    None
}

/// The file a chain of symbolic links at `path` ends at (a link's relative target is read from
/// the link's directory), whether or not it exists; `None` when `path` is not a link. A loop stops
/// after 40 links, where the system would, and the write then fails on the link.
pub(crate) fn follow_links(path: &Path) -> Option<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        if !std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return (at != path).then_some(at);
        }
        let target = std::fs::read_link(&at).ok()?;
        at = match at.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn dir(name: &str) -> PathBuf {
        fresh_dir(&format!("atomic-{name}"))
    }

    #[test]
    fn a_link_is_followed_and_stays_a_link() {
        let dir = dir("link");
        std::fs::create_dir(dir.join("out")).unwrap();
        std::fs::write(dir.join("out/report.svg"), "old").unwrap();
        symlink("out/report.svg", dir.join("latest.svg")).unwrap();
        symlink("latest.svg", dir.join("chain.svg")).unwrap();
        write(&dir.join("chain.svg"), b"new").unwrap();
        assert!(std::fs::symlink_metadata(dir.join("chain.svg"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::symlink_metadata(dir.join("latest.svg"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.join("out/report.svg")).unwrap(),
            "new"
        );
        // A link to a file not there yet: the file is made where the link points.
        symlink("out/next.svg", dir.join("next.svg")).unwrap();
        write(&dir.join("next.svg"), b"first").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("out/next.svg")).unwrap(),
            "first"
        );
        assert!(std::fs::read_dir(dir.join("out")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp-")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file that exists where no file can be created beside it: the error says it is the
    /// temporary file that could not be made (it said "No such file or directory" of a file
    /// that exists).
    /// A path ending with `/` where there is no directory is said to name one: the rename said
    /// "Not a directory" of a temporary file beside it. Nothing is left behind.
    #[test]
    fn a_path_ending_with_a_slash_and_no_directory_is_said_to_be_one() {
        let dir = dir("slash");
        let path = dir.join("out/");
        let err = write(&path, b"x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotADirectory);
        assert!(
            err.to_string().ends_with(
                "out/ ends with `/`, naming a directory, and there is none: name a file"
            ),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_temporary_file_that_cannot_be_made_is_named() {
        let err = write(Path::new("/proc/version"), b"x").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("cannot create the temporary file /proc/version.tmp-")
                && text.contains(" beside it to write it whole: "),
            "{text}"
        );
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }

    /// A directory as the file to write is named, and nothing is written beside it (the rename
    /// over it said "Is a directory (os error 21)" alone).
    #[test]
    fn a_directory_to_write_is_named() {
        let dir = dir("directory");
        let target = dir.join("out.svg");
        std::fs::create_dir(&target).unwrap();
        let err = write(&target, b"x").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} is a directory", target.display())
        );
        assert_eq!(err.kind(), std::io::ErrorKind::IsADirectory);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        let dir = dir("mode");
        let path = dir.join("memory-baseline.json");
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, b"{ }").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ }");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `-o /dev/stdout` with stdout a pipe: `/proc/self/fd/N` links to `pipe:[..]`, which is no
    /// path; the write looked for a directory of that name beside it and failed.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_pipe_named_through_proc_is_written() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let (mut read, written) = std::io::pipe().unwrap();
        let path = format!("/proc/self/fd/{}", written.as_raw_fd());
        write(Path::new(&path), b"through the pipe").unwrap();
        drop(written);
        let mut got = String::new();
        read.read_to_string(&mut got).unwrap();
        assert_eq!(got, "through the pipe");
    }

    #[test]
    fn a_link_to_a_device_writes_the_device() {
        use std::os::unix::fs::FileTypeExt;
        if !std::fs::metadata("/dev/null").is_ok_and(|m| m.file_type().is_char_device()) {
            eprintln!("skipped: /dev/null is not a device on this machine");
            return;
        }
        let dir = dir("device");
        symlink("/dev/null", dir.join("null")).unwrap();
        write(&dir.join("null"), b"gone").unwrap();
        assert!(std::fs::symlink_metadata(dir.join("null"))
            .unwrap()
            .file_type()
            .is_symlink());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
