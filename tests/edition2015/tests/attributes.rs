//! `#[assert_heap]` in a crate of the 2015 edition: a limit that is an expression and a baseline
//! compile. Their expansion wrote `::core::panic!` and `::core::env!` at the value's span, which
//! in this edition is a path from the crate's root ("cannot find `core` in the crate root").
#![cfg(feature = "peak")]

extern crate dhat_kit;

use std::hint::black_box;

dhat_kit::global_allocator!();

const BLOCKS: u64 = 1;

#[test]
#[dhat_kit::assert_heap(max_bytes = 4 * 1024, total_blocks = BLOCKS, curr_bytes = 0)]
fn expressions_as_limits() {
    drop(black_box(vec![0u8; 1024]));
}

/// Compiled, not run: its check would need an entry in a baseline file.
#[test]
#[ignore = "compiled only: a baseline needs its entry recorded"]
#[dhat_kit::assert_heap(baseline)]
fn a_baseline() {
    drop(black_box(vec![0u8; 1024]));
}
