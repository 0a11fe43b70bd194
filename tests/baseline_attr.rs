//! `#[assert_heap(baseline)]`: a test's figures against its entry in the crate's baseline file,
//! alone and together with absolute limits.
//!
//! The measured functions below read the environment (`DHAT_KIT_UPDATE`, `CI`,
//! `DHAT_KIT_BASELINE`) as a user's tests do, so each runs in a child process of this test binary
//! with that environment set for it, and a baseline file in a temporary directory.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

use std::path::Path;
use std::process::Command;

mod common;
use common::{baseline_entry as entry, output_text, TempDir};

dhat_kit::global_allocator!();

/// 1,000 bytes in one block, freed: the entry named after the function.
#[dhat_kit::assert_heap(baseline)]
fn one_kilobyte() {
    drop(std::hint::black_box(vec![0u8; 1000]));
}

/// `n` bytes under the entry `sized`, with a tolerance of 10%.
#[dhat_kit::assert_heap(baseline = "sized", tolerance = 10)]
fn sized(n: usize) {
    drop(std::hint::black_box(vec![0u8; n]));
}

/// A limit and a baseline together: `n` bytes against `max_bytes = 2000`.
#[dhat_kit::assert_heap(max_bytes = 2000, baseline = "limited", tolerance = 0.5)]
fn limited(n: usize) {
    drop(std::hint::black_box(vec![0u8; n]));
}

/// Two blocks of 1,000 bytes: one after the other, or live together (`at_once`, from `AT_ONCE`),
/// which doubles the peak and leaves the totals as they were.
fn two_blocks(at_once: bool) {
    if at_once {
        let a = std::hint::black_box(vec![0u8; 1000]);
        let b = std::hint::black_box(vec![0u8; 1000]);
        drop((a, b));
    } else {
        drop(std::hint::black_box(vec![0u8; 1000]));
        drop(std::hint::black_box(vec![0u8; 1000]));
    }
}

/// [`two_blocks`] against the totals of its entry only.
#[dhat_kit::assert_heap(baseline = "totals", metrics = ["total_bytes", "total-blocks"])]
fn totals_only(at_once: bool) {
    two_blocks(at_once);
}

/// [`two_blocks`] on every thread, against every figure of its entry.
#[dhat_kit::assert_heap(threads = "all", baseline = "every figure")]
fn every_figure_on_all_threads(at_once: bool) {
    two_blocks(at_once);
}

/// 1,000 bytes, freed, then `Ok`; or, failing (`FAIL`), 2,000 bytes kept in its `Err`, over its
/// limit and its entry: the test fails by its result, which the budget must leave alone.
#[dhat_kit::assert_heap(baseline = "fallible", max_bytes = 1500)]
fn fallible(fail: bool) -> Result<(), String> {
    drop(std::hint::black_box(vec![0u8; 1000]));
    if fail {
        return Err(format!("cannot load the fixture{}", " ".repeat(2000)));
    }
    Ok(())
}

/// [`fallible`], async: the same figures, measured poll by poll.
#[dhat_kit::assert_heap(baseline = "fallible async", max_bytes = 1500)]
async fn fallible_async(fail: bool) -> Result<(), String> {
    drop(std::hint::black_box(vec![0u8; 1000]));
    if fail {
        return Err(format!("cannot load the fixture{}", " ".repeat(2000)));
    }
    Ok(())
}

