//! `dhat-kit convert` on the real fixtures in `tests/fixtures/`, checked by the formats' own
//! readers: `go tool pprof -top` must give the totals and the sites `dhat-kit top` gives, and
//! speedscope's app (the `speedscope` npm package, driven in headless Chromium with
//! `puppeteer-core`) must load the file with no error and show its profiles and frames.
//!
//! Where Go, Chromium or the npm packages are missing, those checks say so and are skipped;
//! `.ci/run` installs them and sets `DHAT_KIT_REQUIRE_TOOLS`, under which a missing tool fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dhat_kit::analyze::Metric;
use dhat_kit::profile::{Frame, Profile};

mod support;
use support::{ok, run, TempDir};

/// Every fixture a reader must take: Valgrind (heap, copy, ad-hoc, and a C++ program with a
/// function GCC specialised, [`CLONES`]), dhat-rs (heap, ad-hoc), dhat-kit (peak).
const FIXTURES: [&str; 7] = [
    "valgrind-heap",
    "valgrind-copy",
    "valgrind-ad-hoc",
    CLONES,
    "dhat-rs-heap",
    "dhat-rs-ad-hoc",
    "dhat-kit-peak",
];

/// `g++ -O2 -g` of `tests/fixtures/src/clones.cpp` under Valgrind's DHAT: `app::fill(int, int)`
/// allocates as itself and as GCC's copy of it, `app::fill(int, int) [clone .constprop.0]`,
/// under one caller (`app::fill_both(int, int)`, 256 bytes each) and the copy under another
/// (`app::fill_zeros(int)`, 2,400 bytes).
const CLONES: &str = "valgrind-cpp-clones";

fn fixture(name: &str) -> PathBuf {
    support::fixture(&format!("{name}.json"))
}

/// Runs `dhat-kit convert FILE --to TO -o OUT`, which must succeed.
fn convert(file: &Path, to: &str, out: &str) {
    ok(&["convert", file.to_str().unwrap(), "--to", to, "-o", out]);
}

/// Says why a check is skipped, or fails where the tools are required.
fn skip(what: &str) {
    if std::env::var_os("DHAT_KIT_REQUIRE_TOOLS").is_some() {
        panic!("{what} (DHAT_KIT_REQUIRE_TOOLS is set: the check must run)");
    }
    println!("SKIPPED: {what}");
    eprintln!("SKIPPED: {what}");
}

/// `dhat-kit top --group-by function --by METRIC -n 0`: its total and each function's figure.
fn kit_top(file: &Path, metric: &str) -> (u64, BTreeMap<String, u64>) {
    let json = ok(&[
        "top",
        file.to_str().unwrap(),
        "--group-by",
        "function",
        "--by",
        metric,
        "-n",
        "0",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["site"].as_str().unwrap().to_owned(),
                r["value"].as_u64().unwrap(),
            )
        })
        .filter(|(_, v)| *v != 0)
        .collect();
    (v["total"].as_u64().unwrap(), rows)
}

/// A figure as `pprof -top -unit=B` prints it: `8128B`, `12038units`, `7`.
fn pprof_number(s: &str) -> u64 {
    let digits = s.trim_end_matches(|c: char| !c.is_ascii_digit());
    digits
        .parse()
        .unwrap_or_else(|_| panic!("not an exact figure: {s:?}"))
}

/// `go tool pprof -top` of sample type `index`, with `hide` hidden, with the names as written
/// (`-symbolize=none`): its total, the part its rows show, and each function's flat figure
/// (functions of the same name added up).
fn pprof_top(file: &Path, index: &str, hide: &str) -> (u64, u64, BTreeMap<String, u64>) {
    pprof_top_with(file, index, hide, "-symbolize=none")
}

