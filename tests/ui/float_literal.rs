dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 4096.0)]
fn small() {}

fn main() {
    small();
}
