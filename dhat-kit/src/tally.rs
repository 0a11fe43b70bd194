//! The counting core: each thread's tally of its allocations, the only place its cells are read or
//! written, and the small vocabulary the rest of the crate speaks over it.
//!
//! - For the allocator ([`Alloc`](crate::Alloc)): [`alloc`], [`realloc`] (from an old size to a
//!   new one) and [`free`], each around the inner allocator's call; [`uncounted`] for the kit's own
//!   bookkeeping.
//! - For measurements ([`mark`]): begin a [`Mark`], end it; a [`Snapshot`] of the thread's tally
//!   without disturbing it; this thread's and the process's figures.
//! - For whole-process spans ([`process`]): a [`SpanMark`] over the process-wide tallies.
//!
//! # The hot path
//!
//! Every allocation on a thread updates that thread's tally: plain integers in a const-initialised
//! thread-local with no destructor, read with `try_with`. The process-wide figures are fed from the
//! thread tallies in batches ([`Tally::publish`]), so threads never share a cache line on the hot
//! path. While a [`measure_all`](crate::measure_all) runs (exact mode), every thread publishes every
//! operation, and each operation is also added to the span tally: the cost is paid only then.
//!
//! Why the code reached from a `GlobalAlloc` method never allocates, locks or panics, in one place:
//!
//! - [`alloc`], [`realloc`] and [`free`] touch only this thread's `Cell`s (wrapping arithmetic, no
//!   overflow checks that could panic) and one relaxed load of [`BAND_NOW`]; `try_with` on a
//!   thread-local with no destructor never panics and never registers one.
//! - The batch ([`Tally::publish_op`], cold) does relaxed atomic additions; its one possibly
//!   allocating step, the thread's first registration of its exit hook, runs with the thread's
//!   counting paused, so the allocation it may make passes straight through.
//! - Under `sampled`, the countdown's slow path ([`crate::sample`]) runs with counting paused; it
//!   takes the sample set's lock only there, about once per sample interval.
//! - Everything else here (marks, snapshots, spans) runs outside the allocator, on the caller's
//!   own thread.

use std::any::TypeId;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub(crate) mod mark;
pub(crate) mod process;

pub(crate) use mark::{live, thread_stats, FrameMark, Mark, Snapshot};
pub(crate) use process::{process_stats, SpanMark};

use process::PROCESS;

/// A thread publishes its pending figures to the process tally at every this many allocations (its
/// count of allocations a multiple of it: a mask of the count already in a register, no load of
/// the count last published), so never more than this many go unpublished... (a power of two)
const PUBLISH_BLOCKS: u64 = 1024;
/// ...or as soon as its live bytes moved by this much since it last published. This bounds the
/// process peak's error: at most `PUBLISH_BYTES` per thread alive at the time (see `process_stats`).
const PUBLISH_BYTES: u64 = 64 * 1024;
/// `band_lo` of a thread that never published: so far from any real figure that the thread's
/// first operation publishes (and registers its `PublishAtExit`). It is also how a thread's first
/// publication is recognised.
const NEVER_PUBLISHED: i64 = i64::MIN / 2;
/// The live bytes stay unpublished while `curr_bytes - band_lo` (unsigned) is below this: within
/// `PUBLISH_BYTES - 1` either side of the figure last published. One subtraction and one
/// comparison on the hot path.
const BAND: u64 = 2 * PUBLISH_BYTES - 1;

/// The band in force: [`BAND`], or 0 while exact mode is on, so that every operation's
/// comparison publishes. One relaxed load of a read-mostly cache line, in place of a constant.
static BAND_NOW: AtomicU64 = AtomicU64::new(BAND);

/// One thread's figures since it started. Signed live figures: a thread may free blocks that
/// other threads allocated. Its cells are private to this module and its children.
struct Tally {
    /// Set while this thread is inside the inner allocator (its own allocations, as dhat's
    /// backtraces, are not counted twice) or in the kit's own bookkeeping ([`uncounted`]).
    busy: Cell<bool>,
    total_bytes: Cell<u64>,
    total_blocks: Cell<u64>,
    curr_bytes: Cell<i64>,
    curr_blocks: Cell<i64>,
    /// The peak of `curr_bytes` since the innermost open mark began (or the thread started), and
    /// the live blocks at that peak (the latest of equal peaks, as dhat does). Only [`mark`]
    /// lowers it.
    peak_bytes: Cell<i64>,
    peak_blocks: Cell<i64>,
    /// Figures already handed to the process tally.
    pub_total_bytes: Cell<u64>,
    pub_total_blocks: Cell<u64>,
    /// The live bytes last published, less `PUBLISH_BYTES - 1`: the low end of the band within
    /// which live bytes may move unpublished; [`NEVER_PUBLISHED`] before the first publication.
    band_lo: Cell<i64>,
    pub_curr_blocks: Cell<i64>,
    /// The span epoch when this thread was first counted (see [`process`]).
    born: Cell<u64>,
    /// Set on the thread that runs the outermost `measure_all`.
    measuring: Cell<bool>,
    /// Bytes to the next sample point; `i64::MAX` while no sampled session runs.
    #[cfg(feature = "sampled")]
    countdown: Cell<i64>,
    /// The sampled session the countdown is armed for (0: none).
    #[cfg(feature = "sampled")]
    armed: Cell<u64>,
    /// The state of this thread's random gaps.
    #[cfg(feature = "sampled")]
    rng: Cell<u64>,
}

