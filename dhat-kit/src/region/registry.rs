//! The process-wide registry of regions: every path ever entered, the live threads' aggregates,
//! and the figures of threads that have ended; read by [`regions`](super::regions).
//!
//! A thread touches it only when it enters a path for the first time (to name the path and
//! register its aggregate) and when it ends (to hand its figures over); its exits write only its
//! own aggregates' atomics.

use std::collections::BTreeMap;
use std::sync::atomic::{
    fence, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::thread::{open_entries, own_aggregates, Own};
use super::RegionStats;
use crate::tally::uncounted;
use crate::Stats;

/// The six figures of [`Stats`], written by one thread only (load + store, no read-modify-write),
/// read by any.
#[derive(Default)]
pub(super) struct Figures {
    total_bytes: AtomicU64,
    total_blocks: AtomicU64,
    max_bytes: AtomicU64,
    max_blocks: AtomicU64,
    curr_bytes: AtomicU64,
    curr_blocks: AtomicU64,
}

/// Adds `v` to a figure only its own thread writes.
fn bump_by(a: &AtomicU64, v: u64) {
    a.store(a.load(Relaxed) + v, Relaxed);
}

impl Figures {
    /// Adds an entry's figures: totals and live figures add up, the peak is the highest entry's.
    pub(super) fn add(&self, s: &Stats) {
        self.add_own(Own::of(s));
        if s.max_bytes >= self.max_bytes.load(Relaxed) {
            self.max_bytes.store(s.max_bytes, Relaxed);
            self.max_blocks.store(s.max_blocks, Relaxed);
        }
    }

    /// Adds totals and live figures: a region's own, whose peak is the inclusive one, kept there.
    pub(super) fn add_own(&self, own: Own) {
        bump_by(&self.total_bytes, own.total_bytes);
        bump_by(&self.total_blocks, own.total_blocks);
        bump_by(&self.curr_bytes, own.curr_bytes);
        bump_by(&self.curr_blocks, own.curr_blocks);
    }

    fn get(&self) -> Stats {
        let mut s = Stats::default();
        (s.total_bytes, s.total_blocks) = (
            self.total_bytes.load(Relaxed),
            self.total_blocks.load(Relaxed),
        );
        (s.max_bytes, s.max_blocks) = (self.max_bytes.load(Relaxed), self.max_blocks.load(Relaxed));
        (s.curr_bytes, s.curr_blocks) = (
            self.curr_bytes.load(Relaxed),
            self.curr_blocks.load(Relaxed),
        );
        s
    }

    fn clear(&self) {
        for a in [
            &self.total_bytes,
            &self.total_blocks,
            &self.max_bytes,
            &self.max_blocks,
            &self.curr_bytes,
            &self.curr_blocks,
        ] {
            a.store(0, Relaxed);
        }
    }
}

/// Sums figures across threads: totals and live figures add; the peak is the highest entry's.
fn merge(into: &mut Stats, s: &Stats) {
    into.total_bytes += s.total_bytes;
    into.total_blocks += s.total_blocks;
    into.curr_bytes += s.curr_bytes;
    into.curr_blocks += s.curr_blocks;
    if s.max_bytes > into.max_bytes {
        into.max_bytes = s.max_bytes;
        into.max_blocks = s.max_blocks;
    }
}

/// One thread's aggregate for one path.
pub(super) struct Agg {
    pub(super) gid: u32,
    /// The path's last name (for the recursion check, which compares names).
    pub(super) name: &'static str,
    /// The paths that enclose it, outermost first: the one at index `d` has depth `d`.
    pub(super) ancestors: Box<[u32]>,
    /// Twice the entries counted, plus one while the aggregate's thread adds an entry's
    /// figures: the sequence of a sequence lock ([`Agg::add_entry`], [`Agg::read`]).
    entries: AtomicU64,
    pub(super) inclusive: Figures,
    pub(super) self_stats: Figures,
    /// The totals (bytes, blocks) of the entries made apart from some of the paths that enclose
    /// this one, by the first of those not open then: at index `d`, entries made where none of the
    /// ancestors from depth `d` on was open on the thread (entered from a
    /// [`RegionHandle`](crate::RegionHandle) or polled as a future elsewhere). Those ancestors'
    /// own entries did not measure them, so [`collect`] adds them to their inclusive totals. An
    /// entry made inside its parent is in the parent's inclusive figures already, and here in none.
    detached: Box<[(AtomicU64, AtomicU64)]>,
}

impl Agg {
    /// Counts one entry with no figures of its own (a recursive entry). Only the aggregate's
    /// thread writes it.
    pub(super) fn count_entry(&self) {
        bump_by(&self.entries, 2);
    }

    /// Adds the totals of `s` to those made apart from the ancestors from depth `from` on (see
    /// [`Agg::detached`]). Only the aggregate's thread writes it.
    pub(super) fn add_detached(&self, from: u32, bytes: u64, blocks: u64) {
        if let Some((b, k)) = self.detached.get(from as usize) {
            bump_by(b, bytes);
            bump_by(k, blocks);
        }
    }

    /// Counts one entry, whose figures `write` adds, so that a reader on another thread
    /// ([`Agg::read`]) sees the entry whole or not at all: the count is odd while `write` runs
    /// (one store more than counting alone, on the thread's own line).
    #[inline(always)]
    pub(super) fn add_entry<R>(&self, write: impl FnOnce() -> R) -> R {
        bump_by(&self.entries, 1);
        fence(Release);
        let r = write();
        self.entries
            .store(self.entries.load(Relaxed).wrapping_add(1), Release);
        r
    }

    /// The entries and figures, read between two of the thread's writes ([`Agg::add_entry`]).
    fn read(&self) -> Totals {
        let mut spins = 0u32;
        loop {
            let before = self.entries.load(Acquire);
            if before & 1 == 0 {
                let totals = Totals {
                    entries: before / 2,
                    inclusive: self.inclusive.get(),
                    self_stats: self.self_stats.get(),
                    detached: self
                        .detached
                        .iter()
                        .map(|(b, k)| (b.load(Relaxed), k.load(Relaxed)))
                        .collect(),
                };
                fence(Acquire);
                if self.entries.load(Relaxed) == before {
                    return totals;
                }
            }
            // The writer may not be running: yield after a while.
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

struct Path {
    path: String,
    name: &'static str,
    depth: usize,
    /// The enclosing path's id ([`ROOT`] for a region entered outside any other).
    parent: u32,
}

#[derive(Default, Clone)]
struct Totals {
    entries: u64,
    inclusive: Stats,
    self_stats: Stats,
    /// As [`Agg::detached`], summed.
    detached: Vec<(u64, u64)>,
}

impl Totals {
    fn add(&mut self, agg: &Agg) {
        self.add_totals(&agg.read());
    }

    fn add_totals(&mut self, read: &Totals) {
        self.entries += read.entries;
        merge(&mut self.inclusive, &read.inclusive);
        merge(&mut self.self_stats, &read.self_stats);
        self.add_detached_all(&read.detached);
    }

    fn add_detached_all(&mut self, detached: &[(u64, u64)]) {
        if self.detached.len() < detached.len() {
            self.detached.resize(detached.len(), (0, 0));
        }
        for (into, (b, k)) in self.detached.iter_mut().zip(detached) {
            (into.0, into.1) = (into.0 + b, into.1 + k);
        }
    }
}

struct Registry {
    paths: Vec<Path>,
    ids: BTreeMap<(u32, &'static str), u32>,
    live: Vec<Arc<Agg>>,
    ended: BTreeMap<u32, Totals>,
    /// What [`reset`] cleared, ended threads' and live ones' alike ([`Threads::AllEver`]).
    cleared: BTreeMap<u32, Totals>,
    /// What [`reset`] cleared of each live aggregate, by its address ([`Threads::ThisEver`]);
    /// dropped when its thread hands it over.
    cleared_live: BTreeMap<usize, Totals>,
}

/// A std mutex: the fork hooks can hold it across a fork and let it go in the child
/// ([`hold_for_fork`]).
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    paths: Vec::new(),
    ids: BTreeMap::new(),
    live: Vec::new(),
    ended: BTreeMap::new(),
    cleared: BTreeMap::new(),
    cleared_live: BTreeMap::new(),
});

/// The registry, locked (a panic while it was held, which only an allocation failure could
/// cause, leaves it as usable as it was).
fn lock() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Before a fork: the registry, held until the fork is over (see `crate::fork`). The aggregates of
/// the threads the child has not got hold what those threads did before the fork; their exits
/// write them without the registry's lock, so one may be in the middle of one ([`in_child`]).
#[cfg(all(unix, feature = "peak"))]
pub(crate) fn hold_for_fork() {
    crate::fork::hold(lock());
}

/// In a forked child, before the registry is let go: an aggregate whose thread was adding an
/// entry at the fork ([`Agg::add_entry`], its count odd) would stay so for good (that thread is
/// not in the child), and every reader ([`Agg::read`], so `regions()` and a session's end) would
/// wait on it for good. Its count is made even: the entry, made before the fork, is counted, with
/// what of its figures its thread had written. Only the forking thread runs in the child, and it
/// was forking, not adding an entry, so no aggregate of its own is touched. Atomics only.
#[cfg(all(unix, feature = "peak"))]
pub(crate) fn in_child() {
    crate::fork::with_held(|reg: &mut MutexGuard<'static, Registry>| {
        for agg in &reg.live {
            let entries = agg.entries.load(Relaxed);
            if entries & 1 == 1 {
                agg.entries.store(entries + 1, Release);
            }
        }
    });
}

/// The parent id of a region entered outside any other.
pub(super) const ROOT: u32 = u32::MAX;

/// The id of the path `name` under `parent`, named on first use.
pub(super) fn path_id(parent: u32, name: &'static str) -> u32 {
    let mut reg = lock();
    if let Some(&gid) = reg.ids.get(&(parent, name)) {
        return gid;
    }
    let (path, depth) = match reg.paths.get(parent as usize) {
        Some(p) => (format!("{}/{name}", p.path), p.depth + 1),
        None => (name.to_owned(), 0),
    };
    let gid = reg.paths.len() as u32;
    reg.paths.push(Path {
        path,
        name,
        depth,
        parent,
    });
    reg.ids.insert((parent, name), gid);
    gid
}

/// The path (`outer/inner`) of `gid`, if it was registered.
#[cfg(feature = "sampled")]
pub(crate) fn path_of(gid: u32) -> Option<String> {
    let reg = uncounted(lock);
    reg.paths.get(gid as usize).map(|p| p.path.clone())
}

/// A new aggregate for path `gid`, registered so that [`collect`] sees it.
pub(super) fn register(gid: u32) -> Arc<Agg> {
    let mut reg = lock();
    let mut ancestors = Vec::with_capacity(reg.paths[gid as usize].depth);
    let mut at = reg.paths[gid as usize].parent;
    while let Some(p) = reg.paths.get(at as usize) {
        ancestors.push(at);
        at = p.parent;
    }
    ancestors.reverse();
    let agg = Arc::new(Agg {
        gid,
        name: reg.paths[gid as usize].name,
        detached: ancestors.iter().map(|_| Default::default()).collect(),
        ancestors: ancestors.into_boxed_slice(),
        entries: AtomicU64::new(0),
        inclusive: Figures::default(),
        self_stats: Figures::default(),
    });
    reg.live.push(Arc::clone(&agg));
    agg
}

/// Moves an ending thread's aggregates into the ended threads' totals (the caller runs this
/// uncounted).
pub(super) fn hand_over(aggs: &[Arc<Agg>]) {
    let mut reg = lock();
    for agg in aggs {
        reg.ended.entry(agg.gid).or_default().add(agg);
    }
    // One pass over the live aggregates, which the lock holds up everyone's reads and first
    // entries meanwhile: one per aggregate made the exit of a thread of 80,000 paths take 5 s.
    let leaving: std::collections::HashSet<*const Agg> = aggs.iter().map(Arc::as_ptr).collect();
    reg.live.retain(|a| !leaving.contains(&Arc::as_ptr(a)));
    if !reg.cleared_live.is_empty() {
        for agg in aggs {
            reg.cleared_live.remove(&(Arc::as_ptr(agg) as usize));
        }
    }
}

/// Whose figures [`collect`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::region) enum Threads {
    /// Every thread's, ended or live.
    All,
    /// Every thread's, with what [`reset`] cleared: figures that only rise, for a reading to
    /// subtract from a later one (a profiling session's) whatever resets came between.
    AllEver,
    /// The calling thread's only, with what [`reset`] cleared of them (as [`Threads::AllEver`]).
    ThisEver,
}

/// Every region's figures on `threads`: the ended threads', the live threads' aggregates (or the
/// calling thread's alone), and the entries open on the calling thread as if they ended now;
/// sorted by inclusive bytes.
pub(in crate::region) fn collect(threads: Threads) -> Vec<RegionStats> {
    let open = open_entries();
    let own = match threads {
        Threads::All | Threads::AllEver => Vec::new(),
        Threads::ThisEver => own_aggregates(),
    };
    // A std mutex may allocate at its first use on some platforms: the kit's, uncounted.
    let reg = uncounted(lock);
    let mut totals = match threads {
        Threads::All => reg.ended.clone(),
        Threads::AllEver => {
            let mut totals = reg.ended.clone();
            for (&gid, cleared) in &reg.cleared {
                totals.entry(gid).or_default().add_totals(cleared);
            }
            totals
        }
        Threads::ThisEver => {
            let mut totals: BTreeMap<u32, Totals> = BTreeMap::new();
            for agg in &own {
                if let Some(cleared) = reg.cleared_live.get(&(Arc::as_ptr(agg) as usize)) {
                    totals.entry(agg.gid).or_default().add_totals(cleared);
                }
            }
            totals
        }
    };
    let aggs = match threads {
        Threads::All | Threads::AllEver => &reg.live,
        Threads::ThisEver => &own,
    };
    for agg in aggs {
        totals.entry(agg.gid).or_default().add(agg);
    }
    for entry in open {
        let t = totals.entry(entry.gid).or_default();
        t.entries += 1;
        merge(&mut t.inclusive, &entry.inclusive);
        merge(&mut t.self_stats, &entry.own.stats());
        if let Some(from) = entry.detached {
            let mut detached = vec![(0, 0); from as usize + 1];
            detached[from as usize] = (entry.inclusive.total_bytes, entry.inclusive.total_blocks);
            t.add_detached_all(&detached);
        }
    }
    // An entry's inclusive totals measured on its thread hold every entry made inside it there,
    // of its child paths or not. A child path's entry made apart from it (on another thread,
    // from a `RegionHandle`; a future polled elsewhere) is added to the ancestors that were not
    // open where it was made: the ones from its depth on ([`Agg::detached`]).
    let mut apart: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
    for (&gid, t) in &totals {
        let mut chain = Vec::new();
        let mut at = reg.paths.get(gid as usize).map_or(ROOT, |p| p.parent);
        while let Some(p) = reg.paths.get(at as usize) {
            chain.push(at);
            at = p.parent;
        }
        chain.reverse(); // outermost first: depth `d` at index `d`
        for (from, &(bytes, blocks)) in t.detached.iter().enumerate() {
            for &ancestor in chain.get(from..).unwrap_or_default() {
                let a = apart.entry(ancestor).or_default();
                (a.0, a.1) = (a.0 + bytes, a.1 + blocks);
            }
        }
    }
    // An ancestor with no entry of its own on `threads` (a worker's handle of `a/b/c` after
    // `reset_regions`) still holds what was measured inside it.
    for (&gid, &(bytes, blocks)) in &apart {
        if bytes > 0 || blocks > 0 {
            totals.entry(gid).or_default();
        }
    }
    let mut out: Vec<RegionStats> = totals
        .into_iter()
        .filter(|(gid, t)| {
            t.entries > 0
                || apart
                    .get(gid)
                    .is_some_and(|&(bytes, blocks)| bytes > 0 || blocks > 0)
        })
        .map(|(gid, t)| {
            let p = &reg.paths[gid as usize];
            let mut self_stats = t.self_stats;
            (self_stats.max_bytes, self_stats.max_blocks) =
                (t.inclusive.max_bytes, t.inclusive.max_blocks);
            let mut inclusive = t.inclusive;
            let (bytes, blocks) = apart.get(&gid).copied().unwrap_or_default();
            inclusive.total_bytes += bytes;
            inclusive.total_blocks += blocks;
            RegionStats {
                path: p.path.clone(),
                name: p.name.to_owned(),
                depth: p.depth,
                entries: t.entries,
                inclusive,
                self_stats,
            }
        })
        .collect();
    drop(reg);
    super::sort(&mut out);
    out
}

/// Clears every region's figures.
pub(in crate::region) fn reset() {
    // The ended threads' totals were recorded uncounted (at those threads' exits): freed
    // uncounted too.
    uncounted(|| {
        let mut reg = lock();
        // Kept aside for readings that outlive the reset (a profiling session's).
        let mut cleared = std::mem::take(&mut reg.cleared);
        for (gid, totals) in std::mem::take(&mut reg.ended) {
            cleared.entry(gid).or_default().add_totals(&totals);
        }
        let mut cleared_live = std::mem::take(&mut reg.cleared_live);
        for agg in &reg.live {
            let read = agg.read();
            cleared.entry(agg.gid).or_default().add_totals(&read);
            cleared_live
                .entry(Arc::as_ptr(agg) as usize)
                .or_default()
                .add_totals(&read);
        }
        reg.cleared = cleared;
        reg.cleared_live = cleared_live;
        for agg in &reg.live {
            // Zero entries, the parity kept: an exit adding an entry on its thread meanwhile
            // (which the docs ask not to do) then leaves a wrong count, never an odd one that
            // readers would wait on for good.
            agg.entries.fetch_and(1, Relaxed);
            agg.inclusive.clear();
            agg.self_stats.clear();
            for (b, k) in &agg.detached {
                b.store(0, Relaxed);
                k.store(0, Relaxed);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another thread takes the registry over and over while this one forks, 20 times: each
    /// child can name a region of its own. Without the hooks, or with a hook that took the
    /// registry without holding it to the fork, a child would find it held by a thread it has
    /// not got, and wait for good.
    #[cfg(unix)]
    #[test]
    fn a_forked_child_can_take_the_registry_another_thread_held() {
        use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
        crate::fork::hook();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    let _ = path_id(ROOT, "unit-test-forked-parent");
                }
            });
            let children: Vec<_> = (0..20)
                .map(|_| {
                    crate::fork::tests::in_a_child(|| {
                        let gid = path_id(ROOT, "unit-test-forked-child");
                        lock().paths.get(gid as usize).map(|p| p.name)
                            == Some("unit-test-forked-child")
                    })
                })
                .collect();
            stop.store(true, Relaxed);
            for child in children {
                child.unwrap();
            }
        });
    }

    /// A thread stopped in the middle of an entry's figures (its aggregate's count odd, as
    /// between the two stores of [`Agg::add_entry`]) when another forks: in the child, where it
    /// never goes on, `regions()` still returns, with the entry counted. Without the child's
    /// repair ([`in_child`]) the child waited for good (killed after 30 seconds here).
    #[cfg(unix)]
    #[test]
    fn a_forked_child_reads_an_aggregate_left_mid_entry() {
        const NAME: &str = "unit-test-forked-mid-entry";
        crate::fork::hook();
        let gid = path_id(ROOT, NAME);
        let agg = register(gid);
        let s = Stats {
            total_bytes: 64,
            total_blocks: 1,
            max_bytes: 64,
            max_blocks: 1,
            ..Stats::default()
        };
        agg.add_entry(|| agg.inclusive.add(&s));
        // The first store of a second entry, as its thread would make it, and no second.
        bump_by(&agg.entries, 1);
        let child = crate::fork::tests::in_a_child(|| {
            let found = collect(Threads::All).into_iter().find(|r| r.path == NAME);
            found.is_some_and(|r| r.entries == 2 && r.inclusive.total_bytes == 64)
        });
        // Whole again in the parent, where the same thread (this one) would go on.
        bump_by(&agg.entries, 1);
        hand_over(&[agg]);
        child.unwrap();
    }

    #[test]
    fn a_thread_that_ends_hands_its_figures_over_and_leaves_nothing_live() {
        const NAME: &str = "unit-test-hand-over";
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    for _ in 0..3 {
                        let _region = crate::Region::enter(NAME);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        let reg = lock();
        let gid = reg.ids[&(ROOT, NAME)];
        assert!(
            reg.live.iter().all(|a| a.gid != gid),
            "ended threads' aggregates are still live"
        );
        assert_eq!(reg.ended[&gid].entries, 12);
    }
}
