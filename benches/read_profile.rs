//! Reading a large DHAT profile: `dhat-kit summary` and `top` work (read, summarise, rank) on a
//! synthetic heap profile of a given size, against Python's `json.load` of the same file, in one
//! run; then every command's work (`summary`, `top`, `diff`, `flamegraph`, `convert` to folded
//! stacks, pprof and speedscope) on a Valgrind-shaped profile of the same size, each with its time
//! and peak of live heap.
//!
//! ```sh
//! cargo bench --bench read_profile                     # 500 MB
//! cargo bench --bench read_profile -- 100              # 100 MB
//! cargo bench --bench read_profile --features cli -- 400 commands   # only every command
//! ```
//!
//! The commands' part needs the `cli` feature (for the flame graph and pprof writers).
//!
//! The file is a dhat-rs-style heap profile (every per-point field, 12 to 28 frames per stack,
//! frames shared across stacks as in a real program) written to the temporary directory and
//! removed at the end. Time is wall-clock, best of 3; memory is the peak of live heap bytes during
//! the reading (dhat-kit's own counting allocator, so exact) and the process's peak resident set
//! (`VmHWM`). Python's figures are its time for `json.load` and its peak resident set.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use dhat_kit::analyze::{self, GroupBy, Metric, TopOptions};

dhat_kit::global_allocator!();

/// A small fast generator (xorshift64*), so the file is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A program point's `[tb, tbk, mb, mbk, gb, gbk, eb, ebk]`, consistent with each other.
    fn heap_figures(&mut self) -> [u64; 8] {
        let tbk = 1 + self.below(5_000);
        let tb = tbk * (8 + self.below(4_096));
        let mbk = 1 + self.below(tbk);
        let gbk = self.below(mbk + 1);
        let ebk = self.below(gbk + 1);
        let size = tb / tbk;
        [tb, tbk, size * mbk, mbk, size * gbk, gbk, size * ebk, ebk]
    }
}

/// Writes a heap profile of about `target` bytes; returns its program points and frames.
fn generate(path: &Path, target: u64) -> std::io::Result<(u64, u64)> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let frames: u64 = (target / 2_000).clamp(1_000, 400_000);
    write!(
        out,
        "{{\"dhatFileVersion\":2\n,\"mode\":\"rust-heap\",\"verb\":\"Allocated\"\n,\"bklt\":true,\"bkacc\":false\n,\"tu\":\"µs\",\"Mtu\":\"s\"\n,\"tuth\":10\n,\"cmd\":\"synthetic\"\n,\"pid\":1\n,\"tg\":500000\n,\"te\":1000000\n,\"pps\":\n["
    )?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut written = 200u64;
    let mut pps = 0u64;
    // Reserve about 1/8 of the file for the frame table.
    let frame_bytes = frames * 110;
    let mut line = Vec::with_capacity(512);
    while written + frame_bytes < target {
        line.clear();
        let [tb, tbk, mb, mbk, gb, gbk, eb, ebk] = rng.heap_figures();
        let tl = rng.below(10_000_000);
        // dhat-rs's layout: serde_json's pretty printer with an empty indent, one value a line.
        write!(
            line,
            "{}{{\n\"tb\": {tb},\n\"tbk\": {tbk},\n\"tl\": {tl},\n\"mb\": {mb},\n\"mbk\": {mbk},\n\"gb\": {gb},\n\"gbk\": {gbk},\n\"eb\": {eb},\n\"ebk\": {ebk},\n\"fs\": [\n",
            if pps == 0 { "" } else { ",\n" }
        )?;
        let depth = 12 + rng.below(17);
        for d in 0..depth {
            // Inner frames (allocator, std) come from a small set, outer ones from all frames.
            let f = if d < 4 {
                1 + rng.below(64.min(frames - 1))
            } else {
                1 + rng.below(frames - 1)
            };
            write!(line, "{}{f}", if d == 0 { "" } else { ",\n" })?;
        }
        line.extend_from_slice(b"\n]\n}");
        out.write_all(&line)?;
        written += line.len() as u64;
        pps += 1;
    }
    out.write_all(b"\n]\n,\"ftbl\":\n[\"[root]\"")?;
    for i in 1..frames {
        let module = i % 97;
        write!(
            out,
            "\n,\"0x{:012x}: synthetic::module_{module}::function_{i} (src/module_{module}.rs:{}:{})\"",
            0x5500_0000_0000u64 + i * 64,
            1 + i % 2_000,
            1 + i % 80
        )?;
    }
    out.write_all(b"\n]\n}\n")?;
    out.flush()?;
    Ok((pps, frames))
}

