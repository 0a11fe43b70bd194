//! The baseline file: [`Baseline`], its [`Entry`]s and [`BaselineFigures`], reading (this format
//! and the seed format), writing, and [`BaselineError`].

use super::{DEFAULT_NAME, FORMAT_VERSION};
use crate::analyze::{Measures, Metric};
use crate::profile::Kind;
use crate::Stats;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The figures a baseline records and compares, in the order of the file and of the tables: the
/// totals, and the live figures at the peak and at the end (of [`Metric::ALL`], the others are not
/// recorded).
pub const METRICS: [Metric; 5] = [
    Metric::TotalBytes,
    Metric::TotalBlocks,
    Metric::PeakBytes,
    Metric::PeakBlocks,
    Metric::EndBytes,
];

/// The recorded figure named `name`, as on the command line (`peak-bytes`) or as a key of the file
/// (`peak_bytes`).
///
/// # Errors
///
/// A [`ParseError`](crate::ParseError) naming the figures a baseline records, when `name` is not
/// one of them.
///
/// # Examples
///
/// ```
/// use dhat_kit::{analyze::Metric, baseline};
/// assert_eq!(baseline::parse_metric("peak-bytes"), Ok(Metric::PeakBytes));
/// assert_eq!(baseline::parse_metric("end_bytes"), Ok(Metric::EndBytes));
/// assert!(baseline::parse_metric("reads").is_err());
/// ```
pub fn parse_metric(name: &str) -> Result<Metric, crate::ParseError> {
    Metric::parse(name)
        .filter(|m| METRICS.contains(m))
        .ok_or_else(|| {
            crate::ParseError::new(
                name,
                format!(
                    "unknown metric `{name}`; expected one of {}",
                    crate::analyze::names(&METRICS).replace(" or ", ", ")
                ),
            )
        })
}

/// The figures of one baseline entry; each is optional (a seed file has no blocks at the peak, an
/// ad-hoc profile no peak at all). A profile's figures summed over a group of program points, each
/// always there, are [`analyze::Figures`](crate::analyze::Figures).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BaselineFigures {
    /// Bytes allocated in all.
    pub total_bytes: Option<u64>,
    /// Blocks allocated in all.
    pub total_blocks: Option<u64>,
    /// Live bytes at the peak.
    pub peak_bytes: Option<u64>,
    /// Live blocks at the peak.
    pub peak_blocks: Option<u64>,
    /// Live bytes at the end.
    pub end_bytes: Option<u64>,
}

impl BaselineFigures {
    /// The figure of `metric`, if there is one (never for a figure a baseline does not record,
    /// outside [`METRICS`]).
    #[must_use]
    pub fn get(&self, metric: Metric) -> Option<u64> {
        match metric {
            Metric::TotalBytes => self.total_bytes,
            Metric::TotalBlocks => self.total_blocks,
            Metric::PeakBytes => self.peak_bytes,
            Metric::PeakBlocks => self.peak_blocks,
            Metric::EndBytes => self.end_bytes,
            _ => None,
        }
    }

    /// The figures of a whole-program profile: its totals, and for a heap profile its live figures
    /// at the global peak (t-gmax) and at the end.
    #[must_use]
    pub fn from_profile(profile: &crate::profile::Profile) -> BaselineFigures {
        let t = profile.totals();
        BaselineFigures {
            total_bytes: Some(t.bytes),
            total_blocks: Some(t.blocks),
            peak_bytes: t.peak_bytes,
            peak_blocks: t.peak_blocks,
            end_bytes: t.end_bytes,
        }
    }

    fn is_empty(&self) -> bool {
        METRICS.iter().all(|&m| self.get(m).is_none())
    }
}

impl From<Stats> for BaselineFigures {
    /// `total_*` from `total_*`, `peak_*` from `max_*`, `end_bytes` from `curr_bytes`.
    fn from(s: Stats) -> BaselineFigures {
        BaselineFigures {
            total_bytes: Some(s.total_bytes),
            total_blocks: Some(s.total_blocks),
            peak_bytes: Some(s.max_bytes),
            peak_blocks: Some(s.max_blocks),
            end_bytes: Some(s.curr_bytes),
        }
    }
}

/// What figures measure: the kind of profile they come from and the plural names of its unit and
/// of its blocks. The [default](Measure::default) is bytes and blocks of the heap, as a test's
/// [`Stats`] and a heap profile count them; an ad-hoc profile counts units and events.
///
/// Two are comparable by the rule [`analyze::diff`](crate::analyze::diff()) uses for two
/// profiles ([`Measures::comparable`](crate::analyze::Measures::comparable)): the same kind, in
/// the same unit.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::Measure;
/// use dhat_kit::profile::Kind;
///
/// let ad_hoc = Measure { kind: Kind::AdHoc, unit: "units".into(), blocks: "events".into() };
/// assert!(!Measure::default().comparable(&ad_hoc));
/// assert_eq!(Measure::default().to_string(), "bytes and blocks");
/// assert_eq!(ad_hoc.to_string(), "units and events (an ad-hoc profile)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Measure {
    /// Heap blocks, copies or ad-hoc events.
    pub kind: Kind,
    /// The plural name of the unit (`bytes`, `units`).
    pub unit: String,
    /// The plural name of the blocks (`blocks`, `events`).
    pub blocks: String,
}

impl Default for Measure {
    /// Bytes and blocks of the heap.
    fn default() -> Measure {
        Measure {
            kind: Kind::Heap,
            unit: "bytes".to_owned(),
            blocks: "blocks".to_owned(),
        }
    }
}

impl Measure {
    /// What the figures of `profile` ([`BaselineFigures::from_profile`]) measure: its
    /// [`kind`](crate::profile::Profile::kind), [`unit_plural`](crate::profile::Profile::unit_plural)
    /// and [`blocks_plural`](crate::profile::Profile::blocks_plural).
    #[must_use]
    pub fn of(profile: &crate::profile::Profile) -> Measure {
        let measures = Measures::of(profile);
        Measure {
            kind: measures.kind,
            unit: measures.unit,
            blocks: profile.blocks_plural().to_owned(),
        }
    }

    /// Whether figures of `self` and of `other` can be compared: as
    /// [`Measures::comparable`](crate::analyze::Measures::comparable), the same kind in the same
    /// unit.
    #[must_use]
    pub fn comparable(&self, other: &Measure) -> bool {
        let measures = |m: &Measure| Measures {
            kind: m.kind,
            mode: String::new(),
            unit: m.unit.clone(),
        };
        measures(self).comparable(&measures(other))
    }
}

