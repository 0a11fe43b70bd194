//! Two tests that check one baseline entry: the test that checks it second fails, naming the
//! entry, the file and both tests, and records nothing; a test checking its own entry again
//! passes.
//!
//! The tests that share an entry are workers, run in child processes of this test binary as
//! libtest (or cargo-nextest) would run them: in one process on two threads, or in two processes
//! of one nextest run (`NEXTEST_RUN_ID`), each with a baseline file in a temporary directory.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

use dhat_kit::baseline::{Baseline, BaselineFigures, Entry};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{baseline_entry as entry, output_text, TempDir};

dhat_kit::global_allocator!();

/// 100 bytes under the entry `parse`.
#[dhat_kit::assert_heap(baseline = "parse")]
fn parse_small() {
    drop(std::hint::black_box(vec![0u8; 100]));
}

/// 10,000 bytes under the same entry `parse`.
#[dhat_kit::assert_heap(baseline = "parse")]
fn parse_large() {
    drop(std::hint::black_box(vec![0u8; 10_000]));
}

/// Runs its function when started by the tests below (`DHAT_KIT_TEST_SHARED` set).
fn when_started(function: fn()) {
    if std::env::var_os("DHAT_KIT_TEST_SHARED").is_some() {
        function();
    }
}

#[test]
#[ignore = "a worker process of the tests below, started by them"]
fn small_worker() {
    when_started(parse_small);
}

#[test]
#[ignore = "a worker process of the tests below, started by them"]
fn large_worker() {
    when_started(parse_large);
}

/// The same test as `small_worker` checks its entry again: a repeated call.
#[test]
#[ignore = "a worker process of the tests below, started by them"]
fn small_again_worker() {
    when_started(parse_small);
    when_started(parse_small);
}

/// The baseline file of `dir`, holding one entry `other` that no test here checks.
fn baseline_file(dir: &TempDir) -> PathBuf {
    let file = dir.0.join("memory-baseline.json");
    if !file.exists() {
        let mut baseline = Baseline::new();
        let figures = BaselineFigures {
            total_bytes: Some(7),
            ..BaselineFigures::default()
        };
        baseline.insert(
            "other",
            Entry {
                figures,
                ..Entry::default()
            },
        );
        std::fs::write(&file, baseline.to_json()).unwrap();
    }
    file
}

/// Runs the workers `workers` in one child process, on `threads` threads, recording
/// (`DHAT_KIT_UPDATE=1`) into `file`, in the nextest run `run` if given: whether it passed, and
/// what it printed.
fn run(workers: &[&str], threads: usize, file: &Path, run: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "--ignored", "--nocapture"])
        .arg(format!("--test-threads={threads}"))
        .args(workers)
        .env_remove("CI")
        .env_remove("NEXTEST_RUN_ID")
        .env("DHAT_KIT_UPDATE", "1")
        .env("DHAT_KIT_TEST_SHARED", "1")
        .env("DHAT_KIT_BASELINE", file);
    if let Some(run) = run {
        cmd.env("NEXTEST_RUN_ID", run);
    }
    let out = cmd.output().unwrap();
    (out.status.success(), output_text(&out))
}

/// The message of the test that checked `parse` second, `second`, after `first`.
fn assert_refused(text: &str, file: &Path, first: &str, second: &str) {
    let expected = format!(
        "dhat-kit: the baseline entry `parse` of {file} is checked by two tests: \
         `baseline_shared::{first}`, then `baseline_shared::{second}`",
        file = file.display()
    );
    assert!(
        text.contains(&expected),
        "expected {expected:?} in:\n{text}"
    );
    assert!(
        text.contains("Give each test its own entry, with `baseline = \"...\"`"),
        "{text}"
    );
}

/// The test of the two that recorded `parse` (by its figures), and the other.
fn recorder(file: &Path) -> (&'static str, &'static str) {
    match entry(file, "parse").and_then(|f| f.total_bytes) {
        Some(100) => ("parse_small", "parse_large"),
        Some(10_000) => ("parse_large", "parse_small"),
        other => panic!("the entry `parse` holds {other:?}"),
    }
}

#[test]
fn two_tests_of_one_process_checking_one_entry_fail_the_second() {
    let dir = TempDir::new("baseline-shared-threads");
    let file = baseline_file(&dir);
    let (ok, text) = run(&["small_worker", "large_worker"], 2, &file, None);
    assert!(!ok, "{text}");
    assert!(
        text.contains("test result: FAILED. 1 passed; 1 failed"),
        "{text}"
    );
    // The first recorded its figures; the second wrote nothing; the other entry is kept.
    let (first, second) = recorder(&file);
    assert_refused(&text, &file, first, second);
    assert_eq!(entry(&file, "other").unwrap().total_bytes, Some(7));
    assert_eq!(Baseline::load(&file).unwrap().unwrap().len(), 2);
}

