//! The runtime of `#[assert_heap]`: a test's heap [`Budget`], the measurement of its body on the
//! test's thread or, with `threads = "all"`, on every thread of the process ([`run`],
//! [`run_should_panic`], [`Measured`] for async bodies), and the report of a failure.
//!
//! The attribute itself (in `dhat-kit-macros`) only collects the limits and hands the body over;
//! everything that decides and says whether a test passes is here, reached through
//! [`__private`](crate::__private).

use crate::stats::{Late, Shared, Stats, WholeSpan};
use crate::tally::Mark;
use crate::units::{Count, Thousands};
use std::fmt::Write as _;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A field of [`Stats`] that a budget bounds; the keys of `#[assert_heap]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `total_bytes`
    TotalBytes,
    /// `total_blocks`
    TotalBlocks,
    /// `max_bytes`
    MaxBytes,
    /// `max_blocks`
    MaxBlocks,
    /// `curr_bytes`
    CurrBytes,
    /// `curr_blocks`
    CurrBlocks,
}

impl Key {
    /// Every key, in the order of [`Stats::FIELDS`].
    const ALL: [Key; 6] = [
        Key::TotalBytes,
        Key::TotalBlocks,
        Key::MaxBytes,
        Key::MaxBlocks,
        Key::CurrBytes,
        Key::CurrBlocks,
    ];

    /// The key's name, the name of its `Stats` field.
    #[must_use]
    pub const fn name(self) -> &'static str {
        Stats::FIELDS[self as usize]
    }

    fn unit(self) -> &'static str {
        match self {
            Key::TotalBytes | Key::MaxBytes | Key::CurrBytes => "byte",
            Key::TotalBlocks | Key::MaxBlocks | Key::CurrBlocks => "block",
        }
    }

    fn of(self, stats: &Stats) -> u64 {
        match self {
            Key::TotalBytes => stats.total_bytes,
            Key::TotalBlocks => stats.total_blocks,
            Key::MaxBytes => stats.max_bytes,
            Key::MaxBlocks => stats.max_blocks,
            Key::CurrBytes => stats.curr_bytes,
            Key::CurrBlocks => stats.curr_blocks,
        }
    }
}

/// A value that can be a limit: any integer type. `#[assert_heap]` refuses a negative value at
/// compile time (a literal in the attribute, a constant in the constant evaluation it expands
/// to); [`Budget::limit`] called by hand refuses it when the test runs.
#[diagnostic::on_unimplemented(
    message = "a heap limit must be an integer, not `{Self}`",
    label = "not an integer",
    note = "write the limit as an integer expression, e.g. `max_bytes = 64 * 1024`"
)]
pub trait Limit: Copy {
    /// Zero of this type, to compare a value with in a constant evaluation.
    const ZERO: Self;

    /// The limit as a `u64` (saturating above `u64::MAX`), or the negative value.
    fn to_limit(self) -> Result<u64, i128>;
}

/// Zero of `value`'s type: `value < zero_of(&value)` is "negative" for any integer type, in a
/// constant evaluation (where the trait's methods cannot be called).
pub const fn zero_of<T: Limit>(_value: &T) -> T {
    T::ZERO
}

/// A non-negative limit, widened to `u128` (which holds every such value of every integer type),
/// as a `u64`: saturating above `u64::MAX`.
#[must_use]
pub const fn saturate(value: u128) -> u64 {
    if value > u64::MAX as u128 {
        u64::MAX
    } else {
        value as u64
    }
}

macro_rules! unsigned_limit {
    ($($t:ty)*) => {$(
        impl Limit for $t {
            const ZERO: Self = 0;
            fn to_limit(self) -> Result<u64, i128> {
                Ok(u64::try_from(self).unwrap_or(u64::MAX))
            }
        }
    )*};
}
macro_rules! signed_limit {
    ($($t:ty)*) => {$(
        impl Limit for $t {
            const ZERO: Self = 0;
            fn to_limit(self) -> Result<u64, i128> {
                if self < 0 {
                    Err(self as i128)
                } else {
                    Ok(u64::try_from(self).unwrap_or(u64::MAX))
                }
            }
        }
    )*};
}
unsigned_limit!(u8 u16 u32 u64 u128 usize);
signed_limit!(i8 i16 i32 i64 i128 isize);

/// One test's heap budget: its path, an upper bound per key, and its baseline entry if any.
#[derive(Debug, Clone)]
pub struct Budget {
    test: &'static str,
    limits: [Option<u64>; 6],
    /// A limit that was given a negative value: the key and the value.
    negative: Option<(Key, i128)>,
    /// `baseline` / `baseline = "name"`, `tolerance = N`.
    baseline: Option<BaselineKey>,
    /// `threads = "all"`: measured on every thread of the process.
    all_threads: bool,
    /// A `#[should_panic(expected = "..")]` test's expected text.
    expected_panic: Option<&'static str>,
}

/// Where a budget's baseline entry is: the test crate's package and root, the entry's name (the
/// test's path when `None`), and the tolerance in percent.
#[derive(Debug, Clone, Copy)]
struct BaselineKey {
    package: &'static str,
    manifest_dir: &'static str,
    /// The file of the test (where `baseline` was called), for the record command's target.
    source: &'static str,
    /// Whether the test was built in an integration test's (or a benchmark's) crate, as cargo
    /// tells one (`CARGO_TARGET_TMPDIR`): its target is `--test` wherever its file is.
    integration: bool,
    /// The binary whose crate the test was built in, as cargo names it (`CARGO_BIN_NAME`).
    bin: Option<&'static str>,
    name: Option<&'static str>,
    tolerance: Option<f64>,
    /// The figures compared (`metrics = [..]`, names as the baseline file's keys); all it
    /// records when empty.
    metrics: &'static [&'static str],
}

impl Budget {
    /// A budget with no limit yet, for the test at `test` (`module::path::test_name`).
    #[must_use]
    pub const fn new(test: &'static str) -> Budget {
        Budget {
            test,
            limits: [None; 6],
            negative: None,
            baseline: None,
            all_threads: false,
            expected_panic: None,
        }
    }

    /// The text a `#[should_panic(expected = "..")]` test's panic must contain, as the test
    /// harness reads it: a run whose panic lacks it (or that does not panic) fails its test, so
    /// its figures are checked against the limits but never recorded in a baseline.
    #[must_use]
    pub const fn expected_panic(mut self, text: &'static str) -> Budget {
        self.expected_panic = Some(text);
        self
    }

    /// Whether a `#[should_panic]` body that ended with `payload` (`None`: it returned) passes
    /// its test, as the test harness decides: it panicked, and its message (a `String` or a
    /// `&str`) holds the expected text if one is given.
    fn panicked_as_expected(&self, payload: Option<&(dyn std::any::Any + Send)>) -> bool {
        let Some(payload) = payload else {
            return false;
        };
        let Some(expected) = self.expected_panic else {
            return true;
        };
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        message.is_some_and(|m| m.contains(expected))
    }

