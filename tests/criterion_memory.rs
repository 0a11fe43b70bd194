//! dhat_kit::criterion in a real criterion run: this test runs itself as a child process that
//! benchmarks known workloads with `AllocatedBytes`, `AllocatedBlocks` and `PeakBytes` (short
//! warm-up and measurement times), and checks the figures criterion prints: exactly the known
//! bytes, blocks and peak per iteration, 0 for code that allocates nothing, and criterion's
//! comparison with the baseline the first run saved.

mod common;

dhat_kit::global_allocator!();

use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, SamplingMode};
use dhat_kit::criterion::{
    per_iteration, per_iteration_with_input, per_iteration_with_ref, AllocatedBlocks,
    AllocatedBytes, PeakBytes,
};
use std::hint::black_box;
use std::process::Command;
use std::time::Duration;

const CHILD: &str = "DHAT_KIT_CRITERION_CHILD";

fn config<M: Measurement>(m: M) -> Criterion<M> {
    Criterion::default()
        .with_measurement(m)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_millis(200))
        .sample_size(10)
        .without_plots()
}

/// 4 KiB in one block, 3 strings of 5 bytes and their Vec (3 × 24 bytes): 4,183 bytes in 5
/// blocks, all freed at the end, so the peak is all of it at once.
fn workload() -> usize {
    let buffer = vec![0u8; 4096];
    let words: Vec<String> = ["alpha", "bravo", "delta"]
        .iter()
        .map(|w| (*w).to_owned())
        .collect();
    buffer.len() + words.len()
}

/// Sums a slice: no allocation.
fn sum(xs: &[u64]) -> u64 {
    xs.iter().sum()
}

fn child() {
    let xs: Vec<u64> = (0..1000).collect();
    let mut c = config(AllocatedBytes);
    c.bench_function("alloc/workload", |b| b.iter(|| black_box(workload())));
    c.bench_function("alloc/buffer", |b| b.iter(|| vec![0u8; 4096]));
    // The setup's 256 bytes per input are allocated outside the measurement (in batches, with
    // criterion's own Vec of inputs); only the routine's 1.5 KiB is counted.
    c.bench_function("alloc/batched", |b| {
        b.iter_batched(
            || vec![0u8; 256],
            |input| vec![0u64; input.len() - 64],
            BatchSize::SmallInput,
        )
    });
    c.bench_function("alloc/sum", |b| b.iter(|| sum(black_box(&xs))));
    // Criterion's other sampling: every sample the same number of iterations.
    let mut flat = c.benchmark_group("flat");
    flat.sampling_mode(SamplingMode::Flat);
    flat.bench_function("buffer", |b| b.iter(|| vec![0u8; 4096]));
    flat.finish();
    let mut c = config(AllocatedBlocks);
    c.bench_function("blocks/workload", |b| b.iter(|| black_box(workload())));
    c.bench_function("blocks/sum", |b| b.iter(|| sum(black_box(&xs))));
    let mut c = config(PeakBytes);
    c.bench_function("peak/workload", |b| {
        b.iter(per_iteration(|| black_box(workload())))
    });
    c.bench_function("peak/sum", |b| {
        b.iter(per_iteration(|| sum(black_box(&xs))))
    });
    // The input's 256 bytes are live when each call begins: the peak is the routine's 1.5 KiB.
    c.bench_function("peak/batched", |b| {
        b.iter_batched(
            || vec![0u8; 256],
            per_iteration_with_input(|input: Vec<u8>| vec![0u64; input.len() - 64]),
            BatchSize::SmallInput,
        )
    });
    // A borrowed input (iter_batched_ref, which drops it outside the measurement; it could not
    // be wrapped): 256 bytes grown to 512, a peak of 256 above the input's (a reallocation moves
    // the live bytes by the difference, as dhat counts it).
    c.bench_function("peak/batched_ref", |b| {
        b.iter_batched_ref(
            || vec![0u8; 256],
            per_iteration_with_ref(|input: &mut Vec<u8>| {
                input.reserve_exact(256);
                input.len()
            }),
            BatchSize::SmallInput,
        )
    });
    c.final_summary();
}

/// Runs the child with its output in `home` and returns what it printed.
fn run_child(home: &std::path::Path) -> String {
    let out = Command::new(std::env::current_exe().expect("the test's own path"))
        .env(CHILD, "1")
        .env("CRITERION_HOME", home)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `[low estimate high]` triple criterion printed for `id`.
fn figures<'a>(report: &'a str, id: &str) -> &'a str {
    let start = report
        .find(&format!("{id} "))
        .or_else(|| report.find(&format!("{id}\n")))
        .unwrap_or_else(|| panic!("{id} not in the report:\n{report}"));
    let rest = &report[start..];
    let open = rest
        .find('[')
        .unwrap_or_else(|| panic!("no figures for {id}:\n{report}"));
    let close = rest.find(']').unwrap();
    &rest[open + 1..close]
}

