//! What the kit says on a program's stderr (a session's summary, why a file was not written, that
//! the allocator is not installed): never a reason for the program to fail.
//!
//! `eprint!` panics when stderr cannot be written (a pipe whose reader has gone: `prog 2>&1 |
//! head`), and the kit says these things at a session's end, in `Drop`, where that panic would
//! turn a program's exit status 0 into 101, or abort a program already unwinding from a panic of
//! its own. Each note goes through `eprint!` (so that a test's output capture still takes it),
//! its panic caught; while the thread is already panicking, or where panics abort, it is written
//! to stderr directly, its error ignored.

use std::io::Write;

/// Writes `text` to stderr, as `eprint!` would, an error to write it ignored.
pub(crate) fn note(text: &str) {
    #[cfg(panic = "unwind")]
    if !std::thread::panicking() {
        let _ = std::panic::catch_unwind(|| eprint!("{text}"));
        return;
    }
    let _ = std::io::stderr().write_all(text.as_bytes());
}
