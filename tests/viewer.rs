//! Every profile each built mode writes loads in Valgrind's own viewer (`dh_view.html`, in headless
//! Chromium, through `../shared/tools/dhview-check`), with totals equal to the kit's own figures.
//!
//! Its own binary without the test harness (`harness = false`): one thread, so the process's
//! figures are exactly the workload's. Where Chromium or the check tool is missing it says it was
//! skipped (CI installs Chromium, so there it runs).

dhat_kit::global_allocator!();

mod common;

use dhat_kit::{Mode, Profiler, Stats};
use std::hint::black_box;
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
use std::path::Path;
#[cfg(feature = "heap")]
use std::process::Command;

/// A workload with regions; what it returns stays live.
fn workload() -> Vec<String> {
    dhat_kit::region!("viewer-load");
    let mut kept = Vec::with_capacity(64);
    for i in 1..=50 {
        dhat_kit::region!("viewer-step");
        kept.push("x".repeat(i * 10));
        black_box(vec![0u8; 1000]);
    }
    kept
}

fn check_peak() -> bool {
    let file = common::temp("viewer", "dhat-peak.json");
    let p = Profiler::builder()
        .mode(Mode::Peak)
        .file(&file)
        .summary(false)
        .build()
        .unwrap();
    let kept = workload();
    let kit: Stats = p.stats().expect("a peak session's figures");
    p.finish().unwrap();
    let Some(v) = common::view(&file) else {
        return false;
    };
    assert!(v.contains("Mode:    dhat-kit-peak"), "{v}");
    assert_eq!(
        common::viewer_figures(&v, "Total:"),
        (kit.total_bytes, kit.total_blocks),
        "{v}"
    );
    assert_eq!(
        common::viewer_figures(&v, "At t-gmax:"),
        (kit.max_bytes, kit.max_blocks),
        "{v}"
    );
    assert_eq!(
        common::viewer_figures(&v, "At t-end:"),
        (kit.curr_bytes, kit.curr_blocks),
        "{v}"
    );
    drop(kept);
    true
}

#[cfg(feature = "heap")]
fn check_heap() {
    let file = common::temp("viewer", "dhat-heap.json");
    let p = Profiler::builder()
        .mode(Mode::Heap)
        .file(&file)
        .build()
        .unwrap();
    let (kept, kit) = dhat_kit::measure(workload);
    p.finish().unwrap();
    let v = common::view(&file).expect("the tools were found for the peak profile");
    assert!(v.contains("Mode:    rust-heap"), "{v}");
    assert_eq!(
        common::viewer_figures(&v, "Total:"),
        (kit.total_bytes, kit.total_blocks),
        "{v}"
    );
    assert_eq!(
        common::viewer_figures(&v, "At t-gmax:"),
        (kit.max_bytes, kit.max_blocks),
        "{v}"
    );
    assert_eq!(
        common::viewer_figures(&v, "At t-end:"),
        (kit.curr_bytes, kit.curr_blocks),
        "{v}"
    );
    assert_stacks_start_at_the_caller(&file);
    drop(kept);
    println!("viewer check: heap profile ok, its stacks start at the caller");
}

/// Every point's first frame, as the viewer lists it (`#1:`, or `^1:` where the parent shares
/// it), is the caller's code: not dhat's or dhat-kit's allocator, nor, in an ad-hoc profile, the
/// region's guard that recorded the event and std's thread-local access it goes through.
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
fn assert_stacks_start_at_the_caller(file: &Path) {
    let text = viewer_text(file).expect("the tools were found for the peak profile");
    let firsts: Vec<&str> = text
        .lines()
        .map(|l| l.trim_start_matches(|c: char| c.is_whitespace() || "│├└─".contains(c)))
        .filter(|l| l.starts_with("#1: ") || l.starts_with("^1: "))
        .collect();
    assert!(firsts.len() >= 2, "{text}");
    for line in &firsts {
        for kit in [
            "dhat-0.",
            "dhat-kit/src/",
            "dhat_kit::",
            "dhat::",
            "__rust_alloc",
            "LocalKey",
            "drop_in_place",
        ] {
            assert!(
                !line.contains(kit),
                "a kit frame first in the viewer: {line}"
            );
        }
    }
}

