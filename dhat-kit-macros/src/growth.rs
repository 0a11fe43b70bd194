//! `#[assert_growth(max_bytes = "n", sizes = [1_000, 10_000, 100_000])]`: parse the arguments
//! into [`Args`], validate them and the function, and generate the test that runs the function
//! at each size.
//!
//! The function `fn case(n: usize) { .. }` becomes `fn case() { .. }`, whose body defines the
//! original as an inner function and hands it to `dhat_kit::__private::run_growth` with the sizes
//! and the declared class of each figure.

use crate::item;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::{
    AttrStyle, Attribute, Expr, ExprArray, ExprLit, FnArg, Ident, ItemFn, Lit, Path, Token, Type,
};

/// The figures a class can be declared for: the fields of `Stats`, as `#[assert_heap]` names them.
const FIGURES: [&str; 6] = crate::attr::LIMIT_KEYS;

/// The keys of the attribute besides the figures.
const OTHER_KEYS: [&str; 3] = ["sizes", "threads", "crate"];

/// The classes as written, and the runtime's variant of each; spellings first, then aliases.
const CLASSES: [(&str, &str); 9] = [
    ("1", "Constant"),
    ("log n", "Log"),
    ("n", "Linear"),
    ("n log n", "LinearLog"),
    ("n^2", "Quadratic"),
    ("n^3", "Cubic"),
    ("constant", "Constant"),
    ("n²", "Quadratic"),
    ("n³", "Cubic"),
];

/// Words people write for a class, and the class they mean (suggested, never accepted).
const WORDS: [(&str, &str); 10] = [
    ("n^1", "n"),
    ("n^0", "1"),
    ("linear", "n"),
    ("quadratic", "n^2"),
    ("cubic", "n^3"),
    ("logarithmic", "log n"),
    ("log", "log n"),
    ("linearithmic", "n log n"),
    ("nlogn", "n log n"),
    ("o(n)", "n"),
];

/// One figure's declared class: the figure's index in [`FIGURES`], the class's variant, and the
/// key's span.
struct Declared {
    figure: usize,
    variant: &'static str,
    span: Span,
}

/// The parsed, validated arguments.
pub(crate) struct Args {
    declared: Vec<Declared>,
    sizes: Vec<syn::LitInt>,
    krate: Option<Path>,
    /// `threads = "all"`: each size measured on every thread of the process.
    all_threads: bool,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Args> {
        let mut declared: Vec<Declared> = Vec::new();
        let mut sizes: Option<Vec<syn::LitInt>> = None;
        let mut krate: Option<Path> = None;
        let mut all_threads = false;
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let key: Ident = if input.peek(Token![crate]) {
                let token: Token![crate] = input.parse()?;
                Ident::new("crate", token.span)
            } else {
                input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected a figure and its growth class, e.g. `max_bytes = \"n\"`, \
                         and `sizes = [..]`",
                    )
                })?
            };
            let name = key.to_string();
            if !FIGURES.contains(&name.as_str()) && !OTHER_KEYS.contains(&name.as_str()) {
                return Err(unknown_key(&key));
            }
            if seen.contains(&name) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate key `{name}`"),
                ));
            }
            seen.push(name.clone());
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("expected `=` and a value after `{name}`"),
                ));
            }
            input.parse::<Token![=]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                return Err(syn::Error::new(
                    input.span(),
                    format!("missing value for `{name}`"),
                ));
            }
            match name.as_str() {
                "sizes" => sizes = Some(parse_sizes(input)?),
                "threads" => {
                    let value: Expr = input.parse()?;
                    all_threads = match crate::attr::ungroup(&value) {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) if s.value() == "all" => true,
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) if s.value() == "current" => false,
                        _ => {
                            return Err(syn::Error::new_spanned(
                                &value,
                                "expected `threads = \"all\"` (each size measured on every \
                                 thread of the process) or `threads = \"current\"` (the test's \
                                 own thread, the default)",
                            ))
                        }
                    };
                }
                "crate" => krate = Some(crate::attr::crate_path(input)?),
                figure => {
                    let figure = FIGURES.iter().position(|&f| f == figure).unwrap_or(0);
                    let variant = parse_class(input, &name)?;
                    declared.push(Declared {
                        figure,
                        variant,
                        span: key.span(),
                    });
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        let Some(sizes) = sizes else {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[assert_growth] needs the sizes to run at, e.g. \
                 `sizes = [1_000, 10_000, 100_000]`",
            ));
        };
        if declared.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[assert_growth] needs at least one figure's growth class, e.g. \
                 `max_bytes = \"n\"`",
            ));
        }
        Ok(Args {
            declared,
            sizes,
            krate,
            all_threads,
        })
    }
}

