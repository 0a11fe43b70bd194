//! Generating the measured function of `#[assert_heap]`.
//!
//! The function keeps its attributes, visibility and signature; its body moves into a closure (or
//! an `async` block) that `dhat_kit::__private::run*` measures and checks against the budget.

use crate::attr::{Args, LIMIT_KEYS, LIMIT_VARIANTS};
use crate::item;
use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{Expr, ExprLit, Ident, ItemFn, Lit, LitInt, Pat, ReturnType, Stmt};

/// The function, measured; or the original item beside the error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let written = args.clone();
    item::expand(
        args,
        item,
        "#[assert_heap] goes on a test function, e.g.\n\
         #[test]\n#[dhat_kit::assert_heap(max_bytes = 4096)]\nfn small() { .. }",
        |args: Args, func| generate(&args, func, written),
        item::with_error,
    )
}

/// The measured function; `written`, the attribute's arguments as written.
fn generate(args: &Args, mut func: ItemFn, written: TokenStream) -> syn::Result<TokenStream> {
    if let Some(constness) = &func.sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "#[assert_heap] measures a function when it runs: it cannot be `const`",
        ));
    }
    // A second one would measure the first's work and report only its own failure.
    if let Some(other) = func.attrs.iter().find(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "assert_heap")
    }) {
        return Err(syn::Error::new_spanned(
            other,
            "a second #[assert_heap] on one function: put every limit in one \
             (`#[assert_heap(max_bytes = .., total_blocks = ..)]`)",
        ));
    }
    let krate = item::krate(args.krate.as_ref());
    if args.all_threads && func.sig.asyncness.is_some() {
        if let Some(at) = func.attrs.iter().position(is_tokio_test) {
            // Above `#[tokio::test]`, a whole-process budget moves below it, where it sees the
            // runtime that attribute builds (see `tokio_body`).
            func.attrs
                .insert(at + 1, syn::parse_quote!(#[#krate::assert_heap(#written)]));
            return Ok(func.into_token_stream());
        }
    }
    let private = quote!(#krate::__private);
    let name = &func.sig.ident;
    let limits = args.limits.iter().map(|limit| {
        let variant = Ident::new(LIMIT_VARIANTS[limit.key], limit.span);
        let value = limit_value(&private, LIMIT_KEYS[limit.key], &limit.value);
        quote_spanned!(limit.span=> .limit(#private::Key::#variant, #value))
    });
    let baseline = args.baseline.as_ref().map(|b| {
        let none = quote!(::core::option::Option::None);
        let entry = b.name.as_ref().map_or_else(
            || none.clone(),
            |n| quote!(::core::option::Option::Some(#n)),
        );
        let tolerance = b.tolerance.as_ref().map_or_else(
            || none.clone(),
            |t| quote!(::core::option::Option::Some(#t)),
        );
        let metrics = (!b.metrics.is_empty()).then(|| {
            let names = &b.metrics;
            quote!(.baseline_metrics(&[#(#names),*]))
        });
        // Resolved as the expansion's own tokens (see `limit_value`).
        let at = Span::call_site().located_at(b.span);
        let (env, option_env) = (
            quote_spanned!(at=> ::core::env!),
            quote_spanned!(at=> ::core::option_env!),
        );
        quote_spanned! {b.span=>
            .baseline(
                #env("CARGO_PKG_NAME"),
                #env("CARGO_MANIFEST_DIR"),
                #entry,
                #tolerance,
            )
            .integration_target(#option_env("CARGO_TARGET_TMPDIR").is_some())
            .bin_target(#option_env("CARGO_BIN_NAME"))
            #metrics
        }
    });
    let all_threads = args.all_threads.then(|| quote!(.all_threads()));
    let should_panic = item::has_should_panic(&func);
    // A panic without the expected text fails the test: its figures are never recorded.
    let expected = item::should_panic_expected(&func).map(|text| quote!(.expected_panic(#text)));
    let budget = quote! {
        #private::Budget::new(::core::concat!(
            ::core::module_path!(), "::", ::core::stringify!(#name)
        )) #(#limits)* #baseline #all_threads #expected
    };
    // rustc refuses such a test itself; said here, the errors of the measured body's type that
    // followed rustc's (one at this attribute) are not.
    if let ReturnType::Type(_, ty) = &func.sig.output {
        // Through the invisible group of a `macro_rules!` fragment (`-> $ret`, `$ret:ty` = `()`).
        let mut ty = &**ty;
        while let syn::Type::Group(g) = ty {
            ty = &g.elem;
        }
        let unit = matches!(ty, syn::Type::Tuple(t) if t.elems.is_empty());
        if should_panic && !unit {
            return Err(syn::Error::new_spanned(
                &func.sig.output,
                "a `#[should_panic]` test returns `()`: with `#[should_panic]`, #[assert_heap] \
                 expects the function to panic, not to return a value",
            ));
        }
    }
    let (inner, outer) = item::inner_and_outer(&mut func);
    let block = &func.block;

    // Whether the test's result fails it (an `Err`), read by its type: such a run is not checked.
    let fails = fails(&private, &func.sig.output);
    let body = if func.sig.asyncness.is_some() {
        // Above `#[tokio::test]` (or any async test attribute): still an `async fn` here.
        // `#[should_panic]` has its own runner, which never turns a budget failure into a panic
        // that could be taken for the expected one.
        let measured = if should_panic {
            quote!(#private::run_future_should_panic(#budget, async move #block))
        } else {
            quote!(#private::run_future(#budget, async move #block, #fails))
        };
        finished(&private, should_panic, quote!(#measured.await))
    } else if let Some((pat, init, rest)) = tokio_body(&func) {
        // Below `#[tokio::test]`: its expansion starts with `let body = async { .. };`, the test's
        // body; measure that future's polls, not the runtime around it.
        // Still `let body = async { .. };` and the rest, so that an `#[in_region]` below reads the
        // shape too.
        let run = quote!(#private::run_future(#budget, #init, #fails));
        let init = if should_panic {
            quote!(async move { #private::run_future_should_panic(#budget, #init).await })
        } else if args.all_threads {
            // Its failure is said by `around_runtime`, after the check of the runtime's span.
            quote!(async move { #private::finish_in_runtime(#run.await) })
        } else {
            let awaited = finished(&private, false, quote!(#run.await));
            quote!(async move { #awaited })
        };
        if args.all_threads {
            // The runtime, built and shut down by `rest`, inside a whole-process span of its own:
            // a multi-threaded runtime's workers, started before the first poll, are then the
            // test's threads, counted in the future's span nested in it. The future is made
            // before it (which runs nothing).
            let around = if should_panic {
                quote!(#private::around_runtime_should_panic)
            } else {
                quote!(#private::around_runtime)
            };
            quote! {
                let #pat = #init;
                #around(move || { #(#rest)* })
            }
        } else {
            quote! {
                let #pat = #init;
                #(#rest)*
            }
        }
    } else if should_panic {
        quote!(#private::run_should_panic(#budget, move || #block))
    } else {
        // The closure's return type is the function's, for `?` and `return` in the body, each
        // `impl Trait` in it inferred (not allowed there; the function's opaque type is what
        // the closure returns).
        let ret = match &func.sig.output {
            ReturnType::Type(arrow, ty) if !matches!(**ty, syn::Type::ImplTrait(_)) => {
                let ty = inferred(ty);
                quote!(#arrow #ty)
            }
            _ => TokenStream::new(),
        };
        quote!(#private::run(#budget, move || #ret #block, #fails))
    };

    Ok(item::rebuild(&func, (inner, outer), body))
}

/// A limit's value: a plain integer literal as a `u64` (so that a large one is not read as an
/// `i32`), anything else as a `const` block, evaluated at compile time, where a negative value
/// stops the build (`evaluation panicked: dhat-kit: the limit `max_bytes` is negative ...`) and
/// any other becomes a `u64`, saturating. Arithmetic on unsuffixed integer literals alone
/// (`4 * 1024 * 1024 * 1024`) is evaluated in `i128`, so that it is not an `i32` that overflows
/// at 2 GiB; an expression that names anything else keeps its own type. A value that is not an
/// integer fails on the `Limit` bound of `zero_of`, with that trait's message.
fn limit_value(private: &TokenStream, key: &str, value: &Expr) -> TokenStream {
    // `(2 + 2)` is `2 + 2`; in a `const` block its parentheses would be linted as unnecessary.
    if let Expr::Paren(paren) = value {
        return limit_value(private, key, &paren.expr);
    }
    if let Expr::Lit(ExprLit {
        lit: Lit::Int(int), ..
    }) = value
    {
        if int.suffix().is_empty() {
            let lit = LitInt::new(&format!("{}u64", int.base10_digits()), int.span());
            return lit.to_token_stream();
        }
    }
    let span = syn::spanned::Spanned::span(value);
    let widened;
    let value = if literal_arithmetic(value) {
        let mut wide = value.clone();
        widen_literals(&mut wide);
        widened = wide;
        &widened
    } else {
        value
    };
    let negative = format!(
        "dhat-kit: the limit `{key}` is negative; a heap limit is an upper bound, 0 or more"
    );
    // Resolved as the expansion's own tokens, shown at the value: `::core` in a 2015-edition
    // crate is a path from its root, where the value's own span would resolve it.
    let panic = quote_spanned!(Span::call_site().located_at(span)=> ::core::panic!);
    // The local's name is one no constant of the user's is (`let value` matched a `const value`
    // in scope as a pattern); the cast, of the user's value at its span, is what the limit is
    // (the lints on casts would be the user's, from code the user did not write).
    quote_spanned! {span=>
        const {
            let dhat_kit_limit = #value;
            if dhat_kit_limit < #private::zero_of(&dhat_kit_limit) {
                #panic(#negative)
            }
            #[allow(
                clippy::cast_sign_loss,
                clippy::cast_lossless,
                clippy::cast_possible_truncation,
                clippy::unnecessary_cast,
                trivial_numeric_casts,
                reason = "dhat-kit's conversion of a limit checked to be 0 or more (a `u128` one too)"
            )]
            let dhat_kit_limit = dhat_kit_limit as u128;
            #private::saturate(dhat_kit_limit)
        }
    }
}

/// Whether `expr` is arithmetic (`+ - * / % << >> & | ^`, negation, parentheses) on unsuffixed
/// integer literals alone.
fn literal_arithmetic(expr: &Expr) -> bool {
    use syn::{BinOp, UnOp};
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.suffix().is_empty(),
        Expr::Paren(p) => literal_arithmetic(&p.expr),
        Expr::Group(g) => literal_arithmetic(&g.expr),
        Expr::Unary(u) => matches!(u.op, UnOp::Neg(_)) && literal_arithmetic(&u.expr),
        Expr::Binary(b) => {
            matches!(
                b.op,
                BinOp::Add(_)
                    | BinOp::Sub(_)
                    | BinOp::Mul(_)
                    | BinOp::Div(_)
                    | BinOp::Rem(_)
                    | BinOp::Shl(_)
                    | BinOp::Shr(_)
                    | BinOp::BitAnd(_)
                    | BinOp::BitOr(_)
                    | BinOp::BitXor(_)
            ) && literal_arithmetic(&b.left)
                && literal_arithmetic(&b.right)
        }
        _ => false,
    }
}

/// Suffixes every integer literal of a [`literal_arithmetic`] expression with `i128`.
fn widen_literals(expr: &mut Expr) {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => *int = LitInt::new(&format!("{}i128", int.base10_digits()), int.span()),
        Expr::Paren(p) => widen_literals(&mut p.expr),
        Expr::Group(g) => widen_literals(&mut g.expr),
        Expr::Unary(u) => widen_literals(&mut u.expr),
        Expr::Binary(b) => {
            widen_literals(&mut b.left);
            widen_literals(&mut b.right);
        }
        _ => {}
    }
}

/// The parts of a body that `#[tokio::test]` generated: its first statement's pattern and
/// value (`let body = async { .. };`, the test's own body) and the rest (which runs it with
/// `block_on(body)`), if `func` is one.
///
/// The rest must be what the attribute writes and nothing else ([`runs_body`]). A test of its
/// own that begins with `let body = async { .. };` and does more besides is measured whole: taken
/// for the attribute's, only its future was, and what it allocated around it went unseen.
pub(crate) fn tokio_body(func: &ItemFn) -> Option<(&Pat, &Expr, &[Stmt])> {
    let (first, rest) = func.block.stmts.split_first()?;
    let Stmt::Local(local) = first else {
        return None;
    };
    let Pat::Ident(pat) = &local.pat else {
        return None;
    };
    let init = local.init.as_ref()?;
    let generated = pat.ident == "body"
        && matches!(*init.expr, Expr::Async(_))
        && init.diverge.is_none()
        && runs_body(rest);
    generated.then_some((&local.pat, &init.expr, rest))
}

/// Whether `stmts`, after `let body = async { .. };`, are what `#[tokio::test]` writes there:
/// `pin!(body);` and a `let body` that takes `body` again (`let body: Pin<&mut dyn Future<..>> =
/// body;`), then, last, the statement that runs it: `<runtime>.block_on(body)`, alone or returned
/// from a block of `use` items (`{ use tokio::runtime::Builder; return ..block_on(body); }`), or
/// those statements inside dhat-kit's own `around_runtime(move || { .. })` (a `threads = "all"`
/// budget's expansion, read again by an `#[in_region]` below it).
fn runs_body(stmts: &[Stmt]) -> bool {
    let Some((last, between)) = stmts.split_last() else {
        return false;
    };
    between.iter().all(pins_or_takes_body) && matches!(last, Stmt::Expr(e, _) if runs_body_expr(e))
}

/// Whether `expr` is the statement that runs `body` ([`runs_body`]).
fn runs_body_expr(expr: &Expr) -> bool {
    match expr {
        Expr::MethodCall(call) => {
            call.method == "block_on" && call.args.len() == 1 && is_body(&call.args[0])
        }
        Expr::Return(ret) => ret.expr.as_deref().is_some_and(runs_body_expr),
        Expr::Block(block) => block.block.stmts.split_last().is_some_and(|(last, uses)| {
            uses.iter()
                .all(|s| matches!(s, Stmt::Item(syn::Item::Use(_))))
                && matches!(last, Stmt::Expr(e, _) if runs_body_expr(e))
        }),
        Expr::Call(call) => {
            let around = matches!(&*call.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| {
                s.ident == "around_runtime" || s.ident == "around_runtime_should_panic"
            }));
            around
                && call.args.len() == 1
                && matches!(&call.args[0], Expr::Closure(c)
                    if matches!(&*c.body, Expr::Block(b) if runs_body(&b.block.stmts)))
        }
        _ => false,
    }
}

/// Whether `expr` is the path `body`.
fn is_body(expr: &Expr) -> bool {
    matches!(expr, Expr::Path(p) if p.qself.is_none() && p.path.is_ident("body"))
}

/// Whether `stmt` is one that `#[tokio::test]` writes between its future and the statement that
/// runs it: `pin!(body);` (by any path), or `let body` whose value is `body` (alone, typed, or
/// at the end of a block).
fn pins_or_takes_body(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Macro(m) => {
            m.mac.path.segments.last().is_some_and(|s| s.ident == "pin")
                && m.mac.tokens.to_string() == "body"
        }
        Stmt::Local(local) => {
            let binds_body = match &local.pat {
                Pat::Ident(p) => p.ident == "body",
                Pat::Type(t) => matches!(&*t.pat, Pat::Ident(p) if p.ident == "body"),
                _ => false,
            };
            let takes_body = local.init.as_ref().is_some_and(|init| {
                init.diverge.is_none()
                    && match &*init.expr {
                        Expr::Block(b) => {
                            matches!(b.block.stmts.last(), Some(Stmt::Expr(e, None)) if is_body(e))
                        }
                        e => is_body(e),
                    }
            });
            binds_body && takes_body
        }
        _ => false,
    }
}

/// Whether `attr` is `#[tokio::test]` (with any arguments).
fn is_tokio_test(attr: &syn::Attribute) -> bool {
    let segments: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segments == ["tokio", "test"]
}

/// The measured body's output, `awaited`: through `finish`, which panics at the test (in its own
/// code, this expansion) when the budget failed; a `#[should_panic]` body's as it is (its runner
/// says why it fails and completes, so that the test does not panic as expected).
fn finished(private: &TokenStream, should_panic: bool, awaited: TokenStream) -> TokenStream {
    if should_panic {
        awaited
    } else {
        quote!(#private::finish(#awaited))
    }
}

/// Whether the test's result, of the function's return type `output`, fails the test: an `Err`
/// (or an `ExitCode` other than success, alone or in `Ok`) does, whatever alias names its type,
/// by the autoref of `__private::Outcome`; a result of a type a closure's parameter cannot name
/// never does (none: `()`; one that holds `impl Trait` at any depth, or the never type `!`,
/// unstable where written).
fn fails(private: &TokenStream, output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Type(_, ty) if nameable(ty) => quote! {
            |dhat_kit_result: &#ty| {
                #[allow(unused_imports)]
                use #private::{FailsByExitCode as _, FailsTest as _, NeverFailsTest as _};
                (&#private::Outcome(dhat_kit_result)).fails_test()
            }
        },
        _ => quote!(|_| false),
    }
}

/// `ty` with every `impl Trait` in it, at any depth, as `_`: a closure's return type.
fn inferred(ty: &syn::Type) -> syn::Type {
    struct Infer;
    impl syn::visit_mut::VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut syn::Type) {
            if let syn::Type::ImplTrait(t) = ty {
                *ty = syn::Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](syn::spanned::Spanned::span(t)),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    syn::visit_mut::VisitMut::visit_type_mut(&mut Infer, &mut ty);
    ty
}

/// Whether a closure's parameter may be of the type `ty`: not where it holds `impl Trait` (at
/// any depth) or the never type `!` (unstable where written).
fn nameable(ty: &syn::Type) -> bool {
    !mentions(ty.to_token_stream(), "impl") && !never(ty)
}

/// Whether `ty` holds the never type `!` (or any `!`, a type macro's).
pub(crate) fn never(ty: &syn::Type) -> bool {
    has_punct(ty.to_token_stream(), '!')
}

/// Whether `tokens` contain the punctuation `c`, at any depth.
fn has_punct(tokens: TokenStream, c: char) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Punct(p) => p.as_char() == c,
        proc_macro2::TokenTree::Group(group) => has_punct(group.stream(), c),
        _ => false,
    })
}

/// Whether `tokens` contain the identifier `name`, at any depth.
fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        _ => false,
    })
}
