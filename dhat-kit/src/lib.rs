//! Heap memory as a first-class, testable quantity.
//!
//! dhat-kit counts every allocation your program makes, exactly, at a cost you can leave on in
//! tests and benchmarks, and turns the figures into things you can act on:
//!
//! - a counting global allocator, [`Alloc`], installed in one line with [`global_allocator!`];
//! - [`measure`]: what a closure allocated on the current thread, with dhat's figures ([`Stats`]);
//! - [`thread_stats`] and [`process_stats`]: running totals since start;
//! - [`region!`]: named, nested hotspot counters (`dhat_kit::region!("call_function");`), read
//!   back with [`regions`] as a table or as JSON; over a future's polls, on whatever threads
//!   poll it, with [`InRegionExt::in_region`] or [`#[in_region]`](macro@in_region) on an
//!   `async fn`; over a stream's, with `InRegionStreamExt::in_region` (feature `stream`);
//! - [`profile`]: DHAT's JSON profiles (dhat-rs, Valgrind's DHAT, dhat-kit's peak files), read
//!   streaming into a compact model, and written;
//! - [`analyze`]: summaries, top allocation sites, before/after diffs and flame graphs of them,
//!   as the `dhat-kit` command (feature `cli`) prints them; `analyze::budget` (feature `budget`):
//!   allocation budgets per component, from a TOML file, checked against a profile;
//! - [`export`]: a profile in other tools' formats: pprof (for `go tool pprof`), speedscope and
//!   folded stacks, written streaming from one fold of its stacks;
//! - `report` (feature `cli`): one self-contained HTML page of a profile (and its diff with
//!   another) that a reviewer opens offline;
//! - [`baseline`]: memory baselines kept in the repository, checked with a tolerance, and an
//!   update flow (`DHAT_KIT_UPDATE=1`) that never writes on CI.
//! - [`growth()`]: a workload's figures at several input sizes and how each grows (`n`, `n log n`,
//!   `n²`), and [`assert_growth`](macro@assert_growth), the same as a test;
//! - `criterion` (feature `criterion`): bytes, blocks and peak bytes per iteration as criterion
//!   measurements.
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
//! [`Stats`] uses dhat's names and meanings: `total_bytes`/`total_blocks` is everything allocated,
//! a `realloc` counting as one new block of its new size; `max_bytes`/`max_blocks` the peak of the
//! live heap; `curr_bytes`/`curr_blocks` what is live at the end.
//!
//! Where the figures equal dhat's (and Valgrind's DHAT's) to the byte: on work whose blocks are
//! allocated, grown and freed inside what is measured (a whole program from its start, or a
//! [`measure`] span that frees and grows only what it allocated). Where they differ, and why: work
//! that frees or grows a block allocated *before* the span began. dhat never saw that block: it
//! ignores its free, and counts its `realloc` as a new block of the new size (its live bytes grow by
//! the whole new size). [`measure`] reports the change of the thread's live heap since entry: the
//! free lowers the span's live figures (clamped at 0), the `realloc` moves them by the difference.
//! And [`measure`] counts one thread, where dhat counts the whole process.
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
//! | `heap` | `peak`, with dhat's heap profiler as the inner allocator (see below) |
//! | `ad-hoc` | `peak`, plus dhat's ad-hoc profile (one event per region exit, see [`region!`]) |
//! | `sampled` | `peak`, plus sampled heap profiles with call stacks at a small cost (`Profiler` in the `sampled` mode) |
//! | `stream` | regions over streams: `InRegionStreamExt` for every `futures_core::Stream` |
//! | `cli` | the `dhat-kit` command over DHAT JSON profiles, its HTML report (`budget` too), and the pprof writer of [`export`] |
//! | `criterion` | `peak`, plus `dhat_kit::criterion`'s criterion measurements |
//! | `budget` | budgets per component read from TOML (`analyze::budget`; adds the `toml` crate) |
//!
//! With none of them ([`default-features = false`]), [`Alloc`] only forwards to its inner allocator
//! and every figure reads 0, so instrumented code costs nothing in production builds.
//!
//! `heap` and `ad-hoc` reach every crate of a build: cargo unifies features, so enabling either
//! anywhere (a dependency's `features = ["heap"]`, or `cargo test --all-features` in a workspace)
//! routes every [`global_allocator!`] of that build through dhat's allocator, which records a
//! backtrace per allocation under one global lock (100 times slower or more). Keep them out of
//! normal test runs: enable them only in the command that profiles (`cargo run --release
//! --features heap`), through a feature of your own crate that forwards to them, never in
//! `[dev-dependencies]`.
//!
//! [`default-features = false`]: https://doc.rust-lang.org/cargo/reference/features.html#the-default-feature
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod alloc;
pub mod analyze;
mod assert;
mod assert_growth;
mod atomic_file;
pub mod baseline;
#[cfg(feature = "criterion")]
pub mod criterion;
pub mod export;
#[cfg(all(unix, feature = "peak"))]
mod fork;
mod growth;
mod note;
mod parse_error;
pub mod profile;
mod profiler;
mod region;
#[cfg(feature = "cli")]
pub mod report;
#[cfg(feature = "sampled")]
mod sample;
mod small_file;
mod stats;
mod suggest;
#[cfg(feature = "peak")]
mod tally;
#[cfg(not(feature = "peak"))]
#[path = "tally/off.rs"]
mod tally;
mod units;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use crate::alloc::{is_installed, Alloc};
pub use crate::atomic_file::write as write_atomically;
pub use crate::growth::{growth, growth_all, Growth, GrowthClass, GrowthFit};
pub use crate::parse_error::ParseError;
pub use crate::profiler::{ad_hoc_event, Error, Mode, Profiler, ProfilerBuilder};
#[cfg(feature = "stream")]
pub use crate::region::InRegionStreamExt;
pub use crate::region::{
    regions, reset_regions, InRegion, InRegionExt, Region, RegionHandle, RegionStats, Regions,
};
pub use crate::stats::{measure, measure_all, process_stats, thread_stats, Stats};

