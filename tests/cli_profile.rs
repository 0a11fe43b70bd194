//! The profile reader on real files: Valgrind DHAT's heap, copy and ad-hoc profiles, dhat-rs's
//! heap and ad-hoc profiles, and dhat-kit's own peak profile (see `tests/fixtures/`).
//!
//! Each file's totals are checked against what its producer printed at exit (kept beside it as
//! `*.stderr`), and against sums computed from `serde_json::Value`, a reader independent of ours.

mod common;

use common::printed;
use dhat_kit::profile::{self, Kind, Profile};

fn sum(v: &serde_json::Value, key: &str) -> u64 {
    v["pps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[key].as_u64().unwrap_or(0))
        .sum()
}

const ALL: [(&str, Kind); 6] = [
    ("valgrind-heap", Kind::Heap),
    ("valgrind-copy", Kind::Copy),
    ("valgrind-ad-hoc", Kind::AdHoc),
    ("dhat-rs-heap", Kind::Heap),
    ("dhat-rs-ad-hoc", Kind::AdHoc),
    ("dhat-kit-peak", Kind::Heap),
];

#[test]
fn every_fixture_reads_with_the_totals_its_producer_printed() {
    for (name, kind) in ALL {
        let path = common::fixture(&format!("{name}.json"));
        let p = profile::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.kind(), kind, "{name}");
        let t = p.totals();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(t.bytes, sum(&v, "tb"), "{name}");
        assert_eq!(t.blocks, sum(&v, "tbk"), "{name}");
        assert_eq!(p.pps.len(), v["pps"].as_array().unwrap().len(), "{name}");
        assert_eq!(p.ftbl.len(), v["ftbl"].as_array().unwrap().len(), "{name}");
        assert_eq!(p.mode, v["mode"].as_str().unwrap(), "{name}");
        assert_eq!(p.te, v["te"].as_u64().unwrap(), "{name}");
        if kind == Kind::Heap {
            assert_eq!(t.peak_bytes, Some(sum(&v, "gb")), "{name}");
            assert_eq!(t.end_bytes, Some(sum(&v, "eb")), "{name}");
        }
        let stderr_path = common::fixture(&format!("{name}.stderr"));
        let stderr = std::fs::read_to_string(&stderr_path).unwrap();
        if name == "dhat-kit-peak" {
            continue; // The kit prints rounded units; checked against the JSON sums above.
        }
        assert_eq!(
            printed(&stderr, "Total:"),
            Some((t.bytes, t.blocks)),
            "{name}"
        );
        if kind == Kind::Heap {
            let peak = (t.peak_bytes.unwrap(), t.peak_blocks.unwrap());
            let end = (t.end_bytes.unwrap(), t.end_blocks.unwrap());
            assert_eq!(printed(&stderr, "At t-gmax:"), Some(peak), "{name}");
            assert_eq!(printed(&stderr, "At t-end:"), Some(end), "{name}");
        }
        if let Some((reads, _)) = printed(&stderr, "Reads:") {
            assert_eq!(t.read_bytes, Some(reads), "{name}");
            let (writes, _) = printed(&stderr, "Writes:").unwrap();
            assert_eq!(t.written_bytes, Some(writes), "{name}");
        }
    }
}

#[test]
fn units_follow_the_file() {
    let adhoc = profile::read(common::fixture("valgrind-ad-hoc.json")).unwrap();
    assert_eq!(
        (adhoc.unit_plural(), adhoc.blocks_plural()),
        ("units", "events")
    );
    let heap = profile::read(common::fixture("valgrind-heap.json")).unwrap();
    assert_eq!(
        (heap.unit_plural(), heap.blocks_plural()),
        ("bytes", "blocks")
    );
    assert!(heap.bkacc && heap.pps.iter().any(|pp| pp.acc.is_some()));
}

#[test]
fn written_profiles_read_back_equal_and_in_order() {
    let dir = common::TempDir::new("cli-profile-written");
    for (name, _) in ALL {
        let p = profile::read(common::fixture(&format!("{name}.json"))).unwrap();
        let out = dir.0.join(format!("{name}.json"));
        p.write(&out).unwrap();
        let back: Profile = profile::read(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, p, "{name}");
        // The serde form is the same document as the written one.
        let via_serde = serde_json::to_string(&p).unwrap();
        let reread = profile::from_slice(via_serde.as_bytes(), name).unwrap();
        assert_eq!(reread, p, "{name}");
        // The written file is what DHAT's viewer checks for: same fields as the original.
        let orig: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(common::fixture(&format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(written, orig, "{name}");
    }
}
