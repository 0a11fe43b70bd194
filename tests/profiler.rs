//! Profiler sessions as a user starts them: the peak profile's contents, explicit `finish`, errors,
//! and two sessions at once.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

mod common;

use dhat_kit::{Error, Mode, Profiler};
use std::hint::black_box;
use std::path::PathBuf;

fn peak(file: &PathBuf) -> dhat_kit::ProfilerBuilder {
    of_mode(Mode::Peak, file)
}

/// A session of `mode` writing `file`, with no summary.
fn of_mode(mode: Mode, file: &PathBuf) -> dhat_kit::ProfilerBuilder {
    Profiler::builder().mode(mode).file(file).summary(false)
}

#[test]
fn the_peak_profile_is_dhat_json_whose_points_are_region_paths() {
    let file = common::temp("profiler", "points.json");
    let profiler = peak(&file).build().unwrap();
    {
        dhat_kit::region!("profile-outer");
        black_box(vec![0u8; 300]);
        dhat_kit::region!("profile-inner");
        black_box(vec![0u8; 200]);
    }
    // Outside any region.
    black_box(vec![0u8; 1 << 20]);
    let path = profiler.finish().unwrap();
    assert_eq!(path, file);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(v["dhatFileVersion"], 2);
    assert_eq!(v["mode"], "dhat-kit-peak");
    assert_eq!(v["verb"], "Allocated");
    assert_eq!(v["bklt"], true);
    assert_eq!(v["bkacc"], false);
    let ftbl: Vec<&str> = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(ftbl[0], "[root]");
    let frames = |pp: &serde_json::Value| -> Vec<&str> {
        pp["fs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| ftbl[i.as_u64().unwrap() as usize])
            .collect()
    };
    let pps = v["pps"].as_array().unwrap();
    // Innermost frame first, as DHAT lists a backtrace.
    let inner = pps
        .iter()
        .find(|pp| frames(pp) == ["region profile-inner", "region profile-outer"])
        .expect("the inner region's point");
    assert_eq!(
        (inner["tb"].as_u64(), inner["tbk"].as_u64()),
        (Some(200), Some(1))
    );
    let outer = pps
        .iter()
        .find(|pp| frames(pp) == ["region profile-outer"])
        .unwrap();
    assert_eq!(
        (outer["tb"].as_u64(), outer["tbk"].as_u64()),
        (Some(300), Some(1))
    );
    assert!(pps.iter().any(|pp| frames(pp) == ["(outside any region)"]));
    // The points add up to the session's totals, within the process's.
    let sum = |k: &str| pps.iter().map(|pp| pp[k].as_u64().unwrap()).sum::<u64>();
    let process = dhat_kit::process_stats();
    // (Its peak and end figures are the process's net changes, which other tests' threads move
    // either way here; `tests/exact_vs_dhat.rs` checks them in a process of their own.)
    assert!(sum("tb") <= process.total_bytes && sum("tb") >= 500 + (1 << 20));
    // Read back (`dhat-kit regions`), nested, each region with its sub-regions' figures.
    let p = dhat_kit::profile::read(&path).unwrap();
    let regions = dhat_kit::analyze::regions(&p).unwrap();
    let region = |name: &str| regions.rows.iter().find(|r| r.name() == name).expect(name);
    let outer = region("profile-outer");
    assert_eq!(
        (
            outer.inclusive.total_bytes,
            outer.inclusive.total_blocks,
            outer.own.total_bytes
        ),
        (500, 2, 300)
    );
    assert_eq!(
        region("profile-outer/profile-inner").inclusive.total_bytes,
        200
    );
    // Each point's peak is its region's, sub-regions included, as `regions()` has it (`dhat-kit
    // regions` called it the region's own).
    let live = dhat_kit::regions();
    for name in ["profile-outer", "profile-outer/profile-inner"] {
        assert_eq!(
            region(name).max_bytes,
            live.get(name).map(|r| r.inclusive.max_bytes),
            "{name}"
        );
    }
}

#[test]
fn a_second_session_fails_clearly_when_told_not_to_wait() {
    let first = peak(&common::temp("profiler", "first.json"))
        .build()
        .unwrap();
    let second = peak(&common::temp("profiler", "second.json"))
        .wait(false)
        .build();
    match second {
        Err(Error::Busy) => {}
        other => panic!("expected Busy, got {other:?}"),
    }
    let msg = Error::Busy.to_string();
    assert!(
        msg.contains("another profiling session is running"),
        "{msg}"
    );
    drop(first);
    // Once the first has ended, the next one starts (waiting for sessions of tests running beside
    // this one).
    let third = peak(&common::temp("profiler", "third.json"))
        .build()
        .unwrap();
    assert!(third.finish().unwrap().exists());
}

#[test]
fn a_session_dropped_by_a_panic_leaves_the_next_free_to_start() {
    let file = common::temp("profiler", "panicked.json");
    let panicked = std::thread::spawn(move || {
        let _profiler = peak(&file).build().unwrap();
        panic!("the work under the session panicked");
    })
    .join();
    assert!(panicked.is_err());
    // Waiting for sessions of tests running beside this one, then not waiting at all.
    let next = peak(&common::temp("profiler", "after-panic.json"))
        .build()
        .unwrap();
    assert!(next.finish().unwrap().exists());
    let mut tries = 0;
    let unwaited = loop {
        match peak(&common::temp("profiler", "after-panic-nowait.json"))
            .wait(false)
            .build()
        {
            Err(Error::Busy) if tries < 1000 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => break other,
        }
    };
    assert!(unwaited.unwrap().finish().unwrap().exists());
}

#[test]
fn parallel_sessions_wait_for_each_other() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let p = peak(&common::temp("profiler", &format!("parallel-{i}.json")))
                    .build()
                    .unwrap();
                black_box(vec![0u8; 64]);
                p.finish().unwrap()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().exists());
    }
}