    /// [`Budget::report`] for a `#[should_panic]` test whose body ended with `payload` (`None`:
    /// it returned): the limits alone where the run fails its test anyway (it did not panic, or
    /// not with the expected text), so that such a run is never recorded in a baseline.
    fn report_should_panic(
        &self,
        stats: &Stats,
        freed: Freed,
        payload: Option<&(dyn std::any::Any + Send)>,
    ) -> Option<String> {
        if self.panicked_as_expected(payload) {
            self.report_freed(stats, freed)
        } else {
            self.over_limits(stats)
        }
    }

    /// [`Budget::report`], with [`Budget::freed_elsewhere`] between the limits and the baseline:
    /// a figure over its limit is over it whatever the thread freed (a free of another thread's
    /// block only lowers the figures), so that is said first, as it is.
    fn report_freed(&self, stats: &Stats, freed: Freed) -> Option<String> {
        self.over_limits(stats)
            .or_else(|| self.freed_elsewhere(freed))
            .or_else(|| self.report(stats))
    }

    /// Why a thread-scope budget that checks a live figure (a `max_*` or `curr_*` limit, or a
    /// baseline's peak or end) fails where its thread freed more than it allocated during the
    /// test: it freed blocks allocated elsewhere, each of which lowered those figures by its
    /// size from then on, so that a leak or a peak after it could pass unseen. `None` otherwise.
    fn freed_elsewhere(&self, (bytes, blocks): Freed) -> Option<String> {
        if self.all_threads || (bytes, blocks) == (0, 0) {
            return None;
        }
        let live = [
            Key::MaxBytes,
            Key::MaxBlocks,
            Key::CurrBytes,
            Key::CurrBlocks,
        ];
        let limited = live.iter().any(|&k| self.get(k).is_some());
        let recorded = self.baseline.is_some_and(|b| {
            b.metrics.is_empty()
                || b.metrics.iter().any(|m| {
                    crate::analyze::Metric::parse(m).is_some_and(|m| {
                        !matches!(
                            m,
                            crate::analyze::Metric::TotalBytes
                                | crate::analyze::Metric::TotalBlocks
                        )
                    })
                })
        });
        if !limited && !recorded {
            return None;
        }
        let beyond = match (bytes, blocks) {
            (_, 0) => Count(bytes, "byte").to_string(),
            (0, _) => Count(blocks, "block").to_string(),
            _ => format!("{} in {}", Count(bytes, "byte"), Count(blocks, "block")),
        };
        Some(format!(
            "dhat-kit: {} cannot be checked on the test's thread: the thread freed {beyond} more \
             than it allocated during the test, so it freed blocks allocated elsewhere (on \
             another thread, or by a task polled outside the test's future), each of which \
             lowered its live and peak figures (max_*, curr_*) by its size from then on, and \
             what it holds could pass unseen; count every thread with \
             #[assert_heap(threads = \"all\", ..)], or check total_* alone on this thread",
            self.test,
        ))
    }

    /// Measures the test on every thread of the process ([`measure_all`](crate::measure_all)),
    /// not only on its own: `#[assert_heap(threads = "all")]`.
    #[must_use]
    pub const fn all_threads(mut self) -> Budget {
        self.all_threads = true;
        self
    }

    /// Whether the budget is measured on every thread of the process.
    #[must_use]
    pub fn is_all_threads(&self) -> bool {
        self.all_threads
    }

    /// Checks the figures against the entry `name` (or the test's path) of the baseline file of
    /// the crate of `package` at `manifest_dir` too, with `tolerance` percent (see
    /// [`baseline`](crate::baseline)); `#[assert_heap(baseline)]` passes `CARGO_PKG_NAME` and
    /// `CARGO_MANIFEST_DIR`. The caller's file tells which of the package's test binaries the
    /// test is in, for the command that records its entry.
    #[must_use]
    #[track_caller]
    pub fn baseline(
        mut self,
        package: &'static str,
        manifest_dir: &'static str,
        name: Option<&'static str>,
        tolerance: Option<f64>,
    ) -> Budget {
        self.baseline = Some(BaselineKey {
            package,
            manifest_dir,
            source: std::panic::Location::caller().file(),
            integration: false,
            bin: None,
            name,
            tolerance,
            metrics: &[],
        });
        self
    }

    /// Says whether the test's crate is an integration test's (or a benchmark's):
    /// `#[assert_heap(baseline)]` passes whether cargo set `CARGO_TARGET_TMPDIR` for it, so that
    /// the record command selects a `[[test]]` target whose file is outside `tests/`. Called
    /// after [`Budget::baseline`]; without a baseline it does nothing.
    #[must_use]
    pub fn integration_target(mut self, integration: bool) -> Budget {
        if let Some(b) = &mut self.baseline {
            b.integration = integration;
        }
        self
    }

    /// Says which binary's crate the test was built in, if a binary's (a unit test of
    /// `src/main.rs` or of an example): `#[assert_heap(baseline)]` passes `CARGO_BIN_NAME`, which
    /// cargo sets for those alone, so that the record command selects `--bin NAME` where the
    /// file alone would read as the library's. Called after [`Budget::baseline`]; without a
    /// baseline it does nothing.
    #[must_use]
    pub fn bin_target(mut self, bin: Option<&'static str>) -> Budget {
        if let Some(b) = &mut self.baseline {
            b.bin = bin;
        }
        self
    }

