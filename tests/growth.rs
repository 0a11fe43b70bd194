//! `dhat_kit::growth` and `#[dhat_kit::assert_growth]` on real allocations: workloads of each
//! class, with a fixed cost and with a Vec's capacity doubling, classified; an n² workload declared
//! "n" failing with its message.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

mod common;

use dhat_kit::GrowthClass::{self, Constant, Cubic, Linear, LinearLog, Log, Quadratic};
use std::collections::BTreeMap;
use std::hint::black_box;

const WIDE: [usize; 3] = [1_000, 10_000, 100_000];

fn class_of(report: &dhat_kit::Growth, figure: &str) -> GrowthClass {
    report.fit(figure).unwrap().class()
}

/// A class, the sizes to run at, and the bytes to allocate at each size.
type Case = (GrowthClass, &'static [usize], fn(usize) -> usize);

/// `bytes` in one block, freed at once.
fn block(bytes: usize) {
    black_box(vec![0u8; bytes]);
}

/// What the work sets up on first use and keeps (a 1 MiB table in a `OnceLock`) is in no size's
/// figures: it was in the first size's alone, a fall that read 8 bytes per item as `1`, or as
/// `n²` under 64 KiB over four sizes.
#[test]
fn what_the_work_sets_up_once_is_left_out() {
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    static SMALL: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let report = dhat_kit::growth(&WIDE, |n| {
        black_box(TABLE.get_or_init(|| vec![7u8; 1 << 20]).len());
        black_box(vec![0u64; n]);
    });
    for figure in ["max_bytes", "total_bytes"] {
        assert_eq!(class_of(&report, figure), Linear, "{report}");
    }
    assert_eq!(report.rows()[0].1.total_bytes, 8_000, "{report}");
    let report = dhat_kit::growth(&[100, 1_000, 10_000, 100_000], |n| {
        black_box(SMALL.get_or_init(|| vec![7u8; 64 << 10]).len());
        black_box(vec![0u64; n]);
    });
    assert_eq!(class_of(&report, "max_bytes"), Linear, "{report}");
}

/// Run by [`a_panic_says_at_which_size`] in a child process.
#[test]
#[ignore = "run by a_panic_says_at_which_size, in a child process"]
fn panics_at_ten_thousand() {
    let _ = dhat_kit::growth(&[100, 1_000, 10_000], |n| {
        assert!(n < 10_000, "the parser failed");
    });
}

/// The work's panic names no size: the line after it does.
#[test]
fn a_panic_says_at_which_size() {
    let out = common::run_ignored("panics_at_ten_thousand");
    let text = common::output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("the parser failed"), "{text}");
    assert!(
        text.contains("dhat-kit: growth: the work panicked at size 10,000\n"),
        "{text}"
    );
}

/// A buffer the work keeps and reuses, sized by the first, unmeasured run: nothing at the
/// smallest size, then what each size adds to it. It read `n³ (exponent 3.08)`, and `n³` read
/// beyond every class: the increments tell the class.
#[test]
fn a_reused_buffer_reads_by_what_each_size_adds() {
    let mut buffer: Vec<u64> = Vec::new();
    let report = dhat_kit::growth(&WIDE, |n| {
        buffer.clear();
        buffer.extend(0..n as u64);
        buffer.len()
    });
    assert_eq!(report.rows()[0].1.total_bytes, 0, "{report}");
    assert_eq!(report.exceeds("total_bytes", Linear), None, "{report}");
    let fit = report.fit("total_bytes").unwrap();
    assert_eq!(fit.class(), Linear, "{report}");
    assert!((fit.exponent() - 1.0).abs() < 0.1, "{report}");
    let mut cube: Vec<u8> = Vec::new();
    let report = dhat_kit::growth(&[10, 30, 100], |n| {
        cube.clear();
        cube.resize(n * n * n, 0);
        cube.len()
    });
    let fit = report.fit("total_bytes").unwrap();
    assert_eq!((fit.class(), fit.beyond()), (Cubic, false), "{report}");
}

