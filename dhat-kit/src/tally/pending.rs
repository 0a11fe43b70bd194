//! The process's figures to the operation, read from every thread's tally: so that a profiling
//! session's two ends, and [`process_stats`](crate::process_stats), hold every thread's work, not
//! only what the threads have handed to the process tally in batches.
//!
//! A thread hands its figures to the process tally in batches ([`Tally::publish`]); between two,
//! up to a batch of its work is its own, and an idle thread (a pool's worker between requests)
//! may hold one for good. So a reader sums, instead, every registered thread's own figures since
//! it started (its tally, read from another thread) and the figures of every thread that is not
//! in the table: those that have exited (each hands its figures over as it leaves the table),
//! and those that never got a slot or work on past their exit hook (each of their batches).
//!
//! # The protocol
//!
//! - The figures another thread reads ([`Word`], [`SignedWord`]) are written by their own thread
//!   only, with relaxed loads and stores: the plain moves a `Cell`'s are on x86-64 and AArch64.
//! - A thread's tally stays alive while the reader holds its slot in the table of bands (the
//!   claim of [`band`](super::band), which the thread's exit hook waits for before its memory
//!   can go), so the reader reaches it from its band's address.
//! - Its live bytes are two cells (the band's low end and the offset from it), moved together
//!   only off the fast path ([`Tally::move_band`]), and its published figures change together in
//!   a batch: both inside the tally's own sequence count ([`Moves`]), which sends the reader back
//!   when it moved or was odd.
//! - A thread leaving the table adds its figures to [`LEFT`] and frees its slot inside a count of
//!   departures begun and done ([`DEPARTURES`]): a read that one overlapped (the thread counted
//!   twice, or not at all) is taken again. Threads leave rarely, so busy threads never hold a
//!   read back.
//!
//! A thread working while it is read is read to within the operation in progress (its totals and
//! its live figures may be one operation apart); an idle one exactly.

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

/// A tally's sequence count: odd while its thread moves its band (the live bytes' two cells) or
/// publishes a batch.
pub(super) struct Moves(AtomicU64);

impl Moves {
    pub(super) const fn new() -> Moves {
        Moves(AtomicU64::new(0))
    }

    /// Runs `f`, which moves the band or publishes a batch, with the count odd (already odd: `f`
    /// is inside another such step). Only the tally's own thread calls this.
    pub(super) fn around<R>(&self, f: impl FnOnce() -> R) -> R {
        let n = self.0.load(Relaxed);
        if n & 1 == 1 {
            return f();
        }
        self.0.store(n.wrapping_add(1), Relaxed);
        fence(Release);
        let r = f();
        self.0.store(n.wrapping_add(2), Release);
        r
    }
}

/// How many threads have begun leaving the table and how many are done (see the module's
/// protocol).
pub(super) struct Departures {
    begun: AtomicU64,
    done: AtomicU64,
}

/// Every departure of a thread from the table.
pub(super) static DEPARTURES: Departures = Departures {
    begun: AtomicU64::new(0),
    done: AtomicU64::new(0),
};

impl Departures {
    /// Runs `f`, a thread leaving the table (its figures added to [`LEFT`], its slot freed),
    /// counted as begun before it and done after it.
    pub(super) fn around<R>(&self, f: impl FnOnce() -> R) -> R {
        self.begun.fetch_add(1, SeqCst);
        // The writes of `f` stay after the count (a seqlock writer's store barrier).
        fence(Release);
        let r = f();
        self.done.fetch_add(1, SeqCst);
        r
    }

