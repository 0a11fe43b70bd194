//! The counting core: each thread's tally of its allocations, the only place its cells are read or
//! written, and the small vocabulary the rest of the crate speaks over it.
//!
//! - For the allocator ([`Alloc`](crate::Alloc)): [`alloc`], [`realloc`] (from an old size to a
//!   new one) and [`free`], each around the inner allocator's call; [`uncounted`] for the kit's own
//!   bookkeeping.
//! - For measurements ([`mark`]): begin a [`Mark`], end it; a [`Snapshot`] of the thread's tally
//!   without disturbing it; this thread's and the process's figures.
//! - For whole-process spans ([`process`]): a [`SpanMark`] over the process-wide tallies.
//! - For readers of the process's figures ([`pending`]): what each running thread has not handed
//!   over yet, read from its tally by another thread.
//!
//! # The hot path
//!
//! Every allocation on a thread updates that thread's tally: plain integers in a const-initialised
//! thread-local with no destructor, read with `try_with`. The process-wide figures are fed from the
//! thread tallies in batches ([`Tally::publish`]), so threads never share a cache line on the hot
//! path. While a [`measure_all`](crate::measure_all) runs (exact mode), every operation takes the
//! slow path and is also added to the span tally (its totals to the thread's own span slot, its
//! live figures to the shared ones; see [`process`]): the cost is paid only then.
//!
//! One comparison decides whether an operation leaves the fast path: are the thread's live bytes,
//! after it, still within the band around the figure last published ([`Tally::out_of_band`])?
//! The tally keeps its live bytes (and their peak) as offsets from the band's low end, so that
//! comparison needs no subtraction. Whatever is unusual moves the band so that every operation is
//! out of it and takes the slow path ([`Tally::slow`]): a thread that never published, a paused
//! thread and a thread past its exit hook (the band's low end is moved [`OUT_OF_BAND`] below the
//! live bytes; paused, the slow path lets the operation through uncounted, and past the hook it
//! publishes each one), and exact mode (the band's width, a cell of the thread's own that exact
//! mode's walk writes, is 0; see [`band`]). So over `System` the fast path checks no flag at all:
//! the band and the count's mask, both on the thread's own cache line.
//! Over another allocator the reentrancy flag is still checked and raised around the inner call,
//! since that allocator may allocate through this one.
//!
//! Why the code reached from a `GlobalAlloc` method never allocates, locks or panics, in one place:
//!
//! - [`alloc`], [`realloc`] and [`free`] touch only this thread's tally (wrapping arithmetic, no
//!   overflow checks that could panic): `Cell`s, and relaxed loads and stores of the atomics
//!   another thread may read ([`pending`]), plain moves as a `Cell`'s are; `try_with` on a
//!   thread-local with no destructor never panics and never registers one.
//! - The slow path ([`Tally::slow`], cold) does relaxed atomic additions (in exact mode, plain
//!   loads and stores on the thread's own span slot, taken at its first exact-mode operation by a
//!   compare-and-swap on a free one: no lock; it waits only while a span's step, which allocates
//!   nothing and so never waits on it, is taken on another thread, see [`process`]); its one
//!   possibly allocating step, the
//!   thread's first registration of its exit hook, runs with the thread's counting paused, so the
//!   allocation it may make passes straight through. The registration of its band ([`band`]) is
//!   a compare-and-swap on a free slot too, and never waits.
//! - Under `sampled`, the countdown's slow path (`crate::sample`) runs with counting paused; it
//!   takes the sample set's lock only there, about once per sample interval.
//! - Everything else here (marks, snapshots, spans) runs outside the allocator, on the caller's
//!   own thread.

use std::alloc::Layout;
use std::any::TypeId;
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

mod band;
mod fence;
pub(crate) mod mark;
mod pending;
pub(crate) mod process;

pub(crate) use mark::{live, thread_stats, Delta, FrameMark, Mark, Snapshot};
use pending::{Figures, Moves, SignedWord, Word, DEPARTURES, LEFT};
pub(crate) use process::{process_stats, SessionMark, SpanMark};

/// A thread publishes its pending figures to the process tally at every this many allocations (the
/// allocation that finds its count a multiple of it: a mask of the count already in a register,
/// no load of the count last published), so never more than this many go unpublished... (a power
/// of two)
const PUBLISH_BLOCKS: u64 = 1024;
/// ...or as soon as its live bytes moved by this much since it last published. This bounds the
/// process peak's error: at most `PUBLISH_BYTES` per thread alive at the time (see
/// `process_stats`).
const PUBLISH_BYTES: u64 = 64 * 1024;
/// The live bytes stay unpublished while `rel`, the live bytes less `band_lo` (unsigned), is below
/// this: within `PUBLISH_BYTES - 1` either side of the figure last published. One comparison on
/// the hot path.
const BAND: u64 = 2 * PUBLISH_BYTES - 1;
/// How far below the live bytes the band's low end is moved for a thread that never published,
/// again while its counting is paused, and again once its exit hook has run: so far (live bytes
/// stay within ±2^61 on any machine, and twice this wraps to the far side, still away) that every
/// operation is out of the band and takes the slow path, which publishes (registering the thread,
/// or because nothing will publish after the exit hook) or, paused, lets the operation through
/// uncounted.
const OUT_OF_BAND: i64 = 1 << 62;
/// Under `sampled`, the most bytes a thread allocates between two looks at the running session
/// ([`Tally::sample`]), besides the look at each batch: a countdown armed for no session, or for
/// a session with a gap longer than this, stops here (a look-out, not a sample point). So a block
/// of at least this size, on a thread idle since before the session began (a pool's worker), is
/// at a sample point as on any other thread though no batch armed the countdown, and a thread
/// armed for an earlier session (its gaps drawn at that session's interval, 1 GiB perhaps) takes
/// up the new one within this many bytes.
#[cfg(feature = "sampled")]
const IDLE_GAP: i64 = PUBLISH_BYTES as i64;
/// `pub_curr_bytes` of a thread that never published: how its first publication is recognised.
const NEVER_PUBLISHED: i64 = i64::MIN;

/// How many threads at once have a band of their own that exact mode can reach (32 KiB of slots,
/// zeros until used). A thread beyond them takes the slow path on every operation: exact, slower.
const BAND_SLOTS: usize = 4096;

/// Every registered thread's band, which exact mode sets (see [`band`]).
static BANDS: band::Bands<BAND_SLOTS> = band::Bands::new();

/// The band a thread's tally holds now: [`BAND`], or 0 while exact mode is on, so that every
/// operation is out of it.
fn band_in_force() -> u64 {
    if process::exact() {
        0
    } else {
        BAND
    }
}

