//! The per-thread state of regions: the stack of open frames, the thread's aggregates and the
//! caches that make entering a region a few integer operations; entering, leaving, and the
//! entries open at a [`regions`](super::regions) call.

#[cfg(feature = "sampled")]
use std::cell::Cell;
use std::cell::UnsafeCell;
use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use rustc_hash::FxBuildHasher;

use super::registry::{self, Agg, ROOT};
use crate::tally::mark::{any_mark_after, marks_after, open_mark, open_mark_count};
use crate::tally::uncounted;
use crate::tally::{mark::higher as higher_peak, Delta, FrameMark, Snapshot};
use crate::Stats;

/// The totals and live figures of an entry (what adds up between a region and its children; the
/// peak does not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Own {
    pub(super) total_bytes: u64,
    pub(super) total_blocks: u64,
    pub(super) curr_bytes: u64,
    pub(super) curr_blocks: u64,
}

impl Own {
    pub(super) fn of(s: &Stats) -> Own {
        Own {
            total_bytes: s.total_bytes,
            total_blocks: s.total_blocks,
            curr_bytes: s.curr_bytes,
            curr_blocks: s.curr_blocks,
        }
    }

    /// Adds an entry's figures (a child's, to its parent's `children`).
    #[inline(always)]
    pub(super) fn add(&mut self, s: &Stats) {
        self.total_bytes += s.total_bytes;
        self.total_blocks += s.total_blocks;
        self.curr_bytes += s.curr_bytes;
        self.curr_blocks += s.curr_blocks;
    }

    /// An entry's own figures: its inclusive ones less what its child regions' entries counted.
    /// The totals only rise, and the children's entries lie within the entry, one after another,
    /// so their totals never exceed its own: a plain subtraction. The live figures of the
    /// children may (they keep what the entry frees of its own), so those stop at zero.
    #[inline(always)]
    fn without(inclusive: &Stats, children: &Own) -> Own {
        Own {
            total_bytes: inclusive.total_bytes.wrapping_sub(children.total_bytes),
            total_blocks: inclusive.total_blocks.wrapping_sub(children.total_blocks),
            curr_bytes: inclusive.curr_bytes.saturating_sub(children.curr_bytes),
            curr_blocks: inclusive.curr_blocks.saturating_sub(children.curr_blocks),
        }
    }

    /// As [`Stats`], with no peak.
    pub(super) fn stats(self) -> Stats {
        let mut s = Stats::default();
        (s.total_bytes, s.total_blocks) = (self.total_bytes, self.total_blocks);
        (s.curr_bytes, s.curr_blocks) = (self.curr_bytes, self.curr_blocks);
        s
    }
}

/// The bit of [`Frame::id`] set while the frame is marked: identities count by four, so a marked
/// frame's has a bit no guard's has, and matches none.
const MARKED: u32 = 1;

/// The bit of [`Frame::id`] set for a frame begun apart from some of its path's ancestors
/// ([`detachment`]): it matches no guard's either, so that its exit takes the slow path, which
/// records what it measured for those ancestors ([`Thread::apart`]); the fast path never looks.
const DETACHED: u32 = 2;

impl Frame {
    /// A measurement began while this frame was the innermost and may still be open: its guard's
    /// exit takes the slow path, which ends the frame under that measurement (see
    /// [`close_innermost`]).
    fn marked(&self) -> bool {
        self.id & MARKED != 0
    }

    /// Its identity, marked or not, detached or not.
    fn real_id(&self) -> u32 {
        self.id & !(MARKED | DETACHED)
    }

    /// Begun apart from some of its path's ancestors (see [`DETACHED`]).
    fn detached(&self) -> bool {
        self.id & DETACHED != 0
    }

    /// Marks it (see [`Frame::marked`]).
    fn mark_under(&mut self) {
        self.id |= MARKED;
    }

    fn unmark(&mut self) {
        self.id &= !MARKED;
    }
}

