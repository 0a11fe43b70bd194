//! The counting allocator's cost, against `System`, `stats_alloc` and the floor of any per-thread
//! counting (one thread-local countdown per operation), in one run.
//!
//! Each allocator's `GlobalAlloc` methods are called directly, so all four run in this one binary
//! under the same conditions. Rounds alternate between allocators to spread the machine's noise
//! evenly, and the best (lowest) round of each counts; the last three columns are the medians of
//! the per-round ratios to `System` (see [`median`]), the last of them `System` against itself (a
//! second `System` run beside the first in every round): how far apart two runs of the same code
//! read in that run, the resolution of the others. Run with `cargo bench --bench alloc_overhead`;
//! words after `--` keep only the rows whose name holds one of them.
//!
//! The rows "via entry points" call the allocators through out-of-line functions of the shape of
//! `__rust_alloc` and `__rust_dealloc`, as a program's allocations reach its global allocator (see
//! `support/entry.rs`); the other rows inline the allocators into their loops.
//!
//! The rows marked "in measure_all" run the same rounds inside `dhat_kit::measure_all`, where every
//! thread publishes each operation to the process's exact tally: the cost of a whole-process
//! measurement while it runs (the other rows are its cost while none runs).
//!
//! Where a thread's stack lies against its thread-locals moves every counting allocator's ratio,
//! the countdown's too: a load of a thread-local cell that shares its address's low 12 bits with a
//! recent store to the stack (`malloc`'s own, or the loop's) waits for it. With
//! `DHAT_KIT_BENCH_STACK_DEPTH=N` each timed thread runs its work N frames (of a 64-byte array
//! each) deeper. On the machine of the README's figures, dhat-kit's 64-byte pairs read 1.13–1.14x
//! at depths 0–5, 10, 12 and 32–56, but 1.21x at 6, 1.45x at 7, 1.19x at 8 (the countdown 1.15x)
//! and 0.90x at 9 (`System`'s own column slowed, the countdown read 0.82x).

use std::alloc::{GlobalAlloc, System};
use std::time::{Duration, Instant};

#[path = "support/workloads.rs"]
mod workloads;
use workloads::{pairs, reallocs};

#[path = "support/rows.rs"]
mod rows;
use rows::Rows;

#[path = "support/order.rs"]
mod order;
use order::order;

#[path = "support/countdown.rs"]
mod countdown;
use countdown::Countdown;

#[path = "support/entry.rs"]
mod entry;
use entry::pairs_via_entry;

/// Fixed 64-byte pairs that write their block.
fn pairs64<A: GlobalAlloc>(a: &A, n: usize) {
    workloads::pairs64(a, n, true);
}

static DHAT_KIT: dhat_kit::Alloc = dhat_kit::Alloc::new();
static STATS_ALLOC: stats_alloc::StatsAlloc<System> = stats_alloc::StatsAlloc::system();

const PAIRS: usize = 2_000_000;
const REALLOCS: usize = 1_000_000;
const ROUNDS: usize = 31;
/// More rounds for the reallocations: how fast `System` grows a block in place depends on where the
/// heap's blocks lie, which moves from round to round (`System` against itself reads 0.93–1.02x in
/// the median of 31 rounds), so their medians need more rounds to settle.
const REALLOC_ROUNDS: usize = 101;

/// The median over the rounds of allocator `column`'s time in a round divided by `System`'s in the
/// same round (see `support/order.rs`): a second view of the cost, steadier than the ratio of the best
/// rounds where the machine's speed drifts between rounds.
fn median(paired: &[[f64; COLUMNS]], column: usize) -> f64 {
    let mut ratios: Vec<f64> = paired.iter().map(|round| round[column]).collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

/// The columns: `System`, dhat-kit, `stats_alloc`, the countdown, and `System` again.
const COLUMNS: usize = 5;

/// `work` on `threads` threads at once; the wall time of the slowest.
fn timed(threads: usize, work: fn()) -> Duration {
    let depth = stack_depth();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(move || deeper(depth, work));
        }
    });
    start.elapsed()
}

