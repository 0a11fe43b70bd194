//! `dhat-kit report FILE [--before OLD] -o report.html`, opened in a real browser: headless
//! Chromium, from `file://`, with the network off. The DOM holds the profile's totals and the top
//! sites in `dhat-kit top`'s order; sorting by another figure, filtering, grouping and a row's call
//! stack work through the page's own controls (clicked and typed by the page's `#do=` steps); a
//! screenshot is taken; nothing is logged to the console.
//!
//! Where Chromium is missing these tests say they were skipped (CI installs it: `.ci/run`).

use std::path::{Path, PathBuf};
use std::process::Command;

use dhat_kit::analyze::{self, GroupBy, Metric, TopOptions};
use dhat_kit::profile::Profile;

mod support;
use support::{fixture, thousands, TempDir};

/// `dhat-kit report ARGS..`, which must succeed.
fn report(args: &[&std::ffi::OsStr]) {
    let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .arg("report")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Chromium, or `None` (the test says it is skipped).
fn chromium(test: &str) -> Option<PathBuf> {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    println!("{test}: skipped: chromium not found (apt-get install -y chromium; .ci/run does)");
    None
}

/// For a test in Chromium: Chromium, a fresh directory named `dir`, the report of the fixture
/// `name` in it (`report.html`) and the profile; `None` where Chromium is missing (the test says
/// it is skipped).
fn fixture_report(
    test: &str,
    dir: &str,
    name: &str,
) -> Option<(PathBuf, TempDir, PathBuf, Profile)> {
    let chrome = chromium(test)?;
    let dir = TempDir::new("report", dir);
    let html = dir.0.join("report.html");
    let file = fixture(name);
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    let p = dhat_kit::profile::read(&file).unwrap();
    Some((chrome, dir, html, p))
}

/// Loads `file#hash` in headless Chromium (fresh profile, no network) and returns the DOM after
/// the page's scripts ran; asserts that nothing reached the console (no error, no warning, in
/// the page or its flame graph's frame). With `png`, takes a screenshot instead and returns "".
fn browse(chrome: &Path, dir: &Path, file: &Path, hash: &str, png: Option<&Path>) -> String {
    let profile_dir = dir.join(format!(
        "chrome-{}",
        hash.len() + usize::from(png.is_some())
    ));
    let _ = std::fs::remove_dir_all(&profile_dir);
    let mut cmd = Command::new(chrome);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        // The network off: every request would go to a proxy that is not there.
        "--proxy-server=127.0.0.1:9",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=10000",
    ])
    .arg(format!("--user-data-dir={}", profile_dir.display()));
    match png {
        Some(png) => {
            cmd.arg("--window-size=1400,2000")
                .arg(format!("--screenshot={}", png.display()));
        }
        None => {
            cmd.arg("--dump-dom");
        }
    }
    let url = format!("file://{}{hash}", file.display());
    let out = cmd.arg(&url).output().unwrap();
    let _ = std::fs::remove_dir_all(&profile_dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(
        console.is_empty(),
        "console output at {url}:\n{}",
        console.join("\n")
    );
    assert!(out.status.success(), "chromium failed at {url}:\n{stderr}");
    let mut dom = String::from_utf8_lossy(&out.stdout).into_owned();
    if png.is_none() {
        assert!(
            dom.contains("data-done=\"1\""),
            "the page's script did not finish at {url}"
        );
        assert!(
            dom.contains("<pre id=\"errors\" hidden=\"\"></pre>"),
            "errors at {url}"
        );
        // The rendered page only: not its data or script, which follow.
        let data = dom
            .find("<script type=\"application/json\"")
            .expect("no data");
        dom.truncate(data);
    }
    dom
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The value of `attr="..."` in `tag`.
fn attr(tag: &str, attr: &str) -> Option<String> {
    let key = format!(" {attr}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + end]))
}

/// The opening tags that contain `marker`, in document order.
fn tags<'a>(dom: &'a str, marker: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = dom[from..].find(marker) {
        let at = from + i;
        let start = dom[..=at].rfind('<').unwrap();
        let end = at + dom[at..].find('>').unwrap();
        out.push(&dom[start..=end]);
        from = end;
    }
    out
}

/// The labels of the top table's rows, in order.
fn rows(dom: &str) -> Vec<String> {
    tags(dom, "<tr data-i=")
        .into_iter()
        .map(|t| attr(t, "data-label").unwrap())
        .collect()
}

/// The element with `id`: its opening tag and its text (tags removed).
fn element<'a>(dom: &'a str, id: &str) -> (&'a str, String) {
    let key = format!(" id=\"{id}\"");
    let at = dom.find(&key).unwrap_or_else(|| panic!("no #{id}"));
    let start = dom[..at].rfind('<').unwrap();
    let open_end = at + dom[at..].find('>').unwrap();
    let close = open_end + dom[open_end..].find("</").unwrap();
    let mut text = String::new();
    let mut inside = false;
    for c in dom[open_end + 1..close].chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => text.push(c),
            _ => {}
        }
    }
    (&dom[start..=open_end], unescape(&text))
}

/// `html` with `script` run after the page's own (after its `#do=` steps): a copy, whose path is
/// returned. The script writes what it measures into the document's `data-*` attributes.
fn with_script(dir: &Path, html: &Path, script: &str) -> PathBuf {
    let page = std::fs::read_to_string(html).unwrap();
    let (head, tail) = page.rsplit_once("</body>").unwrap();
    let measured = dir.join("measured.html");
    std::fs::write(
        &measured,
        format!("{head}<script>{script}</script>\n</body>{tail}"),
    )
    .unwrap();
    measured
}

/// The sorted column of the table whose head holds `head_id`: its key, and its `aria-sort`.
fn sorted_column(dom: &str, head_id: &str) -> (String, String) {
    let at = dom.find(&format!(" id=\"{head_id}\"")).unwrap();
    let head = &dom[at..at + dom[at..].find("</thead>").unwrap()];
    let sorted = tags(head, " aria-sort=\"");
    assert_eq!(
        sorted.len(),
        1,
        "one column says how the table is sorted: {head}"
    );
    let from = head.find(sorted[0]).unwrap();
    let button = tags(&head[from..], "<button ")[0];
    (
        attr(button, "data-key").unwrap(),
        attr(sorted[0], "aria-sort").unwrap(),
    )
}

/// The report of `after` (written to `dir/after.json`) compared with the profile at `before`:
/// `dir/report.html`.
fn diff_report(dir: &Path, before: &Path, after: &Profile) -> PathBuf {
    let file = dir.join("after.json");
    after.write(&file).unwrap();
    let html = dir.join("report.html");
    report(&[
        file.as_os_str(),
        "--before".as_ref(),
        before.as_os_str(),
        "-o".as_ref(),
        html.as_os_str(),
    ]);
    html
}

/// The values of `name` on the cells of the row whose opening tag is `row`.
fn cells(dom: &str, row: &str, name: &str) -> Vec<String> {
    let at = dom.find(row).unwrap();
    let row = &dom[at..at + dom[at..].find("</tr>").unwrap()];
    tags(row, &format!(" {name}=\""))
        .into_iter()
        .filter(|t| t.starts_with("<td"))
        .map(|t| attr(t, name).unwrap())
        .collect()
}

fn top(p: &Profile, by: Metric, group_by: GroupBy, n: usize) -> analyze::Top {
    analyze::top(p, &{
        let mut opts = TopOptions::default();
        (opts.n, opts.by, opts.group_by, opts.stack) = (n, by, group_by, 64);
        opts
    })
    .unwrap()
}

fn labels(t: &analyze::Top) -> Vec<String> {
    t.rows.iter().map(|r| r.site.clone()).collect()
}