#[test]
fn an_unwritable_output_is_an_error_that_names_the_file() {
    // A directory under a plain file cannot be made, even by root.
    let blocker = common::temp("profiler", "a-plain-file");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let file = blocker.join("sub").join("profile.json");
    let err = peak(&file).build().unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&*file.to_string_lossy()), "{msg}");
    // Says what is wrong: the system's own words are "File exists" (`DHAT_KIT_OUT` naming a file).
    let why = format!("{} is a file, not a directory", blocker.display());
    assert!(msg.ends_with(&why), "{msg}");
    // A device is a file too (`DHAT_KIT_OUT=/dev/null`).
    let err = peak(&PathBuf::from("/dev/null/profile.json"))
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("/dev/null is a file, not a directory"),
        "{err}"
    );
}

/// A directory that cannot be made (`DHAT_KIT_OUT=/proc/nope`) is said to be the failure: the
/// message read "cannot write /proc/nope/profile.json: No such file or directory".
#[cfg(target_os = "linux")]
#[test]
fn an_output_directory_that_cannot_be_made_is_named() {
    let err = peak(&PathBuf::from("/proc/nope/profile.json"))
        .build()
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "dhat-kit: cannot write /proc/nope/profile.json: cannot create its directory \
             /proc/nope: "
        ),
        "{err}"
    );
}

/// An output that is a directory, or names no file, is refused at the start, naming it: the
/// session ran, and its end failed to write (`cannot put the temporary file .tmp-.. in place
/// of :` for an empty path), losing the profile.
#[test]
fn an_output_that_is_a_directory_or_no_file_is_refused_at_the_start() {
    let dir = common::temp("profiler", "output-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            dir.clone(),
            "it is a directory",
            std::io::ErrorKind::IsADirectory,
        ),
        (
            PathBuf::new(),
            "it names no file",
            std::io::ErrorKind::InvalidInput,
        ),
        (
            dir.join(".."),
            "it is a directory",
            std::io::ErrorKind::IsADirectory,
        ),
        (
            dir.join("new/"),
            "it names no file",
            std::io::ErrorKind::InvalidInput,
        ),
    ];
    for (path, why, kind) in cases {
        let err = peak(&path).build().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "dhat-kit: cannot write {}: {why}: name the profile's file",
                path.display()
            )
        );
        let Error::Io { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(source.kind(), kind, "{path:?}");
    }
    assert!(!dir.join("new").exists());
}

#[test]
fn a_missing_output_directory_is_created() {
    let file = common::temp("profiler", "missing")
        .join("nested")
        .join("dir")
        .join("profile.json");
    let _ = std::fs::remove_dir_all(common::temp("profiler", "missing"));
    let profiler = peak(&file).build().unwrap();
    black_box(vec![0u8; 10]);
    assert_eq!(profiler.finish().unwrap(), file);
    assert!(file.exists());
}

#[test]
fn dhat_kit_out_names_the_directory_and_is_created_if_missing() {
    // The only test here that reads DHAT_KIT_OUT (the others name their files).
    let dir = common::temp("profiler", "out-env").join("profiles");
    let _ = std::fs::remove_dir_all(common::temp("profiler", "out-env"));
    std::env::set_var("DHAT_KIT_OUT", &dir);
    let built = Profiler::builder().mode(Mode::Peak).summary(false).build();
    std::env::remove_var("DHAT_KIT_OUT");
    let profiler = built.unwrap();
    assert_eq!(profiler.path(), dir.join("dhat-peak.json"));
    assert_eq!(profiler.finish().unwrap(), dir.join("dhat-peak.json"));
    assert!(dir.join("dhat-peak.json").exists());
}

/// Run in a child process (its stderr is the point): three sessions, the second writing the
/// first's file again by another path, the third a file of its own.
#[test]
fn child_sessions_in_turn() {
    let Some(file) = std::env::var_os("DHAT_KIT_TEST_IN_TURN_FILE") else {
        return; // only in the child started by the test below
    };
    let file = PathBuf::from(file);
    let again = file
        .parent()
        .unwrap()
        .join(".")
        .join(file.file_name().unwrap());
    let other = file.with_extension("other.json");
    for path in [&file, &again, &other] {
        let profiler = peak(path).build().unwrap();
        black_box(vec![0u8; 10]);
        profiler.finish().unwrap();
    }
}

/// A session that replaces the file an earlier session of the process wrote says so, once, and
/// only of that file: tests that each profile under the default name left only the last
/// profile, each summary naming the file.
#[test]
fn a_session_replacing_an_earlier_sessions_file_says_so() {
    let file = common::temp("profiler", "in-turn.json");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_sessions_in_turn", "--nocapture"])
        .args(["--test-threads", "1"])
        .env("DHAT_KIT_TEST_IN_TURN_FILE", &file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("earlier session"))
        .collect();
    let again = file
        .parent()
        .unwrap()
        .join(".")
        .join(file.file_name().unwrap());
    assert_eq!(
        said,
        [format!(
            "dhat-kit: {} holds an earlier session's profile of this process, which this \
             session's replaces (give each session its own file: ProfilerBuilder::file)",
            again.display()
        )],
        "{stderr}"
    );
}

