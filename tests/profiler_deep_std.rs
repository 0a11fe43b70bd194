//! A heap profile's sites when the standard library's chain from the caller to the allocator is
//! deeper than the frames asked for: `s += &format!(..)` reaches the allocator through 24 frames
//! of std (9 physical ones) in a debug build, a `BTreeMap` insert that splits a node through 12
//! physical ones. `trim_backtraces(Some(n))` keeps those and `n` frames from the caller's on, so
//! the caller is the site, not `Vec::extend_from_slice` or `Option::map_or_else`.
#![cfg(feature = "heap")]

dhat_kit::global_allocator!();

mod common;

use dhat_kit::analyze::{top, TopOptions};
use dhat_kit::profile::Frame;
use dhat_kit::{Mode, Profiler};
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

/// The trial's workload: a string built from formatted pieces.
#[inline(never)]
fn render(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s += &format!("{i}");
    }
    s
}

/// Growth of std's collections with the program's own types, whose code a debug build compiles
/// in the program (a frame for each of std's functions).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Point {
    x: u64,
    name: Option<Box<str>>,
}

#[inline(never)]
fn index(n: u64) -> (HashMap<String, Point>, BTreeMap<u64, Point>, Vec<Point>) {
    let (mut by_name, mut by_x, mut all) = (HashMap::new(), BTreeMap::new(), Vec::new());
    for x in 0..n {
        let p = Point { x, name: None };
        by_name.insert(black_box(x).to_string(), p.clone());
        by_x.insert(black_box(x), p.clone());
        all.extend_from_slice(&[p]);
    }
    (by_name, by_x, all)
}

/// What `f` allocated on this thread, in a heap profile of its own (`trim` given to the builder
/// when it is `Some`), and the profile.
fn profile_of<R>(
    name: &str,
    trim: Option<Option<usize>>,
    f: impl FnOnce() -> R,
) -> (u64, dhat_kit::profile::Profile) {
    let file = common::temp("profiler_deep_std", &format!("{name}.json"));
    let mut builder = Profiler::builder().mode(Mode::Heap).file(&file);
    if let Some(trim) = trim {
        builder = builder.trim_backtraces(trim);
    }
    let p = builder.build().unwrap();
    let (out, stats) = dhat_kit::measure(f);
    drop(black_box(out));
    p.finish().unwrap();
    (stats.total_bytes, dhat_kit::profile::read(&file).unwrap())
}

/// The rows of `dhat-kit top` (all of them): site and total bytes.
fn rows(profile: &dhat_kit::profile::Profile) -> Vec<(String, u64)> {
    let mut opts = TopOptions::default();
    opts.n = 0;
    let t = top(profile, &opts).unwrap();
    t.rows.into_iter().map(|r| (r.site, r.value)).collect()
}

/// The bytes of the rows whose site is in `function`: `function (file:line)`, or `function`
/// alone in a build without debug info.
fn site_bytes(rows: &[(String, u64)], function: &str) -> u64 {
    rows.iter()
        .filter(|(site, _)| site == function || site.starts_with(&format!("{function} (")))
        .map(|(_, bytes)| bytes)
        .sum()
}

#[test]
fn with_the_default_trim_the_site_of_format_is_the_caller() {
    let (allocated, profile) = profile_of("render", None, || render(black_box(3000)));
    assert!(allocated > 10_000);
    let rows = rows(&profile);
    assert_eq!(
        site_bytes(&rows, "profiler_deep_std::render"),
        allocated,
        "{rows:#?}"
    );
}

#[test]
fn one_frame_asked_for_is_the_callers_below_all_of_std() {
    let (allocated, profile) = profile_of("index", Some(Some(1)), || index(black_box(2000)));
    let mut reached = 0;
    for pp in &profile.pps {
        let frames: Vec<Frame<'_>> = pp
            .fs
            .iter()
            .map(|&f| Frame::parse(&profile.ftbl[f as usize]))
            .collect();
        let names: Vec<&str> = frames.iter().map(|f| f.function).collect();
        let Some(at) = names.iter().position(|n| n.ends_with("::index")) else {
            continue;
        };
        // std's frames, then the caller's, and no more.
        assert_eq!(at, frames.len() - 1, "{names:?}");
        assert!(frames[..at].iter().all(Frame::is_boring), "{names:?}");
        reached += pp.tb;
    }
    assert_eq!(reached, allocated);
    let rows = rows(&profile);
    assert_eq!(
        site_bytes(&rows, "profiler_deep_std::index"),
        allocated,
        "{rows:#?}"
    );
}
