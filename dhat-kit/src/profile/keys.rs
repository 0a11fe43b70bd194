//! The keys of a program point: one owner of their names, their order (a bit each, for the
//! fields a point was seen with), which are required, and where each number goes. Both ways of
//! reading a point (the byte parser of `point.rs` and the serde visitor of `de.rs`) dispatch here.

use super::ProgramPoint;

/// A key of a program point's object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointKey {
    /// One of the eleven numbers, by its bit (the order of [`NUMBERS`]).
    Number(u8),
    /// `acc`: the access counts.
    Acc,
    /// `fs`: the stack.
    Fs,
    /// A key DHAT does not write: its value is skipped.
    Other,
}

/// The numbers of a program point, in the order of their bits.
pub(crate) const NUMBERS: [&str; 11] = [
    "tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk", "rb", "wb",
];

/// The bit of `fs` in a point's set of fields seen.
pub(crate) const FS_BIT: u16 = 1 << 11;

/// The bit of `acc` in a point's set of fields seen (only to find it repeated).
pub(crate) const ACC_BIT: u16 = 1 << 12;

/// The fields every point has: `tb`, `tbk` (and `fs`, checked apart: it is not a number).
const REQUIRED: u16 = 0b11;

/// The fields every point of a file with block lifetimes (`bklt`) has: `mb`, `mbk`, `gb`, `gbk`,
/// `eb`, `ebk` (bits 3 to 8; `tl` is not checked).
pub(crate) const LIFETIMES: std::ops::Range<usize> = 3..9;

/// The fields every point of a file with block accesses (`bkacc`) has: `rb`, `wb` (bits 9, 10).
pub(crate) const ACCESSES: std::ops::Range<usize> = 9..11;

impl PointKey {
    /// The key's bit in a point's set of fields seen, with its name; `None` for
    /// [`PointKey::Other`].
    pub(crate) fn bit(self) -> Option<(u16, &'static str)> {
        match self {
            PointKey::Number(bit) => Some((1 << bit, NUMBERS[usize::from(bit)])),
            PointKey::Fs => Some((FS_BIT, "fs")),
            PointKey::Acc => Some((ACC_BIT, "acc")),
            PointKey::Other => None,
        }
    }

    /// The key named `key`.
    pub(crate) fn of(key: &[u8]) -> PointKey {
        match key {
            b"acc" => PointKey::Acc,
            b"fs" => PointKey::Fs,
            _ => NUMBERS
                .iter()
                .position(|n| n.as_bytes() == key)
                .map_or(PointKey::Other, |i| PointKey::Number(i as u8)),
        }
    }
}

/// The number of bit `bit` in `pp`.
pub(crate) fn number(pp: &mut ProgramPoint, bit: u8) -> &mut u64 {
    match bit {
        0 => &mut pp.tb,
        1 => &mut pp.tbk,
        2 => &mut pp.tl,
        3 => &mut pp.mb,
        4 => &mut pp.mbk,
        5 => &mut pp.gb,
        6 => &mut pp.gbk,
        7 => &mut pp.eb,
        8 => &mut pp.ebk,
        9 => &mut pp.rb,
        _ => &mut pp.wb,
    }
}

/// The first required field missing from a point seen with `seen` (one bit per field).
pub(crate) fn missing(seen: u16) -> Option<&'static str> {
    if let Some(bit) = (0..2).find(|b| REQUIRED & (1 << b) != 0 && seen & (1 << b) == 0) {
        return Some(NUMBERS[bit]);
    }
    (seen & FS_BIT == 0).then_some("fs")
}

/// What the reader expected when an object (the top level, a program point) has the key `key`
/// twice: each field once, found the duplicate (escaped, so that the message stays one line).
pub(crate) fn duplicate(key: &str) -> String {
    format!(
        "each field once, found duplicate field `{}`",
        key.escape_debug()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_one_meaning() {
        for (i, name) in NUMBERS.iter().enumerate() {
            assert_eq!(PointKey::of(name.as_bytes()), PointKey::Number(i as u8));
            let mut pp = ProgramPoint::default();
            *number(&mut pp, i as u8) = 7;
            assert_ne!(pp, ProgramPoint::default(), "{name}");
        }
        assert_eq!(PointKey::of(b"fs"), PointKey::Fs);
        assert_eq!(PointKey::of(b"acc"), PointKey::Acc);
        assert_eq!(PointKey::of(b"tbkk"), PointKey::Other);
        assert_eq!(missing(0b11 | FS_BIT), None);
        assert_eq!(missing(0b10 | FS_BIT), Some("tb"));
        assert_eq!(missing(0b01 | FS_BIT), Some("tbk"));
        assert_eq!(missing(0b11), Some("fs"));
        let bits: Vec<u16> = NUMBERS
            .iter()
            .chain(&["fs", "acc"])
            .map(|k| PointKey::of(k.as_bytes()).bit().unwrap().0)
            .collect();
        assert_eq!(bits.iter().fold(0, |all, b| all | b).count_ones(), 13);
        assert_eq!(PointKey::of(b"x").bit(), None);
        assert_eq!(
            duplicate("a\nb"),
            "each field once, found duplicate field `a\\nb`"
        );
    }
}