/// The child entered last from a frame (or the region entered last outside any): its name (by
/// address and length), its path and this thread's aggregate for it, so that a loop entering the
/// same child skips the lookup; or, when the name is already open on the stack (recursion), the
/// depth of the frame that has it. Both hold while the frame whose cache it is stays open, since
/// the frames under it cannot change meanwhile.
#[derive(Clone, Copy)]
struct CacheEntry {
    name_addr: usize,
    name_len: usize,
    gid: u32,
    /// One more than the depth of the open frame of the same name, or [`NOT_OPEN`] (so that
    /// an empty entry is all zeros).
    open_at: u32,
    agg: usize,
}

/// [`CacheEntry::open_at`] for a name not open on the stack.
const NOT_OPEN: u32 = 0;

impl CacheEntry {
    /// Matches no name (no `&'static str` lies at address 0).
    const EMPTY: CacheEntry = CacheEntry {
        name_addr: 0,
        name_len: 0,
        gid: 0,
        open_at: NOT_OPEN,
        agg: 0,
    };

    fn is(&self, name: &str) -> bool {
        (self.name_addr, self.name_len) == (name.as_ptr() as usize, name.len())
    }
}

/// One open region on this thread.
struct Frame {
    /// Its identity, as its guard holds it, with [`MARKED`] set while it is
    /// [`marked`](Frame::marked).
    id: u32,
    gid: u32,
    /// This thread's aggregate for the path (which knows the path's name): an index into
    /// `Thread::aggs`.
    agg: usize,
    mark: FrameMark,
    /// What the child regions' entries counted.
    children: Own,
    last_child: CacheEntry,
}

/// What [`detachment`] says of a frame begun inside its path's parent (or of a path with none).
const ATTACHED: u32 = u32::MAX;

/// Whether this thread is inside path `gid`: a frame of it is open, or a frame of one of its
/// descendants, whose entry counts for it (through its own frames or, for a frame begun apart
/// from its ancestors, through [`Thread::apart`]). The paths inside are closed under taking
/// ancestors, so those of a path's ancestors inside are its outermost ones.
fn inside(t: &Thread, gid: u32) -> bool {
    t.frames
        .iter()
        .any(|f| f.gid == gid || t.aggs[f.agg].ancestors.contains(&gid))
}

/// The depth from which the ancestors of aggregate `agg`'s path are not [`inside`] on this
/// thread (none: 0), or [`ATTACHED`] when its parent is. An ancestor inside only through a
/// detached frame of a descendant counts as open: that frame's entry adds what it measured, this
/// one's with it, to the ancestors it began apart from (a worker in `a/b` entering `a/x` added
/// its bytes to `a` once through each frame).
fn detachment(t: &Thread, agg: usize) -> u32 {
    let ancestors = &t.aggs[agg].ancestors;
    let open = |a: &u32| inside(t, *a);
    match ancestors.iter().rposition(open) {
        Some(d) if d + 1 == ancestors.len() => ATTACHED,
        Some(d) => d as u32 + 1,
        None if ancestors.is_empty() => ATTACHED,
        None => 0,
    }
}

struct Thread {
    frames: Vec<Frame>,
    /// As `Frame::last_child`, for regions entered outside any other.
    last_root: CacheEntry,
    next_id: u32,
    /// (parent path, name address, name length) -> (path, index of this thread's aggregate).
    ids: HashMap<(u32, usize, usize), (u32, usize), FxBuildHasher>,
    /// path -> index of this thread's aggregate for it (for paths entered from a handle).
    by_path: HashMap<u32, usize, FxBuildHasher>,
    aggs: Vec<Arc<Agg>>,
    /// For each open frame begun apart from some of its path's ancestors ([`DETACHED`]), its
    /// depth on the stack and the depth from which those ancestors were not open
    /// ([`registry::Agg::add_detached`]), innermost last.
    apart: Vec<(usize, u32)>,
}

/// Hands the thread's figures to the registry's `ended` totals when the thread ends. Registered
/// with the thread's first aggregate, so that `THREAD` itself needs no destructor and stays a
/// plain, always-accessible thread-local on the region's path.
struct HandOverAtExit;