impl fmt::Display for Measure {
    /// `bytes and blocks`, `units and events (an ad-hoc profile)`, `bytes and blocks (a copy
    /// profile)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} and {}", self.unit, self.blocks)?;
        match self.kind {
            Kind::Heap => Ok(()),
            Kind::Copy => f.write_str(" (a copy profile)"),
            Kind::AdHoc => f.write_str(" (an ad-hoc profile)"),
        }
    }
}

#[cfg(test)]
impl Measure {
    /// An ad-hoc profile's units and events, as dhat-rs and Valgrind name them.
    pub(crate) fn ad_hoc() -> Measure {
        Measure {
            kind: Kind::AdHoc,
            unit: "units".into(),
            blocks: "events".into(),
        }
    }
}

/// One named entry of a baseline: its figures, what they measure, and when and at which commit
/// they were recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    /// The recorded figures.
    pub figures: BaselineFigures,
    /// What they measure: bytes and blocks (the default, and every entry of a file without
    /// `measures`), or what the profile they were recorded from counts.
    pub measure: Measure,
    /// When they were recorded: UTC, RFC 3339 (`2026-11-24T10:45:19Z`), or as a seed file wrote it.
    pub recorded_at: Option<String>,
    /// The git commit they were recorded at, if known.
    pub commit: Option<String>,
}

impl Entry {
    /// An entry of `figures`, recorded now, at the commit `git rev-parse HEAD` gives in `dir` (none
    /// if git is not installed or `dir` is not in a repository).
    #[must_use]
    pub fn recorded_now(figures: BaselineFigures, dir: &Path) -> Entry {
        Entry {
            figures,
            measure: Measure::default(),
            recorded_at: Some(now_rfc3339()),
            commit: git_head(dir),
        }
    }
}

/// The entry as in the file (and the seed format's names as aliases).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    /// Absent for bytes and blocks, so that those entries are written as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    measures: Option<RawMeasure>,
    #[serde(
        default,
        deserialize_with = "figure",
        alias = "total_allocations_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    total_bytes: Option<u64>,
    #[serde(
        default,
        deserialize_with = "figure",
        alias = "allocation_count",
        skip_serializing_if = "Option::is_none"
    )]
    total_blocks: Option<u64>,
    #[serde(
        default,
        deserialize_with = "figure",
        alias = "peak_memory_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    peak_bytes: Option<u64>,
    #[serde(
        default,
        deserialize_with = "figure",
        skip_serializing_if = "Option::is_none"
    )]
    peak_blocks: Option<u64>,
    #[serde(
        default,
        deserialize_with = "figure",
        skip_serializing_if = "Option::is_none"
    )]
    end_bytes: Option<u64>,
    #[serde(
        default,
        alias = "measured_at",
        deserialize_with = "time_text",
        skip_serializing_if = "Option::is_none"
    )]
    recorded_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    commit: Option<String>,
}

/// An entry's `measures`: `{"kind": "ad-hoc", "unit": "units", "blocks": "events"}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasure {
    #[serde(deserialize_with = "kind")]
    kind: Kind,
    unit: String,
    blocks: String,
}

/// A profile's kind as [`Kind`] serializes it: `heap`, `copy` or `ad-hoc`.
fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
    let text = String::deserialize(d)?;
    [Kind::Heap, Kind::Copy, Kind::AdHoc]
        .into_iter()
        .find(|k| serde_json::to_value(k).is_ok_and(|v| v == text.as_str()))
        .ok_or_else(|| {
            de::Error::custom(format_args!(
                "unknown kind `{text}`; expected `heap`, `copy` or `ad-hoc`"
            ))
        })
}

impl From<&Entry> for RawEntry {
    fn from(e: &Entry) -> RawEntry {
        let f = e.figures;
        RawEntry {
            measures: (e.measure != Measure::default()).then(|| RawMeasure {
                kind: e.measure.kind,
                unit: e.measure.unit.clone(),
                blocks: e.measure.blocks.clone(),
            }),
            total_bytes: f.total_bytes,
            total_blocks: f.total_blocks,
            peak_bytes: f.peak_bytes,
            peak_blocks: f.peak_blocks,
            end_bytes: f.end_bytes,
            recorded_at: e.recorded_at.clone(),
            commit: e.commit.clone(),
        }
    }
}

impl From<RawEntry> for Entry {
    fn from(r: RawEntry) -> Entry {
        Entry {
            figures: BaselineFigures {
                total_bytes: r.total_bytes,
                total_blocks: r.total_blocks,
                peak_bytes: r.peak_bytes,
                peak_blocks: r.peak_blocks,
                end_bytes: r.end_bytes,
            },
            measure: r.measures.map_or_else(Measure::default, |m| Measure {
                kind: m.kind,
                unit: m.unit,
                blocks: m.blocks,
            }),
            recorded_at: r.recorded_at,
            commit: r.commit,
        }
    }
}

/// A figure: a whole number of bytes or blocks that fits in 64 bits (or `null`, none). A negative,
/// fractional or too large number is refused by what is wrong with it.
fn figure<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Figure;
    impl<'de> Visitor<'de> for Figure {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a figure, a whole number from 0 to 18446744073709551615")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format_args!("a figure cannot be negative, found {v}")))
        }
        // A number with a fraction or an exponent (a script's `113.0`, `1e3`): a whole one is
        // its figure where a double holds it exactly, up to 2^53.
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
            const PAST_U64: f64 = 18_446_744_073_709_551_616.0; // 2^64
            if v < 0.0 {
                return Err(E::custom(format_args!(
                    "a figure cannot be negative, found {v}"
                )));
            }
            if v.fract() != 0.0 {
                return Err(E::custom(format_args!(
                    "a figure is a whole number, found {v}"
                )));
            }
            if v <= EXACT {
                // Whole, from 0 to 2^53: exact as an integer.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                return Ok(Some(v as u64));
            }
            Err(if v < PAST_U64 {
                E::custom(format_args!(
                    "a figure above 9007199254740992 written with a fraction or an exponent \
                     is not read exactly, found {v:e}: write its digits alone"
                ))
            } else {
                E::custom(format_args!(
                    "a figure above 18446744073709551615 does not fit in 64 bits, found {v:e}"
                ))
            })
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(Figure)
        }
    }
    d.deserialize_option(Figure)
}

/// A time as a string, or as a number (seconds since the epoch, as some scripts write it).
fn time_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Time {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(Option::<Time>::deserialize(d)?.map(|t| match t {
        Time::Text(s) => s,
        Time::Number(n) => n.to_string(),
    }))
}

#[derive(Serialize)]
struct FileOut<'a> {
    dhat_kit_baseline: u64,
    entries: BTreeMap<&'a str, RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[allow(dead_code)]
    dhat_kit_baseline: u64,
    #[serde(default, deserialize_with = "unique_entries")]
    entries: BTreeMap<String, RawEntry>,
}