/// After a fork, in the child (see [`crate::fork`]), where only the forking thread lives on, with
/// `own_spans` whole-process spans open. Exact mode stays on for those alone (the other threads'
/// will never end). The span slots and the slots in [`BANDS`] of the threads the child has not got
/// are freed (their memory, tallies with it, may be unmapped and reused there, so no walk may
/// write to it). The thread writes its own band again (a walker of the parent may have held it at
/// the fork). Touches atomics and this thread's own tally only: no lock, no allocation.
#[cfg(unix)]
pub(crate) fn in_child(own_spans: usize) {
    let own = TALLY
        .try_with(|t| {
            process::in_child(own_spans, Some(&t.span_totals));
            if t.band_slot.get() == NO_SLOT {
                return 0;
            }
            t.band.store(band_in_force(), Relaxed);
            &t.band as *const AtomicU64 as usize
        })
        .unwrap_or_else(|_| {
            process::in_child(own_spans, None);
            0
        });
    pending::in_child();
    BANDS.keep_only(own, |band| {
        // SAFETY: `band` was a registered tally's band, whose provenance its registration
        // exposed; its thread is not in the child, but its memory is still the copy of the
        // parent's (this runs right after the fork, before anything can unmap it), and no
        // other thread exists to write it.
        let gone = unsafe { pending::tally_at(band) };
        pending::left_by_fork(gone);
    });
}

/// Whether exact mode is on.
#[cfg(test)]
pub(crate) fn exact_mode() -> bool {
    process::exact()
}

/// One thread's figures since it started. Signed live figures: a thread may free blocks that
/// other threads allocated. Its cells are private to this module and its children; only its own
/// thread writes them, but for its band (exact mode's walk), and the figures a reader of the
/// process's figures needs are atomics ([`Word`], [`SignedWord`]) that reader loads from another
/// thread ([`pending`]).
///
/// The live bytes are not a cell: they are `band_lo + rel`, the band's low end and the offset
/// from it, so that the fast path's band check is one comparison of `rel`; the peak is kept the
/// same way. The live blocks are `total_blocks - gone_blocks`, so that an allocation updates one
/// block count, not two. Laid out in order, on a cache line of its own: the cells the fast path
/// touches (six, and the sample countdown under `sampled`) come first, within the line's 64
/// bytes, the two a free updates (`rel`, `gone_blocks`) not side by side.
#[repr(C, align(64))]
struct Tally {
    /// The live bytes less `band_lo` (wrapping): in the band while below `band`.
    rel: Word,
    total_bytes: Word,
    total_blocks: Word,
    /// Blocks freed, and blocks replaced by a reallocation (which counts one new block).
    gone_blocks: Word,
    /// The peak of the live bytes since the innermost open mark began (or the thread started),
    /// less `band_lo`, and the live blocks at that peak (the latest of equal peaks, as dhat
    /// does). Only [`mark`] lowers it.
    peak_rel: Cell<u64>,
    peak_blocks: Cell<i64>,
    /// Bytes to the next sample point; while the countdown is not armed for a running sampled
    /// session, bytes to the next look for one ([`IDLE_GAP`]; 0 on a new thread, whose first
    /// allocation looks).
    #[cfg(feature = "sampled")]
    countdown: Cell<i64>,
    /// The band's width: [`BAND`], or 0 (every operation out of it) while exact mode is on and
    /// before the thread is registered in [`BANDS`] (for good if no slot was free). The only cell
    /// another thread writes: exact mode's walk ([`band`]).
    band: AtomicU64,
    /// The low end of the band within which live bytes may move unpublished: the live bytes last
    /// published, less `PUBLISH_BYTES - 1`; [`OUT_OF_BAND`] below the live bytes before the first
    /// publication, and moved that much lower again while counting is paused. Only
    /// [`Tally::move_band`] changes it.
    band_lo: SignedWord,
    /// Set while this thread is inside the inner allocator (its own allocations, as dhat's
    /// backtraces, are not counted twice) or in the kit's own bookkeeping ([`uncounted`]).
    busy: Cell<bool>,
    /// Figures already handed to the process tally.
    pub_total_bytes: Word,
    pub_total_blocks: Word,
    /// [`NEVER_PUBLISHED`] before the thread's first publication.
    pub_curr_bytes: SignedWord,
    pub_curr_blocks: SignedWord,
    /// This thread's birth stamp, taken when it was first counted (`process::epoch`): the span
    /// epoch then, and whether a whole-process span was open.
    born: Cell<u64>,
    /// Set on the thread that runs the outermost `measure_all`.
    measuring: Cell<bool>,
    /// This thread's slot in [`BANDS`], freed by its exit hook ([`NO_SLOT`]: none).
    band_slot: Cell<usize>,
    /// The sampled session the countdown is armed for (0: none).
    #[cfg(feature = "sampled")]
    armed: Cell<u64>,
    /// Whether the countdown ends at a look-out ([`IDLE_GAP`] bytes on) rather than at the sample
    /// point its gap drew.
    #[cfg(feature = "sampled")]
    look_out: Cell<bool>,
    /// The state of this thread's random gaps.
    #[cfg(feature = "sampled")]
    rng: Cell<u64>,
    /// Where this thread's totals go in exact mode (see [`process`]).
    span_totals: Cell<process::SpanTotals>,
    /// Set when the thread's exit hook has run: what it does after (other destructors) is
    /// published at once, since nothing will publish it later.
    exited: Cell<bool>,
    /// Odd while the band moves or a batch is published (see [`pending`]).
    moves: Moves,
    /// The live bytes and blocks a profiling session's beginning found unpublished here, which
    /// its next batch carries (see [`process::SessionMark`]): written by the session's thread
    /// while it holds this thread's slot, taken by this thread's next batch.
    carry: [AtomicI64; 2],
}

// The cells the fast path touches are within the tally's first cache line.
const _: () = assert!(std::mem::offset_of!(Tally, peak_blocks) + 8 <= 64);
#[cfg(feature = "sampled")]
const _: () = assert!(std::mem::offset_of!(Tally, countdown) + 8 <= 64);
const _: () = assert!(std::mem::offset_of!(Tally, band) + 8 <= 64);

/// `band_slot` of a thread with no slot in [`BANDS`].
const NO_SLOT: usize = usize::MAX;