impl Drop for HandOverAtExit {
    fn drop(&mut self) {
        let _ = with_thread(|t| {
            // Entries still open (a guard leaked, or held by a thread-local destroyed after this
            // one) end here, innermost first, so that their figures are handed over too; their
            // guards, dropped later if ever, find no frame to close.
            while !t.frames.is_empty() {
                close_innermost(t);
            }
            let aggs = std::mem::take(&mut t.aggs);
            let frames = std::mem::take(&mut t.frames);
            let ids = std::mem::take(&mut t.ids);
            let by_path = std::mem::take(&mut t.by_path);
            let apart = std::mem::take(&mut t.apart);
            // The root cache indexes the aggregates just taken: a region entered after this
            // (from another thread-local's destructor) must look its path up afresh.
            t.last_root = CacheEntry::EMPTY;
            #[cfg(feature = "sampled")]
            let _ = CURRENT.try_with(|c| c.set(NO_REGION));
            uncounted(|| {
                registry::hand_over(&aggs);
                drop((aggs, frames, ids, by_path, apart));
            });
        });
    }
}

thread_local! {
    // No destructor (`ManuallyDrop`): the fastest kind of thread-local. `HandOverAtExit` empties
    // it when the thread ends.
    static THREAD: UnsafeCell<ManuallyDrop<Thread>> = const {
        UnsafeCell::new(ManuallyDrop::new(Thread {
            frames: Vec::new(),
            last_root: CacheEntry::EMPTY,
            next_id: 0,
            ids: HashMap::with_hasher(FxBuildHasher),
            by_path: HashMap::with_hasher(FxBuildHasher),
            aggs: Vec::new(),
            apart: Vec::new(),
        }))
    };
    static EXIT: HandOverAtExit = const { HandOverAtExit };
}

#[cfg(feature = "sampled")]
thread_local! {
    /// The path of the region active on this thread ([`NO_REGION`] outside any), kept apart from
    /// `THREAD` so that the allocator's sampling path can read it without touching the frames
    /// (kept only where sampling is built).
    static CURRENT: Cell<u32> = const { Cell::new(NO_REGION) };
}

/// [`CURRENT`] outside any region.
#[cfg(feature = "sampled")]
const NO_REGION: u32 = u32::MAX;

/// The path of the region active on this thread, read without allocating or locking (from inside
/// the allocator, when a sampled allocation records where it was made).
#[cfg(feature = "sampled")]
pub(crate) fn current_path() -> Option<u32> {
    CURRENT
        .try_with(Cell::get)
        .ok()
        .filter(|&gid| gid != NO_REGION)
}

/// Runs `f` on this thread's region state; `None` while the thread is being torn down.
#[inline(always)]
fn with_thread<R>(f: impl FnOnce(&mut Thread) -> R) -> Option<R> {
    THREAD
        .try_with(|t| {
            // SAFETY: only this thread reaches its `THREAD`, and never while a reference from an
            // outer `with_thread` is alive: the callers (enter, exit, current, the open entries
            // read by `regions`, the exit hand-over) run no user code and never call one another;
            // what they allocate goes to the counting allocator, which never touches regions.
            f(unsafe { &mut *t.get() })
        })
        .ok()
}

/// Which frame a guard closes: its place on the stack (high half) and its identity (low half),
/// packed in one word so that a guard travels in a register; or [`FrameRef::NONE`] for a
/// recursive entry (counted, nothing to close) or one made while the thread is torn down.
#[derive(Clone, Copy)]
pub(crate) struct FrameRef(u64);

impl FrameRef {
    /// Nothing to close: no frame lies at depth `u32::MAX`.
    const NONE: FrameRef = FrameRef(u64::MAX);

    fn new(depth: usize, id: u32) -> FrameRef {
        FrameRef((depth as u64) << 32 | u64::from(id))
    }

