dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 4096, total_blocks = 3, max_bytes = 8192)]
fn small() {}

fn main() {
    small();
}