/// A fixed scratch buffer freed before a result that outgrows it: it read `n² (exponent 6.01)`
/// and failed a true `n`; at these sizes it rises once, which cannot tell `n` from faster, and a
/// declared `n` fails saying so; at sizes over which it rises twice it reads `n`.
#[test]
fn a_scratch_buffer_then_a_larger_result() {
    let work = |n: usize| {
        drop(black_box(vec![0u8; 100 << 10]));
        black_box(vec![0u64; n]);
    };
    let report = dhat_kit::growth(&WIDE, work);
    let why = report.exceeds("max_bytes", Linear).expect("undecided");
    assert!(why.contains("they cannot tell n from n"), "{why}");
    // More sizes tell, not larger ones (it said "use larger sizes").
    assert!(
        why.ends_with("; add sizes, over which it rises at more than one step"),
        "{why}"
    );
    // Below its class, it grows as that class at least (it read "grows as n or n²").
    let why = report.exceeds("max_bytes", Log).expect("faster than log n");
    assert!(
        why.starts_with("max_bytes grows as n at least (it reads n or n"),
        "{why}"
    );
    let report = dhat_kit::growth(&[1_000, 10_000, 100_000, 1_000_000], work);
    assert_eq!(report.exceeds("max_bytes", Linear), None, "{report}");
}

/// `n⁴` read `n³`, so a declared `n³` passed it.
#[test]
fn growth_faster_than_the_classes_fails_every_declaration() {
    let report = dhat_kit::growth(&[10, 30, 100], |n| block(n * n * n * n));
    let why = report.exceeds("max_bytes", Cubic).expect("beyond n³");
    assert_eq!(
        why,
        "max_bytes grows faster than n³ (exponent 4.00), declared n³"
    );
    assert!(report.to_string().contains("> n³"), "{report}");
}

/// `n⁴` bytes over `[1, 2, 100]`: 1 and 16 differ by no more than noise, a step, which turned
/// the `n⁴` check off; it read `n or n³` and a declared `n³` passed it.
#[test]
fn growth_faster_than_the_classes_after_a_change_within_noise_passes_no_declaration() {
    let report = dhat_kit::growth(&[1, 2, 100], |n| block(n * n * n * n));
    let fit = report.fit("max_bytes").unwrap();
    assert!(fit.may_be_beyond(), "{report}");
    let why = report
        .exceeds("max_bytes", Cubic)
        .expect("may be beyond n³");
    assert_eq!(
        why,
        "max_bytes reads n or faster than n³ (exponent 4.00) at sizes [1, 2, 100]: they cannot \
         tell n from faster than n³, declared n³; add sizes, over which it rises at more than one step"
    );
    assert!(report.to_string().contains("n or > n³"), "{report}");
    // A true n³ at the same sizes still passes n³.
    let report = dhat_kit::growth(&[1, 2, 50, 100], |n| block(n * n * n));
    assert_eq!(report.exceeds("max_bytes", Cubic), None, "{report}");
}

#[test]
fn each_class_from_real_allocations() {
    // One block whose size follows the class: max_bytes and total_bytes follow it exactly.
    let cases: [Case; 6] = [
        (Constant, &WIDE, |_| 4096),
        (Log, &WIDE, |n| 4096 * (n as f64).ln() as usize),
        (Linear, &WIDE, |n| 40 * n),
        (LinearLog, &WIDE, |n| {
            (8.0 * n as f64 * (n as f64).ln()) as usize
        }),
        (Quadratic, &[100, 1_000, 3_000], |n| n * n),
        (Cubic, &[10, 100, 200], |n| n * n * n),
    ];
    for (class, sizes, bytes) in cases {
        let report = dhat_kit::growth(sizes, |n| block(bytes(n)));
        assert_eq!(class_of(&report, "max_bytes"), class, "{report}");
        assert_eq!(class_of(&report, "total_bytes"), class, "{report}");
        // The same with a fixed cost of 10 KiB, allocated first and live throughout.
        let with_overhead = dhat_kit::growth(sizes, |n| {
            let table = vec![0u8; 10 * 1024];
            block(bytes(n));
            table
        });
        assert_eq!(
            class_of(&with_overhead, "max_bytes"),
            class,
            "{with_overhead}"
        );
        assert_eq!(
            class_of(&with_overhead, "total_bytes"),
            class,
            "{with_overhead}"
        );
        // One block at every size, none left: those figures are constant (all-zero included).
        for figure in ["total_blocks", "max_blocks", "curr_bytes", "curr_blocks"] {
            assert_eq!(class_of(&report, figure), Constant, "{figure}: {report}");
        }
        assert_eq!(report.fit("curr_bytes").unwrap().exponent(), 0.0);
    }
}

