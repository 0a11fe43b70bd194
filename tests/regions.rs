//! Regions as a user writes them, with known allocation sizes: exact inclusive and self figures,
//! recursion, threads, and handing a region to a worker.
//!
//! Tests here run in parallel and share the process's registry, so each uses its own region names.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

mod common;
use common::{region as get, stats};

use dhat_kit::{region, regions, Region};
use std::hint::black_box;

fn leaf() {
    region!("leaf");
    black_box(vec![0u8; 100]);
}

#[test]
fn nested_regions_have_exact_inclusive_and_self_figures() {
    {
        region!("outer");
        let keep = black_box(vec![0u8; 1000]);
        leaf();
        leaf();
        {
            region!("mid");
            let v = black_box(vec![0u8; 50]);
            leaf();
            drop(v);
        }
        drop(keep);
    }
    let leaf1 = get("outer/leaf");
    assert_eq!(
        (leaf1.entries, leaf1.depth, leaf1.name.as_str()),
        (2, 1, "leaf")
    );
    assert_eq!(leaf1.inclusive, stats((200, 2), (100, 1), (0, 0)));
    assert_eq!(leaf1.self_stats, leaf1.inclusive);

    let leaf2 = get("outer/mid/leaf");
    assert_eq!((leaf2.entries, leaf2.depth), (1, 2));
    assert_eq!(leaf2.inclusive, stats((100, 1), (100, 1), (0, 0)));

    let mid = get("outer/mid");
    assert_eq!(mid.entries, 1);
    assert_eq!(mid.inclusive, stats((150, 2), (150, 2), (0, 0)));
    // Self figures leave the children's allocations out; the peak is the entry's, children included.
    assert_eq!(mid.self_stats, stats((50, 1), (150, 2), (0, 0)));

    let outer = get("outer");
    assert_eq!((outer.entries, outer.depth), (1, 0));
    assert_eq!(outer.inclusive, stats((1350, 5), (1150, 3), (0, 0)));
    assert_eq!(outer.self_stats, stats((1000, 1), (1150, 3), (0, 0)));
}

#[test]
fn live_figures_count_what_a_region_keeps() {
    let kept = {
        region!("keeper");
        let a = black_box(vec![0u8; 64]);
        let b = black_box(vec![0u8; 36]);
        drop(a);
        b
    };
    assert_eq!(get("keeper").inclusive, stats((100, 2), (100, 2), (36, 1)));
    drop(kept);
}

fn recurse(n: u32) {
    region!("recurse");
    let v = black_box(vec![0u8; 10]);
    if n > 0 {
        recurse(n - 1);
    }
    drop(v);
}

#[test]
fn recursion_collapses_into_one_path() {
    recurse(3);
    let r = get("recurse");
    assert_eq!(r.entries, 4);
    assert_eq!(r.inclusive, stats((40, 4), (40, 4), (0, 0)));
    assert!(regions().iter().all(|r| !r.path.contains("recurse/")));
}

#[test]
fn recursion_is_by_name_whatever_string_spells_it_and_however_often() {
    // The same name from a literal and from a string of its own (another address): recursion
    // either way, on the first entry and on every later one (after the first, the cache of the
    // child entered last answers).
    let spelled: &'static str = Box::leak(String::from("recurse-by-name").into_boxed_str());
    assert_ne!(spelled.as_ptr(), "recurse-by-name".as_ptr());
    {
        region!("recurse-by-name");
        for _ in 0..3 {
            let _again = Region::enter(spelled);
            black_box(vec![0u8; 7]);
        }
        {
            region!("recurse-by-name-child");
            let _again = Region::enter(spelled);
            black_box(vec![0u8; 5]);
        }
    }
    let r = get("recurse-by-name");
    assert_eq!(r.entries, 5, "one entry and four recursive ones");
    assert_eq!(r.inclusive, stats((26, 4), (7, 1), (0, 0)));
    assert_eq!(r.self_stats, stats((21, 3), (7, 1), (0, 0)));
    let child = get("recurse-by-name/recurse-by-name-child");
    assert_eq!(child.entries, 1);
    assert_eq!(child.inclusive, stats((5, 1), (5, 1), (0, 0)));
    assert!(regions()
        .iter()
        .all(|r| !r.path.contains("recurse-by-name-child/")));
}

