//! `#[assert_heap]` as a user writes it: tight budgets (every figure derived from the exact sizes
//! allocated) on many tests running in parallel, and the report of a test over its budget.
//!
//! Sizes follow from std's documented behaviour: `vec![x; n]` and `Vec::with_capacity(n)` allocate
//! exactly `n` elements in one block; a growing `Vec` starts at capacity 8 (1-byte elements) or 4
//! (up to 1 KiB) and doubles, each growth a `realloc`, which counts as one new block of the new
//! size; `Box::new(x)` allocates `size_of_val(&x)` bytes (nothing for a zero-sized value).
//! Everything goes through `black_box`, so no allocation is optimised away.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

use dhat_kit::assert_heap;
use std::collections::VecDeque;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;

const MIB: usize = 1 << 20;
const FOUR_MIB: u64 = 4 << 20;

#[test]
fn the_allocator_is_installed() {
    assert!(dhat_kit::is_installed());
}

#[test]
#[assert_heap(
    total_bytes = 1000,
    total_blocks = 1,
    max_bytes = 1000,
    max_blocks = 1,
    curr_bytes = 0,
    curr_blocks = 0
)]
fn one_kilobyte_vector() {
    let v = black_box(vec![0u8; 1000]);
    assert_eq!(v.len(), 1000);
}

#[test]
#[assert_heap(total_bytes = 4 * 1024 * 1024, total_blocks = 1, max_bytes = FOUR_MIB, curr_bytes = 0)]
fn four_megabytes() {
    let v = black_box(vec![1u8; 4 * MIB]);
    assert_eq!(v[4 * MIB - 1], 1);
}

#[test]
#[assert_heap(total_bytes = MIB, max_bytes = MIB, max_blocks = 1, curr_blocks = 0)]
fn one_megabyte_of_u64() {
    let v = black_box(vec![7u64; MIB / 8]);
    assert_eq!(v.len() * 8, MIB);
}

#[test]
#[assert_heap(total_bytes = 10 * MIB, total_blocks = 1, max_bytes = 10 * MIB, curr_bytes = 0)]
fn ten_megabytes_zeroed() {
    let v = black_box(vec![0u32; 10 * MIB / 4]);
    assert!(v.iter().take(16).all(|&x| x == 0));
}

#[test]
#[assert_heap(total_bytes = 8, total_blocks = 1, max_bytes = 8, curr_bytes = 0)]
fn a_boxed_u64() {
    let b = black_box(Box::new(42u64));
    assert_eq!(*b, 42);
}

#[test]
#[assert_heap(total_bytes = 11, total_blocks = 1, max_bytes = 11, curr_blocks = 0)]
fn a_short_string() {
    let s = black_box(String::from("hello, heap"));
    assert_eq!(s.len(), 11);
}

#[test]
// Capacities 4, 8, 16 of 8 bytes: 32 + 64 + 128 bytes, one allocation and two reallocations.
#[assert_heap(
    total_bytes = 224,
    total_blocks = 3,
    max_bytes = 128,
    max_blocks = 1,
    curr_bytes = 0
)]
fn pushing_sixteen_u64() {
    let mut v = Vec::new();
    for i in 0..16u64 {
        v.push(black_box(i));
    }
    assert_eq!(black_box(v).len(), 16);
}

#[test]
// Capacities 8, 16, 32, 64, 128 of 1 byte.
#[assert_heap(
    total_bytes = 248,
    total_blocks = 5,
    max_bytes = 128,
    max_blocks = 1,
    curr_bytes = 0
)]
fn pushing_a_hundred_bytes() {
    let mut v = Vec::new();
    for i in 0..100u8 {
        v.push(black_box(i));
    }
    assert_eq!(black_box(v).len(), 100);
}

#[test]
// 64 bytes leaked on purpose: live at the end.
#[assert_heap(total_bytes = 64, total_blocks = 1, curr_bytes = 64, curr_blocks = 1)]
fn a_leak_shows_in_curr() {
    let leaked: &'static mut [u8; 64] = Box::leak(black_box(Box::new([0u8; 64])));
    leaked[0] = 1;
}

#[test]
// A Vec of 1,000 boxes: 8,000 bytes for the Vec, 4 bytes for each box; all live at once.
#[assert_heap(
    total_bytes = 12_000,
    total_blocks = 1001,
    max_bytes = 12_000,
    max_blocks = 1001,
    curr_blocks = 0
)]
fn a_thousand_small_boxes() {
    let mut v: Vec<Box<u32>> = Vec::with_capacity(1000);
    for i in 0..1000 {
        v.push(Box::new(black_box(i)));
    }
    assert_eq!(black_box(v).len(), 1000);
}

#[test]
// 3 MiB freed before 1 MiB is allocated: the peak is the 3 MiB.
#[assert_heap(total_bytes = 4 * MIB, total_blocks = 2, max_bytes = 3 * MIB, max_blocks = 1, curr_bytes = 0)]
fn the_peak_is_the_highest_moment() {
    drop(black_box(vec![0u8; 3 * MIB]));
    drop(black_box(vec![0u8; MIB]));
}

#[test]
// Two 2 MiB buffers live at once.
#[assert_heap(total_bytes = FOUR_MIB, total_blocks = 2, max_bytes = FOUR_MIB, max_blocks = 2)]
fn two_buffers_at_once() {
    let a = black_box(vec![0u8; 2 * MIB]);
    let b = black_box(vec![0u8; 2 * MIB]);
    assert_eq!(a.len() + b.len(), 4 * MIB);
}

