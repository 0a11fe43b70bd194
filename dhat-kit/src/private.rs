//! What dhat-kit's macros expand to. Not part of the public API: outside semver, may change in any
//! release.

/// The allocator [`global_allocator!`](crate::global_allocator) installs: counting over dhat's
/// allocator under the `heap` feature, over `System` otherwise.
#[cfg(feature = "heap")]
pub type DefaultAlloc = crate::Alloc<dhat::Alloc>;
/// The allocator [`global_allocator!`](crate::global_allocator) installs: counting over dhat's
/// allocator under the `heap` feature, over `System` otherwise.
#[cfg(not(feature = "heap"))]
pub type DefaultAlloc = crate::Alloc<std::alloc::System>;

/// The value of [`DefaultAlloc`].
#[cfg(feature = "heap")]
pub const DEFAULT_ALLOC: DefaultAlloc = crate::Alloc::wrap(dhat::Alloc);
/// The value of [`DefaultAlloc`].
#[cfg(not(feature = "heap"))]
pub const DEFAULT_ALLOC: DefaultAlloc = crate::Alloc::new();