    /// Compares only these figures with the baseline entry (`total_bytes`, `total_blocks`,
    /// `peak_bytes`, `peak_blocks`, `end_bytes`, as the file names them; the attribute checks the
    /// names when it compiles): `#[assert_heap(baseline, metrics = ["total_bytes"])]`. Called
    /// after [`Budget::baseline`]; without a baseline it does nothing.
    #[must_use]
    pub fn baseline_metrics(mut self, metrics: &'static [&'static str]) -> Budget {
        if let Some(b) = &mut self.baseline {
            b.metrics = metrics;
        }
        self
    }

    /// Sets the limit of `key`. A negative value makes the test fail when it runs.
    #[must_use]
    pub fn limit(mut self, key: Key, value: impl Limit) -> Budget {
        match value.to_limit() {
            Ok(limit) => self.limits[key as usize] = Some(limit),
            Err(negative) => {
                self.negative.get_or_insert((key, negative));
            }
        }
        self
    }

    /// The test's path, as given to [`Budget::new`].
    #[must_use]
    pub fn test(&self) -> &'static str {
        self.test
    }

    /// The limit of `key`, if one was set.
    #[must_use]
    pub fn get(&self, key: Key) -> Option<u64> {
        self.limits[key as usize]
    }

    /// Why this budget cannot be checked in this binary, if it cannot: a negative limit, a
    /// dhat-kit built without counting, or no dhat-kit allocator installed.
    #[must_use]
    pub fn unmeasurable(&self) -> Option<String> {
        self.unmeasurable_with(cfg!(feature = "peak"), crate::is_installed)
    }

    fn unmeasurable_with(
        &self,
        counting: bool,
        installed: impl FnOnce() -> bool,
    ) -> Option<String> {
        let test = self.test;
        if let Some((key, value)) = self.negative {
            let key = key.name();
            return Some(format!(
                "dhat-kit: #[assert_heap] on {test}: the limit `{key}` is negative ({value}); \
                 a limit is an upper bound, 0 or more"
            ));
        }
        if !counting {
            return Some(format!(
                "dhat-kit: #[assert_heap] on {test} cannot measure: dhat-kit was built without \
                 its `peak` feature, so nothing is counted.\n\
                 Enable it (it is a default feature) where dhat-kit is a dependency, e.g. in \
                 Cargo.toml:\n\n    \
                 dhat-kit = {{ version = \"0.1\", features = [\"peak\"] }}\n"
            ));
        }
        if !installed() {
            return Some(format!(
                "dhat-kit: #[assert_heap] on {test} cannot measure: dhat-kit's allocator is not \
                 installed in this test binary.\n{}",
                crate::INSTALL
            ));
        }
        None
    }

    /// The failure report if `stats` exceeds any limit, or, within the limits, fails the
    /// budget's baseline check; `None` if it is within the budget.
    ///
    /// Two steps: the limits ([`Budget::over_limits`], which only renders), then, only when they
    /// hold, the baseline check, which decides, records as `DHAT_KIT_UPDATE` says, and renders its
    /// own message (see [`baseline::check`](crate::baseline::check)): figures over a limit are
    /// never recorded.
    #[must_use]
    pub fn report(&self, stats: &Stats) -> Option<String> {
        if let Some(over) = self.over_limits(stats) {
            return Some(over);
        }
        let b = self.baseline?;
        let metrics: Vec<crate::analyze::Metric> = b
            .metrics
            .iter()
            .filter_map(|m| crate::analyze::Metric::parse(m))
            .collect();
        crate::baseline::check_test(
            crate::baseline::TestEntry {
                package: b.package,
                manifest_dir: b.manifest_dir,
                source: b.source,
                integration: b.integration,
                bin: b.bin,
                test_path: self.test,
                name: b.name,
                tolerance: b.tolerance,
                metrics: &metrics,
                all_threads: self.all_threads,
            },
            stats,
        )
        .err()
    }

    /// The failure report if `stats` exceeds any limit, `None` otherwise; writes nothing.
    ///
    /// One block: the test's path, one line per exceeded key
    /// (`key: measured > limit (+N bytes, +P%)`), then every measured figure beside its limit.
    #[must_use]
    pub fn over_limits(&self, stats: &Stats) -> Option<String> {
        let exceeded: Vec<Key> = Key::ALL
            .into_iter()
            .filter(|&k| self.get(k).is_some_and(|limit| k.of(stats) > limit))
            .collect();
        if exceeded.is_empty() {
            return None;
        }
        let mut out = format!("dhat-kit: {} went over its heap budget\n", self.test);
        for &key in &exceeded {
            let (measured, limit) = (key.of(stats), self.get(key).unwrap_or_default());
            let over = measured - limit;
            let percent = if limit == 0 {
                "over a limit of 0".to_string()
            } else {
                format!("+{:.1}%", over as f64 * 100.0 / limit as f64)
            };
            let _ = writeln!(
                out,
                "  {}: {} > {} (+{}, {percent})",
                key.name(),
                Thousands(measured),
                Thousands(limit),
                Count(over, key.unit()),
            );
        }
        let curr_exceeded = exceeded
            .iter()
            .any(|k| matches!(k, Key::CurrBytes | Key::CurrBlocks));
        out.push_str(if self.all_threads {
            "measured on all threads:\n"
        } else {
            "measured on the test's thread:\n"
        });
        for key in Key::ALL {
            let value = Thousands(key.of(stats)).to_string();
            let line = match self.get(key) {
                Some(limit) => format!("  {:<13}{value:<14}limit {}", key.name(), Thousands(limit)),
                None => format!("  {:<13}{value}", key.name()),
            };
            let _ = writeln!(out, "{}", line.trim_end());
        }
        if !self.all_threads {
            out.push_str(
                "not counted: allocations on other threads (threads the test starts, a thread \
                 pool, an async runtime's workers); to count them, use \
                 #[assert_heap(threads = \"all\", ..)]\n",
            );
            if curr_exceeded {
                out.push_str(
                    "curr_*: blocks this thread allocated and another thread freed still count \
                     as live here (and blocks it freed for other threads lower its figures); \
                     threads = \"all\" counts each free wherever it happens\n",
                );
            }
        }
        if curr_exceeded {
            out.push_str(
                "curr_*: what the body set up on first use and keeps (a OnceLock or lazy static, \
                 a cache, a pool or runtime it started) is live at the end too; to leave it out, \
                 run the work once first and check the second run with dhat_kit::measure (or \
                 measure_all)\n",
            );
        }
        out.pop();
        Some(out)
    }
}

/// What a test's result says of the test, so that a budget leaves a failed run alone: an `Err`,
/// or an `ExitCode` other than success, fails the test, and so does `Ok` of such an exit code in
/// a `Result<ExitCode, E>` ([`FailsByExitCode`], [`FailsTest`]); a result of any other type does
/// not ([`NeverFailsTest`]). The macros call `(&Outcome(&result)).fails_test()` with the three
/// traits in scope, so that the result's type chooses the method, by the first receiver type
/// that has one: `&Outcome` (an `Outcome` of `Result<ExitCode, E>`), then `&&Outcome` (a `&Outcome`
/// of any `Result` or an `ExitCode`), then `Outcome` by value (of anything). An alias of `Result`
/// is a `Result`, and an `Err` of any error type fails, `Debug` or not; `#[assert_growth]` says
/// it with `(&Outcome(&result)).failure()` ([`SaysExitFailure`], [`SaysFailure`] and
/// [`SaysExitCode`], [`SaysNothing`], by the same receivers) where its type is `Debug`.
#[derive(Debug)]
pub struct Outcome<'a, T>(pub &'a T);

// By hand: a derive would bound `T: Clone`, and `NeverFailsTest` takes `Outcome<T>` by value.
impl<T> Clone for Outcome<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Outcome<'_, T> {}

/// An exit code in a `Result`, which fails the test as an `Err` or as `Ok` of a code other than
/// success: see [`Outcome`].
pub trait FailsByExitCode {
    /// Whether this result fails the test.
    fn fails_test(&self) -> bool;
}

impl<E> FailsByExitCode for Outcome<'_, Result<std::process::ExitCode, E>> {
    fn fails_test(&self) -> bool {
        self.0
            .as_ref()
            .map_or(true, |code| *code != std::process::ExitCode::SUCCESS)
    }
}

/// A result that can fail a test: see [`Outcome`].
pub trait FailsTest {
    /// Whether this result fails the test.
    fn fails_test(&self) -> bool;
}

impl<T, E> FailsTest for &Outcome<'_, Result<T, E>> {
    fn fails_test(&self) -> bool {
        self.0.is_err()
    }
}

impl FailsTest for &Outcome<'_, std::process::ExitCode> {
    fn fails_test(&self) -> bool {
        *self.0 != std::process::ExitCode::SUCCESS
    }
}

