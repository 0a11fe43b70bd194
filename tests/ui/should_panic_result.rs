dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 1024)]
#[test]
#[should_panic]
fn parse() -> Result<(), String> {
    let _ = vec![0u8; 10];
    Ok(())
}

fn main() {}