#[test]
fn heap_report_shows_totals_and_sorts_filters_groups_and_stacks_in_a_browser() {
    let Some(chrome) = chromium("heap report") else {
        return;
    };
    let dir = TempDir::new("report", "heap");
    let html = dir.0.join("report.html");
    let file = fixture("dhat-rs-heap.json");
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    let p = dhat_kit::profile::read(&file).unwrap();
    let s = analyze::summary(&p);

    let dom = browse(&chrome, &dir.0, &html, "", None);
    let (tag, text) = element(&dom, "sum-total");
    assert_eq!(attr(tag, "data-v"), Some(s.total_bytes.to_string()));
    assert_eq!(attr(tag, "data-blocks"), Some(s.total_blocks.to_string()));
    assert_eq!(text, "17,484 bytes in 379 blocks (17.1 KiB)");
    let (tag, text) = element(&dom, "sum-peak");
    assert_eq!(attr(tag, "data-v"), s.peak_bytes.map(|v| v.to_string()));
    assert_eq!(
        text,
        format!(
            "{} bytes in {} blocks (9.1 KiB)",
            thousands(s.peak_bytes.unwrap()),
            thousands(s.peak_blocks.unwrap())
        )
    );
    let (tag, _) = element(&dom, "sum-end");
    assert_eq!(attr(tag, "data-v"), s.end_bytes.map(|v| v.to_string()));
    assert_eq!(element(&dom, "sum-mode").1, "rust-heap (heap)");
    assert_eq!(element(&dom, "sum-command").1, p.cmd);
    // The rows in `dhat-kit top`'s order, all 7 sites.
    let by_bytes = top(&p, Metric::TotalBytes, GroupBy::Site, 0);
    assert_eq!(by_bytes.rows.len(), 7);
    assert_eq!(rows(&dom), labels(&by_bytes));
    assert_eq!(
        rows(&dom)[0],
        "dhat_rs_fixture::tokenize (main/examples/dhat_rs_fixture.rs:18)"
    );
    // Each row's figures, exact, in data-v.
    let first = tags(&dom, "data-key=\"total_blocks\" data-v=");
    assert_eq!(
        attr(first[0], "data-v"),
        Some(by_bytes.rows[0].figures.total_blocks.to_string())
    );
    assert!(dom.contains("<iframe id=\"flame-frame\""), "no flame graph");
    assert_eq!(element(&dom, "table-note").1, "7 sites, all shown.");
    assert!(element(&dom, "peak-note").0.contains(" hidden"));

    // Sorting by blocks: a click on its header; a second click turns it ascending.
    let by_blocks = top(&p, Metric::TotalBlocks, GroupBy::Site, 0);
    assert_ne!(labels(&by_blocks), labels(&by_bytes));
    let dom = browse(&chrome, &dir.0, &html, "#do=sort:total_blocks", None);
    assert_eq!(rows(&dom), labels(&by_blocks));
    let dom = browse(
        &chrome,
        &dir.0,
        &html,
        "#do=sort:total_blocks;sort:total_blocks",
        None,
    );
    let mut ascending: Vec<(u64, String)> = by_blocks
        .rows
        .iter()
        .map(|r| (r.value, r.site.clone()))
        .collect();
    ascending.sort();
    assert_eq!(
        rows(&dom),
        ascending.into_iter().map(|(_, s)| s).collect::<Vec<_>>()
    );
    // At t-end: the one site with bytes live at the end comes first.
    // (`top` lists the rows whose figure is not 0; the page lists every row, those after them.)
    let by_end = top(&p, Metric::EndBytes, GroupBy::Site, 0);
    let dom = browse(&chrome, &dir.0, &html, "#do=sort:end_bytes", None);
    let shown = rows(&dom);
    assert_eq!(shown.len(), by_end.groups);
    assert_eq!(shown[..by_end.rows.len()], labels(&by_end)[..]);

    // Filtering by text, case-insensitively, in the current order.
    let dom = browse(&chrome, &dir.0, &html, "#do=filter:Fixture%3A%3AR", None);
    let want: Vec<String> = labels(&by_bytes)
        .into_iter()
        .filter(|l| l.to_lowercase().contains("fixture::r"))
        .collect();
    assert_eq!(want.len(), 1);
    assert_eq!(rows(&dom), want);
    assert_eq!(element(&dom, "count").1, "1 of 7 rows shown (filtered)");

    // Grouped by function, sorted by bytes at t-gmax; the first row's call stack on click.
    let by_fn = top(&p, Metric::PeakBytes, GroupBy::Function, 0);
    let dom = browse(
        &chrome,
        &dir.0,
        &html,
        "#do=group:function;sort:peak_bytes;click:0",
        None,
    );
    assert_eq!(rows(&dom), labels(&by_fn));
    // The stack kept with a row is its heaviest point's by total bytes.
    let first = &by_fn.rows[0].site;
    let fn_rows = top(&p, Metric::TotalBytes, GroupBy::Function, 0);
    let stack = &fn_rows
        .rows
        .iter()
        .find(|r| &r.site == first)
        .unwrap()
        .stack;
    assert!(stack.len() >= 2, "{stack:?}");
    let list = &dom[dom
        .find("<ol id=\"stack-frames\">")
        .expect("no call stack shown")..];
    let shown: Vec<String> = list[..list.find("</ol>").unwrap()]
        .split("<li>")
        .skip(1)
        .map(|l| unescape(l.trim_end_matches("</li>")))
        .collect();
    assert_eq!(&shown, stack);
    assert!(dom.contains(&format!("<h3>{}</h3>", first)), "{first}");

    // A screenshot.
    let png = dir.0.join("report.png");
    browse(&chrome, &dir.0, &html, "", Some(&png));
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 20_000, "{} bytes", bytes.len());
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dhat-kit-report.png");
    std::fs::copy(&png, &keep).unwrap();
    println!("heap report: screenshot in {}", keep.display());
}

#[test]
fn the_page_is_self_contained() {
    let dir = TempDir::new("report", "contained");
    let html = dir.0.join("r.html");
    report(&[
        fixture("valgrind-heap.json").as_os_str(),
        "-o".as_ref(),
        html.as_os_str(),
    ]);
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.starts_with("<!DOCTYPE html>"));
    assert!(text.contains("content=\"default-src 'none';"), "no CSP");
    for forbidden in [
        "<link",
        "@import",
        "src=\"http",
        "href=",
        "url(",
        "<script src",
    ] {
        assert!(!text.contains(forbidden), "{forbidden}");
    }
    // Every iframe's source is data.
    for t in tags(&text, "<iframe ") {
        assert!(
            attr(t, "src")
                .unwrap()
                .starts_with("data:image/svg+xml;base64,"),
            "{t}"
        );
    }
}

#[test]
fn ad_hoc_report_uses_its_units() {
    let Some((chrome, dir, html, p)) =
        fixture_report("ad-hoc report", "ad-hoc", "valgrind-ad-hoc.json")
    else {
        return;
    };
    let dom = browse(&chrome, &dir.0, &html, "", None);
    assert_eq!(element(&dom, "sum-total").1, "12,038 units in 107 events");
    assert!(!dom.contains(" id=\"sum-peak\""));
    assert!(!dom.contains("data-key=\"peak_bytes\""));
    assert_eq!(element(&dom, "sum-mode").1, "ad-hoc (ad-hoc)");
    let t = top(&p, Metric::TotalBytes, GroupBy::Site, 0);
    assert_eq!(rows(&dom), labels(&t));
    let cells = tags(&dom, "data-key=\"total_bytes\" data-v=");
    assert_eq!(attr(cells[0], "data-v"), Some(t.rows[0].value.to_string()));
    let first_cell_text = {
        let at = dom.find(cells[0]).unwrap() + cells[0].len();
        &dom[at..at + dom[at..].find('<').unwrap()]
    };
    assert_eq!(
        first_cell_text,
        format!("{} units", thousands(t.rows[0].value))
    );
    assert!(
        dom.contains(">total units</button></th>") && dom.contains(">total events</button></th>")
    );
}

