//! What the `dhat-kit` command computes over a loaded [`Profile`]: the [`summary()`], the [`top()`]
//! allocation sites, the [`diff()`] of two profiles, and the [`folded`] stacks of a flame graph
//! (rendered to SVG by `flamegraph_svg`, under the `cli` feature), and, under the `budget` feature,
//! the budgets per component (`budget`).
//!
//! # Examples
//!
//! ```
//! use dhat_kit::analyze::{self, GroupBy, Metric, TopOptions};
//! let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
//!   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"demo","pid":7,"te":100,
//!   "pps":[{"tb":30,"tbk":2,"fs":[1,2]},{"tb":10,"tbk":1,"fs":[1,3]}],
//!   "ftbl":["[root]","0x1: alloc::alloc::alloc (alloc/src/alloc.rs:9:1)",
//!           "0x2: app::parse (src/parse.rs:3:5)","0x3: app::render (src/render.rs:8:1)"]}"#;
//! let profile = dhat_kit::profile::from_slice(json.as_bytes(), "demo.json")?;
//! let top = analyze::top(&profile, &TopOptions::default())?;
//! assert_eq!(top.rows[0].site, "app::parse (src/parse.rs:3)"); // the allocator frame skipped
//! assert_eq!(top.rows[0].value, 30);
//! assert_eq!(top.rows[0].share, 75.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "budget")]
pub mod budget;
mod diff;
mod flame;
mod regions;
mod skip;
mod summary;
mod top;

use std::fmt;

use crate::profile::{Frame, Kind, Profile, ProgramPoint};

#[cfg(feature = "cli")]
pub(crate) use self::diff::{compare, side};
pub use self::diff::{diff, Diff, DiffOptions, SiteChange, TotalChange};
#[cfg(feature = "cli")]
pub use self::flame::flamegraph_svg;
#[cfg(test)]
pub(crate) use self::flame::tests::rng as test_rng;
pub use self::flame::{flame_title, folded, Fold, FoldBy};
pub use self::regions::{regions, RegionRow, RegionTable, MAX_REGION_DEPTH, OUTSIDE};
pub use self::skip::{Skip, SKIP_ENV};
pub(crate) use self::summary::stable_name;
#[cfg(feature = "sampled")]
pub(crate) use self::summary::REMAINDER;
pub use self::summary::{summary, Summary};
#[cfg(feature = "cli")]
pub(crate) use self::top::Grouped;
pub use self::top::{top, Top, TopOptions, TopRow};

/// A figure: of a program point (to rank, total or draw by), and of a whole profile or measurement
/// (what a [baseline](crate::baseline) records).
///
/// Names: DHAT's figures are "at t-gmax" (the global peak) and "at t-end". [`Stats`](crate::Stats)
/// keeps dhat's own field names for the same two ideas, `max_*` (the peak) and `curr_*` (live at the
/// end); here, on the command line and in baseline files, they are `peak` and `end`.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::Metric;
/// assert_eq!(Metric::parse("peak-bytes"), Some(Metric::PeakBytes));
/// assert_eq!(Metric::parse("end_bytes"), Some(Metric::EndBytes));
/// assert_eq!("reads".parse::<Metric>().unwrap().key(), "reads");
/// assert!("bytes".parse::<Metric>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Metric {
    /// Bytes (or units) allocated in all (`tb`).
    #[default]
    TotalBytes,
    /// Blocks (or events) allocated in all (`tbk`).
    TotalBlocks,
    /// Bytes live at the global peak, t-gmax (`gb`; heap profiles).
    PeakBytes,
    /// Blocks live at the global peak (`gbk`; heap profiles).
    PeakBlocks,
    /// Bytes live at the end (`eb`; heap profiles).
    EndBytes,
    /// Blocks live at the end (`ebk`; heap profiles).
    EndBlocks,
    /// The most bytes live at once at this point (`mb`; heap profiles). Summed over a group of
    /// points, an upper bound on the group's, not its peak: the points' maxima may fall at
    /// different moments.
    MaxBytes,
    /// Bytes read from the blocks (`rb`; Valgrind heap profiles).
    Reads,
    /// Bytes written to the blocks (`wb`; Valgrind heap profiles).
    Writes,
}

impl Metric {
    /// Every metric, in the order of the command's help.
    pub const ALL: [Metric; 9] = [
        Metric::TotalBytes,
        Metric::TotalBlocks,
        Metric::PeakBytes,
        Metric::PeakBlocks,
        Metric::EndBytes,
        Metric::EndBlocks,
        Metric::MaxBytes,
        Metric::Reads,
        Metric::Writes,
    ];

