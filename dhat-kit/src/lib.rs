//! Heap memory as a first-class, testable quantity.
//!
//! dhat-kit counts every allocation your program makes, exactly, at a cost you can leave on in
//! tests and benchmarks, and turns the figures into things you can act on:
//!
//! - a counting global allocator, [`Alloc`], installed in one line with [`global_allocator!`];
//! - [`measure`]: what a closure allocated on the current thread, with dhat's figures ([`Stats`]);
//! - [`thread_stats`] and [`process_stats`]: running totals since start;
//! - [`region!`]: named, nested hotspot counters (`dhat_kit::region!("call_function");`), read
//!   back with [`regions`] as a table or as JSON;
//! - [`profile`]: DHAT's JSON profiles (dhat-rs, Valgrind's DHAT, dhat-kit's peak files), read
//!   streaming into a compact model, and written;
//! - [`analyze`]: summaries, top allocation sites, before/after diffs and flame graphs of them,
//!   as the `dhat-kit` command (feature `cli`) prints them;
//! - [`baseline`]: memory baselines kept in the repository, checked with a tolerance, and an
//!   update flow (`DHAT_KIT_UPDATE=1`) that never writes on CI.
//!
//! # Quick start
//!
//! ```
//! // At the crate root of a binary, test or benchmark:
//! dhat_kit::global_allocator!();
//!
//! fn main() {
//!     let (words, stats) = dhat_kit::measure(|| {
//!         "a memory budget as an ordinary test".split(' ').map(String::from).collect::<Vec<_>>()
//!     });
//!     assert_eq!(words.len(), 7);
//!     assert_eq!(stats.curr_blocks, 8); // the Vec and its 7 Strings
//!     println!("{stats}");
//! }
//! ```
//!
//! # The figures
//!
//! [`Stats`] uses dhat's names and meanings, so a figure from dhat-kit and one from dhat (or from
//! Valgrind's DHAT) on the same work are the same number: `total_bytes`/`total_blocks` is everything
//! allocated, a `realloc` counting as one new block of its new size; `max_bytes`/`max_blocks` the
//! peak of the live heap; `curr_bytes`/`curr_blocks` what is live at the end.
//!
//! # Threads
//!
//! Each thread's figures are its own and exact: [`measure`] on one test thread never sees the
//! allocations of tests running beside it. The process figures ([`process_stats`]) add up all
//! threads; see there for how closely they follow threads that are still running.
//!
//! # Cargo features
//!
//! | feature | what it turns on |
//! |---|---|
//! | `peak` (default) | the counting allocator and everything measured with it |
//! | `heap` | `peak`, with dhat's heap profiler as the inner allocator |
//! | `ad-hoc` | `peak`, plus dhat's ad-hoc profile |
//! | `cli` | the `dhat-kit` command over DHAT JSON profiles |
//!
//! With none of them ([`default-features = false`]), [`Alloc`] only forwards to its inner allocator
//! and every figure reads 0, so instrumented code costs nothing in production builds.
//!
//! [`default-features = false`]: https://doc.rust-lang.org/cargo/reference/features.html#the-default-feature
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod alloc;
pub mod analyze;
pub mod baseline;
pub mod profile;
mod profiler;
mod region;
mod stats;
mod units;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::alloc::{is_installed, Alloc};
pub use crate::profiler::{Error, Mode, Profiler, ProfilerBuilder};
pub use crate::region::{regions, reset_regions, Region, RegionHandle, RegionStats, Regions};
pub use crate::stats::{measure, process_stats, thread_stats, Stats};

/// Installs dhat-kit's counting allocator as the global allocator of the crate it is written in.
///
/// Write it once, at the crate root of a binary, test or benchmark. It expands to
///
/// ```
/// #[global_allocator]
/// static ALLOC: dhat_kit::Alloc = dhat_kit::Alloc::new();
/// # fn main() {}
/// ```
///
/// (under the `heap` feature, the counting allocator wraps dhat's own, so dhat's profiler sees
/// every allocation too). To count over another allocator, write the static by hand with
/// [`Alloc::wrap`].
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     assert!(dhat_kit::is_installed());
/// }
/// ```
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static DHAT_KIT_GLOBAL_ALLOCATOR: $crate::__private::DefaultAlloc =
            $crate::__private::DEFAULT_ALLOC;
    };
}
