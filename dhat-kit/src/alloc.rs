//! [`Alloc`], the counting global allocator: it forwards every call to its inner allocator and
//! tells the counting core ([`crate::tally`]) about it. The counting itself, and the proof that it
//! never allocates, locks or panics inside a `GlobalAlloc` method, are in `tally.rs`.
//!
//! Rule for this file: every `unsafe` block says why it is sound.

use std::alloc::{GlobalAlloc, Layout, System};

#[cfg(feature = "peak")]
use crate::tally;

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

// SAFETY: every method forwards to the inner allocator with the caller's arguments unchanged and
// returns its result unchanged, so `Alloc` upholds the `GlobalAlloc` contract exactly as far as `A`
// does. The counting around the calls (`crate::tally`, where the proof that it neither allocates,
// locks, unwinds nor touches the memory handed out is kept) happens on this thread's own tally.
#[cfg(feature = "peak")]
unsafe impl<A: GlobalAlloc + 'static> GlobalAlloc for Alloc<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if kits_own_over_dhat::<A>() {
            // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
            return unsafe { System.alloc(layout) };
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract for `layout`.
        tally::alloc::<A>(layout.size(), || unsafe { self.inner.alloc(layout) })
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if kits_own_over_dhat::<A>() {
            // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract for `layout`.
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract for `layout`.
        tally::alloc::<A>(layout.size(), || unsafe { self.inner.alloc_zeroed(layout) })
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if kits_own_over_dhat::<A>() {
            // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract for `ptr`, `layout`
            // and `new_size`.
            return unsafe { moved_past_dhat(&self.inner, ptr, layout, new_size) };
        }
        tally::realloc::<A>(ptr, layout, new_size, |ptr, layout, new_size| {
            // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract for `ptr`, `layout` and
            // `new_size`, which reach this call unchanged.
            unsafe { self.inner.realloc(ptr, layout, new_size) }
        })
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract for `ptr` and `layout`.
        tally::free::<A>(ptr, layout, |ptr, layout| unsafe {
            self.inner.dealloc(ptr, layout)
        })
    }
}

/// Whether this call is the kit's own bookkeeping (or dhat's) over dhat's allocator: the thread's
/// counting is paused (`tally::busy`) and the inner allocator is `dhat::Alloc`. dhat would
/// record such a block with its backtrace, and show it in the user's profile under the function
/// that entered a region; so it is taken from [`System`], which `dhat::Alloc` itself calls, past
/// dhat's records. Its free still goes through dhat, which ignores a block it never saw. The
/// comparison of two types folds away at compile time, so over any other allocator this is
/// `false` and costs nothing.
#[cfg(feature = "peak")]
#[cfg_attr(
    not(any(feature = "heap", feature = "ad-hoc")),
    allow(
        clippy::extra_unused_type_parameters,
        reason = "without dhat, no inner allocator is dhat's"
    )
)]
#[inline(always)]
fn kits_own_over_dhat<A: 'static>() -> bool {
    #[cfg(any(feature = "heap", feature = "ad-hoc"))]
    {
        std::any::TypeId::of::<A>() == std::any::TypeId::of::<dhat::Alloc>() && tally::busy()
    }
    #[cfg(not(any(feature = "heap", feature = "ad-hoc")))]
    {
        false
    }
}

/// A reallocation of the kit's own bookkeeping over dhat's allocator ([`kits_own_over_dhat`]):
/// dhat would record a block it never saw as a new one, so the new block is taken from [`System`]
/// and the old one given back through dhat (which forgets it if it knew it, and ignores it if
/// not). The contents are copied, as a moving reallocation does.
///
/// # Safety
///
/// `GlobalAlloc::realloc`'s contract for `ptr`, `layout` and `new_size`, and `inner` is the
/// allocator `ptr` was allocated through.
#[cfg(feature = "peak")]
#[cold]
unsafe fn moved_past_dhat<A: GlobalAlloc>(
    inner: &A,
    ptr: *mut u8,
    layout: Layout,
    new_size: usize,
) -> *mut u8 {
    // SAFETY: the caller guarantees that `new_size`, rounded up to `layout.align()`, does not
    // overflow `isize`, and `layout.align()` is a valid alignment.
    let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
    // SAFETY: `new_layout` has a non-zero size (`GlobalAlloc::realloc` requires `new_size > 0`).
    let new = unsafe { System.alloc(new_layout) };
    if !new.is_null() {
        // SAFETY: `ptr` is valid for `layout.size()` bytes, `new` for `new_size`; they are
        // distinct blocks; the old block is given back to the allocator it came from, once.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
            inner.dealloc(ptr, layout);
        }
    }
    new
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
/// It makes one small allocation and checks that this thread's tally saw it, until it has said yes
/// once in the process (a global allocator stays what it is): then it allocates nothing, so a
/// measurement around a budget, which asks, sees only the budget's work. (A global allocator of
/// your own that forwards to [`Alloc`] only at times is answered by its first yes.) Memory tests
/// use it so that they never pass vacuously.
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
        use std::sync::atomic::{AtomicBool, Ordering};
        static SEEN: AtomicBool = AtomicBool::new(false);
        if SEEN.load(Ordering::Relaxed) {
            return true;
        }
        let blocks = || crate::tally::thread_stats().total_blocks;
        let before = blocks();
        drop(std::hint::black_box(Box::new(std::hint::black_box(1u8))));
        let seen = blocks() != before;
        if seen {
            SEEN.store(true, Ordering::Relaxed);
        }
        seen
    }
    #[cfg(not(feature = "peak"))]
    {
        false
    }
}