impl Tally {
    const fn new() -> Self {
        Tally {
            busy: Cell::new(false),
            total_bytes: Cell::new(0),
            total_blocks: Cell::new(0),
            curr_bytes: Cell::new(0),
            curr_blocks: Cell::new(0),
            peak_bytes: Cell::new(0),
            peak_blocks: Cell::new(0),
            pub_total_bytes: Cell::new(0),
            pub_total_blocks: Cell::new(0),
            band_lo: Cell::new(NEVER_PUBLISHED),
            pub_curr_blocks: Cell::new(0),
            born: Cell::new(0),
            measuring: Cell::new(false),
            #[cfg(feature = "sampled")]
            countdown: Cell::new(i64::MAX),
            #[cfg(feature = "sampled")]
            armed: Cell::new(0),
            #[cfg(feature = "sampled")]
            rng: Cell::new(0),
        }
    }

    /// A new block of `size` bytes at `ptr` (or a reallocation's new block: `blocks` is 0, `delta`
    /// the change of live bytes).
    #[inline(always)]
    fn on_alloc(&self, ptr: *mut u8, size: usize, delta: i64, blocks: i64) {
        // Sampled: one subtraction and one branch, taken about once per sample interval.
        #[cfg(feature = "sampled")]
        {
            let c = self.countdown.get().wrapping_sub(size as i64);
            self.countdown.set(c);
            if c < 0 {
                self.sample(ptr, size);
            }
        }
        #[cfg(not(feature = "sampled"))]
        let _ = ptr;
        self.total_bytes
            .set(self.total_bytes.get().wrapping_add(size as u64));
        let total_blocks = self.total_blocks.get().wrapping_add(1);
        self.total_blocks.set(total_blocks);
        let curr = self.curr_bytes.get().wrapping_add(delta);
        self.curr_bytes.set(curr);
        self.curr_blocks
            .set(self.curr_blocks.get().wrapping_add(blocks));
        if curr >= self.peak_bytes.get() {
            self.peak_bytes.set(curr);
            self.peak_blocks.set(self.curr_blocks.get());
        }
        if total_blocks & (PUBLISH_BLOCKS - 1) == 0
            || curr.wrapping_sub(self.band_lo.get()) as u64 >= BAND_NOW.load(Relaxed)
        {
            self.publish_op(size as u64, 1, delta, blocks);
        }
    }

    #[inline(always)]
    fn on_free(&self, size: usize) {
        let curr = self.curr_bytes.get().wrapping_sub(size as i64);
        self.curr_bytes.set(curr);
        separate_accesses();
        self.curr_blocks.set(self.curr_blocks.get().wrapping_sub(1));
        if curr.wrapping_sub(self.band_lo.get()) as u64 >= BAND_NOW.load(Relaxed) {
            self.publish_op(0, 0, -(size as i64), -1);
        }
    }

    /// The countdown crossed a sample point: record the block (with this thread's counting
    /// paused, so that the sample set's own tables are not counted), then draw the next gap;
    /// or, when the session it was armed for is over, re-arm.
    #[cfg(feature = "sampled")]
    #[cold]
    #[inline(never)]
    fn sample(&self, ptr: *mut u8, size: usize) {
        let session = crate::sample::session();
        if session == 0 || self.armed.get() != session {
            self.arm();
            return;
        }
        let was = self.busy.replace(true);
        crate::sample::on_sampled(ptr, size);
        self.busy.set(was);
        self.next_gap();
    }

