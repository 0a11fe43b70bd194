//! `measure` gives the same figures as dhat's own `HeapStats` on the same workload: the workload
//! runs under `dhat::Alloc` in one binary (`dhat-reference`) and under dhat-kit's allocator here.

dhat_kit::global_allocator!();

mod workload;

use std::process::Command;

/// dhat's figures for the workload: `[total_bytes, total_blocks, max_bytes, max_blocks,
/// curr_bytes, curr_blocks]` before and after it.
fn dhat_figures() -> ([u64; 6], [u64; 6]) {
    let out = Command::new(env!("CARGO_BIN_EXE_dhat-reference"))
        .output()
        .expect("run the dhat reference binary");
    assert!(out.status.success(), "reference run failed: {out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("reference JSON");
    let get = |k: &str| -> [u64; 6] { serde_json::from_value(v[k].clone()).expect("six figures") };
    (get("before"), get("after"))
}

#[test]
fn measure_matches_dhat_heap_stats_on_the_same_workload() {
    let (before, after) = dhat_figures();
    let (kept, stats) = dhat_kit::measure(workload::run);

    // Totals and live figures: plain deltas of dhat's counters.
    assert_eq!(stats.total_bytes, after[0] - before[0], "total_bytes");
    assert_eq!(stats.total_blocks, after[1] - before[1], "total_blocks");
    assert_eq!(stats.curr_bytes, after[4] - before[4], "curr_bytes");
    assert_eq!(stats.curr_blocks, after[5] - before[5], "curr_blocks");

    // The peak: dhat's is process-wide; the workload's 3 MiB buffer sets a new one, so the
    // workload's peak above its entry is dhat's new peak less the live heap at entry.
    assert!(after[2] > before[2], "the workload must set dhat's peak");
    assert_eq!(stats.max_bytes, after[2] - before[4], "max_bytes");
    assert_eq!(stats.max_blocks, after[3] - before[5], "max_blocks");

    // And the figures are not trivially small.
    assert!(stats.total_blocks > 1000, "{stats:?}");
    assert!(stats.curr_blocks > 500, "{stats:?}");
    drop(kept);
}
