//! The runtime of `#[assert_growth]`: runs the test's function at each size with
//! [`growth`](fn@crate::growth) and fails when a figure grows faster than its declared class.

use crate::growth::{growth, GrowthClass};

/// Runs `case` at each of `sizes` on this thread and checks each `(figure, class)` of `declared`:
/// the figure must not grow faster than its class.
///
/// # Panics
///
/// When a figure grows faster than declared, with one line per such figure
/// (`max_bytes grows as n² (exponent 1.98), declared n`) and the table of all figures; when
/// nothing can be measured (no dhat-kit allocator installed, or dhat-kit built without `peak`),
/// without running `case`; and if `case` panics.
#[track_caller]
pub fn run_growth<R>(
    test: &str,
    sizes: &[usize],
    declared: &[(&str, GrowthClass)],
    case: impl FnMut(usize) -> R,
) {
    if let Some(why) = unmeasurable(test, cfg!(feature = "peak"), crate::is_installed) {
        panic!("{why}");
    }
    let report = growth(sizes, case);
    let failures: Vec<String> = declared
        .iter()
        .filter_map(|&(figure, class)| report.exceeds(figure, class))
        .collect();
    if !failures.is_empty() {
        panic!(
            "dhat-kit: {test} grows faster than declared\n  {}\n{report}",
            failures.join("\n  ")
        );
    }
}

fn unmeasurable(test: &str, counting: bool, installed: impl FnOnce() -> bool) -> Option<String> {
    if !counting {
        return Some(format!(
            "dhat-kit: #[assert_growth] on {test} cannot measure: dhat-kit was built without its \
             `peak` feature, so nothing is counted. Enable it (it is a default feature) where \
             dhat-kit is a dependency."
        ));
    }
    if !installed() {
        return Some(format!(
            "dhat-kit: #[assert_growth] on {test} cannot measure: dhat-kit's allocator is not \
             installed in this test binary. Add this line at the root of the test crate:\n\n    \
             dhat_kit::global_allocator!();\n"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_pass_without_counting() {
        let why = unmeasurable("t::case", false, || true).unwrap();
        assert!(why.contains("`peak` feature"), "{why}");
        let why = unmeasurable("t::case", true, || false).unwrap();
        assert!(why.contains("dhat_kit::global_allocator!();"), "{why}");
        assert!(unmeasurable("t::case", true, || true).is_none());
    }
}
