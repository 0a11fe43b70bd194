//! Every key, values of several integer types and forms, and `crate = "..."`: all compile. (Their
//! figures are checked in tests/assert_heap.rs; trybuild builds dhat-kit without its features.)
dhat_kit::global_allocator!();

const LIMIT: usize = 64 * 1024;

mod kit {
    pub use dhat_kit::*;
}

#[dhat_kit::assert_heap(
    max_bytes = LIMIT,
    max_blocks = 4u32,
    total_bytes = 64 * 1024,
    total_blocks = (2 + 2),
    curr_bytes = 0,
    curr_blocks = 0i64,
)]
fn every_key() {
    drop(std::hint::black_box(vec![0u8; 1024]));
}

#[dhat_kit::assert_heap(crate = "kit", total_blocks = 1, max_bytes = 5_000_000_000)]
fn through_a_path() -> Result<(), String> {
    drop(std::hint::black_box(vec![0u8; 1024]));
    Ok(())
}

const SIGNED: i64 = 1 << 40;
const WIDE: u128 = u128::MAX;

// Typed and untyped constants of every width; `u64::MAX` and beyond saturate.
#[dhat_kit::assert_heap(
    max_bytes = SIGNED,
    total_bytes = WIDE,
    total_blocks = u64::MAX,
    curr_bytes = 8u64 << 30,
    max_blocks = 7u8,
    curr_blocks = 3isize
)]
fn wide_values() {}

/// `-0` is 0, not negative.
#[dhat_kit::assert_heap(curr_bytes = -0, curr_blocks = (-0))]
fn minus_zero() {}

fn main() {
    let _: fn() = minus_zero;
    let _: fn() = wide_values;
    let _: fn() = every_key;
    let _: fn() -> Result<(), String> = through_a_path;
}
