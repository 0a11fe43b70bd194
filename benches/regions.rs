//! The cost of a region: enter + exit, nested one level under another, with the counting
//! allocator installed, and its ratio to one `System` alloc + free pair of 64 bytes measured in
//! the same run (the yardstick: target at most 2x). Run with `cargo bench --bench regions`; 31
//! rounds, the three alternating.

dhat_kit::global_allocator!();

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ITERS: u32 = 2_000_000;
const ROUNDS: usize = 31;

#[inline(never)]
fn plain(x: u64) -> u64 {
    black_box(x).wrapping_mul(3)
}

#[inline(never)]
fn instrumented(x: u64) -> u64 {
    dhat_kit::region!("call_function");
    black_box(x).wrapping_mul(3)
}

/// One `System` alloc + free pair of 64 bytes that writes its block, called directly (not through
/// the counting allocator).
#[inline(never)]
fn system_pair(x: u64) -> u64 {
    let layout = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: the layout has a non-zero size; the block is written within its 64 bytes and freed
    // once, with the layout it was allocated with.
    unsafe {
        let p = System.alloc(layout);
        assert!(!p.is_null());
        p.write_volatile(x as u8);
        System.dealloc(black_box(p), layout);
    }
    x
}

/// One round of `f`: `ITERS` calls.
fn round(f: fn(u64) -> u64) -> Duration {
    let start = Instant::now();
    for i in 0..ITERS {
        black_box(f(u64::from(i)));
    }
    start.elapsed()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let _outer = dhat_kit::Region::enter("interpreter");
    // The three alternate round by round, so that the machine's drifts in speed reach all three
    // alike: the best round of each, and the median of the rounds' own ratios.
    let per = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(ITERS);
    let mut best = [f64::MAX; 3];
    let mut ratios = [0.0; ROUNDS];
    for ratio in &mut ratios {
        let ns = [plain, instrumented, system_pair].map(|f| per(round(f)));
        for (best, ns) in best.iter_mut().zip(ns) {
            *best = best.min(ns);
        }
        *ratio = (ns[1] - ns[0]) / (ns[2] - ns[0]);
    }
    ratios.sort_by(f64::total_cmp);
    let [base, with, pair] = best;
    println!("plain call:                  {base:6.2} ns");
    println!("call with region!:           {with:6.2} ns");
    let region = with - base;
    println!("region enter + exit:         {region:6.2} ns");
    let pair = pair - base;
    println!("System 64-byte alloc + free: {pair:6.2} ns");
    println!(
        "region / System pair:        {:6.2}x best rounds, {:.2}x median round (target at most 2x)",
        region / pair,
        ratios[ROUNDS / 2]
    );
    // Built without a counting feature (`--no-default-features`), regions compile to nothing and
    // the two functions cost the same.
    let counted = dhat_kit::regions()
        .get("interpreter/call_function")
        .is_some();
    assert_eq!(
        counted,
        dhat_kit::is_installed(),
        "regions count exactly when counting is on"
    );
}
