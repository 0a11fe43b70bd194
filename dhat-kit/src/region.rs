//! Regions: [`region!`](crate::region), the [`Region`] guard, and the registry of [`RegionStats`].
//!
//! A region attributes the allocations of the current thread, from its entry until its guard drops,
//! to a named path (`outer/inner` when nested). Each thread keeps its own frames and its own
//! aggregates (atomics written only by that thread, so an exit takes no process-wide lock); a
//! process-wide list of those aggregates, touched only when a thread enters a path for the first
//! time, when it ends, and by [`regions`], makes every thread's figures visible.

use crate::Stats;
use serde::Serialize;
use std::fmt;
use std::marker::PhantomData;

/// The figures of one region path, summed over all its entries on all threads.
///
/// `inclusive` counts everything allocated while the region was active, its child regions
/// included; `self_stats` leaves out of the totals (`total_*`) and the live figures (`curr_*`) what
/// its child regions allocated. The peak (`max_*`, the same in both) is the highest of any single
/// entry, measured above the live heap at that entry: a peak is a moment of the whole heap, not a
/// sum that splits between a region and its children. `curr_*` is what the entries left live when
/// they exited (an entry open on the calling thread: what it holds live now).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegionStats {
    /// The path: region names from the outermost, joined by `/`.
    pub path: String,
    /// The region's own name, the last element of `path`.
    pub name: String,
    /// How many regions enclose this one (0 for a region entered outside any other).
    pub depth: usize,
    /// How many times the region was entered (recursive entries included). An entry still open
    /// on the thread that calls [`regions`] is counted with its figures so far; one open on
    /// another thread is counted when it exits, with its figures.
    pub entries: u64,
    /// What was allocated while the region was active, child regions included.
    pub inclusive: Stats,
    /// What was allocated while the region was active, child regions excluded.
    #[serde(rename = "self")]
    pub self_stats: Stats,
}

/// Every region's figures, sorted by inclusive bytes (largest first): what [`regions`] returns.
///
/// Prints as an aligned table (`{}`) and serialises to JSON as a list of [`RegionStats`].
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     {
///         dhat_kit::region!("load");
///         let _data = vec![0u8; 4096];
///     }
///     let report = dhat_kit::regions();
///     let load = report.get("load").expect("entered once");
///     assert_eq!((load.entries, load.inclusive.total_bytes), (1, 4096));
///     println!("{report}");
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Regions(Vec<RegionStats>);

impl Regions {
    pub(crate) fn from_vec(regions: Vec<RegionStats>) -> Regions {
        Regions(regions)
    }

    /// The figures of the region with this path (`"outer/inner"`), if it was entered.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<&RegionStats> {
        self.0.iter().find(|r| r.path == path)
    }

    /// The regions' figures as a vector, sorted by inclusive bytes.
    #[must_use]
    pub fn into_vec(self) -> Vec<RegionStats> {
        self.0
    }
}

impl std::ops::Deref for Regions {
    type Target = [RegionStats];
    fn deref(&self) -> &[RegionStats] {
        &self.0
    }
}

impl fmt::Display for Regions {
    /// An aligned table: path, entries, inclusive bytes and blocks, self bytes, share of all bytes
    /// allocated inside regions, peak above entry, and the bytes the entries left live when they exited (`kept`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::units::{Bytes, Thousands};
        if self.0.is_empty() {
            return writeln!(f, "no regions were entered");
        }
        let all: u64 = self.0.iter().map(|r| r.self_stats.total_bytes).sum();
        let width = self
            .0
            .iter()
            .map(|r| r.path.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        writeln!(
            f,
            "{:<width$}  {:>9}  {:>10}  {:>10}  {:>10}  {:>6}  {:>10}  {:>10}",
            "region", "entries", "bytes", "blocks", "self", "share", "peak", "kept"
        )?;
        for r in &self.0 {
            let share = if all == 0 {
                0.0
            } else {
                r.inclusive.total_bytes as f64 * 100.0 / all as f64
            };
            writeln!(
                f,
                "{:<width$}  {:>9}  {:>10}  {:>10}  {:>10}  {:>5.1}%  {:>10}  {:>10}",
                r.path,
                Thousands(r.entries),
                Bytes(r.inclusive.total_bytes),
                Thousands(r.inclusive.total_blocks),
                Bytes(r.self_stats.total_bytes),
                share,
                Bytes(r.inclusive.max_bytes),
                Bytes(r.inclusive.curr_bytes),
            )?;
        }
        Ok(())
    }
}

