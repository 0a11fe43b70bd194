//! `measure_all`: every thread's allocations while a closure runs, exact to the byte.
//!
//! Every test here measures the whole process. They run under `cargo nextest run` (a process
//! each) and one at a time (`cargo test --test measure_all -- --test-threads 1`, as
//! scripts/test runs them; `test = false` leaves them out of plain `cargo test`). Every test runs
//! its whole body inside `measure_all` (or `#[assert_heap(threads = "all")]`), so that nothing
//! of this binary runs, starts or ends while one measures; run in parallel they still waited
//! for each other, but libtest's main thread, reporting a test that had ended, or a test that
//! holds no span, ran during another's span now and then (4 runs in 17 at two threads), which
//! then refused.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

mod common;

dhat_kit::global_allocator!();

/// Four threads start, wait for each other, allocate a block each (`sizes`), wait until all four
/// hold theirs, then free it. The threads are joined before the scope ends.
fn four_threads(sizes: [usize; 4]) {
    let started = Barrier::new(4);
    let holding = Barrier::new(4);
    thread::scope(|s| {
        let handles: Vec<_> = sizes
            .iter()
            .map(|&size| {
                let (started, holding) = (&started, &holding);
                s.spawn(move || {
                    started.wait();
                    let block = vec![7u8; size];
                    holding.wait();
                    block.len()
                })
            })
            .collect();
        let lens: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(lens, sizes);
    });
}

/// The first threads a process starts also initialise std's and the kit's globals, once: the
/// tests that compare figures run their work once before measuring it.
fn warm_up() {
    four_threads([1; 4]);
}

/// Runs a whole test inside one span, so that no other test of this binary runs, starts or ends
/// between the measurements it compares: starting a thread also files it in std's map of the
/// process's threads, whose allocations depend on how many threads are alive at the time.
fn alone(test: impl FnOnce()) {
    let _ = dhat_kit::measure_all(test);
}