/// The fields of the seed format.
const SEED_FIELDS: [&str; 5] = [
    "total_allocations_bytes",
    "peak_memory_bytes",
    "allocation_count",
    "measured_at",
    "commit",
];

/// The seed format: one object of figures, whatever else the script put beside them.
#[derive(Deserialize)]
struct SeedIn {
    #[serde(default, deserialize_with = "figure")]
    total_allocations_bytes: Option<u64>,
    #[serde(default, deserialize_with = "figure")]
    peak_memory_bytes: Option<u64>,
    #[serde(default, deserialize_with = "figure")]
    allocation_count: Option<u64>,
    #[serde(default, deserialize_with = "time_text")]
    measured_at: Option<String>,
    commit: Option<String>,
}

/// What kind of JSON value `bytes` (a whole document) holds, for a message.
fn json_kind(bytes: &[u8]) -> &'static str {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

/// Only the fields that tell the formats apart.
#[derive(Deserialize)]
struct Probe {
    dhat_kit_baseline: Option<serde_json::Value>,
    total_allocations_bytes: Option<serde_json::Value>,
    peak_memory_bytes: Option<serde_json::Value>,
    allocation_count: Option<serde_json::Value>,
}

/// The entries map, refusing a name given twice (a merge resolved by hand, say) rather than
/// keeping one of them silently.
fn unique_entries<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, RawEntry>, D::Error> {
    struct Unique;
    impl<'de> Visitor<'de> for Unique {
        type Value = BTreeMap<String, RawEntry>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of entries by name")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = map.next_key::<String>()? {
                let entry: RawEntry = map.next_value()?;
                if out.contains_key(&name) {
                    return Err(de::Error::custom(format_args!(
                        "the entry `{name}` appears twice"
                    )));
                }
                out.insert(name, entry);
            }
            Ok(out)
        }
    }
    d.deserialize_map(Unique)
}

/// A baseline file that could not be read or written: the file, and what was wrong.
///
/// Its [`Display`](fmt::Display) is one line:
/// `dhat-kit: memory-baseline.json: not a complete JSON document (...): EOF while parsing an object at line 9 column 0`.
#[derive(Debug)]
#[non_exhaustive]
pub enum BaselineError {
    /// The file (or its lock file) could not be read, written or locked.
    Io {
        /// The baseline file.
        file: PathBuf,
        /// What could not be done (`cannot be read`, `cannot lock memory-baseline.json.lock`).
        action: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a baseline this version reads: empty, cut short, not JSON, another format
    /// version, a field of the wrong type, an entry without figures.
    Invalid {
        /// The baseline file.
        file: PathBuf,
        /// What was expected or found.
        message: String,
        /// The JSON parser's error, where it had one.
        source: Option<serde_json::Error>,
    },
    /// There is no such file (no baseline recorded yet).
    Missing {
        /// The baseline file.
        file: PathBuf,
    },
    /// An entry cannot be compared as asked (it lacks a figure a check names).
    Entry {
        /// The baseline file.
        file: PathBuf,
        /// What the entry lacks.
        message: String,
    },
    /// The entry's figures and the figures checked against it measure different things (bytes
    /// and blocks, an ad-hoc profile's units and events): they are neither compared nor recorded
    /// over the entry.
    Kinds {
        /// The baseline file.
        file: PathBuf,
        /// The entry's name.
        name: String,
        /// What the entry's figures measure (boxed, to keep the error small).
        entry: Box<Measure>,
        /// Where the figures checked come from (the profile's file).
        from: String,
        /// What they measure.
        now: Box<Measure>,
        /// Whether an update was asked for (and refused).
        update: bool,
    },
}

impl BaselineError {
    pub(crate) fn io(file: &Path, action: impl Into<String>, source: std::io::Error) -> Self {
        BaselineError::Io {
            file: file.to_path_buf(),
            action: action.into(),
            source,
        }
    }

    pub(crate) fn invalid(
        file: &Path,
        message: impl Into<String>,
        source: Option<serde_json::Error>,
    ) -> Self {
        BaselineError::Invalid {
            file: file.to_path_buf(),
            message: message.into(),
            source,
        }
    }

    /// The file.
    #[must_use]
    pub fn file(&self) -> &Path {
        match self {
            BaselineError::Io { file, .. }
            | BaselineError::Invalid { file, .. }
            | BaselineError::Missing { file }
            | BaselineError::Entry { file, .. }
            | BaselineError::Kinds { file, .. } => file,
        }
    }

    /// What was wrong with it, and where when known.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            // A path that names a directory not there (`DHAT_KIT_BASELINE=perf/`): its error
            // says to name a file; "make it writable" would not help.
            BaselineError::Io { action, source, .. }
                if action == NOT_WRITTEN && source.kind() == std::io::ErrorKind::NotADirectory =>
            {
                format!("{action}: {source}; nothing was recorded")
            }
            BaselineError::Io { action, source, .. } if action == NOT_WRITTEN => format!(
                "{action}: {source}; nothing was recorded: make it writable, or check without \
                 recording (no DHAT_KIT_UPDATE, no --update)"
            ),
            BaselineError::Io { action, source, .. } => format!("{action}: {source}"),
            BaselineError::Invalid {
                message,
                source: Some(source),
                ..
            } => format!("{message}: {source}{MEND}"),
            // A newer version's file is not to be mended or deleted.
            BaselineError::Invalid { message, .. } if message.starts_with(OTHER_VERSION) => {
                format!("{message}; read it with the dhat-kit that wrote it")
            }
            BaselineError::Invalid { message, .. } => format!("{message}{MEND}"),
            BaselineError::Entry { message, .. } => message.clone(),
            BaselineError::Missing { .. } => "no such file (no baseline recorded yet)".to_owned(),
            BaselineError::Kinds {
                file,
                name,
                entry,
                from,
                now,
                update,
            } => {
                let what_now = if *update {
                    format!(
                        "the entry is not replaced by figures of another kind; remove it from {} \
                         first to record these in its place, or record them under another name",
                        file.display()
                    )
                } else {
                    "their figures cannot be compared; check against an entry of the same kind, \
                     or record these under another name"
                        .to_owned()
                };
                // `from` is a file's name, or "the figures checked" (plural).
                let holds = if from.starts_with("the figures") {
                    "hold"
                } else {
                    "holds"
                };
                // Bytes and blocks on both sides (a copy profile's and a heap profile's): the
                // heap side is named too, or the two would read alike.
                let named = |m: &Measure| {
                    let alike = entry.unit == now.unit && entry.blocks == now.blocks;
                    if alike && m.kind == Kind::Heap {
                        format!("{m} (a heap profile's or a test's)")
                    } else {
                        m.to_string()
                    }
                };
                format!(
                    "entry `{name}` holds {}; {from} {holds} {}: {what_now}",
                    named(entry),
                    named(now)
                )
            }
        }
    }
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dhat-kit: {}: {}", self.file().display(), self.message())
    }
}