/// A class: a string literal, one of [`CLASSES`].
fn parse_class(input: ParseStream<'_>, key: &str) -> syn::Result<&'static str> {
    let value: Expr = input.parse()?;
    let Expr::Lit(ExprLit {
        lit: Lit::Str(lit), ..
    }) = crate::attr::ungroup(&value)
    else {
        return Err(syn::Error::new_spanned(
            &value,
            format!(
                "`{key}` takes a growth class as a string: \"1\", \"log n\", \"n\", \
                 \"n log n\", \"n^2\" or \"n^3\", e.g. `{key} = \"n\"`"
            ),
        ));
    };
    let text = lit.value();
    if let Some(&(_, variant)) = CLASSES.iter().find(|(name, _)| *name == text) {
        return Ok(variant);
    }
    let message = match nearest_class(&text) {
        Some(near) => format!("unknown growth class \"{text}\"; did you mean \"{near}\"?"),
        None => format!(
            "unknown growth class \"{text}\"; the classes are \"1\", \"log n\", \"n\", \
             \"n log n\", \"n^2\", \"n^3\""
        ),
    };
    Err(syn::Error::new(lit.span(), message))
}

/// `[1_000, 10_000, 100_000]`: at least 3 integer literals, from 1 up, increasing.
fn parse_sizes(input: ParseStream<'_>) -> syn::Result<Vec<syn::LitInt>> {
    let value: Expr = input.parse()?;
    let Expr::Array(ExprArray { elems, .. }) = crate::attr::ungroup(&value) else {
        return Err(syn::Error::new_spanned(
            &value,
            "`sizes` takes an array of integer literals, e.g. `sizes = [1_000, 10_000, 100_000]`",
        ));
    };
    let mut sizes: Vec<(syn::LitInt, u128)> = Vec::new();
    for elem in elems {
        let Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) = crate::attr::ungroup(elem)
        else {
            return Err(syn::Error::new_spanned(
                elem,
                "a size is an integer literal, e.g. `1_000`",
            ));
        };
        let n: u128 = int.base10_parse()?;
        if n == 0 {
            return Err(syn::Error::new(
                int.span(),
                "sizes start at 1 (log n is undefined at 0)",
            ));
        }
        if let Some((prev, p)) = sizes.last() {
            if n <= *p {
                return Err(syn::Error::new(
                    int.span(),
                    if n == *p {
                        format!("sizes must be strictly increasing: {int} is repeated")
                    } else {
                        format!("sizes must be strictly increasing: {int} comes after {prev}")
                    },
                ));
            }
        }
        sizes.push((int.clone(), n));
    }
    if sizes.len() < 3 {
        let span = syn::spanned::Spanned::span(&value);
        return Err(syn::Error::new(
            span,
            format!(
                "a growth class needs at least 3 sizes, found {}; e.g. \
                 `sizes = [1_000, 10_000, 100_000]`",
                sizes.len()
            ),
        ));
    }
    Ok(sizes.into_iter().map(|(lit, _)| lit).collect())
}

fn unknown_key(ident: &Ident) -> syn::Error {
    let name = ident.to_string();
    let keys: Vec<&'static str> = FIGURES.iter().chain(&OTHER_KEYS).copied().collect();
    let message = match nearest(&name, &keys) {
        Some(near) => format!("unknown key `{name}`; did you mean `{near}`?"),
        None => format!(
            "unknown key `{name}`; the keys are total_bytes, total_blocks, max_bytes, \
             max_blocks, curr_bytes, curr_blocks, sizes, threads, crate"
        ),
    };
    syn::Error::new(ident.span(), message)
}

