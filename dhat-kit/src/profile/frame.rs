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
#[non_exhaustive]
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
    #[must_use]
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
            if let Some(open) = location_start(rest) {
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

    /// The group a frame belongs to under `--group-by crate`, by producer and language:
    ///
    /// - a Rust symbol with a path (`app::parse`, `<app::Doc as Clone>::clone`): its first path
    ///   segment, the crate (`app`);
    /// - a Rust frame named without a path (an inlined function, as dhat-rs writes it in release
    ///   builds with debug info) whose file is a crate's source (`hashbrown-0.16.1/src/map.rs`,
    ///   `alloc/src/vec/mod.rs`): that crate (`hashbrown`, `alloc`);
    /// - C and C++ (a C++ symbol is one with a parameter list, `Foo::bar(int) const`), and any
    ///   frame without symbols: the binary or shared object Valgrind names (`(in /usr/lib/x.so)`
    ///   gives `x.so`), else the source file's directory, else the source file (`alloc_sites.c`);
    ///   never a C++ namespace or class;
    /// - else `?`.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::profile::Frame;
    /// let crate_of = |raw| Frame::parse(raw).crate_name();
    /// assert_eq!(crate_of("0x1: app::parse (src/parse.rs:3:5)"), "app");
    /// assert_eq!(crate_of("0x1: insert<u8> (hashbrown-0.16.1/src/map.rs:1:1)"), "hashbrown");
    /// assert_eq!(crate_of("0x1: gcc::pass_manager::execute(gcc::context*) (in /usr/lib/cc1)"), "cc1");
    /// assert_eq!(crate_of("0x1: parse_tokens (lib/tokens.c:19)"), "lib");
    /// assert_eq!(crate_of("0x1: getdelim (libio/./libio/iogetdelim.c:62)"), "libio");
    /// ```
    pub fn crate_name(&self) -> &'a str {
        if !self.is_cpp() {
            if let Some(head) = self.rust_path_head() {
                return head;
            }
            if let Some(krate) = self.file.and_then(crate_of_file) {
                return krate;
            }
        }
        if let Some(obj) = self.object {
            return obj.rsplit('/').next().unwrap_or(obj);
        }
        match self.file {
            Some(file) if file != "???" => match file.rsplit_once('/') {
                // A path that goes through `.` (glibc's `libio/./libio/iofopen.c`): the
                // directory after it, as the path means it.
                Some((dir, _)) if !dir.is_empty() => match dir.rsplit_once("/./") {
                    Some((_, after)) if !after.is_empty() => after,
                    _ => dir
                        .strip_prefix("./")
                        .filter(|d| !d.is_empty())
                        .unwrap_or(dir),
                },
                _ => file,
            },
            _ => "?",
        }
    }

    /// The first path segment of the function (`<alloc::vec::Vec<T> as Clone>::clone` is
    /// `alloc`), if it has one.
    fn rust_path_head(&self) -> Option<&'a str> {
        let f = self.function.trim_start_matches(['<', '&', '*']);
        let f = f.strip_prefix("mut ").unwrap_or(f);
        let i = f.find("::")?;
        let head = &f[..i];
        (!head.is_empty() && head.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .then_some(head)
    }

    /// The first path segment of the trait of `<T as Trait>::f` (`<alloc::vec::Vec<u8> as
    /// app::Grow>::grow` is `app`), if the function is such and its trait has a path.
    fn trait_head(&self) -> Option<&'a str> {
        let f = self.function;
        if !f.starts_with('<') {
            return None;
        }
        let mut depth = 0usize;
        for (i, c) in f.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth = depth.checked_sub(1)?,
                ' ' if depth == 1 && f[i..].starts_with(" as ") => {
                    let tr = &f[i + " as ".len()..];
                    let head = &tr[..tr.find("::")?];
                    return (!head.is_empty()
                        && head.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                    .then_some(head);
                }
                _ => {}
            }
        }
        None
    }

    /// Whether the function is a C++ symbol: it ends with a parameter list (`f(int)`,
    /// `g() const`).
    fn is_cpp(&self) -> bool {
        let f = without_clone_suffixes(self.function.trim_end());
        let f = f.strip_suffix(" const").unwrap_or(f);
        // Not Valgrind's `(below main)`; C++'s `(anonymous namespace)::f(int)` is C++.
        f.ends_with(')')
            && f.contains('(')
            && (!f.starts_with('(') || f.starts_with("(anonymous namespace)::"))
    }

    /// The function without the suffix of a copy the compiler specialised or split, its
    /// parameters kept (`app::fill(int, int) [clone .constprop.0]` is `app::fill(int, int)`, C's
    /// `dup_key.constprop.0` is `dup_key`): the function a `--group-by function` row names.
    pub(crate) fn function_itself(&self) -> &'a str {
        without_clone_suffixes(self.function.trim_end())
    }

    /// The function without a C++ parameter list (`ggc_internal_alloc(unsigned long)` is
    /// `ggc_internal_alloc`), without the ABI tags GCC puts before it (`make_label[abi:cxx11]
    /// (int)` is `make_label`) and without the suffix of a copy the compiler specialised (`app::fill
    /// (int, int) [clone .constprop.0]` is `app::fill`, C's `dup_key.constprop.0` is `dup_key`);
    /// other functions as they are. The call operator's own
    /// parentheses are part of its name (`Foo::operator()(int)` is `Foo::operator()`, and
    /// `operator()` itself stays whole).
    pub(crate) fn name_without_parameters(&self) -> &'a str {
        if !self.is_cpp() {
            return without_clone_suffixes(self.function);
        }
        let f = without_clone_suffixes(self.function.trim_end());
        let f = f.strip_suffix(" const").unwrap_or(f);
        let mut depth = 0i32;
        for (i, c) in f.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        let name = &f[..i];
                        if is_operator_word_end(name) {
                            // `operator()`: its parentheses are its name, not a parameter list.
                            return f;
                        }
                        return without_abi_tags(name);
                    }
                }
                _ => {}
            }
        }
        self.function
    }

    /// The function's own name, as its definition in the source spells it: the last segment of
    /// its path, without parameters, return type, ABI tag, clone suffix or generic arguments
    /// (`app::Matrix::Matrix(unsigned long)` and a release build's inlined `Matrix` are both
    /// `Matrix`; `app::fill(int, int) [clone .constprop.0]` is `fill`; a lambda's
    /// `main::{lambda(int)#1}::operator()(int) const` is `operator()`).
    pub(crate) fn source_name(&self) -> &'a str {
        let name = without_return_type(self.name_without_parameters());
        // A Rust function's generic arguments (`parse::<T>`) come after a `::` of their own.
        let name = match name.strip_suffix('>').and_then(|n| n.rfind("::<")) {
            Some(at) if !name[at..].contains("operator") => &name[..at],
            _ => name,
        };
        let (mut depth, mut start, mut prev) = (0i32, 0, ' ');
        for (i, c) in name.char_indices() {
            match c {
                '<' | '(' | '[' | '{' => depth += 1,
                '>' if prev == '-' => {}
                '>' | ')' | ']' | '}' => depth -= 1,
                ':' if prev == ':' && depth == 0 => start = i + 1,
                _ => {}
            }
            prev = c;
        }
        let last = &name[start..];
        if last.starts_with("operator") {
            return last;
        }
        match last.find('<') {
            Some(at) if at > 0 => &last[..at],
            _ => last,
        }
    }

    /// Whether the frame has no symbol: Valgrind's `???` (the code's binary and address are
    /// known, its function is not).
    #[must_use]
    pub fn is_unsymbolised(&self) -> bool {
        self.function == "???" || self.function.is_empty()
    }

    /// Whether the frame is part of allocating memory: the C allocator (`malloc` and friends),
    /// Valgrind's preload library, Rust's allocator shims (`__rust_alloc`, `__rdl_*`, `__rg_*`),
    /// dhat's and dhat-kit's own allocators (by symbol or, for inlined frames, by source file),
    /// the dropping of dhat-kit's own types (`core::ptr::drop_in_place<dhat_kit::..>`), the
    /// `backtrace` crate's frames (through which dhat takes a stack, at its top when dhat
    /// trims nothing), and the functions of [`ALLOCATION_WRAPPERS`].
    pub fn is_allocator(&self) -> bool {
        let f = self.function;
        if f.starts_with("__rust_")
            || f.starts_with("__rdl_")
            || f.starts_with("__rg_")
            || f.starts_with("__rustc::")
        {
            return true;
        }
        let name = self.name_without_parameters();
        if ALLOCATION_WRAPPERS
            .iter()
            .any(|p| glob(p, f) || glob(p, name))
        {
            return true;
        }
        if self.object.is_some_and(|o| o.contains("vgpreload")) {
            return true;
        }
        let kit = |k: &str| matches!(k, "dhat" | "dhat_kit" | "dhat-kit");
        // Dropping one of the kit's own types (a region's guard) is the kit's code, in an
        // `Option` too (`handle.map(|h| h.enter())`, a guard entered only where a handle is).
        if let Some(ty) = f.strip_prefix("core::ptr::drop_in_place<") {
            let mut head = ty.trim_start_matches(['<', '&', '*']);
            while let Some(inner) = ["core::option::Option<", "std::option::Option<", "Option<"]
                .iter()
                .find_map(|option| head.strip_prefix(option))
            {
                head = inner;
            }
            if head.split_once("::").is_some_and(|(k, _)| kit(k)) {
                return true;
            }
        }
        if !self.is_cpp() {
            if self
                .rust_path_head()
                .is_some_and(|k| kit(k) || k == "backtrace")
            {
                return true;
            }
            if self.file.and_then(crate_of_file).is_some_and(kit) {
                return true;
            }
        }
        false
    }

    /// Whether the frame is the entry of Rust's global allocator, the function rustc generates
    /// for it (`__rust_alloc`, `__rust_alloc_zeroed`, `__rust_realloc`, `__rust_dealloc`, with
    /// or without the `__rustc::` path, and `__rg_*`), or std's function that calls it
    /// (`alloc::alloc::alloc`, `alloc_zeroed`, `realloc`, `dealloc`) as Valgrind names std's
    /// code compiled in the program's crate, with its file's directory from `library/` on
    /// (`alloc (/rustc/…/library/alloc/src/alloc.rs:95)`). The frames inside it, innermost in a
    /// stack, are the allocator's own however they are named: Valgrind names the frames a
    /// release build inlined without their path or crate (`{closure#0}<std::alloc::System>
    /// (src/alloc.rs:97)`), a `#[global_allocator]` inlined with its `__rust_alloc` into std's
    /// `alloc` as `UnknownInlinedFun` (`UnknownInlinedFun (myalloc/src/lib.rs:7)`, then the shim's
    /// `UnknownInlinedFun (src/main.rs:2)`), and a shim may leave no frame at all between std's
    /// `alloc` and the allocator's; so a stack's site is looked for outside its outermost entry.
    #[must_use]
    pub fn is_global_allocator_entry(&self) -> bool {
        let f = self.function;
        let f = f.strip_prefix("__rustc::").unwrap_or(f);
        matches!(
            f,
            "__rust_alloc" | "__rust_alloc_zeroed" | "__rust_realloc" | "__rust_dealloc"
        ) || f.starts_with("__rg_")
            || self.is_std_global_allocator_call()
    }

    /// Whether the frame is std's `alloc::alloc::alloc` (`alloc_zeroed`, `realloc`, `dealloc`),
    /// which calls the global allocator's `__rust_alloc`, named with its path or without it, in
    /// std's file as Valgrind names it, `library/alloc/src/alloc.rs` (after `/rustc/<hash>/`
    /// with `--fullpath-after=`). Not in a file without that directory: Valgrind's `alloc
    /// (alloc.rs:95)` (std's precompiled functions, without `--fullpath-after=`) may as well be
    /// a program's own `alloc.rs`, which the frame alone does not tell apart; nor in dhat-rs's
    /// and the kit's `alloc/src/alloc.rs`, whose stacks name the shim (`__rust_alloc
    /// (dhat-kit/src/lib.rs:261:43)`) and, trimmed, start at std's `alloc`.
    fn is_std_global_allocator_call(&self) -> bool {
        let f = self.function.trim();
        let f = f.strip_prefix("alloc::alloc::").unwrap_or(f);
        matches!(f, "alloc" | "alloc_zeroed" | "realloc" | "dealloc")
            && self.file.is_some_and(|file| {
                file.strip_suffix("library/alloc/src/alloc.rs")
                    .is_some_and(|dir| dir.is_empty() || dir.ends_with('/'))
            })
    }

    /// Whether the frame is plumbing rather than the code that asked for memory: the allocator
    /// and its wrappers ([`is_allocator`](Frame::is_allocator)), the standard library (`alloc`,
    /// `core`, `std`, and `hashbrown`, which is std's `HashMap`, by symbol or by source file;
    /// C++'s `std::` and `__gnu_cxx::`, after a function template's return type too, and the
    /// functions inlined from the C++ standard library's headers, which Valgrind names without
    /// their namespace: `push_back (stl_vector.h:1294)`; a function generic over Rust's allocator, as std's
    /// collections are: `do_alloc<alloc::alloc::Global>`), generic or primitive `impl`s
    /// (`<T as ...>`, `<u8 as ...>`), memory copies (`memcpy`, `memmove`), the C library's start
    /// (`(below main)`) and dynamic loader (its binary, its `_dl_` functions, and its frames
    /// named with glibc's sources: `call_init (dl-init.c:74)`, `dl_main (rtld.c:2012)`), code
    /// without symbols (`???`), and `[root]`.
    pub fn is_boring(&self) -> bool {
        const CRATES: [&str; 9] = [
            "alloc",
            "core",
            "std",
            "hashbrown",
            "__gnu_cxx",
            "dhat",
            "dhat_kit",
            "backtrace",
            "gimli",
        ];
        if self.is_allocator() || self.is_unsymbolised() {
            return true;
        }
        let f = self.function;
        if matches!(
            f,
            "[root]" | "(below main)" | "memcpy" | "memmove" | "mempcpy"
        ) || f.starts_with("_dl_")
        {
            return true;
        }
        if let Some(obj) = self.object {
            if obj.contains("/ld-linux") || obj.contains("/libc.so") {
                return true;
            }
        }
        // The loader's frames named with glibc's sources, when its debug symbols are installed
        // (`call_init (dl-init.c:74)`, running a library's constructors; `dl_main (rtld.c:2012)`).
        if self.file.is_some_and(is_loader_source) {
            return true;
        }
        // `<alloc::vec::Vec<u8> as app::Grow>::grow`: a trait of the program's implemented for
        // std's type is the program's code (an impl lives in its trait's crate or its type's).
        let programs_trait = self
            .trait_head()
            .is_some_and(|t| !CRATES.contains(&t) && !matches!(t, "dhat" | "dhat_kit"));
        if self.rust_path_head().is_some_and(|h| CRATES.contains(&h)) && !programs_trait {
            return true;
        }
        // C++: a function template of `std` after its return type (`void std::vector<int,
        // ..>::_M_realloc_insert<int>(..)`), and the standard library's inlined functions,
        // named without their namespace, in its headers (`allocate (new_allocator.h:137)`).
        let name = without_return_type(self.name_without_parameters());
        let head = name.split("::").next().unwrap_or(name);
        let head = head.split('<').next().unwrap_or(head);
        if name.len() < self.function.len() && matches!(head, "std" | "__gnu_cxx" | "__cxx11") {
            return true;
        }
        if self.file.is_some_and(is_cpp_std_header)
            && (!is_qualified(name) || matches!(head, "std" | "__gnu_cxx" | "__cxx11"))
        {
            return true;
        }
        if !self.is_cpp() {
            if self
                .file
                .and_then(crate_of_file)
                .is_some_and(|k| CRATES.contains(&k))
            {
                return true;
            }
            if generic_args(f).any(|a| a == "alloc::alloc::Global") {
                return true;
            }
            // An inlined function, named without its path, in a file of std's that dhat-rs
            // shortened to its last three components (`alloc/src/vec/mod.rs` is `src/vec/mod.rs`).
            if self.rust_path_head().is_none()
                && self
                    .file
                    .is_some_and(|file| STD_FILES.iter().any(|p| file.starts_with(p)))
            {
                return true;
            }
        }
        // The self type of `<T as Trait>::f`.
        if f.starts_with('<') {
            let subject = f.trim_start_matches(['<', '&', '*']);
            let subject = subject.strip_prefix("mut ").unwrap_or(subject);
            let head_end = subject
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(subject.len());
            let head = &subject[..head_end];
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

    /// Whether the frame is a function of the precompiled standard library as Valgrind names a
    /// stack's physical frame (the last of the frames at one address; the others are the
    /// functions inlined into it): by its symbol, with a path of `alloc`, `core` or `std`
    /// (`alloc::fmt::format::format_inner`, `<alloc::string::String as core::fmt::Write>::write_str`,
    /// `<str as core::fmt::Display>::fmt`), and a source file without a directory (`fmt.rs`).
    /// The standard library's code compiled in the program's crate (its generic functions,
    /// which may inline the program's closures) has its directory (`library/core/src/iter/
    /// traits/iterator.rs`), and dhat-rs writes one for every file.
    pub(crate) fn is_precompiled_std(&self) -> bool {
        let std = |h: Option<&str>| h.is_some_and(|h| matches!(h, "alloc" | "core" | "std"));
        let file = self
            .file
            .is_some_and(|f| !f.is_empty() && !f.contains(['/', '\\']));
        if !file || self.is_cpp() {
            return false;
        }
        // `<str as core::fmt::Display>::fmt`: a primitive's impl of std's trait.
        let of_trait = self.function.starts_with('<')
            && self.function.split_once(" as ").is_some_and(|(_, t)| {
                t.split_once("::")
                    .is_some_and(|(h, _)| matches!(h, "alloc" | "core" | "std"))
            });
        std(self.rust_path_head()) || of_trait
    }

    /// The key that matches this code location across builds: function, file and line, without
    /// the address.
    #[must_use]
    pub fn location_key(&self) -> (&'a str, Option<&'a str>, Option<u32>) {
        (self.function, self.file.or(self.object), self.line)
    }
}

impl fmt::Display for Frame<'_> {
    /// `function (file:line)`, `function (in object)`, or the function alone; a frame without a
    /// symbol is its address and the binary's name, `0x4a2f10 (in git)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_unsymbolised() {
            if let Some(addr) = self.address {
                return match (self.object, self.file) {
                    (Some(obj), _) => {
                        write!(f, "{addr} (in {})", obj.rsplit('/').next().unwrap_or(obj))
                    }
                    (None, Some(file)) if file != "???" => write!(f, "{addr} ({file})"),
                    _ => f.write_str(addr),
                };
            }
        }
        match (self.file, self.line, self.object) {
            (Some(file), Some(line), _) => write!(f, "{} ({file}:{line})", self.function),
            (Some(file), None, _) if file != "???" => write!(f, "{} ({file})", self.function),
            (_, _, Some(obj)) => write!(f, "{} (in {obj})", self.function),
            _ => f.write_str(self.function),
        }
    }
}

