//! The profile reader never panics: arbitrary bytes, and real profiles with bytes flipped,
//! inserted, cut or spliced, either read or give a [`ProfileError`] naming the file. Whatever
//! reads is then run through every analysis, which must not panic either.

use dhat_kit::analyze::{self, GroupBy, Metric, TopOptions};
use dhat_kit::profile;
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    std::fs::read(dir.join(name)).unwrap()
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
            let _ = analyze::summary(&p).to_string();
            for by in [Metric::TotalBytes, Metric::PeakBytes, Metric::Reads] {
                for group_by in [GroupBy::Site, GroupBy::Crate] {
                    let opts = TopOptions {
                        n: 5,
                        by,
                        group_by,
                        stack: 3,
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
    // The streaming reader agrees with the in-memory one.
    let streamed = profile::from_reader(bytes, "fuzz.json");
    assert_eq!(
        streamed.is_ok(),
        profile::from_slice(bytes, "fuzz.json").is_ok()
    );
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
