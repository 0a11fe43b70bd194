//! The profile reader never panics: arbitrary bytes, and real profiles with bytes flipped,
//! inserted, cut or spliced, either read or give a [`ProfileError`] naming the file. Whatever
//! reads is what an independent reading of the same bytes (`serde_json::Value`) holds, and is
//! then run through every analysis, which must not panic either.

use dhat_kit::analyze::{self, GroupBy, Metric, TopOptions};
use dhat_kit::profile;
use proptest::prelude::*;

mod support;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(support::fixture(name)).unwrap()
}

const FIXTURES: [&str; 6] = [
    "valgrind-heap.json",
    "valgrind-copy.json",
    "valgrind-ad-hoc.json",
    "dhat-rs-heap.json",
    "dhat-rs-ad-hoc.json",
    "dhat-kit-peak.json",
];

fn exercise(bytes: &[u8]) {
    match profile::from_slice(bytes, "fuzz.json") {
        Ok(p) => {
            agrees_with_json(bytes, &p);
            let _ = analyze::summary(&p).to_string();
            for by in [Metric::TotalBytes, Metric::PeakBytes, Metric::Reads] {
                for group_by in [GroupBy::Site, GroupBy::Crate] {
                    let opts = TopOptions {
                        n: 5,
                        by,
                        group_by,
                        stack: 3,
                        ..TopOptions::default()
                    };
                    if let Ok(top) = analyze::top(&p, &opts) {
                        let _ = top.render(&p, analyze::Format::Table);
                    }
                }
            }
            let _ = analyze::folded(&p, Metric::TotalBytes);
            let _ = analyze::diff(&p, &p, &Default::default());
        }
        Err(e) => {
            let line = e.to_string();
            assert!(line.starts_with("dhat-kit: fuzz.json: expected "), "{line}");
            assert_eq!(line.lines().count(), 1, "{line}");
        }
    }
    // Read from a stream (a buffer filled from a `Read`) or from memory: the same profile, or an
    // error for both.
    match (
        profile::from_reader(bytes, "fuzz.json"),
        profile::from_slice(bytes, "fuzz.json"),
    ) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("the readers disagree: {a:?} / {b:?}"),
    }
}

/// What the reader accepted is JSON, and every field of the model is the one that JSON holds.
fn agrees_with_json(bytes: &[u8], p: &profile::Profile) {
    // The reader skips a leading byte-order mark, as JSON readers may; serde_json does not.
    let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let v: serde_json::Value = serde_json::from_slice(json).expect("what reads is JSON");
    let text = |k: &str| v[k].as_str().map(str::to_owned);
    assert_eq!(v["dhatFileVersion"].as_u64(), Some(2));
    assert_eq!(text("mode"), Some(p.mode.clone()));
    assert_eq!(text("verb"), Some(p.verb.clone()));
    assert_eq!(text("cmd"), Some(p.cmd.clone()));
    assert_eq!(v["bklt"].as_bool(), Some(p.bklt));
    assert_eq!(v["bkacc"].as_bool(), Some(p.bkacc));
    assert_eq!(v["pid"].as_u64(), Some(p.pid));
    assert_eq!(v["te"].as_u64(), Some(p.te));
    assert_eq!(v["tg"].as_u64(), p.tg);
    assert_eq!(v["tuth"].as_u64(), p.tuth);
    assert_eq!(text("bsu"), p.bsu);
    let ftbl: Vec<&str> = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(ftbl, p.ftbl.iter().map(|f| &**f).collect::<Vec<_>>());
    let pps = v["pps"].as_array().unwrap();
    assert_eq!(pps.len(), p.pps.len());
    for (json, pp) in pps.iter().zip(&p.pps) {
        let n = |k: &str| json.get(k).map_or(0, |x| x.as_u64().unwrap());
        let figures = [
            n("tb"),
            n("tbk"),
            n("tl"),
            n("mb"),
            n("mbk"),
            n("gb"),
            n("gbk"),
            n("eb"),
            n("ebk"),
            n("rb"),
            n("wb"),
        ];
        let model = [
            pp.tb, pp.tbk, pp.tl, pp.mb, pp.mbk, pp.gb, pp.gbk, pp.eb, pp.ebk, pp.rb, pp.wb,
        ];
        assert_eq!(figures, model);
        let fs: Vec<u32> = json["fs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(fs, &*pp.fs);
        let acc = json.get("acc").map(|a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_i64().unwrap())
                .collect::<Vec<_>>()
        });
        assert_eq!(acc.as_deref(), pp.acc.as_deref());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_fixtures(
        which in 0..FIXTURES.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..6),
    ) {
        let mut bytes = fixture(FIXTURES[which]);
        for (at, op, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            // Bytes that keep the text JSON-like, so mutations get past the first token.
            const STRUCTURAL: &[u8] = b"{}[],:\"-0123456789 e.\\ntrufalsn";
            let structural = STRUCTURAL[byte as usize % STRUCTURAL.len()];
            match op {
                0 => bytes[i] = structural,
                1 => bytes.insert(i, structural),
                2 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        exercise(&bytes);
    }

    #[test]
    fn numbers_anywhere(which in 0..FIXTURES.len(), at in any::<prop::sample::Index>(), n in any::<i64>()) {
        // Replace one number with another of any sign and size.
        let text = String::from_utf8(fixture(FIXTURES[which])).unwrap();
        let starts: Vec<usize> = text
            .char_indices()
            .filter(|&(i, c)| c.is_ascii_digit() && !text[..i].ends_with(|p: char| p.is_ascii_alphanumeric()))
            .map(|(i, _)| i)
            .collect();
        let s = starts[at.index(starts.len())];
        let e = text[s..].find(|c: char| !c.is_ascii_digit()).map_or(text.len(), |k| s + k);
        let mutated = format!("{}{n}{}", &text[..s], &text[e..]);
        exercise(mutated.as_bytes());
    }
}

#[test]
fn a_profile_larger_than_the_buffer_reads_the_same_streamed_and_in_memory() {
    // Pieces cross the streaming reader's buffer (4 MiB) many times, one of them larger than it.
    let mut p = profile::from_slice(&fixture("valgrind-heap.json"), "heap.json").unwrap();
    let template = p.pps.clone();
    for i in 0..60_000u64 {
        let mut pp = template[(i % template.len() as u64) as usize].clone();
        pp.tb += i;
        p.pps.push(pp);
    }
    p.ftbl.push("x".repeat(5 << 20).into_boxed_str());
    let mut bytes = Vec::new();
    p.write_to(&mut bytes).unwrap();
    assert!(bytes.len() > 8 << 20);
    let streamed = profile::from_reader(&bytes[..], "big.json").unwrap();
    assert_eq!(streamed, p);
    // A reader that hands out a few bytes at a time.
    struct Trickle<'a>(&'a [u8]);
    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let small = fixture("dhat-rs-heap.json");
    let trickled = profile::from_reader(Trickle(&small), "small.json").unwrap();
    assert_eq!(trickled, profile::from_slice(&small, "small.json").unwrap());
}
