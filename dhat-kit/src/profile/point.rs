//! The fast path for the common program point: an object of known keys whose values are plain
//! non-negative integers (and `fs` an array of them), as dhat-rs, Valgrind and dhat-kit write it.
//! It is parsed here without serde, byte by byte. Anything else (an unknown key, a repeated key,
//! an escape in a key, a number with a sign, fraction, exponent or leading zero, a value out of
//! range, `acc`, a missing required field, the end of the buffer) returns `None`, and the caller
//! parses the same bytes with serde, which accepts what JSON allows and gives the exact error.
//! Both dispatch on the keys of `keys.rs`; a property test below checks that this path and
//! serde's give the same point wherever this one answers, and that neither reads a repeated key.

use super::de::{Frames, Tracker};
use super::keys::{missing, number, PointKey, FS_BIT};
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
        match PointKey::of(key) {
            // A key seen before is left to serde, which says it is repeated.
            PointKey::Number(bit) if seen & (1 << bit) == 0 => {
                *number(&mut pp, bit) = p.number()?;
                seen |= 1 << bit;
            }
            PointKey::Fs if seen & FS_BIT == 0 => {
                fs = Some(p.frames()?);
                seen |= FS_BIT;
            }
            _ => return None,
        }
        p.ws();
        match p.next()? {
            b',' => p.ws(),
            b'}' => break,
            _ => return None,
        }
    }
    if missing(seen).is_some() {
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
            r#"{"tb":1,"tb":2,"tbk":1,"fs":[]}"#,             // a repeated number
            r#"{"tb":1,"tbk":1,"fs":[1],"fs":[2]}"#,          // a repeated stack
            r#"{"tb":1,"tbk":1,"fs":[1,]}"#,                  // a trailing comma
            r#"{"tb":1,"tbk":1,"fs":[1]"#,                    // cut short
            r#"{}"#,
        ] {
            assert!(fast(text).is_none(), "{text}");
        }
    }

    /// serde's reading of the same bytes (the path for the points this parser leaves).
    fn serde(text: &str) -> Option<ProgramPoint> {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_str(text);
        super::super::de::PpSeed(&Tracker::default())
            .deserialize(&mut de)
            .ok()
    }

    static FAST_HITS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2048, failure_persistence: None, ..Default::default()
        })]

        /// Wherever the byte parser answers, serde reads the same point from the same bytes.
        #[test]
        fn the_fast_path_reads_what_serde_reads(
            fields in proptest::collection::vec(
                (0usize..16, proptest::prelude::any::<u64>(), 0u8..16, proptest::collection::vec(0u32..70, 0..5)),
                0..14,
            ),
            spaces in proptest::prelude::any::<bool>(),
            complete in proptest::prelude::any::<bool>(),
        ) {
            let mut fields = fields;
            if complete {
                // The fields a point needs, last, so that most inputs reach the end of the parser.
                fields.extend([(0, 1, 15, vec![]), (1, 2, 15, vec![]), (11, 0, 15, vec![1, 2])]);
            }
            const KEYS: [&str; 16] = [
                "tb", "tbk", "tl", "mb", "mbk", "gb", "gbk", "eb", "ebk", "rb", "wb",
                "fs", "fs", "acc", "x", "tb",
            ];
            let ws = if spaces { " \n" } else { "" };
            let parts: Vec<String> = fields
                .iter()
                .map(|(k, v, shape, fs)| {
                    let key = KEYS[*k];
                    let value = match (key, shape) {
                        ("fs" | "acc", _) => format!(
                            "[{}]",
                            fs.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
                        ),
                        (_, 0) => format!("-{v}"),
                        (_, 1) => format!("{v}.5"),
                        (_, 2) => format!("\"{v}\""),
                        (_, 3) => format!("{v}0"), // past u64 for most values
                        _ => v.to_string(),
                    };
                    format!("{ws}\"{key}\"{ws}:{ws}{value}{ws}")
                })
                .collect();
            let text = format!("{{{}}}", parts.join(","));
            let mut names: Vec<&str> = fields.iter().map(|f| KEYS[f.0]).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                // A repeated key: neither path takes the last value.
                proptest::prop_assert!(fast(&text).is_none(), "{}", text);
                proptest::prop_assert_eq!(serde(&text), None, "{}", text);
            }
            if let Some((pp, len)) = fast(&text) {
                FAST_HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                proptest::prop_assert_eq!(len, text.len());
                proptest::prop_assert_eq!(Some(pp), serde(&text), "{}", text);
            }
        }
    }

    #[test]
    fn the_property_reaches_the_fast_path() {
        the_fast_path_reads_what_serde_reads();
        let hits = FAST_HITS.load(std::sync::atomic::Ordering::Relaxed);
        assert!(
            hits > 100,
            "{hits} of 2048 inputs reached the end of the fast path"
        );
    }
}
