//! Marks and snapshots over this thread's tally: the peak protocol, in one place.
//!
//! The tally keeps one peak: the highest live bytes since the innermost open mark began. A mark,
//! when it begins, sets the peak before it aside (in itself, and the highest peak ever set aside
//! on the thread in [`SET_ASIDE`], for [`thread_stats`]) and lowers the tally's peak to the live
//! bytes now; when it ends, it reads the peak it measured and puts back the higher of the two. So
//! nested marks each see their own exact peak, and the thread's own peak is never lost.

use super::{with_tally, Tally};
use crate::stats::Stats;
use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;

thread_local! {
    /// The highest peak (bytes, blocks) any mark on this thread has set aside, so that
    /// `thread_stats` still sees the thread's own peak inside a measurement. It only rises: a peak
    /// set aside was the thread's at its time, and a mark that ends puts it back into the tally's
    /// peak anyway, so nothing is restored when marks end.
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

/// A mark as plain data, so that a region's frame holds it in place and ends it by reference.
/// Marks must end in the reverse order of their beginning, each exactly once: use [`Mark`] unless
/// the owner guarantees that itself.
#[must_use = "a frame mark holds the peak it set aside until it ends"]
#[derive(Clone, Copy)]
pub(crate) struct FrameMark {
    /// The tally at the beginning; its `peak` is the peak before this mark (since the previous
    /// mark began), set aside while this one measures.
    start: Snapshot,
}

impl FrameMark {
    /// Begins measuring this thread's allocations.
    pub(crate) fn begin() -> FrameMark {
        with_tally(|t| {
            let (start, band_lo) = Snapshot::read(t);
            let _ = SET_ASIDE.try_with(|s| s.set(higher(s.get(), start.peak)));
            t.set_peak(band_lo, (start.curr_bytes, start.curr_blocks));
            FrameMark { start }
        })
        .unwrap_or(FrameMark {
            start: Snapshot::default(),
        })
    }

    /// What this mark measured; the peak before it is put back.
    #[inline(always)]
    pub(crate) fn end(self) -> Stats {
        self.end_delta().stats()
    }

    /// What this mark measured, signed (see [`Delta`]); the peak before it is put back.
    #[inline(always)]
    pub(crate) fn end_delta(self) -> Delta {
        with_tally(|t| {
            let (now, band_lo) = Snapshot::read(t);
            t.set_peak(band_lo, higher(self.start.peak, now.peak));
            now.delta(&self.start, now.peak)
        })
        .unwrap_or_default()
    }

    /// The peak (live bytes, blocks) from the previous mark's beginning to this one's.
    pub(crate) fn outer_peak(&self) -> (i64, i64) {
        self.start.peak
    }

    /// Takes the peak an earlier mark set aside, which ended out of order before this one (see
    /// [`Mark`]): this one puts back the higher of the two when it ends.
    pub(crate) fn set_aside_earlier(&mut self, earlier: (i64, i64)) {
        self.start.peak = higher(earlier, self.start.peak);
    }

    /// What this mark measured, ending while marks that began after it are still open: `inner`
    /// is the highest peak they set aside, which is part of this mark's; the tally's peak is
    /// theirs, so nothing is put back (see [`Mark`]).
    pub(crate) fn end_delta_under(self, inner: (i64, i64)) -> Delta {
        with_tally(|t| {
            let now = Snapshot::of(t);
            now.delta(&self.start, higher(inner, now.peak))
        })
        .unwrap_or_default()
    }

    /// What this mark has measured up to `now`, given the highest peak (live bytes, blocks) since
    /// it began; the mark goes on measuring.
    pub(crate) fn so_far(&self, now: &Snapshot, peak: (i64, i64)) -> Stats {
        now.since(&self.start, peak)
    }
}

/// A point in this thread's tally, from which [`Mark::end`] computes exact figures. Marks must end
/// in the reverse order of their beginning (as scopes do); one dropped without `end` (a panic
/// unwinding through it) still restores the thread's peak for the marks around it.
///
/// Region frames are marks too, and a guard need not end within the measurement around its entry:
/// the measured code may return it (a value that holds a region for its lifetime), or take in one
/// entered before (a guard moved into it). The peak protocol holds across both: each open mark's
/// set-aside peak is kept in [`OPEN_MARKS`], where a region frame that began before it and ends
/// during it finds it (see [`marks_after`]), and a mark that ends under frames entered during it
/// hands its set-aside peak to the first of them (see `region::imp::mark_ended`).
#[must_use = "a mark measures until `end` is called"]
pub(crate) struct Mark(Option<(FrameMark, Option<usize>)>);

/// A [`Mark`] open on this thread, as the region frames that end during it see it.
#[derive(Clone, Copy)]
pub(crate) struct OpenMark {
    /// The peak it set aside when it began, raised by region frames that began before it and
    /// ended during it (the peaks they set aside come before its).
    pub(crate) set_aside: (i64, i64),
    /// How many of the region frames open on this thread began before it: those at the depths
    /// below this. Set when it begins (`region::imp::mark_began`), lowered as such a frame ends
    /// during it ([`marks_after`]), so that a frame at a depth of at least this began after it.
    pub(crate) below: usize,
}

/// How many marks a thread keeps in place; more nested measurements go to a vector, made and
/// freed uncounted (the kit's own).
const INLINE_MARKS: usize = 32;

/// The marks open on this thread, in the order they began: the first [`INLINE_MARKS`] in place,
/// the rest in `more`.
struct OpenMarks {
    len: usize,
    inline: [OpenMark; INLINE_MARKS],
    /// Never dropped (the thread-local needs no destructor): emptied and freed, uncounted, when
    /// the marks in it end.
    more: ManuallyDrop<Vec<OpenMark>>,
}

impl OpenMarks {
    fn push(&mut self, mark: OpenMark) -> usize {
        let i = self.len;
        match self.inline.get_mut(i) {
            Some(slot) => *slot = mark,
            None => super::uncounted(|| self.more.push(mark)),
        }
        self.len = i + 1;
        i
    }

    /// Ends the marks from `len` on; the vector goes once none is in it.
    fn truncate(&mut self, len: usize) {
        self.len = len;
        self.more.truncate(len.saturating_sub(INLINE_MARKS));
        if self.more.is_empty() && self.more.capacity() > 0 {
            let more = std::mem::take(&mut *self.more);
            super::uncounted(|| drop(more));
        }
    }

    fn get_mut(&mut self, i: usize) -> &mut OpenMark {
        match i.checked_sub(INLINE_MARKS) {
            None => &mut self.inline[i],
            Some(j) => &mut self.more[j],
        }
    }

    fn iter(&self) -> impl Iterator<Item = &OpenMark> {
        self.inline[..self.len.min(INLINE_MARKS)]
            .iter()
            .chain(self.more.iter())
    }
}

thread_local! {
    /// This thread's open marks (no allocation below [`INLINE_MARKS`], no destructor).
    static OPEN_MARKS: RefCell<OpenMarks> = const {
        RefCell::new(OpenMarks {
            len: 0,
            inline: [OpenMark { set_aside: (0, 0), below: 0 }; INLINE_MARKS],
            more: ManuallyDrop::new(Vec::new()),
        })
    };
}

/// For the region frame at `depth` ending while marks that began after it are open: the highest
/// peak those marks set aside (part of the frame's peak, and the tally's is theirs), after handing
/// the frame's own set-aside peak `set_aside` to the first of them; `None` when no open mark began
/// after the frame. The frames from `depth` on are gone for those marks.
pub(crate) fn marks_after(depth: usize, set_aside: (i64, i64)) -> Option<(i64, i64)> {
    OPEN_MARKS
        .try_with(|m| {
            let mut m = m.borrow_mut();
            let first = m.iter().position(|o| o.below > depth)?;
            let start = m.get_mut(first).set_aside;
            let inner = m
                .iter()
                .skip(first + 1)
                .fold(start, |peak, o| higher(peak, o.set_aside));
            let head = m.get_mut(first);
            head.set_aside = higher(set_aside, head.set_aside);
            for i in first..m.len {
                m.get_mut(i).below = depth;
            }
            Some(inner)
        })
        .ok()
        .flatten()
}

/// Whether a mark open on this thread began after the region frame at `depth`.
pub(crate) fn any_mark_after(depth: usize) -> bool {
    OPEN_MARKS
        .try_with(|m| m.borrow().iter().any(|o| o.below > depth))
        .unwrap_or(false)
}

/// How many marks are open on this thread.
pub(crate) fn open_mark_count() -> usize {
    OPEN_MARKS.try_with(|m| m.borrow().len).unwrap_or(0)
}

/// The open mark `i` (in the order they began), if there is one.
pub(crate) fn open_mark(i: usize) -> Option<OpenMark> {
    OPEN_MARKS
        .try_with(|m| {
            let mut m = m.borrow_mut();
            (i < m.len).then(|| *m.get_mut(i))
        })
        .ok()
        .flatten()
}

impl Mark {
    /// Begins measuring this thread's allocations.
    pub(crate) fn begin() -> Mark {
        let below = crate::region::imp::mark_began();
        let mark = FrameMark::begin();
        let slot = OPEN_MARKS
            .try_with(|m| {
                m.borrow_mut().push(OpenMark {
                    set_aside: mark.start.peak,
                    below,
                })
            })
            .ok();
        Mark(Some((mark, slot)))
    }

    /// What this mark measured.
    pub(crate) fn end(mut self) -> Stats {
        self.finish().stats()
    }

    /// What this mark measured, and what the thread freed beyond what it allocated meanwhile
    /// (bytes, blocks): blocks allocated elsewhere, the live figures' part below zero, which
    /// [`Mark::end`] reads as 0.
    pub(crate) fn end_freed(mut self) -> (Stats, (u64, u64)) {
        let delta = self.finish();
        let below = |v: i64| v.min(0).unsigned_abs();
        (delta.stats(), (below(delta.live.0), below(delta.live.1)))
    }

    fn finish(&mut self) -> Delta {
        let Some((mut mark, slot)) = self.0.take() else {
            return Delta::default();
        };
        let open = slot.and_then(|i| {
            OPEN_MARKS
                .try_with(|m| {
                    let mut m = m.borrow_mut();
                    (i < m.len).then(|| {
                        let open = *m.get_mut(i);
                        // Marks end in the reverse order of their beginning: any after this one
                        // are gone (a mark dropped without ending).
                        m.truncate(i);
                        open
                    })
                })
                .ok()
                .flatten()
        });
        let Some(open) = open else {
            return mark.end_delta();
        };
        mark.start.peak = open.set_aside;
        match crate::region::imp::mark_ended(open.below, open.set_aside) {
            Some(inner) => mark.end_delta_under(inner),
            None => mark.end_delta(),
        }
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        self.finish();
    }
}

/// This thread's tally at one moment, read without disturbing it.
#[derive(Clone, Copy, Default)]
pub(crate) struct Snapshot {
    total_bytes: u64,
    total_blocks: u64,
    curr_bytes: i64,
    curr_blocks: i64,
    /// The peak since the innermost open mark began.
    pub(crate) peak: (i64, i64),
}

impl Snapshot {
    /// The tally now; `None` while the thread is being torn down.
    pub(crate) fn now() -> Option<Snapshot> {
        with_tally(Snapshot::of)
    }

    fn of(t: &Tally) -> Snapshot {
        Snapshot::read(t).0
    }

    /// The tally now, and the band's low end its live figures were read against; each cell
    /// loaded once (they are atomics, which the compiler does not load once for us).
    #[inline(always)]
    fn read(t: &Tally) -> (Snapshot, i64) {
        let band_lo = t.band_lo.own();
        let total_blocks = t.total_blocks.own();
        let snapshot = Snapshot {
            total_bytes: t.total_bytes.own(),
            total_blocks,
            curr_bytes: band_lo.wrapping_add(t.rel.own() as i64),
            curr_blocks: total_blocks.wrapping_sub(t.gone_blocks.own()) as i64,
            peak: (
                band_lo.wrapping_add(t.peak_rel.get() as i64),
                t.peak_blocks.get(),
            ),
        };
        (snapshot, band_lo)
    }

    /// The figures from `start` to this moment, given the highest peak between them.
    #[inline(always)]
    fn since(&self, start: &Snapshot, peak: (i64, i64)) -> Stats {
        self.delta(start, peak).stats()
    }

    /// As [`Snapshot::since`], signed.
    #[inline(always)]
    fn delta(&self, start: &Snapshot, peak: (i64, i64)) -> Delta {
        Delta {
            total_bytes: self.total_bytes.wrapping_sub(start.total_bytes),
            total_blocks: self.total_blocks.wrapping_sub(start.total_blocks),
            live: (
                self.curr_bytes - start.curr_bytes,
                self.curr_blocks - start.curr_blocks,
            ),
            peak: (peak.0 - start.curr_bytes, peak.1 - start.curr_blocks),
        }
    }
}

/// What a mark measured before the live figures are clamped at zero: the totals, the change of
/// the live bytes and blocks (negative where the thread freed more than it allocated), and the
/// peak (live bytes, blocks) above the live figures at the mark's beginning. A region entry that
/// spans several polls of a future adds these up poll by poll.
#[derive(Clone, Copy, Default, Debug)]
pub(crate) struct Delta {
    pub(crate) total_bytes: u64,
    pub(crate) total_blocks: u64,
    pub(crate) live: (i64, i64),
    pub(crate) peak: (i64, i64),
}

impl Delta {
    /// As [`Stats`]: the live figures and the peak clamped at zero.
    #[inline(always)]
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            total_bytes: self.total_bytes,
            total_blocks: self.total_blocks,
            max_bytes: clamp(self.peak.0),
            max_blocks: clamp(self.peak.1),
            curr_bytes: clamp(self.live.0),
            curr_blocks: clamp(self.live.1),
        }
    }
}

