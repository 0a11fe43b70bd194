//! [`Stats`], and the measurements that produce it: [`measure`], [`thread_stats`], [`process_stats`].

use std::fmt;

/// Heap figures, with dhat's field names and meanings.
///
/// | field | meaning |
/// |---|---|
/// | `total_bytes`, `total_blocks` | everything allocated (a `realloc` counts as one new block of the new size) |
/// | `max_bytes`, `max_blocks` | the peak of live heap bytes, and the live blocks at that peak (the latest of equal peaks) |
/// | `curr_bytes`, `curr_blocks` | live at the end |
///
/// For [`measure`] the peak is measured above the live heap at entry, and `curr_*` is what the
/// closure left live; figures that would be negative (a closure that frees more than it leaves
/// live) read 0.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let (v, stats) = dhat_kit::measure(|| {
///         let mut v = Vec::with_capacity(8);
///         v.extend_from_slice(&[1u64; 8]);
///         v
///     });
///     assert_eq!(stats.total_blocks, 1);
///     assert_eq!(stats.total_bytes, 64);
///     assert_eq!(stats.max_bytes, 64);
///     assert_eq!(stats.curr_bytes, 64);
///     println!("{stats}"); // 64 B in 1 block (peak 64 B in 1 block, live at end 64 B in 1 block)
///     drop(v);
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes allocated in all (a `realloc` counts its new size).
    pub total_bytes: u64,
    /// Blocks allocated in all (a `realloc` counts as one block).
    pub total_blocks: u64,
    /// Live bytes at the peak.
    pub max_bytes: u64,
    /// Live blocks when the live bytes peaked.
    pub max_blocks: u64,
    /// Live bytes at the end.
    pub curr_bytes: u64,
    /// Live blocks at the end.
    pub curr_blocks: u64,
}

impl Stats {
    /// The names of the fields, in declaration order; the keys `#[assert_heap]` accepts.
    pub const FIELDS: [&'static str; 6] = [
        "total_bytes",
        "total_blocks",
        "max_bytes",
        "max_blocks",
        "curr_bytes",
        "curr_blocks",
    ];

    /// The value of the field called `name` (one of [`Stats::FIELDS`]), or `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// let stats = dhat_kit::Stats::default();
    /// assert_eq!(stats.get("max_bytes"), Some(0));
    /// assert_eq!(stats.get("bytes"), None);
    /// ```
    #[must_use]
    pub fn get(&self, name: &str) -> Option<u64> {
        Some(match name {
            "total_bytes" => self.total_bytes,
            "total_blocks" => self.total_blocks,
            "max_bytes" => self.max_bytes,
            "max_blocks" => self.max_blocks,
            "curr_bytes" => self.curr_bytes,
            "curr_blocks" => self.curr_blocks,
            _ => return None,
        })
    }
}

impl fmt::Display for Stats {
    /// `1.2 MiB in 3,401 blocks (peak 512.0 KiB in 12 blocks, live at end 0 B in 0 blocks)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::units::{Bytes, Count};
        write!(
            f,
            "{} in {} (peak {} in {}, live at end {} in {})",
            Bytes(self.total_bytes),
            Count(self.total_blocks, "block"),
            Bytes(self.max_bytes),
            Count(self.max_blocks, "block"),
            Bytes(self.curr_bytes),
            Count(self.curr_blocks, "block"),
        )
    }
}

/// Runs `f` and returns its result with what it allocated on the current thread.
///
/// The peak (`max_bytes`, `max_blocks`) is measured above the live heap at entry. Calls nest:
/// each gives exact figures for its own closure, and an outer call's figures include the inner
/// ones. Allocations on other threads, including threads `f` spawns, are not counted.
///
/// Without a dhat-kit allocator installed (see [`is_installed`](crate::is_installed)), or built
/// without the `peak` feature, every figure is 0.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let (len, stats) = dhat_kit::measure(|| {
///         let s = String::from("hello"); // 5 bytes, freed at the end of the closure
///         s.len()
///     });
///     assert_eq!(len, 5);
///     assert_eq!((stats.total_blocks, stats.total_bytes), (1, 5));
///     assert_eq!((stats.max_bytes, stats.curr_bytes), (5, 0));
/// }
/// ```
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Stats) {
    let mark = Mark::begin();
    let r = f();
    (r, mark.end())
}

