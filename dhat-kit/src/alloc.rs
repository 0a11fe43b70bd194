//! The hot path: [`Alloc`], the counting global allocator, and its tallies.
//!
//! Every allocation on a thread updates that thread's tally: plain integers in a const-initialised
//! thread-local, read with `try_with`, so no atomics, locks, allocations, panics or syscalls happen
//! here. The process-wide figures are fed from the thread tallies in batches (see [`publish`]), so
//! threads never share a cache line on the hot path. While a [`measure_all`](crate::measure_all)
//! runs (exact mode), every thread publishes every operation, and each operation is also added to
//! the span tally ([`SPAN`]), whose figures are exact: the cost is paid only then.
//!
//! Rules for this file: nothing that allocates, locks or can panic runs inside a `GlobalAlloc`
//! method; every `unsafe` block says why it is sound.

use std::alloc::{GlobalAlloc, Layout, System};

/// A global allocator that counts every allocation exactly, then forwards to an inner allocator.
///
/// Install it with [`global_allocator!`](crate::global_allocator) or by hand:
///
/// ```
/// #[global_allocator]
/// static ALLOC: dhat_kit::Alloc = dhat_kit::Alloc::new();
///
/// fn main() {
///     let (_v, stats) = dhat_kit::measure(|| vec![0u8; 1024]);
///     assert_eq!(stats.total_bytes, 1024);
/// }
/// ```
///
/// Over another allocator (mimalloc, jemalloc, or any [`GlobalAlloc`]), use [`Alloc::wrap`]:
///
/// ```
/// use std::alloc::System;
/// #[global_allocator]
/// static ALLOC: dhat_kit::Alloc<System> = dhat_kit::Alloc::wrap(System);
/// # fn main() {}
/// ```
///
/// Counting follows dhat's rules: `alloc` and `alloc_zeroed` add one block; `realloc` counts as one
/// new block of the new size in the totals and moves the live bytes by the difference; `dealloc`
/// removes one live block. Built without the `peak` feature (or `heap`/`ad-hoc`, which include it),
/// `Alloc` only forwards and counts nothing.
///
/// An inner allocator that itself allocates through the global allocator while serving a call (as
/// dhat's does, for its backtraces) works: what it allocates for itself is not counted. Over
/// `System`, which never does, the counting skips that guard and costs a little less.
#[derive(Debug, Default, Clone, Copy)]
pub struct Alloc<A = System> {
    inner: A,
}

impl Alloc<System> {
    /// A counting allocator over the [`System`] allocator.
    ///
    /// # Examples
    ///
    /// ```
    /// #[global_allocator]
    /// static ALLOC: dhat_kit::Alloc = dhat_kit::Alloc::new();
    /// # fn main() {}
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Alloc { inner: System }
    }
}

impl<A> Alloc<A> {
    /// A counting allocator over `inner`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::alloc::System;
    /// static ALLOC: dhat_kit::Alloc<System> = dhat_kit::Alloc::wrap(System);
    /// ```
    #[must_use]
    pub const fn wrap(inner: A) -> Self {
        Alloc { inner }
    }

    /// The inner allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

#[cfg(feature = "peak")]
pub(crate) use counting::*;

#[cfg(feature = "peak")]
mod counting {
    use super::{Alloc, GlobalAlloc, Layout};
    use std::any::TypeId;
    use std::cell::Cell;
    use std::sync::atomic::{
        AtomicI64, AtomicU64, AtomicUsize,
        Ordering::{Relaxed, SeqCst},
    };

    /// A thread publishes its pending figures to the process tally after this many allocations...
    const PUBLISH_BLOCKS: u64 = 1024;
    /// ...or as soon as its live bytes moved by this much since it last published. This bounds the
    /// process peak's error: at most `PUBLISH_BYTES` per thread alive at the time (see `process_stats`).
    const PUBLISH_BYTES: u64 = 64 * 1024;
    /// `band_lo` of a thread that never published: so far from any real figure that the thread's
    /// first operation publishes (and registers its `PublishAtExit`).
    const NEVER_PUBLISHED: i64 = i64::MIN / 2;
    /// The live bytes stay unpublished while `curr_bytes - band_lo` (unsigned) is below this: within
    /// `PUBLISH_BYTES - 1` either side of the figure last published. One subtraction and one
    /// comparison on the hot path.
    const BAND: u64 = 2 * PUBLISH_BYTES - 1;