/// [`pprof_top`] with pprof's option `symbolize` (`-symbolize=none`), or, with an empty one, as
/// `go tool pprof -top FILE` runs, which demangles and shortens a function's name where its
/// system name is the same (dhat-kit writes none, so its names are shown as written).
fn pprof_top_with(
    file: &Path,
    index: &str,
    hide: &str,
    symbolize: &str,
) -> (u64, u64, BTreeMap<String, u64>) {
    let out = Command::new("go")
        .args(["tool", "pprof", "-top"])
        .args((!symbolize.is_empty()).then_some(symbolize))
        .args(["-nodecount=100000", "-nodefraction=0", "-edgefraction=0"])
        .arg("-unit=B")
        .arg(format!("-sample_index={index}"))
        .arg(format!("-hide={hide}"))
        .arg(file)
        .output()
        .expect("runs go tool pprof");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "go tool pprof rejected {}: {}\n{text}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let total_line = text
        .lines()
        .find(|l| l.starts_with("Showing nodes accounting for"))
        .unwrap_or_else(|| panic!("no total in:\n{text}"));
    let total = pprof_number(
        total_line
            .split(" of ")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .unwrap(),
    );
    let shown = pprof_number(
        total_line
            .trim_start_matches("Showing nodes accounting for ")
            .split(',')
            .next()
            .unwrap(),
    );
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.trim_start().starts_with("flat  flat%") {
            in_table = true;
            continue;
        }
        if !in_table {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let flat = if fields[0] == "0" {
            0
        } else {
            pprof_number(fields[0])
        };
        if flat != 0 {
            *rows.entry(fields[5..].join(" ")).or_insert(0) += flat;
        }
    }
    (total, shown, rows)
}

/// An RE2 pattern matching exactly the functions `dhat-kit top` skips in `file` (allocator and
/// standard-library frames, and frames without symbols, which pprof names by their address and
/// binary: `0x401AB77 (in ld-linux-x86-64.so.2)`), so that pprof's flat figures fall on the
/// frames `top` reports.
fn boring_functions(p: &Profile) -> String {
    let mut names: Vec<String> = p
        .ftbl
        .iter()
        .map(|raw| Frame::parse(raw))
        .filter(Frame::is_boring)
        .map(|f| {
            let name = if f.is_unsymbolised() && f.address.is_some() {
                f.to_string()
            } else {
                f.function.to_owned()
            };
            name.chars()
                .flat_map(|c| {
                    let meta = "\\.+*?()|[]{}^$".contains(c);
                    meta.then_some('\\').into_iter().chain([c])
                })
                .collect()
        })
        .collect();
    names.sort();
    names.dedup();
    format!("^({})$", names.join("|"))
}

/// What `top` reports of the stacks that are plumbing all through (cut short before the
/// caller's code, or the dynamic loader's own): it falls back on their outermost frame with a
/// symbol that is not the allocator's, else their outermost frame, where pprof, with every
/// plumbing frame hidden, has no frame left to show. The figure `metric` of such stacks by that
/// function.
fn plumbing_only(p: &Profile, metric: Metric) -> BTreeMap<String, u64> {
    let frame = |f: u32| Frame::parse(&p.ftbl[f as usize]);
    let named = |f: u32| f != 0 && !frame(f).is_unsymbolised() && !frame(f).is_allocator();
    let mut by = BTreeMap::new();
    for pp in &p.pps {
        if pp.fs.iter().all(|&f| f == 0 || frame(f).is_boring()) && metric.of(pp) != 0 {
            let outer = pp.fs.iter().rev().find(|&&f| named(f));
            let outer = outer.or_else(|| pp.fs.iter().rev().find(|&&f| f != 0));
            let outer = outer.copied().unwrap_or(0);
            *by.entry(frame(outer).function.to_owned()).or_insert(0) += metric.of(pp);
        }
    }
    by
}