/// An ad-hoc diff's totals and ranking are named in units and events, never bytes and blocks.
#[test]
fn ad_hoc_diff_report_names_units_and_events() {
    let Some(chrome) = chromium("ad-hoc diff report") else {
        return;
    };
    let dir = TempDir::new("report", "ad-hoc-diff");
    let html = dir.0.join("report.html");
    let before = fixture("dhat-rs-ad-hoc.json");
    let after = fixture("valgrind-ad-hoc.json");
    report(&[
        after.as_os_str(),
        "--before".as_ref(),
        before.as_os_str(),
        "-o".as_ref(),
        html.as_os_str(),
    ]);
    let dom = browse(&chrome, &dir.0, &html, "", None);
    let at = dom.find(" id=\"diff-totals\"").expect("no #diff-totals");
    let totals = &dom[at..at + dom[at..].find("</table>").unwrap()];
    assert!(
        totals.contains(">total units</td>") && totals.contains(">total events</td>"),
        "{totals}"
    );
    // The rows' keys (`data-name`) stay the figures' names; no text says bytes or blocks.
    assert!(
        !totals.contains(" bytes<") && !totals.contains(" blocks<"),
        "{totals}"
    );
    assert_eq!(element(&dom, "diff-by").1, "total-units");
}

/// Figures above 2^53 (ad-hoc units may reach them) are rounded by the page's numbers: the page
/// says so, and says nothing where every figure is exact.
#[test]
fn a_report_says_when_its_figures_are_rounded() {
    let Some(chrome) = chromium("rounded report") else {
        return;
    };
    let dir = TempDir::new("report", "rounded");
    let text = std::fs::read_to_string(fixture("valgrind-ad-hoc.json")).unwrap();
    let mut profile: serde_json::Value = serde_json::from_str(&text).unwrap();
    profile["pps"][0]["tb"] = serde_json::json!(9_007_199_254_740_993u64);
    let big = dir.0.join("big.json");
    std::fs::write(&big, profile.to_string()).unwrap();
    // A time past 2^53, its totals small: the note was hidden.
    let mut long: serde_json::Value = serde_json::from_str(&text).unwrap();
    long["te"] = serde_json::json!(9_007_199_254_740_993u64);
    let long_file = dir.0.join("long.json");
    std::fs::write(&long_file, long.to_string()).unwrap();
    for (file, rounded) in [
        (big, true),
        (long_file, true),
        (fixture("valgrind-ad-hoc.json"), false),
    ] {
        let html = dir.0.join("report.html");
        report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
        let dom = browse(&chrome, &dir.0, &html, "", None);
        let (tag, note) = element(&dom, "rounded");
        assert_eq!(!tag.contains(" hidden"), rounded, "{file:?}: {tag}");
        assert!(note.starts_with("Some figures are above 253"), "{note}");
    }
}

/// A sampled profile's page says, above its tables, that the site figures are estimates and what
/// they rest on (it said so only in a diff), and a run under a second reads in milliseconds.
#[test]
fn a_sampled_report_says_its_sites_are_estimates() {
    let Some(chrome) = chromium("sampled report") else {
        return;
    };
    let dir = TempDir::new("report", "sampled");
    let file = dir.0.join("dhat-sampled.json");
    std::fs::write(
        &file,
        r#"{"dhatFileVersion":2,"mode":"dhat-kit-sampled","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":406,"tg":5,
          "pps":[{"tb":100,"tbk":2,"tl":0,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
          "ftbl":["[root]","[unsampled remainder] estimated from 1234 samples at mean interval 524288 bytes"]}"#,
    )
    .unwrap();
    let html = dir.0.join("report.html");
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    let dom = browse(&chrome, &dir.0, &html, "", None);
    assert_eq!(
        element(&dom, "sum-sampled").1,
        "totals exact; per-site figures estimated from 1,234 samples at mean interval 512.0 KiB \
         (524,288 bytes): a site's relative error is about 1/√(its samples), and differs from run \
         to run"
    );
    assert_eq!(element(&dom, "sum-time").1, "0.406 ms");
}

#[test]
fn peak_report_shows_the_regions_with_inclusive_figures() {
    let Some((chrome, dir, html, p)) = fixture_report("peak report", "peak", "dhat-kit-peak.json")
    else {
        return;
    };
    let dom = browse(&chrome, &dir.0, &html, "", None);
    // The file's `tg` is its end, not the peak's moment: the page does not give it as one.
    assert!(!dom.contains(" id=\"sum-tgmax\""));
    // Regions have no file or crate: the menu groups them by site and function only (by file or
    // crate, one row named after the heaviest region held them all).
    let menu = &dom[dom.find(" id=\"group\"").unwrap()..];
    let menu = &menu[..menu.find("</select>").unwrap()];
    assert!(
        menu.contains(">site<") && menu.contains(">function<"),
        "{menu}"
    );
    assert!(
        !menu.contains(">file<") && !menu.contains(">crate<"),
        "{menu}"
    );
    // Each point's region path, outermost first, and the inclusive total of every prefix.
    let paths: Vec<(Vec<String>, u64)> = p
        .pps
        .iter()
        .map(|pp| {
            let path = pp
                .fs
                .iter()
                .rev()
                .map(|&f| {
                    let raw = &p.ftbl[f as usize];
                    raw.strip_prefix("region ").unwrap_or(raw).to_owned()
                })
                .collect();
            (path, pp.tb)
        })
        .collect();
    let inclusive = |prefix: &[String]| -> u64 {
        paths
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, tb)| tb)
            .sum()
    };
    // The page says what a peak profile's figures are: live bytes are not per region.
    let (tag, note) = element(&dom, "peak-note");
    assert!(!tag.contains(" hidden"), "{tag}");
    assert!(
        note.contains("they are all on “(outside any region)”"),
        "{note}"
    );
    let shown = tags(&dom, "<tr data-path=");
    assert_eq!(shown.len(), 7);
    let first = attr(shown[0], "data-path").unwrap();
    assert_eq!(first, "Interpreter::call_function");
    let second = attr(shown[1], "data-path").unwrap();
    assert_eq!(
        second,
        "Interpreter::call_function/Environment::new_child_env"
    );
    for t in &shown {
        let path: Vec<String> = attr(t, "data-path")
            .unwrap()
            .split('/')
            .map(String::from)
            .collect();
        let at = dom.find(t).unwrap();
        let row = &dom[at..at + dom[at..].find("</tr>").unwrap()];
        let cells = tags(row, "data-v=");
        // own bytes, own blocks, inclusive bytes, ...
        assert_eq!(
            attr(cells[2], "data-v"),
            Some(inclusive(&path).to_string()),
            "{path:?}"
        );
    }
    assert_eq!(
        inclusive(&["Interpreter::call_function".to_owned()]),
        95_616 + 68_902 + 30_320 // its own point's tb, then new_child_env's and new's inside it
    );
    // Shares of what was allocated inside regions, as `dhat-kit regions` gives them; none for
    // the outside row.
    let table = dhat_kit::analyze::regions(&p).unwrap();
    let text = table.render(dhat_kit::analyze::Format::Table);
    for t in &shown {
        let path = attr(t, "data-path").unwrap();
        let at = dom.find(t).unwrap();
        let row = &dom[at..at + dom[at..].find("</tr>").unwrap()];
        let share = row
            .split("<td>")
            .nth(1)
            .and_then(|c| c.split("</td>").next())
            .unwrap();
        let line = text
            .lines()
            .find(|l| l.ends_with(&format!("  {path}")))
            .unwrap();
        assert!(
            line.contains(&format!("  {share}  ")),
            "{path}: {share} in {line:?}"
        );
    }
}

