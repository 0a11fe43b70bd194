//! Parsing and validating the arguments of `#[assert_heap(...)]`.
//!
//! `key = value` pairs, comma-separated. A key is one of [`KEYS`]; adding one is a variant in
//! [`Arg`], a line in `parse_key` and its name in [`KEYS`].

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprLit, ExprUnary, Ident, Lit, LitFloat, LitStr, Path, Token, UnOp};

mod kw {
    syn::custom_keyword!(total_bytes);
    syn::custom_keyword!(total_blocks);
    syn::custom_keyword!(max_bytes);
    syn::custom_keyword!(max_blocks);
    syn::custom_keyword!(curr_bytes);
    syn::custom_keyword!(curr_blocks);
    syn::custom_keyword!(baseline);
    syn::custom_keyword!(tolerance);
    syn::custom_keyword!(threads);
    syn::custom_keyword!(metrics);
}

/// The figures a baseline entry records, as its file names them: what `metrics = [..]` takes.
const BASELINE_METRICS: [&str; 5] = [
    "total_bytes",
    "total_blocks",
    "peak_bytes",
    "peak_blocks",
    "end_bytes",
];

/// The limit keys: the fields of `dhat_kit::Stats`, and the variants of `__private::Key`.
pub(crate) const LIMIT_KEYS: [&str; 6] = [
    "total_bytes",
    "total_blocks",
    "max_bytes",
    "max_blocks",
    "curr_bytes",
    "curr_blocks",
];

/// Every key the attribute accepts, for the suggestion on an unknown one.
pub(crate) const KEYS: [&str; 11] = [
    "max_bytes",
    "max_blocks",
    "total_bytes",
    "total_blocks",
    "curr_bytes",
    "curr_blocks",
    "baseline",
    "tolerance",
    "metrics",
    "threads",
    "crate",
];

/// The `__private::Key` variant of each limit key, in [`LIMIT_KEYS`] order.
pub(crate) const LIMIT_VARIANTS: [&str; 6] = [
    "TotalBytes",
    "TotalBlocks",
    "MaxBytes",
    "MaxBlocks",
    "CurrBytes",
    "CurrBlocks",
];

/// One limit: its key (an index into [`LIMIT_KEYS`]), where the key was written, and its value.
pub(crate) struct Limit {
    pub(crate) key: usize,
    pub(crate) span: Span,
    pub(crate) value: Expr,
}

/// The validated arguments.
pub(crate) struct Args {
    /// The limits, in the order written; at least one, no key twice.
    pub(crate) limits: Vec<Limit>,
    /// `crate = "path"`: where dhat-kit is, for a re-exported or renamed dependency.
    pub(crate) krate: Option<Path>,
    /// `baseline` or `baseline = "name"`, with its `tolerance`.
    pub(crate) baseline: Option<Baseline>,
    /// `threads = "all"`: measured on every thread of the process (`"current"`, the default, on
    /// the test's thread only).
    pub(crate) all_threads: bool,
}

/// `baseline` (the entry named after the test) or `baseline = "name"`, and `tolerance = N`
/// (percent, a number literal).
pub(crate) struct Baseline {
    pub(crate) span: Span,
    pub(crate) name: Option<LitStr>,
    pub(crate) tolerance: Option<LitFloat>,
    /// `metrics = ["total_bytes", ..]`: the figures compared (all the entry has when empty).
    pub(crate) metrics: Vec<LitStr>,
}

/// One parsed `key = value` pair, before validation across pairs.
enum Arg {
    Limit(Limit),
    Crate(Span, Path),
    Baseline(Span, Option<LitStr>),
    Tolerance(Span, LitFloat),
    Metrics(Span, Vec<LitStr>),
    Threads(Span, bool),
}