#[test]
fn explicit_guards_and_a_measurement_inside_a_region() {
    let outer = Region::enter("explicit");
    let ((), inner) = dhat_kit::measure(|| {
        let _r = Region::enter("explicit-child");
        black_box(vec![0u8; 7]);
    });
    drop(outer);
    assert_eq!(inner, stats((7, 1), (7, 1), (0, 0)));
    assert_eq!(get("explicit").inclusive, stats((7, 1), (7, 1), (0, 0)));
    assert_eq!(
        get("explicit/explicit-child").inclusive,
        stats((7, 1), (7, 1), (0, 0))
    );
}

#[test]
fn a_guard_dropped_early_closes_the_regions_inside_it() {
    let outer = Region::enter("early");
    let inner = Region::enter("late");
    black_box(vec![0u8; 5]);
    drop(outer); // out of order: "early/late" ends here too
    black_box(vec![0u8; 3]);
    drop(inner); // already closed: nothing more
    assert_eq!(get("early/late").inclusive.total_bytes, 5);
    assert_eq!(get("early").inclusive.total_bytes, 5);
}

/// An entry still open when its thread ends (its guard leaked, or kept in a thread-local
/// destroyed after the kit's) ends with the thread: it was lost, entry and figures.
#[test]
fn an_entry_open_when_its_thread_ends_is_counted() {
    std::thread::spawn(|| {
        let outer = Region::enter("leaked");
        let inner = Region::enter("leaked-inner");
        black_box(vec![0u8; 1000]);
        std::mem::forget((outer, inner));
        drop(black_box(vec![0u8; 24]));
    })
    .join()
    .unwrap();
    let (outer, inner) = (get("leaked"), get("leaked/leaked-inner"));
    assert_eq!((outer.entries, inner.entries), (1, 1));
    // The inner entry is the innermost to the end: it has both blocks.
    assert_eq!(
        (outer.inclusive.total_bytes, outer.self_stats.total_bytes),
        (1024, 0)
    );
    assert_eq!(inner.inclusive.total_bytes, 1024);

    thread_local! {
        static HELD: std::cell::RefCell<Option<Region>> = const { std::cell::RefCell::new(None) };
    }
    std::thread::spawn(|| {
        // This thread-local is destroyed after the kit's, which registers at the first entry.
        HELD.with(|h| drop(h.borrow_mut().take()));
        let guard = Region::enter("held");
        black_box(vec![0u8; 700]);
        HELD.with(|h| *h.borrow_mut() = Some(guard));
    })
    .join()
    .unwrap();
    let held = get("held");
    assert_eq!((held.entries, held.inclusive.total_bytes), (1, 700));
}

/// A guard entered inside a measurement and returned from it (a value holding a region for its
/// lifetime): the measurement read the frame's peak, not its own, and put back the thread's
/// earlier peak, which the region then read as its own (1 MiB, where it allocated 100 bytes).
#[test]
fn a_guard_returned_from_a_measurement_leaves_both_exact() {
    let (_, outer) = dhat_kit::measure(|| {
        drop(black_box(vec![0u8; 1 << 20]));
        let (guard, inner) = dhat_kit::measure(|| {
            drop(black_box(vec![0u8; 300]));
            let guard = Region::enter("returned");
            drop(black_box(vec![0u8; 50]));
            guard
        });
        assert_eq!((inner.max_bytes, inner.total_bytes), (300, 350));
        drop(black_box(vec![0u8; 100]));
        drop(guard);
        drop(black_box(vec![0u8; 10]));
    });
    // The peak before the inner measurement is still the outer one's.
    assert_eq!(
        (outer.max_bytes, outer.total_bytes),
        (1 << 20, (1 << 20) + 460)
    );
    let returned = get("returned");
    assert_eq!(
        (returned.inclusive.max_bytes, returned.inclusive.total_bytes),
        (100, 150)
    );
}