#[test]
// The peak of 1 MiB is reached twice; the latest (two 512 KiB blocks) is kept, as dhat does.
#[assert_heap(total_bytes = 2 * MIB, total_blocks = 3, max_bytes = MIB, max_blocks = 2)]
fn the_latest_of_equal_peaks() {
    drop(black_box(vec![0u8; MIB]));
    let a = black_box(vec![0u8; MIB / 2]);
    let b = black_box(vec![0u8; MIB / 2]);
    drop((a, b));
}

#[test]
// 1,000 bytes, then a realloc down to 1 byte: 1,001 bytes in 2 blocks, a peak of 1,000.
#[assert_heap(
    total_bytes = 1001,
    total_blocks = 2,
    max_bytes = 1000,
    max_blocks = 1,
    curr_bytes = 0
)]
fn shrink_to_fit_reallocates() {
    let mut v: Vec<u8> = Vec::with_capacity(1000);
    v.push(black_box(1));
    v.shrink_to_fit();
    assert_eq!(black_box(v).capacity(), 1);
}

#[test]
#[assert_heap(total_bytes = 64, total_blocks = 1, max_bytes = 64, curr_bytes = 0)]
fn a_string_within_its_capacity() {
    let mut s = String::with_capacity(64);
    for _ in 0..8 {
        s.push_str(black_box("12345678"));
    }
    assert_eq!(black_box(s).len(), 64);
}

#[test]
// 10 Strings of 8 bytes and a Vec of 10 × 24 bytes.
#[assert_heap(
    total_bytes = 320,
    total_blocks = 11,
    max_bytes = 320,
    max_blocks = 11,
    curr_blocks = 0
)]
fn a_vector_of_strings() {
    let mut v = Vec::with_capacity(10);
    for _ in 0..10 {
        v.push(String::from(black_box("abcdefgh")));
    }
    assert_eq!(black_box(v).len(), 10);
}

#[test]
#[assert_heap(total_bytes = 100, total_blocks = 1, max_bytes = 100, curr_bytes = 0)]
fn into_boxed_slice_of_an_exact_vector() {
    let b: Box<[u8]> = black_box(vec![7u8; 100]).into_boxed_slice();
    assert_eq!(black_box(b).len(), 100);
}

#[test]
#[assert_heap(total_bytes = 0, total_blocks = 0, max_bytes = 0, curr_bytes = 0)]
fn empty_collections_allocate_nothing() {
    let v: Vec<u64> = black_box(Vec::new());
    let s = black_box(String::new());
    let b = black_box(Box::new(()));
    assert!(v.is_empty() && s.is_empty());
    drop(b);
}

#[test]
// Rc and Arc: two counters (16 bytes) before the value.
#[assert_heap(total_bytes = 24 + 24 + 120, total_blocks = 3, max_bytes = 168, curr_bytes = 0)]
fn reference_counted_values() {
    let rc = black_box(Rc::new(5u64));
    let arc = black_box(Arc::new(6u64));
    let array = black_box(Rc::new([0u8; 100])); // 16 + 100, rounded up to 8: 120
    assert_eq!(*rc + *arc + u64::from(array[0]), 11);
}

#[test]
#[assert_heap(total_bytes = 60, total_blocks = 1, max_bytes = 60, curr_bytes = 0)]
fn a_deque_of_exact_capacity() {
    let mut d: VecDeque<u32> = VecDeque::with_capacity(15);
    for i in 0..15 {
        d.push_front(black_box(i));
    }
    assert_eq!(black_box(d).capacity(), 15);
}

#[test]
#[assert_heap(
    total_bytes = 8000,
    total_blocks = 2,
    max_bytes = 8000,
    max_blocks = 2,
    curr_bytes = 0
)]
fn cloning_a_vector() {
    let v = black_box(vec![3u32; 1000]);
    let w = black_box(v.clone());
    assert_eq!(v, w);
}

#[test]
#[assert_heap(total_bytes = 255, total_blocks = 1, max_bytes = 255, curr_bytes = 0)]
fn collecting_an_exact_size_iterator() {
    let v: Vec<u8> = (0..255u8).map(black_box).collect();
    assert_eq!(black_box(v).len(), 255);
}

#[test]
#[assert_heap(total_bytes = 3000, total_blocks = 1, max_bytes = 3000, curr_bytes = 0)]
fn repeating_a_str() {
    let s = black_box("abc").repeat(1000);
    assert_eq!(black_box(s).len(), 3000);
}

#[test]
#[assert_heap(total_bytes = 4096, total_blocks = 1, max_bytes = 4096, curr_bytes = 0)]
fn a_boxed_array() {
    let b = black_box(Box::new([0u64; 512]));
    assert_eq!(b.len(), 512);
}

#[test]
// A 6 MiB String kept for the whole test, and 2 MiB allocated and freed while it is live.
#[assert_heap(total_bytes = 8 * MIB, total_blocks = 2, max_bytes = 8 * MIB, max_blocks = 2, curr_bytes = 0)]
fn a_large_string_and_a_temporary() {
    let mut s = String::with_capacity(6 * MIB);
    s.push_str(black_box("x"));
    drop(black_box(vec![0u8; 2 * MIB]));
    assert_eq!(black_box(s).capacity(), 6 * MIB);
}

#[test]
// A measurement inside the test is part of the test's own figures.
#[assert_heap(
    total_bytes = 1500,
    total_blocks = 2,
    max_bytes = 1500,
    max_blocks = 2,
    curr_bytes = 0
)]
fn a_measurement_inside_the_test() {
    let outer = black_box(vec![0u8; 1000]);
    let ((), inner) = dhat_kit::measure(|| drop(black_box(vec![0u8; 500])));
    assert_eq!(
        (inner.total_bytes, inner.max_bytes, inner.curr_bytes),
        (500, 500, 0)
    );
    drop(outer);
}