#[cfg(feature = "cli")]
/// Writes a Valgrind-shaped heap profile of about `target` bytes (Valgrind's layout, block
/// accesses, 8 to 40 frames per stack, the innermost from a few allocator and library functions,
/// the others from all frames); returns its program points and frames. `seed` varies the figures
/// and stacks, for a second profile to diff.
fn generate_valgrind(path: &Path, target: u64, seed: u64) -> std::io::Result<(u64, u64)> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let frames: u64 = (target / 2_000).clamp(1_000, 400_000);
    write!(
        out,
        "{{\"dhatFileVersion\":2\n,\"mode\":\"heap\",\"verb\":\"Allocated\"\n,\"bklt\":true,\"bkacc\":true\n,\"tu\":\"instrs\",\"Mtu\":\"Minstr\"\n,\"tuth\":500\n,\"cmd\":\"./synthetic\"\n,\"pid\":1\n,\"te\":90000000000\n,\"tg\":50000000000\n,\"pps\":\n ["
    )?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
    let mut written = 200u64;
    let mut pps = 0u64;
    let frame_bytes = frames * 60;
    let mut line = Vec::with_capacity(1024);
    while written + frame_bytes < target {
        line.clear();
        let [tb, tbk, mb, mbk, gb, gbk, eb, ebk] = rng.heap_figures();
        let tl = rng.below(10_000_000_000);
        let (rb, wb) = (rng.below(tb * 2), rng.below(tb * 2));
        write!(
            line,
            "{}{{\"tb\":{tb},\"tbk\":{tbk}\n  ,\"tl\":{tl}\n  ,\"mb\":{mb},\"mbk\":{mbk}\n  ,\"gb\":{gb},\"gbk\":{gbk}\n  ,\"eb\":{eb},\"ebk\":{ebk}\n  ,\"rb\":{rb},\"wb\":{wb}\n  ,\"fs\":[",
            if pps == 0 { "" } else { "\n ," }
        )?;
        let depth = 8 + rng.below(33);
        for d in 0..depth {
            // Innermost: the allocator, then library code; outermost: `main`, then a few
            // hundred top-level functions; between them, any function.
            let f = match (d, depth - 1 - d) {
                (0, _) => 1 + rng.below(4),
                (1..=2, _) => 5 + rng.below(60),
                (_, 0) => 65,
                (_, 1..=2) => 66 + rng.below(300),
                _ => 366 + rng.below(frames - 366),
            };
            write!(line, "{}{f}", if d == 0 { "" } else { "," })?;
        }
        line.extend_from_slice(b"]\n  }");
        out.write_all(&line)?;
        written += line.len() as u64;
        pps += 1;
    }
    out.write_all(b"\n ]\n,\"ftbl\":\n [\"[root]\"")?;
    for (i, f) in ["malloc", "calloc", "realloc", "operator new(unsigned long)"]
        .iter()
        .enumerate()
    {
        write!(
            out,
            "\n ,\"0x{:X}: {f} (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)\"",
            0x0484_1000 + i * 0x100
        )?;
    }
    for i in 5..frames {
        let name = if i == 65 {
            "main".to_owned()
        } else {
            format!("function_{i}")
        };
        write!(
            out,
            "\n ,\"0x{:X}: {name} (module_{}.c:{})\"",
            0x10_9000 + i * 16,
            i % 97,
            1 + i % 2_000
        )?;
    }
    out.write_all(b"\n ]\n}\n")?;
    out.flush()?;
    Ok((pps, frames))
}