/// Its source is the I/O or JSON error's own, whose text the message says (a chain that named
/// that error as the source said its text twice); the variant's `source` field holds it.
impl std::error::Error for BaselineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BaselineError::Io { source, .. } => source.source(),
            BaselineError::Invalid {
                source: Some(source),
                ..
            } => source.source(),
            _ => None,
        }
    }
}

/// A baseline: entries by name, kept sorted.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::{Baseline, Entry, BaselineFigures};
///
/// let mut baseline = Baseline::new();
/// let figures = BaselineFigures { peak_bytes: Some(4096), ..BaselineFigures::default() };
/// baseline.insert("b", Entry { figures, ..Entry::default() });
/// baseline.insert("a", Entry { figures, ..Entry::default() });
/// let json = baseline.to_json();
/// assert!(json.find("\"a\"").unwrap() < json.find("\"b\"").unwrap());
/// assert_eq!(Baseline::from_slice(json.as_bytes(), "memory-baseline.json".as_ref())?, baseline);
/// # Ok::<(), dhat_kit::baseline::BaselineError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    entries: BTreeMap<String, Entry>,
}

/// How a [`BaselineError::Invalid`] of a file of another format version begins.
const OTHER_VERSION: &str = "expected baseline format version";

/// What a [`BaselineError::Invalid`] says to do: the file is never written over.
const MEND: &str = "; it is left as it is: mend it (or take it back from version control), or \
                    delete it to record every entry anew";

/// The most bytes a baseline file is read to: some 200,000 entries, 20 times a large workspace's.
/// A file without end given as the baseline (`--baseline /dev/zero`) ran the process out of
/// memory.
const MOST: u64 = 64 << 20;

/// What a [`BaselineError::Io`] says of a baseline that could not be written.
const NOT_WRITTEN: &str = "cannot be written";