#[test]
fn blocks_per_item_and_a_fixed_cost() {
    // A 10 KiB table plus one 40-byte block per item, all live at once.
    let report = dhat_kit::growth(&WIDE, |n| {
        let table = vec![0u8; 10 * 1024];
        let items: Vec<Box<[u8; 40]>> = (0..n).map(|_| Box::new([0u8; 40])).collect();
        (table, items)
    });
    let rows = report.rows();
    assert_eq!(rows[0].1.max_blocks, 1_000 + 2);
    // The items' Vec: 8 bytes of pointer per item; the blocks: 40 each; the table: 10 KiB. All
    // of it is the run's result, live when the run ends.
    assert_eq!(rows[2].1.max_bytes, 10_240 + 100_000 * (8 + 40));
    assert_eq!(rows[2].1.curr_bytes, rows[2].1.max_bytes);
    for figure in ["total_bytes", "total_blocks", "max_bytes", "max_blocks"] {
        assert_eq!(class_of(&report, figure), Linear, "{figure}: {report}");
    }
    let exponent = report.fit("max_bytes").unwrap().exponent();
    assert!((exponent - 1.0).abs() < 0.005, "{exponent}");
}

#[test]
fn vec_doubling_steps_stay_linear() {
    // Pushes into a Vec: reallocations at each doubling of its capacity, so bytes per item move
    // by up to a factor of 2 between sizes.
    for sizes in [
        &WIDE[..],
        &[100, 1_000, 10_000][..],
        &[1_500, 15_000, 150_000][..],
    ] {
        let report = dhat_kit::growth(sizes, |n| {
            let mut v = Vec::new();
            for i in 0..n as u64 {
                v.push(i);
            }
            v
        });
        for figure in ["total_bytes", "max_bytes"] {
            assert_eq!(class_of(&report, figure), Linear, "{figure}: {report}");
        }
        assert_eq!(class_of(&report, "total_blocks"), Log, "{report}");
    }
}

#[test]
fn a_map_of_strings() {
    let report = dhat_kit::growth(&WIDE, |n| {
        (0..n)
            .map(|i| (i.to_string(), i)) // one block per key up to 8 digits
            .collect::<BTreeMap<String, usize>>()
    });
    for figure in dhat_kit::Stats::FIELDS {
        assert_eq!(class_of(&report, figure), Linear, "{figure}: {report}");
    }
}

#[test]
fn the_table() {
    let report = dhat_kit::growth(&WIDE, |n| block(40 * n));
    let text = report.to_string();
    let expected = "   items  total_bytes  total_blocks  max_bytes  max_blocks  curr_bytes  curr_blocks  peak/item
   1,000     39.1 KiB             1   39.1 KiB           1         0 B            0     40.0 B
  10,000    390.6 KiB             1  390.6 KiB           1         0 B            0     40.0 B
 100,000      3.8 MiB             1    3.8 MiB           1         0 B            0     40.0 B
  growth            n             1          n           1           1            1
exponent         1.00          0.00       1.00        0.00        0.00         0.00";
    assert_eq!(text, expected, "\n{text}");
    assert_eq!(
        report.bytes_per_item(),
        vec![(1_000, 40.0), (10_000, 40.0), (100_000, 40.0)]
    );
}

#[dhat_kit::assert_growth(max_bytes = "n", total_blocks = "1", sizes = [1_000, 10_000, 100_000])]
#[test]
fn linear_with_a_fixed_cost(n: usize) {
    block(10_240 + 40 * n);
}

#[dhat_kit::assert_growth(max_bytes = "n^2", curr_bytes = "constant", sizes = [1_000, 10_000, 100_000])]
#[test]
fn slower_than_declared_passes(n: usize) {
    block(40 * n);
}