    /// Arms the countdown for the running sampled session, or disarms it when none runs.
    #[cfg(feature = "sampled")]
    fn arm(&self) {
        let session = crate::sample::session();
        self.armed.set(session);
        if session == 0 {
            self.countdown.set(i64::MAX);
            return;
        }
        if self.rng.get() == 0 {
            // A different seed per thread: the tally's address, mixed with the session's number.
            let seed = (self as *const Tally as u64) ^ session.rotate_left(32);
            self.rng.set(seed | 1);
        }
        self.next_gap();
    }

    #[cfg(feature = "sampled")]
    fn next_gap(&self) {
        let mut rng = self.rng.get();
        let gap = crate::sample::estimate::gap(&mut rng, crate::sample::interval());
        self.rng.set(rng);
        self.countdown.set(gap);
    }

    /// Hands this thread's unpublished figures to the process tally.
    fn publish(&self) {
        self.publish_op(0, 0, 0, 0);
    }

    /// Called when the batch is due (a few relaxed atomic additions to the process tally, at
    /// most once per `PUBLISH_BLOCKS` allocations or `PUBLISH_BYTES` of change) and, in exact
    /// mode, on every operation: the operation (its totals and live change; zero when none
    /// triggered the call) goes to the span tally, and the batch to the process tally when due.
    #[cold]
    #[inline(never)]
    fn publish_op(&self, total_bytes: u64, total_blocks: u64, bytes: i64, blocks: i64) {
        if (total_blocks == 0 && blocks == 0) || !process::exact() {
            self.publish_all();
            return;
        }
        // Exact mode: the operation goes to the span tally; the process tally is fed in batches
        // as ever (a thread that never published is always due, which registers it).
        if self.due() {
            self.publish_all();
        }
        process::span_op(
            [total_bytes, total_blocks],
            [bytes, blocks],
            self.born.get(),
            self.measuring.get(),
        );
    }

    /// Whether the batch is due: what the hot path checks, with the band of normal mode.
    fn due(&self) -> bool {
        self.total_blocks
            .get()
            .wrapping_sub(self.pub_total_blocks.get())
            >= PUBLISH_BLOCKS
            || self.curr_bytes.get().wrapping_sub(self.band_lo.get()) as u64 >= BAND
    }

    /// Hands this thread's unpublished figures to the process tally.
    fn publish_all(&self) {
        let d_total_bytes = self
            .total_bytes
            .get()
            .wrapping_sub(self.pub_total_bytes.get());
        let d_total_blocks = self
            .total_blocks
            .get()
            .wrapping_sub(self.pub_total_blocks.get());
        let first = self.band_lo.get() == NEVER_PUBLISHED;
        let pub_curr_bytes = if first {
            0
        } else {
            self.band_lo.get().wrapping_add(PUBLISH_BYTES as i64 - 1)
        };
        let d_curr_bytes = self.curr_bytes.get().wrapping_sub(pub_curr_bytes);
        let d_curr_blocks = self
            .curr_blocks
            .get()
            .wrapping_sub(self.pub_curr_blocks.get());
        if first {
            // The thread's first publication: make sure its figures are published at exit. The
            // registration may allocate (through this allocator), so it is not counted. The flag
            // is raised for it, then put back as it was: a first publication inside an uncounted
            // section must not end that section.
            self.born.set(process::epoch());
            let was = self.busy.replace(true);
            let _ = EXIT.try_with(|_| ());
            self.busy.set(was);
        }
        self.pub_total_bytes.set(self.total_bytes.get());
        self.pub_total_blocks.set(self.total_blocks.get());
        self.band_lo
            .set(self.curr_bytes.get().wrapping_sub(PUBLISH_BYTES as i64 - 1));
        self.pub_curr_blocks.set(self.curr_blocks.get());
        let _raised = PROCESS.add(
            [d_total_bytes, d_total_blocks],
            [d_curr_bytes, d_curr_blocks],
        );
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

/// Keeps the cell accesses before it and after it apart: no instruction, but the compiler may not
/// merge a load or store of one side with one of the other. Without it, a free of a block whose size
/// is a constant (`Box::new`) loads and stores the live bytes and blocks as one 16-byte pair, which
/// the processor cannot forward from the allocation's two 8-byte stores just before: a stall of
/// about 4 ns on every such alloc+free pair (the fixed-size pairs of `benches/profile_overhead.rs`
/// cost 1.55x `System` with the stall, 1.15x without).
#[inline(always)]
fn separate_accesses() {
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Hands the thread's last figures to the process tally when the thread ends. Registered on the
/// thread's first publication (its first counted operation), so the tally itself needs no
/// destructor and stays a plain, always-accessible thread-local on the hot path.
struct PublishAtExit;

impl Drop for PublishAtExit {
    fn drop(&mut self) {
        let _ = TALLY.try_with(Tally::publish);
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

/// Publishes this thread's pending figures, so that the process tally includes them now.
pub(crate) fn publish() {
    let _ = with_tally(Tally::publish);
}

/// Arms (or disarms) this thread's sample countdown for the running sampled session now.
#[cfg(feature = "sampled")]
pub(crate) fn arm_sampling() {
    let _ = TALLY.try_with(Tally::arm);
}

/// Runs `f` with this thread's counting paused: the kit's own bookkeeping (a region's first
/// registration, dhat's ad-hoc backtraces) never shows in the user's figures.
pub(crate) fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    /// Lowers the flag again, even if `f` unwinds, unless it was already up.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            if !self.0 {
                let _ = TALLY.try_with(|t| t.busy.set(false));
            }
        }
    }
    let _restore = Restore(TALLY.try_with(|t| t.busy.replace(true)).unwrap_or(true));
    f()
}

/// Whether the inner allocator `A` may allocate through the global allocator (that is, through
/// the counting allocator again) while it serves a call, as dhat's allocator does for its
/// backtraces. Only [`System`](std::alloc::System) is known not to; for it the reentrancy flag is
/// left alone, and [`free`] counts first and then hands over the call whole. The comparison of two
/// constants folds away at compile time.
#[inline(always)]
fn may_reenter<A: 'static>() -> bool {
    TypeId::of::<A>() != TypeId::of::<std::alloc::System>()
}