/// A result of any other type: see [`Outcome`].
pub trait NeverFailsTest: Sized {
    /// Never: a result of this type does not fail the test.
    fn fails_test(self) -> bool {
        false
    }
}

impl<T> NeverFailsTest for Outcome<'_, T> {}

/// What fails the test in a `Result<ExitCode, E>` of a `Debug` error: the error, or an exit code
/// other than success (see [`Outcome`]).
pub trait SaysExitFailure {
    /// What fails the test in this result, if anything does.
    fn failure(&self) -> Option<String>;
}

impl<E: std::fmt::Debug> SaysExitFailure for Outcome<'_, Result<std::process::ExitCode, E>> {
    fn failure(&self) -> Option<String> {
        match self.0 {
            Err(e) => Some(format!("{e:?}")),
            Ok(code) => (*code != std::process::ExitCode::SUCCESS).then(|| format!("{code:?}")),
        }
    }
}

/// A failing result that says what failed, as the test harness would show it: an `Err`'s error
/// by `Debug`, an exit code (see [`Outcome`]).
pub trait SaysFailure {
    /// What fails the test in this result, if anything does.
    fn failure(&self) -> Option<String>;
}

impl<T, E: std::fmt::Debug> SaysFailure for &Outcome<'_, Result<T, E>> {
    fn failure(&self) -> Option<String> {
        self.0.as_ref().err().map(|e| format!("{e:?}"))
    }
}

impl SaysFailure for &Outcome<'_, std::process::ExitCode> {
    fn failure(&self) -> Option<String> {
        (*self.0 != std::process::ExitCode::SUCCESS).then(|| format!("{:?}", self.0))
    }
}

/// What fails the test in a `Result<ExitCode, E>` of an error that is not `Debug`: an exit code
/// other than success (see [`Outcome`]); an `Err` cannot say.
pub trait SaysExitCode {
    /// What fails the test in this result, if it can say.
    fn failure(&self) -> Option<String>;
}

impl<E> SaysExitCode for &Outcome<'_, Result<std::process::ExitCode, E>> {
    fn failure(&self) -> Option<String> {
        match self.0 {
            Ok(code) => (*code != std::process::ExitCode::SUCCESS).then(|| format!("{code:?}")),
            Err(_) => None,
        }
    }
}

/// A result that cannot say what failed (an error that is not `Debug`): see [`Outcome`].
pub trait SaysNothing: Sized {
    /// Nothing to say.
    fn failure(self) -> Option<String> {
        None
    }
}

impl<T> SaysNothing for Outcome<'_, T> {}

/// Runs a test's body under its budget: measures it on this thread ([`measure`](crate::measure)
/// semantics) and returns its result. A result that `fails` the test (an `Err`: see [`Outcome`])
/// is returned unchecked, as a panic passes through: its figures are those of a run cut short, so
/// they are neither compared with the budget nor recorded in a baseline, and the test fails with
/// its own error rather than the budget's.
///
/// # Panics
///
/// If the budget cannot be checked (see [`Budget::unmeasurable`]), without running the body; if
/// the body's figures exceed the budget, with [`Budget::report`]; and if the body panics.
#[track_caller]
pub fn run<R>(budget: Budget, body: impl FnOnce() -> R, fails: impl FnOnce(&R) -> bool) -> R {
    let scope = Scope::enter(&budget);
    if let Some(why) = budget.unmeasurable() {
        panic!("{why}");
    }
    uncounted_panic_hook();
    let mut regions = RegionsDuring::begin(&budget);
    let measuring = scope.begin();
    let r = {
        let _pause = HookPause::enter();
        body()
    };
    let (stats, freed) = measuring.end();
    regions.ended();
    drop(scope);
    if fails(&r) {
        return r;
    }
    if let Some(report) = budget.report_freed(&stats, freed) {
        panic!("{}", regions.end(report));
    }
    r
}

/// The regions entered during a test (on its thread, or on every thread for a `threads = "all"`
/// budget), read before and after it so that a failure report can say where the bytes went.
#[must_use = "read again after the test, for its report"]
#[derive(Debug)]
struct RegionsDuring {
    start: crate::Regions,
    /// The regions when the measurement ended ([`ended`](Self::ended)), if they were read then.
    end: Option<crate::Regions>,
    all_threads: bool,
}

/// The most regions a failure report lists.
const REGIONS_LISTED: usize = 10;

impl RegionsDuring {
    /// Reads the regions before the measurement begins, uncounted: the kit's own work, which a
    /// budget around this one must not count either (it read 48 bytes in 2 blocks of it).
    fn begin(budget: &Budget) -> RegionsDuring {
        RegionsDuring {
            start: crate::tally::uncounted(|| crate::region::regions_on(budget.all_threads)),
            end: None,
            all_threads: budget.all_threads,
        }
    }

    /// Reads the regions as the measurement ends, uncounted, before the budget's report is built:
    /// a region open around the test would otherwise count the report's own allocations (its
    /// table read 1.6 KiB in 52 blocks for a test of 100 bytes in 1).
    fn ended(&mut self) {
        let end = crate::tally::uncounted(|| crate::region::regions_on(self.all_threads));
        let before = self.end.replace(end);
        crate::tally::uncounted(|| drop(before));
    }

    /// `report` followed by the regions entered since [`begin`](Self::begin), the largest
    /// first; `report` alone when none was.
    fn end(&self, mut report: String) -> String {
        let table = crate::tally::uncounted(|| self.table());
        report.push_str(&table);
        crate::tally::uncounted(|| drop(table));
        report
    }

    /// The regions entered since [`begin`](Self::begin), as [`end`](Self::end) adds them (read
    /// uncounted, by the caller).
    fn table(&self) -> String {
        let end = match &self.end {
            Some(end) => end.clone(),
            None => crate::region::regions_on(self.all_threads),
        };
        let since = end.clone().since(&self.start);
        let mut out = String::new();
        if since.is_empty() {
            return out;
        }
        // A region that had a peak before the test and did not pass it keeps one peak for all
        // its entries: its peak during the test is bounded, not known (`Regions::since`).
        let bounded: Vec<String> = since
            .iter()
            .filter(|r| {
                let before = self.start.get(&r.path);
                let after = end.get(&r.path);
                before.zip(after).is_some_and(|(before, after)| {
                    after.inclusive.max_bytes <= before.inclusive.max_bytes
                })
            })
            .map(|r| format!("`{}`", crate::analyze::one_line(&r.path)))
            .collect();
        let _ = write!(
            out,
            "\nregions entered during the test{} (dhat_kit::regions(); bytes and blocks are \
             inclusive, `peak` is above each entry's start, `kept` is live at its exit):",
            if self.all_threads {
                ""
            } else {
                ", on its thread"
            }
        );
        let table = since.to_string();
        for line in table.lines().take(REGIONS_LISTED + 1) {
            let _ = write!(out, "\n  {}", line.trim_end());
        }
        if since.len() > REGIONS_LISTED {
            let _ = write!(out, "\n  ... and {} more", since.len() - REGIONS_LISTED);
        }
        if !bounded.is_empty() {
            let _ = write!(
                out,
                "\n  {} entered before the test too, so `peak` is an upper bound there: the \
                 lower of the region's peak before the test and all it allocated during it",
                bounded.join(", ")
            );
        }
        out
    }
}