/// The default mean interval between samples of a sampled profile ([`Mode::Sampled`]), in bytes:
/// 512 KiB, as tcmalloc and Go use.
///
/// # Examples
///
/// ```
/// assert_eq!(dhat_kit::sample_interval_default(), 512 * 1024);
/// ```
#[must_use]
pub const fn sample_interval_default() -> u64 {
    512 * 1024
}

/// A heap budget on a test: `#[dhat_kit::assert_heap(max_bytes = 64 * 1024, curr_bytes = 0)]`.
///
/// Put it beside `#[test]`. The test's body is measured on the test's own thread, with
/// [`measure`]'s figures ([`Stats`]), and each key is an upper bound on the field of that name.
/// Tests running in parallel (`cargo test`'s default) never see each other's allocations, so a
/// budget needs no `--test-threads 1` and no file of its own. On success nothing is printed; on
/// failure the test panics with one block: the test's path, one line per exceeded key
/// (`key: measured > limit (+N bytes, +P%)`) and every measured figure.
///
/// ```
/// dhat_kit::global_allocator!(); // once, at the root of the test crate
///
/// # /*
/// #[test]
/// # */
/// #[dhat_kit::assert_heap(max_bytes = 64 * 1024, total_blocks = 100, curr_bytes = 0)]
/// fn parse_small_document() {
///     let words: Vec<String> = "a small document".split(' ').map(String::from).collect();
///     assert_eq!(words.len(), 3);
/// }
/// # fn main() { parse_small_document(); }
/// ```
///
/// # Keys
///
/// At least one limit (or `baseline`) is required; each key at most once. A value is any constant expression of
/// an integer type: `4096`, `64 * 1024`, `MY_LIMIT`, `1u64 << 30`. (Arithmetic on untyped literals
/// is evaluated in `i128`, so `8 << 30` and `4 * 1024 * 1024 * 1024` are 8 and 4 GiB, not an
/// `i32` overflow.)
///
/// | key | bounds | example |
/// |---|---|---|
/// | `total_bytes` | bytes allocated in all (a `realloc` counts its new size) | `total_bytes = 1 << 20` |
/// | `total_blocks` | allocations in all (a `realloc` counts as one) | `total_blocks = 3` |
/// | `max_bytes` | the peak of live bytes, above what was live when the test began | `max_bytes = 64 * 1024` |
/// | `max_blocks` | the live blocks at that peak | `max_blocks = 2` |
/// | `curr_bytes` | bytes still live when the body ends (leaks, caches) | `curr_bytes = 0` |
/// | `curr_blocks` | blocks still live when the body ends | `curr_blocks = 0` |
/// | `baseline` | the figures against the test's entry in the crate's baseline file (below) | `baseline`, `baseline = "parse_small"` |
/// | `tolerance` | with `baseline`: the growth allowed, in percent (default 5) | `tolerance = 2.5` |
/// | `metrics` | with `baseline`: the figures compared (`total_bytes`, `total_blocks`, `peak_bytes`, `peak_blocks`, `end_bytes`); all the entry has by default | `metrics = ["total_bytes"]` |
/// | `threads` | the scope: `"current"` (the test's thread, the default) or `"all"` (every thread of the process, below) | `threads = "all"` |
/// | `crate` | where dhat-kit is, if re-exported or renamed (as serde's `crate`) | `crate = "my_utils::dhat_kit"` |
///
/// ```
/// dhat_kit::global_allocator!();
///
/// const ONE_MIB: usize = 1 << 20;
///
/// // A buffer of exactly 1 MiB, in one block, freed at the end: every figure is known.
/// #[dhat_kit::assert_heap(total_bytes = ONE_MIB, total_blocks = 1, max_bytes = ONE_MIB,
///                         max_blocks = 1, curr_bytes = 0, curr_blocks = 0)]
/// fn one_buffer() {
///     let buffer = vec![0u8; ONE_MIB];
///     assert_eq!(buffer.len(), ONE_MIB);
/// }
///
/// // Growing a Vec of u64 by pushes: capacity 4, 8, 16 (one allocation, two reallocations),
/// // so 32 + 64 + 128 bytes in 3 blocks, a peak of 128 bytes in 1 block, nothing left live.
/// #[dhat_kit::assert_heap(total_bytes = 224, total_blocks = 3, max_bytes = 128, curr_blocks = 0)]
/// fn pushes() {
///     let mut v = Vec::new();
///     for i in 0..16u64 {
///         v.push(i);
///     }
///     assert_eq!(v.len(), 16);
/// }
/// # fn main() { one_buffer(); pushes(); }
/// ```
///
/// # Baselines
///
/// `#[assert_heap(baseline)]` compares the test's figures with its entry (named after the test's
/// path, `my_tests::parse_small`, or as given with `baseline = "name"`) in the crate's baseline
/// file, `memory-baseline.json` at the crate root (or the file `DHAT_KIT_BASELINE` names), and
/// fails with a table (baseline, now, delta, %) when a figure grew by more than the tolerance.
/// An improvement beyond the tolerance passes, and is printed with a hint to record it. A test
/// without an entry fails with the exact command that records it:
/// `DHAT_KIT_UPDATE=1 cargo test -p my-crate --test memory -- --exact parse_small` (or `DHAT_KIT_UPDATE=new`
/// to write `memory-baseline.json.new` for review). When `CI` is set nothing is ever written.
/// Limits and `baseline` combine: the limits are checked first, and figures over a limit are never
/// recorded. Two tests that check one entry fail the second, naming both (within a test binary,
/// and within a cargo-nextest run). See [`baseline`] for the file and the update flow.
///
/// ```
/// dhat_kit::global_allocator!();
///
/// # /*
/// #[test]
/// # */
/// #[dhat_kit::assert_heap(max_bytes = 64 * 1024, baseline, tolerance = 2)]
/// fn parse_small_document() {
///     let words: Vec<String> = "a small document".split(' ').map(String::from).collect();
///     assert_eq!(words.len(), 3);
/// }
/// # fn main() {}
/// ```
///
/// # What is counted
///
/// By default, only the allocations of the test's own thread while its body runs. **Allocations
/// on threads the test spawns are not counted** (nor what a thread pool or an async runtime's other
/// tasks allocate), and a block this thread allocated that another thread frees stays live in
/// `curr_*` (so `curr_bytes = 0` fails on `std::thread::spawn(|| {}).join()`, whose bookkeeping
/// std allocates here and the new thread frees). A failure report says both, and a passing test
/// prints nothing.
///
/// With `threads = "all"`, the body is measured with [`measure_all`]: every thread of the process,
/// exactly, each free counted wherever it happens, and the report says "measured on all threads".
/// Such a test must not run beside other tests: tests of the same binary that use dhat-kit wait for
/// each other, and if anything else runs meanwhile the test fails with a message naming
/// `cargo nextest run` and `cargo test -- --test-threads 1` (see [`measure_all`]'s isolation).
///
/// ```
/// dhat_kit::global_allocator!();
///
/// # /*
/// #[test]
/// # */
/// #[dhat_kit::assert_heap(threads = "all", curr_bytes = 0, curr_blocks = 0)]
/// fn a_worker_leaves_nothing_live() {
///     let v = std::thread::scope(|s| s.spawn(|| vec![1u64; 1000]).join().unwrap());
///     assert_eq!(v.len(), 1000);
/// }
/// # fn main() { a_worker_leaves_nothing_live(); }
/// ```
///
/// Or measure on the other thread with [`measure`] and check the figures there:
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let stats = std::thread::spawn(|| dhat_kit::measure(|| vec![0u8; 4096]).1)
///         .join()
///         .unwrap();
///     assert!(stats.max_bytes <= 4096, "{stats}");
/// }
/// ```
///
/// Whatever the body itself does on the thread is counted, including the test harness's capture
/// of what it prints (`println!` in a test allocates into the captured output).
///
/// # Composes with
///
/// - `#[should_panic]`: the figures up to the panic are checked (they include its payload, a boxed
///   message, and the unwinder's exception object, a few dozen bytes; not what the panic hook
///   allocates for its report or backtrace), and the expected panic passes through when they are
///   within the budget. A budget failure, or a missing allocator, then makes the test fail as
///   "did not panic as expected" with dhat-kit's report printed, never pass in place of the
///   expected panic.
/// - Tests returning `Result<(), E>`: the result is returned unchanged after the check.
/// - `#[ignore]` and other attributes: kept as they are.
/// - `async` tests under `#[tokio::test]` (current thread): put `#[assert_heap]` below
///   `#[tokio::test]` (or above it). Each poll of the async body is measured on the thread that
///   polls it, and the polls' figures are added up; the runtime's own allocations (building it,
///   its scheduling between polls) and other tasks' (`tokio::spawn`) are not counted, but what
///   the runtime allocates inside a poll is (after `tokio::task::yield_now`, its list of deferred
///   wakers, 64 bytes in a block, live to the end); a block another task allocated and the body
///   frees lowers the live figures (see the README's "Two scopes"). Below `#[tokio::test]`, the
///   attribute sees the function that `#[tokio::test]` generated: a body that starts with
///   `let body = async { .. };` and runs it with `block_on(body)`; any function of that shape has
///   its async block measured that way. With `#[should_panic]`, the polls up to the panic are
///   checked as for a sync test.
///
/// # Panics
///
/// The test fails (panics) when a figure exceeds its limit, and, rather than passing without
/// measuring anything, when the test binary
/// has no dhat-kit allocator (the message says to add `dhat_kit::global_allocator!();` at the root
/// of the test crate) or dhat-kit was built without its `peak` feature (the message says to enable
/// it).
///
/// # Compile errors
///
/// Misuse is a compile error at the offending token, never a panic: an unknown key (with the
/// nearest valid one suggested: `max_byte` → `max_bytes`), a key given twice, a key without a
/// value, a negative or non-integer literal, a constant whose value is negative (the constant
/// evaluation fails: ``the limit `max_bytes` is negative``) or whose type is not an integer, no
/// limit at all, and use on anything but a function. A constant's value is evaluated when the
/// test is built (`cargo test`, `cargo test --no-run`), not by `cargo check` or an editor's
/// checks, which take a negative constant without a word.
#[doc(inline)]
pub use dhat_kit_macros::assert_heap;