    /// The metric named `name`, as on the command line (`peak-bytes`) or as a key of a file
    /// (`peak_bytes`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Metric> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == name || m.key() == name)
    }

    /// The name as `profile` counts: [`name`](Metric::name) (`total-bytes`), or in an ad-hoc
    /// profile, whose bytes are units and whose blocks are events, `total-units` and
    /// `total-events` (the file's own names for them), as `top` heads its column.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::analyze::Metric;
    ///
    /// let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
    ///     "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s",
    ///     "te":10,"cmd":"app","pid":1,"pps":[],"ftbl":["[root]"]}"#;
    /// let ad_hoc = dhat_kit::profile::from_slice(json.as_bytes(), "ad-hoc.json")?;
    /// assert_eq!(Metric::TotalBytes.name_in(&ad_hoc), "total-units");
    /// assert_eq!(Metric::TotalBlocks.name_in(&ad_hoc), "total-events");
    /// # Ok::<(), dhat_kit::profile::ProfileError>(())
    /// ```
    #[must_use]
    pub fn name_in(self, profile: &Profile) -> String {
        let name = self.name();
        if profile.bsu.is_none() && profile.bksu.is_none() {
            return name.to_owned();
        }
        name.replace("bytes", profile.unit_plural())
            .replace("blocks", profile.blocks_plural())
    }

    /// The name as a key of a file (a baseline's field, a JSON key): `total_bytes`, `peak_bytes`, ...
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Metric::TotalBytes => "total_bytes",
            Metric::TotalBlocks => "total_blocks",
            Metric::PeakBytes => "peak_bytes",
            Metric::PeakBlocks => "peak_blocks",
            Metric::EndBytes => "end_bytes",
            Metric::EndBlocks => "end_blocks",
            Metric::MaxBytes => "max_bytes",
            Metric::Reads => "reads",
            Metric::Writes => "writes",
        }
    }

    /// The name in a table's text: `total bytes`, `peak bytes`, ...
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Metric::TotalBytes => "total bytes",
            Metric::TotalBlocks => "total blocks",
            Metric::PeakBytes => "peak bytes",
            Metric::PeakBlocks => "peak blocks",
            Metric::EndBytes => "end bytes",
            Metric::EndBlocks => "end blocks",
            Metric::MaxBytes => "max bytes",
            Metric::Reads => "reads",
            Metric::Writes => "writes",
        }
    }

    /// The figure of one program point.
    #[must_use]
    pub fn of(self, pp: &ProgramPoint) -> u64 {
        match self {
            Metric::TotalBytes => pp.tb,
            Metric::TotalBlocks => pp.tbk,
            Metric::PeakBytes => pp.gb,
            Metric::PeakBlocks => pp.gbk,
            Metric::EndBytes => pp.eb,
            Metric::EndBlocks => pp.ebk,
            Metric::MaxBytes => pp.mb,
            Metric::Reads => pp.rb,
            Metric::Writes => pp.wb,
        }
    }

    /// The name on the command line: `total-bytes`, `peak-bytes`, ...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Metric::TotalBytes => "total-bytes",
            Metric::TotalBlocks => "total-blocks",
            Metric::PeakBytes => "peak-bytes",
            Metric::PeakBlocks => "peak-blocks",
            Metric::EndBytes => "end-bytes",
            Metric::EndBlocks => "end-blocks",
            Metric::MaxBytes => "max-bytes",
            Metric::Reads => "reads",
            Metric::Writes => "writes",
        }
    }

    /// Whether it counts blocks rather than bytes.
    #[must_use]
    pub fn is_blocks(self) -> bool {
        matches!(
            self,
            Metric::TotalBlocks | Metric::PeakBlocks | Metric::EndBlocks
        )
    }

    /// Checks that `profile` has this figure: the peak, end and max figures need block lifetimes
    /// (`bklt`), reads and writes need block accesses (`bkacc`).
    ///
    /// # Errors
    ///
    /// [`Error`] saying which kind of profile the metric needs.
    pub fn check(self, profile: &Profile) -> Result<(), Error> {
        let needs_lt = matches!(
            self,
            Metric::PeakBytes
                | Metric::PeakBlocks
                | Metric::EndBytes
                | Metric::EndBlocks
                | Metric::MaxBytes
        );
        let needs_acc = matches!(self, Metric::Reads | Metric::Writes);
        let lacks = if needs_lt && !profile.bklt {
            Lacks::Lifetimes
        } else if needs_acc && !profile.bkacc {
            Lacks::Accesses
        } else {
            return Ok(());
        };
        Err(Error::Metric {
            metric: self,
            mode: profile.mode.clone(),
            lacks,
        })
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl std::str::FromStr for Metric {
    type Err = crate::ParseError;

    /// As [`Metric::parse`], with an error that lists the metrics.
    fn from_str(s: &str) -> Result<Metric, crate::ParseError> {
        Metric::parse(s).ok_or_else(|| {
            crate::ParseError::new(
                s,
                format!(
                    "unknown metric `{s}`; expected one of {}",
                    names(&Metric::ALL)
                ),
            )
        })
    }
}

/// `a, b or c`: the names of `metrics`, for messages.
pub(crate) fn names(metrics: &[Metric]) -> String {
    let mut out = String::new();
    for (i, m) in metrics.iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == metrics.len() { " or " } else { ", " });
        }
        out.push_str(m.name());
    }
    out
}

/// How program points are put together into rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum GroupBy {
    /// The code location of the most informative frame: function, file and line.
    #[default]
    Site,
    /// The function of the most informative frame: its name (a compiler's specialised copies
    /// are their function) in its source file. Functions of one name in two files are two rows,
    /// each labelled with its file (`helper (a.c)`, `helper (b.c)`); a name alone otherwise.
    Function,
    /// The source file (or, without one, the object file) of the most informative frame.
    File,
    /// The crate of the most informative frame (for C: the library or source file).
    Crate,
}

impl GroupBy {
    /// What one row is: `site`, `function`, `file` or `crate`.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            GroupBy::Site => "site",
            GroupBy::Function => "function",
            GroupBy::File => "file",
            GroupBy::Crate => "crate",
        }
    }

    /// Whether `profile`'s points can be grouped so: not a dhat-kit peak profile's by file or
    /// crate (its points are regions, which have neither).
    pub(crate) fn applies_to(self, profile: &Profile) -> bool {
        profile.mode != crate::profile::PEAK_MODE
            || matches!(self, GroupBy::Site | GroupBy::Function)
    }
}

/// An output format of `top` and `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// An aligned text table.
    #[default]
    Table,
    /// A GitHub-flavoured Markdown table, to paste into a write-up.
    Markdown,
    /// JSON (the shape of the result's `Serialize`).
    Json,
}

/// `a` or `an` before `word`, as it is read aloud: `an` before a vowel (`an ad-hoc profile`).
pub(crate) fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// What the profile lacks for a figure asked of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lacks {
    /// Block lifetimes (`bklt`): the peak, end and max figures.
    Lifetimes,
    /// Block accesses (`bkacc`, Valgrind's heap mode): reads and writes.
    Accesses,
}

/// Which of the two profiles of a [`diff()`] an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The profile before the change.
    Before,
    /// The profile after the change.
    After,
}

/// What a profile measures, for [`Error::Kinds`]: its kind, `mode` and unit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Measures {
    /// Heap blocks, copies or ad-hoc events.
    pub kind: Kind,
    /// The profile's `mode` (`heap`, `rust-heap`, `ad-hoc`, ...).
    pub mode: String,
    /// The plural name of its unit (`bytes`, `units`).
    pub unit: String,
}

impl Measures {
    /// What `profile` measures.
    #[must_use]
    pub fn of(profile: &Profile) -> Measures {
        Measures {
            kind: profile.kind(),
            mode: profile.mode.clone(),
            unit: profile.unit_plural().to_owned(),
        }
    }

    /// Whether the figures of the two can be compared: the same kind, in the same unit.
    #[must_use]
    pub fn comparable(&self, other: &Measures) -> bool {
        self.kind == other.kind && self.unit == other.unit
    }
}

impl fmt::Display for Measures {
    /// `a heap profile (mode `rust-heap`, in bytes)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Heap => "heap",
            Kind::Copy => "copy",
            Kind::AdHoc => "ad-hoc",
        };
        let article = if self.kind == Kind::AdHoc { "an" } else { "a" };
        write!(
            f,
            "{article} {kind} profile (mode `{}`, in {})",
            self.mode, self.unit
        )
    }
}

