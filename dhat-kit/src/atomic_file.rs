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
/// file (`/dev/null`, `/dev/stdout`, a named pipe) is written in place: a rename would replace
/// the device with a file.
///
/// # Errors
///
/// The I/O error of creating, writing, syncing or renaming the file.
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
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut out = BufWriter::with_capacity(1 << 16, OpenOptions::new().write(true).open(path)?);
        fill(&mut out)?;
        out.flush()?;
        return Ok(());
    }
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = with_suffix(path, &format!(".tmp-{}-{seq}", std::process::id()));
    let result = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `path` with `suffix` added to its file name: `memory-baseline.json.new`.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}