    fn depth(self) -> usize {
        (self.0 >> 32) as usize
    }

    fn id(self) -> u32 {
        self.0 as u32
    }
}

/// This thread's aggregate for path `gid`, made and registered on first use.
fn agg_for(thread: &mut Thread, gid: u32) -> usize {
    if let Some(&i) = thread.by_path.get(&gid) {
        return i;
    }
    let agg = registry::register(gid);
    // The thread's figures go to the registry when it ends (registration may allocate: the
    // callers run this uncounted).
    let _ = EXIT.try_with(|_| ());
    thread.aggs.push(agg);
    thread.by_path.insert(gid, thread.aggs.len() - 1);
    thread.aggs.len() - 1
}

/// Enters the region `name` under the one active on this thread.
pub(super) fn enter_child(name: &'static str) -> FrameRef {
    with_thread(|t| {
        let cache = match t.frames.last() {
            Some(f) => &f.last_child,
            None => &t.last_root,
        };
        let (gid, open_at, agg) = if cache.is(name) {
            (cache.gid, cache.open_at, cache.agg)
        } else {
            let found = look_up(t, name);
            (found.gid, found.open_at, found.agg)
        };
        if open_at != NOT_OPEN {
            // Recursion: counted as an entry of the frame already open, nothing to close.
            let frame = &t.frames[open_at as usize - 1];
            t.aggs[frame.agg].count_entry();
            return FrameRef::NONE;
        }
        open(t, gid, agg)
    })
    .unwrap_or(FrameRef::NONE)
}

/// What entering `name` under the active region means, when the cache of the child entered last
/// does not hold it: the frame of the same name already open (recursion), or the path and this
/// thread's aggregate for it. The cache then holds it.
#[cold]
#[inline(never)]
fn look_up(t: &mut Thread, name: &'static str) -> CacheEntry {
    let (name_addr, name_len) = (name.as_ptr() as usize, name.len());
    let entry = if let Some(depth) = t.frames.iter().rposition(|f| t.aggs[f.agg].name == name) {
        CacheEntry {
            name_addr,
            name_len,
            open_at: depth as u32 + 1,
            ..CacheEntry::EMPTY
        }
    } else {
        let parent = t.frames.last().map_or(ROOT, |f| f.gid);
        let (gid, agg) = match t.ids.get(&(parent, name_addr, name_len)) {
            Some(&found) => found,
            None => uncounted(|| {
                let gid = registry::path_id(parent, name);
                let found = (gid, agg_for(t, gid));
                t.ids.insert((parent, name_addr, name_len), found);
                found
            }),
        };
        CacheEntry {
            name_addr,
            name_len,
            gid,
            open_at: NOT_OPEN,
            agg,
        }
    };
    let slot = match t.frames.last_mut() {
        Some(f) => &mut f.last_child,
        None => &mut t.last_root,
    };
    *slot = entry;
    entry
}

/// Enters the path `gid`, handed over from another thread, as a new frame here; on a thread
/// already [`inside`] that path (a pool running a task on the thread that handed it out, or a
/// worker in a descendant's handle entering the path's own) the entry is recursion, as for a
/// name, so that the path's bytes are not counted twice.
pub(super) fn enter_path(gid: u32) -> FrameRef {
    with_thread(|t| {
        if inside(t, gid) {
            let agg = agg_of(t, gid);
            t.aggs[agg].count_entry();
            return FrameRef::NONE;
        }
        let agg = agg_of(t, gid);
        open_apart(t, gid, agg)
    })
    .unwrap_or(FrameRef::NONE)
}

/// [`open`], for a frame of a path handed over (a handle's, a future's poll), which may begin
/// apart from some of its path's ancestors: such a frame is marked [`DETACHED`] and its depth
/// kept in [`Thread::apart`]. The guard's identity is the frame's without the mark.
fn open_apart(t: &mut Thread, gid: u32, agg: usize) -> FrameRef {
    let from = detachment(t, agg);
    let frame = open(t, gid, agg);
    if from != ATTACHED {
        let depth = frame.depth();
        t.frames[depth].id |= DETACHED;
        uncounted(|| t.apart.push((depth, from)));
    }
    frame
}

