//! The band each thread's fast path compares against, and the table through which exact mode
//! reaches every thread's.
//!
//! Each thread's tally holds its own band ([`Tally::band`](super::Tally)): [`BAND`](super::BAND)
//! normally, 0 while exact mode is on (so that every operation is out of it and takes the slow
//! path). The fast path loads it from the thread's own cache line, where a process-wide value cost
//! a load through the global offset table on every operation. Exact mode is turned on and off
//! rarely (a [`measure_all`](crate::measure_all) beginning or ending), so the writer pays instead:
//! it walks [`Bands`], the table of every registered thread's band, and writes each.
//!
//! # The protocol
//!
//! A slot holds 0 (free) or the address of a thread's band, with [`BUSY`] set while someone writes
//! that band. Every write of a band happens inside such a claim, and reads the mode inside it, so
//! the writes to one thread's band are serialised and the last one read the mode after every
//! change whose walk has finished:
//!
//! - A thread registers at its first publication: a compare-and-swap of a free slot to its
//!   address with [`BUSY`], then it reads the mode, writes its band, and clears [`BUSY`]. It never
//!   waits (it is inside the allocator): a taken slot is passed over. No slot free, it is not
//!   registered, and its band stays 0: every operation on the slow path, exact but slower.
//! - A walker (after it changed the mode) claims each registered slot the same way, waiting while
//!   another writer holds it, writes the band of the mode it reads, and lets it go.
//! - A thread leaving (its exit hook, before its memory can be freed) waits while its slot is
//!   claimed, then frees it: no walker writes to a band whose thread is gone.
//!
//! The mode and the slots are read and written with sequentially consistent operations: a walker
//! that found a slot free (or beyond the slots in use, [`Bands::used`]) before a thread registered
//! there changed the mode before that thread read it.

use std::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Relaxed, Release, SeqCst},
};

/// Set in a slot while a writer holds it (a band's address is 8-aligned, so its low bit is free).
pub(super) const BUSY: usize = 1;

/// A table of `N` registered bands, and the mode that decides their value.
pub(super) struct Bands<const N: usize> {
    slots: [AtomicUsize; N],
    /// How many slots from the first have ever been taken: a walk reads no further.
    used: AtomicUsize,
}

impl<const N: usize> Bands<N> {
    pub(super) const fn new() -> Self {
        Bands {
            slots: [const { AtomicUsize::new(0) }; N],
            used: AtomicUsize::new(0),
        }
    }

    /// Registers `band` (a thread's own, at its first publication) and writes the band in force
    /// (`band_of` the mode, read inside the claim). Returns its slot, or `None` when every slot is
    /// taken (the band is then left as it is). Never waits: called from inside the allocator.
    pub(super) fn register(&self, band: &AtomicU64, band_of: impl Fn() -> u64) -> Option<usize> {
        let address = band as *const AtomicU64 as usize;
        let index = self.slots.iter().position(|slot| {
            slot.load(Relaxed) == 0
                && slot
                    .compare_exchange(0, address | BUSY, SeqCst, Relaxed)
                    .is_ok()
        })?;
        self.used.fetch_max(index + 1, SeqCst);
        band.store(band_of(), Relaxed);
        self.slots[index].store(address, SeqCst);
        Some(index)
    }

    /// Writes every registered band (`band_of` the mode, read inside each claim): after a change
    /// of the mode, so that every thread's next operation sees it. Waits while another writer
    /// holds a slot (a few instructions).
    pub(super) fn set_all(&self, band_of: impl Fn() -> u64) {
        self.visit(|band| band.store(band_of(), Relaxed));
    }

    /// Runs `f` on every registered band, holding its slot (as a walker does), so that its
    /// thread's exit hook, and with it the thread's memory, waits until `f` returns. Waits while
    /// another writer holds a slot (a few instructions).
    pub(super) fn visit(&self, mut f: impl FnMut(&AtomicU64)) {
        let used = self.used.load(SeqCst);
        for slot in &self.slots[..used] {
            let Some(address) = claim(slot, |v| v != 0) else {
                continue;
            };
            // SAFETY: the slot holds the address of a registered thread's band, and the claim
            // (`BUSY`, set by this walker) keeps that thread from leaving, so the tally's memory
            // is alive (a thread frees its slot in its exit hook, before its memory goes).
            f(unsafe { &*(address as *const AtomicU64) });
            slot.store(address, Release);
        }
    }

