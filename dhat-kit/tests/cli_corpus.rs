//! The command on real profiles of real programs: Valgrind's DHAT run, here and now, on programs a
//! Debian machine has (an interpreter, a sort, a compiler, a database shell, a version-control
//! tool, a second interpreter), in heap mode, and on one of them in copy and ad-hoc modes.
//!
//! For each profile, `summary --json` has the totals Valgrind printed at exit, and `top`, `diff`,
//! `flamegraph` and `check` succeed. On the interpreter's and the compiler's profiles, `top` names
//! their own functions that allocate, not their allocation wrappers (`PyMem_*`, `xmalloc`).
//!
//! Valgrind and the programs come from Debian's packages (`valgrind`, `python3.11-dbg`, `gcc`,
//! `sqlite3`, `git`, `perl`, `coreutils`); `.ci/run` installs them. Where one is missing, the
//! test says which and skips it, except on CI (`CI` set), where a missing one fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dhat_kit::profile::Frame;

mod support;
use support::{ok, printed, run, TempDir};

fn dhat_kit(args: &[&str]) -> Output {
    run(args)
}

/// A program of the corpus: how to run it, and in which Valgrind mode.
struct Run {
    name: &'static str,
    mode: &'static str,
    program: PathBuf,
    args: Vec<String>,
    env: Vec<(&'static str, &'static str)>,
}

fn which(program: &str) -> Option<PathBuf> {
    let path = Path::new(program);
    if path.is_absolute() {
        return path.is_file().then(|| path.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// Debian's GCC compiler proper (`cc1`), which `gcc` runs: the compiler itself, not its driver.
fn cc1() -> Option<PathBuf> {
    let out = Command::new("gcc")
        .arg("-print-prog-name=cc1")
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    path.is_file().then_some(path)
}

fn missing(what: &str) {
    let msg = format!("corpus: {what} is missing (Debian's package installs it; .ci/run does)");
    assert!(std::env::var_os("CI").is_none(), "{msg}");
    println!("{msg}: skipped");
}

/// The corpus, in `dir` (where its inputs are written); `None` for a program the machine lacks.
fn corpus(dir: &Path) -> Vec<Option<Run>> {
    let numbers: String = (0..4000u32)
        .map(|i| format!("{}\n", i.wrapping_mul(2_654_435_761) % 100_000))
        .collect();
    let input = dir.join("numbers.txt");
    std::fs::write(&input, numbers).unwrap();
    let source = dir.join("list.c");
    std::fs::write(
        &source,
        "#include <stdlib.h>\n#include <stdio.h>\n\
         struct node { int v; struct node *next; };\n\
         static struct node *push(struct node *h, int v) {\n\
           struct node *n = malloc(sizeof *n); n->v = v; n->next = h; return n; }\n\
         int main(void) { struct node *h = 0; for (int i = 0; i < 100; i++) h = push(h, i);\n\
           printf(\"%d\\n\", h->v); return 0; }\n",
    )
    .unwrap();
    // The compiler proper takes what the driver's preprocessor made of the file.
    let preprocessed = dir.join("list.i");
    let cpp = Command::new("gcc")
        .arg("-E")
        .arg(&source)
        .arg("-o")
        .arg(&preprocessed)
        .status();
    let compiler = cc1().filter(|_| cpp.is_ok_and(|s| s.success()));
    let s = |x: &str| x.to_owned();
    let path = |p: &Path| p.display().to_string();
    let sort = which("/usr/bin/sort");
    let run = |name, mode, program: Option<PathBuf>, args: Vec<String>, env| {
        program.map(|program| Run {
            name,
            mode,
            program,
            args,
            env,
        })
    };
    let mut runs = vec![
        run(
            "python3.11-dbg",
            "heap",
            which("/usr/bin/python3.11-dbg"),
            vec![
                s("-S"),
                s("-c"),
                s("d = {}\nfor i in range(3000): d[str(i)] = [i] * 3\nprint(len(d))"),
            ],
            // Every object through malloc, where DHAT sees it (pymalloc's arenas are mmap'd).
            vec![("PYTHONMALLOC", "malloc")],
        ),
        run(
            "cc1",
            "heap",
            compiler,
            vec![
                s("-fpreprocessed"),
                s("-quiet"),
                s("-O1"),
                path(&preprocessed),
                s("-o"),
                path(&dir.join("list.s")),
            ],
            vec![],
        ),
        run(
            "sqlite3",
            "heap",
            which("/usr/bin/sqlite3"),
            vec![
                s(":memory:"),
                s("create table t(a, b); \
                   with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) \
                   insert into t select x, hex(randomblob(20)) from c; \
                   create index i on t(b); select count(*) from t;"),
            ],
            vec![],
        ),
        run(
            "git",
            "heap",
            which("/usr/bin/git"),
            vec![s("init"), s("-q"), path(&dir.join("repo"))],
            vec![],
        ),
        run(
            "perl",
            "heap",
            which("/usr/bin/perl"),
            vec![
                s("-e"),
                s("my %h; $h{$_} = [$_] for 1..3000; print scalar(keys %h), \"\\n\""),
            ],
            vec![],
        ),
    ];
    // One program in every mode Valgrind's DHAT has.
    let sort_args = vec![
        s("-n"),
        path(&input),
        s("-o"),
        path(&dir.join("sorted.txt")),
    ];
    for mode in ["heap", "copy", "ad-hoc"] {
        runs.push(run("sort", mode, sort.clone(), sort_args.clone(), vec![]));
    }
    runs
}

/// Runs `run` under Valgrind's DHAT, returning the profile's path and what Valgrind printed.
fn profile(run: &Run, dir: &Path) -> (PathBuf, String) {
    let out_file = dir.join(format!("{}-{}.json", run.name, run.mode));
    let out = Command::new("valgrind")
        .arg("--tool=dhat")
        .arg(format!("--mode={}", run.mode))
        .arg(format!("--dhat-out-file={}", out_file.display()))
        .arg(&run.program)
        .args(&run.args)
        .envs(run.env.iter().copied())
        .current_dir(dir)
        .output()
        .expect("runs valgrind");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && out_file.is_file(),
        "valgrind on {}: {}\n{stderr}",
        run.name,
        out.status
    );
    (out_file, stderr)
}

/// The site of `top`'s first row, as a frame.
fn top_site(file: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["top", file, "-n", "5", "--format", "json"])).unwrap();
    json["rows"][0]["frame"].as_str().unwrap().to_owned()
}