fn pairs(n: usize) -> Vec<f32> {
    let mut m = vec![0f32; n * n];
    for (i, x) in m.iter_mut().enumerate() {
        *x = (i % 7) as f32;
    }
    m
}

// Called by the tests below (without `#[test]`, the attribute still makes it `fn()`).
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 2_000])]
fn quadratic_declared_linear_fails(n: usize) {
    black_box(pairs(n));
}

#[test]
fn the_failure_message() {
    let message = std::panic::catch_unwind(quadratic_declared_linear_fails)
        .expect_err("an n² workload declared n fails")
        .downcast::<String>()
        .unwrap();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[0],
        "dhat-kit: growth::quadratic_declared_linear_fails grows faster than declared"
    );
    assert_eq!(
        lines[1],
        "  max_bytes grows as n² (exponent 2.00), declared n"
    );
    assert!(
        lines[2].trim_start().starts_with("items  total_bytes"),
        "{message}"
    );
    // 100² f32: 40,000 bytes; 1,000²: 4,000,000 bytes.
    assert!(lines[3].contains("39.1 KiB"), "{message}");
    assert!(lines[4].contains("3.8 MiB"), "{message}");
    assert!(lines[6].trim_start().starts_with("growth"), "{message}");
    assert!(lines[6].contains("n²"), "{message}");
    // The figure behind the verdict, exactly at each size (the table rounds it), and the scope.
    assert_eq!(
        lines[8], "max_bytes, exactly: 40,000  4,000,000  16,000,000",
        "{message}"
    );
    assert_eq!(
        lines[9],
        "measured on the test's thread: allocations on threads it starts (a pool, a runtime's \
         workers) are not counted; to count them, use #[assert_growth(threads = \"all\", ..)]"
    );
}

// 1 MiB and 2 bytes per item over [1, 2, 4, 8]: 14 bytes of change, in the shape of n.
#[dhat_kit::assert_growth(max_bytes = "1", sizes = [1, 2, 4, 8])]
fn undecided_declared_constant(n: usize) {
    black_box(vec![0u8; (1 << 20) + 2 * n]);
}

/// When the sizes only cannot tell, the headline says so rather than "grows faster".
#[test]
fn a_failure_the_sizes_cannot_tell_says_so() {
    let message = std::panic::catch_unwind(undecided_declared_constant)
        .expect_err("1 or n declared 1 fails")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with(
            "dhat-kit: growth::undecided_declared_constant cannot tell its growth from faster \
             growth than declared at these sizes\n  max_bytes reads 1 or n"
        ),
        "{message}"
    );
    assert!(
        message.contains("max_bytes, exactly: 1,048,578  1,048,580  1,048,584  1,048,592"),
        "{message}"
    );
}

#[test]
fn all_zero_figures_are_constant() {
    let report = dhat_kit::growth(&[1, 10, 100], |n| n * 2);
    for figure in dhat_kit::Stats::FIELDS {
        let fit = report.fit(figure).unwrap();
        assert_eq!((fit.class(), fit.exponent()), (Constant, 0.0), "{figure}");
    }
    assert_eq!(report.exceeds("max_bytes", Constant), None);
}

#[test]
#[should_panic(expected = "dhat-kit: growth needs at least 3 sizes to fit a class, got [10, 100]")]
fn two_sizes_are_refused() {
    let _ = dhat_kit::growth(&[10, 100], block);
}

#[test]
#[should_panic(
    expected = "dhat-kit: growth sizes [1, 2, 3] are too close together to tell `n` from `log n`"
)]
fn sizes_too_close_together_are_refused() {
    // A linear figure would read as `log n` here, and pass a test declaring `log n`.
    let _ = dhat_kit::growth(&[1, 2, 3], |n| vec![0u8; 1_000 * n]);
}

// Called by `sizes_too_close_together_name_the_test`.
#[dhat_kit::assert_growth(max_bytes = "log n", sizes = [1_000, 2_000, 4_000])]
fn sizes_too_close(n: usize) {
    block(n);
}