impl Arg {
    fn name(&self) -> &'static str {
        match self {
            Arg::Limit(l) => LIMIT_KEYS[l.key],
            Arg::Crate(..) => "crate",
            Arg::Baseline(..) => "baseline",
            Arg::Tolerance(..) => "tolerance",
            Arg::Metrics(..) => "metrics",
            Arg::Threads(..) => "threads",
        }
    }

    fn span(&self) -> Span {
        match self {
            Arg::Limit(l) => l.span,
            Arg::Crate(span, _) | Arg::Baseline(span, _) | Arg::Tolerance(span, _) => *span,
            Arg::Metrics(span, _) | Arg::Threads(span, _) => *span,
        }
    }
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut limits: Vec<Limit> = Vec::new();
        let mut krate = None;
        let mut baseline: Option<Baseline> = None;
        let mut tolerance: Option<(Span, LitFloat)> = None;
        let mut metrics: Option<(Span, Vec<LitStr>)> = None;
        let mut all_threads = false;
        let mut seen: Vec<&'static str> = Vec::new();
        while !input.is_empty() {
            let arg = parse_arg(input)?;
            if seen.contains(&arg.name()) {
                return Err(syn::Error::new(
                    arg.span(),
                    format!("duplicate key `{}`: give each key once", arg.name()),
                ));
            }
            seen.push(arg.name());
            match arg {
                Arg::Limit(limit) => limits.push(limit),
                Arg::Crate(_, path) => krate = Some(path),
                Arg::Baseline(span, name) => {
                    baseline = Some(Baseline {
                        span,
                        name,
                        tolerance: None,
                        metrics: Vec::new(),
                    })
                }
                Arg::Tolerance(span, value) => tolerance = Some((span, value)),
                Arg::Metrics(span, names) => metrics = Some((span, names)),
                Arg::Threads(_, all) => all_threads = all,
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        match (&mut baseline, tolerance) {
            (Some(baseline), tolerance) => baseline.tolerance = tolerance.map(|(_, t)| t),
            (None, Some((span, _))) => {
                return Err(syn::Error::new(
                    span,
                    "`tolerance` applies to the baseline: add `baseline`, e.g. \
                     `#[assert_heap(baseline, tolerance = 5)]`",
                ))
            }
            (None, None) => {}
        }
        match (&mut baseline, metrics) {
            (Some(baseline), Some((_, names))) => baseline.metrics = names,
            (None, Some((span, _))) => {
                return Err(syn::Error::new(
                    span,
                    "`metrics` chooses the figures compared with the baseline: add `baseline`, \
                     e.g. `#[assert_heap(baseline, metrics = [\"total_bytes\"])]`",
                ))
            }
            _ => {}
        }
        if limits.is_empty() && baseline.is_none() {
            return Err(syn::Error::new(
                Span::call_site(),
                "#[assert_heap] needs at least one limit or `baseline`, e.g. \
                 `#[assert_heap(max_bytes = 4096)]`; the keys are max_bytes, max_blocks, \
                 total_bytes, total_blocks, curr_bytes, curr_blocks, baseline",
            ));
        }
        Ok(Args {
            limits,
            krate,
            baseline,
            all_threads,
        })
    }
}

