//! Heap use per iteration as [criterion] measurements (feature `criterion`): [`AllocatedBytes`],
//! [`AllocatedBlocks`] and [`PeakBytes`], with criterion's statistics, saved baselines and
//! reports.
//!
//! ```no_run
//! use criterion::{criterion_group, criterion_main, Criterion};
//! use dhat_kit::criterion::AllocatedBytes;
//! use std::hint::black_box;
//!
//! dhat_kit::global_allocator!();
//!
//! fn parse(c: &mut Criterion<AllocatedBytes>) {
//!     let mut group = c.benchmark_group("alloc");
//!     group.bench_function("parse", |b| {
//!         b.iter(|| black_box("a b c d".split(' ').map(String::from).collect::<Vec<_>>()))
//!     });
//!     group.finish();
//! }
//!
//! criterion_group! {
//!     name = memory;
//!     config = Criterion::default().with_measurement(AllocatedBytes).without_plots();
//!     targets = parse
//! }
//! criterion_main!(memory);
//! ```
//!
//! `cargo bench` then reports the bytes each iteration allocates where criterion reports time
//! (criterion's label stays `time:`), compared with the saved baseline as usual:
//!
//! ```text
//! alloc/parse             time:   [100.00  B 100.00  B 100.00  B]
//! ```
//!
//! # Exact per iteration
//!
//! Each measurement counts the allocations of the benchmark's thread between criterion's
//! `start` and `end`, which is where the routine runs and nothing else: criterion allocates
//! nothing of its own there, and the figure is divided by the iterations criterion ran, so it is
//! the same for every batch of iterations and every sample. A routine that allocates the same on
//! every call reads exactly that, with no spread; code that allocates nothing reads 0
//! (`0.0000  B`: criterion refuses a sample of exactly 0, so such a sample is handed to it as a
//! millionth of a byte; criterion's `change:` line for such a benchmark compares those
//! millionths, spread over its samples' iteration counts, and means nothing, as do the outliers
//! criterion finds among them).
//! Allocations on other threads (a pool the routine hands work to) are not counted, as with
//! [`measure`].
//!
//! # Panics
//!
//! Each measurement panics when it starts in a binary without dhat-kit's allocator
//! (`dhat_kit::global_allocator!();` at the bench's root), where every figure would read 0, as
//! code that allocates nothing does.
//!
//! # Time and memory from one benchmark
//!
//! Write the benchmark once, generic over the measurement, and register it in two groups:
//!
//! ```no_run
//! use criterion::measurement::{Measurement, WallTime};
//! use criterion::{criterion_group, criterion_main, Criterion};
//! use dhat_kit::criterion::{AllocatedBlocks, AllocatedBytes};
//! use std::hint::black_box;
//!
//! dhat_kit::global_allocator!();
//!
//! fn parse<M: Measurement>(c: &mut Criterion<M>, group: &str) {
//!     c.benchmark_group(group).bench_function("parse", |b| {
//!         b.iter(|| black_box("a b c d".split(' ').map(String::from).collect::<Vec<_>>()))
//!     });
//! }
//!
//! fn parse_time(c: &mut Criterion<WallTime>) {
//!     parse(c, "time");
//! }
//!
//! fn parse_bytes(c: &mut Criterion<AllocatedBytes>) {
//!     parse(c, "alloc");
//! }
//!
//! fn parse_blocks(c: &mut Criterion<AllocatedBlocks>) {
//!     parse(c, "blocks");
//! }
//!
//! criterion_group!(time, parse_time);
//! criterion_group! {
//!     name = bytes;
//!     config = Criterion::default().with_measurement(AllocatedBytes).without_plots();
//!     targets = parse_bytes
//! }
//! criterion_group! {
//!     name = blocks;
//!     config = Criterion::default().with_measurement(AllocatedBlocks).without_plots();
//!     targets = parse_blocks
//! }
//! criterion_main!(time, bytes, blocks);
//! ```
//!
//! `cargo bench --bench parse` runs all three; `cargo bench --bench parse -- alloc/` only the
//! memory one (this crate's `benches/criterion_parse.rs` is such a bench). The group names keep
//! their baselines apart.
//!
//! # No plots
//!
//! The memory groups above turn criterion's plots off (`.without_plots()`). An exact figure's
//! samples are all the same, and criterion 0.8, with its default features (which draw plots),
//! panics inside its plotting when it compares them with a saved baseline, on a benchmark's
//! second run: `index out of bounds: the len is 0 but the index is 0` at `criterion/src/kde.rs`
//! (criterion.rs issue #720). Without plots, the figures and the comparison print as usual; a
//! criterion dependency without default features draws none either.
//!
//! [criterion]: https://docs.rs/criterion

