//! [`Skip`]: a program's own allocation wrappers, skipped when finding each program point's site.

use std::path::Path;

use crate::profile::frame::{glob, without_return_type};
use crate::profile::Frame;

/// Functions to skip, besides the built-in rules ([`Frame::is_boring`] and
/// [`ALLOCATION_WRAPPERS`](crate::profile::ALLOCATION_WRAPPERS)), when finding the site of a
/// program point: a program's own allocation wrappers (`my_xmalloc`, `arena_alloc*`), as
/// Valgrind's massif takes `--alloc-fn`. A pattern matches a frame's whole function name, or,
/// for C and C++, the name as it is written in the source: without a C++ parameter list, return
/// type or ABI tag, and without the suffix of a compiler's specialised copy (`ns::Arena::grow`
/// matches `ns::Arena::grow(unsigned long)`, `my_xmalloc` matches `my_xmalloc.constprop.0`);
/// `*` matches any run of characters.
///
/// The command takes them from `--skip PATTERN` (repeatable), from `--skip-file FILE` (one pattern
/// a line; blank lines and lines starting with `#` are ignored) and from the environment variable
/// `DHAT_KIT_SKIP` (patterns separated by `;`), for CI.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::{top, Skip, TopOptions};
/// let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,"bkacc":false,
///   "tu":"instrs","Mtu":"Minstr","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":64,"tbk":1,"fs":[1,2,3]}],
///   "ftbl":["[root]","0x1: malloc (in vgpreload_dhat.so)","0x2: arena_grow (arena.c:9)",
///           "0x3: parse (parse.c:30)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// assert_eq!(top(&p, &TopOptions::default())?.rows[0].site, "arena_grow (arena.c:9)");
/// let mut opts = TopOptions::default();
/// opts.skip = Skip::new().with("arena_*");
/// assert_eq!(top(&p, &opts)?.rows[0].site, "parse (parse.c:30)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skip {
    patterns: Vec<String>,
}

/// No patterns, for what finds sites without a command line (`Frames` of a budget check).
#[cfg(feature = "budget")]
pub(crate) static NO_SKIP: Skip = Skip::new();

/// The environment variable [`Skip::from_env`] reads.
pub const SKIP_ENV: &str = "DHAT_KIT_SKIP";

impl Skip {
    /// No patterns: the built-in rules only.
    #[must_use]
    pub const fn new() -> Skip {
        Skip {
            patterns: Vec::new(),
        }
    }

    /// These patterns and `pattern`.
    #[must_use]
    pub fn with(mut self, pattern: impl Into<String>) -> Skip {
        self.add(pattern);
        self
    }

    /// Adds `pattern` (surrounding white space removed; an empty pattern is ignored).
    pub fn add(&mut self, pattern: impl Into<String>) {
        let pattern = pattern.into();
        let pattern = pattern.trim();
        if !pattern.is_empty() {
            self.patterns.push(pattern.to_owned());
        }
    }

    /// The patterns of `DHAT_KIT_SKIP`, separated by `;` (none when it is unset).
    #[must_use]
    pub fn from_env() -> Skip {
        let mut skip = Skip::new();
        if let Some(v) = std::env::var_os(SKIP_ENV) {
            for p in v.to_string_lossy().split(';') {
                skip.add(p);
            }
        }
        skip
    }