/// Runs the ignored test `name` in a child process, inside a whole-process measurement (so that
/// no test of this process runs meanwhile), asserts that it passed, and returns what it printed.
#[cfg(target_os = "linux")]
fn child_passes(name: &str) -> String {
    let out = dhat_kit::measure_all(|| common::run_ignored(name)).0;
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn scope_of_four_threads_exact_to_the_byte() {
    alone(scope_of_four_threads);
}

fn scope_of_four_threads() {
    warm_up();
    // The same scope three times: no blocks, then 10,000 bytes, then 20,000 bytes in four blocks
    // held at the same time. Starting the threads costs the same each time, so the differences
    // are the blocks alone; the peak is where all four are held.
    let small = [1000, 2000, 3000, 4000];
    let large = [2000, 4000, 6000, 8000];
    let ((), none) = dhat_kit::measure_all(|| four_threads([0; 4]));
    let ((), a) = dhat_kit::measure_all(|| four_threads(small));
    let ((), b) = dhat_kit::measure_all(|| four_threads(large));
    assert!(none.total_blocks > 0, "starting threads allocates: {none}");
    assert_eq!(a.total_bytes, none.total_bytes + 10_000);
    assert_eq!(a.total_blocks, none.total_blocks + 4);
    assert_eq!(b.total_bytes, none.total_bytes + 20_000);
    assert_eq!(b.total_blocks, none.total_blocks + 4);
    // The peak holds all four blocks at once: twice the blocks, 10,000 bytes more.
    assert_eq!(b.max_bytes, a.max_bytes + 10_000);
    assert!(a.max_bytes >= 10_000, "{a}");
    // (`max_blocks` pairs the peak with the live blocks the thread that reached it saw: when
    // threads allocate at the same instant, as these four do, it may miss one of theirs.)
    assert!(a.max_blocks >= 4, "{a}");
    // Everything the threads allocated was freed, wherever it was freed.
    for s in [none, a, b] {
        assert_eq!((s.curr_bytes, s.curr_blocks), (0, 0), "{s}");
    }
}

#[test]
fn the_same_figures_twenty_times_in_a_row() {
    alone(the_same_figures);
}

fn the_same_figures() {
    warm_up();
    // Every figure but `max_blocks` (see `scope_of_four_threads`).
    let figures = |s: dhat_kit::Stats| {
        (
            s.total_bytes,
            s.total_blocks,
            s.max_bytes,
            s.curr_bytes,
            s.curr_blocks,
        )
    };
    let ((), first) = dhat_kit::measure_all(|| four_threads([1000, 2000, 3000, 4000]));
    for run in 1..20 {
        let ((), again) = dhat_kit::measure_all(|| four_threads([1000, 2000, 3000, 4000]));
        assert_eq!(figures(again), figures(first), "run {run}");
    }
}

/// A budget one byte below the truth fails, the truth itself passes: 20 times in a row, for
/// every figure but `max_blocks` (see `scope_of_four_threads`). The truth is `measure_all`'s; the
/// budget goes through `#[assert_heap]`'s runtime (what `#[assert_heap(threads = "all", ..)]`
/// expands to) with limits known only when it runs.
#[test]
fn one_byte_below_fails_the_truth_passes() {
    // Inside one outer span, so that the 160 budgets do not each wait for the process to be idle.
    let _ = dhat_kit::measure_all(one_byte_below);
}

fn one_byte_below() {
    use dhat_kit::__private::{run, Budget, Key};
    let work = || four_threads([1000, 2000, 3000, 4000]);
    warm_up();
    let ((), truth) = dhat_kit::measure_all(work);
    let keys = [
        (Key::TotalBytes, truth.total_bytes),
        (Key::TotalBlocks, truth.total_blocks),
        (Key::MaxBytes, truth.max_bytes),
    ];
    for round in 0..20 {
        for (key, value) in keys {
            let budget = || Budget::new("measure_all::budget").all_threads();
            // `work` returns `()`, which never fails the test by itself.
            run(budget().limit(key, value), work, |()| false);
            let failed =
                std::panic::catch_unwind(|| run(budget().limit(key, value - 1), work, |()| false))
                    .expect_err("one below the truth fails");
            let report = failed.downcast_ref::<String>().unwrap();
            assert!(
                report.contains(&format!("  {}: ", key.name())),
                "round {round}: {report}"
            );
            assert!(report.contains("measured on all threads:"), "{report}");
        }
    }
}

/// std's bookkeeping for a spawned thread is allocated on the spawning thread and freed by the
/// new one: on the test's thread alone it looks live; over the whole process it is freed.
#[test]
#[dhat_kit::assert_heap(threads = "all", curr_bytes = 0, curr_blocks = 0)]
fn spawn_and_join_leaves_nothing_live() {
    thread::spawn(|| {}).join().unwrap();
}

#[test]
#[dhat_kit::assert_heap(threads = "all", curr_bytes = 0, curr_blocks = 0)]
fn a_workers_vec_dropped_by_the_test_leaves_nothing_live() {
    let v = thread::scope(|s| s.spawn(|| vec![1u64; 1000]).join().unwrap());
    assert_eq!(v.len(), 1000);
    drop(v);
}

/// Threads of a scope that nobody joins by hand: the scope's end waits for their closures, not
/// for their exits, and each thread frees std's bookkeeping of it (the boxed closure, its handle)
/// as it exits, after the scope has gone on. The span waits for them (Linux, where it can see
/// the process's threads), so every round leaves nothing live.
#[cfg(target_os = "linux")]
#[test]
fn threads_of_a_scope_left_unjoined_free_everything_before_the_span_ends() {
    for round in 0..50 {
        let ((), stats) = dhat_kit::measure_all(|| {
            thread::scope(|s| {
                s.spawn(|| black_box(vec![1u8; 100]).len());
                s.spawn(|| ());
            });
        });
        assert_eq!(
            (stats.curr_bytes, stats.curr_blocks),
            (0, 0),
            "round {round}: {stats}"
        );
    }
}

/// The same, as a user writes it.
#[cfg(target_os = "linux")]
#[test]
#[dhat_kit::assert_heap(threads = "all", curr_bytes = 0, curr_blocks = 0)]
fn a_scope_without_joins_leaves_nothing_live() {
    let words: Vec<String> = thread::scope(|s| {
        s.spawn(|| (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
        (0..100).map(|i| i.to_string()).collect()
    });
    assert_eq!(words.len(), 100);
}

/// An inner `measure_all` waits for the threads started in it to exit too, not only the
/// outermost: over a scope whose threads nobody joins by hand, each inner one leaves nothing
/// live (5 rounds of 200 left 136 bytes in 3 blocks live when only the outermost waited).
#[cfg(target_os = "linux")]
#[test]
fn an_inner_measure_all_waits_for_the_threads_it_started() {
    let _ = dhat_kit::measure_all(|| rounds_of_inner_spans(200));
}

/// The same, on a thread whose name Linux cuts inside a character (it keeps 15 bytes of a name,
/// and the threads it starts take that name): such threads were left out of the wait, as their
/// names did not read as UTF-8 (2 to 4 rounds of 200 left blocks live). In a child process: the
/// named thread's measurement is the outermost there (one on a thread another measurement
/// started would wait for that one to end).
#[cfg(target_os = "linux")]
#[test]
fn the_wait_sees_threads_whose_name_is_cut_inside_a_character() {
    let text = child_passes("child_a_thread_named_past_15_bytes");
    assert!(text.contains("200 rounds"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by the_wait_sees_threads_whose_name_is_cut_inside_a_character"]
fn child_a_thread_named_past_15_bytes() {
    thread::Builder::new()
        .name("test_aéééééééé".into())
        .spawn(|| dhat_kit::measure_all(|| rounds_of_inner_spans(200)))
        .unwrap()
        .join()
        .unwrap();
    eprintln!("200 rounds");
}

/// `rounds` inner `measure_all`s over a scope whose threads nobody joins by hand: each leaves
/// nothing live.
fn rounds_of_inner_spans(rounds: usize) {
    for round in 0..rounds {
        let ((), inner) = dhat_kit::measure_all(|| {
            thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| black_box(vec![1u8; 10]).len());
                }
            })
        });
        assert_eq!(
            (inner.curr_bytes, inner.curr_blocks),
            (0, 0),
            "round {round}"
        );
        assert!(inner.total_blocks >= 4, "round {round}: {inner:?}");
    }
}

/// A thread started inside a measurement that is still busy when the wait for it gives up
/// (0.5 s): what it does later is in no figure, and the measurement says so on stderr (it said
/// nothing, and a budget passed without the thread's work).
#[cfg(target_os = "linux")]
#[test]
fn a_thread_still_running_after_the_wait_is_said() {
    let text = child_passes("child_a_thread_busy_past_the_wait");
    let note = "child_a_thread_busy_past_the_wait: 1 thread started during the measurement still \
                ran 0.5 s after its closure returned: what it allocates or frees from then on is \
                in no figure (join it inside the measurement)";
    // Once for the single span, once for the outer of the nested ones. The inner one says its
    // own figures miss it, which the enclosing one counts (each said it as the outer does; then
    // only the outer one spoke, and a nested span whose thread was joined before the outer one
    // ended was short without a word).
    assert_eq!(text.matches(note).count(), 2, "{text}");
    let inner = "child_a_thread_busy_past_the_wait: 1 thread started during the measurement \
                 still ran 0.5 s after its closure returned: what it allocates or frees from then \
                 on is not in this one's figures (an enclosing measurement counts it) (join it \
                 inside the measurement)";
    assert_eq!(text.matches(inner).count(), 2, "{text}");
    assert!(text.contains("figures without the late block"), "{text}");
}

/// A thread started inside a measurement that naps, then allocates, then sleeps on past the
/// measurement: its nap is no idle worker's wait, so the measurement waits for it, and its
/// allocation is in the figures, with the note that it still ran at the end of the wait. It was
/// taken for a pool's idle worker: the measurement ended at once, without its block or a word,
/// and a budget passed.
#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_naps_then_works_is_waited_for() {
    let text = child_passes("child_a_thread_that_naps");
    assert!(
        text.contains(
            "child_a_thread_that_naps: 1 thread started during the measurement still ran 0.5 s \
             after its closure returned"
        ),
        "{text}"
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_thread_that_naps_then_works_is_waited_for"]
fn child_a_thread_that_naps() {
    // The same spawn, its thread done within the measurement: the allocations to expect.
    let (done, quick) = dhat_kit::measure_all(|| {
        let t = thread::spawn(|| black_box(vec![0u8; 777]).len());
        while !t.is_finished() {
            thread::yield_now();
        }
        t
    });
    assert_eq!(done.join().unwrap(), 777);
    // The closure returns once the thread is about to nap: until then it may be blocked in its
    // start-up (read as idle, waiting for something else), and the span ended without it (1 run
    // of CI's in many: 112 bytes in 3 blocks, the 777 missing).
    static NAPPING: AtomicBool = AtomicBool::new(false);
    let (late, napped) = dhat_kit::measure_all(|| {
        let t = thread::spawn(|| {
            NAPPING.store(true, SeqCst);
            thread::sleep(std::time::Duration::from_millis(5));
            let len = black_box(vec![0u8; 777]).len();
            thread::sleep(std::time::Duration::from_secs(2));
            len
        });
        while !NAPPING.load(SeqCst) {
            thread::yield_now();
        }
        t
    });
    assert_eq!(
        (napped.total_bytes, napped.total_blocks),
        (quick.total_bytes, quick.total_blocks),
        "{napped:?} {quick:?}"
    );
    assert_eq!(late.join().unwrap(), 777);
}

/// A thread that spins until `release` is set, then allocates 777 bytes, started inside a
/// measurement: one released only after the measurement returns outlives its wait, however late
/// the waiting thread wakes (spinning for a fixed 800 ms against a wait of 500 left a margin
/// that a loaded machine could eat).
fn spins_until(release: &'static AtomicBool) -> thread::JoinHandle<usize> {
    thread::spawn(move || {
        while !release.load(SeqCst) {
            black_box(());
        }
        black_box(vec![0u8; 777]).len()
    })
}

/// Set from the start: [`spins_until`] allocates at once.
static AT_ONCE: AtomicBool = AtomicBool::new(true);

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_thread_still_running_after_the_wait_is_said"]
fn child_a_thread_busy_past_the_wait() {
    static FIRST: AtomicBool = AtomicBool::new(false);
    let (late, stats) = dhat_kit::measure_all(|| spins_until(&FIRST));
    eprintln!("figures without the late block: {stats:?}");
    FIRST.store(true, SeqCst);
    assert_eq!(late.join().unwrap(), 777);
    // The same spawn, its thread done within the wait: the same allocations (the note said
    // about the first is not among them: it counted 318 bytes in 2 blocks).
    let (done, quick) = dhat_kit::measure_all(|| {
        let t = spins_until(&AT_ONCE);
        while !t.is_finished() {
            thread::yield_now();
        }
        t
    });
    assert_eq!(done.join().unwrap(), 777);
    assert_eq!(
        (stats.total_bytes + 777, stats.total_blocks + 1),
        (quick.total_bytes, quick.total_blocks),
        "{stats:?} {quick:?}"
    );
    // Nested: the inner span gives up on the thread, the outer one too (it spins past both
    // waits), and each says so: the inner one that the outer one counts it.
    static NESTED: AtomicBool = AtomicBool::new(false);
    let (late, _) = dhat_kit::measure_all(|| dhat_kit::measure_all(|| spins_until(&NESTED)).0);
    NESTED.store(true, SeqCst);
    assert_eq!(late.join().unwrap(), 777);
    // Nested, the thread joined inside the outer span: the outer one counts it, the inner one
    // says it does not.
    let ((), outer) = dhat_kit::measure_all(|| {
        static INNER: AtomicBool = AtomicBool::new(false);
        let (late, inner) = dhat_kit::measure_all(|| spins_until(&INNER));
        INNER.store(true, SeqCst);
        assert_eq!(late.join().unwrap(), 777);
        assert!(inner.total_bytes < 777, "{inner:?}");
    });
    assert!(outer.total_bytes >= 777, "{outer:?}");
}

/// `growth_all` measures each size in a span nested in one of its own, whose figures it drops: a
/// thread a size started that still runs after the wait goes on in the later sizes' spans (in
/// none after the last), and the size's note says so, once (it said that an enclosing
/// measurement counts it, where none is reported, and nothing of the later sizes).
#[cfg(target_os = "linux")]
#[test]
fn growth_alls_note_says_where_a_late_threads_work_goes() {
    let child = "child_growth_all_with_late_threads";
    let out = dhat_kit::measure_all(|| common::run_ignored(child)).0;
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    let note = |counted: &str| {
        format!(
            "dhat-kit: dhat_kit::growth_all in {child}: 1 thread started during the measurement \
             still ran 0.5 s after its closure returned: what it allocates or frees from then on \
             {counted} (join it inside the measurement)"
        )
    };
    let later = note("is not in this size's figures but in those of the sizes measured after it");
    assert_eq!(text.matches(&later).count(), 1, "{text}");
    assert_eq!(text.matches(&note("is in no figure")).count(), 1, "{text}");
    // The first run's thread too (it was said of no run, and polluted the sizes unsaid).
    let warm =
        note("is in the figures of the sizes measured after the first run, which is not measured");
    assert_eq!(text.matches(&warm).count(), 1, "{text}");
    assert_eq!(
        text.matches("dhat-kit: dhat_kit::growth_all").count(),
        3,
        "{text}"
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by growth_alls_note_says_where_a_late_threads_work_goes"]
fn child_growth_all_with_late_threads() {
    let mut late = Vec::new();
    // The first run (unmeasured), then the first and the last size start a thread that outlives
    // the wait, the middle one none.
    static SIZES: AtomicBool = AtomicBool::new(false);
    let _ = dhat_kit::growth_all(&[1_000, 10_000, 100_000], |n| {
        if n != 10_000 {
            late.push(spins_until(&SIZES));
        }
        black_box(vec![0u8; n]).len()
    });
    SIZES.store(true, SeqCst);
    for t in late {
        assert_eq!(t.join().unwrap(), 777);
    }
}

/// Under `#[tokio::test]`, a `threads = "all"` budget's span is nested in one around the runtime,
/// whose figures are nobody's: a thread the test started that outlives the wait is in no figure,
/// and that is said once (the budget's span said that an enclosing measurement counts it).
#[cfg(target_os = "linux")]
#[test]
fn a_runtime_tests_late_thread_is_said_once_in_no_figure() {
    let child = "child_a_runtime_test_with_a_late_thread";
    let out = dhat_kit::measure_all(|| common::run_ignored(child)).0;
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    let note = format!(
        "dhat-kit: #[assert_heap(threads = \"all\")] in {child}: 1 thread started during the \
         measurement still ran 0.5 s after its closure returned: what it allocates or frees from \
         then on is in no figure (join it inside the measurement)"
    );
    assert_eq!(text.matches(&note).count(), 1, "{text}");
    assert_eq!(text.matches("still ran 0.5 s").count(), 1, "{text}");
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_runtime_tests_late_thread_is_said_once_in_no_figure"]
#[dhat_kit::assert_heap(threads = "all", total_bytes = 1_000_000)]
async fn child_a_runtime_test_with_a_late_thread() {
    // Never released: it spins until the process ends.
    static NEVER: AtomicBool = AtomicBool::new(false);
    drop(spins_until(&NEVER));
}

/// A thread started inside that stays, idle (a pool's worker waiting for work): the span does
/// not wait for it to exit, and what it holds is live in the figures.
#[cfg(target_os = "linux")]
#[test]
fn a_thread_started_inside_that_stays_idle_is_live_at_the_end() {
    let (stop, stopped) = mpsc::channel::<()>();
    let holding = Arc::new(Barrier::new(2));
    let (worker, stats) = dhat_kit::measure_all(|| {
        let held = holding.clone();
        let worker = thread::spawn(move || {
            let block = black_box(vec![1u8; 5000]);
            held.wait();
            let _ = stopped.recv();
            drop(block);
        });
        holding.wait();
        worker
    });
    assert!(stats.curr_bytes >= 5000, "{stats}");
    drop(stop);
    worker.join().unwrap();
}

#[dhat_kit::assert_heap(curr_bytes = 0)]
fn spawn_and_join_on_the_test_thread_only() {
    thread::spawn(|| {}).join().unwrap();
}

#[test]
fn the_thread_scope_report_says_why_its_live_figures_differ() {
    let _ = dhat_kit::measure_all(the_thread_scope_report);
}

fn the_thread_scope_report() {
    let ((), on_this_thread) = dhat_kit::measure(|| thread::spawn(|| {}).join().unwrap());
    assert!(on_this_thread.curr_bytes > 0, "{on_this_thread}");
    let ((), everywhere) = dhat_kit::measure_all(|| thread::spawn(|| {}).join().unwrap());
    assert_eq!((everywhere.curr_bytes, everywhere.curr_blocks), (0, 0));
    let failed = std::panic::catch_unwind(spawn_and_join_on_the_test_thread_only).unwrap_err();
    let report = failed.downcast_ref::<String>().unwrap();
    assert!(
        report.contains("measured on the test's thread:"),
        "{report}"
    );
    assert!(
        report
            .contains("blocks this thread allocated and another thread freed still count as live"),
        "{report}"
    );
    assert!(report.contains("threads = \"all\""), "{report}");
}

/// `count` threads started and waiting, then, inside a nested span, each allocates a block of
/// `i + 1` bytes, all hold theirs at once, and each frees it: the span holds those blocks alone,
/// so its figures are known to the byte. The threads finish starting before the span begins and
/// end only after it, so that none of their own bookkeeping falls inside it.
fn blocks_at_once(count: usize) -> dhat_kit::Stats {
    let [ready, go, held, freed, done] = [(); 5].map(|()| Barrier::new(count + 1));
    thread::scope(|s| {
        for i in 0..count {
            let (ready, go, held, freed, done) = (&ready, &go, &held, &freed, &done);
            s.spawn(move || {
                ready.wait();
                go.wait();
                let block = vec![1u8; i + 1];
                held.wait();
                drop(block);
                freed.wait();
                done.wait();
            });
        }
        ready.wait();
        let ((), stats) = dhat_kit::measure_all(|| {
            go.wait();
            held.wait();
            freed.wait();
        });
        done.wait();
        stats
    })
}

/// In exact mode each thread keeps its totals in a slot of its own, given back when it ends, and
/// threads beyond the kit's 256 slots add to shared totals. Every byte counts either way: 300
/// threads hold blocks at once, twice (the second 300 take the slots the first gave back, whose
/// totals must carry over).
#[test]
fn more_threads_than_span_slots_and_reused_slots_count_every_byte() {
    alone(more_threads_than_span_slots);
}

fn more_threads_than_span_slots() {
    const THREADS: usize = 300;
    let bytes = (THREADS * (THREADS + 1) / 2) as u64;
    for round in 0..2 {
        let s = blocks_at_once(THREADS);
        let figures = (s.total_bytes, s.total_blocks, s.max_bytes);
        assert_eq!(
            figures,
            (bytes, THREADS as u64, bytes),
            "round {round}: {s}"
        );
        assert_eq!((s.curr_bytes, s.curr_blocks), (0, 0), "round {round}: {s}");
    }
}

/// A small block (within a thread's batch: a large one is published at once) allocated and kept
/// by a destructor that runs after the kit's exit hook.
const LATE_BLOCK: usize = 1000;

/// A POSIX thread-specific key whose destructor allocates [`LATE_BLOCK`] bytes and keeps them:
/// such destructors run after every thread-local's (the kit's exit hook among them), as a C
/// library's per-thread cleanup would.
#[cfg(target_os = "linux")]
mod late_key {
    use std::ffi::c_void;
    use std::sync::OnceLock;

    extern "C" {
        fn pthread_key_create(
            key: *mut u32,
            destructor: Option<unsafe extern "C" fn(*mut c_void)>,
        ) -> i32;
        fn pthread_setspecific(key: u32, value: *const c_void) -> i32;
    }

    unsafe extern "C" fn allocate_late(_: *mut c_void) {
        std::mem::forget(std::hint::black_box(vec![1u8; super::LATE_BLOCK]));
    }

    /// Makes the calling thread run [`allocate_late`] when it ends.
    pub fn arm() {
        static KEY: OnceLock<u32> = OnceLock::new();
        let key = *KEY.get_or_init(|| {
            let mut key = 0;
            // SAFETY: `key` is a valid place for the new key; the destructor has the signature
            // POSIX asks for and ignores its argument.
            let rc = unsafe { pthread_key_create(&mut key, Some(allocate_late)) };
            assert_eq!(rc, 0, "pthread_key_create");
            key
        });
        // SAFETY: `key` was created above; a non-null value is what makes the destructor run.
        let rc = unsafe { pthread_setspecific(key, std::ptr::dangling::<c_void>()) };
        assert_eq!(rc, 0, "pthread_setspecific");
    }
}

/// How much the process's figures grew (total bytes and blocks, live bytes) over a thread that
/// allocates and frees a small block and, when `late`, allocates [`LATE_BLOCK`] after its exit
/// hook.
#[cfg(target_os = "linux")]
fn process_growth_over_a_thread(late: bool) -> [u64; 3] {
    let before = dhat_kit::process_stats();
    thread::spawn(move || {
        drop(std::hint::black_box(vec![1u8; 100]));
        if late {
            late_key::arm();
        }
    })
    .join()
    .unwrap();
    let after = dhat_kit::process_stats();
    [
        after.total_bytes - before.total_bytes,
        after.total_blocks - before.total_blocks,
        after.curr_bytes - before.curr_bytes,
    ]
}

/// A thread ends, and a destructor that runs after the kit's own exit hook allocates a small
/// block: the process's figures include it, not only what the thread did before its exit hook.
#[cfg(target_os = "linux")]
#[test]
fn the_process_figures_include_what_a_thread_allocates_after_its_exit_hook() {
    alone(process_figures_after_exit_hook);
}

#[cfg(target_os = "linux")]
fn process_figures_after_exit_hook() {
    warm_up();
    // Once each unmeasured: the key's creation, and std's bookkeeping for it.
    process_growth_over_a_thread(true);
    let [plain, late] = [false, true].map(process_growth_over_a_thread);
    let block = LATE_BLOCK as u64;
    assert_eq!(
        late,
        [plain[0] + block, plain[1] + 1, plain[2] + block],
        "(total bytes, total blocks, live bytes) the process grew by, over a thread without the \
         late block: {plain:?}"
    );
}

#[test]
fn nested_spans_measure_their_own_closures() {
    alone(nested_spans);
}

fn nested_spans() {
    warm_up();
    let ((inner, v), outer) = dhat_kit::measure_all(|| {
        let a = vec![0u8; 100];
        let (v, inner) =
            dhat_kit::measure_all(|| thread::scope(|s| s.spawn(|| vec![0u8; 300]).join().unwrap()));
        drop(a);
        (inner, v)
    });
    let ((), alone) = dhat_kit::measure_all(|| {
        drop(thread::scope(|s| {
            s.spawn(|| vec![0u8; 300]).join().unwrap()
        }));
    });
    // The inner span is exactly the scope; the outer one adds the 100 bytes before it.
    assert_eq!(inner.total_bytes, alone.total_bytes);
    assert_eq!(inner.total_blocks, alone.total_blocks);
    assert_eq!(inner.curr_bytes, 300);
    assert_eq!(outer.total_bytes, inner.total_bytes + 100);
    assert_eq!(outer.total_blocks, inner.total_blocks + 1);
    assert_eq!(outer.curr_bytes, 300);
    assert_eq!(outer.max_bytes, inner.max_bytes + 100);
    drop(v);
}

#[test]
fn the_peak_is_the_latest_of_equal_peaks_and_a_same_size_realloc_moves_only_the_totals() {
    use std::hint::black_box;
    let ((), stats) = dhat_kit::measure_all(|| {
        // 100 live bytes in one block, then in two: the peak is the later one, as dhat keeps it.
        drop(black_box(vec![0u8; 100]));
        let a = black_box(vec![0u8; 50]);
        let layout = std::alloc::Layout::from_size_align(50, 1).unwrap();
        // SAFETY: a non-zero size; the block is reallocated to the same size with its layout,
        // then freed with it.
        unsafe {
            let b = std::alloc::alloc(layout);
            assert!(!b.is_null());
            // A reallocation to the same size: a new block in the totals, the live figures
            // unchanged.
            let b = black_box(std::alloc::realloc(b, layout, 50));
            assert!(!b.is_null());
            drop(a);
            std::alloc::dealloc(b, layout);
        }
    });
    assert_eq!((stats.total_bytes, stats.total_blocks), (250, 4));
    assert_eq!((stats.max_bytes, stats.max_blocks), (100, 2));
    assert_eq!((stats.curr_bytes, stats.curr_blocks), (0, 0));
}

#[test]
fn regions_inside_work_as_usual() {
    let ((), stats) = dhat_kit::measure_all(|| {
        dhat_kit::region!("measure_all_region");
        drop(std::hint::black_box(vec![0u8; 512]));
    });
    assert_eq!((stats.total_bytes, stats.total_blocks), (512, 1));
    let regions = dhat_kit::regions();
    let region = regions
        .iter()
        .find(|r| r.path.ends_with("measure_all_region"))
        .expect("the region is recorded");
    assert_eq!(region.inclusive.total_bytes, 512);
}

/// Two spans started at the same moment on two threads: one waits for the other, and each sees
/// only its own work.
#[test]
fn a_second_span_on_another_thread_waits() {
    // The threads start together and end together, so that neither is starting or ending (and
    // allocating for it) while the other measures.
    let (start, end) = (Barrier::new(2), Barrier::new(2));
    let spans = thread::scope(|s| {
        let handles: Vec<_> = [1000usize, 2000]
            .into_iter()
            .map(|size| {
                let (start, end) = (&start, &end);
                s.spawn(move || {
                    start.wait();
                    let ((), stats) = dhat_kit::measure_all(|| {
                        let block = std::hint::black_box(vec![0u8; size]);
                        thread::sleep(std::time::Duration::from_millis(50));
                        drop(block);
                    });
                    end.wait();
                    stats
                })
            })
            .collect();
        // Joined without allocating: this thread runs while the second span measures.
        let mut handles = handles.into_iter();
        let mut join = || handles.next().unwrap().join().unwrap();
        [join(), join()]
    });
    assert_eq!((spans[0].total_bytes, spans[0].max_bytes), (1000, 1000));
    assert_eq!((spans[1].total_bytes, spans[1].max_bytes), (2000, 2000));
}

/// rayon: a pool started in an outer span, the work measured in an inner one, so that starting
/// the pool is not part of the figures. The work on four threads allocates exactly what it does
/// on one: one `String` per element and the collected `Vec`.
#[test]
fn rayon_par_iter_allocates_what_one_thread_does() {
    let _ = dhat_kit::measure_all(rayon_par_iter);
}

fn rayon_par_iter() {
    use rayon::prelude::*;
    let input: Vec<u64> = (0..1000).map(|i| i * 7919).collect();
    let work = |v: &[u64]| {
        v.iter()
            .map(|i| format!("item {i}"))
            .collect::<Vec<String>>()
    };
    let (single, on_one) = dhat_kit::measure(|| work(&input));
    let ((parallel, on_pool), _) = dhat_kit::measure_all(|| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        pool.broadcast(|_| ());
        let parallel = dhat_kit::measure_all(|| {
            pool.install(|| {
                input
                    .par_iter()
                    .map(|i| format!("item {i}"))
                    .collect::<Vec<String>>()
            })
        });
        drop(pool);
        parallel
    });
    assert_eq!(parallel, single);
    assert_eq!(on_pool.total_blocks, on_one.total_blocks);
    assert_eq!(on_pool.total_bytes, on_one.total_bytes);
    assert_eq!(on_pool.curr_bytes, on_one.curr_bytes);
    assert_eq!(on_pool.curr_blocks, on_one.curr_blocks);
}

/// Every block of the work is 1,000 bytes, so the live bytes are always 1,000 times the live
/// blocks, and so are the peak's: `max_bytes` is 1,000 times `max_blocks`. With the live bytes
/// and blocks in two counters, a thread that met the peak read its bytes and the blocks of a
/// moment before (2,000 bytes in 1 block) in 7 to 120 rounds of 200.
#[test]
fn the_peak_blocks_are_those_live_with_the_peak_bytes() {
    use rayon::prelude::*;
    let _ = dhat_kit::measure_all(|| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        pool.broadcast(|_| ());
        let (mut torn, mut clean) = (Vec::new(), 0);
        for round in 0..200 {
            let (n, stats) = dhat_kit::measure_all(|| {
                pool.install(|| {
                    (0..1000)
                        .into_par_iter()
                        .map(|_| black_box(vec![0u8; 1000]).len())
                        .sum::<usize>()
                })
            });
            assert_eq!(n, 1_000_000);
            // A round in which rayon grew its own queues (a block of another size) is left out.
            if (stats.total_bytes, stats.total_blocks) != (1_000_000, 1000) {
                continue;
            }
            clean += 1;
            if stats.max_bytes != 1000 * stats.max_blocks {
                torn.push((round, stats));
            }
        }
        drop(pool);
        assert!(
            clean >= 100,
            "{clean} of 200 rounds without rayon's own blocks"
        );
        assert!(
            torn.is_empty(),
            "{} of {clean} rounds: {torn:?}",
            torn.len()
        );
    });
}

/// A multi-threaded tokio runtime: tasks spawned on its workers, each allocating a known block.
/// Spawning and joining costs the same with or without the blocks, so the difference is exactly
/// their sizes.
#[test]
fn tokio_multi_thread_spawn_and_join() {
    // A runtime whose four workers have all started and run a task: what they allocate when
    // they start is not part of the work.
    let runtime = || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        let all = std::sync::Arc::new(Barrier::new(5));
        rt.block_on(async {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let all = all.clone();
                    tokio::spawn(async move {
                        all.wait();
                    })
                })
                .collect();
            all.wait();
            for h in handles {
                h.await.unwrap();
            }
        });
        rt
    };
    let tasks = |sizes: [usize; 8]| {
        let rt = runtime();
        let ((), stats) = dhat_kit::measure_all(|| {
            rt.block_on(async {
                let handles: Vec<_> = sizes
                    .into_iter()
                    .map(|n| tokio::spawn(async move { std::hint::black_box(vec![1u8; n]).len() }))
                    .collect();
                let mut lens = Vec::new();
                for h in handles {
                    lens.push(h.await.unwrap());
                }
                assert_eq!(lens, sizes);
            })
        });
        stats
    };
    // The first runtime of the process also initialises tokio's globals: once, before.
    let ((none, with_blocks), _) = dhat_kit::measure_all(|| {
        tasks([0; 8]);
        (
            tasks([0; 8]),
            tasks([100, 200, 300, 400, 500, 600, 700, 800]),
        )
    });
    assert_eq!(with_blocks.total_bytes, none.total_bytes + 3600);
    assert_eq!(with_blocks.total_blocks, none.total_blocks + 8);
    // (What the runtime itself keeps live after `block_on`, a queue's block or not, depends on
    // which worker ran what: its live figures are not compared.)
}

/// An async body under `threads = "all"`: the span runs from the first poll to completion, over
/// two polls here.
#[tokio::test]
#[dhat_kit::assert_heap(
    threads = "all",
    total_bytes = 5120,
    total_blocks = 2,
    max_bytes = 4096,
    curr_bytes = 0
)]
async fn an_async_body_measured_on_all_threads() {
    drop(std::hint::black_box(vec![0u8; 4096]));
    // Pending once (waking itself at once, which allocates nothing), then ready.
    let mut polled = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut polled, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
    drop(std::hint::black_box(vec![0u8; 1024]));
}