use crate::stats::measure;
use crate::tally::Mark;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;
use std::cell::Cell;

/// Bytes allocated per iteration (`total_bytes`: every allocation, a `realloc` counting its new
/// size), printed as B, KiB, MiB or GiB.
///
/// # Examples
///
/// ```no_run
/// use criterion::Criterion;
/// use dhat_kit::criterion::AllocatedBytes;
///
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let mut c = Criterion::default().with_measurement(AllocatedBytes).without_plots();
///     c.bench_function("alloc/vec", |b| b.iter(|| vec![0u8; 4096]));
/// }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocatedBytes;

/// Allocations per iteration (`total_blocks`: a `realloc` counts as one), printed as a count.
///
/// # Examples
///
/// ```no_run
/// use criterion::Criterion;
/// use dhat_kit::criterion::AllocatedBlocks;
///
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let mut c = Criterion::default().with_measurement(AllocatedBlocks).without_plots();
///     c.bench_function("blocks/words", |b| {
///         b.iter(|| "a b c".split(' ').map(String::from).collect::<Vec<_>>())
///     });
/// }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocatedBlocks;

/// The peak of live bytes per iteration (`max_bytes` of each iteration, above what was live when
/// it began), printed as B, KiB, MiB or GiB.
///
/// A peak does not add up over iterations the way bytes allocated do, and criterion tells a
/// measurement only where a batch of iterations starts and ends; so each iteration is measured
/// on its own: wrap the routine in [`per_iteration`] (or, for `iter_batched`,
/// [`per_iteration_with_input`]). A sample with allocations in which no iteration was wrapped
/// panics, rather than report the batch's peak divided by its length.
///
/// # Examples
///
/// ```no_run
/// use criterion::Criterion;
/// use dhat_kit::criterion::{per_iteration, PeakBytes};
///
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let mut c = Criterion::default().with_measurement(PeakBytes).without_plots();
///     c.bench_function("peak/sort", |b| {
///         b.iter(per_iteration(|| {
///             let mut v: Vec<u32> = (0..1000).rev().collect();
///             v.sort();
///             v.len()
///         }))
///     });
/// }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PeakBytes;

thread_local! {
    /// The peaks of the iterations [`per_iteration`] measured on this thread, added up, and
    /// their number.
    static PEAKS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
    /// How many wrappers [`per_iteration`] and [`per_iteration_with_input`] made on this thread:
    /// one made inside a measurement, by the routine, is `b.iter(|| per_iteration(..))`.
    static MADE: Cell<u64> = const { Cell::new(0) };
}

/// Counts a wrapper made (see [`MADE`]).
fn made() {
    let _ = MADE.try_with(|m| m.set(m.get() + 1));
}