#[test]
// What the test's threads allocate is not the test's: the 2 MiB allocated on the spawned thread is
// not counted. Spawning is: std's bookkeeping for the thread (its handle, the result's slot, the
// boxed closure), a few hundred bytes on the test's thread.
#[assert_heap(max_bytes = 1024, curr_bytes = 1024)]
fn a_spawned_threads_allocations_are_not_counted() {
    let stats = std::thread::scope(|s| {
        s.spawn(|| dhat_kit::measure(|| drop(black_box(vec![0u8; 2 * MIB]))).1)
            .join()
            .unwrap()
    });
    assert_eq!(stats.max_bytes, 2 * MIB as u64);
}

#[test]
#[assert_heap(total_bytes = 256, total_blocks = 1, max_bytes = 256, curr_bytes = 0)]
fn a_test_returning_ok() -> Result<(), std::num::ParseIntError> {
    let n: u32 = black_box("256").parse()?;
    let v = black_box(vec![0u8; n as usize]);
    assert_eq!(v.len(), 256);
    Ok(())
}

#[test]
#[ignore = "checks that #[ignore] composes; run with --include-ignored"]
#[assert_heap(total_bytes = 512, total_blocks = 1, max_bytes = 512, curr_bytes = 0)]
fn an_ignored_test() {
    drop(black_box(vec![0u8; 512]));
}

#[test]
#[should_panic(expected = "the expected panic")]
// The figures up to the panic are checked: the 1 MiB buffer (live when it panics, freed by the
// unwinding), the 16-byte payload (the message, a boxed `&'static str`, still live when the body
// has unwound) and the unwinder's exception object (56 bytes on x86-64: the 32-byte
// `_Unwind_Exception`, a canary pointer and the payload's fat pointer; freed when the panic is
// caught). The panic hook's report (and backtrace) is not counted.
#[assert_heap(total_bytes = MIB + 16 + 56, total_blocks = 3, max_bytes = MIB + 16 + 56, curr_bytes = 16, curr_blocks = 1)]
fn a_test_that_should_panic() {
    let v = black_box(vec![0u8; MIB]);
    assert!(v.is_empty(), "the expected panic");
}

#[test]
#[should_panic]
// `resume_unwind` runs no hook: the same figures, less the 1 MiB.
#[assert_heap(total_bytes = 16 + 56, total_blocks = 2, max_bytes = 16 + 56, curr_bytes = 16)]
fn a_test_that_resumes_unwinding() {
    std::panic::resume_unwind(Box::new(black_box("a payload")));
}

mod reexported {
    pub use dhat_kit as kit;
}

#[test]
#[assert_heap(crate = "crate::reexported::kit", total_bytes = 77, total_blocks = 1)]
fn through_a_reexport_with_crate_key() {
    drop(black_box(vec![0u8; 77]));
}

#[tokio::test]
#[assert_heap(total_bytes = 4096, total_blocks = 1, max_bytes = 4096, curr_bytes = 0)]
async fn an_async_body_below_tokio_test() {
    let v = black_box(vec![0u8; 4096]);
    assert_eq!(v.len(), 4096);
}

#[tokio::test]
// Two polls: 2 KiB allocated in the first, 1 KiB in the second, both freed at the end. Neither
// building the runtime nor its work between the polls is counted.
#[assert_heap(
    total_bytes = 3072,
    total_blocks = 2,
    max_bytes = 3072,
    max_blocks = 2,
    curr_bytes = 0
)]
async fn an_async_body_across_polls() {
    let v = black_box(vec![0u8; 2048]);
    YieldOnce(false).await;
    let w = black_box(vec![0u8; 1024]);
    drop((v, w));
}

#[tokio::test]
// A block allocated in one poll and freed in a later one.
#[assert_heap(
    total_bytes = 100_000,
    max_bytes = 100_000,
    curr_bytes = 0,
    curr_blocks = 0
)]
async fn freed_in_a_later_poll() {
    let v = black_box(vec![0u8; 100_000]);
    YieldOnce(false).await;
    YieldOnce(false).await;
    drop(v);
}

#[assert_heap(total_bytes = 640, total_blocks = 1, curr_bytes = 640)]
#[tokio::test]
async fn above_tokio_test() -> Result<(), String> {
    let kept = black_box(vec![0u8; 640]);
    YieldOnce(false).await;
    std::mem::forget(kept);
    Ok(())
}

#[tokio::test]
#[should_panic(expected = "the expected async panic")]
// Across two polls: 4 KiB live when it panics, the 16-byte payload, the 56-byte exception object.
#[assert_heap(total_bytes = 4096 + 16 + 56, total_blocks = 3, max_bytes = 4096 + 16 + 56, curr_bytes = 16)]
async fn an_async_test_that_should_panic() {
    let v = black_box(vec![0u8; 4096]);
    YieldOnce(false).await;
    assert!(v.is_empty(), "the expected async panic");
}

#[should_panic(expected = "the expected async panic")]
#[assert_heap(total_bytes = 1000 + 16 + 56, total_blocks = 3, curr_blocks = 1)]
#[tokio::test]
async fn above_tokio_test_should_panic() {
    YieldOnce(false).await;
    let v = black_box(vec![0u8; 1000]);
    assert!(v.is_empty(), "the expected async panic");
}

/// A future that is pending once (waking itself at once), then ready: the body around it is
/// polled twice.
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            std::task::Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }
}

/// The report of a test over its budget, read from the panic of a function that carries the
/// attribute.
mod report {
    use super::*;
    use std::panic::catch_unwind;

