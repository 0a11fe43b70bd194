dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = , total_blocks = 3)]
fn small() {}

fn main() {
    small();
}