#[test]
fn pprof_top_agrees_with_dhat_kit_top() {
    if Command::new("go").arg("version").output().is_err() {
        return skip("pprof check: `go` not found (apt-get install golang)");
    }
    let dir = TempDir::new("cli_convert", "pprof");
    for name in FIXTURES {
        let file = fixture(name);
        let out = dir.0.join(format!("{name}.pb.gz"));
        let out_s = out.to_str().unwrap();
        convert(&file, "pprof", out_s);
        let gz = std::fs::read(&out).unwrap();
        assert_eq!(&gz[..2], [0x1f, 0x8b], "{name}: gzip-compressed");
        let p = dhat_kit::profile::read(&file).unwrap();
        let hide = boring_functions(&p);
        // Sample types named by the profile's units (`total_units`, `total_events` ad hoc).
        let (units, blocks) = (p.unit_plural(), p.blocks_plural());
        let mut types = vec![
            (format!("total_{units}"), Metric::TotalBytes),
            (format!("total_{blocks}"), Metric::TotalBlocks),
        ];
        if p.bklt {
            types.extend([
                (format!("gmax_{units}"), Metric::PeakBytes),
                (format!("gmax_{blocks}"), Metric::PeakBlocks),
                (format!("end_{units}"), Metric::EndBytes),
                (format!("end_{blocks}"), Metric::EndBlocks),
            ]);
        }
        if p.bkacc {
            types.extend([
                (format!("read_{units}"), Metric::Reads),
                (format!("written_{units}"), Metric::Writes),
            ]);
        }
        for (index, metric) in types {
            let index = index.as_str();
            let (kit_total, mut kit_rows) = kit_top(&file, metric.name());
            let (pprof_total, shown, pprof_rows) = pprof_top(&out, index, &hide);
            assert_eq!(pprof_total, kit_total, "{name} {index}: total");
            let mut unshown = 0;
            for (function, v) in plumbing_only(&p, metric) {
                let row = kit_rows.get_mut(&function).unwrap();
                *row -= v;
                unshown += v;
            }
            kit_rows.retain(|_, v| *v != 0);
            assert_eq!(pprof_rows, kit_rows, "{name} {index}: functions");
            assert_eq!(shown, kit_total - unshown, "{name} {index}: shown");
            if metric == Metric::TotalBytes {
                assert!(!kit_rows.is_empty(), "{name}: a real comparison");
            }
        }
        // Without block lifetimes there are no live figures to ask for.
        if !p.bklt {
            let bad = Command::new("go")
                .args(["tool", "pprof", "-top", "-sample_index=gmax_bytes"])
                .arg(&out)
                .output()
                .unwrap();
            assert!(!bad.status.success(), "{name}: no gmax_bytes sample type");
        }
    }
}

/// Each stack of `p` with total bytes, leaf first, as `go tool pprof -traces` names its frames:
/// a frame inlined into its caller (the next frame, at the same address, not a recursive call of
/// a frame already in the run) marked `(inline)`; stacks added up.
fn inlined_stacks(p: &Profile) -> BTreeMap<Vec<String>, u64> {
    let mut stacks = BTreeMap::new();
    for pp in p.pps.iter().filter(|pp| pp.tb != 0) {
        let frames: Vec<u32> = pp
            .fs
            .iter()
            .copied()
            .filter(|&f| f != 0 && (f as usize) < p.ftbl.len())
            .collect();
        let mut names = Vec::new();
        let mut run: Vec<u32> = Vec::new();
        for (n, &f) in frames.iter().enumerate() {
            let frame = Frame::parse(&p.ftbl[f as usize]);
            let mut name = match frame.address {
                Some(_) if frame.is_unsymbolised() => frame.to_string(),
                _ => frame.function.to_owned(),
            };
            run.push(f);
            let caller = frames
                .get(n + 1)
                .map(|&c| Frame::parse(&p.ftbl[c as usize]));
            let inlined = caller.is_some_and(|c| {
                frame.address.is_some()
                    && c.address == frame.address
                    && !run.contains(&frames[n + 1])
            });
            if inlined {
                name.push_str(" (inline)");
            } else {
                run.clear();
            }
            names.push(name);
        }
        if names.is_empty() {
            names.push("[root]".to_owned());
        }
        *stacks.entry(names).or_insert(0) += pp.tb;
    }
    stacks
}

/// `go tool pprof -traces -unit=B` of `file` (with `-symbolize=none`, which leaves names as they
/// are, where `symbolize`): each trace's frames (leaf first) and figure, added up, and what it
/// wrote to stderr.
fn pprof_traces(file: &Path, symbolize: bool) -> (BTreeMap<Vec<String>, u64>, String) {
    let out = Command::new("go")
        .args(["tool", "pprof", "-traces", "-unit=B"])
        .args((!symbolize).then_some("-symbolize=none"))
        .arg(file)
        .output()
        .expect("runs go tool pprof");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}: {stderr}\n{text}", file.display());
    let mut traces = BTreeMap::new();
    let mut cur: Option<(Vec<String>, u64)> = None;
    for line in text.lines().skip_while(|l| !l.starts_with("-----------+")) {
        if line.starts_with("-----------+") {
            if let Some((names, v)) = cur.take() {
                *traces.entry(names).or_insert(0) += v;
            }
            continue;
        }
        match &mut cur {
            None => {
                let (value, name) = line.trim_start().split_once(' ').unwrap();
                cur = Some((vec![name.trim().to_owned()], pprof_number(value)));
            }
            Some((names, _)) => names.push(line.trim().to_owned()),
        }
    }
    (traces, stderr)
}