fn check(report: &str, id: &str, expected: &str) {
    let triple = format!("{expected} {expected} {expected}");
    assert_eq!(figures(report, id), triple, "{id} in:\n{report}");
}

/// The measurements called as criterion calls them, without criterion.
fn by_hand() {
    // Three iterations of a 4 KiB buffer: 12 KiB allocated, 3 blocks, a peak of 4 KiB each.
    let routine = || vec![0u8; 4096];
    let start = AllocatedBytes.start();
    for _ in 0..3 {
        black_box(routine());
    }
    assert_eq!(AllocatedBytes.end(start), 3 * 4096);
    let start = AllocatedBlocks.start();
    for _ in 0..3 {
        black_box(routine());
    }
    assert_eq!(AllocatedBlocks.end(start), 3);
    let mut each = per_iteration(routine);
    let start = PeakBytes.start();
    for _ in 0..3 {
        black_box(each());
    }
    assert_eq!(PeakBytes.end(start), 3 * 4096);
    // Batches add up; nothing allocated is handed to criterion as a millionth.
    assert_eq!(PeakBytes.add(&4096, &8192), 12_288);
    assert_eq!(AllocatedBytes.to_f64(&0), 1e-6);
    assert_eq!(AllocatedBytes.to_f64(&4096), 4096.0);

    // A peak without per_iteration is refused, not divided by the iterations.
    let start = PeakBytes.start();
    black_box(routine());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let refused = std::panic::catch_unwind(|| PeakBytes.end(start)).unwrap_err();
    std::panic::set_hook(hook);
    let message = refused.downcast_ref::<&str>().unwrap();
    assert!(message.contains("wrap the routine in"), "{message}");
    // Nothing allocated needs no wrapping: it reads 0.
    let start = PeakBytes.start();
    black_box(sum(&[1, 2, 3]));
    assert_eq!(PeakBytes.end(start), 0);

    // `b.iter(|| per_iteration(..))`: the routine makes the wrapper and never calls it, so no
    // measurement sees the work; each is refused (they read 0 without a word).
    let misused = || black_box(per_iteration(routine));
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let refusals = [
        std::panic::catch_unwind(|| {
            let start = PeakBytes.start();
            drop(misused());
            PeakBytes.end(start)
        }),
        std::panic::catch_unwind(|| {
            let start = AllocatedBytes.start();
            drop(misused());
            AllocatedBytes.end(start)
        }),
    ];
    std::panic::set_hook(hook);
    for refused in refusals {
        let payload = refused.unwrap_err();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or(payload.downcast_ref::<&str>().copied())
            .unwrap();
        assert!(
            message.contains("made a per_iteration wrapper and never called it"),
            "{message}"
        );
    }
    // Made before the measurement and run by it, as `b.iter(per_iteration(..))` does: measured.
    let mut each = per_iteration(routine);
    let start = AllocatedBytes.start();
    black_box(each());
    assert_eq!(AllocatedBytes.end(start), 4096);
}

fn main() {
    if common::nextest_listing("criterion_memory") {
        return;
    }
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    by_hand();
    let home = common::TempDir::new("criterion");

    let first = run_child(&home.0);
    // 4,183 bytes: 4.0850 KiB to criterion's four decimals.
    assert_eq!(format!("{:.4}", 4183.0 / 1024.0), "4.0850");
    check(&first, "alloc/workload", "4.0850 KiB");
    check(&first, "alloc/buffer", "4.0000 KiB");
    check(&first, "alloc/batched", "1.5000 KiB"); // 192 u64
    assert_eq!(format!("{:.4}", (3 * 64 * 8) as f64 / 1024.0), "1.5000");
    check(&first, "alloc/sum", "0.0000  B");
    check(&first, "flat/buffer", "4.0000 KiB");
    check(&first, "blocks/workload", "5.0000 blocks");
    check(&first, "blocks/sum", "0.0000 blocks");
    check(&first, "peak/workload", "4.0850 KiB");
    check(&first, "peak/sum", "0.0000  B");
    check(&first, "peak/batched", "1.5000 KiB");
    check(&first, "peak/batched_ref", "256.00  B");

    // The second run compares with the baseline the first one saved.
    let second = run_child(&home.0);
    check(&second, "alloc/buffer", "4.0000 KiB");
    let after = &second[second.find("alloc/buffer").unwrap()..];
    let after = &after[..after.find("alloc/batched").unwrap_or(after.len())];
    assert!(
        after.contains("change:") || after.contains("No change"),
        "no comparison with the saved baseline:\n{second}"
    );
    println!("criterion_memory: ok");
}
