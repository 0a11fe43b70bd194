//! Budgets per component: a TOML file a person writes ("JSON parsing at most 10% of all bytes",
//! "the ORM at most 8 MiB"), checked against a profile.
//!
//! ```toml
//! [[component]]
//! name = "JSON parsing"
//! match = { crate = "serde_json" }   # or function = "parse_json", file = "src/json.rs",
//!                                    # path = "my_app::json", region = "call_function"
//! max = "10%"                        # a share of the figure's total, or "8 MiB", "500 KB", 1048576
//! metric = "total-bytes"             # optional: any metric of `dhat-kit top`; default total-bytes
//! ```
//!
//! The keys of `match`, on one frame of a program point's stack (every frame, innermost first):
//!
//! | key | a frame matches when |
//! |---|---|
//! | `crate` | its crate is this one (`serde_json`; `-` and `_` are the same, so Cargo's package name `serde-json` is the crate `serde_json` of its symbols); for C, its library or source directory. A crate's name only: a version (`hashbrown-0.16.1`), a module path (`serde_json::de`), a source file or spaces are an error that says what to write (`crate = "hashbrown"`) |
//! | `function` | its function is this one, whole or as the last segments of its path (`parse_json` matches `app::json::parse_json`, not `app::reparse_json`) |
//! | `file` | its source file is this one, whole or as the last components of its path (`src/json.rs`) |
//! | `path` | its function is in this module or type (`my_app::json` matches `my_app::json::Lexer::next`; `my_app::json::Lexer` matches `<my_app::json::Lexer as Iterator>::next`) |
//! | `region` | it is the region of this name in a dhat-kit peak profile (`region call_function`) |
//!
//! `function` and `path` compare whole path segments of the function as a person names it:
//! without generic arguments (`parse_json::<Value>`, `HashMap<K,V>::insert`), a legacy hash
//! (`::h0123456789abcdef`), a C++ parameter list (`ns::Parser::parse(char const*)`) or closures at
//! its end (a frame of `parse_json::{{closure}}` is one of `parse_json`), and with a trait impl's
//! self type for `<T as Trait>`. The allocator's frames claim nothing: `malloc` and its wrappers,
//! `operator new`, and every frame inside Rust's global allocator, the `__rust_alloc` shim
//! included (it carries the file of the program's `#[global_allocator]`). The frames of dhat,
//! dhat-kit and backtrace claim nothing where they record: inside Rust's global allocator, and at
//! the top of a stack that does not pass through it (an ad-hoc event, recorded by
//! `dhat::ad_hoc_event` under a dhat-kit region's guard), up to the first frame of other code.
//! Elsewhere they are code like any other: `crate = "dhat_kit"` claims dhat-kit's own
//! allocations (its region registry's, through `Vec`), and, as any `match`, every point with one
//! of its frames on the stack, so the points under `dhat_kit::measure` too.
//!
//! A `match` with several keys needs all of them on the same frame. **A program point (a distinct
//! stack) belongs to the first component, in the file's order, whose `match` any frame of its
//! stack satisfies**, among the components of one figure (`metric`: those of another figure do
//! not take it from them); what no component of a figure claims is its "everything else". Put narrow components before
//! broad ones: a parser called from the ORM counts as the parser's if the parser comes first.
//! [`BudgetReport::explain`] (`dhat-kit check --budget FILE --explain`) lists each component's
//! sites, and the frame that claimed each.
//!
//! `max` is a share of the figure's total over the whole profile (`"10%"`, at most 100%), or an amount: a size
//! in bytes (`"8 MiB"`, `"500 KB"`, `"1.5 GiB"`, `"64 B"`: KB, MB, GB are powers of 1000, KiB,
//! MiB, GiB of 1024) or a plain integer in the figure's own unit (bytes, blocks, or, in an ad-hoc
//! profile, its units and events). A size in bytes on a figure that is not counted in bytes is an
//! error, not a guess.
//!
//! # Examples
//!
//! ```
//! use dhat_kit::analyze::budget::Budgets;
//! let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
//!   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
//!   "pps":[{"tb":30,"tbk":1,"fs":[1,3]},{"tb":60,"tbk":2,"fs":[2,3]},{"tb":10,"tbk":1,"fs":[3]}],
//!   "ftbl":["[root]","0x1: serde_json::de::parse (src/de.rs:3:1)",
//!           "0x2: app::orm::load (src/orm.rs:9:5)","0x3: app::main (src/main.rs:1:1)"]}"#;
//! let profile = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
//! let budgets = Budgets::parse(r#"
//!     [[component]]
//!     name = "JSON parsing"
//!     match = { crate = "serde_json" }
//!     max = "40%"
//!
//!     [[component]]
//!     name = "ORM"
//!     match = { path = "app::orm" }
//!     max = 50
//! "#, "budgets.toml")?;
//! let report = budgets.check(&profile)?;
//! assert_eq!(report.components[0].current, 30); // 30% of 100: within
//! assert_eq!(report.components[1].current, 60); // over its 50
//! assert_eq!(report.rest[0].current, 10);       // everything else
//! assert!(!report.passed());
//! assert_eq!(report.over().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["ORM"]);
//! println!("{}", report.render());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{markdown_text, one_line, percent, render_table, Frames, Metric};
use crate::profile::{Frame, Profile};
use crate::units::{Bytes, Thousands};

/// A budget file that could not be read or does not fit the profile: one line naming the file,
/// the line (when known) and what was wrong.
///
/// # Examples
///
/// ```
/// let err = dhat_kit::analyze::budget::Budgets::parse(
///     "[[component]]\nname = \"x\"\nmatch = { crate = \"a\" }\nmax = \"8 MB/s\"\n",
///     "budgets.toml",
/// )
/// .unwrap_err();
/// assert_eq!(err.line(), Some(4));
/// assert!(err.to_string().starts_with("dhat-kit: budgets.toml:4: "), "{err}");
/// ```
///
/// A file that could not be read keeps the I/O error, whose text its message says:
///
/// ```
/// let err = dhat_kit::analyze::budget::Budgets::read("no-such-dir/budgets.toml").unwrap_err();
/// assert_eq!(err.io_error().unwrap().kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().contains("No such file or directory"), "{err}");
/// ```
///
/// Its [`source`](std::error::Error::source) is what lies below the I/O error (none, for the
/// system's errors): a chain printed whole (`anyhow`'s `{:#}` or `{:?}`) says that text once.
#[derive(Debug, Clone)]
pub struct BudgetError {
    file: String,
    line: Option<usize>,
    message: String,
    /// The I/O error that stopped the reading, if that is what did.
    io: Option<std::sync::Arc<std::io::Error>>,
}

impl BudgetError {
    fn new(file: &str, line: Option<usize>, message: impl Into<String>) -> Self {
        BudgetError {
            file: file.to_owned(),
            line,
            message: message.into(),
            io: None,
        }
    }

    /// The budget file.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line (from 1) of what was wrong, when the error is about one place in the file.
    #[must_use]
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What was wrong.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The I/O error that stopped the reading, if that is what did (its text is in the
    /// [`message`](BudgetError::message)).
    #[must_use]
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.io.as_deref()
    }
}

impl fmt::Display for BudgetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "dhat-kit: {}:{line}: {}", self.file, self.message),
            None => write!(f, "dhat-kit: {}: {}", self.file, self.message),
        }
    }
}

/// Two errors are equal when they say the same (an I/O error's text is in the message).
impl PartialEq for BudgetError {
    fn eq(&self, other: &Self) -> bool {
        (&self.file, self.line, &self.message) == (&other.file, other.line, &other.message)
            && self.io.as_ref().map(|e| e.kind()) == other.io.as_ref().map(|e| e.kind())
    }
}

impl Eq for BudgetError {}

/// Its source is the I/O error's own, whose text the message says (a chain that named the I/O
/// error as the source said that text twice); [`io_error`](BudgetError::io_error) gives it.
impl std::error::Error for BudgetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io.as_deref().and_then(std::error::Error::source)
    }
}

/// What claims a frame for a component: every key given must hold on the same frame.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// The crate of the frame's function (for C: its library or source file).
    #[serde(rename = "crate")]
    pub krate: Option<String>,
    /// The function, whole or as the last segments of its path (whole segments, without
    /// generic arguments, hash, parameter list or closures at its end).
    pub function: Option<String>,
    /// The source file, whole or as the last components of its path.
    pub file: Option<String>,
    /// A module or type path prefix of the function (of a trait impl's self type for
    /// `<T as Trait>::f`).
    pub path: Option<String>,
    /// A region's name (dhat-kit peak and sampled profiles: frames `region NAME`), at any depth;
    /// or a path of regions from the outermost, `outer/inner`, as `dhat-kit regions` prints it,
    /// which claims that region and its sub-regions (alone in its match).
    pub region: Option<String>,
}

impl Match {
    /// Whether `frame` satisfies every key given.
    #[must_use]
    pub fn matches(&self, frame: &Frame<'_>) -> bool {
        self.prepare().matches(frame, &name_segments(frame))
    }

    /// The match with its `function` and `path` split into segments, once for every frame.
    fn prepare(&self) -> Prepared<'_> {
        let segments = |want: &str| {
            name_segments(&Frame {
                raw: want,
                address: None,
                function: want,
                file: None,
                line: None,
                column: None,
                object: None,
            })
        };
        Prepared {
            matcher: self,
            function: self.function.as_deref().map(segments),
            path: self.path.as_deref().map(segments),
        }
    }

    fn is_empty(&self) -> bool {
        self.krate.is_none()
            && self.function.is_none()
            && self.file.is_none()
            && self.path.is_none()
            && self.region.is_none()
    }
}

impl fmt::Display for Match {
    /// `crate = "serde_json"`, keys separated by commas.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys = [
            ("crate", &self.krate),
            ("function", &self.function),
            ("file", &self.file),
            ("path", &self.path),
            ("region", &self.region),
        ];
        let mut first = true;
        for (key, value) in keys {
            if let Some(v) = value {
                if !first {
                    f.write_str(", ")?;
                }
                write!(f, "{key} = {v:?}")?;
                first = false;
            }
        }
        Ok(())
    }
}

/// A [`Match`] whose `function` and `path` are split into segments ([`name_segments`]).
struct Prepared<'m> {
    matcher: &'m Match,
    function: Option<Vec<String>>,
    path: Option<Vec<String>>,
}

impl Prepared<'_> {
    /// Whether `frame`, whose function's segments are `name`, satisfies every key given.
    fn matches(&self, frame: &Frame<'_>, name: &[String]) -> bool {
        let m = self.matcher;
        // A region's frame (`region Interpreter::call_function`) is no code: only `region`
        // claims it. `function = "call_function"` took 91% of a peak profile through its region
        // frames, and a later component lost those points.
        if is_region_frame(frame)
            && (m.krate.is_some() || m.function.is_some() || m.file.is_some() || m.path.is_some())
        {
            return false;
        }
        if let Some(want) = &m.krate {
            let norm = |s: &str| s.replace('-', "_");
            // A C frame's crate is its source directory, a path (`/home/me/app/lib/parser`
            // where Valgrind ran with `--fullpath-after=`): its last components name it, as a
            // file's do (`parser`, `lib/parser`), which a budget shared by machines can hold.
            let (krate, want) = (norm(frame.crate_name()), norm(want));
            if krate != want && !ends_with_components(&krate, &want) {
                return false;
            }
        }
        // Whole segments only: `parse` is not `reparse`.
        if let Some(want) = &self.function {
            if want.is_empty() || !name.ends_with(want) {
                return false;
            }
        }
        if let Some(want) = &m.file {
            let Some(file) = frame.file else { return false };
            let want = want.trim_start_matches("./");
            if file != want && !ends_with_components(file, want) {
                return false;
            }
        }
        if let Some(want) = &self.path {
            if want.is_empty() || !name.starts_with(want) {
                return false;
            }
        }
        if let Some(want) = &m.region {
            // A path is matched against a point's regions ([`Prepared::region_path`]).
            if want.contains('/') || frame.function.strip_prefix("region ") != Some(want.as_str()) {
                return false;
            }
        }
        true
    }

    /// A `region` given as a path, `outer/inner`: its names, outermost first.
    fn region_path(&self) -> Option<Vec<&str>> {
        let want = self.matcher.region.as_deref()?;
        want.contains('/').then(|| want.split('/').collect())
    }
}

/// Whether the path `path` ends with the whole components `tail` (`/a/lib/parser` with
/// `lib/parser` or `parser`, not with `arser`).
fn ends_with_components(path: &str, tail: &str) -> bool {
    path.len() > tail.len()
        && path.ends_with(tail)
        && path[..path.len() - tail.len()].ends_with(['/', '\\'])
}

/// Whether `frame` is a region's (`region NAME`, in dhat-kit's peak and sampled profiles).
fn is_region_frame(frame: &Frame<'_>) -> bool {
    frame.function.starts_with("region ")
}

/// The regions of a program point's stack, outermost first: its frames `region NAME` at the outer
/// end (a peak profile's points are only those; a sampled profile's end with them), with the
/// position in `fs` of each.
fn point_regions<'p>(profile: &'p Profile, fs: &[u32]) -> Vec<(&'p str, usize)> {
    fs.iter()
        .enumerate()
        .rev()
        .map(|(at, &f)| (profile.ftbl.get(f as usize).map_or("", |s| &**s), at))
        .skip_while(|(f, _)| *f == "[root]")
        .map_while(|(f, at)| Some((f.strip_prefix("region ")?, at)))
        .collect()
}

/// The path segments of a frame's function as a person names it, for `function` and `path`:
/// without a C++ parameter list (`ns::Parser::parse(char const*)`), a legacy Rust hash
/// (`::h0123456789abcdef`), generic arguments (`parse_json::<Value>`, `HashMap<K,V>::insert`) or
/// closures at its end (`parse_json::{{closure}}`, `::{closure#0}`: a closure's frame is one of
/// its function's), and with a trait impl's self type for `<T as Trait>` (`<app::Lexer as
/// Iterator>::next` is `app`, `Lexer`, `next`: the self type is a type prefix).
fn name_segments(frame: &Frame<'_>) -> Vec<String> {
    let mut f = frame.name_without_parameters().trim();
    if let Some((head, hash)) = f.rsplit_once("::") {
        if hash.len() == 17
            && hash.starts_with('h')
            && hash[1..].bytes().all(|b| b.is_ascii_hexdigit())
        {
            f = head;
        }
    }
    // `<T as Trait>::rest` and `<T>::rest` are `T::rest`.
    let mut name = String::with_capacity(f.len());
    let rest = match f.strip_prefix('<').and_then(|inner| {
        let close = closing_angle(inner)?;
        Some((&inner[..close], &inner[close + 1..]))
    }) {
        Some((qualified, rest)) => {
            let mut depth = 0i32;
            let mut self_type = qualified;
            for (i, c) in qualified.char_indices() {
                match c {
                    '<' | '(' | '[' => depth += 1,
                    '>' | ')' | ']' => depth -= 1,
                    ' ' if depth == 0 && qualified[i..].starts_with(" as ") => {
                        self_type = &qualified[..i];
                        break;
                    }
                    _ => {}
                }
            }
            let mut t = self_type.trim();
            loop {
                let u = t.trim_start_matches(['&', '*']).trim_start();
                let u = ["mut ", "const ", "dyn "]
                    .iter()
                    .find_map(|p| u.strip_prefix(p))
                    .unwrap_or(u);
                if u.len() == t.len() {
                    break;
                }
                t = u;
            }
            name.push_str(t);
            rest
        }
        None => f,
    };
    name.push_str(rest);
    // Generic arguments, however deep; `->` and C++'s `operator<` are not brackets.
    let mut plain = String::with_capacity(name.len());
    let mut depth = 0usize;
    let mut prev = ' ';
    for c in name.chars() {
        let operator = plain.ends_with("operator") || plain.ends_with("operator<");
        match c {
            '<' if depth == 0 && operator => plain.push(c),
            '<' => depth += 1,
            '>' if depth > 0 && prev != '-' => depth -= 1,
            c if depth == 0 => plain.push(c),
            _ => {}
        }
        prev = c;
    }
    // A C++ function template's name begins with its return type (`void ns::f<int>(int)`,
    // `std::vector<int> ns::g()`): the name is what follows the last space outside brackets
    // before any `operator` (whose own name may hold spaces: `operator new`,
    // `operator unsigned long`).
    let plain = if frame.name_without_parameters().len() < frame.function.len() {
        crate::profile::frame::without_return_type(&plain).to_owned()
    } else {
        plain
    };
    // Segments, split at `::` outside parentheses, brackets and braces.
    let mut segments = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    let bytes = plain.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                segments.push(plain[start..i].trim().to_owned());
                i += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    segments.push(plain[start..].trim().to_owned());
    segments.retain(|s| !s.is_empty());
    let closure = |s: &str| s == "{{closure}}" || (s.starts_with("{closure#") && s.ends_with('}'));
    while segments.last().is_some_and(|s| closure(s)) {
        segments.pop();
    }
    segments
}

