//! The `dhat-kit` command end to end, on the real fixtures in `tests/fixtures/` (Valgrind DHAT's
//! heap, copy and ad-hoc profiles, dhat-rs's heap and ad-hoc profiles, dhat-kit's peak profile),
//! and on bad input: every bad file exits 2 with one line naming the file, what was expected, and
//! where.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::{fixture, ok, path, run, thousands, TempDir};

fn dhat_kit(args: &[&std::ffi::OsStr]) -> Output {
    run(args)
}

/// "17,170 bytes in 115 blocks" from a producer's stderr line starting with `label`.
fn printed(name: &str, label: &str) -> Option<(u64, u64)> {
    support::printed(&std::fs::read_to_string(fixture(name)).unwrap(), label)
}

/// The fixtures that Valgrind's DHAT and dhat-rs wrote, each with the lines they printed.
const PRODUCERS: [&str; 5] = [
    "valgrind-heap",
    "valgrind-copy",
    "valgrind-ad-hoc",
    "dhat-rs-heap",
    "dhat-rs-ad-hoc",
];

#[test]
fn summary_json_has_the_totals_the_producers_printed() {
    for name in PRODUCERS {
        let text = ok(&["summary", &path(&format!("{name}.json")), "--json"]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let stderr = format!("{name}.stderr");
        assert_eq!(v["schema"], "dhat-kit-summary/1");
        let total = printed(&stderr, "Total:").unwrap();
        assert_eq!(
            (
                v["total_bytes"].as_u64().unwrap(),
                v["total_blocks"].as_u64().unwrap()
            ),
            total,
            "{name}"
        );
        match printed(&stderr, "At t-gmax:") {
            Some(peak) => {
                assert_eq!(
                    (
                        v["peak_bytes"].as_u64().unwrap(),
                        v["peak_blocks"].as_u64().unwrap()
                    ),
                    peak,
                    "{name}"
                );
                let end = printed(&stderr, "At t-end:").unwrap();
                assert_eq!(
                    (
                        v["end_bytes"].as_u64().unwrap(),
                        v["end_blocks"].as_u64().unwrap()
                    ),
                    end,
                    "{name}"
                );
            }
            None => assert!(
                v["peak_bytes"].is_null() && v["end_bytes"].is_null(),
                "{name}"
            ),
        }
        // The text form prints DHAT's own lines, exact.
        let text = ok(&["summary", &path(&format!("{name}.json"))]);
        let (b, k) = total;
        let unit = if name.contains("ad-hoc") {
            "units"
        } else {
            "bytes"
        };
        let blocks = if name.contains("ad-hoc") {
            "events"
        } else {
            "blocks"
        };
        let want = format!("{} {unit} in {} {blocks}", thousands(b), thousands(k));
        assert!(text.contains(&want), "{name}: {want} not in\n{text}");
    }
}

/// A peak profile whose peak is above all it allocated (peak files are exempt from the reader's
/// per-point check, and a session's peak was not capped at its totals before) was summed with no
/// word; the summary is still printed, with a warning on stderr naming the file. No producer's
/// file warns.
#[test]
fn summary_warns_of_figures_that_cannot_be() {
    for name in PRODUCERS.into_iter().chain(["dhat-kit-peak"]) {
        let out = run(&["summary", &path(&format!("{name}.json"))]);
        assert!(out.status.success(), "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{name}");
    }
    let dir = support::TempDir::new("cli_commands", "warns");
    let file = dir.write(
        "old-peak.json",
        r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
          "pps":[{"tb":1600,"tbk":20,"tl":0,"mb":8984,"mbk":3,"gb":8984,"gbk":3,"eb":0,"ebk":0,"fs":[1]}],
          "ftbl":["[root]","[outside any region]"]}"#,
    );
    let out = run(&[std::ffi::OsStr::new("summary"), file.as_os_str()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("At t-gmax: 8,984 bytes in 3 blocks"));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "dhat-kit: warning: {}: 8,984 bytes live at the peak, more than the 1,600 bytes \
             allocated in all\n",
            file.display()
        )
    );
}

/// A peak profile's points are regions, which have no file or crate: grouped so, they were one
/// row named after the heaviest region (`?: region Interpreter::call_function`), exit 0.
#[test]
fn a_peak_profile_is_not_grouped_by_file_or_crate() {
    let file = path("dhat-kit-peak.json");
    for group in ["file", "crate"] {
        for command in [
            vec!["top", file.as_str(), "--group-by", group],
            vec!["diff", file.as_str(), file.as_str(), "--group-by", group],
        ] {
            let out = run(&command);
            assert_eq!(out.status.code(), Some(2), "{command:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.starts_with(&format!("dhat-kit: {file}"))
                    && stderr.contains(&format!(
                        "a `dhat-kit-peak` profile's program points are regions, which have no \
                     {group}; group them by site (each region's path) or by function (each \
                     region)\n"
                    )),
                "{command:?}: {stderr}"
            );
        }
    }
    assert!(ok(&["top", &file, "--group-by", "function"]).contains("region parse"));
}

