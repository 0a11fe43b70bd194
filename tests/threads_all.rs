//! Whole-process budgets beside busy neighbours: plain tests (which dhat-kit cannot hold back)
//! allocating constantly while `#[assert_heap(threads = "all")]` and `measure_all` measure. Under
//! plain parallel `cargo test`, each measurement is either exact or refused with the message that
//! names `cargo nextest run` and `cargo test -- --test-threads 1`; never off. Under
//! `--test-threads 1` or nextest every measurement is exact.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

use std::hint::black_box;
use std::panic::{catch_unwind, UnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

dhat_kit::global_allocator!();

mod common;

/// A neighbour: allocates and frees constantly for a while.
fn busy_for(time: Duration) {
    let start = Instant::now();
    let mut kept: Vec<String> = Vec::new();
    while start.elapsed() < time {
        kept.push(black_box(format!("{:?}", start.elapsed())));
        if kept.len() > 100 {
            kept.clear();
        }
    }
}

#[test]
fn busy_neighbour_1() {
    busy_for(Duration::from_millis(700));
}

#[test]
fn busy_neighbour_2() {
    busy_for(Duration::from_millis(700));
}

#[test]
fn busy_neighbour_3() {
    busy_for(Duration::from_millis(700));
}

#[test]
fn busy_neighbour_4() {
    busy_for(Duration::from_millis(700));
}

/// The refusal's message: every way out is named; one test at a time only where it can help
/// (not when the threads that ran are a pool an earlier measurement left behind, nor when the
/// tests already run one at a time, nor under cargo-nextest, which runs each test in a process of
/// its own: there the threads are the test's own, started before its measurement). `here`: the
/// message is this process's (not a child's, run by `common::run_ignored`, which nextest did
/// not start for a test of its own).
fn assert_refusal(message: &str, here: bool) {
    assert!(message.contains("cannot give exact figures"), "{message}");
    let own_process = message.contains("this test runs in a process of its own (cargo-nextest)");
    // The process nextest started for this test, not a child of it that runs tests of its own.
    let nextest = here
        && std::env::var_os("NEXTEST_EXECUTION_MODE").is_some_and(|m| m == "process-per-test")
        && std::env::var_os("NEXTEST_TEST_NAME")
            .is_some_and(|name| std::env::args_os().skip(1).any(|a| a == name));
    assert_eq!(own_process, nextest, "{message}");
    assert_eq!(
        message.contains("cargo nextest run"),
        !own_process,
        "{message}"
    );
    let left_behind = message.contains("started by an earlier test and still alive");
    let one_at_a_time = message.contains("this test binary runs one test at a time");
    assert_eq!(
        message.contains("cargo test -- --test-threads 1"),
        !left_behind && !one_at_a_time && !own_process,
        "{message}"
    );
    if own_process {
        assert!(
            message.contains("start it inside the measurement"),
            "{message}"
        );
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().map_or("", |s| s).to_string(),
    }
}

/// Runs `f` a few times; each run either returns (and `exact` checks its figures) or is refused.
/// Returns how many were refused.
fn exact_or_refused<R>(
    runs: usize,
    f: impl Fn() -> R + UnwindSafe + Copy,
    exact: impl Fn(R),
) -> usize {
    let mut refused = 0;
    for _ in 0..runs {
        match catch_unwind(f) {
            Ok(r) => exact(r),
            Err(payload) => {
                assert_refusal(&panic_text(payload), true);
                refused += 1;
            }
        }
    }
    refused
}

const BUFFER: usize = 4096;

#[dhat_kit::assert_heap(threads = "all", total_bytes = BUFFER, total_blocks = 1, max_bytes = BUFFER, curr_bytes = 0)]
fn one_buffer() {
    drop(black_box(vec![0u8; BUFFER]));
}

#[dhat_kit::assert_heap(threads = "all", total_bytes = BUFFER - 1)]
fn one_buffer_one_byte_over() {
    drop(black_box(vec![0u8; BUFFER]));
}

#[test]
fn an_exact_budget_beside_busy_neighbours() {
    let refused = exact_or_refused(10, one_buffer, |()| ());
    eprintln!("refused {refused} of 10");
    // Over its budget by one byte: it fails, whether measured or refused, never passes.
    let failed = catch_unwind(one_buffer_one_byte_over).unwrap_err();
    let message = panic_text(failed);
    if !message.contains("cannot give exact figures") {
        assert!(
            message.contains("  total_bytes: 4,096 > 4,095 (+1 byte"),
            "{message}"
        );
        assert!(message.contains("measured on all threads:"), "{message}");
    }
}

/// Four threads each allocate a block of known size; starting them costs what it costs with
/// empty blocks, measured in the same run.
fn threads_with_blocks(sizes: [usize; 4]) -> dhat_kit::Stats {
    dhat_kit::measure_all(|| {
        thread::scope(|s| {
            let handles: Vec<_> = sizes
                .into_iter()
                .map(|n| s.spawn(move || black_box(vec![1u8; n]).len()))
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        })
    })
    .1
}

#[test]
fn measure_all_beside_busy_neighbours() {
    // Once unmeasured: the process's first threads initialise globals. (Not through
    // `threads_with_blocks`, a `measure_all` of its own, which a busy neighbour may refuse
    // outside `exact_or_refused`: 3 runs in 20 failed so.)
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| black_box(vec![1u8; 1]).len());
        }
    });
    let refused = exact_or_refused(
        10,
        // Both in one span, so that nothing else starts or ends threads between them.
        || {
            dhat_kit::measure_all(|| {
                (
                    threads_with_blocks([0; 4]),
                    threads_with_blocks([100, 200, 300, 400]),
                )
            })
            .0
        },
        |(none, blocks)| {
            assert_eq!(blocks.total_bytes, none.total_bytes + 1000);
            assert_eq!(blocks.total_blocks, none.total_blocks + 4);
            assert_eq!((blocks.curr_bytes, none.curr_bytes), (0, 0));
        },
    );
    eprintln!("refused {refused} of 10");
}