/// [`fallible`] with an exit code: `FAILURE` fails the test as an `Err` does.
#[dhat_kit::assert_heap(baseline = "exit code", max_bytes = 1500)]
fn exit_code(fail: bool) -> std::process::ExitCode {
    drop(std::hint::black_box(vec![0u8; 1000]));
    if fail {
        std::mem::forget(std::hint::black_box(vec![0u8; 2000]));
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// [`exit_code`] in a `Result`: `Ok(FAILURE)` fails the test as an `Err` does.
#[dhat_kit::assert_heap(baseline = "exit code in a result", max_bytes = 1500)]
fn exit_code_in_a_result(fail: bool) -> Result<std::process::ExitCode, String> {
    drop(std::hint::black_box(vec![0u8; 1000]));
    if fail {
        std::mem::forget(std::hint::black_box(vec![0u8; 2000]));
        return Ok(std::process::ExitCode::FAILURE);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// 1,000 bytes, then the expected panic; or (by `how`) a return without a panic, or a panic with
/// another message and 2,000 bytes kept, each of which fails the test.
#[allow(unused_attributes)]
#[should_panic(expected = "boom")]
#[dhat_kit::assert_heap(baseline = "should panic")]
fn should_panic_with_a_baseline(how: &str) {
    drop(std::hint::black_box(vec![0u8; 1000]));
    should_panic_as(how);
}

/// [`should_panic_with_a_baseline`], async, and with the expected text as `#[should_panic = ".."]`.
#[allow(unused_attributes)]
#[should_panic = "boom"]
#[dhat_kit::assert_heap(baseline = "should panic async")]
async fn should_panic_with_a_baseline_async(how: String) {
    drop(std::hint::black_box(vec![0u8; 1000]));
    should_panic_as(&how);
}

fn should_panic_as(how: &str) {
    match how {
        "return" => {}
        "other" => {
            std::mem::forget(std::hint::black_box(vec![0u8; 2000]));
            panic!("bang");
        }
        _ => panic!("boom: the expected panic"),
    }
}

/// Runs the function `DHAT_KIT_TEST_ATTR` names, in a child process; nothing in an ordinary run.
#[test]
#[ignore = "a worker process of the tests below, started by them"]
fn attr_worker() {
    let size = || std::env::var("SIZE").unwrap().parse().unwrap();
    let at_once = std::env::var_os("AT_ONCE").is_some();
    match std::env::var("DHAT_KIT_TEST_ATTR").as_deref() {
        Ok("one_kilobyte") => one_kilobyte(),
        Ok("sized") => sized(size()),
        Ok("limited") => limited(size()),
        Ok("totals_only") => totals_only(at_once),
        Ok("every_figure_on_all_threads") => every_figure_on_all_threads(at_once),
        Ok("should_panic") => should_panic_with_a_baseline(&std::env::var("HOW").unwrap()),
        Ok("should_panic_async") => tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(should_panic_with_a_baseline_async(
                std::env::var("HOW").unwrap(),
            )),
        Ok(name @ ("fallible" | "fallible_async" | "exit_code" | "exit_code_in_a_result")) => {
            let fail = std::env::var_os("FAIL").is_some();
            let outcome = match name {
                "fallible" => fallible(fail),
                "fallible_async" => tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
                    .block_on(fallible_async(fail)),
                "exit_code" => succeeded(exit_code(fail)),
                _ => exit_code_in_a_result(fail).and_then(succeeded),
            };
            if let Err(e) = outcome {
                panic!("the test's own error: {}", e.trim_end());
            }
        }
        _ => {}
    }
}

/// An exit code as the test harness reads it.
fn succeeded(code: std::process::ExitCode) -> Result<(), String> {
    match code == std::process::ExitCode::SUCCESS {
        true => Ok(()),
        false => Err("cannot load the fixture (exit code)".to_owned()),
    }
}

/// Runs `function` in a child process with `vars`, `CI` and `DHAT_KIT_UPDATE` unset unless
/// given: whether it passed, and what it printed.
fn run(function: &str, file: &Path, vars: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "attr_worker", "--ignored", "--nocapture"])
        .env_remove("CI")
        .env_remove("DHAT_KIT_UPDATE")
        .env("DHAT_KIT_TEST_ATTR", function)
        .env("DHAT_KIT_BASELINE", file)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    (out.status.success(), output_text(&out))
}

#[test]
fn a_missing_entry_fails_then_is_recorded_then_passes() {
    let dir = TempDir::new("baseline-attr-record");
    let file = dir.0.join("memory-baseline.json");
    let (ok, text) = run("one_kilobyte", &file, &[]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("no baseline entry `baseline_attr::one_kilobyte`"),
        "{text}"
    );
    assert!(
        text.contains("cargo test -p dhat-kit-suite --test baseline_attr -- --exact one_kilobyte"),
        "{text}"
    );
    assert!(!file.exists());

    let (ok, text) = run("one_kilobyte", &file, &[("DHAT_KIT_UPDATE", "1")]);
    assert!(ok, "{text}");
    let figures = entry(&file, "baseline_attr::one_kilobyte").unwrap();
    assert_eq!(
        (
            figures.total_bytes,
            figures.total_blocks,
            figures.peak_bytes,
            figures.end_bytes
        ),
        (Some(1000), Some(1), Some(1000), Some(0))
    );
    let recorded = std::fs::read(&file).unwrap();

    let (ok, text) = run("one_kilobyte", &file, &[]);
    assert!(ok, "{text}");
    assert_eq!(std::fs::read(&file).unwrap(), recorded);
}

#[test]
fn a_regression_beyond_the_tests_tolerance_fails_with_the_table() {
    let dir = TempDir::new("baseline-attr-tolerance");
    let file = dir.0.join("memory-baseline.json");
    let (ok, text) = run(
        "sized",
        &file,
        &[("SIZE", "1000"), ("DHAT_KIT_UPDATE", "1")],
    );
    assert!(ok, "{text}");
    assert_eq!(entry(&file, "sized").unwrap().total_bytes, Some(1000));

    // +8% is within `tolerance = 10`; +20% is not.
    let (ok, text) = run("sized", &file, &[("SIZE", "1080")]);
    assert!(ok, "{text}");
    let (ok, text) = run("sized", &file, &[("SIZE", "1200")]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("`sized` uses more memory than its baseline"),
        "{text}"
    );
    assert!(text.contains("(tolerance 10%)"), "{text}");
    assert!(
        text.contains(
            "  total bytes            1,000         1,200          +200    +20.0%  regressed"
        ),
        "{text}"
    );

    // On CI, even with DHAT_KIT_UPDATE=1, it still fails and the file is left alone.
    let before = std::fs::read(&file).unwrap();
    let (ok, text) = run(
        "sized",
        &file,
        &[("SIZE", "1200"), ("DHAT_KIT_UPDATE", "1"), ("CI", "1")],
    );
    assert!(!ok, "{text}");
    assert_eq!(std::fs::read(&file).unwrap(), before);

    // An improvement passes, and says so.
    let (ok, text) = run("sized", &file, &[("SIZE", "500")]);
    assert!(ok, "{text}");
    assert!(
        text.contains("uses less memory than its baseline"),
        "{text}"
    );
}

#[test]
fn limits_and_baseline_together() {
    let dir = TempDir::new("baseline-attr-limits");
    let file = dir.0.join("memory-baseline.json");
    // Over the limit: the limit fails the test, and nothing is recorded even when asked.
    let (ok, text) = run(
        "limited",
        &file,
        &[("SIZE", "3000"), ("DHAT_KIT_UPDATE", "1")],
    );
    assert!(!ok, "{text}");
    assert!(text.contains("went over its heap budget"), "{text}");
    assert!(text.contains("max_bytes: 3,000 > 2,000"), "{text}");
    assert!(!file.exists());

    // Within the limit, the baseline is recorded, then holds it to 0.5%.
    let (ok, text) = run(
        "limited",
        &file,
        &[("SIZE", "1000"), ("DHAT_KIT_UPDATE", "1")],
    );
    assert!(ok, "{text}");
    let (ok, text) = run("limited", &file, &[("SIZE", "1004")]);
    assert!(ok, "{text}");
    let (ok, text) = run("limited", &file, &[("SIZE", "1010")]);
    assert!(!ok, "{text}");
    assert!(text.contains("(tolerance 0.5%)"), "{text}");
    assert!(text.contains("regressed"), "{text}");
}

/// `metrics = [..]` compares those figures only: a peak twice as high passes a totals-only entry.
/// Compared on every figure, a whole-process budget whose peak alone regressed says that the
/// peak of threads at once is the scheduler's, and how to leave it out.
#[test]
fn metrics_choose_the_figures_compared() {
    let dir = TempDir::new("baseline-attr-metrics");
    let file = dir.0.join("memory-baseline.json");
    for function in ["totals_only", "every_figure_on_all_threads"] {
        let (ok, text) = run(function, &file, &[("DHAT_KIT_UPDATE", "1")]);
        assert!(ok, "{text}");
    }
    let (ok, text) = run("totals_only", &file, &[("AT_ONCE", "1")]);
    assert!(ok, "{text}");
    let (ok, text) = run("every_figure_on_all_threads", &file, &[("AT_ONCE", "1")]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "  peak bytes             1,000         2,000        +1,000   +100.0%  regressed"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "the peak of threads that run at once depends on how they are scheduled, run to run; \
             to compare what they allocate only: #[assert_heap(threads = \"all\", baseline, \
             metrics = [\"total_bytes\", \"total_blocks\"])]"
        ),
        "{text}"
    );
}

/// A test that fails by its result (an `Err`, an `ExitCode` other than success) is left alone, as
/// one that panics: its figures, of a run cut short, are neither compared with its budget nor
/// recorded, and it fails with its own error. Before, the `Err` run was recorded over a good
/// entry under `DHAT_KIT_UPDATE=1` (and said "Recorded"), and without it the budget's failure was
/// said in place of the test's error.
/// A `#[should_panic]` test that does not panic, or panics without the expected text, fails: its
/// figures are never recorded (both were, over a good entry too); one that panics as expected is.
#[test]
fn a_should_panic_test_that_fails_is_not_recorded() {
    for (function, name) in [
        ("should_panic", "should panic"),
        ("should_panic_async", "should panic async"),
    ] {
        let dir = TempDir::new("baseline-attr-should-panic");
        let file = dir.0.join("memory-baseline.json");
        let update = ("DHAT_KIT_UPDATE", "1");
        for how in ["return", "other"] {
            let (_, text) = run(function, &file, &[update, ("HOW", how)]);
            assert!(!file.exists(), "{function} {how}: {text}");
        }
        let (_, text) = run(function, &file, &[update, ("HOW", "boom")]);
        assert!(
            text.contains("boom: the expected panic"),
            "{function}: {text}"
        );
        let recorded = std::fs::read(&file).unwrap_or_else(|e| panic!("{function}: {e}: {text}"));
        let bytes = entry(&file, name).and_then(|f| f.total_bytes);
        assert!(
            bytes.is_some_and(|b| (1000..2000).contains(&b)),
            "{function}: {bytes:?}"
        );
        for how in ["return", "other"] {
            let (_, text) = run(function, &file, &[update, ("HOW", how)]);
            assert_eq!(
                std::fs::read(&file).unwrap(),
                recorded,
                "{function} {how}: {text}"
            );
        }
    }
}

#[test]
fn a_test_that_fails_by_its_result_is_neither_checked_nor_recorded() {
    for function in [
        "fallible",
        "fallible_async",
        "exit_code",
        "exit_code_in_a_result",
    ] {
        let dir = TempDir::new("baseline-attr-result");
        let file = dir.0.join("memory-baseline.json");
        let (ok, text) = run(function, &file, &[("DHAT_KIT_UPDATE", "1")]);
        assert!(ok, "{function}: {text}");
        let recorded = std::fs::read(&file).unwrap();
        let name = match function {
            "fallible" => "fallible",
            "fallible_async" => "fallible async",
            "exit_code" => "exit code",
            _ => "exit code in a result",
        };
        assert_eq!(
            entry(&file, name).map(|f| (f.total_bytes, f.end_bytes)),
            Some((Some(1000), Some(0))),
            "{function}"
        );
        for update in [None, Some("1"), Some("new")] {
            let mut vars = vec![("FAIL", "1")];
            vars.extend(update.map(|u| ("DHAT_KIT_UPDATE", u)));
            let (ok, text) = run(function, &file, &vars);
            assert!(!ok, "{function} {update:?}: {text}");
            assert!(
                text.contains("the test's own error: cannot load the fixture"),
                "{function} {update:?}: {text}"
            );
            for budget in [
                "heap budget",
                "its baseline",
                "baseline entry",
                "Recorded",
                "UPDATE",
            ] {
                assert!(!text.contains(budget), "{function} {update:?}: {text}");
            }
            assert_eq!(
                std::fs::read(&file).unwrap(),
                recorded,
                "{function} {update:?}"
            );
            assert!(
                !dir.0.join("memory-baseline.json.new").exists(),
                "{function} {update:?}"
            );
        }
    }
}