#[test]
fn a_test_checking_its_own_entry_again_passes() {
    let dir = TempDir::new("baseline-shared-again");
    let file = baseline_file(&dir);
    let (ok, text) = run(&["small_worker", "small_again_worker"], 2, &file, None);
    assert!(ok, "{text}");
    assert_eq!(entry(&file, "parse").unwrap().total_bytes, Some(100));
    // Run again, in one process on one thread: the entry is within its tolerance.
    let (ok, text) = run(&["small_worker", "small_again_worker"], 1, &file, None);
    assert!(ok, "{text}");
}

#[test]
fn two_processes_of_one_nextest_run_checking_one_entry_fail_the_second() {
    let dir = TempDir::new("baseline-shared-processes");
    let file = baseline_file(&dir);
    let run_id = format!("dhat-kit-test-run-{}", std::process::id());
    let (ok, text) = run(&["small_worker"], 1, &file, Some(&run_id));
    assert!(ok, "{text}");
    // A retry of the same test in the same run passes.
    let (ok, text) = run(&["small_worker"], 1, &file, Some(&run_id));
    assert!(ok, "{text}");
    let before = std::fs::read(&file).unwrap();
    let (ok, text) = run(&["large_worker"], 1, &file, Some(&run_id));
    assert!(!ok, "{text}");
    assert_refused(&text, &file, "parse_small", "parse_large");
    assert!(text.contains("in this nextest run"), "{text}");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // Another run knows nothing of this one's tests (a test renamed between runs keeps its
    // entry); neither does a process outside nextest.
    let other = format!("{run_id}-other");
    let (ok, text) = run(&["large_worker"], 1, &file, Some(&other));
    assert!(ok, "{text}");
    let (ok, text) = run(&["small_worker"], 1, &file, None);
    assert!(ok, "{text}");
    let claims = std::env::temp_dir().join("dhat-kit-claims");
    let _ = std::fs::remove_dir_all(claims.join(run_id));
    let _ = std::fs::remove_dir_all(claims.join(other));
}

