dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn index(n: usize) {
    vec![0u8; n]
}

fn main() {}