/// Where the `>` that closes a `<` just before `text` is (`->` is not one).
fn closing_angle(text: &str) -> Option<usize> {
    let mut depth = 1usize;
    let mut prev = ' ';
    for (i, c) in text.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if prev != '-' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        prev = c;
    }
    None
}

/// What is wrong with `want` as the `crate` of a match, with what to write instead; `None` when it
/// can be a crate's name (or, for C, a library's or a source directory's).
///
/// Frame names carry a crate's name only: never its version (`hashbrown-0.16.1` is the directory
/// of `hashbrown`'s sources, whose frames read `hashbrown::...`), a module path
/// (`serde_json::de`) or a source file, so a `crate` written that way would match nothing,
/// silently. A Cargo package name with `-` (`serde-json`, `my-app`) is accepted and matches
/// the crate's frames: rustc names the crate with `_` in its symbols, and the two are compared
/// with `-` and `_` alike, so `crate = "my-app"` is the package's crate as Cargo.toml names it.
fn crate_problem(want: &str) -> Option<String> {
    let trimmed = want.trim();
    if trimmed.is_empty() {
        return Some("empty: expected a crate's name, such as crate = \"serde_json\"".to_owned());
    }
    if trimmed != want {
        return Some(
            crate_problem(trimmed)
                .unwrap_or_else(|| format!("spaces around the name: write crate = {trimmed:?}")),
        );
    }
    if let Some((head, _)) = want.split_once("::") {
        let head = head.trim_start_matches(['<', '&']);
        return Some(format!(
            "a crate is the first segment of a path: write crate = {head:?}, or path = {want:?} \
             for a module or type"
        ));
    }
    let write = |name: &str| format!("write crate = {name:?}");
    // A source file, with a directory or without (`prof.rs`, `parse.c`, `lib/parser/parse.c`):
    // its crate would be the directory's or the binary's, so the name matched nothing, said
    // only as a warning. (A shared object's name has dots too, `libstdc++.so.6`, and is a crate.)
    const SOURCES: [&str; 9] = [
        ".rs", ".c", ".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp",
    ];
    if SOURCES.iter().any(|ext| want.ends_with(ext)) {
        let parts: Vec<&str> = want.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        let krate = parts
            .iter()
            .rev()
            .find_map(|p| without_version(p))
            .or_else(|| {
                parts
                    .iter()
                    .position(|&p| p == "src")
                    .filter(|&i| i > 0)
                    .map(|i| parts[i - 1])
            });
        let also = krate.map_or(String::new(), |k| {
            format!(", or crate = {k:?} for its crate")
        });
        return Some(format!(
            "a source file is not a crate: write file = {want:?} for the file{also}"
        ));
    }
    if want.contains(['/', '\\']) {
        // A directory of sources, `hashbrown-0.16.1/src/map.rs`, `.../registry/src/x/serde-1.0.0`:
        // its crate is the component with a version, or the one before `src`.
        let parts: Vec<&str> = want.split(['/', '\\']).filter(|p| !p.is_empty()).collect();
        let versioned = parts.iter().rev().find_map(|p| without_version(p));
        let before_src = parts
            .iter()
            .position(|&p| p == "src")
            .filter(|&i| i > 0)
            .map(|i| parts[i - 1]);
        let krate = versioned.or(before_src);
        if let Some(k) = krate {
            return Some(format!(
                "a crate's name is not the path of its sources: {}",
                write(k)
            ));
        }
        // A C library's or source directory's path (`lib/parser`): the crate of C frames.
        return None;
    }
    if let Some(name) = without_version(want) {
        return Some(format!("crate names carry no version: {}", write(name)));
    }
    if want.contains(char::is_whitespace) {
        let name: String = want.split_whitespace().collect::<Vec<_>>().join("_");
        return Some(format!("a crate's name has no spaces: {}", write(&name)));
    }
    None
}

/// The name of `name-1.2.3`, `name@1.2`, `name v1.2.3` or `name 1.2.3-alpha`: a name, then a
/// version of at least two numbers (so `sha-1` and `libgtk-3.so.0` are names); `None` when `text`
/// does not end with a version.
fn without_version(text: &str) -> Option<&str> {
    text.match_indices(['-', '@', ' ']).find_map(|(i, _)| {
        let name = text[..i].trim_end();
        let version = text[i + 1..].trim_start();
        let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
        let (core, _pre) = version
            .split_once(['-', '+'])
            .map_or((version, None), |(c, p)| (c, Some(p)));
        let numbers: Vec<&str> = core.split('.').collect();
        let is_version = numbers.len() >= 2
            && numbers.len() <= 4
            && numbers
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        (is_version && !name.is_empty()).then_some(name)
    })
}

/// A component's `max`. In JSON: `{"share": 10.0}`, `{"bytes": 8388608}` or `{"amount": 1048576}`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Limit {
    /// A share of the figure's total over the whole profile, in percent (`"10%"`).
    Share(f64),
    /// A size in bytes (`"8 MiB"`, `"500 KB"`).
    Bytes(u64),
    /// A plain number in the figure's own unit (`1048576`).
    Amount(u64),
}

impl Limit {
    /// Reads `"10%"`, `"8 MiB"`, `"500 KB"`, `"1.5 GiB"`, `"64 B"` or `"4096"`.
    ///
    /// # Errors
    ///
    /// A [`ParseError`](crate::ParseError) that says what is wrong with the text; a size that is
    /// not a whole number of bytes (`"0.5 B"`, `"1.0001 KiB"`; `"1.5 KiB"` is 1536 bytes) is an
    /// error, not rounded, and so are a negative limit and a share above 100%, which no figure
    /// can exceed.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::analyze::budget::Limit;
    ///
    /// assert_eq!(Limit::parse("10%"), Ok(Limit::Share(10.0)));
    /// assert_eq!(Limit::parse("1.5 KiB"), Ok(Limit::Bytes(1536)));
    /// assert_eq!(Limit::parse("4096"), Ok(Limit::Amount(4096)));
    /// let err = Limit::parse("8 MB/s").unwrap_err();
    /// assert_eq!(err.text(), "8 MB/s");
    /// assert!(err.to_string().contains("bad unit \"MB/s\""), "{err}");
    /// ```
    pub fn parse(text: &str) -> Result<Limit, crate::ParseError> {
        Limit::read(text).map_err(|message| crate::ParseError::new(text, message))
    }

    /// [`parse`](Limit::parse), with the message alone.
    fn read(text: &str) -> Result<Limit, String> {
        let t = text.trim();
        if t.starts_with('-') {
            return Err(negative(&format!("{text:?}")));
        }
        if let Some(p) = t.strip_suffix('%') {
            return match p.trim().parse::<f64>() {
                Ok(v) if v.is_finite() && v > 100.0 => Err(format!(
                    "bad share {text:?}: above 100%, which no figure can exceed: expected at most 100%"
                )),
                Ok(v) if v.is_finite() && v >= 0.0 => Ok(Limit::Share(v)),
                _ => Err(format!(
                    "bad share {text:?}: expected a percentage such as \"10%\""
                )),
            };
        }
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
            .unwrap_or(t.len());
        let (num, unit) = (t[..split].replace('_', ""), t[split..].trim());
        match unit {
            "" if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num
                .parse::<u64>()
                .map(Limit::Amount)
                .map_err(|_| too_large(&format!("{text:?}"))),
            "" => Err(format!("bad amount {text:?}: expected a whole number")),
            _ => crate::units::parse_bytes(t, "a byte limit").map(Limit::Bytes),
        }
    }
}

/// The message for a negative limit, shown as `shown` (`"-5"`, or `-5` as a TOML integer).
fn negative(shown: &str) -> String {
    format!("bad max {shown}: negative: expected 0 or more")
}

/// The message for an amount beyond `u64::MAX`, shown as `shown`.
fn too_large(shown: &str) -> String {
    format!(
        "bad max {shown}: out of range: expected at most {}",
        u64::MAX
    )
}

/// The most a share of `p` percent of `total` allows: the largest `x` with `x * 100 <= p * total`,
/// in exact arithmetic on `p` as written (the shortest decimal that reads back as `p`, so `29`
/// is 29, not 28.999...), saturating at `u64::MAX`. 0 for a share that is not a number or is
/// negative.
fn share_limit(p: f64, total: u64) -> u64 {
    if p.is_nan() || p < 0.0 {
        return 0;
    }
    if p.is_infinite() {
        return u64::MAX;
    }
    // `Display` of a float is its shortest round-trip decimal, without an exponent.
    let text = p.to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    // p = mantissa / 10^scale. The shortest decimal has at most 17 significant digits, so a
    // mantissa too large for u128 is a whole number of at least 10^38 percent.
    let Ok(mantissa) = (if digits.is_empty() {
        Ok(0)
    } else {
        digits.parse::<u128>()
    }) else {
        return if total == 0 { 0 } else { u64::MAX };
    };
    // limit = floor(mantissa * total / (100 * 10^scale)). A scale whose power does not fit has
    // a mantissa below 10^17 over a divisor above 10^38: the quotient is 0.
    let Some(divisor) = u32::try_from(frac.len())
        .ok()
        .and_then(|scale| 10u128.checked_pow(scale))
        .and_then(|d| d.checked_mul(100))
    else {
        return 0;
    };
    match mantissa.checked_mul(u128::from(total)) {
        Some(product) => u64::try_from(product / divisor).unwrap_or(u64::MAX),
        // Only a whole mantissa (scale 0, so divisor 100) of at least 2^64 overflows here.
        None => u64::MAX,
    }
}

/// One `[[component]]` of a budget file.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its `name`.
    pub name: String,
    /// Its `match`.
    pub matcher: Match,
    /// Its `max`.
    pub max: Limit,
    /// Its `metric` (default total bytes).
    pub metric: Metric,
    /// The line of its `[[component]]` header in the file.
    pub line: usize,
    /// The line of its `metric`, where the file gives one.
    pub metric_line: Option<usize>,
    /// The line of its `max`.
    pub max_line: usize,
}