/// Runs the workers `workers` of the test binary `binary` in one child process as [`run`] does,
/// with `NEXTEST_RUN_ID` set to `run` if given and `CARGO` set to `cargo` if given.
fn run_binary(
    binary: &Path,
    workers: &[&str],
    file: &Path,
    run: Option<&str>,
    cargo: Option<&Path>,
) -> (bool, String) {
    let mut cmd = Command::new(binary);
    cmd.args(["--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .args(workers)
        .env_remove("CI")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("CARGO")
        .env("DHAT_KIT_UPDATE", "1")
        .env("DHAT_KIT_TEST_SHARED", "1")
        .env("DHAT_KIT_BASELINE", file);
    if let Some(run) = run {
        cmd.env("NEXTEST_RUN_ID", run);
    }
    if let Some(cargo) = cargo {
        cmd.env("CARGO", cargo);
    }
    // A copy just written may be busy a moment while another thread's child still holds it open.
    let out = (0..50)
        .find_map(|_| match cmd.output() {
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                None
            }
            out => Some(out),
        })
        .unwrap()
        .unwrap();
    (out.status.success(), output_text(&out))
}

/// A copy of this test binary in `dir`: another test binary with the same tests, as a package's
/// lib and bin unit tests (or an integration test named like the package) have the same paths.
fn other_binary(dir: &TempDir) -> PathBuf {
    let copy = dir.0.join("other-test-binary");
    std::fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    copy
}

#[test]
fn one_test_path_in_two_test_binaries_of_one_nextest_run_is_two_tests() {
    let dir = TempDir::new("baseline-shared-binaries");
    let file = baseline_file(&dir);
    let this = std::env::current_exe().unwrap();
    let other = other_binary(&dir);
    let run_id = format!("dhat-kit-test-binaries-{}", std::process::id());
    let (ok, text) = run_binary(&this, &["small_worker"], &file, Some(&run_id), None);
    assert!(ok, "{text}");
    // A retry of the same test in the same binary passes.
    let (ok, text) = run_binary(&this, &["small_worker"], &file, Some(&run_id), None);
    assert!(ok, "{text}");
    let before = std::fs::read(&file).unwrap();
    let (ok, text) = run_binary(&other, &["small_worker"], &file, Some(&run_id), None);
    assert!(!ok, "{text}");
    // Both have one path and one target: the binaries tell them apart.
    let this_name = this.file_name().unwrap().to_string_lossy();
    let expected = format!(
        "dhat-kit: the baseline entry `parse` of {file} is checked by two tests: \
         `baseline_shared::parse_small` (test binary {this_name}), then \
         `baseline_shared::parse_small` (test binary other-test-binary) in this nextest run",
        file = file.display()
    );
    assert!(
        text.contains(&expected),
        "expected {expected:?} in:\n{text}"
    );
    assert!(
        text.contains("give one of them a `baseline = \"...\"` of its own"),
        "{text}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join("dhat-kit-claims").join(run_id));
}

#[cfg(unix)]
#[test]
fn packages_sharing_one_baseline_through_links_share_its_entries() {
    let dir = TempDir::new("baseline-shared-links");
    for package in ["alpha", "beta"] {
        std::fs::create_dir(dir.0.join(package)).unwrap();
        // The shared file is not there yet: the first test's record makes it.
        std::os::unix::fs::symlink(
            "../shared.json",
            dir.0.join(package).join("memory-baseline.json"),
        )
        .unwrap();
    }
    let alpha = dir.0.join("alpha/memory-baseline.json");
    let beta = dir.0.join("beta/memory-baseline.json");
    let this = std::env::current_exe().unwrap();
    let run_id = format!("dhat-kit-test-links-{}", std::process::id());
    let (ok, text) = run_binary(&this, &["small_worker"], &alpha, Some(&run_id), None);
    assert!(ok, "{text}");
    assert_eq!(
        entry(&dir.0.join("shared.json"), "parse")
            .unwrap()
            .total_bytes,
        Some(100)
    );
    let (ok, text) = run_binary(&this, &["large_worker"], &beta, Some(&run_id), None);
    assert!(!ok, "{text}");
    assert_refused(&text, &beta, "parse_small", "parse_large");
    assert_eq!(
        entry(&dir.0.join("shared.json"), "parse")
            .unwrap()
            .total_bytes,
        Some(100)
    );
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join("dhat-kit-claims").join(run_id));
}

/// Stands for cargo (`DHAT_KIT_TEST_CARGO` set): runs, one after the other, the worker and test
/// binary of each of its lines (`WORKER BINARY`), as `cargo test` runs test binaries: as its
/// children, with `CARGO` naming itself; prints each one's output, then `passed` or `failed`.
#[test]
#[ignore = "a worker process of the tests below, started by them"]
fn cargo_worker() {
    let Ok(lines) = std::env::var("DHAT_KIT_TEST_CARGO") else {
        return;
    };
    let this = std::env::current_exe().unwrap();
    println!("cargo process {}", std::process::id());
    for line in lines.lines() {
        let (worker, binary) = line.split_once(' ').unwrap();
        let file = PathBuf::from(std::env::var_os("DHAT_KIT_BASELINE").unwrap());
        let (ok, text) = run_binary(binary.as_ref(), &[worker], &file, None, Some(&this));
        println!("{text}\n{}", if ok { "passed" } else { "failed" });
    }
}

#[cfg(target_os = "linux")]
#[test]
fn test_binaries_of_one_cargo_test_run_checking_one_entry_fail_the_second() {
    let dir = TempDir::new("baseline-shared-cargo");
    let file = baseline_file(&dir);
    let this = std::env::current_exe().unwrap();
    let other = other_binary(&dir);
    let cargo = |lines: &[(&str, &Path)]| {
        let lines: Vec<String> = lines
            .iter()
            .map(|(worker, binary)| format!("{worker} {}", binary.display()))
            .collect();
        let out = Command::new(&this)
            .args(["--exact", "--ignored", "--nocapture", "cargo_worker"])
            .env_remove("NEXTEST_RUN_ID")
            .env("DHAT_KIT_TEST_CARGO", lines.join("\n"))
            .env("DHAT_KIT_BASELINE", &file)
            .output()
            .unwrap();
        let text = output_text(&out);
        assert!(out.status.success(), "{text}");
        let pid = text
            .lines()
            .find_map(|l| l.strip_prefix("cargo process "))
            .unwrap()
            .to_owned();
        let verdicts: Vec<String> = text
            .lines()
            .filter(|l| *l == "passed" || *l == "failed")
            .map(str::to_owned)
            .collect();
        (verdicts, text, pid)
    };
    let mut pids = Vec::new();
    // A test, its retry, the same test in another binary, another test.
    let (verdicts, text, pid) = cargo(&[
        ("small_worker", &this),
        ("small_worker", &this),
        ("small_worker", &other),
        ("large_worker", &this),
    ]);
    pids.push(pid);
    assert_eq!(verdicts, ["passed", "passed", "failed", "failed"], "{text}");
    assert!(
        text.contains("`baseline_shared::parse_small` (test binary other-test-binary) in this `cargo test` run"),
        "{text}"
    );
    assert_refused(&text, &file, "parse_small", "parse_large");
    assert_eq!(entry(&file, "parse").unwrap().total_bytes, Some(100));
    // Another `cargo test` run knows nothing of this one's tests; a test binary run by hand
    // (without `CARGO`) is in no run.
    let (verdicts, text, pid) = cargo(&[("small_worker", &other)]);
    pids.push(pid);
    assert_eq!(verdicts, ["passed"], "{text}");
    let (ok, text) = run_binary(&other, &["large_worker"], &file, None, None);
    assert!(ok, "{text}");
    let claims = std::env::temp_dir().join("dhat-kit-claims");
    for run in std::fs::read_dir(&claims).unwrap().flatten() {
        let name = run.file_name().to_string_lossy().into_owned();
        if name.starts_with("cargo-") && pids.iter().any(|p| name.contains(&format!("-{p}-"))) {
            let _ = std::fs::remove_dir_all(run.path());
        }
    }
}
