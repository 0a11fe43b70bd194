//! `reset_regions()` while another thread exits regions. Its own binary: a reset clears every
//! region of the process, which would disturb other tests' figures.

dhat_kit::global_allocator!();

mod common;

use dhat_kit::{region, regions};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The tests here reset every region: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A reset while another thread exits regions (which its docs ask not to do) may leave wrong
/// counts, but never an entry that stays half added, on which a read (`regions()`, or the
/// thread's own hand-over as it ends) would wait for good.
#[test]
fn a_reset_while_another_thread_exits_never_hangs_a_read() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    region!("reset-while-exiting");
                    black_box(vec![0u8; 100]);
                }
            });
            let deadline = Instant::now() + Duration::from_secs(1);
            while Instant::now() < deadline {
                dhat_kit::reset_regions();
            }
            stop.store(true, Relaxed);
        });
        let _ = done.send(regions().len());
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("a read waited for good on an entry left half added");
}

/// A reset during a profiling session: the session's file holds every entry the session made,
/// before the reset and after it. It subtracted the figures at its start from those after the
/// reset, stopping at zero: 12 entries of 1,000 bytes after a warm-up of 10 of 100 read 11,000
/// bytes in 2 blocks (and a warm-up larger than the session left the region out altogether), so a
/// budget on the file passed over them.
#[cfg(feature = "peak")]
#[test]
fn a_reset_during_a_session_leaves_the_sessions_regions_whole() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let work = |times: usize, bytes: usize| {
        for _ in 0..times {
            region!("reset-in-session");
            black_box(vec![0u8; bytes]);
        }
    };
    let dir = std::env::temp_dir().join(format!("dhat-kit-reset-session-{}", std::process::id()));
    for (warm_up, before_reset) in [((10, 100), 2), ((10, 100_000), 0)] {
        let file = dir.join(format!("{}.json", warm_up.1));
        work(warm_up.0, warm_up.1);
        let profiler = dhat_kit::Profiler::builder()
            .mode(dhat_kit::Mode::Peak)
            .file(&file)
            .summary(false)
            .build()
            .unwrap();
        work(before_reset, 1000);
        dhat_kit::reset_regions();
        work(12, 1000);
        let path = profiler.finish().unwrap();
        let profile = dhat_kit::profile::read(&path).unwrap();
        let read = dhat_kit::analyze::regions(&profile).unwrap();
        let row = read
            .rows
            .iter()
            .find(|r| r.name() == "reset-in-session")
            .unwrap_or_else(|| panic!("the region is in the file: warm-up {warm_up:?}"));
        let n = before_reset as u64 + 12;
        assert_eq!(
            (row.inclusive.total_bytes, row.inclusive.total_blocks),
            (1000 * n, n),
            "warm-up {warm_up:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// After a reset, an ancestor that no entry since has opened (a worker in a handle of `a/b/c`)
/// still shows what was measured inside it, with no entry: it was left out, so that the table
/// read 1,000 bytes in `a/b` and none in `a`.
#[cfg(feature = "peak")]
#[test]
fn an_ancestor_entered_only_through_a_handle_since_a_reset_shows_its_bytes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let deepest = {
        region!("handle-only-a");
        region!("handle-only-b");
        region!("handle-only-c");
        dhat_kit::Region::current().expect("inside a region")
    };
    dhat_kit::reset_regions();
    std::thread::spawn(move || {
        let _c = deepest.enter();
        black_box(vec![0u8; 1000]);
    })
    .join()
    .unwrap();
    let r = regions();
    let figures = |path| {
        let s = r.get(path).unwrap_or_else(|| panic!("{path}:\n{r}"));
        (s.entries, s.inclusive.total_bytes, s.self_stats.total_bytes)
    };
    assert_eq!(figures("handle-only-a"), (0, 1000, 0));
    assert_eq!(figures("handle-only-a/handle-only-b"), (0, 1000, 0));
    assert_eq!(
        figures("handle-only-a/handle-only-b/handle-only-c"),
        (1, 1000, 1000)
    );
}

/// The row of `path` in a failure's region table: its entries, bytes and blocks.
#[cfg(feature = "peak")]
fn row<'a>(message: &'a str, path: &str) -> Vec<&'a str> {
    let line = message
        .lines()
        .find(|l| l.split_whitespace().next() == Some(path))
        .unwrap_or_else(|| panic!("no {path} in:\n{message}"));
    line.split_whitespace().skip(1).take(4).collect()
}

#[cfg(feature = "peak")]
#[dhat_kit::assert_heap(total_bytes = 10)]
fn resets_then_goes_over_on_its_thread() {
    dhat_kit::reset_regions();
    for _ in 0..3 {
        region!("reset-in-test-own");
        black_box(vec![0u8; 300]);
    }
}

#[cfg(feature = "peak")]
#[dhat_kit::assert_heap(threads = "all", total_bytes = 10)]
fn resets_then_goes_over_on_every_thread() {
    dhat_kit::reset_regions();
    for _ in 0..3 {
        region!("reset-in-test-all");
        black_box(vec![0u8; 300]);
    }
}

/// A test that resets the regions (as the README asks of a test that checks its own) and fails
/// its budget lists the entries it made: the report compared a reading from before the reset
/// with one after it (3 entries of 300 bytes read 2 entries and 800 bytes where an earlier
/// entry of 100 bytes was cleared, and the region was left out where the earlier one was
/// larger than the test's).
#[cfg(feature = "peak")]
#[test]
fn a_test_that_resets_the_regions_lists_its_own_entries_when_it_fails() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // Entries before the test: on its thread, and on another that ended.
    for (path, large) in [("reset-in-test-own", false), ("reset-in-test-all", true)] {
        for size in [100, 5000] {
            if size == 5000 && !large {
                continue;
            }
            std::thread::scope(|s| {
                s.spawn(|| {
                    region!(path);
                    black_box(vec![0u8; size]);
                });
            });
        }
    }
    {
        region!("reset-in-test-own");
        black_box(vec![0u8; 100]);
    }
    let own = common::panic_message(resets_then_goes_over_on_its_thread);
    assert_eq!(
        row(&own, "reset-in-test-own"),
        ["3", "900", "B", "3"],
        "{own}"
    );
    let all = common::panic_message(resets_then_goes_over_on_every_thread);
    assert_eq!(
        row(&all, "reset-in-test-all"),
        ["3", "900", "B", "3"],
        "{all}"
    );
}