/// Why an analysis could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The profile does not have the figure asked for.
    Metric {
        /// The figure.
        metric: Metric,
        /// The profile's `mode`.
        mode: String,
        /// What it would need.
        lacks: Lacks,
    },
    /// One of the two profiles of a diff failed.
    Diff {
        /// Which one.
        side: Side,
        /// Why.
        source: Box<Error>,
    },
    /// The two profiles of a diff measure different things (a heap profile and an ad-hoc one, or
    /// figures in different units): their figures cannot be compared.
    Kinds {
        /// What the before profile counts.
        before: Measures,
        /// What the after profile counts.
        after: Measures,
    },
    /// The profile has no regions: it is not one of dhat-kit's peak or sampled profiles.
    NoRegions {
        /// The profile's `mode`.
        mode: String,
    },
    /// A program point's region path is deeper than [`regions()`] reads: more than
    /// [`MAX_REGION_DEPTH`] regions nested, each row holding its whole path (memory and output
    /// grow with the square of the depth).
    RegionDepth {
        /// The path's depth.
        depth: usize,
    },
    /// The profile's points cannot be grouped so: a dhat-kit peak profile's points are regions,
    /// which have no file or crate.
    Grouping {
        /// The grouping asked for.
        group_by: GroupBy,
        /// The profile's `mode`.
        mode: String,
    },
    /// The figure adds up to more than the flame graph draws exactly: 2^53 (inferno draws its
    /// counts as doubles, so each frame would show another figure).
    Range {
        /// The figure.
        metric: Metric,
        /// Its name as the profile counts it ([`Metric::name_in`]: `total-units` of an ad-hoc
        /// profile), which the message says.
        figure: String,
        /// What it adds up to (`u64::MAX` if more).
        total: u64,
    },
    /// Writing or drawing the output failed (`what`: "write the flame graph", ...).
    Output {
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Encoding the output failed.
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's error.
        source: serde_json::Error,
    },
}

impl Error {
    /// The I/O error of `what`, as an [`Error::Output`].
    #[cfg(feature = "cli")]
    pub(crate) fn output(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Output { what, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Metric {
                metric,
                mode,
                lacks: Lacks::Lifetimes,
            } => write!(
                f,
                "{metric} needs a heap profile with block lifetimes (bklt); this `{mode}` profile has \
                 none"
            ),
            Error::Metric {
                metric,
                mode,
                lacks: Lacks::Accesses,
            } => write!(
                f,
                "{metric} needs a profile with block accesses (Valgrind's heap mode); this is {} `{mode}` profile",
                article(mode)
            ),
            Error::Diff { side, source } => {
                let side = match side {
                    Side::Before => "before",
                    Side::After => "after",
                };
                write!(f, "the {side} profile: {source}")
            }
            Error::Kinds { before, after } => write!(
                f,
                "the two profiles measure different things: the before profile is {before}, the after profile {after}; compare profiles of one kind"
            ),
            Error::NoRegions { mode } => write!(
                f,
                "{} `{mode}` profile has no regions: they are in the profiles dhat-kit writes, \
                 dhat-peak.json (`Profiler::start()` with the default `peak` feature) and \
                 dhat-sampled.json",
                article(mode)
            ),
            Error::RegionDepth { depth } => write!(
                f,
                "a program point's region path is {depth} regions deep, more than the \
                 {MAX_REGION_DEPTH} the region table reads (each row holds its whole path): not \
                 nesting a program makes; `top` and `flamegraph` read such a profile"
            ),
            Error::Grouping { group_by, mode } => {
                let what = group_by.noun();
                write!(
                    f,
                    "{} `{mode}` profile's program points are regions, which have no {what}; \
                     group them by site (each region's path) or by function (each region)",
                    article(mode)
                )
            }
            Error::Range { figure, total, .. } => {
                let total = if *total == u64::MAX {
                    format!("{total} or more")
                } else {
                    total.to_string()
                };
                write!(
                    f,
                    "{figure} adds up to {total}, above {}, the largest figure the flame graph \
                     draws exactly (its counts are doubles): nothing drawn; folded stacks \
                     (`dhat-kit convert --to folded`) hold every figure exactly",
                    1u64 << 53
                )
            }
            Error::Output { what, source } => write!(f, "cannot {what}: {source}"),
            Error::Encode { what, source } => write!(f, "cannot encode {what}: {source}"),
        }
    }
}

/// The source of an error that says another's message (a side's of a diff, an I/O or encoding
/// error's) is that error's own source: a chain that named it as the source said its text twice.
/// The variant's `source` field holds it.
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Metric { .. }
            | Error::Kinds { .. }
            | Error::NoRegions { .. }
            | Error::RegionDepth { .. }
            | Error::Grouping { .. }
            | Error::Range { .. } => None,
            Error::Diff { source, .. } => source.source(),
            Error::Output { source, .. } => source.source(),
            Error::Encode { source, .. } => source.source(),
        }
    }
}

/// A figure's label (`total bytes`, `peak blocks`) in other units: its last word, `bytes` or
/// `blocks`, becomes `unit` or `blocks` (`total units`, `total events` for an ad-hoc profile).
pub(crate) fn in_units(label: &str, unit: &str, blocks: &str) -> String {
    match label.rsplit_once(' ') {
        Some((which, "bytes")) => format!("{which} {unit}"),
        Some((which, "blocks")) => format!("{which} {blocks}"),
        _ => label.to_owned(),
    }
}

/// The most informative frame of each program point's stack, cached per frame-table entry.
pub(crate) struct Frames<'p> {
    profile: &'p Profile,
    skip: &'p Skip,
    boring: Vec<Option<bool>>,
    /// Whether each entry is inlined into a function of the precompiled standard library
    /// ([`inlined_into_std`](crate::profile::frame::inlined_into_std)): plumbing.
    inlined_into_std: Vec<bool>,
    /// Whether each entry is the global allocator's ([`Frame::is_global_allocator_entry`]).
    entry: Vec<Option<bool>>,
    /// Per entry, the physical frame it is inlined into
    /// ([`physical_frames`](crate::profile::frame::physical_frames)), found when a crate's label
    /// first needs it.
    physical: std::cell::OnceCell<Vec<u32>>,
    /// The crates the profile's Rust frames name, per source file ([`FileCrates`]).
    file_crates: std::cell::OnceCell<FileCrates<'p>>,
}

/// Per Rust source file, and per crate root (the directory before the file's last `/src/`), the
/// crate that the functions of the profile's frames there name with their path (`myapp::build`
/// in `/w/repo-main/src/main.rs`), when they name one only: the crate of a frame there whose
/// function has no path (`{closure#0}`), which the file's directory (`repo-main`) does not
/// tell where the package's directory is not named after its crate.
#[derive(Default)]
struct FileCrates<'p> {
    files: std::collections::HashMap<&'p str, Option<&'p str>>,
    roots: std::collections::HashMap<&'p str, Option<&'p str>>,
}

impl<'p> FileCrates<'p> {
    fn of(ftbl: &'p [Box<str>]) -> FileCrates<'p> {
        let mut known = FileCrates::default();
        let note = |map: &mut std::collections::HashMap<&'p str, Option<&'p str>>, key, krate| {
            map.entry(key)
                .and_modify(|k: &mut Option<&'p str>| {
                    if *k != Some(krate) {
                        *k = None;
                    }
                })
                .or_insert(Some(krate));
        };
        for entry in ftbl {
            let f = Frame::parse(entry);
            let (Some(file), Some(krate)) = (f.file, f.named_crate()) else {
                continue;
            };
            if !file.ends_with(".rs") {
                continue;
            }
            note(&mut known.files, file, krate);
            if let Some(at) = file.rfind("/src/") {
                note(&mut known.roots, &file[..at], krate);
            }
        }
        known
    }

