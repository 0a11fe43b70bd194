//! The profile reader never panics: arbitrary bytes, and real profiles with bytes flipped,
//! inserted, cut or spliced, either read or give a [`ProfileError`] naming the file. Whatever
//! reads is what an independent reading of the same bytes (`serde_json::Value`) holds, and is
//! then run through every analysis, which must not panic either.

use dhat_kit::analyze::{self, GroupBy, Metric, TopOptions};
use dhat_kit::profile;
use proptest::prelude::*;

#[path = "support/oracle.rs"]
mod oracle;
mod support;
use oracle::agrees_with_json;

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
                    let mut opts = TopOptions::default();
                    (opts.n, opts.by, opts.group_by, opts.stack) = (5, by, group_by, 3);
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
