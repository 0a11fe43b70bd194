dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 4096, tolerance = 5)]
fn small() {}

fn main() {
    small();
}
