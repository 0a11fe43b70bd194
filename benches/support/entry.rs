//! A workload that reaches the allocator as a program does (included by `#[path]` in
//! `alloc_overhead` and `instructions`, one copy for both).
//!
//! A program's `Box::new` or `Vec::push` does not inline its global allocator: `#[global_allocator]`
//! makes `__rust_alloc` and `__rust_dealloc` functions of their own, with the size and alignment as
//! arguments, and the program calls them. The other workloads (`support/workloads.rs`) inline the
//! allocator into their loop, where the compiler hoists what the entry points do once per call (a
//! register saved and restored, a stack frame) out of the loop; this one calls an out-of-line
//! function of the entry points' shape, so those count.

use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;

/// `__rust_alloc`'s shape over `a`.
///
/// # Safety
///
/// As `GlobalAlloc::alloc`, with `Layout::from_size_align_unchecked(size, align)`'s conditions.
#[inline(never)]
unsafe fn alloc<A: GlobalAlloc>(a: &A, size: usize, align: usize) -> *mut u8 {
    // SAFETY: the caller upholds the layout's conditions and `alloc`'s contract.
    unsafe { a.alloc(Layout::from_size_align_unchecked(size, align)) }
}

/// `__rust_dealloc`'s shape over `a`.
///
/// # Safety
///
/// As `GlobalAlloc::dealloc`, with `Layout::from_size_align_unchecked(size, align)`'s conditions.
#[inline(never)]
unsafe fn dealloc<A: GlobalAlloc>(a: &A, ptr: *mut u8, size: usize, align: usize) {
    // SAFETY: the caller upholds the layout's conditions and `dealloc`'s contract.
    unsafe { a.dealloc(ptr, Layout::from_size_align_unchecked(size, align)) }
}

/// `n` small alloc+free pairs of mixed sizes (16 to 79 bytes, as `workloads::pairs`), each call
/// through the entry points' shape. The alignment goes through `black_box`, as a program's entry
/// points receive it at run time.
#[inline(always)]
pub fn pairs_via_entry<A: GlobalAlloc>(a: &A, n: usize) {
    let align = black_box(8);
    for i in 0..n {
        let size = 16 + (i & 63);
        // SAFETY: a non-zero size and a power-of-two alignment; the block is freed with the same
        // size and alignment.
        unsafe {
            let p = alloc(a, size, align);
            black_box(p);
            dealloc(a, p, size, align);
        }
    }
}