/// Under the attribute, the refusal names the test, as its other failures do.
#[test]
fn sizes_too_close_together_name_the_test() {
    let message = std::panic::catch_unwind(sizes_too_close)
        .expect_err("the sizes are refused")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with(
            "dhat-kit: #[assert_growth] on growth::sizes_too_close: growth sizes [1000, 2000, \
             4000] are too close together to tell `log n` from `1`"
        ),
        "{message}"
    );
}

#[test]
#[should_panic(expected = "dhat-kit: growth sizes must be strictly increasing, got [10, 100, 50]")]
fn unordered_sizes_are_refused() {
    let _ = dhat_kit::growth(&[10, 100, 50], block);
}

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
#[test]
fn returning_ok_passes(n: usize) -> Result<(), String> {
    block(8 * n);
    Ok(())
}

// Called by `an_error_fails_the_test`.
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_err_fails(n: usize) -> Result<Vec<u8>, String> {
    if n >= 1_000 {
        return Err("too many".into());
    }
    Ok(vec![0u8; n])
}

/// A `Result` by another name: an alias of it.
type Fallible<T> = Result<T, String>;

// Called by `an_error_fails_the_test`: an `Err` of a `Result` named by an alias, and an exit code
// other than success, fail the test as an `Err` of a `Result` does (they passed, the error
// dropped with the value: the result's type was read by its name).
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_an_aliased_err_fails(n: usize) -> Fallible<Vec<u8>> {
    if n >= 1_000 {
        return Err("too many".into());
    }
    Ok(vec![0u8; n])
}

#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_a_failing_exit_code_fails(n: usize) -> std::process::ExitCode {
    block(n);
    if n >= 1_000 {
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}

/// The size is written as sizes are elsewhere (it read `1000`), and nothing is said to have
/// panicked (stderr read "the work panicked at size 1,000" too).
#[test]
fn an_error_fails_the_test() {
    let out = common::run_ignored("child_an_error_fails_the_test");
    let text = common::output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
    assert!(!text.contains("panicked at size"), "{text}");
}

#[test]
#[ignore = "run in a child process by an_error_fails_the_test, which reads its stderr"]
fn child_an_error_fails_the_test() {
    let message = std::panic::catch_unwind(returning_err_fails)
        .expect_err("an error fails the test")
        .downcast::<String>()
        .unwrap();
    assert_eq!(
        *message,
        "dhat-kit: growth::returning_err_fails returned an error at size 1,000: \"too many\""
    );
    let message = std::panic::catch_unwind(returning_an_aliased_err_fails)
        .expect_err("an error fails the test")
        .downcast::<String>()
        .unwrap();
    assert_eq!(
        *message,
        "dhat-kit: growth::returning_an_aliased_err_fails returned an error at size 1,000: \
         \"too many\""
    );
    let message = std::panic::catch_unwind(returning_an_err_beside_an_opaque_ok_fails)
        .expect_err("an error fails the test")
        .downcast::<String>()
        .unwrap();
    assert_eq!(
        *message,
        "dhat-kit: growth::returning_an_err_beside_an_opaque_ok_fails returned an error at size \
         1,000: \"too many\""
    );
    let message = std::panic::catch_unwind(returning_an_opaque_err_fails)
        .expect_err("an error fails the test")
        .downcast::<String>()
        .unwrap();
    assert_eq!(
        *message,
        "dhat-kit: growth::returning_an_opaque_err_fails returned an error at size 1,000: an \
         error that is not Debug"
    );
    let message = std::panic::catch_unwind(returning_a_failing_exit_code_fails)
        .expect_err("an exit code other than success fails the test")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with(
            "dhat-kit: growth::returning_a_failing_exit_code_fails returned an error at size \
             1,000: ExitCode("
        ),
        "{message}"
    );
    let message = std::panic::catch_unwind(returning_a_failing_exit_code_in_a_result_fails)
        .expect_err("Ok of an exit code other than success fails the test")
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with(
            "dhat-kit: growth::returning_a_failing_exit_code_in_a_result_fails returned an error \
             at size 1,000: ExitCode("
        ),
        "{message}"
    );
    let message =
        std::panic::catch_unwind(returning_a_failing_exit_code_beside_an_opaque_error_fails)
            .expect_err("Ok of an exit code other than success fails the test")
            .downcast::<String>()
            .unwrap();
    assert!(
        message.starts_with(
            "dhat-kit: growth::returning_a_failing_exit_code_beside_an_opaque_error_fails \
             returned an error at size 1,000: ExitCode("
        ),
        "{message}"
    );
}

