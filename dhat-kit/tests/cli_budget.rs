//! Budgets per component: `dhat-kit check PROFILE --budget FILE [--explain]` exits 0 within budget,
//! 1 with the table when a component is over, 2 with one line (file, line, what) on a bad budget
//! file; and the same check through the library. Expected figures are summed here straight from
//! the fixtures' JSON, independently of the library's matching.

use std::path::Path;
use std::process::Command;

use dhat_kit::analyze::budget::{Budgets, Limit, Status};

mod support;
use support::{check_json, fixture, TempDir};

/// `dhat-kit check PROFILE --budget FILE ARGS..`: exit code, stdout, stderr.
fn check(profile: &Path, budget: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .arg("check")
        .arg(profile)
        .arg("--budget")
        .arg(budget)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes the budget file `name` into `dir` and checks the fixture `profile` against it: the
/// file, then [`check`]'s exit code, stdout and stderr.
fn check_written(
    dir: &TempDir,
    name: &str,
    budget: &str,
    profile: &str,
) -> (std::path::PathBuf, i32, String, String) {
    let file = dir.write(name, budget);
    let (code, out, err) = check(&fixture(profile), &file, &[]);
    (file, code, out, err)
}

/// The JSON of a fixture: `(ftbl, [(tb, fs)])`.
fn raw(name: &str) -> (Vec<String>, Vec<(u64, Vec<usize>)>) {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap();
    let ftbl = v["ftbl"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect();
    let pps = v["pps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let fs = p["fs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as usize)
                .collect();
            (p["tb"].as_u64().unwrap(), fs)
        })
        .collect();
    (ftbl, pps)
}

/// Assigns each program point of a fixture to the first predicate (in order) that some frame
/// of its stack satisfies; returns each one's `tb` sum, then everything else's, then the total.
fn sums(name: &str, preds: &[&dyn Fn(&str) -> bool]) -> (Vec<u64>, u64, u64) {
    let (ftbl, pps) = raw(name);
    let mut out = vec![0; preds.len()];
    let (mut rest, mut total) = (0, 0);
    for (tb, fs) in pps {
        total += tb;
        match preds.iter().position(|p| fs.iter().any(|&f| p(&ftbl[f]))) {
            Some(i) => out[i] += tb,
            None => rest += tb,
        }
    }
    (out, rest, total)
}

fn pct(part: u64, whole: u64) -> String {
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

/// The table line of a component (its name is the last column).
fn row<'a>(table: &'a str, name: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.ends_with(&format!("  {name}")))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{table}"))
}

const VALGRIND_BUDGET: &str = r#"# Allocation budgets of alloc_sites.c
[[component]]
name = "tables"
match = { function = "grow_table" }
max = "50%"

[[component]]
name = "copies"
match = { function = "copy_block" }
max = 6000
metric = "total-bytes"

[[component]]
name = "parsing"
match = { function = "parse_tokens" }
max = "4 KiB"
"#;

/// Frames of Valgrind's C fixture: the function is the text between `": "` and `" ("`.
fn c_fn(name: &'static str) -> impl Fn(&str) -> bool {
    move |frame: &str| frame.contains(&format!(": {name} ("))
}

#[test]
fn within_budget_exits_0_with_the_table_and_everything_else() {
    let dir = TempDir::new("budget", "within");
    let budget = dir.write("budgets.toml", VALGRIND_BUDGET);
    let (code, out, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(err, "");
    let (tables, copies, parsing) = (c_fn("grow_table"), c_fn("copy_block"), c_fn("parse_tokens"));
    let (s, rest, total) = sums("valgrind-heap.json", &[&tables, &copies, &parsing]);
    assert_eq!(
        (s[0], s[1], s[2], rest, total),
        (8128, 6000, 2742, 300, 17170)
    );
    let header = out.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["current", "share", "limit", "status", "metric", "component"]
    );
    let t = row(&out, "tables");
    assert!(t.contains(&pct(s[0], total)) && t.contains(" ok "), "{t}");
    assert!(t.contains("50% (8.4 KiB)"), "{t}"); // 8,585 bytes: half of 17,170
    let c = row(&out, "copies");
    assert!(c.contains(&pct(s[1], total)) && c.contains(" ok "), "{c}"); // 6000 of 6000: within
    let p = row(&out, "parsing");
    assert!(
        p.contains(&pct(s[2], total)) && p.contains("4.0 KiB"),
        "{p}"
    );
    let e = row(&out, "everything else");
    assert!(
        e.trim_start().starts_with("300 B") && e.contains(&pct(rest, total)),
        "{e}"
    );
    assert!(out.ends_with("3 of 3 components within budget\n"), "{out}");
}

