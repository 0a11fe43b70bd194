//! A JSON object with a key given twice is not a profile: the reader rejects it (the last value
//! does not win) with the one-line error it gives for any malformed file, at the top level and in
//! a program point, on both ways of reading a point (the byte parser, for a file in memory, and
//! serde, for a stream handed out a few bytes at a time), and the command exits 2. A file that
//! starts with a UTF-8 byte-order mark reads as the same file without it. (The command's test
//! runs with the feature `cli`.)

use dhat_kit::profile::{self, Profile, ProfileError};

mod support;

/// A small ad-hoc profile: its top-level fields, then `extra` (each field followed by a comma),
/// then `pps` holding the one point `pp`, then `ftbl`.
fn profile_text(extra: &str, pp: &str) -> String {
    format!(
        r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
"bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s","cmd":"demo",
"pid":7,"te":100,{extra}
"pps":[{pp}],
"ftbl":["[root]","0x1: demo::main (src/main.rs:3:5)"]}}"#
    )
}

const POINT: &str = r#"{"tb":30,"tbk":2,"fs":[1]}"#;

/// A reader that hands out a few bytes at a time: no program point is ever whole in the reader's
/// buffer, so every one goes to serde rather than the byte parser.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.0.len()).min(5);
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// The file read from memory (program points of the usual shape by the byte parser) and
/// trickled (every point by serde).
fn both(text: &str) -> [Result<Profile, ProfileError>; 2] {
    [
        profile::from_slice(text.as_bytes(), "dup.json"),
        profile::from_reader(Trickle(text.as_bytes()), "dup.json"),
    ]
}

/// Both readings fail on the repeated `key`, at `place` (the field path) with a line and column.
fn rejected(text: &str, key: &str, place: &str) {
    for result in both(text) {
        let err = match result {
            Ok(p) => panic!("a repeated `{key}` was accepted: {p:?}\n{text}"),
            Err(e) => e,
        };
        let line = err.to_string();
        assert_eq!(err.file(), "dup.json", "{line}");
        assert_eq!(
            err.expected(),
            format!("each field once, found duplicate field `{key}`"),
            "{line}"
        );
        assert!(
            err.location().starts_with(&format!("{place}, line ")),
            "{line}"
        );
        assert!(err.location().contains(" column "), "{line}");
        assert_eq!(line.lines().count(), 1, "{line}");
    }
}

#[test]
fn the_base_profile_reads() {
    let [a, b] = both(&profile_text("", POINT));
    let a = a.unwrap();
    assert_eq!(a, b.unwrap());
    assert_eq!(a.totals().bytes, 30);
}