    /// The band in force: [`BAND`], or 0 while exact mode is on, so that every operation's
    /// comparison publishes. One relaxed load of a read-mostly cache line, in place of a constant.
    static BAND_NOW: AtomicU64 = AtomicU64::new(BAND);
    /// How many exact spans are open (nested ones included); exact mode is on while
    /// this is not zero.
    static EXACT: AtomicUsize = AtomicUsize::new(0);
    /// The number of the outermost exact span now open (or last opened): a thread first counted
    /// during it was started inside it.
    static EPOCH: AtomicU64 = AtomicU64::new(0);

    /// Turns exact mode on (nested calls count): from now on every thread's next operation
    /// publishes, and operations are added to [`SPAN`]. With `outermost`, a new epoch begins.
    pub(crate) fn exact_on(outermost: bool) {
        if outermost {
            EPOCH.fetch_add(1, SeqCst);
        }
        if EXACT.fetch_add(1, SeqCst) == 0 {
            BAND_NOW.store(0, SeqCst);
        }
    }

    /// Turns exact mode off again (once every `exact_on` is matched).
    pub(crate) fn exact_off() {
        if EXACT.fetch_sub(1, SeqCst) == 1 {
            BAND_NOW.store(BAND, SeqCst);
        }
    }

    /// One thread's figures since it started. Signed live figures: a thread may free blocks that
    /// other threads allocated.
    pub(crate) struct Tally {
        /// Set while this thread is inside the inner allocator: its own allocations (dhat's
        /// backtraces) are not counted twice.
        busy: Cell<bool>,
        pub(crate) total_bytes: Cell<u64>,
        pub(crate) total_blocks: Cell<u64>,
        pub(crate) curr_bytes: Cell<i64>,
        pub(crate) curr_blocks: Cell<i64>,
        /// The peak of `curr_bytes` since the innermost open measurement began (or the thread
        /// started), and the live blocks at that peak (the latest of equal peaks, as dhat does).
        pub(crate) peak_bytes: Cell<i64>,
        pub(crate) peak_blocks: Cell<i64>,
        /// Figures already handed to the process tally.
        registered: Cell<bool>,
        pub_total_bytes: Cell<u64>,
        pub_total_blocks: Cell<u64>,
        /// The live bytes last published, less `PUBLISH_BYTES - 1`: the low end of the band
        /// within which live bytes may move unpublished.
        band_lo: Cell<i64>,
        pub_curr_blocks: Cell<i64>,
        /// The [`EPOCH`] when this thread was first counted.
        born: Cell<u64>,
        /// Set on the thread that runs the outermost `measure_all`.
        pub(crate) measuring: Cell<bool>,
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
                registered: Cell::new(false),
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

        /// A new block of `size` bytes at `ptr` (or a realloc's new block: `blocks` is 0, `delta`
        /// the change).
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
            if total_blocks.wrapping_sub(self.pub_total_blocks.get()) >= PUBLISH_BLOCKS
                || curr.wrapping_sub(self.band_lo.get()) as u64 >= BAND_NOW.load(Relaxed)
            {
                self.publish_op(size as u64, 1, delta, blocks);
            }
        }

