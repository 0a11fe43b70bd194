#![no_main]
use dhat_kit::analyze::budget::Budgets;
use libfuzzer_sys::fuzz_target;
mod common;

fuzz_target!(|bytes: &[u8]| {
    let Some((&sel, rest)) = bytes.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match Budgets::parse(text, "budgets.toml") {
        Ok(b) => {
            let p = common::fixture(sel);
            match b.check(&p) {
                Ok(r) => common::say_all(&r),
                Err(e) => {
                    let m = e.to_string();
                    assert!(m.starts_with("dhat-kit: budgets.toml"), "{m}");
                }
            }
        }
        Err(e) => {
            let m = e.to_string();
            assert!(m.starts_with("dhat-kit: budgets.toml"), "{m}");
        }
    }
});