/// This thread's figures since it started, its own peak included whatever marks are open.
pub(crate) fn thread_stats() -> Stats {
    let set_aside = SET_ASIDE.try_with(Cell::get).unwrap_or_default();
    Snapshot::now()
        .map(|now| now.since(&Snapshot::default(), higher(set_aside, now.peak)))
        .unwrap_or_default()
}

/// This thread's figures since it started, unclamped: totals, live bytes and blocks, and the peak
/// (live bytes, blocks) since the innermost mark or region frame open on it began: a [`Mark`]'s
/// own peak while no mark or frame that began after it is open.
#[derive(Clone, Copy, Default)]
pub(crate) struct ThreadFigures {
    pub(crate) totals: [u64; 2],
    pub(crate) live: [i64; 2],
    pub(crate) innermost_peak: (i64, i64),
}

impl ThreadFigures {
    /// This thread's figures now; zero while it is being torn down.
    pub(crate) fn now() -> ThreadFigures {
        Snapshot::now()
            .map(|s| ThreadFigures {
                totals: [s.total_bytes, s.total_blocks],
                live: [s.curr_bytes, s.curr_blocks],
                innermost_peak: s.peak,
            })
            .unwrap_or_default()
    }
}

/// This thread's live bytes and blocks, signed (it may have freed what other threads allocated):
/// the live change between two moments is their difference.
pub(crate) fn live() -> (i64, i64) {
    Snapshot::now().map_or((0, 0), |s| (s.curr_bytes, s.curr_blocks))
}
