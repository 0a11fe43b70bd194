//! Memory baselines as a user meets them: one file per crate, a check with a tolerance, and the
//! update flow (`DHAT_KIT_UPDATE`), with many writers at once and never a write on CI.
//!
//! Every test works in its own temporary directory. Tests in this process pass the update policy
//! explicitly (so they hold whether or not `CI` is set around `cargo test`); the tests that spawn
//! processes set or remove `CI` and `DHAT_KIT_UPDATE` for each child.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

mod common;

use common::TempDir;
use dhat_kit::baseline::{
    check, check_profile, Baseline, BaselineFigures, CheckOptions, Metric, Policy, Status, Update,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

dhat_kit::global_allocator!();

/// The baseline file in `dir`.
fn baseline_file(dir: &TempDir) -> PathBuf {
    dir.0.join("memory-baseline.json")
}

const COMMAND: &str = "DHAT_KIT_UPDATE=1 cargo test -p demo -- --exact parse";

fn options(update: Update, ci: bool, tolerance: f64) -> CheckOptions {
    let mut options = CheckOptions::default();
    (options.tolerance, options.metrics) = (tolerance, Vec::new());
    options.policy = Policy { update, ci };
    options.record_command = COMMAND.to_owned();
    options
}

fn figures(total: u64, peak: u64) -> BaselineFigures {
    BaselineFigures {
        total_bytes: Some(total),
        total_blocks: Some(10),
        peak_bytes: Some(peak),
        peak_blocks: Some(2),
        end_bytes: Some(0),
    }
}

/// A baseline file with the entry `parse` (total 10,000 bytes, peak 4,000), written directly.
fn recorded(dir: &TempDir) -> (PathBuf, Vec<u8>) {
    let path = baseline_file(dir);
    let verdict = check(
        &path,
        "parse",
        &figures(10_000, 4_000),
        &options(Update::Record, false, 5.0),
    )
    .unwrap();
    assert!(verdict.passed, "{verdict}");
    assert_eq!(verdict.wrote.as_deref(), Some(path.as_path()));
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// The names of the entries of the file at `path`, in the order of its text, after checking that
/// the file is valid JSON of the current format.
fn entry_names_in_file_order(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).expect("the baseline is valid JSON");
    assert_eq!(value["dhat_kit_baseline"], 1, "{text}");
    let entries = value["entries"].as_object().expect("an entries object");
    let mut names: Vec<(usize, String)> = entries
        .keys()
        .map(|k| {
            (
                text.find(&format!("\n    \"{k}\": {{")).expect(k),
                k.clone(),
            )
        })
        .collect();
    for (_, k) in &names {
        let once = text.matches(&format!("\n    \"{k}\": {{")).count();
        assert_eq!(once, 1, "`{k}` is in the file once: {text}");
    }
    names.sort();
    names.into_iter().map(|(_, k)| k).collect()
}

fn assert_forty_sorted(path: &Path, names: impl Fn(usize) -> String) {
    let in_file = entry_names_in_file_order(path);
    let mut expected: Vec<String> = (0..40).map(&names).collect();
    expected.sort();
    assert_eq!(in_file, expected, "every entry once, in sorted order");
    // No temporary file is left behind, nor (on Unix) the lock file.
    let dir = path.parent().unwrap();
    let stray: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || (cfg!(unix) && n.ends_with(".lock")))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn forty_tests_in_threads_update_one_file() {
    let dir = TempDir::new("baseline-threads");
    let path = baseline_file(&dir);
    let start = Arc::new(Barrier::new(40));
    let threads: Vec<_> = (0..40u64)
        .map(|i| {
            let (path, start) = (path.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let name = format!("threads::test_{i:02}");
                let v = check(
                    &path,
                    &name,
                    &figures(1000 + i, 100 + i),
                    &options(Update::Record, false, 5.0),
                )
                .unwrap();
                assert!(v.passed, "{v}");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_forty_sorted(&path, |i| format!("threads::test_{i:02}"));
    let baseline = Baseline::read(&path).unwrap();
    for i in 0..40u64 {
        let entry = baseline.get(&format!("threads::test_{i:02}")).unwrap();
        assert_eq!(entry.figures, figures(1000 + i, 100 + i));
        assert!(entry
            .recorded_at
            .as_deref()
            .is_some_and(|t| t.ends_with('Z')));
    }
}

/// The workers of the multi-process tests: `worker_NN`, each an `#[assert_heap(baseline)]`
/// function whose entry is `baseline::worker_NN` and whose work is one block of `100 + NN`
/// bytes, in [`WORKERS`] in order.
macro_rules! workers {
    ($($name:ident = $i:literal),* $(,)?) => {
        $(
            #[dhat_kit::assert_heap(baseline)]
            fn $name() {
                drop(std::hint::black_box(vec![0u8; 100 + $i]));
            }
        )*
        const WORKERS: &[fn()] = &[$($name),*];
    };
}

workers!(
    worker_00 = 0,
    worker_01 = 1,
    worker_02 = 2,
    worker_03 = 3,
    worker_04 = 4,
    worker_05 = 5,
    worker_06 = 6,
    worker_07 = 7,
    worker_08 = 8,
    worker_09 = 9,
    worker_10 = 10,
    worker_11 = 11,
    worker_12 = 12,
    worker_13 = 13,
    worker_14 = 14,
    worker_15 = 15,
    worker_16 = 16,
    worker_17 = 17,
    worker_18 = 18,
    worker_19 = 19,
    worker_20 = 20,
    worker_21 = 21,
    worker_22 = 22,
    worker_23 = 23,
    worker_24 = 24,
    worker_25 = 25,
    worker_26 = 26,
    worker_27 = 27,
    worker_28 = 28,
    worker_29 = 29,
    worker_30 = 30,
    worker_31 = 31,
    worker_32 = 32,
    worker_33 = 33,
    worker_34 = 34,
    worker_35 = 35,
    worker_36 = 36,
    worker_37 = 37,
    worker_38 = 38,
    worker_39 = 39,
);

/// Run by the multi-process tests in each child process (`DHAT_KIT_TEST_WORKER=NN`): the
/// worker `worker_NN`, through what `#[assert_heap(baseline)]` expands to; does nothing in an
/// ordinary run (`--include-ignored`), where there is no baseline of theirs to check.
#[test]
#[ignore = "a worker process of the multi-process tests, started by them"]
fn baseline_worker() {
    let Some(i) = std::env::var("DHAT_KIT_TEST_WORKER").ok() else {
        return;
    };
    WORKERS[i.parse::<usize>().unwrap()]();
}

/// The option that builds this test binary's profile, as the record command gives it: none in a
/// debug build, ` --release` in a release one, ` --profile NAME` in another.
fn profile_option() -> String {
    let exe = std::env::current_exe().unwrap();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::file_name);
    match dir.and_then(|d| d.to_str()) {
        Some("release") => " --release".into(),
        Some(name) if name != "debug" => format!(" --profile {name}"),
        _ => String::new(),
    }
}

/// The command a worker's failure prints to record its entry in `file`: the file it was given
/// (the worker sets `DHAT_KIT_BASELINE`), and this test binary (`--test baseline`), not every
/// test binary of the package, which could hold a test of the same name.
fn record_command(file: &Path, i: usize) -> String {
    format!(
        "DHAT_KIT_UPDATE=1 DHAT_KIT_BASELINE={} cargo test -p dhat-kit-suite{} --test baseline \
         -- --exact worker_{i:02}",
        file.display(),
        profile_option()
    )
}

/// The record command names the baseline file `DHAT_KIT_BASELINE` gives, quoted for the shell
/// when it needs to be: run as printed, it records into that file (without the variable it
/// recorded into memory-baseline.json).
#[test]
fn the_record_command_names_the_baseline_file_it_was_given() {
    let dir = TempDir::new("baseline-record-command");
    let path = dir.0.join("my baseline's.json");
    let (ok, stdout) = run(worker(5, &path, &[]));
    assert!(!ok, "{stdout}");
    let quoted = format!("'{}'", path.display().to_string().replace('\'', "'\\''"));
    assert!(
        stdout.contains(&format!(
            "\n    DHAT_KIT_UPDATE=1 DHAT_KIT_BASELINE={quoted} cargo test -p dhat-kit-suite{} \
             --test baseline -- --exact worker_05\n",
            profile_option()
        )),
        "{stdout}"
    );
    // Run as printed (by a shell), it records the entry into that file.
    let command = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("DHAT_KIT_UPDATE=1 "))
        .unwrap();
    let assignment = command.split(" cargo test").next().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{assignment} sh -c 'printf %s \"$DHAT_KIT_BASELINE\"'"
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        path.display().to_string()
    );
}

/// The worker in a new process of this test binary, with `vars` set, `CI` and
/// `DHAT_KIT_UPDATE` unset unless given.
fn worker(i: usize, file: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "baseline_worker",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove("CI")
    .env_remove("DHAT_KIT_UPDATE")
    .env("DHAT_KIT_TEST_WORKER", i.to_string())
    .env("DHAT_KIT_BASELINE", file)
    .envs(vars.iter().copied());
    cmd
}

/// Runs `cmd`: whether it succeeded, and everything it printed.
fn run(mut cmd: Command) -> (bool, String) {
    let out = cmd.output().unwrap();
    (out.status.success(), common::output_text(&out))
}

#[test]
fn forty_tests_in_processes_update_one_file() {
    let dir = TempDir::new("baseline-processes");
    let path = baseline_file(&dir);
    let children: Vec<_> = (0..40)
        .map(|i| {
            worker(i, &path, &[("DHAT_KIT_UPDATE", "1")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("recorded the new baseline entry"),
            "{stderr}"
        );
    }
    assert_forty_sorted(&path, |i| format!("baseline::worker_{i:02}"));
    let baseline = Baseline::read(&path).unwrap();
    for i in 0..40u64 {
        let f = baseline
            .get(&format!("baseline::worker_{i:02}"))
            .unwrap()
            .figures;
        assert_eq!(f.total_bytes, Some(100 + i));
        assert_eq!(
            (f.total_blocks, f.peak_bytes, f.end_bytes),
            (Some(1), Some(100 + i), Some(0))
        );
    }

    // Checked again without DHAT_KIT_UPDATE, every worker passes and nothing is written.
    let before = std::fs::read(&path).unwrap();
    for i in [0, 39] {
        let (ok, text) = run(worker(i, &path, &[]));
        assert!(ok, "{text}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn on_ci_a_missing_entry_fails_with_the_command_and_nothing_is_written() {
    let dir = TempDir::new("baseline-ci");
    let path = baseline_file(&dir);
    // Through the environment, as `cargo test` on CI runs it, even with DHAT_KIT_UPDATE=1.
    let (ok, stdout) = run(worker(
        7,
        &path,
        &[("CI", "true"), ("DHAT_KIT_UPDATE", "1")],
    ));
    assert!(!ok, "{stdout}");
    assert!(
        stdout.contains("no baseline entry `baseline::worker_07`"),
        "{stdout}"
    );
    assert!(stdout.contains("CI is set"), "{stdout}");
    assert!(stdout.contains(&record_command(&path, 7)), "{stdout}");
    assert!(
        stdout.contains("none is recorded, though an update was asked for"),
        "{stdout}"
    );
    // Said once (it was said in the headline and again in a note below the command).
    assert_eq!(
        stdout.matches("nothing is written on CI").count(),
        1,
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_dir(&dir.0).unwrap().count(),
        0,
        "nothing written, not even a lock"
    );

    // Through the API: a missing entry and a regression, with every update mode asked for.
    for update in [Update::No, Update::Record, Update::Pending] {
        let v = check(&path, "parse", &figures(1, 1), &options(update, true, 5.0)).unwrap();
        assert!(!v.passed && v.wrote.is_none(), "{v}");
        assert!(v.message.contains(COMMAND), "{v}");
        assert!(v.message.contains("nothing is written on CI"), "{v}");
    }
    assert_eq!(std::fs::read_dir(&dir.0).unwrap().count(), 0);
    let (path, bytes) = recorded(&dir);
    for update in [Update::Record, Update::Pending] {
        let v = check(
            &path,
            "parse",
            &figures(10_000, 8_000),
            &options(update, true, 5.0),
        )
        .unwrap();
        assert!(!v.passed && v.wrote.is_none(), "{v}");
        assert!(v.message.contains("on a development machine"), "{v}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!dir.0.join("memory-baseline.json.new").exists());
}

#[test]
fn without_update_a_missing_entry_fails_with_the_exact_command() {
    let dir = TempDir::new("baseline-missing");
    let path = baseline_file(&dir);
    let v = check(
        &path,
        "parse",
        &figures(1, 1),
        &options(Update::No, false, 5.0),
    )
    .unwrap();
    assert!(!v.passed);
    assert!(
        v.message
            .contains(&format!("no baseline entry `parse` in {}", path.display())),
        "{v}"
    );
    assert!(v.message.contains(&format!("\n    {COMMAND}\n")), "{v}");
    assert!(
        v.message
            .contains("DHAT_KIT_UPDATE=new cargo test -p demo -- --exact parse"),
        "{v}"
    );
    assert!(!path.exists());

    // And the same through the environment, in a process of its own.
    let (ok, stdout) = run(worker(3, &path, &[]));
    assert!(!ok, "{stdout}");
    assert!(stdout.contains(&record_command(&path, 3)), "{stdout}");
    assert!(!path.exists());
}

#[test]
fn a_regression_beyond_the_tolerance_fails_with_the_table() {
    let dir = TempDir::new("baseline-regression");
    let (path, bytes) = recorded(&dir);
    let v = check(
        &path,
        "parse",
        &figures(10_100, 5_000),
        &options(Update::No, false, 5.0),
    )
    .unwrap();
    assert!(!v.passed, "{v}");
    let c = v.comparison.as_ref().unwrap();
    let regressed: Vec<_> = c.regressions().map(|r| r.metric).collect();
    assert_eq!(regressed, [Metric::PeakBytes]);
    for line in [
        "uses more memory than its baseline",
        "  metric              baseline           now         delta         %",
        "  total bytes           10,000        10,100          +100     +1.0%\n",
        "  peak bytes             4,000         5,000        +1,000    +25.0%  regressed",
        COMMAND,
    ] {
        assert!(v.message.contains(line), "{line:?} in\n{v}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing written");

    // A tighter tolerance catches what a looser one lets through.
    let small = figures(10_000, 4_120); // +3%
    assert!(
        check(&path, "parse", &small, &options(Update::No, false, 5.0))
            .unwrap()
            .passed
    );
    assert!(
        !check(&path, "parse", &small, &options(Update::No, false, 2.0))
            .unwrap()
            .passed
    );
}

#[test]
fn within_the_tolerance_passes_quietly_and_writes_nothing() {
    let dir = TempDir::new("baseline-within");
    let (path, bytes) = recorded(&dir);
    for update in [Update::No, Update::Record, Update::Pending] {
        let v = check(
            &path,
            "parse",
            &figures(10_400, 3_850),
            &options(update, false, 5.0),
        )
        .unwrap();
        assert!(v.passed, "{v}");
        assert!(v.message.is_empty() && v.wrote.is_none(), "{v}");
        assert!(v
            .comparison
            .unwrap()
            .rows
            .iter()
            .all(|r| r.status == Status::Within));
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!dir.0.join("memory-baseline.json.new").exists());
}

#[test]
fn an_improvement_is_reported_with_a_hint_to_record_it() {
    let dir = TempDir::new("baseline-improvement");
    let (path, bytes) = recorded(&dir);
    let v = check(
        &path,
        "parse",
        &figures(6_000, 4_000),
        &options(Update::No, false, 5.0),
    )
    .unwrap();
    assert!(v.passed, "{v}");
    assert!(
        v.message.contains("uses less memory than its baseline"),
        "{v}"
    );
    assert!(v.message.contains("-4,000    -40.0%  improved"), "{v}");
    assert!(v.message.contains("Record the improvement"), "{v}");
    assert!(v.message.contains(COMMAND), "{v}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);

    // Recorded, the improvement becomes the baseline.
    let v = check(
        &path,
        "parse",
        &figures(6_000, 4_000),
        &options(Update::Record, false, 5.0),
    )
    .unwrap();
    assert!(v.passed && v.wrote.is_some(), "{v}");
    let entry = Baseline::read(&path)
        .unwrap()
        .get("parse")
        .cloned()
        .unwrap();
    assert_eq!(entry.figures, figures(6_000, 4_000));
}

#[test]
fn update_new_writes_a_pending_file_for_review() {
    let dir = TempDir::new("baseline-pending");
    let (path, bytes) = recorded(&dir);
    let pending = dir.0.join("memory-baseline.json.new");
    // A regression: the pending file gets it, the baseline does not, and the check still fails.
    let v = check(
        &path,
        "parse",
        &figures(10_000, 8_000),
        &options(Update::Pending, false, 5.0),
    )
    .unwrap();
    assert!(!v.passed, "{v}");
    assert_eq!(v.wrote.as_deref(), Some(pending.as_path()));
    assert!(
        v.message
            .contains(&format!("mv {} {}", pending.display(), path.display())),
        "{v}"
    );
    // A new entry joins the same pending file.
    let v = check(
        &path,
        "other",
        &figures(1, 1),
        &options(Update::Pending, false, 5.0),
    )
    .unwrap();
    assert!(!v.passed, "{v}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let review = Baseline::read(&pending).unwrap();
    assert_eq!(review.get("parse").unwrap().figures, figures(10_000, 8_000));
    assert_eq!(review.get("other").unwrap().figures, figures(1, 1));
    // Accepted, the check passes.
    std::fs::rename(&pending, &path).unwrap();
    assert!(
        check(
            &path,
            "parse",
            &figures(10_000, 8_000),
            &options(Update::No, false, 5.0)
        )
        .unwrap()
        .passed
    );
}

#[test]
fn a_corrupt_or_half_written_file_is_an_error_naming_it_and_is_left_alone() {
    let dir = TempDir::new("baseline-corrupt");
    let (path, good) = recorded(&dir);
    let cases: [(&[u8], &str); 4] = [
        (
            &good[..good.len() / 2],
            "not a complete JSON document (a half-written baseline?)",
        ),
        (b"", "the file is empty"),
        (
            b"{\"dhat_kit_baseline\": 1, \"entries\": {\"parse\": {\"peak_bytes\": \"4k\"}}}",
            "invalid type: string \"4k\", expected a figure, a whole number from 0 to 18446744073709551615",
        ),
        (b"<<<<<<< HEAD\n", "not valid JSON"),
    ];
    for (bytes, expected) in cases {
        std::fs::write(&path, bytes).unwrap();
        for update in [Update::No, Update::Record, Update::Pending] {
            let err =
                check(&path, "parse", &figures(1, 1), &options(update, false, 5.0)).unwrap_err();
            assert_eq!(err.file(), path);
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("dhat-kit: {}: ", path.display())),
                "{text}"
            );
            assert!(text.contains(expected), "{expected:?} in {text}");
            // A new entry would be merged into the file: it is refused too.
            assert!(check(&path, "new", &figures(1, 1), &options(update, false, 5.0)).is_err());
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "the file is left as it was"
        );
        assert!(!dir.0.join("memory-baseline.json.new").exists());
    }

    // Through the test runtime, the error is the failure message.
    std::fs::write(&path, &good[..10]).unwrap();
    let (ok, stdout) = run(worker(1, &path, &[("DHAT_KIT_UPDATE", "1")]));
    assert!(!ok, "{stdout}");
    assert!(
        stdout.contains(&format!(
            "dhat-kit: {}: not a complete JSON document",
            path.display()
        )),
        "{stdout}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), &good[..10]);
}

#[test]
fn a_seed_file_is_read_and_recorded_into_the_current_format() {
    let dir = TempDir::new("baseline-seed");
    let path = baseline_file(&dir);
    std::fs::write(
        &path,
        r#"{
  "total_allocations_bytes": 52428800,
  "peak_memory_bytes": 10485760,
  "allocation_count": 120000,
  "measured_at": "2025-06-01T12:00:00Z",
  "commit": "4f2a9c1"
}
"#,
    )
    .unwrap();
    let now = BaselineFigures {
        total_bytes: Some(52_428_800),
        total_blocks: Some(120_500),
        peak_bytes: Some(12_582_912), // +20%
        ..BaselineFigures::default()
    };
    let v = check(&path, "default", &now, &options(Update::No, false, 5.0)).unwrap();
    assert!(!v.passed, "{v}");
    assert!(
        v.message
            .contains("recorded 2025-06-01T12:00:00Z at 4f2a9c1"),
        "{v}"
    );
    let rows: Vec<_> = v
        .comparison
        .unwrap()
        .rows
        .iter()
        .map(|r| r.metric)
        .collect();
    assert_eq!(
        rows,
        [Metric::TotalBytes, Metric::TotalBlocks, Metric::PeakBytes]
    );

    // Whatever text the seed's commit holds is quoted, never cut inside a character.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("4f2a9c1", "0123456789aé-b")).unwrap();
    let v = check(&path, "default", &now, &options(Update::No, false, 5.0)).unwrap();
    assert!(v.message.contains(" at 0123456789aé:\n"), "{v}");

    let v = check(&path, "default", &now, &options(Update::Record, false, 5.0)).unwrap();
    assert!(v.passed, "{v}");
    assert_eq!(entry_names_in_file_order(&path), ["default"]);
    assert_eq!(
        Baseline::read(&path)
            .unwrap()
            .get("default")
            .unwrap()
            .figures,
        now
    );
}

#[test]
fn a_profile_is_checked_against_its_entry() {
    let dir = TempDir::new("baseline-profile");
    let path = baseline_file(&dir);
    let heap = common::fixture("dhat-rs-heap.json");
    let record = options(Update::Record, false, 5.0);
    assert!(check_profile(&heap, &path, "main", &record).unwrap().passed);
    let entry = Baseline::read(&path).unwrap().get("main").cloned().unwrap();
    let totals = dhat_kit::profile::read(&heap).unwrap().totals();
    assert_eq!(entry.figures.total_bytes, Some(totals.bytes));
    assert_eq!(entry.figures.peak_bytes, totals.peak_bytes);
    assert!(
        check_profile(&heap, &path, "main", &options(Update::No, false, 0.0))
            .unwrap()
            .passed
    );

    // The same profile against a baseline 30% lower regresses.
    let mut lower = Baseline::read(&path).unwrap();
    let mut e = entry.clone();
    e.figures.peak_bytes = totals.peak_bytes.map(|b| b * 7 / 10);
    lower.insert("main", e);
    lower.write(&path).unwrap();
    let mut only_peak = options(Update::No, false, 5.0);
    only_peak.metrics = vec![Metric::PeakBytes];
    let v = check_profile(&heap, &path, "main", &only_peak).unwrap();
    assert!(!v.passed, "{v}");
    assert_eq!(v.comparison.unwrap().rows.len(), 1);

    // An ad-hoc profile has no peak to compare; a profile that is not one is named.
    let err = check_profile(
        &common::fixture("dhat-rs-ad-hoc.json"),
        &path,
        "main",
        &only_peak,
    )
    .unwrap_err();
    assert!(err.to_string().contains("dhat-rs-ad-hoc.json"), "{err}");
    assert!(err.to_string().contains("for peak-bytes"), "{err}");
    let err = check_profile(&path, &path, "main", &only_peak).unwrap_err();
    assert!(err.to_string().contains("memory-baseline.json"), "{err}");
}

// What an entry measures: an ad-hoc profile's units and events are never compared with (nor
// recorded over) an entry of bytes and blocks, nor the other way round. `dhat-kit check` prints
// `check_profile`'s error and exits with status 2.

const HEAP: &str = "dhat-rs-heap.json";
const AD_HOC: &str = "dhat-rs-ad-hoc.json";

/// `check_profile` of the fixture `profile` against the entry `main` of `path`.
fn check_main(
    profile: &str,
    path: &Path,
    update: Update,
) -> Result<dhat_kit::baseline::Verdict, dhat_kit::baseline::ProfileCheck> {
    check_profile(
        &common::fixture(profile),
        path,
        "main",
        &options(update, false, 5.0),
    )
}

/// The entry `main` of `path`, as JSON.
fn entry_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["entries"]["main"].clone()
}

/// `profile` checked against the entry `main` of `path` is refused, under every update policy,
/// in one line naming the file, the entry and both kinds, and the file is left byte for byte as
/// it was.
fn refused(path: &Path, profile: &str, entry_holds: &str, profile_holds: &str) {
    let before = std::fs::read(path).unwrap();
    for update in [Update::No, Update::Record, Update::Pending] {
        let err = check_main(profile, path, update)
            .expect_err("figures of another kind are not compared")
            .to_string();
        let expected = format!(
            "dhat-kit: {}: entry `main` holds {entry_holds}; {} holds {profile_holds}",
            path.display(),
            common::fixture(profile).display()
        );
        assert!(err.starts_with(&expected), "{update:?}: {err}");
        assert!(!err.contains('\n'), "one line: {err}");
        if update != Update::No {
            assert!(err.contains("remove it"), "{update:?}: {err}");
        }
        assert_eq!(std::fs::read(path).unwrap(), before, "{update:?}");
        let pending = path.with_extension("json.new");
        assert!(!pending.exists(), "{update:?}: no pending file");
    }
}

/// A baseline file in a directory of its own with the entry `main` recorded from `profile`.
fn recorded_from(profile: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::new(&format!("baseline-{}", profile.trim_end_matches(".json")));
    let path = baseline_file(&dir);
    let v = check_main(profile, &path, Update::Record).unwrap();
    assert!(v.passed && v.wrote.is_some(), "{v}");
    (dir, path)
}

#[test]
fn an_ad_hoc_profile_is_not_compared_with_an_entry_of_bytes() {
    let (_dir, path) = recorded_from(HEAP);
    let entry = entry_json(&path);
    assert!(
        entry.get("measures").is_none(),
        "written as before: {entry}"
    );
    refused(
        &path,
        AD_HOC,
        "bytes and blocks",
        "units and events (an ad-hoc profile)",
    );
    // The heap profile still passes against its entry.
    let v = check_main(HEAP, &path, Update::No).unwrap();
    assert!(v.passed, "{v}");
}

#[test]
fn an_ad_hoc_entry_records_its_kind_and_compares_units_with_units() {
    let (_dir, path) = recorded_from(AD_HOC);
    assert_eq!(
        entry_json(&path)["measures"],
        serde_json::json!({"kind": "ad-hoc", "unit": "units", "blocks": "events"}),
        "{}",
        std::fs::read_to_string(&path).unwrap()
    );
    let entry = Baseline::read(&path).unwrap().get("main").cloned().unwrap();
    let now = dhat_kit::profile::read(common::fixture(AD_HOC)).unwrap();
    assert_eq!(entry.figures, BaselineFigures::from_profile(&now));
    // Ad-hoc profiles, dhat-rs's and Valgrind's, compare with it, units with units.
    assert!(check_main(AD_HOC, &path, Update::No).unwrap().passed);
    let valgrind = check_main("valgrind-ad-hoc.json", &path, Update::No).unwrap();
    assert!(valgrind.comparison.is_some(), "{valgrind}");
    // A heap profile, a copy profile and a test's figures (bytes) are refused.
    refused(
        &path,
        HEAP,
        "units and events (an ad-hoc profile)",
        "bytes and blocks",
    );
    refused(
        &path,
        "valgrind-copy.json",
        "units and events (an ad-hoc profile)",
        "bytes and blocks (a copy profile)",
    );
    let before = std::fs::read(&path).unwrap();
    let test_figures = BaselineFigures::from(common::stats((10, 1), (10, 1), (0, 0)));
    let err = check(
        &path,
        "main",
        &test_figures,
        &options(Update::Record, false, 5.0),
    )
    .unwrap_err()
    .to_string();
    let holds = "entry `main` holds units and events (an ad-hoc profile)";
    assert!(err.contains(holds), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn an_entry_without_measures_holds_bytes_and_blocks() {
    let dir = TempDir::new("baseline-old-entry");
    let path = baseline_file(&dir);
    // As every baseline before entries said what they measure, and as a test records one.
    let old = r#"{"dhat_kit_baseline": 1, "entries": {"main": {"total_bytes": 116113, "total_blocks": 789}}}"#;
    std::fs::write(&path, old).unwrap();
    refused(
        &path,
        AD_HOC,
        "bytes and blocks",
        "units and events (an ad-hoc profile)",
    );
    // The seed format holds bytes too.
    let seed = "{\"total_allocations_bytes\": 116113, \"allocation_count\": 789}\n";
    std::fs::write(&path, seed).unwrap();
    let no_update = options(Update::No, false, 5.0);
    let err = check_profile(&common::fixture(AD_HOC), &path, "default", &no_update)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("entry `default` holds bytes and blocks"),
        "{err}"
    );
}
