//! The analyses' edge cases through the command: profiles of different kinds are not diffed,
//! budgets in bytes are whole bytes, and names with control characters keep line-oriented
//! outputs one line per row.
#![cfg(feature = "cli")]

mod support;
use support::{path, run};

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
            line.starts_with("dhat-kit: ") && line.contains("measure different things"),
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
    assert!(line.contains("measure different things"), "{line}");
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
