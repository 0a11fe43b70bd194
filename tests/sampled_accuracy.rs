//! The sampled profile against dhat's exact heap profile of the same run: the interpreter workload
//! (`tests/workload/interp.rs`), its sites ranked by total bytes.
//!
//! Three sampled sessions (each draws its own gaps) are checked against one exact profile: every
//! site holding at least 5% of the bytes is among the sampled top sites, in the exact order where
//! the exact figures differ by more than 10%, and each estimate is within ±10% of the exact figure.
//!
//! The false-failure rate: a block of `s` bytes adds `s^2 (1-p)/p <= s N` to its site's variance
//! at interval `N`, so a site of `B` bytes has a relative standard deviation of at most
//! `sqrt(N/B)`. The run allocates about 10.3 MiB (`(fib 20)`); at a 128-byte interval a site
//! holding 5% of it has one of at most 1.6%. ±10% is then over 6 standard deviations (below 2e-9
//! per check), and two sites 10% apart swap only when their errors differ by 10%, over 4.4 standard
//! deviations of the difference (below 1e-5 per pair, normal approximation). Nine estimates and
//! at most six ordered pairs in three sessions: a false failure less than once in 10,000 runs
//! (about 6e-5 at most).
//!
//! Its own binary without the test harness (`harness = false`), built with `heap` (dhat's
//! allocator under the counting one) and `sampled`.

dhat_kit::global_allocator!();

#[path = "workload/interp.rs"]
#[allow(dead_code, reason = "the example uses more of it")]
mod interp;

use dhat_kit::{Mode, Profiler};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const SIZE: i64 = 20;
const INTERVAL: u64 = 128;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dhat-kit-accuracy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
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
    let exact_file = temp("dhat-heap.json");
    let p = Profiler::builder()
        .mode(Mode::Heap)
        .file(&exact_file)
        .trim_backtraces(Some(40))
        .build()
        .unwrap();
    std::hint::black_box(interp::run(SIZE));
    p.finish().unwrap();
    let exact = sites(&exact_file);
    let total: u64 = exact.iter().map(|s| s.1).sum();
    let big: Vec<&(String, u64)> = exact.iter().filter(|s| s.1 * 20 >= total).collect();
    assert!(big.len() >= 2, "{exact:?}");
    for round in 0..3 {
        let file = temp(&format!("dhat-sampled-{round}.json"));
        let p = Profiler::builder()
            .mode(Mode::Sampled)
            .sample_interval(INTERVAL)
            .file(&file)
            .summary(false)
            .build()
            .unwrap();
        std::hint::black_box(interp::run(SIZE));
        p.finish().unwrap();
        let sampled = sites(&file);
        let rank = |site: &str| sampled.iter().position(|s| s.0 == site);
        for (site, bytes) in &big {
            let est = rank(site).map_or(0, |i| sampled[i].1);
            let err = (est as f64 - *bytes as f64) / *bytes as f64;
            println!(
                "session {round}: {site}: exact {bytes}, estimate {est} ({:+.1}%)",
                err * 100.0
            );
            assert!(err.abs() <= 0.10, "{site}: {est} vs {bytes}");
        }
        for pair in big.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.1 as f64 > 1.1 * b.1 as f64 {
                assert!(
                    rank(&a.0) < rank(&b.0),
                    "{} ranks below {} in session {round}",
                    a.0,
                    b.0
                );
            }
        }
    }
    println!(
        "sampled accuracy: {} sites within 10% in 3 sessions",
        big.len()
    );
}
