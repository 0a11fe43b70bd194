dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 4096)]
struct Budgeted {
    bytes: Vec<u8>,
}

fn main() {
    let b = Budgeted { bytes: Vec::new() };
    assert!(b.bytes.is_empty());
}
