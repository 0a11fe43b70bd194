//! What the attributes share: parsing the function and the arguments, the error beside the
//! original item, and the pieces of a function they rebuild.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::Parse;
use syn::{AttrStyle, Attribute, ItemFn, Path};

/// Parses `item` as a function (or fails with `usage`, how the attribute is written) and `args`
/// as the attribute's arguments, then runs `generate`; any error goes beside the item, through
/// `with_error`.
pub(crate) fn expand<A: Parse>(
    args: TokenStream,
    item: TokenStream,
    usage: &str,
    generate: impl FnOnce(A, ItemFn) -> syn::Result<TokenStream>,
    with_error: fn(TokenStream, syn::Error) -> TokenStream,
) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => return with_error(item.clone(), syn::Error::new_spanned(&item, usage)),
    };
    match syn::parse2::<A>(args).and_then(|args| generate(args, func)) {
        Ok(tokens) => tokens,
        Err(error) => with_error(item, error),
    }
}

/// The original item, unchanged, and the error: no second error from a half-expanded function.
pub(crate) fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

/// The function's attributes: those inside its body (`#![..]`), then those before it.
pub(crate) fn inner_and_outer(func: &mut ItemFn) -> (Vec<Attribute>, Vec<Attribute>) {
    func.attrs
        .drain(..)
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)))
}

/// Whether the function carries `#[should_panic]` (by its last path segment), which changes how a
/// budget's failure is reported: never as the panic the test expects.
pub(crate) fn has_should_panic(func: &ItemFn) -> bool {
    func.attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "should_panic")
    })
}

/// The text a `#[should_panic(expected = "..")]` (or `#[should_panic = ".."]`) test's panic must
/// contain, as the test harness reads it.
pub(crate) fn should_panic_expected(func: &ItemFn) -> Option<syn::LitStr> {
    let text = |e: &syn::Expr| match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.clone()),
        _ => None,
    };
    func.attrs
        .iter()
        .filter(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "should_panic")
        })
        .find_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => text(&nv.value),
            syn::Meta::List(list) => {
                let mut expected = None;
                // Anything else in the list is rustc's to refuse.
                let _ = list.parse_nested_meta(|meta| {
                    if meta.path.is_ident("expected") {
                        expected = text(&meta.value()?.parse()?);
                    }
                    Ok(())
                });
                expected
            }
            syn::Meta::Path(_) => None,
        })
}

/// Where dhat-kit is: the path given with `crate = ".."`, or `::dhat_kit`.
pub(crate) fn krate(path: Option<&Path>) -> TokenStream {
    match path {
        Some(path) => quote!(#path),
        None => quote!(::dhat_kit),
    }
}

/// The function again, its attributes as `inner_and_outer` split them, with `body` in place of
/// its body.
pub(crate) fn rebuild(
    func: &ItemFn,
    (inner, outer): (Vec<Attribute>, Vec<Attribute>),
    body: TokenStream,
) -> TokenStream {
    let vis = &func.vis;
    let sig = &func.sig;
    // The body's braces keep the original's span, so that the item reads as the user's code to
    // rustc's lints: a measured function that is never called (no `#[test]`) is then warned of as
    // `dead_code`, as it would be without the attribute, and not silently never run.
    let mut braces = TokenStream::new();
    func.block.brace_token.surround(&mut braces, |tokens| {
        tokens.extend(quote!(#(#inner)* #body));
    });
    quote! {
        #(#outer)*
        #vis #sig #braces
    }
}
