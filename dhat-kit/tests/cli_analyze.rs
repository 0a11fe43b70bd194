//! The analyses' edge cases through the command: profiles of different kinds are not diffed,
//! budgets in bytes are whole bytes, and names with control characters keep line-oriented
//! outputs one line per row.

mod support;
use support::{ok, path, run};

/// Runs the command, which must fail with status 2 and one line on stderr: that line.
fn bad_input(args: &[&str]) -> String {
    let out = run(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "dhat-kit {args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty(), "{args:?}");
    stderr
}

#[test]
fn diff_refuses_profiles_that_measure_different_things() {
    let heap = path("valgrind-heap.json");
    let ad_hoc = path("valgrind-ad-hoc.json");
    let copy = path("valgrind-copy.json");
    for (before, after, kinds) in [
        (&heap, &ad_hoc, ["heap", "ad-hoc"]),
        (&ad_hoc, &heap, ["ad-hoc", "heap"]),
        (&heap, &copy, ["heap", "copy"]),
        (&copy, &ad_hoc, ["copy", "ad-hoc"]),
        (&path("dhat-rs-ad-hoc.json"), &copy, ["ad-hoc", "copy"]),
    ] {
        let line = bad_input(&["diff", before, after]);
        assert!(
            line.starts_with(&format!("dhat-kit: {before} and {after}: "))
                && line.contains("measure different things"),
            "{line}"
        );
        let a = |k: &str| if k == "ad-hoc" { "an" } else { "a" };
        let (b, a) = (
            line.find(&format!(
                "the before profile is {} {} profile",
                a(kinds[0]),
                kinds[0]
            )),
            line.find(&format!(
                "the after profile {} {} profile",
                a(kinds[1]),
                kinds[1]
            )),
        );
        assert!(b.is_some() && a.is_some() && b < a, "{line}");
    }
    // The HTML report's diff is the same diff.
    let dir = support::TempDir::new("cli_analyze", "kinds");
    let out = dir.join("r.html");
    let line = bad_input(&[
        "report",
        &ad_hoc,
        "--before",
        &heap,
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(
        line.starts_with(&format!("dhat-kit: {heap} and {ad_hoc}: "))
            && line.contains("measure different things"),
        "{line}"
    );
    assert!(!out.exists());
    // Heap profiles compare whatever made them: Valgrind's, dhat-rs's, dhat-kit's (all bytes).
    for (before, after) in [
        ("valgrind-heap.json", "dhat-rs-heap.json"),
        ("dhat-rs-heap.json", "dhat-kit-peak.json"),
        ("valgrind-ad-hoc.json", "dhat-rs-ad-hoc.json"),
        ("valgrind-copy.json", "valgrind-copy.json"),
    ] {
        let out = run(&["diff", &path(before), &path(after)]);
        assert!(out.status.success(), "{before} {after}: {out:?}");
    }
}

/// An ad-hoc profile's figures are named for what it counts wherever they are named, and the
/// names `top` shows are taken by `--by`: `top` headed its column `total-units` and refused
/// `--by total-units`, and `diff` headed its sites `(total-bytes)`.
#[test]
fn an_ad_hoc_profiles_figures_are_named_and_taken_as_units_and_events() {
    let ad_hoc = path("valgrind-ad-hoc.json");
    for (alias, name) in [
        ("total-units", "total-bytes"),
        ("total-events", "total-blocks"),
    ] {
        let by_alias = ok(&["top", &ad_hoc, "--by", alias]);
        assert_eq!(by_alias, ok(&["top", &ad_hoc, "--by", name]));
        assert!(by_alias.starts_with(&format!("#  {alias}  ")), "{by_alias}");
        let diff = ok(&["diff", &ad_hoc, &path("dhat-rs-ad-hoc.json"), "--by", alias]);
        assert!(diff.contains(&format!("site ({alias})")), "{diff}");
        assert!(!diff.contains(name), "{diff}");
    }
}

/// `check`'s baseline options without `--baseline` are refused, as `--explain` and `--strict`
/// without `--budget` are: with `--budget` alone they were ignored, nothing said (`--update`
/// recorded nothing, `--metric` and `--tolerance` bounded nothing).
#[test]
fn check_refuses_baseline_options_without_a_baseline() {
    let dir = support::TempDir::new("cli_analyze", "baseline-options");
    let budget = dir.write(
        "budgets.toml",
        "[[component]]\nname = \"all\"\nmatch = { function = \"main\" }\nmax = \"1 GiB\"\n",
    );
    let profile = path("valgrind-heap.json");
    let budget = budget.to_str().unwrap();
    ok(&["check", &profile, "--budget", budget]);
    for option in [
        &["--update"][..],
        &["--update=new"],
        &["--name", "nightly"],
        &["--tolerance", "50%"],
        &["--metric", "peak-bytes"],
    ] {
        let mut args = vec!["check", profile.as_str(), "--budget", budget];
        args.extend(option);
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option:?}: {stderr}");
        assert!(stderr.contains("--baseline"), "{option:?}: {stderr}");
    }
}

/// `--skip-file -` is refused as `--budget -` is: standard input is read for a profile only (it
/// looked for a file named `-`, saying it was not there).
#[test]
fn a_skip_file_named_dash_is_refused_saying_why() {
    let line = bad_input(&["top", &path("valgrind-heap.json"), "--skip-file", "-"]);
    assert_eq!(
        line.trim_end(),
        "dhat-kit: --skip-file -: standard input is read only for a profile; name the file \
         (--skip-file ./- for a file named `-`)"
    );
}

/// An ad-hoc profile's flame graph is titled with its figure's own name (`total-units`), as its
/// tables head their columns; it said `total-bytes` over frames of units.
#[test]
fn an_ad_hoc_flame_graph_is_titled_in_units() {
    let svg = ok(&[
        "flamegraph",
        &path("valgrind-ad-hoc.json"),
        "--by",
        "total-units",
        "-o",
        "-",
    ]);
    assert!(svg.contains("valgrind-ad-hoc.json: total-units"), "{svg}");
    assert!(!svg.contains("total-bytes"), "{svg}");
}

/// `top`'s line under the table writes its counts of rows as every other figure, with thousands
/// separators: `10 of 1,200 sites` (it wrote `10 of 1200 sites`).
#[test]
fn tops_count_of_sites_has_thousands_separators() {
    let dir = support::TempDir::new("cli_analyze", "many-sites");
    let sites = 1_200;
    let pps: Vec<String> = (0..sites)
        .map(|i| format!(r#"{{"tb":{},"tbk":1,"fs":[{}]}}"#, i + 1, i + 1))
        .collect();
    let ftbl: Vec<String> = (0..sites).map(|i| format!(r#""f{i} (a.c:1)""#)).collect();
    let file = dir.write(
        "copy.json",
        &format!(
            r#"{{"dhatFileVersion":2,"mode":"copy","verb":"Copied","bklt":false,"bkacc":false,
            "tu":"instrs","Mtu":"instr","te":10,"cmd":"app","pid":1,"pps":[{}],"ftbl":["[root]",{}]}}"#,
            pps.join(","),
            ftbl.join(",")
        ),
    );
    let out = ok(&["top", file.to_str().unwrap()]);
    assert!(out.contains("\n10 of 1,200 sites, "), "{out}");
}

#[test]
fn a_byte_limit_that_is_not_whole_bytes_is_a_bad_budget_file() {
    let dir = support::TempDir::new("cli_analyze", "frac");
    let profile = path("valgrind-heap.json");
    let budget = |max: &str| {
        dir.write(
            "budgets.toml",
            &format!("[[component]]\nname = \"tables\"\nmatch = {{ function = \"main\" }}\nmax = \"{max}\"\n"),
        )
    };
    for max in ["0.5 B", "1.0001 KiB"] {
        let file = budget(max);
        let line = bad_input(&["check", &profile, "--budget", file.to_str().unwrap()]);
        assert_eq!(
            line.trim_end(),
            format!(
                "dhat-kit: {}:4: component \"tables\": bad size \"{max}\": a byte limit must be a whole number of bytes",
                file.display()
            )
        );
    }
    // A fraction that is whole in bytes is a size.
    let file = budget("1.5 KiB");
    let out = run(&["check", &profile, "--budget", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1.5 KiB"), "{out:?}");
}

/// A heap profile whose function names hold a newline, a carriage return, a tab and an escape.
const CONTROL: &str = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
"bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"prog","pid":1,"tg":5,"te":10,"pps":[
{"tb":400,"tbk":4,"tl":10,"mb":100,"mbk":1,"gb":40,"gbk":1,"eb":3,"ebk":1,"fs":[1,2,6]},
{"tb":200,"tbk":2,"tl":10,"mb":100,"mbk":1,"gb":20,"gbk":1,"eb":1,"ebk":1,"fs":[1,3,6]},
{"tb":100,"tbk":1,"tl":10,"mb":100,"mbk":1,"gb":10,"gbk":1,"eb":0,"ebk":0,"fs":[1,4,6]},
{"tb":50,"tbk":1,"tl":10,"mb":50,"mbk":1,"gb":5,"gbk":1,"eb":0,"ebk":0,"fs":[1,5,6]}],
"ftbl":["[root]","0x1: alloc::alloc::alloc (/rustc/abc/library/alloc/src/alloc.rs:95:14)",
"0x2: my_crate::new\nline (src/n.rs:4:5)","0x3: my_crate::cr\r\nlf (src/c.rs:1:1)",
"0x4: my_crate::tab\there (src/t.rs:1:1)","0x5: my_crate::esc\u001b[31m (src/e.rs:1:1)",
"0x6: main (src/main.rs:9:1)"]}"#;

#[test]
fn names_with_control_characters_keep_one_row_per_line() {
    let dir = support::TempDir::new("cli_analyze", "control");
    let file = dir.write("control.json", CONTROL);
    let file = file.to_str().unwrap();
    let ok = |args: &[&str]| support::ok(args);
    // Folded stacks: one line per stack, its figure last, the figures unchanged.
    let folded = ok(&["convert", file, "--to", "folded", "-o", "-"]);
    assert_eq!(
        folded.lines().collect::<Vec<_>>(),
        [
            r"main;my_crate::cr\r\nlf;alloc::alloc::alloc 200",
            r"main;my_crate::esc\u{1b}[31m;alloc::alloc::alloc 50",
            r"main;my_crate::new\nline;alloc::alloc::alloc 400",
            r"main;my_crate::tab\there;alloc::alloc::alloc 100",
        ],
        "{folded}"
    );
    // The flame graph draws every stack with its figure.
    let svg = dir.join("f.svg");
    ok(&["flamegraph", file, "-o", svg.to_str().unwrap()]);
    let svg = std::fs::read_to_string(&svg).unwrap();
    for title in [
        "<title>main (750 bytes, 100.00%)</title>",
        r"<title>my_crate::new\nline (400 bytes, 53.33%)</title>",
        r"<title>my_crate::cr\r\nlf (200 bytes, 26.67%)</title>",
    ] {
        assert!(svg.contains(title), "{title}");
    }
    // Tables: a row per site, as text and as Markdown; the diff's and the budget's too.
    let table = ok(&["top", file]);
    assert_eq!(table.lines().count(), 1 + 4 + 1, "{table}");
    assert!(
        table.contains(r"my_crate::new\nline (src/n.rs:4)"),
        "{table}"
    );
    let md = ok(&["top", file, "--format", "markdown"]);
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 2 + 4, "{md}");
    assert!(rows.iter().all(|l| l.ends_with('|')), "{md}");
    let stacks = ok(&["top", file, "--stack", "3"]);
    assert!(
        stacks
            .lines()
            .all(|l| !l.starts_with("line") && !l.starts_with("lf")),
        "{stacks}"
    );
    let after = dir.write("after.json", &CONTROL.replace("\"tb\":400", "\"tb\":800"));
    let diff = ok(&["diff", file, after.to_str().unwrap()]);
    assert!(
        diff.lines()
            .any(|l| l.ends_with(r"my_crate::new\nline (src/n.rs:4)")),
        "{diff}"
    );
    assert_eq!(diff.lines().count(), 1 + 6 + 1 + 1 + 1 + 1, "{diff}");
    let budget = dir.write(
        "b.toml",
        "[[component]]\nname = \"new\\nline\"\nmatch = { crate = \"my_crate\" }\nmax = \"10%\"\n",
    );
    let out = run(&[
        "check",
        file,
        "--budget",
        budget.to_str().unwrap(),
        "--explain",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.lines()
            .all(|l| !l.starts_with("line") && !l.starts_with("lf")),
        "{text}"
    );
    assert!(text.contains(r"new\nline (750 B > 10% (75 B))"), "{text}");
}

/// A character XML 1.0 allows (its `Char` production).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML forbids control characters and U+FFFE/U+FFFF even as character references: a title (the
/// file name by default) or a name holding one is escaped as in the tables, so that the graph
/// still opens (a browser showed "Invalid character" in its place).
#[test]
fn the_flame_graph_stays_well_formed_xml_whatever_the_names() {
    let dir = support::TempDir::new("cli_analyze", "xml");
    let file = dir.write(
        "run\u{1}1.json",
        &CONTROL.replace("my_crate::tab\\there", "my_crate::odd\u{ffff}"),
    );
    let svg = dir.join("f.svg");
    ok(&[
        "flamegraph",
        file.to_str().unwrap(),
        "-o",
        svg.to_str().unwrap(),
    ]);
    let svg = std::fs::read_to_string(&svg).unwrap();
    let bad: Vec<String> = svg
        .chars()
        .filter(|&c| !xml_char(c))
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    assert!(bad.is_empty(), "characters XML forbids: {bad:?}");
    assert!(svg.contains(r"run\u{1}1.json"), "the title, escaped");
    assert!(svg.contains(r"my_crate::odd\u{ffff}"), "the name, escaped");
}

/// Without `-o`, the flame graph is named after its profile, in the current directory: graphs of
/// two profiles do not overwrite each other (both were `alloc.svg`).
#[test]
fn without_output_the_flame_graph_is_named_after_its_profile() {
    let dir = support::TempDir::new("cli_analyze", "flame-default");
    for name in ["valgrind-heap", "dhat-rs-heap"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .args(["flamegraph", &path(&format!("{name}.json"))])
            .current_dir(dir.join(""))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("dhat-kit: wrote {name}.svg\n")
        );
    }
    for name in ["valgrind-heap.svg", "dhat-rs-heap.svg"] {
        let svg = std::fs::read_to_string(dir.join(name)).unwrap();
        assert!(svg.contains("<svg"), "{name}");
    }
}

/// An ad-hoc profile's figures are the program's own units, and may add up past pprof's signed
/// 64-bit values: converting it is refused (one line, status 2, nothing written) rather than
/// written with other figures (values clamped, or a total `go tool pprof` reads as negative).
#[test]
fn pprof_refuses_figures_beyond_its_signed_64_bit_values() {
    let dir = support::TempDir::new("cli_analyze", "pprof-range");
    let ad_hoc = |values: &[u64]| {
        let pps: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!(r#"{{"tb":{v},"tbk":1,"fs":[{}]}}"#, i + 1))
            .collect();
        let ftbl: Vec<String> = (0..values.len())
            .map(|i| format!(r#""0x{:x}: app::f{i} (src/f.rs:{}:1)""#, i + 1, i + 1))
            .collect();
        format!(
            r#"{{"dhatFileVersion":2,"mode":"ad-hoc","verb":"Allocated","bklt":false,
            "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"instrs",
            "Mtu":"Minstr","cmd":"app","pid":1,"te":9,"pps":[{}],"ftbl":["[root]",{}]}}"#,
            pps.join(","),
            ftbl.join(",")
        )
    };
    let half = (1u64 << 62) + 1;
    for (name, values, total) in [
        // One value past i64::MAX; two that fit but add up past it.
        ("one", vec![(1u64 << 63) + 5, 7], "9223372036854775820"),
        ("sum", vec![half, half], "9223372036854775810"),
    ] {
        let file = dir.write(&format!("{name}.json"), &ad_hoc(&values));
        let file = file.to_str().unwrap();
        let out = dir.join(&format!("{name}.pb.gz"));
        let line = bad_input(&[
            "convert",
            file,
            "--to",
            "pprof",
            "-o",
            out.to_str().unwrap(),
        ]);
        // Named in the profile's units, on the profile that holds it.
        assert!(
            line.starts_with(&format!("dhat-kit: {file}: "))
                && line.contains(&format!(
                    "total_units adds up to {total}, above pprof's largest value, \
                     9223372036854775807"
                )),
            "{line}"
        );
        assert!(!out.exists(), "nothing written");
    }
    // At the limit itself it is written.
    let file = dir.write("max.json", &ad_hoc(&[i64::MAX as u64 - 1, 1]));
    let out = dir.join("max.pb.gz");
    ok(&[
        "convert",
        file.to_str().unwrap(),
        "--to",
        "pprof",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(out.exists());
}

/// The sites of a Markdown table (its rows' last column), as they read once rendered: without
/// the backslashes that escape ASCII punctuation (`\_dl_start` is `_dl_start`).
fn sites_of(table: &str) -> Vec<String> {
    table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .map(|l| rendered(l.trim_end_matches(" |").rsplit(" | ").next().unwrap()))
        .collect()
}

/// The text a Markdown cell renders as: each backslash before ASCII punctuation dropped, the
/// punctuation kept; `&nbsp;` a non-breaking space.
fn rendered(cell: &str) -> String {
    let mut out = String::new();
    let mut rest = cell;
    while let Some(c) = rest.chars().next() {
        let next = rest[c.len_utf8()..].chars().next();
        if let (true, Some(next)) = (c == '\\', next.filter(char::is_ascii_punctuation)) {
            out.push(next);
            rest = &rest[2..];
        } else if let Some(after) = rest.strip_prefix("&nbsp;") {
            out.push('\u{a0}');
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Valgrind's DHAT 3.19 on `tests/fixtures/src/inventory.cpp`, built with `g++ -std=c++17 -O2 -g`
/// (GCC 12): eight of its program points, with the standard library's functions inlined.
const CPP_RELEASE: &str = "valgrind-cpp-release.json";

#[test]
fn a_cpp_release_builds_sites_are_the_programs_code() {
    let table = ok(&["top", &path(CPP_RELEASE), "--format", "markdown"]);
    assert_eq!(
        sites_of(&table),
        [
            // libstdc++'s own pool (no symbols), allocated while the loader runs its
            // constructors: libstdc++'s frame, not the loader's (`call_init (dl-init.c:74)`).
            "0x49017B9 (in libstdc++.so.6.0.30)",
            // A lambda's call operator, inlined into main.
            "operator() (inventory.cpp:71)",
            "inventory::Catalog::insert(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&, int) (inventory.cpp:32)",
            "inventory::Catalog::insert(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&, int) (inventory.cpp:33)",
            "add (inventory.cpp:22)",
            "inventory::make_label[abi:cxx11](int) (inventory.cpp:45)",
            "build_numbers (inventory.cpp:55)",
        ],
        "{table}"
    );
    // A program's own function is skipped by its name as written in the source.
    let skipped = ok(&[
        "top",
        &path(CPP_RELEASE),
        "-n",
        "0",
        "--skip",
        "operator()",
        "--skip",
        "inventory::Catalog::insert",
    ]);
    assert!(skipped.contains("main (inventory.cpp:74)"), "{skipped}");
    assert!(skipped.contains("main (inventory.cpp:63)"), "{skipped}");
    assert!(
        !skipped.contains("operator()") && !skipped.contains("Catalog::insert"),
        "{skipped}"
    );
}

#[test]
fn a_cpp_budget_names_functions_as_the_source_does() {
    let dir = support::TempDir::new("cli_analyze", "cpp-budget");
    let budget = dir.write(
        "budgets.toml",
        r#"
[[component]]
name = "labels"
match = { function = "inventory::make_label" }
max = "100%"

[[component]]
name = "lambda"
match = { function = "operator()" }
max = "100%"

[[component]]
name = "catalog"
match = { path = "inventory::Catalog" }
max = "100%"
"#,
    );
    let out = run(&[
        "check",
        &path(CPP_RELEASE),
        "--budget",
        budget.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stderr.contains("matches no program point"), "{stderr}");
    for (component, bytes) in [
        ("labels", "14.0 KiB"),
        ("lambda", "57.0 KiB"),
        ("catalog", "56.2 KiB"),
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(bytes) && l.ends_with(component)),
            "{component}: {stdout}"
        );
    }
}

#[test]
fn a_skip_pattern_that_matches_no_frame_is_a_warning() {
    let heap = path(CPP_RELEASE);
    let stderr = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "dhat-kit {args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    // A mistyped name changes nothing; it is said, naming the pattern and the file.
    for command in [
        vec!["top", &heap, "--skip", "inventory::Catalog::insrt"],
        vec!["diff", &heap, &heap, "--skip", "inventory::Catalog::insrt"],
    ] {
        let text = stderr(&command);
        assert!(
            text.contains(
                r#"dhat-kit: warning: --skip "inventory::Catalog::insrt" matches no frame of "#
            ) && text.contains(CPP_RELEASE),
            "{command:?}: {text}"
        );
    }
    // A pattern that matches says nothing.
    let text = stderr(&["top", &heap, "--skip", "inventory::Catalog::insert"]);
    assert!(!text.contains("warning"), "{text}");
}

/// Valgrind's DHAT on `tests/fixtures/src/alloc_sites.c` (copy mode): besides the program's two
/// copies, the dynamic loader's own, whose stacks hold only the loader's frames, named with
/// glibc's sources (`open_path (dl-load.c:1859)` ... `_dl_start (rtld.c:584)`), and its entry
/// without a symbol, `??? (in ld-linux-x86-64.so.2)`.
const COPY: &str = "valgrind-copy.json";

#[test]
fn a_stack_of_plumbing_is_its_outermost_frame_with_a_symbol() {
    // The loader's functions skipped, every frame of its stacks is plumbing: the site is the
    // outermost frame with a symbol, not the loader's entry without one, shown as a binary whose
    // debug symbols are missing.
    let table = ok(&[
        "top",
        &path(COPY),
        "-n",
        "0",
        "--format",
        "markdown",
        "--skip",
        "open_path",
        "--skip",
        "openaux",
        "--skip",
        "dl_main",
    ]);
    assert_eq!(
        sites_of(&table),
        ["copy_block (alloc_sites.c:44)", "_dl_start (rtld.c:584)"],
        "{table}"
    );
    assert!(!table.contains("debug symbols"), "{table}");
}

#[test]
fn the_loaders_own_stacks_are_its_outermost_frame_with_a_symbol() {
    // The loader's frames are plumbing: its own copies, with no frame of the program, are one
    // site, the outermost frame with a symbol, without a note about missing debug symbols.
    let table = ok(&["top", &path(COPY), "-n", "0", "--format", "markdown"]);
    assert_eq!(
        sites_of(&table),
        ["copy_block (alloc_sites.c:44)", "_dl_start (rtld.c:584)"],
        "{table}"
    );
    assert!(!table.contains("debug symbols"), "{table}");
    // A library's allocation at load time is the library's frame, whose missing symbols are
    // said.
    let table = ok(&["top", &path(CPP_RELEASE), "-n", "1"]);
    assert!(
        table.contains("0x49017B9 (in libstdc++.so.6.0.30)") && table.contains("debug symbols"),
        "{table}"
    );
}

/// Valgrind's DHAT 3.19 on `tests/fixtures/src/rust_release.rs`, a Rust release build
/// (`debug = "limited"`, rustc 1.95.0): the frames inlined into the precompiled standard
/// library's functions are named without their path, their files without a directory
/// (`alloc (alloc.rs:95)`, `with_capacity (string.rs:485)` inlined into
/// `alloc::fmt::format::format_inner (fmt.rs:652)`).
const RUST_RELEASE: &str = "valgrind-rust-release.json";

#[test]
fn a_rust_release_builds_inlined_closure_is_its_crates() {
    // `{closure#0} (rust_release.rs:16)`, inlined into `rust_release::make_labels` at one address:
    // named without its path, it is the crate of the function it is inlined into, in the same
    // file; not a crate called `rust_release.rs`.
    let table = ok(&[
        "top",
        &path(RUST_RELEASE),
        "-n",
        "0",
        "--group-by",
        "crate",
        "--format",
        "json",
    ]);
    let top: serde_json::Value = serde_json::from_str(&table).unwrap();
    let rows = top["rows"].as_array().unwrap();
    let crates: Vec<&str> = rows.iter().map(|r| r["site"].as_str().unwrap()).collect();
    assert!(!crates.iter().any(|c| c.ends_with(".rs")), "{crates:?}");
    let ours = rows.iter().find(|r| r["site"] == "rust_release").unwrap();
    // Every site of the program's own code: squares, make_labels, count_lengths, the closure's
    // 200 strings, main's and join_words', as `top` by site lists them.
    let by_site = ok(&["top", &path(RUST_RELEASE), "-n", "0", "--format", "json"]);
    let by_site: serde_json::Value = serde_json::from_str(&by_site).unwrap();
    let program: u64 = by_site["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            let site = r["site"].as_str().unwrap();
            site.contains("(rust_release.rs:")
        })
        .map(|r| r["value"].as_u64().unwrap())
        .sum();
    assert_eq!(ours["value"].as_u64().unwrap(), program, "{table}");
    assert!(
        ours["figures"]["total_blocks"].as_u64().unwrap() >= 200,
        "{table}"
    );
}

#[test]
fn a_markdown_stack_keeps_each_callers_depth() {
    // Markdown trims a cell's spaces: the callers' indentation is non-breaking spaces.
    let table = ok(&[
        "top",
        &path(RUST_RELEASE),
        "-n",
        "1",
        "--stack",
        "3",
        "--format",
        "markdown",
    ]);
    let nbsp = |n: usize| "\u{a0}".repeat(n);
    assert_eq!(
        sites_of(&table),
        [
            "rust_release::squares (rust_release.rs:45)".to_owned(),
            format!("{}<- rust_release::main (rust_release.rs:55)", nbsp(2)),
            format!(
                "{}<- call_once<fn(), ()> (library/core/src/ops/function.rs:250)",
                nbsp(4)
            ),
        ],
        "{table}"
    );
}

#[test]
fn a_rust_release_builds_sites_are_the_programs_code() {
    let table = ok(&[
        "top",
        &path(RUST_RELEASE),
        "-n",
        "0",
        "--format",
        "markdown",
    ]);
    assert_eq!(
        sites_of(&table),
        [
            "rust_release::squares (rust_release.rs:45)",
            "rust_release::make_labels (rust_release.rs:16)",
            "rust_release::count_lengths (rust_release.rs:35)",
            // `format!`'s 200 strings, allocated by std's precompiled `format_inner`: the
            // closure that calls it, not std's inlined `alloc (alloc.rs:95)`.
            "{closure#0} (rust_release.rs:16)",
            "_IO_file_doallocate (filedoalloc.c:101)",
            // std's start-up (`std::rt::lang_start_internal`), every Rust frame of it std's:
            // rustc's `main`, without debug information; a row of its own.
            "main (in target/release/rust-release)",
            "__fopen_internal (iofopen.c:65)",
            "getdelim (iogetdelim.c:62)",
            "__pthread_attr_extension (pthread_attr_extension.c:28)",
            // `std::env::args()`, allocated by std's precompiled `std::env::args_os`, and its
            // `collect`.
            "rust_release::main (rust_release.rs:51)",
            "rust_release::join_words (rust_release.rs:24)",
            "pthread_attr_setaffinity_np@@GLIBC_2.32 (pthread_attr_setaffinity.c:51)",
            "pthread_getattr_np@@GLIBC_2.32 (pthread_getattr_np.c:180)",
        ],
        "{table}"
    );
    let row = |site: &str| {
        table
            .lines()
            .find(|l| l.ends_with(&format!(" | {site} |")))
            .unwrap_or_else(|| panic!("{site}: {table}"))
            .to_owned()
    };
    assert!(
        row("{closure#0} (rust_release.rs:16)").contains(" | 200 | "),
        "{table}"
    );
    assert!(
        row("rust_release::main (rust_release.rs:51)").contains(" | 3 | "),
        "{table}"
    );
    assert!(
        row("main (in target/release/rust-release)").contains(" | 2 | "),
        "{table}"
    );
    // A budget's explanation names sites as top does.
    let dir = support::TempDir::new("cli_analyze", "rust-release-budget");
    let budget = dir.write(
        "budgets.toml",
        "[[component]]\nname = \"squares\"\nmatch = { function = \"rust_release::squares\" }\nmax = \"100%\"\n",
    );
    let out = run(&[
        "check",
        &path(RUST_RELEASE),
        "--budget",
        budget.to_str().unwrap(),
        "--explain",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("{closure#0} (rust_release.rs:16)")
            && !stdout.contains("alloc (alloc.rs:95)"),
        "{stdout}"
    );
}

/// A sampled profile as dhat-kit's sampled mode writes it: a site's estimates and the unsampled
/// remainder, whose frame says what they were estimated from.
const SAMPLED: &str = r#"{"dhatFileVersion":2,"mode":"dhat-kit-sampled","verb":"Allocated",
"bklt":true,"bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":100,"tg":50,
"pps":[{"tb":5000,"tbk":50,"tl":9,"mb":100,"mbk":1,"gb":100,"gbk":1,"eb":0,"ebk":0,"fs":[2,3]},
       {"tb":300,"tbk":9,"tl":2,"mb":10,"mbk":1,"gb":10,"gbk":1,"eb":0,"ebk":0,"fs":[1]}],
"ftbl":["[root]","[unsampled remainder] estimated from 324 samples at mean interval 4096 bytes",
"0x2: app::parse (src/parse.rs:4:5)","0x3: app::main (src/main.rs:9:1)"]}"#;

#[test]
fn the_unsampled_remainder_is_one_label_under_every_grouping() {
    let dir = support::TempDir::new("cli_analyze", "remainder");
    let file = dir.write("sampled.json", SAMPLED);
    let file = file.to_str().unwrap();
    for group in ["site", "function", "file", "crate"] {
        let table = ok(&["top", file, "--group-by", group]);
        let rows: Vec<&str> = table.lines().filter(|l| l.contains("remainder")).collect();
        assert_eq!(rows.len(), 1, "{group}: {table}");
        assert!(
            rows[0].ends_with("  [unsampled remainder]")
                && rows[0].starts_with("2 ")
                && !rows[0].contains("estimated from"),
            "{group}: {table}"
        );
    }
}