/// A budget file: components in the order of the file.
///
/// # Examples
///
/// See the [module](self) documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Budgets {
    /// The file (as given to [`read`](Budgets::read) or [`parse`](Budgets::parse)).
    pub file: String,
    /// The components, in the file's order (the first whose `match` holds claims a program point).
    pub components: Vec<Component>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDe {
    #[serde(default)]
    component: Vec<Spanned<ComponentDe>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ComponentDe {
    name: Spanned<String>,
    #[serde(rename = "match")]
    matcher: Spanned<Match>,
    max: Spanned<MaxDe>,
    metric: Option<Spanned<String>>,
}

/// A `max` as written: a string, a whole number (TOML's up to 2^127, to say which are out of
/// range), or another value (shown in the message).
enum MaxDe {
    Text(String),
    Whole(i128),
    Other(String),
}

impl<'de> Deserialize<'de> for MaxDe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = MaxDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a share (\"10%\"), a size (\"8 MiB\") or a whole number")
            }
            fn visit_str<E>(self, v: &str) -> Result<MaxDe, E> {
                Ok(MaxDe::Text(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<MaxDe, E> {
                Ok(MaxDe::Whole(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<MaxDe, E> {
                Ok(MaxDe::Whole(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<MaxDe, E> {
                Ok(MaxDe::Whole(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<MaxDe, E> {
                Ok(MaxDe::Whole(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<MaxDe, E> {
                Ok(MaxDe::Other(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<MaxDe, E> {
                Ok(MaxDe::Other(v.to_string()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// serde's `unknown field `fucntion`, expected one of `crate`, `function`, ...`, with the
/// field likely meant after it: `; did you mean `function`?`. Any other message as it is.
fn with_likely_field(message: String) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message;
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message;
    };
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match crate::suggest::nearest(field, known) {
        Some(near) => format!("{message}; did you mean `{near}`?"),
        None => message,
    }
}

/// A message of the TOML reader, with the key it is about when the text at `span` is a key
/// (`duplicate key`) or the value of one (`metric = 3`), and what to write for the mistakes
/// the reader names in its own terms (a TOML integer beyond 2^127, `[component]`).
fn toml_message(text: &str, span: Option<Range<usize>>, message: &str) -> String {
    let message = message
        .trim()
        .replace('\n', " ")
        .replace(
            "struct Match",
            "a table of crate, function, file, path or region, such as { crate = \"serde_json\" }",
        )
        .replace("struct ComponentDe", "a [[component]] table")
        .replace("struct FileDe", "[[component]] tables");
    if message == "invalid type: map, expected a sequence" {
        return "[component] is one table: write each component as [[component]]".to_owned();
    }
    let message = with_likely_field(message);
    let Some(span) = span.filter(|s| s.end <= text.len() && text.is_char_boundary(s.start)) else {
        return message;
    };
    let is_key = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    let at = text.get(span.clone()).unwrap_or("");
    if message == "duplicate key" && is_key(at) {
        let hint = if at == "component" {
            ": write each component as [[component]]"
        } else {
            ""
        };
        return format!("duplicate key `{at}`{hint}");
    }
    // The key before `=` before the span, on its line.
    let Some(before) = text.get(..span.start) else {
        return message;
    };
    let Some(before) = before.trim_end().strip_suffix('=') else {
        return message;
    };
    let before = before.trim_end();
    // After the last character that is no key's: past all of its bytes (one after its first
    // fell inside `¤`, and panicked).
    let key = &before[before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .map_or(0, |(i, c)| i + c.len_utf8())..];
    if !is_key(key) {
        return message;
    }
    let overflowed = [
        "integer number overflowed",
        "floating-point number overflowed",
    ];
    if overflowed.contains(&message.as_str()) {
        if key != "max" {
            return format!("`{key}`: {at} is out of range");
        }
        // As a `max` within the reader's range says it, with its component's name: the reader
        // stops before any component is read, and said `max`: floating-point number overflowed.
        let bad = if !message.starts_with("integer") {
            not_a_limit(at)
        } else if at.starts_with('-') {
            negative(at)
        } else {
            too_large(at)
        };
        return match component_around(text, span.start) {
            Some(name) => format!("component {name:?}: {bad}"),
            None => bad,
        };
    }
    format!("`{key}`: {message}")
}

/// The name of the `[[component]]` table whose text holds byte `at`, from its `name = "..."`
/// line; for the TOML reader's messages, which come before any component is read.
fn component_around(text: &str, at: usize) -> Option<String> {
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    // A table's header: a line that begins with `[` (a value's text never does on its own
    // line, but for an array's continuation, which no component key holds).
    let header = |line: &str| line.trim_start().starts_with('[');
    // `[[component]]`, however spaced, quoted or followed by a comment.
    let components = |line: &str| {
        let line = line.split('#').next().unwrap_or("");
        let bare: String = line
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '"' | '\''))
            .collect();
        bare == "[[component]]"
    };
    // The header above `at` that opens its table, which must be a component's.
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut opened = None;
    let mut offset = 0;
    for line in text[..line_start].split_inclusive('\n') {
        offset += line.len();
        if header(line) {
            opened = Some((line, offset));
        }
    }
    let (opened, body) = opened?;
    if !components(opened) {
        return None;
    }
    text[body..]
        .lines()
        .take_while(|line| !header(line))
        .find_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("name")?.trim_start();
            rest.starts_with('=')
                .then(|| toml::from_str::<Named>(line).ok())
                .flatten()
                .map(|n| n.name.trim().to_owned())
        })
        .filter(|name| !name.is_empty())
}

/// What a `max` that is neither a whole number nor a text says of it, named as the file writes
/// it.
fn not_a_limit(written: &str) -> String {
    format!("bad max {written}: expected a share (\"10%\"), a size (\"8 MiB\") or a whole number")
}

/// The line (from 1) of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    Lines::new(text).of(at)
}

/// The starts of a text's lines, so that the line of each position is found without counting
/// from the start again (a file of 20,000 components took 16 s to read, counting three times a
/// component).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        Lines(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(at, _)| at)
                .collect(),
        )
    }

    /// The line (from 1) of the byte at `at`.
    fn of(&self, at: usize) -> usize {
        self.0.partition_point(|&newline| newline < at) + 1
    }
}

impl Budgets {
    /// Reads a budget file.
    ///
    /// # Errors
    ///
    /// [`BudgetError`] if the file cannot be read (or holds more than 16 MiB, far more than any
    /// budget file: a file without end given in its place, `/dev/zero`, would fill memory) or is
    /// not a budget file (see [`parse`](Budgets::parse)).
    pub fn read(path: impl AsRef<Path>) -> Result<Budgets, BudgetError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        // A file without end given as the budget file ran the process out of memory.
        let bytes =
            crate::small_file::read(path, 16 << 20, "budget file").map_err(|e| BudgetError {
                message: format!("cannot read the file: {e}"),
                io: Some(std::sync::Arc::new(e)),
                ..BudgetError::new(&name, None, "")
            })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            BudgetError::new(
                &name,
                Some(line),
                format!(
                    "not UTF-8 text (byte 0x{:02X}): a budget file is TOML, in UTF-8",
                    bytes[at]
                ),
            )
        })?;
        Budgets::parse(&text, &name)
    }

    /// Parses the text of a budget file named `file` (for messages).
    ///
    /// # Errors
    ///
    /// [`BudgetError`] with the line and what was wrong: TOML that does not parse, an unknown key,
    /// a missing `name`, `match` or `max`, an empty `match`, a bad unit or share, an unknown
    /// metric, or two components of the same name.
    pub fn parse(text: &str, file: &str) -> Result<Budgets, BudgetError> {
        let de: FileDe = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(text, s.start));
            BudgetError::new(file, line, toml_message(text, e.span(), e.message()))
        })?;
        let lines = Lines::new(text);
        let err = |span: Range<usize>, msg: String| {
            BudgetError::new(file, Some(lines.of(span.start)), msg)
        };
        let mut components: Vec<Component> = Vec::new();
        // Each name's line, for a second component of that name.
        let mut named: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for c in de.component {
            let line = lines.of(c.span().start);
            let c = c.into_inner();
            let name = c.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(err(c.name.span(), "a component's name is empty".into()));
            }
            // The rows of what no component claims bear that name: a component of it could not
            // be told from them.
            if name == EVERYTHING_ELSE || name.starts_with(&format!("{EVERYTHING_ELSE} (")) {
                return Err(err(
                    c.name.span(),
                    format!(
                        "{name:?} is the name of the rows of what no component claims: name the \
                         component otherwise"
                    ),
                ));
            }
            if let Some(first) = named.get(&name) {
                return Err(err(
                    c.name.span(),
                    format!("a second component named {name:?} (the first is on line {first})"),
                ));
            }
            named.insert(name.clone(), line);
            if c.matcher.get_ref().is_empty() {
                return Err(err(
                    c.matcher.span(),
                    format!(
                        "the match of {name:?} is empty: expected one of crate, function, file, path, region"
                    ),
                ));
            }
            let m = c.matcher.get_ref();
            // An empty value matches nothing, as an empty crate would (which is refused below):
            // it was left to a warning that the component matches nothing.
            let empty = [
                ("function", &m.function),
                ("file", &m.file),
                ("path", &m.path),
                ("region", &m.region),
            ]
            .into_iter()
            .find(|(_, v)| v.as_deref().is_some_and(|v| v.trim().is_empty()));
            if let Some((key, _)) = empty {
                return Err(err(
                    c.matcher.span(),
                    format!(
                        "component {name:?}: its match's {key} is empty: expected a name to \
                         match, such as {key} = \"{}\"",
                        match key {
                            "function" => "parse",
                            "file" => "src/parse.rs",
                            "path" => "app::parse",
                            _ => "request",
                        }
                    ),
                ));
            }
            if let Some(path) = m.region.as_deref().filter(|r| r.contains('/')) {
                let others = m.krate.is_some()
                    || m.function.is_some()
                    || m.file.is_some()
                    || m.path.is_some();
                let problem = if path.split('/').any(str::is_empty) {
                    Some(format!(
                        "region {path:?} has an empty name in its path: write names joined by \
                         `/`, as `dhat-kit regions` prints the path (\"request/execute\")"
                    ))
                } else if others {
                    Some(format!(
                        "region {path:?} is a path of regions, which several frames make: it goes \
                         alone in its match (a match of several keys needs them all on one frame)"
                    ))
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(err(
                        c.matcher.span(),
                        format!("component {name:?}: {problem}"),
                    ));
                }
            }
            if let Some(krate) = &c.matcher.get_ref().krate {
                if let Some(problem) = crate_problem(krate) {
                    // The line of the `crate` key: within the match (an inline table is one
                    // line), or, for a `[component.match]` table, whose span is its header, on
                    // the lines after it up to the next header.
                    let span = c.matcher.span();
                    let after = text.get(span.start..).unwrap_or("");
                    let table = after
                        .find("\n[")
                        .map_or(after, |end| &after[..end.max(span.len())]);
                    let at = table
                        .match_indices("crate")
                        .find(|&(i, _)| {
                            let key = table[..i].rsplit('\n').next().unwrap_or("").trim();
                            (key.is_empty() || key.ends_with(['{', ','])) && {
                                let rest = table[i + "crate".len()..].trim_start();
                                rest.starts_with('=')
                            }
                        })
                        .map_or(span.start, |(i, _)| span.start + i);
                    return Err(err(
                        at..at,
                        format!("component {name:?}: bad crate {krate:?} in its match: {problem}"),
                    ));
                }
            }
            let max = match c.max.get_ref() {
                MaxDe::Text(s) => Limit::read(s),
                &MaxDe::Whole(i) => u64::try_from(i).map(Limit::Amount).map_err(|_| {
                    if i < 0 {
                        negative(&i.to_string())
                    } else {
                        too_large(&i.to_string())
                    }
                }),
                // As the file writes it (a float's digits in full read 1e300 as 301 digits).
                MaxDe::Other(v) => Err(not_a_limit(
                    text.get(c.max.span()).map_or(v.as_str(), str::trim),
                )),
            }
            .map_err(|m| err(c.max.span(), format!("component {name:?}: {m}")))?;
            let metric_line = c.metric.as_ref().map(|m| lines.of(m.span().start));
            let max_line = lines.of(c.max.span().start);
            let metric = match &c.metric {
                None => Metric::TotalBytes,
                Some(m) => Metric::ALL
                    .into_iter()
                    .find(|k| k.name() == m.get_ref())
                    .ok_or_else(|| {
                        err(
                            m.span(),
                            format!(
                                "component {name:?}: unknown metric {:?}: {}expected {}",
                                m.get_ref(),
                                crate::suggest::nearest(
                                    m.get_ref(),
                                    Metric::ALL.iter().map(|k| k.name())
                                )
                                .map(|near| format!("did you mean {near:?}? "))
                                .unwrap_or_default(),
                                super::names(&Metric::ALL)
                            ),
                        )
                    })?,
            };
            components.push(Component {
                name,
                matcher: c.matcher.into_inner(),
                max,
                metric,
                line,
                metric_line,
                max_line,
            });
        }
        if components.is_empty() {
            return Err(BudgetError::new(
                file,
                None,
                "no [[component]]: expected at least one, with name, match and max",
            ));
        }
        Ok(Budgets {
            file: file.to_owned(),
            components,
        })
    }

    /// Checks `profile` against the budgets: each program point goes, for each figure budgeted, to
    /// the first component of that figure whose `match` one of its frames satisfies (else to that
    /// figure's "everything else"), and each component's sum of its figure is compared with its
    /// `max`.
    ///
    /// # Errors
    ///
    /// [`BudgetError`] if the profile does not have a component's figure (peak bytes of an
    /// ad-hoc profile, or of one region of a dhat-kit peak profile, which keeps what is live only
    /// for the whole session), naming the line of the component's `metric` (or its header's
    /// where it gives none); or if a size in bytes is given for a figure that is not counted in
    /// bytes (blocks, or an ad-hoc profile's units), naming the line of its `max`.
    pub fn check(&self, profile: &Profile) -> Result<BudgetReport, BudgetError> {
        let unit = profile.unit_plural().to_owned();
        let blocks_unit = profile.blocks_plural().to_owned();
        for c in &self.components {
            let at_line = |line: usize, m: String| {
                BudgetError::new(
                    &self.file,
                    Some(line),
                    format!("component {:?}: {m}", c.name),
                )
            };
            // What the profile lacks for the component's metric: the line that names it.
            let at_metric = |m: String| at_line(c.metric_line.unwrap_or(c.line), m);
            c.metric
                .check(profile)
                .map_err(|e| at_metric(e.to_string()))?;
            if profile.mode == crate::profile::PEAK_MODE
                && matches!(
                    c.metric,
                    Metric::PeakBytes | Metric::PeakBlocks | Metric::EndBytes | Metric::EndBlocks
                )
            {
                // A budget that could never fail: every region's figure would read 0.
                return Err(at_metric(format!(
                    "a dhat-kit peak profile does not give {} per region: what is live at the \
                     peak and at the end is all on its `{}` point, so every region's figure \
                     would read 0; budget total-bytes, total-blocks or max-bytes, or check a \
                     heap profile (feature `heap`)",
                    c.metric,
                    crate::profiler::OUTSIDE
                )));
            }
            // A size where the figure is not in bytes: the line of the size.
            let at = |m: String| at_line(c.max_line, m);
            if let Limit::Bytes(_) = c.max {
                if c.metric.is_blocks() {
                    return Err(at(format!(
                        "max is a size in bytes, but {} counts {blocks_unit}: give a number or a share",
                        c.metric
                    )));
                }
                if unit != "bytes" {
                    return Err(at(format!(
                        "max is a size in bytes, but this profile counts {unit}: give a number of {unit} or a share"
                    )));
                }
            }
        }
        // The components each frame-table entry satisfies, in order, and whether it is the
        // entry of Rust's global allocator; a point's component is the first over its frames
        // outside the allocator (and, on a stack without that entry, outside the profilers'
        // innermost frames: `Kind`). The allocator's frames claim nothing: the
        // `#[global_allocator]` shim carries the user's file (`__rustc::__rust_alloc
        // (src/main.rs:14)`), `operator new` is in libstdc++, and malloc, its wrappers and what
        // Rust's global allocator calls are plumbing on every stack, not a component.
        let none = usize::MAX;
        let prepared: Vec<Prepared<'_>> = self
            .components
            .iter()
            .map(|c| c.matcher.prepare())
            .collect();
        // The components whose `region` is a path, which a point's regions satisfy when they
        // start with it (the region of that path, its sub-regions included).
        let region_paths: Vec<(usize, Vec<&str>)> = prepared
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((i, p.region_path()?)))
            .collect();
        // Per entry: its claims, whether it is the global allocator's entry, and whether it is
        // the allocator's (`Kind`).
        let mut claims: Vec<Vec<usize>> = Vec::with_capacity(profile.ftbl.len());
        let mut entries: Vec<bool> = Vec::with_capacity(profile.ftbl.len());
        let mut kinds: Vec<Kind> = Vec::with_capacity(profile.ftbl.len());
        for raw in &profile.ftbl {
            let f = Frame::parse(raw);
            let kind = Kind::of(&f);
            claims.push(if kind == Kind::Allocator {
                Vec::new()
            } else {
                let name = name_segments(&f);
                (0..prepared.len())
                    .filter(|&i| prepared[i].matches(&f, &name))
                    .collect()
            });
            entries.push(f.is_global_allocator_entry());
            kinds.push(kind);
        }
        // The figures budgeted, in the order of their first component; each component's. Each
        // figure's components share the profile among them: a point belongs to the first of
        // them that matches it, and components of another figure do not take it from them (a
        // component of peak bytes after one of total bytes over the same code read 0, "claimed
        // earlier", and passed over any peak).
        let mut metrics: Vec<Metric> = Vec::new();
        for c in &self.components {
            if !metrics.contains(&c.metric) {
                metrics.push(c.metric);
            }
        }
        let group: Vec<usize> = self
            .components
            .iter()
            .map(|c| metrics.iter().position(|&m| m == c.metric).unwrap_or(0))
            .collect();
        let mut totals = vec![0u64; metrics.len()];
        let mut sums = vec![0u64; self.components.len()];
        let mut points = vec![0usize; self.components.len()];
        let mut rest = vec![0u64; metrics.len()];
        let mut rest_points = vec![0usize; metrics.len()];
        // Per component, the earlier components of its figure that took points its match holds
        // on.
        let mut taken_by = vec![std::collections::BTreeSet::new(); self.components.len()];
        let mut matched: Vec<usize> = Vec::new();
        // Per point, per figure (`metrics.len()` a point): its component (`none`: everything
        // else) and the position of the frame that claimed it.
        let mut assignment: Vec<(usize, usize)> =
            Vec::with_capacity(profile.pps.len() * metrics.len());
        let mut owners = vec![(none, 0); metrics.len()];
        for pp in &profile.pps {
            let mut inside = crate::profile::frame::allocator_frames(&pp.fs, |&f| {
                entries.get(f as usize).copied().unwrap_or(false)
            });
            if inside == 0 {
                // No global allocator entry (an ad-hoc event, or an entry inlined away): the
                // innermost frames of dhat, dhat-kit and backtrace are the allocator's or the
                // event's recording, up to the first frame of other code.
                let kind = |f: &u32| kinds.get(*f as usize).copied().unwrap_or(Kind::Code);
                inside = pp.fs.iter().take_while(|f| kind(f) != Kind::Code).count();
            }
            owners.fill((none, 0));
            matched.clear();
            for (at, &f) in pp.fs.iter().enumerate().skip(inside) {
                for &c in claims.get(f as usize).map_or(&[][..], Vec::as_slice) {
                    let (owner, pos) = &mut owners[group[c]];
                    if c < *owner {
                        (*owner, *pos) = (c, at);
                    }
                    matched.push(c);
                }
            }
            if !region_paths.is_empty() {
                let regions = point_regions(profile, &pp.fs);
                for (c, path) in &region_paths {
                    let holds = regions.len() >= path.len()
                        && regions
                            .iter()
                            .zip(path)
                            .all(|((name, _), want)| name == want);
                    if holds {
                        let (owner, pos) = &mut owners[group[*c]];
                        if *c < *owner {
                            // The frame of the path's innermost region claimed it.
                            (*owner, *pos) = (*c, regions[path.len() - 1].1);
                        }
                        matched.push(*c);
                    }
                }
            }
            for &c in &matched {
                let owner = owners[group[c]].0;
                if c != owner {
                    taken_by[c].insert(owner);
                }
            }
            for (k, m) in metrics.iter().enumerate() {
                let v = m.of(pp);
                totals[k] = totals[k].saturating_add(v);
                match owners[k].0 {
                    owner if owner == none => {
                        rest_points[k] += 1;
                        rest[k] = rest[k].saturating_add(v);
                    }
                    owner => {
                        sums[owner] = sums[owner].saturating_add(v);
                        points[owner] += 1;
                    }
                }
            }
            assignment.extend_from_slice(&owners);
        }
        let total_of = |m: Metric| totals[metrics.iter().position(|&x| x == m).unwrap_or(0)];
        let values = Values::new(profile);
        let components = self
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let total = total_of(c.metric);
                let current = sums[i];
                let share = percent(current, total);
                // One limit in the figure's unit, shown and applied alike.
                let limit = match c.max {
                    Limit::Share(p) => share_limit(p, total),
                    Limit::Bytes(b) | Limit::Amount(b) => b,
                };
                let over = current > limit;
                let unmatched = points[i] == 0 && taken_by[i].is_empty();
                ComponentStatus {
                    suggestion: unmatched.then(|| suggest(&c.matcher, &values)).flatten(),
                    name: c.name.clone(),
                    line: Some(c.line),
                    matcher: Some(c.matcher.clone()),
                    metric: c.metric,
                    current,
                    total,
                    share,
                    max: Some(c.max),
                    limit: Some(limit),
                    status: if unmatched {
                        Status::Unmatched
                    } else if points[i] == 0 {
                        Status::ClaimedEarlier
                    } else if over {
                        Status::Over
                    } else {
                        Status::Within
                    },
                    points: points[i],
                    taken_by: taken_by[i]
                        .iter()
                        .map(|&k| self.components[k].name.clone())
                        .collect(),
                }
            })
            .collect();
        let rest = metrics
            .iter()
            .enumerate()
            .map(|(k, &m)| ComponentStatus {
                name: if metrics.len() == 1 {
                    EVERYTHING_ELSE.to_owned()
                } else {
                    format!("{EVERYTHING_ELSE} ({m})")
                },
                line: None,
                matcher: None,
                metric: m,
                current: rest[k],
                total: totals[k],
                share: percent(rest[k], totals[k]),
                max: None,
                limit: None,
                status: Status::Unbudgeted,
                points: rest_points[k],
                taken_by: Vec::new(),
                suggestion: None,
            })
            .collect();
        let explain = explain_sites(profile, &self.components, &assignment, &metrics);
        Ok(BudgetReport {
            file: self.file.clone(),
            unit,
            blocks_unit,
            components,
            rest,
            estimated: profile.mode == crate::profile::SAMPLED_MODE,
            explained: explain,
            strict: false,
            has_regions: profile
                .ftbl
                .iter()
                .any(|f| Frame::parse(f).function.starts_with("region ")),
        })
    }
}

/// What a frame is to a budget: the allocator's, which claims nothing; a frame of the profilers'
/// own crates (dhat, dhat-kit, and backtrace, through which dhat takes a stack), which claims
/// nothing where it records an allocation or an event and is code like any other elsewhere; or
/// code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `malloc` and its wrappers, `operator new`, Rust's allocator shims: never a component.
    Allocator,
    /// A frame of dhat, dhat-kit or backtrace: the allocator's inside Rust's global allocator
    /// and, on a stack that does not pass through it, among the innermost frames up to the
    /// first frame of other code; elsewhere (dhat-kit's own allocations, through `Vec`, a
    /// region's registry) code that a `crate = "dhat_kit"` component claims.
    Profiler,
    /// Any other frame.
    Code,
}

