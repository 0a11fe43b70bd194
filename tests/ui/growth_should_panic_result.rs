dhat_kit::global_allocator!();

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
#[test]
#[should_panic]
fn index(n: usize) -> Result<(), String> {
    let _ = vec![0u8; n];
    Ok(())
}

fn main() {}