/// The text of the viewer's page once it has loaded `file`, as a person reads it (the tree of
/// program points with their frames), or `None` where its tools are missing. The page is
/// Valgrind's own `dh_view.html`, fed the file through its file input, as `dhview-check` does.
#[cfg(any(feature = "heap", feature = "ad-hoc"))]
fn viewer_text(file: &Path) -> Option<String> {
    let view = [
        "/usr/libexec/valgrind",
        "/usr/lib/valgrind",
        "/usr/local/libexec/valgrind",
    ]
    .iter()
    .map(Path::new)
    .find(|d| d.join("dh_view.html").is_file())?;
    let dir = common::temp("viewer", "dom");
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["dh_view.html", "dh_view.js", "dh_view.css"] {
        std::fs::copy(view.join(f), dir.join(f)).unwrap();
    }
    let data = std::fs::read_to_string(file).unwrap();
    std::fs::write(
        dir.join("data.js"),
        format!(
            "const DHAT_DATA_TEXT = {};\n\
             function autoload() {{ const dt = new DataTransfer(); \
             dt.items.add(new File([DHAT_DATA_TEXT], 'profile.json', {{ type: 'application/json' }})); \
             gInput.files = dt.files; gInput.dispatchEvent(new Event('change')); }}\n",
            serde_json::to_string(&data).unwrap()
        ),
    )
    .unwrap();
    let html = std::fs::read_to_string(dir.join("dh_view.html"))
        .unwrap()
        .replace(
            "<script src=\"dh_view.js\"></script>",
            "<script src=\"dh_view.js\"></script><script src=\"data.js\"></script>",
        )
        .replace("onload=\"onLoad()\"", "onload=\"onLoad(); autoload();\"");
    std::fs::write(dir.join("autoload.html"), html).unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg(format!("file://{}", dir.join("autoload.html").display()))
        .output()
        .ok()?;
    let dom = String::from_utf8_lossy(&out.stdout);
    // The text between tags, with the few entities the viewer writes.
    let mut text = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        .replace("&nbsp;", " ");
    std::fs::remove_dir_all(&dir).ok();
    text.contains("Invocation").then_some(text)
}

#[cfg(feature = "ad-hoc")]
fn check_ad_hoc() {
    let sums = || {
        let r = dhat_kit::regions();
        let events: u64 = r.iter().map(|r| r.entries).sum();
        let units: u64 = r.iter().map(|r| r.inclusive.total_bytes).sum();
        (units, events)
    };
    let file = common::temp("viewer", "dhat-ad-hoc.json");
    let p = Profiler::builder()
        .mode(Mode::AdHoc)
        .file(&file)
        .build()
        .unwrap();
    let before = sums();
    let kept = workload();
    let after = sums();
    p.finish().unwrap();
    let v = common::view(&file).expect("the tools were found for the peak profile");
    assert!(v.contains("Mode:    rust-ad-hoc"), "{v}");
    // One event per region exit, weighted by the bytes allocated inside.
    assert_eq!(
        common::viewer_figures(&v, "Total:"),
        (after.0 - before.0, after.1 - before.1),
        "{v}"
    );
    assert_eq!(after.1 - before.1, 51);
    assert_stacks_start_at_the_caller(&file);
    drop(kept);
    println!("viewer check: ad-hoc profile ok");
}

fn main() {
    if common::nextest_listing("viewer") {
        return;
    }
    // Warm up: a region's first entry registers its path (bookkeeping dhat would see).
    drop(workload());
    if !check_peak() {
        println!("viewer: 0 passed, 0 failed, 1 skipped");
        return;
    }
    println!("viewer check: peak profile ok");
    #[cfg(feature = "heap")]
    check_heap();
    #[cfg(feature = "ad-hoc")]
    check_ad_hoc();
    println!("viewer: 1 passed, 0 failed");
}
