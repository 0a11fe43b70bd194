#![no_main]
// Small text settings: budget limits, tolerances, metric names, update policies.
use dhat_kit::analyze::budget::Limit;
use dhat_kit::baseline::{parse_metric, parse_tolerance, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(l) = Limit::parse(text) {
        let _ = format!("{l:?}");
    }
    if let Ok(t) = parse_tolerance(text) {
        assert!(t.is_finite() && t >= 0.0, "tolerance {t} from {text:?}");
    }
    let _ = parse_metric(text);
    let (a, b) = text.split_once('\n').unwrap_or((text, ""));
    let _ = Policy::from_vars(Some(a), Some(b));
    let _ = Policy::from_vars(Some(a), None);
});
