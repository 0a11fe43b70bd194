#![no_main]
use libfuzzer_sys::fuzz_target;
mod common;
mod pipeline;

fuzz_target!(|bytes: &[u8]| {
    pipeline::pipeline(bytes);
});