/// A guard entered before a measurement and dropped inside it (moved into the measured code): the
/// region put the thread's earlier peak back into the measurement's (1 MiB, where it allocated 50
/// bytes at most), and missed its own peak from before the measurement began.
#[test]
fn a_guard_moved_into_a_measurement_leaves_both_exact() {
    let (_, outer) = dhat_kit::measure(|| {
        drop(black_box(vec![0u8; 1 << 20]));
        let guard = Region::enter("moved");
        drop(black_box(vec![0u8; 200]));
        let ((), inner) = dhat_kit::measure(move || {
            drop(black_box(vec![0u8; 50]));
            drop(guard);
            drop(black_box(vec![0u8; 30]));
        });
        assert_eq!((inner.max_bytes, inner.total_bytes), (50, 80));
        drop(black_box(vec![0u8; 10]));
    });
    assert_eq!(
        (outer.max_bytes, outer.total_bytes),
        (1 << 20, (1 << 20) + 290)
    );
    let moved = get("moved");
    assert_eq!(
        (moved.inclusive.max_bytes, moved.inclusive.total_bytes),
        (200, 250)
    );

    // Through two measurements: the region's peak is inside the outer one.
    let guard = Region::enter("moved-twice");
    drop(black_box(vec![0u8; 30]));
    let ((), outer) = dhat_kit::measure(move || {
        drop(black_box(vec![0u8; 70]));
        let ((), inner) = dhat_kit::measure(move || {
            drop(black_box(vec![0u8; 40]));
            drop(guard);
            drop(black_box(vec![0u8; 10]));
        });
        assert_eq!((inner.max_bytes, inner.total_bytes), (40, 50));
        drop(black_box(vec![0u8; 20]));
    });
    assert_eq!((outer.max_bytes, outer.total_bytes), (70, 140));
    let moved = get("moved-twice");
    assert_eq!(
        (moved.inclusive.max_bytes, moved.inclusive.total_bytes),
        (70, 140)
    );
}

/// A guard returned from one measurement and dropped inside the next: the next read the thread's
/// peak from before the first (1 MiB, where it allocated 7 bytes) at one stage of its fix.
#[test]
fn a_guard_returned_from_one_measurement_and_dropped_in_the_next() {
    drop(black_box(vec![0u8; 1 << 20]));
    let (guard, first) = dhat_kit::measure(|| {
        let guard = Region::enter("returned-then-moved");
        drop(black_box(vec![0u8; 40]));
        guard
    });
    let ((), next) = dhat_kit::measure(move || {
        drop(black_box(vec![0u8; 7]));
        drop(guard);
    });
    assert_eq!((first.max_bytes, next.max_bytes), (40, 7));
    let region = get("returned-then-moved");
    assert_eq!(
        (region.inclusive.max_bytes, region.inclusive.total_bytes),
        (40, 47)
    );
}

/// `regions()` read inside a measurement inside an open region: the entry's peak counted from the
/// measurement's start (10 bytes, where it held 1,000 before).
#[test]
fn an_open_entrys_peak_takes_in_what_came_before_a_measurement_inside_it() {
    let _region = Region::enter("open-around-measure");
    drop(black_box(vec![0u8; 1000]));
    let (read, _) = dhat_kit::measure(|| {
        drop(black_box(vec![0u8; 10]));
        regions()
    });
    let open = read.get("open-around-measure").expect("open, so listed");
    assert_eq!(
        (open.inclusive.max_bytes, open.inclusive.total_bytes),
        (1000, 1010)
    );
}