/// The depth from which the ancestors of the frame at `depth`, [`DETACHED`] and closing, were not
/// open when it began, taken off [`Thread::apart`].
fn take_apart(t: &mut Thread, depth: usize) -> Option<u32> {
    let i = t.apart.iter().rposition(|&(d, _)| d == depth)?;
    Some(t.apart.remove(i).1)
}

/// The path a future's entry of `name` takes ([`super::future`]), made where the future is: the
/// path of the frame already open under that name here (recursion, as for [`enter_child`]), or
/// the child path of the region active here. `None` while the thread is being torn down.
pub(super) fn path_for(name: &'static str) -> Option<u32> {
    with_thread(|t| {
        let found = look_up(t, name);
        if found.open_at == NOT_OPEN {
            found.gid
        } else {
            t.frames[found.open_at as usize - 1].gid
        }
    })
}

/// This thread's aggregate for path `gid`, registered (uncounted) on first use.
fn agg_of(t: &mut Thread, gid: u32) -> usize {
    match t.by_path.get(&gid) {
        Some(&agg) => agg,
        None => uncounted(|| agg_for(t, gid)),
    }
}

/// Resumes a future's entry of path `gid` on this thread for one poll: a frame that measures the
/// poll, counted as no entry (the future's entry is counted once, by [`finish`]). On a thread
/// already [`inside`] the path, the open frames count the poll (recursion) and nothing is opened.
pub(super) fn resume(gid: u32) -> FrameRef {
    with_thread(|t| {
        if inside(t, gid) {
            return FrameRef::NONE;
        }
        let agg = agg_of(t, gid);
        open_apart(t, gid, agg)
    })
    .unwrap_or(FrameRef::NONE)
}

/// What a future's poll measured, for the future to carry to its next poll ([`suspend`]).
pub(super) struct Poll {
    /// Its figures, signed.
    pub(super) delta: Delta,
    /// What its child regions' entries counted.
    pub(super) children: Own,
    /// The depth from which the path's ancestors were not open where it ran
    /// ([`registry::Agg::add_detached`]), if any.
    pub(super) detached: Option<u32>,
}

/// Ends the poll [`resume`] began: what it measured, for the future to carry to its next poll;
/// its parent here counts the poll as a child's entry, so that the parent's own figures leave it
/// out. Regions entered during the poll and still open (a guard held across an `.await`) end
/// here. `None` when nothing was opened or an outer guard dropped early has already ended the
/// frame.
pub(super) fn suspend(frame: FrameRef) -> Option<Poll> {
    if frame.0 == FrameRef::NONE.0 {
        return None;
    }
    with_thread(|t| {
        let depth = frame.depth();
        if t.frames.get(depth).map(Frame::real_id) != Some(frame.id()) {
            return None;
        }
        while t.frames.len() > depth + 1 {
            close_innermost(t);
        }
        let detached = match t.frames.get(depth).is_some_and(Frame::detached) {
            true => take_apart(t, depth),
            false => None,
        };
        let f = t.frames.pop()?;
        let delta = match f.marked() {
            true => match marks_after(depth, f.mark.outer_peak()) {
                Some(inner) => {
                    if let Some(top) = t.frames.last_mut() {
                        top.mark_under();
                    }
                    f.mark.end_delta_under(inner)
                }
                None => f.mark.end_delta(),
            },
            false => f.mark.end_delta(),
        };
        if let Some(parent) = t.frames.last_mut() {
            parent.children.add(&delta.stats());
        }
        #[cfg(feature = "sampled")]
        {
            let now = t.frames.last().map_or(NO_REGION, |f| f.gid);
            let _ = CURRENT.try_with(|c| c.set(now));
        }
        Some(Poll {
            delta,
            children: f.children,
            detached,
        })
    })
    .flatten()
}

