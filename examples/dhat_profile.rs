//! The main job: a tiny interpreter (parser, environments with parent links, function calls)
//! instrumented with regions at its hotspots (`tests/workload/interp.rs`), profiled in the mode the
//! cargo features choose. Each table is printed once: the example prints the regions, and the
//! session writes its file without a second summary.
//!
//! ```sh
//! cargo run --release --example dhat_profile            # peak mode: regions table, dhat-peak.json
//! cargo run --release --example dhat_profile -- 22      # a bigger workload
//! cargo run --release --example dhat_profile --features heap     # dhat-heap.json
//! cargo run --release --example dhat_profile --features ad-hoc   # dhat-ad-hoc.json
//! cargo run --release --example dhat_profile --features sampled  # dhat-sampled.json: stacks
//! ```

dhat_kit::global_allocator!();

#[path = "../tests/workload/interp.rs"]
mod interp;

fn main() {
    let size: i64 = match std::env::args().nth(1) {
        None => 18,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("usage: dhat_profile [SIZE]  (SIZE: a whole number, default 18)");
            std::process::exit(2);
        }),
    };
    // The regions table is printed below, once: the session's own summary would repeat it.
    let profiler = dhat_kit::Profiler::builder()
        .summary(false)
        .build()
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1);
        });
    let (last, calls) = interp::run(size);
    println!(
        "(fib {size}) and a list of {}: {last}, in {calls} calls",
        size * 10
    );
    println!("{}", dhat_kit::regions());
    match profiler.finish() {
        Ok(path) => println!("profile: {}", path.display()),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
