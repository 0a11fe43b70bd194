//! Every key of `#[assert_growth]`, with dhat-kit reached through a re-export.

mod kit {
    pub use dhat_kit;
}

dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(
    total_bytes = "n",
    total_blocks = "1",
    max_bytes = "n^2",
    max_blocks = "constant",
    curr_bytes = "n log n",
    curr_blocks = "log n",
    sizes = [1, 10, 100, 1_000],
    crate = "kit::dhat_kit",
)]
fn index(mut n: usize) -> Vec<u8> {
    #![allow(unused_mut)]
    n += 1;
    vec![0u8; n]
}

fn main() {
    // Not run: trybuild builds dhat-kit without `peak`, so the test would refuse to pass.
    let _: fn() = index;
}
