//! The process-wide tallies: the process tally, fed by the threads' batches, and the span tally,
//! fed by every operation while exact mode is on (a [`measure_all`](crate::measure_all) is open).
//!
//! In exact mode the span's live figures and peak are shared (the peak is of the whole process's
//! live bytes, at each operation), but its totals are kept per thread: each thread that works in
//! exact mode takes a [`Slot`] of its own, adds its totals there with plain loads and stores, and
//! gives it back when it ends; a span reads the sum of every slot. So an allocation makes two
//! locked additions to the shared line, not four. A thread that finds no slot free, or works
//! after its exit hook ran (another thread-local's destructor), adds to the shared totals.
//!
//! A span's beginning and end read the totals and the live figures, and set the peak, as one
//! step ([`frozen`]): while other threads keep working (a pool started in an outer span), an
//! operation made meanwhile falls wholly before that step or wholly after it. Each operation
//! marks itself in progress on its slot's line (a plain store) and waits while a step is taken;
//! the step waits for the operations in progress to end. The fence each side needs between its
//! write and its read is asymmetric where the system offers it ([`fence`]): the step pays it.

use super::mark::{Mark, ThreadFigures};
use super::{band_in_force, fence, pending, with_tally, Tally, BANDS};
use crate::stats::Stats;
use std::cell::Cell;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};

/// How many exact spans are open (nested ones included); exact mode is on while this is not zero.
static EXACT: AtomicUsize = AtomicUsize::new(0);
/// The number of the outermost exact span now open (or last opened): a thread first counted during
/// it was started inside it.
static EPOCH: AtomicU64 = AtomicU64::new(0);

static PROCESS: Process = Process::new();

static SPAN: Span = Span {
    tally: Process::new(),
    foreign_ops: AtomicU64::new(0),
    left_behind_ops: AtomicU64::new(0),
};

/// Whether exact mode is on.
pub(super) fn exact() -> bool {
    EXACT.load(SeqCst) != 0
}

/// After a fork, in the child (see [`super::in_child`]): only the forking thread's `own_spans`
/// are open, and only its span slot (`state`) is taken; the others' are free again, their totals
/// kept (a span reads only differences). No operation is in progress (the forking thread is in
/// `fork`, and the others are gone) and no step is being taken (only a span's own thread takes
/// one, and a thread taking one is not forking): a mark or a step the fork caught on another
/// thread is cleared.
#[cfg(unix)]
pub(super) fn in_child(own_spans: usize, state: Option<&Cell<SpanTotals>>) {
    EXACT.store(own_spans, SeqCst);
    let own = state.and_then(|s| match s.get() {
        SpanTotals::Own(slot) => Some(slot as *const Slot),
        _ => None,
    });
    for slot in &SLOT_TABLE {
        slot.busy.store(false, SeqCst);
        if own != Some(slot as *const Slot) {
            slot.taken.store(false, SeqCst);
        }
    }
    SHARED_BUSY.store(0, SeqCst);
    FROZEN.store(false, SeqCst);
    fence::in_child();
}

/// A new thread's birth stamp ([`Tally::born`]): the current span epoch, shifted left by one, its
/// low bit set when exact mode is on (the thread was started inside a whole-process span, or
/// first counted there). A thread born inside an earlier span that works in a later one outlived
/// the span that started it: a pool that outlives its test.
pub(super) fn epoch() -> u64 {
    let inside = u64::from(exact());
    (EPOCH.load(Relaxed) << 1) | inside
}

/// How many operations in exact mode, since the process started, threads born inside an earlier
/// span than the one they worked in made ([`epoch`]): a span's difference of it counts what a
/// pool left by an earlier span did in it.
pub(crate) fn left_behind_ops() -> u64 {
    SPAN.left_behind_ops.load(SeqCst)
}