impl Kind {
    fn of(f: &Frame<'_>) -> Kind {
        if !f.is_allocator() {
            return Kind::Code;
        }
        // `Frame::is_allocator` counts every frame of these crates; their allocator entry points
        // (`<dhat::Alloc as GlobalAlloc>::alloc`, `dhat::ad_hoc_event`) and what they call are
        // only ever innermost.
        let profiler = matches!(
            f.crate_name().replace('-', "_").as_str(),
            "dhat" | "dhat_kit" | "backtrace"
        );
        if profiler && !f.is_global_allocator_entry() && !f.function.starts_with("__") {
            Kind::Profiler
        } else {
            Kind::Allocator
        }
    }
}

/// How many sites of each component [`BudgetReport::explain`] lists.
pub const EXPLAINED_SITES: usize = 25;

/// The note under the table of a sampled profile.
pub(crate) const ESTIMATED: &str =
    "a sampled profile's component figures are estimates, which differ from \
     run to run of the same work (its totals are exact): a component near its limit may pass in \
     one run and fail in the next; check an exact profile where it matters";

/// For a `match` of one key that holds on no frame of the profile: the value of that key nearest
/// to its own among the frames' (a function's name or its last segments, a path's prefixes, a
/// crate, a file or its last components, a region), if one is near enough to be a typo's fix.
fn suggest(matcher: &Match, values: &Values<'_>) -> Option<String> {
    let keys = [
        &matcher.krate,
        &matcher.function,
        &matcher.file,
        &matcher.path,
        &matcher.region,
    ];
    if keys.iter().filter(|k| k.is_some()).count() != 1 {
        return None;
    }
    let want = keys.into_iter().flatten().next()?;
    if matcher.region.as_deref().is_some_and(|r| r.contains('/')) {
        let candidates = values.of(Key::RegionPath);
        // A typo; or a path written from a region below the outermost, which goes first.
        let below = format!("/{want}");
        return crate::suggest::nearest(want, candidates)
            .cloned()
            .or_else(|| {
                candidates
                    .iter()
                    .filter(|c| c.ends_with(&below))
                    .min_by_key(|c| c.len())
                    .cloned()
            });
    }
    let key = if matcher.function.is_some() {
        Key::Function
    } else if matcher.path.is_some() {
        Key::Path
    } else if matcher.krate.is_some() {
        Key::Crate
    } else if matcher.file.is_some() {
        Key::File
    } else {
        Key::Region
    };
    crate::suggest::nearest(want, values.of(key))
        .cloned()
        .or_else(|| {
            // `file = "src/store.c"` on a profile whose files carry no directory (Valgrind writes
            // only `store.c` unless run with `--fullpath-after=`): the file by its own name.
            let name = want.rsplit(['/', '\\']).next()?;
            (matches!(key, Key::File) && name != want && values.of(key).contains(name))
                .then(|| name.to_owned())
        })
}

/// A key of `match`, as [`suggest`] looks for its values (`region` by a name or by a path).
#[derive(Clone, Copy)]
enum Key {
    Function,
    Path,
    Crate,
    File,
    Region,
    RegionPath,
}

/// The values each key of `match` takes on a profile's frames, gathered when a suggestion first
/// needs them, once for every component that matches nothing.
struct Values<'p> {
    profile: &'p Profile,
    sets: [std::cell::OnceCell<std::collections::BTreeSet<String>>; 6],
}

impl<'p> Values<'p> {
    fn new(profile: &'p Profile) -> Self {
        Values {
            profile,
            sets: Default::default(),
        }
    }

    fn of(&self, key: Key) -> &std::collections::BTreeSet<String> {
        self.sets[key as usize].get_or_init(|| self.gather(key))
    }

    fn gather(&self, key: Key) -> std::collections::BTreeSet<String> {
        let profile = self.profile;
        let mut candidates = std::collections::BTreeSet::new();
        if let Key::RegionPath = key {
            // The points' paths of regions, and each of their outer parts.
            for pp in &profile.pps {
                let names: Vec<&str> = point_regions(profile, &pp.fs)
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect();
                for depth in 2..=names.len() {
                    candidates.insert(names[..depth].join("/"));
                }
            }
            return candidates;
        }
        for raw in &profile.ftbl {
            let f = Frame::parse(raw);
            // Only `region` names a region's frame (see [`Prepared::matches`]).
            let region = is_region_frame(&f);
            if f.is_allocator() || (region && !matches!(key, Key::Region | Key::RegionPath)) {
                continue;
            }
            match key {
                Key::Function => {
                    let segments = name_segments(&f);
                    for i in 0..segments.len() {
                        candidates.insert(segments[i..].join("::"));
                    }
                }
                Key::Path => {
                    let segments = name_segments(&f);
                    for i in 1..=segments.len() {
                        candidates.insert(segments[..i].join("::"));
                    }
                }
                // `?`, the crate of a frame with nothing to tell it by, is no name to suggest.
                Key::Crate if f.crate_name() != "?" => {
                    // A C source directory's path: each of its trailing parts, as it is matched.
                    let krate = f.crate_name();
                    let parts: Vec<&str> = krate.split('/').collect();
                    for i in 0..parts.len() {
                        if !parts[i..].concat().is_empty() {
                            candidates.insert(parts[i..].join("/"));
                        }
                    }
                }
                Key::Crate => {}
                Key::File => {
                    if let Some(file) = f.file {
                        let parts: Vec<&str> = file.split('/').collect();
                        for i in 0..parts.len() {
                            candidates.insert(parts[i..].join("/"));
                        }
                    }
                }
                Key::Region | Key::RegionPath => {
                    if let Some(region) = f.function.strip_prefix("region ") {
                        candidates.insert(region.to_owned());
                    }
                }
            }
        }
        candidates
    }
}

/// The columns of a [`BudgetReport`]'s table.
pub(crate) const TABLE_HEADER: [&str; 6] =
    ["current", "share", "limit", "status", "metric", "component"];

/// The label of the row of the program points no component claims.
pub const EVERYTHING_ELSE: &str = "everything else";

/// How a component stands against its budget. In JSON: `within`, `over`, `unmatched`,
/// `claimed-earlier` or `unbudgeted`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Status {
    /// At or under its limit.
    Within,
    /// Over its limit.
    Over,
    /// Its `match` holds on no program point (a warning: it may be wrong).
    Unmatched,
    /// Its `match` holds on program points, but earlier components claimed them all (a warning:
    /// put it before them to count them here).
    ClaimedEarlier,
    /// The "everything else" row, which has no limit.
    Unbudgeted,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Within => "ok",
            Status::Over => "OVER",
            Status::Unmatched => "matches nothing",
            Status::ClaimedEarlier => "claimed earlier",
            Status::Unbudgeted => "-",
        })
    }
}

/// One row of a [`BudgetReport`]: a component (or "everything else") and its figure.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ComponentStatus {
    /// The component's name, or [`EVERYTHING_ELSE`].
    pub name: String,
    /// The line of its `[[component]]` in the budget file (`None` for everything else).
    pub line: Option<usize>,
    /// Its `match` (`None` for everything else); in JSON, as written in the table
    /// (`crate = "serde_json"`).
    #[serde(rename = "match", serialize_with = "as_text")]
    pub matcher: Option<Match>,
    /// The figure it is budgeted by.
    pub metric: Metric,
    /// The sum of the figure over the program points it claims.
    pub current: u64,
    /// The figure's total over the whole profile.
    pub total: u64,
    /// `current` in percent of `total`.
    pub share: f64,
    /// Its `max` as written (`None` for everything else).
    pub max: Option<Limit>,
    /// The limit in the figure's unit: for a share of `p` percent, the largest figure `x` with
    /// `x * 100 <= p * total`, exactly (what the status applies: over is `current > limit`).
    pub limit: Option<u64>,
    /// How it stands.
    pub status: Status,
    /// How many program points (distinct stacks) it claims.
    pub points: usize,
    /// The earlier components that claimed program points its `match` holds on too, in the
    /// file's order (all its points, when its status is [`Status::ClaimedEarlier`]).
    pub taken_by: Vec<String>,
    /// For a component that matches nothing ([`Status::Unmatched`]) by one key: the value of
    /// that key nearest to its own among the profile's frames, a likely typo's fix
    /// (`function = "BoundedCach"`: `BoundedCache`).
    pub suggestion: Option<String>,
}

/// One site a component claims, for [`BudgetReport::explain`].
#[derive(Debug, Clone, PartialEq)]
struct Claimed {
    site: String,
    value: u64,
    via: String,
}

/// The result of [`Budgets::check`]: each component against its limit, then everything else.
///
/// # Examples
///
/// See the [module](self) documentation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[must_use = "a budget report does nothing unless its verdict is looked at (passed, assert_within)"]
pub struct BudgetReport {
    /// The budget file.
    pub file: String,
    /// The profile's unit (`bytes`, or `units` for ad-hoc profiles).
    pub unit: String,
    /// The profile's block unit (`blocks`, or `events`).
    pub blocks_unit: String,
    /// The components, in the file's order.
    pub components: Vec<ComponentStatus>,
    /// What no component claims: one row per figure the components use (usually one).
    pub rest: Vec<ComponentStatus>,
    /// Whether the profile is sampled (a dhat-kit sampled profile): its components' figures are
    /// estimates, which differ from run to run of the same work (its totals are exact).
    pub estimated: bool,
    #[serde(skip)]
    explained: Vec<Vec<Claimed>>,
    /// Whether a component that claims nothing fails ([`strict`](BudgetReport::strict)).
    #[serde(skip)]
    strict: bool,
    /// Whether the profile has regions (frames `region NAME`, of dhat-kit's peak and sampled
    /// profiles), for the warning of a `region` that matches nothing.
    #[serde(skip)]
    has_regions: bool,
}

/// A [`Match`] as the text the table shows, for JSON.
fn as_text<S: serde::Serializer>(m: &Option<Match>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.collect_str(m),
        None => s.serialize_none(),
    }
}

