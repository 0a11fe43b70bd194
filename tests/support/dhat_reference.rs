//! The reference run of the exactness tests: the shared workload under dhat's own allocator,
//! printing dhat's `HeapStats` before and after it as JSON (one line); or, given `profile FILE`
//! (`profile-small FILE`: the small workload; `profile-small-after-peak FILE`: the small workload
//! after the large transient block), writing dhat's heap profile of a session around it to
//! `FILE` (the workload's blocks still live at the session's end).

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
    let args: Vec<String> = std::env::args().collect();
    if let [_, mode, file] = &args[..] {
        let before = workload::before_session(mode != "profile-small");
        let profiler = dhat::Profiler::builder().file_name(file).build();
        match mode.as_str() {
            "profile" => drop((profiler, workload::run())),
            "profile-small" | "profile-small-after-peak" => drop((profiler, workload::run_small())),
            _ => panic!(
                "usage: dhat-reference [profile FILE | profile-small FILE | \
                 profile-small-after-peak FILE]"
            ),
        }
        drop(before);
        return;
    }
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