/// The two tests below start threads of their own that other measurements would see (as they
/// should): they run one at a time.
static ALONE: Mutex<()> = Mutex::new(());

/// A thread that was running before the measurement begins allocating during it, as another test
/// would: the measurement is refused (in a test binary, every run mode checks this).
#[test]
fn a_thread_from_before_that_allocates_during_the_span_is_refused() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let (go, wait) = mpsc::channel::<()>();
    let stop = Arc::new(AtomicBool::new(false));
    let neighbour = {
        let stop = stop.clone();
        thread::spawn(move || {
            // Released by the measured closure (or by the sender's drop, if it never runs).
            let _ = wait.recv();
            while !stop.load(Ordering::Relaxed) {
                drop(black_box(vec![0u8; 64]));
            }
        })
    };
    let outcome = catch_unwind(move || {
        dhat_kit::measure_all(|| {
            go.send(()).unwrap();
            thread::sleep(Duration::from_millis(50));
        })
    });
    stop.store(true, Ordering::Relaxed);
    neighbour.join().unwrap();
    let message = panic_text(outcome.expect_err("the measurement is refused"));
    assert_refusal(&message, true);
    // Refused at the end, for the neighbour's allocations; or at the start, when the busy
    // neighbour tests of this binary keep the process from going idle for that long.
    assert!(
        // One other thread, or more when a neighbour test ran then too.
        message.contains(" of this process ran meanwhile")
            || message.contains("kept running for 5 s"),
        "{message}"
    ); // The neighbour has the name of the thread that started it (the test's, or the binary's),
       // longer than Linux keeps: the message says it is cut.
    if message.contains("ran meanwhile") {
        assert!(
            message.contains("; names as Linux keeps them, cut to 15 bytes)"),
            "{message}"
        );
    }
}

/// A refused `measure_all` panics at the caller's line, in the test, not in dhat-kit's source.
#[cfg(target_os = "linux")]
#[test]
fn a_refusal_names_the_callers_line() {
    let out = common::run_ignored("child_a_refused_measure_all");
    let text = common::output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("cannot give exact figures"), "{text}");
    let at = text.find("panicked at ").expect(&text);
    assert!(
        text[at..].starts_with("panicked at tests/threads_all.rs:"),
        "{}",
        &text[at..]
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_refusal_names_the_callers_line"]
fn child_a_refused_measure_all() {
    let (go, wait) = mpsc::channel::<()>();
    // Allocates from the measured closure's start on, until the process ends.
    thread::spawn(move || {
        let _ = wait.recv();
        loop {
            drop(black_box(vec![0u8; 64]));
        }
    });
    // Refused: this line panics, which the driver checks.
    let _ = dhat_kit::measure_all(|| {
        go.send(()).unwrap();
        thread::sleep(Duration::from_millis(50));
    });
}

/// A thread that never stops: the measurement waits for the process to be idle, then gives up.
#[test]
fn a_process_that_never_goes_idle_is_refused() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let stop = Arc::new(AtomicBool::new(false));
    let spinner = {
        let stop = stop.clone();
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        })
    };
    let outcome = catch_unwind(|| dhat_kit::measure_all(|| ()));
    stop.store(true, Ordering::Relaxed);
    spinner.join().unwrap();
    let message = panic_text(outcome.expect_err("the measurement is refused"));
    assert_refusal(&message, true);
    assert!(message.contains("kept running for 5 s"), "{message}");
}