impl Drop for RegionsDuring {
    /// Frees the reading uncounted, as it was made.
    fn drop(&mut self) {
        let readings = (std::mem::take(&mut self.start), self.end.take());
        crate::tally::uncounted(|| drop(readings));
    }
}

/// Runs the whole body that `#[tokio::test]` generates for a `threads = "all"` budget (the
/// runtime built, the test's future run to completion under [`run_future`], the runtime shut
/// down) inside a whole-process span of its own, whose figures are not the budget's: the budget
/// measures the future's polls, in a span nested in this one. A multi-threaded runtime starts its
/// workers before the first poll; inside this span they are threads the measurement started,
/// counted in the nested one, not threads that ran before it. The first poll waits for the
/// threads started so far to go idle (a worker copies its name as it starts), so that building
/// the runtime is not counted however quickly the first poll comes.
///
/// This span is the one that checks whether a thread from before it ran meanwhile, so a budget
/// that failed inside it ([`finish_in_runtime`]) is said only after that check: its figures would include
/// the other thread's allocations, so the refusal is said instead.
///
/// # Panics
///
/// As [`measure_all`](crate::measure_all): when the process's other threads never went idle, or
/// one that existed before this span ran during it; with the budget's failure; and if `body`
/// panics.
#[track_caller]
pub fn around_runtime<R>(body: impl FnOnce() -> R) -> R {
    match around_runtime_checked(body, false) {
        Ok(r) => r,
        Err(why) => panic!("{why}"),
    }
}

/// [`around_runtime`] for a `#[should_panic]` test: a refusal is printed and the test returns,
/// so that it fails ("did not panic as expected") rather than pass on dhat-kit's panic; and the
/// body's own panic, the expected one, passes through only when the span was not refused (its
/// figures, within the budget, held another thread's work).
pub fn around_runtime_should_panic(body: impl FnOnce()) {
    if let Err(why) = around_runtime_checked(body, true) {
        eprintln!("{why}\n{SHOULD_PANIC_NOTE}");
    }
}

/// [`around_runtime`]'s work: the body's output, or why the test fails (the span's refusal
/// first, then the budget's failure). The body's own panic passes through; with
/// `check_on_panic`, only when the span is not refused.
fn around_runtime_checked<R>(body: impl FnOnce() -> R, check_on_panic: bool) -> Result<R, String> {
    // Its figures are nobody's: a thread of the test's still running at its end was said by the
    // span of the test's future, nested in it.
    let span = WholeSpan::try_begin(ALL_THREADS)?.late(Late::Unsaid);
    let outcome = {
        let _runtime = InRuntime::enter();
        catch_unwind(AssertUnwindSafe(body))
    };
    let failure = match outcome {
        Ok(r) => Ok(r),
        Err(payload) => match payload.downcast::<Failure>() {
            Ok(failure) => Err(failure.0),
            // The test's own panic: its message was said. For a `#[should_panic]` test it is
            // the expected one, which passes only on figures the span holds to be the test's.
            Err(payload) => {
                if check_on_panic {
                    span.try_end()?;
                } else {
                    drop(span);
                }
                resume_unwind(payload)
            }
        },
    };
    span.try_end()?;
    failure
}

/// A budget's failure inside [`around_runtime`], handed to it by [`finish_in_runtime`] as an
/// unwinding payload (no panic hook runs, so nothing is said before the span's check).
struct Failure(String);