// Called by `an_error_fails_the_test`: the same beside an error that is not `Debug`, which said
// "an error that is not Debug" of the exit code.
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_a_failing_exit_code_beside_an_opaque_error_fails(
    n: usize,
) -> Result<std::process::ExitCode, Opaque> {
    block(n);
    if n >= 1_000 {
        return Ok(std::process::ExitCode::FAILURE);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

// Called by `an_error_fails_the_test`: `Ok` of an exit code other than success fails the test as
// the harness fails it (it passed: the `Result` was read for an `Err` alone).
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_a_failing_exit_code_in_a_result_fails(
    n: usize,
) -> Result<std::process::ExitCode, String> {
    block(n);
    if n >= 1_000 {
        return Ok(std::process::ExitCode::FAILURE);
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Under `#[should_panic]`, a failure of dhat-kit's own is never the expected panic: the
/// generated test returns (the harness then fails it, "did not panic as expected"), and only the
/// function's own panic passes through. Outside `#[test]`, the functions are called here.
mod should_panic {
    use super::*;
    use std::panic::catch_unwind;

    #[allow(unused_attributes)]
    #[should_panic]
    #[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 2_000])]
    fn quadratic_declared_linear(n: usize) {
        black_box(pairs(n));
    }

    #[test]
    fn growing_faster_than_declared_returns_instead_of_panicking() {
        assert!(catch_unwind(quadratic_declared_linear).is_ok());
    }

    #[allow(unused_attributes)]
    #[should_panic]
    #[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
    fn panics_at_the_largest_size(n: usize) {
        let v = black_box(vec![0u8; n]);
        assert!(v.len() < 10_000, "the expected panic at {n}");
    }

    #[test]
    fn the_functions_own_panic_passes_through() {
        let payload = catch_unwind(panics_at_the_largest_size).expect_err("its own panic");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("the expected panic at 10000")
        );
    }

    #[allow(unused_attributes)]
    #[should_panic]
    #[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
    fn linear_and_never_panics(n: usize) {
        black_box(vec![0u8; n]);
    }

    #[test]
    fn within_its_class_and_no_panic_returns() {
        assert!(catch_unwind(linear_and_never_panics).is_ok());
    }

    /// An `Err` of a `Result` named by an alias is no panic: the test returns, and fails as one
    /// that did not panic (the `Err`, made into a panic, passed as the expected one).
    #[allow(unused_attributes)]
    #[should_panic]
    #[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
    fn an_aliased_err(n: usize) -> Fallible<()> {
        black_box(vec![0u8; n]);
        Err("not a panic".into())
    }

    #[test]
    fn an_err_is_not_the_expected_panic() {
        assert!(catch_unwind(an_aliased_err).is_ok());
    }
}

/// A function that never returns builds under the attribute (its result's check named `!`).
#[allow(dead_code)]
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn never_returns(n: usize) -> ! {
    panic!("{n}")
}

// Called by `an_error_fails_the_test`: an `Err` of a `Result` whose `Ok` type is an `impl
// Trait` fails the test too (the check skipped any type that named `impl`, and it passed).
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_an_err_beside_an_opaque_ok_fails(n: usize) -> Result<impl std::fmt::Debug, String> {
    if n >= 1_000 {
        return Err("too many".into());
    }
    Ok(vec![0u8; n])
}

/// An error that is not `Debug`.
struct Opaque;

// Called by `an_error_fails_the_test`: an `Err` whose error is not `Debug` fails the test too (it
// passed, the `Err` dropped; before that, it did not build).
#[dhat_kit::assert_growth(max_bytes = "n", sizes = [100, 1_000, 10_000])]
fn returning_an_opaque_err_fails(n: usize) -> Result<Vec<u8>, Opaque> {
    if n >= 1_000 {
        return Err(Opaque);
    }
    Ok(vec![0u8; n])
}