/// `DHAT_KIT_BENCH_STACK_DEPTH`: how many frames deeper the timed threads run their work (0).
fn stack_depth() -> usize {
    std::env::var("DHAT_KIT_BENCH_STACK_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs `work` `depth` frames of 64 bytes down the stack (see the module's documentation).
#[inline(never)]
fn deeper(depth: usize, work: fn()) {
    if depth == 0 {
        return work();
    }
    let frame = std::hint::black_box([0u8; 64]);
    deeper(depth - 1, work);
    std::hint::black_box(&frame);
}

struct Case {
    name: &'static str,
    threads: usize,
    rounds: usize,
    runs: [fn(); COLUMNS],
    /// Whether the rounds run inside `measure_all`.
    exact: bool,
}

/// The runs of `$work` over `$n` operations under each allocator, in the columns' order.
macro_rules! runs {
    ($work:ident, $n:expr) => {
        [
            || $work(&System, $n),
            || $work(&DHAT_KIT, $n),
            || $work(&STATS_ALLOC, $n),
            || $work(&Countdown, $n),
            || $work(&System, $n),
        ]
    };
}

fn main() {
    // `cargo bench --bench alloc_overhead -- realloc` runs the rows whose name holds "realloc".
    let Some(rows) = Rows::from_args() else {
        return;
    };
    // Each workload twice: as it stands, and inside `measure_all`.
    let table = [
        (
            "alloc+free pairs, 1 thread",
            "pairs, 1 thread, in measure_all",
            1,
            ROUNDS,
            runs!(pairs, PAIRS),
        ),
        (
            "alloc+free pairs, 2 threads",
            "pairs, 2 threads, in measure_all",
            2,
            ROUNDS,
            runs!(pairs, PAIRS),
        ),
        (
            "pairs via entry points, 1 thread",
            "via entry, 1 thread, in measure_all",
            1,
            ROUNDS,
            runs!(pairs_via_entry, PAIRS),
        ),
        (
            "pairs via entry points, 2 threads",
            "via entry, 2 threads, in measure_all",
            2,
            ROUNDS,
            runs!(pairs_via_entry, PAIRS),
        ),
        (
            "fixed 64-byte pairs, 1 thread",
            "64-byte, 1 thread, in measure_all",
            1,
            ROUNDS,
            runs!(pairs64, PAIRS),
        ),
        (
            "fixed 64-byte pairs, 2 threads",
            "64-byte, 2 threads, in measure_all",
            2,
            ROUNDS,
            runs!(pairs64, PAIRS),
        ),
        (
            "realloc-heavy, 1 thread",
            "realloc-heavy, in measure_all",
            1,
            REALLOC_ROUNDS,
            runs!(reallocs, REALLOCS),
        ),
    ];
    let cases: Vec<Case> = table
        .into_iter()
        .flat_map(|(name, exact_name, threads, rounds, runs)| {
            [(name, false), (exact_name, true)].map(|(name, exact)| Case {
                name,
                threads,
                rounds,
                runs,
                exact,
            })
        })
        .filter(|case| rows.wanted(case.name))
        .collect();
    println!(
        "{:<34} {:>10} {:>10} {:>12} {:>10} {:>11} {:>14} {:>12}  {:>25}",
        "case",
        "System",
        "dhat-kit",
        "stats_alloc",
        "countdown",
        "dhat-kit/S",
        "stats_alloc/S",
        "countdown/S",
        "median dk/S cd/S S/S"
    );
    for case in &cases {
        let mut best = [Duration::MAX; COLUMNS];
        let mut paired = vec![[0.0; COLUMNS]; case.rounds];
        let mut rounds = || {
            for (round, ratios) in paired.iter_mut().enumerate() {
                let mut times = [Duration::ZERO; COLUMNS];
                // Every other round runs the allocators in reverse order, so that no allocator
                // always runs first, or just after `System`.
                for i in order::<COLUMNS>(round) {
                    times[i] = timed(case.threads, case.runs[i]);
                    best[i] = best[i].min(times[i]);
                }
                for (ratio, time) in ratios.iter_mut().zip(times) {
                    *ratio = time.as_secs_f64() / times[0].as_secs_f64();
                }
            }
        };
        if case.exact {
            // The span puts the allocator in exact mode; its figures are not the point.
            let _ = dhat_kit::measure_all(rounds);
        } else {
            rounds();
        }
        let ns = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let ratio = |d: Duration| d.as_secs_f64() / best[0].as_secs_f64();
        println!(
            "{:<34} {:>10} {:>10} {:>12} {:>10} {:>10.2}x {:>13.2}x {:>11.2}x  {:>7.2}x {:>7.2}x {:>7.2}x",
            case.name,
            ns(best[0]),
            ns(best[1]),
            ns(best[2]),
            ns(best[3]),
            ratio(best[1]),
            ratio(best[2]),
            ratio(best[3]),
            median(&paired, 1),
            median(&paired, 3),
            median(&paired, 4)
        );
    }
}
