// A budget on a function that no `#[test]` runs is never checked: rustc warns of it as
// `dead_code`, as it would of the function without the attribute (denied here to see it).
#![deny(dead_code)]

dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 4096)]
fn forgotten() {
    let _v = vec![0u8; 100];
}

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [10, 100, 1_000])]
fn forgotten_growth(n: usize) {
    let _v = vec![0u8; n];
}

#[dhat_kit::in_region]
fn never_called() {}

fn main() {}