/// This thread's figures since it started: everything it allocated, its peak of live bytes, and
/// what it holds live now. Blocks this thread freed that other threads allocated lower its live
/// figures (which read 0 rather than below).
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let before = dhat_kit::thread_stats();
///     let v = vec![1u8; 100];
///     let after = dhat_kit::thread_stats();
///     assert_eq!(after.total_bytes - before.total_bytes, 100);
///     # drop(v);
/// }
/// ```
#[must_use]
pub fn thread_stats() -> Stats {
    imp::thread_stats()
}

/// The whole process's figures since it started.
///
/// Totals and live figures are exact for the calling thread and for threads that have finished.
/// Running threads hand their figures over in batches (every 1,024 allocations, or as soon as
/// their live bytes moved by 64 KiB), so a snapshot taken while other threads run can lag each of
/// them by at most that much; likewise the process peak (`max_bytes`) is exact to within 64 KiB for each thread
/// alive at the time of the peak. This keeps the allocator free of shared counters on its hot path.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     let v = vec![1u8; 1 << 20];
///     assert!(dhat_kit::process_stats().max_bytes >= 1 << 20);
///     # drop(v);
/// }
/// ```
#[must_use]
pub fn process_stats() -> Stats {
    imp::process_stats()
}

/// A point in this thread's tally, from which [`Mark::end`] computes exact figures. Marks must end
/// in the reverse order of their beginning (as scopes do); one dropped without `end` (a panic
/// unwinding through it) still restores the thread's peak for the marks around it.
#[must_use = "a mark measures until `end` is called"]
pub(crate) struct Mark(Option<imp::Mark>);

impl Mark {
    pub(crate) fn begin() -> Mark {
        Mark(Some(imp::Mark::begin()))
    }

    pub(crate) fn end(mut self) -> Stats {
        self.end_in_place()
    }

    /// Ends the mark where it lies (a region's frame ends it without moving it); a mark ends once,
    /// later calls read zero.
    pub(crate) fn end_in_place(&mut self) -> Stats {
        self.0.take().map(imp::Mark::end).unwrap_or_default()
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        if let Some(mark) = self.0.take() {
            mark.end();
        }
    }
}

#[cfg(feature = "peak")]
pub(crate) use imp::{higher as higher_peak, Mark as RawMark, Now};

#[cfg(feature = "peak")]
mod imp {
    use super::Stats;
    use crate::alloc::{with_tally, Tally, PROCESS};
    use std::cell::Cell;
    use std::sync::atomic::Ordering::Relaxed;

    thread_local! {
        /// The highest peak (bytes, blocks) set aside by the measurements open on this thread,
        /// so that `thread_stats` still sees the thread's own peak inside a measurement.
        static SET_ASIDE: Cell<(i64, i64)> = const { Cell::new((0, 0)) };
    }

    fn clamp(v: i64) -> u64 {
        v.max(0) as u64
    }

    /// The later of two (bytes, blocks) peaks when equal, as dhat keeps the latest of equal peaks.
    pub(crate) fn higher(earlier: (i64, i64), later: (i64, i64)) -> (i64, i64) {
        if later.0 >= earlier.0 {
            later
        } else {
            earlier
        }
    }

    fn peak(t: &Tally) -> (i64, i64) {
        (t.peak_bytes.get(), t.peak_blocks.get())
    }

    /// The raw mark: plain data, so a region's frame holds it in place and ends it by reference.
    #[derive(Clone, Copy)]
    pub(crate) struct Mark {
        /// The tally at the beginning; its `peak` is the peak before this mark (since the previous
        /// mark began), set aside while this one measures.
        start: Now,
        outer_set_aside: (i64, i64),
    }