/// One operation, as the tally counts it.
#[derive(Clone, Copy)]
struct Op {
    /// Bytes and blocks added to the totals (a new block, or a reallocation's new block).
    total_bytes: u64,
    total_blocks: u64,
    /// The change of live bytes.
    bytes: i64,
    /// Blocks gone: a free's, or the block a reallocation replaced.
    gone_blocks: u64,
    /// Whether the live bytes may have reached a new peak: after an allocation or a
    /// reallocation, never after a free (dhat checks its peak on allocation only).
    may_peak: bool,
}

/// What an operation was, for the slow path to rebuild it from its figures.
#[derive(Clone, Copy)]
enum Kind {
    Alloc,
    Realloc,
    Free,
}

impl Op {
    /// The operation of kind `kind` on `size` bytes (a reallocation's new size) that moved the
    /// live bytes by `bytes` (read for a reallocation only).
    #[inline(always)]
    fn of(kind: Kind, size: usize, bytes: i64) -> Op {
        match kind {
            Kind::Alloc => Op::alloc(size),
            Kind::Realloc => Op::realloc(size, bytes),
            Kind::Free => Op::free(size),
        }
    }

    /// An allocation of `size` bytes.
    #[inline(always)]
    fn alloc(size: usize) -> Op {
        Op {
            total_bytes: size as u64,
            total_blocks: 1,
            bytes: size as i64,
            gone_blocks: 0,
            may_peak: true,
        }
    }

    /// A reallocation to `new` bytes that moved the live bytes by `bytes`.
    #[inline(always)]
    fn realloc(new: usize, bytes: i64) -> Op {
        Op {
            total_bytes: new as u64,
            total_blocks: 1,
            bytes,
            gone_blocks: 1,
            may_peak: true,
        }
    }

    /// The free of a block of `size` bytes.
    #[inline(always)]
    fn free(size: usize) -> Op {
        Op {
            total_bytes: 0,
            total_blocks: 0,
            bytes: (size as i64).wrapping_neg(),
            gone_blocks: 1,
            may_peak: false,
        }
    }
}

impl Tally {
    const fn new() -> Self {
        Tally {
            // A new thread's first operation takes the slow path, which publishes (and so
            // registers the thread's exit hook).
            // Live bytes and peak 0, the band's low end far below them.
            rel: Word::new(OUT_OF_BAND as u64),
            total_bytes: Word::new(0),
            total_blocks: Word::new(0),
            gone_blocks: Word::new(0),
            peak_rel: Cell::new(OUT_OF_BAND as u64),
            peak_blocks: Cell::new(0),
            #[cfg(feature = "sampled")]
            countdown: Cell::new(0),
            band: AtomicU64::new(0),
            band_lo: SignedWord::new(-OUT_OF_BAND),
            busy: Cell::new(false),
            pub_total_bytes: Word::new(0),
            pub_total_blocks: Word::new(0),
            pub_curr_bytes: SignedWord::new(NEVER_PUBLISHED),
            pub_curr_blocks: SignedWord::new(0),
            born: Cell::new(0),
            measuring: Cell::new(false),
            band_slot: Cell::new(NO_SLOT),
            #[cfg(feature = "sampled")]
            armed: Cell::new(0),
            #[cfg(feature = "sampled")]
            look_out: Cell::new(false),
            #[cfg(feature = "sampled")]
            rng: Cell::new(0),
            span_totals: Cell::new(process::SpanTotals::Unassigned),
            exited: Cell::new(false),
            moves: Moves::new(),
            carry: [AtomicI64::new(0), AtomicI64::new(0)],
        }
    }

    /// The live bytes.
    #[inline(always)]
    fn curr_bytes(&self) -> i64 {
        self.band_lo.get().wrapping_add(self.rel.get() as i64)
    }

    /// The live blocks.
    #[inline(always)]
    fn curr_blocks(&self) -> i64 {
        self.total_blocks.get().wrapping_sub(self.gone_blocks.get()) as i64
    }

    /// The peak (live bytes, blocks) since the innermost open mark began.
    #[cfg(test)]
    fn peak(&self) -> (i64, i64) {
        let bytes = self.band_lo.get().wrapping_add(self.peak_rel.get() as i64);
        (bytes, self.peak_blocks.get())
    }

    /// Sets the peak (for [`mark`], which lowers it at a mark's beginning and puts back the
    /// higher one at its end), given the band's low end `band_lo`, which the caller loaded.
    #[inline(always)]
    fn set_peak(&self, band_lo: i64, (bytes, blocks): (i64, i64)) {
        self.peak_rel.set(bytes.wrapping_sub(band_lo) as u64);
        self.peak_blocks.set(blocks);
    }

    /// Moves the band's low end to `band_lo`, the live bytes and the peak unchanged.
    fn move_band(&self, band_lo: i64) {
        self.moves.around(|| {
            let by = band_lo.wrapping_sub(self.band_lo.get()) as u64;
            self.band_lo.set(band_lo);
            self.rel.set(self.rel.get().wrapping_sub(by));
            self.peak_rel.set(self.peak_rel.get().wrapping_sub(by));
        });
    }

    /// Whether the batch is due by the count: the allocations so far, before this one, are a
    /// multiple of [`PUBLISH_BLOCKS`] (the count itself, tested before it is incremented, costs
    /// two instructions fewer than the count after it; the bound is the same).
    #[inline(always)]
    fn batch_due(blocks: u64) -> bool {
        blocks & (PUBLISH_BLOCKS - 1) == 0
    }

    /// Whether an offset `rel` from the band's low end is out of the band: the batch is due, or
    /// the thread never published (or is not registered), or its counting is paused, or exact
    /// mode is on. One comparison with a cell on the thread's own line.
    #[inline(always)]
    fn out_of_band(&self, rel: u64) -> bool {
        rel >= self.band.load(Relaxed)
    }

    /// Counts `op`: the fast path's work, and the slow path's. `rel` is the offset after it and
    /// `blocks` the total blocks before it, which the caller loaded for its own checks (a free,
    /// which adds no block and never peaks, passes anything). Each cell is loaded once, when it is
    /// needed, and a figure the operation leaves alone is not stored (the cells are atomics, which
    /// the compiler neither merges nor elides; see [`pending`]): a few plain moves on the
    /// thread's own line.
    #[inline(always)]
    fn count(&self, op: Op, rel: u64, blocks: u64) {
        let total_blocks = blocks.wrapping_add(op.total_blocks);
        if op.total_blocks != 0 {
            self.total_bytes
                .set(self.total_bytes.get().wrapping_add(op.total_bytes));
            self.total_blocks.set(total_blocks);
        }
        self.rel.set(rel);
        if op.gone_blocks != 0 {
            self.gone_blocks
                .set(self.gone_blocks.get().wrapping_add(op.gone_blocks));
        }
        // Signed: out of the band (on the slow path), a reallocation may have taken the live
        // bytes below the band's low end.
        if op.may_peak && rel as i64 >= self.peak_rel.get() as i64 {
            self.peak_rel.set(rel);
            // A plain load (this thread is the cell's only writer), which the compiler folds
            // into the subtraction.
            self.peak_blocks
                .set(total_blocks.wrapping_sub(self.gone_blocks.own()) as i64);
        }
    }

