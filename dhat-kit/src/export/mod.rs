//! Writers of a loaded [`Profile`] in other tools' formats: pprof's `profile.proto` (for
//! `go tool pprof` and Grafana Pyroscope), speedscope's file format, and folded stacks (for
//! inferno, `flamegraph.pl` and most flame graph tools).
//!
//! Every writer streams: the stacks come from one [`Fold`](crate::analyze::Fold) of the profile
//! and go out as they are walked, so converting a profile of millions of program points takes
//! little more memory than the profile itself.
//!
//! # Examples
//!
//! ```
//! use dhat_kit::export::{self, To};
//! let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
//!   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
//!   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
//!   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
//! let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
//! let mut out = Vec::new();
//! export::write(&p, "app.json", &export::Options::new(To::Folded), &mut out)?;
//! assert_eq!(String::from_utf8(out)?, "app::main 12\napp::main;app::parse 30\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod folded;
#[cfg(feature = "cli")]
mod pprof;
mod speedscope;

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::path::Path;

use crate::analyze::Metric;
use crate::profile::{Frame, Profile};

pub use self::folded::folded;
#[cfg(feature = "cli")]
pub use self::pprof::pprof;
pub use self::speedscope::{speedscope, speedscope_with_threads};

/// A format [`write()`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum To {
    /// pprof's `profile.proto`, gzip-compressed (feature `cli`).
    Pprof,
    /// speedscope's JSON file format: one weighted profile per figure.
    Speedscope,
    /// Folded stacks, `main;parse;alloc 1942` lines, of one figure.
    Folded,
}

impl To {
    /// The usual file name extension of the format.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            To::Pprof => "pb.gz",
            To::Speedscope => "speedscope.json",
            To::Folded => "folded",
        }
    }
}

/// What [`write()`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The format.
    pub to: To,
    /// The figure of folded stacks. The other formats ignore it and carry each figure the
    /// profile has: allocated bytes and blocks; with block lifetimes, bytes and blocks at t-gmax
    /// and at t-end; with block accesses, bytes read and written (not `max-bytes`, which is
    /// informative only).
    pub by: Metric,
}

impl Options {
    /// Options for `to`, folded stacks weighted by total bytes.
    #[must_use]
    pub fn new(to: To) -> Options {
        Options {
            to,
            by: Metric::TotalBytes,
        }
    }
}

/// Why a profile could not be written.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The profile does not have the figure asked for.
    Profile(crate::analyze::Error),
    /// The format needs a feature this build lacks (pprof needs `cli`).
    Feature {
        /// The format.
        format: &'static str,
        /// The feature.
        feature: &'static str,
    },
    /// A figure adds up to more than the format can hold: pprof's values are signed 64-bit, and
    /// speedscope reads its JSON numbers as JavaScript's doubles, exact up to 2^53.
    Range {
        /// The format.
        format: &'static str,
        /// The figure, as the format names it, in the profile's units (`total_bytes`,
        /// `total_events`).
        figure: String,
        /// What it adds up to (`u64::MAX` if more).
        total: u64,
    },
    /// Writing failed.
    Io(std::io::Error),
}

/// The largest figure `format` holds exactly, and why.
pub(crate) fn largest_value(format: &str) -> (u64, &'static str) {
    if format == "speedscope" {
        (
            1 << 53,
            "speedscope reads its numbers as JavaScript's doubles, exact up to 2^53",
        )
    } else {
        (i64::MAX as u64, "its values are signed 64-bit")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Profile(e) => e.fmt(f),
            Error::Feature { format, feature } => {
                write!(f, "{format} output needs dhat-kit's `{feature}` feature")
            }
            Error::Range {
                format,
                figure,
                total,
            } => {
                let total = if *total == u64::MAX {
                    format!("{total} or more")
                } else {
                    total.to_string()
                };
                let (largest, why) = largest_value(format);
                write!(
                    f,
                    "{figure} adds up to {total}, above {format}'s largest value, {largest} \
                     ({why}): nothing written"
                )
            }
            Error::Io(e) => write!(f, "cannot write: {e}"),
        }
    }
}

/// [`Error::Profile`] is its analysis error, transparently: that error's message and its source
/// (a chain that named the analysis error as the source said its message twice). [`Error::Io`]
/// says the I/O error's text, and its source is the I/O error's own, for the same reason.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Profile(e) => e.source(),
            Error::Feature { .. } | Error::Range { .. } => None,
            Error::Io(e) => e.source(),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// Writes `profile` (read from the file `name`, which names it in the output) in the format of
