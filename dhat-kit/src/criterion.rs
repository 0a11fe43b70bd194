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
//!     config = Criterion::default().with_measurement(AllocatedBytes);
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
//! millionths, spread over its samples' iteration counts, and means nothing).
//! Allocations on other threads (a pool the routine hands work to) are not counted, as with
//! [`measure`](crate::measure).
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
//! fn parse<M: Measurement>(c: &mut Criterion<M>, name: &str) {
//!     c.benchmark_group(name).bench_function("parse", |b| {
//!         b.iter(|| black_box("a b c d".split(' ').map(String::from).collect::<Vec<_>>()))
//!     });
//! }
//!
//! criterion_group!(time, |c: &mut Criterion<WallTime>| parse(c, "time"));
//! criterion_group! {
//!     name = bytes;
//!     config = Criterion::default().with_measurement(AllocatedBytes);
//!     targets = |c: &mut Criterion<AllocatedBytes>| parse(c, "alloc")
//! }
//! criterion_group! {
//!     name = blocks;
//!     config = Criterion::default().with_measurement(AllocatedBlocks);
//!     targets = |c: &mut Criterion<AllocatedBlocks>| parse(c, "blocks")
//! }
//! criterion_main!(time, bytes, blocks);
//! ```
//!
//! `cargo bench --bench parse` runs all three; `cargo bench --bench parse -- alloc/` only the
//! memory one. The group names keep their baselines apart. Criterion's HTML report (its
//! `html_reports` feature and a plotting backend, in the benchmark's own criterion dependency) plots
//! bytes as it plots time.
//!
//! [criterion]: https://docs.rs/criterion

use crate::stats::{measure, Mark};
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
///     let mut c = Criterion::default().with_measurement(AllocatedBytes);
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
///     let mut c = Criterion::default().with_measurement(AllocatedBlocks);
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
/// on its own: wrap the routine in [`per_iteration`]. A sample with allocations in which no
/// iteration was wrapped panics, rather than report the batch's peak divided by its length.
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
///     let mut c = Criterion::default().with_measurement(PeakBytes);
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
}

/// Wraps a benchmark routine so that each call is measured on its own, for [`PeakBytes`]:
/// `b.iter(per_iteration(|| work()))`. With the other measurements it changes nothing (each
/// call's allocations are the same, measured or not).
///
/// # Examples
///
/// See [`PeakBytes`].
pub fn per_iteration<O>(mut routine: impl FnMut() -> O) -> impl FnMut() -> O {
    move || {
        let (out, stats) = measure(&mut routine);
        let _ = PEAKS.try_with(|p| {
            let (sum, n) = p.get();
            p.set((sum.saturating_add(stats.max_bytes), n + 1));
        });
        out
    }
}

/// Where a measurement began: what criterion holds between `start` and `end`.
#[must_use = "a measurement ends when criterion passes this to `end`"]
pub struct Start {
    mark: Mark,
    peaks: (u64, u64),
}

impl std::fmt::Debug for Start {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Start").finish_non_exhaustive()
    }
}

impl Start {
    fn begin() -> Start {
        Start {
            peaks: PEAKS.try_with(Cell::get).unwrap_or_default(),
            mark: Mark::begin(),
        }
    }
}

