dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(max_bytes = "n^4", sizes = [100, 1_000, 10_000])]
#[test]
fn index(n: usize) {
    let _ = vec![0u8; n];
}

#[dhat_kit::assert_growth(total_blocks = "linear", sizes = [100, 1_000, 10_000])]
#[test]
fn words(n: usize) {
    let _ = vec![0u8; n];
}

fn main() {}