impl BudgetReport {
    /// Whether every component is within its limit (a component that claims nothing is within,
    /// unless the report is [`strict`](BudgetReport::strict)).
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failure().is_none()
    }

    /// The report, with every component that claims no program point ([`idle`](Self::idle))
    /// failing the check as one over its limit does: for CI, where a typo in a `match` must
    /// not pass as "within". [`passed`](Self::passed), [`failure`](Self::failure),
    /// [`render`](Self::render) and [`assert_within`](Self::assert_within) then say so.
    /// `dhat-kit check --strict`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::analyze::budget::Budgets;
    ///
    /// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
    ///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
    ///   "pps":[{"tb":100,"tbk":1,"tl":1,"mb":100,"mbk":1,"gb":100,"gbk":1,"eb":0,"ebk":0,"fs":[1]}],
    ///   "ftbl":["[root]","0x1: app::parse_json (src/json.rs:1:1)"]}"#;
    /// let profile = dhat_kit::profile::from_slice(json.as_bytes(), "dhat-heap.json")?;
    /// // A typo: `parse_jsno` matches nothing.
    /// let budgets = Budgets::parse(
    ///     "[[component]]\nname = \"JSON\"\nmatch = { function = \"parse_jsno\" }\nmax = \"50%\"\n",
    ///     "budgets.toml",
    /// )?;
    /// let report = budgets.check(&profile)?;
    /// assert!(report.passed());
    /// let strict = report.strict();
    /// assert!(!strict.passed());
    /// assert_eq!(
    ///     strict.failure().unwrap(),
    ///     "dhat-kit: budget components that claim nothing (budgets.toml): JSON (matches nothing)"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn strict(self) -> BudgetReport {
        BudgetReport {
            strict: true,
            ..self
        }
    }

    /// Whether `c` (a row of this report) fails the check: over its limit, or, when strict,
    /// claiming nothing (for the HTML report's rows).
    #[cfg(feature = "cli")]
    pub(crate) fn fails(&self, c: &ComponentStatus) -> bool {
        c.status == Status::Over
            || (self.strict && matches!(c.status, Status::Unmatched | Status::ClaimedEarlier))
    }

    /// The components over their limit.
    pub fn over(&self) -> impl Iterator<Item = &ComponentStatus> {
        self.components.iter().filter(|c| c.status == Status::Over)
    }

    /// The components that claim no program point: their `match` holds on none
    /// ([`Status::Unmatched`], often a typo) or earlier components claimed them all
    /// ([`Status::ClaimedEarlier`]). [`passed`](BudgetReport::passed) counts them within (a
    /// component may budget code a run did not reach), unless the report is
    /// [`strict`](BudgetReport::strict).
    pub fn idle(&self) -> impl Iterator<Item = &ComponentStatus> {
        self.components
            .iter()
            .filter(|c| matches!(c.status, Status::Unmatched | Status::ClaimedEarlier))
    }

    /// One warning line per component that claims nothing:
    /// `dhat-kit: warning: budgets.toml:7: component "ORM" (path = "app::orm") matches no program point`,
    /// or, when earlier components took every point its `match` holds on, `... claims no program
    /// point: the earlier component "app" (line 1) claimed every one it matches`.
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        self.components
            .iter()
            .filter_map(|c| {
                let what = match c.status {
                    Status::Unmatched => match &c.suggestion {
                        Some(near) => format!("matches no program point; did you mean {near:?}?"),
                        // A region matcher on a profile without regions (a heap profile).
                        None if !self.has_regions
                            && c.matcher.as_ref().is_some_and(|m| m.region.is_some()) =>
                        {
                            "matches no program point: this profile has no regions (dhat-kit's \
                             peak and sampled profiles have them)"
                                .to_owned()
                        }
                        None => "matches no program point".to_owned(),
                    },
                    Status::ClaimedEarlier => {
                        let earlier: Vec<String> = c
                            .taken_by
                            .iter()
                            .map(|name| {
                                let line = self.components.iter().find(|e| &e.name == name);
                                format!("{name:?} (line {})", line.and_then(|e| e.line).unwrap_or(0))
                            })
                            .collect();
                        format!(
                            "claims no program point: the earlier component{} {} claimed every one it matches",
                            if earlier.len() == 1 { "" } else { "s" },
                            earlier.join(", ")
                        )
                    }
                    _ => return None,
                };
                Some(format!(
                    "dhat-kit: warning: {}:{}: component {:?} ({}) {what}",
                    self.file,
                    c.line.unwrap_or(0),
                    c.name,
                    c.matcher.as_ref().map(Match::to_string).unwrap_or_default()
                ))
            })
            .collect()
    }

    /// A figure in its unit: `1.2 MiB`, `120 units`, or a count of blocks (or events), `3,401`.
    fn show(&self, metric: Metric, v: u64) -> String {
        if metric.is_blocks() {
            Thousands(v).to_string()
        } else if self.unit != "bytes" {
            format!("{} {}", Thousands(v), self.unit)
        } else {
            Bytes(v).to_string()
        }
    }

    /// A figure in its unit, exactly: `4,001 B` where [`show`](Self::show) gives `3.9 KiB`.
    fn exact(&self, metric: Metric, v: u64) -> String {
        if metric.is_blocks() || self.unit != "bytes" {
            self.show(metric, v)
        } else {
            format!("{} B", Thousands(v))
        }
    }

    /// A component's limit, its figure shown by `show`: `40% (6.7 KiB)`, `4.0 KiB`, or `-`.
    fn limit_text(&self, c: &ComponentStatus, show: impl Fn(u64) -> String) -> String {
        match (c.max, c.limit) {
            (Some(Limit::Share(p)), Some(l)) => format!("{p}% ({})", show(l)),
            (Some(_), Some(l)) => show(l),
            _ => "-".to_owned(),
        }
    }

    /// Whether a component's figure and limit, different, read the same rounded (`3.9 KiB`
    /// against `3.9 KiB`): then both are shown exactly, in the table and in the verdict.
    fn needs_exact(&self, c: &ComponentStatus) -> bool {
        c.limit.is_some_and(|l| {
            l != c.current && self.show(c.metric, l) == self.show(c.metric, c.current)
        })
    }

    /// A component's figure, shown by [`show`](Self::show), or [`exact`](Self::exact)ly when
    /// [`needs_exact`](Self::needs_exact).
    fn figure(&self, c: &ComponentStatus, v: u64) -> String {
        if self.needs_exact(c) {
            self.exact(c.metric, v)
        } else {
            self.show(c.metric, v)
        }
    }

    /// `tables (7.9 KiB > 40% (6.7 KiB))`: a component over its limit, on one line; in exact
    /// figures when the rounded ones read the same (`parser (4,001 B > 4,000 B)`).
    fn over_text(&self, c: &ComponentStatus) -> String {
        format!(
            "{} ({} > {})",
            one_line(&c.name),
            self.figure(c, c.current),
            self.limit_text(c, |v| self.figure(c, v))
        )
    }

    /// The line that says the check failed, naming the components over budget, on one line
    /// (control characters in a name escaped): `dhat-kit: over budget (budgets.toml): tables`;
    /// in a [`strict`](BudgetReport::strict) report, also those that claim nothing
    /// (`dhat-kit: budget components that claim nothing (budgets.toml): ORM (matches
    /// nothing)`); `None` when it [`passed`](BudgetReport::passed).
    #[must_use]
    pub fn failure(&self) -> Option<String> {
        let file = one_line(&self.file);
        let over: Vec<String> = self
            .over()
            .map(|c| one_line(&c.name).into_owned())
            .collect();
        let idle = self.idle_text();
        match (over.is_empty(), idle) {
            (true, None) => None,
            (false, None) => Some(format!(
                "dhat-kit: over budget ({file}): {}",
                over.join(", ")
            )),
            (true, Some(idle)) => Some(format!(
                "dhat-kit: budget components that claim nothing ({file}): {idle}"
            )),
            (false, Some(idle)) => Some(format!(
                "dhat-kit: over budget ({file}): {}; claiming nothing: {idle}",
                over.join(", ")
            )),
        }
    }

    /// In a [`strict`](BudgetReport::strict) report, the components that claim nothing, on one
    /// line: `ORM (matches nothing), parser (claimed earlier)`; otherwise `None`.
    fn idle_text(&self) -> Option<String> {
        let idle: Vec<String> = self
            .idle()
            .filter(|_| self.strict)
            .map(|c| format!("{} ({})", one_line(&c.name), c.status))
            .collect();
        (!idle.is_empty()).then(|| idle.join(", "))
    }

    /// The table: current, share, limit, status, metric and component, one row per component and
    /// one for everything else, then a verdict line. A row whose figure and limit differ but
    /// read the same rounded shows both exactly (`4,001 B` against `4,000 B`, not `3.9 KiB`
    /// against `3.9 KiB`).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = render_table(&TABLE_HEADER, &self.rows(), false);
        out.push_str(&self.verdict());
        out.push('\n');
        if self.estimated {
            out.push_str(ESTIMATED);
            out.push('\n');
        }
        out
    }

    /// [`render`](BudgetReport::render) as GitHub-flavoured Markdown, for a pull request's
    /// comment: the table, the verdict line, then each [warning](BudgetReport::warnings) as an
    /// item of a list. Names read on GitHub as written (see `top --format markdown`).
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::analyze::budget::Budgets;
    ///
    /// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
    ///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
    ///   "pps":[{"tb":100,"tbk":1,"tl":1,"mb":100,"mbk":1,"gb":100,"gbk":1,"eb":0,"ebk":0,"fs":[1]}],
    ///   "ftbl":["[root]","0x1: app::parse_json (src/json.rs:1:1)"]}"#;
    /// let profile = dhat_kit::profile::from_slice(json.as_bytes(), "dhat-heap.json")?;
    /// let budgets = Budgets::parse(
    ///     "[[component]]\nname = \"JSON\"\nmatch = { function = \"parse_json\" }\nmax = \"50%\"\n",
    ///     "budgets.toml",
    /// )?;
    /// let markdown = budgets.check(&profile)?.render_markdown();
    /// assert!(markdown.starts_with("| current | share | limit | status | metric | component |"));
    /// assert!(markdown.contains("| 100 B | 100.0% | 50% (50 B) | OVER | total-bytes | JSON |"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn render_markdown(&self) -> String {
        let mut out = render_table(&TABLE_HEADER, &self.rows(), true);
        out.push('\n');
        out.push_str(&markdown_text(&one_line(&self.verdict())));
        out.push('\n');
        if self.estimated {
            out.push_str(&format!("\n{}\n", markdown_text(ESTIMATED)));
        }
        let warnings = self.warnings();
        if !warnings.is_empty() {
            out.push('\n');
        }
        for w in warnings {
            out.push_str(&format!("- {}\n", markdown_text(&one_line(&w))));
        }
        out
    }

    /// The table's rows: one per component, then everything else's.
    pub(crate) fn rows(&self) -> Vec<Vec<String>> {
        self.components
            .iter()
            .chain(&self.rest)
            .map(|c| {
                vec![
                    self.figure(c, c.current),
                    format!("{:.1}%", c.share),
                    self.limit_text(c, |v| self.figure(c, v)),
                    c.status.to_string(),
                    c.metric.name().to_owned(),
                    c.name.clone(),
                ]
            })
            .collect()
    }

    /// The verdict under the table: `1 of 3 components over budget: tables (7.9 KiB > 40% (6.7
    /// KiB))`, or how many are within.
    pub(crate) fn verdict(&self) -> String {
        let over: Vec<String> = self.over().map(|c| self.over_text(c)).collect();
        let n = self.components.len();
        // `1 of 1 component`, `2 of 3 components`.
        let components = if n == 1 { "component" } else { "components" };
        let count = |s: Status| self.idle().filter(|c| c.status == s).count();
        let idle: Vec<String> = [
            (count(Status::Unmatched), "matching nothing"),
            (count(Status::ClaimedEarlier), "claimed earlier"),
        ]
        .iter()
        .filter(|&&(k, _)| k > 0)
        .map(|(k, what)| format!("{k} {what}"))
        .collect();
        if let Some(failing) = self.idle_text() {
            // Strict: claiming nothing fails, and the verdict names them.
            let k = self.idle().count();
            let claim = if k == 1 { "claims" } else { "claim" };
            if over.is_empty() {
                format!("{k} of {n} {components} {claim} nothing: {failing}")
            } else {
                format!(
                    "{} of {n} {components} over budget: {}; {k} {claim} nothing: {failing}",
                    over.len(),
                    over.join(", ")
                )
            }
        } else if over.is_empty() && !idle.is_empty() {
            // Within, but not by measuring: say so where the verdict is read.
            format!(
                "{n} of {n} {components} within budget ({})",
                idle.join(", ")
            )
        } else if over.is_empty() {
            format!("{n} of {n} {components} within budget")
        } else {
            format!(
                "{} of {n} {components} over budget: {}",
                over.len(),
                over.join(", ")
            )
        }
    }

    /// Each component's sites (and everything else's), largest first: the site's figure, its
    /// label, and the frame that claimed it; so a person can see why a site counts where it does.
    /// At most [`EXPLAINED_SITES`] sites each, then a line with the number and sum of the rest.
    #[must_use]
    pub fn explain(&self) -> String {
        let mut out = String::new();
        for (c, sites) in self
            .components
            .iter()
            .chain(&self.rest)
            .zip(&self.explained)
        {
            let how = c
                .matcher
                .as_ref()
                .map_or_else(|| "claimed by no component".to_owned(), |m| m.to_string());
            out.push_str(&format!(
                "{} ({}): {} in {} site{}, {} program point{}\n",
                one_line(&c.name),
                one_line(&how),
                self.show(c.metric, c.current),
                sites.len(),
                if sites.len() == 1 { "" } else { "s" },
                c.points,
                if c.points == 1 { "" } else { "s" },
            ));
            for s in sites.iter().take(EXPLAINED_SITES) {
                out.push_str(&format!(
                    "  {:>12}  {:>5.1}%  {}",
                    self.show(c.metric, s.value),
                    percent(s.value, c.total),
                    one_line(&s.site)
                ));
                if !s.via.is_empty() && s.via != s.site {
                    out.push_str(&format!("  <- via {}", one_line(&s.via)));
                }
                out.push('\n');
            }
            if sites.len() > EXPLAINED_SITES {
                let rest = &sites[EXPLAINED_SITES..];
                let sum = rest.iter().fold(0u64, |a, s| a.saturating_add(s.value));
                out.push_str(&format!(
                    "  {:>12}  {:>5.1}%  and {} more sites\n",
                    self.show(c.metric, sum),
                    percent(sum, c.total),
                    rest.len()
                ));
            }
        }
        out
    }

    /// [`explain`](Self::explain) for a pull request's comment: a collapsed `<details>` section
    /// (`Sites of each component`) holding the text as a block of code.
    #[must_use]
    pub fn explain_markdown(&self) -> String {
        format!(
            "<details><summary>Sites of each component</summary>\n\n{}\n</details>\n",
            super::markdown_fenced(&self.explain())
        )
    }

    /// Panics with the table if a component is over its limit: a budget as a test assertion.
    ///
    /// # Panics
    ///
    /// When [`passed`](BudgetReport::passed) is false; the message starts with `dhat-kit:` and
    /// holds the table.
    #[track_caller]
    pub fn assert_within(&self) {
        if !self.passed() {
            panic!(
                "dhat-kit: over the budgets of {}:\n{}",
                self.file,
                self.render()
            );
        }
    }
}

