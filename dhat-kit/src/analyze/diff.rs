//! Before/after: totals side by side, then the sites that changed most, matched by symbol and
//! source location (never by address, which changes with every build).

use std::collections::HashMap;

use super::{
    render_table, show, top, Error, Format, GroupBy, Measures, Metric, Side, Skip, TopOptions,
    TopRow,
};
use crate::profile::{Frame, Profile};

/// What [`diff`] compares.
///
/// Built from [`Default`], then its fields set (`let mut o = DiffOptions::default(); o.n = 5;`): it is
/// `#[non_exhaustive]`, so that a field added later breaks no caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiffOptions {
    /// How many changed sites to list (default 10; 0 for all).
    pub n: usize,
    /// The figure whose change ranks the sites (default total bytes).
    pub by: Metric,
    /// How program points make sites (default: by site).
    pub group_by: GroupBy,
    /// A program's own allocation wrappers, skipped like `malloc` when finding sites.
    pub skip: Skip,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            n: 10,
            by: Metric::TotalBytes,
            group_by: GroupBy::Site,
            skip: Skip::new(),
        }
    }
}

/// One total before and after.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct TotalChange {
    /// `total bytes`, `total blocks`, `peak bytes`, `peak blocks`, `end bytes`, `end blocks`,
    /// whatever the profiles' units (the tables name them in the units: `total units`).
    pub name: &'static str,
    /// The figure before.
    pub before: u64,
    /// The figure after.
    pub after: u64,
    /// `after - before`.
    pub delta: i128,
    /// The delta in percent of `before` (`Some(0.0)` when both are 0; `None` when only `before`
    /// is 0: the figure is new).
    pub percent: Option<f64>,
}

/// One site's figure before and after (0 where it did not appear).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct SiteChange {
    /// The site's label (see [`GroupBy`]).
    pub site: String,
    /// The figure before.
    pub before: u64,
    /// The figure after.
    pub after: u64,
    /// `after - before`.
    pub delta: i128,
    /// The delta in percent of `before` (`None` for a new site).
    pub percent: Option<f64>,
}

/// Two profiles compared.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Diff {
    /// Always `"dhat-kit-diff/1"`: the JSON shape's name, which changes only if a field's meaning
    /// does.
    pub schema: &'static str,
    /// The figure the sites are ranked by.
    pub by: Metric,
    /// How program points were grouped into sites.
    pub group_by: GroupBy,
    /// The profiles' unit (`bytes`, or `units` for ad-hoc profiles).
    pub unit: String,
    /// Whether either profile is sampled (a dhat-kit sampled profile): its sites' figures are
    /// estimates, which differ from run to run of the same work (its totals are exact).
    pub estimated: bool,
    /// Whether one profile is sampled and the other exact: the sampled one charges a
    /// reallocation to the code that reallocated, the exact one to the code that first allocated
    /// the block, so a container grown far from where it was made moves between sites.
    pub mixed: bool,
    /// The totals, those both profiles have.
    pub totals: Vec<TotalChange>,
    /// The sites whose figure changed most (by absolute delta), largest first.
    pub sites: Vec<SiteChange>,
    /// How many sites changed in all.
    pub changed: usize,
}

/// The delta and its percent of `before`: 0 to 0 is no change (`Some(0.0)`); only a figure that
/// was 0 and no longer is has no percent (it is new).
fn change(before: u64, after: u64) -> (i128, Option<f64>) {
    let delta = after as i128 - before as i128;
    let pct = match (before, after) {
        (0, 0) => Some(0.0),
        (0, _) => None,
        _ => Some(delta as f64 * 100.0 / before as f64),
    };
    (delta, pct)
}

/// Compares `before` with `after`: totals, then sites matched by their label (function, file and
/// line of the most informative frame, or function, file or crate as grouped). A site with a
/// source location is matched by that location and its function's own name, so that builds
/// which name one function differently are one site: a debug build's
/// `app::Matrix::Matrix(unsigned long) (m.cpp:24)` and a release build's inlined `Matrix
/// (m.cpp:24)`, or a compiler's specialised copy, `app::fill(int, int) [clone .constprop.0]`;
/// the after profile's label is shown.
///
/// # Errors
///
/// [`Error`] if either profile does not have the ranked figure; the message says which one
/// (`the before profile: ...`). [`Error::Kinds`] if the two measure different things (a heap
/// profile and an ad-hoc or copy profile, or figures in different units); heap profiles compare
/// whichever tool wrote them (Valgrind, dhat-rs, dhat-kit).
///
/// # Examples
///
/// ```
/// let make = |tb: u64| format!(r#"{{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{{"tb":{tb},"tbk":1,"fs":[1]}}],"ftbl":["[root]","0x{tb:x}: app::f (src/f.rs:1:1)"]}}"#);
/// let before = dhat_kit::profile::from_slice(make(100).as_bytes(), "before.json")?;
/// let after = dhat_kit::profile::from_slice(make(150).as_bytes(), "after.json")?;
/// let d = dhat_kit::analyze::diff(&before, &after, &Default::default())?;
/// assert_eq!(d.totals[0].delta, 50);
/// assert_eq!(d.sites[0].site, "app::f (src/f.rs:1)"); // one site, though its address moved
/// assert_eq!(d.sites[0].percent, Some(50.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn diff(before: &Profile, after: &Profile, opts: &DiffOptions) -> Result<Diff, Error> {
    let all = TopOptions {
        n: 0,
        by: opts.by,
        group_by: opts.group_by,
        stack: 0,
        skip: opts.skip.clone(),
    };
    let tb = top(before, &all).map_err(side(Side::Before))?;
    let ta = top(after, &all).map_err(side(Side::After))?;
    compare(before, after, tb, ta, opts.n)
}

