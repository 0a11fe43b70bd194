//! Memory per operation and per dataset size, the way a service measures its endpoints: for each
//! size, one `dhat_kit::measure` of the operation, printed as bytes and blocks in all, at the peak,
//! and per item. Exact figures, not timings: the same on every run and every machine with the same
//! standard library. Run with `cargo bench --bench per_operation`.

dhat_kit::global_allocator!();

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

/// Parses `n` `key=value` lines into a map: the "load a dataset" operation.
fn load(n: usize) -> HashMap<String, u64> {
    let text: String = (0..n).map(|i| format!("key{i}={}\n", i * 7)).collect();
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.parse().unwrap_or(0)))
        .collect()
}

/// Groups the map's values by their last digit: the "aggregate" operation.
fn aggregate(map: &HashMap<String, u64>) -> BTreeMap<u64, Vec<u64>> {
    let mut groups: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for v in map.values() {
        groups.entry(v % 10).or_default().push(*v);
    }
    groups
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    assert!(
        dhat_kit::is_installed(),
        "the counting allocator must be installed"
    );
    println!(
        "{:<10} {:>8} {:>14} {:>10} {:>14} {:>12} {:>12}",
        "operation", "items", "total bytes", "blocks", "peak bytes", "bytes/item", "blocks/item"
    );
    for n in [1_000, 10_000, 100_000] {
        let (map, load_stats) = dhat_kit::measure(|| load(n));
        let (groups, agg_stats) = dhat_kit::measure(|| aggregate(&map));
        for (name, s) in [("load", load_stats), ("aggregate", agg_stats)] {
            println!(
                "{:<10} {:>8} {:>14} {:>10} {:>14} {:>12.1} {:>12.2}",
                name,
                n,
                s.total_bytes,
                s.total_blocks,
                s.max_bytes,
                s.total_bytes as f64 / n as f64,
                s.total_blocks as f64 / n as f64
            );
        }
        black_box((map, groups));
    }
}
