//! Eight threads doing random alloc/realloc/free at once: each thread's figures equal what that
//! thread knows it did, and the process figures equal the sum of the threads'.
//!
//! Its own binary without the test harness (`harness = false`), so that no other test's threads
//! allocate while the process figures are compared.

mod common;
use common::Rng;

dhat_kit::global_allocator!();

use dhat_kit::Stats;
use std::alloc::{alloc, alloc_zeroed, dealloc, realloc, Layout};

/// What a thread knows it did, kept by the same rules as dhat (latest of equal peaks).
#[derive(Default)]
struct Expected {
    total_bytes: u64,
    total_blocks: u64,
    curr_bytes: u64,
    curr_blocks: u64,
    max_bytes: u64,
    max_blocks: u64,
}

impl Expected {
    fn grew(&mut self, size: usize, delta: i64, blocks: u64) {
        self.total_bytes += size as u64;
        self.total_blocks += 1;
        self.curr_bytes = (self.curr_bytes as i64 + delta) as u64;
        self.curr_blocks += blocks;
        if self.curr_bytes >= self.max_bytes {
            self.max_bytes = self.curr_bytes;
            self.max_blocks = self.curr_blocks;
        }
    }

    fn freed(&mut self, size: usize) {
        self.curr_bytes -= size as u64;
        self.curr_blocks -= 1;
    }

    fn stats(&self) -> Stats {
        let mut s = Stats::default();
        s.total_bytes = self.total_bytes;
        s.total_blocks = self.total_blocks;
        s.max_bytes = self.max_bytes;
        s.max_blocks = self.max_blocks;
        s.curr_bytes = self.curr_bytes;
        s.curr_blocks = self.curr_blocks;
        s
    }
}

/// Random operations on raw blocks; returns the blocks still live (address, size) and the figures.
fn random_work(seed: u64, ops: usize) -> (Vec<(usize, usize)>, Stats, Expected) {
    let mut rng = Rng(seed);
    let mut live: Vec<(usize, usize)> = Vec::with_capacity(4096);
    let mut want = Expected::default();
    // `live` is allocated before the measurement starts and never grows past its capacity.
    let ((), got) = dhat_kit::measure(|| {
        for _ in 0..ops {
            let r = rng.next();
            let pick = (r >> 8) as usize;
            match r % 8 {
                0..=2 if live.len() < 4000 => {
                    let size = 1 + (r >> 20) as usize % 2048;
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    // SAFETY: `layout` has a non-zero size.
                    let p = unsafe {
                        if r & 1 == 0 {
                            alloc(layout)
                        } else {
                            alloc_zeroed(layout)
                        }
                    };
                    assert!(!p.is_null());
                    want.grew(size, size as i64, 1);
                    live.push((p as usize, size));
                }
                3 | 4 if !live.is_empty() => {
                    let i = pick % live.len();
                    let (p, size) = live[i];
                    let new_size = 1 + (r >> 24) as usize % 4096;
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    // SAFETY: `p` was allocated with `layout` and is live; `new_size` is non-zero.
                    let q = unsafe { realloc(p as *mut u8, layout, new_size) };
                    assert!(!q.is_null());
                    want.grew(new_size, new_size as i64 - size as i64, 0);
                    live[i] = (q as usize, new_size);
                }
                _ if !live.is_empty() => {
                    let (p, size) = live.swap_remove(pick % live.len());
                    // SAFETY: `p` was allocated with this layout and is live.
                    unsafe { dealloc(p as *mut u8, Layout::from_size_align(size, 8).unwrap()) };
                    want.freed(size);
                }
                _ => {}
            }
        }
    });
    (live, got, want)
}

fn free_all(blocks: &[(usize, usize)]) {
    for &(p, size) in blocks {
        // SAFETY: each block was allocated with this layout and is freed once.
        unsafe { dealloc(p as *mut u8, Layout::from_size_align(size, 8).unwrap()) };
    }
}