#[test]
fn over_budget_exits_1_with_the_table_naming_the_component() {
    let dir = TempDir::new("budget", "over");
    let budget = dir.write(
        "budgets.toml",
        &VALGRIND_BUDGET.replace("\"50%\"", "\"40%\""),
    );
    let (code, out, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
    assert_eq!(code, 1, "{out}{err}");
    // 8,128 of 17,170 bytes is 47.3%, over 40%.
    let t = row(&out, "tables");
    assert!(t.contains("47.3%") && t.contains(" OVER "), "{t}");
    assert!(row(&out, "copies").contains(" ok "), "{out}");
    assert!(
        out.ends_with("1 of 3 components over budget: tables (7.9 KiB > 40% (6.7 KiB))\n"),
        "{out}"
    );
    assert_eq!(
        err,
        format!("dhat-kit: over budget ({}): tables\n", budget.display())
    );
    // One byte over an absolute limit is over.
    let budget = dir.write(
        "b2.toml",
        &VALGRIND_BUDGET.replace("max = 6000", "max = 5999"),
    );
    let (code, out, _) = check(&fixture("valgrind-heap.json"), &budget, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(row(&out, "copies").contains(" OVER "), "{out}");
}

#[test]
fn the_over_budget_line_stays_one_line() {
    // A name with a newline (TOML's "\n") is escaped in the verdict on stderr, as in the table.
    let (budget, code, out, err) = check_written(
        &TempDir::new("budget", "one-line"),
        "budgets.toml",
        "[[component]]\nname = \"tables\\nand more\"\nmatch = { function = \"grow_table\" }\nmax = 0\n",
        "valgrind-heap.json",
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "dhat-kit: over budget ({}): tables\\nand more\n",
            budget.display()
        )
    );
    assert!(
        out.ends_with("1 of 1 component over budget: tables\\nand more (7.9 KiB > 0 B)\n"),
        "{out}"
    );
}

#[test]
fn malformed_budget_files_exit_2_with_one_line_naming_file_and_line() {
    let dir = TempDir::new("budget", "malformed");
    let cases: [(&str, String, usize, &str); 8] = [
        (
            "unknown-key.toml",
            VALGRIND_BUDGET.replace("max = 6000", "maximum = 6000"),
            10,
            "maximum",
        ),
        (
            "bad-unit.toml",
            VALGRIND_BUDGET.replace("\"4 KiB\"", "\"4 KB/s\""),
            16,
            "bad unit \"KB/s\"",
        ),
        (
            "bad-toml.toml",
            VALGRIND_BUDGET.replace(
                "[[component]]\nname = \"copies\"",
                "[[component]\nname = \"copies\"",
            ),
            7,
            "",
        ),
        (
            "bad-metric.toml",
            VALGRIND_BUDGET.replace("\"total-bytes\"", "\"bytes\""),
            11,
            "unknown metric \"bytes\"",
        ),
        (
            "unknown-match-key.toml",
            VALGRIND_BUDGET.replace(
                "{ function = \"copy_block\" }",
                "{ module = \"copy_block\" }",
            ),
            9,
            "module",
        ),
        (
            "empty-match.toml",
            VALGRIND_BUDGET.replace("{ function = \"copy_block\" }", "{}"),
            9,
            "empty",
        ),
        (
            "share-above-100.toml",
            VALGRIND_BUDGET.replace("\"50%\"", "\"150%\""),
            5,
            "component \"tables\": bad share \"150%\": above 100%",
        ),
        (
            "single-brackets.toml",
            VALGRIND_BUDGET.replace(
                "[[component]]\nname = \"tables\"",
                "[component]\nname = \"tables\"",
            ),
            7,
            "write each component as [[component]]",
        ),
    ];
    for (name, text, line, what) in cases {
        let budget = dir.write(name, &text);
        let (code, out, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert_eq!(out, "", "{name}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        let prefix = format!("dhat-kit: {}:{line}: ", budget.display());
        assert!(err.starts_with(&prefix), "{name}: {err}");
        assert!(err.len() > prefix.len() + 10, "{name}: {err}");
        assert!(err.contains(what), "{name}: {err}");
    }
    // A budget file that is not there.
    let missing = dir.0.join("missing.toml");
    let (code, _, err) = check(&fixture("valgrind-heap.json"), &missing, &[]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(&format!(
            "dhat-kit: {}: cannot read the file",
            missing.display()
        )),
        "{err}"
    );
    // A file that is not UTF-8: the line of the first bad byte (it named no line).
    let latin1 = dir.0.join("latin1.toml");
    std::fs::write(
        &latin1,
        b"[[component]]\nname = \"caf\xe9\"\nmatch = { function = \"grow_table\" }\nmax = 10\n",
    )
    .unwrap();
    let (code, _, err) = check(&fixture("valgrind-heap.json"), &latin1, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "dhat-kit: {}:2: not UTF-8 text (byte 0xE9): a budget file is TOML, in UTF-8\n",
            latin1.display()
        )
    );
    // A figure the profile lacks names the line of the component's metric.
    let (budget, code, _, err) = check_written(
        &dir,
        "peak-of-ad-hoc.toml",
        "[[component]]\nname = \"a\"\nmatch = { function = \"main\" }\nmax = 10\nmetric = \"peak-bytes\"\n",
        "valgrind-ad-hoc.json",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.starts_with(&format!(
            "dhat-kit: {}:5: component \"a\": peak-bytes needs a heap profile",
            budget.display()
        )),
        "{err}"
    );
}

#[test]
fn a_component_matching_nothing_warns_and_the_first_match_wins() {
    let dir = TempDir::new("budget", "nothing");
    let budget = dir.write(
        "budgets.toml",
        "[[component]]\nname = \"program\"\nmatch = { function = \"main\" }\nmax = \"100%\"\n\n\
         [[component]]\nname = \"tables\"\nmatch = { function = \"grow_table\" }\nmax = \"1%\"\n\n\
         [[component]]\nname = \"json\"\nmatch = { crate = \"serde_json\" }\nmax = 1\n",
    );
    let (code, out, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
    // `main` is on every stack: "program" claims it all, so "tables" (over 1% otherwise) has
    // nothing, and "json" matches no frame at all. Both are warnings, not failures; the first
    // says its match is right and who took its points.
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "dhat-kit: warning: {b}:6: component \"tables\" (function = \"grow_table\") claims no program point: \
             the earlier component \"program\" (line 1) claimed every one it matches\n\
             dhat-kit: warning: {b}:11: component \"json\" (crate = \"serde_json\") matches no program point\n",
            b = budget.display()
        )
    );
    assert!(row(&out, "program").contains("100.0%"), "{out}");
    assert!(row(&out, "tables").contains(" claimed earlier "), "{out}");
    assert!(row(&out, "json").contains(" matches nothing "), "{out}");
    assert!(
        row(&out, "everything else").trim_start().starts_with("0 B"),
        "{out}"
    );
    assert!(
        out.ends_with("3 of 3 components within budget (1 matching nothing, 1 claimed earlier)\n"),
        "{out}"
    );
}

#[test]
fn strict_fails_on_a_component_that_claims_nothing() {
    let dir = TempDir::new("budget", "strict");
    let idle =
        "[[component]]\nname = \"program\"\nmatch = { function = \"main\" }\nmax = \"100%\"\n\n\
         [[component]]\nname = \"tables\"\nmatch = { function = \"grow_table\" }\nmax = \"1%\"\n\n\
         [[component]]\nname = \"json\"\nmatch = { crate = \"serde_json\" }\nmax = 1\n";
    let budget = dir.write("budgets.toml", idle);
    let profile = fixture("valgrind-heap.json");
    let b = budget.display();

    // Without --strict: 0 (a_component_matching_nothing_warns_and_the_first_match_wins).
    let (code, _, _) = check(&profile, &budget, &[]);
    assert_eq!(code, 0);
    // With it: 1, the two that claim nothing named in the verdict and on stderr's last line.
    let (code, out, err) = check(&profile, &budget, &["--strict"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.ends_with(
            "2 of 3 components claim nothing: tables (claimed earlier), json (matches nothing)\n"
        ),
        "{out}"
    );
    assert!(
        err.ends_with(&format!(
            "dhat-kit: budget components that claim nothing ({b}): tables (claimed earlier), json (matches nothing)\n"
        )),
        "{err}"
    );
    let (code, json, _) = check(&profile, &budget, &["--strict", "--format", "json"]);
    assert_eq!(code, 1, "{json}");
    let v = check_json(&json);
    assert_eq!(
        (&v["passed"], &v["budget"]["passed"]),
        (&false.into(), &false.into())
    );

    // Over and idle: both named.
    let over = dir.write(
        "over.toml",
        &(VALGRIND_BUDGET.replace("\"50%\"", "\"40%\"")
            + "\n[[component]]\nname = \"orm\"\nmatch = { function = \"no_such_fn\" }\nmax = 1\n"),
    );
    let (code, out, err) = check(&profile, &over, &["--strict"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.ends_with(
            "1 of 4 components over budget: tables (7.9 KiB > 40% (6.7 KiB)); 1 claims nothing: orm (matches nothing)\n"
        ),
        "{out}"
    );
    assert!(
        err.ends_with(&format!(
            "dhat-kit: over budget ({}): tables; claiming nothing: orm (matches nothing)\n",
            over.display()
        )),
        "{err}"
    );

    // Every component claiming something: --strict changes nothing.
    let within = dir.write("within.toml", VALGRIND_BUDGET);
    let (code, out, err) = check(&profile, &within, &["--strict"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.ends_with("3 of 3 components within budget\n"), "{out}");

    // The library: strict() fails the same report, and assert_within panics with the table.
    let p = dhat_kit::profile::read(&profile).unwrap();
    let report = Budgets::parse(idle, "budgets.toml")
        .unwrap()
        .check(&p)
        .unwrap();
    assert!(report.passed());
    let strict = report.strict();
    assert!(!strict.passed());
    let panic = std::panic::catch_unwind(|| strict.assert_within()).unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.contains("2 of 3 components claim nothing"), "{text}");
}

#[test]
fn explain_lists_each_components_sites_and_the_frame_that_claimed_them() {
    let dir = TempDir::new("budget", "explain");
    let budget = dir.write("budgets.toml", VALGRIND_BUDGET);
    let (code, out, err) = check(&fixture("valgrind-heap.json"), &budget, &["--explain"]);
    assert_eq!(code, 0, "{out}{err}");
    let explain = out.split_once("\n\n").unwrap().1;
    let lines: Vec<&str> = explain.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("parsing (function = \"parse_tokens\"): "))
        .unwrap_or_else(|| panic!("{explain}"));
    assert_eq!(
        lines[at],
        "parsing (function = \"parse_tokens\"): 2.7 KiB in 2 sites, 2 program points"
    );
    // make_buffer's 1,942 bytes called from parse_tokens count as parsing: the caller's frame
    // claimed them.
    assert_eq!(
        lines[at + 1]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        "1.9 KiB 11.3% make_buffer (alloc_sites.c:13) <- via parse_tokens (alloc_sites.c:21)"
    );
    assert_eq!(
        lines[at + 2]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        "800 B 4.7% parse_tokens (alloc_sites.c:19)"
    );
    let rest = lines
        .iter()
        .position(|l| l.starts_with("everything else (claimed by no component): 300 B in 1 site"))
        .unwrap_or_else(|| panic!("{explain}"));
    assert!(
        lines[rest + 1].ends_with("make_buffer (alloc_sites.c:13)"),
        "{explain}"
    );
}

#[test]
fn a_share_budget_on_an_ad_hoc_profile_uses_its_units() {
    let dir = TempDir::new("budget", "ad-hoc");
    let budget = dir.write(
        "budgets.toml",
        "[[component]]\nname = \"copies\"\nmatch = { function = \"copy_block\" }\nmax = \"40%\"\n\n\
         [[component]]\nname = \"events\"\nmatch = { function = \"grow_table\" }\nmax = 1\nmetric = \"total-blocks\"\n",
    );
    let copies = c_fn("copy_block");
    let (s, rest, total) = sums("valgrind-ad-hoc.json", &[&copies]);
    assert_eq!((s[0], rest, total), (6000, 6038, 12038));
    let (code, out, err) = check(&fixture("valgrind-ad-hoc.json"), &budget, &[]);
    assert_eq!(code, 1, "{out}{err}");
    // 40% of 12,038 units, rounded down: 4,815 units.
    let c = row(&out, "copies");
    assert_eq!(
        c.split_whitespace().collect::<Vec<_>>().join(" "),
        format!(
            "6,000 units {} 40% (4,815 units) OVER total-bytes copies",
            pct(6000, total)
        )
    );
    // One event, grow_table's: within its 1.
    let e = row(&out, "events");
    assert_eq!(
        e.split_whitespace().collect::<Vec<_>>().join(" "),
        "1 0.9% 1 ok total-blocks events"
    );
    assert!(out.contains("everything else (total-bytes)"), "{out}");
    assert!(out.contains("everything else (total-blocks)"), "{out}");
    // A size in bytes does not fit a profile of units.
    let bytes = dir.write(
        "bytes.toml",
        "[[component]]\nname = \"copies\"\nmatch = { function = \"copy_block\" }\nmax = \"8 MiB\"\n",
    );
    let (code, _, err) = check(&fixture("valgrind-ad-hoc.json"), &bytes, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "dhat-kit: {}:4: component \"copies\": max is a size in bytes, but this profile counts units: give a number of units or a share\n",
            bytes.display()
        )
    );
    // Nor a figure of blocks: the line of the size (it named the component's header).
    let blocks = dir.write(
        "blocks.toml",
        "[[component]]\nname = \"tables\"\nmatch = { function = \"grow_table\" }\nmax = \"4 KiB\"\nmetric = \"total-blocks\"\n",
    );
    let (code, _, err) = check(&fixture("valgrind-heap.json"), &blocks, &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        format!(
            "dhat-kit: {}:4: component \"tables\": max is a size in bytes, but total-blocks counts blocks: give a number or a share\n",
            blocks.display()
        )
    );
}

/// A `region` given as a path, as `dhat-kit regions` prints it, claims that region and its
/// sub-regions, the row's inclusive figure (a name claims the region at any depth; a path
/// matched nothing, without a hint). It goes from the outermost region, and alone in its match.
#[test]
fn a_region_path_claims_its_row_of_the_regions_table() {
    let profile = dhat_kit::profile::read(fixture("dhat-kit-peak.json")).unwrap();
    let table = dhat_kit::analyze::regions(&profile).unwrap();
    let inclusive = |path: &str| {
        table
            .rows
            .iter()
            .find(|r| r.name() == path)
            .map(|r| r.inclusive.total_bytes)
            .expect(path)
    };
    let budgets = Budgets::parse(
        "[[component]]\nname = \"child envs\"\n\
         match = { region = \"Interpreter::call_function/Environment::new_child_env\" }\nmax = \"90%\"\n\n\
         [[component]]\nname = \"global env\"\n\
         match = { region = \"Environment::new_global/Environment::new\" }\nmax = \"90%\"\n\n\
         [[component]]\nname = \"not from the root\"\n\
         match = { region = \"Environment::new_child_env/Environment::new\" }\nmax = \"90%\"\n",
        "paths.toml",
    )
    .unwrap();
    let report = budgets.check(&profile).unwrap();
    assert_eq!(
        report.components[0].current,
        inclusive("Interpreter::call_function/Environment::new_child_env")
    );
    // Only the `Environment::new` under `Environment::new_global` (80 bytes), not the one
    // under the child environments.
    assert_eq!(report.components[1].current, 80);
    assert_eq!(inclusive("Environment::new_global/Environment::new"), 80);
    assert_eq!(report.components[2].status, Status::Unmatched);
    assert_eq!(
        report.components[2].suggestion.as_deref(),
        Some("Interpreter::call_function/Environment::new_child_env/Environment::new")
    );
    for (text, says) in [
        (
            "match = { region = \"parse/x\", function = \"parse\" }",
            "dhat-kit: paths.toml:3: component \"p\": region \"parse/x\" is a path of regions",
        ),
        (
            "match = { region = \"parse//x\" }",
            "dhat-kit: paths.toml:3: component \"p\": region \"parse//x\" has an empty name in its path",
        ),
    ] {
        let e = Budgets::parse(
            &format!("[[component]]\nname = \"p\"\n{text}\nmax = \"1%\"\n"),
            "paths.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with(says), "{e}");
    }
}

#[test]
fn library_check_matches_crates_regions_and_asserts() {
    // A Rust heap profile by crate: hashbrown's insert is the only frame of that crate.
    let budgets = Budgets::parse(
        "[[component]]\nname = \"maps\"\nmatch = { crate = \"hashbrown\" }\nmax = \"1 KB\"\n\n\
         [[component]]\nname = \"render\"\nmatch = { path = \"dhat_rs_fixture::render\" }\nmax = \"5%\"\n",
        "rust.toml",
    )
    .unwrap();
    assert_eq!(budgets.components[0].max, Limit::Bytes(1000));
    let profile = dhat_kit::profile::read(fixture("dhat-rs-heap.json")).unwrap();
    let report = budgets.check(&profile).unwrap();
    let maps = |f: &str| f.contains(": hashbrown::");
    let render = |f: &str| f.contains(": dhat_rs_fixture::render ");
    let (s, rest, total) = sums("dhat-rs-heap.json", &[&maps, &render]);
    assert_eq!(total, 17484);
    assert_eq!(report.components[0].current, s[0]);
    assert_eq!(s[0], 972);
    assert_eq!(report.components[0].status, Status::Within);
    assert_eq!(report.components[1].current, s[1]);
    assert_eq!(report.components[1].limit, Some(874)); // 5% of 17,484, rounded down
    assert_eq!(report.components[1].status, Status::Over); // 2,040 > 874
    assert_eq!(report.rest[0].current, rest);
    assert!(!report.passed());
    let panic = std::panic::catch_unwind(|| report.assert_within()).unwrap_err();
    let msg = panic.downcast_ref::<String>().unwrap();
    assert!(
        msg.starts_with("dhat-kit: over the budgets of rust.toml:\n"),
        "{msg}"
    );
    assert!(
        msg.contains("1 of 2 components over budget: render"),
        "{msg}"
    );

    // dhat-kit's peak profile by region: a region claims its own points and its children's.
    let budgets = Budgets::parse(
        "[[component]]\nname = \"child envs\"\nmatch = { region = \"Environment::new_child_env\" }\nmax = \"60%\"\n\n\
         [[component]]\nname = \"calls\"\nmatch = { region = \"Interpreter::call_function\" }\nmax = \"60%\"\n",
        "regions.toml",
    )
    .unwrap();
    let profile = dhat_kit::profile::read(fixture("dhat-kit-peak.json")).unwrap();
    let report = budgets.check(&profile).unwrap();
    let child = |f: &str| f == "region Environment::new_child_env";
    let call = |f: &str| f == "region Interpreter::call_function";
    let (s, rest, total) = sums("dhat-kit-peak.json", &[&child, &call]);
    assert_eq!(total, 213_178);
    assert_eq!(
        (
            report.components[0].current,
            report.components[1].current,
            report.rest[0].current
        ),
        (s[0], s[1], rest)
    );
    assert!(s[0] > 0 && s[1] > 0 && rest > 0);
    report.assert_within();

    // A peak profile keeps what is live at the peak and at the end on its outside point only:
    // a region's peak budget could never fail, so it is refused, naming the metric's line (it
    // named the component's header).
    for metric in ["peak-bytes", "peak-blocks", "end-bytes", "end-blocks"] {
        let budgets = Budgets::parse(
            &format!(
                "[[component]]\nname = \"calls\"\nmatch = {{ region = \"Interpreter::call_function\" }}\n\
                 max = \"10%\"\nmetric = \"{metric}\"\n"
            ),
            "regions.toml",
        )
        .unwrap();
        let e = budgets.check(&profile).unwrap_err();
        assert_eq!(e.line(), Some(5), "{e}");
        assert!(
            e.to_string().contains(&format!(
                "component \"calls\": a dhat-kit peak profile does not give {metric} per region"
            )) && e.to_string().contains("(outside any region)"),
            "{e}"
        );
    }
    // Its own maximum, a total, is per region.
    let max = Budgets::parse(
        "[[component]]\nname = \"calls\"\nmatch = { region = \"Interpreter::call_function\" }\n\
         max = \"100%\"\nmetric = \"max-bytes\"\n",
        "regions.toml",
    )
    .unwrap();
    assert!(max.check(&profile).unwrap().components[0].current > 0);
}

#[test]
fn check_needs_a_baseline_or_a_budget_and_takes_both() {
    let dir = TempDir::new("budget", "both");
    let profile = fixture("valgrind-heap.json");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .arg("check")
            .arg(&profile)
            .args(args)
            .env_remove("CI")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("<--baseline <FILE>|--budget <TOML>>"), "{err}");
    let baseline = dir.0.join("memory-baseline.json");
    let (code, _, err) = run(&[
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--update".as_ref(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Both: the budget table, then the baseline's; one over budget fails the check.
    let over = dir.write(
        "budgets.toml",
        &VALGRIND_BUDGET.replace("\"50%\"", "\"40%\""),
    );
    let (code, out, err) = run(&[
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--budget".as_ref(),
        over.as_os_str(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(row(&out, "tables").contains(" OVER "), "{out}");
    assert!(out.contains("memory baseline `default`"), "{out}");
    assert!(err.contains("dhat-kit: over budget ("), "{err}");
    // Both failing: stderr says each (it said the baseline's alone).
    let recorded = std::fs::read_to_string(&baseline).unwrap();
    let total = recorded
        .split("\"total_bytes\": ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap()
        .to_owned();
    let lowered = recorded.replacen(
        &format!("\"total_bytes\": {total}"),
        &format!("\"total_bytes\": {}", total.parse::<u64>().unwrap() / 2),
        1,
    );
    std::fs::write(&baseline, lowered).unwrap();
    for format in ["table", "markdown", "json"] {
        let (code, out, err) = run(&[
            "--baseline".as_ref(),
            baseline.as_os_str(),
            "--budget".as_ref(),
            over.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains("dhat-kit: over budget ("), "{format}: {err}");
        assert!(
            err.contains("uses more memory than its baseline"),
            "{format}: {err}"
        );
    }
    std::fs::write(&baseline, recorded).unwrap();
    let within = dir.write("within.toml", VALGRIND_BUDGET);
    let (code, out, err) = run(&[
        "--baseline".as_ref(),
        baseline.as_os_str(),
        "--budget".as_ref(),
        within.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 of 3 components within budget\n"), "{out}");
}

#[test]
fn the_allocators_frames_claim_nothing() {
    // Every stack of dhat-rs's profile passes through the `#[global_allocator]` shim,
    // `__rustc::__rust_alloc (main/examples/dhat_rs_fixture.rs:14:15)`, which carries the
    // program's file, and dhat's `Alloc` inside it: neither claims a point.
    let dir = TempDir::new("budget", "allocator");
    let budget = dir.write(
        "budgets.toml",
        "[[component]]\nname = \"fixture\"\nmatch = { file = \"dhat_rs_fixture.rs\" }\nmax = \"91%\"\n\n\
         [[component]]\nname = \"dhat\"\nmatch = { crate = \"dhat\" }\nmax = 0\n",
    );
    let program = |f: &str| f.contains(": dhat_rs_fixture::");
    let (s, rest, total) = sums("dhat-rs-heap.json", &[&program]);
    assert_eq!((s[0], rest, total), (15812, 1672, 17484));
    let report = Budgets::read(&budget)
        .unwrap()
        .check(&dhat_kit::profile::read(fixture("dhat-rs-heap.json")).unwrap())
        .unwrap();
    assert_eq!(report.components[0].current, s[0]);
    assert_eq!(report.components[0].status, Status::Within); // 90.4%: within 91%
    assert_eq!(report.components[1].current, 0);
    assert_eq!(report.rest[0].current, rest);
    let (code, out, err) = check(&fixture("dhat-rs-heap.json"), &budget, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(row(&out, "fixture").contains(&pct(s[0], total)), "{out}");
    assert!(
        err.contains("component \"dhat\" (crate = \"dhat\")"),
        "{err}"
    );
}

#[test]
fn a_crate_with_a_version_is_an_error_naming_the_file_component_and_key() {
    // Frame names carry no version: `hashbrown-0.16.1` would match nothing, silently.
    let dir = TempDir::new("budget", "crate-version");
    let (file, code, out, err) = check_written(
        &dir,
        "budgets.toml",
        "[[component]]\nname = \"maps\"\nmatch = { crate = \"hashbrown-0.16.1\" }\nmax = \"1 KB\"\n",
        "dhat-rs-heap.json",
    );
    assert_eq!(code, 2, "{out}{err}");
    assert_eq!(
        err,
        format!(
            "dhat-kit: {}:3: component \"maps\": bad crate \"hashbrown-0.16.1\" in its match: \
             crate names carry no version: write crate = \"hashbrown\"\n",
            file.display()
        )
    );
    // Cargo's package name, with `-`, is the crate's (`_` in its symbols).
    let (_, code, out, err) = check_written(
        &dir,
        "package.toml",
        "[[component]]\nname = \"fixture\"\nmatch = { crate = \"dhat-rs-fixture\" }\nmax = \"100%\"\n",
        "dhat-rs-heap.json",
    );
    assert_eq!(code, 0, "{out}{err}");
    let program = |f: &str| f.contains(": dhat_rs_fixture::");
    let (s, _, total) = sums("dhat-rs-heap.json", &[&program]);
    assert!(row(&out, "fixture").contains(&pct(s[0], total)), "{out}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn markdown_and_json_carry_the_table_the_verdict_and_the_warnings() {
    let dir = TempDir::new("budget", "formats");
    let budget = VALGRIND_BUDGET.replace("\"50%\"", "\"40%\"")
        + "\n[[component]]\nname = \"<orm>\"\nmatch = { function = \"no_such_fn\" }\nmax = \"1 KiB\"\n";
    let budget = dir.write("budgets.toml", &budget);
    let profile = fixture("valgrind-heap.json");
    let (tables, copies, parsing) = (c_fn("grow_table"), c_fn("copy_block"), c_fn("parse_tokens"));
    let (s, rest, total) = sums("valgrind-heap.json", &[&tables, &copies, &parsing]);

    let (code, md, err) = check(&profile, &budget, &["--format", "markdown"]);
    assert_eq!(code, 1, "{md}{err}");
    // The overall verdict first, naming the profile and the budget file.
    let (head, md) = md.split_once("\n\n").unwrap();
    assert_eq!(
        head,
        format!(
            "**dhat-kit check failed**: `{}` against `{}`",
            profile.display(),
            budget.display()
        )
    );
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(
        lines[0],
        "| current | share | limit | status | metric | component |"
    );
    assert_eq!(
        lines[2],
        format!(
            "| 7.9 KiB | {} | 40% (6.7 KiB) | OVER | total-bytes | tables |",
            pct(s[0], total)
        )
    );
    assert_eq!(
        lines[5],
        "| 0 B | 0.0% | 1.0 KiB | matches nothing | total-bytes | \\<orm\\> |"
    );
    assert!(
        md.contains("\n1 of 4 components over budget: tables (7.9 KiB \\> 40% (6.7 KiB))\n"),
        "{md}"
    );
    assert!(
        md.contains("\n- dhat-kit: warning: ") && md.contains("component \"\\<orm\\>\""),
        "{md}"
    );
    // stderr as in the text format: the warning, then the one failure line.
    assert!(
        err.ends_with(&format!(
            "dhat-kit: over budget ({}): tables\n",
            budget.display()
        )),
        "{err}"
    );

    let (code, json, _) = check(&profile, &budget, &["--format", "json"]);
    assert_eq!(code, 1, "{json}");
    let v = check_json(&json);
    assert_eq!(v["passed"], false);
    assert_eq!(v["baseline"], serde_json::Value::Null);
    let b = &v["budget"];
    assert_eq!(b["passed"], false);
    assert_eq!(b["unit"], "bytes");
    let c = b["components"].as_array().unwrap();
    let names: Vec<&str> = c.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["tables", "copies", "parsing", "<orm>"]);
    let figures: Vec<u64> = c.iter().map(|c| c["current"].as_u64().unwrap()).collect();
    assert_eq!(figures, [s[0], s[1], s[2], 0]);
    let statuses: Vec<&str> = c.iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["over", "within", "within", "unmatched"]);
    assert_eq!(c[0]["max"], serde_json::json!({ "share": 40.0 }));
    assert_eq!(c[0]["limit"], total * 40 / 100);
    assert_eq!(c[1]["max"], serde_json::json!({ "amount": 6000 }));
    assert_eq!(c[2]["max"], serde_json::json!({ "bytes": 4096 }));
    assert_eq!(c[0]["match"], "function = \"grow_table\"");
    assert_eq!(c[0]["total"], total);
    assert_eq!(b["rest"][0]["current"], rest);
    assert_eq!(b["rest"][0]["status"], "unbudgeted");
    assert_eq!(b["warnings"].as_array().unwrap().len(), 1, "{json}");

    // --explain in Markdown: the sites, collapsed under the table, as the table format lists them.
    let (code, md, err) = check(&profile, &budget, &["--format", "markdown", "--explain"]);
    assert_eq!(code, 1, "{err}");
    let (_, sites) = md
        .split_once("\n<details><summary>Sites of each component</summary>\n\n```text\n")
        .unwrap_or_else(|| panic!("{md}"));
    let (_, text, _) = check(&profile, &budget, &["--explain"]);
    let explained = text.split_once("\n\n").unwrap().1;
    assert_eq!(sites, format!("{explained}```\n\n</details>\n"));
    assert!(
        explained.contains("grow_table (alloc_sites.c:33)"),
        "{explained}"
    );
    // In JSON it has no place: bad input, not silently left out.
    let (code, out, err) = check(&profile, &budget, &["--format", "json", "--explain"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("--explain lists sites as text, in the table and Markdown formats"),
        "{err}"
    );

    // Within: 0 in both, and the heading says passed.
    let within = dir.write("within.toml", VALGRIND_BUDGET);
    for format in ["markdown", "json"] {
        let (code, out, err) = check(&profile, &within, &["--format", format]);
        assert_eq!((code, err.as_str()), (0, ""), "{out}");
        if format == "markdown" {
            assert!(out.starts_with("**dhat-kit check passed**: `"), "{out}");
        }
    }
}

#[test]
fn a_misspelt_match_or_metric_says_what_was_likely_meant() {
    let dir = TempDir::new("budget", "typos");
    let one = |key: &str, value: &str| {
        format!("[[component]]\nname = \"c\"\nmatch = {{ {key} = \"{value}\" }}\nmax = \"50%\"\n")
    };
    for (profile, key, typo, meant) in [
        ("valgrind-heap.json", "function", "grow_tabel", "grow_table"),
        (
            "dhat-rs-heap.json",
            "path",
            "dhat_rs_fixtur",
            "dhat_rs_fixture",
        ),
        (
            "dhat-rs-heap.json",
            "crate",
            "dhat_rs_fixtrue",
            "dhat_rs_fixture",
        ),
        (
            "dhat-kit-peak.json",
            "region",
            "Interpreter::cal_function",
            "Interpreter::call_function",
        ),
    ] {
        let budget = dir.write(&format!("{key}.toml"), &one(key, typo));
        let (code, out, err) = check(&fixture(profile), &budget, &[]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            err.contains(&format!(
                "({key} = {typo:?}) matches no program point; did you mean {meant:?}?"
            )),
            "{err}"
        );
        let (_, json, _) = check(&fixture(profile), &budget, &["--format", "json"]);
        let v = check_json(&json);
        assert_eq!(v["budget"]["components"][0]["suggestion"], meant, "{json}");
    }
    // Nothing near: no guess.
    let budget = dir.write("far.toml", &one("function", "serialize_everything"));
    let (_, _, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
    assert!(err.contains("matches no program point\n"), "{err}");
    // A key of the file.
    for (text, typo, meant) in [
        (one("fucntion", "grow_table"), "fucntion", "function"),
        (
            one("function", "grow_table") + "metirc = \"peak-bytes\"\n",
            "metirc",
            "metric",
        ),
    ] {
        let budget = dir.write("key.toml", &text);
        let (code, _, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("unknown field `{typo}`, expected"))
                && err
                    .trim_end()
                    .ends_with(&format!("; did you mean `{meant}`?")),
            "{err}"
        );
    }
    // A metric.
    let budget = dir.write(
        "metric.toml",
        &(one("function", "grow_table") + "metric = \"peak-byte\"\n"),
    );
    let (code, _, err) = check(&fixture("valgrind-heap.json"), &budget, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("unknown metric \"peak-byte\": did you mean \"peak-bytes\"? expected"),
        "{err}"
    );
}
