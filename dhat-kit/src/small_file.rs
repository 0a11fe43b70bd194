//! Reading a file of a kind that is never large (a baseline, a budget file, a list of patterns)
//! whole, up to a ceiling: a file without end (`/dev/zero`, a pipe that never closes) given in
//! its place is an error that says so, where reading it whole ran the process out of memory.

use std::io::Read;
use std::path::Path;

use crate::units::Bytes;

/// The bytes of the file at `path`, if it holds at most `most` of them.
///
/// # Errors
///
/// The I/O error of opening or reading it, or one of kind
/// [`FileTooLarge`](std::io::ErrorKind::FileTooLarge) for a plain file longer than `most`, before
/// anything is read, and for any other once `most` bytes are read and more follow
/// (`what` names the kind of file in its message: "larger than 64.0 MiB, more than any baseline
/// holds").
pub(crate) fn read(path: &Path, most: u64, what: &str) -> std::io::Result<Vec<u8>> {
    let too_large = || {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {}, more than any {what} holds", Bytes(most)),
        )
    };
    let file = std::fs::File::open(path)?;
    // A plain file's length tells before anything is read; a device or pipe reports none. A
    // file near the ceiling is read into one buffer of its length.
    let len = file.metadata().map_or(0, |m| m.len());
    if len > most {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(most + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > most {
        return Err(too_large());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    /// A file of the ceiling's size is read; one byte more is refused, a plain file by its
    /// length before it is read, and so is an endless one, after reading no more than the
    /// ceiling and a byte.
    #[test]
    fn a_file_beyond_the_ceiling_is_refused() {
        let dir = crate::atomic_file::fresh_dir("small-file");
        let path = dir.join("patterns.txt");
        std::fs::write(&path, [b'a'; 1024]).unwrap();
        assert_eq!(super::read(&path, 1024, "list").unwrap().len(), 1024);
        let err = super::read(&path, 1023, "list").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
        #[cfg(unix)]
        {
            // A plain file is refused by its length, unread: a sparse file of 8 GiB under a
            // ceiling of 4 GiB (read, it would take 4 GiB before the ceiling). Where the
            // filesystem takes no such file, that part is skipped, and says so.
            let sparse = dir.join("sparse.txt");
            match std::fs::File::create(&sparse).and_then(|f| f.set_len(8 << 30)) {
                Ok(()) => {
                    let err = super::read(&sparse, 4 << 30, "list").unwrap_err();
                    assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
                    assert_eq!(
                        err.to_string(),
                        "larger than 4.0 GiB, more than any list holds"
                    );
                }
                Err(e) => eprintln!("skipped: no sparse file of 8 GiB here ({e})"),
            }
            let err = super::read("/dev/zero".as_ref(), 1 << 20, "list").unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
            assert_eq!(
                err.to_string(),
                "larger than 1.0 MiB, more than any list holds"
            );
        }
        let missing = super::read(&dir.join("missing"), 1024, "list").unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
