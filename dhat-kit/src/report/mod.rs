//! The HTML report: one self-contained file a reviewer opens in any browser, from CI's artifacts,
//! offline (`dhat-kit report FILE [--before OLD] -o report.html`).
//!
//! The page holds its script, style and data; it loads nothing (its Content-Security-Policy
//! forbids every fetch), so it works from `file://`. It shows:
//!
//! - the summary: mode, command, totals, at t-gmax and at t-end, with units;
//! - the top sites ([`analyze::top`]), sortable by every figure and filterable by text, grouped
//!   by site, function, file or crate; a row's call stack on click. On a large profile the table
//!   keeps the [`ReportOptions::rows`] largest rows by each figure, and says so;
//! - the flame graph of total bytes ([`analyze::flamegraph_svg`], inferno's interactive SVG);
//! - the regions, for dhat-kit's own peak profiles (whose program points are region paths);
//! - with a `before` profile, the [`analyze::diff`]: totals side by side and the sites that
//!   changed most, growth in red, shrinkage in green, sortable by the change of every figure
//!   and grouped as the top sites are (each ranking is `analyze::diff`'s by that figure and
//!   grouping: the rows whose figure changed). It keeps the [`ReportOptions::diff_rows`] that
//!   grew most and as many that shrank most by each figure, and says so.
//!
//! # Examples
//!
//! ```
//! let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
//!   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
//!   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
//!   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
//! let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
//! let html = dhat_kit::report::html(&p, "app.json", None, &Default::default())?;
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("app::parse (src/p.rs:3)"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;

use serde::Serialize;

use crate::analyze::{self, Error, Figures, GroupBy, Grouped, Metric, Side};
use crate::profile::{Profile, PEAK_MODE};

const TEMPLATE: &str = include_str!("report.html");
const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// How much the report holds.
///
/// Built from [`Default`], then its fields set (`let mut o = ReportOptions::default(); o.rows = 100;`): it is
/// `#[non_exhaustive]`, so that a field added later breaks no caller.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ReportOptions {
    /// The largest rows kept of each table, by each figure (default 500; 0 for all). A site
    /// among the largest by any figure is kept, so sorting by any figure's column shows its true
    /// top rows (sorting by the count of stacks sorts the rows kept).
    pub rows: usize,
    /// How many frames of a row's call stack are kept (default 64); the page says where a stack
    /// goes on past them.
    pub stack: usize,
    /// How many of the sites that grew most, and how many of those that shrank most, the diff
    /// keeps by each figure (default 500, as `rows`; 0 for all): every ranking of the page's diff
    /// (largest change first, growth first, shrinkage first) shows its true top rows.
    pub diff_rows: usize,
    /// A program's own allocation wrappers, skipped like `malloc` when finding sites.
    pub skip: analyze::Skip,
    /// The profile's budgets per component, checked ([`Budgets::check`](analyze::budget::Budgets::check)),
    /// shown above the tables: each component's figure, share, limit and status, the verdict
    /// and the warnings (`dhat-kit check --budget`'s).
    pub budget: Option<analyze::budget::BudgetReport>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            rows: 500,
            stack: 64,
            diff_rows: 500,
            skip: analyze::Skip::new(),
            budget: None,
        }
    }
}

/// One column of the tables: a figure of [`Figures`].
#[derive(Serialize)]
struct Column {
    key: &'static str,
    label: String,
    /// Whether it counts blocks (or events), not bytes (or units).
    blocks: bool,
}

#[derive(Serialize)]
struct Row {
    label: String,
    /// The most informative frame of its heaviest program point (for groupings other than site).
    frame: String,
    points: usize,
    figures: Figures,
    /// Indices into `frames`, from the row's frame outwards.
    stack: Vec<u32>,
    /// Whether the stack goes on past the frames kept ([`ReportOptions::stack`]).
    cut: bool,
}