    fn panic_message(f: fn()) -> String {
        panic_message_of(f)
    }

    fn panic_message_of(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
        crate::common::panic_message(f)
    }

    #[assert_heap(max_bytes = 1023, total_blocks = 1)]
    fn one_byte_over() {
        drop(black_box(vec![0u8; 1024]));
    }

    #[test]
    fn one_byte_over_the_peak() {
        assert_eq!(
            panic_message(one_byte_over),
            "dhat-kit: assert_heap::report::one_byte_over went over its heap budget
  max_bytes: 1,024 > 1,023 (+1 byte, +0.1%)
measured on the test's thread:
  total_bytes  1,024
  total_blocks 1             limit 1
  max_bytes    1,024         limit 1,023
  max_blocks   1
  curr_bytes   0
  curr_blocks  0
not counted: allocations on other threads (threads the test starts, a thread pool, an async runtime's workers); to count them, use #[assert_heap(threads = \"all\", ..)]"
        );
    }

    /// Arithmetic of 2 GiB or more on literals was an `i32` that overflowed: the attribute did
    /// not compile (error[E0080], naming neither dhat-kit nor a fix).
    #[assert_heap(
        max_bytes = 4 * 1024 * 1024 * 1024 - (4 * 1024 * 1024 * 1024 - 1023),
        total_bytes = 64 * 1024 * 1024 * 1024 * 1024,
        max_blocks = (1 << 40) >> 40
    )]
    fn limits_past_two_gib_as_arithmetic() {
        drop(black_box(vec![0u8; 1024]));
    }

    #[test]
    fn arithmetic_on_literals_past_two_gib_is_exact() {
        let message = panic_message(limits_past_two_gib_as_arithmetic);
        assert!(
            message.contains("  max_bytes: 1,024 > 1,023 (+1 byte, +0.1%)\n"),
            "{message}"
        );
        assert!(
            message.contains("  total_bytes  1,024         limit 70,368,744,177,664\n"),
            "{message}"
        );
        assert!(
            message.contains("  max_blocks   1             limit 1\n"),
            "{message}"
        );
    }

    #[assert_heap(total_bytes = 2 * MIB, total_blocks = 2, curr_blocks = 0, curr_bytes = 0)]
    fn several_over() {
        let a = black_box(vec![0u8; 3 * MIB]);
        let b = black_box(Box::new(1u32));
        let c = black_box(vec![0u8; 10]);
        std::mem::forget((a, b));
        drop(c);
    }

    #[test]
    fn every_exceeded_key_has_its_line() {
        assert_eq!(
            panic_message(several_over),
            "dhat-kit: assert_heap::report::several_over went over its heap budget
  total_bytes: 3,145,742 > 2,097,152 (+1,048,590 bytes, +50.0%)
  total_blocks: 3 > 2 (+1 block, +50.0%)
  curr_bytes: 3,145,732 > 0 (+3,145,732 bytes, over a limit of 0)
  curr_blocks: 2 > 0 (+2 blocks, over a limit of 0)
measured on the test's thread:
  total_bytes  3,145,742     limit 2,097,152
  total_blocks 3             limit 2
  max_bytes    3,145,742
  max_blocks   3
  curr_bytes   3,145,732     limit 0
  curr_blocks  2             limit 0
not counted: allocations on other threads (threads the test starts, a thread pool, an async runtime's workers); to count them, use #[assert_heap(threads = \"all\", ..)]
curr_*: blocks this thread allocated and another thread freed still count as live here (and blocks it freed for other threads lower its figures); threads = \"all\" counts each free wherever it happens
curr_*: what the body set up on first use and keeps (a OnceLock or lazy static, a cache, a pool or runtime it started) is live at the end too; to leave it out, run the work once first and check the second run with dhat_kit::measure (or measure_all)"
        );
    }

    /// A report over budget lists the regions the test entered, on its thread: where the bytes
    /// went (it gave the totals alone). A region another thread entered meanwhile, or one entered
    /// before the test, is not listed.
    #[assert_heap(max_bytes = 1_000)]
    fn over_inside_regions() {
        std::thread::spawn(|| {
            dhat_kit::region!("elsewhere");
            drop(black_box(vec![0u8; 4096]));
        })
        .join()
        .unwrap();
        let kept = {
            dhat_kit::region!("parse");
            let tree = black_box(vec![0u8; 600]);
            for _ in 0..2 {
                dhat_kit::region!("lex");
                drop(black_box(vec![0u8; 500]));
            }
            tree
        };
        drop(kept);
    }

    #[test]
    fn the_report_lists_the_regions_entered_during_the_test() {
        {
            dhat_kit::region!("before");
            drop(black_box(vec![0u8; 100]));
        }
        let message = panic_message(over_inside_regions);
        let regions = message
            .split_once("\nregions entered during the test, on its thread")
            .map(|(_, regions)| regions)
            .unwrap_or_else(|| panic!("no regions in:\n{message}"));
        assert_eq!(
            regions,
            " (dhat_kit::regions(); bytes and blocks are inclusive, `peak` is above each entry's \
             start, `kept` is live at its exit):
  region       entries       bytes      blocks        self   share        peak        kept
  parse              1     1.6 KiB           3       600 B  100.0%     1.1 KiB       600 B
  parse/lex          2     1,000 B           2     1,000 B   62.5%       500 B         0 B",
        );
    }

    #[assert_heap(total_blocks = 1)]
    fn over_in_a_region_with_an_earlier_peak() {
        dhat_kit::region!("warm");
        drop(black_box(vec![0u8; 100]));
        drop(black_box(vec![0u8; 200]));
    }

    /// A region entered before the test with a higher peak keeps one peak for all its entries:
    /// the report says its `peak` is an upper bound there, where it said every `peak` was above
    /// each entry's start (300 B, where the test's entry peaked at 200 B).
    #[test]
    fn a_regions_peak_from_before_the_test_is_said_to_be_a_bound() {
        {
            dhat_kit::region!("warm");
            drop(black_box(vec![0u8; 1_000]));
        }
        let message = panic_message(over_in_a_region_with_an_earlier_peak);
        let (_, regions) = message
            .split_once("\nregions entered during the test, on its thread")
            .unwrap_or_else(|| panic!("no regions in:\n{message}"));
        assert!(
            regions.ends_with(
                "\n  warm            1       300 B           2       300 B  100.0%       300 B         0 B\
                 \n  `warm` entered before the test too, so `peak` is an upper bound there: the \
                 lower of the region's peak before the test and all it allocated during it"
            ),
            "{message}"
        );
        // A region new to the test says nothing of the kind.
        let message = panic_message(over_inside_regions);
        assert!(!message.contains("upper bound"), "{message}");
    }

    /// Frees the 1,000 bytes a thread allocated, then leaks 500 of its own.
    fn free_a_threads_block_then_leak() {
        let buf = std::thread::spawn(|| black_box(vec![0u8; 1000]))
            .join()
            .unwrap();
        drop(buf);
        std::mem::forget(black_box(vec![1u8; 500]));
    }

    #[assert_heap(max_bytes = 400, curr_bytes = 0)]
    fn frees_a_threads_block_then_leaks() {
        free_a_threads_block_then_leak();
    }

    #[assert_heap(total_bytes = 2000)]
    fn frees_a_threads_block_within_its_totals() {
        free_a_threads_block_then_leak();
    }

    #[assert_heap(max_bytes = 1_000)]
    fn frees_a_threads_block_then_peaks_over() {
        free_a_threads_block_then_leak();
        drop(black_box(vec![0u8; 100_000]));
    }

    #[assert_heap(curr_blocks = 0)]
    async fn drops_a_tasks_block_then_leaks() {
        let v = tokio::spawn(async { black_box(vec![0u8; 1000]) })
            .await
            .unwrap();
        drop(v);
        std::mem::forget(black_box(vec![1u8; 500]));
    }

    /// A thread-scope budget on a live figure fails where the test's thread freed more than it
    /// allocated: it freed blocks allocated elsewhere, which lowered its live figures and their
    /// peak, so that a leak of 500 bytes after freeing a thread's 1,000 passed `max_bytes = 400,
    /// curr_bytes = 0` (and, under tokio, `curr_blocks = 0` after a task's block). A budget of
    /// totals alone, which such a free leaves alone, still holds.
    #[test]
    fn a_thread_that_freed_more_than_it_allocated_fails_a_budget_on_live_figures() {
        let said = "cannot be checked on the test's thread: the thread freed ";
        let message = panic_message(frees_a_threads_block_then_leaks);
        assert!(
            message.starts_with("dhat-kit: assert_heap::report::frees_a_threads_block_then_leaks ")
                && message.contains(said)
                && message.contains("threads = \"all\""),
            "{message}"
        );
        frees_a_threads_block_within_its_totals();
        // A figure over its limit is over it whatever the thread freed (such a free only lowers
        // the figures): said as it is, where "cannot be checked" hid it.
        let message = panic_message(frees_a_threads_block_then_peaks_over);
        assert!(
            message.contains("went over its heap budget\n  max_bytes: ") && !message.contains(said),
            "{message}"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let message = panic_message_of(|| rt.block_on(drops_a_tasks_block_then_leaks()));
        assert!(message.contains(said), "{message}");
    }

    #[assert_heap(total_blocks = 0)]
    fn one_block_over() {
        drop(black_box(vec![0u8; 100]));
    }

    /// A region open around a failing budget shows what the test allocated in it, not the
    /// report's own allocations, made after the measurement while the region was still open (it
    /// read 1.6 KiB in 52 blocks, 592 B kept, for a test of 100 bytes in 1).
    #[test]
    fn a_region_open_around_a_failing_budget_shows_the_tests_bytes_alone() {
        dhat_kit::region!("around the budget");
        let message = panic_message(one_block_over);
        let row: Vec<&str> = message
            .lines()
            .find_map(|l| l.strip_prefix("  around the budget "))
            .unwrap_or_else(|| panic!("no row in:\n{message}"))
            .split_whitespace()
            .collect();
        // Entries (none ended), bytes, blocks, self, share, peak, kept.
        assert_eq!(
            row,
            ["0", "100", "B", "1", "100", "B", "100.0%", "100", "B", "0", "B"],
            "{message}"
        );
    }

    const TWELVE: [&str; 12] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];

    #[assert_heap(total_blocks = 11)]
    fn over_in_twelve_regions() {
        for (i, name) in TWELVE.into_iter().enumerate() {
            let _region = dhat_kit::Region::enter(name);
            drop(black_box(vec![0u8; 100 + i]));
        }
    }

    /// The report lists the ten regions that allocated most, and says how many more there are.
    #[test]
    fn the_report_lists_ten_regions_at_most() {
        let message = panic_message(over_in_twelve_regions);
        let (_, regions) = message
            .split_once("\nregions entered during the test, on its thread")
            .unwrap_or_else(|| panic!("no regions in:\n{message}"));
        let rows: Vec<&str> = regions.lines().skip(2).collect();
        assert_eq!(rows.len(), 11, "{message}");
        assert!(rows[0].starts_with("  l     "), "{message}");
        assert!(rows[9].starts_with("  c     "), "{message}");
        assert_eq!(rows[10], "  ... and 2 more");
    }

    #[allow(unused_attributes)]
    #[assert_heap(max_bytes = 100)]
    async fn async_over_inside_a_region() {
        use dhat_kit::InRegionExt;
        async {
            let v = black_box(vec![0u8; 101]);
            super::YieldOnce(false).await;
            drop(v);
        }
        .in_region("handle")
        .await;
    }

    #[allow(unused_attributes)]
    #[assert_heap(max_bytes = 1_000)]
    async fn async_over_after_a_yield() {
        let v = black_box(vec![0u8; 1_000]);
        tokio::task::yield_now().await;
        drop(v);
    }

    /// A body that yielded and went over a limit other than `curr_*` is told that the runtime's
    /// allocations inside its polls count: tokio's 64 bytes after `yield_now` took 1,000 bytes to
    /// 1,064, unexplained.
    #[test]
    fn an_async_report_over_max_says_a_yield_counts() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let message = panic_message_of(|| rt.block_on(async_over_after_a_yield()));
        assert!(
            message.contains("max_bytes: 1,064 > 1,000")
                && message.contains("the body yielded (an .await was pending): what a runtime"),
            "{message}"
        );
    }

    /// An async test's report lists the regions its polls entered.
    #[test]
    fn an_async_report_lists_the_regions_entered_during_the_test() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let message = panic_message_of(|| rt.block_on(async_over_inside_a_region()));
        let (_, regions) = message
            .split_once("\nregions entered during the test, on its thread")
            .unwrap_or_else(|| panic!("no regions in:\n{message}"));
        assert!(
            regions.ends_with(
                "\n  handle          1       101 B           1       101 B  100.0%       101 B         0 B"
            ),
            "{message}"
        );
    }

    #[assert_heap(total_bytes = 100, total_blocks = 1)]
    fn within_inside_a_region() {
        dhat_kit::region!("inner-budget");
        drop(black_box(vec![0u8; 100]));
    }

    /// A budget inside a measurement, on a thread with regions: the measurement counts the
    /// budget's work, not its readings of the regions for a failure's report (they counted
    /// there), nor its check that the allocator is installed once that has said yes in the
    /// process (1 byte in a block before).
    #[test]
    fn a_budget_inside_a_measurement_adds_only_its_work() {
        {
            dhat_kit::region!("before-inner-budget");
        }
        assert!(dhat_kit::is_installed());
        let ((), stats) = dhat_kit::measure(within_inside_a_region);
        assert_eq!((stats.total_bytes, stats.total_blocks), (100, 1));
        assert_eq!((stats.curr_bytes, stats.curr_blocks), (0, 0));
    }

    /// A function that never returns builds under the attribute: the check of its result named
    /// `!`, unstable where written, and the build failed.
    #[allow(dead_code)]
    #[assert_heap(total_bytes = 10)]
    fn never_returns() -> ! {
        std::process::exit(0)
    }

    /// An async function whose error type is an `impl Trait` builds and runs (its result's check
    /// named the type in a closure's parameter, where `impl Trait` is not allowed).
    #[assert_heap(total_bytes = 10)]
    async fn an_opaque_error(fail: bool) -> Result<(), impl std::fmt::Debug> {
        if fail {
            return Err("no");
        }
        Ok(())
    }

    /// The same, not async: the closure around the body named the type as its return type, where
    /// `impl Trait` is not allowed either (only an `impl Trait` that was the whole type built).
    #[assert_heap(total_bytes = 10)]
    fn an_opaque_value(fail: bool) -> Result<impl std::fmt::Debug, String> {
        if fail {
            return Err("no".to_owned());
        }
        let n: u8 = "7".parse().map_err(|_| "not a number".to_owned())?;
        Ok(n)
    }

    #[test]
    fn results_of_types_a_closure_cannot_name_build() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(runtime.block_on(an_opaque_error(false)).is_ok());
        assert!(runtime.block_on(an_opaque_error(true)).is_err());
        assert_eq!(format!("{:?}", an_opaque_value(false)), "Ok(7)");
        assert!(an_opaque_value(true).is_err());
    }

    #[assert_heap(total_bytes = 100)]
    fn fails_with_an_empty_err() -> Result<(), String> {
        Err(String::new())
    }

    /// Telling that a result fails the test allocates nothing: a measurement around the budget
    /// sees nothing (the error was formatted for it: 2 bytes more, in a block), once the check
    /// that the allocator is installed has said yes in the process.
    #[test]
    fn telling_a_failed_result_allocates_nothing() {
        assert!(dhat_kit::is_installed());
        let (result, stats) = dhat_kit::measure(fails_with_an_empty_err);
        assert!(result.is_err());
        assert_eq!((stats.total_bytes, stats.total_blocks), (0, 0));
    }

    /// 11 bytes, over its budget: `Ok`, or (`fail`) the same bytes in its `Err`.
    #[assert_heap(total_bytes = 10)]
    fn returns_over_budget(fail: bool) -> Result<(), String> {
        let s = black_box("eleven char").to_string();
        if fail {
            return Err(s);
        }
        drop(s);
        Ok(())
    }

    /// Over budget, an `Ok` test panics with the report; an `Err` one fails by its own error, as
    /// one that panics, its figures (of a run cut short) left alone: the report said in place of
    /// the error hid it (and a baseline recorded them).
    #[test]
    fn a_result_test_over_budget_panics() {
        let message = panic_message(|| {
            let _ = returns_over_budget(false);
        });
        assert!(
            message.contains("  total_bytes: 11 > 10 (+1 byte, +10.0%)\n"),
            "{message}"
        );
        assert_eq!(returns_over_budget(true), Err("eleven char".to_owned()));
    }

    #[assert_heap(total_bytes = 10)]
    fn returns_ok_within_budget() -> Result<u32, String> {
        let s = black_box("ten chars!").to_string();
        Ok(s.len() as u32)
    }

    #[test]
    fn within_budget_the_result_comes_back() {
        assert_eq!(returns_ok_within_budget(), Ok(10));
    }

    // `#[should_panic]` is read by the attribute; outside `#[test]`, the function is called here.
    #[allow(unused_attributes)]
    #[should_panic]
    #[assert_heap(total_bytes = 100)]
    fn should_panic_over_budget() {
        let _v = black_box(vec![0u8; 101]);
        panic!("the expected panic, but over the budget");
    }

    #[test]
    fn over_budget_a_should_panic_test_returns_instead_of_panicking() {
        // Returning makes the harness fail the test ("did not panic as expected").
        assert!(catch_unwind(should_panic_over_budget).is_ok());
    }

    #[allow(unused_attributes)]
    #[should_panic]
    #[assert_heap(total_bytes = 100)]
    async fn async_should_panic_over_budget() {
        let _v = black_box(vec![0u8; 101]);
        super::YieldOnce(false).await;
        panic!("the expected panic, but over the budget");
    }

    #[test]
    fn over_budget_an_async_should_panic_test_completes_instead_of_panicking() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(catch_unwind(|| rt.block_on(async_should_panic_over_budget())).is_ok());
    }

    #[assert_heap(total_blocks = 2, curr_blocks = 0)]
    fn catches_a_panic() {
        let caught = std::panic::catch_unwind(|| panic!("a panic the test catches"));
        assert!(caught.is_err());
    }

    /// A panic the body catches counts its payload and the unwinder's exception object, not the
    /// panic hook's report: the test harness's capture of it, and the backtrace std symbolises
    /// under `RUST_BACKTRACE=1` (40 MB), counted as the test's own, as under `#[should_panic]`
    /// they never were.
    #[test]
    fn a_caught_panics_report_is_not_counted() {
        catches_a_panic();
    }

    #[allow(unused_attributes)]
    #[should_panic]
    #[assert_heap(total_blocks = 2, curr_blocks = 1)]
    fn should_panic_within_budget() {
        // The payload box and the unwinder's exception object (see `a_test_that_should_panic`).
        panic!("the expected panic");
    }

    #[test]
    fn within_budget_the_expected_panic_passes_through() {
        assert_eq!(
            panic_message(should_panic_within_budget),
            "the expected panic"
        );
    }
}

