dhat_kit::global_allocator!();

#[dhat_kit::assert_heap]
fn small() {}

fn main() {
    small();
}