/// Parses one `key = value` pair.
fn parse_arg(input: ParseStream<'_>) -> syn::Result<Arg> {
    macro_rules! limit_key {
        ($($kw:ident => $index:expr),* $(,)?) => {
            $(
                if input.peek(kw::$kw) {
                    let key = input.parse::<kw::$kw>()?;
                    let value = parse_value(input, LIMIT_KEYS[$index], key.span)?;
                    return Ok(Arg::Limit(Limit { key: $index, span: key.span, value }));
                }
            )*
        };
    }
    limit_key! {
        total_bytes => 0,
        total_blocks => 1,
        max_bytes => 2,
        max_blocks => 3,
        curr_bytes => 4,
        curr_blocks => 5,
    }
    if input.peek(kw::baseline) {
        let key = input.parse::<kw::baseline>()?;
        if !input.peek(Token![=]) {
            return Ok(Arg::Baseline(key.span, None));
        }
        input.parse::<Token![=]>()?;
        if input.is_empty() || input.peek(Token![,]) {
            return Err(missing_value(
                input,
                "baseline",
                "the entry's name, e.g. `baseline = \"parse_small\"`",
            ));
        }
        let name: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the baseline entry's name as a string, e.g. `baseline = \"parse_small\"`, \
                 or `baseline` alone for the test's path",
            )
        })?;
        if name.value().trim().is_empty() {
            return Err(syn::Error::new(
                name.span(),
                "the baseline entry's name is empty; give a name, or write `baseline` alone",
            ));
        }
        return Ok(Arg::Baseline(key.span, Some(name)));
    }
    if input.peek(kw::tolerance) {
        let key = input.parse::<kw::tolerance>()?;
        expect_eq(input, "tolerance", key.span, "tolerance = 5")?;
        if input.is_empty() || input.peek(Token![,]) {
            return Err(missing_value(
                input,
                "tolerance",
                "a percentage, e.g. `tolerance = 5` or `tolerance = 2.5`",
            ));
        }
        let expected = "the tolerance in percent as a number literal, 0 or more, e.g. \
                        `tolerance = 5` or `tolerance = 2.5`";
        // `tolerance = 5%`: said at the `%` (the expression after it was said missing, at the
        // attribute's end).
        if (input.peek(syn::LitInt) || input.peek(LitFloat)) && input.peek2(Token![%]) {
            input.parse::<Lit>()?;
            let percent = input.parse::<Token![%]>()?;
            return Err(syn::Error::new(
                percent.span,
                format!("expected {expected}, without `%`"),
            ));
        }
        let value: Expr = input.parse()?;
        let percent = match ungroup(&value) {
            Expr::Lit(ExprLit {
                lit: Lit::Int(int), ..
            }) => LitFloat::new(&format!("{}f64", int.base10_digits()), int.span()),
            Expr::Lit(ExprLit {
                lit: Lit::Float(float),
                ..
            }) => {
                // `5.` is a float literal, whose digits `5.` make no literal with a suffix
                // (`5.f64`: the macro panicked on it).
                let digits = float.base10_digits();
                let zero = if digits.ends_with('.') { "0" } else { "" };
                LitFloat::new(&format!("{digits}{zero}f64"), float.span())
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &value,
                    format!("expected {expected}"),
                ))
            }
        };
        return Ok(Arg::Tolerance(key.span, percent));
    }
    if input.peek(kw::metrics) {
        let key = input.parse::<kw::metrics>()?;
        expect_eq(input, "metrics", key.span, "metrics = [\"total_bytes\"]")?;
        let expected = format!(
            "`metrics` takes an array of the baseline's figures, e.g. \
             `metrics = [\"total_bytes\", \"total_blocks\"]`; the figures are {}",
            BASELINE_METRICS.join(", ")
        );
        if input.is_empty() || input.peek(Token![,]) {
            return Err(missing_value(input, "metrics", &expected));
        }
        let value: Expr = input.parse()?;
        let Expr::Array(array) = ungroup(&value) else {
            return Err(syn::Error::new_spanned(&value, expected));
        };
        let mut names: Vec<LitStr> = Vec::new();
        for elem in &array.elems {
            let Expr::Lit(ExprLit {
                lit: Lit::Str(name),
                ..
            }) = ungroup(elem)
            else {
                return Err(syn::Error::new_spanned(elem, expected));
            };
            let text = name.value().replace('-', "_");
            if !BASELINE_METRICS.contains(&text.as_str()) {
                let near = nearest_of(&text, BASELINE_METRICS.iter().copied())
                    .map(|n| format!("did you mean \"{n}\"? "))
                    .unwrap_or_default();
                return Err(syn::Error::new(
                    name.span(),
                    format!(
                        "unknown baseline figure \"{}\"; {near}the figures are {}",
                        name.value(),
                        BASELINE_METRICS.join(", ")
                    ),
                ));
            }
            if names.iter().any(|n| n.value().replace('-', "_") == text) {
                return Err(syn::Error::new(
                    name.span(),
                    format!("\"{}\" is given twice", name.value()),
                ));
            }
            names.push(name.clone());
        }
        if names.is_empty() {
            return Err(syn::Error::new_spanned(&value, expected));
        }
        return Ok(Arg::Metrics(key.span, names));
    }
    if input.peek(kw::threads) {
        let key = input.parse::<kw::threads>()?;
        expect_eq(input, "threads", key.span, "threads = \"all\"")?;
        let expected = "expected `threads = \"all\"` (every thread of the process) or \
                        `threads = \"current\"` (the test's own thread, the default)";
        if input.is_empty() || input.peek(Token![,]) {
            return Err(missing_value(
                input,
                "threads",
                "`\"all\"` or `\"current\"`",
            ));
        }
        let value: Expr = input.parse()?;
        return match ungroup(&value) {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) if s.value() == "all" => Ok(Arg::Threads(key.span, true)),
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) if s.value() == "current" => Ok(Arg::Threads(key.span, false)),
            _ => Err(syn::Error::new_spanned(&value, expected)),
        };
    }
    if input.peek(Token![crate]) {
        let (span, path) = parse_crate(input)?;
        return Ok(Arg::Crate(span, path));
    }
    let ident = input.call(Ident::parse_any).map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected a key, e.g. `max_bytes = 4096`; the keys are max_bytes, max_blocks, \
             total_bytes, total_blocks, curr_bytes, curr_blocks, baseline, tolerance, metrics, threads, crate",
        )
    })?;
    Err(unknown_key(&ident))
}

