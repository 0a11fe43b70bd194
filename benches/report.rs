//! The HTML report of a large profile: how long `dhat-kit report` takes to write it, how big it
//! is, and how long a browser takes to draw it.
//!
//! ```sh
//! cargo bench --bench report --features cli            # 50 MB
//! cargo bench --bench report --features cli -- 500     # 500 MB
//! ```
//!
//! The profile is a synthetic dhat-rs-style heap profile (stacks of 8 to 43 frames over 30,000
//! functions in 8 crates, paths shared as in a real program), written to the temporary directory
//! and removed at the end. The report is built in process (`dhat_kit::report::html`, what the
//! command does after reading): time is wall-clock, memory the peak of live heap bytes during it
//! (dhat-kit's own counting allocator). Then headless Chromium opens the page from `file://`, and
//! the page's own `data-render-ms` (navigation to fully drawn) is read from the DOM; where
//! Chromium is missing that step says it was skipped.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

dhat_kit::global_allocator!();

/// xorshift64*, so the file is the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

const FUNCTIONS: u64 = 30_000;
const CRATES: [&str; 8] = [
    "app",
    "serde_json",
    "hyper",
    "tokio",
    "regex",
    "parser",
    "orm",
    "render",
];

/// Writes a heap profile of about `target` bytes, compact (one program point a line); returns its
/// program points. `build` 0 is the profile reported on; another is its `--before`: other stacks
/// drawn from the same program, at other addresses, and a tenth of its functions named otherwise
/// (sites found in one profile only).
fn generate(path: &Path, target: u64, build: u64) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    out.write_all(
        b"{\"dhatFileVersion\":2,\"mode\":\"rust-heap\",\"verb\":\"Allocated\",\"bklt\":true,\
          \"bkacc\":false,\"tu\":\"\xc2\xb5s\",\"Mtu\":\"s\",\"tuth\":10,\"cmd\":\"synthetic\",\
          \"pid\":1,\"tg\":500000,\"te\":1000000,\"pps\":[\n",
    )?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ build);
    // 2,000 call paths of 40 frames; each stack is 1 to 3 leaf frames on a prefix of one.
    let paths: Vec<Vec<u64>> = (0..2_000)
        .map(|_| (0..40).map(|_| 1 + rng.below(FUNCTIONS)).collect())
        .collect();
    let (mut written, mut pps) = (0u64, 0u64);
    let mut line = String::with_capacity(512);
    while written < target {
        line.clear();
        let path = &paths[rng.below(paths.len() as u64) as usize];
        let depth = 8 + rng.below(33) as usize;
        let leaves = 1 + rng.below(3);
        let tb = 1 + rng.below(1 << 20);
        let tbk = 1 + rng.below(100);
        let (gb, eb) = (
            if rng.below(10) < 3 { tb / 3 } else { 0 },
            if rng.below(10) < 1 { tb / 5 } else { 0 },
        );
        let fs: Vec<String> = (0..leaves)
            .map(|_| 1 + rng.below(FUNCTIONS))
            .chain(path[..depth].iter().copied())
            .map(|f| f.to_string())
            .collect();
        line.push_str(&format!(
            "{}{{\"tb\":{tb},\"tbk\":{tbk},\"tl\":{},\"mb\":{},\"mbk\":1,\"gb\":{gb},\"gbk\":{},\
             \"eb\":{eb},\"ebk\":{},\"fs\":[{}]}}\n",
            if pps == 0 { "" } else { "," },
            tb * 3,
            tb / 2,
            u64::from(gb > 0),
            u64::from(eb > 0),
            fs.join(",")
        ));
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        pps += 1;
    }
    out.write_all(b"],\"ftbl\":[\"[root]\"")?;
    for i in 1..=FUNCTIONS {
        let m = i % 97;
        let renamed = if build != 0 && i % 10 == build % 10 {
            "_old"
        } else {
            ""
        };
        write!(
            out,
            ",\n\"0x{:x}: {}::m{m}::f{i}{renamed} (src/m{m}.rs:{}:{})\"",
            0x5500_0000_0000u64 + i * 64 + build * 16,
            CRATES[(i % 8) as usize],
            1 + i % 500,
            1 + i % 40
        )?;
    }
    out.write_all(b"]}\n")?;
    out.flush()?;
    Ok(pps)
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// Opens `html` in headless Chromium and returns (the page's render time in ms, Chromium's wall
/// time in s), or `None` where Chromium is missing.
fn render(html: &Path, dir: &Path) -> Option<(u64, f64)> {
    let chrome = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())?;
    let profile = dir.join(format!("dhat-kit-bench-chrome-{}", std::process::id()));
    let t = Instant::now();
    let out = std::process::Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=127.0.0.1:9",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .ok()?;
    let wall = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&out.stdout);
    let at = dom.find("data-render-ms=\"")? + "data-render-ms=\"".len();
    let ms = dom[at..].split('"').next()?.parse().ok()?;
    Some((ms, wall))
}

fn main() {
    let size_mb: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let dir = std::env::temp_dir();
    let path = dir.join(format!("dhat-kit-bench-report-{}.json", std::process::id()));
    let html = path.with_extension("html");
    let pps = generate(&path, size_mb * 1_000_000, 0).expect("writes the synthetic profile");
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    println!(
        "synthetic heap profile: {:.0} MB, {pps} program points, {FUNCTIONS} frames",
        mb(size)
    );
    let t = Instant::now();
    let profile = dhat_kit::profile::read(&path).expect("reads the synthetic profile");
    let read = t.elapsed().as_secs_f64();
    let (page, stats) = dhat_kit::measure(|| {
        let t = Instant::now();
        let page = dhat_kit::report::html(&profile, "synthetic.json", None, &Default::default())
            .expect("builds the report");
        (page, t.elapsed().as_secs_f64())
    });
    std::fs::write(&html, &page.0).expect("writes the report");
    println!(
        "dhat-kit report: read {read:.2} s, then the page {:.2} s (peak heap {:.0} MB above the profile); the page is {:.2} MB",
        page.1,
        mb(stats.max_bytes),
        mb(page.0.len() as u64)
    );
    match render(&html, &dir) {
        Some((ms, wall)) => println!(
            "headless Chromium: drawn {ms} ms after navigation ({wall:.2} s from start to exit)"
        ),
        None => println!("headless Chromium: skipped (not found; apt-get install -y chromium)"),
    }
    // With `--before`: the diff's tables, each figure's ranking under each grouping, on top.
    let old = dir.join(format!("dhat-kit-bench-before-{}.json", std::process::id()));
    generate(&old, size_mb * 1_000_000, 1).expect("writes the before profile");
    let before = dhat_kit::profile::read(&old).expect("reads the before profile");
    let _ = std::fs::remove_file(&old);
    let (page, stats) = dhat_kit::measure(|| {
        let t = Instant::now();
        let page = dhat_kit::report::html(
            &profile,
            "synthetic.json",
            Some((&before, "before.json")),
            &Default::default(),
        )
        .expect("builds the report with its diff");
        (page.len(), t.elapsed().as_secs_f64())
    });
    println!(
        "dhat-kit report --before: the page {:.2} s (peak heap {:.0} MB above the profiles); the page is {:.2} MB",
        page.1,
        mb(stats.max_bytes),
        mb(page.0 as u64)
    );
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&html);
}
