//! What the reader (`fast.rs`) shares: the field path of a reading ([`Tracker`], plain `Cell`s,
//! for error messages), the serde visitor of a program point for the points the byte parser of
//! `point.rs` leaves to serde, and serde's messages turned into the reader's.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::keys::{self, PointKey, NUMBERS};
use super::{Profile, ProfileError, ProgramPoint};

/// Where the reader is, for error messages: the top-level key, the program point, its key, and
/// the array index within that key.
#[derive(Default)]
pub(crate) struct Tracker {
    pub(crate) top: Cell<Option<&'static str>>,
    /// A top-level key the reader does not know, while its value is read (`top` is `None`).
    pub(crate) other: RefCell<Option<Box<str>>>,
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
    /// the order of [`keys::NUMBERS`], `fs` at [`keys::FS_BIT`]), keeping the first point without
    /// one of those `bklt` needs and the first without one of those `bkacc` needs.
    pub(crate) fn note_seen(&self, seen: u16) {
        let index = self.pp.get().unwrap_or(0);
        if self.missing.get().is_none() {
            if let Some(bit) = keys::LIFETIMES.clone().find(|b| seen & (1 << b) == 0) {
                self.missing.set(Some((index, NUMBERS[bit], false)));
            }
        }
        if self.missing_acc.get().is_none() {
            if let Some(bit) = keys::ACCESSES.clone().find(|b| seen & (1 << b) == 0) {
                self.missing_acc.set(Some((index, NUMBERS[bit], true)));
            }
        }
    }

    /// Forgets everything, for the next reading.
    pub(crate) fn reset(&self) {
        self.top.set(None);
        self.other.replace(None);
        self.pp.set(None);
        self.pp_key.set(None);
        self.index.set(None);
        self.missing.set(None);
        self.missing_acc.set(None);
    }

    pub(crate) fn path(&self) -> String {
        let mut s = String::new();
        match (self.top.get(), &*self.other.borrow()) {
            (Some(top), _) => s.push_str(top),
            (None, Some(other)) => s.push_str(&quoted_key(other)),
            (None, None) => s.push_str("top level"),
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

/// The value of a key no profile has, read through and dropped, but read as JSON whole: serde's
/// `IgnoredAny` skips a string's bytes unchecked, and took one that is not UTF-8.
pub(crate) struct Skipped;

impl<'de> serde::Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skipped, D::Error> {
        d.deserialize_any(SkippedVisitor)
    }
}

struct SkippedVisitor;

impl<'de> Visitor<'de> for SkippedVisitor {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_unit<E>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        while map.next_entry::<Skipped, Skipped>()?.is_some() {}
        Ok(Skipped)
    }
}

/// A key no profile has, as the path names it: quoted as written, its first 60 characters.
fn quoted_key(key: &str) -> String {
    const MOST: usize = 60;
    let mut chars = key.chars();
    let head: String = chars.by_ref().take(MOST).collect();
    let more = if chars.next().is_some() { "…" } else { "" };
    format!("\"{}{more}\"", head.escape_debug())
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
            // serde_json reads an integer past `u64::MAX` as a float: said as what it is.
            let past_u64 = found
                .strip_prefix("floating point `")
                .and_then(|f| f.strip_suffix('`'))
                .and_then(|f| f.parse::<f64>().ok())
                .is_some_and(|f| f >= u64::MAX as f64 && f.fract() == 0.0);
            if expected == "u64" && past_u64 {
                return format!(
                    "a non-negative integer, found one above the largest ({})",
                    crate::units::Thousands(u64::MAX)
                );
            }
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

/// A key of a program point, as [`PointKey`] names it, with its name if it is
/// [`PointKey::Other`] (to find it repeated).
struct PointKeySeed;

impl<'de> DeserializeSeed<'de> for PointKeySeed {
    type Value = (PointKey, Option<Box<str>>);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for PointKeySeed {
    type Value = (PointKey, Option<Box<str>>);
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key of a program point")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(match PointKey::of(key.as_bytes()) {
            PointKey::Other => (PointKey::Other, Some(key.into())),
            known => (known, None),
        })
    }
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
        // One bit per field seen, in the order of `keys::NUMBERS`, then `fs` and `acc`.
        let mut seen = 0u16;
        let mut fs = None;
        // The keys skipped so far (rarely any).
        let mut others: Vec<Box<str>> = Vec::new();
        while let Some((key, name)) = map.next_key_seed(PointKeySeed)? {
            // A repeated key is an error, before its value: the last one does not win.
            let repeated = match (key.bit(), name) {
                (Some((bit, field)), _) if seen & bit != 0 => {
                    t.pp_key.set(Some(field));
                    Some(keys::duplicate(field))
                }
                (Some((bit, _)), _) => {
                    seen |= bit;
                    None
                }
                (None, Some(name)) if others.contains(&name) => Some(keys::duplicate(&name)),
                (None, name) => {
                    others.extend(name);
                    None
                }
            };
            if let Some(message) = repeated {
                return Err(de::Error::custom(format_args!("expected {message}")));
            }
            match key {
                PointKey::Number(bit) => {
                    // The key goes into the path only on error: this runs for every field.
                    *keys::number(&mut pp, bit) = map
                        .next_value()
                        .inspect_err(|_| t.pp_key.set(Some(NUMBERS[usize::from(bit)])))?;
                }
                PointKey::Acc => {
                    let acc: Vec<i64> = map
                        .next_value()
                        .inspect_err(|_| t.pp_key.set(Some("acc")))?;
                    pp.acc = Some(acc.into_boxed_slice());
                }
                PointKey::Fs => {
                    fs = Some(
                        map.next_value_seed(FsSeed(t))
                            .inspect_err(|_| t.pp_key.set(Some("fs")))?,
                    );
                }
                PointKey::Other => {
                    map.next_value::<Skipped>()?;
                }
            }
        }
        if let Some(field) = keys::missing(seen) {
            return Err(de::Error::custom(format_args!(
                "expected field `{field}`, found none"
            )));
        }
        pp.fs = fs.unwrap_or_default();
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
