dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
#[test]
fn index(n: u32) {
    let _ = vec![0u8; n as usize];
}

fn main() {}
