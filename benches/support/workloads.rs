//! The allocator workloads `alloc_overhead` and `profile_overhead` time, each calling an
//! allocator's `GlobalAlloc` methods directly (included by `#[path]`, one copy for both).
//!
//! Each is inlined where it is called, as the copies each benchmark had before were: where the
//! loop's code lands moves the ratios by up to 0.1x (`profile_overhead`'s mixed pairs read
//! 1.31-1.33x `System` with these called out of line, 1.20-1.24x inlined).

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;

/// `n` small alloc+free pairs of mixed sizes (16 to 79 bytes): the common case of a program's
/// allocations.
#[inline(always)]
pub fn pairs<A: GlobalAlloc>(a: &A, n: usize) {
    for i in 0..n {
        let layout = Layout::from_size_align(16 + (i & 63), 8).unwrap();
        // SAFETY: `layout` has a non-zero size; the block is freed with the same layout.
        unsafe {
            let p = a.alloc(layout);
            black_box(p);
            a.dealloc(p, layout);
        }
    }
}

/// `n` fixed 64-byte alloc+free pairs (the peers' published figures are for these); with
/// `write`, each block is written before it is freed: the shape of `Box::new` of a small value,
/// where the size is a constant the compiler sees.
#[inline(always)]
pub fn pairs64<A: GlobalAlloc>(a: &A, n: usize, write: bool) {
    let layout = Layout::from_size_align(64, 8).unwrap();
    for _ in 0..n {
        // SAFETY: `layout` has a non-zero size; the block is written within its 64 bytes, then
        // freed with the same layout.
        unsafe {
            let p = a.alloc(layout);
            if write {
                p.write_bytes(1, 64);
            }
            black_box(p);
            a.dealloc(p, layout);
        }
    }
}

/// `n` reallocations: a block grown from 8 bytes to 8 KiB by doubling, then shrunk back, again
/// and again.
#[inline(always)]
pub fn reallocs<A: GlobalAlloc>(a: &A, n: usize) {
    for _ in 0..n / 20 {
        let mut layout = Layout::from_size_align(8, 8).unwrap();
        // SAFETY: non-zero size.
        let mut p = unsafe { a.alloc(layout) };
        for step in 0..20 {
            let size = if step < 10 {
                8 << (step + 1)
            } else {
                8 << (19 - step)
            };
            // SAFETY: `p` is live with `layout`; `size` is non-zero.
            p = unsafe { a.realloc(p, layout, size) };
            black_box(p);
            layout = Layout::from_size_align(size, 8).unwrap();
        }
        // SAFETY: `p` is live with `layout`.
        unsafe { a.dealloc(p, layout) };
    }
}
