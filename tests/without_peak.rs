//! The build without the `peak` feature, as a library takes dhat-kit (`default-features = false`)
//! when only the programs and tests that use it count: nothing is counted, and whatever needs
//! counting says so rather than pass on figures of zero. (`scripts/test` runs it with
//! `--no-default-features`; the files that measure are built with `peak` only.)
#![cfg(not(feature = "peak"))]

dhat_kit::global_allocator!();

use std::hint::black_box;

fn message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().map_or("", |s| s).to_string(),
    }
}

#[test]
fn measurements_read_zero_and_the_allocator_is_not_counting() {
    let (n, stats) = dhat_kit::measure(|| black_box(vec![0u8; 100]).len());
    assert_eq!(n, 100);
    assert_eq!(stats, dhat_kit::Stats::default());
    assert_eq!(
        dhat_kit::measure_all(|| black_box(vec![0u8; 100]).len()).1,
        stats
    );
    assert!(!dhat_kit::is_installed());
}

#[test]
fn regions_compile_and_count_nothing() {
    {
        dhat_kit::region!("without-peak");
        black_box(vec![0u8; 100]);
    }
    let regions = dhat_kit::regions();
    assert!(regions.is_empty());
    // Entered, but not counted: it says why, not that none was entered.
    assert_eq!(
        regions.to_string(),
        "no regions are counted: dhat-kit was built without its `peak` feature\n"
    );
}

#[dhat_kit::assert_heap(max_bytes = 1)]
fn a_budget_it_cannot_measure() {
    black_box(vec![0u8; 100]);
}

/// A budget never passes on zeros: it fails, saying what to enable.
#[test]
fn a_budget_fails_saying_the_feature_is_missing() {
    let why = message(std::panic::catch_unwind(a_budget_it_cannot_measure).unwrap_err());
    assert!(
        why.contains("cannot measure: dhat-kit was built without its `peak` feature"),
        "{why}"
    );
    assert!(why.contains("features = [\"peak\"]"), "{why}");
}

#[test]
fn a_session_says_its_feature_is_missing() {
    match dhat_kit::Profiler::builder().summary(false).build() {
        Err(e @ dhat_kit::Error::NotBuilt { .. }) => {
            let text = e.to_string();
            assert!(text.contains("peak"), "{text}");
        }
        other => panic!("expected NotBuilt, got {other:?}"),
    }
}