    /// Adds the patterns of a file: one a line; blank lines and lines starting with `#` are
    /// ignored.
    ///
    /// # Errors
    ///
    /// The I/O error of reading the file; one of kind
    /// [`InvalidData`](std::io::ErrorKind::InvalidData) if it is not UTF-8 text, and of kind
    /// [`FileTooLarge`](std::io::ErrorKind::FileTooLarge) if it holds more than 16 MiB (a file
    /// without end given in its place, `/dev/zero`, would fill memory).
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> std::io::Result<()> {
        // A file without end given as the list ran the process out of memory.
        let bytes = crate::small_file::read(path.as_ref(), 16 << 20, "list of patterns")?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("not UTF-8 text (byte 0x{:02X} on line {line})", bytes[at]),
            )
        })?;
        for line in text.lines() {
            if !line.trim_start().starts_with('#') {
                self.add(line);
            }
        }
        Ok(())
    }

    /// The patterns, in the order they were added.
    #[must_use]
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether one of the patterns matches the frame's function, whole or as written in the
    /// source (without a C++ parameter list, return type, ABI tag or clone suffix).
    #[must_use]
    pub fn matches(&self, frame: &Frame<'_>) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let name = without_return_type(frame.name_without_parameters());
        self.patterns
            .iter()
            .any(|p| glob(p, frame.function) || glob(p, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file without end given as the list (`/dev/zero`) is an error, read no further than the
    /// most a list holds: it was read whole, until the process ran out of memory.
    #[cfg(unix)]
    #[test]
    fn a_file_without_end_is_refused() {
        let err = Skip::new().add_file("/dev/zero").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::FileTooLarge);
    }

    /// A list that is not UTF-8 says where (it said "stream did not contain valid UTF-8").
    #[test]
    fn a_list_that_is_not_utf8_says_where() {
        let dir = crate::atomic_file::fresh_dir("skip-latin1");
        let list = dir.join("skip.txt");
        std::fs::write(&list, b"# wrappers\nmy_alloc\ncaf\xe9_alloc\n").unwrap();
        let err = Skip::new().add_file(&list).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(err.to_string(), "not UTF-8 text (byte 0xE9 on line 3)");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn patterns_match_whole_names_with_stars() {
        let skip = Skip::new().with("my_alloc").with("arena_*").with("*::grow");
        let m = |raw: &str| skip.matches(&Frame::parse(raw));
        assert!(m("0x1: my_alloc (a.c:1)"));
        assert!(!m("0x1: my_alloc2 (a.c:1)"));
        assert!(m("0x1: arena_alloc (a.c:1)"));
        assert!(m("0x1: app::buf::grow (src/buf.rs:1:1)"));
        assert!(!m("0x1: app::buf::grown (src/buf.rs:1:1)"));
        assert!(!Skip::new().matches(&Frame::parse("0x1: f (a.c:1)")));
    }

    #[test]
    fn c_and_cpp_functions_match_as_written_in_the_source() {
        // Valgrind's DHAT on `g++ -O0 -g` and `gcc -O2 -g` (GCC 12).
        let skip = Skip::new()
            .with("inventory::Catalog::insert")
            .with("dup_key")
            .with("app::fill")
            .with("inventory::make_label")
            .with("ns::make<int>");
        let m = |raw: &str| skip.matches(&Frame::parse(raw));
        assert!(m("0x10A2F1: inventory::Catalog::insert(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&, int) (inventory.cpp:32)"));
        assert!(m("0x109379: dup_key.constprop.0 (linked2.c:27)"));
        assert!(m(
            "0x10A050: app::fill(int, int) [clone .constprop.0] (clones.cpp:17)"
        ));
        assert!(m(
            "0x10A0F2: inventory::make_label[abi:cxx11](int) (inventory.cpp:45)"
        ));
        assert!(m(
            "0x1: std::vector<int, std::allocator<int> > ns::make<int>(int) (a.cpp:3)"
        ));
        assert!(!m(
            "0x1: inventory::Catalog::insert_all(int) (inventory.cpp:40)"
        ));
        assert!(!m("0x1: dup_keys (a.c:1)"));
        // The whole name, as before.
        let whole = Skip::new().with("ns::grow(unsigned long)");
        assert!(whole.matches(&Frame::parse("0x1: ns::grow(unsigned long) (a.cpp:1)")));
    }

    #[test]
    fn files_skip_comments_and_blank_lines() {
        let dir = std::env::temp_dir().join(format!("dhat-kit-skip-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("skip.txt");
        std::fs::write(&file, "# wrappers\nmy_alloc\n\n  arena_* \n").unwrap();
        let mut skip = Skip::new();
        skip.add_file(&file).unwrap();
        assert_eq!(skip.patterns(), ["my_alloc", "arena_*"]);
        assert!(skip.add_file(dir.join("missing")).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
