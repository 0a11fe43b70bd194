//! The regions report of a known workload, as a table and as JSON, checked field by field. Its own
//! binary: the report lists every region of the process.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

use std::hint::black_box;

fn environment_new() {
    dhat_kit::region!("Environment::new");
    black_box(vec![0u8; 2048]);
}

fn call_function() {
    dhat_kit::region!("call_function");
    black_box(vec![0u8; 512]);
    environment_new();
}

#[test]
fn the_report_prints_as_a_table_and_as_json() {
    for _ in 0..4 {
        call_function();
    }
    environment_new();
    let report = dhat_kit::regions();
    let paths: Vec<&str> = report.iter().map(|r| r.path.as_str()).collect();
    // Sorted by inclusive bytes: 4 x 2560, then 4 x 2048, then 1 x 2048.
    assert_eq!(
        paths,
        [
            "call_function",
            "call_function/Environment::new",
            "Environment::new"
        ]
    );

    // A for loop takes the report by reference and by value, in the same order.
    let mut by_ref = Vec::new();
    for r in &report {
        by_ref.push(r.path.as_str());
    }
    assert_eq!(by_ref, paths);
    let by_value: Vec<String> = report.clone().into_iter().map(|r| r.path).collect();
    assert_eq!(by_value, paths);

    let table = report.to_string();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    let cells = |line: &str| -> Vec<String> {
        line.split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    assert_eq!(
        cells(lines[0]),
        ["region", "entries", "bytes", "blocks", "self", "share", "peak", "kept"]
    );
    // All bytes allocated inside regions: 4 x 512 + 5 x 2048 = 12,288.
    assert_eq!(
        cells(lines[1]),
        [
            "call_function",
            "4",
            "10.0 KiB",
            "8",
            "2.0 KiB",
            "83.3%",
            "2.0 KiB",
            "0 B"
        ]
    );
    assert_eq!(
        cells(lines[2]),
        [
            "call_function/Environment::new",
            "4",
            "8.0 KiB",
            "4",
            "8.0 KiB",
            "66.7%",
            "2.0 KiB",
            "0 B"
        ]
    );
    assert_eq!(
        cells(lines[3]),
        [
            "Environment::new",
            "1",
            "2.0 KiB",
            "1",
            "2.0 KiB",
            "16.7%",
            "2.0 KiB",
            "0 B"
        ]
    );
    // Columns line up: every row is as wide as the header.
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{table}");

    let json: serde_json::Value = serde_json::to_value(&report).unwrap();
    let first = &json[0];
    assert_eq!(first["path"], "call_function");
    assert_eq!(first["name"], "call_function");
    assert_eq!(first["depth"], 0);
    assert_eq!(first["entries"], 4);
    let incl = &first["inclusive"];
    assert_eq!(incl["total_bytes"], 4 * 2560);
    assert_eq!(incl["total_blocks"], 8);
    // The 512-byte block is freed before the child allocates: the peak is the child's block alone.
    assert_eq!(incl["max_bytes"], 2048);
    assert_eq!(incl["max_blocks"], 1);
    assert_eq!(incl["curr_bytes"], 0);
    assert_eq!(incl["curr_blocks"], 0);
    let own = &first["self"];
    assert_eq!(
        (own["total_bytes"].as_u64(), own["max_bytes"].as_u64()),
        (Some(2048), Some(2048))
    );
    assert_eq!(json[1]["depth"], 1);
    assert_eq!(json[1]["name"], "Environment::new");
    assert_eq!(json.as_array().unwrap().len(), 3);

    dhat_kit::reset_regions();
    assert!(dhat_kit::regions().is_empty());
    assert_eq!(dhat_kit::regions().to_string(), "no regions were entered\n");

    // A thread's figures, handed over when it ends, are cleared without counting as frees.
    std::thread::spawn(call_function).join().unwrap();
    assert_eq!(dhat_kit::regions().get("call_function").unwrap().entries, 1);
    let keep = black_box(vec![0u8; 1 << 20]);
    let before = dhat_kit::thread_stats();
    dhat_kit::reset_regions();
    let after = dhat_kit::thread_stats();
    assert_eq!(
        (after.curr_bytes, after.curr_blocks),
        (before.curr_bytes, before.curr_blocks)
    );
    assert!(dhat_kit::regions().is_empty());
    drop(keep);
}