/// A multi-threaded runtime's body under `threads = "all"`: the runtime that `#[tokio::test]`
/// builds starts its workers before the body's first poll, yet they are the test's own threads;
/// a task spawned on them is counted, and the runtime itself is not (the span is the body's).
/// (What the runtime keeps live at the body's end, a task's block freed by a worker or not yet,
/// depends on which worker ran what: `curr_*` is left out.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[dhat_kit::assert_heap(threads = "all", max_bytes = 64 * 1024)]
async fn a_multi_threaded_runtimes_body_below_tokio_test() {
    let n = tokio::spawn(async { std::hint::black_box(vec![0u8; 40_000]).len() });
    assert_eq!(n.await.unwrap(), 40_000);
}

/// The same with the budget above `#[tokio::test]`.
#[dhat_kit::assert_heap(threads = "all", max_bytes = 64 * 1024)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_threaded_runtimes_body_above_tokio_test() {
    let n = tokio::spawn(async { std::hint::black_box(vec![0u8; 40_000]).len() });
    assert_eq!(n.await.unwrap(), 40_000);
}

#[dhat_kit::assert_heap(max_bytes = 10)]
async fn a_helper_over_its_budget() {
    drop(black_box(vec![0u8; 100]));
}

/// A helper's own budget, failing inside a `threads = "all"` test under `#[tokio::test]`, panics
/// with its own message, as anywhere else. (It was handed, as the test's own failure, to the
/// span around the runtime: a `#[should_panic(expected = ..)]` read "did not panic as expected",
/// and a `JoinError` held no message.)
#[tokio::test]
#[should_panic(expected = "measure_all::a_helper_over_its_budget went over its heap budget")]
#[dhat_kit::assert_heap(threads = "all", max_bytes = 1 << 20)]
async fn a_helpers_budget_fails_with_its_own_message() {
    a_helper_over_its_budget().await;
}