        #[inline(always)]
        fn on_dealloc(&self, size: usize) {
            let curr = self.curr_bytes.get().wrapping_sub(size as i64);
            self.curr_bytes.set(curr);
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
        pub(crate) fn arm(&self) {
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
        pub(crate) fn publish(&self) {
            self.publish_op(0, 0, 0, 0);
        }

        /// Whether this thread's counting is paused (an uncounted section, or the allocator's own
        /// reentrant call).
        #[cfg(test)]
        pub(crate) fn is_uncounted(&self) -> bool {
            self.busy.get()
        }

        /// Called when the batch is due (a few relaxed atomic additions to the process tally, at
        /// most once per `PUBLISH_BLOCKS` allocations or `PUBLISH_BYTES` of change) and, in exact
        /// mode, on every operation: the operation (its totals and live change; zero when none
        /// triggered the call) goes to the span tally, and the batch to the process tally when due.
        #[cold]
        #[inline(never)]
        fn publish_op(&self, total_bytes: u64, total_blocks: u64, bytes: i64, blocks: i64) {
            if (total_blocks == 0 && blocks == 0) || EXACT.load(Relaxed) == 0 {
                self.publish_all();
                return;
            }
            // Exact mode: the operation goes to the span tally; the process tally is fed in
            // batches as ever (a thread is registered by its first publication).
            if !self.registered.get() || self.due() {
                self.publish_all();
            }
            SPAN.add(total_bytes, total_blocks, bytes, blocks);
            if self.born.get() != EPOCH.load(Relaxed) && !self.measuring.get() {
                SPAN.foreign_ops.fetch_add(1, Relaxed);
            }
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
            let pub_curr_bytes = match self.band_lo.get() {
                NEVER_PUBLISHED => 0,
                lo => lo.wrapping_add(PUBLISH_BYTES as i64 - 1),
            };
            let d_curr_bytes = self.curr_bytes.get().wrapping_sub(pub_curr_bytes);
            let d_curr_blocks = self
                .curr_blocks
                .get()
                .wrapping_sub(self.pub_curr_blocks.get());
            if !self.registered.get() {
                // The thread's first publication: make sure its figures are published at exit.
                // The registration may allocate (through this allocator), so it is not counted.
                self.registered.set(true);
                self.born.set(EPOCH.load(Relaxed));
                // Raised for the registration, then put back as it was: a first publication
                // inside an uncounted section must not end that section.
                let was = self.busy.replace(true);
                let _ = EXIT.try_with(|_| ());
                self.busy.set(was);
            }
            self.pub_total_bytes.set(self.total_bytes.get());
            self.pub_total_blocks.set(self.total_blocks.get());
            self.band_lo
                .set(self.curr_bytes.get().wrapping_sub(PUBLISH_BYTES as i64 - 1));
            self.pub_curr_blocks.set(self.curr_blocks.get());
            let _raised = PROCESS.add(d_total_bytes, d_total_blocks, d_curr_bytes, d_curr_blocks);
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

    /// Hands the thread's last figures to the process tally when the thread ends. Registered on
    /// the thread's first publication (its first counted operation), so the tally itself needs no
    /// destructor and stays a plain, always-accessible thread-local on the hot path.
    struct PublishAtExit;

    impl Drop for PublishAtExit {
        fn drop(&mut self) {
            let _ = TALLY.try_with(Tally::publish);
        }
    }

    /// The process-wide tally, fed by thread publications. On its own cache line(s).
    #[repr(align(128))]
    pub(crate) struct Process {
        pub(crate) total_bytes: AtomicU64,
        pub(crate) total_blocks: AtomicU64,
        pub(crate) curr_bytes: AtomicI64,
        pub(crate) curr_blocks: AtomicI64,
        pub(crate) max_bytes: AtomicI64,
        pub(crate) max_blocks: AtomicI64,
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

        /// Adds a batch; returns whether it raised (or met) the peak.
        pub(crate) fn add(
            &self,
            total_bytes: u64,
            total_blocks: u64,
            curr_bytes: i64,
            curr_blocks: i64,
        ) -> bool {
            self.total_bytes.fetch_add(total_bytes, Relaxed);
            self.total_blocks.fetch_add(total_blocks, Relaxed);
            let blocks = self
                .curr_blocks
                .fetch_add(curr_blocks, Relaxed)
                .wrapping_add(curr_blocks);
            let bytes = self
                .curr_bytes
                .fetch_add(curr_bytes, Relaxed)
                .wrapping_add(curr_bytes);
            // `>=`: the latest of equal peaks, as dhat records it. The blocks are those seen with the
            // winning peak; two publications racing here may pair them approximately.
            if self.max_bytes.fetch_max(bytes, Relaxed) <= bytes {
                self.max_blocks.store(blocks, Relaxed);
                return true;
            }
            false
        }
    }

    /// The span tally: the operations made while exact mode was on, each added as it happened, so
    /// its live figures and peak are exact. `measure_all` reads it at both ends of its span.
    pub(crate) struct Span {
        pub(crate) tally: Process,
        /// Operations in exact mode by threads first counted before the outermost span began,
        /// other than the thread measuring: another test's, or a pool started earlier.
        pub(crate) foreign_ops: AtomicU64,
    }

    impl Span {
        fn add(&self, total_bytes: u64, total_blocks: u64, curr_bytes: i64, curr_blocks: i64) {
            self.tally
                .add(total_bytes, total_blocks, curr_bytes, curr_blocks);
        }
    }

    pub(crate) static SPAN: Span = Span {
        tally: Process::new(),
        foreign_ops: AtomicU64::new(0),
    };

    pub(crate) static PROCESS: Process = Process::new();

    thread_local! {
        // No destructor: the fastest kind of thread-local, valid until the thread is gone.
        static TALLY: Tally = const { Tally::new() };
        static EXIT: PublishAtExit = const { PublishAtExit };
    }

    /// Runs `f` on this thread's tally; `None` while the thread is being torn down.
    #[inline]
    pub(crate) fn with_tally<R>(f: impl FnOnce(&Tally) -> R) -> Option<R> {
        TALLY.try_with(f).ok()
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
    /// this one again) while it serves a call, as dhat's allocator does for its backtraces. Only
    /// [`System`](std::alloc::System) is known not to; for it the reentrancy flag is left alone,
    /// and `dealloc` counts first and then hands over the call whole. The comparison of two
    /// constants folds away at compile time.
    #[inline(always)]
    fn may_reenter<A: 'static>() -> bool {
        TypeId::of::<A>() != TypeId::of::<std::alloc::System>()
    }

    /// Runs the inner allocator's call, then counts its result with `count`, unless this call was
    /// itself made from inside the inner allocator or from the kit's own bookkeeping (`uncounted`),
    /// or the tally is out of reach (where a platform's thread-locals can be destroyed): then the
    /// call passes through uncounted. With `reenters`, the reentrancy flag is up during the call.
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

    // SAFETY: every method forwards to the inner allocator with the caller's arguments unchanged
    // and returns its result unchanged, so `Alloc` upholds the `GlobalAlloc` contract exactly as
    // far as `A` does. The counting around the calls neither allocates, unwinds nor touches the
    // memory handed out.
    unsafe impl<A: GlobalAlloc + 'static> GlobalAlloc for Alloc<A> {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            counted(
                may_reenter::<A>(),
                // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
                || unsafe { self.inner.alloc(layout) },
                |t, p| {
                    if !p.is_null() {
                        t.on_alloc(*p, layout.size(), layout.size() as i64, 1);
                    }
                },
            )
        }

        #[inline]
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            counted(
                may_reenter::<A>(),
                // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract for `layout`.
                || unsafe { self.inner.alloc_zeroed(layout) },
                |t, p| {
                    if !p.is_null() {
                        t.on_alloc(*p, layout.size(), layout.size() as i64, 1);
                    }
                },
            )
        }