/// The class nearest to `text`: by spelling, or a word for one (`"linear"` is `"n"`).
fn nearest_class(text: &str) -> Option<&'static str> {
    let normal: String = text
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(&(_, class)) = WORDS.iter().find(|(w, _)| *w == normal) {
        return Some(class);
    }
    let compact: String = normal.replace(['(', ')', '*', ' '], "");
    if let Some(&(name, _)) = CLASSES
        .iter()
        .find(|(name, _)| name.replace(' ', "") == compact)
    {
        return Some(name);
    }
    let names: Vec<&'static str> = CLASSES.iter().take(6).map(|&(n, _)| n).collect();
    nearest(&normal, &names)
}

/// The candidate nearest to `name`, if near enough to be what was meant.
fn nearest(name: &str, candidates: &[&'static str]) -> Option<&'static str> {
    // From the last, so that of equally near classes the faster is suggested (`n^4`: `n^3`).
    crate::attr::nearest_of(name, candidates.iter().rev().copied())
}

/// The test, or the original item beside the error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    item::expand(
        args,
        item,
        "#[assert_growth] goes on a function that takes the input size, e.g.\n\
         #[test]\n#[dhat_kit::assert_growth(max_bytes = \"n\", sizes = [100, 1_000, 10_000])]\n\
         fn build_index(n: usize) { .. }",
        |args: Args, func| generate(&args, func),
        with_error,
    )
}