#[cfg(feature = "cli")]
/// Runs `work` once on this thread: its time and the peak of live heap bytes while it ran.
fn run<R>(work: impl FnOnce() -> R) -> (R, f64, u64) {
    let ((r, secs), stats) = dhat_kit::measure(|| {
        let t = Instant::now();
        let r = work();
        (r, t.elapsed().as_secs_f64())
    });
    (r, secs, stats.max_bytes)
}

#[cfg(feature = "cli")]
/// Every command's work on a Valgrind-shaped profile of `size_mb` MB (and a second one, for
/// `diff`): time (one run each) and peak heap, against the file's size and `summary`'s time.
fn every_command(size_mb: u64) {
    use analyze::DiffOptions;
    use dhat_kit::export::{self, To};
    let dir = std::env::temp_dir();
    let id = std::process::id();
    let a = dir.join(format!("dhat-kit-bench-{id}-a.json"));
    let b = dir.join(format!("dhat-kit-bench-{id}-b.json"));
    let t = Instant::now();
    let (pps, frames) = generate_valgrind(&a, size_mb * 1_000_000, 0).expect("writes profile a");
    generate_valgrind(&b, size_mb * 1_000_000, 1).expect("writes profile b");
    let size = std::fs::metadata(&a).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nValgrind-shaped heap profiles: {:.0} MB, {pps} program points, {frames} frames, 8-40 frames a stack (two, written in {:.1} s)",
        mb(size),
        t.elapsed().as_secs_f64()
    );
    let read = || dhat_kit::profile::read(&a).expect("reads profile a");
    let out = dir.join(format!("dhat-kit-bench-{id}-out"));
    let mut opts = TopOptions::default();
    (opts.n, opts.by, opts.group_by) = (10, Metric::TotalBytes, GroupBy::Site);
    let mut rows: Vec<(&str, f64, u64, u64)> = Vec::new();
    drop(read()); // the file into the page cache, for every command alike
    let (_, secs, peak) = run(|| analyze::summary(&read()).program_points);
    rows.push(("summary", secs, peak, 0));
    let (_, secs, peak) = run(|| analyze::top(&read(), &opts).expect("top").rows.len());
    rows.push(("top", secs, peak, 0));
    let (_, secs, peak) = run(|| {
        let (before, after) = (
            read(),
            dhat_kit::profile::read(&b).expect("reads profile b"),
        );
        // Ten sites by total bytes, grouped by site.
        let d = DiffOptions::default();
        analyze::diff(&before, &after, &d)
            .expect("diff")
            .sites
            .len()
    });
    rows.push(("diff (two files)", secs, peak, 0));
    let (svg, secs, peak) = run(|| {
        let mut svg = Vec::new();
        analyze::flamegraph_svg(&read(), Metric::TotalBytes, "bench", &mut svg).expect("draws");
        svg.len() as u64
    });
    rows.push(("flamegraph", secs, peak, svg));
    for (label, to) in [
        ("convert --to folded", To::Folded),
        ("convert --to pprof", To::Pprof),
        ("convert --to speedscope", To::Speedscope),
    ] {
        let (len, secs, peak) = run(|| {
            let p = read();
            export::write_file(&p, "bench.json", &export::Options::new(to), &out).expect("writes");
            std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0)
        });
        rows.push((label, secs, peak, len));
    }
    let summary_secs = rows[0].1;
    println!("| command | time | x summary | peak heap | of the file | output |");
    println!("|---|---|---|---|---|---|");
    for (label, secs, peak, len) in rows {
        let files = if label.starts_with("diff") { 2 } else { 1 };
        println!(
            "| {label} | {secs:.2} s | {:.1}x | {:.0} MB | {:.0}% | {} |",
            secs / summary_secs,
            mb(peak),
            peak as f64 * 100.0 / (size * files) as f64,
            if len == 0 {
                String::new()
            } else {
                format!("{:.1} MB", mb(len))
            }
        );
    }
    if std::env::var_os("DHAT_KIT_BENCH_KEEP").is_none() {
        for f in [&a, &b, &out] {
            let _ = std::fs::remove_file(f);
        }
    } else {
        println!("kept {} and {}", a.display(), b.display());
    }
}

