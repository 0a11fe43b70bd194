//! Compile-time errors of `#[assert_heap]`, one case per file under `tests/ui/`, checked against
//! the committed `.stderr` (regenerate with `TRYBUILD=overwrite`, then review the diff).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
