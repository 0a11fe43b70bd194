//! Memory baselines: a file of recorded figures per name, a comparison with a tolerance, and an
//! update flow that never writes on CI.
//!
//! A team keeps its memory figures in the repository, one file per crate (by default
//! `memory-baseline.json` at the crate root), and fails when a change makes them worse by more
//! than a tolerance. `#[dhat_kit::assert_heap(baseline)]` checks a test's figures against its
//! entry; `dhat-kit check PROFILE --baseline FILE` checks a whole-program profile.
//!
//! # The file
//!
//! Versioned JSON, pretty-printed, with the entries sorted by name, so that a change to one entry
//! is a small diff:
//!
//! ```json
//! {
//!   "dhat_kit_baseline": 1,
//!   "entries": {
//!     "parser::tests::small_document": {
//!       "total_bytes": 18432,
//!       "total_blocks": 211,
//!       "peak_bytes": 4096,
//!       "peak_blocks": 12,
//!       "end_bytes": 0,
//!       "recorded_at": "2026-11-24T10:45:19Z",
//!       "commit": "0ec0386c2f8d4c6b1e1f9a7b7d7d3f1e2a4b5c6d"
//!     }
//!   }
//! }
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `dhat_kit_baseline` | the format version, [`FORMAT_VERSION`] |
//! | `measures` | what the figures count, when not bytes and blocks ([`Measure`]): `{"kind": "ad-hoc", "unit": "units", "blocks": "events"}` for an ad-hoc profile's; absent, bytes and blocks |
//! | `total_bytes`, `total_blocks` | everything allocated ([`Stats::total_bytes`], `total_blocks`; a profile's `tb`, `tbk` sums) |
//! | `peak_bytes`, `peak_blocks` | the peak of the live heap ([`Stats::max_bytes`], `max_blocks`; a profile's `gb`, `gbk` sums) |
//! | `end_bytes` | live at the end ([`Stats::curr_bytes`]; a profile's `eb` sum) |
//! | `recorded_at` | when the entry was recorded, UTC, RFC 3339 |
//! | `commit` | `git rev-parse HEAD` in the file's directory when it was recorded, if git answered |
//!
//! Every figure is optional; a comparison covers the figures both sides have. Figures are
//! compared with (and recorded over) an entry only if they measure the same
//! ([`Measure::comparable`], the rule of `dhat-kit diff`); otherwise the check fails with
//! [`BaselineError::Kinds`] and writes nothing.
//!
//! The seed format that teams write by hand or by script, one object per file with
//! `total_allocations_bytes`, `peak_memory_bytes`, `allocation_count`, `measured_at` and
//! `commit`, is read too, as one entry named [`DEFAULT_NAME`] (`total_bytes`, `peak_bytes`,
//! `total_blocks`, `recorded_at`, `commit`). Recording into such a file rewrites it in this format.
//!
//! # Updating
//!
//! See [`Policy`]: `DHAT_KIT_UPDATE=1` records new entries and entries outside the tolerance,
//! `DHAT_KIT_UPDATE=new` writes them to a pending `FILE.new` for review, and when `CI` is set
//! nothing is ever written. Writers take a lock (`FILE.lock`, beside the file for the length of
//! the update; on Unix it is removed after), read the file again, merge their entry, and replace the file through a temporary
//! file and a rename, so that tests in parallel threads and in parallel processes never lose an
//! entry, and a reader never sees half a file. A `FILE` that is a symbolic link (packages that
//! share one baseline) is the file it links to: the lock, the pending `.new` and the command
//! that accepts it are that file's.
//!
//! # One entry, one test
//!
//! An entry holds one test's figures. A test that checks an entry another test of the same run
//! has checked (two tests with the same `baseline = "parse"`) fails, naming the entry, the file
//! and both tests, and neither compares nor records its figures; the test that checked it first
//! is unaffected. A test checking its own entry again (a retry, a repeated call) is fine. This is
//! seen between the tests of one process (the threads of a test binary under `cargo test`), and
//! between the processes of one cargo-nextest run, which share its `NEXTEST_RUN_ID` (each test
//! claims its entries in a file under the temporary directory, `dhat-kit-claims/RUN/`; a run's
//! claims are removed by a run a day later), and on Linux between the test binaries one `cargo
//! test` runs one after the other (its children: the run is named after the cargo process); not
//! between binaries run by hand or by another runner, nor elsewhere than on Linux.
//!
//! # Examples
//!
//! ```
//! use dhat_kit::baseline::{compare, BaselineFigures, METRICS};
//!
//! let recorded = BaselineFigures {
//!     peak_bytes: Some(4096),
//!     total_bytes: Some(10_000),
//!     ..BaselineFigures::default()
//! };
//! let now = BaselineFigures {
//!     peak_bytes: Some(5120),
//!     total_bytes: Some(10_100),
//!     ..BaselineFigures::default()
//! };
//! let comparison = compare("parse", &recorded, &now, 5.0, &METRICS);
//! assert!(!comparison.passed());
//! assert_eq!(comparison.regressions().count(), 1); // peak bytes, +25%
//! println!("{comparison}");
//! ```
//!
//! [`Stats::total_bytes`]: crate::Stats::total_bytes
//! [`Stats::max_bytes`]: crate::Stats::max_bytes
//! [`Stats::curr_bytes`]: crate::Stats::curr_bytes

mod compare;
mod file;
mod update;

pub use self::compare::{compare, Comparison, Row, Status};
pub use self::file::{
    parse_metric, Baseline, BaselineError, BaselineFigures, Entry, Measure, METRICS,
};
pub use self::update::{
    check, check_command, check_loaded, check_profile, decide, locate, parse_tolerance,
    CheckOptions, Decision, Policy, ProfileCheck, SettingError, Standing, Update, Verdict, Write,
};
pub(crate) use self::update::{check_test, TestEntry};
/// The one metric type of the crate; a baseline records those of [`METRICS`].
pub use crate::analyze::Metric;

/// The version of the baseline file format this dhat-kit reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// The baseline file of a crate, at its root, when `DHAT_KIT_BASELINE` does not name another.
pub const DEFAULT_FILE: &str = "memory-baseline.json";

/// The tolerance, in percent, when none is given.
pub const DEFAULT_TOLERANCE: f64 = 5.0;

/// The name of the entry `dhat-kit check` uses without `--name`, and the one entry of a seed file.
pub const DEFAULT_NAME: &str = "default";