mod common;

/// Over its budget, run in a child by [`a_failure_is_reported_at_the_test`].
#[test]
#[ignore = "run by a_failure_is_reported_at_the_test, in a child process"]
#[assert_heap(max_bytes = 10)]
fn over_budget_on_its_thread() {
    drop(black_box(vec![0u8; 100]));
}

/// Over its budget on every thread, run in a child by [`a_failure_is_reported_at_the_test`]
/// and [`on_all_threads_the_report_lists_every_threads_regions`].
#[test]
#[ignore = "run by a_failure_is_reported_at_the_test, in a child process"]
#[assert_heap(threads = "all", max_bytes = 10)]
fn over_budget_on_all_threads() {
    std::thread::spawn(|| {
        dhat_kit::region!("elsewhere");
        drop(black_box(vec![0u8; 100]));
    })
    .join()
    .unwrap();
}

/// A `threads = "all"` report lists the regions entered on every thread during the test.
#[test]
fn on_all_threads_the_report_lists_every_threads_regions() {
    let out = common::run_ignored("over_budget_on_all_threads");
    let text = common::output_text(&out);
    assert!(
        text.contains(
            "\nregions entered during the test (dhat_kit::regions(); bytes and blocks are \
             inclusive, `peak` is above each entry's start, `kept` is live at its exit):\n  \
             region       entries       bytes      blocks        self   share        peak        kept\n  \
             elsewhere          1       100 B           1       100 B  100.0%       100 B         0 B\n"
        ),
        "{text}"
    );
}