/// Nested regions whose outer guard is moved into a measurement: dropping it there ends both, each
/// under the measurement.
#[test]
fn nested_guards_moved_into_a_measurement_end_under_it() {
    let outer_guard = Region::enter("moved-outer");
    let inner_guard = Region::enter("moved-inner");
    drop(black_box(vec![0u8; 300]));
    let keep = black_box(vec![0u8; 5]);
    let ((), m) = dhat_kit::measure(move || {
        drop(black_box(vec![0u8; 60]));
        drop(outer_guard); // out of order: ends "moved-inner" first
        drop(black_box(vec![0u8; 7]));
    });
    drop(inner_guard); // already ended
    drop(keep);
    assert_eq!((m.max_bytes, m.total_bytes), (60, 67));
    let inner = get("moved-outer/moved-inner");
    assert_eq!(
        (inner.inclusive.max_bytes, inner.inclusive.total_bytes),
        (300, 365)
    );
    let outer = get("moved-outer");
    assert_eq!(
        (outer.inclusive.max_bytes, outer.inclusive.total_bytes),
        (300, 365)
    );
}

#[test]
fn eight_threads_in_the_same_regions_add_up_exactly() {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 1000;
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                for i in 0..ROUNDS {
                    region!("pool");
                    black_box(vec![0u8; 16]);
                    {
                        region!("pool-job");
                        black_box(vec![0u8; 32 + (i % 4) as usize]);
                    }
                }
            });
        }
    });
    let job = get("pool/pool-job");
    assert_eq!(job.entries, THREADS * ROUNDS);
    let job_bytes = THREADS * (0..ROUNDS).map(|i| 32 + i % 4).sum::<u64>();
    assert_eq!(
        job.inclusive,
        stats((job_bytes, THREADS * ROUNDS), (35, 1), (0, 0))
    );
    let pool = get("pool");
    assert_eq!(pool.entries, THREADS * ROUNDS);
    assert_eq!(pool.self_stats.total_bytes, THREADS * ROUNDS * 16);
    assert_eq!(
        pool.inclusive.total_bytes,
        THREADS * ROUNDS * 16 + job_bytes
    );
    assert_eq!(pool.inclusive.total_blocks, 2 * THREADS * ROUNDS);
}

#[test]
fn a_region_handed_to_a_worker_counts_the_workers_allocations() {
    // The handle is taken inside the region; the thread is spawned after it ends, so that the
    // main thread's own spawning allocations stay outside it.
    let here = {
        region!("handoff");
        black_box(vec![0u8; 11]);
        Region::current().expect("inside a region")
    };
    std::thread::spawn(move || {
        let _r = here.enter();
        black_box(vec![0u8; 256]);
        {
            region!("in-worker");
            black_box(vec![0u8; 4]);
        }
    })
    .join()
    .unwrap();
    assert_eq!(get("handoff").entries, 2);
    assert_eq!(get("handoff").inclusive.total_bytes, 11 + 256 + 4);
    assert_eq!(get("handoff/in-worker").inclusive.total_bytes, 4);
    assert!(Region::current().is_none());
}

/// A child region's handle entered on another thread counts in its parents' inclusive totals too,
/// though the worker's stack holds the child alone: a parent includes its children wherever they
/// ran (the child read larger than its parent).
#[test]
fn a_child_entered_on_another_thread_counts_in_its_parents() {
    let outer = Region::enter("handle-parent");
    let child = Region::enter("batch");
    black_box(vec![0u8; 16]);
    let here = Region::current().expect("inside a region");
    std::thread::scope(|s| {
        s.spawn(move || {
            let _r = here.enter();
            black_box(vec![0u8; 10_000]);
        });
    });
    drop(child);
    drop(outer);
    let batch = get("handle-parent/batch");
    let parent = get("handle-parent");
    // The worker's 10,000 bytes, this thread's 16 and the scope's own bookkeeping.
    assert!(batch.self_stats.total_bytes >= 16 + 10_000, "{batch:?}");
    assert_eq!(parent.self_stats.total_bytes, 0);
    assert!(
        parent.inclusive.total_bytes >= batch.inclusive.total_bytes
            && parent.inclusive.total_blocks >= batch.inclusive.total_blocks,
        "{parent:?}\n{batch:?}"
    );
    assert_eq!(
        parent.inclusive.total_bytes,
        parent.self_stats.total_bytes + batch.self_stats.total_bytes
    );
}