    /// Runs `read` until no departure overlapped it, each time after every departure begun has
    /// ended. A departure is a few instructions, unless its thread was preempted: yielding may
    /// then not let it run (it waits for this thread's core, or a loaded machine's), so past
    /// [`YIELDS`](Self::YIELDS) tries this thread sleeps, a little longer each time. Only past
    /// [`PATIENCE`](Self::PATIENCE) (a process whose threads leave without pause) is the last read
    /// kept, which may count a thread leaving meanwhile twice or not at all. (It was kept after
    /// 64 yields: on a loaded machine a read counted a leaving thread twice, and the process's
    /// totals went back by its 100 allocations at the next read.)
    pub(super) fn without_one<R>(&self, mut read: impl FnMut() -> R) -> R {
        let start = std::time::Instant::now();
        let mut tries = 0;
        let mut nap = std::time::Duration::from_micros(1);
        let mut pause = |tries: u32| {
            if tries < Self::YIELDS {
                std::thread::yield_now();
            } else {
                std::thread::sleep(nap);
                nap = (nap * 2).min(std::time::Duration::from_millis(1));
            }
        };
        loop {
            tries += 1;
            let patient = tries < Self::YIELDS || start.elapsed() < Self::PATIENCE;
            let done = self.done.load(SeqCst);
            let begun = self.begun.load(SeqCst);
            if begun != done && patient {
                pause(tries);
                continue;
            }
            let r = read();
            fence(SeqCst);
            if self.begun.load(SeqCst) == begun || !patient {
                return r;
            }
            pause(tries);
        }
    }

    /// How many times a read waits for a departure by yielding before it sleeps.
    const YIELDS: u32 = 64;

    /// How long a read waits for a moment no thread leaves before it keeps what it read.
    const PATIENCE: std::time::Duration = std::time::Duration::from_millis(200);

    /// In a forked child, where only the forking thread lives on: a departure the fork caught
    /// on another thread never ends there.
    #[cfg(unix)]
    pub(super) fn in_child(&self) {
        self.done.store(self.begun.load(SeqCst), SeqCst);
    }
}

/// Figures: totals (bytes, blocks) and live figures (bytes, blocks).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Figures {
    pub(super) totals: [u64; 2],
    pub(super) live: [i64; 2],
}

impl Figures {
    pub(super) fn add(&mut self, other: Figures) {
        for i in 0..2 {
            self.totals[i] = self.totals[i].wrapping_add(other.totals[i]);
            self.live[i] = self.live[i].wrapping_add(other.live[i]);
        }
    }
}

/// The figures of the threads not in the table: those that left it, and the batches of those
/// that never got a slot or work on past their exit hook.
pub(super) struct Left {
    totals: [AtomicU64; 2],
    live: [AtomicI64; 2],
}

/// The figures of every thread not in the table.
pub(super) static LEFT: Left = Left {
    totals: [AtomicU64::new(0), AtomicU64::new(0)],
    live: [AtomicI64::new(0), AtomicI64::new(0)],
};

impl Left {
    /// Adds a thread's figures (a thread leaving the table, or a batch of one not in it).
    pub(super) fn add(&self, f: Figures) {
        for i in 0..2 {
            if f.totals[i] != 0 {
                self.totals[i].fetch_add(f.totals[i], Relaxed);
            }
            if f.live[i] != 0 {
                self.live[i].fetch_add(f.live[i], Relaxed);
            }
        }
    }

    fn read(&self) -> Figures {
        Figures {
            totals: [self.totals[0].load(SeqCst), self.totals[1].load(SeqCst)],
            live: [self.live[0].load(SeqCst), self.live[1].load(SeqCst)],
        }
    }
}

/// What one read of a thread's tally holds: its figures since it started, and those it has not
/// published (whose live part is what a profiling session carries, see
/// [`process`](super::process)).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub(super) struct Read {
    pub(super) own: Figures,
    pub(super) pending: Figures,
}