/// `n` bytes on each of two threads the work starts: counted with `threads = "all"` (the test's
/// own thread sees none of it).
#[dhat_kit::assert_growth(threads = "all", total_bytes = "n", max_bytes = "n", sizes = [1_000, 10_000, 100_000])]
#[test]
fn growth_on_the_threads_a_test_starts(n: usize) {
    thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(move || drop(black_box(vec![0u8; n])));
        }
    });
}

/// `n²` bytes on a thread, declared `n`: fails, measured on every thread; `growth` on the test's
/// thread alone reads it as nothing.
#[dhat_kit::assert_growth(threads = "all", max_bytes = "n", sizes = [10, 100, 1_000])]
fn quadratic_on_a_thread(n: usize) {
    thread::scope(|s| {
        s.spawn(move || drop(black_box(vec![0u8; n * n])));
    });
}

#[test]
fn growth_on_other_threads_is_fitted() {
    let message = std::panic::catch_unwind(quadratic_on_a_thread)
        .expect_err("n² declared n")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with(
            "dhat-kit: measure_all::quadratic_on_a_thread grows faster than declared\n  \
             max_bytes grows as n² (exponent 2.00), declared n"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("measured on every thread of the process (threads = \"all\")"),
        "{message}"
    );
    let work = |n: usize| {
        thread::scope(|s| {
            s.spawn(move || drop(black_box(vec![0u8; n * n])));
        })
    };
    let (all, _) = dhat_kit::measure_all(|| dhat_kit::growth_all(&[10, 100, 1_000], work));
    assert!(all.all_threads());
    assert_eq!(
        all.fit("max_bytes").unwrap().class(),
        dhat_kit::GrowthClass::Quadratic,
        "{all}"
    );
    // Each size's thread, its bookkeeping freed as it exits, is that size's alone: nothing left
    // live, the same cost of starting a thread beside the n² bytes at every size, and the n²
    // bytes in the peak. (Where the peak falls in the thread's start, and so how much of that
    // cost it holds, depends on n: 132 bytes above n² at 10 items, 136 at 100.)
    let spawn: Vec<(u64, u64)> = all
        .rows()
        .iter()
        .map(|(n, s)| (s.total_bytes - (n * n) as u64, s.curr_bytes))
        .collect();
    assert!(
        spawn.iter().all(|&c| c == (spawn[0].0, 0)),
        "{spawn:?}\n{all}"
    );
    assert!(
        all.rows()
            .iter()
            .all(|(n, s)| s.max_bytes >= (n * n) as u64),
        "{all}"
    );
    let (own, _) = dhat_kit::measure_all(|| dhat_kit::growth(&[10, 100, 1_000], work));
    assert_eq!(
        own.fit("max_bytes").unwrap().class(),
        dhat_kit::GrowthClass::Constant,
        "{own}"
    );
}