        #[inline]
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // The old block leaves the sample set before its address can be handed out again.
            #[cfg(feature = "sampled")]
            crate::sample::on_free(ptr);
            counted(
                may_reenter::<A>(),
                // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract for `ptr`, `layout`
                // and `new_size`.
                || unsafe { self.inner.realloc(ptr, layout, new_size) },
                |t, p| {
                    if !p.is_null() {
                        let delta = (new_size as i64).wrapping_sub(layout.size() as i64);
                        t.on_alloc(*p, new_size, delta, 0);
                    }
                },
            )
        }

        #[inline]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // A sampled block leaves the sample set before its address can be handed out again.
            #[cfg(feature = "sampled")]
            crate::sample::on_free(ptr);
            if may_reenter::<A>() {
                counted(
                    true,
                    // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract for `ptr`, `layout`.
                    || unsafe { self.inner.dealloc(ptr, layout) },
                    |t, ()| t.on_dealloc(layout.size()),
                );
            } else {
                // A free cannot fail: count it first, so the inner call is the last thing done.
                let _ = TALLY.try_with(|t| {
                    if !t.busy.get() {
                        t.on_dealloc(layout.size());
                    }
                });
                // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract for `ptr`, `layout`.
                unsafe { self.inner.dealloc(ptr, layout) }
            }
        }
    }
}

#[cfg(not(feature = "peak"))]
// SAFETY: every method forwards to the inner allocator with the caller's arguments unchanged and
// returns its result unchanged.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Alloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { self.inner.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { self.inner.dealloc(ptr, layout) }
    }
}

/// Whether the running binary's global allocator is dhat-kit's [`Alloc`] (built with counting).
///
/// It makes one small allocation and checks that this thread's tally saw it. Memory tests use it so
/// that they never pass vacuously.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     assert!(dhat_kit::is_installed());
/// }
/// ```
#[must_use]
pub fn is_installed() -> bool {
    #[cfg(feature = "peak")]
    {
        let blocks = || with_tally(|t| t.total_blocks.get());
        let before = blocks();
        drop(std::hint::black_box(Box::new(std::hint::black_box(1u8))));
        matches!((before, blocks()), (Some(a), Some(b)) if b != a)
    }
    #[cfg(not(feature = "peak"))]
    {
        false
    }
}

/// Without counting there is nothing to pause.
#[cfg(not(feature = "peak"))]
pub(crate) fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(all(test, feature = "peak"))]
mod tests {
    use super::counting::{uncounted, with_tally};

    #[test]
    fn a_first_publication_inside_an_uncounted_section_keeps_it_uncounted() {
        // A new thread: its tally has never been published.
        std::thread::spawn(|| {
            uncounted(|| {
                with_tally(|t| t.publish());
                assert_eq!(
                    with_tally(|t| t.is_uncounted()),
                    Some(true),
                    "the publication ended the uncounted section"
                );
            });
            assert_eq!(with_tally(|t| t.is_uncounted()), Some(false));
        })
        .join()
        .unwrap();
    }
}
