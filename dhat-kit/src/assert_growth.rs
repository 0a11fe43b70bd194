//! The runtime of `#[assert_growth]`: runs the test's function at each size with
//! [`growth`](fn@crate::growth) and fails when a figure grows faster than its declared class.

use crate::assert::SHOULD_PANIC_NOTE;
use crate::growth::{growth, Growth, GrowthClass};

/// Runs `case` at each of `sizes` on this thread and checks each `(figure, class)` of `declared`:
/// the figure must not grow faster than its class.
///
/// # Panics
///
/// When a figure grows faster than declared, or the sizes cannot tell its class from a faster
/// one than declared ([`Growth::exceeds`]), with one line per such figure
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
    let _place = crate::stats::Shared::acquire();
    if let Some(failure) = failure(test, sizes, declared, || Ok(growth(sizes, case))) {
        panic!("{failure}");
    }
}

/// [`run_growth`] for a `#[should_panic]` test: the function's own panic, at any size, passes
/// through (the expected panic; the sizes not run leave nothing to fit). A dhat-kit failure (a
/// figure growing faster than declared once every size has run, or nothing measurable) is printed
/// and this returns normally, so that the test fails ("did not panic as expected") and such a
/// failure is never taken for the expected panic.
pub fn run_growth_should_panic<R>(
    test: &str,
    sizes: &[usize],
    declared: &[(&str, GrowthClass)],
    case: impl FnMut(usize) -> R,
) {
    let _place = crate::stats::Shared::acquire();
    // A panic of the function passes through as it is: `growth` catches nothing.
    if let Some(failure) = failure(test, sizes, declared, || Ok(growth(sizes, case))) {
        eprintln!("{failure}\n{SHOULD_PANIC_NOTE}");
    }
}

/// [`run_growth`] with each size measured on every thread of the process
/// ([`growth_all`](crate::growth_all)): `#[assert_growth(threads = "all", ..)]`.
///
/// # Panics
///
/// As [`run_growth`], and when another thread of the process ran during the measurement (the
/// whole-process span's refusal, which names what to do).
#[track_caller]
pub fn run_growth_all<R>(
    test: &str,
    sizes: &[usize],
    declared: &[(&str, GrowthClass)],
    case: impl FnMut(usize) -> R,
) {
    let all = || crate::growth::growth_all_checked(ALL_THREADS, sizes, case);
    if let Some(failure) = failure(test, sizes, declared, all) {
        panic!("{failure}");
    }
}

/// [`run_growth_all`] for a `#[should_panic]` test, as [`run_growth_should_panic`] is for
/// [`run_growth`]: a refusal of the whole-process measurement is printed too, never taken for
/// the expected panic.
pub fn run_growth_all_should_panic<R>(
    test: &str,
    sizes: &[usize],
    declared: &[(&str, GrowthClass)],
    case: impl FnMut(usize) -> R,
) {
    let all = || crate::growth::growth_all_checked(ALL_THREADS, sizes, case);
    if let Some(failure) = failure(test, sizes, declared, all) {
        eprintln!("{failure}\n{SHOULD_PANIC_NOTE}");
    }
}

/// Why the test fails, if it does: nothing can be measured (checked before the function runs),
/// the sizes cannot be fitted (checked before too, so that a panic of the fit is never taken for
/// the function's), the whole-process measurement was refused, or a figure does not hold its
/// declared class.
fn failure(
    test: &str,
    sizes: &[usize],
    declared: &[(&str, GrowthClass)],
    measure: impl FnOnce() -> Result<Growth, String>,
) -> Option<String> {
    if let Some(why) = unmeasurable(test, cfg!(feature = "peak"), crate::is_installed) {
        return Some(why);
    }
    if let Some(why) = crate::growth::sizes_problem(sizes) {
        // Named as every other failure of the attribute is.
        let on = format!("dhat-kit: #[assert_growth] on {test}: ");
        return Some(why.replacen("dhat-kit: ", &on, 1));
    }
    match measure() {
        Ok(report) => check(test, &report, declared),
        Err(refused) => Some(refused),
    }
}

/// Names the attribute in a whole-process measurement's refusal.
const ALL_THREADS: &str = "#[assert_growth(threads = \"all\")]";

/// The failure message when a figure of `report` may grow faster than its class in `declared`.
///
/// The table rounds bytes to units; each failing figure follows it exactly at every size, since
/// a verdict may rest on a change of a few bytes.
fn check(test: &str, report: &Growth, declared: &[(&str, GrowthClass)]) -> Option<String> {
    let failing: Vec<(&str, String)> = declared
        .iter()
        .filter_map(|&(figure, class)| Some((figure, report.exceeds(figure, class)?)))
        .collect();
    if failing.is_empty() {
        return None;
    }
    // Every failure "cannot tell" (`1 or n`): the figures do not show faster growth, only that
    // these sizes cannot rule it out.
    let head = if failing.iter().all(|(_, why)| why.contains(" cannot tell ")) {
        "cannot tell its growth from faster growth than declared at these sizes"
    } else {
        "grows faster than declared"
    };
    let mut out = format!("dhat-kit: {test} {head}\n");
    for (_, why) in &failing {
        out.push_str(&format!("  {why}\n"));
    }
    out.push_str(&format!("{report}\n"));
    for (figure, _) in &failing {
        let exact: Vec<String> = report
            .rows()
            .iter()
            .map(|(_, s)| crate::units::Thousands(s.get(figure).unwrap_or_default()).to_string())
            .collect();
        out.push_str(&format!("{figure}, exactly: {}\n", exact.join("  ")));
    }
    out.push_str(if report.all_threads() {
        "measured on every thread of the process (threads = \"all\")"
    } else {
        "measured on the test's thread: allocations on threads it starts (a pool, a runtime's \
         workers) are not counted; to count them, use #[assert_growth(threads = \"all\", ..)]"
    });
    Some(out)
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
             installed in this test binary.\n{}",
            crate::INSTALL
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
