//! What the fuzz targets share: the oracle of a profile read (serde_json's reading of the same
//! bytes), and the repository's real profiles.
#![allow(dead_code)]
use dhat_kit::profile;

#[path = "../../dhat-kit/tests/support/oracle.rs"]
pub mod oracle;

pub const FIXTURES: [&[u8]; 9] = [
    include_bytes!("../../tests/fixtures/valgrind-heap.json"),
    include_bytes!("../../tests/fixtures/valgrind-copy.json"),
    include_bytes!("../../tests/fixtures/valgrind-ad-hoc.json"),
    include_bytes!("../../tests/fixtures/dhat-rs-heap.json"),
    include_bytes!("../../tests/fixtures/dhat-rs-ad-hoc.json"),
    include_bytes!("../../tests/fixtures/dhat-kit-peak.json"),
    include_bytes!("../../tests/fixtures/valgrind-cpp-clones.json"),
    include_bytes!("../../tests/fixtures/valgrind-cpp-release.json"),
    include_bytes!("../../tests/fixtures/valgrind-rust-release.json"),
];

pub fn fixture(i: u8) -> profile::Profile {
    let f = FIXTURES[i as usize % FIXTURES.len()];
    profile::from_slice(f, "fixture.json").unwrap()
}

/// Every way a budget report says itself: none may panic.
pub fn say_all(r: &dhat_kit::analyze::budget::BudgetReport) {
    let _ = r.render();
    let _ = r.render_markdown();
    let _ = r.explain();
    let _ = r.explain_markdown();
    let _ = r.warnings();
    let _ = r.failure();
    let _ = r.passed();
    let _ = r.clone().strict();
}