/// Run by [`a_refusal_is_said_once`] in a process of its own: an async whole-process budget
/// wakes a thread that was idle when it began, which then allocates; the budget is refused.
#[test]
#[ignore = "run by a_refusal_is_said_once, in a child process"]
fn an_async_budget_that_wakes_an_older_thread() {
    let (wake, woken) = mpsc::channel::<()>();
    let older = thread::spawn(move || {
        for () in woken {
            drop(black_box(vec![0u8; 64]));
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(wakes(wake));
    older.join().unwrap();
}

#[dhat_kit::assert_heap(threads = "all", max_bytes = 1 << 20)]
async fn wakes(wake: mpsc::Sender<()>) {
    wake.send(()).unwrap();
    thread::sleep(Duration::from_millis(100));
}

/// A refused async budget says why once (it was said twice: the span's panic, caught and
/// printed by the panic hook, then the budget's own).
#[test]
fn a_refusal_is_said_once() {
    refused_once("an_async_budget_that_wakes_an_older_thread");
}

/// Runs the ignored `test` in a child process, which must fail with a refusal said once; its
/// output.
fn refused_once(test: &str) -> String {
    let out = common::run_ignored(test);
    let text = common::output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert_refusal(&text, false);
    assert_eq!(
        text.matches("cannot give exact figures").count(),
        1,
        "{text}"
    );
    text
}

/// The channels of the older thread that [`wakes_under_tokio`] wakes, set by
/// [`an_over_budget_tokio_test_that_wakes_an_older_thread`].
type Older = (mpsc::Sender<()>, mpsc::Receiver<()>);
static OLDER: Mutex<Option<Older>> = Mutex::new(None);

/// Run by [`an_over_budget_tokio_test_beside_a_running_thread_is_refused`] in a process of its own:
/// a thread from before the measurement allocates 64 KiB during a `#[tokio::test]` budget of
/// 1 KiB.
#[test]
#[ignore = "run by an_over_budget_tokio_test_beside_a_running_thread_is_refused, in a child process"]
fn an_over_budget_tokio_test_that_wakes_an_older_thread() {
    with_an_older_thread(wakes_under_tokio);
}

/// Starts a thread that allocates 64 KiB each time it is woken (through [`OLDER`]), runs `test`,
/// then lets the thread end.
fn with_an_older_thread(test: fn()) {
    let (wake, woken) = mpsc::channel::<()>();
    let (done, finished) = mpsc::channel::<()>();
    let older = thread::spawn(move || {
        for () in woken {
            drop(black_box(vec![0u8; 64 * 1024]));
            done.send(()).unwrap();
        }
    });
    *OLDER.lock().unwrap() = Some((wake, finished));
    test();
    // Unused by a test that failed before it woke the thread.
    drop(OLDER.lock().unwrap().take());
    older.join().unwrap();
}

/// Wakes the thread of [`with_an_older_thread`] and waits for its allocation.
fn wake_the_older_thread() {
    let (wake, finished) = OLDER
        .lock()
        .unwrap()
        .take()
        .expect("the older thread's channels");
    wake.send(()).unwrap();
    finished.recv().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "called by an_over_budget_tokio_test_that_wakes_an_older_thread"]
#[dhat_kit::assert_heap(threads = "all", total_bytes = 1024)]
async fn wakes_under_tokio() {
    wake_the_older_thread();
}

/// Run by [`a_should_panic_tokio_test_beside_a_running_thread_is_refused`] in a process of its
/// own: the expected panic comes after a thread from before the measurement allocated in it.
#[test]
#[ignore = "run by a_should_panic_tokio_test_beside_a_running_thread_is_refused, in a child process"]
fn a_should_panic_tokio_test_that_wakes_an_older_thread() {
    // Called, not run by the harness: `#[should_panic]` does not apply here, so its expected
    // panic would reach this test, and the refusal returns instead.
    with_an_older_thread(|| {
        panics_under_tokio();
        println!("returned: the expected panic was not let through");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "called by a_should_panic_tokio_test_that_wakes_an_older_thread"]
#[should_panic(expected = "the expected panic")]
#[dhat_kit::assert_heap(threads = "all", total_bytes = 1 << 20)]
async fn panics_under_tokio() {
    wake_the_older_thread();
    panic!("the expected panic");
}

/// A `#[should_panic]` tokio test whose figures hold another thread's allocations is refused
/// rather than passing on its expected panic. (The panic went through without the span's check,
/// as the sync runner never let it.)
#[test]
fn a_should_panic_tokio_test_beside_a_running_thread_is_refused() {
    let out = common::run_ignored("a_should_panic_tokio_test_that_wakes_an_older_thread");
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("returned: the expected panic was not let through"),
        "{text}"
    );
    assert_refusal(&text, false);
    assert!(text.contains("(the test is #[should_panic]"), "{text}");
}

/// Under `#[tokio::test]`, a budget whose figures hold another thread's allocations is refused,
/// over its limits or not. (Over them, it said "went over its heap budget" with the other
/// thread's 64 KiB as the test's: the failure came before the check of the runtime's span.)
#[test]
fn an_over_budget_tokio_test_beside_a_running_thread_is_refused() {
    let text = refused_once("an_over_budget_tokio_test_that_wakes_an_older_thread");
    assert!(!text.contains("went over its heap budget"), "{text}");
    assert!(
        text.contains(" panicked at tests/threads_all.rs:"),
        "{text}"
    );
}

/// rayon's global pool, started by the first of these tests inside its measurement, outlives it:
/// its workers run in the next tests' measurements, as other threads. Run one at a time, in a
/// process of their own, by [`a_pool_left_by_an_earlier_test_is_named_as_such`].
#[dhat_kit::assert_heap(threads = "all", max_bytes = 1 << 24)]
fn parse_on_the_global_pool() -> usize {
    use rayon::prelude::*;
    let parsed: Vec<String> = (0..10_000u64)
        .into_par_iter()
        .map(|i| format!("{i}"))
        .collect();
    parsed.len()
}

#[test]
#[ignore = "run by a_pool_left_by_an_earlier_test_is_named_as_such, in a child process"]
fn left_behind_1_starts_the_global_pool() {
    assert_eq!(parse_on_the_global_pool(), 10_000);
}

#[test]
#[ignore = "run by a_pool_left_by_an_earlier_test_is_named_as_such, in a child process"]
fn left_behind_2_allocates_on_it() {
    let refused = catch_unwind(parse_on_the_global_pool).expect_err("refused");
    println!("refusal 2: {}", panic_text(refused));
}

#[test]
#[ignore = "run by a_pool_left_by_an_earlier_test_is_named_as_such, in a child process"]
fn left_behind_3_sums_on_it() {
    #[dhat_kit::assert_heap(threads = "all", max_bytes = 1 << 24)]
    fn sum() -> u64 {
        use rayon::prelude::*;
        (0..100_000u64).into_par_iter().sum()
    }
    let refused = catch_unwind(sum).expect_err("refused");
    println!("refusal 3: {}", panic_text(refused));
}

/// A whole-process budget refused because a pool an earlier test started (rayon's global pool)
/// ran in it says so, and offers what helps: a process per test, or a pool of its own; not
/// `--test-threads 1`, which the tests already run under. (It named the pool's threads, which
/// carry the first test's name, as "other threads", and offered `--test-threads 1`.)
#[test]
fn a_pool_left_by_an_earlier_test_is_named_as_such() {
    let out = common::run_ignored_one_at_a_time("left_behind_");
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    let refusal = |n: &str| {
        let start = text.find(&format!("refusal {n}: ")).expect(&text);
        let end = text[start..]
            .find("\ntest ")
            .map_or(text.len(), |e| start + e);
        text[start..end].to_string()
    };
    for message in [refusal("2"), refusal("3")] {
        assert!(message.contains("cannot give exact figures"), "{message}");
        assert!(message.contains("cargo nextest run"), "{message}");
        assert!(
            message.contains("rayon::ThreadPoolBuilder::new().build()?.install(|| ...)"),
            "{message}"
        );
        assert!(!message.contains("--test-threads 1"), "{message}");
        assert!(
            message.contains("rayon's global pool or a shared runtime"),
            "{message}"
        );
    }
    // The workers allocated in the second test: they are known to come from an earlier
    // measurement.
    let second = refusal("2");
    assert!(
        second.contains(
            "they were started during an earlier whole-process measurement of this process, by \
             an earlier test or earlier in this one, and are still alive: a pool that outlives \
             its test"
        ),
        "{second}"
    );
    assert!(
        second.contains("Running one test at a time cannot help"),
        "{second}"
    );
}