#[test]
fn diff_report_shows_totals_side_by_side_and_the_sites_that_changed_in_colour() {
    let Some(chrome) = chromium("diff report") else {
        return;
    };
    let dir = TempDir::new("report", "diff");
    let before = fixture("valgrind-heap.json");
    // After: grow_table allocates twice as much, copy_block's two stacks 4,000 bytes less.
    let mut p = dhat_kit::profile::read(&before).unwrap();
    assert_eq!((p.pps[2].tb, p.pps[4].tb, p.pps[5].tb), (8128, 1000, 5000));
    p.pps[2].tb *= 2;
    p.pps[5].tb -= 4000;
    let html = diff_report(&dir.0, &before, &p);
    let dom = browse(&chrome, &dir.0, &html, "", None);
    assert_eq!(element(&dom, "diff-before").1, "valgrind-heap.json");
    let total = tags(&dom, "<tr data-name=\"total bytes\"")[0];
    assert_eq!(attr(total, "class").as_deref(), Some("up"));
    assert_eq!(cells(&dom, total, "data-v"), ["17170", "21298", "4128"]); // + 8,128 - 4,000
    let sites: Vec<(String, String)> = tags(&dom, "<tr data-label=")
        .into_iter()
        .filter(|t| !t.contains("data-i="))
        .map(|t| (attr(t, "data-label").unwrap(), attr(t, "class").unwrap()))
        .collect();
    assert_eq!(
        sites,
        [
            ("grow_table (alloc_sites.c:33)".to_owned(), "up".to_owned()),
            (
                "copy_block (alloc_sites.c:42)".to_owned(),
                "down".to_owned()
            ),
        ]
    );
    assert_eq!(
        element(&dom, "diff-note").1,
        "2 of 2 sites changed in total bytes; growth in red, shrinkage in green."
    );
    let png = dir.0.join("diff.png");
    browse(&chrome, &dir.0, &html, "", Some(&png));
    assert!(std::fs::metadata(&png).unwrap().len() > 20_000);
}

#[test]
fn capped_tables_hold_the_largest_rows_by_every_figure_and_say_so() {
    let Some(chrome) = chromium("capped report") else {
        return;
    };
    let dir = TempDir::new("report", "cap");
    let html = dir.0.join("report.html");
    let file = fixture("dhat-rs-heap.json");
    report(&[
        file.as_os_str(),
        "--rows".as_ref(),
        "2".as_ref(),
        "-o".as_ref(),
        html.as_os_str(),
    ]);
    let p = dhat_kit::profile::read(&file).unwrap();
    for key in ["total_bytes", "total_blocks", "peak_bytes", "end_bytes"] {
        let m = match key {
            "total_bytes" => Metric::TotalBytes,
            "total_blocks" => Metric::TotalBlocks,
            "peak_bytes" => Metric::PeakBytes,
            _ => Metric::EndBytes,
        };
        // The page opens sorted by total bytes (a click there would turn it ascending).
        let hash = match key {
            "total_bytes" => String::new(),
            _ => format!("#do=sort:{key}"),
        };
        let dom = browse(&chrome, &dir.0, &html, &hash, None);
        let want = top(&p, m, GroupBy::Site, 2);
        let got = rows(&dom);
        assert!(got.len() < 7, "{got:?}");
        // The end figure has one site with bytes live at the end: only it is kept for that figure.
        let nonzero: Vec<String> = want
            .rows
            .iter()
            .filter(|r| r.value > 0)
            .map(|r| r.site.clone())
            .collect();
        assert_eq!(got[..nonzero.len()], nonzero[..], "{key}");
        let note = element(&dom, "table-note").1;
        assert_eq!(
            note,
            format!(
                "This table holds the 2 largest sites by each figure: {} of 7 sites; the rest are left out of the page.",
                got.len()
            )
        );
    }
}

/// A budget file for `dhat-rs-heap.json`: `tokens` over its 1 KiB, `typo` matching nothing.
fn budgets_with_a_typo(dir: &TempDir) -> PathBuf {
    let budgets = dir.0.join("budgets.toml");
    std::fs::write(
        &budgets,
        "[[component]]\nname = \"tokens\"\nmatch = { function = \"tokenize\" }\nmax = \"1 KiB\"\n\n\
         [[component]]\nname = \"typo\"\nmatch = { function = \"tokenzie\" }\nmax = \"10%\"\n",
    )
    .unwrap();
    budgets
}

/// `--budget` puts `check --budget`'s table, verdict and warnings on the page, a component over
/// its limit (and, with `--strict`, one that claims nothing) in red; the page is written whatever
/// the verdict.
#[test]
fn a_report_with_budgets_shows_checks_table_and_verdict() {
    let Some(chrome) = chromium("budget report") else {
        return;
    };
    let dir = TempDir::new("report", "budget");
    let budgets = budgets_with_a_typo(&dir);
    let file = fixture("dhat-rs-heap.json");
    let check = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .args(["check".as_ref(), file.as_os_str(), "--budget".as_ref()])
        .arg(&budgets)
        .output()
        .unwrap();
    let table = String::from_utf8(check.stdout).unwrap();
    let verdict = table.lines().last().unwrap().to_owned();
    for strict in [false, true] {
        let html = dir.0.join(format!("report-{strict}.html"));
        let mut args = vec![
            file.as_os_str(),
            "--budget".as_ref(),
            budgets.as_os_str(),
            "-o".as_ref(),
            html.as_os_str(),
        ];
        if strict {
            args.push("--strict".as_ref());
        }
        report(&args);
        let dom = browse(&chrome, &dir.0, &html, "", None);
        assert_eq!(
            element(&dom, "budget-file").1,
            budgets.display().to_string()
        );
        let (tag, text) = element(&dom, "budget-verdict");
        assert_eq!(attr(tag, "class").as_deref(), Some("up"));
        if strict {
            assert_eq!(
                text,
                "1 of 2 components over budget: tokens (11.9 KiB > 1.0 KiB); 1 claims nothing: \
                 typo (matches nothing)"
            );
        } else {
            assert_eq!(text, verdict);
        }
        // Each row as `check` prints it, in its order, the failing ones in red.
        let rows = tags(&dom, "<tr data-status=");
        let statuses: Vec<(String, bool)> = rows
            .iter()
            .map(|t| {
                (
                    attr(t, "data-status").unwrap(),
                    attr(t, "class").as_deref() == Some("up"),
                )
            })
            .collect();
        assert_eq!(
            statuses,
            [
                ("over".to_owned(), true),
                ("unmatched".to_owned(), strict),
                ("unbudgeted".to_owned(), false),
            ]
        );
        assert!(
            dom.contains("<td class=\"label\">tokens</td>")
                && dom.contains("<td>11.9 KiB</td><td>69.7%</td><td>1.0 KiB</td><td>OVER</td>"),
            "{dom}"
        );
        assert!(
            dom.contains("matches no program point; did you mean \"tokenize\"?</li>"),
            "{dom}"
        );
    }
}

/// `report --budget` without a browser: its warnings on stderr, as `check` says them (for a CI
/// log), and a bad budget file is bad input, exit 2, one line naming it, no page.
#[test]
fn a_report_with_budgets_says_warnings_and_refuses_a_bad_file() {
    let dir = TempDir::new("report", "budget-cli");
    let budgets = budgets_with_a_typo(&dir);
    let file = fixture("dhat-rs-heap.json");
    // `report FILE --budget BUDGETS -o HTML`: the exit code and stderr.
    let report = |budgets: &Path, html: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .args(["report".as_ref(), file.as_os_str(), "--budget".as_ref()])
            .args([budgets.as_os_str(), "-o".as_ref(), html.as_os_str()])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // The warnings go to stderr too, as `check` says them, for a CI log.
    let (code, err) = report(&budgets, &dir.0.join("logged.html"));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("matches no program point; did you mean \"tokenize\"?\n"),
        "{err}"
    );
    let bad = dir.0.join("bad.toml");
    std::fs::write(&bad, "[[component]]\nname = \"x\"\nmaximum = 3\n").unwrap();
    let html = dir.0.join("bad.html");
    let (code, err) = report(&bad, &html);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "dhat-kit: {}:3: unknown field `maximum`",
            bad.display()
        )),
        "{err}"
    );
    assert!(!html.exists());
}