/// Functions recognised, in every profile, as allocation wrappers: a site is the first frame
/// below them (their caller), as with `malloc` itself. Patterns match the whole function name;
/// `*` matches any run of characters. Add a program's own with `dhat-kit --skip PATTERN` (or
/// [`analyze::Skip`](crate::analyze::Skip)).
///
/// | family | functions |
/// |---|---|
/// | C library | `malloc`, `calloc`, `realloc`, `reallocarray`, `free`, `memalign`, `posix_memalign`, `aligned_alloc`, `valloc`, `pvalloc`, `strdup`, `strndup` |
/// | C++ | `operator new`, `operator new[]`, `__gnu_cxx::new_allocator<..>::allocate`, `std::__new_allocator<..>::allocate`, `std::allocator<..>::allocate`, `std::allocator_traits<..>::allocate` |
/// | gnulib, libiberty, git | `xmalloc`, `xcalloc`, `xrealloc`, `xzalloc`, `xstrdup`, `xstrndup`, `xmemdup*`, `xnmalloc`, `xnrealloc`, `x2realloc`, `x2nrealloc`, `xreallocarray`, `xmallocz*`, `do_xmalloc` |
/// | GLib | `g_malloc*`, `g_try_malloc*`, `g_realloc*`, `g_try_realloc*`, `g_slice_alloc*`, `g_strdup`, `g_strndup`, `g_memdup*` |
/// | CPython | `PyMem_*`, `_PyMem_*`, `PyObject_Malloc`, `PyObject_Calloc`, `PyObject_Realloc`, `_PyObject_Malloc`, `_PyObject_Calloc`, `_PyObject_Realloc`, `_PyObject_New*`, `_PyObject_GC_New*`, `_PyObject_GC_Malloc`, `_PyObject_GC_Link`, `gc_alloc`, `PyType_GenericAlloc`, `pymalloc_alloc`, `_PyObject_MallocWithType` |
/// | SQLite | `sqlite3Malloc*`, `sqlite3Realloc`, `sqlite3_malloc*`, `sqlite3_realloc*`, `sqlite3DbMalloc*`, `sqlite3DbRealloc*`, `dbMallocRawFinish`, `mallocWithAlarm`, `sqlite3MemMalloc`, `sqlite3MemRealloc` |
/// | Perl | `Perl_safesysmalloc`, `Perl_safesyscalloc`, `Perl_safesysrealloc` |
/// | Tcl | `Tcl_Alloc`, `Tcl_AttemptAlloc`, `Tcl_Realloc`, `Tcl_AttemptRealloc`, `TclpAlloc`, `TclpRealloc` |
/// | GCC | `ggc_internal_alloc`, `ggc_internal_cleared_alloc` |
pub const ALLOCATION_WRAPPERS: &[&str] = &[
    "malloc",
    "calloc",
    "realloc",
    "reallocarray",
    "free",
    "memalign",
    "posix_memalign",
    "aligned_alloc",
    "valloc",
    "pvalloc",
    "strdup",
    "strndup",
    "__strdup",
    "operator new*",
    "__gnu_cxx::new_allocator<*>::allocate*",
    "std::__new_allocator<*>::allocate*",
    "std::allocator<*>::allocate*",
    "std::allocator_traits<*>::allocate*",
    "xmalloc",
    "xcalloc",
    "xrealloc",
    "xzalloc",
    "xstrdup",
    "xstrndup",
    "xmemdup*",
    "xnmalloc",
    "xnrealloc",
    "x2realloc",
    "x2nrealloc",
    "xreallocarray",
    "xmallocz*",
    "do_xmalloc",
    "g_malloc*",
    "g_try_malloc*",
    "g_realloc*",
    "g_try_realloc*",
    "g_slice_alloc*",
    "g_strdup",
    "g_strndup",
    "g_memdup*",
    "PyMem_*",
    "_PyMem_*",
    "PyObject_Malloc",
    "PyObject_Calloc",
    "PyObject_Realloc",
    "_PyObject_Malloc",
    "_PyObject_Calloc",
    "_PyObject_Realloc",
    "_PyObject_New*",
    "_PyObject_GC_New*",
    "_PyObject_GC_Malloc",
    "_PyObject_GC_Link",
    "gc_alloc",
    "PyType_GenericAlloc",
    "pymalloc_alloc",
    "_PyObject_MallocWithType",
    "sqlite3Malloc*",
    "sqlite3Realloc",
    "sqlite3_malloc*",
    "sqlite3_realloc*",
    "sqlite3DbMalloc*",
    "sqlite3DbRealloc*",
    "dbMallocRawFinish",
    "mallocWithAlarm",
    "sqlite3MemMalloc",
    "sqlite3MemRealloc",
    "Perl_safesysmalloc",
    "Perl_safesyscalloc",
    "Perl_safesysrealloc",
    "Tcl_Alloc",
    "Tcl_AttemptAlloc",
    "Tcl_Realloc",
    "Tcl_AttemptRealloc",
    "TclpAlloc",
    "TclpRealloc",
    "ggc_internal_alloc",
    "ggc_internal_cleared_alloc",
];