/// Whether `time` is as the kit writes `recorded_at` (`2026-11-24T10:59:39Z`), so that two
/// compare as text in the order of time; another form (a seed file's `measured_at`, a hand edit)
/// is not compared.
fn kit_time(time: &str) -> bool {
    let b = time.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

impl Baseline {
    /// An empty baseline.
    #[must_use]
    pub fn new() -> Baseline {
        Baseline::default()
    }

    /// Reads the baseline at `path`; `Ok(None)` if there is no file there.
    ///
    /// # Errors
    ///
    /// A [`BaselineError`] naming the file if it cannot be read (or holds more than 64 MiB, far
    /// more than any baseline: a file without end given in its place, `/dev/zero`, would fill
    /// memory), is empty, is not complete JSON, is of a newer format version, or has a field of
    /// the wrong type, an unknown field, an entry without figures or an entry given twice.
    pub fn load(path: &Path) -> Result<Option<Baseline>, BaselineError> {
        match crate::small_file::read(path, MOST, "baseline") {
            Ok(bytes) => Baseline::from_slice(&bytes, path).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BaselineError::io(path, "cannot be read", e)),
        }
    }

    /// Reads the baseline at `path`, which must exist.
    ///
    /// # Errors
    ///
    /// As [`Baseline::load`], and if there is no file.
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        Baseline::load(path)?.ok_or_else(|| BaselineError::Missing {
            file: path.to_path_buf(),
        })
    }

    /// Reads a baseline held in memory; `file` names it in errors.
    ///
    /// # Errors
    ///
    /// As [`Baseline::load`].
    pub fn from_slice(bytes: &[u8], file: &Path) -> Result<Baseline, BaselineError> {
        // A byte-order mark, as some editors write one, is not part of the JSON.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let bad = |m: String| Err(BaselineError::invalid(file, m, None));
        let json = |m: &str, e: serde_json::Error| BaselineError::invalid(file, m, Some(e));
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return bad("the file is empty (a half-written baseline?); expected a JSON object with `dhat_kit_baseline`".into());
        }
        let probe: Probe = match serde_json::from_slice(bytes) {
            Ok(p) => p,
            Err(e) if e.is_eof() => {
                return Err(json(
                    "not a complete JSON document (a half-written baseline?)",
                    e,
                ))
            }
            Err(e) if e.is_syntax() => return Err(json("not valid JSON", e)),
            Err(e) => {
                return match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                    Some(b'{') => Err(json("expected a JSON object of a baseline", e)),
                    _ => bad(format!(
                        "expected a JSON object of a baseline, found {}",
                        json_kind(bytes)
                    )),
                }
            }
        };
        if let Some(version) = probe.dhat_kit_baseline {
            // A version that is not a whole number is a hand edit's, not another version's.
            if !version.is_u64() {
                return bad(format!(
                    "expected `dhat_kit_baseline` to be the number {FORMAT_VERSION}, found \
                     {version}"
                ));
            }
            if version.as_u64() != Some(FORMAT_VERSION) {
                return bad(format!(
                    "{OTHER_VERSION} {FORMAT_VERSION}, found `dhat_kit_baseline`: {version} \
                     (written by another version of dhat-kit?)"
                ));
            }
            let parsed: FileIn = serde_json::from_slice(bytes)
                .map_err(|e| json("expected a dhat-kit baseline", e))?;
            let mut entries = BTreeMap::new();
            for (name, raw) in parsed.entries {
                let entry = Entry::from(raw);
                if entry.figures.is_empty() {
                    return bad(format!(
                        "the entry `{name}` has no figures (expected at least one of total_bytes, \
                         total_blocks, peak_bytes, peak_blocks, end_bytes)"
                    ));
                }
                entries.insert(name, entry);
            }
            return Ok(Baseline { entries });
        }
        if probe.total_allocations_bytes.is_some()
            || probe.peak_memory_bytes.is_some()
            || probe.allocation_count.is_some()
        {
            let seed: SeedIn = serde_json::from_slice(bytes)
                .map_err(|e| json("expected a memory baseline with `total_allocations_bytes`, `peak_memory_bytes`, `allocation_count`", e))?;
            // What else a script put beside the figures is left alone, but a near miss of a
            // figure's name (`peak_memory_byts`) is a typo that would leave that figure unchecked.
            // Read whole as JSON too: the figures' reading skips the other fields unchecked (a
            // string that is not UTF-8, a number out of range read).
            let whole: serde_json::Value =
                serde_json::from_slice(bytes).map_err(|e| json("not valid JSON", e))?;
            if let serde_json::Value::Object(fields) = whole {
                for field in fields.keys().filter(|f| !SEED_FIELDS.contains(&f.as_str())) {
                    if let Some(near) = crate::suggest::nearest(field, SEED_FIELDS) {
                        return bad(format!(
                            "unknown field `{field}`: did you mean `{near}`? (a field this near \
                             a figure's name is taken for its typo)"
                        ));
                    }
                }
            }
            let entry = Entry {
                figures: BaselineFigures {
                    total_bytes: seed.total_allocations_bytes,
                    total_blocks: seed.allocation_count,
                    peak_bytes: seed.peak_memory_bytes,
                    ..BaselineFigures::default()
                },
                measure: Measure::default(),
                recorded_at: seed.measured_at,
                commit: seed.commit,
            };
            let mut baseline = Baseline::new();
            baseline.insert(DEFAULT_NAME, entry);
            return Ok(baseline);
        }
        bad(format!(
            "expected a dhat-kit baseline (an object with `\"dhat_kit_baseline\": {FORMAT_VERSION}`) or a \
             memory baseline with `total_allocations_bytes`, `peak_memory_bytes`, `allocation_count`; \
             found neither"
        ))
    }

    /// The entry called `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    /// Sets the entry called `name`, returning the one it replaces.
    pub fn insert(&mut self, name: impl Into<String>, entry: Entry) -> Option<Entry> {
        self.entries.insert(name.into(), entry)
    }

    /// Removes the entry called `name`.
    pub fn remove(&mut self, name: &str) -> Option<Entry> {
        self.entries.remove(name)
    }

    /// The entries, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file's text: pretty JSON, entries sorted by name, fields in a fixed order, a final
    /// newline.
    #[must_use]
    pub fn to_json(&self) -> String {
        let out = FileOut {
            dhat_kit_baseline: FORMAT_VERSION,
            entries: self
                .entries
                .iter()
                .map(|(k, v)| (k.as_str(), RawEntry::from(v)))
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&out).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes the baseline to `path` atomically (a temporary file beside it, then a rename).
    /// It takes no lock: to add an entry to a file others may be writing, use
    /// [`Baseline::update`]. A file it replaces that ends its lines with CRLF (checked out on
    /// Windows, say), or begins with a UTF-8 byte-order mark (as some editors write), keeps
    /// them, so that an update changes only the lines it changes.
    ///
    /// # Errors
    ///
    /// A [`BaselineError`] naming the file if it cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        self.write_like(path, path)
    }

    /// [`Baseline::write`], with the line endings and byte-order mark of the file at `like` (a
    /// proposal's first writing takes the baseline's).
    fn write_like(&self, path: &Path, like: &Path) -> Result<(), BaselineError> {
        let mut text = self.to_json();
        let (bom, crlf) = text_conventions(like);
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        if bom {
            text.insert(0, '\u{feff}');
        }
        crate::atomic_file::write(path, text.as_bytes())
            .map_err(|e| BaselineError::io(path, NOT_WRITTEN, e))
    }

    /// Takes `other`'s entries that this baseline lacks, or holds as recorded earlier (by their
    /// `recorded_at`, both known).
    fn take_later(&mut self, other: Baseline) {
        for (name, entry) in other.entries {
            let later = match self.entries.get(&name) {
                None => true,
                Some(ours) => match (&ours.recorded_at, &entry.recorded_at) {
                    (Some(ours), Some(theirs)) if kit_time(ours) && kit_time(theirs) => {
                        theirs > ours
                    }
                    _ => false,
                },
            };
            if later {
                self.entries.insert(name, entry);
            }
        }
    }

    /// Changes the baseline at `path` under its lock: takes the lock (`path` with `.lock` added,
    /// created for the update and, on Unix, removed after it), reads the file as it is now (an empty baseline if there is none, or
    /// `start_from`'s file if `path` does not exist yet and `start_from` does), lets `change`
    /// modify it, and writes it back atomically. Threads and processes that update one file at
    /// once each see the others' entries.
    ///
    /// `path` a proposal built from `start_from` (a `.new` beside the baseline): what
    /// `start_from` recorded since the proposal was begun joins it first, so that accepting the
    /// proposal loses nothing: each of `start_from`'s entries the proposal lacks, or holds as
    /// recorded earlier than `start_from`'s.
    ///
    /// # Errors
    ///
    /// A [`BaselineError`] naming the file if the lock cannot be taken, or the file cannot be
    /// read (corrupt, half-written: it is then left as it is) or written.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::baseline::{Baseline, Entry, BaselineFigures};
    ///
    /// let dir = std::env::temp_dir().join(format!("dhat-kit-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("memory-baseline.json");
    /// let entry = Entry {
    ///     figures: BaselineFigures { peak_bytes: Some(64), ..BaselineFigures::default() },
    ///     ..Entry::default()
    /// };
    /// Baseline::update(&path, None, |b| { b.insert("parse", entry.clone()); })?;
    /// assert_eq!(Baseline::read(&path)?.get("parse"), Some(&entry));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), dhat_kit::baseline::BaselineError>(())
    /// ```
    pub fn update<R>(
        path: &Path,
        start_from: Option<&Path>,
        change: impl FnOnce(&mut Baseline) -> R,
    ) -> Result<R, BaselineError> {
        // A baseline named in a directory not made yet (`DHAT_KIT_BASELINE=perf/mem.json`).
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let cannot = |e| {
                BaselineError::io(
                    path,
                    format!("cannot create its directory {}", dir.display()),
                    e,
                )
            };
            // A file where the directory should be: said as such ("File exists" said nothing).
            if let Some(file) = crate::atomic_file::file_in_the_way(dir) {
                return Err(cannot(crate::atomic_file::not_a_directory(file)));
            }
            std::fs::create_dir_all(dir).map_err(cannot)?;
        }
        // Beside the file written: a baseline reached through a symbolic link (crates sharing
        // one file) and by its own path is locked by one lock.
        let target = crate::atomic_file::follow_links(path);
        let lock_path = crate::atomic_file::with_suffix(target.as_deref().unwrap_or(path), ".lock");
        let lock = lock(path, &lock_path)?;
        let updated = (|| {
            let mut baseline = match Baseline::load(path)? {
                Some(mut proposal) => {
                    if let Some(from) = start_from {
                        if let Some(base) = Baseline::load(from)? {
                            proposal.take_later(base);
                        }
                    }
                    proposal
                }
                None => match start_from {
                    Some(from) => Baseline::load(from)?.unwrap_or_default(),
                    None => Baseline::new(),
                },
            };
            let r = change(&mut baseline);
            // A proposal made now is written as the file it proposes for is.
            let like = match start_from {
                Some(from) if !path.exists() => from,
                _ => path,
            };
            baseline.write_like(path, like).map(|()| r)
        })();
        // No stray file beside the baseline, whether or not it could be read and written: the
        // lock file goes while still locked (a writer that was waiting on it then sees it gone
        // and takes a new one; see `lock`).
        #[cfg(unix)]
        let _ = std::fs::remove_file(&lock_path);
        drop(lock); // unlocks
        updated
    }
}

