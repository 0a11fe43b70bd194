//! What a profile costs while it records: the interpreter workload and allocator workloads under
//! `System` alone, dhat-kit's counting allocator (`peak`: no session), dhat-kit's sampled profile
//! at the default interval, and dhat's heap profiler, in one run.
//!
//! The interpreter (`tests/workload/interp.rs`) runs through this binary's global allocator, which
//! forwards to the allocator of the row being timed; the allocator rows call each allocator's
//! `GlobalAlloc` methods directly, as `alloc_overhead` does. Rounds alternate between the rows to
//! spread the machine's noise evenly, and the best round of each counts; the last four columns
//! are the medians of the rounds' own ratios, steadier where the machine's speed drifts between
//! rounds, the last of them `System` against a second `System` run beside it (the run's
//! resolution). Sessions start and end outside the timed part: the time to write the file (for the
//! sampled profile, resolving its symbols) is printed on its own. Run with
//! `cargo bench --bench profile_overhead --features sampled`; words after `--` keep only the rows
//! whose name holds one of them (`accuracy` names the accuracy tables).
//! The peers (Datadog's and pprof-alloc's sampling allocators) are measured by `benches/peers`, a
//! package of its own, so that their builds stay out of the suite's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::{Duration, Instant};

#[path = "support/workloads.rs"]
mod workloads;

#[path = "support/rows.rs"]
mod rows;
use rows::Rows;

#[path = "support/order.rs"]
mod order;
use order::order;

#[path = "../tests/workload/interp.rs"]
#[allow(dead_code, reason = "the example uses more of it")]
mod interp;

static KIT: dhat_kit::Alloc = dhat_kit::Alloc::new();
static DHAT: dhat::Alloc = dhat::Alloc;

/// The allocator the global one forwards to: 0 `System`, 1 dhat-kit, 2 dhat.
static ROUTE: AtomicU8 = AtomicU8::new(1);

/// The global allocator: forwards to the row's allocator. Every block comes from `System` in the
/// end, so a block may be freed under another route than the one it was allocated under.
struct Route;

// SAFETY: every method forwards to one of three allocators, each of which upholds the
// `GlobalAlloc` contract and hands out `System`'s blocks, so any of them may free or grow a block
// another handed out.
unsafe impl GlobalAlloc for Route {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            match ROUTE.load(Relaxed) {
                0 => System.alloc(l),
                1 => KIT.alloc(l),
                _ => DHAT.alloc(l),
            }
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            match ROUTE.load(Relaxed) {
                0 => System.dealloc(p, l),
                1 => KIT.dealloc(p, l),
                _ => DHAT.dealloc(p, l),
            }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        unsafe {
            match ROUTE.load(Relaxed) {
                0 => System.realloc(p, l, n),
                1 => KIT.realloc(p, l, n),
                _ => DHAT.realloc(p, l, n),
            }
        }
    }
}

#[global_allocator]
static GLOBAL: Route = Route;

const PAIRS: usize = 1_000_000;
const REALLOCS: usize = 1_000_000;
const ROUNDS: usize = 31;
/// dhat's rows take seconds each: fewer rounds of them.
const DHAT_ROUNDS: usize = 2;
/// The interpreter's size: `(fib 23)`, about 23 MiB allocated in 1.3 million blocks.
const SIZE: i64 = 23;

/// The rows: what runs the workload and how a session is set up around it.
#[derive(Clone, Copy, PartialEq)]
enum Row {
    System,
    Peak,
    Sampled,
    Dhat,
    /// `System` again, run beside the first in every round: the ratio of the two is the run's
    /// resolution (the `S/S` median).
    SystemAgain,
}

const ROWS: [Row; 5] = [
    Row::System,
    Row::Peak,
    Row::Sampled,
    Row::Dhat,
    Row::SystemAgain,
];

/// A file of this process's own for a profile named `name`, a new one each call (a session
/// that replaced an earlier session's file would say so, each time, and another run of this
/// benchmark would write over this one's): `profile-overhead-PID-N-NAME.json` in the temporary
/// directory.
fn own_file(name: &str) -> std::path::PathBuf {
    static FILES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = FILES.fetch_add(1, Relaxed);
    std::env::temp_dir().join(format!(
        "profile-overhead-{}-{n}-{name}.json",
        std::process::id()
    ))
}