/// `crate = "path::to::dhat_kit"`, the key next in `input`, as every attribute takes it: the
/// key's span and the path, or an error that says what to write at the token that is wrong.
pub(crate) fn parse_crate(input: ParseStream<'_>) -> syn::Result<(Span, Path)> {
    let key = input.parse::<Token![crate]>()?;
    expect_eq(input, "crate", key.span, "crate = \"path::to::dhat_kit\"")?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(missing_value(
            input,
            "crate",
            "`crate = \"path::to::dhat_kit\"`",
        ));
    }
    Ok((key.span, crate_path(input)?))
}

/// The value of `crate = ..`, after the `=`: a string that holds a path.
pub(crate) fn crate_path(input: ParseStream<'_>) -> syn::Result<Path> {
    let lit: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected the path to dhat-kit as a string, e.g. `crate = \"my_crate::dhat_kit\"`",
        )
    })?;
    lit.parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            "expected the path to dhat-kit, e.g. `crate = \"my_crate::dhat_kit\"`",
        )
    })
}

/// `expr` without the invisible delimiters a `macro_rules!` fragment arrives in (`$t:literal`,
/// `$t:expr`: syn's `Expr::Group`), which the matches on literals and arrays here would refuse
/// (`tolerance = $t` read "expected the tolerance in percent as a number literal").
pub(crate) fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(g) = expr {
        expr = &g.expr;
    }
    expr
}

/// The `=` after `key`, or an error at the key that gives `example` (`max_bytes = 4096`).
fn expect_eq(input: ParseStream<'_>, key: &str, key_span: Span, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            key_span,
            format!("expected `=` and a value after `{key}`, e.g. `{example}`"),
        ))
    }
}

fn missing_value(input: ParseStream<'_>, key: &str, example: &str) -> syn::Error {
    syn::Error::new(
        input.span(),
        format!("missing value for `{key}`: expected {example}"),
    )
}

/// `= value` after a limit key: an expression, checked for what can be seen without type
/// information (a negative or non-integer literal).
fn parse_value(input: ParseStream<'_>, key: &str, key_span: Span) -> syn::Result<Expr> {
    expect_eq(input, key, key_span, &format!("{key} = 4096"))?;
    if input.is_empty() || input.peek(Token![,]) {
        return Err(missing_value(
            input,
            key,
            "an integer limit, e.g. `4096` or `64 * 1024`",
        ));
    }
    let value: Expr = input.parse()?;
    check_value(&value, key)?;
    // `max_bytes = 8 MiB`: a unit after the value (it was said as a missing `,`).
    if input.peek(Ident) {
        let unit = input.fork().parse::<Ident>()?;
        let units = ["b", "kb", "kib", "mb", "mib", "gb", "gib", "tb", "tib"];
        if units.contains(&unit.to_string().to_ascii_lowercase().as_str()) {
            return Err(syn::Error::new(
                unit.span(),
                format!(
                    "`{key}` is an integer expression, without a unit: write the unit as \
                     arithmetic, e.g. `{key} = 8 * 1024 * 1024` for 8 MiB"
                ),
            ));
        }
    }
    Ok(value)
}