/// `options` to `out`.
///
/// # Errors
///
/// [`Error::Profile`] if folded stacks are asked for a figure the profile lacks,
/// [`Error::Feature`] for pprof without the `cli` feature, [`Error::Io`] if `out` fails.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::Metric;
/// use dhat_kit::export::{self, Options, To};
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":3,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
///
/// // Folded stacks of one figure, chosen by `by`.
/// let mut options = Options::new(To::Folded);
/// options.by = Metric::TotalBlocks;
/// let mut out = Vec::new();
/// export::write(&p, "app.json", &options, &mut out)?;
/// assert_eq!(String::from_utf8(out)?, "app::main 3\napp::main;app::parse 1\n");
///
/// // This profile has no block lifetimes, so no bytes at t-gmax to fold.
/// options.by = Metric::PeakBytes;
/// let err = export::write(&p, "app.json", &options, &mut Vec::new()).unwrap_err();
/// assert!(matches!(err, export::Error::Profile(_)));
///
/// // speedscope carries every figure, one profile each, named after the file.
/// let mut out = Vec::new();
/// export::write(&p, "app.json", &Options::new(To::Speedscope), &mut out)?;
/// let text = String::from_utf8(out)?;
/// assert!(text.contains("bytes total: app.json") && text.contains("blocks total: app.json"));
///
/// // pprof is gzip-compressed, and needs the `cli` feature.
/// let mut out = Vec::new();
/// match export::write(&p, "app.json", &Options::new(To::Pprof), &mut out) {
///     Ok(()) => assert_eq!(out[..2], [0x1f, 0x8b]),
///     Err(export::Error::Feature { feature, .. }) => assert_eq!(feature, "cli"),
///     Err(e) => return Err(e.into()),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(
    profile: &Profile,
    name: &str,
    options: &Options,
    out: &mut impl Write,
) -> Result<(), Error> {
    match options.to {
        #[cfg(feature = "cli")]
        To::Pprof => pprof(profile, out),
        #[cfg(not(feature = "cli"))]
        To::Pprof => Err(Error::Feature {
            format: "pprof",
            feature: "cli",
        }),
        To::Speedscope => speedscope(profile, name, out),
        To::Folded => folded(profile, options.by, out).map(|_| ()),
    }
}

/// [`write()`] to the file `path`, atomically: into a temporary file beside it, renamed over it
/// once complete (a reader never sees half a file; on failure the temporary file is removed); a
/// device (`/dev/null`, `/dev/stdout`) is written in place.
///
/// # Errors
///
/// As [`write()`], and the I/O errors of creating, syncing and renaming the file.
///
/// # Examples
///
/// ```
/// use dhat_kit::export::{self, Options, To};
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let path = std::env::temp_dir().join(format!("dhat-kit-doc-export-{}.folded", std::process::id()));
/// export::write_file(&p, "app.json", &Options::new(To::Folded), &path)?;
/// assert_eq!(std::fs::read_to_string(&path)?, "app::main 12\napp::main;app::parse 30\n");
/// // A second write replaces the file whole.
/// export::write_file(&p, "app.json", &Options::new(To::Speedscope), &path)?;
/// assert!(std::fs::read_to_string(&path)?.contains("speedscope.app"));
/// std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_file(
    profile: &Profile,
    name: &str,
    options: &Options,
    path: &Path,
) -> Result<(), Error> {
    crate::atomic_file::write_with(path, |out| write(profile, name, options, out))
}

/// Appends `v` in decimal to `buf`, two digits at a time, without `fmt`'s machinery: the
/// exports write tens of millions of numbers.
pub(crate) fn push_decimal(buf: &mut Vec<u8>, mut v: u64) {
    const PAIRS: [u8; 200] = {
        let mut t = [0u8; 200];
        let mut i = 0;
        while i < 100 {
            t[2 * i] = b'0' + (i / 10) as u8;
            t[2 * i + 1] = b'0' + (i % 10) as u8;
            i += 1;
        }
        t
    };
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + v as u8;
    }
    buf.extend_from_slice(&digits[i..]);
}