/// Takes the lock of the baseline at `path`: an exclusive lock on `lock_path`, created if needed.
///
/// A writer removes the lock file before it unlocks, so a writer that was waiting may hold the
/// lock of a file no longer there, while another has made a new one. On Unix a lock counts only
/// if `lock_path` is still the very file locked (same device and inode); otherwise it is taken
/// again, on the file there now.
fn lock(path: &Path, lock_path: &Path) -> Result<std::fs::File, BaselineError> {
    loop {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path)
            .map_err(|e| {
                BaselineError::io(
                    path,
                    format!("cannot open its lock file {}", lock_path.display()),
                    e,
                )
            })?;
        lock.lock().map_err(|e| {
            BaselineError::io(path, format!("cannot lock {}", lock_path.display()), e)
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let held = lock.metadata().map_err(|e| {
                BaselineError::io(path, format!("cannot read {}", lock_path.display()), e)
            })?;
            match std::fs::metadata(lock_path) {
                Ok(now) if (now.dev(), now.ino()) == (held.dev(), held.ino()) => return Ok(lock),
                _ => continue, // removed (or replaced) by the writer before: lock the new one
            }
        }
        #[cfg(not(unix))]
        return Ok(lock);
    }
}

/// `git rev-parse HEAD` in `dir`, or `None` if git is missing, fails, or says nothing.
fn git_head(dir: &Path) -> Option<String> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let head = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !head.is_empty()).then_some(head)
}