impl fmt::Display for BudgetReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Each component's sites (then each everything-else row's): the site label of every program
/// point it claims (its most informative frame), summed, largest first, with the frame that
/// claimed the heaviest point.
fn explain_sites(
    profile: &Profile,
    components: &[Component],
    assignment: &[(usize, usize)],
    metrics: &[Metric],
) -> Vec<Vec<Claimed>> {
    use std::collections::HashMap;
    let mut frames = Frames::new(profile, &super::skip::NO_SKIP);
    let groups = components.len() + metrics.len();
    // Per group: site label -> (sum, heaviest point's value, its claiming frame).
    let mut sites: Vec<HashMap<String, (u64, u64, String)>> = vec![HashMap::new(); groups];
    for (pp, owners) in profile
        .pps
        .iter()
        .zip(assignment.chunks(metrics.len().max(1)))
    {
        let at = frames.informative(pp);
        let site = pp
            .fs
            .get(at)
            .map_or_else(|| "[root]".to_owned(), |&f| frames.frame(f).to_string());
        // Per figure, the point's component (or that figure's everything else), and the frame
        // that claimed it.
        for (k, (&(owner, pos), &m)) in owners.iter().zip(metrics).enumerate() {
            let (g, via) = if owner < components.len() {
                let via = pp.fs.get(pos).map(|&f| frames.frame(f).to_string());
                (owner, via.unwrap_or_default())
            } else {
                (components.len() + k, String::new())
            };
            let v = m.of(pp);
            let e = sites[g]
                .entry(site.clone())
                .or_insert((0, 0, String::new()));
            e.0 = e.0.saturating_add(v);
            if v >= e.1 {
                e.1 = v;
                e.2.clone_from(&via);
            }
        }
    }
    sites
        .into_iter()
        .map(|m| {
            let mut v: Vec<Claimed> = m
                .into_iter()
                .map(|(site, (value, _, via))| Claimed { site, value, via })
                .collect();
            v.sort_by(|a, b| b.value.cmp(&a.value).then_with(|| a.site.cmp(&b.site)));
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file without end given as the budget file (`/dev/zero`) is an error that names it, read
    /// no further than the most a budget file holds: it was read whole, until the process ran
    /// out of memory.
    #[cfg(unix)]
    #[test]
    fn a_file_without_end_is_refused() {
        let err = Budgets::read("/dev/zero").unwrap_err();
        assert_eq!(
            err.to_string(),
            "dhat-kit: /dev/zero: cannot read the file: larger than 16.0 MiB, more than any \
             budget file holds"
        );
        assert_eq!(
            err.io_error().unwrap().kind(),
            std::io::ErrorKind::FileTooLarge
        );
    }

    #[test]
    fn a_sampled_profiles_figures_are_said_to_be_estimates() {
        let profile = |mode: &str| {
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":true,
                "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
                "pps":[{{"tb":100,"tbk":1,"mb":100,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}}],
                "ftbl":["[root]","0x1: app::parse (src/parse.rs:1:1)"]}}"#
            );
            crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
        };
        let budgets = Budgets::parse(
            "[[component]]\nname = \"parse\"\nmatch = { function = \"parse\" }\nmax = \"50%\"\n",
            "b.toml",
        )
        .unwrap();
        let sampled = budgets.check(&profile("dhat-kit-sampled")).unwrap();
        assert!(sampled.estimated);
        assert!(sampled.render().ends_with(&format!("{ESTIMATED}\n")));
        assert!(sampled
            .render_markdown()
            .contains("component figures are estimates"));
        assert!(serde_json::to_string(&sampled)
            .unwrap()
            .contains(r#""estimated":true"#));
        let exact = budgets.check(&profile("rust-heap")).unwrap();
        assert!(!exact.estimated);
        assert!(!exact.render().contains("estimates"));
        assert!(!exact.render_markdown().contains("estimates"));
    }

    #[test]
    fn one_component_is_one_component() {
        let profile = crate::profile::from_slice(
            br#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
            "bkacc":false,"tu":"\u00b5s","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
            "pps":[{"tb":100,"tbk":1,"mb":100,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
            "ftbl":["[root]","0x1: app::parse (src/parse.rs:1:1)"]}"#,
            "p.json",
        )
        .unwrap();
        let one = |max: &str| {
            Budgets::parse(
                &format!("[[component]]\nname = \"parse\"\nmatch = {{ function = \"parse\" }}\nmax = \"{max}\"\n"),
                "b.toml",
            )
            .unwrap()
            .check(&profile)
            .unwrap()
            .render()
        };
        assert!(
            one("100%").ends_with("1 of 1 component within budget\n"),
            "{}",
            one("100%")
        );
        assert!(
            one("10%").contains("1 of 1 component over budget: parse"),
            "{}",
            one("10%")
        );
    }

    #[test]
    fn limits_in_every_form() {
        assert_eq!(Limit::parse("10%"), Ok(Limit::Share(10.0)));
        assert_eq!(Limit::parse("2.5 %"), Ok(Limit::Share(2.5)));
        assert_eq!(Limit::parse("8 MiB"), Ok(Limit::Bytes(8 << 20)));
        assert_eq!(Limit::parse("500 KB"), Ok(Limit::Bytes(500_000)));
        assert_eq!(Limit::parse("1.5GiB"), Ok(Limit::Bytes(3 << 29)));
        assert_eq!(Limit::parse("64 B"), Ok(Limit::Bytes(64)));
        assert_eq!(Limit::parse("1_048_576"), Ok(Limit::Amount(1 << 20)));
        assert!(Limit::parse("8 MB/s")
            .unwrap_err()
            .to_string()
            .contains("bad unit \"MB/s\""));
        assert!(Limit::parse("ten%").is_err());
        assert!(Limit::parse("").is_err());
    }

    #[test]
    fn a_size_in_bytes_is_a_whole_number_of_bytes() {
        assert_eq!(Limit::parse("1.5 KiB"), Ok(Limit::Bytes(1536)));
        assert_eq!(Limit::parse("0.5 KB"), Ok(Limit::Bytes(500)));
        assert_eq!(Limit::parse("2.000 B"), Ok(Limit::Bytes(2)));
        assert_eq!(Limit::parse("0.25 KiB"), Ok(Limit::Bytes(256)));
        assert_eq!(Limit::parse(".5 KiB"), Ok(Limit::Bytes(512)));
        assert_eq!(Limit::parse("1.000001 MB"), Ok(Limit::Bytes(1_000_001)));
        assert_eq!(
            Limit::parse("16 TiB"),
            Ok(Limit::Bytes(16 << 40)),
            "whole sizes as before"
        );
        for text in ["0.5 B", "1.0001 KiB", "1.5 b", "0.0000001 MB", "1.1 bytes"] {
            let e = Limit::parse(text).unwrap_err().to_string();
            assert!(
                e.contains("a byte limit must be a whole number of bytes"),
                "{text}: {e}"
            );
        }
        assert!(Limit::parse("99999999 TiB")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        let e = Budgets::parse(
            "[[component]]\nname = \"tiny\"\nmatch = { crate = \"a\" }\nmax = \"0.5 B\"\n",
            "budgets.toml",
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(4));
        assert_eq!(
            e.to_string(),
            "dhat-kit: budgets.toml:4: component \"tiny\": bad size \"0.5 B\": a byte limit must \
             be a whole number of bytes"
        );
    }

    #[test]
    fn a_share_allows_exactly_x_with_x_times_100_at_most_p_times_total() {
        // The limit shown is the largest figure the rule allows, computed exactly.
        for (p, total, limit) in [
            (29.0, 100, 29),
            (57.0, 100, 57),
            (58.0, 100, 58),
            (0.29, 10_000, 29),
            (0.3, 1000, 3),
            (10.0, 0, 0),
            (0.0, 100, 0),
            (100.0, u64::MAX, u64::MAX),
            (150.0, 100, 150),
            (2.5, 99, 2),
            (33.333, 1000, 333),
            (1e-300, u64::MAX, 0),
            (1e300, 1, u64::MAX),
            (1e300, 0, 0),
        ] {
            assert_eq!(share_limit(p, total), limit, "{p}% of {total}");
        }
        let budgets = |p: &str| {
            Budgets::parse(
                &format!(
                    "[[component]]\nname = \"a\"\nmatch = {{ function = \"a\" }}\nmax = \"{p}%\"\n"
                ),
                "b.toml",
            )
            .unwrap()
        };
        let profile = |a: u64, total: u64| {
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
                "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
                "pps":[{{"tb":{a},"tbk":1,"fs":[1]}},{{"tb":{rest},"tbk":1,"fs":[2]}}],
                "ftbl":["[root]","0x1: a (a.rs:1:1)","0x2: b (b.rs:1:1)"]}}"#,
                rest = total - a
            );
            crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
        };
        // p = num / den percent: x is within when x * 100 * den <= num * total.
        for (p, num, den, total) in [
            ("29", 29, 1, 100),
            ("57", 57, 1, 100),
            ("58", 58, 1, 100),
            ("0.29", 29, 100, 10_000),
            ("33.3", 333, 10, 1000),
        ] {
            let limit = share_limit(p.parse().unwrap(), total);
            for a in [limit - 1, limit, limit + 1] {
                let within = a * 100 * den <= num * total;
                assert_eq!(within, a <= limit, "{a} of {total}, {p}%");
                let report = budgets(p).check(&profile(a, total)).unwrap();
                let c = &report.components[0];
                assert_eq!(c.limit, Some(limit), "{p}% of {total}");
                assert_eq!(c.status == Status::Within, within, "{a} of {total}, {p}%");
            }
            let shown = budgets(p).check(&profile(limit, total)).unwrap().render();
            assert!(shown.contains(&format!("{p}% ({limit} B)")), "{shown}");
        }
    }

    /// A `max` beyond the TOML reader's range names the component it is in, whatever the spacing,
    /// quoting or comments of the headers (the first version took the text `[[component]]`
    /// before it, wherever it stood: `[[ component ]]` named the component above), and none
    /// without a name of its own; a negative one says so.
    #[test]
    fn a_max_beyond_the_readers_range_names_its_own_component() {
        let first = "[[component]]\nname = \"a\"\nmatch = { function = \"f\" }\nmax = 1\n\n";
        let said = |text: &str| {
            Budgets::parse(text, "b.toml")
                .unwrap_err()
                .message()
                .to_owned()
        };
        let limit = "expected a share (\"10%\"), a size (\"8 MiB\") or a whole number";
        for header in [
            "[[ component ]]",
            "[[\"component\"]]",
            "  [[component]] # the second",
            "[[component]]",
        ] {
            let text = format!(
                "{first}{header}\nname = \"b\" # not [[component]]\nmatch = {{ function = \"g\" }}\n\
                 max = 1e400\n"
            );
            assert_eq!(
                said(&text),
                format!("component \"b\": bad max 1e400: {limit}"),
                "{header}"
            );
        }
        let unnamed = format!(
            "{first}[[component]]\nname = \" \"\nmatch = {{ function = \"g\" }}\nmax = 1e400\n"
        );
        assert_eq!(said(&unnamed), format!("bad max 1e400: {limit}"));
        let below = format!(
            "{first}[[component]]\nname = \"b\"\nmatch = {{ function = \"g\" }}\n\
             max = -1{}0\n",
            u64::MAX
        );
        assert_eq!(
            said(&below),
            format!(
                "component \"b\": bad max -1{}0: negative: expected 0 or more",
                u64::MAX
            )
        );
    }

    /// A TOML error just after `key =`, where a character beyond ASCII stands right before the
    /// key, is said as the reader says it: the key's start was found one byte past that
    /// character's first, inside it, and the slice panicked (`dhat-kit check --budget` exited
    /// 101). Found by fuzzing.
    #[test]
    fn an_error_after_a_key_behind_a_wide_character_is_said() {
        for (text, said) in [
            ("'\u{a4}=", "b.toml:1: key with no value, expected `=`"),
            (
                "\u{1a4}file = \r\u{1a4}",
                "b.toml:1: `file`: carriage return must be followed by newline, expected newline",
            ),
        ] {
            let err = Budgets::parse(text, "b.toml").unwrap_err();
            assert_eq!(err.to_string(), format!("dhat-kit: {said}"));
        }
    }

    /// A `max` that is neither a whole number nor a text is named as the file writes it (1e300
    /// read as its 301 digits), with its component's name; one beyond the TOML reader's range
    /// too (1e400 read "`max`: floating-point number overflowed", and no component).
    #[test]
    fn a_bad_max_is_named_as_written() {
        for (max, said) in [
            ("1e300", "1e300"),
            ("1.5", "1.5"),
            ("true", "true"),
            ("1e400", "1e400"),
            ("-1e400", "-1e400"),
        ] {
            let text = format!(
                "[[component]]\nname = \"maps\"\nmatch = {{ function = \"f\" }}\nmax = {max}\n"
            );
            let e = Budgets::parse(&text, "budgets.toml").unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "dhat-kit: budgets.toml:4: component \"maps\": bad max {said}: expected a share \
                     (\"10%\"), a size (\"8 MiB\") or a whole number"
                )
            );
        }
    }

    #[test]
    fn a_crate_that_cannot_be_a_crate_name_is_an_error_saying_what_to_write() {
        let error = |krate: &str| {
            let text = format!(
                "[[component]]\nname = \"maps\"\nmatch = {{ crate = {krate:?} }}\nmax = 1\n"
            );
            Budgets::parse(&text, "budgets.toml")
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        let bad = |krate: &str, what: &str| {
            format!(
                "dhat-kit: budgets.toml:3: component \"maps\": bad crate {krate:?} in its match: {what}"
            )
        };
        for (krate, what) in [
            (
                "hashbrown-0.16.1",
                "crate names carry no version: write crate = \"hashbrown\"",
            ),
            (
                "serde@1.0.219",
                "crate names carry no version: write crate = \"serde\"",
            ),
            (
                "regex-syntax 0.8.5",
                "crate names carry no version: write crate = \"regex-syntax\"",
            ),
            (
                "tokio-1.0.0-alpha.1",
                "crate names carry no version: write crate = \"tokio\"",
            ),
            (
                "serde_json::de",
                "a crate is the first segment of a path: write crate = \"serde_json\", \
                 or path = \"serde_json::de\" for a module or type",
            ),
            (
                "hashbrown-0.16.1/src/map.rs",
                "a source file is not a crate: write file = \"hashbrown-0.16.1/src/map.rs\" \
                 for the file, or crate = \"hashbrown\" for its crate",
            ),
            (
                "/home/me/.cargo/registry/src/index.crates.io-6f17d22bba15001f/hashbrown-0.16.1",
                "a crate's name is not the path of its sources: write crate = \"hashbrown\"",
            ),
            (
                "my_app/src/json.rs",
                "a source file is not a crate: write file = \"my_app/src/json.rs\" for the \
                 file, or crate = \"my_app\" for its crate",
            ),
            // Without a directory, and C's (they matched nothing, said only as a warning).
            (
                "prof.rs",
                "a source file is not a crate: write file = \"prof.rs\" for the file",
            ),
            (
                "parse.c",
                "a source file is not a crate: write file = \"parse.c\" for the file",
            ),
            (
                "lib/parser/parse.cpp",
                "a source file is not a crate: write file = \"lib/parser/parse.cpp\" for the file",
            ),
            (
                "serde json",
                "a crate's name has no spaces: write crate = \"serde_json\"",
            ),
            (
                " serde_json",
                "spaces around the name: write crate = \"serde_json\"",
            ),
            (
                "",
                "empty: expected a crate's name, such as crate = \"serde_json\"",
            ),
        ] {
            assert_eq!(error(krate), Err(bad(krate, what)), "{krate:?}");
        }
        // Names: Cargo's `-` (the crate's `_` in symbols), C libraries and source directories.
        for krate in [
            "serde-json",
            "sha-1",
            "libstdc++.so.6.0.33",
            "libgtk-3.so.0",
            "lib/parser",
            "x86_64",
        ] {
            assert_eq!(error(krate), Ok(()), "{krate:?}");
        }
        // In a `[component.match]` table: said at the `crate` key's line, 8 (it was the
        // table's header, line 4), whatever else names a crate before it.
        let text = "[[component]]\nname = \"maps\"\nmax = 1\n[component.match]\n\
                    # a crate = comment\nfunction = \"crate\"\n\n crate = \"serde@1.0.219\"\n";
        assert_eq!(
            Budgets::parse(text, "budgets.toml")
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(bad(
                "serde@1.0.219",
                "crate names carry no version: write crate = \"serde\""
            )
            .replace("budgets.toml:3:", "budgets.toml:8:"))
        );
    }

    #[test]
    fn a_cargo_package_name_matches_its_crates_frames() {
        let profile = valgrind_profile(
            &[
                "0x1: serde_json::de::from_str (src/de.rs:3)",
                "0x2: app::main (src/main.rs:1)",
            ],
            &[(10, &[1, 2]), (5, &[2])],
        );
        let budget = |k: &str| {
            format!("[[component]]\nname = \"json\"\nmatch = {{ crate = {k:?} }}\nmax = \"100%\"\n")
        };
        assert_eq!(figures(&budget("serde-json"), &profile), [10, 5]);
        assert_eq!(figures(&budget("serde_json"), &profile), [10, 5]);
    }

    #[test]
    fn frames_match_by_each_key() {
        let f = Frame::parse("0x1: <my_app::json::Lexer as Iterator>::next (src/json.rs:3:1)");
        let m = |s: &str| -> Match { toml::from_str(s).unwrap() };
        assert!(m(r#"crate = "my-app""#).matches(&f));
        assert!(m(r#"path = "my_app::json""#).matches(&f));
        assert!(!m(r#"path = "my_app::js""#).matches(&f));
        assert!(m(r#"file = "src/json.rs""#).matches(&f));
        assert!(m(r#"file = "json.rs""#).matches(&f));
        assert!(!m(r#"file = "son.rs""#).matches(&f));
        let g = Frame::parse("0x1: my_app::json::parse_json (src/json.rs:9:1)");
        assert!(m(r#"function = "parse_json""#).matches(&g));
        assert!(m(r#"function = "json::parse_json""#).matches(&g));
        assert!(!m(r#"function = "_json""#).matches(&g));
        assert!(!m("function = \"parse_json\"\nfile = \"src/other.rs\"").matches(&g));
        let r = Frame::parse("region call_function");
        assert!(m(r#"region = "call_function""#).matches(&r));
        assert!(!m(r#"region = "call""#).matches(&r));
        // A C frame whose file Valgrind named in full (`--fullpath-after=`): its crate, the
        // source directory, by its last components, which a budget shared by machines holds
        // (only the whole machine-specific path matched).
        let c = Frame::parse("0x1: parse_expr (/home/me/app/lib/parser/expr.c:12)");
        assert_eq!(c.crate_name(), "/home/me/app/lib/parser");
        assert!(m(r#"crate = "lib/parser""#).matches(&c));
        assert!(m(r#"crate = "parser""#).matches(&c));
        assert!(m(r#"crate = "/home/me/app/lib/parser""#).matches(&c));
        assert!(!m(r#"crate = "arser""#).matches(&c));
        assert!(!m(r#"crate = "lib""#).matches(&c));
    }

    /// A Valgrind heap profile of the given frame table, one program point of `tb` bytes per
    /// stack (frame-table indices, innermost first).
    fn valgrind_profile(ftbl: &[&str], pps: &[(u64, &[usize])]) -> Profile {
        let pps: Vec<String> = pps
            .iter()
            .map(|(tb, fs)| {
                format!(
                    r#"{{"tb":{tb},"tbk":1,"tl":0,"mb":{tb},"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":{fs:?}}}"#
                )
            })
            .collect();
        let ftbl: Vec<String> = ftbl.iter().map(|f| format!("{f:?}")).collect();
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,"bkacc":false,
              "tu":"instrs","Mtu":"Minstr","cmd":"x","pid":1,"te":100,"tg":50,"tuth":10,"pps":[{}],
              "ftbl":["[root]",{}]}}"#,
            pps.join(","),
            ftbl.join(",")
        );
        crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
    }

    /// The report of the budget file `budget` (named `b.toml`) on `profile`.
    fn checked(budget: &str, profile: &Profile) -> BudgetReport {
        Budgets::parse(budget, "b.toml")
            .unwrap()
            .check(profile)
            .unwrap()
    }

    /// Each component's figure, then everything else's.
    fn figures(budget: &str, profile: &Profile) -> Vec<u64> {
        let report = checked(budget, profile);
        report
            .components
            .iter()
            .chain(&report.rest)
            .map(|c| c.current)
            .collect()
    }

    #[test]
    fn the_allocators_frames_claim_nothing() {
        let profile = valgrind_profile(
            &[
                "0x1: malloc (in /usr/lib/x86_64-linux-gnu/valgrind/vgpreload_dhat-amd64-linux.so)",
                // A program's own global allocator, inside rustc's shim, which carries the
                // program's file.
                "0x2: <my_app::Counting as core::alloc::global::GlobalAlloc>::alloc (src/main.rs:20)",
                "0x3: __rustc::__rust_alloc (src/main.rs:14)",
                "0x4: my_app::parse (src/parse.rs:3)",
                "0x5: my_app::main (src/main.rs:30)",
                "0x6: operator new(unsigned long) (in /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.33)",
                "0x7: Parser::parse(char const*) (parser.cpp:10)",
                "0x8: main (main.cpp:3)",
                "0x9: xmalloc (xmalloc.c:5)",
            ],
            &[
                (1, &[1, 2, 3, 4]),
                (10, &[1, 2, 3, 5]),
                (100, &[1, 6, 7, 8]),
                (1000, &[1, 9, 8]),
            ],
        );
        let component = |name: &str, m: &str| {
            format!("[[component]]\nname = \"{name}\"\nmatch = {{ {m} }}\nmax = \"100%\"\n")
        };
        // `src/main.rs` is main's alone: the shim's frame and the allocator inside it claim
        // nothing, so parse's point is everything else's.
        assert_eq!(
            figures(&component("main", "file = \"src/main.rs\""), &profile),
            [10, 1101]
        );
        assert_eq!(
            figures(&component("app", "crate = \"my_app\""), &profile),
            [11, 1100]
        );
        assert_eq!(
            figures(&component("shim", "function = \"__rust_alloc\""), &profile),
            [0, 1111]
        );
        // `operator new` is libstdc++'s, malloc the preload's, xmalloc a wrapper: plumbing.
        let plumbing = [
            component("libstdc++", "crate = \"libstdc++.so.6.0.33\""),
            component("preload", "function = \"malloc\""),
            component("xmalloc", "function = \"xmalloc\""),
        ]
        .join("\n");
        assert_eq!(figures(&plumbing, &profile), [0, 0, 0, 1111]);
    }

    #[test]
    fn the_profilers_crates_claim_their_own_code_but_not_the_allocator_or_the_event() {
        let profile = valgrind_profile(
            &[
                "0x1: <dhat_kit::alloc::Alloc<A> as core::alloc::global::GlobalAlloc>::alloc (dhat-kit/src/alloc.rs:90:9)",
                "0x2: __rustc::__rust_alloc (src/main.rs:14)",
                "0x3: alloc::raw_vec::finish_grow (alloc/src/raw_vec/mod.rs:1)",
                "0x4: dhat_kit::region::registry::record (dhat-kit/src/region/registry.rs:40)",
                "0x5: app::main (src/main.rs:30)",
                "0x6: dhat::ad_hoc_event (dhat-0.3.3/src/lib.rs:1176)",
                "0x7: dhat_kit::region::thread::ad_hoc_event (dhat-kit/src/region/thread.rs:518)",
                "0x8: <dhat_kit::region::Region as core::ops::drop::Drop>::drop (dhat-kit/src/region/mod.rs:200)",
                "0x9: app::work (src/work.rs:3)",
                "0xa: backtrace::backtrace::trace (backtrace-0.3.74/src/backtrace/mod.rs:1)",
                "0xb: <dhat::Alloc as core::alloc::global::GlobalAlloc>::alloc (dhat-0.3.3/src/lib.rs:1176)",
                "0xc: hashbrown::raw::alloc::inner::do_alloc (src/raw/alloc.rs:19)",
            ],
            &[
                // dhat-kit's own allocation, through Vec and the global allocator.
                (1, &[1, 2, 3, 4, 5]),
                // A region's ad-hoc event: recorded by dhat-kit's guard, for app::work.
                (10, &[6, 7, 8, 9, 5]),
                // dhat's allocator, its global allocator entry inlined away, and its backtrace.
                (100, &[10, 11, 12, 9, 5]),
            ],
        );
        let component = |name: &str, krate: &str| {
            format!("[[component]]\nname = \"{name}\"\nmatch = {{ crate = \"{krate}\" }}\nmax = \"100%\"\n")
        };
        let kit = component("kit", "dhat_kit");
        assert_eq!(figures(&kit, &profile), [1, 110]);
        assert_eq!(figures(&component("kit", "dhat-kit"), &profile), [1, 110]);
        let profilers = [
            component("dhat", "dhat"),
            component("backtrace", "backtrace"),
        ]
        .join("\n");
        assert_eq!(figures(&profilers, &profile), [0, 0, 111]);
        // Behind them, the code that asked: the region's event is app::work's.
        let app = format!("{kit}\n{}", component("app", "app"));
        assert_eq!(figures(&app, &profile), [1, 110, 0]);
    }

    #[test]
    fn function_and_path_match_the_common_symbol_forms() {
        let m = |s: &str| -> Match { toml::from_str(s).unwrap() };
        let matches = |key: &str, want: &str, raw: &str| {
            m(&format!("{key} = {want:?}")).matches(&Frame::parse(&format!("0x1: {raw} (a.rs:1)")))
        };
        let rust: &[&str] = &[
            "my_app::json::parse_json",
            "my_app::json::parse_json::<serde_json::Value>",
            "my_app::json::parse_json::<alloc::vec::Vec<u8>, fn() -> u8>",
            "my_app::json::parse_json::{{closure}}",
            "my_app::json::parse_json::{{closure}}::{{closure}}",
            "my_app::json::parse_json::{closure#0}",
            "my_app::json::parse_json::h0123456789abcdef",
            "my_app::json::parse_json::{{closure}}::h0123456789abcdef",
        ];
        // C++: the parameter list and template arguments are not the name.
        let cpp: &[&str] = &[
            "ns::Parser::parse(char const*)",
            "ns::Parser::parse(char const*) const",
            "ns::Parser<int>::parse<std::vector<int, std::allocator<int> > >(int)",
        ];
        for (key, want, forms, expected) in [
            ("function", "parse_json", rust, true),
            (
                "function",
                "parse_json",
                &["parse_json<serde_json::Value>"],
                true,
            ),
            ("function", "json::parse_json", rust, true),
            ("path", "my_app::json", rust, true),
            ("path", "my_app::json::parse_json", rust, true),
            ("function", "json", rust, false),
            ("function", "Value", rust, false),
            ("function", "closure", rust, false),
            ("path", "serde_json", rust, false),
            ("function", "parse", cpp, true),
            ("function", "Parser::parse", cpp, true),
            ("path", "ns::Parser", cpp, true),
            ("function", "Parser", cpp, false),
        ] {
            for raw in forms {
                assert_eq!(matches(key, want, raw), expected, "{key} = {want:?}: {raw}");
            }
        }
        assert!(matches(
            "function",
            "operator<<",
            "std::ostream::operator<<(int)"
        ));
        // A function template's return type is not part of its name.
        for raw in [
            "void ns::Parser::parse<int>(int)",
            "std::vector<int, std::allocator<int> > ns::Parser::parse<int>(char const*)",
            "unsigned long const* ns::Parser::parse<char>(char const*) const",
        ] {
            assert!(matches("path", "ns::Parser", raw), "{raw}");
            assert!(matches("function", "Parser::parse", raw), "{raw}");
            assert!(!matches("path", "std", raw), "{raw}");
        }
        for (raw, function) in [
            (
                "void* ns::operator new<ns::Arena>(unsigned long)",
                "operator new",
            ),
            (
                "ns::C::operator unsigned long() const",
                "C::operator unsigned long",
            ),
            ("(anonymous namespace)::make(int)", "make"),
        ] {
            assert!(matches("function", function, raw), "{raw}");
        }
        assert!(matches(
            "path",
            "(anonymous namespace)",
            "(anonymous namespace)::make(int)"
        ));
        // A trait impl's self type is a type prefix; its methods are the type's.
        let next = "<my_app::json::Lexer as core::iter::Iterator>::next";
        assert!(matches("path", "my_app::json::Lexer", next));
        assert!(matches("path", "my_app::json", next));
        assert!(matches("function", "Lexer::next", next));
        assert!(matches("function", "next", next));
        assert!(!matches("path", "core::iter", next));
        assert!(matches(
            "path",
            "my_app::Doc",
            "<&mut my_app::Doc<T> as Clone>::clone"
        ));
        assert!(matches("path", "my_app::Doc", "<my_app::Doc>::new"));
        assert!(matches(
            "function",
            "HashMap<K,V,S,A>::insert",
            "hashbrown::map::HashMap<K,V,S,A>::insert"
        ));
        assert!(matches(
            "function",
            "HashMap::insert",
            "hashbrown::map::HashMap<K,V,S,A>::insert"
        ));
        // Whole segments only.
        assert!(!matches("function", "parse", "my_app::reparse"));
        assert!(!matches("function", "parse", "my_app::parse::helper"));
        assert!(!matches("path", "my_app::js", "my_app::json::parse"));
        assert!(!matches("function", "", "my_app::parse"));
        assert!(!matches(
            "function",
            "parse_json",
            "my_app::parse_json::h0123"
        ));
    }

    /// A region's frame is claimed by `region` only: `function`, `path`, `crate` and `file`
    /// took points through the text of region frames (`function = "call_function"` through
    /// `region Interpreter::call_function`), and later components lost them; nor are region names
    /// offered for those keys, nor the crate `?` of a frame with nothing to tell it by.
    #[test]
    fn a_regions_frame_is_claimed_by_region_only() {
        let profile = valgrind_profile(
            &[
                "0x1: malloc (in /usr/lib/vgpreload_dhat.so)",
                "0x2: app::eval (src/eval.rs:3:1)",
                "region Interpreter::call_function",
                "region main",
                "0x3: ???",
            ],
            &[(10, &[1, 2, 3, 4]), (5, &[1, 5, 4])],
        );
        let component = |name: &str, key: &str| {
            format!("[[component]]\nname = \"{name}\"\nmatch = {{ {key} }}\nmax = 100\n")
        };
        let by_text = [
            component("by function", "function = \"call_function\""),
            component("by path", "path = \"region Interpreter\""),
            component("by region", "region = \"Interpreter::call_function\""),
        ]
        .concat();
        assert_eq!(figures(&by_text, &profile), [0, 0, 10, 5]);
        let report = Budgets::parse(
            &[
                component("misspelt", "function = \"call_functio\""),
                component("no crate", "crate = \"a\""),
            ]
            .concat(),
            "b.toml",
        )
        .unwrap()
        .check(&profile)
        .unwrap();
        let warnings = report.warnings().join("\n");
        assert!(!warnings.contains("call_function"), "{warnings}");
        assert!(!warnings.contains("\"?\""), "{warnings}");
    }

    /// A `file` with directories on a profile whose files carry none (Valgrind's default) is
    /// offered the file by its own name; it got no hint.
    #[test]
    fn a_file_with_directories_is_offered_its_name_alone() {
        let profile = valgrind_profile(
            &[
                "0x1: malloc (in /usr/lib/vgpreload_dhat.so)",
                "0x2: put (store.c:3)",
            ],
            &[(10, &[1, 2])],
        );
        let report = checked(
            "[[component]]\nname = \"store\"\nmatch = { file = \"src/store.c\" }\nmax = 1\n",
            &profile,
        );
        assert_eq!(
            report.components[0].suggestion.as_deref(),
            Some("store.c"),
            "{:?}",
            report.warnings()
        );
    }

    /// A component may not bear the name of the rows of what none claims: two rows read
    /// "everything else", one of them a component's.
    #[test]
    fn everything_else_is_no_components_name() {
        for name in ["everything else", "everything else (peak-bytes)"] {
            let budget = format!(
                "[[component]]\nname = \"ok\"\nmatch = {{ function = \"f\" }}\nmax = 1\n\
                 [[component]]\nname = \"{name}\"\nmatch = {{ function = \"g\" }}\nmax = 1\n"
            );
            let e = Budgets::parse(&budget, "b.toml").unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "dhat-kit: b.toml:6: {name:?} is the name of the rows of what no component \
                     claims: name the component otherwise"
                )
            );
        }
    }

    /// Components of different figures over the same code each get its points: each figure's
    /// components share the profile among themselves. A peak-bytes component after a
    /// total-bytes one over `grow_table` read 0 B, "claimed earlier", and passed over any peak;
    /// everything else is each figure's own.
    #[test]
    fn each_figures_components_share_the_profile_among_themselves() {
        let profile = crate::profile::from_slice(
            br#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,"bkacc":false,
              "tu":"instrs","Mtu":"Minstr","cmd":"x","pid":1,"te":100,"tg":50,"tuth":10,
              "pps":[{"tb":4096,"tbk":1,"tl":0,"mb":4096,"mbk":1,"gb":4096,"gbk":1,"eb":0,"ebk":0,"fs":[1,2]},
                     {"tb":100,"tbk":1,"tl":0,"mb":100,"mbk":1,"gb":100,"gbk":1,"eb":0,"ebk":0,"fs":[1,3]}],
              "ftbl":["[root]","0x1: malloc (in /usr/lib/vgpreload_dhat.so)",
                      "0x2: grow_table (t.c:3)","0x3: parse (t.c:9)"]}"#,
            "p.json",
        )
        .unwrap();
        let budget = "[[component]]\nname = \"table\"\nmatch = { function = \"grow_table\" }\n\
                      max = \"50%\"\n\
                      [[component]]\nname = \"table at the peak\"\nmetric = \"peak-bytes\"\n\
                      match = { function = \"grow_table\" }\nmax = 539\n\
                      [[component]]\nname = \"parse at the peak\"\nmetric = \"peak-bytes\"\n\
                      match = { function = \"parse\" }\nmax = 1000\n";
        let report = checked(budget, &profile);
        let rows: Vec<(&str, u64, u64, usize)> = report
            .components
            .iter()
            .chain(&report.rest)
            .map(|c| (c.name.as_str(), c.current, c.total, c.points))
            .collect();
        assert_eq!(
            rows,
            [
                ("table", 4_096, 4_196, 1),
                ("table at the peak", 4_096, 4_196, 1),
                ("parse at the peak", 100, 4_196, 1),
                ("everything else (total-bytes)", 100, 4_196, 1),
                ("everything else (peak-bytes)", 0, 4_196, 0),
            ]
        );
        let over: Vec<&str> = report
            .components
            .iter()
            .filter(|c| c.status == Status::Over)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(over, ["table", "table at the peak"]);
        assert!(report.warnings().is_empty(), "{:?}", report.warnings());
    }

    #[test]
    fn a_region_on_a_profile_without_regions_says_there_are_none() {
        // A heap profile (Valgrind's, dhat-rs's): no frame `region NAME`, whatever the code ran.
        let profile = valgrind_profile(
            &[
                "0x1: malloc (in /usr/lib/vgpreload_dhat.so)",
                "0x2: call_function (t.c:3)",
            ],
            &[(10, &[1, 2])],
        );
        let budgets = Budgets::parse(
            "[[component]]\nname = \"calls\"\nmatch = { region = \"call_function\" }\nmax = 1\n",
            "b.toml",
        )
        .unwrap();
        let report = budgets.check(&profile).unwrap();
        assert_eq!(
            report.warnings(),
            [
                "dhat-kit: warning: b.toml:1: component \"calls\" (region = \"call_function\") \
              matches no program point: this profile has no regions (dhat-kit's peak and sampled \
              profiles have them)"
            ]
        );
    }

    #[test]
    fn a_component_whose_points_earlier_ones_took_says_which() {
        let profile = valgrind_profile(
            &[
                "0x1: malloc (in /usr/lib/vgpreload_dhat.so)",
                "0x2: grow_table (t.c:3)",
                "0x3: load (t.c:9)",
                "0x4: main (t.c:20)",
            ],
            &[(10, &[1, 2, 3, 4]), (20, &[1, 2, 4])],
        );
        let budgets = Budgets::parse(
            "[[component]]\nname = \"loading\"\nmatch = { function = \"load\" }\nmax = \"100%\"\n\
             [[component]]\nname = \"program\"\nmatch = { file = \"t.c\" }\nmax = \"100%\"\n\
             [[component]]\nname = \"tables\"\nmatch = { function = \"grow_table\" }\nmax = 1\n\
             [[component]]\nname = \"json\"\nmatch = { crate = \"serde_json\" }\nmax = 1\n",
            "b.toml",
        )
        .unwrap();
        let report = budgets.check(&profile).unwrap();
        let status: Vec<Status> = report.components.iter().map(|c| c.status).collect();
        assert_eq!(
            status,
            [
                Status::Within,
                Status::Within,
                Status::ClaimedEarlier,
                Status::Unmatched
            ]
        );
        assert_eq!(report.components[1].taken_by, ["loading"]);
        assert_eq!(report.components[2].taken_by, ["loading", "program"]);
        assert!(report.passed());
        assert_eq!(
            report.warnings(),
            [
                "dhat-kit: warning: b.toml:9: component \"tables\" (function = \"grow_table\") \
                 claims no program point: the earlier components \"loading\" (line 1), \
                 \"program\" (line 5) claimed every one it matches",
                "dhat-kit: warning: b.toml:13: component \"json\" (crate = \"serde_json\") \
                 matches no program point",
            ]
        );
        let table = report.render();
        assert!(
            table.ends_with(
                "4 of 4 components within budget (1 matching nothing, 1 claimed earlier)\n"
            ),
            "{table}"
        );
    }

    /// The rendered check of `profile` against one component, `parser`, matching `parse_json`
    /// with the limit `max` (TOML).
    fn parser_rendered(profile: &Profile, max: &str) -> String {
        let budget = format!(
            "[[component]]\nname = \"parser\"\nmatch = {{ function = \"parse_json\" }}\nmax = {max}\n"
        );
        Budgets::parse(&budget, "b.toml")
            .unwrap()
            .check(profile)
            .unwrap()
            .render()
    }

    #[test]
    fn the_verdict_is_exact_when_rounded_figures_read_the_same() {
        let profile = valgrind_profile(
            &["0x1: parse_json (json.c:10)", "0x2: main (main.c:5)"],
            &[(4001, &[1, 2]), (6859, &[2])],
        );
        let verdict = |max: &str| {
            let text = parser_rendered(&profile, max);
            text.lines().last().unwrap().to_owned()
        };
        assert_eq!(
            verdict("4000"),
            "1 of 1 component over budget: parser (4,001 B > 4,000 B)"
        );
        // 36.8% of 10,860 allows 3,996 bytes: 3.9 KiB too.
        assert_eq!(
            verdict("\"36.8%\""),
            "1 of 1 component over budget: parser (4,001 B > 36.8% (3,996 B))"
        );
        assert_eq!(
            verdict("\"2 KiB\""),
            "1 of 1 component over budget: parser (3.9 KiB > 2.0 KiB)"
        );
    }

    #[test]
    fn the_table_is_exact_where_rounded_figures_read_the_same() {
        let profile = valgrind_profile(
            &["0x1: parse_json (json.c:10)", "0x2: main (main.c:5)"],
            &[(4001, &[1, 2]), (6859, &[2])],
        );
        let row = |max: &str| {
            let text = parser_rendered(&profile, max);
            let line = text.lines().find(|l| l.ends_with("  parser")).unwrap();
            line.split("  ")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" | ")
        };
        // Over by one byte: 3.9 KiB against 3.9 KiB would read as within.
        assert_eq!(
            row("4000"),
            "4,001 B | 36.8% | 4,000 B | OVER | total-bytes | parser"
        );
        assert_eq!(
            row("\"36.8%\""),
            "4,001 B | 36.8% | 36.8% (3,996 B) | OVER | total-bytes | parser"
        );
        // Within by a few bytes: exact too.
        assert_eq!(
            row("4010"),
            "4,001 B | 36.8% | 4,010 B | ok | total-bytes | parser"
        );
        // At the limit, or far from it: rounded.
        assert_eq!(
            row("4001"),
            "3.9 KiB | 36.8% | 3.9 KiB | ok | total-bytes | parser"
        );
        assert_eq!(
            row("\"2 KiB\""),
            "3.9 KiB | 36.8% | 2.0 KiB | OVER | total-bytes | parser"
        );
    }

    #[test]
    fn explain_lists_the_largest_sites_then_the_rest_summed() {
        let pps: Vec<String> = (1..=30)
            .map(|i| format!(r#"{{"tb":{i},"tbk":1,"fs":[{i}]}}"#))
            .collect();
        let ftbl: Vec<String> = (1..=30)
            .map(|i| format!(r#""0x{i:x}: app::f{i} (src/f.rs:{i}:1)""#))
            .collect();
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
              "bkacc":false,"tu":"µs","Mtu":"s","cmd":"t","pid":1,"te":1,"pps":[{}],
              "ftbl":["[root]",{}]}}"#,
            pps.join(","),
            ftbl.join(",")
        );
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let b = Budgets::parse(
            "[[component]]\nname = \"app\"\nmatch = { crate = \"app\" }\nmax = \"100%\"\n",
            "b.toml",
        )
        .unwrap();
        let text = b.check(&p).unwrap().explain();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "app (crate = \"app\"): 465 B in 30 sites, 30 program points"
        );
        assert!(lines[1].ends_with("app::f30 (src/f.rs:30)"), "{text}");
        assert!(lines[25].ends_with("app::f6 (src/f.rs:6)"), "{text}");
        // 1 + 2 + 3 + 4 + 5 = 15 of 465.
        assert_eq!(
            lines[26].split_whitespace().collect::<Vec<_>>().join(" "),
            "15 B 3.2% and 5 more sites"
        );
        assert_eq!(
            lines[27],
            "everything else (claimed by no component): 0 B in 0 sites, 0 program points"
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = Budgets::parse(
            "[[component]]\nname = \"a\"\nmatch = { crate = \"x\" }\nmax = 1\nmaxx = 2\n",
            "b.toml",
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(5), "{e}");
        assert!(e.message().contains("maxx"), "{e}");
        let e = Budgets::parse(
            "[[component]]\nname = \"a\"\nmatch = { crate = \"x\" }\nmax = 1\nmetric = \"bytes\"\n",
            "b.toml",
        )
        .unwrap_err();
        assert_eq!(e.line(), Some(5), "{e}");
        let e = Budgets::parse("[[component]\n", "b.toml").unwrap_err();
        assert_eq!(e.line(), Some(1), "{e}");
        assert!(!e.to_string().contains('\n'), "{e}");
    }

    /// An empty value in a match matches nothing: refused, as an empty crate is (it was accepted,
    /// with a warning that the component matches nothing).
    #[test]
    fn an_empty_value_in_a_match_is_refused() {
        for (key, example) in [
            ("function", "parse"),
            ("file", "src/parse.rs"),
            ("path", "app::parse"),
            ("region", "request"),
        ] {
            for value in ["", "  "] {
                let text = format!(
                    "[[component]]\nname = \"x\"\nmatch = {{ {key} = \"{value}\" }}\nmax = 5\n"
                );
                let e = Budgets::parse(&text, "b.toml").unwrap_err();
                assert_eq!(
                    e.to_string(),
                    format!(
                        "dhat-kit: b.toml:3: component \"x\": its match's {key} is empty: \
                         expected a name to match, such as {key} = \"{example}\""
                    )
                );
            }
        }
    }

    #[test]
    fn errors_name_the_key_and_say_what_is_wrong() {
        let head = "[[component]]\nname = \"x\"\nmatch = { crate = \"a\" }\n";
        let error = |rest: &str| {
            let e = Budgets::parse(&format!("{head}{rest}"), "b.toml").unwrap_err();
            assert!(!e.message().contains('\n'), "{e}");
            (e.line(), e.message().to_owned())
        };
        let max = u64::MAX;
        for (rest, line, message) in [
            (
                "max = 18446744073709551616\n".to_owned(),
                4,
                format!("component \"x\": bad max 18446744073709551616: out of range: expected at most {max}"),
            ),
            (
                "max = \"18446744073709551616\"\n".to_owned(),
                4,
                format!("component \"x\": bad max \"18446744073709551616\": out of range: expected at most {max}"),
            ),
            (
                format!("max = 1{max}0000000000000000000000\n"),
                4,
                // Beyond the TOML reader's range too, with its component (it had none).
                format!("component \"x\": bad max 1{max}0000000000000000000000: out of range: expected at most {max}"),
            ),
            (
                "max = \"-5\"\n".to_owned(),
                4,
                "component \"x\": bad max \"-5\": negative: expected 0 or more".to_owned(),
            ),
            (
                "max = -5\n".to_owned(),
                4,
                "component \"x\": bad max -5: negative: expected 0 or more".to_owned(),
            ),
            (
                "max = \"150%\"\n".to_owned(),
                4,
                "component \"x\": bad share \"150%\": above 100%, which no figure can exceed: \
                 expected at most 100%"
                    .to_owned(),
            ),
            (
                "max = 1\nmetric = 3\n".to_owned(),
                5,
                "`metric`: invalid type: integer `3`, expected a string".to_owned(),
            ),
            (
                "max = 1\nmax = 2\n".to_owned(),
                5,
                "duplicate key `max`".to_owned(),
            ),
        ] {
            assert_eq!(error(&rest), (Some(line), message), "{rest}");
        }
        assert!(error("max = \"100.00000000000001%\"\n")
            .1
            .contains("above 100%"));
        let e = Budgets::parse(
            "[component]\nname = \"x\"\nmatch = { crate = \"a\" }\nmax = 5\n",
            "b.toml",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dhat-kit: b.toml:1: [component] is one table: write each component as [[component]]"
        );
        for text in [
            format!("[component]\nname = \"y\"\n{head}max = 5\n"),
            "[component]\nname = \"y\"\n[component]\nname = \"z\"\n".to_owned(),
        ] {
            let e = Budgets::parse(&text, "b.toml").unwrap_err();
            assert!(
                e.message()
                    .ends_with("write each component as [[component]]"),
                "{text}: {e}"
            );
        }
        // The largest amount and share are limits still.
        let ok = |rest: &str| Budgets::parse(&format!("{head}{rest}"), "b.toml").unwrap();
        assert_eq!(
            ok(&format!("max = {max}\n")).components[0].max,
            Limit::Amount(max)
        );
        assert_eq!(
            ok("max = \"100%\"\n").components[0].max,
            Limit::Share(100.0)
        );
    }
}
