//! The sampled heap profile: the countdown's slow path, the stack capture, the live sample set and
//! the file.
//!
//! Nothing here is reached by an unsampled allocation. The counting allocator keeps, per thread, a
//! countdown of bytes to the next sample point (see [`estimate`]); when an allocation crosses it,
//! [`on_sampled`] takes the stack into a fixed buffer on the stack, interns it, and records the
//! block by address in the live set, so that its free (from any thread) is recognised. A free is
//! checked against a table of counters indexed by a hash of the address ([`on_free`]): while the
//! counter of its slot is 0, no sampled block can be at that address, and the free costs one load.
//!
//! The session's figures at its peak are the live set at the moment the process's live bytes last
//! reached their highest since the session began: the counting allocator reports each new peak
//! ([`on_new_peak`]), and the set is copied, lazily, just before it next changes. That peak is fed
//! in batches (at most 64 KiB per thread late), so the set copied is the one live at that batch's
//! publication.

pub(crate) mod estimate;
mod file;
mod unwind;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use rustc_hash::FxBuildHasher;

pub(crate) use self::file::profile;

/// The deepest stack a sample keeps (innermost frames).
const MAX_FRAMES: usize = 96;

/// Slots of the free filter: a power of two.
const SLOTS: usize = 1 << 16;

/// The free filter: one bit per slot, set while a live sampled block hashes to it. 8 KiB, so the
/// check on a free stays in the cache whatever the address; the counts behind the bits are the
/// sample set's ([`State::slots`]), kept under its lock.
static FILTER: [AtomicU64; SLOTS / 64] = [const { AtomicU64::new(0) }; SLOTS / 64];

/// A value on cache lines of its own (two: processors fetch lines in pairs), for a read-mostly
/// value every operation loads: placed by the linker beside a static that another thread writes
/// (the sampler's peak time sat on the line of its live count), each write there would make the
/// next load on every other thread miss.
#[repr(align(128))]
struct OwnLine<T>(T);

/// How many sampled blocks are live: while 0, a free does not even look at the filter. Read by
/// every free, so on lines of its own.
static LIVE: OwnLine<AtomicU64> = OwnLine(AtomicU64::new(0));

/// The number of the running session (odd), or 0 when none runs. A thread's countdown is armed for
/// one session; it re-arms when it sees another number.
static SESSION: AtomicU64 = AtomicU64::new(0);
/// How many threads have seeded their generator ([`thread_number`]).
static SEEDED: AtomicU64 = AtomicU64::new(0);
static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// Whether the session's peak of the process's live bytes was raised since the live set last
/// changed: the set as it stands is then the one at the peak, copied to the peak figures before
/// it next changes.
static PEAK: PeakPending = PeakPending::new();
/// Whether the session's peak was raised since the live set last changed. A raise (from whichever
/// thread's batch raised it) and the check of a change (under the set's lock) are one atomic
/// operation each on the same flag, so whichever order they take, the raise is seen: before the
/// change, the set about to change is copied; after it, the changed set is, at the next change or
/// at the session's end. (Two counters, the set's version and the version at the peak, each
/// written apart, lost a raise that read the version just before a change: its store then named
/// a version already gone, and no later change matched it.)
struct PeakPending(AtomicBool);

impl PeakPending {
    const fn new() -> Self {
        PeakPending(AtomicBool::new(false))
    }

    /// The peak was raised: the set as it stands is the one at the peak.
    fn raise(&self) {
        self.0.store(true, Relaxed);
    }

    /// Whether the peak was raised since the last call; the set is about to change (or be read
    /// for good), so it is copied now if so.
    fn take(&self) -> bool {
        self.0.swap(false, Relaxed)
    }
}

/// The time of the last raised peak, in microseconds since the session began.
static PEAK_MICROS: AtomicU64 = AtomicU64::new(0);
/// The running session's mean interval (the bits of an `f64`), readable without the lock.
static INTERVAL: AtomicU64 = AtomicU64::new(0);
/// The origin of [`START_MICROS`]: the process's first session start, or its first fork if that
/// came first ([`at_fork`]).
static T0: OnceLock<Instant> = OnceLock::new();
/// The running session's start, in microseconds since [`T0`].
static START_MICROS: AtomicU64 = AtomicU64::new(0);

/// The session's samples. A std mutex, so that the fork hooks can hold it across a fork and let it
/// go in the child ([`at_fork`]): letting it go there wakes no one, where a lock with a shared
/// queue of waiters would walk entries of threads the child has not got.
static STATE: Mutex<Option<State>> = Mutex::new(None);