/// Now, UTC, as RFC 3339 to the second.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (the civil-from-days algorithm).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Whether the file at `path` begins with a UTF-8 byte-order mark, and whether it ends its
/// lines with CRLF, read from its first line (a baseline's first line is `{`): a file written
/// by [`Baseline::to_json`] has one convention throughout, and a large one is not read whole a
/// second time for it. `(false, false)` where it cannot be read, or is no plain file (a pipe's
/// bytes, read here, would be lost).
fn text_conventions(path: &Path) -> (bool, bool) {
    use std::io::Read;
    let mut head = Vec::with_capacity(256);
    let read = std::fs::File::open(path).and_then(|f| {
        if !f.metadata()?.is_file() {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        f.take(4096).read_to_end(&mut head)
    });
    if read.is_err() {
        return (false, false);
    }
    let bom = head.starts_with("\u{feff}".as_bytes());
    let crlf = head
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|at| at > 0 && head[at - 1] == b'\r');
    (bom, crlf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Baseline, BaselineError> {
        Baseline::from_slice(text.as_bytes(), Path::new("b.json"))
    }

    /// A baseline reached through a symbolic link is locked beside the file it names, as when
    /// reached by that file's own path: two writers, one through each, each lost the other's
    /// entries (each took its own lock, both replaced one file).
    #[cfg(unix)]
    #[test]
    fn a_baseline_through_a_link_is_locked_beside_the_file_it_names() {
        let dir = crate::atomic_file::fresh_dir("baseline-link-lock");
        std::fs::create_dir(dir.join("real")).unwrap();
        let real = dir.join("real").join("mb.json");
        let link = dir.join("link.json");
        std::os::unix::fs::symlink("real/mb.json", &link).unwrap();
        Baseline::update(&link, None, |_| {
            assert!(real.with_file_name("mb.json.lock").exists());
            assert!(!dir.join("link.json.lock").exists());
        })
        .unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!real.with_file_name("mb.json.lock").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A baseline (or the baseline a proposal starts from) that cannot be read leaves no lock file
    /// beside it: the lock file was removed only after a write.
    #[cfg(unix)]
    #[test]
    fn a_baseline_that_cannot_be_read_leaves_no_lock_file() {
        let dir = crate::atomic_file::fresh_dir("baseline-bad-lock");
        let (path, new) = (dir.join("b.json"), dir.join("b.json.new"));
        std::fs::write(&path, r#"{"dhat_kit_baseline":1,"entr"#).unwrap();
        assert!(Baseline::update(&path, None, |_| ()).is_err());
        assert!(!dir.join("b.json.lock").exists());
        assert!(Baseline::update(&new, Some(&path), |_| ()).is_err());
        assert!(!dir.join("b.json.new.lock").exists());
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            r#"{"dhat_kit_baseline":1,"entr"#
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file where the baseline's directory should be is said to be one: making the directory
    /// said "File exists (os error 17)" of it.
    #[test]
    fn a_file_where_its_directory_should_be_is_named() {
        let dir = crate::atomic_file::fresh_dir("baseline-in-a-file");
        let file = dir.join("profile.json");
        std::fs::write(&file, "{}").unwrap();
        let path = file.join("perf").join("memory-baseline.json");
        let err = Baseline::update(&path, None, |_| ()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "cannot create its directory {}: {} is a file, not a directory",
                file.join("perf").display(),
                file.display()
            )),
            "{text}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "{}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A file without end given as the baseline (`/dev/zero`) is an error that names it, read
    /// no further than the most a baseline holds: it was read whole, until the process ran out of
    /// memory.
    #[cfg(unix)]
    #[test]
    fn a_file_without_end_is_refused() {
        let err = Baseline::load(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dhat-kit: /dev/zero: cannot be read: larger than 64.0 MiB, more than any baseline \
             holds"
        );
        let BaselineError::Io { source, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge);
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_517_119), "2026-11-24T10:45:19Z");
    }

    #[test]
    fn a_file_that_is_no_json_is_refused_whatever_its_format() {
        let seed: &[u8] = b"{\"peak_memory_bytes\": 5, \"x\": \"\xff\"}";
        let ours: &[u8] = b"{\"dhat_kit_baseline\": 1, \"entries\": {}, \"x\": \"\xff\"}";
        for (bytes, said) in [
            (
                seed,
                "not valid JSON: invalid unicode code point at line 1 column 32",
            ),
            (ours, "unknown field `x`"),
        ] {
            let err = Baseline::from_slice(bytes, "mb.json".as_ref()).unwrap_err();
            assert!(err.to_string().contains(said), "{err}");
        }
        for value in ["1e400", "\"\\ud800\""] {
            let text = format!("{{\"peak_memory_bytes\": 5, \"x\": {value}}}");
            let err = parse(&text).unwrap_err();
            assert!(err.to_string().contains("not valid JSON"), "{value}: {err}");
        }
    }

    #[test]
    fn the_seed_format_is_one_default_entry() {
        let b = parse(
            r#"{"total_allocations_bytes": 1000, "peak_memory_bytes": 300,
                "allocation_count": 12, "measured_at": "2025-01-02T03:04:05Z",
                "commit": "abc", "tool": "dhat"}"#,
        )
        .unwrap();
        let e = b.get(DEFAULT_NAME).unwrap();
        assert_eq!(
            e.figures,
            BaselineFigures {
                total_bytes: Some(1000),
                total_blocks: Some(12),
                peak_bytes: Some(300),
                ..BaselineFigures::default()
            }
        );
        assert_eq!(e.recorded_at.as_deref(), Some("2025-01-02T03:04:05Z"));
        assert_eq!(e.commit.as_deref(), Some("abc"));
        let numeric = parse(r#"{"peak_memory_bytes": 3, "measured_at": 1700000000}"#).unwrap();
        assert_eq!(
            numeric.get(DEFAULT_NAME).unwrap().recorded_at.as_deref(),
            Some("1700000000")
        );
    }

    /// A proposal (`.new`) begun before the baseline recorded more: accepting it dropped what the
    /// baseline recorded since (an entry it lacked), and took back its older figures.
    #[test]
    fn a_proposal_takes_in_what_the_baseline_recorded_since_it_was_begun() {
        let dir = crate::atomic_file::fresh_dir("proposal");
        let (base, proposal) = (dir.join("mb.json"), dir.join("mb.json.new"));
        let entry = |bytes, at: &str| Entry {
            figures: BaselineFigures {
                total_bytes: Some(bytes),
                ..BaselineFigures::default()
            },
            recorded_at: Some(at.to_owned()),
            ..Entry::default()
        };
        let write = |path: &Path, entries: &[(&str, Entry)]| {
            let mut b = Baseline::new();
            for (name, e) in entries {
                b.insert(*name, e.clone());
            }
            b.write(path).unwrap();
        };
        write(
            &base,
            &[
                ("a", entry(5, "2026-01-05T00:00:00Z")),
                ("c", entry(3, "2026-01-03T00:00:00Z")),
                ("e", entry(1, "2026-01-01T00:00:00Z")),
                ("f", entry(8, "2026-01-08T00:00:00Z")),
            ],
        );
        write(
            &proposal,
            &[
                ("a", entry(2, "2026-01-02T00:00:00Z")),
                ("b", entry(4, "2026-01-04T00:00:00Z")),
                ("e", entry(6, "2026-01-06T00:00:00Z")),
                ("f", entry(9, "2026-01-01T00:00:00.5Z")),
            ],
        );
        Baseline::update(&proposal, Some(&base), |b| {
            b.insert("d", entry(7, "2026-01-07T00:00:00Z"));
        })
        .unwrap();
        let got = Baseline::read(&proposal).unwrap();
        let bytes = |name| got.get(name).and_then(|e| e.figures.total_bytes);
        // a: the baseline's, recorded later; b, e: the proposal's; c: the baseline's, which the
        // proposal lacked; d: the new one; f: the proposal's (times of another form are not
        // compared: "…00.5Z" reads before "…00Z" as text).
        assert_eq!(
            ["a", "b", "c", "d", "e", "f"].map(bytes),
            [Some(5), Some(4), Some(3), Some(7), Some(6), Some(9)]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A baseline that cannot be written says that nothing was recorded and what to do (it gave
    /// the system's error alone).
    #[test]
    fn a_file_that_cannot_be_written_says_what_to_do() {
        let dir = std::env::temp_dir().join(format!("dhat-kit-unwritable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // A directory where the file would be: no rename replaces it, even for root.
        let path = dir.join("mb.json");
        std::fs::create_dir_all(path.join("in-the-way")).unwrap();
        let e = Baseline::new().write(&path).unwrap_err();
        let said = e.to_string();
        assert!(
            said.starts_with(&format!(
                "dhat-kit: {}: cannot be written: ",
                path.display()
            )),
            "{said}"
        );
        assert!(
            said.ends_with(
                "; nothing was recorded: make it writable, or check without recording (no \
                 DHAT_KIT_UPDATE, no --update)"
            ),
            "{said}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_file_round_trips_with_sorted_entries() {
        let mut b = Baseline::new();
        for name in ["zeta", "alpha", "mid"] {
            b.insert(
                name,
                Entry {
                    figures: BaselineFigures::from(Stats {
                        max_bytes: 7,
                        ..Stats::default()
                    }),
                    recorded_at: Some("2026-01-01T00:00:00Z".into()),
                    ..Entry::default()
                },
            );
        }
        let json = b.to_json();
        assert!(json.starts_with("{\n  \"dhat_kit_baseline\": 1,\n  \"entries\": {\n    \"alpha\": {\n      \"total_bytes\": 0,"), "{json}");
        assert!(json.ends_with("}\n"));
        assert_eq!(parse(&json).unwrap(), b);
    }

    #[test]
    fn what_an_entry_measures_is_written_only_when_not_bytes_and_blocks() {
        let ad_hoc = Measure::ad_hoc();
        let figures = BaselineFigures {
            total_bytes: Some(91_140),
            total_blocks: Some(54),
            ..BaselineFigures::default()
        };
        let mut b = Baseline::new();
        for (name, measure) in [("bytes", Measure::default()), ("units", ad_hoc.clone())] {
            let entry = Entry {
                figures,
                measure,
                ..Entry::default()
            };
            b.insert(name, entry);
        }
        let json = b.to_json();
        assert!(
            json.contains("\"bytes\": {\n      \"total_bytes\": 91140,"),
            "{json}"
        );
        assert!(
            json.contains("\"units\": {\n      \"measures\": {\n        \"kind\": \"ad-hoc\",\n        \"unit\": \"units\",\n        \"blocks\": \"events\"\n      },"),
            "{json}"
        );
        let read = parse(&json).unwrap();
        assert_eq!(read, b);
        assert_eq!(read.get("units").unwrap().measure, ad_hoc);
        // An entry without `measures` (every file before it) holds bytes and blocks.
        let old = parse("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"total_bytes\": 1}}}");
        assert_eq!(old.unwrap().get("a").unwrap().measure, Measure::default());
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_file() {
        let json = "{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peak_bytes\": 1}}}";
        assert_eq!(
            parse(&format!("\u{feff}{json}")).unwrap(),
            parse(json).unwrap()
        );
    }

    #[test]
    fn an_update_keeps_the_files_line_endings_and_byte_order_mark() {
        let dir =
            std::env::temp_dir().join(format!("dhat-kit-baseline-crlf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entry = |bytes| Entry {
            figures: BaselineFigures {
                peak_bytes: Some(bytes),
                ..BaselineFigures::default()
            },
            ..Entry::default()
        };
        let (crlf, lf) = (dir.join("crlf.json"), dir.join("lf.json"));
        let (bom_crlf, bom_lf) = (dir.join("bom-crlf.json"), dir.join("bom-lf.json"));
        let mut b = Baseline::new();
        b.insert("a", entry(1));
        std::fs::write(&crlf, b.to_json().replace('\n', "\r\n")).unwrap();
        b.write(&lf).unwrap();
        std::fs::write(
            &bom_crlf,
            format!("\u{feff}{}", b.to_json().replace('\n', "\r\n")),
        )
        .unwrap();
        std::fs::write(&bom_lf, format!("\u{feff}{}", b.to_json())).unwrap();
        for path in [&crlf, &lf, &bom_crlf, &bom_lf] {
            let crlf_before = path == &crlf || path == &bom_crlf;
            let bom_before = path == &bom_crlf || path == &bom_lf;
            Baseline::update(path, None, |b| b.insert("b", entry(2))).unwrap();
            let text = std::fs::read_to_string(path).unwrap();
            let lines = text.matches('\n').count();
            let crlfs = text.matches("\r\n").count();
            assert_eq!(crlfs, if crlf_before { lines } else { 0 }, "{text:?}");
            assert_eq!(text.starts_with('\u{feff}'), bom_before, "{text:?}");
            assert_eq!(text.matches('\u{feff}').count(), usize::from(bom_before));
            assert_eq!(Baseline::read(path).unwrap().get("b"), Some(&entry(2)));
            // A proposal begun from it (`.new`) is written as it is: accepting it changes only
            // the lines it changes (it was written with LF and no mark).
            let pending = dir.join("pending.json.new");
            Baseline::update(&pending, Some(path), |b| b.insert("c", entry(3))).unwrap();
            let text = std::fs::read_to_string(&pending).unwrap();
            let lines = text.matches('\n').count();
            assert_eq!(
                text.matches("\r\n").count(),
                if crlf_before { lines } else { 0 },
                "{text:?}"
            );
            assert_eq!(text.starts_with('\u{feff}'), bom_before, "{text:?}");
            std::fs::remove_file(&pending).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_update_makes_the_directory_it_names() {
        let dir =
            std::env::temp_dir().join(format!("dhat-kit-baseline-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("perf").join("mem.json");
        let entry = Entry {
            figures: BaselineFigures {
                peak_bytes: Some(64),
                ..BaselineFigures::default()
            },
            ..Entry::default()
        };
        Baseline::update(&path, None, |b| b.insert("parse", entry.clone())).unwrap();
        assert_eq!(Baseline::read(&path).unwrap().get("parse"), Some(&entry));
        // A path that names a directory (`DHAT_KIT_BASELINE=perf/`) is said as such, without
        // advice to make it writable.
        let slash = std::path::PathBuf::from(format!("{}/", dir.join("none").display()));
        let err = Baseline::update(&slash, None, |b| b.insert("parse", entry.clone()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("name a file; nothing was recorded"), "{err}");
        assert!(!err.contains("writable"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_whole_number_with_a_fraction_or_an_exponent_is_its_figure() {
        let text = "{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"total_bytes\": 113.0, \
                    \"total_blocks\": 1e3, \"peak_bytes\": 9007199254740992.0}}}";
        let figures = parse(text).unwrap().get("a").unwrap().figures;
        assert_eq!(figures.total_bytes, Some(113));
        assert_eq!(figures.total_blocks, Some(1000));
        assert_eq!(figures.peak_bytes, Some(1 << 53));
        // The seed format too.
        let seed = parse("{\"total_allocations_bytes\": 2.0}").unwrap();
        assert_eq!(
            seed.entries().next().unwrap().1.figures.total_bytes,
            Some(2)
        );
    }

    #[test]
    fn bad_files_are_named_and_explained() {
        let cases = [
            ("", "the file is empty"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peak_bytes\": 1}", "not a complete JSON document"),
            ("{\"dhat_kit_baseline\": 2}", "expected baseline format version 1, found `dhat_kit_baseline`: 2"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peak_bytes\": -1}}}", "a figure cannot be negative, found -1"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"total_bytes\": 18446744073709551616}}}", "a figure above 18446744073709551615 does not fit in 64 bits"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"total_blocks\": 1.5}}}", "a figure is a whole number, found 1.5"),
            // A whole number written with a fraction or an exponent was said to be too large.
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"total_blocks\": -2.0}}}", "a figure cannot be negative, found -2"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"total_blocks\": 1e17}}}", "a figure above 9007199254740992 written with a fraction or an exponent is not read exactly, found 1e17: write its digits alone"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"end_bytes\": \"1\"}}}", "expected a figure, a whole number"),
            ("{\"allocation_count\": -3}", "a figure cannot be negative, found -3"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peek_bytes\": 1}}}", "unknown field `peek_bytes`"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {}}}", "the entry `a` has no figures"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peak_bytes\": 1, \"measures\": {\"kind\": \"adhoc\", \"unit\": \"u\", \"blocks\": \"e\"}}}}", "unknown kind `adhoc`; expected `heap`, `copy` or `ad-hoc`"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peak_bytes\": 1, \"measures\": {\"kind\": \"ad-hoc\"}}}}", "missing field `unit`"),
            ("{\"dhat_kit_baseline\": 1, \"entries\": {\"a\": {\"peak_bytes\": 1}, \"a\": {\"peak_bytes\": 2}}}", "the entry `a` appears twice"),
            ("{\"figures\": 1}", "found neither"),
            ("[1, 2]", "expected a JSON object of a baseline, found an array"),
            (" \"x\"", "expected a JSON object of a baseline, found a string"),
            ("{\"peak_memory_bytes\": \"big\"}", "expected a memory baseline with"),
            // A typo of a seed figure's name dropped that figure's check without a word.
            ("{\"total_allocations_bytes\": 17484, \"peak_memory_byts\": 1}", "unknown field `peak_memory_byts`: did you mean `peak_memory_bytes`?"),
            // A version as text is a hand edit, not another version's file.
            ("{\"dhat_kit_baseline\": \"1\", \"entries\": {}}", "expected `dhat_kit_baseline` to be the number 1, found \"1\""),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.starts_with("dhat-kit: b.json: "), "{err}");
            assert!(err.contains(expected), "{text:?}: {err}");
            // And what to do (it said what was wrong alone); another version's file is read
            // by that version, not mended or deleted.
            if expected.starts_with(OTHER_VERSION) {
                assert!(
                    err.ends_with("; read it with the dhat-kit that wrote it"),
                    "{err}"
                );
            } else {
                assert!(err.ends_with(MEND), "{text:?}: {err}");
            }
            assert!(!err.contains("Probe") && !err.contains("struct"), "{err}");
        }
    }
}