macro_rules! additive {
    ($t:ty, $field:ident, $formatter:expr) => {
        impl Measurement for $t {
            type Intermediate = Start;
            type Value = u64;

            fn start(&self) -> Start {
                Start::begin()
            }

            fn end(&self, start: Start) -> u64 {
                start.mark.end().$field
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

additive!(AllocatedBytes, total_bytes, &BytesFormatter);
additive!(AllocatedBlocks, total_blocks, &BlocksFormatter);

impl Measurement for PeakBytes {
    type Intermediate = Start;
    /// The iterations' peaks, added up: criterion divides it by the iterations.
    type Value = u64;

    fn start(&self) -> Start {
        Start::begin()
    }

    /// # Panics
    ///
    /// If the iterations allocated but none was wrapped in [`per_iteration`].
    fn end(&self, start: Start) -> u64 {
        let batch = start.mark.end();
        let (sum, n) = PEAKS.try_with(Cell::get).unwrap_or_default();
        let (sum, n) = (sum - start.peaks.0, n - start.peaks.1);
        assert!(
            n > 0 || batch.max_bytes == 0,
            "dhat-kit: PeakBytes measures each iteration on its own: wrap the routine in \
             dhat_kit::criterion::per_iteration, e.g. `b.iter(per_iteration(|| work()))`"
        );
        sum
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
        &BytesFormatter
    }
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

/// Bytes in binary units; per element or per input byte for a throughput.
struct BytesFormatter;

/// Counts, in thousands and millions when large.
struct BlocksFormatter;

fn scale(values: &mut [f64], factor: f64) {
    for v in values {
        *v /= factor;
    }
}

/// The binary unit for `typical` bytes, and its size.
fn byte_unit(typical: f64) -> (f64, &'static str) {
    const KIB: f64 = 1024.0;
    if typical < KIB {
        (1.0, " B")
    } else if typical < KIB * KIB {
        (KIB, "KiB")
    } else if typical < KIB * KIB * KIB {
        (KIB * KIB, "MiB")
    } else {
        (KIB * KIB * KIB, "GiB")
    }
}

/// The decimal unit for a `typical` count, and its size.
fn count_unit(typical: f64) -> (f64, &'static str) {
    if typical < 1e3 {
        (1.0, "")
    } else if typical < 1e6 {
        (1e3, "K")
    } else if typical < 1e9 {
        (1e6, "M")
    } else {
        (1e9, "G")
    }
}

/// The number of units a throughput counts, and the unit's name.
fn per(throughput: &Throughput) -> (f64, &'static str) {
    match *throughput {
        Throughput::Bits(n) => (n as f64, "bit"),
        Throughput::Bytes(n) | Throughput::BytesDecimal(n) => (n as f64, "input B"),
        Throughput::Elements(n) | Throughput::ElementsAndBytes { elements: n, .. } => {
            (n as f64, "elem")
        }
    }
}

impl ValueFormatter for BytesFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = byte_unit(typical);
        scale(values, factor);
        unit
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (n, what) = per(throughput);
        let n = n.max(1.0);
        scale(values, n);
        let (factor, unit) = byte_unit(typical / n);
        scale(values, factor);
        match (unit, what) {
            (" B", "bit") => "  B/bit",
            (" B", "input B") => "  B/input B",
            (" B", _) => "  B/elem",
            ("KiB", "bit") => "KiB/bit",
            ("KiB", "input B") => "KiB/input B",
            ("KiB", _) => "KiB/elem",
            ("MiB", "bit") => "MiB/bit",
            ("MiB", "input B") => "MiB/input B",
            ("MiB", _) => "MiB/elem",
            (_, "bit") => "GiB/bit",
            (_, "input B") => "GiB/input B",
            _ => "GiB/elem",
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "bytes"
    }
}

impl ValueFormatter for BlocksFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = count_unit(typical);
        scale(values, factor);
        match unit {
            "" => "blocks",
            "K" => "K blocks",
            "M" => "M blocks",
            _ => "G blocks",
        }
    }

    fn scale_throughputs(
        &self,
        typical: f64,
        throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        let (n, what) = per(throughput);
        let n = n.max(1.0);
        scale(values, n);
        let (factor, unit) = count_unit(typical / n);
        scale(values, factor);
        match (unit, what) {
            ("", "bit") => "blocks/bit",
            ("", "input B") => "blocks/input B",
            ("", _) => "blocks/elem",
            ("K", "bit") => "K blocks/bit",
            ("K", "input B") => "K blocks/input B",
            ("K", _) => "K blocks/elem",
            (_, "bit") => "M blocks/bit",
            (_, "input B") => "M blocks/input B",
            _ => "M blocks/elem",
        }
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "blocks"
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
        assert_eq!(format(&BytesFormatter, 0.0), "0.0000  B");
        assert_eq!(format(&BytesFormatter, 100.0), "100.00  B");
        assert_eq!(format(&BytesFormatter, 4096.0), "4.0000 KiB");
        assert_eq!(format(&BytesFormatter, 3.5 * 1024.0 * 1024.0), "3.5000 MiB");
        assert_eq!(format(&BytesFormatter, 2.0 * 1024f64.powi(3)), "2.0000 GiB");
    }

    #[test]
    fn blocks_as_counts() {
        assert_eq!(format(&BlocksFormatter, 0.0), "0.0000 blocks");
        assert_eq!(format(&BlocksFormatter, 7.0), "7.0000 blocks");
        assert_eq!(format(&BlocksFormatter, 12_500.0), "12.500 K blocks");
    }

    #[test]
    fn throughputs_per_element() {
        let mut values = [4096.0];
        let unit = BytesFormatter.scale_throughputs(4096.0, &Throughput::Elements(64), &mut values);
        assert_eq!((values[0], unit), (64.0, "  B/elem"));
        let mut values = [20.0];
        let unit = BlocksFormatter.scale_throughputs(20.0, &Throughput::Bytes(10), &mut values);
        assert_eq!((values[0], unit), (2.0, "blocks/input B"));
    }
}
