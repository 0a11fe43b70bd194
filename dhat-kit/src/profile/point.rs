//! The fast path for the common program point: an object of known keys whose values are plain
//! non-negative integers (and `fs` an array of them), as dhat-rs, Valgrind and dhat-kit write it.
//! It is parsed here without serde, byte by byte. Anything else (an unknown key, an escape in a
//! key, a number with a sign, fraction, exponent or leading zero, a value out of range, `acc`, a
//! missing required field, the end of the buffer) returns `None`, and the caller parses the same
//! bytes with serde, which accepts what JSON allows and gives the exact error. The fuzz test
//! checks that the streaming reader (which uses this path) and the in-memory one (which does not)
//! agree on every input.

use super::de::{Frames, Tracker};
use super::ProgramPoint;

/// Parses the program point at the start of `b`: the point and the bytes it took, or `None`.
pub(crate) fn parse(b: &[u8], t: &Tracker) -> Option<(ProgramPoint, usize)> {
    let mut p = Parser { b, i: 0 };
    let mut pp = ProgramPoint::default();
    let mut seen = 0u16;
    let mut fs = None;
    p.ws(); // an element after the first starts after its comma
    p.byte(b'{')?;
    p.ws();
    if p.peek()? == b'}' {
        return None; // no fields: serde says which one is missing
    }
    loop {
        let key = p.key()?;
        p.ws();
        p.byte(b':')?;
        p.ws();
        let bit = match key {
            b"tb" => 0,
            b"tbk" => 1,
            b"tl" => 2,
            b"mb" => 3,
            b"mbk" => 4,
            b"gb" => 5,
            b"gbk" => 6,
            b"eb" => 7,
            b"ebk" => 8,
            b"rb" => 9,
            b"wb" => 10,
            b"fs" => {
                fs = Some(p.frames()?);
                11
            }
            _ => return None,
        };
        if bit < 11 {
            let v = p.number()?;
            let field = match bit {
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
            };
            *field = v;
        }
        seen |= 1 << bit;
        p.ws();
        match p.next()? {
            b',' => p.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    if seen & 0b11 != 0b11 {
        return None;
    }
    pp.fs = fs?;
    t.note_seen(seen);
    Some((pp, p.i))
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    /// A key without escapes: its bytes between the quotes.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.byte(b'"')?;
        let start = self.i;
        loop {
            match self.next()? {
                b'"' => return Some(&self.b[start..self.i - 1]),
                b'\\' => return None,
                _ => {}
            }
        }
    }

    /// A JSON integer in `u64`: digits, no leading zero, no sign, fraction or exponent.
    fn number(&mut self) -> Option<u64> {
        let first = self.next()?;
        if !first.is_ascii_digit() {
            return None;
        }
        let mut v = u64::from(first - b'0');
        while let Some(c @ b'0'..=b'9') = self.peek() {
            if first == b'0' {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        match self.peek()? {
            b'.' | b'e' | b'E' => None,
            _ => Some(v),
        }
    }

    /// `fs`: an array of frame indices, each in `u32`.
    fn frames(&mut self) -> Option<Box<[u32]>> {
        self.byte(b'[')?;
        self.ws();
        let mut frames = Frames::new();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(frames.finish());
        }
        loop {
            frames.push(u32::try_from(self.number()?).ok()?);
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                b']' => return Some(frames.finish()),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(text: &str) -> Option<(ProgramPoint, usize)> {
        parse(text.as_bytes(), &Tracker::default())
    }

    #[test]
    fn the_common_shapes_take_the_fast_path() {
        let text = "\n{\n\"tb\": 12,\n\"tbk\": 3,\n\"tl\": 0,\"mb\":5,\"mbk\":1,\"gb\":0,\"gbk\":0,\"eb\":0,\"ebk\":0,\n\"fs\": [\n7,\n31\n]\n},";
        let (pp, len) = fast(text).expect("fast path");
        assert_eq!((pp.tb, pp.tbk, pp.mb, &*pp.fs), (12, 3, 5, &[7u32, 31][..]));
        assert_eq!(&text[len..], ",");
        let (pp, _) = fast(r#"{"tb":1,"tbk":1,"fs":[]}"#).unwrap();
        assert!(pp.fs.is_empty());
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let (pp, _) = fast(&format!(r#"{{"tb":1,"tbk":1,"fs":[{}]}}"#, many.join(","))).unwrap();
        assert_eq!(pp.fs.len(), 100);
        assert_eq!(pp.fs[99], 99);
    }

    #[test]
    fn anything_unusual_is_left_to_serde() {
        for text in [
            r#"{"tb":1,"tbk":1}"#,                            // no fs
            r#"{"tbk":1,"fs":[]}"#,                           // no tb
            r#"{"tb":-1,"tbk":1,"fs":[]}"#,                   // negative
            r#"{"tb":1.0,"tbk":1,"fs":[]}"#,                  // fraction
            r#"{"tb":1e3,"tbk":1,"fs":[]}"#,                  // exponent
            r#"{"tb":01,"tbk":1,"fs":[]}"#,                   // leading zero
            r#"{"tb":18446744073709551616,"tbk":1,"fs":[]}"#, // over u64
            r#"{"tb":1,"tbk":1,"fs":[4294967296]}"#,          // over u32
            r#"{"t\u0062":1,"tbk":1,"fs":[]}"#,               // an escape in a key
            r#"{"tb":1,"tbk":1,"fs":[],"acc":[1]}"#,          // accesses
            r#"{"tb":1,"tbk":1,"fs":[],"x":1}"#,              // an unknown key
            r#"{"tb":1,"tbk":1,"fs":[1,]}"#,                  // a trailing comma
            r#"{"tb":1,"tbk":1,"fs":[1]"#,                    // cut short
            r#"{}"#,
        ] {
            assert!(fast(text).is_none(), "{text}");
        }
    }
}