/// What an error of the `side` profile's [`top()`] is in a diff.
pub(crate) fn side(side: Side) -> impl Fn(Error) -> Error {
    move |e: Error| Error::Diff {
        side,
        source: Box::new(e),
    }
}

/// [`diff`] of `before` and `after` from their rows: `tb` and `ta`, all rows of each, ranked by
/// one figure under one grouping (of the same figure and grouping); `n` as in [`DiffOptions`].
///
/// # Errors
///
/// [`Error::Kinds`] if the two measure different things.
pub(crate) fn compare(
    before: &Profile,
    after: &Profile,
    tb: super::Top,
    ta: super::Top,
    n: usize,
) -> Result<Diff, Error> {
    let (b, a) = (before.totals(), after.totals());
    let mut totals = Vec::new();
    let mut push = |name, x: Option<u64>, y: Option<u64>| {
        if let (Some(x), Some(y)) = (x, y) {
            let (delta, percent) = change(x, y);
            totals.push(TotalChange {
                name,
                before: x,
                after: y,
                delta,
                percent,
            });
        }
    };
    push("total bytes", Some(b.bytes), Some(a.bytes));
    push("total blocks", Some(b.blocks), Some(a.blocks));
    push("peak bytes", b.peak_bytes, a.peak_bytes);
    push("peak blocks", b.peak_blocks, a.peak_blocks);
    push("end bytes", b.end_bytes, a.end_bytes);
    push("end blocks", b.end_blocks, a.end_blocks);
    let (mb, ma) = (Measures::of(before), Measures::of(after));
    if !mb.comparable(&ma) {
        return Err(Error::Kinds {
            before: mb,
            after: ma,
        });
    }
    let (by, group_by) = (tb.by, tb.group_by);
    let sites = pair(group_by, tb.rows, ta.rows);
    let mut sites: Vec<SiteChange> = sites
        .into_iter()
        .filter(|(_, x, y)| x != y)
        .map(|(site, x, y)| {
            let (delta, percent) = change(x, y);
            SiteChange {
                site,
                before: x,
                after: y,
                delta,
                percent,
            }
        })
        .collect();
    sites.sort_by(|x, y| {
        y.delta
            .unsigned_abs()
            .cmp(&x.delta.unsigned_abs())
            .then_with(|| x.site.cmp(&y.site))
    });
    let changed = sites.len();
    if n > 0 {
        sites.truncate(n);
    }
    let sampled = |p: &Profile| p.mode == crate::profile::SAMPLED_MODE;
    Ok(Diff {
        schema: "dhat-kit-diff/1",
        by,
        group_by,
        unit: after.unit_plural().to_owned(),
        estimated: sampled(before) || sampled(after),
        mixed: sampled(before) != sampled(after),
        totals,
        sites,
        changed,
    })
}

/// Pairs the sites of the two profiles, as (the label shown, the figure before, the figure after).
///
/// A site is paired with the site of the same label first. Under `--group-by site`, the sites left
/// unpaired on both sides are then paired by [`site_key`]: one code location named differently by
/// two builds is one site. Only what the labels left is paired so: two sites of one key in a
/// profile (same-named functions at one line of same-named files, as `a::Foo::new (mod.rs:15)` and
/// `b::Bar::new (mod.rs:15)`, which Valgrind prints by the files' base names) each keep their own
/// figures wherever the other profile names them alike. Sites of one key and one file
/// ([`of_one_file`]) still unpaired on both sides are one site, their figures added, shown with
/// the after profile's label of the largest figure. Under `--group-by function`, the rows left
/// unpaired are paired by the function's name and file: `helper (a.c)`, named apart from a
/// `helper` of `b.c` in one profile, is the `helper` of `a.c` of a profile that has that one
/// only.
fn pair(group_by: GroupBy, before: Vec<TopRow>, after: Vec<TopRow>) -> Vec<(String, u64, u64)> {
    let mut after: HashMap<String, TopRow> =
        after.into_iter().map(|r| (r.site.clone(), r)).collect();
    let mut paired = Vec::new();
    // By key: the sites unpaired by label, before and after.
    let mut by_key: HashMap<String, (Vec<TopRow>, Vec<TopRow>)> = HashMap::new();
    for r in before {
        match after.remove(&r.site) {
            Some(a) => paired.push((a.site, r.value, a.value)),
            None => by_key
                .entry(site_key(group_by, &r.site, &r.frame))
                .or_default()
                .0
                .push(r),
        }
    }
    for (_, r) in after {
        by_key
            .entry(site_key(group_by, &r.site, &r.frame))
            .or_default()
            .1
            .push(r);
    }
    pair_named_apart(&mut by_key);
    for (b, mut a) in by_key.into_values().flat_map(of_one_file) {
        if b.is_empty() || a.is_empty() {
            paired.extend(b.into_iter().map(|r| (r.site, r.value, 0)));
            paired.extend(a.into_iter().map(|r| (r.site, 0, r.value)));
            continue;
        }
        let sum = |rows: &[TopRow]| rows.iter().fold(0u64, |s, r| s.saturating_add(r.value));
        let (x, y) = (sum(&b), sum(&a));
        a.sort_by(|p, q| q.value.cmp(&p.value).then_with(|| p.site.cmp(&q.site)));
        let label = a.swap_remove(0).site;
        paired.push((label, x, y));
    }
    paired
}