/// `t`'s figures. Read from any thread; exact for an idle one (see the module's protocol).
pub(super) fn of(t: &Tally) -> Read {
    let mut spins = 0u32;
    loop {
        let before = t.moves.0.load(Acquire);
        let own = Figures {
            totals: [t.total_bytes.get(), t.total_blocks.get()],
            live: [t.curr_bytes(), t.curr_blocks()],
        };
        let published = Figures {
            totals: [t.pub_total_bytes.get(), t.pub_total_blocks.get()],
            // Before its first publication (registered, that batch under way), nothing.
            live: match t.pub_curr_bytes.get() {
                NEVER_PUBLISHED => [0, 0],
                bytes => [bytes, t.pub_curr_blocks.get()],
            },
        };
        fence(Acquire);
        if before & 1 == 0 && t.moves.0.load(Relaxed) == before {
            let pending = Figures {
                totals: [
                    own.totals[0].wrapping_sub(published.totals[0]),
                    own.totals[1].wrapping_sub(published.totals[1]),
                ],
                live: [
                    own.live[0].wrapping_sub(published.live[0]),
                    own.live[1].wrapping_sub(published.live[1]),
                ],
            };
            return Read { own, pending };
        }
        // The band moving, or a batch: a few instructions, unless its thread was preempted.
        spins += 1;
        if spins.is_multiple_of(64) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// The tally whose band is at address `band`.
///
/// # Safety
///
/// `band` is the address of the `band` field of a thread's tally registered in the table
/// (registration exposed the whole tally's provenance, see [`Tally::publish`]), and that
/// tally's memory stays valid while the reference is used (its slot is held).
pub(super) unsafe fn tally_at<'a>(band: usize) -> &'a Tally {
    let at = band.wrapping_sub(std::mem::offset_of!(Tally, band));
    // SAFETY: the caller guarantees that `at` is a registered, live tally whose provenance was
    // exposed; its fields read through the reference are atomics, its `Cell`s are not touched.
    unsafe { &*std::ptr::with_exposed_provenance::<Tally>(at) }
}

/// In a forked child: see [`Departures::in_child`].
#[cfg(unix)]
pub(super) fn in_child() {
    DEPARTURES.in_child();
}

/// In a forked child, a thread of the parent's that the child has not got leaves the table, with
/// its figures as the fork left its memory: all it did, as a reader of the process's figures
/// would have read it, where it was between two of its batches or band moves (an idle thread, or
/// one on its fast path: then to the operation, or one off). Read once, never waited on (the
/// thread will not finish what it began). Taken in the middle of a batch or a move, only what
/// it had published stays in the process's figures (as in the process tally), the rest is lost
/// with it.
#[cfg(unix)]
pub(super) fn left_by_fork(t: &Tally) {
    let moves = t.moves.0.load(Acquire);
    if moves & 1 == 0 {
        LEFT.add(Figures {
            totals: [t.total_bytes.get(), t.total_blocks.get()],
            live: [t.curr_bytes(), t.curr_blocks()],
        });
        return;
    }
    if t.pub_curr_bytes.get() == NEVER_PUBLISHED {
        return;
    }
    LEFT.add(Figures {
        totals: [t.pub_total_bytes.get(), t.pub_total_blocks.get()],
        live: [t.pub_curr_bytes.get(), t.pub_curr_blocks.get()],
    });
}

/// The process's figures since it started, to the operation: every thread's in the table, read
/// from its tally, and those of every thread not in it ([`LEFT`]). `each` is given every tally
/// read (for a profiling session's carries); on a read taken again, again.
pub(super) fn process_figures(mut each: impl FnMut(&Tally, &Read)) -> Figures {
    DEPARTURES.without_one(|| {
        let mut sum = LEFT.read();
        super::BANDS.visit(|band| {
            // SAFETY: a registered band is a tally's, and `visit` holds its slot until this
            // closure returns.
            let t = unsafe { tally_at(band as *const AtomicU64 as usize) };
            let read = of(t);
            each(t, &read);
            sum.add(read.own);
        });
        sum
    })
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
                    worst = worst.max(of(t).pending.live[0].unsigned_abs());
                }
                worst
            },
        );
        assert!(worst <= super::super::PUBLISH_BYTES, "{worst} bytes");
    }

    /// A read that a thread's departure overlapped (its figures may be counted both in the table
    /// and among the departed, or in neither) is taken again; one no departure overlapped is not.
    #[test]
    fn a_read_a_departure_overlapped_is_taken_again() {
        let departures = Departures {
            begun: AtomicU64::new(0),
            done: AtomicU64::new(0),
        };
        let mut reads = 0;
        departures.without_one(|| {
            reads += 1;
            if reads == 1 {
                std::thread::scope(|s| {
                    s.spawn(|| departures.around(|| ()));
                });
            }
        });
        assert_eq!(reads, 2);
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
                of(t).pending
            },
        );
        let expected = Figures {
            totals: [60, 3],
            live: [40, 2],
        };
        assert_eq!(pending, expected);
    }
}