/// Memory growth as a test: `#[dhat_kit::assert_growth(max_bytes = "n", sizes = [1_000, 10_000, 100_000])]`.
///
/// Put it on a function that takes the input size, `fn build_index(n: usize)`, with `#[test]`
/// *below* it (a `#[test]` written above is applied first, and rustc refuses a test with a
/// parameter: "functions used as tests can not have any arguments"). The attribute turns it into
/// a test without parameters that runs the function at each size, measured on the test's thread
/// with [`growth()`], and fails when a figure grows faster than its declared class, with the fitted
/// class and the table:
///
/// ```text
/// dhat-kit: my_tests::similarity grows faster than declared
///   max_bytes grows as n² (exponent 2.00), declared n
///     items  total_bytes  total_blocks  max_bytes  ...
/// ```
///
/// A figure that grows as declared or slower passes. Figures are exact, so the test never flakes;
/// tests running in parallel never see each other's allocations, as with [`assert_heap`].
/// What the function returns is dropped after each run is measured (so `curr_bytes` is what it
/// holds); a function returning a `Result` fails the test with its error, naming the size.
/// `#[should_panic]`, `#[ignore]` and other attributes stay on the test. Under `#[should_panic]`
/// the expected panic is the function's own, at any size: a figure growing faster than declared
/// (or nothing to measure) is reported and the test fails ("did not panic as expected"), never
/// passes in place of that panic.
///
/// ```
/// dhat_kit::global_allocator!(); // once, at the root of the test crate
///
/// #[dhat_kit::assert_growth(max_bytes = "n", total_blocks = "1", sizes = [1_000, 10_000, 100_000])]
/// # /*
/// #[test]
/// # */
/// fn index(n: usize) {
///     let index: Vec<u64> = (0..n as u64).collect();
///     assert_eq!(index.len(), n);
/// }
/// # fn main() { index(); }
/// ```
///
/// # Keys
///
/// | key | value |
/// |---|---|
/// | `total_bytes`, `total_blocks`, `max_bytes`, `max_blocks`, `curr_bytes`, `curr_blocks` | the highest class the figure may follow: `"1"`, `"log n"`, `"n"`, `"n log n"`, `"n^2"`, `"n^3"` (`"constant"`, `"n²"`, `"n³"` too); at least one |
/// | `sizes` | the sizes to run at: at least 3 integer literals, increasing, from 1 up (spread over a factor of 100 or more) |
/// | `threads` | `"current"` (the default): each size measured on the test's thread, as [`growth()`] does; `"all"`: on every thread of the process, as [`growth_all`] does, for work on threads the function starts (a pool, a runtime's workers), checked for other tests' threads as [`measure_all`] is |
/// | `crate` | where dhat-kit is, if re-exported or renamed: `crate = "my_utils::dhat_kit"` |
///
/// The class is fitted as [`GrowthFit`] documents: a fixed cost does not read as slower growth.
///
/// # Panics
///
/// The test fails (panics) when a figure grows faster than declared; when the sizes are too close
/// together to tell the classes apart (`[1, 2, 3]` reads `n` as `log n`, see [`GrowthFit`]); and,
/// rather than passing without measuring anything, when the test binary has no dhat-kit
/// allocator or dhat-kit was built without its `peak` feature.
///
/// # Compile errors
///
/// At the offending token: an unknown class (with the nearest valid one: `"n^4"` → `"n^3"`,
/// `"linear"` → `"n"`), an unknown or repeated key, fewer than 3 sizes, sizes out of order, a size
/// that is not an integer literal, no class declared, a function that does not take one
/// `usize` parameter (or is `async`, `const`, `unsafe` or generic), and a `#[should_panic]`
/// function that returns a `Result`.
#[doc(inline)]
pub use dhat_kit_macros::assert_growth;