    /// Frees slot `index`, which holds `band` (a thread's exit hook): waits while a walker writes
    /// the band, so that none writes it once this returns.
    pub(super) fn unregister(&self, index: usize, band: &AtomicU64) {
        let address = band as *const AtomicU64 as usize;
        let slot = &self.slots[index];
        if claim(slot, |v| v == address).is_some() {
            slot.store(0, Release);
        }
    }

    /// The slots in use, for tests.
    #[cfg(test)]
    pub(super) fn slots(&self) -> impl Iterator<Item = &AtomicUsize> {
        self.slots[..self.used.load(SeqCst)].iter()
    }

    /// In a forked child, where only the forking thread lives on: frees every slot but the one
    /// holding the band at `own` (0: none), and drops every claim, its own slot's included, since
    /// the threads that held them are not in the child. Their memory may be unmapped and reused
    /// there, so no walk may write to it; `gone` is given each freed band's address first, while
    /// it is still the copy of the parent's. Runs while no other thread exists.
    pub(super) fn keep_only(&self, own: usize, mut gone: impl FnMut(usize)) {
        for slot in &self.slots[..self.used.load(SeqCst)] {
            let address = slot.load(SeqCst) & !BUSY;
            if address != own && address != 0 {
                gone(address);
            }
            slot.store(if address == own { address } else { 0 }, SeqCst);
        }
    }
}