/// One operation in exact mode (its totals and its change of live figures) by the thread of
/// tally `t`, made while no span's step is being taken ([`frozen`]).
pub(super) fn span_op(t: &Tally, totals: [u64; 2], live: [i64; 2]) {
    let slot = slot_of(&t.span_totals);
    let _in_progress = InProgress::begin(slot);
    match slot {
        Some(slot) => slot.add(totals),
        None => SPAN.tally.add_totals(totals),
    }
    SPAN.tally.add_live_figures(live);
    let born = t.born.get();
    if born >> 1 != EPOCH.load(Relaxed) && !t.measuring.get() {
        SPAN.foreign_ops.fetch_add(1, Relaxed);
        if born & 1 != 0 {
            SPAN.left_behind_ops.fetch_add(1, Relaxed);
        }
    }
}

/// Whether a span's step is being taken ([`frozen`]): operations wait until it is over.
static FROZEN: AtomicBool = AtomicBool::new(false);

/// Operations in progress by threads without a slot of their own.
static SHARED_BUSY: AtomicUsize = AtomicUsize::new(0);

/// An operation in progress in exact mode, marked on its thread's slot (or counted in
/// [`SHARED_BUSY`]) until it drops. Marking, a fence ([`fence::light`]), then reading [`FROZEN`]
/// pairs with [`frozen`]'s setting it, a fence ([`fence::heavy`]), then reading the marks: of an
/// operation and a step, at least one sees the other, so none runs inside a step. (The shared
/// count's addition and the reads of it are sequentially consistent, a fence of their own.)
#[must_use = "an operation is in progress while this is held"]
struct InProgress(Option<&'static Slot>);

impl InProgress {
    /// Marks the operation in progress, first waiting for a step being taken to end.
    fn begin(slot: Option<&'static Slot>) -> InProgress {
        loop {
            match slot {
                Some(slot) => {
                    slot.busy.store(true, Relaxed);
                    fence::light();
                }
                None => {
                    SHARED_BUSY.fetch_add(1, SeqCst);
                }
            }
            // Sequentially consistent for the shared count; an acquire at least, so that what the
            // step wrote (the peak it set) is seen by an operation after it.
            if !FROZEN.load(SeqCst) {
                return InProgress(slot);
            }
            drop(InProgress(slot));
            wait_while(|| FROZEN.load(Relaxed));
        }
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        match self.0 {
            Some(slot) => slot.busy.store(false, Release),
            None => {
                SHARED_BUSY.fetch_sub(1, Release);
            }
        }
    }
}

/// Spins while `busy` holds, yielding the processor after a while (the thread it waits for may
/// not be running). Allocates nothing.
fn wait_while(busy: impl Fn() -> bool) {
    let mut spins = 0u32;
    while busy() {
        if spins < 128 {
            spins += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Runs `step` (a span's beginning or end: reading the span tally, setting its peak) with no
/// exact-mode operation in progress on any thread: operations that began before it have ended,
/// and the others wait until it is over. `step` must not allocate.
fn frozen<R>(step: impl FnOnce() -> R) -> R {
    FROZEN.store(true, SeqCst);
    fence::heavy();
    for slot in &SLOT_TABLE {
        wait_while(|| slot.busy.load(SeqCst));
    }
    wait_while(|| SHARED_BUSY.load(SeqCst) != 0);
    let r = step();
    FROZEN.store(false, Release);
    r
}

/// How many threads at once keep their span totals in a slot of their own (32 KiB in all, zeros
/// until used).
const SLOTS: usize = 256;

/// One thread's span totals: written only by the thread that holds the slot (a load and a store,
/// no locked instruction), read by any. A slot given back keeps its totals, and the next thread
/// to take it adds to them: a span reads only their differences. Two cache lines each, since
/// processors fetch lines in pairs: two threads' slots never share one.
#[repr(align(128))]
pub(super) struct Slot {
    taken: AtomicBool,
    /// An operation of the slot's thread is in progress ([`InProgress`]).
    busy: AtomicBool,
    total_bytes: AtomicU64,
    total_blocks: AtomicU64,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            taken: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            total_bytes: AtomicU64::new(0),
            total_blocks: AtomicU64::new(0),
        }
    }

    /// Adds an operation's totals (only the slot's thread calls this).
    fn add(&self, [bytes, blocks]: [u64; 2]) {
        for (figure, by) in [(&self.total_bytes, bytes), (&self.total_blocks, blocks)] {
            figure.store(figure.load(Relaxed).wrapping_add(by), Relaxed);
        }
    }
}

static SLOT_TABLE: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// Where a thread's span totals go.
#[derive(Clone, Copy)]
pub(super) enum SpanTotals {
    /// No exact-mode operation yet: a slot is taken at the first.
    Unassigned,
    /// The thread's own slot, until its exit hook gives it back.
    Own(&'static Slot),
    /// The shared totals: no slot was free, the thread's exit hook has run, or none could be
    /// registered (a thread first counted while it was being torn down).
    Shared,
}

/// The thread's slot, taking a free one at its first exact-mode operation.
fn slot_of(state: &Cell<SpanTotals>) -> Option<&'static Slot> {
    match state.get() {
        SpanTotals::Own(slot) => Some(slot),
        SpanTotals::Shared => None,
        SpanTotals::Unassigned => {
            let slot = SLOT_TABLE.iter().find(|s| {
                !s.taken.load(Relaxed)
                    && s.taken
                        .compare_exchange(false, true, Acquire, Relaxed)
                        .is_ok()
            });
            state.set(slot.map_or(SpanTotals::Shared, SpanTotals::Own));
            slot
        }
    }
}

/// Gives the thread's slot back (its exit hook): what it does from now on goes to the shared
/// totals. The release hands the slot's totals to the next thread that takes it.
pub(super) fn give_back(state: &Cell<SpanTotals>) {
    if let SpanTotals::Own(slot) = state.replace(SpanTotals::Shared) {
        slot.taken.store(false, Release);
    }
}

/// The span tally's totals (the shared ones and every slot's) and its live figures.
fn span_counts() -> Counts {
    let mut counts = SPAN.tally.read();
    for slot in &SLOT_TABLE {
        counts.totals[0] = counts.totals[0].wrapping_add(slot.total_bytes.load(SeqCst));
        counts.totals[1] = counts.totals[1].wrapping_add(slot.total_blocks.load(SeqCst));
    }
    counts
}

/// The low bits of a word that holds live bytes and blocks together ([`Process::live`],
/// [`Peak`]): the blocks modulo 2^20; the bytes are the rest, 44 bits (live bytes within
/// ±8 TiB).
const BLOCK_BITS: u32 = 20;
const BLOCK_MASK: u64 = (1 << BLOCK_BITS) - 1;

/// The change `(bytes, blocks)` as an addend of a packed word: `bytes << BLOCK_BITS` plus
/// `blocks`, wrapping.
fn packed_change(bytes: i64, blocks: i64) -> u64 {
    (bytes as u64)
        .wrapping_shl(BLOCK_BITS)
        .wrapping_add(blocks as u64)
}

/// The live bytes and blocks of a packed `word`, given `near`, within 2^19 of its blocks (a
/// blocks counter a few operations apart from the word): the blocks are the value of the word's
/// low bits nearest to `near`, and the bytes what is left without them.
fn unpack(word: u64, near: i64) -> (i64, i64) {
    let span = 1i64 << BLOCK_BITS;
    let mut off = ((word & BLOCK_MASK) as i64 - near).rem_euclid(span);
    if off >= span / 2 {
        off -= span;
    }
    let blocks = near.wrapping_add(off);
    let bytes = (word.wrapping_sub(blocks as u64) as i64) >> BLOCK_BITS;
    (bytes, blocks)
}

/// A tally shared by threads: totals, live figures and the peak of live bytes (with the live
/// blocks at that peak). On its own cache line(s).
///
/// The live bytes and blocks change together in one word ([`live`](Self::live)), so that every
/// value it takes is a pair that was: a thread that meets the peak reads the blocks live at the
/// same instant as the bytes (with two counters, it read 2,000 bytes in 1 block when two threads
/// each held a 1,000-byte block). The blocks counter beside it gives the blocks' high bits.
#[repr(align(128))]
pub(super) struct Process {
    total_bytes: AtomicU64,
    total_blocks: AtomicU64,
    /// The live bytes and blocks, packed ([`packed_change`]).
    live: AtomicU64,
    /// The live blocks, whole: within a few operations of the word's.
    curr_blocks: AtomicI64,
    max: Peak,
}

impl Process {
    const fn new() -> Process {
        Process {
            total_bytes: AtomicU64::new(0),
            total_blocks: AtomicU64::new(0),
            live: AtomicU64::new(0),
            curr_blocks: AtomicI64::new(0),
            max: Peak::new(0),
        }
    }

    /// Adds a batch (total bytes and blocks; change of live bytes and blocks); returns the live
    /// figures after it when it did not lower the live bytes (when it may have met a peak).
    ///
    /// In exact mode this runs on every operation, so it skips the read-modify-writes it can (each
    /// a locked instruction, and a contended cache line when threads run at once): the additions
    /// of zero (a free's totals, a same-size reallocation's live figures) and the peak's update
    /// when a plain load shows the live bytes below it. The peak only rises between the spans'
    /// beginnings, so a value read higher than these live bytes stays higher.
    pub(super) fn add(&self, totals: [u64; 2], live: [i64; 2]) -> Option<(i64, i64)> {
        self.add_totals(totals);
        self.add_live_figures(live)
    }

    /// Adds to the totals (bytes, blocks).
    fn add_totals(&self, [total_bytes, total_blocks]: [u64; 2]) {
        if total_bytes != 0 {
            self.total_bytes.fetch_add(total_bytes, Relaxed);
        }
        if total_blocks != 0 {
            self.total_blocks.fetch_add(total_blocks, Relaxed);
        }
    }

    /// Adds a change of the live bytes and blocks, and raises the peak; returns the live figures
    /// after it when it did not lower the live bytes.
    fn add_live_figures(&self, [bytes, blocks]: [i64; 2]) -> Option<(i64, i64)> {
        let near = add_live(&self.curr_blocks, blocks);
        let change = packed_change(bytes, blocks);
        let word = if change == 0 {
            self.live.load(Relaxed)
        } else {
            self.live.fetch_add(change, Relaxed).wrapping_add(change)
        };
        // Live bytes that fell cannot be a new peak: the peak was at least the live bytes before.
        if bytes < 0 {
            return None;
        }
        let (bytes, blocks) = unpack(word, near);
        self.max.raise(bytes, blocks);
        Some((bytes, blocks))
    }

    /// Totals and live figures.
    fn read(&self) -> Counts {
        let word = self.live.load(SeqCst);
        let (bytes, blocks) = unpack(word, self.curr_blocks.load(SeqCst));
        Counts {
            totals: [
                self.total_bytes.load(SeqCst),
                self.total_blocks.load(SeqCst),
            ],
            live: [bytes, blocks],
        }
    }

    /// The peak (live bytes, blocks).
    fn peak(&self) -> (i64, i64) {
        self.max.get()
    }

    fn set_peak(&self, peak: (i64, i64)) {
        self.max.set(peak);
    }
}

/// A peak of live bytes, with the live blocks at it, raised by any thread: the bytes and the
/// blocks' low bits in one word ([`unpack`]), so that two threads raising it at once leave one
/// pair, not the bytes of one and the blocks of the other; the blocks whole beside it, stored by
/// each raise after its word, for the high bits.
struct Peak {
    word: AtomicU64,
    blocks: AtomicI64,
}

/// The largest and the smallest live bytes a packed word holds.
const PACKED_MAX: i64 = (1 << (63 - BLOCK_BITS)) - 1;
const PACKED_MIN: i64 = -(1 << (63 - BLOCK_BITS));

/// `(bytes, blocks)` as a peak's word: the bytes, then the blocks' low bits.
const fn peak_word(bytes: i64, blocks: i64) -> u64 {
    ((bytes as u64) << BLOCK_BITS) | (blocks as u64 & BLOCK_MASK)
}

impl Peak {
    const fn new(bytes: i64) -> Peak {
        Peak {
            word: AtomicU64::new(peak_word(bytes, 0)),
            blocks: AtomicI64::new(0),
        }
    }

    /// Raises the peak to live figures `(bytes, blocks)` when they meet or pass it (`>=`: the
    /// latest of equal peaks, as dhat records it); returns whether they did. A plain load first,
    /// so that live bytes below the peak cost no locked instruction.
    fn raise(&self, bytes: i64, blocks: i64) -> bool {
        let new = peak_word(bytes, blocks);
        let mut word = self.word.load(Relaxed);
        while bytes >= (word as i64) >> BLOCK_BITS {
            match self.word.compare_exchange_weak(word, new, Relaxed, Relaxed) {
                Ok(_) => {
                    self.blocks.store(blocks, Relaxed);
                    return true;
                }
                Err(now) => word = now,
            }
        }
        false
    }

    fn get(&self) -> (i64, i64) {
        let word = self.word.load(SeqCst);
        unpack_peak(word, self.blocks.load(SeqCst))
    }

    fn set(&self, (bytes, blocks): (i64, i64)) {
        self.word.store(peak_word(bytes, blocks), SeqCst);
        self.blocks.store(blocks, SeqCst);
    }
}

/// The bytes and blocks of a peak's `word`, given `near`, the blocks a raise stored beside it
/// (those of the same raise, or of one just before or after it).
fn unpack_peak(word: u64, near: i64) -> (i64, i64) {
    let bytes = (word as i64) >> BLOCK_BITS;
    let (_, blocks) = unpack(word & BLOCK_MASK, near);
    (bytes, blocks)
}

/// No profiling session runs: no batch reaches [`SESSION_PEAK`].
const NO_SESSION: i64 = PACKED_MAX;

/// The peak of the process's live figures since the running profiling session began
/// ([`SessionMark`]), raised by the same batches as the process tally's; [`NO_SESSION`] while
/// none runs.
static SESSION_PEAK: Peak = Peak::new(NO_SESSION);

/// Adds a thread's batch to the process tally ([`Tally::publish`]), and takes off [`CARRY`] what
/// the running profiling session found unpublished on that thread at its beginning (`carry`,
/// which the batch holds); returns whether the batch raised (or met) the session's peak.
pub(super) fn publish_batch(batch: pending::Figures, carry: [i64; 2]) -> bool {
    // The carry first: a peak read meanwhile is at worst low by it, never high.
    for (c, by) in CARRY.iter().zip(carry) {
        if by != 0 {
            c.fetch_sub(by, Relaxed);
        }
    }
    PROCESS
        .add(batch.totals, batch.live)
        .is_some_and(|(bytes, blocks)| {
            let [cb, ck] = CARRY.each_ref().map(|c| c.load(Relaxed));
            SESSION_PEAK.raise(bytes.wrapping_add(cb), blocks.wrapping_add(ck))
        })
}

/// The live bytes and blocks a profiling session's beginning found unpublished on the threads
/// that have not published since (the sum of their tallies' `carry`): what the process tally
/// lacks of their live figures, as long as they stay idle. Raising the session's peak with the
/// process tally plus this keeps what a thread did before the session out of the peak when its
/// next batch, inside the session, hands it over.
static CARRY: [AtomicI64; 2] = [AtomicI64::new(0), AtomicI64::new(0)];

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
    /// Of those, the operations by threads born inside an earlier span ([`left_behind_ops`]).
    left_behind_ops: AtomicU64,
}

/// The process's figures now, to the operation ([`pending::process_figures`]), as counts.
fn process_now() -> Counts {
    let f = pending::process_figures(|_, _| ());
    Counts {
        totals: f.totals,
        live: f.live,
    }
}

/// The whole process's figures since it started: its totals and live figures to the operation
/// ([`process_now`]), its peak from the batches, at least the live figures now.
pub(crate) fn process_stats() -> Stats {
    super::publish();
    let now = process_now();
    let (max_bytes, max_blocks) = super::mark::higher(PROCESS.peak(), (now.live[0], now.live[1]));
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

/// The process's figures at a profiling session's beginning: the session's figures are the
/// differences from them. Its totals and live figures are exact to the operation (every thread's
/// read from its tally, [`pending::process_figures`]). Its peak is the highest live figures the
/// batches took the process tally to since the beginning ([`SESSION_PEAK`]), each with what the
/// idle threads still carried from before the session ([`CARRY`]), above those at the beginning:
/// exact to within 64 KiB per thread working at the peak (a thread that was working at the
/// beginning, to within a batch), and at least the live figures at its end; and where the
/// session's thread was the only one at work during it, its own peak since the beginning
/// exactly, which a [`Mark`] of its own measures (so that a higher peak the thread reached before
/// the session, which the tally kept, is not taken for the session's). One session runs at a
/// time (the profiler's lock), begun and ended on one thread (a `Profiler` is not `Send`).
#[must_use = "a session mark measures until it is ended"]
pub(crate) struct SessionMark {
    /// The process tally and the carries at the beginning, the base of the batches' peak.
    base: [i64; 2],
    /// The process's figures at the beginning.
    start: Counts,
    /// The session's thread's figures at the beginning.
    thread: ThreadFigures,
    /// The session's thread's own peak since the beginning, in its tally while no mark or region
    /// frame that began after it is open (at the session's end, unless a guard outlives it).
    own: Mark,
}

impl SessionMark {
    /// Marks the process's figures, this thread's pending figures published first; each other
    /// thread in the table carries what it has not published into the session's peak.
    pub(crate) fn begin() -> SessionMark {
        super::publish();
        // Below any live figure first, so that a batch added while the start is read raises the
        // peak as it should, and is not overwritten by the start's figures.
        SESSION_PEAK.set((PACKED_MIN, 0));
        let f = pending::process_figures(|t, read| {
            // Each read overwrites the carry a read before it left (a read taken again).
            for ((carry, total), now) in t.carry.iter().zip(&CARRY).zip(read.pending.live) {
                let was = carry.swap(now, Relaxed);
                total.fetch_add(now.wrapping_sub(was), Relaxed);
            }
        });
        let published = PROCESS.read();
        let [cb, ck] = CARRY.each_ref().map(|c| c.load(SeqCst));
        let base = [
            published.live[0].wrapping_add(cb),
            published.live[1].wrapping_add(ck),
        ];
        SESSION_PEAK.raise(base[0], base[1]);
        let own = Mark::begin();
        SessionMark {
            base,
            start: Counts {
                totals: f.totals,
                live: f.live,
            },
            thread: ThreadFigures::now(),
            own,
        }
    }

    /// The process's figures since the session began, whether threads other than the session's
    /// worked during it (its peak is then the batches', exact to within a batch per thread), and
    /// the session over.
    pub(crate) fn end(self) -> (Stats, bool) {
        let figures = self.figures();
        SESSION_PEAK.set((NO_SESSION, 0));
        // Its peak is the session's, already read; the thread's peak before it is put back.
        let _ = self.own.end();
        figures
    }

    /// The process's figures since the session began (see [`figures`](Self::figures)).
    pub(crate) fn read(&self) -> Stats {
        self.figures().0
    }

    /// The process's figures since the session began, this thread's pending figures published
    /// first: totals and live figures as differences, the peak as the highest live figures above
    /// those at the beginning (each figure at least 0: the session may free what was live before
    /// it); and whether threads other than the session's allocated or freed meanwhile.
    fn figures(&self) -> (Stats, bool) {
        super::publish();
        let now = process_now();
        let thread = ThreadFigures::now();
        let since = |now: [i64; 2], then: [i64; 2]| {
            (now[0].wrapping_sub(then[0]), now[1].wrapping_sub(then[1]))
        };
        let (bytes, blocks) = since(now.live, self.start.live);
        // The batches' peak and its base both hold what idle threads carried from before the
        // session; the live figures now hold what no batch has.
        let (peak_bytes, peak_blocks) = SESSION_PEAK.get();
        let batches = since([peak_bytes, peak_blocks], self.base);
        let mut peak = super::mark::higher(batches, (bytes, blocks));
        // The process tally took this thread's work alone (its totals and live figures moved
        // exactly as the thread's did): its own peak since the beginning was the session's,
        // counted on every operation where the batches may have missed it. It is its tally's
        // (the session's mark's) while nothing opened since is open; with a region frame or a
        // mark open, the peak since that began, lower: each raises the batches', never lowers.
        let d = |a: u64, b: u64| a.wrapping_sub(b);
        let alone = (0..2).all(|i| {
            d(now.totals[i], self.start.totals[i]) == d(thread.totals[i], self.thread.totals[i])
                && now.live[i].wrapping_sub(self.start.live[i])
                    == thread.live[i].wrapping_sub(self.thread.live[i])
        });
        if alone {
            let (bytes, blocks) = thread.innermost_peak;
            let own = since([bytes, blocks], self.thread.live);
            peak = super::mark::higher(peak, own);
        }
        // Totals only rise, but where a fork took a thread in the middle of a batch (its
        // unpublished work is lost in the child): then they stop at 0, never wrap.
        let (total_bytes, total_blocks) = (
            now.totals[0].saturating_sub(self.start.totals[0]),
            now.totals[1].saturating_sub(self.start.totals[1]),
        );
        // The live figures cannot have risen by more than was allocated (a thread busy at the
        // beginning may have left the batches' base a batch off).
        let max_bytes = clamp(peak.0).min(total_bytes);
        let curr_bytes = clamp(bytes);
        let stats = Stats {
            total_bytes,
            total_blocks,
            max_bytes,
            max_blocks: blocks_of(max_bytes, clamp(peak.1), total_blocks),
            curr_bytes,
            curr_blocks: blocks_of(curr_bytes, clamp(blocks), total_blocks),
        };
        (stats, !alone)
    }
}

/// The live blocks to show with `bytes` live bytes, given their net change `blocks` since the
/// beginning, as a profile's point holds them: at least one block where there are bytes, none
/// beyond the bytes, and no more than were allocated. A block allocated during the session and
/// one from before it freed during it cancel in the net change (a thread started in the session
/// frees the closure its parent allocated): 50 MiB read as 0 blocks.
fn blocks_of(bytes: u64, blocks: u64, total_blocks: u64) -> u64 {
    blocks
        .min(bytes)
        .max(u64::from(bytes > 0))
        .min(total_blocks)
}

/// The span tally at the beginning of a whole-process span, and the peak set aside for an
/// enclosing span. While any is open, exact mode is on.
#[must_use = "a span measures until `end` is called (dropped, exact mode stays on)"]
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
        fence::settle();
        if outermost {
            EPOCH.fetch_add(1, SeqCst);
        }
        EXACT.fetch_add(1, SeqCst);
        // Every thread's next operation now publishes, and goes to the span tally. Written by
        // every span, not only the first: one still walking when a nested one begins leaves
        // threads it has not reached yet.
        BANDS.set_all(band_in_force);
        let t = &SPAN.tally;
        let (set_aside, start) = frozen(|| {
            let set_aside = t.peak();
            let start = span_counts();
            t.set_peak((start.live[0], start.live[1]));
            (set_aside, start)
        });
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
        let (now, peak) = frozen(|| {
            let now = span_counts();
            let peak = t.peak();
            if !self.outermost {
                t.set_peak(super::mark::higher(self.set_aside, peak));
            }
            (now, peak)
        });
        let foreign_ops = SPAN
            .foreign_ops
            .load(Relaxed)
            .wrapping_sub(self.foreign_ops);
        EXACT.fetch_sub(1, SeqCst);
        BANDS.set_all(band_in_force);
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

#[cfg(test)]
mod tests {
    use super::super::publish;
    use super::*;

    /// A packed word of live figures gives back every pair it was made of, whatever the sign of
    /// each change and the order they came in, with the blocks counter some operations apart.
    #[test]
    fn packed_live_figures_give_back_their_pair() {
        let changes: [(i64, i64); 6] = [
            (1 << 40, 3),
            (-(1 << 39), -2),
            (5_000, 2_000_000),
            (-4_999, -1_999_999),
            (-(3 << 40), 0),
            (64, -1),
        ];
        let (mut word, mut bytes, mut blocks) = (0u64, 0i64, 0i64);
        for (db, dk) in changes {
            word = word.wrapping_add(packed_change(db, dk));
            (bytes, blocks) = (bytes + db, blocks + dk);
            for near in [blocks, blocks - 1_000, blocks + 1_000, blocks + (1 << 18)] {
                assert_eq!(unpack(word, near), (bytes, blocks), "near {near}");
            }
        }
        // A peak's word, with the blocks whole beside it from a raise just before or after.
        for (b, k) in [
            (PACKED_MAX, 0),
            (PACKED_MIN, 0),
            (1 << 42, 3_000_000),
            (-5, -7),
        ] {
            assert_eq!(unpack_peak(peak_word(b, k), k + 100), (b, k));
        }
    }

    /// Two threads raising a peak at once leave one pair: the bytes of one raise and the blocks
    /// of another were left (3,500 bytes in 3 blocks).
    #[test]
    fn threads_raising_a_peak_at_once_leave_one_pair() {
        let peak = Peak::new(0);
        std::thread::scope(|s| {
            for t in 0..4i64 {
                let peak = &peak;
                s.spawn(move || {
                    for i in 0..20_000i64 {
                        let k = i * 4 + t;
                        peak.raise(k * 1000, k);
                    }
                });
            }
        });
        let (bytes, blocks) = peak.get();
        assert_eq!(bytes, 1000 * blocks);
        assert_eq!(blocks, 79_999);
    }

    /// This thread's span slot, taken now if it has none.
    fn own_slot() -> usize {
        with_tally(|t| slot_of(&t.span_totals).unwrap() as *const Slot as usize).unwrap()
    }

    fn taken(slot: usize) -> bool {
        SLOT_TABLE
            .iter()
            .any(|s| s as *const Slot as usize == slot && s.taken.load(SeqCst))
    }

    /// A forked child frees the span slots of the threads it has not got, and keeps its own.
    #[cfg(unix)]
    #[test]
    fn a_forked_child_keeps_only_its_own_span_slot() {
        crate::fork::hook();
        let registered = || {
            // Registered, so that the thread's exit gives its slot back.
            publish();
            (own_slot(), ())
        };
        let child = crate::fork::tests::while_another_thread_holds(registered, |other_slot| {
            let own_slot = own_slot();
            assert!(taken(other_slot) && taken(own_slot));
            crate::fork::tests::in_a_child(|| !taken(other_slot) && taken(own_slot))
        });
        child.unwrap();
    }

    /// While a thread hands over a batch every 1,024 allocations, and threads start, count and
    /// leave the table one after another, the process's totals (every thread's read from its
    /// tally, and the departed threads') never go back: a read that a departure overlapped (the
    /// thread counted twice, or not at all) is taken again. (Other tests of this binary only add
    /// to the totals.)
    #[test]
    fn the_process_totals_never_go_back_while_threads_batch_and_leave() {
        /// Stops the workers when the reads end, or fail.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, SeqCst);
            }
        }
        let stop = AtomicBool::new(false);
        // This binary's allocator is not the kit's: the workers count on their tallies directly.
        let pairs = |t: &Tally, n: usize| {
            for _ in 0..n {
                t.on_alloc(std::ptr::null_mut(), 1);
                t.on_free(1);
            }
        };
        std::thread::scope(|s| {
            s.spawn(|| {
                with_tally(|t| {
                    while !stop.load(SeqCst) {
                        pairs(t, 1);
                    }
                })
            });
            s.spawn(|| {
                while !stop.load(SeqCst) {
                    std::thread::spawn(move || with_tally(|t| pairs(t, 100)))
                        .join()
                        .unwrap();
                }
            });
            let _stop = Stop(&stop);
            let mut last = [0u64; 2];
            for i in 0..200_000 {
                let now = process_now();
                assert!(
                    now.totals[0] >= last[0] && now.totals[1] >= last[1],
                    "read {i}: {:?} after {last:?}",
                    now.totals
                );
                last = now.totals;
            }
        });
    }
}
