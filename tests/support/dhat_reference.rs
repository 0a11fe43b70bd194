//! The reference run of the exactness test: the shared workload under dhat's own allocator,
//! printing dhat's `HeapStats` before and after it as JSON (one line).

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[path = "../workload/mod.rs"]
mod workload;

fn fields(s: &dhat::HeapStats) -> [u64; 6] {
    [
        s.total_bytes,
        s.total_blocks,
        s.max_bytes as u64,
        s.max_blocks as u64,
        s.curr_bytes as u64,
        s.curr_blocks as u64,
    ]
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let before = dhat::HeapStats::get();
    let kept = workload::run();
    let after = dhat::HeapStats::get();
    drop(kept);
    println!(
        "{{\"before\":{:?},\"after\":{:?}}}",
        fields(&before),
        fields(&after)
    );
}
