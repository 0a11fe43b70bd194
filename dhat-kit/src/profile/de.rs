//! The streaming reader: serde visitors straight into [`Profile`], no `serde_json::Value` tree,
//! with the field path kept on the side (plain `Cell`s) for error messages.

use std::cell::Cell;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::{Profile, ProfileError, ProgramPoint, FILE_VERSION};

/// A program point's numeric fields, in the order of their bits in [`Tracker::note_seen`].
const PP_FIELDS: [&str; 11] = [
    "tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk", "rb", "wb",
];

/// Where the reader is, for error messages: the top-level key, the program point, its key, and
/// the array index within that key.
#[derive(Default)]
pub(crate) struct Tracker {
    pub(crate) top: Cell<Option<&'static str>>,
    pub(crate) pp: Cell<Option<usize>>,
    pub(crate) pp_key: Cell<Option<&'static str>>,
    pub(crate) index: Cell<Option<usize>>,
    /// The first program point missing a field that `bklt` or `bkacc` needs: (point, field, bkacc?).
    missing: Cell<Option<(usize, &'static str, bool)>>,
    missing_acc: Cell<Option<(usize, &'static str, bool)>>,
}

impl Tracker {
    /// The error for the first program point missing a field its profile's `bklt` or `bkacc`
    /// says every point has.
    pub(crate) fn check_missing(&self, profile: &Profile, name: &str) -> Result<(), ProfileError> {
        let need =
            |m: &Cell<Option<(usize, &'static str, bool)>>, flag: bool, what: &str| match m.get() {
                Some((pp, field, _)) if flag => Err(ProfileError::new(
                    name,
                    format!("field `{field}` in every program point ({what} is true)"),
                    format!("pps[{pp}]"),
                )),
                _ => Ok(()),
            };
        need(&self.missing, profile.bklt, "bklt")?;
        need(&self.missing_acc, profile.bkacc, "bkacc")
    }

    /// Notes which of a program point's optional fields it had (`seen`: one bit per field, in
    /// the order of [`PP_FIELDS`]), keeping the first point without one of those `bklt` needs
    /// and the first without one of those `bkacc` needs.
    pub(crate) fn note_seen(&self, seen: u16) {
        let index = self.pp.get().unwrap_or(0);
        if self.missing.get().is_none() {
            if let Some(bit) = (3..9).find(|b| seen & (1 << b) == 0) {
                self.missing.set(Some((index, PP_FIELDS[bit], false)));
            }
        }
        if self.missing_acc.get().is_none() {
            if let Some(bit) = (9..11).find(|b| seen & (1 << b) == 0) {
                self.missing_acc.set(Some((index, PP_FIELDS[bit], true)));
            }
        }
    }

    /// Forgets everything, for the next reading.
    pub(crate) fn reset(&self) {
        self.top.set(None);
        self.pp.set(None);
        self.pp_key.set(None);
        self.index.set(None);
        self.missing.set(None);
        self.missing_acc.set(None);
    }

    pub(crate) fn path(&self) -> String {
        let mut s = String::new();
        match self.top.get() {
            None => s.push_str("top level"),
            Some(top) => s.push_str(top),
        }
        if let Some(pp) = self.pp.get() {
            s.push_str(&format!("[{pp}]"));
            if let Some(key) = self.pp_key.get() {
                s.push('.');
                s.push_str(key);
            }
        }
        if let Some(i) = self.index.get() {
            s.push_str(&format!("[{i}]"));
        }
        s
    }
}

/// A reader that reports how many bytes have been read, every 4 MiB.
pub(crate) struct Progress<R, F> {
    inner: R,
    read: u64,
    reported: u64,
    report: F,
}

impl<R, F: FnMut(u64)> Progress<R, F> {
    pub(crate) fn new(inner: R, report: F) -> Self {
        Progress {
            inner,
            read: 0,
            reported: 0,
            report,
        }
    }
}

impl<R: Read, F: FnMut(u64)> Read for Progress<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read - self.reported >= 4 << 20 || (n == 0 && self.read != self.reported) {
            self.reported = self.read;
            (self.report)(self.read);
        }
        Ok(n)
    }
}

