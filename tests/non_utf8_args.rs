//! A peak session ends (and writes its file, naming the command) in a program started with an
//! argument that is not UTF-8: the command line is written lossily, never a panic in `Drop`. A
//! heap session, which dhat would end with that panic, refuses to start.
//!
//! Its own binary without the test harness (`harness = false`), since the harness itself would
//! refuse such an argument: it runs itself again with one.

mod common;

dhat_kit::global_allocator!();

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::Command;

use dhat_kit::{Mode, Profiler};

const CHILD: &str = "DHAT_KIT_NON_UTF8_CHILD";

fn main() {
    if common::nextest_listing("non_utf8_args") {
        return;
    }
    if let Some(file) = std::env::var_os(CHILD) {
        let p = Profiler::builder()
            .mode(Mode::Peak)
            .file(PathBuf::from(file))
            .summary(false)
            .build()
            .unwrap();
        drop(std::hint::black_box(vec![0u8; 64]));
        drop(p);
        // dhat's modes write through dhat, which would panic on the argument at the session's
        // end and lose the profile: they refuse to start, naming the argument.
        #[cfg(feature = "heap")]
        {
            let refused = Profiler::builder()
                .mode(Mode::Heap)
                .file(PathBuf::from(std::env::var_os(CHILD).unwrap()).with_extension("heap"))
                .build()
                .expect_err("a heap session started");
            assert!(
                matches!(
                    &refused,
                    dhat_kit::Error::NonUtf8Argument { argument, .. } if argument == "caf\u{FFFD}"
                ),
                "{refused:?}"
            );
            assert!(refused.to_string().contains("not UTF-8"), "{refused}");
        }
        return;
    }
    let dir = common::TempDir::new("non-utf8");
    let file = dir.0.join("dhat-peak.json");
    let out = Command::new(std::env::current_exe().unwrap())
        .arg(OsStr::from_bytes(b"caf\xe9"))
        .env(CHILD, &file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let profile = dhat_kit::profile::read(&file).unwrap();
    assert!(profile.cmd.ends_with(" caf\u{FFFD}"), "{}", profile.cmd);
    println!("non_utf8_args: 1 passed, 0 failed");
}
