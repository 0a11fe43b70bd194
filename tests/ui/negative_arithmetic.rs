dhat_kit::global_allocator!();

// Arithmetic on literals is evaluated in i128: a negative result is refused as such.
#[dhat_kit::assert_heap(max_bytes = 1024 - 4 * 1024 * 1024 * 1024)]
fn small() {}

fn main() {
    small();
}
