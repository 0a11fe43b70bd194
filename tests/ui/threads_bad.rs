dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(max_bytes = 4096, threads = "every")]
fn small() {}

fn main() {
    small();
}