#[derive(Serialize)]
struct Table {
    /// How many rows there are in all (shown or not).
    groups: usize,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct RegionRow {
    /// Outermost first; `(outside any region)` alone for the rest.
    path: Vec<String>,
    own: Figures,
    /// Its own figures and its sub-regions'.
    inclusive: Figures,
    /// The most bytes live at once in its own code (its point's `mb`); none for the outside row.
    max_bytes: Option<u64>,
}

/// The budgets' check, as `dhat-kit check --budget` prints it.
#[derive(Serialize)]
struct BudgetData {
    /// The budget file's name.
    file: String,
    header: [&'static str; 6],
    rows: Vec<BudgetRow>,
    verdict: String,
    passed: bool,
    warnings: Vec<String>,
    /// Why a sampled profile's components may pass in one run and fail in the next.
    estimated: Option<&'static str>,
}

#[derive(Serialize)]
struct BudgetRow {
    cells: Vec<String>,
    status: analyze::budget::Status,
    /// Whether it fails the check (over its limit; with `--strict`, claiming nothing too).
    fails: bool,
}

impl BudgetData {
    fn of(report: &analyze::budget::BudgetReport) -> BudgetData {
        let statuses = report
            .components
            .iter()
            .chain(&report.rest)
            .map(|c| (c.status, report.fails(c)));
        BudgetData {
            file: report.file.clone(),
            header: analyze::budget::TABLE_HEADER,
            rows: report
                .rows()
                .into_iter()
                .zip(statuses)
                .map(|(cells, (status, fails))| BudgetRow {
                    cells,
                    status,
                    fails,
                })
                .collect(),
            verdict: report.verdict(),
            passed: report.passed(),
            warnings: report.warnings(),
            estimated: report.estimated.then_some(analyze::budget::ESTIMATED),
        }
    }
}

/// One row of the diff: a site (or function, file, crate) and each compared figure before and
/// after.
#[derive(Serialize)]
struct DiffRow {
    label: String,
    /// `[before, after]` of each of [`DiffData::keys`], in that order.
    figures: Vec<[u64; 2]>,
    /// Whether it is in `dhat-kit diff`'s ranking by each of [`DiffData::keys`] (its figure
    /// changed): the page ranks by a figure the rows in that figure's diff only.
    ranked: Vec<bool>,
}

/// The diff's rows under one grouping.
#[derive(Serialize)]
struct DiffTable {
    /// How many rows changed by any figure (shown or not).
    changed: usize,
    /// How many rows changed by each of [`DiffData::keys`] (shown or not): each figure's
    /// `dhat-kit diff --by` rows.
    changed_by: Vec<usize>,
    /// The [`ReportOptions::diff_rows`] that grew most and those that shrank most by each
    /// figure, merged: those of total bytes first, in `dhat-kit diff`'s order.
    rows: Vec<DiffRow>,
}

#[derive(Serialize)]
struct DiffData {
    before: String,
    /// The figure the rows are first ranked by.
    by: Metric,
    estimated: bool,
    mixed: bool,
    totals: Vec<analyze::TotalChange>,
    /// The figures compared (`total_bytes`, ...): those both profiles have.
    keys: Vec<&'static str>,
    /// How many rows of each figure the page was asked for (0 for all).
    cap: usize,
    groups: HashMap<&'static str, DiffTable>,
}

#[derive(Serialize)]
struct Data {
    name: String,
    summary: analyze::Summary,
    /// Whether figures are bytes (else the profile's own unit, `unit` in the summary).
    bytes: bool,
    columns: Vec<Column>,
    totals: Figures,
    cap: usize,
    frames: Vec<String>,
    groups: HashMap<&'static str, Table>,
    regions: Option<Vec<RegionRow>>,
    /// Why a peak profile's regions are not shown ([`regions_error`]).
    regions_error: Option<String>,
    /// Whether it is a dhat-kit peak profile (the page says what its live figures mean).
    peak: bool,
    diff: Option<DiffData>,
    budget: Option<BudgetData>,
    flame_error: Option<String>,
    /// Whether a figure is above 2^53, which the page's JavaScript numbers round (the page
    /// says so).
    rounded: bool,
}

/// The page's groupings: its "Group by" menu's values.
const GROUPINGS: [(&str, GroupBy); 4] = [
    ("site", GroupBy::Site),
    ("function", GroupBy::Function),
    ("file", GroupBy::File),
    ("crate", GroupBy::Crate),
];

/// The largest integer every JavaScript number holds exactly.
const JS_EXACT: u64 = 1 << 53;

/// Interns frame labels: each stack is a list of indices into one table.
#[derive(Default)]
struct Interner {
    frames: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = u32::try_from(self.frames.len()).unwrap_or(u32::MAX);
        self.frames.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// The figures each table offers to sort by, for `profile`.
fn metrics(profile: &Profile) -> Vec<Metric> {
    let mut m = vec![Metric::TotalBytes, Metric::TotalBlocks];
    if profile.bklt {
        m.extend([
            Metric::PeakBytes,
            Metric::PeakBlocks,
            Metric::EndBytes,
            Metric::EndBlocks,
        ]);
    }
    m
}

fn figure(f: &Figures, m: Metric) -> u64 {
    match m {
        Metric::TotalBytes => f.total_bytes,
        Metric::TotalBlocks => f.total_blocks,
        Metric::PeakBytes => f.peak_bytes,
        Metric::PeakBlocks => f.peak_blocks,
        Metric::EndBytes => f.end_bytes,
        Metric::EndBlocks => f.end_blocks,
        _ => 0,
    }
}

/// The rows of one grouping: the `cap` largest by each figure (all when `cap` is 0), merged.
fn table(
    grouped: &Grouped<'_>,
    opts: &ReportOptions,
    frames: &mut Interner,
) -> Result<Table, Error> {
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut groups = 0;
    // With no cap, a ranking holds every row but those whose figure is 0: the next ones take
    // them in (an ad-hoc site of events weighing 0 units is in the ranking by events).
    for m in metrics(grouped.profile()) {
        // One frame more than kept: whether the stack goes on.
        let top = grouped.top(m, opts.rows, opts.stack.saturating_add(1))?;
        groups = top.groups;
        let complete = top.rows.len() == top.groups;
        for r in top.rows {
            if seen.contains_key(&r.site) || (m != Metric::TotalBytes && figure(&r.figures, m) == 0)
            {
                continue;
            }
            seen.insert(r.site.clone(), rows.len());
            let cut = r.stack.len() > opts.stack;
            rows.push(Row {
                stack: r
                    .stack
                    .iter()
                    .take(opts.stack)
                    .map(|f| frames.get(f))
                    .collect(),
                cut,
                label: r.site,
                frame: r.frame,
                points: r.points,
                figures: r.figures,
            });
        }
        // Every row is in: the other rankings would add none.
        if complete {
            break;
        }
    }
    Ok(Table { groups, rows })
}

/// The diff of `after` against `before` under one grouping, by every figure in `metrics`: each is
/// [`analyze::diff`], as `dhat-kit diff --by FIGURE --group-by GROUPING` ranks it; a row is kept
/// if it is among the `opts.diff_rows` that grew most or among those that shrank most by any
/// figure, so that each of the page's orders (largest change, growth first, shrinkage first)
/// shows its true top rows: `dhat-kit diff -n N` lists none that the page's diff leaves out. A
/// figure that did not
/// change in a row is not in that figure's diff: it is read from the after profile's row of that
/// label (0 where it has none: the row is gone, so it was 0 before too).
fn diff_table(
    before: &Grouped<'_>,
    after: &Grouped<'_>,
    metrics: &[Metric],
    opts: &ReportOptions,
) -> Result<(analyze::Diff, DiffTable), Error> {
    // Each row's label, its figures before and after (`None` where unchanged), and whether kept.
    type Building = (String, Vec<Option<[u64; 2]>>, bool);
    let mut rows: Vec<Building> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut first = None;
    let mut changed_by = Vec::with_capacity(metrics.len());
    for (k, &m) in metrics.iter().enumerate() {
        // `analyze::diff` of every row (`n: 0`) by `m`, from rows grouped once for every figure;
        // rows whose figure is 0 too, so that a site is paired alike by every figure (a site
        // matched by its place, whose label changed, was two rows where one figure fell to 0).
        let tb = before.top_every(m).map_err(analyze::side(Side::Before))?;
        let ta = after.top_every(m).map_err(analyze::side(Side::After))?;
        let mut d = analyze::compare(before.profile(), after.profile(), tb, ta, 0)?;
        changed_by.push(d.changed);
        // Ranked by the size of the change: each growth's rank among the growths, each
        // shrinkage's among the shrinkages.
        let (mut grown, mut shrunk) = (0, 0);
        for s in std::mem::take(&mut d.sites) {
            let rank = if s.delta > 0 { &mut grown } else { &mut shrunk };
            let kept = opts.diff_rows == 0 || *rank < opts.diff_rows;
            *rank += 1;
            let i = *index.entry(s.site.clone()).or_insert_with(|| {
                rows.push((s.site, vec![None; metrics.len()], false));
                rows.len() - 1
            });
            rows[i].1[k] = Some([s.before, s.after]);
            rows[i].2 |= kept;
        }
        first.get_or_insert(d);
    }
    let changed = rows.len();
    rows.retain(|r| r.2);
    let mut unchanged = None;
    if rows.iter().any(|r| r.1.contains(&None)) {
        // Every row, those of 0 total bytes too (`top` leaves them out).
        unchanged = Some(after.top_every(Metric::TotalBytes)?);
    }
    let of: HashMap<&str, &Figures> = unchanged
        .iter()
        .flat_map(|t| &t.rows)
        .map(|r| (r.site.as_str(), &r.figures))
        .collect();
    let rows = rows
        .into_iter()
        .map(|(label, figures, _)| {
            let ranked = figures.iter().map(Option::is_some).collect();
            let figures = figures
                .iter()
                .zip(metrics)
                .map(|(f, &m)| {
                    f.unwrap_or_else(|| {
                        let v = of.get(label.as_str()).map_or(0, |f| figure(f, m));
                        [v, v]
                    })
                })
                .collect();
            DiffRow {
                label,
                figures,
                ranked,
            }
        })
        .collect();
    // Never panics: `metrics` always holds the totals (see `metrics`), so the loop ran at least
    // once, and each of its diffs either set `first` or returned its error.
    let first = first.expect("at least one figure");
    Ok((
        first,
        DiffTable {
            changed,
            changed_by,
            rows,
        },
    ))
}

/// Why the report of `profile` holds no regions where it would (a dhat-kit peak profile whose
/// regions [`analyze::regions`] refuses: a region path more than [`analyze::MAX_REGION_DEPTH`]
/// regions deep), or `None`. The page says it in its regions section; `dhat-kit report` says it
/// on standard error too.
///
/// # Examples
///
/// ```
/// let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"t","pid":1,"te":10,"tg":10,
///   "pps":[{"tb":5,"tbk":1,"tl":0,"mb":5,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
///   "ftbl":["[root]","region a"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "peak.json")?;
/// assert_eq!(dhat_kit::report::regions_error(&p), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub fn regions_error(profile: &Profile) -> Option<String> {
    regions(profile).err()
}

/// The regions of a dhat-kit peak profile: each path's own figures and, summed over its
/// sub-paths, its inclusive figures; depth first, larger inclusive total first. `Ok(None)` for
/// another profile; the error's message where [`analyze::regions`] refuses the profile.
fn regions(profile: &Profile) -> Result<Option<Vec<RegionRow>>, String> {
    if profile.mode != PEAK_MODE {
        return Ok(None);
    }
    let table = analyze::regions(profile).map_err(|e| e.to_string())?;
    Ok(Some(
        table
            .rows
            .into_iter()
            .map(|r| RegionRow {
                path: r.path,
                own: r.own,
                inclusive: r.inclusive,
                max_bytes: r.max_bytes,
            })
            .collect(),
    ))
}

/// Standard base64, for the flame graph's `data:` URL.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `height` of an SVG's root element, to size its frame.
fn svg_height(svg: &[u8]) -> Option<u64> {
    let head = String::from_utf8_lossy(&svg[..svg.len().min(4096)]);
    let root = &head[head.find("<svg")?..];
    let at = root.find(" height=\"")? + " height=\"".len();
    let end = root[at..].find('"')?;
    root[at..at + end].trim_end_matches("px").parse().ok()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The names under which a report shows the profile at `after` and the one at `before` it is
/// compared with: their file names, or, where those are the same (`dhat-sampled.json` before and
/// after, each from its own run), as many of the paths' last components as tell them apart
/// (`old/dhat-sampled.json`, `new/dhat-sampled.json`), else the paths as given.
///
/// # Examples
///
/// ```
/// use std::path::Path;
/// let names = dhat_kit::report::names(
///     Path::new("runs/new/dhat-sampled.json"),
///     Path::new("runs/old/dhat-sampled.json"),
/// );
/// assert_eq!(names, ("new/dhat-sampled.json".into(), "old/dhat-sampled.json".into()));
/// ```
#[must_use]
pub fn names(after: &std::path::Path, before: &std::path::Path) -> (String, String) {
    let tail = |p: &std::path::Path, n: usize| {
        let parts: Vec<_> = p.components().collect();
        let from = parts.len().saturating_sub(n);
        parts[from..]
            .iter()
            .collect::<std::path::PathBuf>()
            .display()
            .to_string()
    };
    let longest = after.components().count().max(before.components().count());
    (1..=longest)
        .map(|n| (tail(after, n), tail(before, n)))
        .find(|(a, b)| a != b)
        .unwrap_or_else(|| (after.display().to_string(), before.display().to_string()))
}

/// The report of `profile` (named `name` in the page), compared with `before` (a profile and its
/// name) when given, as one self-contained HTML page.
///
/// # Errors
///
/// [`Error::Kinds`] if `before` measures something else than `profile` (a heap profile and an
/// ad-hoc one, or figures in different units), as [`analyze::diff`] finds. The other errors of
/// the analyses it runs do not happen for what the report asks: it ranks by the figures both
/// profiles have, grouped only as both can be.
///
/// # Examples
///
/// ```
/// let make = |tb: u64| format!(r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{{"tb":{tb},"tbk":1,"fs":[1]}}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}}"#);
/// let before = dhat_kit::profile::from_slice(make(100).as_bytes(), "before.json")?;
/// let after = dhat_kit::profile::from_slice(make(150).as_bytes(), "after.json")?;
/// let opts = dhat_kit::report::ReportOptions::default();
/// let html = dhat_kit::report::html(&after, "after.json", Some((&before, "before.json")), &opts)?;
/// assert!(html.contains("<title>dhat-kit report: after.json</title>"));
/// // The page's data holds the diff, under the before profile's name: 100 bytes, then 150.
/// assert!(html.contains(r#""before":"before.json""#));
/// assert!(html.contains(r#""before":100,"after":150,"delta":50"#));
///
/// // A heap profile and an ad-hoc one measure different things: no diff, no page.
/// let heap = make(100).replace("rust-ad-hoc", "rust-heap");
/// let heap = dhat_kit::profile::from_slice(heap.as_bytes(), "heap.json")?;
/// let err = dhat_kit::report::html(&after, "after.json", Some((&heap, "heap.json")), &opts);
/// assert!(matches!(err, Err(dhat_kit::analyze::Error::Kinds { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn html(
    profile: &Profile,
    name: &str,
    before: Option<(&Profile, &str)>,
    opts: &ReportOptions,
) -> Result<String, Error> {
    let heap = profile.bklt;
    let unit = profile.unit_plural();
    let blocks = profile.blocks_plural();
    let column = |key, label: String, blocks| Column { key, label, blocks };
    let mut columns = vec![
        column("total_bytes", format!("total {unit}"), false),
        column("total_blocks", format!("total {blocks}"), true),
    ];
    if heap {
        columns.extend([
            column("peak_bytes", format!("t-gmax {unit}"), false),
            column("peak_blocks", format!("t-gmax {blocks}"), true),
            column("end_bytes", format!("t-end {unit}"), false),
            column("end_blocks", format!("t-end {blocks}"), true),
        ]);
    }
    let mut totals = Figures::default();
    for pp in &profile.pps {
        totals.add(pp);
    }
    let mut frames = Interner::default();
    // The groupings both profiles take (a peak profile's regions have no file or crate); the
    // page's menu offers those only.
    let groupings: Vec<(&str, GroupBy)> = GROUPINGS
        .into_iter()
        .filter(|(_, g)| g.applies_to(profile) && before.is_none_or(|(b, _)| g.applies_to(b)))
        .collect();
    // The figures both profiles have.
    let compared = before.map(|(b, _)| if b.bklt { metrics(profile) } else { metrics(b) });
    let mut groups = HashMap::new();
    let mut diffs = HashMap::new();
    let mut first = None;
    // Each grouping's rows, grouped once (for each profile) for every figure the table and the
    // diff rank by; one grouping at a time, so that one grouping's are held at once.
    for &(key, g) in &groupings {
        let after = Grouped::new(profile, g, &opts.skip)?;
        groups.insert(key, table(&after, opts, &mut frames)?);
        if let (Some((b, _)), Some(metrics)) = (before, &compared) {
            let (d, t) = diff_table(&Grouped::new(b, g, &opts.skip)?, &after, metrics, opts)?;
            diffs.insert(key, t);
            first.get_or_insert(d);
        }
    }
    let diff = match (before, compared, first) {
        (Some((_, bname)), Some(metrics), Some(d)) => Some(DiffData {
            before: bname.to_owned(),
            by: d.by,
            estimated: d.estimated,
            mixed: d.mixed,
            totals: d.totals,
            keys: metrics.iter().map(|m| m.key()).collect(),
            cap: opts.diff_rows,
            groups: diffs,
        }),
        // `GroupBy::Site` applies to every profile, so `groupings` is never empty, and each of
        // its diffs either set `first` or returned its error above.
        _ => None,
    };
    let mut svg = Vec::new();
    let title = analyze::flame_title(name, &format!("total {unit}"), profile);
    let (flame, flame_error) =
        match analyze::flamegraph_svg(profile, Metric::TotalBytes, &title, &mut svg) {
            Ok(()) => (base64(&svg), None),
            Err(e) => (String::new(), Some(e.to_string())),
        };
    let height = svg_height(&svg).map_or(600, |h| h + 4);
    drop(svg);
    let summary = analyze::summary(profile);
    let (regions, regions_error) = match regions(profile) {
        Ok(r) => (r, None),
        Err(e) => (None, Some(e)),
    };
    // A profile's site figures are at most its totals (those of the one compared with too); its
    // other figures are checked each: the times, Valgrind's reads and writes, and the live
    // figures, which a peak profile may hold above its totals.
    let rounded = std::iter::once(&summary)
        .chain(before.map(|(b, _)| analyze::summary(b)).as_ref())
        .any(|s| {
            let each = [
                Some(s.total_bytes),
                Some(s.total_blocks),
                s.peak_bytes,
                s.peak_blocks,
                s.end_bytes,
                s.end_blocks,
                s.read_bytes,
                s.written_bytes,
                s.t_gmax,
                Some(s.t_end),
                Some(s.pid),
            ];
            each.into_iter().flatten().any(|v| v > JS_EXACT)
        });
    let data = Data {
        name: name.to_owned(),
        summary,
        bytes: profile.bsu.is_none(),
        columns,
        totals,
        cap: opts.rows,
        frames: frames.frames,
        groups,
        regions,
        regions_error,
        peak: profile.mode == PEAK_MODE,
        diff,
        budget: opts.budget.as_ref().map(BudgetData::of),
        flame_error,
        rounded,
    };
    // `<` escaped, so no string in the data can close the script element.
    let json = serde_json::to_string(&data)
        .map_err(|source| Error::Encode {
            what: "the report's data",
            source,
        })?
        .replace('<', "\\u003c");
    let flame = if flame.is_empty() {
        String::new()
    } else {
        format!(
            "<iframe id=\"flame-frame\" title=\"flame graph\" style=\"--height:{height}px\" \
             src=\"data:image/svg+xml;base64,{flame}\"></iframe>"
        )
    };
    let mut out = String::with_capacity(TEMPLATE.len() + json.len() + flame.len() + 64 * 1024);
    for (i, part) in TEMPLATE.split("{{").enumerate() {
        if i == 0 {
            out.push_str(part);
            continue;
        }
        // The template's placeholders: {{TITLE}}, {{STYLE}}, {{SCRIPT}}, {{DATA}}, {{FLAME}}.
        let (key, rest) = part.split_once("}}").unwrap_or(("", part));
        match key {
            "TITLE" => out.push_str(&escape_html(&format!("dhat-kit report: {name}"))),
            "STYLE" => out.push_str(STYLE),
            "SCRIPT" => out.push_str(SCRIPT),
            "DATA" => out.push_str(&json),
            "FLAME" => out.push_str(&flame),
            _ => {
                out.push_str("{{");
                out.push_str(part);
                continue;
            }
        }
        out.push_str(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_of_one_name_are_told_apart_by_their_paths() {
        use std::path::Path;
        let names = |a: &str, b: &str| names(Path::new(a), Path::new(b));
        let owned = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            names("a/new.json", "a/old.json"),
            owned("new.json", "old.json")
        );
        // The user trial's: both `dhat-sampled.json`, the page said "Compared with
        // dhat-sampled.json".
        assert_eq!(
            names("after/dhat-sampled.json", "before/dhat-sampled.json"),
            owned("after/dhat-sampled.json", "before/dhat-sampled.json")
        );
        assert_eq!(
            names("x/run/p.json", "y/run/p.json"),
            owned("x/run/p.json", "y/run/p.json")
        );
        assert_eq!(names("p.json", "old/p.json"), owned("p.json", "old/p.json"));
        assert_eq!(
            names("/tmp/p.json", "p.json"),
            owned("tmp/p.json", "p.json")
        );
        // One file compared with itself: its name, twice.
        assert_eq!(names("d/p.json", "d/p.json"), owned("d/p.json", "d/p.json"));
    }

    /// The page's flame graph, decoded from its base64.
    fn page_graph(page: &str) -> String {
        let from = page.find("base64,").expect("the page has a graph") + "base64,".len();
        let encoded = &page[from..from + page[from..].find('"').unwrap()];
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("{c} is not base64"),
        };
        let mut out = Vec::new();
        for chunk in encoded.trim_end_matches('=').as_bytes().chunks(4) {
            let mut n = 0u32;
            for (k, &c) in chunk.iter().enumerate() {
                n |= u32::from(value(c)) << (18 - 6 * k);
            }
            out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
        }
        assert_eq!(base64(&out), encoded, "the decoder undoes the encoder");
        String::from_utf8(out).unwrap()
    }

    /// A sampled profile's flame graph is titled as the command's `flamegraph` titles it: its
    /// sites are estimates (the page's graph said "p.json: total bytes" alone).
    #[test]
    fn a_sampled_profiles_flame_graph_says_its_sites_are_estimates() {
        let json = |mode: &str| {
            format!(
                r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":true,
                  "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"t","pid":1,"te":10,
                  "tg":10,"pps":[{{"tb":64,"tbk":1,"tl":0,"mb":64,"mbk":1,"gb":64,"gbk":1,
                  "eb":0,"ebk":0,"fs":[1]}}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}}"#
            )
        };
        let title = |page: &str| {
            let svg = page_graph(page);
            let from = svg.find("id=\"title\"").expect("the graph has a title");
            let from = from + svg[from..].find('>').unwrap() + 1;
            svg[from..from + svg[from..].find('<').unwrap()].to_owned()
        };
        let opts = ReportOptions::default();
        let sampled = json(crate::profile::SAMPLED_MODE);
        let sampled = crate::profile::from_slice(sampled.as_bytes(), "p.json").unwrap();
        let page = html(&sampled, "p.json", None, &opts).unwrap();
        assert_eq!(
            title(&page),
            "p.json: total bytes (sites estimated from samples)"
        );
        // A heap profile's sites are exact: its title says nothing of samples.
        let heap = crate::profile::from_slice(json("rust-heap").as_bytes(), "p.json").unwrap();
        let page = html(&heap, "p.json", None, &opts).unwrap();
        assert_eq!(title(&page), "p.json: total bytes");
    }