/// A pool may run a task on the thread that hands it out (rayon does, for the caller's share): the
/// handle is then entered inside its own region, and counts as recursion, never twice.
#[test]
fn a_handle_entered_inside_its_own_region_counts_the_bytes_once() {
    let outer = Region::enter("pool-caller");
    let here = Region::current().expect("inside a region");
    {
        let _task = here.enter();
        black_box(vec![0u8; 64]);
        {
            region!("pool-task");
            black_box(vec![0u8; 8]);
        }
    }
    black_box(vec![0u8; 2]);
    drop(outer);
    let caller = get("pool-caller");
    assert_eq!(caller.entries, 2);
    assert_eq!(caller.inclusive.total_bytes, 64 + 8 + 2);
    assert_eq!(caller.inclusive.total_blocks, 3);
    assert_eq!(caller.self_stats.total_bytes, 64 + 2);
    assert_eq!(get("pool-caller/pool-task").inclusive.total_bytes, 8);
    assert_eq!(
        regions().iter().filter(|r| r.name == "pool-caller").count(),
        1
    );
}

/// A handle entered on a thread that went on from the handle's region into a sub-region (rayon's
/// caller running its share of the work) is recursion there too: its bytes count once, under
/// the sub-region the thread is in, as the README says.
#[test]
fn a_handle_entered_inside_a_sub_region_of_its_own_counts_there() {
    let outer = Region::enter("pool-hander");
    let here = Region::current().expect("inside a region");
    let sub = Region::enter("went-on");
    {
        let _task = here.enter();
        black_box(vec![0u8; 40]);
    }
    drop(sub);
    drop(outer);
    let hander = get("pool-hander");
    assert_eq!(hander.entries, 2);
    assert_eq!(hander.inclusive.total_bytes, 40);
    assert_eq!(hander.self_stats.total_bytes, 0);
    assert_eq!(get("pool-hander/went-on").self_stats.total_bytes, 40);
}

/// `regions()` inside regions still open on the calling thread: they count as if they ended at
/// the call, and still once, with their final figures, when they do end.
#[test]
fn entries_open_on_the_calling_thread_count_as_if_they_ended_now() {
    let outer = Region::enter("open-outer");
    drop(black_box(vec![0u8; 1000])); // the outer entry's peak: 1,000 bytes in 1 block, freed
    let kept = black_box(vec![0u8; 30]);
    {
        region!("open-done");
        black_box(vec![0u8; 7]);
    }
    let inner = Region::enter("open-inner");
    let inner_kept = black_box(vec![0u8; 10]);
    let before = dhat_kit::thread_stats().total_bytes;
    let r = regions();
    let report_bytes = dhat_kit::thread_stats().total_bytes - before;

    let o = r.get("open-outer").expect("an open region is listed");
    assert_eq!(o.entries, 1);
    assert_eq!(o.inclusive.total_bytes, 1000 + 30 + 7 + 10);
    assert_eq!(o.inclusive.total_blocks, 4);
    assert_eq!((o.inclusive.curr_bytes, o.inclusive.curr_blocks), (40, 2));
    assert_eq!((o.inclusive.max_bytes, o.inclusive.max_blocks), (1000, 1));
    assert_eq!(o.self_stats.total_bytes, 1000 + 30);
    assert_eq!(o.self_stats.total_blocks, 2);
    assert_eq!((o.self_stats.curr_bytes, o.self_stats.curr_blocks), (30, 1));
    assert_eq!(o.self_stats.max_bytes, 1000);
    let i = r.get("open-outer/open-inner").expect("listed");
    assert_eq!(i.entries, 1);
    assert_eq!((i.inclusive.total_bytes, i.inclusive.total_blocks), (10, 1));
    assert_eq!((i.inclusive.curr_bytes, i.inclusive.max_bytes), (10, 10));
    assert_eq!(i.self_stats.total_bytes, 10);
    assert_eq!(
        r.get("open-outer/open-done").unwrap().inclusive.total_bytes,
        7
    );
    drop(r);

    drop(inner_kept);
    drop(inner);
    drop(kept);
    drop(outer);
    let o = get("open-outer");
    assert_eq!(o.entries, 1, "counted once");
    assert_eq!(o.inclusive.total_bytes, 1047 + report_bytes);
    assert_eq!((o.inclusive.curr_bytes, o.inclusive.curr_blocks), (0, 0));
    assert_eq!(get("open-outer/open-inner").entries, 1);
    assert_eq!(
        get("open-outer/open-inner").inclusive.total_bytes,
        10 + report_bytes
    );
}

