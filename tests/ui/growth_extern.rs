dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
#[test]
extern "C" fn index(n: usize) {
    let _ = vec![0u8; n];
}

fn main() {}
