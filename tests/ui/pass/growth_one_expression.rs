//! A body of one expression, with or without a value, raises no lint of the attribute's making
//! (it raised `unused_braces`, whose suggested fix, a body without braces, does not compile).
#![deny(unused_braces)]

dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [10, 100, 1_000])]
#[allow(dead_code)]
#[rustfmt::skip]
fn one_statement(n: usize) { drop(vec![0u8; n]) }

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [10, 100, 1_000])]
#[allow(dead_code)]
#[rustfmt::skip]
fn one_value(n: usize) -> usize { vec![0u8; n].len() }

fn main() {}