    /// The crate of a Rust frame in `file` whose function names none.
    fn of_file(&self, file: &str) -> Option<&'p str> {
        if let Some(&known) = self.files.get(file) {
            return known;
        }
        let root = &file[..file.rfind("/src/")?];
        self.roots.get(root).copied().flatten()
    }
}

impl<'p> Frames<'p> {
    pub(crate) fn new(profile: &'p Profile, skip: &'p Skip) -> Self {
        Frames {
            profile,
            skip,
            boring: vec![None; profile.ftbl.len()],
            inlined_into_std: crate::profile::frame::inlined_into_std(
                &profile.ftbl,
                profile.pps.iter().map(|pp| &*pp.fs),
            ),
            entry: vec![None; profile.ftbl.len()],
            physical: std::cell::OnceCell::new(),
            file_crates: std::cell::OnceCell::new(),
        }
    }

    /// The crate of a frame: [`Frame::crate_name`], or, for a frame Valgrind names without its
    /// path inlined into a function of the same file, that function's crate
    /// ([`Frame::crate_via`]). A Rust crate is named as its symbols name it: Cargo's package
    /// directory `md-prof/src/main.rs` is the crate `md_prof` of `md_prof::main`, one row.
    fn crate_of(&self, index: u32) -> String {
        let f = self.frame(index);
        let physical = self.physical.get_or_init(|| {
            crate::profile::frame::physical_frames(
                &self.profile.ftbl,
                self.profile.pps.iter().map(|pp| &*pp.fs),
            )
        });
        // A Rust function without a path (`{closure#0}`) in a file whose other functions name
        // their crate is of that crate.
        let of_its_file = || {
            let file = f.file.filter(|file| file.ends_with(".rs"))?;
            if f.named_crate().is_some() {
                return None;
            }
            self.file_crates
                .get_or_init(|| FileCrates::of(&self.profile.ftbl))
                .of_file(file)
        };
        let name = match physical.get(index as usize).copied() {
            Some(p) if p != crate::profile::frame::NOT_INLINED => f
                .crate_via(&self.frame(p))
                .or_else(of_its_file)
                .unwrap_or(f.crate_name()),
            _ => of_its_file().unwrap_or(f.crate_name()),
        };
        if f.file.is_some_and(|file| file.ends_with(".rs")) {
            name.replace('-', "_")
        } else {
            name.to_owned()
        }
    }

    pub(crate) fn frame(&self, index: u32) -> Frame<'p> {
        Frame::parse(self.profile.ftbl.get(index as usize).map_or("?", |s| s))
    }

    fn is_boring(&mut self, index: u32) -> bool {
        let i = index as usize;
        match self.boring.get(i).copied().flatten() {
            Some(b) => b,
            None => {
                let f = self.frame(index);
                let b = f.is_boring()
                    || self.inlined_into_std.get(i).copied().unwrap_or(false)
                    || self.skip.matches(&f);
                if let Some(slot) = self.boring.get_mut(i) {
                    *slot = Some(b);
                }
                b
            }
        }
    }

    fn is_entry(&mut self, index: u32) -> bool {
        let i = index as usize;
        match self.entry.get(i).copied().flatten() {
            Some(b) => b,
            None => {
                let b = self.frame(index).is_global_allocator_entry();
                if let Some(slot) = self.entry.get_mut(i) {
                    *slot = Some(b);
                }
                b
            }
        }
    }

    /// The position in `pp.fs` of its most informative frame: the first outside Rust's global
    /// allocator (past its outermost entry, `__rust_alloc`, whatever the frames inside it are
    /// named) that is not allocator or standard-library plumbing (nor inlined into the
    /// precompiled standard library's functions, however it is named), nor skipped, nor without a
    /// symbol; else (code without symbols) the first frame without a symbol in a binary that is
    /// not the allocator's or the C library's, labelled by its address and binary; else (a
    /// stack trimmed before it reached the caller's code, or the dynamic loader's own) the
    /// outermost outside the global allocator with a symbol that is neither the allocator's nor
    /// `[root]` nor `(below main)`, the nearest to that code (`_dl_start (rtld.c:584)`, not the
    /// loader's entry without a symbol, `??? (in ld-linux-x86-64.so.2)`, which would read as a
    /// binary whose debug symbols are missing); else the outermost of any frame that is neither
    /// `[root]` nor `(below main)`; else 0.
    pub(crate) fn informative(&mut self, pp: &ProgramPoint) -> usize {
        let inside = crate::profile::frame::allocator_frames(&pp.fs, |&f| self.is_entry(f));
        if let Some(pos) = pp.fs[inside..].iter().position(|&f| !self.is_boring(f)) {
            return inside + pos;
        }
        let bare = |f: &Frame<'_>| {
            f.is_unsymbolised()
                && f.address.is_some()
                && !f.object.is_some_and(|o| {
                    o.contains("vgpreload") || o.contains("/libc.so") || o.contains("/ld-linux")
                })
        };
        if let Some(pos) = pp.fs.iter().position(|&f| bare(&self.frame(f))) {
            return pos;
        }
        let outer = |f: u32| f != 0 && self.frame(f).function != "(below main)";
        let symbolised = |f: u32| {
            let frame = self.frame(f);
            outer(f) && !frame.is_unsymbolised() && !frame.is_allocator()
        };
        if let Some(pos) = pp.fs[inside..].iter().rposition(|&f| symbolised(f)) {
            return inside + pos;
        }
        pp.fs.iter().rposition(|&f| outer(f)).unwrap_or(0)
    }

    /// The row label of a frame under `group`. A sampled profile's remainder is
    /// `[unsampled remainder]` whatever its frame says it was estimated from (the samples differ
    /// from run to run), so that it is one site across profiles.
    pub(crate) fn label(&self, index: u32, group: GroupBy) -> String {
        let f = self.frame(index);
        if f.raw.starts_with(summary::REMAINDER)
            && self.profile.mode == crate::profile::SAMPLED_MODE
        {
            return summary::REMAINDER.to_owned();
        }
        match group {
            GroupBy::Site => f.to_string(),
            GroupBy::Function if f.is_unsymbolised() => match f.object {
                Some(obj) => format!("??? (in {})", obj.rsplit('/').next().unwrap_or(obj)),
                None => "???".to_owned(),
            },
            GroupBy::Function => f.function_itself().to_owned(),
            GroupBy::File => f.file.or(f.object).unwrap_or("?").to_owned(),
            GroupBy::Crate => self.crate_of(index),
        }
    }
}