/// Eight workers start as `#[tokio::test]` builds its runtime, and each copies its name as it
/// starts, on itself. The budget's span begins at the first poll, which waits for them: the
/// runtime's start is never counted, however soon the first poll comes. (A worker not yet that
/// far was counted, 15 bytes and a block: from 0 to 105 bytes over ten runs.) The body blocks its
/// thread for a while, in which every worker has started.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[dhat_kit::assert_heap(threads = "all", total_bytes = 0, total_blocks = 0)]
async fn eight_workers_start_uncounted() {
    thread::sleep(std::time::Duration::from_millis(20));
}

#[test]
fn a_runtimes_start_is_never_counted() {
    for _ in 0..10 {
        eight_workers_start_uncounted();
    }
}

#[dhat_kit::assert_heap(total_bytes = 100, total_blocks = 1)]
fn inner_budget() {
    drop(std::hint::black_box(vec![0u8; 100]));
}

/// Thread-scope budgets hold their place against whole-process measurements (which wait for them),
/// and one nested in another goes on even while a `measure_all` waits.
// Each inner budget first checks that the allocator is installed, with one allocation of 1 byte
// until the check has said yes once in the process.
#[test]
#[dhat_kit::assert_heap(total_bytes = 300 + 2, total_blocks = 2 + 2, curr_bytes = 0)]
fn thread_scope_budgets_nest_beside_whole_process_ones() {
    inner_budget();
    thread::sleep(std::time::Duration::from_millis(20));
    inner_budget_200();
}