/// Run in a child process (the stderr summary is the point): a peak session with its summary on.
#[test]
fn child_peak_session_with_summary() {
    let Some(file) = std::env::var_os("DHAT_KIT_TEST_SUMMARY_FILE") else {
        return; // only in the child started by the test below
    };
    // The session's thread alone at work (the harness's thread may still be at its own).
    common::wait_for_other_threads_to_sleep();
    let profiler = Profiler::builder()
        .mode(Mode::Peak)
        .file(file)
        .build()
        .unwrap();
    {
        dhat_kit::region!("summary-work");
        black_box((0..100).map(|i| vec![0u8; i]).collect::<Vec<_>>());
    }
    drop(profiler);
}

#[test]
fn the_stderr_summary_and_the_file_show_the_same_figures() {
    let file = common::temp("profiler", "summary.json");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_peak_session_with_summary",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("DHAT_KIT_TEST_SUMMARY_FILE", &file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let pps = v["pps"].as_array().unwrap();
    let sum = |k: &str| pps.iter().map(|pp| pp[k].as_u64().unwrap()).sum::<u64>();
    // "dhat-kit: 1.2 MiB in 3,401 blocks (peak 20.0 KiB in 31 blocks, live at end ...)"
    let line = stderr
        .lines()
        .find(|l| l.starts_with("dhat-kit: ") && l.contains(" blocks (peak "))
        .unwrap_or_else(|| panic!("no summary line in {stderr:?}"));
    let number_before = |text: &str, word: &str| -> u64 {
        let at = text.find(word).unwrap();
        let digits: String = text[..at]
            .trim_end()
            .rsplit(' ')
            .next()
            .unwrap()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap()
    };
    let (total, rest) = line.split_once(" (peak ").unwrap();
    let (peak, end) = rest.split_once(", live at end ").unwrap();
    assert_eq!(number_before(total, " blocks"), sum("tbk"), "{line}");
    assert_eq!(number_before(peak, " blocks"), sum("gbk"), "{line}");
    assert_eq!(number_before(end, " blocks"), sum("ebk"), "{line}");
    assert!(stderr.contains("summary-work"), "{stderr}");
    assert!(stderr.contains(&*file.to_string_lossy()), "{stderr}");
    // Its own thread alone worked: its peak is exact, and nothing says otherwise.
    assert!(!stderr.contains(OTHERS_WORKED), "{stderr}");
}

/// What a session's summary says when other threads worked during it.
const OTHERS_WORKED: &str = "dhat-kit: other threads worked during the session: its peak is the \
    highest their batches showed, exact to within 64 KiB per thread at work at the peak";

/// Run in a child process by the test below: four threads each hold ten blocks of 6 KiB at once
/// (60 KiB, less than a batch), then free them, in a session with its summary on.
#[test]
#[ignore = "run in a child process by a_summary_says_when_other_threads_worked, which reads its stderr"]
fn child_threads_hold_less_than_a_batch_each() {
    let file = common::temp("profiler", "others-worked.json");
    let profiler = Profiler::builder()
        .mode(Mode::Peak)
        .file(&file)
        .build()
        .unwrap();
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let held: Vec<Vec<u8>> = (0..10).map(|_| vec![1u8; 6 << 10]).collect();
                barrier.wait();
                drop(black_box(held));
            });
        }
    });
    profiler.finish().unwrap();
}

/// Four threads held 240 KiB at once, which no batch showed: the session's peak read about
/// 1 KiB, and its summary said nothing of why.
#[test]
fn a_summary_says_when_other_threads_worked() {
    let out = common::run_ignored("child_threads_hold_less_than_a_batch_each");
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(OTHERS_WORKED), "{text}");
}

/// Run in a child process by the test below: a thread inside a region across the session's start
/// allocates 1,000,000 bytes before it and 100 during it, with the summary off.
#[test]
#[ignore = "run in a child process by a_region_open_across_the_start_is_said_to_count_whole, which reads its stderr"]
fn child_a_region_open_across_the_start() {
    let file = common::temp("profiler", "open-across-start.json");
    let (started, start) = std::sync::mpsc::channel::<()>();
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        dhat_kit::region!("open-across-start");
        drop(black_box(vec![0u8; 1_000_000]));
        started.send(()).unwrap();
        wait.recv().unwrap();
        drop(black_box(vec![0u8; 100]));
    });
    start.recv().unwrap();
    let profiler = Profiler::builder()
        .mode(Mode::Peak)
        .file(&file)
        .summary(false)
        .build()
        .unwrap();
    go.send(()).unwrap();
    worker.join().unwrap();
    profiler.finish().unwrap();
}

/// A region's entry open on another thread at the session's start counts whole when it ends,
/// before the start too: the file's regions held 1,000,100 bytes of a session that allocated
/// about 1 KiB, and the point outside any region read 0, said nowhere. Now said, with the
/// summary off too.
#[test]
fn a_region_open_across_the_start_is_said_to_count_whole() {
    if !cfg!(feature = "peak") || cfg!(feature = "heap") || cfg!(feature = "ad-hoc") {
        return; // the peak mode's file: checked where it is the default
    }
    let out = common::run_ignored("child_a_region_open_across_the_start");
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    // The worker's region holds the million bytes, and std's few blocks of the channels.
    let warning = text
        .lines()
        .find(|l| l.starts_with("dhat-kit: warning: ") && l.contains("open-across-start.json: "))
        .unwrap_or_else(|| panic!("no warning in:\n{text}"));
    assert!(
        warning.contains("the regions' entries that ended in the session counted 97")
            && warning.contains(" KiB in ")
            && warning.contains("more than the session allocated")
            && warning
                .contains("counts whole when it ends, what it allocated before the start too"),
        "{text}"
    );
}

#[test]
fn a_mode_whose_feature_is_off_says_which_feature_to_enable() {
    if cfg!(feature = "heap") {
        return; // every mode is built here; the message is checked in default builds
    }
    let err = Profiler::builder().mode(Mode::Heap).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "dhat-kit: the heap mode needs the `heap` feature of dhat-kit (add `features = [\"heap\"]` to the dependency)"
    );
}