/// Where the location part of an entry ending in `)` starts: the ` (` before the `(` that the
/// last `)` closes, so that a path holding parentheses stays whole (`f (/home/u/My Project
/// (copy)/a.rs:3)`); else (parentheses that do not pair up) the last ` (`.
fn location_start(entry: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in entry.bytes().enumerate().rev() {
        match b {
            b')' => depth += 1,
            b'(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return match i.checked_sub(1) {
                        Some(space) if entry.as_bytes()[space] == b' ' => Some(space),
                        _ => entry.rfind(" ("),
                    };
                }
            }
            _ => {}
        }
    }
    entry.rfind(" (")
}

/// How many of the innermost frames of a stack (`fs`, innermost first) are inside Rust's global
/// allocator: all up to and including its outermost entry
/// ([`Frame::is_global_allocator_entry`], which `is_entry` tells of a frame-table index), or none
/// when the stack does not pass through it.
pub(crate) fn allocator_frames(fs: &[u32], is_entry: impl FnMut(&u32) -> bool) -> usize {
    fs.iter().rposition(is_entry).map_or(0, |i| i + 1)
}

/// Per frame-table entry of `ftbl`, whether some stack of `stacks` (innermost first) shows it
/// inlined into a function of the precompiled standard library ([`Frame::is_precompiled_std`]):
/// Valgrind lists the frames inlined into a function innermost first, all at the address of
/// that function, the last of them, and names them without their path and with their file
/// without its directory (`with_capacity (string.rs:485)`, `alloc (alloc.rs:95)` inlined into
/// `alloc::fmt::format::format_inner (fmt.rs:652)`). Those are the standard library's own code:
/// its precompiled functions are not generic, and cannot inline the program's. From the
/// physical frame inwards, up to the first frame named with a file's directory: the standard
/// library's code compiled in the program's crate, which a build with link-time optimisation
/// might inline into std's and whose frames inside may be the program's own.
///
/// An address has one chain of inlined frames, and a frame-table entry one address, so this is
/// decided once per entry; a stack that Valgrind cut at its outermost end may end inside a
/// chain, whose last frame, an inlined function's, is not std's by its symbol.
pub(crate) fn inlined_into_std<'s>(
    ftbl: &[Box<str>],
    stacks: impl IntoIterator<Item = &'s [u32]>,
) -> Vec<bool> {
    let frame = |f: u32| Frame::parse(ftbl.get(f as usize).map_or("?", |s| s));
    let mut inlined = vec![false; ftbl.len()];
    // Per entry, whether it was seen as a chain's physical frame.
    let mut seen = vec![false; ftbl.len()];
    for_each_chain(ftbl, stacks, |chain| {
        let physical = chain[chain.len() - 1];
        if seen.get(physical as usize).copied().unwrap_or(true) {
            return;
        }
        seen[physical as usize] = true;
        if !frame(physical).is_precompiled_std() {
            return;
        }
        for &f in chain.iter().rev() {
            // No file, or one with its directory: std's code compiled in the program's crate.
            if frame(f).file.is_none_or(|file| file.contains(['/', '\\'])) {
                break;
            }
            if let Some(slot) = inlined.get_mut(f as usize) {
                *slot = true;
            }
        }
    });
    inlined
}