fn main() {
    if common::nextest_listing("threads_exact") {
        return;
    }
    assert!(dhat_kit::is_installed());
    const THREADS: u64 = 8;
    const OPS: usize = 200_000;

    let main_before = dhat_kit::thread_stats();
    let process_before = dhat_kit::process_stats();

    let handles: Vec<_> = (0..THREADS)
        .map(|n| {
            std::thread::spawn(move || {
                let start = dhat_kit::thread_stats();
                let (live, got, want) = random_work(0x9E37_79B9_7F4A_7C15 ^ (n + 1), OPS);
                let end = dhat_kit::thread_stats();
                (live, got, want.stats(), start, end)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let mut sum_total_bytes = 0;
    let mut sum_total_blocks = 0;
    let mut live_blocks = Vec::new();
    for (n, (live, got, want, start, end)) in results.iter().enumerate() {
        assert_eq!(
            got, want,
            "thread {n}: measured figures differ from what it did"
        );
        assert!(
            want.total_blocks > (OPS / 2) as u64,
            "thread {n} did too little: {want:?}"
        );
        // The thread's running totals moved by exactly the measured work plus the one `live`
        // vector `random_work` allocates before measuring (4096 pairs of usize).
        let live_vec = (4096 * std::mem::size_of::<(usize, usize)>()) as u64;
        assert_eq!(
            end.total_bytes - start.total_bytes,
            want.total_bytes + live_vec,
            "thread {n}"
        );
        assert_eq!(
            end.total_blocks - start.total_blocks,
            want.total_blocks + 1,
            "thread {n}"
        );
        sum_total_bytes += end.total_bytes;
        sum_total_blocks += end.total_blocks;
        live_blocks.extend_from_slice(live);
    }
    let live_bytes: u64 = live_blocks.iter().map(|&(_, s)| s as u64).sum();
    let main_after = dhat_kit::thread_stats();
    let process_after = dhat_kit::process_stats();

    // Every thread's allocations, including the main thread's spawning and joining, add up to
    // the process's. (All threads have finished, so none has figures still to hand over.)
    let main_total_bytes = main_after.total_bytes - main_before.total_bytes;
    let main_total_blocks = main_after.total_blocks - main_before.total_blocks;
    assert_eq!(
        process_after.total_bytes - process_before.total_bytes,
        sum_total_bytes + main_total_bytes,
        "process total_bytes"
    );
    assert_eq!(
        process_after.total_blocks - process_before.total_blocks,
        sum_total_blocks + main_total_blocks,
        "process total_blocks"
    );
    // The blocks the workers left live are live in the process too.
    assert!(live_bytes > 0);
    assert!(process_after.curr_bytes - process_before.curr_bytes >= live_bytes);
    let before_free = dhat_kit::process_stats();
    free_all(&live_blocks);
    let after_free = dhat_kit::process_stats();
    assert_eq!(before_free.curr_bytes - after_free.curr_bytes, live_bytes);
    assert_eq!(
        before_free.curr_blocks - after_free.curr_blocks,
        live_blocks.len() as u64
    );
    running_threads_lag_by_less_than_the_publication_band();
    println!("threads_exact: 2 passed, 0 failed");
}

/// While threads run, the process figures lag each of them by less than 64 KiB of live bytes (the
/// bound `process_stats` documents), and the process peak is within that of the true peak.
fn running_threads_lag_by_less_than_the_publication_band() {
    use std::sync::atomic::{AtomicI64, Ordering::SeqCst};
    use std::sync::{Arc, Barrier};
    const THREADS: usize = 8;
    const BAND: u64 = 64 * 1024;
    let main_base = dhat_kit::thread_stats();
    let base = dhat_kit::process_stats();
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let held = Arc::new(AtomicI64::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|n| {
            let (barrier, held) = (Arc::clone(&barrier), Arc::clone(&held));
            std::thread::spawn(move || {
                // Sizes that leave each thread a different, unpublished remainder: 1 to 60 KiB.
                let mut rng = 0x2545_F491_4F6C_DD1D_u64 ^ (n as u64 + 1);
                let mut blocks = Vec::with_capacity(200);
                for _ in 0..(50 + 17 * n) {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    blocks.push(vec![1u8; 1 + (rng % (60 * 1024)) as usize]);
                }
                held.fetch_add(dhat_kit::thread_stats().curr_bytes as i64, SeqCst);
                barrier.wait(); // the main thread reads the process figures now
                barrier.wait();
                drop(blocks);
            })
        })
        .collect();
    barrier.wait();
    let process = dhat_kit::process_stats();
    let main_now = dhat_kit::thread_stats();
    let truth = base.curr_bytes as i64
        + (main_now.curr_bytes as i64 - main_base.curr_bytes as i64)
        + held.load(SeqCst);
    barrier.wait();
    for h in handles {
        h.join().unwrap();
    }
    let lag = (process.curr_bytes as i64 - truth).unsigned_abs();
    assert!(
        lag < THREADS as u64 * BAND,
        "process curr_bytes {} vs {truth} live: off by {lag}, the bound is {}",
        process.curr_bytes,
        THREADS as u64 * BAND
    );
    assert!(
        truth as u64 > 4 * THREADS as u64 * BAND,
        "the threads held too little to test the bound: {truth}"
    );
    assert!(
        process.max_bytes + THREADS as u64 * BAND > truth as u64,
        "process peak {} below the {truth} bytes live at once by more than the bound",
        process.max_bytes
    );
}
