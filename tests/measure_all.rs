//! `measure_all`: every thread's allocations while a closure runs, exact to the byte.
//!
//! Every test here measures the whole process. They pass under `cargo nextest run`, under
//! `cargo test -- --test-threads 1`, and under plain parallel `cargo test` too: all the tests of
//! this binary use dhat-kit, so they wait for each other.

use std::sync::Barrier;
use std::thread;

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

#[test]
fn scope_of_four_threads_exact_to_the_byte() {
    // The same scope three times: no blocks, then 10,000 bytes, then 20,000 bytes in four blocks
    // held at the same time. Starting the threads costs the same each time, so the differences
    // are the blocks alone; the peak is where all four are held.
    let small = [1000, 2000, 3000, 4000];
    let large = [2000, 4000, 6000, 8000];
    let ((), none) = dhat_kit::measure_all(|| four_threads([0; 4]));
    let ((), a) = dhat_kit::measure_all(|| four_threads(small));
    let ((), b) = dhat_kit::measure_all(|| four_threads(large));
    eprintln!("none {none:?}\na {a:?}\nb {b:?}");
    assert!(none.total_blocks > 0, "starting threads allocates: {none}");
    assert_eq!(a.total_bytes, none.total_bytes + 10_000);
    assert_eq!(a.total_blocks, none.total_blocks + 4);
    assert_eq!(b.total_bytes, none.total_bytes + 20_000);
    assert_eq!(b.total_blocks, none.total_blocks + 4);
    // The peak holds all four blocks at once: twice the blocks, 10,000 bytes more.
    assert_eq!(b.max_bytes, a.max_bytes + 10_000);
    assert!(a.max_bytes >= 10_000, "{a}");
    assert_eq!(a.max_blocks, b.max_blocks);
    assert!(a.max_blocks >= 4, "{a}");
    // Everything the threads allocated was freed, wherever it was freed.
    for s in [none, a, b] {
        assert_eq!((s.curr_bytes, s.curr_blocks), (0, 0), "{s}");
    }
}