/// Totals of a future's polls made apart from some of its path's ancestors, from depth `from` on
/// ([`registry::Agg::add_detached`]): `(from, bytes, blocks)`.
pub(super) type Apart = (u32, u64, u64);

/// Adds a future's polls made apart from its path's ancestors (`apart`) to path `gid`'s aggregate
/// on this thread, before the future's entry is counted: polls made apart from fewer or more
/// ancestors than the ones the future carries.
pub(super) fn add_apart(gid: u32, apart: Apart) {
    let _ = with_thread(|t| {
        let agg = agg_of(t, gid);
        t.aggs[agg].add_detached(apart.0, apart.1, apart.2);
    });
}

/// Counts a future's finished (or dropped) entry of path `gid` on this thread's aggregate, with
/// the figures of all its polls: `inclusive`, what its child regions' entries counted, and those
/// of its polls made apart from its path's ancestors. An entry none of whose polls `opened` a
/// frame (each ran inside the path already: recursion) is counted as an entry and nothing else,
/// as a recursive [`enter_child`] is: with `ad-hoc`, no event of its own.
pub(super) fn finish(
    gid: u32,
    inclusive: &Stats,
    children: &Own,
    apart: Option<Apart>,
    opened: bool,
) {
    let _ = with_thread(|t| {
        let agg = agg_of(t, gid);
        let agg = &t.aggs[agg];
        if !opened {
            agg.count_entry();
            return;
        }
        agg.add_entry(|| {
            record(agg, inclusive, children);
            if let Some((from, bytes, blocks)) = apart {
                agg.add_detached(from, bytes, blocks);
            }
        });
        ad_hoc_event(inclusive);
    });
}

/// Pushes a frame for path `gid` (this thread's aggregate `agg`) and starts its measurement.
#[inline(always)]
fn open(t: &mut Thread, gid: u32, agg: usize) -> FrameRef {
    // The entry is counted when it ends (`close`), on the aggregate it writes anyway.
    // By four: the low bits are `MARKED` and `DETACHED`.
    t.next_id = t.next_id.wrapping_add(4);
    let id = t.next_id;
    let depth = t.frames.len();
    if t.frames.capacity() == depth {
        grow(&mut t.frames);
    }
    let frame = Frame {
        id,
        gid,
        agg,
        mark: FrameMark::begin(),
        children: Own::default(),
        last_child: CacheEntry::EMPTY,
    };
    // SAFETY: the capacity was made to exceed `depth`, the length, just above, so the slot at
    // `depth` is allocated and unused; writing it and raising the length by one keeps every
    // element initialised (a plain `push` would check the capacity a second time).
    unsafe {
        t.frames.as_mut_ptr().add(depth).write(frame);
        t.frames.set_len(depth + 1);
    }
    #[cfg(feature = "sampled")]
    let _ = CURRENT.try_with(|c| c.set(gid));
    FrameRef::new(depth, id)
}

/// Makes room for more frames (uncounted: the kit's own bookkeeping); out of line, so that an
/// entry keeps few registers.
#[cold]
#[inline(never)]
fn grow(frames: &mut Vec<Frame>) {
    uncounted(|| frames.reserve(8));
}

/// Ends the frame a guard holds (and any entered after it, still open).
#[inline]
pub(super) fn exit(frame: FrameRef) {
    if frame.0 != FrameRef::NONE.0 {
        close_from(frame);
    }
}

fn close_from(frame: FrameRef) {
    let _ = with_thread(|t| {
        let depth = frame.depth();
        // The common case: the guard's frame is the innermost one.
        if depth + 1 == t.frames.len() && t.frames[depth].id == frame.id() {
            close_last(t);
        } else {
            close_out_of_order(t, frame);
        }
        #[cfg(feature = "sampled")]
        {
            let now = t.frames.last().map_or(NO_REGION, |f| f.gid);
            let _ = CURRENT.try_with(|c| c.set(now));
        }
    });
}

