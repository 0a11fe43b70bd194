//! Memory per operation and per dataset size, the way a service measures its endpoints: each
//! operation run at growing sizes with `dhat_kit::growth`, which measures each run and fits how
//! each figure grows with the size. Exact figures, not timings: the same on every run and every
//! machine with the same standard library. Run with `cargo bench --bench per_operation`; it prints
//! each operation's table, then one Markdown table of all of them (the README's).

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

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    assert!(
        dhat_kit::is_installed(),
        "the counting allocator must be installed"
    );
    let load_growth = dhat_kit::growth(&SIZES, load);
    // Each dataset is loaded before aggregate is measured, so that only aggregate is counted.
    let maps: BTreeMap<usize, HashMap<String, u64>> = SIZES.iter().map(|&n| (n, load(n))).collect();
    let aggregate_growth = dhat_kit::growth(&SIZES, |n| aggregate(&maps[&n]));
    black_box(&maps);

    let operations = [("load", &load_growth), ("aggregate", &aggregate_growth)];
    for (name, growth) in operations {
        println!("{name}\n{growth}\n");
    }
    println!("| operation | items | total bytes | blocks | peak bytes | peak bytes/item |");
    println!("|---|---|---|---|---|---|");
    for (name, growth) in operations {
        for &(n, s) in growth.rows() {
            println!(
                "| {name} | {} | {} | {} | {} | {:.1} |",
                thousands(n as u64),
                thousands(s.total_bytes),
                thousands(s.total_blocks),
                thousands(s.max_bytes),
                s.max_bytes as f64 / n as f64
            );
        }
        let fit = |figure| growth.fit(figure).expect("a Stats field");
        println!(
            "| {name}: growth | | {} | {} | {} | |",
            fit("total_bytes"),
            fit("total_blocks"),
            fit("max_bytes")
        );
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