fn check_value(value: &Expr, key: &str) -> syn::Result<()> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Int(_) => Ok(()),
            Lit::Float(_) => Err(not_integer(lit, key, "a float")),
            Lit::Str(_) => Err(not_integer(lit, key, "a string")),
            Lit::Bool(_) => Err(not_integer(lit, key, "a bool")),
            Lit::Char(_) => Err(not_integer(lit, key, "a char")),
            Lit::Byte(_) => Err(not_integer(lit, key, "a byte")),
            Lit::ByteStr(_) | Lit::CStr(_) => Err(not_integer(lit, key, "a byte string")),
            _ => Err(not_integer(lit, key, "another kind of")),
        },
        // `-0` is 0 (but `-0u64` no unsigned integer takes).
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) if matches!(
            &**expr,
            Expr::Lit(ExprLit {
                lit: Lit::Int(int),
                ..
            }) if int.base10_digits().bytes().any(|d| d != b'0') || int.suffix().starts_with('u')
        ) || matches!(
            &**expr,
            Expr::Lit(ExprLit {
                lit: Lit::Float(_),
                ..
            })
        ) =>
        {
            Err(syn::Error::new_spanned(
                value,
                format!("`{key}` cannot be negative: a limit is an upper bound, 0 or more"),
            ))
        }
        Expr::Group(g) => check_value(&g.expr, key),
        Expr::Paren(p) => check_value(&p.expr, key),
        _ => Ok(()),
    }
}

fn not_integer(lit: &Lit, key: &str, what: &str) -> syn::Error {
    syn::Error::new(
        lit.span(),
        format!("`{key}` must be an integer, found {what} literal; e.g. `{key} = 4096`"),
    )
}

fn unknown_key(ident: &Ident) -> syn::Error {
    let name = ident.to_string();
    let message = match nearest(&name) {
        Some(near) => format!("unknown key `{name}`; did you mean `{near}`?"),
        None => format!(
            "unknown key `{name}`; the keys are max_bytes, max_blocks, total_bytes, \
             total_blocks, curr_bytes, curr_blocks, baseline, tolerance, metrics, threads, crate"
        ),
    };
    syn::Error::new(ident.span(), message)
}

/// The valid key nearest to `name`, if it is near enough to be what was meant.
fn nearest(name: &str) -> Option<&'static str> {
    nearest_of(name, KEYS.iter().copied())
}