/// `regions` nests a peak profile's points by their region paths: each region's figures with its
/// sub-regions' and its own, depth first; what was outside any region last. The figures are the
/// file's own points, added up.
#[test]
fn regions_nest_a_peak_profiles_points() {
    let file = fixture("dhat-kit-peak.json");
    let p = dhat_kit::profile::read(&file).unwrap();
    // The fixture's points of `call_function` and everything under it.
    let under = |prefix: &str| -> u64 {
        p.pps
            .iter()
            .filter(|pp| {
                let path: Vec<&str> = pp.fs.iter().rev().map(|&f| &*p.ftbl[f as usize]).collect();
                path.first() == Some(&prefix)
            })
            .map(|pp| pp.tb)
            .sum()
    };
    let out = ok(&["regions", &path("dhat-kit-peak.json"), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "dhat-kit-regions/1");
    let rows = v["rows"].as_array().unwrap();
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            let path: Vec<&str> = r["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap())
                .collect();
            path.join("/")
        })
        .collect();
    assert_eq!(
        names,
        [
            "Interpreter::call_function",
            "Interpreter::call_function/Environment::new_child_env",
            "Interpreter::call_function/Environment::new_child_env/Environment::new",
            "parse",
            "Environment::new_global",
            "Environment::new_global/Environment::new",
            "(outside any region)",
        ]
    );
    assert_eq!(
        rows[0]["inclusive"]["total_bytes"].as_u64(),
        Some(under("region Interpreter::call_function"))
    );
    assert_eq!(rows[0]["own"]["total_bytes"].as_u64(), Some(95_616));
    let all: u64 = p.pps.iter().map(|pp| pp.tb).sum();
    assert_eq!(v["total"]["total_bytes"].as_u64(), Some(all));

    let table = ok(&["regions", &path("dhat-kit-peak.json")]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines[0],
        "    bytes  blocks      self  share      peak  region"
    );
    assert_eq!(
        lines[1],
        "190.3 KiB   2,757  93.4 KiB  95.7%  32.0 KiB  Interpreter::call_function"
    );

    // A profile of another kind has no regions: exit 2, one line naming the file.
    let out = run(&["regions", &path("dhat-rs-heap.json")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("dhat-kit: ")
            && err.contains("dhat-rs-heap.json: a `rust-heap` profile has no regions: "),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn top_names_the_code_that_allocated_not_the_allocator() {
    // Valgrind: `malloc` in the preload object is skipped; the C functions that called it are
    // the sites, with the lines of alloc_sites.c that call malloc/realloc.
    let out = ok(&[
        "top",
        &path("valgrind-heap.json"),
        "--format",
        "json",
        "-n",
        "0",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let sites: Vec<&str> = rows.iter().map(|r| r["site"].as_str().unwrap()).collect();
    assert_eq!(sites[0], "grow_table (alloc_sites.c:33)", "{sites:?}");
    assert!(sites.iter().all(|s| !s.contains("malloc")), "{sites:?}");
    let source = std::fs::read_to_string(fixture("src/alloc_sites.c")).unwrap();
    let line33 = source.lines().nth(32).unwrap();
    assert!(line33.contains("realloc"), "{line33}");
    // The shares and values add up to the profile's total (computed here from the JSON).
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("valgrind-heap.json")).unwrap())
            .unwrap();
    let total: u64 = raw["pps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["tb"].as_u64().unwrap())
        .sum();
    let sum: u64 = rows.iter().map(|r| r["value"].as_u64().unwrap()).sum();
    assert_eq!(sum, total);
    let share: f64 = rows.iter().map(|r| r["share"].as_f64().unwrap()).sum();
    assert!((share - 100.0).abs() < 1e-6, "{share}");
    // Ranked largest first.
    let values: Vec<u64> = rows.iter().map(|r| r["value"].as_u64().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");

    // dhat-rs: std's Vec/String/HashMap frames and dhat's allocator are skipped.
    let out = ok(&["top", &path("dhat-rs-heap.json"), "-n", "3", "--stack", "2"]);
    let first = out.lines().nth(1).unwrap();
    assert!(
        first.contains("dhat_rs_fixture::tokenize (main/examples/dhat_rs_fixture.rs:18)"),
        "{out}"
    );
    assert!(out.contains("<- dhat_rs_fixture::main"), "{out}");
}

#[test]
fn top_by_peak_and_grouped_by_crate_and_markdown() {
    let out = ok(&[
        "top",
        &path("dhat-rs-heap.json"),
        "--by",
        "peak-bytes",
        "--group-by",
        "crate",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("dhat-rs-heap.json")).unwrap())
            .unwrap();
    let gb: u64 = raw["pps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["gb"].as_u64().unwrap())
        .sum();
    assert_eq!(v["total"].as_u64().unwrap(), gb);
    assert_eq!(rows[0]["site"], "dhat_rs_fixture");
    let md = ok(&["top", &path("dhat-rs-heap.json"), "--format", "markdown"]);
    let mut lines = md.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("| # | total-bytes | share |"),
        "{md}"
    );
    assert!(lines.next().unwrap().starts_with("|---:|"), "{md}");
    assert!(
        md.lines().filter(|l| l.starts_with("| ")).count() >= 3,
        "{md}"
    );
    // An ad-hoc profile has no peak: that is bad input for --by peak-bytes, not a panic.
    let out = run(&["top", &path("dhat-rs-ad-hoc.json"), "--by", "peak-bytes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a heap profile"));
}

#[test]
fn diff_matches_sites_across_builds_by_location_not_address() {
    // The same program profiled twice gives different addresses (ASLR) but the same sites:
    // simulate a rebuild by shifting every address, and growing one site.
    let text = std::fs::read_to_string(fixture("dhat-rs-heap.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for f in v["ftbl"].as_array_mut().unwrap() {
        let s = f.as_str().unwrap().replacen("0x5635", "0x7fff", 1);
        *f = s.into();
    }
    let tokenize = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f.as_str().unwrap().contains("dhat_rs_fixture::tokenize"))
        .unwrap() as u64;
    let mut grown = 0;
    for pp in v["pps"].as_array_mut().unwrap() {
        if pp["fs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_u64() == Some(tokenize))
        {
            grown = pp["tb"].as_u64().unwrap();
            pp["tb"] = (grown * 2).into();
        }
    }
    assert!(grown > 0);
    let dir = TempDir::new("cli_commands", "diff");
    let after = dir.join("after.json");
    std::fs::write(&after, serde_json::to_string(&v).unwrap()).unwrap();
    let out = ok(&[
        "diff",
        &path("dhat-rs-heap.json"),
        after.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["changed"], 1, "{out}");
    let site = &d["sites"][0];
    assert!(
        site["site"]
            .as_str()
            .unwrap()
            .starts_with("dhat_rs_fixture::tokenize"),
        "{out}"
    );
    assert_eq!(site["delta"].as_i64().unwrap(), grown as i64);
    assert_eq!(site["percent"].as_f64().unwrap(), 100.0);
    assert_eq!(d["totals"][0]["name"], "total bytes");
    assert_eq!(d["totals"][0]["delta"].as_i64().unwrap(), grown as i64);
    // Text and markdown forms.
    let table = ok(&["diff", &path("dhat-rs-heap.json"), after.to_str().unwrap()]);
    assert!(
        table.contains("+100.0%") && table.contains("total bytes"),
        "{table}"
    );
    let md = ok(&[
        "diff",
        &path("dhat-rs-heap.json"),
        after.to_str().unwrap(),
        "--format",
        "markdown",
    ]);
    assert!(
        md.starts_with("| before | after | delta | change | total |"),
        "{md}"
    );
}

#[test]
fn diff_names_the_file_that_lacks_the_ranked_figure() {
    // A copy profile has no peak: whichever side it is on, that file is the one named.
    let heap = path("valgrind-heap.json");
    let copy = path("valgrind-copy.json");
    for (before, after, culprit) in [(&copy, &heap, &copy), (&heap, &copy, &copy)] {
        let out = run(&["diff", before, after, "--by", "peak-bytes"]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!(
                "dhat-kit: {culprit}: peak-bytes needs a heap profile"
            )),
            "{stderr}"
        );
    }
    // Through the library, the message says which side.
    let (h, c) = (
        dhat_kit::profile::read(fixture("valgrind-heap.json")).unwrap(),
        dhat_kit::profile::read(fixture("valgrind-copy.json")).unwrap(),
    );
    let mut opts = dhat_kit::analyze::DiffOptions::default();
    opts.by = dhat_kit::analyze::Metric::PeakBytes;
    let e = dhat_kit::analyze::diff(&c, &h, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("the before profile: "), "{e}");
    let e = dhat_kit::analyze::diff(&h, &c, &opts)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("the after profile: "), "{e}");
}

/// A valid heap profile of just over `bytes` bytes: many small program points.
fn large_profile(dir: &Path, bytes: usize) -> PathBuf {
    use std::io::Write;
    let file = dir.join("large.json");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    write!(
        out,
        "{{\"dhatFileVersion\":2,\"mode\":\"rust-heap\",\"verb\":\"Allocated\",\"bklt\":true,\
         \"bkacc\":false,\"tu\":\"µs\",\"Mtu\":\"s\",\"tuth\":10,\"cmd\":\"large\",\"pid\":1,\
         \"te\":1000,\"tg\":500,\"pps\":["
    )
    .unwrap();
    let mut written = 0;
    let mut i = 0u64;
    while written < bytes {
        let (sep, size) = (if i == 0 { "" } else { "," }, 16 + i % 512);
        let line = format!(
            "{sep}{{\"tb\":{size},\"tbk\":1,\"tl\":5,\"mb\":{size},\"mbk\":1,\"gb\":0,\"gbk\":0,\"eb\":0,\"ebk\":0,\"fs\":[1,2]}}\n"
        );
        out.write_all(line.as_bytes()).unwrap();
        written += line.len();
        i += 1;
    }
    write!(out, "],\"ftbl\":[\"[root]\",\"0x1: large::leaf (src/lib.rs:1:1)\",\"0x2: large::main (src/main.rs:2:2)\"]}}").unwrap();
    out.flush().unwrap();
    file
}

#[test]
fn a_progress_bar_shows_for_a_large_file_on_a_terminal_and_never_in_a_pipe() {
    let dir = TempDir::new("cli_commands", "progress");
    let file = large_profile(&dir.0, 51_000_000);
    assert!(std::fs::metadata(&file).unwrap().len() > 50_000_000);
    // Piped (as in CI): the summary on stdout, nothing at all on stderr.
    let piped = run(&["summary", &file.display().to_string()]);
    assert!(piped.status.success(), "{piped:?}");
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(String::from_utf8_lossy(&piped.stdout).contains("large"));
    // On a terminal (`script` gives the command a pseudo-terminal): the bar, named after the file.
    let tty = support::on_a_terminal(&["summary", &file.display().to_string()]);
    assert!(tty.status.success(), "{tty:?}");
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert!(
        screen.contains(&format!("reading {}", file.display())),
        "no progress bar on the terminal: {screen}"
    );
    // A small file on a terminal: no bar.
    let small = support::on_a_terminal(&["summary", &path("valgrind-heap.json")]);
    assert!(!String::from_utf8_lossy(&small.stdout).contains("reading "));
}

#[test]
fn flamegraph_writes_an_svg_with_the_stacks() {
    let dir = TempDir::new("cli_commands", "flame");
    for (name, needle) in [
        ("dhat-rs-heap.json", "dhat_rs_fixture::tokenize"),
        ("valgrind-heap.json", "grow_table"),
        ("dhat-kit-peak.json", "region Interpreter::call_function"),
    ] {
        let svg = dir.0.join(format!("{name}.svg"));
        ok(&["flamegraph", &path(name), "-o", svg.to_str().unwrap()]);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.starts_with("<?xml") && text.contains("<svg"), "{name}");
        assert!(text.contains(needle), "{name}: {needle}");
    }
    // No temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        left.iter().all(|n| n.to_string_lossy().ends_with(".svg")),
        "{left:?}"
    );
}

/// A sampled profile's flame graph says in its title that its sites are estimates, as every
/// table of it does; another profile's does not.
#[test]
fn a_sampled_profiles_flame_graph_says_its_sites_are_estimates() {
    let dir = TempDir::new("cli_commands", "flame-sampled");
    let sampled = dir.write(
        "dhat-sampled.json",
        r#"{"dhatFileVersion":2,"mode":"dhat-kit-sampled","verb":"Allocated","bklt":true,
        "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":9,"tg":5,
        "pps":[{"tb":4096,"tbk":1,"tl":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
          {"tb":100,"tbk":1,"tl":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
        "ftbl":["[root]",
          "[unsampled remainder] estimated from 12 samples at mean interval 524288 bytes",
          "0x1: app::f (src/f.rs:1:1)"]}"#,
    );
    for (input, estimated) in [(sampled, true), (fixture("dhat-kit-peak.json"), false)] {
        let svg = dir.join("out.svg");
        let flamegraph = std::ffi::OsStr::new("flamegraph");
        ok(&[
            flamegraph,
            input.as_os_str(),
            "-o".as_ref(),
            svg.as_os_str(),
        ]);
        let text = std::fs::read_to_string(&svg).unwrap();
        assert_eq!(
            text.contains("total-bytes (sites estimated from samples)"),
            estimated,
            "{input:?}"
        );
    }
}

/// A profile named with bytes that are not UTF-8 gives its default outputs its name as it is.
#[cfg(unix)]
#[test]
fn a_default_output_keeps_a_name_that_is_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = TempDir::new("cli_commands", "non-utf8");
    let input = dir.0.join(OsStr::from_bytes(b"bad\xff.json"));
    std::fs::copy(fixture("valgrind-heap.json"), &input).unwrap();
    for (args, made) in [
        (&["flamegraph"][..], &b"bad\xff.svg"[..]),
        (&["convert", "--to", "folded"][..], &b"bad\xff.folded"[..]),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .args(args)
            .arg(&input)
            .current_dir(&dir.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(dir.0.join(OsStr::from_bytes(made)).is_file(), "{out:?}");
    }
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

/// Runs the command in `dir` with `stdin` as its standard input.
fn run_piped(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .args(args)
        .current_dir(dir)
        .env_remove("DHAT_KIT_SKIP")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses its input before reading it closes the pipe: not this test's error.
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

#[test]
fn a_profile_is_read_from_standard_input_as_dash() {
    let dir = TempDir::new("cli_commands", "stdin");
    let heap = std::fs::read(fixture("valgrind-heap.json")).unwrap();
    let file = path("valgrind-heap.json");
    std::fs::write(
        dir.join("budget.toml"),
        "[[component]]\nname = \"table\"\nmatch = { function = \"grow_table\" }\nmax = \"1 MiB\"\n",
    )
    .unwrap();
    for args in [
        &["summary"][..],
        &["summary", "--json"],
        &["top", "-n", "3"],
        &["check", "--budget", "budget.toml"],
        &["check", "--budget", "budget.toml", "--format", "json"],
    ] {
        let piped = run_piped(&dir.0, &[&args[..1], &["-"], &args[1..]].concat(), &heap);
        let named = run_piped(
            &dir.0,
            &[&args[..1], &[file.as_str()], &args[1..]].concat(),
            b"",
        );
        assert_eq!(
            piped.status.code(),
            named.status.code(),
            "{args:?}: {piped:?}"
        );
        let (piped_out, named_out) = (
            String::from_utf8(piped.stdout).unwrap(),
            String::from_utf8(named.stdout).unwrap(),
        );
        // The same figures; only the profile's name differs, where it is printed.
        assert_eq!(
            piped_out,
            named_out.replace(file.as_str(), "stdin"),
            "{args:?}"
        );
        assert!(!piped_out.is_empty(), "{args:?}");
    }
    // Either side of a diff, with the other a file.
    let diff = ok(&["diff", &file, &file]);
    assert_eq!(
        String::from_utf8(run_piped(&dir.0, &["diff", "-", &file], &heap).stdout).unwrap(),
        diff
    );
    assert_eq!(
        String::from_utf8(run_piped(&dir.0, &["diff", &file, "-"], &heap).stdout).unwrap(),
        diff
    );
    // A default output is named after stdin, and the title says it.
    let out = run_piped(&dir.0, &["flamegraph", "-"], &heap);
    assert!(out.status.success(), "{out:?}");
    let svg = std::fs::read_to_string(dir.join("stdin.svg")).unwrap();
    assert!(svg.contains("stdin: total-bytes"), "{}", &svg[..400]);
    let out = run_piped(
        &dir.0,
        &["convert", "--to", "folded", "-", "-o", "-"],
        &heap,
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        ok(&["convert", "--to", "folded", &file, "-o", "-"])
    );
}

/// `-o -` is standard output for every command that writes a file, as for `convert`: the flame
/// graph and the report wrote a file named `-` ("dhat-kit: wrote -").
#[test]
fn dash_as_the_output_is_standard_output() {
    let dir = TempDir::new("cli_commands", "stdout");
    let file = path("valgrind-heap.json");
    for (args, starts) in [
        (&["flamegraph", &file, "-o", "-"][..], "<?xml"),
        (&["report", &file, "-o", "-"][..], "<!DOCTYPE html>"),
    ] {
        let out = run_piped(&dir.0, args, b"");
        assert!(out.status.success(), "{args:?}: {out:?}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.starts_with(starts),
            "{args:?}: {}",
            &stdout[..stdout.len().min(200)]
        );
        assert!(
            !String::from_utf8(out.stderr).unwrap().contains("wrote"),
            "{args:?}"
        );
        assert!(!dir.join("-").exists(), "{args:?}: a file named -");
    }
}

#[test]
fn standard_input_is_read_as_one_profile_and_named_in_errors() {
    let dir = TempDir::new("cli_commands", "stdin-bad");
    let heap = std::fs::read(fixture("valgrind-heap.json")).unwrap();
    let out = run_piped(&dir.0, &["diff", "-", "-"], &heap);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "dhat-kit: stdin: expected one profile read from standard input; give the other as a \
         file\n"
    );
    let out = run_piped(&dir.0, &["summary", "-"], b"{\"dhatFileVersion\": 1}");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("dhat-kit: stdin: "), "{err}");
    assert!(err.contains("version"), "{err}");
    let out = run_piped(&dir.0, &["summary", "-"], b"");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.starts_with("dhat-kit: stdin: "), "{err}");
    // A file named `-` is read as `./-`.
    std::fs::write(dir.join("-"), &heap).unwrap();
    let out = run_piped(&dir.0, &["summary", "./-"], b"");
    assert!(out.status.success(), "{out:?}");
    // Beside a file named `-`, `-` still reads standard input and `convert -o -` still writes
    // standard output: neither is that file (both were refused, as if the output were the input).
    let out = run_piped(
        &dir.0,
        &["convert", "--to", "folded", "-", "-o", "-"],
        &heap,
    );
    assert!(out.status.success(), "{out:?}");
    let file = path("valgrind-heap.json");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        ok(&["convert", "--to", "folded", &file, "-o", "-"])
    );
    // So does `flamegraph -o -`, from standard input or from the file named `-`, which stays as
    // it is.
    for (args, stdin) in [
        (&["flamegraph", "-", "-o", "-"][..], &heap[..]),
        (&["flamegraph", "./-", "-o", "-"][..], &b""[..]),
    ] {
        let out = run_piped(&dir.0, args, stdin);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("<svg"),
            "{args:?}"
        );
        assert_eq!(std::fs::read(dir.join("-")).unwrap(), heap, "{args:?}");
    }
    // The file named `-` as the input, and as the output (`./-`): refused, as any input would be.
    let out = run_piped(&dir.0, &["flamegraph", "./-", "-o", "./-"], b"");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("expected an output other than the profile"),
        "{err}"
    );
    assert_eq!(std::fs::read(dir.join("-")).unwrap(), heap);
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["summary", "top", "diff", "flamegraph"] {
        let out = ok(&[sub, "--help"]);
        assert!(out.contains("Usage: dhat-kit"), "{sub}: {out}");
    }
    let out = ok(&["top", "--help"]);
    for flag in ["--by", "--group-by", "--format", "--stack", "-n"] {
        assert!(out.contains(flag), "{flag}: {out}");
    }
}

/// Bad files: (name, contents, what the error must say about where).
fn bad_files() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = std::fs::read_to_string(fixture("valgrind-heap.json")).unwrap();
    let rs = std::fs::read_to_string(fixture("dhat-rs-heap.json")).unwrap();
    let adhoc = std::fs::read_to_string(fixture("valgrind-ad-hoc.json")).unwrap();
    let sub = |from: &str, to: &str| -> Vec<u8> {
        assert!(good.contains(from), "{from}");
        good.replacen(from, to, 1).into_bytes()
    };
    vec![
        ("empty.json", Vec::new(), "top level"),
        (
            "whitespace.json",
            b"  \n\n ".to_vec(),
            "found only white space, at top level, line 3",
        ),
        (
            "utf16.json",
            b"\xff\xfe{\x00\"\x00".to_vec(),
            "found UTF-16 text (its byte-order mark)",
        ),
        (
            "utf16be.json",
            b"\xfe\xff\x00{\x00\"".to_vec(),
            "found UTF-16 text (its byte-order mark)",
        ),
        (
            "utf32.json",
            b"\xff\xfe\x00\x00{\x00\x00\x00".to_vec(),
            "found UTF-32 text (its byte-order mark)",
        ),
        (
            "not-json.json",
            b"Total: 17,170 bytes in 115 blocks\n".to_vec(),
            "line 1 column 1",
        ),
        ("array.json", b"[1, 2, 3]".to_vec(), "top level"),
        (
            "gzipped.json",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03".to_vec(),
            "found gzip-compressed data",
        ),
        ("string.json", b"\"dhat\"".to_vec(), "top level"),
        (
            "truncated-head.json",
            good.as_bytes()[..40].to_vec(),
            "line",
        ),
        (
            "truncated-pps.json",
            good.as_bytes()[..good.len() / 2].to_vec(),
            "pps[",
        ),
        (
            "truncated-ftbl.json",
            good.as_bytes()[..good.len() - 20].to_vec(),
            "ftbl[",
        ),
        ("trailing.json", format!("{good} {{}}").into_bytes(), "line"),
        (
            "version-1.json",
            sub("\"dhatFileVersion\":2", "\"dhatFileVersion\":1"),
            "dhatFileVersion",
        ),
        (
            "version-3.json",
            sub("\"dhatFileVersion\":2", "\"dhatFileVersion\":3"),
            "dhatFileVersion",
        ),
        (
            "version-string.json",
            sub("\"dhatFileVersion\":2", "\"dhatFileVersion\":\"2\""),
            "dhatFileVersion",
        ),
        (
            "no-version.json",
            sub("\"dhatFileVersion\":2\n,", ""),
            "top level",
        ),
        ("no-pps.json", sub("\"pps\":", "\"ppz\":"), "top level"),
        ("no-ftbl.json", sub("\"ftbl\":", "\"ftbz\":"), "top level"),
        (
            "mode-number.json",
            sub("\"mode\":\"heap\"", "\"mode\":7"),
            "mode",
        ),
        (
            "bklt-string.json",
            sub("\"bklt\":true", "\"bklt\":\"yes\""),
            "bklt",
        ),
        (
            "negative-tb.json",
            sub("\"tb\":800", "\"tb\":-800"),
            "pps[0].tb",
        ),
        (
            "negative-tbk.json",
            sub("\"tbk\":100", "\"tbk\":-1"),
            "pps[1].tbk",
        ),
        (
            "float-mb.json",
            sub("\"mb\":800", "\"mb\":8.5"),
            "pps[0].mb",
        ),
        (
            "huge-tb.json",
            sub("\"tb\":800", "\"tb\":184467440737095516160"),
            "pps[0].tb",
        ),
        (
            "fs-string.json",
            sub("\"fs\":[1,2,3]", "\"fs\":\"1,2,3\""),
            "pps[0].fs",
        ),
        (
            "fs-negative.json",
            sub("\"fs\":[1,2,3]", "\"fs\":[1,-2,3]"),
            "pps[0].fs[1]",
        ),
        (
            "fs-out-of-range.json",
            sub("\"fs\":[1,2,3]", "\"fs\":[1,2,300]"),
            "pps[0].fs[2]",
        ),
        (
            "pp-not-object.json",
            sub("[{\"tb\":800", "[7,{\"tb\":800"),
            "pps[0]",
        ),
        ("pp-no-tb.json", sub("{\"tb\":800,", "{"), "pps[0]"),
        ("pp-no-fs.json", sub(",\"fs\":[1,2,3]", ""), "pps[0]"),
        ("pp-no-gb.json", sub(",\"gb\":0,\"gbk\":0", ""), "pps[0]"),
        (
            "tb-sum-overflows.json",
            sub("\"tb\":800", "\"tb\":18446744073709551615"),
            "pps[1].tb",
        ),
        (
            "tg-after-te.json",
            sub("\"te\":", "\"te\":1,\"ignored\":"),
            "tg",
        ),
        ("ftbl-number.json", sub("[\"[root]\"", "[0"), "ftbl[0]"),
        (
            "bad-escape.json",
            sub("[\"[root]\"", "[\"[ro\\qot]\""),
            "ftbl[0]",
        ),
        (
            "bad-utf8.json",
            {
                let mut b = sub("[\"[root]\"", "[\"[rootX]\"");
                let i = b.windows(5).position(|w| w == b"rootX").unwrap() + 4;
                b[i] = 0xff;
                b
            },
            "ftbl[0]",
        ),
        (
            "rs-no-tuth.json",
            rs.replacen("\"tuth\": 10,", "", 1).into_bytes(),
            "tuth",
        ),
        (
            "adhoc-tb-null.json",
            adhoc.replacen("\"tb\":1942", "\"tb\":null", 1).into_bytes(),
            "pps[0].tb",
        ),
    ]
}

