//! The counting core's vocabulary when counting is not built (no `peak` feature): every mark and
//! snapshot reads zero, and nothing is paused because nothing counts.

use crate::stats::Stats;

/// A mark that measures nothing.
#[must_use = "a mark measures until `end` is called"]
pub(crate) struct Mark;

impl Mark {
    /// Begins measuring nothing.
    pub(crate) fn begin() -> Mark {
        Mark
    }

    /// Zero.
    pub(crate) fn end(self) -> Stats {
        Stats::default()
    }

    /// Zero, and nothing freed beyond what was allocated.
    pub(crate) fn end_freed(self) -> (Stats, (u64, u64)) {
        (Stats::default(), (0, 0))
    }
}

/// A whole-process span that measures nothing.
pub(crate) struct SpanMark;

impl SpanMark {
    /// Begins measuring nothing.
    pub(crate) fn begin(_outermost: bool) -> SpanMark {
        SpanMark
    }

    /// Zero, and no foreign operation.
    pub(crate) fn end(self) -> (Stats, u64) {
        (Stats::default(), 0)
    }
}

/// A profiling session's mark that measures nothing.
pub(crate) struct SessionMark;

impl SessionMark {
    /// Begins measuring nothing.
    pub(crate) fn begin() -> SessionMark {
        SessionMark
    }

    /// Zero, and no other thread seen.
    pub(crate) fn end(self) -> (Stats, bool) {
        (Stats::default(), false)
    }

    /// Zero.
    pub(crate) fn read(&self) -> Stats {
        Stats::default()
    }
}

/// Zero.
pub(crate) fn thread_stats() -> Stats {
    Stats::default()
}

/// Zero.
pub(crate) fn process_stats() -> Stats {
    Stats::default()
}

/// Zero.
pub(crate) fn live() -> (i64, i64) {
    (0, 0)
}

/// Runs `f`: without counting there is nothing to pause.
pub(crate) fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Without counting, no thread is known to be started inside a span.
pub(crate) fn born_inside_open_span() -> bool {
    false
}