/// Sites left on one side only (rows of the before profile, or of the after one) by their key.
type Lone = HashMap<String, (Vec<TopRow>, Vec<TopRow>)>;

/// The rows of one key (before, after), split where their files tell them apart: a key holds a
/// file by its base name only, so `lib.rs:10` of two crates, whose closures are both
/// `{closure}`, would be one site. Rows are together where their files are one file by their
/// last components ([`same_file`](crate::profile::frame::same_file)), or through a row whose
/// file is named by fewer (Valgrind's `main.rs` may be either crate's); rows without a file are
/// together.
fn of_one_file((before, after): (Vec<TopRow>, Vec<TopRow>)) -> Vec<(Vec<TopRow>, Vec<TopRow>)> {
    let rows: Vec<(bool, TopRow)> = before
        .into_iter()
        .map(|r| (true, r))
        .chain(after.into_iter().map(|r| (false, r)))
        .collect();
    let files: Vec<Option<String>> = rows
        .iter()
        .map(|(_, r)| Frame::parse(&r.frame).file.map(str::to_owned))
        .collect();
    // Each row's group: the lowest row it is joined to, through any chain of joins.
    let mut group: Vec<usize> = (0..rows.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for i in 0..rows.len() {
        for j in 0..i {
            let joined = match (&files[i], &files[j]) {
                (Some(x), Some(y)) => crate::profile::frame::same_file(x, y),
                (x, y) => x.is_none() && y.is_none(),
            };
            if joined {
                let (x, y) = (root(&mut group, i), root(&mut group, j));
                group[x.max(y)] = x.min(y);
            }
        }
    }
    let mut out: Vec<(Vec<TopRow>, Vec<TopRow>)> = Vec::new();
    let mut slot: HashMap<usize, usize> = HashMap::new();
    for (i, (before, r)) in rows.into_iter().enumerate() {
        let g = root(&mut group, i);
        let k = *slot.entry(g).or_insert_with(|| {
            out.push((Vec::new(), Vec::new()));
            out.len() - 1
        });
        if before {
            out[k].0.push(r);
        } else {
            out[k].1.push(r);
        }
    }
    out
}

/// Pairs a site Valgrind names `UnknownInlinedFun` (a function inlined where it has no name for
/// it, which stands for any) with the site of a name left at its line, each left on one side only.
/// They pair when every row of both is of one file, by its path's last components and with at
/// least its crate's directory, the one above its `src` (`serde_core-1.0.229/src/de/impls.rs`:
/// `src/lib.rs`, as Valgrind cuts a path by default, and `src/de/impls.rs`, as dhat-rs keeps a
/// path's last three components, name a file of any crate), and each is the other's only partner.
fn pair_named_apart(by_key: &mut Lone) {
    /// A lone site: its key, side (before), location, files and function's name.
    struct Site<'k> {
        key: &'k str,
        before: bool,
        at: &'k str,
        files: Vec<&'k str>,
        name: &'k str,
    }
    const UNKNOWN: &str = "UnknownInlinedFun";
    // A path with the crate's directory above its `src`.
    let whole = |file: &str| {
        let parts: Vec<&str> = file.split(['/', '\\']).filter(|c| !c.is_empty()).collect();
        parts
            .iter()
            .rposition(|&c| c == "src")
            .is_some_and(|at| at > 0)
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    {
        let lone: Vec<Site<'_>> = by_key
            .iter()
            .filter(|(_, (b, a))| b.is_empty() != a.is_empty())
            .filter_map(|(key, (b, a))| {
                let (at, name) = key.split_once('\n')?;
                let files = b
                    .iter()
                    .chain(a)
                    .map(|r| Frame::parse(&r.frame).file)
                    .collect::<Option<Vec<&str>>>()?;
                Some(Site {
                    key,
                    before: !b.is_empty(),
                    at,
                    files,
                    name,
                })
            })
            .collect();
        let fit = |x: &Site<'_>, y: &Site<'_>| {
            x.before != y.before
                && x.at == y.at
                && (x.name == UNKNOWN || y.name == UNKNOWN)
                && x.files.iter().chain(&y.files).all(|f| whole(f))
                && x.files.iter().all(|f| {
                    y.files
                        .iter()
                        .all(|g| crate::profile::frame::same_file(f, g))
                })
        };
        // The lone sites of each location: only sites of one location fit.
        let mut at: HashMap<&str, Vec<&Site<'_>>> = HashMap::new();
        for x in &lone {
            at.entry(x.at).or_default().push(x);
        }
        let fitting = |x: &Site<'_>| -> Vec<&Site<'_>> {
            let here = at.get(x.at).map_or(&[][..], Vec::as_slice);
            here.iter().copied().filter(|y| fit(x, y)).collect()
        };
        for x in lone.iter().filter(|x| x.before) {
            if let [y] = fitting(x)[..] {
                if fitting(y).len() == 1 {
                    pairs.push((x.key.to_owned(), y.key.to_owned()));
                }
            }
        }
    }
    for (before, after) in pairs {
        if let Some((b, _)) = by_key.remove(&before) {
            by_key.entry(after).or_default().0.extend(b);
        }
    }
}

/// What pairs a site of the before profile with one of the after profile that no site of its
/// label did ([`pair`]): its label, or, for sites with a source location, that location and the
/// function's name as the source spells it ([`Frame::source_name`]), so that one code location
/// is one site across builds that name it differently: a debug build's
/// `app::Matrix::Matrix(unsigned long) (clones.cpp:24)` and a release build's inlined
/// `Matrix (clones.cpp:24)`, `app::fill(int, int) (clones.cpp:17)` and its specialised copy
/// `app::fill(int, int) [clone .constprop.0] (clones.cpp:17)`. A function known only by the
/// binary it is in is keyed by its name: `main (in /build/app)` and `main (in /build/app-new)`.
fn site_key(group_by: GroupBy, site: &str, frame: &str) -> String {
    if group_by == GroupBy::Function {
        // By its name: a function named apart from one of its name in another file, `helper
        // (a.c)`, is `helper` where the other profile has one `helper` only; its file tells
        // them apart ([`of_one_file`]).
        let f = Frame::parse(frame);
        return match f.file {
            Some(file) => site.strip_suffix(&format!(" ({file})")).unwrap_or(site),
            None => site,
        }
        .to_owned();
    }
    if group_by != GroupBy::Site {
        return site.to_owned();
    }
    let f = Frame::parse(frame);
    match (f.file, f.line) {
        (Some(file), Some(line)) if !f.is_unsymbolised() && file != "???" => {
            // By its base name: dhat-rs cuts a file's path to its last components, dhat-kit's
            // sampled profiles keep it whole, Valgrind prints the base name.
            let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
            // A closure's name in the source is `|...|`: v0's `{closure#1}` (Valgrind's) and
            // legacy's `{{closure}}` (dhat-rs's, dhat-kit's) are one, as the closures of one line
            // are (`.map(|x| ..).filter(|y| ..)`).
            let name = f.source_name();
            let closure = name == "{{closure}}" || name.starts_with("{closure#");
            let name = if closure { "{closure}" } else { name };
            format!("{base}:{line}\n{name}")
        }
        // A function known by its binary only (Valgrind's `main (in /build/app)`): by its name,
        // so that the program built under another name (`app-regress`) is the same site. Not
        // code without symbols, whose label is its address (`0x1091BE (in app)`): an address
        // moves with every build, and two binaries' are two sites.
        (None, _) if f.object.is_some() && !f.is_unsymbolised() && !is_address(f.function) => {
            format!("\nin a binary\n{}", f.function)
        }
        _ => site.to_owned(),
    }
}

/// Whether `function` is an address (`0x1091BE`), as the label of code without symbols names it.
fn is_address(function: &str) -> bool {
    function
        .strip_prefix("0x")
        .is_some_and(|hex| !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn signed(profile: &Profile, metric: Metric, d: i128) -> String {
    let sign = if d < 0 { "-" } else { "+" };
    let magnitude = u64::try_from(d.unsigned_abs()).unwrap_or(u64::MAX);
    format!("{sign}{}", show(profile, metric, magnitude))
}

fn pct(p: Option<f64>) -> String {
    match p {
        Some(p) => format!("{p:+.1}%"),
        None => "new".to_owned(),
    }
}

impl Diff {
    /// The totals table and the sites table, as text or Markdown (figures in `after`'s unit),
    /// or JSON.
    #[must_use]
    pub fn render(&self, after: &Profile, format: Format) -> String {
        if format == Format::Json {
            return serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        }
        let markdown = format == Format::Markdown;
        let metric_of = |name: &str| {
            if name.ends_with("blocks") {
                Metric::TotalBlocks
            } else {
                Metric::TotalBytes
            }
        };
        let rows: Vec<Vec<String>> = self
            .totals
            .iter()
            .map(|t| {
                let m = metric_of(t.name);
                vec![
                    super::in_units(t.name, after.unit_plural(), after.blocks_plural()),
                    show(after, m, t.before),
                    show(after, m, t.after),
                    signed(after, m, t.delta),
                    pct(t.percent),
                ]
            })
            .collect();
        // The first column is a label: a table with the label last reads better.
        let rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|mut r| {
                let name = r.remove(0);
                r.push(name);
                r
            })
            .collect();
        let mut out = render_table(
            &["before", "after", "delta", "change", "total"],
            &rows,
            markdown,
        );
        out.push('\n');
        let sites: Vec<Vec<String>> = self
            .sites
            .iter()
            .map(|s| {
                vec![
                    show(after, self.by, s.before),
                    show(after, self.by, s.after),
                    signed(after, self.by, s.delta),
                    pct(s.percent),
                    s.site.clone(),
                ]
            })
            .collect();
        let what = match self.group_by {
            GroupBy::Site => ("site", "sites"),
            GroupBy::Function => ("function", "functions"),
            GroupBy::File => ("file", "files"),
            GroupBy::Crate => ("crate", "crates"),
        };
        if self.changed == 0 {
            out.push_str(&format!("no {} changed\n", what.0));
        } else {
            let header = format!("{} ({})", what.0, self.by.name_in(after));
            out.push_str(&render_table(
                &["before", "after", "delta", "change", &header],
                &sites,
                markdown,
            ));
            out.push_str(&format!(
                "{}{} of {} changed {}\n",
                if markdown { "\n" } else { "" },
                self.sites.len(),
                self.changed,
                what.1
            ));
        }
        if self.estimated {
            out.push_str(&format!(
                "{}a sampled profile's {} figures are estimates, which differ from run to run of \
                 the same work (its totals are exact): a change much smaller than the figures' \
                 own spread is not a change\n",
                if markdown { "\n" } else { "" },
                what.0
            ));
        }
        if self.mixed {
            out.push_str(&format!(
                "{}one profile is sampled and the other exact: the sampled one charges a \
                 reallocation (a growing Vec or String) to the code that grew the block, the \
                 exact one to the code that first allocated it, so a container made in one \
                 function and grown in another is at different sites in the two\n",
                if markdown { "\n" } else { "" },
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::percent;

    fn heap(eb: u64) -> Profile {
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
            "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"te":9,"tg":5,
            "pps":[{{"tb":100,"tbk":1,"tl":1,"mb":100,"mbk":1,"gb":100,"gbk":1,"eb":{eb},
            "ebk":{ebk},"fs":[1]}}],"ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}}"#,
            ebk = u64::from(eb > 0)
        );
        crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
    }

    /// A sampled profile whose remainder was estimated from `samples` samples.
    fn sampled(samples: u64, rest: u64) -> Profile {
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"dhat-kit-sampled","verb":"Allocated","bklt":true,
            "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":9,"tg":5,
            "pps":[{{"tb":4096,"tbk":1,"tl":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,
            "fs":[2]}},{{"tb":{rest},"tbk":1,"tl":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,
            "fs":[1]}}],"ftbl":["[root]",
            "[unsampled remainder] estimated from {samples} samples at mean interval 524288 bytes",
            "0x1: app::f (src/f.rs:1:1)"]}}"#
        );
        crate::profile::from_slice(json.as_bytes(), "s.json").unwrap()
    }

    /// A Valgrind heap profile of one point per `(bytes, stack)`.
    fn valgrind(points: &[(u64, &[&str])]) -> Profile {
        let mut ftbl = vec!["[root]".to_owned()];
        let mut pps = Vec::new();
        for (tb, stack) in points {
            let mut fs = Vec::new();
            for frame in stack.iter() {
                fs.push(ftbl.len());
                ftbl.push(frame.to_string());
            }
            pps.push(format!(r#"{{"tb":{tb},"tbk":1,"fs":{fs:?}}}"#));
        }
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,
            "bkacc":false,"tu":"instrs","Mtu":"Minstr","cmd":"./clones","pid":1,"te":9,
            "pps":[{}],"ftbl":{}}}"#,
            pps.join(","),
            serde_json::to_string(&ftbl).unwrap()
        );
        crate::profile::from_slice(json.as_bytes(), "v.json").unwrap()
    }

    #[test]
    fn one_code_location_is_one_site_across_builds_that_name_it_differently() {
        // Valgrind's DHAT on `clones.cpp` built with `g++ -O0 -g` and `g++ -O2 -g` (GCC 12).
        const NEW: &str = "0x1: operator new(unsigned long) (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)";
        let o0 = valgrind(&[
            (491_520, &[NEW, "0x10A1: app::fill(int, int) (clones.cpp:17)", "0x10B1: main (clones.cpp:43)"]),
            (39_712, &[NEW, "0x10A2: app::Matrix::Matrix(unsigned long) (clones.cpp:24)", "0x10B2: main (clones.cpp:48)"]),
            (6_872, &[NEW, "0x10A3: app::make_formatter(std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > const&)::{lambda(int)#1}::operator()(int) const (clones.cpp:34)", "0x10B3: main (clones.cpp:51)"]),
            (100, &[NEW, "0x10A4: main (clones.cpp:52)"]),
        ]);
        let o2 = valgrind(&[
            (491_520, &[NEW, "0x20A1: app::fill(int, int) [clone .constprop.0] (clones.cpp:17)", "0x20B1: main (clones.cpp:43)"]),
            (39_712, &[NEW, "0x20A2: Matrix (clones.cpp:24)", "0x20B2: main (clones.cpp:48)"]),
            (6_872, &[NEW, "0x20A3: operator() (clones.cpp:34)", "0x20B3: __invoke_impl<std::__cxx11::basic_string<char>, app::make_formatter(const std::string&)::<lambda(int)>&, int> (invoke.h:61)"]),
            (200, &[NEW, "0x20A4: main (clones.cpp:52)"]),
        ]);
        let d = diff(&o0, &o2, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{:#?}", d.sites);
        assert_eq!(d.sites[0].site, "main (clones.cpp:52)");
        // Grouped by function, names are what they are, but for a specialised copy, which is
        // its function (`app::fill(int, int)`): the constructor, the lambda's call operator (each
        // gone under one name and new under another) and `main` changed.
        let by_function = DiffOptions {
            group_by: GroupBy::Function,
            ..DiffOptions::default()
        };
        let d = diff(&o0, &o2, &by_function).unwrap();
        assert_eq!(d.changed, 5, "{:#?}", d.sites);
        assert!(!d.sites.iter().any(|s| s.site.starts_with("app::fill")));
        // Another function at the same line is another site.
        let other = valgrind(&[(491_520, &[NEW, "0x30A1: app::refill(int) (clones.cpp:17)"])]);
        let d = diff(
            &o0,
            &other,
            &DiffOptions {
                n: 0,
                ..DiffOptions::default()
            },
        )
        .unwrap();
        assert!(d
            .sites
            .iter()
            .any(|s| s.site == "app::refill(int) (clones.cpp:17)" && s.before == 0));
    }

    /// Valgrind's profile and dhat's of one Rust program: a closure named as each mangling names
    /// it, and a function Valgrind could not name where it was inlined, are one site each (each
    /// was one site gone and one new).
    #[test]
    fn valgrinds_and_dhats_names_of_one_rust_site_pair() {
        let rust = |sites: &[(u64, &str)]| {
            let ftbl: Vec<String> = std::iter::once("[root]".to_owned())
                .chain(sites.iter().map(|(_, f)| format!("0x1: {f}")))
                .collect();
            let pps: Vec<String> = sites
                .iter()
                .enumerate()
                .map(|(i, (tb, _))| format!(r#"{{"tb":{tb},"tbk":1,"fs":[{}]}}"#, i + 1))
                .collect();
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
                "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
                "pps":[{}],"ftbl":{}}}"#,
                pps.join(","),
                serde_json::to_string(&ftbl).unwrap()
            );
            crate::profile::from_slice(json.as_bytes(), "r.json").unwrap()
        };
        let valgrind = rust(&[
            (1_000, "{closure#1} (/w/app/src/main.rs:44)"),
            (
                700,
                "UnknownInlinedFun (/r/serde_core-1.0.229/src/de/impls.rs:596)",
            ),
            (50, "app::other (/w/app/src/main.rs:9)"),
        ]);
        let dhat = rust(&[
            (1_000, "app::make_json::{{closure}} (app/src/main.rs:44:13)"),
            (
                700,
                "<serde_core::de::impls::StringVisitor as serde_core::de::Visitor>::visit_str (serde_core-1.0.229/src/de/impls.rs:596:5)",
            ),
            (60, "app::other (app/src/main.rs:9:5)"),
        ]);
        let d = diff(&valgrind, &dhat, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{:#?}", d.sites);
        assert_eq!((d.sites[0].before, d.sites[0].after), (50, 60));
        // An unnamed inlined function stands for another crate's function at a line of its
        // file's name only where the two paths are one file.
        let elsewhere = rust(&[(700, "other::parse (other-3.0.0/src/de/impls.rs:596:5)")]);
        let all = DiffOptions {
            n: 0,
            ..DiffOptions::default()
        };
        let d = diff(&valgrind, &elsewhere, &all).unwrap();
        assert_eq!(d.changed, 4, "{:#?}", d.sites);
        // Nor where Valgrind cut the path to its file's directory (`src/lib.rs` names a file of
        // any crate), nor where the rows of one name are of two files.
        let cut = rust(&[(700, "UnknownInlinedFun (src/lib.rs:10)")]);
        let two = rust(&[
            (300, "a::g (a-1.0/src/lib.rs:10:5)"),
            (400, "b::g (b-1.0/src/lib.rs:10:5)"),
        ]);
        let whole = rust(&[(700, "UnknownInlinedFun (/r/a-1.0/src/lib.rs:10)")]);
        assert_eq!(diff(&cut, &two, &all).unwrap().changed, 3);
        assert_eq!(diff(&whole, &two, &all).unwrap().changed, 3);
        // Two closures of one line are one site, as either mangling names them.
        let closures = rust(&[
            (1_000, "app::f::{closure#0} (/w/app/src/main.rs:44)"),
            (500, "app::f::{closure#1} (/w/app/src/main.rs:44)"),
        ]);
        let dhat = rust(&[
            (1_000, "app::f::{{closure}} (app/src/main.rs:44:20)"),
            (500, "app::f::{{closure}} (app/src/main.rs:44:35)"),
        ]);
        assert_eq!(diff(&closures, &dhat, &all).unwrap().changed, 0);
        // Closures at one line of two crates' files of one name are two sites, gone and new,
        // whichever mangling names them (both were `lib.rs:10` and `{closure}`, one site).
        for (before, after) in [
            (
                "a::f::{{closure}} (a-1.0/src/lib.rs:10:5)",
                "b::g::{{closure}} (b-1.0/src/lib.rs:10:5)",
            ),
            (
                "{closure#1} (/w/app/src/main.rs:44)",
                "other::run::{{closure}} (other-3.0.0/src/main.rs:44:13)",
            ),
        ] {
            let d = diff(&rust(&[(300, before)]), &rust(&[(400, after)]), &all).unwrap();
            assert_eq!(d.changed, 2, "{before} {after}: {:#?}", d.sites);
        }
        // An unnamed inlined function pairs with no site of a path that lacks its crate's
        // directory, as dhat-rs cuts a file below `src` to `src/de/impls.rs`.
        for (before, after) in [
            (
                "UnknownInlinedFun (/r/serde_core-1.0.229/src/de/impls.rs:596)",
                "other::parse (src/de/impls.rs:596:5)",
            ),
            (
                "UnknownInlinedFun (src/de/impls.rs:596)",
                "other::parse (other-3.0.0/src/de/impls.rs:596:5)",
            ),
        ] {
            let d = diff(&rust(&[(700, before)]), &rust(&[(900, after)]), &all).unwrap();
            assert_eq!(d.changed, 2, "{before} {after}: {:#?}", d.sites);
        }
        // An unnamed inlined function with two candidates at its location stays apart.
        let two = rust(&[
            (700, "a::f (serde_core-1.0.229/src/de/impls.rs:596:5)"),
            (300, "b::g (serde_core-1.0.229/src/de/impls.rs:596:9)"),
        ]);
        let d = diff(
            &valgrind,
            &two,
            &DiffOptions {
                n: 0,
                ..DiffOptions::default()
            },
        )
        .unwrap();
        assert!(
            d.sites
                .iter()
                .any(|s| s.site.starts_with("UnknownInlinedFun") && s.after == 0),
            "{:#?}",
            d.sites
        );
    }

    #[test]
    fn a_function_known_by_its_binary_is_one_site_whatever_the_binary_is_called() {
        // Valgrind's DHAT on a program without debug info for `main`, built as `app` and then
        // as `app-regress`: one site, which grew, not one gone and one new.
        const NEW: &str = "0x1: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)";
        let before = valgrind(&[(548, &[NEW, "0x10A1: main (in /build/app)"])]);
        let after = valgrind(&[(600, &[NEW, "0x20A1: main (in /build/app-regress)"])]);
        let d = diff(&before, &after, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{:#?}", d.sites);
        assert_eq!((d.sites[0].before, d.sites[0].after), (548, 600));
        // Two functions of the binary stay two sites.
        let other = valgrind(&[(600, &[NEW, "0x20A2: helper (in /build/app-regress)"])]);
        let d = diff(&before, &other, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 2, "{:#?}", d.sites);
        // Code without symbols is known by its address alone, which moves with every build: in
        // two binaries, two sites (one address in both paired `app` with `app-v2`).
        let before = valgrind(&[(548, &[NEW, "0x1091BE: ??? (in /build/app)"])]);
        let after = valgrind(&[(600, &[NEW, "0x1091BE: ??? (in /build/app-v2)"])]);
        let d = diff(&before, &after, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 2, "{:#?}", d.sites);
    }

    #[test]
    fn sites_of_one_location_and_name_keep_their_own_figures_where_both_profiles_name_them() {
        // Valgrind prints files by their base name: two functions `new` at line 15 of two
        // `mod.rs` have one source location and own name.
        const NEW: &str = "0x1: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)";
        let foo = "0x10A1: app::foo::Foo::new (mod.rs:15)";
        let bar = "0x10A2: app::bar::Bar::new (mod.rs:15)";
        let before = valgrind(&[(1_000, &[NEW, foo]), (300, &[NEW, bar])]);
        // `Bar::new` no longer allocates; `Foo::new` allocates as before.
        let after = valgrind(&[(1_000, &[NEW, foo])]);
        let d = diff(&before, &after, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{:#?}", d.sites);
        assert_eq!(d.sites[0].site, "app::bar::Bar::new (mod.rs:15)");
        assert_eq!((d.sites[0].before, d.sites[0].after), (300, 0));
        // A release build that inlines both names them alike: one site, their figures added.
        let inlined = valgrind(&[(1_000, &[NEW, "0x20A1: new (mod.rs:15)"])]);
        let d = diff(&before, &inlined, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{:#?}", d.sites);
        assert_eq!(d.sites[0].site, "new (mod.rs:15)");
        assert_eq!((d.sites[0].before, d.sites[0].after), (1_300, 1_000));
    }

    /// By function, a function of one name in two files is two rows, each paired with its own
    /// file's in the other profile, however each profile names it: `helper (a.c)` beside a
    /// `helper (b.c)`, or `helper` where it is the only one. Both helpers were one row.
    #[test]
    fn functions_of_one_name_in_two_files_are_paired_file_by_file() {
        const NEW: &str = "0x1: malloc (in /usr/libexec/valgrind/vgpreload_dhat-amd64-linux.so)";
        let one = valgrind(&[(1_000, &[NEW, "0x10: helper (a.c:2)", "0x20: main (m.c:5)"])]);
        let two = valgrind(&[
            (1_200, &[NEW, "0x11: helper (a.c:2)", "0x20: main (m.c:5)"]),
            (5_000, &[NEW, "0x12: helper (b.c:2)", "0x21: main (m.c:6)"]),
        ]);
        let by_function = DiffOptions {
            n: 0,
            group_by: GroupBy::Function,
            ..DiffOptions::default()
        };
        let sites = |d: Diff| -> Vec<(String, u64, u64)> {
            d.sites
                .into_iter()
                .map(|s| (s.site, s.before, s.after))
                .collect()
        };
        let d = diff(&one, &two, &by_function).unwrap();
        assert_eq!(
            sites(d),
            [
                ("helper (b.c)".to_owned(), 0, 5_000),
                ("helper (a.c)".to_owned(), 1_000, 1_200),
            ]
        );
        let d = diff(&two, &one, &by_function).unwrap();
        assert_eq!(
            sites(d),
            [
                ("helper (b.c)".to_owned(), 5_000, 0),
                ("helper".to_owned(), 1_200, 1_000),
            ]
        );
    }

    #[test]
    fn a_site_is_one_site_whatever_part_of_its_files_path_a_profile_keeps() {
        // dhat-rs cuts a file's path to its last components; a dhat-kit sampled profile keeps
        // it whole.
        let profile = |mode: &str, file: &str, tb: u64| {
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":false,
                "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
                "pps":[{{"tb":{tb},"tbk":1,"fs":[1]}}],
                "ftbl":["[root]","0x1: app::tokenize ({file}:94:5)"]}}"#
            );
            crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
        };
        let dhat_rs = profile("rust-heap", "app/src/main.rs", 1_000);
        let whole = profile("rust-heap", "/home/dev/app/src/main.rs", 1_200);
        let d = diff(&dhat_rs, &whole, &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{:#?}", d.sites);
        assert_eq!((d.sites[0].before, d.sites[0].after), (1_000, 1_200));
        assert_eq!(
            d.sites[0].site,
            "app::tokenize (/home/dev/app/src/main.rs:94)"
        );
    }

    #[test]
    fn the_tables_name_the_grouping_and_say_when_figures_are_estimates() {
        let before = sampled(3, 100);
        let after = sampled(10, 300);
        let by_function = DiffOptions {
            group_by: GroupBy::Function,
            ..DiffOptions::default()
        };
        let d = diff(&before, &after, &by_function).unwrap();
        assert!(d.estimated);
        let text = d.render(&after, Format::Table);
        assert!(text.contains("function (total-bytes)"), "{text}");
        assert!(text.contains("1 of 1 changed functions"), "{text}");
        assert!(text.contains("figures are estimates"), "{text}");
        let json = d.render(&after, Format::Json);
        assert!(
            json.starts_with("{\n  \"schema\": \"dhat-kit-diff/1\","),
            "{json}"
        );
        assert!(json.contains(r#""group_by": "function""#), "{json}");
        assert!(json.contains(r#""unit": "bytes""#), "{json}");
        assert!(json.contains(r#""estimated": true"#), "{json}");
        // Both sampled: their reallocations are charged alike.
        assert!(
            !d.mixed && !text.contains("one profile is sampled"),
            "{text}"
        );
        // One sampled, one exact: said, in the text and in JSON.
        let d = diff(&heap(0), &after, &by_function).unwrap();
        assert!(d.estimated && d.mixed);
        let text = d.render(&after, Format::Markdown);
        assert!(
            text.contains("\none profile is sampled and the other exact: the sampled one charges a reallocation"),
            "{text}"
        );
        assert!(
            d.render(&after, Format::Json).contains(r#""mixed": true"#),
            "{text}"
        );
        // Exact profiles: no such note.
        let d = diff(&heap(0), &heap(0), &DiffOptions::default()).unwrap();
        assert!(!d.estimated && !d.mixed);
        let text = d.render(&heap(0), Format::Table);
        assert!(text.contains("no site changed"), "{text}");
        assert!(!text.contains("estimates"), "{text}");
    }

    #[test]
    fn the_unsampled_remainder_is_one_site_across_sampled_profiles() {
        let d = diff(&sampled(3, 100), &sampled(10, 300), &DiffOptions::default()).unwrap();
        assert_eq!(d.changed, 1, "{d:?}");
        assert_eq!(d.sites[0].site, "[unsampled remainder]");
        assert_eq!((d.sites[0].before, d.sites[0].after), (100, 300));
    }

    #[test]
    fn profiles_of_different_kinds_are_not_compared() {
        let ad_hoc = crate::profile::from_slice(
            br#"{"dhatFileVersion":2,"mode":"ad-hoc","verb":"Occurred","bklt":false,
            "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"instrs",
            "Mtu":"Minstr","cmd":"app","pid":1,"te":9,"pps":[{"tb":100,"tbk":1,"fs":[1]}],
            "ftbl":["[root]","0x1: app::f (src/f.rs:1:1)"]}"#,
            "a.json",
        )
        .unwrap();
        let heap = heap(0);
        let e = diff(&heap, &ad_hoc, &DiffOptions::default()).unwrap_err();
        assert!(matches!(e, Error::Kinds { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the two profiles measure different things: the before profile is a heap profile \
             (mode `rust-heap`, in bytes), the after profile an ad-hoc profile (mode `ad-hoc`, in \
             units); compare profiles of one kind"
        );
        let e = diff(&ad_hoc, &heap, &DiffOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("before profile is an ad-hoc profile"),
            "{e}"
        );
        let same = diff(&ad_hoc, &ad_hoc, &DiffOptions::default()).unwrap();
        let text = same.render(&ad_hoc, Format::Table);
        assert!(
            text.contains("total units") && text.contains("total events"),
            "{text}"
        );
        assert!(
            !text.contains("bytes") && !text.contains("blocks"),
            "{text}"
        );
        assert!(diff(&heap, &heap, &DiffOptions::default()).is_ok());
    }

    #[test]
    fn a_total_of_zero_on_both_sides_is_unchanged_not_new() {
        assert_eq!(change(0, 0), (0, Some(0.0)));
        assert_eq!(pct(change(0, 0).1), "+0.0%");
        let (zero, some) = (heap(0), heap(40));
        let d = diff(&zero, &zero, &DiffOptions::default()).unwrap();
        let end = d.totals.iter().find(|t| t.name == "end bytes").unwrap();
        assert_eq!((end.before, end.after, end.percent), (0, 0, Some(0.0)));
        let text = d.render(&zero, Format::Table);
        assert!(!text.contains("new"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.ends_with("+0.0%  end bytes") && l.contains("+0 B")),
            "{text}"
        );
        // From nothing to something is still new, and from something to nothing is -100%.
        let d = diff(&zero, &some, &DiffOptions::default()).unwrap();
        let end = d.totals.iter().find(|t| t.name == "end bytes").unwrap();
        assert_eq!(end.percent, None);
        assert!(d.render(&some, Format::Table).contains("new  end bytes"));
        let d = diff(&some, &zero, &DiffOptions::default()).unwrap();
        let end = d.totals.iter().find(|t| t.name == "end bytes").unwrap();
        assert_eq!(end.percent, Some(-100.0));
    }

    #[test]
    fn percent_of_zero_is_none_and_negative_deltas_keep_their_sign() {
        assert_eq!(change(0, 5), (5, None));
        assert_eq!(change(200, 150), (-50, Some(-25.0)));
        assert_eq!(percent(1, 4), 25.0);
    }
}