#[test]
fn pprof_traces_are_the_stacks_with_their_inlined_frames_and_need_no_binary() {
    if Command::new("go").arg("version").output().is_err() {
        return skip("pprof check: `go` not found (apt-get install golang)");
    }
    let dir = TempDir::new("cli_convert", "pprof-traces");
    let mut inlined = 0;
    // The frames of CLONES are named by their function, not as written (which this test's
    // stacks have): a_function_and_its_copies_are_one_in_every_format reads its traces.
    for name in FIXTURES.into_iter().filter(|&name| name != CLONES) {
        let file = fixture(name);
        let out = dir.0.join(format!("{name}.pb.gz"));
        convert(&file, "pprof", out.to_str().unwrap());
        let p = dhat_kit::profile::read(&file).unwrap();
        // pprof looks for no binary to symbolise with: the profile has a mapping that says its
        // frames are symbolised.
        let (_, stderr) = pprof_traces(&out, true);
        assert!(!stderr.contains("binary"), "{name}: {stderr}");
        // Its names as written (pprof shortens Rust and C++ names when it demangles).
        let (traces, _) = pprof_traces(&out, false);
        let want = inlined_stacks(&p);
        assert_eq!(traces, want, "{name}");
        inlined += want
            .keys()
            .flatten()
            .filter(|f| f.ends_with(" (inline)"))
            .count();
    }
    // Valgrind's copy profile (`_dl_start_final` into `_dl_start`) and dhat-rs's heap profile
    // have inlined frames.
    assert!(inlined > 10, "{inlined}");
}

/// Drives speedscope's own page in headless Chromium: loads the profile through its
/// `#localProfilePath=` importer (as its `speedscope FILE` command does), then switches to the
/// sandwich view (key `3`), whose table lists the frames. Prints one JSON object: console and page
/// errors, the page's text after loading and in the sandwich view, the number of profiles.
const DRIVER: &str = r#"
const path = require('path');
const fs = require('fs');
const [modules, profile, outdir, chromium] = process.argv.slice(2);
const puppeteer = require(path.join(modules, 'puppeteer-core'));
const sleep = ms => new Promise(r => setTimeout(r, ms));
(async () => {
  const errors = [];
  const js = path.join(outdir, 'profile.js');
  const data = fs.readFileSync(profile).toString('base64');
  fs.writeFileSync(js, `speedscope.loadFileFromBase64(${JSON.stringify(path.basename(profile))}, ${JSON.stringify(data)})`);
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: path.join(outdir, 'chromium-profile'),
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 6000 }); // every row of the sandwich table
    page.on('console', m => {
      const t = m.text();
      if (m.type() === 'error' || /fail|error/i.test(t)) errors.push(m.type() + ': ' + t);
    });
    page.on('pageerror', e => errors.push('page: ' + e.message));
    page.on('dialog', async d => { errors.push('dialog: ' + d.message()); await d.dismiss(); });
    page.on('requestfailed', r => errors.push('request failed: ' + r.url()));
    const index = path.join(modules, 'speedscope/dist/release/index.html');
    await page.goto('file://' + index + '#localProfilePath=' + encodeURIComponent(js));
    await page.waitForFunction(
      () => /\(\d+\/\d+\)/.test(document.body.innerText) || /went wrong/.test(document.body.innerText),
      { timeout: 30000 }).catch(e => errors.push('timeout: ' + e.message));
    const loaded = await page.evaluate(() => document.body.innerText);
    await page.keyboard.press('3');
    await page.waitForFunction(() => /Symbol Name/.test(document.body.innerText), { timeout: 10000 })
      .catch(e => errors.push('no sandwich view: ' + e.message));
    // The table's rows fill in after its header: read until two reads 300 ms apart agree (a
    // fixed wait of 300 ms could read a half-drawn table on a loaded machine).
    let sandwich = null, previous;
    const since = Date.now();
    do {
      previous = sandwich;
      await sleep(300);
      sandwich = await page.evaluate(() => document.body.innerText);
    } while (sandwich !== previous && Date.now() - since < 15000);
    await page.screenshot({ path: path.join(outdir, 'speedscope.png') });
    console.log(JSON.stringify({ errors, loaded, sandwich }));
  } finally {
    await browser.close();
  }
})().catch(e => { console.log(JSON.stringify({ errors: ['driver: ' + e.message], loaded: '', sandwich: '' })); });
"#;

/// The npm packages' folder: `DHAT_KIT_NPM_DIR`, else the cache `.ci/run` installs into.
fn node_modules() -> PathBuf {
    let base = std::env::var_os("DHAT_KIT_NPM_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(|c| PathBuf::from(c).join("dhat-kit/npm"))
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/dhat-kit/npm"))
                })
        })
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("node_modules")
}

