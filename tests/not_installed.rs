//! Without dhat-kit's allocator installed, nothing is counted, and the kit says so.

#[test]
fn is_installed_is_false_and_measure_reads_zero() {
    assert!(!dhat_kit::is_installed());
    let (v, s) = dhat_kit::measure(|| vec![0u8; 1000]);
    assert_eq!(v.len(), 1000);
    assert_eq!(s, dhat_kit::Stats::default());
}
