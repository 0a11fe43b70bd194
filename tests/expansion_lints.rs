//! `#[assert_heap]`'s expansion adds no lint of its own to a crate that asks for clippy's pedantic
//! lints: the limit's conversion, written at the limit's span, read as the user's cast
//! (`cast_sign_loss` on `64 * 1024`, evaluated in `i128`, and on a signed constant;
//! `cast_lossless` on a `u32` one; `unnecessary_cast`, a default lint, and `trivial_numeric_casts`
//! on a `u128` one). `.ci/run` lints this file with `-D warnings`. Values a `macro_rules!` passes
//! in (`$t:literal`, `$t:expr`, `$t:ty`), which reach the attributes in invisible groups, are
//! taken as written (they were refused, each with a message about its own kind of value).
#![warn(clippy::pedantic, trivial_numeric_casts)]

use dhat_kit::assert_heap;
use std::hint::black_box;

dhat_kit::global_allocator!();

const SIGNED: i32 = 4;
const NARROW: u32 = 4096;
const WIDE: u128 = 1 << 20;

#[test]
#[assert_heap(max_bytes = 64 * 1024, total_bytes = 1 << 20, total_blocks = SIGNED, curr_bytes = NARROW)]
fn limits_of_every_form() {
    drop(black_box(vec![0u8; 1024]));
}

#[test]
#[assert_heap(total_bytes = WIDE, max_bytes = 4096u128)]
fn a_limit_of_type_u128() {
    drop(black_box(vec![0u8; 1024]));
}

/// Tests made by a `macro_rules!`: every value a fragment, `tolerance = 5.` among them (the
/// attribute panicked on its digits, `5.f64`).
macro_rules! budgeted {
    ($name:ident, $tolerance:literal, $metric:literal, $threads:literal, $ret:ty) => {
        #[test]
        #[assert_heap(max_bytes = 4096, baseline = "expansion-lints-unused", tolerance = $tolerance, metrics = [$metric], threads = $threads)]
        #[ignore = "compiled for its attribute's arguments; its baseline is never written"]
        fn $name() -> $ret {
            drop(black_box(vec![0u8; 1024]));
        }
    };
}
budgeted!(values_from_a_macro, 5., "total_bytes", "current", ());

macro_rules! should_panic_from_a_macro {
    ($name:ident, $ret:ty) => {
        #[test]
        #[should_panic = "over"]
        #[assert_heap(max_bytes = 4096)]
        fn $name() -> $ret {
            drop(black_box(vec![0u8; 1024]));
            panic!("over");
        }
    };
}
should_panic_from_a_macro!(unit_from_a_macro, ());

macro_rules! growth_from_a_macro {
    ($name:ident, $class:literal, $threads:literal, $($size:literal),*) => {
        #[dhat_kit::assert_growth(total_bytes = $class, threads = $threads, sizes = [$($size),*])]
        #[test]
        fn $name(n: usize) {
            drop(black_box(vec![0u8; n]));
        }
    };
}
growth_from_a_macro!(
    growth_values_from_a_macro,
    "n",
    "current",
    1_000,
    10_000,
    100_000
);

#[test]
#[assert_heap(max_bytes = 4096, baseline = "expansion-lints-unused", tolerance = 5.)]
#[ignore = "compiled for its attribute's arguments; its baseline is never written"]
fn a_tolerance_written_with_a_bare_point() {
    drop(black_box(vec![0u8; 1024]));
}