    impl Mark {
        pub(crate) fn begin() -> Mark {
            let set_aside = SET_ASIDE.try_with(Cell::get).unwrap_or_default();
            with_tally(|t| {
                let start = Now::of(t);
                let _ = SET_ASIDE.try_with(|s| s.set(higher(set_aside, start.peak)));
                t.peak_bytes.set(start.curr_bytes);
                t.peak_blocks.set(start.curr_blocks);
                Mark {
                    start,
                    outer_set_aside: set_aside,
                }
            })
            .unwrap_or(Mark {
                start: Now::default(),
                outer_set_aside: set_aside,
            })
        }

        pub(crate) fn end(self) -> Stats {
            let _ = SET_ASIDE.try_with(|s| s.set(self.outer_set_aside));
            with_tally(|t| {
                let inner = peak(t);
                let (bytes, blocks) = higher(self.start.peak, inner);
                t.peak_bytes.set(bytes);
                t.peak_blocks.set(blocks);
                Now::of(t).since(&self.start, inner)
            })
            .unwrap_or_default()
        }

        /// The peak (live bytes, blocks) from the previous mark's beginning to this one's.
        pub(crate) fn outer_peak(&self) -> (i64, i64) {
            self.start.peak
        }

        /// What this mark has measured up to `now`, given the highest peak (live bytes, blocks)
        /// since it began; the mark goes on measuring.
        pub(crate) fn so_far(&self, now: &Now, peak: (i64, i64)) -> Stats {
            now.since(&self.start, peak)
        }
    }

    /// This thread's tally at one moment, read without disturbing it.
    #[derive(Clone, Copy, Default)]
    pub(crate) struct Now {
        total_bytes: u64,
        total_blocks: u64,
        curr_bytes: i64,
        curr_blocks: i64,
        /// The peak since the innermost open mark began.
        pub(crate) peak: (i64, i64),
    }

    impl Now {
        /// The tally now; `None` while the thread is being torn down.
        pub(crate) fn read() -> Option<Now> {
            with_tally(Now::of)
        }

        fn of(t: &Tally) -> Now {
            Now {
                total_bytes: t.total_bytes.get(),
                total_blocks: t.total_blocks.get(),
                curr_bytes: t.curr_bytes.get(),
                curr_blocks: t.curr_blocks.get(),
                peak: peak(t),
            }
        }

        /// The figures from `start` to this moment, given the highest peak between them.
        fn since(&self, start: &Now, peak: (i64, i64)) -> Stats {
            Stats {
                total_bytes: self.total_bytes.wrapping_sub(start.total_bytes),
                total_blocks: self.total_blocks.wrapping_sub(start.total_blocks),
                max_bytes: clamp(peak.0 - start.curr_bytes),
                max_blocks: clamp(peak.1 - start.curr_blocks),
                curr_bytes: clamp(self.curr_bytes - start.curr_bytes),
                curr_blocks: clamp(self.curr_blocks - start.curr_blocks),
            }
        }
    }

    pub(super) fn thread_stats() -> Stats {
        let set_aside = SET_ASIDE.try_with(Cell::get).unwrap_or_default();
        Now::read()
            .map(|now| now.since(&Now::default(), higher(set_aside, now.peak)))
            .unwrap_or_default()
    }

    pub(super) fn process_stats() -> Stats {
        let _ = with_tally(Tally::publish);
        Stats {
            total_bytes: PROCESS.total_bytes.load(Relaxed),
            total_blocks: PROCESS.total_blocks.load(Relaxed),
            max_bytes: clamp(PROCESS.max_bytes.load(Relaxed)),
            max_blocks: clamp(PROCESS.max_blocks.load(Relaxed)),
            curr_bytes: clamp(PROCESS.curr_bytes.load(Relaxed)),
            curr_blocks: clamp(PROCESS.curr_blocks.load(Relaxed)),
        }
    }
}

#[cfg(not(feature = "peak"))]
mod imp {
    use super::Stats;

    pub(super) struct Mark;

    impl Mark {
        pub(super) fn begin() -> Mark {
            Mark
        }

        pub(super) fn end(self) -> Stats {
            Stats::default()
        }
    }

    pub(super) fn thread_stats() -> Stats {
        Stats::default()
    }

    pub(super) fn process_stats() -> Stats {
        Stats::default()
    }
}
