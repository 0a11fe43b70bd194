dhat_kit::global_allocator!();

#[dhat_kit::assert_heap(curr_bytes = -1)]
fn small() {}

/// `-0` is 0, but no unsigned integer takes `-0u64`: said as negative, not as rustc's "cannot
/// apply unary operator `-`".
#[dhat_kit::assert_heap(curr_bytes = -0u64)]
fn unsigned_zero() {}

fn main() {
    small();
    unsigned_zero();
}