#[dhat_kit::assert_heap(total_bytes = 200, total_blocks = 1)]
fn inner_budget_200() {
    drop(std::hint::black_box(vec![0u8; 200]));
}

/// A thread-scope `#[assert_growth]` holds its place against whole-process measurements, as a
/// thread-scope `#[assert_heap]` does: a `measure_all` begun on another thread while it runs waits
/// for it (it did not, saw the growth test's allocations, and was refused).
#[cfg(target_os = "linux")]
#[test]
fn a_thread_scope_growth_test_holds_its_place() {
    let text = child_passes("child_growth_beside_measure_all");
    assert!(
        text.contains("the measure_all waited for the growth test"),
        "{text}"
    );
}

/// Tells [`growing_while_another_thread_measures`]'s first run has begun.
static GROWING: Barrier = Barrier::new(2);

/// `8n` bytes a size, slowly; the first run lets [`child_growth_beside_measure_all`]'s other
/// thread go on to its `measure_all`.
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [1_000, 10_000, 100_000])]
fn growing_while_another_thread_measures(n: usize) {
    static FIRST: std::sync::Once = std::sync::Once::new();
    FIRST.call_once(|| {
        GROWING.wait();
    });
    // Idle longer than a span's wait for the process to go quiet (30 ms): a span that did not
    // wait for this test would begin meanwhile.
    thread::sleep(std::time::Duration::from_millis(100));
    black_box(vec![0u64; n]);
    if n == 100_000 {
        GROWN.store(true, SeqCst);
    }
}

/// Set by the last size's run of [`growing_while_another_thread_measures`].
static GROWN: AtomicBool = AtomicBool::new(false);

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_thread_scope_growth_test_holds_its_place"]
fn child_growth_beside_measure_all() {
    let other = thread::spawn(|| {
        GROWING.wait();
        let ((), stats) = dhat_kit::measure_all(|| {
            assert!(
                GROWN.load(SeqCst),
                "the measure_all ran while the growth test did"
            );
            drop(black_box(vec![0u8; 10]));
        });
        assert_eq!((stats.total_bytes, stats.total_blocks), (10, 1));
    });
    growing_while_another_thread_measures();
    other.join().unwrap();
    eprintln!("the measure_all waited for the growth test");
}

/// Two tests, each inside its thread-scope budget, each in a `measure_all`: each waited for the
/// other's budget to end, for good; then the second to wait was refused, failing its test under
/// plain `cargo test` (helper-108). With every budget's thread waiting for the turn, none is at
/// work: one takes the turn, then the other, and each measures exactly its own work.
#[cfg(target_os = "linux")]
#[test]
fn two_budgets_each_measuring_the_process_inside_do_not_wait_for_each_other() {
    let text = child_passes("child_two_budgets_measuring_inside");
    assert!(
        text.contains("both measured, one after the other"),
        "{text}"
    );
}