pub(crate) fn from_slice(bytes: &[u8], name: &str) -> Result<Profile, ProfileError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    run(&mut de, name)
}

fn run<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    name: &str,
) -> Result<Profile, ProfileError> {
    let tracker = Tracker::default();
    let result = ProfileSeed(&tracker)
        .deserialize(&mut *de)
        .and_then(|p| de.end().map(|()| p));
    let profile = result.map_err(|e| json_error(&e, &tracker, name))?;
    tracker.check_missing(&profile, name)?;
    Ok(profile)
}

/// One line from a JSON error: what was expected (serde_json's message without its position),
/// and where (the field path, then line and column).
fn json_error(e: &serde_json::Error, tracker: &Tracker, name: &str) -> ProfileError {
    use serde_json::error::Category;
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => &text[..i],
        _ => text.as_str(),
    };
    let expected = match e.classify() {
        Category::Io => format!("a readable file ({message})"),
        Category::Eof if e.line() == 1 && e.column() == 0 => {
            "a DHAT JSON profile, found an empty file".to_owned()
        }
        Category::Eof => {
            format!("the rest of the JSON document, found the end of the file ({message})")
        }
        Category::Syntax => format!("valid JSON ({message})"),
        Category::Data => data_message(message),
    };
    let mut at = tracker.path();
    if e.line() > 0 {
        at.push_str(&format!(", line {} column {}", e.line(), e.column()));
    }
    ProfileError::new(name, expected, at)
}

/// serde's "invalid type: string \"x\", expected u64" as "u64, found string \"x\"".
pub(crate) fn data_message(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("expected ") {
        return rest.to_owned();
    }
    match message.rsplit_once(", expected ") {
        Some((found, expected)) => {
            let found = found
                .strip_prefix("invalid type: ")
                .or_else(|| found.strip_prefix("invalid value: "))
                .or_else(|| found.strip_prefix("invalid length "))
                .unwrap_or(found);
            let expected = match expected {
                "u64" => "a non-negative integer",
                "u32" => "a frame index (a non-negative integer below 2^32)",
                "i64" => "an integer",
                other => other,
            };
            format!("{expected}, found {found}")
        }
        None => message.to_owned(),
    }
}

struct ProfileSeed<'t>(&'t Tracker);