#[test]
fn the_default_mode_follows_the_features() {
    let want = if cfg!(feature = "heap") {
        Mode::Heap
    } else if cfg!(feature = "ad-hoc") {
        Mode::AdHoc
    } else if cfg!(feature = "sampled") {
        Mode::Sampled
    } else {
        Mode::Peak
    };
    assert_eq!(Mode::enabled(), want);
    assert_eq!(Mode::Peak.default_file(), "dhat-peak.json");
}

/// dhat allows one profiler at a time and panics on a second: sessions of its modes, started by
/// tests running in parallel, take turns instead.
#[cfg(all(feature = "heap", feature = "ad-hoc"))]
#[test]
fn parallel_dhat_sessions_take_turns_instead_of_panicking() {
    let handles: Vec<_> = [Mode::Heap, Mode::AdHoc, Mode::Heap, Mode::AdHoc]
        .into_iter()
        .enumerate()
        .map(|(i, mode)| {
            std::thread::spawn(move || {
                let p = Profiler::builder()
                    .mode(mode)
                    .file(common::temp("profiler", &format!("parallel-dhat-{i}.json")))
                    .build()
                    .unwrap();
                {
                    dhat_kit::region!("parallel-dhat");
                    black_box(vec![0u8; 100 + i]);
                }
                p.finish().unwrap()
            })
        })
        .collect();
    for h in handles {
        let path = h.join().unwrap();
        let profile = dhat_kit::profile::read(&path).unwrap();
        assert!(profile.totals().bytes > 0, "{}", path.display());
    }
}

/// A session that ends inside a region still open on its thread (a `_profiler` declared before a
/// region spanning `main`) has that region's point, with what it allocated so far.
#[test]
fn a_region_still_open_when_the_session_ends_has_its_point() {
    let file = common::temp("profiler", "open-region.json");
    let profiler = peak(&file).build().unwrap();
    let region = dhat_kit::Region::enter("profile-still-open");
    black_box(vec![0u8; 123]);
    let path = profiler.finish().unwrap();
    drop(region);
    let profile = dhat_kit::profile::read(&path).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let frame = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f == "region profile-still-open")
        .expect("the open region's frame");
    let pp = v["pps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|pp| pp["fs"] == serde_json::json!([frame]))
        .expect("the open region's point");
    assert_eq!(
        (pp["tb"].as_u64(), pp["tbk"].as_u64()),
        (Some(123), Some(1))
    );
    assert!(profile.totals().bytes >= 123);
}

/// The points of a peak profile by their frames (innermost first): `(tb, tbk, mb, mbk)`.
fn points(path: &std::path::Path) -> Vec<(Vec<String>, [u64; 4])> {
    let profile = dhat_kit::profile::read(path).unwrap();
    profile
        .pps
        .iter()
        .map(|pp| {
            let frames = pp.fs.iter().map(|&f| profile.ftbl[f as usize].to_string());
            (frames.collect(), [pp.tb, pp.tbk, pp.mb, pp.mbk])
        })
        .collect()
}

/// A region's point in `points`, if the file has one.
fn point(points: &[(Vec<String>, [u64; 4])], region: &str) -> Option<[u64; 4]> {
    let frame = format!("region {region}");
    points
        .iter()
        .find(|(f, _)| *f == [frame.as_str()])
        .map(|p| p.1)
}

/// A session's file holds what its regions did during it, not before: after a first session, a
/// second one's points are its own entries' (a region entered in the first only has none), and a
/// region's peak is its entries' during the session, where an earlier entry's was higher.
#[test]
fn a_session_holds_what_its_regions_did_since_it_began() {
    let enter = |name: &'static str, sizes: &[usize]| {
        let _r = dhat_kit::Region::enter(name);
        let kept: Vec<Vec<u8>> = sizes.iter().map(|&n| black_box(vec![0u8; n])).collect();
        drop(kept);
    };
    let first = common::temp("profiler", "regions-first.json");
    let profiler = peak(&first).build().unwrap();
    enter("since-both", &[5000]);
    enter("since-first-only", &[100]);
    enter("since-rises", &[100]);
    profiler.finish().unwrap();
    let second = common::temp("profiler", "regions-second.json");
    let profiler = peak(&second).build().unwrap();
    enter("since-both", &[300, 200]);
    enter("since-rises", &[7000]);
    enter("since-second-only", &[64]);
    profiler.finish().unwrap();

    // Each entry also allocates its list of blocks: 24 bytes a block, one block more.
    let first = points(&first);
    assert_eq!(point(&first, "since-both"), Some([5024, 2, 5024, 2]));
    let second = points(&second);
    assert_eq!(point(&second, "since-first-only"), None, "{second:?}");
    // The first session's entry peaked higher (5,024 bytes): the file gives the most the second's
    // entry can have held, all it allocated, which here was live at once.
    assert_eq!(point(&second, "since-both"), Some([548, 3, 548, 3]));
    assert_eq!(point(&second, "since-rises"), Some([7024, 2, 7024, 2]));
    assert_eq!(point(&second, "since-second-only"), Some([88, 2, 88, 2]));
}

/// A session that begins inside an open region holds what the region allocates after the
/// session's start only.
#[test]
fn a_region_open_when_the_session_begins_counts_from_the_beginning() {
    let file = common::temp("profiler", "region-open-at-start.json");
    let region = dhat_kit::Region::enter("since-open-at-start");
    black_box(vec![0u8; 1000]);
    let profiler = peak(&file).build().unwrap();
    black_box(vec![0u8; 24]);
    profiler.finish().unwrap();
    drop(region);
    let [tb, tbk, ..] = point(&points(&file), "since-open-at-start").expect("its point");
    assert_eq!((tb, tbk), (24, 1));
}