/// Calls `each` with every chain of frames inlined into one another in `stacks`: the runs of two
/// or more frames at one address, innermost first, the physical frame last (Valgrind's and
/// dhat-rs's way of listing them).
fn for_each_chain<'s>(
    ftbl: &[Box<str>],
    stacks: impl IntoIterator<Item = &'s [u32]>,
    mut each: impl FnMut(&[u32]),
) {
    let address: Vec<Option<&str>> = ftbl.iter().map(|raw| Frame::parse(raw).address).collect();
    let at = |f: u32| address.get(f as usize).copied().flatten();
    for fs in stacks {
        let mut start = 0;
        while start < fs.len() {
            let addr = at(fs[start]);
            let len = fs[start..]
                .iter()
                .take_while(|&&f| addr.is_some() && at(f) == addr)
                .count()
                .max(1);
            if len > 1 {
                each(&fs[start..start + len]);
            }
            start += len;
        }
    }
}

/// Per frame-table entry of `ftbl`, the entry of the physical frame that some stack of `stacks`
/// shows it inlined into (the last of the frames at its address, which Valgrind lists innermost
/// first), or [`NOT_INLINED`]: a physical frame, an entry without an address, or one never seen
/// in a chain.
pub(crate) fn physical_frames<'s>(
    ftbl: &[Box<str>],
    stacks: impl IntoIterator<Item = &'s [u32]>,
) -> Vec<u32> {
    let mut physical = vec![NOT_INLINED; ftbl.len()];
    for_each_chain(ftbl, stacks, |chain| {
        if let Some((&last, inner)) = chain.split_last() {
            for &f in inner {
                if let Some(slot) = physical.get_mut(f as usize) {
                    *slot = last;
                }
            }
        }
    });
    physical
}

/// Whether two paths name one source file: the shorter (Valgrind may write a path with its
/// directory and another without, dhat-rs its last components) is the longer one's last
/// components. `mod.rs` of `value/` is not `mod.rs` of `vec/`.
pub(crate) fn same_file(a: &str, b: &str) -> bool {
    a.rsplit(['/', '\\'])
        .zip(b.rsplit(['/', '\\']))
        .all(|(x, y)| x == y)
}

/// [`physical_frames`]' mark of an entry that is not inlined.
pub(crate) const NOT_INLINED: u32 = u32::MAX;

impl<'a> Frame<'a> {
    /// The crate a Rust frame's function names with its path (`myapp::build` is `myapp`), if it
    /// names one.
    pub(crate) fn named_crate(&self) -> Option<&'a str> {
        if self.is_cpp() {
            return None;
        }
        self.rust_path_head()
    }

    /// The crate of a frame that Valgrind shows inlined into `physical` and names without its
    /// path (`{closure#0} (main.rs:16)`), where [`crate_name`](Frame::crate_name) could only
    /// give its file: the crate of `physical` when that is named with a Rust path and its source
    /// file has the same name (a closure or function inlined from the same file is of the same
    /// crate; one from another file may be another crate's generic code, and keeps its own
    /// name). `None` otherwise.
    pub(crate) fn crate_via(&self, physical: &Frame<'a>) -> Option<&'a str> {
        if self.is_cpp() || self.rust_path_head().is_some() {
            return None;
        }
        let krate = physical.rust_path_head()?;
        let same = match (self.file, physical.file) {
            (Some(a), Some(b)) => same_file(a, b),
            _ => false,
        };
        (!physical.is_cpp() && same).then_some(krate)
    }
}

/// Directories of std's (and hashbrown's) sources as dhat-rs writes them, shortened to a path's last
/// three components, where the crate's own directory is cut off. A user's file in such a directory
/// (`src/vec/mine.rs`) is taken for std's only when its function is named without a path, as
/// inlined functions are.
const STD_FILES: [&str; 17] = [
    "src/vec/",
    "src/raw_vec/",
    "src/collections/",
    "collections/hash/",
    "collections/btree/",
    "src/str/",
    "src/slice/",
    "src/iter/",
    "iter/adapters/",
    "iter/traits/",
    "iter/sources/",
    "src/ops/",
    "src/cell/",
    "src/fmt/",
    "src/thread/",
    "thread/local/",
    "src/raw/",
];

/// Whether `text` matches `pattern` as a whole, where `*` in the pattern matches any run of
/// characters (none included) and every other character itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and the text position it has been stretched to.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

/// The crate of a Rust source file, from its path: the directory above the last `src`, without a
/// version (`hashbrown-0.16.1/src/map.rs` and `/home/u/.cargo/registry/src/x/hashbrown-0.16.1/src/map.rs`
/// are `hashbrown`; `alloc/src/vec/mod.rs` is `alloc`; `dhat-kit/src/alloc.rs` is `dhat-kit`).
/// `None` for a path without such a directory (`src/main.rs`).
fn crate_of_file(file: &str) -> Option<&str> {
    let at = file.rfind("/src/")?;
    let dir = &file[..at];
    let dir = dir.rsplit('/').next().unwrap_or(dir);
    // `name-1.2.3`: the name is everything before the `-` that starts the version.
    let name = match dir.match_indices('-').find(|&(i, _)| {
        dir[i + 1..]
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit())
    }) {
        Some((i, _)) => &dir[..i],
        None => dir,
    };
    (!name.is_empty()).then_some(name)
}

/// A C++ name without the return type that begins a function template's demangled name (`void
/// ns::f<int>(int)` is `ns::f<int>(int)`): what follows the last space outside brackets before
/// any `operator` (whose own name may hold spaces: `operator new`, `operator unsigned long`);
/// the name itself where there is none.
pub(crate) fn without_return_type(name: &str) -> &str {
    let end = name
        .match_indices("operator")
        .find(|&(i, _)| i == 0 || matches!(name.as_bytes()[i - 1], b':' | b' '))
        .map_or(name.len(), |(i, _)| i);
    let mut depth = 0i32;
    let mut cut = 0;
    let mut prev = ' ';
    for (i, c) in name[..end].char_indices() {
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            '>' if prev == '-' => {}
            ')' | ']' | '}' | '>' => depth -= 1,
            ' ' if depth == 0 && !name[i..end].trim().is_empty() => cut = i + 1,
            _ => {}
        }
        prev = c;
    }
    &name[cut..]
}

/// A function without the suffixes of the copies GCC makes of it, specialised or split (its
/// clones): C++'s demangled ` [clone .constprop.0]`, ` [clone .cold]`, and a C symbol's own
/// `.constprop.0`, `.isra.0`, `.part.0`, `.cold`, `.lto_priv.0` (a C name has no `.` of its own).
fn without_clone_suffixes(mut f: &str) -> &str {
    while let Some(head) = f.strip_suffix(']') {
        match head.rfind(" [clone .") {
            Some(at) if !head[at..].contains(']') => f = head[..at].trim_end(),
            _ => break,
        }
    }
    if let Some((name, suffix)) = f.split_once('.') {
        let clone = |s: &str| {
            matches!(
                s,
                "constprop" | "isra" | "part" | "cold" | "lto_priv" | "localalias" | "clone"
            ) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        };
        let identifier = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
        if identifier
            && suffix.split('.').all(clone)
            && !suffix.bytes().next().is_some_and(|b| b.is_ascii_digit())
        {
            return name;
        }
    }
    f
}

