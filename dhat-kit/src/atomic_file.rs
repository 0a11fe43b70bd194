//! Writing a file whole or not at all: a temporary file beside it, synced, then renamed over it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` whole or not at all, as the kit writes every file (profiles,
/// baselines, the command's outputs): through a temporary file in the same directory, named for
/// this process and this write (so that writers in other threads and processes never share one),
/// synced, then renamed over `path`. A reader sees the old file or the new one, never half of one.
/// The temporary file is removed if anything fails.
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
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = with_suffix(path, &format!(".tmp-{}-{seq}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
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