/// Chromium and the npm packages the speedscope checks need: the packages' folder and the
/// browser, or None (the check skipped, or failed where the tools are required).
fn speedscope_tools() -> Option<(PathBuf, &'static Path)> {
    let modules = node_modules();
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        skip("speedscope check: /usr/bin/chromium not found (apt-get install chromium)");
        return None;
    }
    if Command::new("node").arg("--version").output().is_err() {
        skip("speedscope check: `node` not found (apt-get install nodejs npm)");
        return None;
    }
    for package in [
        "speedscope/dist/release/index.html",
        "puppeteer-core/package.json",
    ] {
        if !modules.join(package).exists() {
            skip(&format!(
                "speedscope check: {} not found (npm install --prefix {} speedscope puppeteer-core)",
                modules.join(package).display(),
                modules.parent().unwrap().display()
            ));
            return None;
        }
    }
    Some((modules, chromium))
}

/// Loads `file` in speedscope's page (with the [`DRIVER`] in `dir`), which must show no error:
/// the page's text after loading, and in the sandwich view.
fn load_in_speedscope(
    (modules, chromium): &(PathBuf, &Path),
    dir: &Path,
    file: &Path,
    name: &str,
) -> (String, String) {
    let driver = dir.join("driver.cjs");
    if !driver.exists() {
        std::fs::write(&driver, DRIVER).unwrap();
    }
    let run_dir = dir.join(name);
    std::fs::create_dir_all(&run_dir).unwrap();
    let result = Command::new("node")
        .arg(&driver)
        .arg(modules)
        .arg(file)
        .arg(&run_dir)
        .arg(chromium)
        .output()
        .expect("runs node");
    let stdout = String::from_utf8_lossy(&result.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{name}: driver output is not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&result.stderr)
        )
    });
    assert_eq!(
        v["errors"],
        serde_json::json!([]),
        "{name}: errors in speedscope"
    );
    let loaded = v["loaded"].as_str().unwrap();
    assert!(!loaded.contains("went wrong"), "{name}: {loaded}");
    assert!(
        run_dir.join("speedscope.png").exists(),
        "{name}: screenshot"
    );
    (
        loaded.to_owned(),
        v["sandwich"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn speedscope_loads_every_fixture() {
    let Some(tools) = speedscope_tools() else {
        return;
    };
    let dir = TempDir::new("cli_convert", "speedscope");
    for name in FIXTURES {
        let file = fixture(name);
        let out = dir.0.join(format!("{name}.speedscope.json"));
        convert(&file, "speedscope", out.to_str().unwrap());
        let p = dhat_kit::profile::read(&file).unwrap();
        let profiles = 2 + if p.bklt { 4 } else { 0 } + if p.bkacc { 2 } else { 0 };
        let (loaded, sandwich) = load_in_speedscope(&tools, &dir.0, &out, name);
        // The first profile, by name, and the count of them (one per figure).
        let unit = p.unit_plural();
        let title = format!("{unit} total: {name}.json (1/{profiles})");
        assert!(
            loaded.contains(&title),
            "{name}: no {title:?} in:\n{loaded}"
        );
        // The frames: the functions `dhat-kit top` ranks first are in the sandwich table.
        let (_, rows) = kit_top(&file, "total-bytes");
        assert!(!rows.is_empty());
        for function in rows.keys() {
            assert!(
                sandwich.lines().any(|l| l.trim() == function),
                "{name}: no frame {function:?} in the sandwich view:\n{sandwich}"
            );
        }
    }
}

/// A heap profile of `points` program points, stacks of 2 to 9 frames under `main` out of 300
/// functions, figures often 0 (so that each figure has samples of its own); deterministic.
fn many_points(points: usize) -> String {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |n: u64| {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    };
    let pps: Vec<String> = (0..points)
        .map(|_| {
            let mut fs: Vec<String> = (0..1 + next(8)).map(|_| (2 + next(300)).to_string()).collect();
            fs.push("1".to_owned());
            let tbk = 1 + next(50);
            let (gbk, ebk) = (next(2) * next(tbk + 1), next(3) / 2 * next(tbk + 1));
            format!(
                r#"{{"tb":{},"tbk":{tbk},"tl":1,"mb":0,"mbk":0,"gb":{},"gbk":{gbk},"eb":{},"ebk":{ebk},"fs":[{}]}}"#,
                tbk * 16,
                gbk * 16,
                ebk * 16,
                fs.join(",")
            )
        })
        .collect();
    let ftbl: Vec<String> = (2..302)
        .map(|i| format!(r#""0x{i:x}: app::f{i} (src/f{}.rs:{i})""#, i % 7))
        .collect();
    format!(
        r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
        "tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"tg":5,"te":9,
        "pps":[{}],"ftbl":["[root]","0x1: app::main (src/main.rs:1)",{}]}}"#,
        pps.join(","),
        ftbl.join(",")
    )
}

/// A profile of more program points than the writer's part of a walk (8192): the parts, walked by
/// threads and joined, make a file speedscope loads, whose samples are the fold's stacks.
#[test]
fn speedscope_loads_a_profile_of_many_parts() {
    let dir = TempDir::new("cli_convert", "speedscope-parts");
    let file = dir.join("many.json");
    std::fs::write(&file, many_points(40_000)).unwrap();
    let out = dir.join("many.speedscope.json");
    convert(&file, "speedscope", out.to_str().unwrap());
    // Every figure's samples and weights add up to its total, and name only frames there are.
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let frames = v["shared"]["frames"].as_array().unwrap().len();
    assert_eq!(
        v["shared"]["frames"][0]["name"], "app::main",
        "the most used first"
    );
    let profiles = v["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), 6);
    for p in profiles {
        let (samples, weights) = (
            p["samples"].as_array().unwrap(),
            p["weights"].as_array().unwrap(),
        );
        assert_eq!(samples.len(), weights.len());
        assert!(samples.len() > 8192, "{}: {}", p["name"], samples.len());
        let sum: u64 = weights.iter().map(|w| w.as_u64().unwrap()).sum();
        assert_eq!(p["endValue"].as_u64().unwrap(), sum, "{}", p["name"]);
        for s in samples {
            let s = s.as_array().unwrap();
            assert_eq!(s[0], 0, "main outermost");
            assert!(s.iter().all(|k| (k.as_u64().unwrap() as usize) < frames));
        }
    }
    let Some(tools) = speedscope_tools() else {
        return;
    };
    let (loaded, sandwich) = load_in_speedscope(&tools, &dir.0, &out, "many");
    assert!(
        loaded.contains("bytes total: many.json (1/6)"),
        "no first profile in:\n{loaded}"
    );
    assert!(
        sandwich.lines().any(|l| l.trim() == "app::main"),
        "no app::main in the sandwich view:\n{sandwich}"
    );
}

#[test]
fn folded_is_the_fold_of_the_library_and_adds_up() {
    let dir = TempDir::new("cli_convert", "folded");
    for name in FIXTURES {
        let file = fixture(name);
        let p = dhat_kit::profile::read(&file).unwrap();
        let out = dir.0.join(format!("{name}.folded"));
        convert(&file, "folded", out.to_str().unwrap());
        let text = std::fs::read_to_string(&out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let expected =
            dhat_kit::analyze::folded(&p, dhat_kit::analyze::Metric::TotalBytes).unwrap();
        assert_eq!(lines, expected, "{name}");
        let sum: u64 = lines
            .iter()
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, p.totals().bytes, "{name}");
        // To stdout, by another figure.
        let blocks = ok(&[
            "convert",
            file.to_str().unwrap(),
            "--to",
            "folded",
            "--by",
            "total-blocks",
            "-o",
            "-",
        ]);
        let sum: u64 = blocks
            .lines()
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, p.totals().blocks, "{name}");
    }
}

#[test]
fn a_function_and_its_copies_are_one_in_every_format() {
    let file = fixture(CLONES);
    let p = dhat_kit::profile::read(&file).unwrap();
    assert!(
        p.ftbl.iter().any(|f| f.contains("[clone .constprop.0]")),
        "the fixture has GCC's copy"
    );
    let dir = TempDir::new("cli_convert", "clones");
    let copy = |s: &str| s.contains("[clone") || s.contains("constprop");

    // Folded stacks: one frame, the copies' figures added up where their stacks meet.
    let folded = ok(&[
        "convert",
        file.to_str().unwrap(),
        "--to",
        "folded",
        "-o",
        "-",
    ]);
    let lines: Vec<&str> = folded.lines().collect();
    for want in [
        "main;app::fill_both(int, int);app::fill(int, int);malloc 512",
        "main;app::fill_zeros(int);app::fill(int, int);malloc 2400",
    ] {
        assert!(lines.contains(&want), "no {want:?} in:\n{folded}");
    }
    assert!(!copy(&folded), "{folded}");

    // speedscope: one frame, in the stacks of both.
    let out = dir.join("clones.speedscope.json");
    convert(&file, "speedscope", out.to_str().unwrap());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let frames = v["shared"]["frames"].as_array().unwrap();
    let fill: Vec<usize> = (0..frames.len())
        .filter(|&i| frames[i]["name"] == "app::fill(int, int)")
        .collect();
    assert_eq!(fill.len(), 1, "{frames:?}");
    assert!(
        !frames.iter().any(|f| copy(f["name"].as_str().unwrap())),
        "{frames:?}"
    );
    let bytes = &v["profiles"][0];
    let through_fill: u64 = bytes["samples"]
        .as_array()
        .unwrap()
        .iter()
        .zip(bytes["weights"].as_array().unwrap())
        .filter(|(s, _)| s.as_array().unwrap().iter().any(|k| k == fill[0]))
        .map(|(_, w)| w.as_u64().unwrap())
        .sum();
    assert_eq!(through_fill, 512 + 2400);

    // pprof: one row, named as written and as pprof demangles it, and no copy in its traces.
    if Command::new("go").arg("version").output().is_err() {
        return skip("pprof check: `go` not found (apt-get install golang)");
    }
    let out = dir.join("clones.pb.gz");
    convert(&file, "pprof", out.to_str().unwrap());
    let hide = boring_functions(&p);
    for (symbolize, name) in [
        ("-symbolize=none", "app::fill(int, int)"),
        ("", "app::fill(int, int)"),
    ] {
        let (_, _, rows) = pprof_top_with(&out, "total_bytes", &hide, symbolize);
        assert_eq!(rows.get(name), Some(&(512 + 2400)), "{symbolize}: {rows:?}");
        assert!(!rows.keys().any(|r| copy(r)), "{symbolize}: {rows:?}");
    }
    for symbolize in [false, true] {
        let (traces, _) = pprof_traces(&out, symbolize);
        let frames: Vec<&String> = traces.keys().flatten().collect();
        assert!(!frames.iter().any(|f| copy(f)), "{frames:?}");
    }
}

#[test]
fn without_output_it_writes_into_the_current_directory_with_the_formats_extension() {
    let dir = TempDir::new("cli_convert", "default-name");
    let file = fixture("valgrind-heap");
    for (to, name) in [
        ("pprof", "valgrind-heap.pb.gz"),
        ("speedscope", "valgrind-heap.speedscope.json"),
        ("folded", "valgrind-heap.folded"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .args(["convert", file.to_str().unwrap(), "--to", to])
            .current_dir(&dir.0)
            .output()
            .unwrap();
        assert!(out.status.success(), "{to}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("dhat-kit: wrote {name}\n")
        );
        assert!(dir.join(name).metadata().unwrap().len() > 0, "{name}");
    }
    let help = ok(&["convert", "--help"]);
    assert!(help.contains("pprof") && help.contains("speedscope") && help.contains("folded"));
    // --by is folded stacks' alone, and the help says what the other formats carry.
    assert!(
        help.contains("pprof and speedscope ignore it") && help.contains("reads and writes"),
        "{help}"
    );
}

/// pprof's gzip-compressed output is not written to a terminal (`-o -` on a terminal: it only
/// garbled the screen); through a pipe it is, whole.
#[test]
fn pprof_output_is_not_written_to_a_terminal() {
    let file = fixture("valgrind-heap");
    let args = [
        "convert",
        file.to_str().unwrap(),
        "--to",
        "pprof",
        "-o",
        "-",
    ];
    let tty = support::on_a_terminal(&args);
    let screen = String::from_utf8_lossy(&tty.stdout);
    assert_eq!(tty.status.code(), Some(2), "{screen}");
    assert!(
        screen.contains("dhat-kit: stdout: expected a file or a pipe")
            && screen.contains("not a terminal"),
        "{screen}"
    );
    // No gzip stream began (its magic bytes, 1f 8b).
    assert!(
        !tty.stdout.windows(2).any(|w| w == [0x1f, 0x8b]),
        "{screen}"
    );
    // Piped: the whole gzip stream.
    let piped = run(&args);
    assert!(piped.status.success(), "{piped:?}");
    assert_eq!(&piped.stdout[..2], &[0x1f, 0x8b]);
    // Folded stacks are text: written to the terminal as asked.
    let folded = support::on_a_terminal(&[&args[..3], &["folded", "-o", "-"]].concat());
    assert!(folded.status.success(), "{folded:?}");
    assert!(String::from_utf8_lossy(&folded.stdout).contains(';'));
}

/// Runs `dhat-kit convert ARGS`, which must exit 2 (bad input): its stderr.
fn refused(args: &[&str]) -> String {
    let out = run(&[&["convert"], args].concat());
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_input_exits_2_naming_the_file() {
    let dir = TempDir::new("cli_convert", "bad");
    let missing = dir.join("missing.json");
    let err = refused(&[missing.to_str().unwrap(), "--to", "pprof"]);
    assert!(
        err.contains("missing.json") && err.lines().count() == 1,
        "{err}"
    );

    let ad_hoc = fixture("valgrind-ad-hoc");
    let err = refused(&[
        ad_hoc.to_str().unwrap(),
        "--to",
        "folded",
        "--by",
        "peak-bytes",
        "-o",
        dir.join("x.folded").to_str().unwrap(),
    ]);
    assert!(
        err.contains("valgrind-ad-hoc.json")
            && err.contains("peak-bytes needs a heap profile")
            && err.contains("this `ad-hoc` profile has none"),
        "{err}"
    );
    assert!(
        !dir.join("x.folded").exists(),
        "nothing written on a bad request"
    );

    let unwritable = dir.join("no-such-dir/out.pb.gz");
    let err = refused(&[
        ad_hoc.to_str().unwrap(),
        "--to",
        "pprof",
        "-o",
        unwritable.to_str().unwrap(),
    ]);
    assert!(err.contains("no-such-dir/out.pb.gz"), "{err}");
}

/// An ad-hoc profile whose units add up beyond pprof's signed 64-bit values: the error names the
/// profile (the output is not at fault) and the figure in the profile's units.
#[test]
fn a_figure_beyond_pprofs_range_names_the_profile_and_its_units() {
    let dir = TempDir::new("cli_convert", "range");
    let file = dir.join("huge.json");
    std::fs::write(
        &file,
        r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
        "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s",
        "cmd":"app","pid":1,"te":9,
        "pps":[{"tb":9223372036854775807,"tbk":1,"fs":[1]},{"tb":9,"tbk":1,"fs":[1]}],
        "ftbl":["[root]","0x1: app::main (src/main.rs:4:9)"]}"#,
    )
    .unwrap();
    let out_file = dir.join("huge.pb.gz");
    let err = refused(&[
        file.to_str().unwrap(),
        "--to",
        "pprof",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert!(
        err.starts_with(&format!(
            "dhat-kit: {}: total_units adds up to 9223372036854775816, above pprof's",
            file.display()
        )) && err.lines().count() == 1,
        "{err}"
    );
    assert!(
        !err.contains("writable") && !err.contains("huge.pb.gz"),
        "{err}"
    );
    assert!(!out_file.exists(), "nothing written");
    // The other formats hold the figure.
    convert(&file, "folded", dir.join("huge.folded").to_str().unwrap());
}

/// The README's `-hide` pattern, as `go tool pprof -top FILE` runs (its names demangled where
/// it takes them for symbols): the rows are the program's functions, named as `top` names them.
/// (pprof shortened `<alloc::alloc::Global as core::alloc::Allocator>::allocate` to `::allocate`
/// while a Function's system name was its name, which no such pattern hid.)
#[test]
fn the_readmes_hide_pattern_leaves_the_programs_functions() {
    if Command::new("go").arg("version").output().is_err() {
        return skip("pprof check: `go` not found (apt-get install golang)");
    }
    let dir = TempDir::new("cli_convert", "readme-hide");
    let out = dir.join("dhat-rs-heap.pb.gz");
    convert(&fixture("dhat-rs-heap"), "pprof", out.to_str().unwrap());
    let hide = "^(malloc|calloc|realloc|__rust.*|alloc::.*|core::.*|std::.*|hashbrown::.*|<.*)$";
    let (_, _, rows) = pprof_top_with(&out, "total_bytes", hide, "");
    assert_eq!(
        rows.get("dhat_rs_fixture::tokenize"),
        Some(&12_192),
        "{rows:?}"
    );
    assert!(
        rows.keys().all(|f| f.starts_with("dhat_rs_fixture::")),
        "{rows:?}"
    );
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    assert!(
        readme.unwrap().contains(&format!("-hide='{hide}'")),
        "the README shows this pattern"
    );
}