/// Runs the inner allocator's call, then counts its result with `count`, unless this call was
/// itself made from inside the inner allocator or from the kit's own bookkeeping ([`uncounted`]),
/// or the tally is out of reach (where a platform's thread-locals can be destroyed): then the call
/// passes through uncounted. With `reenters`, the reentrancy flag is up during the call.
#[inline(always)]
fn counted<R>(reenters: bool, call: impl FnOnce() -> R, count: impl FnOnce(&Tally, &R)) -> R {
    match TALLY.try_with(|t| {
        if t.busy.get() {
            return None;
        }
        if reenters {
            t.busy.set(true);
        }
        Some(t as *const Tally)
    }) {
        Ok(Some(t)) => {
            let r = call();
            // SAFETY: `t` points at this thread's tally, which `try_with` just showed alive; the
            // inner allocator cannot end the thread, so it is still alive, and only this thread
            // touches it (its fields are `Cell`s, used through a shared reference).
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
            t.on_alloc(p, size, size as i64, 1);
        }
    })
}

/// A reallocation of the block at `ptr` from `old` bytes to `new` by `call`, counted (as one new
/// block of `new` bytes, and the live bytes moved by the difference) when it succeeds.
#[inline(always)]
pub(crate) fn realloc<A: 'static>(
    ptr: *mut u8,
    old: usize,
    new: usize,
    call: impl FnOnce() -> *mut u8,
) -> *mut u8 {
    // The old block leaves the sample set before its address can be handed out again.
    #[cfg(feature = "sampled")]
    crate::sample::on_free(ptr);
    #[cfg(not(feature = "sampled"))]
    let _ = ptr;
    counted(may_reenter::<A>(), call, |t, &p| {
        if !p.is_null() {
            t.on_alloc(p, new, (new as i64).wrapping_sub(old as i64), 0);
        }
    })
}

/// The free of the block of `size` bytes at `ptr` by `call`. Over an allocator that never
/// reenters, the free is counted first, so the inner call is the last thing done (a tail call).
#[inline(always)]
pub(crate) fn free<A: 'static>(ptr: *mut u8, size: usize, call: impl FnOnce()) {
    // A sampled block leaves the sample set before its address can be handed out again.
    #[cfg(feature = "sampled")]
    crate::sample::on_free(ptr);
    #[cfg(not(feature = "sampled"))]
    let _ = ptr;
    if may_reenter::<A>() {
        counted(true, call, |t, ()| t.on_free(size));
    } else {
        // A free cannot fail: count it first.
        let _ = TALLY.try_with(|t| {
            if !t.busy.get() {
                t.on_free(size);
            }
        });
        call();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                with_tally(|t| t.band_lo.get()),
                Some(NEVER_PUBLISHED),
                "a new thread has not published"
            );
            assert!(with_tally(Tally::due).unwrap(), "a new thread is due");
            publish();
            assert_ne!(with_tally(|t| t.band_lo.get()), Some(NEVER_PUBLISHED));
            assert!(
                !with_tally(Tally::due).unwrap(),
                "nothing is due after publishing"
            );
        })
        .join()
        .unwrap();
    }
}