/// Wraps a benchmark routine so that each call is measured on its own, for [`PeakBytes`]:
/// `b.iter(per_iteration(|| work()))`. With the other measurements it changes nothing (each
/// call's allocations are the same, measured or not). For a routine that takes an input
/// (`iter_batched`), see [`per_iteration_with_input`]; for one that borrows it
/// (`iter_batched_ref`), [`per_iteration_with_ref`].
///
/// # Examples
///
/// See [`PeakBytes`]. The wrapped routine is what criterion runs: `b.iter(per_iteration(..))`,
/// not `b.iter(|| per_iteration(..))`, whose routine makes the wrapper and never calls it (and
/// reads 0).
#[must_use = "the wrapped routine measures nothing until criterion runs it: `b.iter(per_iteration(|| work()))`"]
pub fn per_iteration<O>(mut routine: impl FnMut() -> O) -> impl FnMut() -> O {
    made();
    move || one_iteration(&mut routine)
}

/// [`per_iteration`] for a routine that takes the input criterion's setup made:
/// `b.iter_batched(setup, per_iteration_with_input(|input| work(input)), size)`. The peak is
/// above what was live when the call began, the input included.
///
/// # Examples
///
/// ```no_run
/// use criterion::{BatchSize, Criterion};
/// use dhat_kit::criterion::{per_iteration_with_input, PeakBytes};
///
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let mut c = Criterion::default().with_measurement(PeakBytes).without_plots();
///     c.bench_function("peak/sort", |b| {
///         b.iter_batched(
///             || (0..1000u32).rev().collect::<Vec<_>>(),
///             per_iteration_with_input(|mut v: Vec<u32>| {
///                 v.sort();
///                 v.len()
///             }),
///             BatchSize::SmallInput,
///         )
///     });
/// }
/// ```
#[must_use = "the wrapped routine measures nothing until criterion runs it"]
pub fn per_iteration_with_input<I, O>(mut routine: impl FnMut(I) -> O) -> impl FnMut(I) -> O {
    made();
    move |input| one_iteration(|| routine(input))
}

/// [`per_iteration`] for a routine that borrows the input criterion's setup made, which criterion
/// drops outside the measurement: `b.iter_batched_ref(setup, per_iteration_with_ref(|input|
/// work(input)), size)`. The peak is above what was live when the call began, the input
/// included.
///
/// # Examples
///
/// ```no_run
/// use criterion::{BatchSize, Criterion};
/// use dhat_kit::criterion::{per_iteration_with_ref, PeakBytes};
///
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let mut c = Criterion::default().with_measurement(PeakBytes).without_plots();
///     c.bench_function("peak/push", |b| {
///         b.iter_batched_ref(
///             || Vec::<u8>::with_capacity(4),
///             per_iteration_with_ref(|v: &mut Vec<u8>| {
///                 v.extend_from_slice(b"grows");
///                 v.len()
///             }),
///             BatchSize::SmallInput,
///         )
///     });
/// }
/// ```
#[must_use = "the wrapped routine measures nothing until criterion runs it"]
pub fn per_iteration_with_ref<I, O>(
    mut routine: impl FnMut(&mut I) -> O,
) -> impl FnMut(&mut I) -> O {
    made();
    move |input: &mut I| one_iteration(|| routine(input))
}

/// Runs one iteration measured on its own, and adds its peak to this thread's [`PEAKS`].
fn one_iteration<O>(routine: impl FnOnce() -> O) -> O {
    let (out, stats) = measure(routine);
    let _ = PEAKS.try_with(|p| {
        let (sum, n) = p.get();
        p.set((sum.saturating_add(stats.max_bytes), n + 1));
    });
    out
}

/// Where a measurement began: what criterion holds between `start` and `end`.
#[must_use = "a measurement ends when criterion passes this to `end`"]
pub struct Start {
    mark: Mark,
    peaks: (u64, u64),
    made: u64,
}

impl std::fmt::Debug for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Start").finish_non_exhaustive()
    }
}

impl Start {
    /// # Panics
    ///
    /// Without dhat-kit's allocator (see [`counts`]).
    fn begin() -> Start {
        assert!(counts(), "{NOT_INSTALLED}");
        Start {
            peaks: PEAKS.try_with(Cell::get).unwrap_or_default(),
            made: MADE.try_with(Cell::get).unwrap_or_default(),
            mark: Mark::begin(),
        }
    }