/// Figures summed over a group of program points. A baseline entry's, each optional, are
/// [`BaselineFigures`](crate::baseline::BaselineFigures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Figures {
    /// Bytes (or units) allocated in all.
    pub total_bytes: u64,
    /// Blocks (or events) allocated in all.
    pub total_blocks: u64,
    /// Bytes live at the global peak (0 without block lifetimes).
    pub peak_bytes: u64,
    /// Blocks live at the global peak.
    pub peak_blocks: u64,
    /// Bytes live at the end.
    pub end_bytes: u64,
    /// Blocks live at the end.
    pub end_blocks: u64,
}

impl Figures {
    pub(crate) fn add(&mut self, pp: &ProgramPoint) {
        self.total_bytes = self.total_bytes.saturating_add(pp.tb);
        self.total_blocks = self.total_blocks.saturating_add(pp.tbk);
        self.peak_bytes = self.peak_bytes.saturating_add(pp.gb);
        self.peak_blocks = self.peak_blocks.saturating_add(pp.gbk);
        self.end_bytes = self.end_bytes.saturating_add(pp.eb);
        self.end_blocks = self.end_blocks.saturating_add(pp.ebk);
    }
}

/// Percent of `part` in `whole` (0 when `whole` is 0).
pub(crate) fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// `s` on one line, read in order, for a line-oriented output (a table row, a folded stack, a
/// flame graph's frame): each control character (newline, carriage return, tab, ...), each
/// Unicode line or paragraph separator, each character that reorders text (bidirectional
/// embeddings, overrides and isolates, U+202A-U+202E and U+2066-U+2069) and the two characters
/// XML forbids besides (U+FFFE, U+FFFF) is written as its Rust escape (`\n`, `\r`, `\t`,
/// `\u{1b}`, `\u{202e}`), as the HTML report shows each; anything else is kept.
pub(crate) fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    // Control characters and line separators break lines; bidirectional controls make a name read
    // reversed (the report escapes them too); U+FFFE and U+FFFF, which XML forbids even as
    // references, would break the flame graph's SVG.
    let breaks = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}'
                    | '\u{2029}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{fffe}'
                    | '\u{ffff}'
            )
    };
    if !s.contains(breaks) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if breaks(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `s` escaped for GitHub-flavoured Markdown, in a table's cell or a paragraph: `|` (a cell's
/// end), and what starts HTML or an autolink (`<`, `>` for symmetry), a code span (`` ` ``),
/// emphasis (`*`, `_`), strikethrough (`~`), a link or footnote (`[`, `]`), math (`$`) or an
/// entity (`&` before `#` or a letter or digit), and a backslash before ASCII punctuation
/// (which it would escape); the `:` of `://` and the `.` of `www.`, which would start a link
/// in which no backslash escapes. An `_` between two ASCII letters or digits (`to_owned`)
/// cannot be emphasis and is left as it is, and so are a backslash before anything else (the
/// `\n` of [`one_line`]) and `&` before anything else.
pub(crate) fn markdown_text(s: &str) -> String {
    // The leading spaces that show a caller's depth (`  <- main`), which the table would
    // trim: non-breaking spaces, as an entity that survives any copy and paste.
    let body = s.trim_start_matches(' ');
    let mut out = "&nbsp;".repeat(s.len() - body.len());
    let chars: Vec<char> = body.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let after = chars.get(i + 1).copied();
        let escape = match c {
            '|' | '<' | '>' | '`' | '*' | '~' | '[' | ']' | '$' => true,
            '_' => {
                !(before.is_some_and(|b| b.is_ascii_alphanumeric())
                    && after.is_some_and(|a| a.is_ascii_alphanumeric()))
            }
            '&' => after.is_some_and(|a| a == '#' || a.is_ascii_alphanumeric()),
            '\\' => after.is_some_and(|a| a.is_ascii_punctuation()),
            // GitHub links `http://...` and `www....` as they are written, backslashes and
            // all: no link, so that what follows is escaped as everywhere else.
            ':' => chars[i + 1..].starts_with(&['/', '/']),
            '.' => i >= 3 && chars[i - 3..i] == ['w', 'w', 'w'],
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a fenced code block of GitHub-flavoured Markdown, shown as it is: its fence is one
/// backtick longer than the longest run of backticks in it, so nothing in it can close it.
pub(crate) fn markdown_fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end_matches('\n'))
}

/// Renders rows as an aligned text table (first column left-aligned, the others right-aligned,
/// the last left-aligned) or a GitHub-flavoured Markdown table. Every cell is put on one line
/// ([`one_line`]), so a name with a newline cannot split a row.
///
/// A Markdown cell renders as its text: each character GitHub's Markdown could read as syntax
/// is escaped with a backslash (`<str as Trait>` is not an HTML tag, `__init__` not bold text),
/// and its leading spaces, which indent a caller by its depth, are `&nbsp;`.
pub(crate) fn render_table(header: &[&str], rows: &[Vec<String>], markdown: bool) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| one_line(c).into_owned()).collect())
        .collect();
    let rows = &rows[..];
    let mut out = String::new();
    if markdown {
        let header: Vec<String> = header.iter().map(|h| markdown_text(h)).collect();
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        let aligns: Vec<&str> = (0..header.len())
            .map(|i| if i + 1 == header.len() { "---" } else { "---:" })
            .collect();
        out.push_str(&format!("|{}|\n", aligns.join("|")));
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| markdown_text(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        return out;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let last = header.len().saturating_sub(1);
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, c) in cells.enumerate() {
            let pad = widths[i].saturating_sub(c.chars().count());
            if i > 0 {
                l.push_str("  ");
            }
            if i == last {
                l.push_str(c);
            } else {
                l.push_str(&" ".repeat(pad));
                l.push_str(c);
            }
        }
        l.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(&mut header.iter().copied()));
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