/// A session of `row` around `work`, timed without its start and end; and the end's time.
fn session(row: Row, work: &dyn Fn()) -> (Duration, Duration) {
    match row {
        Row::System | Row::SystemAgain | Row::Peak => {
            ROUTE.store(if row == Row::Peak { 1 } else { 0 }, Relaxed);
            let start = Instant::now();
            work();
            let t = start.elapsed();
            ROUTE.store(1, Relaxed);
            (t, Duration::ZERO)
        }
        Row::Sampled => {
            ROUTE.store(1, Relaxed);
            let file = own_file("sampled");
            let p = dhat_kit::Profiler::builder()
                .mode(dhat_kit::Mode::Sampled)
                .file(&file)
                .summary(false)
                .build()
                .expect("the sampled session starts");
            let start = Instant::now();
            work();
            let t = start.elapsed();
            let end = Instant::now();
            p.finish().expect("the sampled profile is written");
            let e = end.elapsed();
            let _ = std::fs::remove_file(&file);
            (t, e)
        }
        Row::Dhat => {
            ROUTE.store(2, Relaxed);
            let file = own_file("dhat");
            let p = dhat::Profiler::builder().file_name(&file).build();
            let start = Instant::now();
            work();
            let t = start.elapsed();
            let end = Instant::now();
            drop(p);
            let e = end.elapsed();
            let _ = std::fs::remove_file(&file);
            ROUTE.store(1, Relaxed);
            (t, e)
        }
    }
}

/// The allocator workloads.
#[derive(Clone, Copy)]
enum Work {
    Pairs64,
    Pairs,
    Reallocs,
}

/// `work` against the allocator of `row` (its `GlobalAlloc` methods called directly) on `n`
/// threads at once.
fn threads(n: usize, work: Work) -> impl Fn(Row) {
    move |row| {
        std::thread::scope(|s| {
            for _ in 0..n {
                s.spawn(move || on(row, work));
            }
        });
    }
}

fn on(row: Row, work: Work) {
    fn run<A: GlobalAlloc>(a: &A, work: Work) {
        match work {
            Work::Pairs64 => workloads::pairs64(a, PAIRS, false),
            Work::Pairs => workloads::pairs(a, PAIRS),
            Work::Reallocs => workloads::reallocs(a, REALLOCS),
        }
    }
    match row {
        Row::System | Row::SystemAgain => run(&System, work),
        Row::Peak | Row::Sampled => run(&KIT, work),
        Row::Dhat => run(&DHAT, work),
    }
}