/// Ends the frame a guard holds when it is not the innermost: the frames entered after it and
/// still open (their guards dropped later, or leaked) end first, innermost first; a frame already
/// closed by an outer guard dropped early is left alone.
#[cold]
#[inline(never)]
fn close_out_of_order(t: &mut Thread, frame: FrameRef) {
    if t.frames.get(frame.depth()).map(Frame::real_id) != Some(frame.id()) {
        return;
    }
    while t.frames.len() > frame.depth() {
        close_innermost(t);
    }
}

/// Ends the innermost open frame, off the fast path: as [`close_last`], or, when it is marked and
/// a measurement that began after it is still open (its guard was moved into the measured code),
/// under that measurement: the frame's peak takes in the peaks the open measurements set aside
/// (the tally's is the innermost one's), its own set-aside peak goes to the first of them instead
/// of back into the tally, and the frame under it, now the innermost, is marked in turn.
#[cold]
#[inline(never)]
fn close_innermost(t: &mut Thread) {
    let Some(depth) = t.frames.len().checked_sub(1) else {
        return;
    };
    let apart = match t.frames[depth].detached() {
        true => take_apart(t, depth),
        false => None,
    };
    let f = &t.frames[depth];
    let inner = if f.marked() {
        marks_after(depth, f.mark.outer_peak())
    } else {
        None
    };
    let Some(inner) = inner else {
        return close_last_apart(t, apart);
    };
    let inclusive = f.mark.end_delta_under(inner).stats();
    record_entry(f, &t.aggs, &inclusive, apart);
    let len = t.frames.len() - 1;
    t.frames.truncate(len);
    if let Some(parent) = t.frames.last_mut() {
        parent.children.add(&inclusive);
        parent.mark_under();
    }
}

/// Ends the innermost open frame where it lies, then takes it off the stack (no copy of a frame
/// just written).
#[inline(always)]
fn close_last(t: &mut Thread) {
    close_last_apart(t, None);
}

/// [`close_last`], for a frame begun apart from its path's ancestors from depth `apart` on, if
/// that is `Some` (off the fast path: see [`DETACHED`]).
#[inline(always)]
fn close_last_apart(t: &mut Thread, apart: Option<u32>) {
    if let Some(f) = t.frames.last() {
        let inclusive = f.mark.end();
        record_entry(f, &t.aggs, &inclusive, apart);
        let len = t.frames.len() - 1;
        t.frames.truncate(len);
        // The parent looked up only now, so that it is not held through the figures' work.
        if let Some(parent) = t.frames.last_mut() {
            parent.children.add(&inclusive);
        }
    }
}

/// Adds frame `f`'s finished entry, of `inclusive` figures, to its aggregate; and, for a frame
/// begun apart from its path's ancestors from depth `apart` on, its totals for them.
#[inline(always)]
fn record_entry(f: &Frame, aggs: &[Arc<Agg>], inclusive: &Stats, apart: Option<u32>) {
    let agg = &aggs[f.agg];
    agg.add_entry(|| {
        record(agg, inclusive, &f.children);
        if let Some(from) = apart {
            agg.add_detached(from, inclusive.total_bytes, inclusive.total_blocks);
        }
    });
    ad_hoc_event(inclusive);
}

/// Adds a finished entry's figures to aggregate `agg` (which has counted the entry): its
/// `inclusive` figures, and its own, less what its child regions' entries counted.
#[inline(always)]
fn record(agg: &Agg, inclusive: &Stats, children: &Own) {
    agg.inclusive.add(inclusive);
    agg.self_stats.add_own(Own::without(inclusive, children));
}

/// With `ad-hoc`, a finished entry is one of dhat's ad-hoc events, of its inclusive bytes.
#[inline(always)]
fn ad_hoc_event(_inclusive: &Stats) {
    #[cfg(feature = "ad-hoc")]
    uncounted(|| dhat::ad_hoc_event(_inclusive.total_bytes as usize));
}

