#![no_main]
// --skip-file lists (read through a file, as the command does) and their matching over frames.
use dhat_kit::analyze::Skip;
use dhat_kit::profile::Frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // First line(s) up to a 0 byte: the skip file; the rest: frame texts, one a line.
    let (list, frames) = match bytes.iter().position(|&b| b == 0) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &b"0x1: malloc (in vgpreload_dhat.so)\n0x2: ns::Arena::grow(unsigned long) (arena.cc:9)\n0x3: app::main (src/main.rs:1:1)"[..]),
    };
    let path = std::env::temp_dir().join(format!("dhat-kit-fuzz-skip-{}.txt", std::process::id()));
    std::fs::write(&path, list).unwrap();
    let mut skip = Skip::new();
    match skip.add_file(&path) {
        Ok(()) => {}
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    }
    let text = String::from_utf8_lossy(frames);
    for raw in text.lines() {
        let f = Frame::parse(raw);
        let _ = skip.matches(&f);
        let _ = f.to_string();
        let _ = f.is_boring();
    }
});