/// The candidate nearest to `name` (the first of equally near ones), if near enough to be what
/// was meant: at most a third of its characters (and at least one) away.
pub(crate) fn nearest_of(
    name: &str,
    candidates: impl Iterator<Item = &'static str>,
) -> Option<&'static str> {
    candidates
        .map(|k| (edit_distance(name, k), k))
        .filter(|&(d, k)| d <= (k.chars().count() / 3).max(1))
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_name_the_baselines_figures() {
        let args = parse("baseline, metrics = [\"total_bytes\", \"peak-bytes\"]").unwrap();
        let names: Vec<String> = args
            .baseline
            .unwrap()
            .metrics
            .iter()
            .map(LitStr::value)
            .collect();
        assert_eq!(names, ["total_bytes", "peak-bytes"]);
        let err = |s: &str| parse(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("max_bytes = 1, metrics = [\"total_bytes\"]").starts_with("`metrics` chooses"));
        assert_eq!(
            err("baseline, metrics = [\"totl_bytes\"]"),
            "unknown baseline figure \"totl_bytes\"; did you mean \"total_bytes\"? the figures \
             are total_bytes, total_blocks, peak_bytes, peak_blocks, end_bytes"
        );
        assert!(err("baseline, metrics = [\"max_bytes\"]").starts_with("unknown baseline figure"));
        assert!(err("baseline, metrics = []").starts_with("`metrics` takes an array"));
        assert!(
            err("baseline, metrics = [\"end_bytes\", \"end-bytes\"]").ends_with("is given twice")
        );
    }

    #[test]
    fn suggestions_are_near_keys_only() {
        assert_eq!(nearest("max_byte"), Some("max_bytes"));
        assert_eq!(nearest("max_bloks"), Some("max_blocks"));
        assert_eq!(nearest("totl_bytes"), Some("total_bytes"));
        assert_eq!(nearest("cur_bytes"), Some("curr_bytes"));
        assert_eq!(nearest("budget"), None);
        assert_eq!(nearest("baseline_name"), None);
        assert_eq!(nearest("tolerence"), Some("tolerance"));
        assert_eq!(nearest("bytes"), None);
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("max_bytes", "max_bytes"), 0);
    }

    #[test]
    fn keys_and_limit_keys_agree() {
        for k in LIMIT_KEYS {
            assert!(KEYS.contains(&k));
        }
        assert_eq!(LIMIT_KEYS.len(), LIMIT_VARIANTS.len());
    }

    fn parse(s: &str) -> syn::Result<Args> {
        syn::parse_str(s)
    }

    #[test]
    fn parses_limits_and_crate() {
        let args = parse("max_bytes = 64 * 1024, total_blocks = LIMIT, crate = \"x::y\",").unwrap();
        assert_eq!(args.limits.len(), 2);
        assert_eq!(args.limits[0].key, 2);
        assert_eq!(args.limits[1].key, 1);
        assert!(args.krate.is_some());
        assert!(!args.all_threads);
        assert!(
            parse("max_bytes = 1, threads = \"all\"")
                .unwrap()
                .all_threads
        );
        assert!(
            !parse("max_bytes = 1, threads = \"current\"")
                .unwrap()
                .all_threads
        );
    }

    #[test]
    fn rejects_bad_input() {
        let err = |s: &str| parse(s).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("max_byte = 1").contains("did you mean `max_bytes`"));
        assert!(err("max_bytes = 1, max_bytes = 2").contains("duplicate key `max_bytes`"));
        assert!(err("max_bytes =").contains("missing value for `max_bytes`"));
        assert!(err("max_bytes").contains("expected `=`"));
        assert!(err("max_bytes = -1").contains("cannot be negative"));
        assert!(err("max_bytes = 1.5").contains("found a float literal"));
        assert!(err("max_bytes = \"1\"").contains("found a string literal"));
        assert!(err("").contains("at least one limit"));
        assert!(err("crate = \"x\"").contains("at least one limit or `baseline`"));
        assert!(err("tolerance = 5").contains("`tolerance` applies to the baseline"));
        assert!(err("baseline = 5").contains("the baseline entry's name as a string"));
        assert!(err("baseline = \"\"").contains("name is empty"));
        assert!(err("baseline, tolerance = -1").contains("0 or more"));
        assert!(err("baseline, tolerance = \"5%\"").contains("tolerance in percent"));
        assert!(err("baseline, baseline = \"x\"").contains("duplicate key `baseline`"));
        assert!(err("max_bytes = 1, threads = \"many\"").contains("`threads = \"all\"`"));
        assert!(err("max_bytes = 1, threads = all").contains("`threads = \"current\"`"));
        assert!(err("max_bytes = 1, threads =").contains("missing value for `threads`"));
        assert!(err("threads = \"all\", threads = \"all\", max_bytes = 1")
            .contains("duplicate key `threads`"));
        assert!(err("threads = \"all\"").contains("at least one limit"));
        assert!(err("thread = \"all\"").contains("did you mean `threads`"));
    }

    #[test]
    fn parses_baseline_and_tolerance() {
        let args = parse("baseline").unwrap();
        let b = args.baseline.unwrap();
        assert!(b.name.is_none() && b.tolerance.is_none());
        assert!(args.limits.is_empty());
        let args = parse("tolerance = 2.5, max_bytes = 10, baseline = \"parse\"").unwrap();
        let b = args.baseline.unwrap();
        assert_eq!(b.name.unwrap().value(), "parse");
        assert_eq!(b.tolerance.unwrap().base10_parse::<f64>().unwrap(), 2.5);
        assert_eq!(args.limits.len(), 1);
        let b = parse("baseline, tolerance = 5").unwrap().baseline.unwrap();
        assert_eq!(b.tolerance.unwrap().to_string(), "5f64");
    }
}