/// A peak session's own work (its snapshot, the file's bytes, the summary) is neither counted as
/// allocated nor, later, as freed: the thread's live figures are the same after it as before.
#[test]
fn a_peak_session_leaves_the_threads_live_figures_as_they_were() {
    let file = common::temp("profiler", "no-trace.json");
    // Live bytes well above zero, so that a drift below the truth would show (figures clamp at 0).
    let keep = black_box(vec![0u8; 1 << 20]);
    let before = dhat_kit::thread_stats();
    for summary in [false, true] {
        let profiler = peak(&file).summary(summary).build().unwrap();
        drop(profiler.finish().unwrap());
    }
    let after = dhat_kit::thread_stats();
    assert_eq!(
        (after.curr_bytes, after.curr_blocks),
        (before.curr_bytes, before.curr_blocks)
    );
    drop(keep);
}

/// A scope's thread that nobody joins may still be exiting when the scope has gone on: the file
/// holds what the thread did all the same (read from its tally if it has not handed it over yet,
/// and the session waits at its end for the thread to exit, on Linux).
#[cfg(target_os = "linux")]
#[test]
fn the_file_holds_what_the_unjoined_threads_of_a_scope_allocated() {
    // Fewer than a batch, so that the thread hands them over only as it exits.
    const BLOCKS: u64 = 100;
    for round in 0..20 {
        let file = common::temp("profiler", &format!("unjoined-{round}.json"));
        let profiler = peak(&file).build().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..BLOCKS {
                    drop(black_box(Box::new(i)));
                }
            });
        });
        let path = profiler.finish().unwrap();
        let in_file = dhat_kit::profile::read(&path).unwrap().totals().blocks;
        assert!(
            in_file >= BLOCKS,
            "round {round}: the file holds {in_file} blocks; the thread alone allocated {BLOCKS}"
        );
    }
}

/// `depth` calls deep, one block of `size` bytes straight from the allocator.
#[cfg(feature = "heap")]
#[inline(never)]
fn trim_deep(depth: usize, size: usize) {
    if depth > 1 {
        trim_deep(black_box(depth - 1), size);
        return black_box(());
    }
    let layout = std::alloc::Layout::from_size_align(size, 8).unwrap();
    // SAFETY: a non-zero size; the block is freed with its layout.
    unsafe { std::alloc::dealloc(black_box(std::alloc::alloc(layout)), layout) };
}

/// `trim_backtraces` counts the frames from the caller's on, below the allocator's (which the kit
/// takes off) and std's (`alloc::alloc::alloc` here, which it keeps): `Some(3)` keeps three of the
/// caller's, not three of which the allocator's take most; `None` keeps whole stacks (dhat's
/// unwinder's frames taken off their top); the default keeps dhat's 10.
#[cfg(feature = "heap")]
#[test]
fn trimmed_backtraces_count_the_frames_below_the_allocator() {
    for (trim, size) in [
        (Some(Some(3)), 12_345),
        (Some(None), 12_346),
        (None, 12_347),
    ] {
        let file = common::temp("profiler", &format!("trim-{size}.json"));
        let mut builder = Profiler::builder().mode(Mode::Heap).file(&file);
        if let Some(trim) = trim {
            builder = builder.trim_backtraces(trim);
        }
        let p = builder.build().unwrap();
        trim_deep(16, size);
        p.finish().unwrap();
        let profile = dhat_kit::profile::read(&file).unwrap();
        let pp = profile
            .pps
            .iter()
            .find(|pp| pp.tb == size as u64)
            .expect("the block's point");
        let frames: Vec<dhat_kit::profile::Frame<'_>> = pp
            .fs
            .iter()
            .map(|&f| dhat_kit::profile::Frame::parse(&profile.ftbl[f as usize]))
            .collect();
        let names: Vec<&str> = frames.iter().map(|f| f.function).collect();
        assert!(!frames[0].is_allocator(), "{names:?}");
        let deep = names.iter().filter(|n| n.contains("trim_deep")).count();
        // std's frames before the caller's, kept and not counted.
        let caller = frames.iter().position(|f| !f.is_boring()).unwrap();
        assert!(names[caller].ends_with("::trim_deep"), "{names:?}");
        match trim {
            Some(Some(n)) => assert_eq!(frames.len() - caller, n, "{names:?}"),
            // Whole: past this test's function (which a release build inlines into the
            // harness's `call_once`) to the test harness's own frames, which outlive inlining.
            Some(None) => assert!(
                deep == 16
                    && names
                        .iter()
                        .any(|n| n.contains("__rust_begin_short_backtrace"))
                    && !names.iter().any(|n| n.starts_with("backtrace::")),
                "{names:?}"
            ),
            None => assert_eq!(frames.len() - caller, 10, "{names:?}"),
        }
    }
}

