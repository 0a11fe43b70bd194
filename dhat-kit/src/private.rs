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
    run_future_should_panic, run_should_panic, saturate, zero_of, Budget, FailsByExitCode,
    FailsTest, Key, Limit, Measured, MeasuredShouldPanic, NeverFailsTest, Outcome, SaysExitCode,
    SaysExitFailure, SaysFailure, SaysNothing,
};

/// What `#[assert_growth]` expands to: the classes, and the runner of the test's function.
pub use crate::assert_growth::{
    run_growth, run_growth_all, run_growth_all_should_panic, run_growth_should_panic,
};
pub use crate::growth::GrowthClass;

/// What `region!("name")` checks of a literal name, at compile time: whether it is not empty and
/// holds no `/`, which separates the names of a path (`outer/inner`; `region!("a/b")` would read
/// as `b` inside `a`).
#[must_use]
pub const fn region_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'/' {
            return false;
        }
        i += 1;
    }
    !bytes.is_empty()
}

/// `n` with thousands separators (`10,000`), as `#[assert_growth]`'s messages write a size.
#[must_use]
pub fn thousands(n: usize) -> String {
    crate::units::Thousands(n as u64).to_string()
}
