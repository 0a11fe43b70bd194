//! `measure`, `thread_stats` and `process_stats` as a user calls them, with known sizes.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

mod common;
use common::stats;

use dhat_kit::measure;
use std::alloc::{alloc, alloc_zeroed, dealloc, realloc, Layout};
use std::hint::black_box;

#[test]
fn the_allocator_is_installed() {
    assert!(dhat_kit::is_installed());
    // Once it has said yes, asking again allocates nothing: a measurement around a budget (which
    // asks) sees only the budget's work.
    let (installed, stats) = dhat_kit::measure(dhat_kit::is_installed);
    assert!(installed);
    assert_eq!((stats.total_bytes, stats.total_blocks), (0, 0), "{stats:?}");
}

#[test]
fn alloc_free_and_zeroed_blocks_count_exactly() {
    let ((), s) = measure(|| {
        let a = black_box(vec![1u8; 100]);
        let b = black_box(vec![0u64; 50]); // alloc_zeroed, 400 bytes
        drop(a);
        let c = black_box(Box::new([3u32; 10])); // 40 bytes
        drop(b);
        drop(c);
    });
    assert_eq!(s, stats((540, 3), (500, 2), (0, 0)));
}

#[test]
fn a_realloc_is_one_new_block_of_the_new_size() {
    let layout = Layout::from_size_align(100, 8).unwrap();
    let ((), s) = measure(|| {
        // SAFETY: non-zero sizes; each block is freed once with the layout it has.
        unsafe {
            let p = alloc(layout);
            let p = realloc(p, layout, 300); // grows: +200 live
            let p = realloc(p, Layout::from_size_align(300, 8).unwrap(), 50); // shrinks
            dealloc(p, Layout::from_size_align(50, 8).unwrap());
        }
    });
    assert_eq!(s, stats((450, 3), (300, 1), (0, 0)));
}

#[test]
fn the_peak_is_measured_above_the_live_heap_at_entry() {
    let held = black_box(vec![0u8; 10_000]);
    let ((), s) = measure(|| {
        let v = black_box(vec![0u8; 64]);
        drop(v);
    });
    assert_eq!(s, stats((64, 1), (64, 1), (0, 0)));
    drop(held);
}

#[test]
fn the_peak_keeps_the_blocks_of_the_latest_equal_peak() {
    let ((), s) = measure(|| {
        let a = black_box(vec![0u8; 100]);
        drop(a);
        let b = black_box(vec![0u8; 60]);
        let c = black_box(vec![0u8; 40]); // 100 bytes again, now in 2 blocks
        drop((b, c));
    });
    assert_eq!(s, stats((200, 3), (100, 2), (0, 0)));
}

#[test]
fn nested_measurements_each_give_exact_figures() {
    let ((inner1, inner2), outer) = measure(|| {
        let a = black_box(vec![0u8; 1000]);
        let ((), inner1) = measure(|| {
            let b = black_box(vec![0u8; 200]);
            let ((), _) = measure(|| drop(black_box(vec![0u8; 5000])));
            drop(b);
        });
        drop(a);
        let (kept, inner2) = measure(|| black_box(vec![0u8; 30]));
        drop(kept);
        (inner1, inner2)
    });
    assert_eq!(inner1, stats((5200, 2), (5200, 2), (0, 0)));
    assert_eq!(inner2, stats((30, 1), (30, 1), (30, 1)));
    // The outer peak is the inner one seen from outside: 1000 + 200 + 5000 live at once.
    assert_eq!(outer, stats((6230, 4), (6200, 3), (0, 0)));
}

#[test]
fn a_panic_inside_a_measurement_restores_the_outer_peak() {
    let ((), outer) = measure(|| {
        let big = black_box(vec![0u8; 4096]);
        drop(big);
        // `resume_unwind` unwinds without the panic hook, whose report would allocate.
        let r = std::panic::catch_unwind(|| {
            measure(|| {
                let _small = black_box(vec![0u8; 8]);
                std::panic::resume_unwind(Box::new(()));
            })
        });
        assert!(r.is_err());
    });
    assert_eq!(outer.max_bytes, 4096, "{outer:?}");
}

#[test]
fn thread_stats_sees_the_threads_peak_inside_a_measurement() {
    std::thread::spawn(|| {
        let big = black_box(vec![0u8; 1 << 20]);
        drop(big);
        let ((), _) = measure(|| {
            // The thread's peak is the 1 MiB block's (less the few bytes the new thread freed for
            // its spawner), not the measurement's own peak of 0.
            let t = dhat_kit::thread_stats();
            assert!(t.max_bytes > 1_000_000, "{t:?}");
        });
    })
    .join()
    .unwrap();
}

#[test]
fn the_threads_peak_is_exact_inside_nested_measurements_and_after_them() {
    std::thread::spawn(|| {
        let keep = black_box(vec![0u8; 1000]);
        // The live bytes now (the new thread's own bookkeeping included), `keep` among them.
        let live = dhat_kit::thread_stats().curr_bytes;
        let ((), _) = measure(|| {
            drop(black_box(vec![0u8; 1 << 20]));
            let ((), inner) = measure(|| {
                drop(black_box(vec![0u8; 1 << 19]));
                assert_eq!(dhat_kit::thread_stats().max_bytes, live + (1 << 20));
            });
            assert_eq!(inner.max_bytes, 1 << 19);
            assert_eq!(dhat_kit::thread_stats().max_bytes, live + (1 << 20));
        });
        let first = dhat_kit::thread_stats();
        assert_eq!(first.max_bytes, live + (1 << 20));
        // A higher peak inside a later measurement is the thread's new peak, there and after,
        // with the same live blocks (`keep` and the one big block).
        let ((), _) = measure(|| {
            drop(black_box(vec![0u8; 1 << 21]));
            let t = dhat_kit::thread_stats();
            assert_eq!(
                (t.max_bytes, t.max_blocks),
                (live + (1 << 21), first.max_blocks)
            );
        });
        assert_eq!(dhat_kit::thread_stats().max_bytes, live + (1 << 21));
        drop(keep);
    })
    .join()
    .unwrap();
}