/// The sample set, locked (a panic while it was held, which only an allocation failure could
/// cause, leaves it as usable as it was).
fn lock_state() -> MutexGuard<'static, Option<State>> {
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

thread_local! {
    /// Set while this thread works on the sample set: its own frees are not checked (the set's
    /// tables are never sampled, and the lock is already held).
    static IN_SAMPLER: Cell<bool> = const { Cell::new(false) };
}

/// An estimate and its estimated variance: the sum over samples of the weight `w`, and of
/// `w (w - x)` where `x` is what the sample counted (its size, or one block): the
/// Horvitz-Thompson estimator's unbiased estimate of its variance. A block always sampled
/// (`w = x`) adds no variance.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Est {
    pub(crate) value: f64,
    pub(crate) var: f64,
}

impl Est {
    fn of(w: f64, x: f64) -> Est {
        Est {
            value: w,
            var: (w * (w - x)).max(0.0),
        }
    }

    fn add(&mut self, e: Est) {
        self.value += e.value;
        self.var += e.var;
    }

    fn sub(&mut self, e: Est) {
        self.value -= e.value;
        self.var -= e.var;
    }
}

/// One call stack's estimated figures.
#[derive(Debug, Clone, Default)]
pub(crate) struct Site {
    /// The region path active at the samples (`usize::MAX`: none), then the stack's addresses.
    pub(crate) ips: Box<[usize]>,
    pub(crate) samples: u64,
    pub(crate) total_bytes: Est,
    pub(crate) total_blocks: Est,
    pub(crate) curr_bytes: Est,
    pub(crate) curr_blocks: Est,
    pub(crate) gmax_bytes: Est,
    pub(crate) gmax_blocks: Est,
    /// The highest estimate of live bytes and blocks the site reached (DHAT's `mb`, `mbk`).
    pub(crate) max_bytes: f64,
    pub(crate) max_blocks: f64,
    /// The estimated total lifetime of the site's freed blocks, in microseconds (DHAT's `tl`,
    /// before the blocks still live at the end are added).
    pub(crate) lifetimes: f64,
}

/// A live sampled block.
#[derive(Debug, Clone, Copy)]
struct Live {
    site: u32,
    bytes: Est,
    blocks: Est,
    /// When it was allocated, in microseconds since the session began.
    born: u64,
}

/// The session's samples.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) interval: f64,
    pub(crate) sites: Vec<Site>,
    stacks: HashMap<Box<[usize]>, u32, FxBuildHasher>,
    live: HashMap<usize, Live, FxBuildHasher>,
    /// How many live sampled blocks hash to each filter slot.
    slots: Box<[u32]>,
    /// The session's number, so that a block taken out in one session is never put back into
    /// the next ([`put_back`]).
    id: u64,
}

/// The sessions started so far: the next one's [`State::id`].
static SESSIONS: AtomicU64 = AtomicU64::new(0);

impl State {
    /// Copies the live figures to the peak figures if the session's peak was raised since the set
    /// last changed: the set about to change is the one live at the peak.
    fn before_change(&mut self) {
        if PEAK.take() {
            self.copy_peak();
        }
    }

    fn copy_peak(&mut self) {
        for s in &mut self.sites {
            s.gmax_bytes = s.curr_bytes;
            s.gmax_blocks = s.curr_blocks;
        }
    }

    /// Counts a live sampled block in its filter slot (setting the slot's bit for the first).
    fn mark(&mut self, addr: usize) {
        let s = slot(addr);
        if self.slots[s] == 0 {
            FILTER[s / 64].fetch_or(1 << (s % 64), Relaxed);
        }
        self.slots[s] += 1;
    }

    /// Takes a block out of its filter slot (clearing the slot's bit for the last).
    fn unmark(&mut self, addr: usize) {
        let s = slot(addr);
        self.slots[s] -= 1;
        if self.slots[s] == 0 {
            FILTER[s / 64].fetch_and(!(1 << (s % 64)), Relaxed);
        }
    }