/// Over its budget in an async test below `#[tokio::test]`, run in a child by
/// [`a_failure_is_reported_at_the_test`]: the panic is at the test, not inside the future that
/// tokio polls.
#[tokio::test]
#[ignore = "run by a_failure_is_reported_at_the_test, in a child process"]
#[assert_heap(max_bytes = 10)]
async fn over_budget_below_tokio() {
    drop(black_box(vec![0u8; 100]));
}

/// Live bytes at the end of an async test whose body yielded to tokio, run in a child by
/// [`an_async_tests_live_bytes_after_a_yield_are_said_to_be_the_runtimes_maybe`].
#[tokio::test]
#[ignore = "run by an_async_tests_live_bytes_after_a_yield_are_said_to_be_the_runtimes_maybe"]
#[assert_heap(curr_bytes = 0)]
async fn live_at_the_end_after_a_yield() {
    tokio::task::yield_now().await;
}

/// The same with the attribute above `#[tokio::test]`.
#[assert_heap(curr_bytes = 0)]
#[tokio::test]
#[ignore = "run by an_async_tests_live_bytes_after_a_yield_are_said_to_be_the_runtimes_maybe"]
async fn live_at_the_end_after_a_yield_above_tokio() {
    tokio::task::yield_now().await;
}

/// The same without a yield: the body's own.
#[tokio::test]
#[ignore = "run by an_async_tests_live_bytes_after_a_yield_are_said_to_be_the_runtimes_maybe"]
#[assert_heap(curr_bytes = 0)]
async fn live_at_the_end_without_a_yield() {
    std::mem::forget(black_box(vec![0u8; 64]));
}