/// A thread-local whose destructor enters a region: it runs after the thread's region figures
/// were handed to the registry (thread-locals are destroyed in the reverse order of their first
/// use), on a thread whose root-region cache still names the region.
struct EntersOnDrop;

impl Drop for EntersOnDrop {
    fn drop(&mut self) {
        region!("tls-late");
        black_box(vec![0u8; 24]);
    }
}

thread_local! {
    static ENTERS_ON_DROP: EntersOnDrop = const { EntersOnDrop };
}

#[test]
fn a_region_entered_from_a_thread_local_destructor_after_the_hand_over_is_safe() {
    // A panic in a thread-local destructor aborts the process: run the thread in a child.
    if std::env::var_os("DHAT_KIT_TLS_LATE_CHILD").is_some() {
        std::thread::spawn(|| {
            ENTERS_ON_DROP.with(|_| ());
            region!("tls-late");
            black_box(vec![0u8; 24]);
        })
        .join()
        .unwrap();
        // The entry made during the thread's teardown is counted, or passed over, never a crash.
        assert!(get("tls-late").entries >= 1);
        println!("joined");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_region_entered_from_a_thread_local_destructor_after_the_hand_over_is_safe",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("DHAT_KIT_TLS_LATE_CHILD", "1")
        .output()
        .unwrap();
    let text = common::output_text(&out);
    assert!(out.status.success(), "{}: {text}", out.status);
    assert!(text.contains("joined"), "{text}");
}

/// `regions()` read on one thread while another adds entries of 100 bytes in one block (a
/// `region!` and a future's entry, alternately): every read shows whole entries, the figures of
/// `n` entries being `n` times one entry's.
#[test]
fn regions_read_while_another_thread_exits_show_whole_entries() {
    use dhat_kit::InRegionExt;
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};
    let stop = AtomicBool::new(false);
    let torn = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Relaxed) {
                {
                    region!("whole-entries");
                    black_box(vec![0u8; 100]);
                }
                let task = std::pin::pin!(
                    async { black_box(vec![0u8; 100]).len() }.in_region("whole-entries-future")
                );
                let polled = task.poll(&mut Context::from_waker(Waker::noop()));
                assert_eq!(polled, Poll::Ready(100));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut torn = Vec::new();
        while Instant::now() < deadline && torn.len() < 5 {
            let all = regions();
            for name in ["whole-entries", "whole-entries-future"] {
                if let Some(r) = all.get(name) {
                    let (i, own) = (&r.inclusive, &r.self_stats);
                    if i.total_bytes != 100 * r.entries
                        || i.total_blocks != r.entries
                        || own.total_bytes != i.total_bytes
                    {
                        torn.push(format!("{r:?}"));
                    }
                }
            }
        }
        stop.store(true, Relaxed);
        torn
    });
    assert!(torn.is_empty(), "{torn:#?}");
}