/// A thread-scope budget whose body waits for `both` (the other test's budget held too), then
/// measures the process.
#[dhat_kit::assert_heap(total_bytes = 1_000_000)]
fn budget_measuring_inside(both: &Barrier) -> dhat_kit::Stats {
    both.wait();
    dhat_kit::measure_all(|| drop(black_box(vec![0u8; 8]))).1
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by two_budgets_each_measuring_the_process_inside_do_not_wait_for_each_other"]
fn child_two_budgets_measuring_inside() {
    let both = Barrier::new(2);
    let outcomes: Vec<Result<dhat_kit::Stats, String>> = thread::scope(|s| {
        let tests: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    std::panic::catch_unwind(|| budget_measuring_inside(&both))
                        .map_err(|e| e.downcast_ref::<String>().cloned().unwrap_or_default())
                })
            })
            .collect();
        tests.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for outcome in &outcomes {
        let stats = outcome.as_ref().unwrap();
        assert_eq!(
            (stats.total_bytes, stats.total_blocks),
            (8, 1),
            "{outcomes:?}"
        );
    }
    eprintln!("both measured, one after the other");
}

/// A whole-process measurement that has waited 10 s for another test's thread-scope budget says
/// so, once, and goes on waiting: where that test waits for the measuring thread (a join),
/// neither ends, and nothing here can see it (it waited without a word).
#[cfg(target_os = "linux")]
#[test]
fn a_long_wait_for_a_budget_is_said() {
    long_wait_said(
        "a_long_wait_for_a_budget_is_said",
        "child_a_long_wait_for_a_budget",
        "dhat-kit: a whole-process measurement (measure_all, growth_all, threads = \"all\") \
         on waiting has waited 10 s for 1 thread-scope budget (#[assert_heap], \
         #[assert_growth]) of other threads to end, and goes on waiting. If such a test waits for \
         this thread (a join), neither ever ends: measure outside that budget, or give it \
         threads = \"all\"\n",
        "measured after the budget",
    );
}

/// Under cargo-nextest (the test `test` waits over 10 s), runs the ignored test `child` and
/// asserts that it said `said` once, and then `after`.
#[cfg(target_os = "linux")]
fn long_wait_said(test: &str, child: &str, said: &str, after: &str) {
    if !a_long_test_runs_here(test) {
        return;
    }
    let text = child_passes(child);
    assert_eq!(text.matches(said).count(), 1, "{text}");
    assert!(text.contains(after), "{text}");
}

/// A whole-process measurement on a thread started inside another one waits for that one to end
/// and, after 10 s, says so once: where the outer one waits for the thread (a scope, a pool's
/// task), neither ever ends, and it waited without a word (helper-108's `measure_all` in a
/// rayon task inside a `measure_all`). Here the outer one goes on after 11 s, without joining it.
#[cfg(target_os = "linux")]
#[test]
fn a_measurement_waiting_inside_another_says_so() {
    long_wait_said(
        "a_measurement_waiting_inside_another_says_so",
        "child_a_measurement_waiting_inside_another",
        "dhat-kit: a whole-process measurement (measure_all, growth_all, threads = \"all\") \
         on inner, a thread started inside another one, has waited 10 s for that one to end, and \
         goes on waiting. If that one waits for this thread (a scope, a join, a pool's task), \
         neither ever ends: measure in the outer one only, or outside it\n",
        "the inner one measured after the outer",
    );
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_measurement_waiting_inside_another_says_so"]
fn child_a_measurement_waiting_inside_another() {
    let (inner, _) = dhat_kit::measure_all(|| {
        let inner = thread::Builder::new()
            .name("inner".into())
            .spawn(|| dhat_kit::measure_all(|| black_box(vec![0u8; 10]).len()))
            .unwrap();
        thread::sleep(std::time::Duration::from_secs(11));
        inner
    });
    let (len, stats) = inner.join().unwrap();
    assert_eq!((len, stats.total_bytes, stats.total_blocks), (10, 10, 1));
    eprintln!("the inner one measured after the outer");
}

/// Whether a test that waits over 10 s runs here: under cargo-nextest only, which `scripts/test`
/// runs this file under too, so that the suite waits once; elsewhere it says that it skips.
fn a_long_test_runs_here(name: &str) -> bool {
    let here = std::env::var_os("NEXTEST").is_some();
    if !here {
        eprintln!(
            "{name}: skipped under cargo test: it waits over 10 s, and runs under cargo nextest \
             (scripts/test)"
        );
    }
    here
}

/// A measurement waiting for its turn sleeps while another's span holds it, however long: it
/// woke after 10 s to see whether its note of a long wait was due, and a span of over 10 s then
/// saw it run and was refused.
#[cfg(target_os = "linux")]
#[test]
fn a_span_of_over_ten_seconds_is_not_disturbed_by_one_waiting() {
    if !a_long_test_runs_here("a_span_of_over_ten_seconds_is_not_disturbed_by_one_waiting") {
        return;
    }
    let text = child_passes("child_a_long_span_and_one_waiting");
    assert!(text.contains("the long span measured"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_span_of_over_ten_seconds_is_not_disturbed_by_one_waiting"]
fn child_a_long_span_and_one_waiting() {
    use std::time::{Duration, Instant};
    // Up to three rounds, for one in which this thread waited through the whole long span.
    for round in 0..3 {
        let start = Barrier::new(2);
        let waited = thread::scope(|s| {
            let long = s.spawn(|| {
                start.wait();
                let (ended, stats) = dhat_kit::measure_all(|| {
                    thread::sleep(Duration::from_millis(10_500));
                    drop(black_box(vec![0u8; 5]));
                    Instant::now()
                });
                (ended, stats)
            });
            // This thread, the only other one: just after the long span has taken its turn,
            // within the quiet window it waits for (30 ms), it asks for its own turn and sleeps
            // until the span ends.
            start.wait();
            thread::sleep(Duration::from_millis(5));
            let ((), _) = dhat_kit::measure_all(|| drop(black_box(vec![0u8; 3])));
            let done = Instant::now();
            let (ended, stats) = long.join().unwrap();
            assert_eq!((stats.total_bytes, stats.total_blocks), (5, 1));
            done > ended
        });
        if waited {
            eprintln!("the long span measured (round {round})");
            return;
        }
    }
    panic!("this thread never asked for its turn while the long span held it");
}

/// A thread-scope budget that holds its place for 13 s once `held` lets the other thread go: 3 s
/// past the note, which a loaded machine may delay.
#[dhat_kit::assert_heap(total_bytes = 1_000)]
fn a_long_budget(held: &Barrier) {
    held.wait();
    thread::sleep(std::time::Duration::from_millis(13_000));
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "run by a_long_wait_for_a_budget_is_said"]
fn child_a_long_wait_for_a_budget() {
    let held = Barrier::new(2);
    thread::scope(|s| {
        s.spawn(|| a_long_budget(&held));
        thread::Builder::new()
            .name("waiting".into())
            .spawn_scoped(s, || {
                held.wait();
                let ((), stats) = dhat_kit::measure_all(|| drop(black_box(vec![0u8; 3])));
                assert_eq!(stats.total_bytes, 3);
            })
            .unwrap();
    });
    eprintln!("measured after the budget");
}

/// Spins for about `n` rounds without allocating.
fn spin(n: u32) {
    for _ in 0..n {
        std::hint::spin_loop();
    }
}

/// The documented way to measure work beside a pool that keeps running: the pool started inside
/// an outer `measure_all`, the work measured in inner ones. Two workers allocate and free 4 KiB
/// blocks without pause while the test thread runs short inner spans: whatever they do as an
/// inner span begins or ends, each operation falls wholly inside it or wholly outside, so nothing
/// is live at its end above its start that it did not allocate (`curr <= total`), nor above its
/// peak (`curr <= max`).
#[test]
fn inner_spans_beside_a_running_pool_have_consistent_figures() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::time::{Duration, Instant};
    let (bad, _) = dhat_kit::measure_all(|| {
        let stop = AtomicBool::new(false);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while !stop.load(Relaxed) {
                        let block = black_box(vec![1u8; 4096]);
                        spin(300);
                        drop(block);
                        spin(300);
                    }
                });
            }
            let deadline = Instant::now() + Duration::from_secs(2);
            let (mut spans, mut bad) = (0u64, Vec::new());
            while Instant::now() < deadline && bad.len() < 5 {
                let ((), s) = dhat_kit::measure_all(|| spin(200));
                spans += 1;
                if s.curr_bytes > s.total_bytes
                    || s.curr_blocks > s.total_blocks
                    || s.curr_bytes > s.max_bytes
                {
                    bad.push(format!("span {spans}: {s:?}"));
                }
            }
            stop.store(true, Relaxed);
            eprintln!("{spans} inner spans");
            bad
        })
    });
    assert!(bad.is_empty(), "inconsistent inner spans: {bad:#?}");
}