/// A frame as the exports write it.
pub(crate) struct Written<'a> {
    /// Its function itself: a copy the compiler specialised or split is the function it was
    /// made from (`app::fill(int, int) [clone .constprop.0]` is `app::fill(int, int)`, C's
    /// `dup_key.constprop.0` is `dup_key`), as `dhat-kit top --group-by function` has it; for a
    /// frame without a symbol, which only its address tells from the other unknown code of its
    /// binary, its address and binary as `dhat-kit top` shows it (`0x10C785 (in ls)`), so that
    /// two of them are not one function.
    pub name: Cow<'a, str>,
    /// Its source file, else its object file; none where neither is known (dhat-rs writes an
    /// unknown file as `???:0:0`).
    pub file: Option<&'a str>,
    /// Its line, where its source file is known.
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // pprof is the command's
    pub line: Option<u32>,
}

impl<'a> Written<'a> {
    pub(crate) fn new(frame: &Frame<'a>) -> Written<'a> {
        let name = if frame.is_unsymbolised() && frame.address.is_some() {
            Cow::Owned(frame.to_string())
        } else {
            Cow::Borrowed(crate::analyze::stable_name(frame.function_itself()))
        };
        let source = frame.file.filter(|&f| f != "???");
        Written {
            name,
            file: source.or(frame.object),
            line: source.and(frame.line),
        }
    }
}

/// A figure the exports carry.
pub(crate) struct Figure {
    pub metric: Metric,
    /// What of the unit it counts, in speedscope's profile names (`bytes total`, `bytes at
    /// t-gmax`, `bytes read`).
    pub what: &'static str,
    /// The start of its pprof sample type (`total` of `total_bytes`, `gmax` of `gmax_blocks`).
    #[cfg_attr(not(feature = "cli"), allow(dead_code))] // pprof is the command's
    pub tag: &'static str,
    /// Its unit: the profile's unit or blocks, plural (`bytes`, `blocks`; `units`, `events` in
    /// an ad-hoc profile).
    pub unit: String,
}

impl Figure {
    /// The name of its pprof sample type: `total_bytes`, `gmax_blocks`, `total_events` (and of
    /// the figure in [`Error::Range`], whatever the format).
    pub fn pprof_type(&self) -> String {
        format!("{}_{}", self.tag, type_unit(&self.unit))
    }

    /// The name of its speedscope profile of the file `name`: `bytes total: app.json`.
    pub fn speedscope_name(&self, name: &str) -> String {
        format!("{} {}: {name}", self.unit, self.what)
    }

    /// Its unit in speedscope: `bytes`, or `none` for blocks and an ad-hoc profile's units.
    pub fn speedscope_unit(&self) -> &'static str {
        if self.metric.is_blocks() || self.unit != "bytes" {
            "none"
        } else {
            "bytes"
        }
    }
}

/// The figures a profile has, each with the names and unit the exports give it: allocated bytes
/// and blocks always; bytes and blocks at t-gmax and at t-end with block lifetimes; bytes read
/// and written with block accesses.
pub(crate) fn figures(profile: &Profile) -> Vec<Figure> {
    let (mut units, mut blocks) = (profile.unit_plural(), profile.blocks_plural());
    // Units that would name two figures alike (`"bsu":"events","bksu":"events"`: two pprof
    // sample types `total_events`, both the default), or none (`"bsu":""`: `total_`), are not
    // the file's to keep: each figure is named by its kind instead.
    let (u, b) = (type_unit(units), type_unit(blocks));
    if u == b || u.is_empty() || b.is_empty() {
        (units, blocks) = if profile.bsu.is_some() || profile.bksu.is_some() {
            ("units", "events")
        } else {
            ("bytes", "blocks")
        };
    }
    let mut all = vec![
        (Metric::TotalBytes, "total", "total"),
        (Metric::TotalBlocks, "total", "total"),
    ];
    if profile.bklt {
        all.extend([
            (Metric::PeakBytes, "at t-gmax", "gmax"),
            (Metric::PeakBlocks, "at t-gmax", "gmax"),
            (Metric::EndBytes, "at t-end", "end"),
            (Metric::EndBlocks, "at t-end", "end"),
        ]);
    }
    if profile.bkacc {
        all.extend([
            (Metric::Reads, "read", "read"),
            (Metric::Writes, "written", "written"),
        ]);
    }
    all.into_iter()
        .map(|(metric, what, tag)| Figure {
            metric,
            what,
            tag,
            unit: if metric.is_blocks() { blocks } else { units }.to_owned(),
        })
        .collect()
}