/// dhat's heap profile holds the program's blocks, none of the kit's own bookkeeping: the region
/// registry's paths and names, a thread's region state and its hand-over at the thread's end are
/// allocated uncounted, and dhat does not record them either (it showed them as blocks live at
/// the end, under the user's function that entered the region).
#[cfg(feature = "heap")]
#[test]
fn dhats_heap_profile_holds_none_of_the_kits_own_bookkeeping() {
    #[inline(never)]
    fn nested(depth: usize) -> Vec<u8> {
        dhat_kit::region!("own-bookkeeping-nested");
        if depth == 0 {
            return black_box(vec![1u8; 100]);
        }
        let mut v = nested(depth - 1);
        v.push(1);
        v
    }
    let file = common::temp("profiler", "own-bookkeeping.json");
    let p = of_mode(Mode::Heap, &file)
        .trim_backtraces(None)
        .build()
        .unwrap();
    {
        dhat_kit::region!("own-bookkeeping-outer");
        black_box(nested(20));
        let here = dhat_kit::Region::current();
        std::thread::spawn(move || {
            let _entered = here.map(|h| h.enter());
            dhat_kit::region!("own-bookkeeping-thread");
            black_box(nested(5));
        })
        .join()
        .unwrap();
    }
    p.finish().unwrap();
    let profile = dhat_kit::profile::read(&file).unwrap();
    let kits: Vec<String> = profile
        .pps
        .iter()
        .filter_map(|pp| {
            let names: Vec<&str> = pp
                .fs
                .iter()
                .map(|&f| dhat_kit::profile::Frame::parse(&profile.ftbl[f as usize]).function)
                .collect();
            names
                .iter()
                .find(|n| n.contains("dhat_kit::region::") || n.contains("dhat_kit::tally::"))
                .map(|kit| format!("{} bytes, {} blocks under {kit}", pp.tb, pp.tbk))
        })
        .collect();
    assert!(
        kits.is_empty(),
        "the kit's own blocks in dhat's profile: {kits:#?}"
    );
}

/// `Profiler::stats` reads the session's figures: the peak mode's own (equal to its file's, which
/// `tests/viewer.rs` and `tests/sampled.rs` check where no other test runs beside); in dhat's heap
/// mode dhat's; none in the ad-hoc mode, whose file counts events.
#[test]
fn a_sessions_figures_by_mode() {
    let file = common::temp("profiler", "stats.json");
    let profiler = peak(&file).build().unwrap();
    let kept = black_box(vec![0u8; 1 << 20]);
    let stats = profiler.stats().expect("a peak session's figures");
    profiler.finish().unwrap();
    // Other tests' threads may add to the totals, never take from them.
    assert!(stats.total_bytes >= 1 << 20, "{stats:?}");
    drop(kept);
    #[cfg(feature = "heap")]
    {
        let file = common::temp("profiler", "stats-heap.json");
        let profiler = of_mode(Mode::Heap, &file).build().unwrap();
        let kept = black_box(vec![0u8; 1000]);
        let stats = profiler.stats().expect("dhat's figures");
        assert!(
            stats.total_bytes >= 1000 && stats.curr_bytes >= 1000,
            "{stats:?}"
        );
        drop(kept);
        profiler.finish().unwrap();
    }
    #[cfg(feature = "ad-hoc")]
    {
        let file = common::temp("profiler", "stats-ad-hoc.json");
        let profiler = of_mode(Mode::AdHoc, &file).build().unwrap();
        assert_eq!(profiler.stats(), None);
        profiler.finish().unwrap();
    }
}

/// `Profiler::start`'s panic names the line that called it, not dhat-kit's source.
#[test]
fn a_failed_start_names_the_callers_line() {
    let out = common::run_ignored("child_start_into_a_plain_file");
    let text = common::output_text(&out);
    assert!(!out.status.success(), "{text}");
    let at: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("' (") && l.contains(") panicked at "))
        .collect();
    // The child's panic, then this binary's runner's own report of the failed child test.
    let child = at
        .iter()
        .find(|l| l.contains("child_start_into_a_plain_file"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(child.contains("panicked at tests/profiler.rs:"), "{text}");
}

#[test]
#[ignore = "run in a child process by a_failed_start_names_the_callers_line"]
fn child_start_into_a_plain_file() {
    // DHAT_KIT_OUT naming a plain file: no directory can be made there.
    let file = common::temp("profiler", "plain-file");
    std::fs::write(&file, b"x").unwrap();
    std::env::set_var("DHAT_KIT_OUT", &file);
    let _p = Profiler::start();
}

/// A second session started, waiting, on the thread whose session still runs fails at once
/// (the wait would never end; before, it hung for good, silently); once the first ends, a session
/// starts again on that thread.
#[test]
fn a_second_session_on_the_same_thread_fails_at_once() {
    let file = common::temp("profiler", "same-thread.json");
    let first = peak(&file).build().unwrap();
    let err = peak(&file).build().expect_err("a second session started");
    assert!(matches!(err, Error::RunningOnThisThread), "{err:?}");
    assert!(err.to_string().contains("on this thread"), "{err}");
    let panic = std::panic::catch_unwind(Profiler::start).expect_err("started");
    let panic = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(panic.contains("on this thread"), "{panic}");
    first.finish().unwrap();
    peak(&file).build().unwrap().finish().unwrap();
}

/// Runs the ignored test `name` of this binary in a child whose stderr is a pipe nobody reads
/// (closed before the child starts: `prog 2>&1 | head` once `head` has gone); its output.
/// (Closed after the spawn, the read end was still open now and then, under load, when the
/// child wrote its short summary, which then went through.)
fn with_a_closed_stderr(name: &str) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "--ignored", "--nocapture", name])
        .stderr(writer)
        .output()
        .unwrap()
}

/// A session's summary (or the reason a file was not written) on a stderr that cannot be
/// written never fails the program: before, `eprint!` panicked in `Drop`, turning a run that
/// passed into exit status 101 and a program already panicking into an abort.
#[test]
fn a_closed_stderr_never_fails_a_session_end() {
    let mut children = vec![
        ("child_a_summary_to_a_closed_stderr", "summary written"),
        (
            "child_a_panic_with_a_session_and_a_closed_stderr",
            "test result: ok",
        ),
    ];
    if cfg!(feature = "heap") {
        children.push((
            "child_a_heap_session_with_a_closed_stderr",
            "dhat did not write the profile",
        ));
    }
    for (name, says) in children {
        let out = with_a_closed_stderr(name);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{name}: {}\n{stdout}", out.status);
        assert!(stdout.contains(says), "{name}: {stdout}");
    }
}

