//! Procedural macros of dhat-kit. Use them through the `dhat-kit` crate, which re-exports them
//! and documents them: `#[dhat_kit::assert_heap(..)]`, `#[dhat_kit::assert_growth(..)]` and
//! `#[dhat_kit::in_region]`.
#![deny(missing_docs)]

mod attr;
mod expand;
mod growth;
mod item;
mod region;

use proc_macro::TokenStream;

/// (Implemented in the `dhat-kit-macros` crate; its runtime is in `dhat-kit`.)
#[proc_macro_attribute]
pub fn assert_heap(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args.into(), item.into()).into()
}

/// (Implemented in the `dhat-kit-macros` crate; its runtime is in `dhat-kit`.)
#[proc_macro_attribute]
pub fn assert_growth(args: TokenStream, item: TokenStream) -> TokenStream {
    growth::expand(args.into(), item.into()).into()
}

/// (Implemented in the `dhat-kit-macros` crate; its runtime is in `dhat-kit`.)
#[proc_macro_attribute]
pub fn in_region(args: TokenStream, item: TokenStream) -> TokenStream {
    region::expand(args.into(), item.into()).into()
}
