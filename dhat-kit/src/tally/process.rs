//! The process-wide tallies: the process tally, fed by the threads' batches, and the span tally,
//! fed by every operation while exact mode is on (a [`measure_all`](crate::measure_all) is open).

use super::{with_tally, Tally, BAND, BAND_NOW};
use crate::stats::Stats;
use std::sync::atomic::{
    AtomicI64, AtomicU64, AtomicUsize,
    Ordering::{Relaxed, SeqCst},
};

/// How many exact spans are open (nested ones included); exact mode is on while this is not zero.
static EXACT: AtomicUsize = AtomicUsize::new(0);
/// The number of the outermost exact span now open (or last opened): a thread first counted during
/// it was started inside it.
static EPOCH: AtomicU64 = AtomicU64::new(0);

pub(super) static PROCESS: Process = Process::new();

static SPAN: Span = Span {
    tally: Process::new(),
    foreign_ops: AtomicU64::new(0),
};

/// Whether exact mode is on.
pub(super) fn exact() -> bool {
    EXACT.load(Relaxed) != 0
}

/// The current span epoch.
pub(super) fn epoch() -> u64 {
    EPOCH.load(Relaxed)
}

/// One operation in exact mode, by a thread first counted in `born`, which `measuring` or not.
pub(super) fn span_op(totals: [u64; 2], live: [i64; 2], born: u64, measuring: bool) {
    SPAN.tally.add(totals, live);
    if born != EPOCH.load(Relaxed) && !measuring {
        SPAN.foreign_ops.fetch_add(1, Relaxed);
    }
}

/// A tally shared by threads: totals, live figures and the peak of live bytes (with the live
/// blocks at that peak). On its own cache line(s).
#[repr(align(128))]
pub(super) struct Process {
    total_bytes: AtomicU64,
    total_blocks: AtomicU64,
    curr_bytes: AtomicI64,
    curr_blocks: AtomicI64,
    max_bytes: AtomicI64,
    max_blocks: AtomicI64,
}

impl Process {
    const fn new() -> Process {
        Process {
            total_bytes: AtomicU64::new(0),
            total_blocks: AtomicU64::new(0),
            curr_bytes: AtomicI64::new(0),
            curr_blocks: AtomicI64::new(0),
            max_bytes: AtomicI64::new(0),
            max_blocks: AtomicI64::new(0),
        }
    }

    /// Adds a batch (total bytes and blocks; change of live bytes and blocks); returns whether it
    /// raised (or met) the peak.
    ///
    /// In exact mode this runs on every operation, so it skips the read-modify-writes it can (each
    /// a locked instruction, and a contended cache line when threads run at once): the additions
    /// of zero (a free's totals, a same-size reallocation's live figures) and the peak's update
    /// when a plain load shows the live bytes below it. The peak only rises between the spans'
    /// beginnings, so a value read higher than these live bytes stays higher.
    pub(super) fn add(
        &self,
        [total_bytes, total_blocks]: [u64; 2],
        [bytes, blocks]: [i64; 2],
    ) -> bool {
        if total_bytes != 0 {
            self.total_bytes.fetch_add(total_bytes, Relaxed);
        }
        if total_blocks != 0 {
            self.total_blocks.fetch_add(total_blocks, Relaxed);
        }
        let blocks = add_live(&self.curr_blocks, blocks);
        let fell = bytes < 0;
        let bytes = add_live(&self.curr_bytes, bytes);
        // Live bytes that fell cannot be a new peak: the peak was at least the live bytes before.
        // `>=`: the latest of equal peaks, as dhat records it. The blocks are those seen with the
        // winning peak; two publications racing here may pair them approximately.
        if !fell
            && bytes >= self.max_bytes.load(Relaxed)
            && self.max_bytes.fetch_max(bytes, Relaxed) <= bytes
        {
            self.max_blocks.store(blocks, Relaxed);
            return true;
        }
        false
    }

    /// Totals and live figures.
    fn read(&self) -> Counts {
        Counts {
            totals: [
                self.total_bytes.load(SeqCst),
                self.total_blocks.load(SeqCst),
            ],
            live: [self.curr_bytes.load(SeqCst), self.curr_blocks.load(SeqCst)],
        }
    }