/// A function's body in a region named after the function: `#[dhat_kit::in_region]`, or
/// `#[dhat_kit::in_region("name")]` to name it.
///
/// On a plain function (or method) it enters the region at the top of the body, as
/// [`region!`](macro@region) written there would, and ends it after the temporaries of the body's
/// last expression are freed (in `vec![0u8; n].len()`, the vector is freed inside the region,
/// whatever the edition). On an `async fn` it puts the body's future in
/// the region with [`InRegionExt::in_region`]: the region follows the future across its
/// `.await`s, on whatever threads poll it, and each call is one entry, counted when the future
/// completes or is dropped; a [`region!`](macro@region) there would not be `Send` and would count
/// what other tasks do while it waits. The region nests under the one active where the function
/// is called; for an `async fn`, whose body runs only when its future is first polled, under
/// the one active at that first poll (as `#[tracing::instrument]` makes its span): to nest it
/// where the future is made, as a task handed to a runtime made inside `"server"`, put the region
/// on the future there instead, `handle(request).in_region("handle")`. On a plain function that
/// returns a future or a stream (`impl Future`, `Pin<Box<dyn Future<..>>>`, `futures`'
/// `BoxFuture`, `impl Stream`) it is a compile error: it would count only the making of it. The
/// return type is read as written, so one behind an alias of one's own or a named future type
/// (`JoinHandle<T>`) is not recognised: put `.in_region` on what such a function returns.
/// `crate = "path::to::dhat_kit"` names
/// dhat-kit where it is re-exported or renamed.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// #[dhat_kit::in_region]
/// fn parse(text: &str) -> Vec<String> {
///     text.split(' ').map(String::from).collect()
/// }
///
/// #[dhat_kit::in_region("fetch")]
/// async fn download(size: usize) -> Vec<u8> {
///     std::future::ready(()).await;
///     vec![0; size]
/// }
///
/// fn main() {
///     let words = parse("two words");
///     let future = std::pin::pin!(download(100));
///     let _ = std::future::Future::poll(
///         future,
///         &mut std::task::Context::from_waker(std::task::Waker::noop()),
///     );
///     let regions = dhat_kit::regions();
///     assert_eq!(regions.get("parse").unwrap().inclusive.total_blocks, 3); // the Vec, 2 Strings
///     assert_eq!(regions.get("fetch").unwrap().inclusive.total_bytes, 100);
///     # drop(words);
/// }
/// ```
///
/// # Compile errors
///
/// Anything but a string for the name, and use on anything but a function with a body or on a
/// `const fn`.
#[doc(inline)]
pub use dhat_kit_macros::in_region;

