//! The reader on a real dhat-rs heap profile, made here and now: a multi-crate workload
//! (`tests/support/dhat_rs_workload.rs`: serde_json, serde, itoa, ryu, std's `HashMap`) under
//! dhat-rs's own profiler. Its totals are the ones dhat printed, a program point with more blocks
//! at t-gmax than at its maximum (`gbk > mbk`, legal) reads, and what the command does with a
//! profile (summary, top, diff, flame graph, baseline check) works on it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use dhat_kit::analyze::{self, Metric, TopOptions};
use dhat_kit::baseline::{compare, BaselineFigures, METRICS};

/// "17,170 bytes in 115 blocks" after `label` in dhat's stderr (`dhat: Total: ...`).
fn printed(stderr: &str, label: &str) -> (u64, u64) {
    common::printed(stderr, label).unwrap_or_else(|| panic!("no {label} in {stderr}"))
}

#[test]
fn a_real_dhat_rs_profile_reads_with_the_totals_dhat_printed() {
    let dir = common::TempDir::new("rs-corpus");
    let file: PathBuf = dir.0.join("dhat-heap.json");
    let out = Command::new(env!("CARGO_BIN_EXE_dhat-rs-workload"))
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let p = dhat_kit::profile::read(&file).unwrap_or_else(|e| panic!("{e}"));
    let t = p.totals();
    assert_eq!((t.bytes, t.blocks), printed(&stderr, "dhat: Total:"));
    assert_eq!(
        (t.peak_bytes.unwrap(), t.peak_blocks.unwrap()),
        printed(&stderr, "dhat: At t-gmax:")
    );
    assert_eq!(
        (t.end_bytes.unwrap(), t.end_blocks.unwrap()),
        printed(&stderr, "dhat: At t-end:")
    );

    // The point of the ten small blocks: one 1,000-byte block was its maximum.
    let shaped = p
        .pps
        .iter()
        .find(|pp| pp.tb == 1100 && pp.tbk == 11)
        .expect("the block() point");
    assert_eq!((shaped.mb, shaped.mbk), (1000, 1));
    assert_eq!((shaped.gb, shaped.gbk), (100, 10));
    assert!(shaped.gbk > shaped.mbk);

    // Several crates allocate, and top names them.
    let crates = analyze::top(&p, &{
        let mut opts = TopOptions::default();
        (opts.n, opts.group_by) = (0, analyze::GroupBy::Crate);
        opts
    })
    .unwrap();
    for krate in ["dhat_rs_workload", "serde_json", "hashbrown"] {
        assert!(
            crates.rows.iter().any(|r| r.site == krate),
            "{krate}: {crates:?}"
        );
    }
    let top = analyze::top(&p, &TopOptions::default()).unwrap();
    assert_eq!(top.total, t.bytes);
    assert!(top.rows[0].site.starts_with("serde_json::"), "{top:?}");
    let same = analyze::diff(&p, &p, &analyze::DiffOptions::default()).unwrap();
    assert_eq!(same.changed, 0);
    assert!(!analyze::folded(&p, Metric::TotalBytes).unwrap().is_empty());
    #[cfg(feature = "cli")]
    {
        let mut svg = Vec::new();
        analyze::flamegraph_svg(&p, Metric::TotalBytes, "workload", &mut svg).unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("dhat_rs_workload"));
    }
    let now = BaselineFigures::from_profile(&p);
    assert!(compare("workload", &now, &now, 0.0, &METRICS).passed());
}