#[test]
fn bad_input_exits_2_with_one_line_naming_the_file() {
    let dir = TempDir::new("report", "bad");
    let bad = dir.0.join("cut.json");
    std::fs::write(&bad, b"{\"dhatFileVersion\":2,\"mode\":").unwrap();
    let html = dir.0.join("r.html");
    let good = fixture("valgrind-heap.json");
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
            .arg("report")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for args in [
        vec![bad.as_os_str(), "-o".as_ref(), html.as_os_str()],
        vec![
            good.as_os_str(),
            "--before".as_ref(),
            bad.as_os_str(),
            "-o".as_ref(),
            html.as_os_str(),
        ],
    ] {
        let (code, err) = run(&args);
        assert_eq!(code, Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("dhat-kit: {}: expected ", bad.display())),
            "{err}"
        );
    }
    assert!(!html.exists());
    let nowhere = dir.0.join("no/such/dir/r.html");
    let (code, err) = run(&[good.as_os_str(), "-o".as_ref(), nowhere.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "dhat-kit: {}: expected a writable file",
            nowhere.display()
        )),
        "{err}"
    );
}

#[test]
fn a_huge_name_takes_a_few_lines_of_its_row_and_stays_whole_in_its_title_and_stack() {
    let Some(chrome) = chromium("huge name report") else {
        return;
    };
    let dir = TempDir::new("report", "huge-name");
    // A function of 100,000 characters without a space (a deep generic type can be longer).
    let huge = format!("app::{}::build", "x".repeat(100_000));
    let json = format!(
        r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,"bkacc":false,
          "tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
          "pps":[{{"tb":800,"tbk":1,"fs":[1,2]}},{{"tb":8,"tbk":1,"fs":[2]}}],
          "ftbl":["[root]","0x1: {huge} (src/big.rs:1:1)","0x2: app::main (src/main.rs:9:5)"]}}"#
    );
    let file = dir.write("huge.json", &json);
    let html = dir.0.join("report.html");
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    // The page, measured in Chromium: each row's height in pixels, after the page's own script.
    let measured = with_script(
        &dir.0,
        &html,
        "document.documentElement.dataset.rowHeights = \
         Array.from(document.querySelectorAll('#rows tr'), (tr) => \
         Math.round(tr.getBoundingClientRect().height)).join(',');",
    );
    let label = format!("{huge} (src/big.rs:1)");
    for hash in ["", "#do=group:function"] {
        let dom = browse(&chrome, &dir.0, &measured, hash, None);
        let heights: Vec<u32> = attr(tags(&dom, " data-row-heights=")[0], "data-row-heights")
            .unwrap()
            .split(',')
            .map(|h| h.parse().unwrap())
            .collect();
        assert_eq!(heights.len(), 2, "{hash}");
        // A row of a short name is about 27 px (41 with its frame under it, grouped); three
        // lines of a name and two of its frame, under 120; the whole name, broken over the
        // cell's width, 54,000.
        assert!(heights[0] < 120, "{hash}: rows {heights:?} px high");
        assert!(heights[1] < 60, "{hash}: rows {heights:?} px high");
    }
    // The whole name: in the label's title, and in the row's call stack, shown on a click.
    let dom = browse(&chrome, &dir.0, &html, "#do=click:0", None);
    let row = tags(&dom, "<tr data-i=")[0];
    assert_eq!(attr(row, "data-label").unwrap(), label);
    let at = dom.find(row).unwrap();
    let cell = &dom[at..at + dom[at..].find("</tr>").unwrap()];
    let titled = tags(cell, " title=\"")
        .into_iter()
        .filter_map(|t| attr(t, "title"))
        .any(|t| t == label);
    assert!(titled, "no title holds the whole name");
    let (_, stack) = element(&dom, "stack-frames");
    assert!(stack.contains(&huge), "the call stack lacks the whole name");
}

/// The top table from the keyboard: each sorting header is a button in its `<th>`, whose
/// `aria-sort` says how the table is sorted; each row takes the focus (a visible outline) and
/// opens its call stack on Enter or Space; the arrows move between rows.
#[test]
fn headers_and_rows_work_from_the_keyboard() {
    let Some((chrome, dir, html, p)) =
        fixture_report("keyboard report", "keyboard", "dhat-rs-heap.json")
    else {
        return;
    };
    let by_bytes = labels(&top(&p, Metric::TotalBytes, GroupBy::Site, 0));

    let dom = browse(&chrome, &dir.0, &html, "", None);
    // label, 6 figures, share, stacks: every header but the rank's.
    let at = dom.find(" id=\"top-head\"").unwrap();
    let head = &dom[at..at + dom[at..].find("</thead>").unwrap()];
    assert_eq!(tags(head, "<th").len(), 10, "{head}");
    assert_eq!(tags(head, "<button type=\"button\"").len(), 9, "{head}");
    assert_eq!(
        sorted_column(&dom, "top-head"),
        ("total_bytes".to_owned(), "descending".to_owned())
    );
    let rows_tags = tags(&dom, "<tr data-i=");
    assert_eq!(rows_tags.len(), 7);
    assert!(rows_tags
        .iter()
        .all(|t| attr(t, "tabindex").as_deref() == Some("0")));
    let dom = browse(
        &chrome,
        &dir.0,
        &html,
        "#do=sort:total_blocks;sort:total_blocks",
        None,
    );
    assert_eq!(
        sorted_column(&dom, "top-head"),
        ("total_blocks".to_owned(), "ascending".to_owned())
    );

    // Enter, Space, and an arrow then Enter: the call stack of the row with the focus.
    for (hash, row) in [
        ("#do=focus:1;key:Enter", 1),
        ("#do=focus:2;key:%20", 2),
        (
            "#do=focus:0;key:ArrowDown;key:ArrowDown;key:ArrowUp;key:Enter",
            1,
        ),
    ] {
        let dom = browse(&chrome, &dir.0, &html, hash, None);
        let selected = tags(&dom, "<tr data-i=")
            .into_iter()
            .filter(|t| attr(t, "class").as_deref() == Some("selected"))
            .map(|t| attr(t, "data-label").unwrap())
            .collect::<Vec<_>>();
        assert_eq!(selected, [by_bytes[row].clone()], "{hash}");
        let at = dom.find(" id=\"stack\"").unwrap();
        let h3 = &dom[at + dom[at..].find("<h3>").expect("no call stack") + 4..];
        assert_eq!(
            unescape(&h3[..h3.find("</h3>").unwrap()]),
            by_bytes[row],
            "{hash}"
        );
    }

    // The focus is seen: an outline round the focused row and the focused header's button.
    // Headless Chromium gives the page its focus a moment after the parse, sometimes after an
    // inline script ran; until then no element matches `:focus`, whatever has the focus. So the
    // styles are read once the page has it (on virtual time), and a page that never gets it
    // says so.
    let measured = with_script(
        &dir.0,
        &html,
        "let tries = 0; (function measure() { \
         if (!document.hasFocus() && ++tries < 400) { setTimeout(measure, 25); return; } \
         const d = document.documentElement.dataset; \
         if (!document.hasFocus()) { d.row = d.head = 'the page never had the focus'; return; } \
         const r = document.querySelector('#rows tr'); r.focus(); \
         let s = getComputedStyle(r); d.row = s.outlineStyle + ' ' + s.outlineWidth; \
         const b = document.querySelector('#top-head button'); b.focus(); s = getComputedStyle(b); \
         d.head = s.outlineStyle + ' ' + s.outlineWidth; })();",
    );
    let dom = browse(&chrome, &dir.0, &measured, "", None);
    let root = tags(&dom, "<html")[0];
    assert_eq!(attr(root, "data-row").as_deref(), Some("solid 2px"));
    assert_eq!(attr(root, "data-head").as_deref(), Some("solid 2px"));
}

/// The labels of the diff's rows, in order.
fn diff_rows(dom: &str) -> Vec<String> {
    tags(dom, "<tr data-label=")
        .into_iter()
        .filter(|t| !t.contains("data-i="))
        .map(|t| attr(t, "data-label").unwrap())
        .collect()
}

