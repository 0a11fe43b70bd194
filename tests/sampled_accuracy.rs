//! The sampled profile against dhat's exact heap profile of the same run: the interpreter workload
//! (`tests/workload/interp.rs`) at a size that allocates over 500 MiB (`(fib 27)` twice: about
//! 590 MiB), its sites ranked by total bytes.
//!
//! One exact profile, then three sampled sessions at a mean interval of 4 KiB (each draws its own
//! gaps). In each session:
//! - every site holding at least 5% of the exact total is estimated within ±10%;
//! - such a site ranks above every site whose exact figure is more than 10% below its own (a site
//!   the session never sampled ranks last);
//! - the sampled top 10 holds only sites of the exact profile, and every site of 5% or more (unless
//!   ten sites come within 10% of it).
//!
//! Sites of a few KiB (the program's setup) are below one expected sample at this interval: no
//! sampling profiler ranks them, and none of the checks rests on them.
//!
//! The false-failure rate. A block of `s` bytes adds `s^2 (1-p)/p <= s N` to its site's variance at
//! interval `N`, so a site of `B` bytes has a variance of at most `N B`. A site of 5% of 590 MiB
//! expects `B/N` >= 7,550 samples: a relative standard deviation of at most 1.15%, so ±10% is over
//! 8.6 standard deviations (below 1e-17 per check). Two sites `a > 1.1 b` swap only when
//! `est_b - est_a`, of mean `a - b > 0.1 b` and variance at most `N (a + b)`, turns positive: with
//! `a` of 5% or more that is over 6 standard deviations (below 1e-9 per pair). At most 20 sites of
//! 5% and 60 sites in all make 1,200 pairs and 20 estimates per session, so the three sessions fail
//! falsely less than once in 200,000 runs (about 4e-6 at most), well under 1 in 10,000.
//!
//! Its own binary without the test harness (`harness = false`), built with `heap` (dhat's
//! allocator under the counting one) and `sampled`. dhat's crates are optimized in test builds
//! (the workspace's `[profile.dev.package]`), so the exact profile takes about a minute.

dhat_kit::global_allocator!();

#[path = "workload/interp.rs"]
#[allow(dead_code, reason = "the example uses more of it")]
mod interp;

mod common;

use dhat_kit::{Mode, Profiler};
use std::collections::HashMap;
use std::path::Path;

/// The workload: `(fib 27)` twice.
const RUNS: [i64; 2] = [27, 27];
const INTERVAL: u64 = 4096;
const SESSIONS: usize = 3;

fn workload() {
    for size in RUNS {
        std::hint::black_box(interp::run(size));
    }
}

/// The sites of a profile by total bytes, largest first: each program point goes to the first
/// function of the workload's own code on its stack (innermost first), so that the standard
/// library's frames, whose file names dhat writes differently, play no part; points without one
/// (the sampled remainder, the harness) are left out.
fn sites(file: &Path) -> Vec<(String, u64)> {
    let profile = dhat_kit::profile::read(file).unwrap();
    let mut by: HashMap<String, u64> = HashMap::new();
    for pp in &profile.pps {
        let own = pp.fs.iter().find_map(|&f| {
            let text = &profile.ftbl[f as usize];
            let (_, rest) = text.split_once(": ")?;
            let name = rest.split(" (").next()?;
            name.starts_with("sampled_accuracy::interp::")
                .then(|| name.to_owned())
        });
        if let Some(name) = own {
            *by.entry(name).or_default() += pp.tb;
        }
    }
    let mut v: Vec<(String, u64)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn main() {
    if common::nextest_listing("sampled_accuracy") {
        return;
    }
    let exact_file = common::temp("accuracy", "dhat-heap.json");
    let p = Profiler::builder()
        .mode(Mode::Heap)
        .file(&exact_file)
        .trim_backtraces(Some(40))
        .summary(false)
        .build()
        .unwrap();
    workload();
    p.finish().unwrap();
    let exact = sites(&exact_file);
    let total: u64 = exact.iter().map(|s| s.1).sum();
    assert!(total >= 500 << 20, "the workload allocated {total} bytes");
    assert!(exact.len() <= 60, "{exact:?}");
    let big: Vec<&(String, u64)> = exact.iter().filter(|s| s.1 * 20 >= total).collect();
    assert!(big.len() >= 2, "{exact:?}");
    println!(
        "exact profile: {:.0} MiB in {} sites, {} of them 5% or more",
        total as f64 / (1 << 20) as f64,
        exact.len(),
        big.len()
    );
    for round in 0..SESSIONS {
        let file = common::temp("accuracy", &format!("dhat-sampled-{round}.json"));
        let p = Profiler::builder()
            .mode(Mode::Sampled)
            .sample_interval(INTERVAL)
            .file(&file)
            .summary(false)
            .build()
            .unwrap();
        workload();
        p.finish().unwrap();
        let sampled = sites(&file);
        let rank = |site: &str| sampled.iter().position(|s| s.0 == site);
        let estimate = |site: &str| rank(site).map_or(0, |i| sampled[i].1);
        for (site, bytes) in &big {
            let est = estimate(site);
            let err = (est as f64 - *bytes as f64) / *bytes as f64;
            println!(
                "session {round}: {site}: {:.1}% of the total, exact {bytes}, estimate {est} ({:+.2}%)",
                *bytes as f64 * 100.0 / total as f64,
                err * 100.0
            );
            assert!(err.abs() <= 0.10, "{site}: {est} vs {bytes}");
            for (other, other_bytes) in &exact {
                if *bytes as f64 > 1.1 * *other_bytes as f64 {
                    assert!(
                        rank(other).is_none_or(|r| rank(site) < Some(r)),
                        "session {round}: {other} ranks above {site}"
                    );
                }
            }
        }
        let top: Vec<&str> = sampled.iter().take(10).map(|s| s.0.as_str()).collect();
        for site in &top {
            assert!(
                exact.iter().any(|s| s.0 == *site),
                "session {round}: {site} is not a site of the exact profile"
            );
        }
        // A site of 5% or more is in the sampled top 10 when fewer than ten sites come within 10%
        // of it (or above): the others rank below it, as checked above.
        for (site, bytes) in &big {
            let contenders = exact
                .iter()
                .filter(|s| s.1 as f64 * 1.1 >= *bytes as f64)
                .count();
            if contenders <= 10 {
                assert!(
                    top.contains(&site.as_str()),
                    "session {round}: {site} is not in the sampled top 10: {top:?}"
                );
            }
        }
    }
    println!(
        "sampled accuracy: {} sites within 10% and in order in {SESSIONS} sessions",
        big.len()
    );
    let _ = std::fs::remove_dir_all(exact_file.parent().unwrap());
}