/// A unit as a pprof sample type's name holds it: each character but a letter or digit `_`.
fn type_unit(unit: &str) -> String {
    unit.chars()
        .map(|c| if c.is_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    /// Units that would name two figures alike, or none, give way to the kinds' own names: an
    /// ad-hoc profile with `"bsu":"events","bksu":"events"` had two pprof sample types named
    /// `total_events`, both marked the default, and `"bsu":""` one named `total_`.
    #[test]
    fn units_that_would_name_figures_alike_give_way() {
        let names = |bsu: &str, bksu: &str| {
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
                "bkacc":false,"bu":"unit","bsu":"{bsu}","bksu":"{bksu}","tu":"µs","Mtu":"s",
                "cmd":"t","pid":1,"te":10,"pps":[{{"tb":100,"tbk":1,"fs":[1]}}],
                "ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}}"#
            );
            let p = crate::profile::from_slice(json.as_bytes(), "app.json").unwrap();
            super::figures(&p)
                .iter()
                .map(super::Figure::pprof_type)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("units", "events"), ["total_units", "total_events"]);
        assert_eq!(names("events", "events"), ["total_units", "total_events"]);
        assert_eq!(names("", "events"), ["total_units", "total_events"]);
        assert_eq!(names("b-b", "b.b"), ["total_units", "total_events"]);
        assert_eq!(
            names("calls", "requests"),
            ["total_calls", "total_requests"]
        );
    }

    /// An analysis error is its own message once in a chain, not again as its source's.
    #[test]
    fn an_analysis_error_is_its_own_cause_once() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
          "bkacc":false,"tu":"µs","Mtu":"s","cmd":"t","pid":1,"te":10,
          "pps":[{"tb":100,"tbk":1,"fs":[1]}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "app.json").unwrap();
        let mut options = super::Options::new(super::To::Folded);
        options.by = crate::analyze::Metric::PeakBytes;
        let err = super::write(&p, "app.json", &options, &mut Vec::new()).unwrap_err();
        assert!(matches!(err, super::Error::Profile(_)), "{err}");
        crate::tests::each_cause_once(&err);
    }

    /// A sampled profile's remainder is named `[unsampled remainder]` in every format, without
    /// what it was estimated from, which differs from run to run.
    #[test]
    fn the_remainder_is_named_alike_in_every_run() {
        let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-sampled","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[
            {"tb":100,"tbk":1,"mb":100,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1,2]},
            {"tb":40,"tbk":2,"mb":40,"mbk":2,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[3]}],
          "ftbl":["[root]","0x1: app::parse (src/parse.rs:3:5)","0x2: app::main (src/main.rs:9:1)",
            "[unsampled remainder] estimated from 845 samples at mean interval 524288 bytes"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "dhat-sampled.json").unwrap();
        let mut written = Vec::new();
        for to in [super::To::Folded, super::To::Speedscope] {
            let mut out = Vec::new();
            super::write(&p, "dhat-sampled.json", &super::Options::new(to), &mut out).unwrap();
            written.push((to, String::from_utf8(out).unwrap()));
        }
        #[cfg(feature = "cli")]
        {
            use std::io::Read;
            let mut out = Vec::new();
            super::write(
                &p,
                "dhat-sampled.json",
                &super::Options::new(super::To::Pprof),
                &mut out,
            )
            .unwrap();
            let mut proto = Vec::new();
            flate2::read::GzDecoder::new(&out[..])
                .read_to_end(&mut proto)
                .unwrap();
            written.push((
                super::To::Pprof,
                String::from_utf8_lossy(&proto).into_owned(),
            ));
        }
        for (to, text) in written {
            assert!(text.contains("[unsampled remainder]"), "{to:?}: {text}");
            assert!(!text.contains("estimated from"), "{to:?}: {text}");
        }
        let folded = crate::analyze::folded(&p, crate::analyze::Metric::TotalBytes).unwrap();
        assert!(
            folded.iter().any(|l| l == "[unsampled remainder] 40"),
            "{folded:?}"
        );
    }

    #[test]
    fn decimals() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut values = vec![0, 1, 9, 10, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1];
        for _ in 0..1000 {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            values.push(seed >> (seed % 64));
        }
        for v in values {
            let mut buf = b"x".to_vec();
            super::push_decimal(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap(), format!("x{v}"));
        }
    }
}
