//! What dhat-kit's macros expand to. Not part of the public API: outside semver, may change in any
//! release.

/// The allocator [`global_allocator!`](crate::global_allocator) installs: counting over dhat's
/// allocator under the `heap` feature, over `System` otherwise.
#[cfg(feature = "heap")]
pub type DefaultAlloc = crate::Alloc<dhat::Alloc>;
/// The allocator [`global_allocator!`](crate::global_allocator) installs: counting over dhat's
/// allocator under the `heap` feature, over `System` otherwise.
#[cfg(not(feature = "heap"))]
pub type DefaultAlloc = crate::Alloc<std::alloc::System>;

/// The value of [`DefaultAlloc`].
#[cfg(feature = "heap")]
pub const DEFAULT_ALLOC: DefaultAlloc = crate::Alloc::wrap(dhat::Alloc);
/// The value of [`DefaultAlloc`].
#[cfg(not(feature = "heap"))]
pub const DEFAULT_ALLOC: DefaultAlloc = crate::Alloc::new();

/// What `#[assert_heap]` expands to: the budget, its keys and limits, and the runners.
pub use crate::assert::{
    around_runtime, around_runtime_should_panic, finish, finish_in_runtime, run, run_future,
    run_future_should_panic, run_should_panic, saturate, zero_of, Budget, Key, Limit, Measured,
    MeasuredShouldPanic,
};

/// What `#[assert_heap(baseline)]` expands to: checks a test's figures against its entry in the
/// crate's baseline file (`memory-baseline.json` at `manifest_dir`, or `DHAT_KIT_BASELINE`),
/// recording it as `DHAT_KIT_UPDATE` says, never on CI. `test_path` is
/// `module_path!()::test_name`; `name` replaces it as the entry's name; `tolerance` is in percent.
/// The caller's file tells which of the package's test binaries the test is in.
///
/// # Errors
///
/// The failure message: a regression (with its table), a missing entry (with the command that
/// records it), or a baseline file that cannot be read.
#[track_caller]
pub fn check_baseline(
    package: &str,
    manifest_dir: &str,
    test_path: &str,
    name: Option<&str>,
    tolerance: Option<f64>,
    stats: &crate::Stats,
) -> Result<(), String> {
    let source = std::panic::Location::caller().file();
    crate::baseline::check_test(
        crate::baseline::TestEntry {
            package,
            manifest_dir,
            source,
            test_path,
            name,
            tolerance,
            metrics: &[],
            all_threads: false,
        },
        stats,
    )
}

/// What `#[assert_growth]` expands to: the classes, and the runner of the test's function.
pub use crate::assert_growth::{
    run_growth, run_growth_all, run_growth_all_should_panic, run_growth_should_panic,
};
pub use crate::growth::GrowthClass;
