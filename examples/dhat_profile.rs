//! The main job: a workload measured end to end. Run with
//! `cargo run --release --example dhat_profile [SIZE]`.

dhat_kit::global_allocator!();

use std::collections::HashMap;

fn workload(size: usize) -> usize {
    let mut words: HashMap<String, usize> = HashMap::new();
    for i in 0..size {
        *words.entry(format!("word{}", i % 1000)).or_default() += 1;
    }
    words.len()
}

fn main() {
    let size = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SIZE must be a number"))
        .unwrap_or(100_000);
    let (distinct, stats) = dhat_kit::measure(|| workload(size));
    println!("{distinct} distinct words from {size}");
    println!("workload: {stats}");
    println!("process:  {}", dhat_kit::process_stats());
}
