dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 'a')]
fn small() {}

fn main() {
    small();
}