    /// Takes the block at `addr` out of the live set, if it is there: its site's live figures
    /// fall and its lifetime ends. Returns what [`State::put_back`] needs to undo it.
    fn remove(&mut self, addr: usize) -> Option<Taken> {
        let l = self.live.remove(&addr)?;
        self.before_change();
        let s = &mut self.sites[l.site as usize];
        s.curr_bytes.sub(l.bytes);
        s.curr_blocks.sub(l.blocks);
        let lifetime = l.blocks.value * session_micros().saturating_sub(l.born) as f64;
        s.lifetimes += lifetime;
        self.unmark(addr);
        LIVE.0.fetch_sub(1, Relaxed);
        Some(Taken {
            addr,
            live: l,
            lifetime,
            session: self.id,
        })
    }

    /// Undoes [`State::remove`] in the same session: the block is live again, as it was.
    fn put_back(&mut self, taken: Taken) {
        if taken.session != self.id {
            return;
        }
        self.before_change();
        let s = &mut self.sites[taken.live.site as usize];
        s.curr_bytes.add(taken.live.bytes);
        s.curr_blocks.add(taken.live.blocks);
        s.lifetimes -= taken.lifetime;
        // The entry's own slot was just freed: the map does not grow.
        self.live.insert(taken.addr, taken.live);
        self.mark(taken.addr);
        LIVE.0.fetch_add(1, Relaxed);
    }
}

/// A sampled block taken out of the live set before a reallocation ([`take`]), to put back if
/// the reallocation fails ([`put_back`]).
#[derive(Debug)]
pub(crate) struct Taken {
    addr: usize,
    live: Live,
    lifetime: f64,
    session: u64,
}

/// The filter slot of an address.
#[inline(always)]
fn slot(addr: usize) -> usize {
    ((addr as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SLOTS.trailing_zeros()))
        as usize
}

/// Sets [`IN_SAMPLER`] for its lifetime (and puts back what was there).
#[must_use = "sets the flag only while held"]
struct InSampler(bool);

impl InSampler {
    fn enter() -> Option<InSampler> {
        IN_SAMPLER.try_with(|f| f.replace(true)).ok().map(InSampler)
    }
}

impl Drop for InSampler {
    fn drop(&mut self) {
        let _ = IN_SAMPLER.try_with(|f| f.set(self.0));
    }
}

/// Starts sampling at mean `interval` bytes: from now on each thread arms its countdown at its next
/// publication to the process tally (at most 1,024 allocations or 64 KiB later), the calling thread
/// at once.
pub(crate) fn start(interval: u64) {
    let _in = InSampler::enter();
    unwind::prepare();
    let state = State {
        interval: interval as f64,
        sites: Vec::with_capacity(1024),
        stacks: HashMap::with_capacity_and_hasher(1024, FxBuildHasher),
        live: HashMap::with_capacity_and_hasher(4096, FxBuildHasher),
        slots: vec![0; SLOTS].into_boxed_slice(),
        id: SESSIONS.fetch_add(1, Relaxed),
    };
    let mut guard = lock_state();
    *guard = Some(state);
    // The empty set is the one at the session's peak until a batch raises it.
    PEAK.raise();
    PEAK_MICROS.store(0, Relaxed);
    INTERVAL.store((interval as f64).to_bits(), Relaxed);
    START_MICROS.store(micros_since_t0(), Relaxed);
    let n = NEXT_SESSION.fetch_add(2, Relaxed);
    SESSION.store(n, Relaxed);
    drop(guard);
    crate::tally::arm_sampling();
}

/// Ends sampling and returns the session's samples, their peak figures settled.
pub(crate) fn stop() -> Option<(State, u64)> {
    let _in = InSampler::enter();
    SESSION.store(0, Relaxed);
    let mut guard = lock_state();
    let mut state = guard.take()?;
    drop(guard);
    if PEAK.take() {
        state.copy_peak();
    }
    for (s, count) in state.slots.iter_mut().enumerate() {
        if *count != 0 {
            *count = 0;
            FILTER[s / 64].fetch_and(!(1 << (s % 64)), Relaxed);
        }
    }
    LIVE.0.fetch_sub(state.live.len() as u64, Relaxed);
    // The blocks live at the end count their lifetimes up to now, as DHAT does.
    let now = session_micros();
    for l in std::mem::take(&mut state.live).into_values() {
        if let Some(s) = state.sites.get_mut(l.site as usize) {
            s.lifetimes += l.blocks.value * now.saturating_sub(l.born) as f64;
        }
    }
    Some((state, PEAK_MICROS.load(Relaxed)))
}

/// The running session's number (0: none).
#[inline]
pub(crate) fn session() -> u64 {
    SESSION.load(Relaxed)
}