#[test]
fn a_repeated_top_level_key_is_rejected() {
    rejected(&profile_text(r#""mode":"copy","#, POINT), "mode", "mode");
    rejected(
        &profile_text(r#""dhatFileVersion":2,"#, POINT),
        "dhatFileVersion",
        "dhatFileVersion",
    );
    rejected(&profile_text(r#""bklt":true,"#, POINT), "bklt", "bklt");
    rejected(&profile_text(r#""te":5,"#, POINT), "te", "te");
    // Optional fields: a null and a value are still two.
    rejected(&profile_text(r#""bu":null,"#, POINT), "bu", "bu");
    rejected(&profile_text(r#""tg":null,"tg":3,"#, POINT), "tg", "tg");
    // A second `pps` (here empty) after the first, and a second `ftbl` before the first.
    rejected(
        &profile_text(&format!(r#""pps":[{POINT}],"#), POINT),
        "pps",
        "pps",
    );
    rejected(&profile_text(r#""ftbl":[],"pps":[],"#, POINT), "pps", "pps");
    let text = profile_text("", POINT).replace(
        r#""ftbl":["[root]""#,
        r#""ftbl":["[root]"],"ftbl":["[root]""#,
    );
    rejected(&text, "ftbl", "ftbl");
    // An escaped key is the same key.
    rejected(
        &profile_text(r#""m\u006fde":"copy","#, POINT),
        "mode",
        "mode",
    );
}

#[test]
fn a_repeated_unknown_top_level_key_is_rejected() {
    rejected(
        &profile_text(r#""x":1,"x":{"a":1},"#, POINT),
        "x",
        "top level",
    );
    // Named escaped, so that the message stays one line.
    rejected(
        &profile_text(r#""a\nb":1,"a\nb":2,"#, POINT),
        "a\\nb",
        "top level",
    );
    // Different unknown keys, each once, are skipped as before.
    let [a, b] = both(&profile_text(r#""x":1,"y":[1,{"x":2}],"z":null,"#, POINT));
    assert_eq!(a.unwrap(), b.unwrap());
}

#[test]
fn a_repeated_key_in_a_program_point_is_rejected() {
    let point = |pp: &str| profile_text("", &format!("{POINT},{pp}"));
    // The usual shape (the byte parser from memory), and `acc` or an unknown key (serde alone).
    for tail in ["", r#","acc":[1]"#, r#","x":0"#] {
        rejected(
            &point(&format!(r#"{{"tb":800,"tb":900,"tbk":1,"fs":[1]{tail}}}"#)),
            "tb",
            "pps[1].tb",
        );
        rejected(
            &point(&format!(r#"{{"tb":8,"tbk":1,"fs":[1],"tbk":0{tail}}}"#)),
            "tbk",
            "pps[1].tbk",
        );
        rejected(
            &point(&format!(
                r#"{{"tb":8,"tbk":1,"gb":1,"gb":2,"fs":[1]{tail}}}"#
            )),
            "gb",
            "pps[1].gb",
        );
        rejected(
            &point(&format!(r#"{{"tb":8,"tbk":1,"fs":[1],"fs":[]{tail}}}"#)),
            "fs",
            "pps[1].fs",
        );
        rejected(
            &point(&format!(r#"{{"t\u0062":8,"tb":9,"tbk":1,"fs":[1]{tail}}}"#)),
            "tb",
            "pps[1].tb",
        );
    }
    rejected(
        &point(r#"{"tb":8,"tbk":1,"acc":[1],"fs":[1],"acc":[2]}"#),
        "acc",
        "pps[1].acc",
    );
    rejected(
        &point(r#"{"tb":8,"x":1,"tbk":1,"fs":[1],"x":1}"#),
        "x",
        "pps[1]",
    );
    // Different unknown keys in a point, each once, are skipped as before.
    let [a, b] = both(&point(
        r#"{"tb":8,"x":1,"tbk":1,"y":{"x":1,"x":2},"fs":[1]}"#,
    ));
    let a = a.unwrap();
    assert_eq!(a, b.unwrap());
    assert_eq!(a.totals().bytes, 38);
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let text = profile_text("", POINT);
    let with_bom = format!("\u{feff}{text}");
    let [a, b] = both(&with_bom);
    let plain = profile::from_slice(text.as_bytes(), "dup.json").unwrap();
    assert_eq!(a.unwrap(), plain);
    assert_eq!(b.unwrap(), plain);
    // Columns count from after the mark, as an editor shows the line.
    let err =
        profile::from_slice("\u{feff}{\"dhatFileVersion\":3}".as_bytes(), "bom.json").unwrap_err();
    assert_eq!(err.expected(), "DHAT file version 2, found 3", "{err}");
    assert_eq!(err.location(), "dhatFileVersion, line 1 column 21", "{err}");
    // Only at the start: elsewhere it is not JSON.
    let inside = text.replacen(',', ",\u{feff}", 1);
    for result in both(&inside) {
        assert!(result.is_err());
    }
}

#[cfg(feature = "cli")]
#[test]
fn the_command_exits_2_naming_the_file() {
    let dir = support::TempDir::new("profile_duplicates", "cli");
    // A second `pps`, empty, after the first: the total read 0 when the last one won.
    let pps = dir.write(
        "duppps.json",
        &profile_text(&format!(r#""pps":[{POINT}],"#), ""),
    );
    let tb = dir.write(
        "dupkey.json",
        &profile_text("", r#"{"tb":800,"tb":900,"tbk":1,"fs":[1]}"#),
    );
    let mode = dir.write("dupmode.json", &profile_text(r#""mode":"copy","#, POINT));
    for (path, key) in [(&pps, "pps"), (&tb, "tb"), (&mode, "mode")] {
        let out = support::run(&[std::ffi::OsStr::new("summary"), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty(), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&*path.display().to_string()), "{stderr}");
        assert!(
            stderr.contains(&format!("duplicate field `{key}`")),
            "{stderr}"
        );
    }
    let plain = dir.write("plain.json", &profile_text("", POINT));
    let bom = dir.write("bom.json", &format!("\u{feff}{}", profile_text("", POINT)));
    let summary =
        |p: &std::path::Path| support::ok(&[std::ffi::OsStr::new("summary"), p.as_os_str()]);
    assert_eq!(summary(&bom), summary(&plain));
}