#[test]
#[ignore = "run in a child process by a_closed_stderr_never_fails_a_session_end"]
fn child_a_summary_to_a_closed_stderr() {
    let file = common::temp("profiler", "closed-stderr.json");
    let p = peak(&file).summary(true).build().unwrap();
    black_box(vec![0u8; 100]);
    drop(p);
    assert!(dhat_kit::profile::read(&file).is_ok());
    println!("summary written");
}

#[test]
#[ignore = "run in a child process by a_closed_stderr_never_fails_a_session_end"]
#[should_panic(expected = "the test's own panic")]
fn child_a_panic_with_a_session_and_a_closed_stderr() {
    let file = common::temp("profiler", "closed-stderr-panic.json");
    let _p = peak(&file).summary(true).build().unwrap();
    black_box(vec![0u8; 100]);
    panic!("the test's own panic");
}

#[cfg(feature = "heap")]
#[test]
#[ignore = "run in a child process by a_closed_stderr_never_fails_a_session_end"]
fn child_a_heap_session_with_a_closed_stderr() {
    let file = common::temp("profiler", "closed-stderr-heap.json");
    let p = of_mode(Mode::Heap, &file).build().unwrap();
    black_box(vec![0u8; 100]);
    // dhat prints its summary first, and cannot: the file is not written, and the session
    // says why instead of panicking.
    let err = p
        .finish()
        .expect_err("dhat wrote its summary to a closed stderr");
    println!("{err}");
}

/// A session whose file another process wrote while it ran (a child, or the program started
/// again, writing the same default name) says so as it replaces it: the other profile was lost
/// without a word.
#[test]
fn a_profile_another_process_wrote_meanwhile_is_said_to_be_replaced() {
    let out = common::run_ignored("child_a_session_whose_file_a_child_writes");
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    let said: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("was written by process"))
        .collect();
    assert_eq!(said.len(), 1, "{text}");
    assert!(
        said[0].contains("replaced.json") && said[0].contains("this session's profile replaces it"),
        "{text}"
    );
}

#[test]
#[ignore = "run in a child process by a_profile_another_process_wrote_meanwhile_is_said_to_be_replaced"]
fn child_a_session_whose_file_a_child_writes() {
    let file = common::temp("profiler", "replaced.json");
    let _ = std::fs::remove_file(&file);
    // A session of this process, ended, leaves the file to the next without a word.
    peak(&file).build().unwrap().finish().unwrap();
    let p = peak(&file).build().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "--ignored",
            "--nocapture",
            "child_writes_the_file",
        ])
        .env("DHAT_KIT_TEST_FILE", &file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::output_text(&out));
    p.finish().unwrap();
}

#[test]
#[ignore = "run in a grandchild process by a_profile_another_process_wrote_meanwhile_is_said_to_be_replaced"]
fn child_writes_the_file() {
    // Run alone (not by its parent), there is nothing to write.
    let Some(file) = std::env::var_os("DHAT_KIT_TEST_FILE") else {
        return;
    };
    peak(&PathBuf::from(file))
        .build()
        .unwrap()
        .finish()
        .unwrap();
}

#[inline(never)]
fn counted_call(args: &[u64]) -> u64 {
    dhat_kit::ad_hoc_event(args.len());
    args.iter().sum()
}

/// `ad_hoc_event` records an event of the caller's weight in an ad-hoc session, its stack
/// starting at the caller (as `dhat::ad_hoc_event` does for a program migrating from dhat), and
/// nothing in a heap session.
#[cfg(feature = "ad-hoc")]
#[test]
fn ad_hoc_events_of_the_programs_own_weigh_what_it_says() {
    let file = common::temp("profiler", "own-events.json");
    let p = of_mode(Mode::AdHoc, &file).build().unwrap();
    assert_eq!(counted_call(&[1, 2, 3]), 6);
    assert_eq!(counted_call(&[4, 5, 6, 7, 8]), 30);
    assert_eq!(counted_call(&[]), 0);
    p.finish().unwrap();
    let profile = dhat_kit::profile::read(&file).unwrap();
    // (Other tests of this binary may exit regions meanwhile, each an event of its own.)
    let ours: Vec<_> = profile
        .pps
        .iter()
        .filter(|pp| {
            pp.fs
                .iter()
                .any(|&f| profile.ftbl[f as usize].contains("profiler::counted_call"))
        })
        .collect();
    let (units, events) = ours
        .iter()
        .fold((0, 0), |(u, e), pp| (u + pp.tb, e + pp.tbk));
    assert_eq!((units, events), (8, 3), "{profile:?}");
    for pp in ours {
        let first = &profile.ftbl[pp.fs[0] as usize];
        assert!(first.contains("profiler::counted_call"), "{first}");
    }
}

#[cfg(feature = "ad-hoc")]
#[inline(never)]
fn future_inside_its_own_region() {
    use dhat_kit::InRegionExt;
    use std::future::Future;
    use std::task::{Context, Waker};
    dhat_kit::region!("own-region-future");
    let future = async { black_box(vec![0u8; 40]).len() }.in_region("own-region-future");
    let _ = std::pin::pin!(future).poll(&mut Context::from_waker(Waker::noop()));
}