/// An async test whose body yielded and ends with bytes live says that a runtime may keep what
/// a yield took (tokio's deferred wakers, 64 bytes): it failed with the generic `curr_*` lines
/// alone, and the bytes read as the test's leak. One that did not yield is not told so.
#[test]
fn an_async_tests_live_bytes_after_a_yield_are_said_to_be_the_runtimes_maybe() {
    let runtime = "curr_*: the body yielded (an .await was pending), and a runtime may keep";
    for (test, told) in [
        ("live_at_the_end_after_a_yield", true),
        ("live_at_the_end_after_a_yield_above_tokio", true),
        ("live_at_the_end_without_a_yield", false),
    ] {
        let out = common::run_ignored(test);
        let text = common::output_text(&out);
        assert!(!out.status.success(), "{text}");
        assert!(text.contains("curr_bytes: 64 > 0"), "{text}");
        assert_eq!(text.contains(runtime), told, "{test}: {text}");
    }
}

/// The same above `#[tokio::test]`.
#[assert_heap(max_bytes = 10)]
#[tokio::test]
#[ignore = "run by a_failure_is_reported_at_the_test, in a child process"]
async fn over_budget_above_tokio() {
    drop(black_box(vec![0u8; 100]));
}

/// The same on every thread of a multi-threaded runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by a_failure_is_reported_at_the_test, in a child process"]
#[assert_heap(threads = "all", max_bytes = 10)]
async fn over_budget_on_all_threads_under_tokio() {
    tokio::spawn(async { drop(black_box(vec![0u8; 100])) })
        .await
        .unwrap();
}