    /// A new block of `size` bytes at `ptr`.
    #[inline(always)]
    fn on_alloc(&self, ptr: *mut u8, size: usize) {
        self.on_new_block(Kind::Alloc, ptr, size, size as i64);
    }

    /// A reallocation from `old` bytes to a new block of `new` bytes at `ptr`: one new block in
    /// the totals, the live bytes moved by the difference.
    #[inline(always)]
    fn on_realloc(&self, ptr: *mut u8, old: usize, new: usize) {
        let bytes = (new as i64).wrapping_sub(old as i64);
        self.on_new_block(Kind::Realloc, ptr, new, bytes);
    }

    /// A new block of `size` bytes at `ptr`, from an operation of kind `kind` that moved the live
    /// bytes by `bytes`. A block at a sample point leaves the fast path whole
    /// ([`Tally::sample_then_count`]), so that each of the fast path's ways off it is its last
    /// step and the fast path keeps nothing across a call.
    #[inline(always)]
    fn on_new_block(&self, kind: Kind, ptr: *mut u8, size: usize, bytes: i64) {
        if self.sample_due(size) {
            self.sample_then_count(kind, ptr, size, bytes);
        } else {
            self.count_new_block(kind, size, bytes);
        }
    }

    /// Counts a new block of `size` bytes that moved the live bytes by `bytes`: on the fast path,
    /// or on the slow one when it leaves the band or the batch is due.
    #[inline(always)]
    fn count_new_block(&self, kind: Kind, size: usize, bytes: i64) {
        let blocks = self.total_blocks.get();
        let rel = self.rel.get().wrapping_add(bytes as u64);
        if Tally::batch_due(blocks) || self.out_of_band(rel) {
            self.slow(kind, size, bytes);
        } else {
            self.count(Op::of(kind, size, bytes), rel, blocks);
        }
    }

    /// The free of a block of `size` bytes.
    #[inline(always)]
    fn on_free(&self, size: usize) {
        if !self.try_free_fast(size) {
            self.slow(Kind::Free, size, 0);
        }
    }

    /// The free of a block of `size` bytes when it stays in the band (counted, `true`); `false`,
    /// uncounted, when it does not.
    #[inline(always)]
    fn try_free_fast(&self, size: usize) -> bool {
        let rel = self.rel.get().wrapping_sub(size as u64);
        if self.out_of_band(rel) {
            return false;
        }
        self.count(Op::free(size), rel, 0);
        true
    }

    /// An operation out of the band, or due by the count: while counting is paused it passes
    /// uncounted; otherwise it is counted, goes to the span tally in exact mode, and the thread
    /// publishes when the batch is due.
    /// The operation comes as its kind and figures, so that the fast path builds nothing in
    /// memory for it.
    #[cold]
    #[inline(never)]
    fn slow(&self, kind: Kind, size: usize, bytes: i64) {
        let op = Op::of(kind, size, bytes);
        if self.busy.get() {
            return;
        }
        let rel = self.rel.get().wrapping_add(op.bytes as u64);
        self.count(op, rel, self.total_blocks.get());
        if process::exact() {
            // The process tally is fed in batches as ever (a thread that never published is
            // always due, which registers it); a thread not in the table publishes every
            // operation, since no reader reads its tally.
            if self.due() || self.band_slot.get() == NO_SLOT {
                self.publish();
            }
            process::span_op(
                self,
                [op.total_bytes, op.total_blocks],
                [
                    op.bytes,
                    (op.total_blocks as i64).wrapping_sub(op.gone_blocks as i64),
                ],
            );
        } else {
            self.publish();
        }
    }

    /// Pauses this thread's counting: the band moves [`OUT_OF_BAND`] lower, so every operation is
    /// out of it and takes the slow path, which lets it through uncounted. Returns whether it was
    /// already paused, for [`Tally::resume`].
    fn pause(&self) -> bool {
        let was = self.busy.replace(true);
        if !was {
            self.move_band(self.band_lo.get().wrapping_sub(OUT_OF_BAND));
        }
        was
    }

    /// Ends the pause [`Tally::pause`] began, unless it was already paused then: the band moves
    /// back.
    fn resume(&self, was: bool) {
        if !was {
            self.move_band(self.band_lo.get().wrapping_add(OUT_OF_BAND));
            self.busy.set(false);
        }
    }

    /// Under `sampled`: one subtraction and one branch (taken about once per sample interval),
    /// whether the countdown crossed a sample point; never without `sampled`.
    #[inline(always)]
    fn sample_due(&self, size: usize) -> bool {
        #[cfg(feature = "sampled")]
        {
            let c = self.countdown.get().wrapping_sub(size as i64);
            self.countdown.set(c);
            c < 0
        }
        #[cfg(not(feature = "sampled"))]
        {
            let _ = size;
            false
        }
    }

    /// A new block at a sample point ([`Tally::on_new_block`]): sampled, then counted.
    #[cold]
    #[inline(never)]
    fn sample_then_count(&self, kind: Kind, ptr: *mut u8, size: usize, bytes: i64) {
        #[cfg(feature = "sampled")]
        self.sample(ptr, size);
        #[cfg(not(feature = "sampled"))]
        let _ = ptr;
        self.count_new_block(kind, size, bytes);
    }

    /// The countdown crossed a sample point: record the block (with this thread's counting
    /// paused, so that the sample set's own tables are not counted), then draw the next gap.
    /// A countdown not armed for the running session (none ran when it was armed, or another)
    /// is armed now, and this block, the first it sees, is at a sample point if the fresh gap
    /// ends within it: as likely as for any block (the gaps are memoryless), so that a large
    /// block is sampled whatever the thread did before.
    #[cfg(feature = "sampled")]
    #[cold]
    #[inline(never)]
    fn sample(&self, ptr: *mut u8, size: usize) {
        let session = crate::sample::session();
        if session == 0 || self.armed.get() != session {
            self.arm();
            if self.armed.get() == 0 || !self.sample_due(size) {
                return;
            }
        }
        if self.look_out.get() {
            // A look-out, not a sample point: the gaps are memoryless, so the bytes from here to
            // the next sample point are a fresh gap, and this block is at one if that gap ends
            // within the bytes it has past the look-out.
            let past = self.countdown.get().wrapping_neg();
            let gap = self.draw_gap();
            if gap >= past {
                self.set_countdown(gap - past);
                return;
            }
        }
        if self.busy.get() {
            // The kit's own work, uncounted (a region path's first entry, a span's list of the
            // process's threads), is not sampled either.
            self.next_gap();
            return;
        }
        let was = self.pause();
        crate::sample::on_sampled(ptr, size);
        self.resume(was);
        self.next_gap();
    }