thread_local! {
    /// On a thread inside [`around_runtime`]: the process's threads when its span began, until
    /// the first poll of the budget's future takes them to wait for the threads started since.
    static RUNTIME_THREADS: std::cell::RefCell<Option<crate::stats::Threads>> =
        const { std::cell::RefCell::new(None) };
    /// How many [`around_runtime`] calls are open on this thread.
    static IN_RUNTIME: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks this thread as inside [`around_runtime`] until dropped (even by unwinding).
#[must_use = "marks the thread only while held"]
struct InRuntime;

impl InRuntime {
    fn enter() -> InRuntime {
        let threads = crate::stats::Threads::now();
        let _ = RUNTIME_THREADS.try_with(|t| *t.borrow_mut() = Some(threads));
        let _ = IN_RUNTIME.try_with(|n| n.set(n.get() + 1));
        InRuntime
    }

    fn active() -> bool {
        IN_RUNTIME.try_with(std::cell::Cell::get).unwrap_or(0) > 0
    }

    /// Waits for the threads started since [`around_runtime`] began on this thread (the
    /// runtime's workers) to exit or go idle, once.
    fn settle_started() {
        if let Some(threads) = RUNTIME_THREADS
            .try_with(|t| t.borrow_mut().take())
            .ok()
            .flatten()
        {
            threads.settle();
        }
    }
}

impl Drop for InRuntime {
    fn drop(&mut self) {
        let _ = IN_RUNTIME.try_with(|n| n.set(n.get().saturating_sub(1)));
        let _ = RUNTIME_THREADS.try_with(|t| t.borrow_mut().take());
    }
}

/// A budget's hold on the kit's measurements: a thread-scope budget holds its place against
/// whole-process ones (which wait for it, and it for them); a whole-process one takes its turn
/// when it begins measuring.
enum Scope {
    Thread(Shared),
    All,
}

impl Scope {
    fn enter(budget: &Budget) -> Scope {
        if budget.all_threads {
            Scope::All
        } else {
            Scope::Thread(Shared::acquire())
        }
    }

    /// Panics where the test's runner was called ([`run`] is `#[track_caller]`): a closure here
    /// would report this file instead.
    #[track_caller]
    fn begin(&self) -> Measuring {
        match self.try_begin() {
            Ok(measuring) => measuring,
            Err(refused) => panic!("{refused}"),
        }
    }

    /// [`Scope::begin`], a whole-process measurement's refusal returned as its message.
    fn try_begin(&self) -> Result<Measuring, String> {
        match self {
            Scope::Thread(_) => Ok(Measuring::Thread(Mark::begin())),
            Scope::All => WholeSpan::try_begin(ALL_THREADS).map(Measuring::All),
        }
    }
}

const ALL_THREADS: &str = "#[assert_heap(threads = \"all\")]";

/// What a thread-scope measurement's thread freed beyond what it allocated during it (bytes,
/// blocks): blocks allocated elsewhere; `(0, 0)` when it freed no more, and on every thread.
type Freed = (u64, u64);

/// The part of a thread's signed live figures below zero: what it freed beyond what it allocated.
fn freed_beyond(live_bytes: i64, live_blocks: i64) -> Freed {
    (
        live_bytes.min(0).unsigned_abs(),
        live_blocks.min(0).unsigned_abs(),
    )
}

/// An open measurement of either scope.
enum Measuring {
    Thread(Mark),
    All(WholeSpan),
}

impl Measuring {
    /// Panics where the test's runner was called, as [`Scope::begin`].
    #[track_caller]
    fn end(self) -> (Stats, Freed) {
        match self.try_end() {
            Ok(ended) => ended,
            Err(refused) => panic!("{refused}"),
        }
    }

    /// [`Measuring::end`], a whole-process measurement's refusal returned as its message.
    fn try_end(self) -> Result<(Stats, Freed), String> {
        match self {
            Measuring::Thread(mark) => Ok(mark.end_freed()),
            Measuring::All(span) => span.try_end().map(|stats| (stats, (0, 0))),
        }
    }
}

/// [`run`] for a `#[should_panic]` test. The body's own panic passes through when the figures up
/// to it are within the budget. Otherwise this returns normally after printing why, so that the
/// test fails ("did not panic as expected") and a dhat-kit failure is never taken for the
/// expected panic.
///
/// The figures include the panic's payload and the unwinder's exception object (a few dozen
/// bytes), but not what the panic hook allocates for its report (and its backtrace, under
/// `RUST_BACKTRACE`): the first call wraps the process's panic hook so that, on a thread inside
/// this function, the hook runs uncounted.
pub fn run_should_panic(budget: Budget, body: impl FnOnce()) {
    let scope = Scope::enter(&budget);
    if let Some(why) = budget.unmeasurable() {
        eprintln!("{why}\n{}", SHOULD_PANIC_NOTE);
        return;
    }
    uncounted_panic_hook();
    let mut regions = RegionsDuring::begin(&budget);
    let measuring = match scope.try_begin() {
        Ok(measuring) => measuring,
        Err(refused) => {
            eprintln!("{refused}\n{SHOULD_PANIC_NOTE}");
            return;
        }
    };
    let outcome = {
        let _pause = HookPause::enter();
        catch_unwind(AssertUnwindSafe(body))
    };
    let (stats, freed) = match measuring.try_end() {
        Ok(ended) => ended,
        Err(refused) => {
            eprintln!("{refused}\n{SHOULD_PANIC_NOTE}");
            return;
        }
    };
    regions.ended();
    drop(scope);
    let payload = outcome.as_ref().err().map(|p| &**p);
    if let Some(report) = budget.report_should_panic(&stats, freed, payload) {
        eprintln!("{}\n{}", regions.end(report), SHOULD_PANIC_NOTE);
        return;
    }
    if let Err(payload) = outcome {
        resume_unwind(payload);
    }
}

/// Said after a dhat-kit failure in a `#[should_panic]` test, which returns rather than panicking.
pub(crate) const SHOULD_PANIC_NOTE: &str = "(the test is #[should_panic]: dhat-kit returns instead of \
                                 panicking, so that its failure is not taken for the expected panic)";

thread_local! {
    /// How many `run_should_panic` calls are open on this thread: while any is, the panic hook's
    /// allocations are not counted.
    static HOOK_PAUSES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Marks this thread as inside `run_should_panic` until dropped (even by unwinding).
#[must_use = "marks the thread only while held"]
struct HookPause;

impl HookPause {
    fn enter() -> HookPause {
        let _ = HOOK_PAUSES.try_with(|p| p.set(p.get() + 1));
        HookPause
    }
}

impl Drop for HookPause {
    fn drop(&mut self) {
        let _ = HOOK_PAUSES.try_with(|p| p.set(p.get().saturating_sub(1)));
    }
}

/// Wraps the process's panic hook, once: on a thread inside a measured test body, the hook (the
/// test harness's report, a backtrace) runs with counting paused, so that a test's figures do not
/// depend on the report of a panic it catches, nor on `RUST_BACKTRACE` (a caught `unwrap` on a
/// `None` read 40 MB under `RUST_BACKTRACE=1`, std's symbols). Elsewhere it runs as before.
fn uncounted_panic_hook() {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if HOOK_PAUSES.try_with(std::cell::Cell::get).unwrap_or(0) > 0 {
                crate::tally::uncounted(|| previous(info));
            } else {
                previous(info);
            }
        }));
    });
}

/// Wraps an async test body: each poll of `body` is measured on the thread that polls it, and the
/// figures of all polls together are checked against `budget` when the body completes, unless its
/// output `fails` the test (as [`run`] leaves such a result). The future's output is the body's,
/// or why the test fails, for [`finish`] to panic with in the test's own code.
pub fn run_future<F: Future>(
    budget: Budget,
    body: F,
    fails: fn(&F::Output) -> bool,
) -> Measured<F> {
    uncounted_panic_hook();
    Measured {
        budget,
        body,
        fails,
        checked: false,
        acc: Acc::default(),
        whole: None,
        whole_stats: None,
        refused: None,
        regions: None,
        yielded: false,
    }
}

/// The future [`run_future`] returns.
#[must_use = "futures do nothing unless polled"]
pub struct Measured<F: Future> {
    budget: Budget,
    body: F,
    /// Whether the body's output fails the test (then left unchecked).
    fails: fn(&F::Output) -> bool,
    checked: bool,
    acc: Acc,
    /// With `threads = "all"`: the span open from the first poll to completion, then its figures.
    whole: Option<WholeSpan>,
    whole_stats: Option<Stats>,
    /// Why the whole-process figures could not be exact, if they could not.
    refused: Option<String>,
    /// The regions before the first poll, once it checked the budget.
    regions: Option<RegionsDuring>,
    /// Whether the body was pending once: it yielded, and a runtime may keep what that took.
    yielded: bool,
}

impl<F: Future + std::fmt::Debug> std::fmt::Debug for Measured<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Measured")
            .field("budget", &self.budget)
            .field("body", &self.body)
            .field("acc", &self.acc)
            .finish_non_exhaustive()
    }
}

/// The figures of the polls so far, with signed live figures (a poll may free what an earlier
/// one allocated).
#[derive(Debug, Default, Clone, Copy)]
struct Acc {
    total_bytes: u64,
    total_blocks: u64,
    live_bytes: i64,
    live_blocks: i64,
    max_bytes: i64,
    max_blocks: i64,
}

impl Acc {
    fn stats(&self) -> Stats {
        Stats {
            total_bytes: self.total_bytes,
            total_blocks: self.total_blocks,
            max_bytes: self.max_bytes.max(0) as u64,
            max_blocks: self.max_blocks.max(0) as u64,
            curr_bytes: self.live_bytes.max(0) as u64,
            curr_blocks: self.live_blocks.max(0) as u64,
        }
    }
}