/// A region's guard: the region stays active on this thread until it drops.
///
/// Made by [`region!`](crate::region) (which keeps it to the end of the block) or by
/// [`Region::enter`]. Guards must drop in the reverse order of their entry, as scopes do; a guard
/// dropped early also ends the regions entered after it. Built without a counting feature, a
/// guard is an empty value and entering a region does nothing.
#[must_use = "the region ends when the guard drops; bind it: `let _region = Region::enter(..)`"]
pub struct Region {
    #[cfg(feature = "peak")]
    frame: imp::FrameRef,
    /// Frames live on one thread: the guard must stay there.
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Region").finish_non_exhaustive()
    }
}

impl Region {
    /// Enters the region `name` on this thread, nested under the region active here (if any),
    /// and returns its guard.
    ///
    /// Entering a region whose name is already active on this thread (recursion) counts an entry
    /// but opens no new path: the figures stay with the region already active.
    ///
    /// # Examples
    ///
    /// ```
    /// dhat_kit::global_allocator!();
    ///
    /// fn main() {
    ///     let outer = dhat_kit::Region::enter("outer");
    ///     let inner = dhat_kit::Region::enter("inner");
    ///     let v = vec![0u8; 100];
    ///     drop(inner);
    ///     drop(outer);
    ///     assert_eq!(dhat_kit::regions().get("outer/inner").unwrap().inclusive.total_bytes, 100);
    ///     # drop(v);
    /// }
    /// ```
    #[inline]
    #[cfg_attr(not(feature = "peak"), allow(unused_variables))]
    pub fn enter(name: &'static str) -> Region {
        Region {
            #[cfg(feature = "peak")]
            frame: imp::enter_child(name),
            _not_send: PhantomData,
        }
    }

    /// A handle on the region active on this thread (`None` outside any region), to enter the same
    /// path on another thread: allocations are per thread, so work handed to a worker is only
    /// attributed to the region if the worker enters it.
    ///
    /// # Examples
    ///
    /// ```
    /// dhat_kit::global_allocator!();
    ///
    /// fn main() {
    ///     dhat_kit::region!("batch");
    ///     let here = dhat_kit::Region::current();
    ///     std::thread::spawn(move || {
    ///         let _region = here.map(|h| h.enter()); // the worker counts under "batch"
    ///         drop(vec![0u8; 256]);
    ///     })
    ///     .join()
    ///     .unwrap();
    /// }
    /// ```
    #[must_use]
    pub fn current() -> Option<RegionHandle> {
        #[cfg(feature = "peak")]
        {
            imp::current().map(|gid| RegionHandle { gid })
        }
        #[cfg(not(feature = "peak"))]
        {
            None
        }
    }
}

#[cfg(feature = "peak")]
impl Drop for Region {
    #[inline]
    fn drop(&mut self) {
        imp::exit(self.frame);
    }
}

// Without a counting feature a region is nothing at all: an empty value with no destructor, so an
// instrumented function compiles to the same code as without its `region!`.
#[cfg(not(feature = "peak"))]
const _: () = assert!(std::mem::size_of::<Region>() == 0 && !std::mem::needs_drop::<Region>());

/// A region's path, taken with [`Region::current`] on one thread and entered on another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionHandle {
    #[cfg_attr(not(feature = "peak"), allow(dead_code))]
    gid: u32,
}

impl RegionHandle {
    /// Enters this path on the current thread, returning its guard.
    ///
    /// The allocations made here until the guard drops count under the handle's path, whatever
    /// region is active here; that region also counts them in its inclusive figures, as a
    /// child's. On a thread already inside this path (a pool may run a task on the thread that
    /// handed it out, as rayon does) the entry is recursion: counted as an entry, its bytes once.
    ///
    /// # Examples
    ///
    /// ```
    /// dhat_kit::global_allocator!();
    ///
    /// fn main() {
    ///     dhat_kit::region!("batch");
    ///     let here = dhat_kit::Region::current().expect("inside `batch`");
    ///     let _task = here.enter(); // on the same thread: recursion, not a second count
    ///     drop(vec![0u8; 32]);
    /// }
    /// ```
    pub fn enter(self) -> Region {
        Region {
            #[cfg(feature = "peak")]
            frame: imp::enter_path(self.gid),
            _not_send: PhantomData,
        }
    }
}