#[test]
fn real_profiles_of_real_programs_read_with_valgrinds_totals() {
    if which("valgrind").is_none() {
        missing("valgrind");
        return;
    }
    let dir = TempDir::new("corpus", "all");
    let mut done = Vec::new();
    for run in corpus(&dir.0) {
        let Some(run) = run else {
            missing("one of the corpus's programs");
            continue;
        };
        let (file, stderr) = profile(&run, &dir.0);
        let f = file.display().to_string();
        let what = format!("{} ({})", run.name, run.mode);

        // The totals Valgrind printed, to the byte.
        let summary: serde_json::Value =
            serde_json::from_str(&ok(&["summary", &f, "--json"])).unwrap();
        let n = |k: &str| summary[k].as_u64();
        let total = printed(&stderr, "Total:").unwrap_or_else(|| panic!("{what}: {stderr}"));
        assert_eq!(
            (n("total_bytes"), n("total_blocks")),
            (Some(total.0), Some(total.1)),
            "{what}"
        );
        if run.mode == "heap" {
            for (label, bytes, blocks) in [
                ("At t-gmax:", "peak_bytes", "peak_blocks"),
                ("At t-end:", "end_bytes", "end_blocks"),
            ] {
                let v = printed(&stderr, label).unwrap();
                assert_eq!(
                    (n(bytes), n(blocks)),
                    (Some(v.0), Some(v.1)),
                    "{what} {label}"
                );
            }
            let reads = printed(&stderr, "Reads:").unwrap().0;
            let writes = printed(&stderr, "Writes:").unwrap().0;
            assert_eq!(
                (n("read_bytes"), n("written_bytes")),
                (Some(reads), Some(writes)),
                "{what}"
            );
        }

        // Every subcommand reads it.
        let table = ok(&["top", &f, "--stack", "3", "--by", "total-blocks"]);
        // An ad-hoc run of a program that records no event has no program point, and says so.
        let empty = dhat_kit::profile::read(&f).unwrap().pps.is_empty();
        let tail = if empty {
            "no sites: the profile has no program points"
        } else {
            " of "
        };
        assert!(table.contains(tail), "{what}: {table}");
        for group in ["function", "file", "crate"] {
            ok(&["top", &f, "--group-by", group]);
        }
        let same = ok(&["diff", &f, &f]);
        assert!(same.contains("no site changed"), "{what}: {same}");
        let svg = dir.0.join(format!("{}-{}.svg", run.name, run.mode));
        ok(&["flamegraph", &f, "-o", &svg.display().to_string()]);
        assert!(
            std::fs::read_to_string(&svg).unwrap().contains("<svg"),
            "{what}"
        );
        let baseline = dir
            .0
            .join(format!("{}-{}-baseline.json", run.name, run.mode));
        std::fs::write(
            &baseline,
            format!(
                "{{\"total_allocations_bytes\": {}, \"allocation_count\": {}}}",
                total.0, total.1
            ),
        )
        .unwrap();
        let args = ["check", &f, "--baseline", &baseline.display().to_string()];
        if run.mode == "ad-hoc" {
            // The seed format's figures are bytes and blocks: an ad-hoc profile's units and
            // events are refused against them, the file left as it was.
            let before = std::fs::read(&baseline).unwrap();
            let out = support::run(&args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what}: {err}");
            assert!(err.contains("holds bytes and blocks;"), "{what}: {err}");
            assert_eq!(std::fs::read(&baseline).unwrap(), before, "{what}");
        } else {
            let checked = ok(&args);
            assert!(checked.contains("total bytes"), "{what}: {checked}");
        }

        match run.name {
            // The interpreter's and the compiler's own functions, not their wrappers.
            "python3.11-dbg" => {
                let site = top_site(&f);
                let frame = Frame::parse(&site);
                assert!(!frame.is_allocator() && !frame.is_unsymbolised(), "{site}");
                assert!(frame.file.is_some_and(|f| f.ends_with(".c")), "{site}");
                let table = ok(&["top", &f, "-n", "5"]);
                assert!(
                    table.contains("new_keys_object") || table.contains("dictresize"),
                    "the dict's growth is a top site: {table}"
                );
                assert!(
                    !table.contains("PyMem_") && !table.contains("_PyObject_Malloc"),
                    "{table}"
                );
            }
            "cc1" => {
                let site = top_site(&f);
                let frame = Frame::parse(&site);
                assert!(!frame.is_allocator() && !frame.is_unsymbolised(), "{site}");
                assert!(frame.object.is_some_and(|o| o.ends_with("/cc1")), "{site}");
                let table = ok(&["top", &f, "-n", "5"]);
                for wrapper in ["xmalloc", "xrealloc", "xcalloc", "ggc_internal_alloc"] {
                    assert!(!table.contains(&format!(" {wrapper} ")), "{table}");
                }
                // Grouped by crate, C++ code goes by binary, not by namespace.
                let crates: serde_json::Value = serde_json::from_str(&ok(&[
                    "top",
                    &f,
                    "--group-by",
                    "crate",
                    "-n",
                    "0",
                    "--format",
                    "json",
                ]))
                .unwrap();
                let names: Vec<&str> = crates["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["site"].as_str().unwrap())
                    .collect();
                assert_eq!(names[0], "cc1", "{names:?}");
                assert!(!names.contains(&"gcc"), "{names:?}");
            }
            "sqlite3" => {
                let site = top_site(&f);
                assert!(!Frame::parse(&site).is_allocator(), "{site}");
                assert!(!site.starts_with("sqlite3Malloc"), "{site}");
            }
            // A stripped binary: the site is its address and binary, with a footnote.
            "sort" if run.mode == "heap" => {
                let table = ok(&["top", &f, "-n", "3"]);
                assert!(table.contains(" (in sort)"), "{table}");
                assert!(table.contains("have no symbols"), "{table}");
                assert!(!table.contains("(below main)"), "{table}");
            }
            _ => {}
        }
        done.push(what);
    }
    println!("corpus: {} profiles read: {}", done.len(), done.join(", "));
    if std::env::var_os("CI").is_some() {
        assert_eq!(done.len(), 8, "{done:?}");
    }
}

/// `--skip` (and `DHAT_KIT_SKIP`, and `--skip-file`) make a program's own wrapper a frame to skip.
#[test]
fn skip_patterns_move_the_site_to_the_wrappers_caller() {
    let Some(perl) = which("/usr/bin/perl") else {
        return missing("perl");
    };
    if which("valgrind").is_none() {
        return missing("valgrind");
    }
    let dir = TempDir::new("corpus", "skip");
    let run = Run {
        name: "perl-skip",
        mode: "heap",
        program: perl,
        args: vec![
            "-e".into(),
            "my @a = map { [$_] } 1..2000; print scalar(@a)".into(),
        ],
        env: vec![],
    };
    let (file, _) = profile(&run, &dir.0);
    let f = file.display().to_string();
    let first = top_site(&f);
    let function = Frame::parse(&first).function.to_owned();
    let skipped = |args: &[&str], env: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dhat-kit"));
        cmd.args(["top", &f, "-n", "50", "--format", "json"])
            .args(args);
        match env {
            Some(v) => cmd.env("DHAT_KIT_SKIP", v),
            None => cmd.env_remove("DHAT_KIT_SKIP"),
        };
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["frame"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let by_flag = skipped(&["--skip", &function], None);
    assert!(
        !by_flag.iter().any(|s| Frame::parse(s).function == function),
        "{by_flag:?}"
    );
    let by_env = skipped(&[], Some(&format!("no_such_fn; {function}")));
    assert_eq!(by_env, by_flag);
    let list = dir.0.join("skip.txt");
    std::fs::write(&list, format!("# the program's wrappers\n{function}\n")).unwrap();
    let by_file = skipped(&["--skip-file", &list.display().to_string()], None);
    assert_eq!(by_file, by_flag);
    // A missing list is bad input, named.
    let out = dhat_kit(&["top", &f, "--skip-file", "/nonexistent/skip.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/skip.txt"));
}