fn main() {
    // `cargo bench --bench profile_overhead --features sampled -- realloc` runs the rows whose
    // name holds "realloc"; `-- accuracy` the accuracy tables alone.
    let Some(rows) = Rows::from_args() else {
        return;
    };
    let wanted = |name: &str| rows.wanted(name);
    type Case = (&'static str, Box<dyn Fn(Row)>);
    let cases: Vec<Case> = vec![
        (
            "interpreter (fib 23)",
            Box::new(|_| {
                black_box(interp::run(SIZE));
            }),
        ),
        (
            "64-byte pairs, 1 thread",
            Box::new(threads(1, Work::Pairs64)),
        ),
        (
            "64-byte pairs, 2 threads",
            Box::new(threads(2, Work::Pairs64)),
        ),
        ("mixed pairs, 1 thread", Box::new(threads(1, Work::Pairs))),
        (
            "realloc-heavy, 1 thread",
            Box::new(threads(1, Work::Reallocs)),
        ),
    ];
    println!(
        "{:<26} {:>10} {:>10} {:>10} {:>11} {:>8} {:>9} {:>8} {:>9}   medians: peak/S sampled/S smp/peak S/S",
        "case",
        "System",
        "peak",
        "sampled",
        "dhat heap",
        "peak/S",
        "sampled/S",
        "smp/peak",
        "dhat/S",
    );
    let mut ends = Duration::ZERO;
    for (name, case) in cases.iter().filter(|(name, _)| wanted(name)) {
        let mut best = [Duration::MAX; 5];
        // Each round's own ratios (peak/S, sampled/S, sampled/peak, S/S), for their medians.
        let mut paired = [[0.0; 4]; ROUNDS];
        for (round, ratios) in paired.iter_mut().enumerate() {
            let mut times = [Duration::ZERO; 5];
            for i in order::<{ ROWS.len() }>(round) {
                let row = ROWS[i];
                if row == Row::Dhat && round >= DHAT_ROUNDS {
                    continue;
                }
                let (t, end) = session(row, &|| case(row));
                times[i] = t;
                best[i] = best[i].min(t);
                if row == Row::Sampled {
                    ends = ends.max(end);
                }
            }
            let [system, peak, sampled, _, again] = times.map(|t| t.as_secs_f64());
            *ratios = [
                peak / system,
                sampled / system,
                sampled / peak,
                again / system,
            ];
        }
        let medians: [f64; 4] = std::array::from_fn(|column| {
            let mut column = paired.map(|ratios| ratios[column]);
            column.sort_by(f64::total_cmp);
            column[ROUNDS / 2]
        });
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let r = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
        println!(
            "{:<26} {:>10} {:>10} {:>10} {:>11} {:>7.2}x {:>8.2}x {:>7.2}x {:>8.1}x   {:.2}x {:.2}x {:.2}x {:.2}x",
            name,
            ms(best[0]),
            ms(best[1]),
            ms(best[2]),
            ms(best[3]),
            r(best[1], best[0]),
            r(best[2], best[0]),
            r(best[2], best[1]),
            r(best[3], best[0]),
            medians[0],
            medians[1],
            medians[2],
            medians[3],
        );
    }
    println!(
        "the sampled session's end (symbols resolved, file written): at most {:.1} ms",
        ends.as_secs_f64() * 1e3
    );
    if wanted("accuracy") {
        accuracy();
    }
}

/// The sampled profile's top 10 sites by total bytes against dhat's exact heap profile of the same
/// run: the interpreter at `(fib PROFILE_OVERHEAD_ACCURACY_SIZE)` twice (default 27: about
/// 590 MiB in all, as `tests/sampled_accuracy.rs` runs it), at the default interval and at 4 KiB,
/// three sessions each.
fn accuracy() {
    use dhat_kit::analyze::{top, Skip, TopOptions};
    let size: i64 = std::env::var("PROFILE_OVERHEAD_ACCURACY_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(27);
    let work = || {
        for _ in 0..2 {
            black_box(interp::run(size));
        }
    };
    let exact_file = own_file("accuracy-dhat");
    ROUTE.store(2, Relaxed);
    let p = dhat::Profiler::builder().file_name(&exact_file).build();
    work();
    drop(p);
    ROUTE.store(1, Relaxed);
    let mut opts = TopOptions::default();
    (opts.n, opts.skip) = (0, Skip::new().with("*Route*"));
    let rows = |file: &std::path::Path| -> Vec<(String, u64)> {
        let mut profile = dhat_kit::profile::read(file).expect("the profile reads");
        profile.trim_allocator_frames();
        // Ranked among the sites: the sampled file's remainder point (what sampling did not see,
        // with everything the process allocated before the session) is no site.
        top(&profile, &opts)
            .expect("top")
            .rows
            .into_iter()
            .filter(|r| !r.site.starts_with("[unsampled remainder]"))
            .map(|r| (r.site, r.value))
            .collect()
    };
    let exact = rows(&exact_file);
    let _ = std::fs::remove_file(&exact_file);
    let total: u64 = exact.iter().map(|r| r.1).sum();
    for interval in [dhat_kit::sample_interval_default(), 4 * 1024] {
        let runs: Vec<Vec<(String, u64)>> = (0..3)
            .map(|i| {
                let file = own_file(&format!("accuracy-{i}"));
                let p = dhat_kit::Profiler::builder()
                    .mode(dhat_kit::Mode::Sampled)
                    .sample_interval(interval)
                    .file(&file)
                    .summary(false)
                    .build()
                    .expect("the sampled session starts");
                work();
                p.finish().expect("the sampled profile is written");
                let rows = rows(&file);
                let _ = std::fs::remove_file(&file);
                rows
            })
            .collect();
        println!(
            "\naccuracy: (fib {size}) twice, {:.0} MiB; sampled at {} KiB against dhat's exact figures",
            total as f64 / (1 << 20) as f64,
            interval / 1024
        );
        println!(
            "{:<4} {:>12} {:>6}  {:>22} {:>22} {:>22}  site",
            "#", "exact", "share", "sampled 1", "sampled 2", "sampled 3"
        );
        for (i, (site, bytes)) in exact.iter().take(10).enumerate() {
            print!(
                "{:<4} {:>12} {:>5.1}%",
                i + 1,
                bytes,
                100.0 * *bytes as f64 / total as f64
            );
            for run in &runs {
                let (rank, est) = run
                    .iter()
                    .enumerate()
                    .find(|(_, r)| r.0 == *site)
                    .map_or((0, 0), |(k, r)| (k + 1, r.1));
                let err = 100.0 * (est as f64 - *bytes as f64) / *bytes as f64;
                print!("  {est:>10} #{rank:<2} {err:>+6.1}%");
            }
            println!("  {site}");
        }
    }
}
