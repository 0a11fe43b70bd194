//! `#[in_region]`: a function's body in a region named after it (or as given): for a plain
//! function a `Region` guard around its body (dropped after the body's temporaries), for an `async fn` its body's future in
//! `InRegionExt::in_region`, so that the region follows the future across `.await`s and threads.

use crate::item;
use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{ItemFn, LitStr, Path, Token};

/// `#[in_region]`, `#[in_region("name")]`, either with `crate = "path::to::dhat_kit"`.
struct Args {
    name: Option<LitStr>,
    krate: Option<Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args {
            name: None,
            krate: None,
        };
        // The name and `crate = ".."`, in either order, each once, a trailing comma allowed.
        while !input.is_empty() {
            if input.peek(LitStr) && args.name.is_none() {
                let name: LitStr = input.parse()?;
                // As `region!` checks a literal name.
                if name.value().is_empty() || name.value().contains('/') {
                    return Err(syn::Error::new(
                        name.span(),
                        "a region's name is not empty and holds no `/`, which separates the \
                         names of a path (`outer/inner`): enter one region inside the other",
                    ));
                }
                args.name = Some(name);
            } else if input.peek(Token![crate]) && args.krate.is_none() {
                args.krate = Some(crate::attr::parse_crate(input)?.1);
            } else {
                return Err(input.error(
                    "expected the region's name as a string, e.g. \
                     `#[dhat_kit::in_region(\"parse\")]` (nothing for the function's own name), \
                     and `crate = \"path::to::dhat_kit\"` for a renamed dependency, each once",
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// The function with its body in the region; or the original item beside the error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    item::expand(
        args,
        item,
        "#[in_region] goes on a function (or method) with a body, e.g.\n\
         #[dhat_kit::in_region]\nasync fn handle(request: Request) -> Response { .. }",
        generate,
        item::with_error,
    )
}

fn generate(args: Args, mut func: ItemFn) -> syn::Result<TokenStream> {
    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[in_region] counts a function's allocations when it runs: it cannot be `const`",
        ));
    }
    if func.sig.asyncness.is_none() {
        if let Some(future) = returned_future(&func.sig.output) {
            return Err(syn::Error::new_spanned(
                future,
                "#[in_region] on a function that returns a future or a stream would count only \
                 the making of it, not its polls: make it an `async fn`, or call \
                 `.in_region(\"name\")` (dhat_kit::InRegionExt, or InRegionStreamExt) on what \
                 it returns",
            ));
        }
    }
    let krate = item::krate(args.krate.as_ref());
    let name = args.name.unwrap_or_else(|| {
        let ident = func.sig.ident.to_string();
        let ident = ident.strip_prefix("r#").unwrap_or(&ident);
        LitStr::new(ident, func.sig.ident.span())
    });
    let (inner, outer) = item::inner_and_outer(&mut func);
    let block = &func.block;
    let body = if func.sig.asyncness.is_some() {
        quote!(#krate::InRegionExt::in_region(async move #block, #name).await)
    } else if let Some((pat, init, rest)) = crate::expand::tokio_body(&func) {
        // Below `#[tokio::test]`: its expansion starts with `let body = async { .. };`, the
        // test's body; the region follows that future's polls, not the runtime built and shut
        // down around it (which it counted: 8.7 KiB for a body of 10 bytes). Still an `async`
        // block, so that an `#[assert_heap]` below reads the shape too.
        quote! {
            let #pat = async move { #krate::InRegionExt::in_region(#init, #name).await };
            #(#rest)*
        }
    } else {
        // The guard is the match arm's binding, which drops after the temporaries of the body's
        // last expression (an arm is a temporary scope of its own); as a `let` before the body,
        // it would drop before them (before edition 2024), and a temporary the function frees
        // on its way out (`vec![0; n].len()`) would count as kept in the region.
        let stmts = &block.stmts;
        quote! {
            match #krate::Region::enter(#name) {
                _dhat_kit_region => { #(#stmts)* }
            }
        }
    };
    Ok(item::rebuild(&func, (inner, outer), body))
}

/// The return type if it is a future or a stream the caller polls: `impl Future<..>` (or `impl
/// IntoFuture`, `impl Stream`, among other bounds), a boxed one (`Pin<Box<dyn Future<..>>>`,
/// `Box<dyn Stream<..>>`), or one of `futures`' aliases for those (`BoxFuture`, `BoxStream` and
/// their `Local` kin).
fn returned_future(output: &syn::ReturnType) -> Option<&syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    polled(ty).then_some(&**ty)
}

/// Whether `ty` is polled by its caller (see [`returned_future`]).
fn polled(ty: &syn::Type) -> bool {
    let traits = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| {
                s.ident == "Future" || s.ident == "IntoFuture" || s.ident == "Stream"
            }),
            _ => false,
        })
    };
    match ty {
        syn::Type::ImplTrait(imp) => traits(&imp.bounds),
        syn::Type::TraitObject(dyn_) => traits(&dyn_.bounds),
        syn::Type::Paren(p) => polled(&p.elem),
        syn::Type::Group(g) => polled(&g.elem),
        syn::Type::Path(p) => p.path.segments.last().is_some_and(|last| {
            let name = last.ident.to_string();
            let alias = matches!(
                name.as_str(),
                "BoxFuture" | "LocalBoxFuture" | "BoxStream" | "LocalBoxStream"
            );
            // `Pin<Box<dyn Future<..>>>`, `Box<dyn Stream<..>>`: what they hold.
            let holds = (name == "Pin" || name == "Box")
                && match &last.arguments {
                    syn::PathArguments::AngleBracketed(args) => args
                        .args
                        .iter()
                        .any(|a| matches!(a, syn::GenericArgument::Type(inner) if polled(inner))),
                    _ => false,
                };
            alias || holds
        }),
        _ => false,
    }
}