    /// The peak (live bytes, blocks).
    fn peak(&self) -> (i64, i64) {
        (self.max_bytes.load(SeqCst), self.max_blocks.load(SeqCst))
    }

    fn set_peak(&self, (bytes, blocks): (i64, i64)) {
        self.max_bytes.store(bytes, SeqCst);
        self.max_blocks.store(blocks, SeqCst);
    }
}

/// Adds `by` to a live figure and returns the figure after it; a plain load when `by` is zero.
fn add_live(figure: &AtomicI64, by: i64) -> i64 {
    if by == 0 {
        figure.load(Relaxed)
    } else {
        figure.fetch_add(by, Relaxed).wrapping_add(by)
    }
}

/// A shared tally's totals and live figures at one moment.
#[derive(Clone, Copy)]
struct Counts {
    totals: [u64; 2],
    live: [i64; 2],
}

/// The span tally: the operations made while exact mode was on, each added as it happened, so its
/// live figures and peak are exact. A [`SpanMark`] reads it at both ends of its span.
struct Span {
    tally: Process,
    /// Operations in exact mode by threads first counted before the outermost span began, other
    /// than the thread measuring: another test's, or a pool started earlier.
    foreign_ops: AtomicU64,
}

/// The whole process's figures since it started (this thread's pending figures published first).
pub(crate) fn process_stats() -> Stats {
    super::publish();
    let now = PROCESS.read();
    let (max_bytes, max_blocks) = PROCESS.peak();
    Stats {
        total_bytes: now.totals[0],
        total_blocks: now.totals[1],
        max_bytes: clamp(max_bytes),
        max_blocks: clamp(max_blocks),
        curr_bytes: clamp(now.live[0]),
        curr_blocks: clamp(now.live[1]),
    }
}

fn clamp(v: i64) -> u64 {
    v.max(0) as u64
}

/// The span tally at the beginning of a whole-process span, and the peak set aside for an
/// enclosing span. While any is open, exact mode is on.
pub(crate) struct SpanMark {
    outermost: bool,
    start: Counts,
    set_aside: (i64, i64),
    foreign_ops: u64,
    was_measuring: bool,
}

impl SpanMark {
    /// Turns exact mode on (a new epoch when `outermost`) and marks the span tally.
    pub(crate) fn begin(outermost: bool) -> SpanMark {
        let was_measuring =
            with_tally(|t: &Tally| t.measuring.replace(outermost || t.measuring.get()))
                .unwrap_or(false);
        if outermost {
            EPOCH.fetch_add(1, SeqCst);
        }
        if EXACT.fetch_add(1, SeqCst) == 0 {
            // From now on every thread's next operation publishes, and goes to the span tally.
            BAND_NOW.store(0, SeqCst);
        }
        let t = &SPAN.tally;
        let set_aside = t.peak();
        let start = t.read();
        t.set_peak((start.live[0], start.live[1]));
        SpanMark {
            outermost,
            start,
            set_aside,
            foreign_ops: SPAN.foreign_ops.load(SeqCst),
            was_measuring,
        }
    }

    /// The span's figures, and how many operations threads from before the span made in it. Turns
    /// exact mode off again once every span is ended.
    pub(crate) fn end(self) -> (Stats, u64) {
        let t = &SPAN.tally;
        let now = t.read();
        let peak = t.peak();
        if !self.outermost {
            t.set_peak(super::mark::higher(self.set_aside, peak));
        }
        let foreign_ops = SPAN
            .foreign_ops
            .load(Relaxed)
            .wrapping_sub(self.foreign_ops);
        if EXACT.fetch_sub(1, SeqCst) == 1 {
            BAND_NOW.store(BAND, SeqCst);
        }
        let _ = with_tally(|t| t.measuring.set(self.was_measuring));
        let stats = Stats {
            total_bytes: now.totals[0].wrapping_sub(self.start.totals[0]),
            total_blocks: now.totals[1].wrapping_sub(self.start.totals[1]),
            max_bytes: clamp(peak.0 - self.start.live[0]),
            max_blocks: clamp(peak.1 - self.start.live[1]),
            curr_bytes: clamp(now.live[0] - self.start.live[0]),
            curr_blocks: clamp(now.live[1] - self.start.live[1]),
        };
        (stats, foreign_ops)
    }
}