/// A test of its own that begins as `#[tokio::test]`'s expansion does (`let body = async { .. };`)
/// and runs that future itself, by a `block_on` of its own, with 1,000 bytes allocated around it;
/// run in a child by [`a_body_named_as_tokios_is_measured_whole`].
#[test]
#[ignore = "run by a_body_named_as_tokios_is_measured_whole, in a child process"]
#[assert_heap(total_bytes = 100)]
fn named_as_tokios_body() {
    let body = async { 1 };
    let around = black_box(vec![0u8; 1000]);
    assert_eq!(block_on(body), 1);
    drop(around);
}

/// The same, run by a method `block_on` in a last statement that allocates too, as tokio's
/// expansion's last statement never does; run in a child by
/// [`a_body_named_as_tokios_is_measured_whole`].
#[test]
#[ignore = "run by a_body_named_as_tokios_is_measured_whole, in a child process"]
#[assert_heap(total_bytes = 100)]
fn named_as_tokios_body_run_last() {
    let body = async { 1usize };
    assert_eq!(
        Poller.block_on(body),
        black_box(vec![0u8; 1000]).len() - 999
    );
}

/// A runtime of a test's own: [`block_on`] as a method.
struct Poller;

impl Poller {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        block_on(f)
    }
}

/// Polls `f` once, without allocating: it must be ready.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(f).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("pending"),
    }
}

/// A test of its own whose first statement is `let body = async { .. };` and that mentions
/// `block_on` is measured whole: it was taken for `#[tokio::test]`'s expansion, only its future
/// was measured, and the 1,000 bytes allocated around it went unseen (the test passed). So was
/// one whose last statement runs `body` by a method `block_on` and allocates besides.
#[test]
fn a_body_named_as_tokios_is_measured_whole() {
    for test in ["named_as_tokios_body", "named_as_tokios_body_run_last"] {
        let out = common::run_ignored(test);
        let text = common::output_text(&out);
        assert!(!out.status.success(), "{test}: {text}");
        assert!(text.contains("total_bytes: 1,000 > 100"), "{test}: {text}");
    }
}

/// A whole-process budget refused (a thread from before the measurement allocates in it), run in
/// a child by [`a_failure_is_reported_at_the_test`].
#[test]
#[ignore = "run by a_failure_is_reported_at_the_test, in a child process"]
fn refused_on_all_threads() {
    let (wake, woken) = std::sync::mpsc::channel::<()>();
    let older = std::thread::spawn(move || {
        for () in woken {
            drop(black_box(vec![0u8; 64]));
        }
    });
    wakes_an_older_thread(wake);
    older.join().unwrap();
}

#[assert_heap(threads = "all", max_bytes = 1 << 20)]
fn wakes_an_older_thread(wake: std::sync::mpsc::Sender<()>) {
    wake.send(()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
}

/// A failing budget's panic names the test's file, where the attribute is, not dhat-kit's
/// src/assert.rs (a closure between the runner and the panic broke `#[track_caller]`'s chain).
#[test]
fn a_failure_is_reported_at_the_test() {
    for (test, says) in [
        ("over_budget_on_its_thread", "went over its heap budget"),
        ("over_budget_on_all_threads", "went over its heap budget"),
        ("refused_on_all_threads", "cannot give exact figures"),
        ("over_budget_below_tokio", "went over its heap budget"),
        ("over_budget_above_tokio", "went over its heap budget"),
        (
            "over_budget_on_all_threads_under_tokio",
            "went over its heap budget",
        ),
    ] {
        let out = common::run_ignored(test);
        let text = common::output_text(&out);
        assert!(!out.status.success(), "{text}");
        assert!(text.contains(says), "{text}");
        let at = text
            .lines()
            .find(|l| l.starts_with(&format!("thread '{test}' ")) && l.contains(" panicked at "))
            .expect(&text);
        assert!(at.contains(" panicked at tests/assert_heap.rs:"), "{text}");
    }
}