impl<'de> DeserializeSeed<'de> for ProfileSeed<'_> {
    type Value = Profile;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Profile, D::Error> {
        d.deserialize_map(self)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
#[allow(non_camel_case_types)]
enum TopKey {
    dhatFileVersion,
    mode,
    verb,
    bklt,
    bkacc,
    bu,
    bsu,
    bksu,
    tu,
    Mtu,
    tuth,
    cmd,
    pid,
    te,
    tg,
    pps,
    ftbl,
    #[serde(other)]
    Other,
}

impl<'de> Visitor<'de> for ProfileSeed<'_> {
    type Value = Profile;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DHAT profile (a JSON object with dhatFileVersion, mode, pps, ftbl, ...)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Profile, A::Error> {
        let t = self.0;
        let mut version = None;
        let (mut mode, mut verb, mut tu, mut mtu, mut cmd) = (None, None, None, None, None);
        let (mut bklt, mut bkacc, mut pid, mut te) = (None, None, None, None);
        let mut p = Profile {
            version: 0,
            mode: String::new(),
            verb: String::new(),
            bklt: false,
            bkacc: false,
            bu: None,
            bsu: None,
            bksu: None,
            tu: String::new(),
            mtu: String::new(),
            tuth: None,
            cmd: String::new(),
            pid: 0,
            te: 0,
            tg: None,
            pps: Vec::new(),
            ftbl: Vec::new(),
        };
        let mut pps = None;
        let mut ftbl = None;
        while let Some(key) = map.next_key::<TopKey>()? {
            macro_rules! value {
                ($name:literal) => {{
                    t.top.set(Some($name));
                    map.next_value()?
                }};
            }
            match key {
                TopKey::dhatFileVersion => {
                    let v: u64 = value!("dhatFileVersion");
                    if v != FILE_VERSION {
                        return Err(de::Error::custom(format_args!(
                            "expected DHAT file version {FILE_VERSION}, found {v}"
                        )));
                    }
                    version = Some(v);
                }
                TopKey::mode => mode = Some(value!("mode")),
                TopKey::verb => verb = Some(value!("verb")),
                TopKey::bklt => bklt = Some(value!("bklt")),
                TopKey::bkacc => bkacc = Some(value!("bkacc")),
                TopKey::bu => p.bu = value!("bu"),
                TopKey::bsu => p.bsu = value!("bsu"),
                TopKey::bksu => p.bksu = value!("bksu"),
                TopKey::tu => tu = Some(value!("tu")),
                TopKey::Mtu => mtu = Some(value!("Mtu")),
                TopKey::tuth => p.tuth = value!("tuth"),
                TopKey::cmd => cmd = Some(value!("cmd")),
                TopKey::pid => pid = Some(value!("pid")),
                TopKey::te => te = Some(value!("te")),
                TopKey::tg => p.tg = value!("tg"),
                TopKey::pps => {
                    t.top.set(Some("pps"));
                    pps = Some(map.next_value_seed(PpsSeed(t))?);
                }
                TopKey::ftbl => {
                    t.top.set(Some("ftbl"));
                    ftbl = Some(map.next_value_seed(FtblSeed(t))?);
                }
                TopKey::Other => {
                    t.top.set(None);
                    map.next_value::<IgnoredAny>()?;
                }
            }
            t.top.set(None);
            t.pp.set(None);
            t.pp_key.set(None);
            t.index.set(None);
        }
        fn required<T, E: de::Error>(v: Option<T>, name: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::custom(format_args!("expected field `{name}`, found none")))
        }
        p.version = required(version, "dhatFileVersion")?;
        p.mode = required(mode, "mode")?;
        p.verb = required(verb, "verb")?;
        p.bklt = required(bklt, "bklt")?;
        p.bkacc = required(bkacc, "bkacc")?;
        p.tu = required(tu, "tu")?;
        p.mtu = required(mtu, "Mtu")?;
        p.cmd = required(cmd, "cmd")?;
        p.pid = required(pid, "pid")?;
        p.te = required(te, "te")?;
        p.pps = required(pps, "pps")?;
        p.ftbl = required(ftbl, "ftbl")?;
        Ok(p)
    }
}

struct FtblSeed<'t>(&'t Tracker);

impl<'de> DeserializeSeed<'de> for FtblSeed<'_> {
    type Value = Vec<Box<str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FtblSeed<'_> {
    type Value = Vec<Box<str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of frame strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        loop {
            self.0.index.set(Some(out.len()));
            match seq.next_element::<Box<str>>()? {
                Some(s) => out.push(s),
                None => break,
            }
        }
        self.0.index.set(None);
        out.shrink_to_fit();
        Ok(out)
    }
}

struct PpsSeed<'t>(&'t Tracker);

impl<'de> DeserializeSeed<'de> for PpsSeed<'_> {
    type Value = Vec<ProgramPoint>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PpsSeed<'_> {
    type Value = Vec<ProgramPoint>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of program points")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // Grown by an eighth at a time (a large block's realloc remaps pages rather than copying
        // them): a vector doubling its capacity would hold up to twice the points' size.
        let mut out: Vec<ProgramPoint> =
            Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 12));
        loop {
            self.0.pp.set(Some(out.len()));
            match seq.next_element_seed(PpSeed(self.0))? {
                Some(pp) => {
                    if out.len() == out.capacity() {
                        out.reserve_exact((out.len() / 8).max(1 << 12));
                    }
                    out.push(pp);
                }
                None => break,
            }
            self.0.pp_key.set(None);
        }
        self.0.pp.set(None);
        out.shrink_to_fit();
        Ok(out)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier)]