/// A worker (started in an outer span) allocates a 64 KiB block while a span runs and holds it
/// past its end, while the span's work runs short nested spans of its own (a library that
/// measures its steps). The block is live at the span's end, so it is in the span's peak: the
/// nested spans' beginnings and ends never lower a peak another thread raised meanwhile.
#[test]
fn a_block_another_thread_allocates_while_nested_spans_begin_and_end_is_in_the_peak() {
    use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
    const BLOCK: usize = 64 * 1024;
    const IDLE: u32 = 0;
    const ALLOCATE: u32 = 1;
    const HOLDING: u32 = 2;
    const FREE: u32 = 3;
    const STOP: u32 = 4;
    let (lost, _) = dhat_kit::measure_all(|| {
        let state = AtomicU32::new(IDLE);
        // Every wait ends at STOP too, so that a failed check cannot leave the worker waiting.
        let wait_for = |want: u32| {
            while ![want, STOP].contains(&state.load(SeqCst)) {
                thread::yield_now();
            }
        };
        struct Stop<'a>(&'a AtomicU32);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(STOP, SeqCst);
            }
        }
        thread::scope(|s| {
            s.spawn(|| loop {
                match state.load(SeqCst) {
                    STOP => break,
                    ALLOCATE => {
                        let block = black_box(vec![1u8; BLOCK]);
                        state.store(HOLDING, SeqCst);
                        wait_for(FREE);
                        drop(block);
                        state.store(IDLE, SeqCst);
                    }
                    _ => thread::yield_now(),
                }
            });
            let _stop = Stop(&state);
            let mut lost = Vec::new();
            for run in 0..500 {
                let ((), s) = dhat_kit::measure_all(|| {
                    state.store(ALLOCATE, SeqCst);
                    while state.load(SeqCst) != HOLDING {
                        let _ = dhat_kit::measure_all(|| spin(50));
                    }
                });
                // (The first run may also see the worker free what std allocated to start it.)
                assert!(s.curr_bytes >= BLOCK as u64 - 1024, "run {run}: {s:?}");
                if s.max_bytes < s.curr_bytes {
                    lost.push(format!("run {run}: {s:?}"));
                }
                state.store(FREE, SeqCst);
                wait_for(IDLE);
                if lost.len() == 5 {
                    break;
                }
            }
            lost
        })
    });
    assert!(
        lost.is_empty(),
        "the peak lost a block live at the span's end: {lost:#?}"
    );
}

/// A `measure_all` whose closure forks goes on in the child, on the forking thread, and ends
/// there with the child's figures: the threads listed at its start are the parent's, none of
/// which runs in the child. The child's was refused: "1 other thread of this process ran
/// meanwhile", naming a thread of the parent's that the child has not got.
///
/// Not under `heap`: there dhat's allocator keeps a global lock that a fork may leave held.
#[cfg(all(target_os = "linux", not(feature = "heap")))]
#[test]
fn a_measure_all_carried_into_a_forked_child_ends_there() {
    let text = child_passes("child_a_measure_all_that_forks");
    assert!(
        text.contains("the child's measurement: 64 bytes in 1 block"),
        "{text}"
    );
}

#[cfg(all(target_os = "linux", not(feature = "heap")))]
#[test]
#[ignore = "run by a_measure_all_carried_into_a_forked_child_ends_there"]
fn child_a_measure_all_that_forks() {
    // A thread of the parent's, idle throughout, which the child has not got.
    let (stop, stopped) = mpsc::channel::<()>();
    let idle = thread::spawn(move || stopped.recv());
    let parent = std::process::id();
    let outcome = std::panic::catch_unwind(|| {
        dhat_kit::measure_all(|| {
            // SAFETY: the child ends the measurement, then leaves through `_exit` below,
            // running nothing else of the parent's.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                drop(black_box(vec![0u8; 64]));
            }
            pid
        })
    });
    if std::process::id() != parent {
        let exact = matches!(&outcome, Ok((0, s)) if (s.total_bytes, s.total_blocks) == (64, 1));
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(if exact { 0 } else { 1 }) }
    }
    let (pid, _) = outcome.expect("the parent's measurement");
    assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
    let status = common::wait_at_most_30_s(pid);
    stop.send(()).unwrap();
    idle.join().unwrap().unwrap();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child's measurement was refused or not exact (status {status})"
    );
    eprintln!("the child's measurement: 64 bytes in 1 block");
}

/// A child forked while other threads hold work they have not published (each below a batch,
/// idle at the fork) reads the process's figures as its parent read them at the fork: those
/// threads' memory is in the child as the fork left it. It kept only what they had published
/// (totals 117,000 bytes lower, live figures higher), and a profiling session ended in the child
/// read its totals since its start as 16 EiB.
#[cfg(all(target_os = "linux", not(feature = "heap")))]
#[test]
fn a_forked_child_keeps_the_unpublished_work_of_threads_it_has_not_got() {
    child_passes("child_forks_beside_threads_with_unpublished_work");
}

#[cfg(all(target_os = "linux", not(feature = "heap")))]
#[test]
#[ignore = "run by a_forked_child_keeps_the_unpublished_work_of_threads_it_has_not_got"]
fn child_forks_beside_threads_with_unpublished_work() {
    let ready = Arc::new(Barrier::new(4));
    // The workers wait for the end on a barrier, which allocates nothing: a channel's first
    // blocking `recv` allocates its waiter, which raced with the fork and made the child's
    // figures another reading's.
    let stop = Arc::new(Barrier::new(4));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (ready, stop) = (Arc::clone(&ready), Arc::clone(&stop));
            thread::spawn(move || {
                // 60 blocks, half kept: well below a batch, so none of it is published.
                let kept: Vec<Vec<u8>> = (0..60)
                    .map(|i| black_box(vec![0u8; 500 + i]))
                    .filter(|v| v.len() % 2 == 0)
                    .collect();
                ready.wait();
                stop.wait();
                drop(kept);
            })
        })
        .collect();
    ready.wait();
    let _ = dhat_kit::process_stats();
    let before = dhat_kit::process_stats();
    // SAFETY: the child reads the figures and leaves through `_exit`, running nothing else of
    // the parent's; the parent waits for it.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let now = dhat_kit::process_stats();
        let same = (
            now.total_bytes,
            now.total_blocks,
            now.curr_bytes,
            now.curr_blocks,
        ) == (
            before.total_bytes,
            before.total_blocks,
            before.curr_bytes,
            before.curr_blocks,
        );
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(if same { 0 } else { 1 }) }
    }
    assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
    let status = common::wait_at_most_30_s(pid);
    stop.wait();
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the child's process figures were not the parent's at the fork (status {status}; \
         before: {before})"
    );
}
