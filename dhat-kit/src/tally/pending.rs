//! What the threads still running have not handed to the process tally yet, read from another
//! thread: so that a profiling session's two ends, and [`process_stats`](crate::process_stats),
//! hold every thread's work to the operation, not to the batch.
//!
//! A thread hands its figures to the process tally in batches ([`Tally::publish`]); between two,
//! up to a batch of its work is its own. An idle thread (a pool's worker between requests) may
//! hold one for good. So a reader sums the process tally and, for each registered thread, its
//! figures less those it last published.
//!
//! # The protocol
//!
//! - The figures another thread reads ([`Word`], [`SignedWord`]) are written by their own thread
//!   only, with relaxed loads and stores: the plain moves a `Cell`'s are on x86-64 and AArch64.
//! - A thread's tally stays alive while the reader holds its slot in the table of bands (the
//!   claim of [`band`](super::band), which the thread's exit hook waits for before its memory
//!   can go), so the reader reaches it from its band's address.
//! - Its live bytes are two cells (the band's low end and the offset from it), moved together
//!   only off the fast path ([`Tally::move_band`]), inside the tally's own sequence count
//!   ([`Moves`]): the reader reads them again when the count moved or was odd.
//! - A batch changes the process tally and the thread's published figures, two places: every
//!   batch is counted as begun before it and as done after it ([`BATCHES`]), and a read that a
//!   batch overlapped is taken again.
//!
//! A thread working while it is read is read to within the operation in progress (its totals and
//! its live figures may be one operation apart); an idle one exactly.

use super::band::Bands;
use super::{Tally, NEVER_PUBLISHED};
use std::sync::atomic::{
    fence, AtomicI64, AtomicU64,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};

/// A figure of a thread's tally that another thread reads: written by its own thread only.
///
/// Unlike a `Cell`'s, its accesses are never merged into a wider one. With `Cell`s the compiler
/// made a free load and store the live bytes and the blocks gone as one 16-byte pair, which the
/// processor cannot forward from the allocation's 8-byte store of the live bytes just before: a
/// stall of about 4 ns on every alloc+free pair (the fixed-size pairs of
/// `benches/alloc_overhead.rs` cost 1.55x `System` with it, 1.15x without), which a compiler
/// fence between the two had to prevent.
pub(super) struct Word(AtomicU64);

impl Word {
    pub(super) const fn new(v: u64) -> Word {
        Word(AtomicU64::new(v))
    }

    #[inline(always)]
    pub(super) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }

    /// Sets the figure. Only its own thread calls this.
    #[inline(always)]
    pub(super) fn set(&self, v: u64) {
        self.0.store(v, Relaxed);
    }

    /// The figure, read by its own thread as plain memory, which the compiler may load once for
    /// several uses or together with its neighbours (a mark's snapshot of the whole tally).
    #[inline(always)]
    pub(super) fn own(&self) -> u64 {
        // SAFETY: only the tally's own thread writes the figure, and this is that thread (the
        // tally is reached through its thread-local), so no write can race with this read;
        // other threads only read it, atomically.
        unsafe { *self.0.as_ptr() }
    }
}

/// A signed [`Word`].
pub(super) struct SignedWord(AtomicI64);

impl SignedWord {
    pub(super) const fn new(v: i64) -> SignedWord {
        SignedWord(AtomicI64::new(v))
    }

    #[inline(always)]
    pub(super) fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }

    /// Sets the figure. Only its own thread calls this.
    #[inline(always)]
    pub(super) fn set(&self, v: i64) {
        self.0.store(v, Relaxed);
    }

    /// As [`Word::own`].
    #[inline(always)]
    pub(super) fn own(&self) -> i64 {
        // SAFETY: as in `Word::own`: only this thread writes the figure.
        unsafe { *self.0.as_ptr() }
    }
}

/// A tally's sequence count: odd while its thread moves its band (the live bytes' two cells).
pub(super) struct Moves(AtomicU64);

impl Moves {
    pub(super) const fn new() -> Moves {
        Moves(AtomicU64::new(0))
    }

    /// Runs `f`, which moves the band, with the count odd. Only the tally's own thread calls this.
    pub(super) fn around<R>(&self, f: impl FnOnce() -> R) -> R {
        let n = self.0.load(Relaxed);
        self.0.store(n.wrapping_add(1), Relaxed);
        fence(Release);
        let r = f();
        self.0.store(n.wrapping_add(2), Release);
        r
    }
}

/// How many batches have begun and how many are done (see the module's protocol).
pub(super) struct Batches {
    begun: AtomicU64,
    done: AtomicU64,
}

/// Every batch of every thread.
pub(super) static BATCHES: Batches = Batches {
    begun: AtomicU64::new(0),
    done: AtomicU64::new(0),
};

impl Batches {
    /// Runs `f`, a thread's batch (its published figures and the process tally both changed),
    /// counted as begun before it and done after it.
    pub(super) fn around<R>(&self, f: impl FnOnce() -> R) -> R {
        self.begun.fetch_add(1, SeqCst);
        let r = f();
        self.done.fetch_add(1, SeqCst);
        r
    }

    /// Runs `read` until no batch overlapped it, at most `TRIES` times (a process whose threads
    /// hand over batches without pause keeps the last, within a batch per thread): each time,
    /// after every batch begun has ended.
    pub(super) fn without_one<R>(&self, mut read: impl FnMut() -> R) -> R {
        const TRIES: u32 = 64;
        let mut tries = 0;
        loop {
            tries += 1;
            let done = self.done.load(SeqCst);
            let begun = self.begun.load(SeqCst);
            if begun != done && tries < TRIES {
                // A batch in progress: a few instructions, unless its thread was preempted.
                std::thread::yield_now();
                continue;
            }
            let r = read();
            fence(SeqCst);
            if self.begun.load(SeqCst) == begun || tries >= TRIES {
                return r;
            }
        }
    }
}

