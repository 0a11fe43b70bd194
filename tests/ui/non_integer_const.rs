dhat_kit::global_allocator!();

const LIMIT: f64 = 4096.0;

#[dhat_kit::assert_heap(max_bytes = LIMIT)]
fn small() {}

fn main() {
    small();
}
