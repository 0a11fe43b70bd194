//! Regions over futures: [`InRegion`], made by [`InRegionExt::in_region`].
//!
//! A [`Region`](super::Region) guard belongs to one thread and measures everything that thread
//! allocates until it drops. Across an `.await` both go wrong: the task may resume on another
//! thread (so the guard is `!Send`, and the future with it), and while it waits, the thread runs
//! other tasks, whose allocations the guard would count. [`InRegion`] keeps the entry with the
//! future instead: each poll resumes it on the thread that polls, and what the poll measured is
//! carried to the next one. The entry is counted once, when the future completes or is dropped,
//! with the figures of all its polls.

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::task::{Context, Poll};

#[cfg(feature = "stream")]
mod stream;
#[cfg(feature = "stream")]
pub use stream::InRegionStreamExt;

/// Runs a future inside a region: [`in_region`](InRegionExt::in_region) and
/// [`in_current_region`](InRegionExt::in_current_region). Implemented for every future.
///
/// # Examples
///
/// ```
/// use dhat_kit::InRegionExt;
/// use std::future::Future;
/// use std::task::{Context, Poll, Waker};
///
/// dhat_kit::global_allocator!();
///
/// async fn load() -> usize {
///     vec![0u8; 1024].len()
/// }
///
/// fn main() {
///     let task = std::pin::pin!(load().in_region("load"));
///     let done = task.poll(&mut Context::from_waker(Waker::noop()));
///     assert_eq!(done, Poll::Ready(1024));
///     let load = dhat_kit::regions().get("load").cloned().expect("entered once");
///     assert_eq!((load.entries, load.inclusive.total_bytes), (1, 1024));
/// }
/// ```
pub trait InRegionExt: Future + Sized {
    /// This future, with everything its polls allocate, on whatever thread polls it, attributed
    /// to the region `name`, nested under the region active where this is called (if any).
    ///
    /// It is one entry of the region, counted when the future completes or is dropped (one
    /// dropped before its first poll never entered, and is not counted): its
    /// totals are those of all its polls, its live figures what all of them left live
    /// together, and its peak the highest the future's own live bytes reached, poll after poll,
    /// above the heap at its first poll. What other tasks do between the polls is not counted.
    /// A region entered inside one poll (with [`region!`](macro@crate::region)) is its child, as
    /// usual; one whose guard is held across an `.await` ends at that `.await`.
    /// [`regions`](crate::regions) lists the entry once it is counted; called inside one of its
    /// polls, it also lists that poll as an entry still open (with the poll's figures so far),
    /// as for any open entry.
    ///
    /// The future is `Send` when `self` is, so it can be spawned on a multi-threaded runtime.
    /// Built without a counting feature, it only polls `self`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::InRegionExt;
    /// use std::future::Future;
    /// use std::task::{Context, Waker};
    ///
    /// dhat_kit::global_allocator!();
    ///
    /// async fn handle(request: Vec<u8>) -> usize {
    ///     let reply = request.repeat(2);
    ///     std::future::ready(()).await;
    ///     reply.len()
    /// }
    ///
    /// fn main() {
    ///     let server = dhat_kit::Region::enter("server");
    ///     let task = handle(vec![1; 100]).in_region("handle"); // the path "server/handle"
    ///     drop(server);
    ///     // A runtime would poll it on any of its threads (`tokio::spawn(task)`); here, once.
    ///     let _ = std::pin::pin!(task).poll(&mut Context::from_waker(Waker::noop()));
    ///     let handle = dhat_kit::regions().get("server/handle").cloned().unwrap();
    ///     // The reply; the request was allocated before, where the future was made.
    ///     assert_eq!(handle.inclusive.total_bytes, 200);
    /// }
    /// ```
    fn in_region(self, name: &'static str) -> InRegion<Self> {
        InRegion::named(self, name)
    }