/// A future polled only inside its own region is part of that region's entry, as a recursive
/// `region!` is: one event, of the entry's bytes. It recorded a second event, of 0 units.
#[cfg(feature = "ad-hoc")]
#[test]
fn a_future_polled_inside_its_own_region_is_no_event_of_its_own() {
    let file = common::temp("profiler", "recursive-future-events.json");
    let p = of_mode(Mode::AdHoc, &file).build().unwrap();
    future_inside_its_own_region();
    p.finish().unwrap();
    let profile = dhat_kit::profile::read(&file).unwrap();
    let (units, events) = profile
        .pps
        .iter()
        .filter(|pp| {
            pp.fs.iter().any(|&f| {
                profile.ftbl[f as usize].contains("profiler::future_inside_its_own_region")
            })
        })
        .fold((0, 0), |(u, e), pp| (u + pp.tb, e + pp.tbk));
    assert_eq!((units, events), (40, 1), "{profile:?}");
}

/// Outside an ad-hoc session `ad_hoc_event` records nothing and costs nothing visible.
#[test]
fn ad_hoc_events_outside_an_ad_hoc_session_are_nothing() {
    let file = common::temp("profiler", "no-own-events.json");
    let p = peak(&file).build().unwrap();
    let (_, stats) = dhat_kit::measure(|| counted_call(&[1, 2]));
    p.finish().unwrap();
    assert_eq!(stats, dhat_kit::Stats::default());
}

/// A thread that is alive, and idle, at both ends of a session (a pool's worker) has its work in
/// the session's figures to the byte, and none of what it did before: each end reads the figures
/// it has not handed over yet, and the batch it hands over during the session carries what it
/// held from before out of the session's peak. In a `peak` session, and in a `sampled` one when
/// the feature is on (whose file is refused when a peak exceeds the totals).
#[test]
fn an_idle_thread_alive_at_both_ends_of_a_session_is_counted_exactly() {
    let mut modes = vec!["peak"];
    if cfg!(feature = "sampled") {
        modes.push("sampled");
    }
    for mode in modes {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "--ignored", "--nocapture"])
            .arg("child_an_idle_worker_serves_a_session")
            .env("DHAT_KIT_TEST_MODE", mode)
            .output()
            .unwrap();
        let text = common::output_text(&out);
        assert!(out.status.success(), "{mode}: {text}");
        assert!(text.contains("1 passed"), "{mode}: {text}");
    }
}

#[test]
#[ignore = "run in a child process by an_idle_thread_alive_at_both_ends_of_a_session_is_counted_exactly"]
fn child_an_idle_worker_serves_a_session() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    /// The worker's steps: 1 its work before the session done, 2 the session asks for its work,
    /// 3 that work done, 4 it may exit.
    static STEP: AtomicUsize = AtomicUsize::new(0);
    /// Waits, allocating nothing, until the step is `n`: asleep between looks, so that the
    /// wait for the harness's thread to sleep below sees every other thread asleep (a worker
    /// spinning on `yield_now` is always runnable, and that wait then gave up after 1 s).
    fn wait_for(n: usize) {
        while STEP.load(SeqCst) != n {
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }
    let mode = match std::env::var("DHAT_KIT_TEST_MODE").as_deref() {
        Ok("sampled") => Mode::Sampled,
        _ => Mode::Peak,
    };
    let file = common::temp("profiler", &format!("idle-worker-{mode:?}.json"));
    let worker = std::thread::spawn(|| {
        // Before the session: 100 blocks of 24 bytes, fewer than a batch, kept.
        let before: Vec<Box<[u8; 24]>> = (0..100).map(|_| black_box(Box::new([1; 24]))).collect();
        let before = black_box(before);
        STEP.store(1, SeqCst);
        wait_for(2);
        // In the session: 37 new blocks of 10 bytes, kept, and two blocks from before freed.
        let mut kept = [const { None }; 37];
        for slot in &mut kept {
            *slot = Some(black_box(Box::new([2u8; 10])));
        }
        let mut before = before.into_iter();
        drop(black_box(before.next()));
        drop(black_box(before.next()));
        // And 1,500 blocks of 8 bytes made and freed: a batch handed over on the way, the rest
        // not.
        for i in 0..1_500u64 {
            drop(black_box(Box::new(i)));
        }
        STEP.store(3, SeqCst);
        wait_for(4);
        drop((kept, before));
    });
    wait_for(1);
    // The test harness's thread asleep (a session holds every thread's work).
    common::wait_for_other_threads_to_sleep();
    let profiler = of_mode(mode, &file).build().unwrap();
    STEP.store(2, SeqCst);
    wait_for(3);
    let stats = profiler.stats().unwrap();
    let path = profiler.finish().unwrap();
    STEP.store(4, SeqCst);
    worker.join().unwrap();
    let figures = (
        stats.total_bytes,
        stats.total_blocks,
        stats.curr_bytes,
        stats.curr_blocks,
    );
    let expected = (370 + 12_000, 37 + 1_500, 370 - 48, 35);
    assert_eq!(figures, expected, "{stats:?}");
    // dhat's peak is the 37 blocks kept, 370 bytes; the batch, handed over amid the 1,500, saw
    // 330 (the peak is the batches', within 64 KiB per thread), and never the 2,400 bytes kept
    // from before the session (it read 2,730 when the batch brought them in).
    assert!(
        (322..=370).contains(&stats.max_bytes),
        "the peak between t-end and dhat's: {stats:?}"
    );
    let totals = dhat_kit::profile::read(&path).unwrap().totals();
    let in_file = (
        totals.bytes,
        totals.blocks,
        totals.end_bytes,
        totals.end_blocks,
        totals.peak_bytes,
    );
    let peak = Some(stats.max_bytes);
    assert_eq!(
        in_file,
        (370 + 12_000, 37 + 1_500, Some(370 - 48), Some(35), peak)
    );
}
