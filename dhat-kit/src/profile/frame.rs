//! [`Frame`]: one entry of the frame table, split into address, function, file, line and object.

use std::fmt;

/// A frame-table entry, parsed. The forms DHAT writes:
///
/// - Valgrind: `0x1093DC: parse_tokens (alloc_sites.c:19)`, or `0x48417B4: malloc (in /usr/lib/x.so)`;
/// - dhat-rs: `0x5635: app::build_index (src/main.rs:25:24)`, `0x5635: <alloc::..>::try_allocate_in (???:0:0)`;
/// - dhat-kit peak profiles: `region call_function`, `(outside any region)`;
/// - `[root]`, always entry 0.
///
/// # Examples
///
/// ```
/// use dhat_kit::profile::Frame;
/// let f = Frame::parse("0x56350203a63a: app::build_index (src/index.rs:25:24)");
/// assert_eq!(f.function, "app::build_index");
/// assert_eq!(f.file, Some("src/index.rs"));
/// assert_eq!(f.line, Some(25));
/// assert_eq!(f.crate_name(), "app");
/// assert_eq!(f.to_string(), "app::build_index (src/index.rs:25)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    /// The entry as written.
    pub raw: &'a str,
    /// The code address, if the entry starts with one (`0x...`).
    pub address: Option<&'a str>,
    /// The function (symbol), or the whole entry when it has no recognisable shape.
    pub function: &'a str,
    /// The source file, when known (`???` when the symbolizer did not know it).
    pub file: Option<&'a str>,
    /// The source line, when known (and not 0).
    pub line: Option<u32>,
    /// The source column (dhat-rs only), when known.
    pub column: Option<u32>,
    /// The object file the code is in, when the source is not known (`(in /usr/lib/libc.so.6)`).
    pub object: Option<&'a str>,
}

impl<'a> Frame<'a> {
    /// Splits a frame-table entry into its parts; never fails (an entry of unknown shape is all
    /// function).
    pub fn parse(raw: &'a str) -> Frame<'a> {
        let mut frame = Frame {
            raw,
            address: None,
            function: raw.trim(),
            file: None,
            line: None,
            column: None,
            object: None,
        };
        let mut rest = raw.trim();
        if rest.starts_with("0x") {
            if let Some((addr, after)) = rest.split_once(": ") {
                if addr[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
                    frame.address = Some(addr);
                    rest = after;
                }
            }
        }
        frame.function = rest;
        if rest.ends_with(')') {
            if let Some(open) = rest.rfind(" (") {
                let inside = &rest[open + 2..rest.len() - 1];
                frame.function = &rest[..open];
                if let Some(object) = inside.strip_prefix("in ") {
                    frame.object = Some(object);
                } else {
                    // file:line or file:line:column, with a file that may itself hold ':'.
                    let mut parts = inside.rsplitn(3, ':');
                    let last = parts.next();
                    let mid = parts.next();
                    let first = parts.next();
                    let num = |s: Option<&str>| s.and_then(|s| s.parse::<u32>().ok());
                    match (first, num(mid), num(last)) {
                        (Some(file), Some(line), Some(col)) => {
                            frame.file = Some(file);
                            frame.line = Some(line);
                            frame.column = Some(col);
                        }
                        _ => match (mid, num(last)) {
                            (Some(_), Some(line)) => {
                                let cut = inside.rfind(':').unwrap_or(inside.len());
                                frame.file = Some(&inside[..cut]);
                                frame.line = Some(line);
                            }
                            _ => frame.function = rest,
                        },
                    }
                    if frame.line == Some(0) {
                        frame.line = None;
                        frame.column = None;
                    }
                }
            }
        }
        frame
    }

    /// The crate (or, for C and C++, the library or source file) the function belongs to: the
    /// first path segment of a Rust symbol (`<alloc::vec::Vec<T> as Clone>::clone` is `alloc`),
    /// else the object file's name, else the source file's name, else `?`.
    pub fn crate_name(&self) -> &'a str {
        let f = self.function.trim_start_matches(['<', '&', '*']);
        let f = f.strip_prefix("mut ").unwrap_or(f);
        if let Some(i) = f.find("::") {
            let head = &f[..i];
            if !head.is_empty() && head.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return head;
            }
        }
        if let Some(obj) = self.object {
            return obj.rsplit('/').next().unwrap_or(obj);
        }
        if let Some(file) = self.file {
            if file != "???" {
                return file.rsplit('/').next().unwrap_or(file);
            }
        }
        "?"
    }

    /// Whether the frame is plumbing rather than the code that asked for memory: the allocator
    /// (malloc and friends, `__rust_alloc`, dhat's and dhat-kit's allocators, Valgrind's
    /// preload), the standard library (`alloc::`, `core::`, `std::`, and `hashbrown::`, which is
    /// std's `HashMap`), generic or primitive `impl`s (`<T as ...>`, `<u8 as ...>`), the dynamic
    /// loader, unknown code (`???`), and `[root]`.
    pub fn is_boring(&self) -> bool {
        const CRATES: [&str; 9] = [
            "alloc",
            "core",
            "std",
            "hashbrown",
            "dhat",
            "dhat_kit",
            "__rustc",
            "backtrace",
            "gimli",
        ];
        const C_FUNCTIONS: [&str; 16] = [
            "malloc",
            "calloc",
            "realloc",
            "free",
            "memalign",
            "posix_memalign",
            "aligned_alloc",
            "valloc",
            "memcpy",
            "memmove",
            "mempcpy",
            "strdup",
            "strndup",
            "operator new(unsigned long)",
            "operator new[](unsigned long)",
            "???",
        ];
        let f = self.function;
        if f == "[root]"
            || f.starts_with("__rust")
            || f.starts_with("__rdl")
            || f.starts_with("_dl_")
        {
            return true;
        }
        if C_FUNCTIONS.contains(&f) || f.starts_with("operator new") {
            return true;
        }
        if let Some(obj) = self.object {
            if obj.contains("vgpreload") || obj.contains("/ld-linux") || obj.contains("/libc.so") {
                return true;
            }
        }
        // The self type of `<T as Trait>::f`, or the path of `a::b::f`.
        let subject = f.trim_start_matches(['<', '&', '*']);
        let subject = subject.strip_prefix("mut ").unwrap_or(subject);
        let head_end = subject
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(subject.len());
        let head = &subject[..head_end];
        if CRATES.contains(&head) && subject[head_end..].starts_with("::") {
            return true;
        }
        if f.starts_with('<') {
            let generic = head.len() == 1 && head.bytes().all(|b| b.is_ascii_uppercase());
            let primitive = matches!(
                head,
                "u8" | "u16"
                    | "u32"
                    | "u64"
                    | "u128"
                    | "usize"
                    | "i8"
                    | "i16"
                    | "i32"
                    | "i64"
                    | "i128"
                    | "isize"
                    | "f32"
                    | "f64"
                    | "bool"
                    | "char"
                    | "str"
                    | ""
            );
            if generic || primitive {
                return true;
            }
        }
        false
    }

    /// The key that matches this code location across builds: function, file and line, without
    /// the address.
    pub fn location_key(&self) -> (&'a str, Option<&'a str>, Option<u32>) {
        (self.function, self.file.or(self.object), self.line)
    }
}