/// An entry open on this thread, as it stands at a [`regions`](super::regions) call.
pub(super) struct OpenEntry {
    pub(super) gid: u32,
    pub(super) inclusive: Stats,
    pub(super) own: Own,
    /// As [`Poll::detached`].
    pub(super) detached: Option<u32>,
}

/// The entries open on this thread, as if they ended now, without ending them. The tally is read
/// before anything here allocates.
pub(super) fn open_entries() -> Vec<OpenEntry> {
    let Some(now) = Snapshot::now() else {
        return Vec::new();
    };
    let mut unfolded = open_mark_count();
    with_thread(|t| {
        let mut out = Vec::with_capacity(t.frames.len());
        // Innermost first: each frame's peak since it began is the peak since the frame inside
        // it began, or the one before that (kept in the inner frame's mark), whichever is higher;
        // and so for the measurements open inside it (kept in the open marks).
        let mut peak = now.peak;
        let mut open_child: Option<Stats> = None;
        for (depth, f) in t.frames.iter().enumerate().rev() {
            while let Some(m) = unfolded.checked_sub(1).and_then(open_mark) {
                if m.below <= depth {
                    break;
                }
                peak = higher_peak(m.set_aside, peak);
                unfolded -= 1;
            }
            let inclusive = f.mark.so_far(&now, peak);
            peak = higher_peak(f.mark.outer_peak(), peak);
            let detached = match f.detached() {
                true => t
                    .apart
                    .iter()
                    .rev()
                    .find(|&&(d, _)| d == depth)
                    .map(|&(_, from)| from),
                false => None,
            };
            let mut children = f.children;
            if let Some(child) = &open_child {
                children.add(child);
            }
            out.push(OpenEntry {
                gid: f.gid,
                inclusive,
                own: Own::without(&inclusive, &children),
                detached,
            });
            open_child = Some(inclusive);
        }
        out
    })
    .unwrap_or_default()
}

/// A measurement ([`crate::tally::Mark`]) begins on this thread: the innermost open frame is
/// marked, so that its guard's exit takes the slow path, which hands the frame's set-aside peak to
/// the measurement if it is still open then. Returns how many frames are open (the measurement's
/// `below`: those frames began before it).
pub(crate) fn mark_began() -> usize {
    with_thread(|t| {
        if let Some(top) = t.frames.last_mut() {
            top.mark_under();
        }
        t.frames.len()
    })
    .unwrap_or(0)
}

/// A measurement under which the frames at the depths below `below` began, and which set aside
/// the peak `set_aside`, ends (it is no longer in [`crate::tally::mark`]'s open marks). When
/// frames entered during it are still open (the measured code returned a guard), the first of them
/// takes `set_aside` (the peak before the measurement is before that frame's too) and this returns
/// the highest peak they set aside, part of the measurement's: the tally's peak is the innermost
/// frame's, so the measurement puts nothing back. The innermost frame stays marked only while a
/// measurement that began after it is open.
pub(crate) fn mark_ended(below: usize, set_aside: (i64, i64)) -> Option<(i64, i64)> {
    with_thread(|t| {
        let inner = t
            .frames
            .get_mut(below..)
            .and_then(|after| after.split_first_mut())
            .map(|(first, later)| {
                let inner = later.iter().fold(first.mark.outer_peak(), |peak, f| {
                    higher_peak(peak, f.mark.outer_peak())
                });
                first.mark.set_aside_earlier(set_aside);
                inner
            });
        let depth = t.frames.len().wrapping_sub(1);
        if let Some(top) = t.frames.last_mut() {
            if top.marked() && !any_mark_after(depth) {
                top.unmark();
            }
        }
        inner
    })
    .flatten()
}

/// This thread's aggregates (none while the thread is being torn down).
pub(super) fn own_aggregates() -> Vec<Arc<Agg>> {
    with_thread(|t| t.aggs.clone()).unwrap_or_default()
}

/// The path of the region active on this thread.
pub(super) fn current() -> Option<u32> {
    with_thread(|t| t.frames.last().map(|f| f.gid)).flatten()
}