/// Whether `name` ends with the keyword `operator` (`Foo::operator`, not `cooperator`).
fn is_operator_word_end(name: &str) -> bool {
    name.strip_suffix("operator")
        .is_some_and(|before| before.is_empty() || before.ends_with("::") || before.ends_with(' '))
}

/// A C++ name without the ABI tags at its end (`make_label[abi:cxx11]` is `make_label`;
/// `f[abi:cxx11][abi:v2]` is `f`).
fn without_abi_tags(mut name: &str) -> &str {
    while let Some(head) = name.strip_suffix(']') {
        match head.rfind("[abi:") {
            Some(at) if at > 0 && !head[at..].contains(']') => name = &head[..at],
            _ => break,
        }
    }
    name
}

/// Whether a C++ name is qualified by a namespace or class: it holds `::` outside the generic
/// arguments (`ns::f` and `std::vector<int>::push_back` are; `emplace_back<std::string>` and
/// `operator+<char, std::char_traits<char> >` are not).
fn is_qualified(name: &str) -> bool {
    // An operator's own name may hold brackets (`operator<<`, `operator()`): any `::` that
    // qualifies it comes before it.
    let end = name
        .match_indices("operator")
        .find(|&(i, _)| i == 0 || matches!(name.as_bytes()[i - 1], b':' | b' '))
        .map_or(name.len(), |(i, _)| i);
    let mut depth = 0i32;
    let mut prev = ' ';
    for c in name[..end].chars() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' if prev == '-' => {}
            '>' | ')' | ']' => depth -= 1,
            ':' if prev == ':' && depth == 0 => return true,
            _ => {}
        }
        prev = c;
    }
    false
}

/// Whether `file` is a source of glibc's dynamic loader: one of glibc's `elf/` directory that
/// the loader is built from, `rtld.c` or a `dl-*.c` of [`LOADER_SOURCES`] (`dl-init.c`,
/// `dl-load.c`, `dl-error-skeleton.c`), as Valgrind names it, without a directory, or under an
/// `elf` directory (`elf/dl-open.c`, with `--fullpath-after=`). A name outside that list
/// (`loader.c`, `dl.c`, `dl-util.c`), or one of them in another directory (`src/dl-init.c`), is
/// a program's own file.
fn is_loader_source(file: &str) -> bool {
    let (dir, name) = file.rsplit_once('/').unwrap_or(("", file));
    (dir.is_empty() || dir == "elf" || dir.ends_with("/elf"))
        && (name == "rtld.c" || LOADER_SOURCES.binary_search(&name).is_ok())
}

/// The `dl-*.c` sources of glibc's `elf/` directory (its releases from 2.35 on), sorted: the
/// dynamic loader's own code and the parts of it in the C library, not the directory's tests.
const LOADER_SOURCES: [&str; 67] = [
    "dl-addr-obj.c",
    "dl-addr.c",
    "dl-audit.c",
    "dl-cache.c",
    "dl-call-libc-early-init.c",
    "dl-call_fini.c",
    "dl-catch.c",
    "dl-close.c",
    "dl-compat.c",
    "dl-conflict.c",
    "dl-debug.c",
    "dl-debug_state.c",
    "dl-delayed-reloc.c",
    "dl-deps.c",
    "dl-diagnostics-cpu.c",
    "dl-diagnostics-kernel.c",
    "dl-diagnostics.c",
    "dl-early_allocate.c",
    "dl-environ.c",
    "dl-error-minimal.c",
    "dl-error-skeleton.c",
    "dl-error.c",
    "dl-exception.c",
    "dl-execstack-tunable.c",
    "dl-execstack.c",
    "dl-find_object.c",
    "dl-fini.c",
    "dl-fptr.c",
    "dl-hwcaps-subdirs.c",
    "dl-hwcaps.c",
    "dl-hwcaps_split.c",
    "dl-ifunc.c",
    "dl-init.c",
    "dl-iteratephdr.c",
    "dl-libc.c",
    "dl-libc_freeres.c",
    "dl-load.c",
    "dl-lookup-direct.c",
    "dl-lookup.c",
    "dl-lookup_libc_early_init.c",
    "dl-minimal-malloc.c",
    "dl-minimal.c",
    "dl-misc.c",
    "dl-mutex.c",
    "dl-object.c",
    "dl-open.c",
    "dl-origin.c",
    "dl-printf.c",
    "dl-profile.c",
    "dl-profstub.c",
    "dl-readonly-area.c",
    "dl-reloc-static-pie.c",
    "dl-reloc.c",
    "dl-runtime.c",
    "dl-scope.c",
    "dl-setup_hash.c",
    "dl-sort-maps.c",
    "dl-support.c",
    "dl-sym.c",
    "dl-symaddr.c",
    "dl-sysdep.c",
    "dl-tls.c",
    "dl-tls_init_tp.c",
    "dl-tunables.c",
    "dl-usage.c",
    "dl-version.c",
    "dl-write.c",
];

/// Whether `file` is a header of a C++ standard library (libstdc++'s `stl_vector.h`,
/// `vector.tcc`, `new_allocator.h`, ..., or any file under an `include/c++/` directory, where
/// libc++'s are too): where a release build's inlined standard-library frames are, named
/// without their namespace (`allocate (new_allocator.h:137)`, `push_back (stl_vector.h:1294)`).
fn is_cpp_std_header(file: &str) -> bool {
    const HEADERS: [&str; 36] = [
        "alloc_traits.h",
        "allocated_ptr.h",
        "allocator.h",
        "basic_ios.h",
        "basic_string.h",
        "char_traits.h",
        "cow_string.h",
        "forward_list.h",
        "fs_path.h",
        "functional_hash.h",
        "hashtable.h",
        "hashtable_policy.h",
        "ios_base.h",
        "locale_classes.h",
        "locale_facets.h",
        "memory_resource.h",
        "move.h",
        "new_allocator.h",
        "node_handle.h",
        "ptr_traits.h",
        "regex_automaton.h",
        "regex_compiler.h",
        "regex_executor.h",
        "regex_scanner.h",
        "shared_ptr.h",
        "shared_ptr_atomic.h",
        "shared_ptr_base.h",
        "std_function.h",
        "std_mutex.h",
        "std_thread.h",
        "streambuf_iterator.h",
        "unique_lock.h",
        "unique_ptr.h",
        "unordered_map.h",
        "unordered_set.h",
        "uses_allocator.h",
    ];
    // The headers without an extension whose templates allocate (`pair<..> (tuple:1817)`,
    // `basic_stringbuf (sstream:142)`).
    const BARE: [&str; 36] = [
        "any",
        "array",
        "bitset",
        "condition_variable",
        "deque",
        "filesystem",
        "format",
        "forward_list",
        "fstream",
        "functional",
        "future",
        "iomanip",
        "istream",
        "list",
        "locale",
        "map",
        "memory",
        "memory_resource",
        "mutex",
        "optional",
        "ostream",
        "queue",
        "regex",
        "set",
        "shared_mutex",
        "sstream",
        "stack",
        "streambuf",
        "string",
        "string_view",
        "thread",
        "tuple",
        "unordered_map",
        "unordered_set",
        "variant",
        "vector",
    ];
    if file.contains("/include/c++/") {
        return true;
    }
    let name = file.rsplit('/').next().unwrap_or(file);
    name.ends_with(".tcc")
        || (name.starts_with("stl_") && name.ends_with(".h"))
        || (file == name && (HEADERS.contains(&name) || BARE.contains(&name)))
}