    /// Arms the countdown for the running sampled session, or sets it to look for one again
    /// [`IDLE_GAP`] bytes later when none runs.
    #[cfg(feature = "sampled")]
    fn arm(&self) {
        let session = crate::sample::session();
        self.armed.set(session);
        if session == 0 {
            self.countdown.set(IDLE_GAP);
            self.look_out.set(true);
            return;
        }
        if self.rng.get() == 0 {
            // A different seed per thread: the tally's address, the thread's number among those
            // seeded, and the session's number.
            let seed = crate::sample::estimate::seed(
                self as *const Tally as u64,
                crate::sample::thread_number(),
                session,
            );
            self.rng.set(seed);
        }
        self.next_gap();
    }

    #[cfg(feature = "sampled")]
    fn next_gap(&self) {
        let gap = self.draw_gap();
        self.set_countdown(gap);
    }

    /// A fresh gap at the running session's interval.
    #[cfg(feature = "sampled")]
    fn draw_gap(&self) -> i64 {
        let mut rng = self.rng.get();
        let gap = crate::sample::estimate::gap(&mut rng, crate::sample::interval());
        self.rng.set(rng);
        gap
    }

    /// The countdown to a sample point `gap` bytes on, or to a look-out [`IDLE_GAP`] bytes on
    /// where the gap is longer.
    #[cfg(feature = "sampled")]
    fn set_countdown(&self, gap: i64) {
        self.look_out.set(gap > IDLE_GAP);
        self.countdown.set(gap.min(IDLE_GAP));
    }

    /// Whether the batch is due: what the fast path checks, with the band of normal mode.
    fn due(&self) -> bool {
        self.total_blocks
            .get()
            .wrapping_sub(self.pub_total_blocks.get())
            >= PUBLISH_BLOCKS
            || self.rel.get() >= BAND
    }

    /// Hands this thread's unpublished figures to the process tally, and centres its band on them:
    /// one batch, which a reader of this tally sees whole or not at all ([`pending`]).
    fn publish(&self) {
        self.moves.around(|| self.publish_batch());
    }

    fn publish_batch(&self) {
        let d_total_bytes = self
            .total_bytes
            .get()
            .wrapping_sub(self.pub_total_bytes.get());
        let d_total_blocks = self
            .total_blocks
            .get()
            .wrapping_sub(self.pub_total_blocks.get());
        let first = self.pub_curr_bytes.get() == NEVER_PUBLISHED;
        let pub_curr_bytes = if first { 0 } else { self.pub_curr_bytes.get() };
        let curr_blocks = self.curr_blocks();
        let curr_bytes = self.curr_bytes();
        let d_curr_bytes = curr_bytes.wrapping_sub(pub_curr_bytes);
        let d_curr_blocks = curr_blocks.wrapping_sub(self.pub_curr_blocks.get());
        if first {
            // The thread's first publication: make sure its figures are published at exit. The
            // registration may allocate (through this allocator), so counting is paused for it;
            // a first publication inside an uncounted section leaves that section paused.
            self.born.set(process::epoch());
            let was = self.pause();
            if EXIT.try_with(|_| ()).is_err() {
                // No exit hook to give a span slot back: exact mode's totals go to the shared
                // ones; nor to free a slot in `BANDS`: the band stays 0, every operation slow.
                self.span_totals.set(process::SpanTotals::Shared);
            } else {
                #[cfg(unix)]
                crate::fork::hook();
                // A reader of the process's figures reaches the whole tally from its band's
                // address in the table ([`pending`]).
                let _ = (self as *const Tally).expose_provenance();
                if let Some(slot) = BANDS.register(&self.band, band_in_force) {
                    self.band_slot.set(slot);
                }
            }
            self.resume(was);
        }
        self.pub_total_bytes.set(self.total_bytes.get());
        self.pub_total_blocks.set(self.total_blocks.get());
        self.pub_curr_bytes.set(curr_bytes);
        self.pub_curr_blocks.set(curr_blocks);
        // The band centred on the figures just published; moved away while paused, and once the
        // exit hook has run (so that every operation then publishes), by both when both hold.
        let band_lo = curr_bytes.wrapping_sub(PUBLISH_BYTES as i64 - 1);
        let away =
            OUT_OF_BAND.wrapping_mul(i64::from(self.busy.get()) + i64::from(self.exited.get()));
        self.move_band(band_lo.wrapping_sub(away));
        let batch = Figures {
            totals: [d_total_bytes, d_total_blocks],
            live: [d_curr_bytes, d_curr_blocks],
        };
        if self.band_slot.get() == NO_SLOT {
            // Not in the table, so no reader reads this tally: its figures go to theirs.
            LEFT.add(batch);
        }
        let carry = self.carry.each_ref().map(|c| {
            if c.load(Relaxed) == 0 {
                0
            } else {
                c.swap(0, Relaxed)
            }
        });
        let _raised = process::publish_batch(batch, carry);
        #[cfg(feature = "sampled")]
        {
            if _raised {
                crate::sample::on_new_peak();
            }
            if self.armed.get() != crate::sample::session() {
                self.arm();
            }
        }
    }
}

/// Hands the thread's last figures to the process tally when the thread ends. Registered on the
/// thread's first publication (its first counted operation), so the tally itself needs no
/// destructor and stays a plain, always-accessible thread-local on the hot path.
struct PublishAtExit;

impl Drop for PublishAtExit {
    fn drop(&mut self) {
        let _ = TALLY.try_with(|t| {
            t.exited.set(true);
            t.publish();
            process::give_back(&t.span_totals);
            // Before the thread's memory goes: no walk of exact mode writes its band after this,
            // and no reader reads its tally. (Past the exit hook, the band's low end keeps every
            // operation out of it anyway, and each is published, to the figures of the threads
            // not in the table.) Its figures join theirs as it leaves.
            let slot = t.band_slot.get();
            if slot != NO_SLOT {
                DEPARTURES.around(|| {
                    LEFT.add(Figures {
                        totals: [t.total_bytes.get(), t.total_blocks.get()],
                        live: [t.curr_bytes(), t.curr_blocks()],
                    });
                    BANDS.unregister(slot, &t.band);
                    t.band_slot.set(NO_SLOT);
                });
            }
        });
    }
}

