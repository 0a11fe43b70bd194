//! Regions: [`region!`](macro@crate::region), the [`Region`] guard, and the report of
//! [`RegionStats`].
//!
//! A region attributes the allocations of the current thread, from its entry until its guard drops,
//! to a named path (`outer/inner` when nested). Each thread keeps its own frames and its own
//! aggregates (atomics written only by that thread, so an exit takes no process-wide lock:
//! `thread.rs`); a process-wide list of those aggregates, touched only when a thread enters a path
//! for the first time, when it ends, and by [`regions`], makes every thread's figures visible
//! (`registry.rs`). This file is the public API and the report.

use crate::Stats;
use serde::Serialize;
use std::fmt;
use std::marker::PhantomData;

#[cfg(feature = "stream")]
pub use future::InRegionStreamExt;
pub use future::{InRegion, InRegionExt};

/// The figures of one region path, summed over all its entries on all threads.
///
/// `inclusive` counts everything allocated while the region was active, its child regions
/// included (in the totals, also a child entered on another thread through a [`RegionHandle`],
/// whose thread's stack does not hold the parent); `self_stats` leaves out of the totals (`total_*`) and the live figures (`curr_*`) what
/// its child regions allocated. The peak (`max_*`, the same in both) is the highest of any single
/// entry, measured above the live heap at that entry: a peak is a moment of the whole heap, not a
/// sum that splits between a region and its children. `curr_*` is what the entries left live when
/// they exited (an entry open on the calling thread: what it holds live now), never below 0: an
/// entry that frees more than it allocated (a block from outside it, or one a sibling made)
/// leaves 0, so the live figures of a region and its children add up only where no entry did.
/// The totals add up in a reading made while no other thread is inside the regions; one made
/// while others are reads each path's entries whole, but the paths one after another, so a child
/// may be ahead of its parent by the entries that ended between the two reads (thousands, for a
/// thread entering them in a tight loop).
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

    /// What the regions did since `start` (an earlier reading, such as a profiling session's
    /// beginning): entries, totals and live figures as differences, regions with nothing since
    /// left out, sorted again by inclusive bytes.
    ///
    /// Regions keep one peak each, the highest of their entries, so the peak since `start` is
    /// known exactly where `start` did not have the region, or where the region's peak rose since
    /// (an entry since then passed every earlier one). Otherwise the highest entry since is at
    /// most the earlier peak and at most everything the region allocated since: the lower of the
    /// two is given, with all the blocks allocated since (the blocks at the earlier peak bound
    /// nothing).
    pub(crate) fn since(self, start: &Regions) -> Regions {
        let start: std::collections::HashMap<&str, &RegionStats> =
            start.iter().map(|r| (r.path.as_str(), r)).collect();
        let mut out: Vec<RegionStats> = self
            .0
            .into_iter()
            .filter_map(|mut r| {
                let Some(s) = start.get(r.path.as_str()) else {
                    return Some(r);
                };
                r.entries = r.entries.saturating_sub(s.entries);
                let peak_rose = r.inclusive.max_bytes > s.inclusive.max_bytes;
                for (now, then) in [
                    (&mut r.inclusive, &s.inclusive),
                    (&mut r.self_stats, &s.self_stats),
                ] {
                    now.total_bytes = now.total_bytes.saturating_sub(then.total_bytes);
                    now.total_blocks = now.total_blocks.saturating_sub(then.total_blocks);
                    now.curr_bytes = now.curr_bytes.saturating_sub(then.curr_bytes);
                    now.curr_blocks = now.curr_blocks.saturating_sub(then.curr_blocks);
                }
                if !peak_rose {
                    let bytes = r.inclusive.max_bytes.min(r.inclusive.total_bytes);
                    let blocks = r.inclusive.total_blocks;
                    for figures in [&mut r.inclusive, &mut r.self_stats] {
                        (figures.max_bytes, figures.max_blocks) = (bytes, blocks);
                    }
                }
                // An entry open at both readings (the caller's) counts in both: kept for what it
                // allocated since.
                (r.entries > 0 || r.inclusive.total_blocks > 0).then_some(r)
            })
            .collect();
        sort(&mut out);
        Regions(out)
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

/// Sorts regions as [`Regions`] lists them: by inclusive bytes, largest first, then by path.
fn sort(regions: &mut [RegionStats]) {
    regions.sort_by(|a, b| {
        b.inclusive
            .total_bytes
            .cmp(&a.inclusive.total_bytes)
            .then_with(|| a.path.cmp(&b.path))
    });
}

impl std::ops::Deref for Regions {
    type Target = [RegionStats];
    fn deref(&self) -> &[RegionStats] {
        &self.0
    }
}

/// The regions by reference, in their order: `for region in &regions`.
impl<'a> IntoIterator for &'a Regions {
    type Item = &'a RegionStats;
    type IntoIter = std::slice::Iter<'a, RegionStats>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The regions, in their order: `for region in regions`.
impl IntoIterator for Regions {
    type Item = RegionStats;
    type IntoIter = std::vec::IntoIter<RegionStats>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl fmt::Display for Regions {
    /// An aligned table: path, entries, inclusive bytes and blocks, self bytes, share of all bytes
    /// allocated inside regions, peak above entry, and the bytes the entries left live when they
    /// exited (`kept`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::units::{Bytes, Thousands};
        if self.0.is_empty() {
            return writeln!(
                f,
                "{}",
                if cfg!(feature = "peak") {
                    "no regions were entered"
                } else {
                    "no regions are counted: dhat-kit was built without its `peak` feature"
                }
            );
        }
        let all: u64 = self.0.iter().map(|r| r.self_stats.total_bytes).sum();
        // Each path on one line: a name with a tab or a newline (given at run time) broke the
        // table's columns and rows.
        let paths: Vec<_> = self
            .0
            .iter()
            .map(|r| crate::analyze::one_line(&r.path))
            .collect();
        let width = paths
            .iter()
            .map(|p| p.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        writeln!(
            f,
            "{:<width$}  {:>9}  {:>10}  {:>10}  {:>10}  {:>6}  {:>10}  {:>10}",
            "region", "entries", "bytes", "blocks", "self", "share", "peak", "kept"
        )?;
        for (r, path) in self.0.iter().zip(&paths) {
            let share = if all == 0 {
                0.0
            } else {
                r.inclusive.total_bytes as f64 * 100.0 / all as f64
            };
            writeln!(
                f,
                "{:<width$}  {:>9}  {:>10}  {:>10}  {:>10}  {:>5.1}%  {:>10}  {:>10}",
                path,
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
/// Made by [`region!`](macro@crate::region) (which keeps it to the end of the block) or by
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
    /// `name` is not empty and holds no `/`, which separates the names of a path: it is not
    /// checked here (that would cost every entry), and `"a/b"` would read as `b` inside `a`.
    /// [`region!`](crate::region!) checks a literal name at compile time.
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
    /// handed it out, as rayon does; or the thread entered a handle of a path below this one)
    /// the entry is recursion: counted as an entry, its bytes once, under the region that thread
    /// is in (a sub-region of the path, if it entered one after taking the handle).
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
/// own), whole: a call while it exits sees the entry with all its figures, or not at all. An open
/// entry's peak takes in what happened before a [`measure`](crate::measure) still open inside it.
///
/// Without a dhat-kit allocator installed, the entries are counted and every figure is 0
/// ([`is_installed`](crate::is_installed) tells); built without a counting feature, no region is
/// recorded.
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
        let regions = imp::collect(imp::Threads::All);
        // Entries counted but nothing else: say once if the allocator is not installed.
        if let Some(first) = regions.first() {
            crate::stats::say_if_nothing_counted("regions()", &first.inclusive);
        }
        Regions(regions)
    }
    #[cfg(not(feature = "peak"))]
    {
        Regions::default()
    }
}

/// The figures of the regions entered on every thread since the process began, with what
/// [`reset_regions`] cleared: a reading that a later one can be compared with
/// ([`Regions::since`]) whatever resets came between.
pub(crate) fn regions_ever() -> Regions {
    #[cfg(feature = "peak")]
    {
        Regions(imp::collect(imp::Threads::AllEver))
    }
    #[cfg(not(feature = "peak"))]
    {
        Regions::default()
    }
}

/// The figures of the regions entered on every thread (as [`regions_ever`]), or on this thread
/// only (its aggregates and its open entries), with what [`reset_regions`] cleared: for a failing
/// budget's report, which compares two readings that a test calling [`reset_regions`] between
/// them left apart (a reset made 3 entries of 300 bytes read 2 entries and 800). Empty when
/// nothing is counted.
pub(crate) fn regions_on(all_threads: bool) -> Regions {
    #[cfg(feature = "peak")]
    {
        Regions(imp::collect(if all_threads {
            imp::Threads::AllEver
        } else {
            imp::Threads::ThisEver
        }))
    }
    #[cfg(not(feature = "peak"))]
    {
        let _ = all_threads;
        Regions::default()
    }
}

/// Clears every region's figures. Call it while no region is active on other threads (figures an
/// exit records during the reset may survive it), and between this thread's regions: a region
/// open on this thread (or a future's entry polled before the reset, on any thread) keeps what
/// it counted since its entry, before the reset too, and its exit records it (a region spanning `main`, or a server's loop, carries the previous phase's bytes
/// into the next reading; reset before entering it, or measure the phase in a region of its own).
/// A [`Profiler`](crate::Profiler) session under way is not disturbed: its file holds every entry
/// the session made, before the reset and after it.
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
///
///     // A region open across the reset keeps its bytes from before it.
///     {
///         dhat_kit::region!("open");
///         drop(std::hint::black_box(vec![0u8; 100]));
///         dhat_kit::reset_regions();
///         drop(std::hint::black_box(vec![0u8; 7]));
///     }
///     assert_eq!(dhat_kit::regions().get("open").unwrap().inclusive.total_bytes, 107);
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
/// each exit also records one dhat ad-hoc event weighted by the bytes allocated inside. A recursive
/// entry (the region's name already open on the thread) has no exit of its own: it is part of the
/// outer entry, whose bytes count it once, so it records no event.
///
/// The region ends where the block's locals drop. Before edition 2024, the temporaries of a
/// block's last expression drop after its locals: in `fn len(n: usize) -> usize {
/// region!("len"); vec![0u8; n].len() }` the vector is freed after the region ended, so the
/// region reports it as kept. Bind such a value first (`let len = vec![0u8; n].len(); len`), or
/// put [`#[in_region]`](macro@crate::in_region) on the function, which ends its region after them.
///
/// A name is not empty and holds no `/`, which separates the names of a path (`outer/inner`):
/// a literal that does not is a compile error. A name made at run time is not checked (the
/// check would cost every entry); `region!("a/b")` would read as `b` inside `a`.
///
/// ```compile_fail,E0080
/// dhat_kit::region!("parse/tokens"); // one name, read as two
/// ```
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
    ($name:literal $(,)?) => {
        const _: () = if !$crate::__private::region_name($name) {
            ::core::panic!(
                "dhat-kit: a region's name is not empty and holds no `/`, which separates the \
                 names of a path (`outer/inner`): enter one region inside the other"
            )
        };
        let _dhat_kit_region = $crate::Region::enter($name);
    };
    ($name:expr $(,)?) => {
        let _dhat_kit_region = $crate::Region::enter($name);
    };
}

/// Attributes the allocations of the rest of the enclosing block, on this thread, to the region
/// `name`. Built without a counting feature, as here, it expands to nothing.
#[cfg(not(feature = "peak"))]
#[macro_export]
macro_rules! region {
    ($name:literal $(,)?) => {
        const _: () = if !$crate::__private::region_name($name) {
            ::core::panic!(
                "dhat-kit: a region's name is not empty and holds no `/`, which separates the \
                 names of a path (`outer/inner`): enter one region inside the other"
            )
        };
    };
    ($name:expr $(,)?) => {
        let _: &'static str = $name;
    };
}

mod future;
#[cfg(feature = "peak")]
mod registry;
#[cfg(feature = "peak")]
mod thread;

#[cfg(all(unix, feature = "peak"))]
pub(crate) use registry::{hold_for_fork, in_child};

/// What the public API calls: the per-thread state (entering and leaving) and the registry
/// (reading and clearing every thread's figures).
#[cfg(feature = "peak")]
pub(crate) mod imp {
    #[cfg(feature = "sampled")]
    pub(crate) use super::registry::path_of;
    pub(super) use super::registry::{collect, reset, Threads};
    #[cfg(feature = "sampled")]
    pub(crate) use super::thread::current_path;
    pub(super) use super::thread::{
        add_apart, current, enter_child, enter_path, exit, finish, path_for, resume, suspend,
        Apart, FrameRef,
    };
    pub(crate) use super::thread::{mark_began, mark_ended};
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name given at run time with a tab or a newline is printed escaped, on its row and in its
    /// column: it broke the table's columns and rows.
    #[test]
    fn a_name_with_a_control_character_keeps_the_table_whole() {
        let row = |path: &str| RegionStats {
            path: path.to_owned(),
            name: path.to_owned(),
            depth: 0,
            entries: 1,
            inclusive: Stats::default(),
            self_stats: Stats::default(),
        };
        let table = Regions(vec![row("a\tb"), row("line\nbreak")]).to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 3, "{table}");
        assert!(lines[1].starts_with("a\\tb         "), "{table}");
        assert!(lines[2].starts_with("line\\nbreak  "), "{table}");
        assert!(!table.contains('\t'), "{table}");
    }
}