/// The top-level generic arguments of a function name: `f<A, B<C, D>>` gives `A` and `B<C, D>`.
fn generic_args(function: &str) -> impl Iterator<Item = &str> {
    let inner = function
        .find('<')
        .filter(|&i| i > 0)
        .and_then(|i| function[i + 1..].strip_suffix('>'))
        .unwrap_or("");
    let mut depth = 0i32;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner.is_empty() {
        parts.push(inner[start..].trim());
    }
    parts.into_iter()
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_inlined_frame_named_without_its_path_takes_its_functions_crate_from_the_same_file() {
        fn crate_via<'a>(inlined: &'a str, physical: &'a str) -> Option<&'a str> {
            Frame::parse(inlined).crate_via(&Frame::parse(physical))
        }
        let make_labels = "0x1: rust_release::make_labels (rust_release.rs:16)";
        assert_eq!(
            crate_via("0x1: {closure#0} (rust_release.rs:16)", make_labels),
            Some("rust_release")
        );
        // Its file with a directory, and the function's without: one file.
        assert_eq!(
            crate_via("0x1: {closure#0} (src/rust_release.rs:20)", make_labels),
            Some("rust_release")
        );
        // Another file may be another crate's generic code: its own name stays.
        assert_eq!(
            crate_via("0x1: from_str<T> (de.rs:2674)", make_labels),
            None
        );
        // Named with a path: its own crate.
        assert_eq!(
            crate_via("0x1: serde_json::from_str (rust_release.rs:1)", make_labels),
            None
        );
        // C++, and a function named without a path, give nothing to take.
        assert_eq!(
            crate_via(
                "0x1: push_back (stl_vector.h:1294)",
                "0x1: ns::f(int) (stl_vector.h:9)"
            ),
            None
        );
        assert_eq!(
            crate_via("0x1: {closure#0} (main.rs:2)", "0x1: main (main.rs:9)"),
            None
        );
        // Files of one name in two directories are two files: serde_json's `Value::clone`,
        // inlined into alloc's `Vec::clone`, is serde_json's (it was put under `alloc`).
        assert_eq!(
            crate_via(
                "0x1: clone (/r/serde_json-1.0.154/src/value/mod.rs:151)",
                "0x1: <alloc::vec::Vec<T,A> as core::clone::Clone>::clone (/rustc/h/library/alloc/src/vec/mod.rs:3749)"
            ),
            None
        );
        assert_eq!(
            crate_via(
                "0x1: clone (value/mod.rs:151)",
                "0x1: <alloc::vec::Vec<T> as Clone>::clone (vec/mod.rs:3749)"
            ),
            None
        );
        assert_eq!(
            crate_via(
                "0x1: {closure#0} (app/src/lib.rs:5)",
                "0x1: app::run (/home/me/app/src/lib.rs:9)"
            ),
            Some("app")
        );
    }
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
    fn paths_with_parentheses_stay_whole() {
        let f = Frame::parse("0x10: app::f (/home/u/My Project (copy)/src/a.rs:3:7)");
        assert_eq!(
            (f.function, f.file, f.line, f.column),
            (
                "app::f",
                Some("/home/u/My Project (copy)/src/a.rs"),
                Some(3),
                Some(7)
            )
        );
        let m = Frame::parse("0x40: main (in /opt/my app (x86)/bin/app)");
        assert_eq!(
            (m.function, m.object),
            ("main", Some("/opt/my app (x86)/bin/app"))
        );
        let cpp = Frame::parse("0x1: ns::f(std::pair<int, int>) const (src (v2)/f.cpp:9)");
        assert_eq!(
            (cpp.function, cpp.file, cpp.line),
            (
                "ns::f(std::pair<int, int>) const",
                Some("src (v2)/f.cpp"),
                Some(9)
            )
        );
        // Parentheses that do not pair up: the last ` (` as before.
        let odd = Frame::parse("0x1: g (/tmp/a(b/x.rs:4)");
        assert_eq!((odd.function, odd.file), ("g", Some("/tmp/a(b/x.rs")));
        assert_eq!(Frame::parse("(below main)").function, "(below main)");
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

    #[test]
    fn inlined_rust_frames_of_a_release_build_with_debug_info() {
        // As dhat-rs writes them: inlined functions named without a path, files cut to three
        // components.
        for allocator in [
            "0x1: alloc (dhat-0.3.3/src/lib.rs:1176:9)",
            "0x1: {closure#0}<dhat::Alloc> (dhat-kit/src/alloc.rs:356:40)",
            "0x1: counted<*mut u8, dhat_kit::alloc::counting::{impl#3}::alloc::{closure_env#0}<dhat::Alloc>> (dhat-kit/src/alloc.rs:250:5)",
            "0x1: alloc<dhat::Alloc> (dhat-kit/src/alloc.rs:353:13)",
            "0x1: alloc (/home/u/.cargo/registry/src/x/dhat-kit-0.1.0/src/alloc.rs:353:13)",
            "0x1: __rust_alloc (dhat-kit/src/lib.rs:261:43)",
            // Where dhat keeps whole stacks (`trim_backtraces(None)`), its unwinder's frames.
            "0x1: backtrace::backtrace::libunwind::trace (src/backtrace/libunwind.rs:117:9)",
            "0x1: backtrace::backtrace::trace (src/backtrace/mod.rs:53:14)",
        ] {
            let f = Frame::parse(allocator);
            assert!(f.is_allocator() && f.is_boring(), "{allocator}");
        }
        for plumbing in [
            "0x1: alloc (alloc/src/alloc.rs:95:9)",
            "0x1: do_alloc<alloc::alloc::Global> (src/raw/alloc.rs:19:21)",
            "0x1: reserve_rehash<(alloc::string::String, app::Value), alloc::alloc::Global, hashbrown::map::make_hasher::{closure_env#0}<u8>> (src/raw/mod.rs:2824:18)",
            "0x1: insert<u8, u8, std::hash::random::RandomState, alloc::alloc::Global> (hashbrown-0.16.1/src/map.rs:1:1)",
            "0x1: with_capacity<app::Value> (src/vec/mod.rs:524:9)",
            "0x1: collect<u8> (iter/traits/iterator.rs:2064:9)",
        ] {
            let f = Frame::parse(plumbing);
            assert!(!f.is_allocator() && f.is_boring(), "{plumbing}");
        }
        for code in [
            "0x1: define (main/examples/app.rs:120:32)",
            "0x1: build<alloc::vec::Vec<u8, alloc::alloc::Global>> (app/src/build.rs:3:1)",
            "0x1: app::vec::grow (src/vec/grow.rs:1:1)",
        ] {
            assert!(!Frame::parse(code).is_boring(), "{code}");
        }
        assert_eq!(
            Frame::parse("0x1: insert<u8> (hashbrown-0.16.1/src/map.rs:1:1)").crate_name(),
            "hashbrown"
        );
        assert_eq!(
            Frame::parse("0x1: alloc (dhat-kit/src/alloc.rs:1:1)").crate_name(),
            "dhat-kit"
        );
    }

    #[test]
    fn the_global_allocators_entry() {
        for entry in [
            "0x1: __rust_alloc (dhat-kit/src/lib.rs:261:43)",
            "0x1: __rustc::__rust_alloc (src/lib.rs:469)",
            "0x1: __rustc::__rust_realloc (src/lib.rs:469)",
            "0x1: __rust_dealloc",
            "0x1: __rust_alloc_zeroed (in /usr/bin/app)",
            "0x1: __rg_alloc (src/main.rs:3:1)",
        ] {
            assert!(Frame::parse(entry).is_global_allocator_entry(), "{entry}");
        }
        for other in [
            "0x1: __rdl_alloc (src/alloc.rs:1)",
            "0x1: __rust_start_panic",
            "0x1: alloc<std::alloc::System> (src/alloc.rs:97)",
            "0x1: app::__rust_alloc_like (src/a.rs:1)",
        ] {
            assert!(!Frame::parse(other).is_global_allocator_entry(), "{other}");
        }
        let entry = |&f: &u32| f == 7;
        assert_eq!(allocator_frames(&[1, 2, 7, 3, 7, 4, 5], entry), 5);
        assert_eq!(allocator_frames(&[1, 2, 3], entry), 0);
    }

    #[test]
    fn the_global_allocators_entry_inlined_into_std() {
        // Valgrind's DHAT on a release build whose `#[global_allocator]` wraps `System`: the
        // allocator and its `__rust_alloc` shim inlined into std's `alloc::alloc::alloc`, and
        // named `UnknownInlinedFun`; std's function that calls the shim is the outermost frame
        // inside, as Valgrind names std's code compiled in the program's crate.
        for entry in [
            "0x11D876: alloc (/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/alloc/src/alloc.rs:95)",
            "0x11D876: alloc (library/alloc/src/alloc.rs:95)",
            "0x11D5E4: realloc (/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/alloc/src/alloc.rs:135)",
            "0x1: alloc_zeroed (library/alloc/src/alloc.rs:171)",
            "0x1: alloc::alloc::alloc (/rustc/abc/library/alloc/src/alloc.rs:95)",
            "0x1: alloc::alloc::realloc (library/alloc/src/alloc.rs:135)",
        ] {
            assert!(Frame::parse(entry).is_global_allocator_entry(), "{entry}");
        }
        for other in [
            // Ambiguous: std's precompiled functions (which call `__rust_alloc` by its name),
            // or the program's own `alloc.rs`.
            "0x1: alloc (alloc.rs:95)",
            "0x1: alloc::alloc::alloc (alloc.rs:95)",
            "0x1: alloc (src/alloc.rs:95)",
            "0x1: app::arena::alloc (library/alloc/src/alloc.rs:95)",
            // dhat-rs and the kit's sampler name the shim inlined into it.
            "0x1: alloc (alloc/src/alloc.rs:95:9)",
            "0x1: alloc::alloc::alloc (alloc/src/alloc.rs:95:9)",
            // std's functions that call it.
            "0x1: alloc_impl (library/alloc/src/alloc.rs:312)",
            "0x1: allocate (library/alloc/src/alloc.rs:429)",
            "0x1: alloc (library/std/src/sys/alloc/unix.rs:14)",
            "0x1: alloc (library/alloc/src/alloc.rs.bak:95)",
            "0x1: alloc (mylibrary/alloc/src/alloc.rs:95)",
        ] {
            assert!(!Frame::parse(other).is_global_allocator_entry(), "{other}");
        }
    }

    #[test]
    fn a_programs_trait_for_a_std_type_is_the_programs_code() {
        let own =
            Frame::parse("0x1: <alloc::vec::Vec<u8> as ext::Grow>::grow_big (src/bin/ext.rs:6:9)");
        assert!(!own.is_boring(), "{own:?}");
        for std in [
            "0x1: <alloc::vec::Vec<u8> as core::clone::Clone>::clone (src/vec/mod.rs:1:1)",
            "0x1: <alloc::string::String as core::fmt::Write>::write_str (string.rs:1)",
            "0x1: alloc::vec::Vec<T,A>::push (src/vec/mod.rs:1:1)",
            "0x1: <alloc::vec::Vec<u8> as dhat_kit::Thing>::f (src/lib.rs:1:1)",
        ] {
            assert!(Frame::parse(std).is_boring(), "{std}");
        }
    }

    #[test]
    fn dropping_the_kits_own_guard_in_an_option_is_the_kits_code() {
        for kits in [
            "0x1: core::ptr::drop_in_place<dhat_kit::region::Region> (mod.rs:805:1)",
            "0x1: core::ptr::drop_in_place<core::option::Option<dhat_kit::region::Region>> (mod.rs:805:1)",
        ] {
            assert!(Frame::parse(kits).is_allocator(), "{kits}");
        }
        for programs in [
            "0x1: core::ptr::drop_in_place<core::option::Option<app::Guard>> (mod.rs:805:1)",
            "0x1: core::ptr::drop_in_place<(dhat_kit::region::Region, app::Guard)> (mod.rs:805:1)",
        ] {
            assert!(!Frame::parse(programs).is_allocator(), "{programs}");
        }
    }

    #[test]
    fn wrappers_c_and_cpp() {
        for wrapper in [
            "0x1: xrealloc (in /usr/lib/gcc/x86_64-linux-gnu/12/cc1)",
            "0x1: ggc_internal_alloc(unsigned long, void (*)(void*), unsigned long, unsigned long) (in /usr/lib/cc1)",
            "0x1: operator new(unsigned long) (in /usr/lib/libstdc++.so.6)",
            "0x1: __gnu_cxx::new_allocator<int>::allocate(unsigned long, void const*) (new_allocator.h:127)",
            "0x1: _PyMem_RawMalloc (obmalloc.c:101)",
            "0x1: PyObject_Malloc (obmalloc.c:1)",
            "0x1: sqlite3Malloc (in /usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6)",
            "0x1: g_malloc0 (in /usr/lib/libglib-2.0.so.0)",
            "0x1: Perl_safesysmalloc (in /usr/bin/perl)",
        ] {
            assert!(Frame::parse(wrapper).is_allocator(), "{wrapper}");
        }
        for code in [
            "0x1: dictresize (dictobject.c:1)",
            "0x1: xrealloc_fast (a.c:1)",
            "0x1: sqlite3BtreeInsert (in /usr/lib/libsqlite3.so)",
        ] {
            assert!(!Frame::parse(code).is_allocator(), "{code}");
        }
        let cpp =
            Frame::parse("0x1: gcc::pass_manager::execute(gcc::context*) (in /usr/lib/gcc/cc1)");
        assert_eq!(cpp.crate_name(), "cc1");
        assert!(!cpp.is_boring());
        let cpp_src = Frame::parse("0x1: ns::Foo::bar(int) const (src/foo/foo.cpp:7)");
        assert_eq!(cpp_src.crate_name(), "src/foo");
        assert_eq!(cpp_src.name_without_parameters(), "ns::Foo::bar");
        assert!(Frame::parse("0x1: std::vector<int, std::allocator<int> >::push_back(int const&) (stl_vector.h:1281)").is_boring());
    }

    #[test]
    fn cpp_standard_library_frames_of_a_release_build() {
        // Valgrind's DHAT on `g++ -O1 -g`: the standard library's inlined functions are named
        // without their namespace, in its headers; a function template begins with its return
        // type. The program's own frames are not plumbing, inlined or not.
        for plumbing in [
            "0x10937A: allocate (new_allocator.h:137)",
            "0x10937A: allocate (alloc_traits.h:464)",
            "0x10937A: _M_allocate (stl_vector.h:378)",
            "0x10937A: void std::vector<int, std::allocator<int> >::_M_realloc_insert<int>(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int&&) (vector.tcc:453)",
            "0x1091E2: emplace_back<int> (vector.tcc:123)",
            "0x1091E2: push_back (stl_vector.h:1294)",
            "0x109215: basic_string<> (basic_string.h:659)",
            "0x1: _M_create (/usr/include/c++/12/bits/basic_string.tcc:1)",
            "0x1: __allocate_at_least (/usr/include/c++/v1/__memory/allocate_at_least.h:1)",
            "0x1: std::unique_ptr<ns::Node, std::default_delete<ns::Node> > std::make_unique<ns::Node>() (unique_ptr.h:1)",
        ] {
            assert!(Frame::parse(plumbing).is_boring(), "{plumbing}");
        }
        for code in [
            "0x1091E2: make<int> (t.cc:4)",
            "0x1091E2: parse<int> (t.cc:6)",
            "0x109215: anon (t.cc:5)",
            "0x1: void ns::Parser::parse<int>(int) (parser.cpp:6)",
            "0x1: ns::Arena::allocate(unsigned long) (allocator.h:12)",
            "0x1: allocate (src/pool/allocator.h:12)",
        ] {
            assert!(!Frame::parse(code).is_boring(), "{code}");
        }
    }

    #[test]
    fn cpp_standard_library_frames_with_qualified_template_arguments() {
        // Valgrind's DHAT on `g++ -O2 -g` (GCC 12): inlined standard-library functions whose
        // template arguments name a namespace, and headers without an extension.
        for plumbing in [
            "0x10A2F1: construct<std::vector<char>, int, char> (new_allocator.h:175)",
            "0x10A2F1: emplace_back<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > > (vector.tcc:123)",
            "0x10A2F1: emplace_back<text::detail::Token> (vector.tcc:123)",
            "0x10A2F1: emplace_back<std::unique_ptr<int, std::default_delete<int> > > (vector.tcc:123)",
            "0x10A2F1: _M_create_node<const std::piecewise_construct_t&, std::tuple<const std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >&>, std::tuple<> > (stl_tree.h:611)",
            "0x10A2F1: _M_allocate_node<const std::piecewise_construct_t&, std::tuple<const std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >&>, std::tuple<> > (hashtable_policy.h:1963)",
            "0x10A2F1: __allocate_guarded<std::allocator<std::_Sp_counted_ptr_inplace<inventory::Item, std::allocator<void>, (__gnu_cxx::_Lock_policy)2> > > (allocated_ptr.h:98)",
            "0x10A2F1: _Construct<inventory::Item, const std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >&, int&> (stl_construct.h:119)",
            "0x10A2F1: operator+<char, std::char_traits<char>, std::allocator<char> > (basic_string.h:3476)",
            "0x10A2F1: pair<const std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >&, 0> (tuple:1817)",
            "0x10A2F1: basic_stringbuf (sstream:142)",
        ] {
            assert!(Frame::parse(plumbing).is_boring(), "{plumbing}");
        }
        for code in [
            "0x1: ns::Parser::make<std::string> (tuple:1)",
            "0x1: inventory::Pool<std::string>::add (stl_tree.h:1)",
            "0x1: tuple (src/tuple:3)",
            "0x1: ns::operator+(ns::V const&, ns::V const&) (basic_string.h:1)",
        ] {
            assert!(!Frame::parse(code).is_boring(), "{code}");
        }
        assert!(is_qualified("ns::operator<<"));
        assert!(!is_qualified("operator<<"));
        assert!(!is_qualified("operator-><int>"));
        assert!(is_qualified("std::vector<int>::push_back"));
    }

    #[test]
    fn names_without_parameters_abi_tags_or_the_call_operators_parentheses() {
        // Valgrind's DHAT on `g++ -O0 -g` (GCC 12): a function returning `std::string` carries
        // GCC's ABI tag; a lambda's frame is its call operator; a release build's inlined call
        // operator is `operator()` alone.
        for (raw, name) in [
            (
                "0x10A0F2: inventory::make_label[abi:cxx11](int) (inventory.cpp:45)",
                "inventory::make_label",
            ),
            (
                "0x1: text::Index::words[abi:cxx11]() const (textproc.cpp:28)",
                "text::Index::words",
            ),
            (
                "0x10A1C3: main::{lambda(int)#1}::operator()(int) const (inventory.cpp:71)",
                "main::{lambda(int)#1}::operator()",
            ),
            ("0x10A1C3: operator() (inventory.cpp:71)", "operator()"),
            ("operator()", "operator()"),
            (
                "0x1: ns::Foo::operator()(std::vector<int, std::allocator<int> > const&) (f.cpp:1)",
                "ns::Foo::operator()",
            ),
            (
                "0x1: inventory::Catalog::operator+=(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&) (inventory.cpp:37)",
                "inventory::Catalog::operator+=",
            ),
            ("0x1: f[abi:cxx11][abi:v2](int) (a.cpp:1)", "f"),
            ("0x1: cooperator(int) (a.cpp:1)", "cooperator"),
            // `g++ -O2`: a copy specialised for a constant argument; `gcc -O2`: the same of C.
            (
                "0x10A050: app::fill(int, int) [clone .constprop.0] (clones.cpp:17)",
                "app::fill",
            ),
            (
                "0x10A84B: void std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::_M_construct<char*>(char*, char*, std::forward_iterator_tag) [clone .isra.0] (basic_string.tcc:225)",
                "void std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::_M_construct<char*>",
            ),
            ("0x1: ns::f(int) const [clone .isra.0] [clone .cold] (a.cpp:1)", "ns::f"),
            ("0x109379: dup_key.constprop.0 (linked2.c:27)", "dup_key"),
            ("0x1: parse.part.0.isra.0 (a.c:1)", "parse"),
            ("0x1: main.cold (a.c:1)", "main"),
            ("0x1: v1.2 (a.c:1)", "v1.2"),
            ("0x1: app::parse (src/a.rs:1:1)", "app::parse"),
            ("0x1: g[3](int) (a.cpp:1)", "g[3]"),
        ] {
            assert_eq!(Frame::parse(raw).name_without_parameters(), name, "{raw}");
        }
    }

    #[test]
    fn source_names() {
        for (raw, name) in [
            ("0x1: app::Matrix::Matrix(unsigned long) (clones.cpp:24)", "Matrix"),
            ("0x1: Matrix (clones.cpp:24)", "Matrix"),
            ("0x1: app::fill(int, int) [clone .constprop.0] (clones.cpp:17)", "fill"),
            ("0x1: main::{lambda(int)#1}::operator()(int) const (inventory.cpp:71)", "operator()"),
            ("0x1: app::make_formatter(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)::{lambda(int)#1}::operator()(int) const (clones.cpp:34)", "operator()"),
            ("0x1: inventory::Pool<std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > >::add(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >) (inventory.cpp:22)", "add"),
            ("0x1: std::unique_ptr<app::Buffer, std::default_delete<app::Buffer> > std::make_unique<app::Buffer, int>(int&&) (unique_ptr.h:1065)", "make_unique"),
            ("0x1: make_unique<app::Buffer, int> (unique_ptr.h:1065)", "make_unique"),
            ("0x1: inventory::make_label[abi:cxx11](int) (inventory.cpp:45)", "make_label"),
            ("0x1: dup_key.constprop.0 (linked2.c:27)", "dup_key"),
            ("0x1: ns::operator<<(std::ostream&, ns::V const&) (a.cpp:1)", "operator<<"),
            ("0x1: app::json::parse_json::<serde_json::Value> (src/json.rs:3:1)", "parse_json"),
            ("0x1: <app::Lexer as core::iter::Iterator>::next (src/lex.rs:3:1)", "next"),
        ] {
            assert_eq!(Frame::parse(raw).source_name(), name, "{raw}");
        }
    }

    #[test]
    fn a_clone_is_its_function() {
        let cpp =
            Frame::parse("0x10A050: app::fill(int, int) [clone .constprop.0] (clones.cpp:17)");
        assert_eq!(
            cpp.crate_name(),
            "clones.cpp",
            "a C++ namespace is never a crate"
        );
        assert!(!cpp.is_boring());
        let c = Frame::parse("0x1: xmalloc.constprop.0 (xmalloc.c:3)");
        assert!(c.is_allocator());
        assert!(Frame::parse(
            "0x10A84B: void std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::_M_construct<char*>(char*, char*, std::forward_iterator_tag) [clone .isra.0] (basic_string.tcc:225)"
        )
        .is_boring());
    }

    #[test]
    fn the_precompiled_standard_librarys_functions_are_named_with_a_bare_file() {
        for std in [
            "0x1: alloc::fmt::format::format_inner (fmt.rs:652)",
            "0x1: std::rt::lang_start_internal (rt.rs:171)",
            "0x1: <alloc::string::String as core::fmt::Write>::write_str (string.rs:1)",
            "0x1: <str as core::fmt::Display>::fmt (mod.rs:2)",
        ] {
            assert!(Frame::parse(std).is_precompiled_std(), "{std}");
        }
        for not in [
            // std's generic code compiled in the program's crate.
            "0x1: core::iter::traits::iterator::Iterator::fold (library/core/src/iter/traits/iterator.rs:2647)",
            "0x1: std::rt::lang_start::{{closure}} (library/std/src/rt.rs:206)",
            // dhat-rs writes a file's directory.
            "0x1: alloc::fmt::format::format_inner (alloc/src/fmt.rs:652:5)",
            // An inlined function, another crate, no file, C++.
            "0x1: with_capacity (string.rs:485)",
            "0x1: hashbrown::raw::RawTableInner::fallible_with_capacity (mod.rs:1672)",
            "0x1: app::main (main.rs:5)",
            "0x1: std::rt::lang_start_internal (in /tmp/app)",
            "0x1: std::vector<int, std::allocator<int> >::push_back(int const&) (stl_vector.h:1281)",
        ] {
            assert!(!Frame::parse(not).is_precompiled_std(), "{not}");
        }
    }

    #[test]
    fn the_loaders_frames_named_with_glibcs_sources_are_plumbing() {
        // A C++ program's libstdc++ allocating at load time, and the loader's own copies
        // (tests/fixtures/valgrind-cpp-release.json, valgrind-copy.json), with glibc's symbols.
        for loader in [
            "0x4004A1D: call_init (dl-init.c:74)",
            "0x4004A1D: call_init (dl-init.c:26)",
            "0x40052BD: open_path (dl-load.c:1859)",
            "0x4002260: openaux (dl-deps.c:64)",
            "0x4018410: _dl_catch_exception (dl-error-skeleton.c:208)",
            "0x401DB14: dl_main (rtld.c:2012)",
            "0x1: dl_open_worker_begin (elf/dl-open.c:534)",
            "0x1: _dlfo_mappings_segment_allocate (/build/glibc-2.35/elf/dl-find_object.c:217)",
        ] {
            assert!(Frame::parse(loader).is_boring(), "{loader}");
        }
        // A program's own files: names not of the loader's, or in a directory of their own.
        for own in [
            "0x1: call_init (loader.c:7)",
            "0x1: open_path (dl.c:7)",
            "0x1: dl_main (dl-util.c:7)",
            "0x1: call_init (src/dl-init.c:7)",
            "0x1: dl_main (tools/rtld.c:7)",
            "0x1: call_init (init.c:7)",
            "0x1: call_init (dl-init.cpp:7)",
        ] {
            assert!(!Frame::parse(own).is_boring(), "{own}");
        }
        assert!(LOADER_SOURCES.windows(2).all(|w| w[0] < w[1]), "sorted");
    }

    #[test]
    fn frames_without_symbols() {
        let f = Frame::parse("0x4A2F10: ??? (in /usr/lib/git-core/git)");
        assert!(f.is_unsymbolised() && f.is_boring());
        assert_eq!(f.to_string(), "0x4A2F10 (in git)");
        assert_eq!(f.crate_name(), "git");
        assert!(Frame::parse("0x1: (below main) (libc_start_call_main.h:58)").is_boring());
    }

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abcd", false),
            ("*", "", true),
            ("", "", true),
            ("", "a", false),
            ("a", "a", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("operator new*", "operator new[](unsigned long)", true),
        ] {
            assert_eq!(glob(p, t), m, "{p} {t}");
        }
    }
}