thread_local! {
    // No destructor: the fastest kind of thread-local, valid until the thread is gone.
    static TALLY: Tally = const { Tally::new() };
    static EXIT: PublishAtExit = const { PublishAtExit };
}

/// Runs `f` on this thread's tally; `None` while the thread is being torn down.
#[inline]
fn with_tally<R>(f: impl FnOnce(&Tally) -> R) -> Option<R> {
    TALLY.try_with(f).ok()
}

/// Whether this thread was started (first counted) inside the whole-process span open now.
pub(crate) fn born_inside_open_span() -> bool {
    let born = with_tally(|t| t.born.get()).unwrap_or(0);
    born & 1 != 0 && born == process::epoch()
}

/// Publishes this thread's pending figures, so that the process tally includes them now.
pub(crate) fn publish() {
    let _ = with_tally(Tally::publish);
}

/// Arms (or disarms) this thread's sample countdown for the running sampled session now.
#[cfg(feature = "sampled")]
pub(crate) fn arm_sampling() {
    let _ = TALLY.try_with(Tally::arm);
}

/// Whether this thread's counting is paused: inside the kit's own bookkeeping ([`uncounted`]) or
/// inside the inner allocator (an allocator that may reenter). `false` while the thread is torn
/// down.
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
pub(crate) fn busy() -> bool {
    TALLY.try_with(|t| t.busy.get()).unwrap_or(false)
}

/// Runs `f` with this thread's counting paused: the kit's own bookkeeping (a region's first
/// registration, dhat's ad-hoc backtraces) never shows in the user's figures.
pub(crate) fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    /// Ends the pause, even if `f` unwinds, unless it was already paused.
    struct Resume(bool);
    impl Drop for Resume {
        fn drop(&mut self) {
            let _ = TALLY.try_with(|t| t.resume(self.0));
        }
    }
    let _resume = Resume(TALLY.try_with(Tally::pause).unwrap_or(true));
    f()
}

/// Whether the inner allocator `A` may allocate through the global allocator (that is, through
/// the counting allocator again) while it serves a call, as dhat's allocator does for its
/// backtraces. Only [`System`](std::alloc::System) is known not to; for it the reentrancy flag is
/// neither checked nor raised on the fast path (a pause sends every operation to the slow path,
/// which checks it), and [`free`] counts first and then hands over the call whole. The
/// comparison of two constants folds away at compile time.
#[inline(always)]
fn may_reenter<A: 'static>() -> bool {
    TypeId::of::<A>() != TypeId::of::<std::alloc::System>()
}

/// Runs the inner allocator's call, then counts its result with `count`; the tally out of reach
/// (where a platform's thread-locals can be destroyed), the call passes through uncounted. With
/// `reenters`, a call made from inside the inner allocator or from the kit's own bookkeeping
/// ([`uncounted`]) passes through uncounted, and the reentrancy flag is up during the call.
#[inline(always)]
fn counted<R>(reenters: bool, call: impl FnOnce() -> R, count: impl FnOnce(&Tally, &R)) -> R {
    match TALLY.try_with(|t| {
        if reenters {
            if t.busy.get() {
                return None;
            }
            t.busy.set(true);
        }
        Some(t as *const Tally)
    }) {
        Ok(Some(t)) => {
            let r = call();
            // SAFETY: `t` points at this thread's tally, which `try_with` just showed alive; the
            // inner allocator cannot end the thread, so it is still alive; only this thread
            // writes it (its `Cell`s and the atomics other threads may read, see `pending`),
            // through a shared reference.
            let t = unsafe { &*t };
            if reenters {
                t.busy.set(false);
            }
            count(t, &r);
            r
        }
        _ => call(),
    }
}

/// An allocation of `size` bytes by `call` (inner allocator `A`), counted when it succeeds.
#[inline(always)]
pub(crate) fn alloc<A: 'static>(size: usize, call: impl FnOnce() -> *mut u8) -> *mut u8 {
    counted(may_reenter::<A>(), call, |t, &p| {
        if !p.is_null() {
            t.on_alloc(p, size);
        }
    })
}

/// A reallocation of the block at `ptr` with `layout` to `new` bytes by `call` (given them
/// back, so that it captures nothing else and a cold path can take it whole), counted (as one new
/// block of `new` bytes, and the live bytes moved by the difference) when it succeeds. A block
/// that may be sampled leaves the fast path ([`realloc_sampled`]).
#[inline(always)]
pub(crate) fn realloc<A: 'static>(
    ptr: *mut u8,
    layout: Layout,
    new: usize,
    call: impl FnOnce(*mut u8, Layout, usize) -> *mut u8,
) -> *mut u8 {
    if may_be_sampled(ptr) {
        return realloc_sampled::<A>(ptr, layout, new, call);
    }
    realloc_counted::<A>(layout.size(), new, || call(ptr, layout, new))
}

/// The reallocation by `call` from `old` bytes to `new`, counted when it succeeds.
#[inline(always)]
fn realloc_counted<A: 'static>(old: usize, new: usize, call: impl FnOnce() -> *mut u8) -> *mut u8 {
    counted(may_reenter::<A>(), call, |t, &p| {
        if !p.is_null() {
            t.on_realloc(p, old, new);
        }
    })
}

/// A reallocation of a block that may be sampled: the block leaves the sample set first (once
/// the call returns, another thread may be given its old address), and comes back if the call
/// fails, since the block then stays as it was.
#[cold]
#[inline(never)]
fn realloc_sampled<A: 'static>(
    ptr: *mut u8,
    layout: Layout,
    new: usize,
    call: impl FnOnce(*mut u8, Layout, usize) -> *mut u8,
) -> *mut u8 {
    #[cfg(feature = "sampled")]
    {
        let taken = crate::sample::take(ptr);
        let p = realloc_counted::<A>(layout.size(), new, || call(ptr, layout, new));
        if let (true, Some(taken)) = (p.is_null(), taken) {
            crate::sample::put_back(taken);
        }
        p
    }
    #[cfg(not(feature = "sampled"))]
    realloc_counted::<A>(layout.size(), new, || call(ptr, layout, new))
}