/// The process's peak resident set in bytes, from `/proc/self/status` (0 where there is none).
fn vm_hwm() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    let size_mb: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .or_else(|| std::env::var("DHAT_KIT_BENCH_MB").ok()?.parse().ok())
        .unwrap_or(500);
    if std::env::args().skip(1).any(|a| a == "commands") {
        return every_command_if_cli(size_mb);
    }
    let dir = std::env::temp_dir();
    let path = dir.join(format!("dhat-kit-bench-{}.json", std::process::id()));
    let t = Instant::now();
    let (pps, frames) = generate(&path, size_mb * 1_000_000).expect("writes the synthetic profile");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "synthetic heap profile: {:.0} MB, {pps} program points, {frames} frames (written in {:.1} s)",
        mb(size),
        t.elapsed().as_secs_f64()
    );

    let mut best = f64::MAX;
    let mut peak_heap = 0u64;
    let mut rows = 0;
    let mut read_time = 0.0;
    for _ in 0..3 {
        let (result, stats) = dhat_kit::measure(|| {
            let t = Instant::now();
            let p = dhat_kit::profile::read(&path).expect("reads the synthetic profile");
            let read = t.elapsed().as_secs_f64();
            let s = analyze::summary(&p);
            let mut opts = TopOptions::default();
            (opts.n, opts.by, opts.group_by) = (10, Metric::TotalBytes, GroupBy::Site);
            let top = analyze::top(&p, &opts).expect("ranks it");
            assert_eq!(s.program_points as u64, pps);
            (t.elapsed().as_secs_f64(), top.rows.len(), read)
        });
        if result.0 < best {
            read_time = result.2;
        }
        best = best.min(result.0);
        rows = result.1;
        peak_heap = peak_heap.max(stats.max_bytes);
    }
    let rss = vm_hwm();
    println!(
        "dhat-kit read alone:           {:.2} s, {:.0} MB/s",
        read_time,
        mb(size) / read_time
    );
    println!(
        "dhat-kit read + summary + top: {:.2} s, {:.0} MB/s; peak heap {:.0} MB ({:.0}% of the file), peak RSS {:.0} MB; {rows} rows",
        best,
        mb(size) / best,
        mb(peak_heap),
        peak_heap as f64 * 100.0 / size as f64,
        mb(rss)
    );

    let script = "import json, resource, sys, time\n\
                  t = time.perf_counter()\n\
                  json.load(open(sys.argv[1]))\n\
                  e = time.perf_counter() - t\n\
                  print(e, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)";
    match std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
    {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut it = text.split_whitespace();
            let secs: f64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
            let rss: u64 = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            println!(
                "python3 json.load:             {:.2} s, {:.0} MB/s; peak RSS {:.0} MB ({:.0}% of the file)",
                secs,
                mb(size) / secs,
                mb(rss),
                rss as f64 * 100.0 / size as f64
            );
            println!("dhat-kit is {:.1}x as fast", secs / best);
        }
        Ok(out) => println!(
            "python3 json.load failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => println!("python3 not run: {e}"),
    }
    if std::env::var_os("DHAT_KIT_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_file(&path);
    } else {
        println!("kept {}", path.display());
    }
    every_command_if_cli(size_mb);
}

fn every_command_if_cli(size_mb: u64) {
    #[cfg(feature = "cli")]
    every_command(size_mb);
    #[cfg(not(feature = "cli"))]
    println!("\nevery command: skipped (run with `--features cli`), {size_mb} MB");
}