/// Every region's figures, on all threads, sorted by inclusive bytes (largest first).
///
/// The entries still open on the calling thread count as if they ended now (they go on
/// measuring): `regions()` at the end of `main`, inside a region that spans it, lists that
/// region. An entry open on another thread is counted when it exits (that thread's frames are its
/// own). One limit: an open entry's peak counts from the start of a [`measure`](crate::measure)
/// still open inside it, if any.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     for _ in 0..3 {
///         dhat_kit::region!("step");
///         drop(vec![0u8; 10]);
///     }
///     assert_eq!(dhat_kit::regions().get("step").unwrap().entries, 3);
/// }
/// ```
#[must_use]
pub fn regions() -> Regions {
    #[cfg(feature = "peak")]
    {
        Regions(imp::collect())
    }
    #[cfg(not(feature = "peak"))]
    {
        Regions::default()
    }
}

/// Clears every region's figures. Call it while no region is active on other threads (figures an
/// exit records during the reset may survive it).
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn main() {
///     { dhat_kit::region!("warm-up"); }
///     dhat_kit::reset_regions();
///     assert!(dhat_kit::regions().is_empty());
/// }
/// ```
pub fn reset_regions() {
    #[cfg(feature = "peak")]
    imp::reset();
}

/// Attributes the allocations of the rest of the enclosing block, on this thread, to the region
/// `name` (nested under the region active here, if any).
///
/// It costs a few nanoseconds on entry and exit, and compiles to nothing when dhat-kit is built
/// without a counting feature, so regions can stay in production code. Under the `ad-hoc` feature
/// each exit also records one dhat ad-hoc event weighted by the bytes allocated inside.
///
/// # Examples
///
/// ```
/// dhat_kit::global_allocator!();
///
/// fn call_function(args: &[i64]) -> Vec<i64> {
///     dhat_kit::region!("call_function");
///     args.iter().map(|a| a * 2).collect()
/// }
///
/// fn main() {
///     call_function(&[1, 2, 3]);
///     let r = dhat_kit::regions();
///     assert_eq!(r.get("call_function").unwrap().inclusive.total_bytes, 24);
/// }
/// ```
#[cfg(feature = "peak")]
#[macro_export]
macro_rules! region {
    ($name:expr $(,)?) => {
        let _dhat_kit_region = $crate::Region::enter($name);
    };
}

/// Attributes the allocations of the rest of the enclosing block, on this thread, to the region
/// `name`. Built without a counting feature, as here, it expands to nothing.
#[cfg(not(feature = "peak"))]
#[macro_export]
macro_rules! region {
    ($name:expr $(,)?) => {
        let _: &'static str = $name;
    };
}

#[cfg(feature = "peak")]
mod imp {
    use super::RegionStats;
    use crate::alloc::uncounted;
    use crate::stats::{higher_peak, Now, RawMark};
    use crate::Stats;
    use parking_lot::Mutex;
    use std::cell::UnsafeCell;
    use std::collections::{BTreeMap, HashMap};
    use std::mem::ManuallyDrop;
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    use std::sync::Arc;

    /// Six figures written by one thread only (load + store, no read-modify-write), read by any.
    #[derive(Default)]
    struct Figures([AtomicU64; 6]);

    impl Figures {
        fn add(&self, s: &Stats) {
            self.add_own([s.total_bytes, s.total_blocks, s.curr_bytes, s.curr_blocks]);
            if s.max_bytes >= self.0[2].load(Relaxed) {
                self.0[2].store(s.max_bytes, Relaxed);
                self.0[3].store(s.max_blocks, Relaxed);
            }
        }

        /// Adds totals and live figures (`[total_bytes, total_blocks, curr_bytes, curr_blocks]`):
        /// a region's own, whose peak is the inclusive one, kept there.
        fn add_own(&self, own: [u64; 4]) {
            let bump = |i: usize, v: u64| self.0[i].store(self.0[i].load(Relaxed) + v, Relaxed);
            bump(0, own[0]);
            bump(1, own[1]);
            bump(4, own[2]);
            bump(5, own[3]);
        }

        fn get(&self) -> Stats {
            let v = |i: usize| self.0[i].load(Relaxed);
            let mut s = Stats::default();
            (s.total_bytes, s.total_blocks) = (v(0), v(1));
            (s.max_bytes, s.max_blocks) = (v(2), v(3));
            (s.curr_bytes, s.curr_blocks) = (v(4), v(5));
            s
        }

        fn clear(&self) {
            self.0.iter().for_each(|a| a.store(0, Relaxed));
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
    struct Agg {
        gid: u32,
        entries: AtomicU64,
        inclusive: Figures,
        self_stats: Figures,
    }

    struct Path {
        path: String,
        name: &'static str,
        depth: usize,
    }

    #[derive(Default, Clone)]
    struct Totals {
        entries: u64,
        inclusive: Stats,
        self_stats: Stats,
    }

    /// The process-wide registry: every path ever entered, the live threads' aggregates, and the
    /// figures of threads that have ended.
    struct Registry {
        paths: Vec<Path>,
        ids: BTreeMap<(u32, &'static str), u32>,
        live: Vec<Arc<Agg>>,
        ended: BTreeMap<u32, Totals>,
    }

    static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
        paths: Vec::new(),
        ids: BTreeMap::new(),
        live: Vec::new(),
        ended: BTreeMap::new(),
    });

    /// The parent id of a region entered outside any other.
    const ROOT: u32 = u32::MAX;

    /// One open region on this thread.
    struct Frame {
        id: u32,
        gid: u32,
        name: &'static str,
        /// This thread's aggregate for the path: an index into `Thread::aggs`.
        agg: usize,
        mark: RawMark,
        /// What the child regions' entries counted: total bytes and blocks, live bytes and blocks.
        children: [u64; 4],
        /// The child entered last from this frame: (name address, name length, path, aggregate),
        /// so that a loop entering the same child skips the lookup.
        last_child: (usize, usize, u32, usize),
    }

    struct Thread {
        frames: Vec<Frame>,
        /// As `Frame::last_child`, for regions entered outside any other.
        last_root: (usize, usize, u32, usize),
        next_id: u32,
        /// (parent path, name) -> (path, index of this thread's aggregate for it).
        ids: HashMap<(u32, usize, usize), (u32, usize), BuildFast>,
        /// path -> index of this thread's aggregate for it (for paths entered from a handle).
        by_path: HashMap<u32, usize, BuildFast>,
        aggs: Vec<Arc<Agg>>,
    }

    /// A multiplicative hash for the small integer keys above: the registry's lookups must cost
    /// nanoseconds, and their keys are not attacker-controlled.
    #[derive(Default, Clone, Copy)]
    struct BuildFast;

    impl std::hash::BuildHasher for BuildFast {
        type Hasher = Fast;
        fn build_hasher(&self) -> Fast {
            Fast(0)
        }
    }

    struct Fast(u64);

    impl std::hash::Hasher for Fast {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            bytes.iter().for_each(|&b| self.write_u64(u64::from(b)));
        }
        fn write_u32(&mut self, n: u32) {
            self.write_u64(u64::from(n));
        }
        fn write_usize(&mut self, n: usize) {
            self.write_u64(n as u64);
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    /// Hands the thread's figures to the registry's `ended` totals when the thread ends. Registered
    /// with the thread's first aggregate, so that `THREAD` itself needs no destructor and stays a
    /// plain, always-accessible thread-local on the region's path.
    struct HandOverAtExit;

    impl Drop for HandOverAtExit {
        fn drop(&mut self) {
            let _ = with_thread(|t| {
                let aggs = std::mem::take(&mut t.aggs);
                let frames = std::mem::take(&mut t.frames);
                let ids = std::mem::take(&mut t.ids);
                let by_path = std::mem::take(&mut t.by_path);
                // The root cache indexes the aggregates just taken: a region entered after this
                // (from another thread-local's destructor) must look its path up afresh.
                t.last_root = (0, 0, 0, 0);
                uncounted(|| {
                    let mut reg = REGISTRY.lock();
                    for agg in &aggs {
                        let e = reg.ended.entry(agg.gid).or_default();
                        e.entries += agg.entries.load(Relaxed);
                        merge(&mut e.inclusive, &agg.inclusive.get());
                        merge(&mut e.self_stats, &agg.self_stats.get());
                        reg.live.retain(|a| !Arc::ptr_eq(a, agg));
                    }
                    drop(reg);
                    drop((aggs, frames, ids, by_path));
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
                last_root: (0, 0, 0, 0),
                next_id: 0,
                ids: HashMap::with_hasher(BuildFast),
                by_path: HashMap::with_hasher(BuildFast),
                aggs: Vec::new(),
            }))
        };
        static EXIT: HandOverAtExit = const { HandOverAtExit };
    }

    /// Runs `f` on this thread's region state; `None` while the thread is being torn down.
    #[inline(always)]
    fn with_thread<R>(f: impl FnOnce(&mut Thread) -> R) -> Option<R> {
        THREAD
            .try_with(|t| {
                // SAFETY: only this thread reaches its `THREAD`, and never while a reference from an
                // outer `with_thread` is alive: the callers (enter, exit, current, the open entries
                // read by `regions`, the exit hand-over) run no user code and never call one another; what they allocate goes to the
                // counting allocator, which never touches regions.
                f(unsafe { &mut *t.get() })
            })
            .ok()
    }

    /// Which frame a guard closes: its place on the stack (high half) and its identity (low
    /// half), packed in one word so that a guard travels in a register; or [`FrameRef::NONE`] for
    /// a recursive entry (counted, nothing to close) or one made while the thread is torn down.
    #[derive(Clone, Copy)]
    pub(super) struct FrameRef(u64);

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

    fn path_id(parent: u32, name: &'static str) -> u32 {
        let mut reg = REGISTRY.lock();
        if let Some(&gid) = reg.ids.get(&(parent, name)) {
            return gid;
        }
        let (path, depth) = match reg.paths.get(parent as usize) {
            Some(p) => (format!("{}/{name}", p.path), p.depth + 1),
            None => (name.to_owned(), 0),
        };
        let gid = reg.paths.len() as u32;
        reg.paths.push(Path { path, name, depth });
        reg.ids.insert((parent, name), gid);
        gid
    }

    /// This thread's aggregate for path `gid`, made and registered on first use.
    fn agg_for(thread: &mut Thread, gid: u32) -> usize {
        if let Some(&i) = thread.by_path.get(&gid) {
            return i;
        }
        let agg = Arc::new(Agg {
            gid,
            entries: AtomicU64::new(0),
            inclusive: Figures::default(),
            self_stats: Figures::default(),
        });
        REGISTRY.lock().live.push(Arc::clone(&agg));
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
            if let Some(depth) = t.frames.iter().rposition(|f| f.name == name) {
                let frame = &t.frames[depth];
                bump(&t.aggs[frame.agg].entries);
                return FrameRef::NONE;
            }
            let (ptr, len) = (name.as_ptr() as usize, name.len());
            let cache = t.frames.last().map_or(t.last_root, |f| f.last_child);
            let (gid, agg) = if (cache.0, cache.1) == (ptr, len) {
                (cache.2, cache.3)
            } else {
                let parent = t.frames.last().map_or(ROOT, |f| f.gid);
                let (gid, agg) = match t.ids.get(&(parent, ptr, len)) {
                    Some(&found) => found,
                    None => uncounted(|| {
                        let gid = path_id(parent, name);
                        let found = (gid, agg_for(t, gid));
                        t.ids.insert((parent, ptr, len), found);
                        found
                    }),
                };
                let slot = match t.frames.last_mut() {
                    Some(f) => &mut f.last_child,
                    None => &mut t.last_root,
                };
                *slot = (ptr, len, gid, agg);
                (gid, agg)
            };
            open(t, gid, agg, name)
        })
        .unwrap_or(FrameRef::NONE)
    }

    /// Enters the path `gid`, handed over from another thread, as a new frame here; on a thread
    /// already inside that path (a pool running a task on the thread that handed it out) the entry
    /// is recursion, as for a name, so that the path's bytes are not counted twice.
    pub(super) fn enter_path(gid: u32) -> FrameRef {
        with_thread(|t| {
            if let Some(frame) = t.frames.iter().rev().find(|f| f.gid == gid) {
                bump(&t.aggs[frame.agg].entries);
                return FrameRef::NONE;
            }
            let (agg, name) = uncounted(|| {
                let name = REGISTRY.lock().paths[gid as usize].name;
                (agg_for(t, gid), name)
            });
            open(t, gid, agg, name)
        })
        .unwrap_or(FrameRef::NONE)
    }

    /// Pushes a frame for path `gid` (this thread's aggregate `agg`) and starts its measurement.
    #[inline(always)]
    fn open(t: &mut Thread, gid: u32, agg: usize, name: &'static str) -> FrameRef {
        // The entry is counted when it ends (`close`), on the aggregate it writes anyway.
        t.next_id = t.next_id.wrapping_add(1);
        let id = t.next_id;
        let depth = t.frames.len();
        if t.frames.capacity() == depth {
            uncounted(|| t.frames.reserve(8));
        }
        let frame = Frame {
            id,
            gid,
            name,
            agg,
            mark: RawMark::begin(),
            children: [0; 4],
            last_child: (0, 0, 0, 0),
        };
        // SAFETY: the capacity was made to exceed `depth`, the length, just above, so the slot at
        // `depth` is allocated and unused; writing it and raising the length by one keeps every
        // element initialised (a plain `push` would check the capacity a second time).
        unsafe {
            t.frames.as_mut_ptr().add(depth).write(frame);
            t.frames.set_len(depth + 1);
        }
        FrameRef::new(depth, id)
    }

    fn bump(a: &AtomicU64) {
        a.store(a.load(Relaxed) + 1, Relaxed);
    }

    #[inline]
    pub(super) fn exit(frame: FrameRef) {
        if frame.0 != FrameRef::NONE.0 {
            close_from(frame);
        }
    }

    fn close_from(frame: FrameRef) {
        let _ = with_thread(|t| {
            if t.frames.get(frame.depth()).map(|f| f.id) != Some(frame.id()) {
                return; // already closed by an outer guard dropped early
            }
            // Frames end where they lie, then leave the stack: no copy of a frame just written.
            while let Some((f, rest)) = t.frames.split_last_mut() {
                close(f, &t.aggs, rest.last_mut());
                t.frames.truncate(t.frames.len() - 1);
                if t.frames.len() == frame.depth() {
                    break;
                }
            }
        });
    }

    fn close(f: &mut Frame, aggs: &[Arc<Agg>], parent: Option<&mut Frame>) {
        let agg = &aggs[f.agg];
        bump(&agg.entries);
        let inclusive = f.mark.end();
        agg.inclusive.add(&inclusive);
        agg.self_stats.add_own(own(&inclusive, &f.children));
        if let Some(parent) = parent {
            add_child(&mut parent.children, &inclusive);
        }
        #[cfg(feature = "ad-hoc")]
        uncounted(|| dhat::ad_hoc_event(inclusive.total_bytes as usize));
    }

    /// A frame's own totals and live figures (`[total_bytes, total_blocks, curr_bytes,
    /// curr_blocks]`): its inclusive ones less what its child regions' entries counted.
    #[inline(always)]
    fn own(inclusive: &Stats, children: &[u64; 4]) -> [u64; 4] {
        [
            inclusive.total_bytes.saturating_sub(children[0]),
            inclusive.total_blocks.saturating_sub(children[1]),
            inclusive.curr_bytes.saturating_sub(children[2]),
            inclusive.curr_blocks.saturating_sub(children[3]),
        ]
    }

    /// Adds a child entry's inclusive figures to its parent frame's `children`.
    #[inline(always)]
    fn add_child(children: &mut [u64; 4], inclusive: &Stats) {
        children[0] += inclusive.total_bytes;
        children[1] += inclusive.total_blocks;
        children[2] += inclusive.curr_bytes;
        children[3] += inclusive.curr_blocks;
    }

    /// The entries open on this thread, as they stand now: (path, inclusive figures, own figures
    /// `[total_bytes, total_blocks, curr_bytes, curr_blocks]`) of each, as if it ended now, without
    /// ending it. The tally is read before anything here allocates.
    fn open_entries() -> Vec<(u32, Stats, [u64; 4])> {
        let Some(now) = Now::read() else {
            return Vec::new();
        };
        with_thread(|t| {
            let mut out = Vec::with_capacity(t.frames.len());
            // Innermost first: each frame's peak since it began is the peak since the frame inside
            // it began, or the one before that (kept in the inner frame's mark), whichever is higher.
            let mut peak = now.peak;
            let mut open_child: Option<Stats> = None;
            for f in t.frames.iter().rev() {
                let inclusive = f.mark.so_far(&now, peak);
                peak = higher_peak(f.mark.outer_peak(), peak);
                let mut children = f.children;
                if let Some(child) = &open_child {
                    add_child(&mut children, child);
                }
                out.push((f.gid, inclusive, own(&inclusive, &children)));
                open_child = Some(inclusive);
            }
            out
        })
        .unwrap_or_default()
    }

    pub(super) fn current() -> Option<u32> {
        with_thread(|t| t.frames.last().map(|f| f.gid)).flatten()
    }

    pub(super) fn collect() -> Vec<RegionStats> {
        let open = open_entries();
        // Waiting may allocate the lock's parking table once per process: the kit's, uncounted.
        let reg = uncounted(|| REGISTRY.lock());
        let mut totals = reg.ended.clone();
        for agg in &reg.live {
            let t = totals.entry(agg.gid).or_default();
            t.entries += agg.entries.load(Relaxed);
            merge(&mut t.inclusive, &agg.inclusive.get());
            merge(&mut t.self_stats, &agg.self_stats.get());
        }
        for (gid, inclusive, own) in open {
            let t = totals.entry(gid).or_default();
            t.entries += 1;
            merge(&mut t.inclusive, &inclusive);
            let mut self_stats = Stats::default();
            (self_stats.total_bytes, self_stats.total_blocks) = (own[0], own[1]);
            (self_stats.curr_bytes, self_stats.curr_blocks) = (own[2], own[3]);
            merge(&mut t.self_stats, &self_stats);
        }
        let mut out: Vec<RegionStats> = totals
            .into_iter()
            .filter(|(_, t)| t.entries > 0)
            .map(|(gid, t)| {
                let p = &reg.paths[gid as usize];
                let mut self_stats = t.self_stats;
                (self_stats.max_bytes, self_stats.max_blocks) =
                    (t.inclusive.max_bytes, t.inclusive.max_blocks);
                RegionStats {
                    path: p.path.clone(),
                    name: p.name.to_owned(),
                    depth: p.depth,
                    entries: t.entries,
                    inclusive: t.inclusive,
                    self_stats,
                }
            })
            .collect();
        drop(reg);
        out.sort_by(|a, b| {
            b.inclusive
                .total_bytes
                .cmp(&a.inclusive.total_bytes)
                .then_with(|| a.path.cmp(&b.path))
        });
        out
    }

    pub(super) fn reset() {
        // The ended threads' totals were recorded uncounted (at those threads' exits): freed
        // uncounted too.
        uncounted(reset_registry);
    }

    fn reset_registry() {
        let mut reg = REGISTRY.lock();
        reg.ended.clear();
        for agg in &reg.live {
            agg.entries.store(0, Relaxed);
            agg.inclusive.clear();
            agg.self_stats.clear();
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_thread_that_ends_hands_its_figures_over_and_leaves_nothing_live() {
            const NAME: &str = "unit-test-hand-over";
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    std::thread::spawn(|| {
                        for _ in 0..3 {
                            let _region = super::super::Region::enter(NAME);
                        }
                    })
                })
                .collect();
            threads.into_iter().for_each(|t| t.join().unwrap());
            let reg = REGISTRY.lock();
            let gid = reg.ids[&(ROOT, NAME)];
            assert!(
                reg.live.iter().all(|a| a.gid != gid),
                "ended threads' aggregates are still live"
            );
            assert_eq!(reg.ended[&gid].entries, 12);
        }
    }
}