/// The diff's rows sort by the change of each figure (its size, then growth first, then
/// shrinkage first) and regroup with the page's "Group by" menu, each ranking as `dhat-kit diff
/// --by FIGURE --group-by GROUPING` ranks it: the rows whose figure changed (a site whose bytes
/// did not change stood in the ranking by bytes as `+0 B`). By label, every changed row. The
/// trial's: the sites read by total bytes only, where the change was in blocks.
#[test]
fn the_diff_sorts_by_every_figure_and_regroups() {
    let Some(chrome) = chromium("diff sorting") else {
        return;
    };
    let dir = TempDir::new("report", "diff-sort");
    let before = fixture("valgrind-heap.json");
    let b = dhat_kit::profile::read(&before).unwrap();
    // After: grow_table twice the bytes; copy_block 4,000 bytes and 2 blocks less; make_buffer
    // 300 blocks more, in the same bytes.
    let mut p = b.clone();
    p.pps[2].tb *= 2;
    p.pps[5].tb -= 4000;
    p.pps[5].tbk -= 2;
    p.pps[1].tbk += 300;
    let html = diff_report(&dir.0, &before, &p);
    let ranked = |by, group_by| -> Vec<String> {
        let d = analyze::diff(&b, &p, &{
            let mut opts = analyze::DiffOptions::default();
            (opts.n, opts.by, opts.group_by) = (0, by, group_by);
            opts
        })
        .unwrap();
        d.sites.into_iter().map(|s| s.site).collect()
    };
    let (grow, copy, make) = (
        "grow_table (alloc_sites.c:33)",
        "copy_block (alloc_sites.c:42)",
        "make_buffer (alloc_sites.c:13)",
    );
    for (hash, sorted, order) in [
        ("", ("total_bytes", "other"), &[grow, copy][..]),
        (
            "#do=dsort:total_blocks",
            ("total_blocks", "other"),
            &[make, copy],
        ),
        (
            "#do=dsort:total_blocks;dsort:total_blocks",
            ("total_blocks", "descending"),
            &[make, copy],
        ),
        (
            "#do=dsort:total_blocks;dsort:total_blocks;dsort:total_blocks",
            ("total_blocks", "ascending"),
            &[copy, make],
        ),
        (
            "#do=dsort:label",
            ("label", "ascending"),
            &[copy, grow, make],
        ),
    ] {
        let dom = browse(&chrome, &dir.0, &html, hash, None);
        assert_eq!(
            sorted_column(&dom, "diff-head"),
            (sorted.0.to_owned(), sorted.1.to_owned()),
            "{hash}"
        );
        assert_eq!(diff_rows(&dom), order, "{hash}");
        if sorted.1 == "other" {
            // By the size of the change: `dhat-kit diff --by`'s rows.
            let m = Metric::parse(sorted.0).unwrap();
            assert_eq!(diff_rows(&dom), ranked(m, GroupBy::Site), "{hash}");
        }
    }
    let dom = browse(&chrome, &dir.0, &html, "#do=dsort:total_blocks", None);
    assert_eq!(element(&dom, "diff-by").1, "total-blocks");
    // Every figure exact in its cell's title, as in the top table: make_buffer's, before and
    // after (of total blocks, the order's), then each change (those unchanged too: its two
    // points', the one live at the end).
    let row = tags(&dom, &format!("<tr data-label=\"{make}\""))[0];
    assert_eq!(
        cells(&dom, row, "title"),
        [
            "101",
            "401",
            "+0 (2,242 → 2,242)",
            "+300 (101 → 401)",
            "+0 (300 → 300)",
            "+0 (1 → 1)",
            "+0 (300 → 300)",
            "+0 (1 → 1)"
        ]
    );
    // The totals too.
    let total = tags(&dom, "<tr data-name=\"total blocks\"")[0];
    assert_eq!(
        cells(&dom, total, "title"),
        ["115", "413", "+298 (115 → 413)"]
    );
    // Regrouped by the page's menu: by function, by file (one file), by blocks too.
    for (group, g) in [("function", GroupBy::Function), ("file", GroupBy::File)] {
        for (m, hash) in [
            (Metric::TotalBytes, format!("#do=group:{group}")),
            (
                Metric::TotalBlocks,
                format!("#do=group:{group};dsort:total_blocks"),
            ),
        ] {
            let dom = browse(&chrome, &dir.0, &html, &hash, None);
            // That figure's `dhat-kit diff`: the rows whose figure changed.
            assert_eq!(diff_rows(&dom), ranked(m, g), "{hash}");
            let what = element(&dom, "diff-what").1;
            assert_eq!(what.to_lowercase(), format!("{group}s"), "{hash}");
        }
    }
}

/// Printed, each table is whole (no scrolling box cuts it): the pages grow with the rows.
#[test]
fn a_printed_report_holds_every_row() {
    let Some(chrome) = chromium("printed report") else {
        return;
    };
    let dir = TempDir::new("report", "print");
    let pages = |sites: usize| -> usize {
        let pps: Vec<String> = (1..=sites)
            .map(|i| format!(r#"{{"tb":{},"tbk":1,"fs":[{i}]}}"#, 1000 + i))
            .collect();
        let ftbl: Vec<String> = (1..=sites)
            .map(|i| format!(r#""0x{i:x}: app::f{i} (src/f.rs:{i}:1)""#))
            .collect();
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
              "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,"pps":[{}],
              "ftbl":["[root]",{}]}}"#,
            pps.join(","),
            ftbl.join(",")
        );
        let file = dir.write(&format!("p{sites}.json"), &json);
        let html = dir.0.join(format!("p{sites}.html"));
        report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
        let pdf = dir.0.join(format!("p{sites}.pdf"));
        let out = Command::new(&chrome)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--proxy-server=127.0.0.1:9",
                "--no-pdf-header-footer",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.0.join("chrome-print").display()
            ))
            .arg(format!("--print-to-pdf={}", pdf.display()))
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pdf = std::fs::read(&pdf).unwrap();
        // Each page's object: `/Type /Page` not followed by `s` (`/Pages` is their tree).
        pdf.windows(11).filter(|w| w == b"/Type /Page").count()
            - pdf.windows(12).filter(|w| w == b"/Type /Pages").count()
    };
    let (few, many) = (pages(20), pages(400));
    // 400 rows of about 27 px: some 12 pages more than 20 rows.
    assert!(many >= few + 8, "{few} pages for 20 rows, {many} for 400");
    println!("printed report: {few} pages for 20 rows, {many} for 400");
}

/// The report of one site whose innermost frame is named `function` (JSON-escaped), in a
/// temporary directory (returned with the profile's path in it): its rows' labels, and its call
/// stack once clicked; `None` when Chromium is missing (and the test may skip).
fn one_name_shown(label: &str, function: &str) -> Option<(String, String, TempDir, PathBuf)> {
    let chrome = chromium(label)?;
    let dir = TempDir::new("report", label);
    let json = format!(
        r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
          "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
          "pps":[{{"tb":800,"tbk":1,"fs":[1,2]}}],
          "ftbl":["[root]","0x1: {function} (src/a.rs:1:1)","0x2: app::main (src/main.rs:9:5)"]}}"#
    );
    let file = dir.write("name.json", &json);
    let html = dir.0.join("report.html");
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    let dom = browse(&chrome, &dir.0, &html, "#do=click:0", None);
    let (_, stack) = element(&dom, "stack-frames");
    Some((rows(&dom).join("\n"), stack, dir, file))
}

/// A name that holds a character reordering text (U+202E, RIGHT-TO-LEFT OVERRIDE) is shown with
/// it escaped, in its cell, its title and its call stack: it cannot read reversed.
#[test]
fn a_name_cannot_reorder_itself() {
    let Some((label, stack, _dir, _)) = one_name_shown("bidi-name", r"app::\u202egnp.exe") else {
        return;
    };
    for (what, text) in [("row", &label), ("call stack", &stack)] {
        assert!(!text.contains('\u{202e}'), "{what}: {text}");
        assert!(text.contains(r"app::\u{202e}gnp.exe"), "{what}: {text}");
    }
}

