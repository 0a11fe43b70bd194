//! Writing a [`Profile`]: serde's `Serialize`, and DHAT JSON laid out as Valgrind lays it out.

use std::io::Write;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::{Profile, ProgramPoint};

impl Serialize for Profile {
    /// DHAT's JSON object: optional top-level fields only when set, per-point lifetime fields
    /// only with `bklt`, access fields only with `bkacc`, so the output reads back unchanged.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        head_entries(self, &mut m)?;
        m.serialize_entry("pps", &Points(self))?;
        m.serialize_entry("ftbl", &self.ftbl)?;
        m.end()
    }
}

struct Points<'a>(&'a Profile);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.pps.len()))?;
        for pp in &self.0.pps {
            seq.serialize_element(&Point(pp, self.0.bklt, self.0.bkacc))?;
        }
        seq.end()
    }
}

struct Point<'a>(&'a ProgramPoint, bool, bool);

impl Serialize for Point<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Point(pp, bklt, bkacc) = *self;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("tb", &pp.tb)?;
        m.serialize_entry("tbk", &pp.tbk)?;
        if bklt {
            m.serialize_entry("tl", &pp.tl)?;
            m.serialize_entry("mb", &pp.mb)?;
            m.serialize_entry("mbk", &pp.mbk)?;
            m.serialize_entry("gb", &pp.gb)?;
            m.serialize_entry("gbk", &pp.gbk)?;
            m.serialize_entry("eb", &pp.eb)?;
            m.serialize_entry("ebk", &pp.ebk)?;
        }
        if bkacc {
            m.serialize_entry("rb", &pp.rb)?;
            m.serialize_entry("wb", &pp.wb)?;
        }
        if let Some(acc) = &pp.acc {
            m.serialize_entry("acc", acc)?;
        }
        m.serialize_entry("fs", &pp.fs)?;
        m.end()
    }
}

/// Writes `p` as compact JSON with one program point and one frame per line, as Valgrind does.
pub(crate) fn write(p: &Profile, out: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut buf = std::io::BufWriter::new(out);
    let head = serde_json::to_string(&Head(p)).map_err(std::io::Error::other)?;
    let head = head.trim_end_matches('}');
    write!(buf, "{head},\"pps\":[")?;
    for (i, pp) in p.pps.iter().enumerate() {
        buf.write_all(if i == 0 { b"\n " } else { b"\n," })?;
        serde_json::to_writer(&mut buf, &Point(pp, p.bklt, p.bkacc))
            .map_err(std::io::Error::other)?;
    }
    buf.write_all(b"\n],\"ftbl\":[")?;
    for (i, f) in p.ftbl.iter().enumerate() {
        buf.write_all(if i == 0 { b"\n " } else { b"\n," })?;
        serde_json::to_writer(&mut buf, f).map_err(std::io::Error::other)?;
    }
    buf.write_all(b"\n]}\n")?;
    buf.flush()
}

/// The profile's top-level fields without `pps` and `ftbl`.
struct Head<'a>(&'a Profile);

impl Serialize for Head<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        head_entries(self.0, &mut m)?;
        m.end()
    }
}

fn head_entries<M: SerializeMap>(p: &Profile, m: &mut M) -> Result<(), M::Error> {
    m.serialize_entry("dhatFileVersion", &p.version)?;
    m.serialize_entry("mode", &p.mode)?;
    m.serialize_entry("verb", &p.verb)?;
    m.serialize_entry("bklt", &p.bklt)?;
    m.serialize_entry("bkacc", &p.bkacc)?;
    for (key, v) in [("bu", &p.bu), ("bsu", &p.bsu), ("bksu", &p.bksu)] {
        if let Some(v) = v {
            m.serialize_entry(key, v)?;
        }
    }
    m.serialize_entry("tu", &p.tu)?;
    m.serialize_entry("Mtu", &p.mtu)?;
    if let Some(tuth) = p.tuth {
        m.serialize_entry("tuth", &tuth)?;
    }
    m.serialize_entry("cmd", &p.cmd)?;
    m.serialize_entry("pid", &p.pid)?;
    m.serialize_entry("te", &p.te)?;
    if let Some(tg) = p.tg {
        m.serialize_entry("tg", &tg)?;
    }
    Ok(())
}