impl<F: Future> Measured<F> {
    /// Polls the body once, measured, adding the poll's figures to the others'. With `catch`, a
    /// panic of the body is caught (its hook running uncounted) and returned as `Err`.
    fn poll_measured(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        catch: bool,
    ) -> Result<Poll<F::Output>, Box<dyn std::any::Any + Send>> {
        // SAFETY: `body` is structurally pinned: it is never moved out of `self` nor given out
        // unpinned, and `Measured` has no `Drop` of its own; the other fields are plain data,
        // touched through `&mut` without ever moving `body`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `body` stays where it is, pinned with `self`.
        let body = unsafe { Pin::new_unchecked(&mut this.body) };
        if this.budget.all_threads {
            let poll = if catch {
                let _pause = HookPause::enter();
                catch_unwind(AssertUnwindSafe(|| body.poll(cx)))
            } else {
                let _pause = HookPause::enter();
                Ok(body.poll(cx))
            };
            this.yielded |= matches!(poll, Ok(Poll::Pending));
            if !matches!(poll, Ok(Poll::Pending)) {
                if let Some(span) = this.whole.take() {
                    match span.try_end() {
                        Ok(stats) => this.whole_stats = Some(stats),
                        Err(refused) => this.refused = Some(refused),
                    }
                }
                if let Some(regions) = &mut this.regions {
                    regions.ended();
                }
            }
            return poll;
        }
        let before = crate::tally::live();
        let mark = Mark::begin();
        let poll = if catch {
            let _pause = HookPause::enter();
            catch_unwind(AssertUnwindSafe(|| body.poll(cx)))
        } else {
            let _pause = HookPause::enter();
            Ok(body.poll(cx))
        };
        let s = mark.end();
        let after = crate::tally::live();
        this.yielded |= matches!(poll, Ok(Poll::Pending));
        let acc = &mut this.acc;
        acc.total_bytes += s.total_bytes;
        acc.total_blocks += s.total_blocks;
        // This poll's peak, seen from the start of the body; the latest of equal peaks wins.
        let peak = acc.live_bytes + s.max_bytes as i64;
        if peak > acc.max_bytes || (peak == acc.max_bytes && s.total_blocks > 0) {
            acc.max_bytes = peak;
            acc.max_blocks = acc.live_blocks + s.max_blocks as i64;
        }
        acc.live_bytes += after.0 - before.0;
        acc.live_blocks += after.1 - before.1;
        if !matches!(poll, Ok(Poll::Pending)) {
            if let Some(regions) = &mut this.regions {
                regions.ended();
            }
        }
        poll
    }

    /// The first poll's check that the budget can be measured: the reason if it cannot.
    fn first_check(self: Pin<&mut Self>) -> Option<String> {
        // SAFETY: only the plain-data fields are touched; `body` is not moved.
        let this = unsafe { self.get_unchecked_mut() };
        if this.checked {
            return None;
        }
        this.checked = true;
        let why = this.budget.unmeasurable();
        if why.is_none() {
            this.regions = Some(RegionsDuring::begin(&this.budget));
        }
        if why.is_none() && this.budget.all_threads {
            InRuntime::settle_started();
            // Inside a test's runtime, the span around this one is not reported: what a thread
            // does after this one's wait is in no figure.
            let in_runtime = InRuntime::active();
            match WholeSpan::try_begin(ALL_THREADS) {
                Ok(span) if in_runtime => this.whole = Some(span.late(Late::InNoFigure)),
                Ok(span) => this.whole = Some(span),
                Err(refused) => return Some(refused),
            }
        }
        why
    }

    /// The failure report, if any: `should_panic` holds a `#[should_panic]` body's end (its
    /// payload, or `None` if it returned), which decides whether a baseline may record it.
    fn report(&self, should_panic: Option<Option<&(dyn std::any::Any + Send)>>) -> Option<String> {
        if let Some(refused) = &self.refused {
            return Some(refused.clone());
        }
        let stats = self.whole_stats.unwrap_or_else(|| self.acc.stats());
        let freed = freed_beyond(self.acc.live_bytes, self.acc.live_blocks);
        let mut report = match should_panic {
            Some(payload) => self.budget.report_should_panic(&stats, freed, payload),
            None => self.budget.report_freed(&stats, freed),
        }?;
        let curr_over = [Key::CurrBytes, Key::CurrBlocks]
            .into_iter()
            .any(|k| self.budget.get(k).is_some_and(|limit| k.of(&stats) > limit));
        if self.yielded && curr_over {
            report.push_str(
                "\ncurr_*: the body yielded (an .await was pending), and a runtime may keep what \
                 that took live past it (tokio's list of deferred wakers, after \
                 tokio::task::yield_now, is 64 bytes in a block); leave curr_* out of an async \
                 test's budget, or check it with dhat_kit::measure around the work alone",
            );
        } else if self.yielded {
            report.push_str(
                "\nthe body yielded (an .await was pending): what a runtime allocates inside a \
                 poll counts (tokio's list of deferred wakers, after tokio::task::yield_now, is \
                 64 bytes in a block, in total_*, max_* and curr_*); check the work alone with \
                 dhat_kit::measure for figures without it",
            );
        }
        Some(match &self.regions {
            Some(regions) => regions.end(report),
            None => report,
        })
    }
}

impl<F: Future> Future for Measured<F> {
    /// The body's output, or why the test fails (the budget cannot be measured, or was exceeded).
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(why) = self.as_mut().first_check() {
            return Poll::Ready(Err(why));
        }
        let poll = match self.as_mut().poll_measured(cx, false) {
            Ok(poll) => poll,
            Err(payload) => resume_unwind(payload),
        };
        match poll {
            Poll::Pending => Poll::Pending,
            Poll::Ready(output) if (self.fails)(&output) => Poll::Ready(Ok(output)),
            Poll::Ready(output) => Poll::Ready(match self.report(None) {
                Some(report) => Err(report),
                None => Ok(output),
            }),
        }
    }
}

/// The end of an async test's [`Measured`] body, called in the test's own code (the macro's
/// expansion): its output, or a panic with why the test fails, at the test's attribute.
///
/// # Panics
///
/// With `why`, where `outcome` is `Err(why)`: the test fails.
#[track_caller]
pub fn finish<T>(outcome: Result<T, String>) -> T {
    match outcome {
        Ok(output) => output,
        Err(why) => panic!("{why}"),
    }
}

/// [`finish`] for the test's own future under `#[tokio::test]` with `threads = "all"`: its
/// failure is handed to [`around_runtime`] (an unwinding payload, no panic hook), which says it
/// after checking its span. A budget of a helper the test awaits keeps [`finish`], which panics
/// as usual, so that its message reaches a `JoinError`, a `catch_unwind` or a
/// `#[should_panic(expected = ..)]`.
///
/// # Panics
///
/// Where `outcome` is `Err(why)`: it unwinds with `why`, a panic outside the runtime's span.
#[track_caller]
pub fn finish_in_runtime<T>(outcome: Result<T, String>) -> T {
    match outcome {
        Ok(output) => output,
        Err(why) if InRuntime::active() => resume_unwind(Box::new(Failure(why))),
        Err(why) => panic!("{why}"),
    }
}

/// [`run_future`] for a `#[should_panic]` async test, as [`run_should_panic`] is for a sync one:
/// the body's panic passes through when the figures of the polls up to it are within the
/// budget; otherwise, or when the budget cannot be measured, the future completes after printing
/// why, so that the test fails ("did not panic as expected").
pub fn run_future_should_panic<F: Future<Output = ()>>(
    budget: Budget,
    body: F,
) -> MeasuredShouldPanic<F> {
    uncounted_panic_hook();
    MeasuredShouldPanic(run_future(budget, body, |()| false))
}