/// Sets [`BUSY`] on `slot` once it holds a value that `wanted` accepts, waiting while another
/// writer holds it; returns that value, or `None` when the slot holds one `wanted` refuses.
fn claim(slot: &AtomicUsize, wanted: impl Fn(usize) -> bool) -> Option<usize> {
    let mut spins = 0u32;
    loop {
        let v = slot.load(SeqCst);
        if v & BUSY != 0 {
            // Held by another writer for a few instructions, unless it was preempted.
            spins += 1;
            if spins.is_multiple_of(64) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
            continue;
        }
        if !wanted(v) {
            return None;
        }
        if slot.compare_exchange(v, v | BUSY, SeqCst, Relaxed).is_ok() {
            return Some(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Barrier;

    const ON: u64 = 0;
    const OFF: u64 = 99;
    /// Written into a band once its thread left: a walker writing it afterwards would show.
    const GONE: u64 = 0xdead;

    fn band_of(mode: &AtomicUsize) -> impl Fn() -> u64 + '_ {
        move || if mode.load(SeqCst) == 0 { OFF } else { ON }
    }

    #[test]
    fn a_walk_writes_every_registered_band_and_no_other() {
        let bands = Bands::<4>::new();
        let mode = AtomicUsize::new(0);
        let cells: Vec<AtomicU64> = (0..6).map(|_| AtomicU64::new(7)).collect();
        let slots: Vec<Option<usize>> = cells
            .iter()
            .map(|c| bands.register(c, band_of(&mode)))
            .collect();
        assert_eq!(slots, [Some(0), Some(1), Some(2), Some(3), None, None]);
        let values = || cells.iter().map(|c| c.load(SeqCst)).collect::<Vec<_>>();
        assert_eq!(
            values(),
            [OFF, OFF, OFF, OFF, 7, 7],
            "registration writes the band"
        );
        bands.unregister(1, &cells[1]);
        mode.fetch_add(1, SeqCst);
        bands.set_all(band_of(&mode));
        assert_eq!(
            values(),
            [ON, OFF, ON, ON, 7, 7],
            "a left thread's band is not written"
        );
        // The freed slot is taken again, with the mode in force.
        assert_eq!(bands.register(&cells[4], band_of(&mode)), Some(1));
        assert_eq!(values(), [ON, OFF, ON, ON, ON, 7]);
        mode.fetch_sub(1, SeqCst);
        bands.set_all(band_of(&mode));
        assert_eq!(values(), [OFF, OFF, OFF, OFF, OFF, 7]);
    }

    #[test]
    fn unregistering_a_slot_another_band_took_leaves_it() {
        let bands = Bands::<2>::new();
        let mode = AtomicUsize::new(0);
        let [a, b] = [AtomicU64::new(0), AtomicU64::new(0)];
        assert_eq!(bands.register(&a, band_of(&mode)), Some(0));
        bands.unregister(0, &b);
        assert_eq!(bands.slots[0].load(SeqCst), &a as *const AtomicU64 as usize);
    }

    #[test]
    fn after_a_fork_only_the_forking_threads_slot_is_left_unclaimed() {
        let bands = Bands::<4>::new();
        let mode = AtomicUsize::new(0);
        let cells = [const { AtomicU64::new(0) }; 3];
        for cell in &cells {
            assert!(bands.register(cell, band_of(&mode)).is_some());
        }
        let address = |i: usize| &cells[i] as *const AtomicU64 as usize;
        // A walker of the parent held the forking thread's slot (index 1) and another when the
        // process forked: neither claim can end in the child.
        bands.slots[1].fetch_or(BUSY, SeqCst);
        bands.slots[2].fetch_or(BUSY, SeqCst);
        bands.keep_only(address(1), |_| ());
        let slots = bands.slots.each_ref().map(|s| s.load(SeqCst));
        assert_eq!(slots, [0, address(1), 0, 0]);
        // A child whose forking thread had no slot keeps none.
        bands.keep_only(0, |_| ());
        assert!(bands.slots.iter().all(|s| s.load(SeqCst) == 0));
    }

    /// Threads register, check and leave while walkers turn the mode on and off, on a table too
    /// small for all of them. While a walker holds the mode on (its walk finished), every band
    /// registered and not being written reads "on"; no band is written after its thread left; a
    /// band that found no slot is never written; at the end every registered band reads the
    /// final mode.
    #[test]
    fn walks_registrations_and_exits_interleave_safely() {
        const THREADS: usize = 6;
        const ROUNDS: usize = 300;
        let bands = Bands::<4>::new();
        let mode = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let start = Barrier::new(THREADS + 2);
        // Every registration's band gets a fresh cell, kept to the end.
        let cells: Vec<Vec<AtomicU64>> = (0..THREADS)
            .map(|_| (0..ROUNDS).map(|_| AtomicU64::new(ON)).collect())
            .collect();
        let outcome: Vec<Vec<Option<usize>>> = std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    start.wait();
                    while !stop.load(SeqCst) {
                        mode.fetch_add(1, SeqCst);
                        bands.set_all(band_of(&mode));
                        for slot in &bands.slots {
                            let v = slot.load(SeqCst);
                            if v != 0 && v & BUSY == 0 {
                                // SAFETY: the test's cells outlive the scope.
                                let band = unsafe { &*(v as *const AtomicU64) };
                                let seen = band.load(SeqCst);
                                assert!(seen == ON || seen == GONE, "band {seen} while on");
                            }
                        }
                        mode.fetch_sub(1, SeqCst);
                        bands.set_all(band_of(&mode));
                    }
                });
            }
            let workers: Vec<_> = cells
                .iter()
                .map(|mine| {
                    let (bands, mode, start) = (&bands, &mode, &start);
                    s.spawn(move || {
                        start.wait();
                        let mut got = Vec::new();
                        for cell in mine {
                            let slot = bands.register(cell, band_of(mode));
                            std::thread::yield_now();
                            if let Some(index) = slot {
                                bands.unregister(index, cell);
                                cell.store(GONE, SeqCst);
                            }
                            got.push(slot);
                        }
                        got
                    })
                })
                .collect();
            let got = workers.into_iter().map(|w| w.join().unwrap()).collect();
            stop.store(true, SeqCst);
            got
        });
        let mut unregistered = 0;
        for (mine, got) in cells.iter().zip(&outcome) {
            for (cell, slot) in mine.iter().zip(got) {
                let expected = if slot.is_some() { GONE } else { ON };
                unregistered += usize::from(slot.is_none());
                assert_eq!(cell.load(SeqCst), expected, "registered: {slot:?}");
            }
        }
        assert!(bands.slots.iter().all(|s| s.load(SeqCst) == 0));
        eprintln!(
            "{unregistered} of {} registrations found no slot",
            THREADS * ROUNDS
        );
        // Registered bands that stay: written with the final mode.
        let last: Vec<AtomicU64> = (0..4).map(|_| AtomicU64::new(5)).collect();
        for cell in &last {
            bands.register(cell, band_of(&mode)).unwrap();
        }
        bands.set_all(band_of(&mode));
        assert!(last.iter().all(|c| c.load(SeqCst) == OFF));
    }
}
