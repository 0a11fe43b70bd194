//! The cost of a region: enter + exit, nested one level under another, with the counting
//! allocator installed. Run with `cargo bench --bench regions`; best of 15 rounds.

dhat_kit::global_allocator!();

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
    let per = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(ITERS);
    println!("plain call:                  {:6.2} ns", per(base));
    println!("call with region!:           {:6.2} ns", per(with));
    println!(
        "region enter + exit:         {:6.2} ns",
        per(with) - per(base)
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
