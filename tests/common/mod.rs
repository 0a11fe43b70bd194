//! Helpers shared by the integration tests.

use dhat_kit::Stats;

/// `Stats` from (bytes, blocks) pairs: everything allocated, at the peak, live at the end.
pub fn stats(total: (u64, u64), max: (u64, u64), curr: (u64, u64)) -> Stats {
    let mut s = Stats::default();
    (s.total_bytes, s.total_blocks) = total;
    (s.max_bytes, s.max_blocks) = max;
    (s.curr_bytes, s.curr_blocks) = curr;
    s
}
