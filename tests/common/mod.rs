//! Helpers shared by the integration tests.
#![allow(dead_code, reason = "each test binary uses some of these")]

use dhat_kit::Stats;

/// `Stats` from (bytes, blocks) pairs: everything allocated, at the peak, live at the end.
pub fn stats(total: (u64, u64), max: (u64, u64), curr: (u64, u64)) -> Stats {
    let mut s = Stats::default();
    (s.total_bytes, s.total_blocks) = total;
    (s.max_bytes, s.max_blocks) = max;
    (s.curr_bytes, s.curr_blocks) = curr;
    s
}

/// The figures of region `path`, as `regions()` lists them now.
///
/// # Panics
///
/// When no region `path` was recorded.
pub fn region(path: &str) -> dhat_kit::RegionStats {
    dhat_kit::regions()
        .get(path)
        .cloned()
        .unwrap_or_else(|| panic!("region {path} not recorded"))
}

/// A path named `name` in this process's temporary directory for the test `tag` (created).
pub fn temp(tag: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dhat-kit-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A directory of its own for the test `tag` of this process (`tag` names the test binary and
/// the test), empty at the start and removed at the end.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dhat-kit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the ignored test `name` of this test binary alone, in a child process, its output
/// captured (the child's own runner prints it: `--nocapture`).
pub fn run_ignored(name: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "--ignored", "--nocapture", name])
        .output()
        .unwrap()
}

/// Runs the ignored tests of this test binary whose names hold `filter`, in a child process, one
/// at a time (`--test-threads 1`, in the order of their names), their output captured.
pub fn run_ignored_one_at_a_time(filter: &str) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--nocapture", "--test-threads", "1", filter])
        .output()
        .unwrap()
}

/// A child process's standard output, then its standard error, as text.
pub fn output_text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The figures of the entry `name` of the baseline file `file`, if it has one.
pub fn baseline_entry(
    file: &std::path::Path,
    name: &str,
) -> Option<dhat_kit::baseline::BaselineFigures> {
    dhat_kit::baseline::Baseline::load(file)
        .unwrap()
        .and_then(|b| b.get(name).map(|e| e.figures))
}

/// A profile of `tests/fixtures`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// What DHAT's own viewer shows for `file` (`../shared/tools/dhview-check`), or `None` (the check
/// skipped, saying so) where its tools are missing.
///
/// # Panics
///
/// When the viewer rejects the file.
pub fn view(file: &std::path::Path) -> Option<String> {
    let tool =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/dhview-check");
    let out = std::process::Command::new("sh")
        .arg(tool)
        .arg(file)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0) => Some(text),
        Some(3) => {
            println!("viewer check skipped: {}", text.trim());
            None
        }
        _ => panic!("the viewer rejected {}: {text}", file.display()),
    }
}

/// The whole numbers after `label` on the first line of `text` that starts with it (`17,170`
/// read as 17170), or `None` when no line does.
fn numbers_after(text: &str, label: &str) -> Option<Vec<u64>> {
    let rest = text.lines().find_map(|l| l.strip_prefix(label))?;
    Some(
        rest.split_whitespace()
            .filter_map(|w| w.replace(',', "").parse().ok())
            .collect(),
    )
}

/// `(amount, count)` from a viewer line such as `At t-gmax: 64,888 bytes (100%) in 866 blocks`.
pub fn viewer_figures(viewer: &str, label: &str) -> (u64, u64) {
    let nums =
        numbers_after(viewer, label).unwrap_or_else(|| panic!("no {label} line in:\n{viewer}"));
    (nums[0], *nums.last().unwrap())
}

/// `(amount, count)` of a "17,170 bytes in 115 blocks" line that starts with `label` in a
/// producer's stderr (a fixture's `Total:`, dhat's `dhat: Total:`), the count 0 where the line has
/// none (`Reads:     4,832 bytes`); `None` when no line starts with `label`.
pub fn printed(stderr: &str, label: &str) -> Option<(u64, u64)> {
    let nums = numbers_after(stderr, label)?;
    Some((nums[0], nums.get(1).copied().unwrap_or(0)))
}

/// For a test binary without libtest's harness (`harness = false`, run as one test): answers
/// cargo-nextest's listing (`--list --format terse`: one test, named `name`, and none ignored), so
/// that `cargo nextest run` runs it as well as `cargo test` does. Whether this run was a listing;
/// the caller then returns at once. When nextest runs the test, it passes `--exact name`, which
/// the binary ignores.
pub fn nextest_listing(name: &str) -> bool {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if !args.iter().any(|a| a == "--list") {
        return false;
    }
    if !args.iter().any(|a| a == "--ignored") {
        println!("{name}: test");
    }
    true
}

/// Waits (at most a second) until every other thread of this process has stayed asleep, running
/// nothing, across two readings a millisecond apart: so that a profiling session started next
/// holds no bookkeeping of the test harness's own thread (its record of the test it just started,
/// made while the test begins), which every thread's figures now include. Linux; elsewhere it
/// returns at once.
pub fn wait_for_other_threads_to_sleep() {
    #[cfg(target_os = "linux")]
    {
        let me = std::fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_owned()));
        // Each other thread's state and time on the CPU, or `None` when one is running.
        let reading = || -> Option<Vec<(std::ffi::OsString, String)>> {
            let mut threads = Vec::new();
            for entry in std::fs::read_dir("/proc/self/task").ok()? {
                let name = entry.ok()?.file_name();
                if Some(&name) == me.as_ref() {
                    continue;
                }
                let dir = std::path::Path::new("/proc/self/task").join(&name);
                let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                let state = stat.rsplit(')').next()?.split_whitespace().next()?;
                if state == "R" {
                    return None;
                }
                let ran = std::fs::read_to_string(dir.join("schedstat")).ok()?;
                threads.push((name, ran.split_whitespace().next()?.to_owned()));
            }
            threads.sort();
            Some(threads)
        };
        let start = std::time::Instant::now();
        let mut last = None;
        while start.elapsed() < std::time::Duration::from_secs(1) {
            let now = reading();
            if now.is_some() && now == last {
                return;
            }
            last = now;
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// xorshift64*: a deterministic random stream, with no allocation of its own.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// The exit status of the child `pid`, waited for at most 30 seconds (then killed: a failure, not
/// a test run that hangs).
#[cfg(unix)]
pub fn wait_at_most_30_s(pid: libc::pid_t) -> libc::c_int {
    let start = std::time::Instant::now();
    let mut status = 0;
    loop {
        // SAFETY: `pid` is this process's child, `status` a valid place to write.
        match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
            got if got == pid => return status,
            -1 => panic!("waitpid: {}", std::io::Error::last_os_error()),
            _ if start.elapsed() > std::time::Duration::from_secs(30) => {
                // SAFETY: `pid` is this process's child, not yet waited for.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                panic!("the forked child hung for 30 seconds");
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    }
}

/// The message `f` panics with (a `String` or a `&str` payload; empty for another), which it
/// must.
pub fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the function should panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}