/// Unpublished figures: totals (bytes, blocks) and the change of the live figures (bytes,
/// blocks).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) totals: [u64; 2],
    pub(super) live: [i64; 2],
}

impl Pending {
    fn add(&mut self, other: Pending) {
        for i in 0..2 {
            self.totals[i] = self.totals[i].wrapping_add(other.totals[i]);
            self.live[i] = self.live[i].wrapping_add(other.live[i]);
        }
    }
}

/// What `t` has not published yet. Read from any thread; exact for an idle one (see the
/// module's protocol).
pub(super) fn of(t: &Tally) -> Pending {
    let mut spins = 0u32;
    loop {
        let before = t.moves.0.load(Acquire);
        if t.pub_curr_bytes.get() == NEVER_PUBLISHED {
            // Registered, its first batch under way: all it did goes in that batch.
            return Pending::default();
        }
        let pending = Pending {
            totals: [
                t.total_bytes.get().wrapping_sub(t.pub_total_bytes.get()),
                t.total_blocks.get().wrapping_sub(t.pub_total_blocks.get()),
            ],
            live: [
                t.curr_bytes().wrapping_sub(t.pub_curr_bytes.get()),
                t.curr_blocks().wrapping_sub(t.pub_curr_blocks.get()),
            ],
        };
        fence(Acquire);
        if before & 1 == 0 && t.moves.0.load(Relaxed) == before {
            return pending;
        }
        // The band moving: a few instructions, unless its thread was preempted.
        spins += 1;
        if spins.is_multiple_of(64) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// The sum of what every registered thread in `bands` has not published yet.
pub(super) fn sum<const N: usize>(bands: &Bands<N>) -> Pending {
    let mut sum = Pending::default();
    bands.visit(|band| {
        let at = band as *const AtomicU64 as usize - std::mem::offset_of!(Tally, band);
        // SAFETY: a registered band is the `band` field of a thread's tally, so `at` is that
        // tally's address; `visit` holds the band's slot, which keeps the thread's exit hook
        // from returning (so its thread-local memory is alive) until this closure returns. The
        // tally's fields read here are atomics (`Word`, `SignedWord`, `Moves`); its `Cell`s are
        // not touched.
        let t = unsafe { &*(at as *const Tally) };
        sum.add(of(t));
    });
    sum
}

#[cfg(test)]
mod tests {
    use super::super::{uncounted, with_tally, Tally};
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    /// Runs `work` on a thread of its own (given its tally) while `read` runs here (given the same
    /// tally, to read only); that thread stays alive until `read` returns.
    fn read_while<R>(work: impl Fn(&Tally) + Sync, read: impl FnOnce(&Tally) -> R) -> R {
        let at = AtomicUsize::new(0);
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                with_tally(|t| {
                    at.store(t as *const Tally as usize, SeqCst);
                    while !done.load(SeqCst) {
                        work(t);
                    }
                })
                .unwrap();
            });
            let t = loop {
                match at.load(SeqCst) {
                    0 => std::thread::yield_now(),
                    // SAFETY: the thread and its tally stay alive until `done` is set below, and
                    // this thread only reads the tally's atomics.
                    at => break unsafe { &*(at as *const Tally) },
                }
            };
            /// Lets the worker end when `read` returns, or panics.
            struct Done<'a>(&'a AtomicBool);
            impl Drop for Done<'_> {
                fn drop(&mut self) {
                    self.0.store(true, SeqCst);
                }
            }
            let _done = Done(&done);
            read(t)
        })
    }

    /// While its thread pauses and resumes its counting (which moves its band: the low end, then
    /// the offset from it) and allocates, a reader never sees a live figure half moved, which
    /// reads about 2^62 bytes off: the sequence count sends it back.
    #[test]
    fn a_reader_never_sees_the_band_half_moved() {
        let worst = read_while(
            |t| {
                uncounted(|| ());
                t.on_alloc(std::ptr::null_mut(), 24);
                t.on_free(24);
            },
            |t| {
                let mut worst = 0u64;
                for _ in 0..2_000_000 {
                    worst = worst.max(of(t).live[0].unsigned_abs());
                }
                worst
            },
        );
        assert!(worst <= super::super::PUBLISH_BYTES, "{worst} bytes");
    }

    /// A thread that has stopped is read exactly: everything since its last batch.
    #[test]
    fn an_idle_threads_unpublished_figures_are_read_whole() {
        let (started, done) = (AtomicBool::new(false), AtomicBool::new(false));
        let pending = read_while(
            |t| {
                if started.swap(true, SeqCst) {
                    return;
                }
                // Published, and not where the next allocation makes a batch due by the count.
                t.publish();
                while Tally::batch_due(t.total_blocks.get()) {
                    t.on_alloc(std::ptr::null_mut(), 8);
                    t.on_free(8);
                    t.publish();
                }
                for size in [10, 20, 30] {
                    t.on_alloc(std::ptr::null_mut(), size);
                }
                t.on_free(20);
                done.store(true, SeqCst);
            },
            |t| {
                while !done.load(SeqCst) {
                    std::thread::yield_now();
                }
                of(t)
            },
        );
        let expected = Pending {
            totals: [60, 3],
            live: [40, 2],
        };
        assert_eq!(pending, expected);
    }
}