#[test]
fn bad_input_exits_2_with_one_line_naming_file_expectation_and_place() {
    let dir = TempDir::new("cli_commands", "bad");
    let files = bad_files();
    assert!(files.len() >= 25);
    for (name, bytes, place) in &files {
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        for sub in [
            &["summary"][..],
            &["top"],
            &["flamegraph", "-o", "/dev/null"],
        ] {
            let mut args: Vec<&std::ffi::OsStr> = sub.iter().map(|a| a.as_ref()).collect();
            args.insert(1, file.as_os_str());
            let out = dhat_kit(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name} {sub:?}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
            assert!(
                stderr.contains(&file.display().to_string()),
                "{name}: {stderr}"
            );
            assert!(stderr.contains("expected"), "{name}: {stderr}");
            assert!(
                stderr.contains(&format!(", at {place}")) || stderr.contains(place),
                "{name}: {place}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{name}: {stderr}");
            assert!(out.stdout.is_empty(), "{name}");
        }
    }
    // A missing file and a directory.
    for missing in [dir.join("missing.json"), dir.0.clone()] {
        let out = dhat_kit(&["summary".as_ref(), missing.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(&missing.display().to_string()) && stderr.contains("expected"),
            "{stderr}"
        );
    }
    let out = dhat_kit(&["summary".as_ref(), dir.0.as_os_str()]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "dhat-kit: {}: expected a file, found a directory, at open\n",
            dir.0.display()
        )
    );
    // diff names the bad one of its two files.
    let bad = dir.join("fs-out-of-range.json");
    let out = dhat_kit(&[
        "diff".as_ref(),
        fixture("valgrind-heap.json").as_os_str(),
        bad.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("fs-out-of-range.json"));
}

/// What real producers write is read: Valgrind leaves a point's `mb` at 0 unless one of its
/// allocations set a new global maximum, and dhat-rs's `mbk` is the block count at the byte
/// maximum, so live figures above the point's maximum (`gb > mb`, `gbk > mbk`, `eb > mb`) are legal.
#[test]
fn live_figures_above_a_points_maximum_are_read() {
    let good = std::fs::read_to_string(fixture("valgrind-heap.json")).unwrap();
    let from = "\"mb\":4096,\"mbk\":1\n  ,\"gb\":4096,\"gbk\":1\n  ,\"eb\":0,\"ebk\":0";
    assert!(good.contains(from));
    let legal = good.replacen(
        from,
        "\"mb\":0,\"mbk\":0\n  ,\"gb\":4096,\"gbk\":7\n  ,\"eb\":100,\"ebk\":7",
        1,
    );
    let dir = TempDir::new("cli_commands", "legal");
    let file = dir.join("mb-zero.json");
    std::fs::write(&file, legal).unwrap();
    let f = file.display().to_string();
    let before: serde_json::Value =
        serde_json::from_str(&ok(&["summary", &path("valgrind-heap.json"), "--json"])).unwrap();
    let after: serde_json::Value = serde_json::from_str(&ok(&["summary", &f, "--json"])).unwrap();
    let figure = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    assert_eq!(
        figure(&after, "peak_blocks"),
        figure(&before, "peak_blocks") + 6
    );
    assert_eq!(
        figure(&after, "end_bytes"),
        figure(&before, "end_bytes") + 100
    );
    for sub in [&["top"][..], &["flamegraph", "-o", "/dev/null"]] {
        let mut args = sub.to_vec();
        args.insert(1, &f);
        ok(&args);
    }
    ok(&["diff", &path("valgrind-heap.json"), &f]);
}

/// Written to a device (`-o /dev/null`), an output is written in place: the device stays one.
#[cfg(unix)]
#[test]
fn an_output_to_a_device_leaves_the_device_in_place() {
    use std::os::unix::fs::FileTypeExt;
    for sub in [
        &["flamegraph", "-o", "/dev/null"][..],
        &["convert", "--to", "folded", "-o", "/dev/null"],
        &["report", "-o", "/dev/null"],
    ] {
        let mut args = sub.to_vec();
        let file = path("valgrind-heap.json");
        args.insert(1, &file);
        ok(&args);
        let kind = std::fs::metadata("/dev/null").unwrap().file_type();
        assert!(kind.is_char_device(), "{sub:?} replaced /dev/null");
    }
}

/// `-o /dev/stdout` (or `/dev/fd/1`, `/proc/self/fd/1`, `/dev/stderr`) where the shell opened
/// standard output on a file is written through that descriptor: after what the shell wrote
/// there, before what it writes next, at the end under `>>`. The file the descriptor names was
/// replaced: what the shell had written was lost, and what it wrote next went to the old file,
/// unlinked. Another descriptor open on a file cannot be written through, and is refused, the
/// file kept.
#[cfg(target_os = "linux")]
#[test]
fn an_output_named_by_a_standard_streams_descriptor_is_written_through_it() {
    use std::io::Write;
    let dir = TempDir::new("cli_commands", "dev-stdout");
    let file = path("valgrind-heap.json");
    let folded = ok(&["convert", &file, "--to", "folded", "-o", "-"]);
    assert!(folded.lines().count() > 1, "{folded}");
    let log = dir.join("log.txt");
    for name in ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/dev/stderr"] {
        for append in [false, true] {
            // `> log` (an offset shared with the shell) and `>> log`.
            std::fs::write(&log, "before\n").unwrap();
            let mut shell = std::fs::OpenOptions::new()
                .write(true)
                .append(append)
                .open(&log)
                .unwrap();
            shell.write_all(b"header\n").unwrap();
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_dhat-kit"));
            cmd.args(["convert", &file, "--to", "folded", "-o", name]);
            let stream = shell.try_clone().unwrap();
            let out = if name == "/dev/stderr" {
                cmd.stderr(stream).output().unwrap()
            } else {
                cmd.stdout(stream).output().unwrap()
            };
            assert!(out.status.success(), "{name}: {out:?}");
            shell.write_all(b"footer\n").unwrap();
            let written = std::fs::read_to_string(&log).unwrap();
            // Under `>`, the shell's write of "header" went over the start of "before".
            let start = if append {
                "before\nheader\n"
            } else {
                "header\n"
            };
            assert!(
                written.starts_with(start) && written.ends_with("footer\n"),
                "{name}, append {append}: {written}"
            );
            assert!(
                written.contains(&folded),
                "{name}, append {append}: {written}"
            );
        }
    }
    // `script` run by bash with the log, the command and the profile as $1, $2 and $3.
    let shell = |script: &str| {
        Command::new("bash")
            .args(["-c", script, "bash"])
            .arg(&log)
            .arg(env!("CARGO_BIN_EXE_dhat-kit"))
            .arg(&file)
            .output()
            .unwrap()
    };
    std::fs::write(&log, "kept\n").unwrap();
    let out = shell("exec 3>>\"$1\"; exec \"$2\" convert \"$3\" --to folded -o /dev/fd/3");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("/dev/fd/3: ") && stderr.contains("descriptor 3 of this process"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "kept\n");
    // Another process's descriptor open on a file (the shell's own standard output): refused as
    // well, where the file was replaced ("header" lost, "footer" sent to the unlinked copy).
    let out = shell(
        "exec >\"$1\"; echo header; \"$2\" convert \"$3\" --to folded -o /proc/$$/fd/1; \
         echo \"rc=$?\"; echo footer",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("descriptor 1 of another process"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        "header\nrc=2\nfooter\n",
        "{stderr}"
    );
}

/// A pipe whose reader left before the output was written (`-o /dev/stdout | head -c 1`) ends the
/// command quietly, as under `-o -`; it said "expected a writable file (Broken pipe)" and exited 2.
#[cfg(target_os = "linux")]
#[test]
fn a_reader_that_leaves_early_ends_the_output_quietly() {
    let file = path("valgrind-heap.json");
    for output in ["-", "/dev/stdout"] {
        // The reader leaves before the command starts: closed after the spawn, it could stay open
        // until the command had written its whole report into the pipe's buffer, under load.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .args(["report", &file, "-o", output])
            .stdout(writer)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{output}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.is_empty(), "{output}: {out:?}");
    }
}

