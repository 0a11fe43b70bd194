#![no_main]
use dhat_kit::baseline::{compare, Baseline, BaselineFigures, Measure, METRICS};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
mod common;

fuzz_target!(|bytes: &[u8]| {
    let file = Path::new("memory-baseline.json");
    match Baseline::from_slice(bytes, file) {
        Ok(b) => {
            let json = b.to_json();
            match Baseline::from_slice(json.as_bytes(), file) {
                Ok(again) => assert_eq!(b, again, "baseline round trip differs"),
                Err(e) => panic!(
                    "ROUND TRIP: written baseline does not read back: {}",
                    e.message()
                ),
            }
            let p = common::fixture(bytes.len() as u8);
            let now = BaselineFigures::from_profile(&p);
            for (name, entry) in b.entries() {
                for tol in [0.0, 5.0, f64::INFINITY, -1.0, f64::NAN] {
                    let c = compare(name, &entry.figures, &now, tol, &METRICS);
                    let _ = c.to_string();
                    let _ = c.measured(&entry.measure).to_string();
                    let _ = c.measured(&Measure::of(&p)).to_string();
                    for r in &c.rows {
                        let _ = r.percent();
                        let _ = r.delta();
                    }
                }
                let _ = entry.measure.comparable(&Measure::of(&p));
            }
        }
        Err(e) => {
            let m = e.to_string();
            assert!(m.contains("memory-baseline.json"), "{m}");
            let _ = e.message();
        }
    }
});