/// A parent's inclusive figures take in both a region of another path entered inside it (from a
/// handle) and a child path entered on another thread: each was lost when the other was there
/// (the parent read the larger of what its own entries measured and what its child paths did).
#[test]
fn a_parent_counts_a_foreign_region_inside_it_and_a_child_on_another_thread() {
    let job = {
        region!("apart-job");
        Region::current().expect("inside a region")
    };
    let parse;
    {
        region!("apart-server");
        {
            region!("apart-parse");
            parse = Region::current().expect("inside a region");
        }
        {
            let _job = job.enter();
            black_box(vec![0u8; 1000]);
        }
        black_box(vec![0u8; 100]);
    }
    std::thread::spawn(move || {
        let _parse = parse.enter();
        black_box(vec![0u8; 10_000]);
    })
    .join()
    .unwrap();
    let server = get("apart-server");
    assert_eq!(server.entries, 1);
    assert_eq!(
        (server.inclusive.total_bytes, server.inclusive.total_blocks),
        (100 + 1000 + 10_000, 3),
        "{server:?}"
    );
    assert_eq!(
        (
            server.self_stats.total_bytes,
            server.self_stats.total_blocks
        ),
        (100, 1)
    );
    let job = get("apart-job");
    assert_eq!((job.entries, job.inclusive.total_bytes), (2, 1000));
    let parse = get("apart-server/apart-parse");
    assert_eq!((parse.entries, parse.inclusive.total_bytes), (2, 10_000));
}

/// A child path entered on another thread apart from some of its ancestors (a worker inside the
/// outermost, entering a handle of the innermost): only the ancestors not open there take its
/// bytes in; the one open there measured them itself.
#[test]
fn a_child_entered_apart_from_some_ancestors_counts_in_each_once() {
    let inner;
    {
        region!("partly-a");
        region!("partly-b");
        region!("partly-c");
        inner = Region::current().expect("inside a region");
    }
    std::thread::spawn(move || {
        region!("partly-a");
        black_box(vec![0u8; 10]);
        let _c = inner.enter();
        black_box(vec![0u8; 1000]);
    })
    .join()
    .unwrap();
    let total = |path| {
        let r = get(path);
        (r.inclusive.total_bytes, r.inclusive.total_blocks)
    };
    assert_eq!(total("partly-a"), (1010, 2));
    assert_eq!(total("partly-a/partly-b"), (1000, 1));
    assert_eq!(total("partly-a/partly-b/partly-c"), (1000, 1));
}

/// `regions()` read while another thread is inside a parent and its child: the parent's figures
/// are its ended entries', whole, without the child entries of the one still open (they were in,
/// through the child path's totals: 201 bytes for one entry of 101).
#[test]
fn a_parent_open_on_another_thread_shows_none_of_its_open_entry() {
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::time::{Duration, Instant};
    let stop = AtomicBool::new(false);
    let torn = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Relaxed) {
                region!("open-parent");
                {
                    region!("open-child");
                    black_box(vec![0u8; 100]);
                }
                black_box(vec![0u8; 1]);
            }
        });
        let deadline = Instant::now() + Duration::from_millis(500);
        let mut torn = Vec::new();
        while Instant::now() < deadline && torn.len() < 5 {
            if let Some(p) = regions().get("open-parent") {
                let i = &p.inclusive;
                if i.total_bytes != 101 * p.entries || i.total_blocks != 2 * p.entries {
                    torn.push(format!("{p:?}"));
                }
            }
        }
        stop.store(true, Relaxed);
        torn
    });
    assert!(torn.is_empty(), "{torn:#?}");
}

