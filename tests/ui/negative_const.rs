dhat_kit::global_allocator!();

const SLACK: i64 = -512;

#[dhat_kit::assert_heap(max_bytes = SLACK)]
fn small() {}

fn main() {
    small();
}