/// A figure in the profile's unit: `1.2 MiB` for bytes, `3,401 blocks` (or events) otherwise.
pub(crate) fn show(profile: &Profile, metric: Metric, v: u64) -> String {
    if metric.is_blocks() {
        crate::units::Thousands(v).to_string()
    } else if profile.bsu.is_some() {
        format!("{} {}", crate::units::Thousands(v), profile.unit_plural())
    } else {
        crate::units::Bytes(v).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A heap profile without block lifetimes (`bklt` false, as a hand-made file may be) is
    /// said to lack them: the message read "needs a heap profile ...; this is a `heap` profile".
    #[test]
    fn a_heap_profile_without_lifetimes_is_said_to_lack_them() {
        let err = Error::Metric {
            metric: Metric::PeakBytes,
            mode: "heap".into(),
            lacks: Lacks::Lifetimes,
        }
        .to_string();
        assert_eq!(
            err,
            "peak-bytes needs a heap profile with block lifetimes (bklt); this `heap` profile \
             has none"
        );
    }

    #[test]
    fn a_cell_with_a_newline_stays_in_its_row() {
        let rows = vec![
            vec!["1".to_owned(), "a\nb|c\r\u{1b}[31m\td\u{2028}".to_owned()],
            vec!["2".to_owned(), "plain".to_owned()],
        ];
        assert_eq!(
            render_table(&["#", "site"], &rows, true),
            "| # | site |\n|---:|---|\n| 1 | a\\nb\\|c\\r\\u{1b}\\[31m\\td\\u{2028} |\n| 2 | plain |\n"
        );
        assert_eq!(
            render_table(&["#", "site"], &rows, false),
            "#  site\n1  a\\nb|c\\r\\u{1b}[31m\\td\\u{2028}\n2  plain\n"
        );
        assert!(matches!(one_line("app::f"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(one_line("é 中 \u{7f}"), "é 中 \\u{7f}");
        // A name that reorders itself reads in order, as the report shows it (it was kept, and
        // `app::\u{202e}gnp.exe` read `app::exe.png` in a terminal, a Markdown table, a folded
        // stack and the flame graph).
        assert_eq!(
            one_line("app::\u{202e}gnp.exe \u{2066}x\u{2069} \u{202a}"),
            "app::\\u{202e}gnp.exe \\u{2066}x\\u{2069} \\u{202a}"
        );
        assert_eq!(one_line("\u{2029}\u{2065}"), "\\u{2029}\u{2065}");
    }

    /// Names as Valgrind and dhat show them that GitHub's Markdown would read as HTML
    /// (`<str as ...>`, `Box<int>`), emphasis (`__init__`), strikethrough, a code span, a link,
    /// an entity or math, each with the cell that renders as it.
    const MARKDOWN_NAMES: [(&str, &str); 11] = [
        (
            "<str as alloc::borrow::ToOwned>::to_owned",
            r"\<str as alloc::borrow::ToOwned\>::to_owned",
        ),
        (
            "<alloc::vec::Vec<u8>>::extend_from_slice",
            r"\<alloc::vec::Vec\<u8\>\>::extend_from_slice",
        ),
        ("ns::Box<int>::fill(int)", r"ns::Box\<int\>::fill(int)"),
        ("ns::Py::__init__(int)", r"ns::Py::\_\_init\_\_(int)"),
        (
            "<&str as core::fmt::Display>::fmt",
            r"\<\&str as core::fmt::Display\>::fmt",
        ),
        (
            "ns::A::~A() [clone .cold] `x` *p ~~s~~",
            r"ns::A::\~A() \[clone .cold\] \`x\` \*p \~\~s\~\~",
        ),
        (
            r"a|b \| c\d &amp; &#60; $x$ ![i](u) x_",
            r"a\|b \\\| c\d \&amp; \&#60; \$x\$ !\[i\](u) x\_",
        ),
        (
            "f(std::string const&, int) <https://x.y> <!-- c -->",
            r"f(std::string const&, int) \<https\://x.y\> \<!-- c --\>",
        ),
        (
            "(in http://a.b/x<y>) (in www.a.b/x<y>)",
            r"(in http\://a.b/x\<y\>) (in www\.a.b/x\<y\>)",
        ),
        (r"a\_b \\ trailing\", r"a\\\_b \\\ trailing\"),
        ("{closure#0} (main.rs:2)", "{closure#0} (main.rs:2)"),
    ];

    /// A Markdown table of a row `1 | name` per name.
    fn site_table<'a>(names: impl Iterator<Item = &'a str>) -> String {
        let rows: Vec<Vec<String>> = names.map(|n| vec!["1".to_owned(), n.to_owned()]).collect();
        render_table(&["#", "site"], &rows, true)
    }

    #[test]
    fn a_markdown_cell_escapes_what_github_would_read_as_markdown() {
        let md = site_table(MARKDOWN_NAMES.iter().map(|(name, _)| *name));
        let cells: Vec<&str> = md
            .lines()
            .skip(2)
            .map(|l| {
                l.strip_prefix("| 1 | ")
                    .unwrap()
                    .strip_suffix(" |")
                    .unwrap()
            })
            .collect();
        let expected: Vec<&str> = MARKDOWN_NAMES.iter().map(|(_, cell)| *cell).collect();
        assert_eq!(cells, expected, "{md}");
    }

    /// The text of each cell (`th` and `td`) of the HTML that cmark-gfm, GitHub's Markdown
    /// renderer, makes of `markdown` with raw HTML allowed, and the tags inside cells; `None`,
    /// said on stderr, when Python's `cmarkgfm` is not installed.
    fn gfm_cells(markdown: &str) -> Option<(Vec<String>, Vec<String>)> {
        gfm(markdown).map(|(cells, tags, _)| (cells, tags))
    }

    /// [`gfm_cells`], and the text of each block of code (`pre`).
    fn gfm(markdown: &str) -> Option<(Vec<String>, Vec<String>, Vec<String>)> {
        use std::io::Write;
        const SCRIPT: &str = r#"
import html.parser, json, sys
try:
    import cmarkgfm
    from cmarkgfm.cmark import Options
except ImportError:
    sys.exit(3)
page = cmarkgfm.github_flavored_markdown_to_html(
    sys.stdin.read(), options=Options.CMARK_OPT_UNSAFE)
class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cell, self.cells, self.tags = None, [], []
        self.pre, self.pres = None, []
    def handle_starttag(self, tag, attrs):
        if tag in ("td", "th"):
            self.cell = ""
        elif tag == "pre":
            self.pre = ""
        elif self.cell is not None:
            self.tags.append(tag)
    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cells.append(self.cell)
            self.cell = None
        elif tag == "pre":
            self.pres.append(self.pre)
            self.pre = None
    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.pre is not None:
            self.pre += data
cells = Cells()
cells.feed(page)
print(json.dumps([cells.cells, cells.tags, cells.pres]))
"#;
        let child = std::process::Command::new("python3")
            .args(["-c", SCRIPT])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn();
        let skip = |why: &str| {
            // `.ci/run` installs cmarkgfm and sets this: there the check must run.
            assert!(
                std::env::var_os("DHAT_KIT_REQUIRE_TOOLS").is_none(),
                "{why} (DHAT_KIT_REQUIRE_TOOLS is set: the check must run)"
            );
            eprintln!("skipped: {why}");
        };
        let Ok(mut child) = child else {
            skip("no python3 to render Markdown with cmark-gfm");
            return None;
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(markdown.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.code() == Some(3) {
            skip("Python's cmarkgfm is not installed (pip install cmarkgfm)");
            return None;
        }
        assert!(out.status.success(), "{out:?}");
        Some(serde_json::from_slice(&out.stdout).unwrap())
    }

    #[test]
    fn a_fenced_block_shows_its_text_as_it_is() {
        let texts = [
            "Record it with:\n\n    dhat-kit check a.json --update\n",
            "a `name` and ``two`` and ```three``` and ````four````",
            "```\nnot a fence's end\n```",
            "<b>not bold</b> *not emphasis* | not a cell",
        ];
        for text in texts {
            let md = markdown_fenced(text);
            let runs = |s: &str| s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = md.lines().next().unwrap().trim_end_matches("text");
            assert!(fence.len() > runs(text) && fence.len() >= 3, "{md}");
            assert!(md.ends_with(&format!("\n{fence}\n")), "{md}");
            let Some((_, _, pres)) = gfm(&md) else {
                return;
            };
            assert_eq!(pres, [format!("{}\n", text.trim_end())], "{md}");
        }
    }

    #[test]
    fn a_markdown_cell_keeps_its_indentation() {
        let names = [
            "app::f (src/f.rs:1)",
            "  <- app::g (src/g.rs:2)",
            "    <- main",
        ];
        let md = site_table(names.into_iter());
        assert_eq!(
            md.lines().skip(2).collect::<Vec<_>>(),
            [
                "| 1 | app::f (src/f.rs:1) |",
                r"| 1 | &nbsp;&nbsp;\<- app::g (src/g.rs:2) |",
                r"| 1 | &nbsp;&nbsp;&nbsp;&nbsp;\<- main |",
            ]
        );
        let Some((cells, _)) = gfm_cells(&md) else {
            return;
        };
        // Non-breaking spaces, which neither the table nor HTML trims or collapses.
        let nbsp = |n: usize| "\u{a0}".repeat(n);
        assert_eq!(
            cells[3..].iter().step_by(2).cloned().collect::<Vec<_>>(),
            [
                names[0].to_owned(),
                format!("{}<- app::g (src/g.rs:2)", nbsp(2)),
                format!("{}<- main", nbsp(4)),
            ]
        );
    }

    #[test]
    fn a_markdown_table_renders_each_name_as_its_text_on_github() {
        let md = site_table(MARKDOWN_NAMES.iter().map(|(name, _)| *name));
        let Some((cells, tags)) = gfm_cells(&md) else {
            return;
        };
        let mut expected = vec!["#".to_owned(), "site".to_owned()];
        for (name, _) in MARKDOWN_NAMES {
            expected.extend(["1".to_owned(), name.to_owned()]);
        }
        assert_eq!(cells, expected, "{md}");
        assert!(tags.is_empty(), "{tags:?}\n{md}");
    }

    /// Valgrind's stack of an allocation through a counting global allocator in a release build:
    /// the frames inlined into it are named without their crate or path.
    const THROUGH_A_GLOBAL_ALLOCATOR: &str = r#"{"dhatFileVersion":2,"mode":"heap",
      "verb":"Allocated","bklt":true,"bkacc":false,"tu":"instrs","Mtu":"instr","tuth":500,
      "cmd":"toy","pid":1,"te":100,"tg":50,
      "pps":[{"tb":1000,"tbk":1,"tl":1,"mb":1000,"mbk":1,"gb":1000,"gbk":1,"eb":0,"ebk":0,
              "fs":[1,2,3,4,5,6,7,8,9]},
             {"tb":24,"tbk":1,"tl":1,"mb":24,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,
              "fs":[1,2,3,4,5,6]}],
      "ftbl":["[root]",
        "0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
        "0x143F11: alloc (library/std/src/sys/alloc/unix.rs:14)",
        "0x143F11: {closure#0}<std::alloc::System> (src/alloc.rs:97)",
        "0x143F11: counted<*mut u8, kit::{impl#2}::alloc::{closure_env#0}<std::alloc::System>> (src/tally.rs:40)",
        "0x143F11: alloc<std::alloc::System> (src/alloc.rs:97)",
        "0x143F11: __rustc::__rust_alloc (src/lib.rs:469)",
        "0x1B6407: alloc (library/alloc/src/alloc.rs:95)",
        "0x1B6407: toy::all_pairs (src/lib.rs:112)",
        "0x1B7000: toy::main (src/main.rs:12)"]}"#;

    /// The site of each program point of the profile `json`, as `top` finds it (no skips).
    fn sites(json: &str) -> Vec<String> {
        let p = crate::profile::from_slice(json.as_bytes(), "vg.json").unwrap();
        let skip = Skip::default();
        let mut frames = Frames::new(&p, &skip);
        p.pps
            .iter()
            .map(|pp| {
                let at = frames.informative(pp);
                frames.frame(pp.fs[at]).to_string()
            })
            .collect()
    }

    #[test]
    fn a_site_is_outside_the_global_allocator_whatever_its_inlined_frames_are_named() {
        let site = sites(THROUGH_A_GLOBAL_ALLOCATOR);
        assert_eq!(site[0], "toy::all_pairs (src/lib.rs:112)");
        // A stack cut at the allocator's entry: the nearest to the caller's code.
        assert_eq!(site[1], "__rustc::__rust_alloc (src/lib.rs:469)");
    }

    /// Valgrind's stacks of allocations through a `#[global_allocator]` that wraps `System`, in a
    /// release build that inlined it and its `__rust_alloc` shim into std's `alloc::alloc::alloc`
    /// (`realloc`): Valgrind names them `UnknownInlinedFun`, with the allocator's file and the
    /// `#[global_allocator]` line's. And through dhat's allocator, with no frame of the shim's
    /// between std's `alloc` and the allocator, which allocates as it takes its backtrace.
    const THROUGH_AN_INLINED_GLOBAL_ALLOCATOR: &str = r#"{"dhatFileVersion":2,"mode":"heap",
      "verb":"Allocated","bklt":false,"bkacc":false,"tu":"instrs","Mtu":"instr",
      "cmd":"app","pid":1,"te":100,
      "pps":[{"tb":69724,"tbk":7,"fs":[1,2,3,4,5,6,7,8,9,10,11]},
             {"tb":16320,"tbk":8,"fs":[1,12,13,14,15,16,17,18,11]},
             {"tb":8,"tbk":1,"fs":[1,2,3,4,5]},
             {"tb":9600,"tbk":40,"fs":[1,5,19,20,21,22,23,24,25]}],
      "ftbl":["[root]",
        "0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
        "0x11D876: UnknownInlinedFun (/rustc/5980761/library/std/src/sys/alloc/unix.rs:14)",
        "0x11D876: UnknownInlinedFun (/work/app/myalloc/src/lib.rs:7)",
        "0x11D876: UnknownInlinedFun (/work/app/src/main.rs:2)",
        "0x11D876: alloc (/rustc/5980761/library/alloc/src/alloc.rs:95)",
        "0x11D876: alloc_impl_runtime (/rustc/5980761/library/alloc/src/alloc.rs:190)",
        "0x11D876: allocate (/rustc/5980761/library/alloc/src/alloc.rs:429)",
        "0x11D876: do_alloc<alloc::alloc::Global> (/rust/deps/hashbrown-0.16.1/src/raw/alloc.rs:19)",
        "0x11D876: hashbrown::raw::RawTable<T,A>::reserve_rehash (/rust/deps/hashbrown-0.16.1/src/raw/mod.rs:1013)",
        "0x11D597: app::make_map (/work/app/src/main.rs:6)",
        "0x11D137: app::main (/work/app/src/main.rs:12)",
        "0x48461A8: realloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
        "0x11D5E4: UnknownInlinedFun (library/std/src/sys/alloc/unix.rs:14)",
        "0x11D5E4: UnknownInlinedFun (myalloc/src/lib.rs:11)",
        "0x11D5E4: UnknownInlinedFun (src/main.rs:2)",
        "0x11D5E4: realloc (library/alloc/src/alloc.rs:135)",
        "0x11D5E4: grow_impl (library/alloc/src/alloc.rs:342)",
        "0x11D5E4: app::make_vec (src/main.rs:9)",
        "0x13DD1A: dhat::new_backtrace_inner::{{closure}} (/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dhat-0.3.3/src/lib.rs:1209)",
        "0x4873663: _Unwind_Backtrace (in /usr/lib/x86_64-linux-gnu/libgcc_s.so.1)",
        "0x133C19: dhat::new_backtrace_inner (/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dhat-0.3.3/src/lib.rs:1199)",
        "0x13694E: <dhat::Alloc as core::alloc::global::GlobalAlloc>::alloc (/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/dhat-0.3.3/src/lib.rs:1176)",
        "0x1AEB52: alloc (/rustc/5980761/library/alloc/src/alloc.rs:95)",
        "0x1AEB52: alloc::fmt::format::format_inner (/rustc/5980761/library/alloc/src/fmt.rs:652)",
        "0x1323E8: app::make_index (/work/app/src/index.rs:7)"]}"#;

    #[test]
    fn a_site_is_outside_the_global_allocator_when_its_entry_is_inlined_too() {
        let site = sites(THROUGH_AN_INLINED_GLOBAL_ALLOCATOR);
        assert_eq!(site[0], "app::make_map (/work/app/src/main.rs:6)");
        assert_eq!(site[1], "app::make_vec (src/main.rs:9)");
        // A stack cut at std's function that calls the allocator: the nearest to the caller's
        // code.
        assert_eq!(
            site[2],
            "alloc (/rustc/5980761/library/alloc/src/alloc.rs:95)"
        );
        // Not libgcc's unwinder, which dhat's allocator calls to take its backtrace.
        assert_eq!(site[3], "app::make_index (/work/app/src/index.rs:7)");
    }

    /// Valgrind's stacks of the dynamic loader's own copies, every frame of them plumbing (the
    /// loader's `_dl_` functions): its thread-local storage set up at start, as in
    /// `tests/fixtures/valgrind-copy.json` (whose `dl_main` frame is left out here), and the same
    /// without the C library's debug symbols.
    const THE_LOADERS_OWN: &str = r#"{"dhatFileVersion":2,"mode":"copy",
      "verb":"Copied","bklt":false,"bkacc":false,"tu":"instrs","Mtu":"instr",
      "cmd":"toy","pid":1,"te":100,
      "pps":[{"tb":16,"tbk":1,"fs":[1,2,3,4,5,6]},
             {"tb":8,"tbk":1,"fs":[1,7,6]}],
      "ftbl":["[root]",
        "0x484BE4C: mempcpy (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
        "0x40115AF: _dl_allocate_tls_init (dl-tls.c:644)",
        "0x401A34E: _dl_sysdep_start (dl-sysdep.c:140)",
        "0x401BCCB: _dl_start_final (rtld.c:497)",
        "0x401BCCB: _dl_start (rtld.c:584)",
        "0x401AB77: ??? (in /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)",
        "0x40115AF: ??? (in /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2)"]}"#;

    #[test]
    fn a_stack_of_plumbing_falls_back_to_its_outermost_frame_with_a_symbol() {
        let site = sites(THE_LOADERS_OWN);
        // Not the loader's entry, which has no symbol: the outermost frame that has one.
        assert_eq!(site[0], "_dl_start (rtld.c:584)");
        // No frame with a symbol but the allocator's, never a site: the outermost of all.
        assert_eq!(site[1], "0x401AB77 (in ld-linux-x86-64.so.2)");
    }
    /// Valgrind's stacks of a Rust release build: the frames inlined into a function of the
    /// precompiled standard library are at its address, named without their path, their files
    /// without a directory. A program's frames at its own function's address are its code
    /// however they are named, and so are the standard library's generic functions compiled in
    /// the program's crate, named with `library/...`, and what is inlined inside them.
    const INLINED_INTO_STD: &str = r#"{"dhatFileVersion":2,"mode":"heap",
      "verb":"Allocated","bklt":false,"bkacc":false,"tu":"instrs","Mtu":"instr",
      "cmd":"app","pid":1,"te":100,
      "pps":[{"tb":1000,"tbk":100,"fs":[1,2,3,4,5,6,7,8]},
             {"tb":64,"tbk":1,"fs":[1,9,10,8]},
             {"tb":32,"tbk":1,"fs":[1,11,12,13,8]},
             {"tb":16,"tbk":1,"fs":[1,14,15,16,17,18,19]}],
      "ftbl":["[root]",
        "0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)",
        "0x153752: alloc (alloc.rs:95)",
        "0x153752: with_capacity (string.rs:485)",
        "0x153752: alloc::fmt::format::format_inner (fmt.rs:652)",
        "0x11BCC5: format (library/alloc/src/fmt.rs:659)",
        "0x11BCC5: {closure#0} (main.rs:2)",
        "0x11BCC5: make_labels (main.rs:2)",
        "0x11BCC5: app::main (main.rs:5)",
        "0x11C000: alloc (alloc.rs:95)",
        "0x11C000: app::arena::grow (alloc.rs:120)",
        "0x11D000: alloc (library/alloc/src/alloc.rs:95)",
        "0x11D000: {closure#0} (main.rs:7)",
        "0x11D000: core::iter::traits::iterator::Iterator::fold (library/core/src/iter/traits/iterator.rs:2647)",
        "0x143759: alloc (library/alloc/src/alloc.rs:95)",
        "0x143759: {closure#0} (main.rs:9)",
        "0x143759: {{closure}}<()> (library/std/src/rt.rs:206)",
        "0x143759: {closure#0} (rt.rs:175)",
        "0x143759: std::rt::lang_start_internal (rt.rs:171)",
        "0x11BDCB: main (in /tmp/app)"]}"#;

    #[test]
    fn frames_inlined_into_the_precompiled_standard_library_are_plumbing() {
        let site = sites(INLINED_INTO_STD);
        // `format!`'s buffer: `format_inner`'s inlined frames are std's, not `alloc (alloc.rs:95)`.
        assert_eq!(site[0], "{closure#0} (main.rs:2)");
        // The same names at the program's own function's address are the program's.
        assert_eq!(site[1], "alloc (alloc.rs:95)");
        // A generic function of std's compiled in the program's crate inlines its closures.
        assert_eq!(site[2], "{closure#0} (main.rs:7)");
        // What link-time optimisation inlined into std's, past std's code compiled in the
        // program's crate, may be the program's.
        assert_eq!(site[3], "{closure#0} (main.rs:9)");
    }
}