#[allow(non_camel_case_types)]
enum PpKey {
    tb,
    tbk,
    tl,
    mb,
    mbk,
    gb,
    gbk,
    eb,
    ebk,
    rb,
    wb,
    acc,
    fs,
    #[serde(other)]
    Other,
}

pub(crate) struct PpSeed<'t>(pub(crate) &'t Tracker);

impl<'de> DeserializeSeed<'de> for PpSeed<'_> {
    type Value = ProgramPoint;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PpSeed<'_> {
    type Value = ProgramPoint;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a program point (a JSON object with tb, tbk, fs, ...)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let t = self.0;
        let mut pp = ProgramPoint::default();
        // One bit per field seen, in the order of `PpKey`.
        let mut seen = 0u16;
        let mut fs = None;
        while let Some(key) = map.next_key::<PpKey>()? {
            macro_rules! num {
                ($name:literal, $field:ident, $bit:expr) => {{
                    // The key goes into the path only on error: this runs for every field.
                    pp.$field = map
                        .next_value()
                        .inspect_err(|_| t.pp_key.set(Some($name)))?;
                    seen |= 1 << $bit;
                }};
            }
            match key {
                PpKey::tb => num!("tb", tb, 0),
                PpKey::tbk => num!("tbk", tbk, 1),
                PpKey::tl => num!("tl", tl, 2),
                PpKey::mb => num!("mb", mb, 3),
                PpKey::mbk => num!("mbk", mbk, 4),
                PpKey::gb => num!("gb", gb, 5),
                PpKey::gbk => num!("gbk", gbk, 6),
                PpKey::eb => num!("eb", eb, 7),
                PpKey::ebk => num!("ebk", ebk, 8),
                PpKey::rb => num!("rb", rb, 9),
                PpKey::wb => num!("wb", wb, 10),
                PpKey::acc => {
                    let acc: Vec<i64> = map
                        .next_value()
                        .inspect_err(|_| t.pp_key.set(Some("acc")))?;
                    pp.acc = Some(acc.into_boxed_slice());
                }
                PpKey::fs => {
                    fs = Some(
                        map.next_value_seed(FsSeed(t))
                            .inspect_err(|_| t.pp_key.set(Some("fs")))?,
                    );
                }
                PpKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let Some(bit) = (0..2).find(|b| seen & (1 << b) == 0) {
            return Err(de::Error::custom(format_args!(
                "expected field `{}`, found none",
                PP_FIELDS[bit]
            )));
        }
        pp.fs = fs.ok_or_else(|| de::Error::custom("expected field `fs`, found none"))?;
        t.note_seen(seen);
        Ok(pp)
    }
}

struct FsSeed<'t>(&'t Tracker);

impl<'de> DeserializeSeed<'de> for FsSeed<'_> {
    type Value = Box<[u32]>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FsSeed<'_> {
    type Value = Box<[u32]>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of frame indices")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut frames = Frames::new();
        loop {
            match seq.next_element::<u32>() {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => return Ok(frames.finish()),
                Err(e) => {
                    self.0.index.set(Some(frames.len));
                    return Err(e);
                }
            }
        }
    }
}

/// A program point's frame indices, collected on the stack (stacks are rarely deeper than 64
/// frames), then allocated once at the exact size.
pub(crate) struct Frames {
    stack: [u32; 64],
    len: usize,
    spill: Vec<u32>,
}

impl Frames {
    pub(crate) fn new() -> Self {
        Frames {
            stack: [0; 64],
            len: 0,
            spill: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, f: u32) {
        if self.len < self.stack.len() {
            self.stack[self.len] = f;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.stack);
            }
            self.spill.push(f);
        }
        self.len += 1;
    }

    pub(crate) fn finish(self) -> Box<[u32]> {
        if self.spill.is_empty() {
            Box::from(&self.stack[..self.len])
        } else {
            self.spill.into_boxed_slice()
        }
    }
}