impl fmt::Display for Frame<'_> {
    /// `function (file:line)`, `function (in object)`, or the function alone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.file, self.line, self.object) {
            (Some(file), Some(line), _) => write!(f, "{} ({file}:{line})", self.function),
            (Some(file), None, _) if file != "???" => write!(f, "{} ({file})", self.function),
            (_, _, Some(obj)) => write!(f, "{} (in {obj})", self.function),
            _ => f.write_str(self.function),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valgrind_forms() {
        let f = Frame::parse("0x1093DC: parse_tokens (alloc_sites.c:19)");
        assert_eq!(f.address, Some("0x1093DC"));
        assert_eq!(
            (f.function, f.file, f.line, f.column),
            ("parse_tokens", Some("alloc_sites.c"), Some(19), None)
        );
        assert!(!f.is_boring());
        assert_eq!(f.crate_name(), "alloc_sites.c");
        let m = Frame::parse(
            "0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
        );
        assert_eq!(
            m.object,
            Some("/usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so")
        );
        assert!(m.is_boring());
        assert_eq!(
            m.to_string(),
            "malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)"
        );
        let q = Frame::parse("0x401AB77: ??? (in /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)");
        assert!(q.is_boring());
        let cpp = Frame::parse("0x10: Foo::bar(int) const (foo.cpp:7)");
        assert_eq!((cpp.function, cpp.line), ("Foo::bar(int) const", Some(7)));
    }

    #[test]
    fn rust_forms() {
        let f = Frame::parse("0x5635: <alloc::raw_vec::RawVecInner>::try_allocate_in (???:0:0)");
        assert_eq!(f.file, Some("???"));
        assert_eq!(f.line, None);
        assert!(f.is_boring());
        assert_eq!(f.crate_name(), "alloc");
        for boring in [
            "0x1: <u8 as <[_]>::to_vec_in::ConvertVec>::to_vec::<alloc::alloc::Global> (alloc/src/slice.rs:448:29)",
            "0x1: <T as alloc::slice::hack::ConvertVec>::to_vec (alloc/src/slice.rs:448:29)",
            "0x1: <dhat::Alloc as core::alloc::global::GlobalAlloc>::alloc (dhat-0.3.3/src/lib.rs:1176:9)",
            "0x1: __rustc::__rust_alloc (src/main.rs:14:15)",
            "0x1: hashbrown::raw::RawTableInner::new_uninitialized (src/raw/mod.rs:1613:38)",
            "0x1: core::ops::function::FnMut::call_mut (src/ops/function.rs:166:5)",
            "[root]",
        ] {
            assert!(Frame::parse(boring).is_boring(), "{boring}");
        }
        for informative in [
            "0x1: app::build_index (src/main.rs:25:24)",
            "0x1: <app::Doc as core::clone::Clone>::clone (src/doc.rs:3:10)",
            "region call_function",
            "(outside any region)",
        ] {
            assert!(!Frame::parse(informative).is_boring(), "{informative}");
        }
        let g = Frame::parse("0x1: <app::Doc as core::clone::Clone>::clone (src/doc.rs:3:10)");
        assert_eq!(g.crate_name(), "app");
    }

    #[test]
    fn odd_shapes_are_all_function() {
        for raw in ["", "0x: x", "f (", "f ()", "f (a:b)", "0xZZ: f (x.c:1)"] {
            let f = Frame::parse(raw);
            assert!(!f.function.is_empty() || raw.is_empty(), "{raw}");
            let _ = (f.to_string(), f.crate_name(), f.is_boring());
        }
        assert_eq!(Frame::parse("f (a:b)").function, "f (a:b)");
    }
}
