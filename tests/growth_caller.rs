//! A refused call to `dhat_kit::growth` or `GrowthFit::of` panics at the caller's line, not in
//! dhat-kit's source. Alone in its binary: it sets the panic hook.

// What these tests measure is counted with the `peak` feature only (tests/without_peak.rs
// covers the build without it).
#![cfg(feature = "peak")]

dhat_kit::global_allocator!();

use dhat_kit::GrowthClass::Linear;
use std::panic;
use std::sync::Mutex;

/// Where each panic was raised: file and line.
static PLACES: Mutex<Vec<(String, u32)>> = Mutex::new(Vec::new());

#[test]
fn a_refused_call_panics_at_the_callers_line() {
    panic::set_hook(Box::new(|info| {
        if let Some(at) = info.location() {
            PLACES
                .lock()
                .unwrap()
                .push((at.file().to_string(), at.line()));
        }
    }));
    let first = line!() + 1;
    let two_sizes = panic::catch_unwind(|| dhat_kit::growth(&[10, 100], |n| vec![0u8; n]));
    let too_close = panic::catch_unwind(|| dhat_kit::GrowthFit::of(&[1, 2, 3], &[1, 2, 3]));
    let report = dhat_kit::growth(&[10, 100, 1_000], |n| vec![0u8; n]);
    let unknown = panic::catch_unwind(|| report.exceeds("peak_bytes", Linear));
    drop(panic::take_hook());
    assert!(two_sizes.is_err() && too_close.is_err() && unknown.is_err());
    let file = file!().to_string();
    assert_eq!(
        *PLACES.lock().unwrap(),
        [
            (file.clone(), first),
            (file.clone(), first + 1),
            (file, first + 3)
        ]
    );
}