    /// A heap profile of `points` (`(tb, tbk, eb, ebk, frame)`), each at one frame.
    fn heap_profile(points: &[(u64, u64, u64, u64, &str)]) -> Profile {
        let pps: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (tb, tbk, eb, ebk, _))| {
                format!(
                    r#"{{"tb":{tb},"tbk":{tbk},"tl":0,"mb":{tb},"mbk":{tbk},"gb":{tb},
                      "gbk":{tbk},"eb":{eb},"ebk":{ebk},"fs":[{}]}}"#,
                    i + 1
                )
            })
            .collect();
        let frames: Vec<String> = points
            .iter()
            .map(|p| serde_json::to_string(p.4).unwrap())
            .collect();
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
              "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"t","pid":1,"te":10,"tg":10,
              "pps":[{}],"ftbl":["[root]",{}]}}"#,
            pps.join(","),
            frames.join(",")
        );
        crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
    }

    /// The diff of `after` against `before` by site, with the default options: the figures it
    /// ranks by and its table.
    fn site_diff(before: &Profile, after: &Profile) -> (Vec<Metric>, DiffTable) {
        let skip = analyze::Skip::default();
        let grouped = |p| Grouped::new(p, analyze::GroupBy::Site, &skip).unwrap();
        let metrics = metrics(after);
        let (_, table) = diff_table(
            &grouped(before),
            &grouped(after),
            &metrics,
            &ReportOptions::default(),
        )
        .unwrap();
        (metrics, table)
    }

    /// A site matched across two profiles by its place (its label changed: `app::parse` in a
    /// debug build, `parse` in a release one) whose figure at t-end fell to 0 is one row of the
    /// diff, with its figures before and after. It was two: the ranking by t-end bytes left out
    /// the after profile's row of 0, so that figure's diff kept the before label, and each row
    /// showed the other's figures as unchanged.
    #[test]
    fn a_site_whose_label_changed_is_one_row_of_the_diff_whatever_fell_to_0() {
        let before = heap_profile(&[(1000, 10, 100, 1, "0x1: app::parse (p.rs:10:1)")]);
        let after = heap_profile(&[(1200, 12, 0, 0, "0x2: parse (p.rs:10:1)")]);
        let (metrics, table) = site_diff(&before, &after);
        assert_eq!(table.changed, 1);
        assert_eq!(table.rows.len(), 1);
        let row = &table.rows[0];
        let of = |m| row.figures[metrics.iter().position(|&x| x == m).unwrap()];
        assert_eq!(of(Metric::TotalBytes), [1000, 1200]);
        assert_eq!(of(Metric::EndBytes), [100, 0]);
        assert_eq!(of(Metric::EndBlocks), [1, 0]);
    }

    /// A site of 0 total bytes shows its unchanged figures as they are: its 1 block live at t-end,
    /// before and after, read 0 (they were looked up among the rows of more than 0 total bytes).
    #[test]
    fn a_site_of_0_bytes_shows_its_unchanged_figures() {
        let before = heap_profile(&[
            (64, 1, 0, 0, "0x1: app::work (w.rs:1:1)"),
            (0, 2, 0, 1, "0x2: app::zeros (z.rs:1:1)"),
        ]);
        let after = heap_profile(&[
            (64, 1, 0, 0, "0x1: app::work (w.rs:1:1)"),
            (0, 3, 0, 1, "0x2: app::zeros (z.rs:1:1)"),
        ]);
        let (metrics, table) = site_diff(&before, &after);
        assert_eq!(table.rows.len(), 1);
        let row = &table.rows[0];
        assert_eq!(row.label, "app::zeros (z.rs:1)");
        let of = |m| row.figures[metrics.iter().position(|&x| x == m).unwrap()];
        assert_eq!(of(Metric::TotalBlocks), [2, 3]);
        assert_eq!(of(Metric::TotalBytes), [0, 0]);
        assert_eq!(of(Metric::EndBlocks), [1, 1]);
        assert_eq!(of(Metric::EndBytes), [0, 0]);
    }

    /// With no cap on the rows (`--rows 0`, "0 for all"), a site whose total bytes are 0 is in
    /// the table too: the one ranking it read, by total bytes, leaves it out.
    #[test]
    fn with_no_cap_every_site_is_in_the_table() {
        let profile = heap_profile(&[
            (64, 1, 0, 0, "0x1: app::work (w.rs:1:1)"),
            (0, 5, 0, 0, "0x2: app::tick (t.rs:1:1)"),
        ]);
        let skip = analyze::Skip::default();
        let grouped = Grouped::new(&profile, analyze::GroupBy::Site, &skip).unwrap();
        let opts = ReportOptions {
            rows: 0,
            ..ReportOptions::default()
        };
        let table = table(&grouped, &opts, &mut Interner::default()).unwrap();
        assert_eq!(table.groups, 2);
        let labels: Vec<&str> = table.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels.len(), 2, "{labels:?}");
    }

    #[test]
    fn base64_of_every_tail_length() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00, 0x10]), "//4AEA==");
    }

    #[test]
    fn regions_nest_depth_first_with_inclusive_sums() {
        let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"t","pid":1,"te":10,"tg":10,
          "pps":[{"tb":5,"tbk":1,"tl":0,"mb":5,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
                 {"tb":7,"tbk":1,"tl":0,"mb":7,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[3,2]},
                 {"tb":9,"tbk":2,"tl":0,"mb":9,"mbk":2,"gb":9,"gbk":2,"eb":0,"ebk":0,"fs":[1]}],
          "ftbl":["[root]","(outside any region)","region a","region b"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let r = regions(&p).unwrap().unwrap();
        let got: Vec<(String, u64, u64)> = r
            .iter()
            .map(|r| (r.path.join("/"), r.own.total_bytes, r.inclusive.total_bytes))
            .collect();
        assert_eq!(
            got,
            [
                ("a".to_owned(), 5, 12),
                ("a/b".to_owned(), 7, 7),
                ("(outside any region)".to_owned(), 9, 9),
            ]
        );
    }
}
