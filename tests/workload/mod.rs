//! One deterministic workload, shared by the exactness tests: the same allocations, frees and
//! reallocs every run, whatever the allocator underneath.

use std::collections::BTreeMap;

/// What the workload leaves live, so that the live figures at its end are not trivially zero.
#[allow(dead_code, reason = "held only to stay live")]
pub struct Kept {
    pub names: Vec<String>,
    pub table: BTreeMap<u32, Vec<u8>>,
    pub boxed: Box<[u64]>,
}

/// Runs the workload: growing vectors (reallocs up and down), zeroed buffers, strings, a map and a
/// large transient buffer that sets the peak. Returns what it keeps live.
pub fn run() -> Kept {
    // A large transient block first, so the peak falls inside the workload.
    let big = vec![7u8; 3 << 20];
    let checksum: u64 = big.iter().step_by(4096).map(|&b| b as u64).sum();
    drop(big);

    let mut names = Vec::new();
    for i in 0..500u32 {
        let mut s = String::new();
        for j in 0..(i % 37) {
            s.push(char::from(b'a' + (j % 26) as u8));
        }
        names.push(s);
    }
    names.shrink_to_fit();

    let mut table = BTreeMap::new();
    for i in 0..300u32 {
        table.insert(i * 7 % 301, vec![0u8; (i as usize * 13) % 700 + 1]);
    }
    for i in 0..100u32 {
        table.remove(&(i * 3));
    }

    let mut growing: Vec<u64> = Vec::with_capacity(1);
    for i in 0..10_000u64 {
        growing.push(i ^ checksum);
    }
    growing.truncate(10);
    growing.shrink_to_fit();
    let boxed = growing.into_boxed_slice();

    let zeroed: Vec<Vec<u32>> = (1..50).map(|n| vec![0u32; n * 10]).collect();
    drop(zeroed);

    Kept {
        names,
        table,
        boxed,
    }
}

/// What a program does before a profiling session begins, run before the workload by the tests
/// that profile it: a block it keeps and, with `transient`, one freed at once larger than
/// anything the workload holds, so that a session's figures counted from the process's start, or
/// its peak taken from it, would differ from dhat's, which start with the session.
pub fn before_session(transient: bool) -> Vec<u8> {
    if transient {
        std::hint::black_box(vec![1u8; 8 << 20]);
    }
    vec![2u8; 10_000]
}

/// A small workload: its peak (a 20,000-byte buffer beside some strings) is far below the 64 KiB
/// by which threads hand their figures over in batches, so a profile gets it to the byte only by
/// counting the session's own thread exactly.
pub fn run_small() -> Vec<String> {
    let kept: Vec<String> = (0..40).map(|i| "y".repeat(i * 7 + 1)).collect();
    std::hint::black_box(vec![3u8; 20_000]);
    kept
}