    /// This future, attributed to the region active where this is called (none outside any):
    /// for work a task hands to another task (`tokio::spawn(work.in_current_region())`), as
    /// [`Region::current`](crate::Region::current) is for work handed to another thread. Each
    /// such future counts as an entry of that region, as each thread that enters a
    /// [`RegionHandle`](crate::RegionHandle) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::InRegionExt;
    /// use std::future::Future;
    /// use std::task::{Context, Waker};
    ///
    /// dhat_kit::global_allocator!();
    ///
    /// fn main() {
    ///     let batch = dhat_kit::Region::enter("batch");
    ///     let part = async { vec![0u8; 64].len() }.in_current_region();
    ///     drop(batch);
    ///     let _ = std::pin::pin!(part).poll(&mut Context::from_waker(Waker::noop()));
    ///     let batch = dhat_kit::regions().get("batch").cloned().unwrap();
    ///     assert_eq!((batch.entries, batch.inclusive.total_bytes), (2, 64));
    /// }
    /// ```
    fn in_current_region(self) -> InRegion<Self> {
        InRegion::in_current(self)
    }
}

impl<F: Future> InRegionExt for F {}

/// A future, or (with feature `stream`) a stream, whose polls count under a region: see
/// [`InRegionExt::in_region`] and `InRegionStreamExt::in_region`.
#[must_use = "futures do nothing unless awaited or polled"]
pub struct InRegion<F> {
    /// Dropped in place by `Drop`, inside the region when the entry is still open.
    future: ManuallyDrop<F>,
    #[cfg(feature = "peak")]
    entry: entry::Entry,
}

impl<F> InRegion<F> {
    fn new(future: F, #[cfg(feature = "peak")] path: Option<u32>) -> Self {
        InRegion {
            future: ManuallyDrop::new(future),
            #[cfg(feature = "peak")]
            entry: entry::Entry::new(path),
        }
    }

    /// `future` in the region `name` (see [`InRegionExt::in_region`]).
    fn named(future: F, name: &'static str) -> Self {
        #[cfg(feature = "peak")]
        let path = super::imp::path_for(name);
        #[cfg(not(feature = "peak"))]
        let _ = name;
        InRegion::new(
            future,
            #[cfg(feature = "peak")]
            path,
        )
    }

    /// `future` in the region active now (see [`InRegionExt::in_current_region`]).
    fn in_current(future: F) -> Self {
        InRegion::new(
            future,
            #[cfg(feature = "peak")]
            super::imp::current(),
        )
    }

    /// The future inside.
    pub fn inner(&self) -> &F {
        &self.future
    }
}

impl<F> fmt::Debug for InRegion<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InRegion").finish_non_exhaustive()
    }
}

impl<F: Future> Future for InRegion<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is pinned whenever `self` is: it is never moved out of `self`, only
        // polled here through a pinned reference and dropped in place by `Drop`; `InRegion` is
        // `Unpin` only when `F` is (the auto trait, `entry` being plain data).
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above, `future` stays where it is until it is dropped in place.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        #[cfg(feature = "peak")]
        {
            this.entry.poll(|| future.poll(cx), Poll::is_ready)
        }
        #[cfg(not(feature = "peak"))]
        {
            future.poll(cx)
        }
    }
}

impl<F> Drop for InRegion<F> {
    fn drop(&mut self) {
        #[cfg(feature = "peak")]
        {
            let future = &mut self.future;
            // SAFETY: `future` is dropped exactly once, here, in place (it may be pinned), and
            // never used after.
            self.entry
                .drop_inside(move || unsafe { ManuallyDrop::drop(future) });
        }
        // SAFETY: as above.
        #[cfg(not(feature = "peak"))]
        unsafe {
            ManuallyDrop::drop(&mut self.future)
        };
    }
}

/// The entry a future carries from poll to poll.
#[cfg(feature = "peak")]
mod entry {
    use super::super::imp;
    use super::super::thread::{Own, Poll};
    use crate::tally::{mark::higher, Delta};
    use crate::Stats;

    /// A future's entry of a region: its path, and what its polls measured so far.
    #[derive(Debug)]
    pub(super) struct Entry {
        /// `None`: no region (created outside any, with `in_current_region`), or the entry has
        /// been counted.
        path: Option<u32>,
        /// Whether it was polled: a future dropped before its first poll never entered.
        polled: bool,
        /// Whether a poll opened a frame of its own: one polled only inside its own region (a
        /// recursive entry) is part of the outer entry, which measured it.
        opened: bool,
        /// The figures of the polls so far, signed, from the first poll's beginning: totals,
        /// the live change, and the peak above the live figures then.
        so_far: Delta,
        /// What the child regions' entries counted in those polls.
        children: Own,
        /// The totals of the polls made apart from some of the path's ancestors, all from the
        /// same depth on ([`imp::Apart`]).
        apart: Option<imp::Apart>,
    }