    /// The batch's figures, and the peaks of its wrapped iterations added up and their number.
    ///
    /// # Panics
    ///
    /// If the routine made a [`per_iteration`] wrapper and never called it: it measured nothing
    /// of the work, whatever the measurement.
    fn end(self) -> (crate::Stats, u64, u64) {
        let batch = self.mark.end();
        let (sum, n) = PEAKS.try_with(Cell::get).unwrap_or_default();
        let (sum, n) = (sum - self.peaks.0, n - self.peaks.1);
        let made = MADE.try_with(Cell::get).unwrap_or_default() - self.made;
        assert!(made == 0 || n > 0, "{MADE_NOT_CALLED}");
        (batch, sum, n)
    }
}

/// Why a batch whose routine only made wrappers is refused.
const MADE_NOT_CALLED: &str = "dhat-kit: the routine made a per_iteration wrapper and never \
     called it, so nothing of the work was measured: the wrapper is the routine, \
     `b.iter(per_iteration(|| work()))`, not `b.iter(|| per_iteration(|| work()))`";

/// Why a measurement cannot start without dhat-kit's allocator.
const NOT_INSTALLED: &str = "dhat-kit: the criterion measurements cannot count: dhat-kit's \
     allocator is not installed in this binary, so every figure would read 0. Add this line at \
     the root of the bench (the top of the file under benches/):\n\n    \
     dhat_kit::global_allocator!();\n";

/// Whether dhat-kit's allocator counts in this binary ([`is_installed`](crate::is_installed)),
/// checked once.
fn counts() -> bool {
    static COUNTS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *COUNTS.get_or_init(crate::is_installed)
}

/// A measurement whose value is a `u64` added up over batches: its figure of a batch (a
/// function of the batch's [`Start`]) and its formatter.
macro_rules! measurement {
    ($t:ty, $end:expr, $formatter:expr) => {
        impl Measurement for $t {
            type Intermediate = Start;
            type Value = u64;

            fn start(&self) -> Start {
                Start::begin()
            }

            fn end(&self, start: Start) -> u64 {
                $end(start)
            }

            fn add(&self, v1: &u64, v2: &u64) -> u64 {
                v1.saturating_add(*v2)
            }

            fn zero(&self) -> u64 {
                0
            }

            fn to_f64(&self, value: &u64) -> f64 {
                to_f64(*value)
            }

            fn formatter(&self) -> &dyn ValueFormatter {
                $formatter
            }
        }
    };
}

measurement!(
    AllocatedBytes,
    |start: Start| start.end().0.total_bytes,
    &BYTES
);
measurement!(
    AllocatedBlocks,
    |start: Start| start.end().0.total_blocks,
    &BLOCKS
);
measurement!(PeakBytes, peaks_since, &BYTES);

/// [`PeakBytes`]' figure of a batch: the peaks of its iterations, added up (criterion divides it
/// by the iterations).
///
/// # Panics
///
/// If the iterations allocated but none was wrapped in [`per_iteration`], or the routine made a
/// wrapper and never called it.
fn peaks_since(start: Start) -> u64 {
    let (batch, sum, n) = start.end();
    assert!(
        n > 0 || batch.max_bytes == 0,
        "dhat-kit: PeakBytes measures each iteration on its own: wrap the routine in \
         dhat_kit::criterion::per_iteration, e.g. `b.iter(per_iteration(|| work()))` \
         (per_iteration_with_input for iter_batched, per_iteration_with_ref for \
         iter_batched_ref)"
    );
    sum
}

/// What a sample that allocated nothing is handed to criterion as: criterion refuses a sample of
/// exactly 0 ("took zero time per iteration") and reports nothing for the benchmark, so it gets
/// one millionth of a byte (or block) instead, which prints as `0.0000  B`.
const NOTHING: f64 = 1e-6;

fn to_f64(value: u64) -> f64 {
    if value == 0 {
        NOTHING
    } else {
        value as f64
    }
}

