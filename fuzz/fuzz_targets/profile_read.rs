#![no_main]
use dhat_kit::profile;
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|bytes: &[u8]| {
    match profile::from_slice(bytes, "fuzz.json") {
        Ok(p) => {
            common::oracle::agrees_with_json(bytes, &p);
            // Streamed reading agrees.
            let q = profile::from_reader(bytes, "fuzz.json")
                .expect("from_reader rejects what from_slice reads");
            assert_eq!(p, q);
            // What reads, writes, and reads back the same.
            let mut out = Vec::new();
            p.write_to(&mut out).unwrap();
            match profile::from_slice(&out, "again.json") {
                Ok(r) => assert_eq!(p, r, "round trip differs"),
                Err(e) => panic!("ROUND TRIP: written profile does not read back: {e}"),
            }
        }
        Err(e) => {
            let line = e.to_string();
            assert!(line.starts_with("dhat-kit: fuzz.json"), "{line}");
            assert_eq!(line.lines().count(), 1, "{line}");
            assert!(
                profile::from_reader(bytes, "fuzz.json").is_err(),
                "from_reader reads what from_slice rejects: {line}"
            );
        }
    }
});