/// An output that is an input profile (`-o` naming it, by another path or a hard link too) is
/// refused before anything is written: the profile is left as it was.
#[test]
fn an_output_that_is_an_input_profile_is_refused_and_the_profile_kept() {
    let dir = support::TempDir::new("cli_commands", "output-is-input");
    let original = std::fs::read(fixture("dhat-rs-heap.json")).unwrap();
    let profile = dir.join("p.json");
    let other = dir.join("q.json");
    std::fs::write(&profile, &original).unwrap();
    std::fs::write(&other, &original).unwrap();
    let link = dir.join("link.json");
    std::fs::hard_link(&profile, &link).unwrap();
    let dotted = dir.0.join(".").join("p.json");
    let p = profile.as_os_str();
    let cases: Vec<Vec<&std::ffi::OsStr>> = vec![
        vec!["flamegraph".as_ref(), p, "-o".as_ref(), p],
        vec!["report".as_ref(), p, "-o".as_ref(), p],
        vec![
            "report".as_ref(),
            other.as_os_str(),
            "--before".as_ref(),
            p,
            "-o".as_ref(),
            p,
        ],
        vec!["report".as_ref(), p, "-o".as_ref(), dotted.as_os_str()],
        vec![
            "convert".as_ref(),
            p,
            "--to".as_ref(),
            "pprof".as_ref(),
            "-o".as_ref(),
            link.as_os_str(),
        ],
        vec![
            "convert".as_ref(),
            p,
            "--to".as_ref(),
            "folded".as_ref(),
            "-o".as_ref(),
            p,
        ],
    ];
    for args in cases {
        let out = dhat_kit(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("expected an output other than the profile")
                && stderr.contains("p.json"),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::read(&profile).unwrap(), original, "{args:?}");
    }
    // A report's other inputs, each named as what it is: its skip file was overwritten, its
    // budget file called the profile.
    let skip = dir.join("skip.txt");
    std::fs::write(&skip, "my_alloc*\n").unwrap();
    let budget = dir.join("b.toml");
    std::fs::write(
        &budget,
        "[[component]]\nname = \"all\"\nmatch = { function = \"*\" }\nmax = \"100%\"\n",
    )
    .unwrap();
    for (flag, file, what) in [
        ("--skip-file", &skip, "the skip file"),
        ("--budget", &budget, "the budget file"),
    ] {
        let before = std::fs::read(file).unwrap();
        let args = [
            "report".as_ref(),
            p,
            flag.as_ref(),
            file.as_os_str(),
            "-o".as_ref(),
            file.as_os_str(),
        ];
        let out = dhat_kit(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "expected an output other than {what} {}",
                file.display()
            )),
            "{args:?}: {stderr}"
        );
        assert_eq!(std::fs::read(file).unwrap(), before, "{args:?}");
    }
    // Another file is written as asked.
    let svg = dir.join("p.svg");
    ok(&["flamegraph".as_ref(), p, "-o".as_ref(), svg.as_os_str()]);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<?xml"));
}

