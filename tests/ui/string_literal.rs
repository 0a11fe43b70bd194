dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(total_bytes = "4096")]
fn small() {}

fn main() {
    small();
}