    /// Ends a poll's frame when the poll returns or unwinds.
    struct Suspend<'a> {
        entry: &'a mut Entry,
        frame: imp::FrameRef,
    }

    impl Drop for Suspend<'_> {
        fn drop(&mut self) {
            if let Some(poll) = imp::suspend(self.frame) {
                self.entry.carry(&poll);
            }
        }
    }

    impl Entry {
        pub(super) fn new(path: Option<u32>) -> Entry {
            Entry {
                path,
                polled: false,
                opened: false,
                so_far: Delta::default(),
                children: Own::default(),
                apart: None,
            }
        }

        /// Runs one poll inside the region; counts the entry when `done` holds of its result
        /// (a future's completion, a stream's end).
        pub(super) fn poll<R>(
            &mut self,
            poll: impl FnOnce() -> R,
            done: impl FnOnce(&R) -> bool,
        ) -> R {
            let Some(path) = self.path else {
                return poll();
            };
            self.polled = true;
            let out = self.inside(path, poll);
            if done(&out) {
                self.finish();
            }
            out
        }

        /// Runs the future's drop inside the region when its entry is still open (a future
        /// dropped before it completes: cancelled, or its task aborted), then counts the entry,
        /// also when the drop panics.
        pub(super) fn drop_inside(&mut self, drop_future: impl FnOnce()) {
            /// Counts the entry as it drops: after the future's drop has returned or unwound
            /// (and the poll's frame has ended, [`Suspend`]).
            struct Finish<'a>(&'a mut Entry);
            impl Drop for Finish<'_> {
                fn drop(&mut self) {
                    self.0.finish();
                }
            }
            match self.path {
                Some(path) if self.polled => {
                    let finish = Finish(self);
                    finish.0.inside(path, drop_future);
                }
                _ => drop_future(),
            }
        }

        /// Runs `f` in a frame of `path` on this thread, and carries what it measured.
        fn inside<R>(&mut self, path: u32, f: impl FnOnce() -> R) -> R {
            let _suspend = Suspend {
                frame: imp::resume(path),
                entry: self,
            };
            f()
        }

        /// Adds a poll's figures: the totals add up, the live change too, and the peak is the
        /// live change before the poll plus the poll's own peak, if that is higher.
        fn carry(
            &mut self,
            Poll {
                delta: poll,
                children,
                detached,
            }: &Poll,
        ) {
            self.opened = true;
            if let Some(from) = *detached {
                let (bytes, blocks) = (poll.total_bytes, poll.total_blocks);
                match &mut self.apart {
                    Some(apart) if apart.0 == from => {
                        (apart.1, apart.2) = (apart.1 + bytes, apart.2 + blocks);
                    }
                    // Polls apart from other ancestors (rare): those carried so far are added
                    // now, before the entry is counted.
                    carried => {
                        if let (Some(old), Some(path)) =
                            (carried.replace((from, bytes, blocks)), self.path)
                        {
                            imp::add_apart(path, old);
                        }
                    }
                }
            }
            let s = &mut self.so_far;
            s.total_bytes = s.total_bytes.wrapping_add(poll.total_bytes);
            s.total_blocks = s.total_blocks.wrapping_add(poll.total_blocks);
            let at = (s.live.0 + poll.peak.0, s.live.1 + poll.peak.1);
            s.peak = higher(s.peak, at);
            s.live = (s.live.0 + poll.live.0, s.live.1 + poll.live.1);
            self.children.add(&children.stats());
        }

        /// Counts the entry, once.
        fn finish(&mut self) {
            if let Some(path) = self.path.take() {
                let inclusive: Stats = self.so_far.stats();
                let apart = self.apart.take();
                imp::finish(path, &inclusive, &self.children, apart, self.opened);
            }
        }
    }
}