/// A unit: its size, and its name alone, per bit, per input byte and per element.
type Unit = (f64, [&'static str; 4]);

/// A scale of units, the smallest first, and the unit name for machines (unscaled).
struct Units(&'static [Unit; 4], &'static str);

/// Bytes in binary units.
const BYTES: Units = Units(
    &[
        (1.0, [" B", "  B/bit", "  B/input B", "  B/elem"]),
        (1024.0, ["KiB", "KiB/bit", "KiB/input B", "KiB/elem"]),
        (
            1024.0 * 1024.0,
            ["MiB", "MiB/bit", "MiB/input B", "MiB/elem"],
        ),
        (
            1024.0 * 1024.0 * 1024.0,
            ["GiB", "GiB/bit", "GiB/input B", "GiB/elem"],
        ),
    ],
    "bytes",
);

/// Counts of blocks, in thousands, millions and billions when large.
const BLOCKS: Units = Units(
    &[
        (
            1.0,
            ["blocks", "blocks/bit", "blocks/input B", "blocks/elem"],
        ),
        (
            1e3,
            [
                "K blocks",
                "K blocks/bit",
                "K blocks/input B",
                "K blocks/elem",
            ],
        ),
        (
            1e6,
            [
                "M blocks",
                "M blocks/bit",
                "M blocks/input B",
                "M blocks/elem",
            ],
        ),
        (
            1e9,
            [
                "G blocks",
                "G blocks/bit",
                "G blocks/input B",
                "G blocks/elem",
            ],
        ),
    ],
    "blocks",
);

impl Units {
    /// Divides `values` by the unit that suits `typical` and returns that unit's name `which`
    /// (0: alone, 1: per bit, 2: per input byte, 3: per element).
    fn scale(&self, typical: f64, values: &mut [f64], which: usize) -> &'static str {
        let unit = self
            .0
            .iter()
            .rev()
            .find(|u| typical >= u.0)
            .unwrap_or(&self.0[0]);
        for v in values {
            *v /= unit.0;
        }
        unit.1[which]
    }
}

impl ValueFormatter for Units {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        self.scale(typical, values, 0)
    }

    /// Per bit, per input byte or per element of the throughput.
    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (n, which) = match *throughput {
            Throughput::Bits(n) => (n, 1),
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n, 2),
            Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => (n, 3),
        };
        let n = (n as f64).max(1.0);
        for v in values.iter_mut() {
            *v /= n;
        }
        self.scale(typical / n, values, which)
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        self.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(f: &dyn ValueFormatter, v: f64) -> String {
        f.format_value(v)
    }

    #[test]
    fn bytes_in_binary_units() {
        assert_eq!(format(&BYTES, 0.0), "0.0000  B");
        assert_eq!(format(&BYTES, 100.0), "100.00  B");
        assert_eq!(format(&BYTES, 4096.0), "4.0000 KiB");
        assert_eq!(format(&BYTES, 3.5 * 1024.0 * 1024.0), "3.5000 MiB");
        assert_eq!(format(&BYTES, 2.0 * 1024f64.powi(3)), "2.0000 GiB");
    }

    #[test]
    fn blocks_as_counts() {
        assert_eq!(format(&BLOCKS, 0.0), "0.0000 blocks");
        assert_eq!(format(&BLOCKS, 7.0), "7.0000 blocks");
        assert_eq!(format(&BLOCKS, 12_500.0), "12.500 K blocks");
    }

    #[test]
    fn throughputs_per_element() {
        let mut values = [4096.0];
        let unit = BYTES.scale_throughputs(4096.0, &Throughput::Elements(64), &mut values);
        assert_eq!((values[0], unit), (64.0, "  B/elem"));
        let mut values = [20.0];
        let unit = BLOCKS.scale_throughputs(20.0, &Throughput::Bytes(10), &mut values);
        assert_eq!((values[0], unit), (2.0, "blocks/input B"));
    }
}
