//! The yardstick of `alloc_overhead` and `instructions` (included by `#[path]`, one copy for both).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The floor of any per-thread counting, as a yardstick: `System` with one thread-local countdown
/// per operation (a subtraction, a store and a branch to a cold renewal, as dhat-kit's budget) and
/// nothing counted. An exact counter cannot cost less than this; the gap between it and dhat-kit
/// is what the counting itself costs.
pub struct Countdown;

thread_local! {
    static LEFT: Cell<i64> = const { Cell::new(0) };
}

#[cold]
#[inline(never)]
fn renew() {
    LEFT.with(|left| left.set(64 * 1024));
}

/// Through `try_with`, as dhat-kit's tally reaches its own: with `with`, the compiler left the
/// thread-local's accessor out of line in some builds, a call on every operation (this floor then
/// read 1.19-1.35x `System` on the pairs, above dhat-kit, and 166 instructions a mixed pair under
/// `--features sampled` in place of 155).
#[inline(always)]
fn spend(cost: usize) {
    let _ = LEFT.try_with(|left| {
        let now = left.get().wrapping_sub(cost as i64);
        left.set(now);
        if now <= 0 {
            renew();
        }
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns its
// result unchanged; the countdown touches only a thread-local integer.
unsafe impl GlobalAlloc for Countdown {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            spend(layout.size() + 64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        spend(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            spend(new_size.abs_diff(layout.size()) + 64);
        }
        p
    }
}