/// A name that holds control characters reads as `top` writes it (`\n`, `\t`, `\u{1b}`), in its
/// row and its call stack: the page showed the newline and the tab as spaces, dropped the NUL
/// and drew ESC as a box, so the name it showed was not the name.
#[test]
fn a_names_control_characters_read_as_top_writes_them() {
    let function = r"app::new\nline\ttab\u0000nul\u001b[31m\u2028";
    let Some((label, stack, _dir, file)) = one_name_shown("control-name", function) else {
        return;
    };
    let shown = r"app::new\nline\ttab\u{0}nul\u{1b}[31m\u{2028} (src/a.rs:1)";
    let top = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .arg("top")
        .arg(&file)
        .output()
        .unwrap();
    let top = String::from_utf8_lossy(&top.stdout);
    assert!(top.contains(shown), "{top}");
    for (what, text) in [("row", &label), ("call stack", &stack)] {
        assert!(text.contains(shown), "{what}: {text}");
    }
}

/// Where the window has no room for the table at its full width beside the call stack's panel
/// (Chromium's default window here), the panel goes below the table, and no column of figures
/// hides behind it (the table scrolls only where the window is narrower than the table itself).
#[test]
fn the_call_stack_goes_below_a_table_it_would_narrow() {
    let Some((chrome, dir, html, _)) =
        fixture_report("layout report", "layout", "dhat-rs-heap.json")
    else {
        return;
    };
    let measured = with_script(
        &dir.0,
        &html,
        "const t = document.querySelector('#top').closest('.table-wrap').getBoundingClientRect(); \
         const s = document.getElementById('stack').getBoundingClientRect(); \
         const d = document.documentElement.dataset; \
         d.tableBottom = Math.round(t.bottom); d.stackTop = Math.round(s.top); \
         d.tableWidth = Math.round(document.querySelector('#top').getBoundingClientRect().width); \
         d.window = window.innerWidth;",
    );
    let dom = browse(&chrome, &dir.0, &measured, "#do=click:0", None);
    let root = tags(&dom, "<html")[0];
    let read = |name: &str| -> i64 { attr(root, name).unwrap().parse().unwrap() };
    let (table_width, window) = (read("data-table-width"), read("data-window"));
    // The table and the panel (at least 22em) do not both fit side by side in this window.
    assert!(
        table_width + 400 > window,
        "table {table_width} px, window {window} px"
    );
    assert!(
        read("data-stack-top") >= read("data-table-bottom"),
        "the panel beside the table: {root}"
    );
}

/// The page rounds a figure that lies halfway as the command does, to the even digit: 1,280 bytes
/// is 1.2 KiB and a run of 1.0625 s is 1.062 s on both (the page's `toFixed` rounded halves up:
/// 1.3 KiB, 1.063 s).
#[test]
fn the_page_rounds_halves_as_the_command_does() {
    let Some(chrome) = chromium("rounding report") else {
        return;
    };
    let dir = TempDir::new("report", "halves");
    let file = dir.0.join("halves.json");
    std::fs::write(
        &file,
        r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
          "tu":"µs","Mtu":"s","tuth":10,"cmd":"halves","pid":1,"te":1062500,"tg":5,
          "pps":[{"tb":1280,"tbk":1,"tl":1,"mb":1280,"mbk":1,"gb":1280,"gbk":1,"eb":0,"ebk":0,
          "fs":[1]}],"ftbl":["[root]","0x1: app::main (src/main.rs:3:5)"]}"#,
    )
    .unwrap();
    let summary = Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .arg("summary")
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&summary.stdout).into_owned();
    assert!(
        said.contains("1.2 KiB") && said.contains("1.062 s"),
        "{said}"
    );
    let html = dir.0.join("report.html");
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    let dom = browse(&chrome, &dir.0, &html, "", None);
    let (_, total) = element(&dom, "sum-total");
    assert!(total.contains("(1.2 KiB)"), "{total}");
    let (_, time) = element(&dom, "sum-time");
    assert_eq!(time, "1.062 s");
}

/// Rows of equal figures stand in the command's order, by their names' code points: a name with
/// a character past U+FFFF stood before one with a character from U+E000 to U+FFFF on the page
/// (JavaScript compares UTF-16 units), after it in `top`.
#[test]
fn rows_of_equal_figures_stand_in_the_commands_order() {
    let Some(chrome) = chromium("tie order report") else {
        return;
    };
    let dir = TempDir::new("report", "ties");
    let file = dir.0.join("ties.json");
    std::fs::write(
        &file,
        r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
          "tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"te":1000,"tg":500,
          "pps":[{"tb":100,"tbk":1,"tl":0,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]},
          {"tb":100,"tbk":1,"tl":0,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]}],
          "ftbl":["[root]","0x1: app::😀x (src/main.rs:1:1)","0x2: app::｡y (src/main.rs:1:1)"]}"#,
    )
    .unwrap();
    let p = dhat_kit::profile::read(&file).unwrap();
    let expected = labels(&top(&p, Metric::TotalBytes, GroupBy::Site, 0));
    assert!(expected[0].contains('\u{FF61}'), "{expected:?}");
    let html = dir.0.join("report.html");
    report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
    let dom = browse(&chrome, &dir.0, &html, "", None);
    assert_eq!(rows(&dom), expected);
}

/// A row's call stack longer than the page keeps (64 frames) says it is cut: it ended at its 64th
/// frame under "the call stack of the largest, from its site outwards", `main` and every outer
/// frame missing without a word. One that fits says nothing.
#[test]
fn a_call_stack_cut_short_says_so() {
    let Some(chrome) = chromium("deep stack report") else {
        return;
    };
    let dir = TempDir::new("report", "deep");
    for (depth, cut) in [(150, true), (64, false)] {
        let frames: Vec<String> = (1..=depth)
            .map(|i| format!("\"0x{i:x}: app::rec{i} (src/main.rs:{i}:1)\""))
            .collect();
        let fs: Vec<String> = (1..=depth).map(|i| i.to_string()).collect();
        let file = dir.0.join(format!("deep-{depth}.json"));
        std::fs::write(
            &file,
            format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
                  "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"te":10,
                  "tg":5,"pps":[{{"tb":64,"tbk":1,"tl":0,"mb":64,"mbk":1,"gb":64,"gbk":1,
                  "eb":0,"ebk":0,"fs":[{}]}}],"ftbl":["[root]",{}]}}"#,
                fs.join(","),
                frames.join(",")
            ),
        )
        .unwrap();
        let html = dir.0.join("report.html");
        report(&[file.as_os_str(), "-o".as_ref(), html.as_os_str()]);
        let dom = browse(&chrome, &dir.0, &html, "#do=click:0", None);
        let from = dom
            .find("<ol id=\"stack-frames\">")
            .expect("the stack is shown");
        let stack = &dom[from..from + dom[from..].find("</ol>").unwrap()];
        assert_eq!(stack.matches("<li>").count(), 64, "{stack}");
        assert!(stack.contains("app::rec64 "), "{stack}");
        assert_eq!(dom.contains("(its first 64 frames;"), cut, "{depth} frames");
    }
}

/// The size the command says it wrote is the page's, rounded as the tables round sizes: a page
/// of 1,048,560 bytes (1023.98 KiB) is "1.0 MiB". It said "1024.0 KiB": compared before rounding.
#[test]
fn a_page_just_under_a_mib_is_said_as_1_0_mib() {
    let dir = TempDir::new("report", "size");
    let mut p = dhat_kit::profile::read(fixture("valgrind-heap.json")).unwrap();
    let file = dir.0.join("p.json");
    let html = dir.0.join("r.html");
    // The page of the profile whose command is `len` letters: its size and what the command said.
    let mut make = |len: usize| {
        p.cmd = "a".repeat(len);
        p.write(&file).unwrap();
        let out = support::run(&[
            "report".as_ref(),
            file.as_os_str(),
            "-o".as_ref(),
            html.as_os_str(),
        ]);
        assert!(out.status.success());
        let size = std::fs::metadata(&html).unwrap().len();
        (size, String::from_utf8(out.stderr).unwrap())
    };
    let target = 1_048_560;
    let (mut size, mut said) = make(1000);
    let mut len = 1000;
    for _ in 0..4 {
        if size == target {
            break;
        }
        len = (len as u64 + target - size) as usize;
        (size, said) = make(len);
    }
    assert_eq!(size, target, "a page of {target} bytes");
    assert_eq!(
        said,
        format!("dhat-kit: wrote {} (1.0 MiB)\n", html.display())
    );
    // Just under: 1023.9 KiB.
    (size, said) = make(len - 60);
    assert_eq!(size, target - 60);
    assert_eq!(
        said,
        format!("dhat-kit: wrote {} (1023.9 KiB)\n", html.display())
    );
}

