//! `#[assert_heap]`'s expansion adds no lint of its own to a crate that asks for clippy's pedantic
//! lints: the limit's conversion, written at the limit's span, read as the user's cast
//! (`cast_sign_loss` on `64 * 1024`, evaluated in `i128`, and on a signed constant;
//! `cast_lossless` on a `u32` one). `.ci/run` lints this file with `-D warnings`.
#![warn(clippy::pedantic)]

use dhat_kit::assert_heap;
use std::hint::black_box;

dhat_kit::global_allocator!();

const SIGNED: i32 = 4;
const NARROW: u32 = 4096;

#[test]
#[assert_heap(max_bytes = 64 * 1024, total_bytes = 1 << 20, total_blocks = SIGNED, curr_bytes = NARROW)]
fn limits_of_every_form() {
    drop(black_box(vec![0u8; 1024]));
}