/// The free of the block at `ptr` with `layout` by `call`. Over an allocator that never reenters,
/// the free is counted first, so the inner call is the last thing done: a tail call, from the fast
/// path and from its one way off it ([`free_slow`]), so that the fast path saves no register.
#[inline(always)]
pub(crate) fn free<A: 'static>(ptr: *mut u8, layout: Layout, call: impl FnOnce(*mut u8, Layout)) {
    let size = layout.size();
    if may_reenter::<A>() {
        sampled_free(ptr);
        counted(true, || call(ptr, layout), |t, ()| t.on_free(size));
    } else if !may_be_sampled(ptr) && TALLY.try_with(|t| t.try_free_fast(size)) == Ok(true) {
        // A free cannot fail: it is counted first.
        call(ptr, layout);
    } else {
        free_slow(ptr, layout, call);
    }
}

/// A free off the fast path (out of the band, perhaps a sampled block, or the tally out of reach):
/// the block leaves the sample set, the free is counted on the slow path, then the inner call.
#[cold]
#[inline(never)]
fn free_slow(ptr: *mut u8, layout: Layout, call: impl FnOnce(*mut u8, Layout)) {
    sampled_free(ptr);
    let _ = TALLY.try_with(|t| t.slow(Kind::Free, layout.size(), 0));
    call(ptr, layout);
}

/// Under `sampled`: a sampled block leaves the sample set before its address can be handed out
/// again (by a free or a reallocation).
#[inline(always)]
fn sampled_free(ptr: *mut u8) {
    #[cfg(feature = "sampled")]
    crate::sample::on_free(ptr);
    #[cfg(not(feature = "sampled"))]
    let _ = ptr;
}