/// A peak profile whose region path is deeper than the region table reads (1,001 regions) has no
/// regions table: the command says why on standard error, naming the file, and so does the page,
/// which still says what a peak profile's live figures are. Both were left out without a word.
#[test]
fn a_region_path_too_deep_for_the_table_is_said_and_the_peak_note_stays() {
    let dir = TempDir::new("report", "deep-regions");
    let depth = analyze::MAX_REGION_DEPTH + 1;
    let frames: Vec<String> = (0..depth).map(|i| format!("\"region r{i}\"")).collect();
    let fs: Vec<String> = (1..=depth).rev().map(|i| i.to_string()).collect();
    let json = format!(
        r#"{{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"t","pid":1,"te":10,"tg":10,
          "pps":[{{"tb":5,"tbk":1,"tl":0,"mb":5,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,
          "fs":[{}]}}],"ftbl":["[root]",{}]}}"#,
        fs.join(","),
        frames.join(",")
    );
    let file = dir.0.join("deep.json");
    std::fs::write(&file, json).unwrap();
    let html = dir.0.join("report.html");
    let out = support::run(&[
        "report".as_ref(),
        file.as_os_str(),
        "-o".as_ref(),
        html.as_os_str(),
    ]);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    let why = "a program point's region path is 1001 regions deep, more than the 1000 the region \
               table reads";
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with(&format!(
            "dhat-kit: warning: {}: the report has no regions table: {why}",
            file.display()
        )),
        "{err}"
    );
    assert!(lines[1].starts_with("dhat-kit: wrote "), "{err}");
    let Some(chrome) = chromium("deep regions report") else {
        return;
    };
    let dom = browse(&chrome, &dir.0, &html, "", None);
    assert!(!element(&dom, "peak-note").0.contains(" hidden"));
    assert!(!element(&dom, "regions-section").0.contains(" hidden"));
    let (_, said) = element(&dom, "regions-error");
    assert!(
        said.starts_with(&format!("No regions table: {why}")),
        "{said}"
    );
}

/// A heap profile of `sites` (`(function, file, total bytes, total blocks)`), one program point
/// each, its bytes and blocks live at t-gmax, none at t-end.
fn heap_json(sites: &[(String, &str, u64, u64)]) -> String {
    let pps: Vec<String> = sites
        .iter()
        .enumerate()
        .map(|(i, (_, _, tb, tbk))| {
            format!(
                r#"{{"tb":{tb},"tbk":{tbk},"tl":1,"mb":{tb},"mbk":{tbk},"gb":{tb},"gbk":{tbk},
                  "eb":0,"ebk":0,"fs":[{}]}}"#,
                i + 1
            )
        })
        .collect();
    let frames: Vec<String> = sites
        .iter()
        .enumerate()
        .map(|(i, (f, file, _, _))| format!("\"0x{:x}: {f} ({file}:1:1)\"", i + 1))
        .collect();
    format!(
        r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
          "tu":"µs","Mtu":"s","tuth":10,"cmd":"x","pid":1,"te":100,"tg":50,"pps":[{}],
          "ftbl":["[root]",{}]}}"#,
        pps.join(","),
        frames.join(",")
    )
}

/// The diff keeps the sites that grew most and those that shrank most by each figure, as many of
/// each as `--rows` (0 for all), so that "growth first" shows the growths `dhat-kit diff` lists;
/// ranked by a figure, it holds the sites whose figure changed, as `diff --by` lists them. It
/// held the 100 largest changes whatever `--rows` said: 150 sites that shrank by 2,000 bytes
/// hid the one that grew by 10 (`diff -n 0` lists it), and a site whose bytes did not change
/// stood in the ranking by bytes as `+0 B`.
#[test]
fn the_diff_keeps_the_largest_growths_and_shrinkages_as_many_as_rows_says() {
    let Some(chrome) = chromium("diff cap") else {
        return;
    };
    let dir = TempDir::new("report", "diff-cap");
    let site = |i: usize| (format!("app::s{i:03}"), "s.rs");
    let profile = |shrunk: u64, grown: u64, blocks: u64| {
        let mut sites: Vec<(String, &str, u64, u64)> = (0..150)
            .map(|i| {
                let (f, file) = site(i);
                (f, file, shrunk, 1)
            })
            .collect();
        sites.push(("app::grow".to_owned(), "g.rs", grown, 1));
        sites.push(("app::blocks".to_owned(), "b.rs", 64, blocks));
        heap_json(&sites)
    };
    let before = dir.0.join("before.json");
    let after = dir.0.join("after.json");
    std::fs::write(&before, profile(5000, 100, 1)).unwrap();
    std::fs::write(&after, profile(3000, 110, 2)).unwrap();
    let (b, a) = (
        dhat_kit::profile::read(&before).unwrap(),
        dhat_kit::profile::read(&after).unwrap(),
    );
    let ranked = |by, n| -> Vec<String> {
        let d = analyze::diff(&b, &a, &{
            let mut opts = analyze::DiffOptions::default();
            (opts.n, opts.by) = (n, by);
            opts
        })
        .unwrap();
        d.sites.into_iter().map(|s| s.site).collect()
    };
    let all = ranked(Metric::TotalBytes, 0);
    assert_eq!(all.len(), 151);
    assert!(all.contains(&"app::grow (g.rs:1)".to_owned()));
    let page = |rows: Option<&str>, name: &str| {
        let html = dir.0.join(name);
        let mut args = vec![
            after.as_os_str(),
            "--before".as_ref(),
            before.as_os_str(),
            "-o".as_ref(),
            html.as_os_str(),
        ];
        if let Some(rows) = rows {
            args.extend::<[&std::ffi::OsStr; 2]>(["--rows".as_ref(), rows.as_ref()]);
        }
        report(&args);
        html
    };
    let growth_first = "#do=dsort:total_bytes";
    let note = |dom: &str| element(dom, "diff-note").1;
    // Every row: by default (500 of each) and with --rows 0.
    for html in [page(None, "default.html"), page(Some("0"), "all.html")] {
        let dom = browse(&chrome, &dir.0, &html, "", None);
        assert_eq!(diff_rows(&dom), all);
        assert!(
            note(&dom).starts_with("151 of 151 sites changed in total bytes; "),
            "{}",
            note(&dom)
        );
        let dom = browse(&chrome, &dir.0, &html, growth_first, None);
        assert_eq!(diff_rows(&dom)[0], "app::grow (g.rs:1)");
        assert_eq!(diff_rows(&dom).len(), 151);
        // By blocks: the one site whose blocks changed, as `diff --by total-blocks`.
        let dom = browse(&chrome, &dir.0, &html, "#do=dsort:total_blocks", None);
        assert_eq!(diff_rows(&dom), ranked(Metric::TotalBlocks, 0));
        assert_eq!(diff_rows(&dom), ["app::blocks (b.rs:1)"]);
    }
    // Five of each: `diff -n 5`'s rows, then the one growth, which comes first by growth.
    let html = page(Some("5"), "five.html");
    let dom = browse(&chrome, &dir.0, &html, "", None);
    let mut want = ranked(Metric::TotalBytes, 5);
    want.push("app::grow (g.rs:1)".to_owned());
    assert_eq!(diff_rows(&dom), want);
    assert_eq!(
        note(&dom),
        "6 of 151 sites changed in total bytes (the 5 that grew most and the 5 that shrank most \
         by each figure); growth in red, shrinkage in green."
    );
    let dom = browse(&chrome, &dir.0, &html, growth_first, None);
    assert_eq!(diff_rows(&dom)[0], "app::grow (g.rs:1)");
}