/// `top` of an ad-hoc profile names its figure in the profile's own units and events (its
/// header read `total-bytes` over figures in units).
#[test]
fn top_names_an_ad_hoc_figure_in_units_and_events() {
    for (by, name) in [
        ("total-bytes", "total-units"),
        ("total-blocks", "total-events"),
    ] {
        let text = ok(&["top", &path("dhat-rs-ad-hoc.json"), "--by", by]);
        let header = text.lines().next().unwrap_or_default();
        assert!(header.contains(name) && !header.contains(by), "{text}");
        assert!(text.contains(&format!(" {name}\n")), "{text}");
    }
    let text = ok(&["top", &path("dhat-rs-heap.json")]);
    assert!(
        text.lines()
            .next()
            .unwrap_or_default()
            .contains("total-bytes"),
        "{text}"
    );
}

/// A figure past the largest integer is said to be one (serde_json reads it as a float, which
/// the message called it), and a fraction is still a fraction.
#[test]
fn a_figure_past_the_largest_integer_is_said_to_be_one() {
    let dir = TempDir::new("cli_commands", "huge");
    for (name, says) in [
        (
            "huge-tb.json",
            "found one above the largest (18,446,744,073,709,551,615)",
        ),
        ("float-mb.json", "found floating point `8.5`"),
    ] {
        let (_, bytes, _) = bad_files()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .unwrap();
        let file = dir.join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = dhat_kit(&["summary".as_ref(), file.as_os_str()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
}

/// A write that fails after the output opened (a full device) is said as the write's failure,
/// as `convert` says it, by every command that writes a file: it said ", at open".
#[cfg(target_os = "linux")]
#[test]
fn a_write_that_fails_is_said_without_a_place() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full here");
        return;
    }
    for command in [
        &["flamegraph", &path("dhat-rs-heap.json"), "-o", "/dev/full"][..],
        &["report", &path("dhat-rs-heap.json"), "-o", "/dev/full"],
        &[
            "convert",
            &path("dhat-rs-heap.json"),
            "--to",
            "folded",
            "-o",
            "/dev/full",
        ],
    ] {
        let args: Vec<&std::ffi::OsStr> = command.iter().map(|a| a.as_ref()).collect();
        let out = dhat_kit(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {err}");
        assert!(
            err.starts_with("dhat-kit: /dev/full: expected a writable file (")
                && err.trim_end().ends_with("(os error 28))"),
            "{command:?}: {err}"
        );
    }
    // Standard output that is full: said as every command says it (convert named `-` as a file).
    for command in [
        &[
            "convert",
            &path("dhat-rs-heap.json"),
            "--to",
            "folded",
            "-o",
            "-",
        ][..],
        &["flamegraph", &path("dhat-rs-heap.json"), "-o", "-"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .args(command)
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {err}");
        assert!(
            err.starts_with("dhat-kit: cannot write to stdout: ")
                && err.trim_end().ends_with("(os error 28)"),
            "{command:?}: {err}"
        );
    }
}

/// A reader of standard error that leaves (`2>&1 | head`) ends nothing: the command goes on to
/// its own status. Its warnings' `eprintln!` panicked, status 101.
#[test]
fn a_closed_standard_error_ends_nothing() {
    let dir = TempDir::new("commands", "closed-stderr");
    let budget = dir.0.join("many.toml");
    // 3,000 components that match nothing: 3,000 warnings, far more than a pipe holds.
    let text: String = (0..3_000)
        .map(|i| format!("[[component]]\nname = \"c{i}\"\nmatch = {{ function = \"f{i}\" }}\nmax = \"10%\"\n"))
        .collect();
    std::fs::write(&budget, text).unwrap();
    // The reader has left before the command starts.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .arg("check")
        .arg(fixture("dhat-rs-heap.json"))
        .arg("--budget")
        .arg(&budget)
        .stdout(std::process::Stdio::null())
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
