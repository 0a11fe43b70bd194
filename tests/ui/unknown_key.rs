dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_byte = 4096)]
fn small() {}

fn main() {
    small();
}