#[test]
fn other_threads_allocations_are_not_measured() {
    let ((), s) = measure(|| {
        std::thread::scope(|scope| {
            scope.spawn(|| drop(black_box(vec![0u8; 1 << 20])));
        });
    });
    assert!(s.max_bytes < 1 << 20, "{s:?}");
}

#[test]
fn process_stats_include_this_threads_latest_allocations() {
    let before = dhat_kit::process_stats();
    let v = black_box(vec![0u8; 12_345]);
    let after = dhat_kit::process_stats();
    assert!(after.total_bytes - before.total_bytes >= 12_345);
    assert!(after.max_bytes >= 12_345);
    drop(v);
}

#[test]
fn zeroed_allocation_through_the_raw_api() {
    let layout = Layout::from_size_align(256, 16).unwrap();
    let ((), s) = measure(|| {
        // SAFETY: non-zero size; freed once with its layout.
        unsafe { dealloc(alloc_zeroed(layout), layout) };
    });
    assert_eq!(s, stats((256, 1), (256, 1), (0, 0)));
}

#[test]
fn stats_display_in_human_units() {
    let s = stats((1_258_291, 3401), (512 * 1024, 12), (0, 0));
    assert_eq!(
        s.to_string(),
        "1.2 MiB in 3,401 blocks (peak 512.0 KiB in 12 blocks, live at end 0 B in 0 blocks)"
    );
}

#[test]
fn stats_serialise_with_dhats_field_names() {
    let s = stats((10, 1), (10, 1), (0, 0));
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        r#"{"total_bytes":10,"total_blocks":1,"max_bytes":10,"max_blocks":1,"curr_bytes":0,"curr_blocks":0}"#
    );
}

#[test]
fn allocations_in_thread_teardown_pass_through() {
    struct AllocatesOnDrop;
    impl Drop for AllocatesOnDrop {
        fn drop(&mut self) {
            let v = black_box(vec![1u8; 4096]);
            assert_eq!(v.len(), 4096);
        }
    }
    thread_local! {
        static LATE: AllocatesOnDrop = const { AllocatesOnDrop };
    }
    // The destructor runs as the thread ends, after its other thread-locals: an allocator that
    // crashed or aborted there would take this test binary down with it.
    for _ in 0..4 {
        std::thread::spawn(|| LATE.with(|_| ())).join().unwrap();
    }
}

/// The fork hooks' bookkeeping (the guards they hold across a fork) is uncounted when it is made
/// and when it goes: a fork leaves the forking thread's live figures as they were, in the parent
/// and in the child. Counted when it went, each fork lowered them (100 bytes kept in a
/// measurement read 27 bytes in 0 blocks).
#[test]
#[cfg(unix)]
fn a_fork_leaves_the_live_figures_as_they_were() {
    let ((), stats) = measure(|| {
        std::mem::forget(black_box(Box::new([0u8; 100])));
        for _ in 0..3 {
            let before = dhat_kit::thread_stats();
            // SAFETY: the child reads its figures and leaves through `_exit`, running nothing of
            // the parent's; the parent waits for it.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                let now = dhat_kit::thread_stats();
                let same =
                    (now.curr_bytes, now.curr_blocks) == (before.curr_bytes, before.curr_blocks);
                // SAFETY: ends the child at once.
                unsafe { libc::_exit(if same { 0 } else { 1 }) }
            }
            assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
            let status = common::wait_at_most_30_s(pid);
            assert!(
                libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
                "the child's figures moved at the fork (status {status})"
            );
            let now = dhat_kit::thread_stats();
            assert_eq!(
                (now.curr_bytes, now.curr_blocks),
                (before.curr_bytes, before.curr_blocks),
                "the parent's figures moved at the fork"
            );
        }
    });
    assert_eq!((stats.curr_bytes, stats.curr_blocks), (100, 1));
}

/// Under `heap`, a child forked while other threads allocate is not held inside `fork` by the
/// kit's hooks: they let go of what they held across the fork without freeing it, since every free
/// goes through dhat's allocator, which takes dhat's global lock for it, and another thread may
/// have held that at the fork. 8 or 9 children of 10 waited for good, even one that only called
/// `_exit` (or `exec`, as `Command::spawn` with a `pre_exec` does): the wait was in `fork` itself.
#[test]
#[cfg(all(unix, feature = "heap"))]
fn a_child_forked_while_other_threads_allocate_is_not_held_in_fork() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    black_box(vec![0u8; 64]);
                }
            });
        }
        // The threads stop whatever the forks did (a failed wait panics).
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Relaxed);
            }
        }
        let _stop = Stop(&stop);
        for _ in 0..10 {
            // SAFETY: the child leaves through `_exit` at once, running nothing of the parent's;
            // the parent waits for it.
            let pid = unsafe { libc::fork() };
            if pid == 0 {
                // SAFETY: ends the child at once.
                unsafe { libc::_exit(0) }
            }
            assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
            let status = common::wait_at_most_30_s(pid);
            assert!(libc::WIFEXITED(status), "status {status}");
        }
    });
}