/// The future [`run_future_should_panic`] returns.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct MeasuredShouldPanic<F: Future>(Measured<F>);

impl<F: Future<Output = ()>> Future for MeasuredShouldPanic<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the only field is pinned with `self` (structural pinning, no `Drop` here).
        let mut inner = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
        if let Some(why) = inner.as_mut().first_check() {
            eprintln!("{why}\n{SHOULD_PANIC_NOTE}");
            return Poll::Ready(());
        }
        let outcome = inner.as_mut().poll_measured(cx, true);
        if matches!(outcome, Ok(Poll::Pending)) {
            return Poll::Pending;
        }
        let payload = outcome.as_ref().err().map(|p| &**p);
        if let Some(report) = inner.report(Some(payload)) {
            eprintln!("{report}\n{SHOULD_PANIC_NOTE}");
            return Poll::Ready(());
        }
        match outcome {
            Err(payload) => resume_unwind(payload),
            Ok(poll) => poll,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(v: [u64; 6]) -> Stats {
        let mut s = Stats::default();
        [
            s.total_bytes,
            s.total_blocks,
            s.max_bytes,
            s.max_blocks,
            s.curr_bytes,
            s.curr_blocks,
        ] = v;
        s
    }

    #[test]
    fn within_budget_there_is_no_report() {
        let b = Budget::new("m::t")
            .limit(Key::MaxBytes, 100)
            .limit(Key::TotalBlocks, 2u8);
        assert_eq!(b.report(&stats([500, 2, 100, 2, 0, 0])), None);
    }

    #[test]
    fn the_report_names_each_exceeded_key_and_every_figure() {
        let b = Budget::new("m::t")
            .limit(Key::MaxBytes, 1024)
            .limit(Key::TotalBlocks, 2)
            .limit(Key::CurrBytes, 0);
        let report = b.report(&stats([1500, 3, 1500, 2, 8, 1])).unwrap();
        assert_eq!(
            report,
            "dhat-kit: m::t went over its heap budget
  total_blocks: 3 > 2 (+1 block, +50.0%)
  max_bytes: 1,500 > 1,024 (+476 bytes, +46.5%)
  curr_bytes: 8 > 0 (+8 bytes, over a limit of 0)
measured on the test's thread:
  total_bytes  1,500
  total_blocks 3             limit 2
  max_bytes    1,500         limit 1,024
  max_blocks   2
  curr_bytes   8             limit 0
  curr_blocks  1
not counted: allocations on other threads (threads the test starts, a thread pool, an async runtime's workers); to count them, use #[assert_heap(threads = \"all\", ..)]
curr_*: blocks this thread allocated and another thread freed still count as live here (and blocks it freed for other threads lower its figures); threads = \"all\" counts each free wherever it happens
curr_*: what the body set up on first use and keeps (a OnceLock or lazy static, a cache, a pool or runtime it started) is live at the end too; to leave it out, run the work once first and check the second run with dhat_kit::measure (or measure_all)"
        );
    }

    #[test]
    fn an_all_threads_report_over_curr_says_what_first_use_leaves_live() {
        let b = Budget::new("m::t").all_threads().limit(Key::CurrBytes, 0);
        let report = b.report(&stats([1500, 3, 1500, 2, 8, 1])).unwrap();
        assert!(report.contains("measured on all threads:\n"), "{report}");
        assert!(!report.contains("not counted:"), "{report}");
        assert!(
            report.ends_with(
                "\ncurr_*: what the body set up on first use and keeps (a OnceLock or lazy \
                 static, a cache, a pool or runtime it started) is live at the end too; to leave \
                 it out, run the work once first and check the second run with dhat_kit::measure \
                 (or measure_all)"
            ),
            "{report}"
        );
        let within = Budget::new("m::t").all_threads().limit(Key::MaxBytes, 0);
        let report = within.report(&stats([1500, 3, 1500, 2, 8, 1])).unwrap();
        assert!(!report.contains("curr_*"), "{report}");
    }

    /// A whole-process budget under `#[tokio::test]` that is refused (another thread, from
    /// before, ran in it) fails a `#[should_panic]` test: the refusal is said and the test
    /// returns, so that it "did not panic as expected"; without `should_panic` it panics. (The
    /// refusal's panic was taken for the expected one.)
    #[test]
    fn a_refused_runtime_span_never_passes_a_should_panic_test() {
        let (wake, woken) = std::sync::mpsc::channel::<()>();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let older = std::thread::spawn(move || {
            for () in woken {
                drop(std::hint::black_box(vec![0u8; 64]));
                done.send(()).unwrap();
            }
        });
        let wakes = || {
            wake.send(()).unwrap();
            finished.recv().unwrap();
        };
        assert!(catch_unwind(AssertUnwindSafe(|| around_runtime_should_panic(wakes))).is_ok());
        let refused = catch_unwind(AssertUnwindSafe(|| around_runtime(wakes))).unwrap_err();
        let refused = refused.downcast_ref::<String>().expect("a message");
        assert!(refused.contains("cannot give exact figures"), "{refused}");
        drop(wake);
        older.join().unwrap();
    }

    #[test]
    fn limits_of_any_integer_type() {
        assert_eq!(5u8.to_limit(), Ok(5));
        assert_eq!(5i64.to_limit(), Ok(5));
        assert_eq!(u128::MAX.to_limit(), Ok(u64::MAX));
        assert_eq!((-3i32).to_limit(), Err(-3));
        // What the attribute's constant evaluation does with a constant.
        assert_eq!(saturate(u128::MAX), u64::MAX);
        assert_eq!(saturate(u128::from(u64::MAX)), u64::MAX);
        assert_eq!(saturate(5), 5);
        assert!(-1i8 < zero_of(&-1i8));
        assert_eq!(zero_of(&7u64), 0);
        let b = Budget::new("m::t").limit(Key::CurrBlocks, -3);
        assert_eq!(b.get(Key::CurrBlocks), None);
        assert!(b
            .unmeasurable_with(true, || true)
            .unwrap()
            .contains("the limit `curr_blocks` is negative (-3)"));
    }

    #[test]
    fn without_counting_or_allocator_the_message_says_what_to_do() {
        let b = Budget::new("m::t").limit(Key::MaxBytes, 1);
        assert_eq!(b.unmeasurable_with(true, || true), None);
        let no_feature = b.unmeasurable_with(false, || true).unwrap();
        assert!(
            no_feature.contains("built without its `peak` feature"),
            "{no_feature}"
        );
        assert!(no_feature.contains("features = [\"peak\"]"), "{no_feature}");
        let no_alloc = b.unmeasurable_with(true, || false).unwrap();
        assert!(
            no_alloc.contains("\n    dhat_kit::global_allocator!();\n"),
            "{no_alloc}"
        );
        // In a library, only for its unit tests: never the library's own allocator.
        assert!(
            no_alloc.contains("src/lib.rs under #[cfg(test)]")
                && no_alloc.contains("\n    #[cfg(test)]\n    dhat_kit::global_allocator!();\n"),
            "{no_alloc}"
        );
    }
}