/// Where [`global_allocator!`] goes, as the messages of a measurement without the allocator
/// say it.
pub(crate) const INSTALL: &str =
    "Install it at the root of the crate the test is in: at the top of \
     the file under tests/ (or benches/, or a binary's src/main.rs):\n\n    \
     dhat_kit::global_allocator!();\n\n\
     and for a library's unit tests, in src/lib.rs under #[cfg(test)], so that the library does \
     not install it in every program that uses it:\n\n    \
     #[cfg(test)]\n    \
     dhat_kit::global_allocator!();\n";

/// Installs dhat-kit's counting allocator as the global allocator of the crate it is written in.
///
/// Write it once, at the crate root of a binary, test or benchmark. For a library's unit tests,
/// write it in `src/lib.rs` under `#[cfg(test)]`: without it, the library itself would install
/// the allocator in every program that depends on it, and a program (or an integration test)
/// with a global allocator of its own would fail to build. It expands to
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

#[cfg(test)]
mod tests {
    /// Asserts that no error in `err`'s chain says its source's message again, as a wrapper that
    /// names the error it wraps as its source does, or a message that quotes its source's (an I/O
    /// error's text) and names it as its source: a chain printed whole (`anyhow`'s `{:#}`, a
    /// report's "Caused by") read that text twice.
    pub(crate) fn each_cause_once(err: &(dyn std::error::Error + 'static)) {
        if let Some(cause) = a_cause_said_twice(err) {
            panic!("a cause said twice in the chain of {err}: {cause:?}");
        }
    }

    /// The text of the first cause in `err`'s chain that the error above it already says.
    fn a_cause_said_twice(err: &(dyn std::error::Error + 'static)) -> Option<String> {
        let mut level: &(dyn std::error::Error + 'static) = err;
        while let Some(source) = level.source() {
            let (said, cause) = (level.to_string(), source.to_string());
            if said.contains(&cause) {
                return Some(cause);
            }
            level = source;
        }
        None
    }

    /// Each error that says an I/O, JSON or analysis error's text says it once in a chain: the
    /// unreadable profile, budget file and baseline, a baseline that is no JSON, a profiler's
    /// output that cannot be written, a diff of which one side fails, a flame graph or export
    /// whose writer fails. Each named the error it quoted as its source, and `anyhow`'s `{:#}`
    /// read "cannot be read: No such file or directory (os error 2): No such file or directory
    /// (os error 2)".
    #[test]
    fn an_error_that_says_its_causes_text_says_it_once_in_a_chain() {
        use std::error::Error;
        struct Failing;
        impl std::io::Write for Failing {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("the disk is full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let dir = crate::atomic_file::fresh_dir("cause-once-all");
        let missing = dir.join("missing.json");
        std::fs::write(dir.join("file"), "").unwrap();
        let mut errors: Vec<Box<dyn Error>> = vec![
            Box::new(crate::profile::read(&missing).unwrap_err()),
            Box::new(crate::baseline::Baseline::load(&dir).unwrap_err()),
            Box::new(crate::baseline::Baseline::from_slice(b"{", &missing).unwrap_err()),
            Box::new(crate::profiler::check_writable(&dir.join("file/out.json")).unwrap_err()),
        ];
        #[cfg(feature = "budget")]
        errors.push(Box::new(
            crate::analyze::budget::Budgets::read(&missing).unwrap_err(),
        ));
        let heap = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[{"tb":100,"tbk":1,"mb":100,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
          "ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}"#;
        let heap = crate::profile::from_slice(heap.as_bytes(), "heap.json").unwrap();
        let ad_hoc = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
          "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"t","pid":1,"te":10,
          "pps":[{"tb":100,"tbk":1,"fs":[1]}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}"#;
        let ad_hoc = crate::profile::from_slice(ad_hoc.as_bytes(), "ad-hoc.json").unwrap();
        let by_peak = crate::analyze::DiffOptions {
            by: crate::analyze::Metric::PeakBytes,
            ..Default::default()
        };
        errors.push(Box::new(
            crate::analyze::diff(&ad_hoc, &heap, &by_peak).unwrap_err(),
        ));
        let folded = crate::export::Options::new(crate::export::To::Folded);
        errors.push(Box::new(
            crate::export::write(&heap, "heap.json", &folded, &mut Failing).unwrap_err(),
        ));
        #[cfg(feature = "cli")]
        errors.push(Box::new(
            crate::analyze::flamegraph_svg(&heap, crate::analyze::Metric::TotalBytes, "t", Failing)
                .unwrap_err(),
        ));
        let twice: Vec<String> = errors
            .iter()
            .filter_map(|err| a_cause_said_twice(&**err).map(|cause| format!("{err}: {cause:?}")))
            .collect();
        assert!(
            twice.is_empty(),
            "a cause said twice in:\n{}",
            twice.join("\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