/// The same with futures: one of another path polled inside the parent, and one of the parent's
/// child path polled on another thread, outside any region.
#[test]
fn a_parent_counts_a_foreign_future_inside_it_and_a_child_future_polled_elsewhere() {
    use dhat_kit::InRegionExt;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    fn poll_once<F: Future<Output = usize>>(f: F) {
        let polled = std::pin::pin!(f).poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(polled, Poll::Ready(_)));
    }
    let db = async { black_box(vec![0u8; 50]).len() }.in_region("futures-apart-db");
    let handle;
    {
        region!("futures-apart-server");
        black_box(vec![0u8; 5]);
        poll_once(db);
        handle = async { black_box(vec![0u8; 500]).len() }.in_region("futures-apart-handle");
    }
    std::thread::spawn(move || poll_once(handle))
        .join()
        .unwrap();
    let server = get("futures-apart-server");
    assert_eq!(
        (server.inclusive.total_bytes, server.inclusive.total_blocks),
        (5 + 50 + 500, 3),
        "{server:?}"
    );
    assert_eq!(server.self_stats.total_bytes, 5);
    let handle = get("futures-apart-server/futures-apart-handle");
    assert_eq!((handle.entries, handle.inclusive.total_bytes), (1, 500));
}

/// A worker inside a handle's path apart from its ancestors, entering the handle of one of those
/// ancestors or of a sibling path, counts each byte once in every path it is inside: both
/// frames added it to the ancestors neither opened (`a/b` read 2,000 bytes for one block of
/// 1,000, and `a` 2,000 for a sibling's).
#[test]
fn a_relatives_handle_entered_inside_a_detached_frame_counts_once() {
    let (ab, abc, ax) = {
        region!("relative-a");
        let ab = {
            region!("relative-b");
            Region::current().expect("inside a region")
        };
        let abc = {
            region!("relative-b");
            region!("relative-c");
            Region::current().expect("inside a region")
        };
        let ax = {
            region!("relative-x");
            Region::current().expect("inside a region")
        };
        (ab, abc, ax)
    };
    std::thread::spawn(move || {
        {
            // An ancestor's handle inside a descendant's: recursion, as inside its own frame.
            let _c = abc.enter();
            let _b = ab.enter();
            black_box(vec![0u8; 1000]);
        }
        // A sibling's handle inside another's.
        let _b = ab.enter();
        let _x = ax.enter();
        black_box(vec![0u8; 100]);
    })
    .join()
    .unwrap();
    let total = |path| {
        let r = get(path);
        (r.entries, r.inclusive.total_bytes, r.inclusive.total_blocks)
    };
    // Entries: this thread's (`relative-b` twice), then the worker's.
    assert_eq!(total("relative-a"), (1, 1100, 2));
    assert_eq!(total("relative-a/relative-b"), (2 + 2, 1100, 2));
    assert_eq!(total("relative-a/relative-b/relative-c"), (1 + 1, 1000, 1));
    assert_eq!(total("relative-a/relative-x"), (1 + 1, 100, 1));
    let own: u64 = regions()
        .iter()
        .filter(|r| r.path.starts_with("relative-a"))
        .map(|r| r.self_stats.total_bytes)
        .sum();
    assert_eq!(own, 1100);
}

/// A future of a parent path (`in_current_region`, made in `server`) awaited inside a future of
/// its child path polled on another thread: the child's poll is inside the parent there, so the
/// parent's future's poll is recursion and the bytes count once in each (`server` read 2,010
/// bytes for 1,010, its share 199%).
#[test]
fn a_parents_future_awaited_in_a_childs_polled_elsewhere_counts_once() {
    use dhat_kit::InRegionExt;
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let task = {
        region!("relative-server");
        let part = async {
            black_box(vec![0u8; 1000]);
        }
        .in_current_region();
        async move {
            black_box(vec![0u8; 10]);
            part.await;
        }
        .in_region("relative-conn")
    };
    std::thread::spawn(move || {
        let polled = std::pin::pin!(task).poll(&mut Context::from_waker(Waker::noop()));
        assert!(matches!(polled, Poll::Ready(())));
    })
    .join()
    .unwrap();
    let server = get("relative-server");
    assert_eq!(
        (server.inclusive.total_bytes, server.inclusive.total_blocks),
        (1010, 2),
        "{server:?}"
    );
    let conn = get("relative-server/relative-conn");
    assert_eq!(
        (
            conn.entries,
            conn.inclusive.total_bytes,
            conn.self_stats.total_bytes
        ),
        (1, 1010, 1010)
    );
}