/// Under `sampled`: whether the block at `ptr` may be a live sampled block, which takes a free off
/// the fast path; never without `sampled`.
#[inline(always)]
fn may_be_sampled(ptr: *mut u8) -> bool {
    #[cfg(feature = "sampled")]
    return crate::sample::may_be_sampled(ptr);
    #[cfg(not(feature = "sampled"))]
    {
        let _ = ptr;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One operation of a random stream: an allocation, a reallocation from an old size to a new
    /// one, or a free.
    #[derive(Clone, Copy, Debug)]
    enum TestOp {
        Alloc(usize),
        Realloc(usize, usize),
        Free(usize),
    }

    fn test_op() -> impl Strategy<Value = TestOp> {
        // Mostly small sizes, some large enough to leave the band at once.
        let size = prop_oneof![8 => 1usize..512, 1 => 1usize..200_000];
        prop_oneof![
            (size.clone()).prop_map(TestOp::Alloc),
            (size.clone(), size.clone()).prop_map(|(o, n)| TestOp::Realloc(o, n)),
            size.prop_map(TestOp::Free),
        ]
    }

    /// Streams of up to `n` random operations.
    fn ops(n: usize) -> impl Strategy<Value = Vec<TestOp>> {
        proptest::collection::vec(test_op(), 0..n)
    }

    /// The figures a tally must hold after `ops`: totals, live bytes and blocks, and the peak of
    /// the live bytes with the blocks at it (the latest of equal peaks).
    fn model(ops: &[TestOp]) -> [i64; 6] {
        let [mut tb, mut tn, mut cb, mut cn, mut pb, mut pn] = [0i64; 6];
        for op in ops {
            match *op {
                TestOp::Alloc(s) => {
                    tb += s as i64;
                    tn += 1;
                    cb += s as i64;
                    cn += 1;
                }
                TestOp::Realloc(o, n) => {
                    tb += n as i64;
                    tn += 1;
                    cb += n as i64 - o as i64;
                }
                TestOp::Free(s) => {
                    cb -= s as i64;
                    cn -= 1;
                    continue;
                }
            }
            if cb >= pb {
                pb = cb;
                pn = cn;
            }
        }
        [tb, tn, cb, cn, pb, pn]
    }

    fn figures(t: &Tally) -> [i64; 6] {
        [
            t.total_bytes.get() as i64,
            t.total_blocks.get() as i64,
            t.curr_bytes(),
            t.curr_blocks(),
            t.peak().0,
            t.peak().1,
        ]
    }

    fn apply(t: &Tally, op: TestOp) {
        let p = std::ptr::null_mut();
        match op {
            TestOp::Alloc(s) => t.on_alloc(p, s),
            TestOp::Realloc(o, n) => t.on_realloc(p, o, n),
            TestOp::Free(s) => t.on_free(s),
        }
    }

    /// Runs `f` on the tally of a thread of its own (fresh: it has never published).
    fn on_new_thread<R: Send + 'static>(f: impl FnOnce(&Tally) -> R + Send + 'static) -> R {
        std::thread::spawn(move || with_tally(f).unwrap())
            .join()
            .unwrap()
    }

    /// Runs `ops` on a fresh thread's tally; its figures at the end, or the first operation after
    /// which the batch was late: more than 1,024 allocations or 64 KiB of live bytes unpublished.
    fn run_checked(ops: Vec<TestOp>) -> Result<[i64; 6], String> {
        on_new_thread(move |t| {
            for (i, op) in ops.iter().enumerate() {
                apply(t, *op);
                let unpublished = t.total_blocks.get() - t.pub_total_blocks.get();
                let drift = t.curr_bytes() - t.pub_curr_bytes.get();
                if unpublished > PUBLISH_BLOCKS || drift.unsigned_abs() >= PUBLISH_BYTES {
                    return Err(format!(
                        "after op {i}: {unpublished} allocations, {drift} live bytes unpublished"
                    ));
                }
            }
            Ok(figures(t))
        })
    }

    /// A steady stream: small blocks allocated and freed at once, or reallocated to their own
    /// size, so that the live bytes stay within the band and only the count makes the batch due.
    fn steady_ops() -> impl Strategy<Value = Vec<TestOp>> {
        let step = prop_oneof![
            3 => (1usize..256).prop_map(|s| vec![TestOp::Alloc(s), TestOp::Free(s)]),
            1 => (1usize..256).prop_map(|s| vec![TestOp::Realloc(s, s)]),
        ];
        proptest::collection::vec(step, 0..4000).prop_map(|steps| steps.concat())
    }

    proptest! {
        /// Whatever the stream, the fast and slow paths together count every operation exactly,
        /// and the batch is never late: at most 1,024 allocations and less than 64 KiB of live
        /// bytes unpublished after any operation.
        #[test]
        fn every_operation_is_counted_and_the_batch_is_never_late(
            ops in ops(3000)
        ) {
            prop_assert_eq!(run_checked(ops.clone()), Ok(model(&ops)));
        }

        /// Where the live bytes never leave the band, the count alone publishes the batch, and
        /// on time.
        #[test]
        fn a_steady_stream_is_published_by_the_count(ops in steady_ops()) {
            prop_assert_eq!(run_checked(ops.clone()), Ok(model(&ops)));
        }

        /// While counting is paused, operations pass uncounted (over `System`, by the band
        /// alone); afterwards counting goes on with the band it had.
        #[test]
        fn a_paused_thread_counts_nothing_and_resumes_with_its_band(
            before in ops(200),
            paused in ops(200),
            after in ops(200),
        ) {
            let (b, p, a) = (before.clone(), paused.clone(), after.clone());
            let result = on_new_thread(move |t| {
                b.iter().for_each(|op| apply(t, *op));
                let band = t.band_lo.get();
                uncounted(|| p.iter().for_each(|op| apply(t, *op)));
                let resumed = t.band_lo.get();
                a.iter().for_each(|op| apply(t, *op));
                (band, resumed, figures(t))
            });
            prop_assert_eq!(result.0, result.1, "the band changed across the pause");
            let counted: Vec<TestOp> = before.iter().chain(&after).copied().collect();
            prop_assert_eq!(result.2, model(&counted));
        }

        /// Once the exit hook has run, every operation is published as it happens (nothing
        /// would publish it later), paused sections still count nothing, and the figures stay
        /// exact.
        #[test]
        fn after_the_exit_hook_every_operation_is_published(
            before in ops(200),
            after in ops(200),
            paused in ops(50),
        ) {
            let (b, a, p) = (before.clone(), after.clone(), paused.clone());
            let result = on_new_thread(move |t| {
                b.iter().for_each(|op| apply(t, *op));
                t.exited.set(true);
                t.publish();
                let published = |t: &Tally| {
                    (t.pub_total_bytes.get(), t.pub_total_blocks.get(), t.pub_curr_bytes.get())
                        == (t.total_bytes.get(), t.total_blocks.get(), t.curr_bytes())
                };
                for (i, op) in a.iter().enumerate() {
                    if i == a.len() / 2 {
                        uncounted(|| p.iter().for_each(|op| apply(t, *op)));
                    }
                    apply(t, *op);
                    if !published(t) {
                        return Err(format!("op {i} ({op:?}) left unpublished"));
                    }
                }
                Ok(figures(t))
            });
            let counted: Vec<TestOp> = before.iter().chain(&after).copied().collect();
            prop_assert_eq!(result, Ok(model(&counted)));
        }
    }

    proptest! {
        /// A thread with no slot in `BANDS` keeps a band of width 0: every operation takes the
        /// slow path and is published as it happens, and the figures stay exact.
        #[test]
        fn a_thread_without_a_band_slot_publishes_every_operation(
            before in ops(100),
            after in ops(300),
        ) {
            let (b, a) = (before.clone(), after.clone());
            let result = on_new_thread(move |t| {
                t.publish();
                b.iter().for_each(|op| apply(t, *op));
                // As if the table had been full at the thread's first publication.
                let slot = t.band_slot.replace(NO_SLOT);
                assert_ne!(slot, NO_SLOT, "the thread was registered");
                BANDS.unregister(slot, &t.band);
                t.band.store(0, Relaxed);
                for (i, op) in a.iter().enumerate() {
                    apply(t, *op);
                    let published = (t.pub_total_blocks.get(), t.pub_curr_bytes.get())
                        == (t.total_blocks.get(), t.curr_bytes());
                    if !published {
                        return Err(format!("op {i} ({op:?}) left unpublished"));
                    }
                }
                Ok(figures(t))
            });
            let counted: Vec<TestOp> = before.iter().chain(&after).copied().collect();
            prop_assert_eq!(result, Ok(model(&counted)));
        }
    }

    #[test]
    fn a_registered_thread_holds_the_band_of_the_mode_in_force() {
        std::thread::spawn(|| {
            publish();
            let band = || with_tally(|t| (t.band_slot.get(), t.band.load(Relaxed))).unwrap();
            let (slot, width) = band();
            assert_ne!(slot, NO_SLOT, "the first publication registers the thread");
            // Exact mode may be on now (another test's `measure_all`): either band is right,
            // as long as it is the one in force.
            assert_eq!(width, band_in_force());
            assert!(width == BAND || width == 0);
        })
        .join()
        .unwrap();
    }

    /// A forked child keeps no slot of the threads it has not got (a walk there would write to
    /// their memory, which the child may unmap), and its own.
    #[cfg(unix)]
    #[test]
    fn a_forked_child_keeps_only_its_own_band_slot() {
        let registered = || {
            publish();
            let band = with_tally(|t| &t.band as *const AtomicU64 as usize).unwrap();
            (band, ())
        };
        let child = crate::fork::tests::while_another_thread_holds(registered, |other_band| {
            publish();
            let own = with_tally(|t| (t.band_slot.get(), &t.band as *const AtomicU64 as usize));
            let (own_slot, own_band) = own.unwrap();
            assert_ne!(own_slot, NO_SLOT);
            use std::sync::atomic::Ordering::SeqCst;
            let slots = || BANDS.slots().map(|s| s.load(SeqCst));
            assert!(
                slots().any(|v| v & !band::BUSY == other_band),
                "the other thread is registered"
            );
            // No claim left in the child either: no walker of the parent's is there to end it.
            crate::fork::tests::in_a_child(|| {
                slots().all(|v| v == 0 || v == own_band) && slots().nth(own_slot) == Some(own_band)
            })
        });
        if let Err(e) = child {
            panic!("the child kept a slot of a thread it has not got: {e}");
        }
    }

    #[test]
    fn a_first_publication_inside_an_uncounted_section_keeps_it_uncounted() {
        // A new thread: its tally has never been published.
        std::thread::spawn(|| {
            uncounted(|| {
                publish();
                assert_eq!(
                    with_tally(|t| t.busy.get()),
                    Some(true),
                    "the publication ended the uncounted section"
                );
            });
            assert_eq!(with_tally(|t| t.busy.get()), Some(false));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_thread_is_registered_by_its_first_publication_only() {
        std::thread::spawn(|| {
            assert_eq!(
                with_tally(|t| t.pub_curr_bytes.get()),
                Some(NEVER_PUBLISHED),
                "a new thread has not published"
            );
            assert!(with_tally(Tally::due).unwrap(), "a new thread is due");
            publish();
            assert_ne!(
                with_tally(|t| t.pub_curr_bytes.get()),
                Some(NEVER_PUBLISHED)
            );
            assert!(
                !with_tally(Tally::due).unwrap(),
                "nothing is due after publishing"
            );
        })
        .join()
        .unwrap();
    }
}
