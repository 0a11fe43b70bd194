//! Values written as a person might, each said at the value with what to write: a tolerance with
//! `%` (said at the attribute's end, "unexpected end of input"), a limit with a unit (said as a
//! missing `,`), a `crate` that is no path ("unexpected token"); and a second `#[assert_heap]` on
//! one function (accepted: it measured the first's work and said only its own failure).
dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(baseline, tolerance = 5%)]
fn tolerance_with_percent() {}

#[dhat_kit::assert_heap(max_bytes = 8 MiB)]
fn limit_with_a_unit() {}

#[dhat_kit::assert_heap(max_bytes = 8, crate = "not a path")]
fn crate_not_a_path() {}

#[dhat_kit::assert_heap(max_bytes = 100)]
#[dhat_kit::assert_heap(total_blocks = 0)]
fn two_budgets() {}

fn main() {}
