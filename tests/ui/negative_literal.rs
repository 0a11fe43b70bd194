dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(curr_bytes = -1)]
fn small() {}

fn main() {
    small();
}
