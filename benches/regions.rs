//! The cost of a region: enter + exit, nested one level under another, with the counting
//! allocator installed, and its ratio to one `System` alloc + free pair of 64 bytes measured in
//! the same run (the yardstick: target at most 2x). Run with `cargo bench --bench regions`; best
//! of 15 rounds.

dhat_kit::global_allocator!();

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::{Duration, Instant};

const ITERS: u32 = 2_000_000;
const ROUNDS: usize = 15;

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

fn best(f: fn(u64) -> u64) -> Duration {
    let _outer = dhat_kit::Region::enter("interpreter");
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for i in 0..ITERS {
                black_box(f(u64::from(i)));
            }
            start.elapsed()
        })
        .min()
        .unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let base = best(plain);
    let with = best(instrumented);
    let pair = best(system_pair);
    let per = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(ITERS);
    println!("plain call:                  {:6.2} ns", per(base));
    println!("call with region!:           {:6.2} ns", per(with));
    let region = per(with) - per(base);
    println!("region enter + exit:         {region:6.2} ns");
    let pair = per(pair) - per(base);
    println!("System 64-byte alloc + free: {pair:6.2} ns");
    println!(
        "region / System pair:        {:6.2}x (target at most 2x)",
        region / pair
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