/// A number of its own for a thread seeding its generator (once a thread): two threads whose
/// tallies sit at one address, one after the other, still draw apart.
pub(crate) fn thread_number() -> u64 {
    SEEDED.fetch_add(1, Relaxed)
}

/// The interval of the running session, for a thread drawing its next gap.
#[inline]
pub(crate) fn interval() -> f64 {
    f64::from_bits(INTERVAL.load(Relaxed))
}

/// Microseconds since [`T0`].
fn micros_since_t0() -> u64 {
    u64::try_from(T0.get_or_init(Instant::now).elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Microseconds since the running session began.
fn session_micros() -> u64 {
    micros_since_t0().saturating_sub(START_MICROS.load(Relaxed))
}

/// Called by the counting allocator when a batch raised (or met) the session's peak of the
/// process's live bytes (see `SessionMark`).
pub(crate) fn on_new_peak() {
    if SESSION.load(Relaxed) == 0 {
        return;
    }
    PEAK.raise();
    let micros = micros_since_t0().saturating_sub(START_MICROS.load(Relaxed));
    PEAK_MICROS.store(micros, Relaxed);
}

/// Records the block of `size` bytes at `ptr`, whose allocation crossed a sample point: its stack,
/// its weight, and its address in the live set. Runs inside the allocator with the thread's
/// counting paused (what it allocates for its tables is uncounted and never sampled).
#[cold]
#[inline(never)]
pub(crate) fn on_sampled(ptr: *mut u8, size: usize) {
    // Already at work on the set on this thread (an allocation its tables make), or holding the
    // sampler's locks across a fork: no sample, rather than a lock taken twice.
    if IN_SAMPLER.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let Some(_in) = InSampler::enter() else {
        return;
    };
    // The key of a site: the region path active here (or `usize::MAX`), then the stack.
    let mut ips = [0usize; MAX_FRAMES + 1];
    ips[0] = crate::region::imp::current_path().map_or(usize::MAX, |gid| gid as usize);
    let n = 1 + unwind::trace(&mut ips[1..]);
    let mut guard = lock_state();
    let Some(state) = guard.as_mut() else {
        return;
    };
    let (wb, wk) = estimate::weight(size as u64, state.interval);
    let (bytes, blocks) = (Est::of(wb, size as f64), Est::of(wk, 1.0));
    let addr = ptr as usize;
    // An address already in the set was freed without being seen (it cannot be live twice).
    state.remove(addr);
    state.before_change();
    let site = match state.stacks.get(&ips[..n]) {
        Some(&i) => i,
        None => {
            let i = u32::try_from(state.sites.len()).unwrap_or(u32::MAX);
            let stack: Box<[usize]> = ips[..n].into();
            state.stacks.insert(stack.clone(), i);
            state.sites.push(Site {
                ips: stack,
                ..Site::default()
            });
            i
        }
    };
    let Some(s) = state.sites.get_mut(site as usize) else {
        return;
    };
    s.samples += 1;
    s.total_bytes.add(bytes);
    s.total_blocks.add(blocks);
    s.curr_bytes.add(bytes);
    s.curr_blocks.add(blocks);
    s.max_bytes = s.max_bytes.max(s.curr_bytes.value);
    s.max_blocks = s.max_blocks.max(s.curr_blocks.value);
    state.live.insert(
        addr,
        Live {
            site,
            bytes,
            blocks,
            born: session_micros(),
        },
    );
    state.mark(addr);
    LIVE.0.fetch_add(1, Relaxed);
}

/// Checks a freed (or reallocated) block against the live set: one relaxed load while no sampled
/// block is live, one more (its filter slot) otherwise; the lock only when the slot is taken.
#[inline(always)]
pub(crate) fn on_free(ptr: *mut u8) {
    if may_be_sampled(ptr) {
        free_slow(ptr as usize);
    }
}

/// Whether the block at `ptr` may be a live sampled block ([`on_free`]'s check, for a caller that
/// leaves its fast path when it holds).
#[inline(always)]
pub(crate) fn may_be_sampled(ptr: *mut u8) -> bool {
    let s = slot(ptr as usize);
    LIVE.0.load(Relaxed) != 0 && FILTER[s / 64].load(Relaxed) & (1 << (s % 64)) != 0
}

#[cold]
#[inline(never)]
fn free_slow(addr: usize) {
    if IN_SAMPLER.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let Some(_in) = InSampler::enter() else {
        return;
    };
    // Nothing here allocates: the lock was first taken when the session began, and a removal
    // allocates nothing.
    if let Some(state) = lock_state().as_mut() {
        state.remove(addr);
    }
}

/// Before a reallocation of the block at `ptr`: takes it out of the live set, as a free does
/// (once the call returns, another thread may be given the old address), and returns it, to put
/// back with [`put_back`] if the reallocation fails and the block stays.
pub(crate) fn take(ptr: *mut u8) -> Option<Taken> {
    if !may_be_sampled(ptr) || IN_SAMPLER.try_with(Cell::get).unwrap_or(true) {
        return None;
    }
    let _in = InSampler::enter()?;
    lock_state().as_mut()?.remove(ptr as usize)
}

/// After a reallocation that failed: the block [`take`] took out is live again. A session ended
/// meanwhile keeps it out.
pub(crate) fn put_back(taken: Taken) {
    let Some(_in) = InSampler::enter() else {
        return;
    };
    if let Some(state) = lock_state().as_mut() {
        state.put_back(taken);
    }
}

/// The sampler across a fork (see `crate::fork`): the forking thread holds its locks, with its
/// own sampling off meanwhile.
#[cfg(unix)]
pub(crate) mod at_fork {
    use super::{lock_state, unwind, InSampler, T0};
    use std::time::Instant;

    /// First, before a fork: turns this thread's sampling off until the fork is over, so that
    /// what it allocates meanwhile never waits for a lock it holds.
    pub(crate) fn quiet() {
        if let Some(quiet) = InSampler::enter() {
            crate::fork::hold(quiet);
        }
    }

    /// Then: holds the unwinder's lock and the sample set's, in the order the sampler takes them.
    pub(crate) fn hold() {
        unwind::hold_for_fork();
        crate::fork::hold(lock_state());
        // And the time origin set, so that no child finds it half set by another thread's first
        // session start (its `OnceLock` would make the child's next start wait for good). Setting
        // it here only moves an origin that every figure is measured from.
        let _ = T0.get_or_init(Instant::now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bit(addr: usize) -> bool {
        let s = slot(addr);
        FILTER[s / 64].load(Relaxed) & (1 << (s % 64)) != 0
    }

    /// A raise racing with changes of the set is never lost: each round, one thread changes the
    /// set over and over (checking the flag before each change, as `State::before_change`) while
    /// another raises the peak once, after a random delay; the set is then read for good (as
    /// `stop`). Exactly one copy is made, at a change made after the raise began.
    #[test]
    fn a_peak_raised_while_the_set_changes_is_copied_once() {
        use std::sync::atomic::AtomicU64;
        use std::sync::{Arc, Barrier};
        const ROUNDS: u64 = 20_000;
        const CHANGES: u64 = 200;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..ROUNDS {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let skew = rng % 400;
            let peak = Arc::new(PeakPending::new());
            let changes = Arc::new(AtomicU64::new(0));
            let start = Arc::new(Barrier::new(2));
            let raiser = {
                let (peak, changes, start) = (peak.clone(), changes.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..skew {
                        std::hint::spin_loop();
                    }
                    let before = changes.load(std::sync::atomic::Ordering::SeqCst);
                    peak.raise();
                    before
                })
            };
            start.wait();
            let mut copies = Vec::new();
            for c in 0..CHANGES {
                if peak.take() {
                    copies.push(c);
                }
                changes.store(c + 1, std::sync::atomic::Ordering::SeqCst);
            }
            let before = raiser.join().unwrap();
            if peak.take() {
                copies.push(CHANGES);
            }
            assert_eq!(copies.len(), 1, "round {round}: copies at {copies:?}");
            assert!(
                copies[0] >= before,
                "round {round}: copied at {copies:?}, raised after {before}"
            );
        }
    }

    #[test]
    fn a_filter_slot_stays_set_while_any_block_hashing_to_it_is_live() {
        let mut state = State {
            interval: 1.0,
            sites: Vec::new(),
            stacks: HashMap::default(),
            live: HashMap::default(),
            slots: vec![0; SLOTS].into_boxed_slice(),
            id: u64::MAX,
        };
        // Two addresses of one slot: the slot is a function of the address alone.
        let a = 0x7f00_dead_0000usize;
        let b = (1..1 << 20)
            .map(|i| a + i * 16)
            .find(|&b| slot(b) == slot(a))
            .unwrap();
        state.mark(a);
        state.mark(b);
        state.unmark(a);
        assert!(bit(b), "the other block of the slot is still live");
        state.unmark(b);
        assert!(!bit(a), "no live block hashes to the slot");
    }
}