/// The error, beside the original item (so that its callers see no second error) without its
/// `#[test]` attribute (which would add an error about the test's parameter).
fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    match syn::parse2::<ItemFn>(item.clone()) {
        Ok(mut func) => {
            func.attrs
                .retain(|a| a.path().segments.last().is_none_or(|s| s.ident != "test"));
            quote!(#func #error)
        }
        Err(_) => quote!(#item #error),
    }
}

fn generate(args: &Args, func: ItemFn) -> syn::Result<TokenStream> {
    let sig = &func.sig;
    if let Some(token) = &sig.constness {
        return Err(syn::Error::new_spanned(
            token,
            "#[assert_growth] runs the function at each size: it cannot be `const`",
        ));
    }
    if let Some(token) = &sig.asyncness {
        return Err(syn::Error::new_spanned(
            token,
            "#[assert_growth] runs the function at each size on the test's thread: it cannot \
             be `async`",
        ));
    }
    if let Some(token) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            token,
            "#[assert_growth] calls the function at each size: it cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        // Refused by the runner's `FnMut(usize)` bound, at the generated code, otherwise.
        return Err(syn::Error::new_spanned(
            abi,
            "#[assert_growth] calls the function at each size as a Rust function: it cannot be \
             `extern`",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            "#[assert_growth] goes on a function without generic parameters",
        ));
    }
    let param = match sig.inputs.len() {
        1 => &sig.inputs[0],
        0 => {
            return Err(syn::Error::new(
                sig.paren_token.span.join(),
                format!(
                    "#[assert_growth] runs `{}` at each size: it takes the size as its one \
                     parameter, e.g. `fn {}(n: usize)`",
                    sig.ident, sig.ident
                ),
            ))
        }
        _ => {
            return Err(syn::Error::new_spanned(
                &sig.inputs,
                "#[assert_growth] passes one parameter, the size: `n: usize`",
            ))
        }
    };
    let FnArg::Typed(typed) = param else {
        return Err(syn::Error::new_spanned(
            param,
            "#[assert_growth] goes on a free function that takes the size: `n: usize`",
        ));
    };
    if !is_usize(&typed.ty) {
        return Err(syn::Error::new_spanned(
            &typed.ty,
            "the size is a `usize`: write the parameter as `n: usize`",
        ));
    }

    let should_panic = item::has_should_panic(&func);
    if should_panic && returns_result(&sig.output) {
        return Err(syn::Error::new_spanned(
            &sig.output,
            "a `#[should_panic]` test returns `()`: with `#[should_panic]`, #[assert_growth] \
             expects the function to panic, not to return an error",
        ));
    }

    let krate = item::krate(args.krate.as_ref());
    let private = quote!(#krate::__private);
    let (inner, outer): (Vec<&Attribute>, Vec<&Attribute>) = func
        .attrs
        .iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let name = &sig.ident;
    let vis = &func.vis;
    let block = &func.block;
    let sizes = &args.sizes;
    let declared = args.declared.iter().map(|d| {
        let figure = FIGURES[d.figure];
        let variant = Ident::new(d.variant, d.span);
        quote_spanned!(d.span=> (#figure, #private::GrowthClass::#variant))
    });
    let fn_token = &sig.fn_token;
    let outer_sig = quote!(#vis #fn_token #name());
    let path = quote!(::core::concat!(
        ::core::module_path!(),
        "::",
        ::core::stringify!(#name)
    ));
    // A function whose result fails a test (an `Err`, by whatever alias its type is named; an
    // `ExitCode` other than success) fails the test with it, as a test would. Not under
    // `#[should_panic]`, where only a panic of its own is expected (an `Err` made into one passed
    // as the expected panic), nor for `!`, which a `let` reads as `()`. The result's type is
    // inferred, never written, so an `impl Trait` in it is read too.
    let inspect = match &sig.output {
        syn::ReturnType::Type(_, ty) => !should_panic && !crate::expand::never(ty),
        syn::ReturnType::Default => false,
    };
    let case = if inspect {
        quote! {
            |n: usize| {
                let result = #name(n);
                #[allow(unused_imports)]
                use #private::{
                    FailsByExitCode as _, FailsTest as _, NeverFailsTest as _,
                    SaysExitCode as _, SaysExitFailure as _, SaysFailure as _, SaysNothing as _,
                };
                if (&#private::Outcome(&result)).fails_test() {
                    let error = (&#private::Outcome(&result)).failure();
                    ::core::panic!(
                        "dhat-kit: {} returned an error at size {}: {}",
                        #path,
                        #private::thousands(n),
                        error.as_deref().unwrap_or("an error that is not Debug")
                    );
                }
                result
            }
        }
    } else {
        quote!(#name)
    };
    // Under `#[should_panic]`, a failure of dhat-kit's own is never the expected panic.
    let run = match (should_panic, args.all_threads) {
        (true, false) => quote!(#private::run_growth_should_panic),
        (false, false) => quote!(#private::run_growth),
        (true, true) => quote!(#private::run_growth_all_should_panic),
        (false, true) => quote!(#private::run_growth_all),
    };
    // The outer function's `fn` and braces keep the original's spans, so that rustc's lints read
    // it as the user's code: never called (no `#[test]`), it is warned of as `dead_code`.
    // The function's own signature and body, spans and all: rustc's errors about its body (a
    // value where `()` is returned) point at the function, not at the attribute. Its statements
    // go straight into the braces (in a block of their own, a body of one expression was linted
    // as `unused_braces`).
    let stmts = &block.stmts;
    let mut own = TokenStream::new();
    block.brace_token.surround(&mut own, |tokens| {
        tokens.extend(quote!(#(#inner)* #(#stmts)*));
    });
    let mut body = TokenStream::new();
    block.brace_token.surround(&mut body, |tokens| {
        tokens.extend(quote! {
            #sig #own
            #run(#path, &[#(#sizes),*], &[#(#declared),*], #case);
        });
    });
    Ok(quote! {
        #(#outer)*
        #outer_sig #body
    })
}

/// Whether the function returns a `Result` (`Result<..>`, `io::Result<..>`, `anyhow::Result<..>`).
fn returns_result(output: &syn::ReturnType) -> bool {
    match output {
        syn::ReturnType::Type(_, ty) => match &**ty {
            Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
            _ => false,
        },
        syn::ReturnType::Default => false,
    }
}

fn is_usize(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            p.qself.is_none() && {
                let segments: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                matches!(
                    segments.iter().map(String::as_str).collect::<Vec<_>>()[..],
                    ["usize"] | ["core" | "std", "primitive", "usize"]
                ) && p.path.segments.iter().all(|s| s.arguments.is_empty())
            }
        }
        Type::Group(g) => is_usize(&g.elem),
        Type::Paren(p) => is_usize(&p.elem),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> syn::Result<Args> {
        syn::parse_str(s)
    }

    fn err(s: &str) -> String {
        parse(s).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn threads_all_or_current() {
        let sizes = "max_bytes = \"n\", sizes = [1, 10, 100]";
        assert!(!parse(sizes).unwrap().all_threads);
        assert!(
            parse(&format!("{sizes}, threads = \"all\""))
                .unwrap()
                .all_threads
        );
        assert!(
            !parse(&format!("threads = \"current\", {sizes}"))
                .unwrap()
                .all_threads
        );
        assert!(err(&format!("{sizes}, threads = \"every\""))
            .starts_with("expected `threads = \"all\"`"));
    }

    #[test]
    fn parses_classes_and_sizes() {
        let args = parse(
            "max_bytes = \"n\", total_blocks = \"n log n\", sizes = [1_000, 10_000, 100_000]",
        )
        .unwrap();
        assert_eq!(args.declared.len(), 2);
        assert_eq!(args.declared[0].variant, "Linear");
        assert_eq!(args.declared[1].variant, "LinearLog");
        assert_eq!(args.sizes.len(), 3);
        let args = parse("curr_bytes = \"n²\", sizes = [1, 2, 3], crate = \"x::y\"").unwrap();
        assert_eq!(args.declared[0].variant, "Quadratic");
        assert!(args.krate.is_some());
    }

    #[test]
    fn rejects_bad_input() {
        let sizes = ", sizes = [1, 10, 100]";
        assert!(err(&format!("max_bytes = \"n^4\"{sizes}")).contains("did you mean \"n^3\"?"));
        assert!(err(&format!("max_bytes = \"linear\"{sizes}")).contains("did you mean \"n\"?"));
        assert!(
            err(&format!("max_bytes = \"n log(n)\"{sizes}")).contains("did you mean \"n log n\"?")
        );
        assert!(err(&format!("max_bytes = \"exponential\"{sizes}")).contains("the classes are"));
        assert!(err(&format!("max_bytes = n{sizes}")).contains("as a string"));
        assert!(err(&format!("max_byte = \"n\"{sizes}")).contains("did you mean `max_bytes`"));
        assert!(err(&format!("max_bytes = \"n\", max_bytes = \"1\"{sizes}"))
            .contains("duplicate key `max_bytes`"));
        assert!(err("max_bytes = \"n\", sizes = [1_000]").contains("at least 3 sizes, found 1"));
        assert!(err("max_bytes = \"n\", sizes = [1, 3, 2]")
            .contains("sizes must be strictly increasing: 2 comes after 3"));
        assert!(err("max_bytes = \"n\", sizes = [10, 10, 1_000]")
            .contains("sizes must be strictly increasing: 10 is repeated"));
        assert!(err("max_bytes = \"n\", sizes = [0, 3, 9]").contains("start at 1"));
        assert!(err("max_bytes = \"n\", sizes = [1, N, 9]").contains("integer literal"));
        assert!(err("max_bytes = \"n\"").contains("needs the sizes"));
        assert!(err("sizes = [1, 2, 3]").contains("at least one figure"));
    }

    #[test]
    fn class_suggestions() {
        assert_eq!(nearest_class("n^4"), Some("n^3"));
        assert_eq!(nearest_class("N LOG N"), Some("n log n"));
        assert_eq!(nearest_class("nlogn"), Some("n log n"));
        assert_eq!(nearest_class("n*n"), None);
        assert_eq!(nearest_class("quadratic"), Some("n^2"));
        assert_eq!(nearest_class("2^n"), None);
    }
}
