//! Procedural macros of dhat-kit. Use them through the `dhat-kit` crate, which re-exports them.
