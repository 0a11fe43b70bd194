//! The top allocation sites of a profile.

use std::collections::HashMap;

use super::{percent, render_table, show, Error, Figures, Format, Frames, GroupBy, Metric, Skip};
use crate::profile::Profile;

/// What [`top`] ranks and how it groups.
///
/// Built from [`Default`], then its fields set (`let mut o = TopOptions::default(); o.n = 5;`): it is
/// `#[non_exhaustive]`, so that a field added later breaks no caller.
///
/// ```
/// let mut opts = dhat_kit::analyze::TopOptions::default();
/// opts.n = 5;
/// ```
///
/// ```compile_fail
/// // A literal names every field there is, so a field added would break it.
/// let opts = dhat_kit::analyze::TopOptions { n: 5, ..Default::default() };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TopOptions {
    /// How many rows (default 10; 0 for all).
    pub n: usize,
    /// The figure to rank by (default total bytes).
    pub by: Metric,
    /// How program points make rows (default: by site).
    pub group_by: GroupBy,
    /// How many frames of each row's call stack to keep, from its most informative frame
    /// outwards (default 0: none).
    pub stack: usize,
    /// A program's own allocation wrappers, skipped like `malloc` when finding sites.
    pub skip: Skip,
}

impl Default for TopOptions {
    fn default() -> Self {
        TopOptions {
            n: 10,
            by: Metric::TotalBytes,
            group_by: GroupBy::Site,
            stack: 0,
            skip: Skip::new(),
        }
    }
}

/// The top rows of a profile, ranked by one figure. As JSON (`serde`), a profile without block
/// lifetimes gives each row's peak and end figures as null, not 0.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Top {
    /// Always `"dhat-kit-top/1"`: the JSON shape's name, which changes only if a field's meaning
    /// does.
    pub schema: &'static str,
    /// The figure ranked by.
    pub by: Metric,
    /// How rows were grouped.
    pub group_by: GroupBy,
    /// The profile's unit (`bytes`, or `units` for ad-hoc profiles).
    pub unit: String,
    /// Whether the profile is sampled (a dhat-kit sampled profile): its rows' figures are
    /// estimates, which differ from run to run of the same work (its totals are exact).
    pub estimated: bool,
    /// The ranked figure over the whole profile.
    pub total: u64,
    /// The rows, largest first.
    pub rows: Vec<TopRow>,
    /// How many rows there were in all, shown or not.
    pub groups: usize,
    /// How many of them were left out because their ranked figure is 0 (rows stop at the last
    /// non-zero one).
    pub zero: usize,
    /// Whether the profile has block lifetimes, and so peak and end figures (its rows' are 0
    /// otherwise).
    pub lifetimes: bool,
}

/// One row of [`Top`]: a site (or function, file, crate) and its figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct TopRow {
    /// 1 for the largest.
    pub rank: usize,
    /// The row's label under its grouping: `function (file:line)` for sites.
    pub site: String,
    /// The ranked figure.
    pub value: u64,
    /// The ranked figure as a percentage of the profile's total.
    pub share: f64,
    /// All the row's figures.
    pub figures: Figures,
    /// How many program points (distinct stacks) the row gathers.
    pub points: usize,
    /// The most informative frame of the row's largest program point, `function (file:line)`.
    pub frame: String,
    /// Its call stack from that frame outwards (callers), at most `stack` frames.
    pub stack: Vec<String>,
    /// Whether that frame has no symbol (its label is an address and a binary).
    pub unsymbolised: bool,
}

/// Ranks the program points of `profile`, grouped, by one figure; frames of allocator and
/// standard-library plumbing are skipped when finding each point's site.
///
/// # Errors
///
/// [`Error`] if the profile does not have the figure (peak bytes of an ad-hoc profile), or its
/// points cannot be grouped so ([`Error::Grouping`]: a dhat-kit peak profile's regions by file or
/// crate).
///
/// # Examples
///
/// See the [module](super) documentation.
pub fn top(profile: &Profile, opts: &TopOptions) -> Result<Top, Error> {
    opts.by.check(profile)?;
    Grouped::new(profile, opts.group_by, &opts.skip)?.top(opts.by, opts.n, opts.stack)
}

/// A profile's program points grouped into rows under one grouping: the part of [`top`] that is
/// the same whatever figure ranks the rows (each point's most informative frame, each row's
/// label and figures), done once for a caller that ranks by several figures (the HTML report,
/// its diff).
pub(crate) struct Grouped<'p> {
    profile: &'p Profile,
    frames: Frames<'p>,
    group_by: GroupBy,
    /// Each row: its label, figures and how many points it gathers.
    rows: Vec<(String, Figures, usize)>,
    /// Each program point's row (an index into `rows`) and the position in its `fs` of its most
    /// informative frame.
    points: Vec<(usize, usize)>,
}

impl<'p> Grouped<'p> {
    /// Groups the points of `profile`.
    ///
    /// # Errors
    ///
    /// [`Error::Grouping`] if its points cannot be grouped so (a dhat-kit peak profile's regions
    /// by file or crate).
    pub(crate) fn new(
        profile: &'p Profile,
        group_by: GroupBy,
        skip: &'p Skip,
    ) -> Result<Self, Error> {
        // Every point of a peak profile has one file and one crate, `?`, and the heaviest region
        // named the one row.
        if !group_by.applies_to(profile) {
            return Err(Error::Grouping {
                group_by,
                mode: profile.mode.clone(),
            });
        }
        let mut frames = Frames::new(profile, skip);
        // First by informative frame-table entry (cheap integer keys), then by label. A peak
        // profile's points go by region path under `--group-by site`: `region put/parse` and
        // `region get/parse` are two sites, as `regions()` lists them, not one `region parse`.
        let mut by_frame: HashMap<u32, usize> = HashMap::new();
        // By label, and under `--group-by function` by source file too.
        let mut by_label: HashMap<(String, Option<&'p str>), usize> = HashMap::new();
        let mut rows: Vec<(String, Figures, usize)> = Vec::new();
        // Each row's source file, under `--group-by function`.
        let mut files: Vec<Option<&'p str>> = Vec::new();
        let mut points = Vec::with_capacity(profile.pps.len());
        for pp in &profile.pps {
            let pos = frames.informative(pp);
            let path = (group_by == GroupBy::Site)
                .then(|| region_path(profile, pp))
                .flatten();
            let mut row_of = |label: String, file: Option<&'p str>| {
                *by_label
                    .entry((label, file))
                    .or_insert_with_key(|(label, file)| {
                        rows.push((label.clone(), Figures::default(), 0));
                        files.push(*file);
                        rows.len() - 1
                    })
            };
            let row = match path {
                Some(path) => row_of(path, None),
                None => {
                    let key = pp.fs.get(pos).copied().unwrap_or(0);
                    match by_frame.get(&key) {
                        Some(&row) => row,
                        None => {
                            // A function by its name and its source file: two C `static`
                            // functions of one name in two files are two rows (a function's
                            // copies and inlined instances are in its own file). Named apart
                            // below, where the names alone are not.
                            let file = (group_by == GroupBy::Function)
                                .then(|| function_file(&frames.frame(key)))
                                .flatten();
                            let row = row_of(frames.label(key, group_by), file);
                            by_frame.insert(key, row);
                            row
                        }
                    }
                }
            };
            rows[row].1.add(pp);
            rows[row].2 += 1;
            points.push((row, pos));
        }
        if group_by == GroupBy::Function {
            name_functions_apart(&mut rows, &files);
        }
        Ok(Grouped {
            profile,
            frames,
            group_by,
            rows,
            points,
        })
    }

    /// The profile grouped.
    #[cfg(feature = "cli")]
    pub(crate) fn profile(&self) -> &'p Profile {
        self.profile
    }

    /// The rows ranked by `by`: the `n` largest (all for 0), each with at most `stack` frames of
    /// its call stack, as [`top`] gives them. A row's frame and stack are those of its largest
    /// point by `by`, the first of them in the profile's order.
    ///
    /// # Errors
    ///
    /// [`Error`] if the profile does not have the figure.
    pub(crate) fn top(&self, by: Metric, n: usize, stack: usize) -> Result<Top, Error> {
        self.ranked(by, n, stack, false)
    }

    /// Every row ranked by `by`, those whose figure is 0 too (last), without their stacks: for
    /// comparing two profiles figure by figure, where a row must be paired whatever its figure.
    ///
    /// # Errors
    ///
    /// [`Error`] if the profile does not have the figure.
    #[cfg(feature = "cli")]
    pub(crate) fn top_every(&self, by: Metric) -> Result<Top, Error> {
        self.ranked(by, 0, 0, true)
    }

    /// [`Grouped::top`], with the rows whose figure is 0 when `zeros` holds.
    fn ranked(&self, by: Metric, n: usize, stack: usize, zeros: bool) -> Result<Top, Error> {
        let profile = self.profile;
        by.check(profile)?;
        // Per row: its ranked figure and its largest point, (value, index).
        let mut ranked: Vec<(u64, Option<(u64, usize)>)> = vec![(0, None); self.rows.len()];
        let mut total = 0u64;
        for (i, (pp, &(row, _))) in profile.pps.iter().zip(&self.points).enumerate() {
            let v = by.of(pp);
            total = total.saturating_add(v);
            let r = &mut ranked[row];
            r.0 = r.0.saturating_add(v);
            if r.1.is_none_or(|(hv, _)| v > hv) {
                r.1 = Some((v, i));
            }
        }
        let groups = self.rows.len();
        let zero = ranked.iter().filter(|r| r.0 == 0).count();
        let mut order: Vec<usize> = (0..groups).filter(|&r| zeros || ranked[r].0 > 0).collect();
        order.sort_by(|&a, &b| {
            ranked[b]
                .0
                .cmp(&ranked[a].0)
                .then_with(|| self.rows[a].0.cmp(&self.rows[b].0))
        });
        if n > 0 {
            order.truncate(n);
        }
        let frames = &self.frames;
        let rows = order
            .into_iter()
            .enumerate()
            .map(|(rank, r)| {
                let (label, figures, points) = &self.rows[r];
                let (value, heaviest) = ranked[r];
                let (frame, stack, unsymbolised) = match heaviest {
                    Some((_, i)) => {
                        let pos = self.points[i].1;
                        let fs = &profile.pps[i].fs;
                        let unsymbolised = fs
                            .get(pos)
                            .is_some_and(|&f| frames.frame(f).is_unsymbolised());
                        let frame = fs.get(pos).map(|&f| frames.frame(f).to_string());
                        let stack = fs
                            .iter()
                            .skip(pos)
                            .take(stack)
                            .map(|&f| frames.frame(f).to_string())
                            .collect();
                        (frame.unwrap_or_default(), stack, unsymbolised)
                    }
                    None => (String::new(), Vec::new(), false),
                };
                TopRow {
                    rank: rank + 1,
                    site: label.clone(),
                    value,
                    share: percent(value, total),
                    figures: *figures,
                    points: *points,
                    frame,
                    stack,
                    unsymbolised,
                }
            })
            .collect();
        Ok(Top {
            schema: "dhat-kit-top/1",
            by,
            group_by: self.group_by,
            unit: profile.unit_plural().to_owned(),
            estimated: profile.mode == crate::profile::SAMPLED_MODE,
            total,
            rows,
            groups,
            zero,
            lifetimes: profile.bklt,
        })
    }
}

/// The region path of a dhat-kit peak profile's point, `region server/put/parse`, from its
/// frames (innermost first, `region parse`, `region put`, `region server`); `None` for any other
/// point or profile.
fn region_path(profile: &Profile, pp: &crate::profile::ProgramPoint) -> Option<String> {
    if profile.mode != crate::profile::PEAK_MODE || pp.fs.len() < 2 {
        return None;
    }
    let names: Option<Vec<&str>> = pp
        .fs
        .iter()
        .rev()
        .map(|&f| profile.ftbl.get(f as usize)?.strip_prefix("region "))
        .collect();
    Some(format!("region {}", names?.join("/")))
}

/// The source file a `--group-by function` row of `frame` is told apart by: none for code
/// without symbols, or without a known file (dhat-rs's `???`).
fn function_file<'a>(frame: &crate::profile::Frame<'a>) -> Option<&'a str> {
    frame
        .file
        .filter(|&f| f != "???" && !frame.is_unsymbolised())
}

/// The labels of `--group-by function` rows, each a function's name and `files`' file: the name
/// alone (`helper`), as a function's row is named, where no other row has that name; else, for
/// each row with a file, the name and its file (`helper (a.c)`, `helper (b.c)`), as `top`'s table
/// writes a function's row.
fn name_functions_apart(rows: &mut [(String, Figures, usize)], files: &[Option<&str>]) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (name, _, _) in rows.iter() {
        *count.entry(name).or_default() += 1;
    }
    let named: Vec<Option<String>> = rows
        .iter()
        .zip(files)
        .map(|((name, _, _), file)| match file {
            Some(file) if count[name.as_str()] > 1 => Some(format!("{name} ({file})")),
            _ => None,
        })
        .collect();
    for ((name, _, _), apart) in rows.iter_mut().zip(named) {
        if let Some(apart) = apart {
            *name = apart;
        }
    }
}

/// Whether `label` is the row of a sampled profile's unsampled remainder (under any grouping).
fn remainder(profile: &Profile, label: &str) -> bool {
    profile.mode == crate::profile::SAMPLED_MODE && label == super::summary::REMAINDER
}

/// The footnote under a table with a site shown as an address and a binary.
const UNSYMBOLISED_NOTE: &str =
    "sites shown as an address and a binary (0x4a2f10 (in git)) have no symbols: \
install the binary's debug symbols (Debian: its -dbgsym package) or build it with -g \
(Rust: debug = \"limited\" in [profile.release]), then profile again";

/// As JSON: without block lifetimes the profile gives no peak or end figures, so a row's are
/// null, as in `summary --json`, not 0.
impl serde::Serialize for Top {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = self;
        let mut out = s.serialize_struct("Top", 9)?;
        out.serialize_field("schema", t.schema)?;
        out.serialize_field("by", &t.by)?;
        out.serialize_field("group_by", &t.group_by)?;
        out.serialize_field("unit", &t.unit)?;
        out.serialize_field("estimated", &t.estimated)?;
        out.serialize_field("total", &t.total)?;
        let rows: Vec<RowJson<'_>> = t
            .rows
            .iter()
            .map(|row| RowJson {
                row,
                lifetimes: t.lifetimes,
            })
            .collect();
        out.serialize_field("rows", &rows)?;
        out.serialize_field("groups", &t.groups)?;
        out.serialize_field("zero", &t.zero)?;
        out.end()
    }
}

/// A row's [`Figures`] in [`Top`]'s JSON, in their order.
#[derive(serde::Serialize)]
struct FiguresJson {
    total_bytes: u64,
    total_blocks: u64,
    peak_bytes: Option<u64>,
    peak_blocks: Option<u64>,
    end_bytes: Option<u64>,
    end_blocks: Option<u64>,
}

/// One row of [`Top`] as JSON.
struct RowJson<'a> {
    row: &'a TopRow,
    lifetimes: bool,
}

impl serde::Serialize for RowJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (r, f) = (self.row, &self.row.figures);
        let lived = |v: u64| self.lifetimes.then_some(v);
        let figures = FiguresJson {
            total_bytes: f.total_bytes,
            total_blocks: f.total_blocks,
            peak_bytes: lived(f.peak_bytes),
            peak_blocks: lived(f.peak_blocks),
            end_bytes: lived(f.end_bytes),
            end_blocks: lived(f.end_blocks),
        };
        let mut out = s.serialize_struct("TopRow", 9)?;
        out.serialize_field("rank", &r.rank)?;
        out.serialize_field("site", &r.site)?;
        out.serialize_field("value", &r.value)?;
        out.serialize_field("share", &r.share)?;
        out.serialize_field("figures", &figures)?;
        out.serialize_field("points", &r.points)?;
        out.serialize_field("frame", &r.frame)?;
        out.serialize_field("stack", &r.stack)?;
        out.serialize_field("unsymbolised", &r.unsymbolised)?;
        out.end()
    }
}

impl Top {
    /// The rows as a text table or a Markdown table (figures of `profile`'s unit), or JSON.
    #[must_use]
    pub fn render(&self, profile: &Profile, format: Format) -> String {
        if format == Format::Json {
            return serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        }
        let heap = profile.bklt;
        let by = self.by.name_in(profile);
        let mut header = vec!["#", &by, "share", "total", profile.blocks_plural()];
        if heap {
            header.extend(["at t-gmax", "at t-end"]);
        }
        let what = self.group_by.noun();
        header.push(what);
        let mut rows = Vec::new();
        for r in &self.rows {
            let mut row = vec![
                r.rank.to_string(),
                show(profile, self.by, r.value),
                format!("{:.1}%", r.share),
                show(profile, Metric::TotalBytes, r.figures.total_bytes),
                crate::units::Thousands(r.figures.total_blocks).to_string(),
            ];
            if heap {
                row.push(show(profile, Metric::PeakBytes, r.figures.peak_bytes));
                row.push(show(profile, Metric::EndBytes, r.figures.end_bytes));
            }
            let label = match self.group_by {
                GroupBy::Site => r.site.clone(),
                // A function's rows gather all its lines: its file (or binary), not a line.
                GroupBy::Function => {
                    let f = crate::profile::Frame::parse(&r.frame);
                    match (f.file, f.object) {
                        _ if r.unsymbolised => r.site.clone(),
                        // Named apart from a function of its name in another file: with it.
                        (Some(file), _) if r.site.ends_with(&format!(" ({file})")) => {
                            r.site.clone()
                        }
                        (Some(file), _) if file != "???" => format!("{} ({file})", r.site),
                        (_, Some(obj)) => format!("{} (in {obj})", r.site),
                        _ => r.site.clone(),
                    }
                }
                // A sampled profile's remainder is no code: its label, not its frame's text
                // (`estimated from N samples ...`, which differs from run to run).
                _ if r.frame.is_empty() || remainder(profile, &r.site) => r.site.clone(),
                _ => format!("{}: {}", r.site, r.frame),
            };
            row.push(label);
            rows.push(row);
            for (depth, f) in r.stack.iter().enumerate().skip(1) {
                let mut sub = vec![String::new(); header.len() - 1];
                sub.push(format!("{}  {} {f}", "  ".repeat(depth - 1), "<-"));
                rows.push(sub);
            }
        }
        let markdown = format == Format::Markdown;
        let mut out = render_table(&header, &rows, markdown);
        let shown = self.rows.len();
        let total = show(profile, self.by, self.total);
        let tail = format!(
            "{} of {} {what}s, {} of {total} {}",
            crate::units::Thousands(shown as u64),
            crate::units::Thousands(self.groups as u64),
            format_args!(
                "{:.1}%",
                super::percent(self.rows.iter().map(|r| r.value).sum(), self.total)
            ),
            by
        );
        let tail = if self.groups == 0 {
            format!("no {what}s: the profile has no program points (nothing was recorded)")
        } else {
            tail
        };
        let mut notes = vec![tail];
        if self.zero > 0 {
            notes.push(format!(
                "{} {what}{} with 0 {} not shown",
                crate::units::Thousands(self.zero as u64),
                if self.zero == 1 { "" } else { "s" },
                by
            ));
        }
        if self.estimated {
            notes.push(format!(
                "a sampled profile's {what} figures are estimates, which differ from run to run \
                 of the same work (its totals are exact)"
            ));
        }
        if self.rows.iter().any(|r| r.unsymbolised) {
            notes.push(UNSYMBOLISED_NOTE.to_owned());
        }
        let notes = notes.join("\n");
        if markdown {
            out.push_str(&format!("\n{notes}\n"));
        } else {
            out.push_str(&notes);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProgramPoint;

    fn profile() -> Profile {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,"pps":[],
          "ftbl":["[root]",
            "0x1: alloc::alloc::alloc (alloc/src/alloc.rs:1:1)",
            "0x2: app::parse::token (src/parse.rs:10:5)",
            "0x3: app::parse::token (src/parse.rs:20:5)",
            "0x4: app::render (src/render.rs:3:1)",
            "0x5: other::f (src/lib.rs:1:1)"]}"#;
        let mut p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let pp = |tb: u64, gb: u64, fs: &[u32]| ProgramPoint {
            tb,
            tbk: 1,
            mb: tb,
            mbk: 1,
            gb,
            gbk: u64::from(gb > 0),
            fs: fs.into(),
            ..Default::default()
        };
        p.pps = vec![
            pp(10, 0, &[1, 2, 4]),
            pp(20, 20, &[1, 3, 4]),
            pp(5, 5, &[1, 4]),
            pp(7, 0, &[1, 5]),
        ];
        p
    }

    /// A sampled profile's top says its rows are estimates, in the table and in JSON (it said
    /// nothing, where every other command did); an exact profile's does not.
    #[test]
    fn a_sampled_profiles_rows_are_said_to_be_estimates() {
        let exact = profile();
        let mut sampled = profile();
        sampled.mode = crate::profile::SAMPLED_MODE.to_owned();
        for (p, estimated) in [(&exact, false), (&sampled, true)] {
            let t = top(p, &TopOptions::default()).unwrap();
            assert_eq!(t.estimated, estimated);
            let text = t.render(p, Format::Table);
            assert_eq!(
                text.contains("a sampled profile's site figures are estimates"),
                estimated,
                "{text}"
            );
            let json = t.render(p, Format::Json);
            assert!(
                json.contains(&format!("\"estimated\": {estimated}")),
                "{json}"
            );
        }
    }

    fn rows(by: Metric, group_by: GroupBy) -> Vec<(String, u64, usize)> {
        let opts = TopOptions {
            n: 0,
            by,
            group_by,
            stack: 2,
            ..TopOptions::default()
        };
        top(&profile(), &opts)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| (r.site, r.value, r.points))
            .collect()
    }

    #[test]
    fn groupings_add_up_the_points_of_each_label() {
        let s = |x: &str| x.to_owned();
        assert_eq!(
            rows(Metric::TotalBytes, GroupBy::Site),
            [
                (s("app::parse::token (src/parse.rs:20)"), 20, 1),
                (s("app::parse::token (src/parse.rs:10)"), 10, 1),
                (s("other::f (src/lib.rs:1)"), 7, 1),
                (s("app::render (src/render.rs:3)"), 5, 1),
            ]
        );
        assert_eq!(
            rows(Metric::TotalBytes, GroupBy::Function),
            [
                (s("app::parse::token"), 30, 2),
                (s("other::f"), 7, 1),
                (s("app::render"), 5, 1),
            ]
        );
        assert_eq!(
            rows(Metric::TotalBytes, GroupBy::File),
            [
                (s("src/parse.rs"), 30, 2),
                (s("src/lib.rs"), 7, 1),
                (s("src/render.rs"), 5, 1),
            ]
        );
        assert_eq!(
            rows(Metric::TotalBytes, GroupBy::Crate),
            [(s("app"), 35, 3), (s("other"), 7, 1)]
        );
        // Rows stop at the last non-zero one; the zero rows are counted.
        assert_eq!(rows(Metric::PeakBytes, GroupBy::Crate), [(s("app"), 25, 3)]);
        let opts = TopOptions {
            n: 0,
            by: Metric::PeakBytes,
            ..TopOptions::default()
        };
        let t = top(&profile(), &opts).unwrap();
        assert_eq!((t.rows.len(), t.zero, t.groups), (2, 2, 4));
        let text = t.render(&profile(), Format::Table);
        assert!(text.contains("2 of 4 sites"), "{text}");
        assert!(
            text.contains("2 sites with 0 peak-bytes not shown"),
            "{text}"
        );
    }

    /// The count of rows left out for their 0 is written as every count is: "1,200 sites", not
    /// "1200 sites".
    #[test]
    fn the_rows_of_0_left_out_are_counted_with_separators() {
        let mut p = profile();
        let first = u32::try_from(p.ftbl.len()).unwrap();
        for i in 0..1200 {
            p.ftbl
                .push(format!("0x{i:x}: app::idle{i} (src/idle.rs:{i}:1)").into());
            p.pps.push(ProgramPoint {
                tbk: 1,
                fs: vec![first + i].into(),
                ..Default::default()
            });
        }
        let opts = TopOptions {
            n: 1,
            ..TopOptions::default()
        };
        let t = top(&p, &opts).unwrap();
        assert_eq!(t.zero, 1200);
        let text = t.render(&p, Format::Table);
        assert!(
            text.contains("1,200 sites with 0 total-bytes not shown"),
            "{text}"
        );
    }

    /// Functions of one name in two source files (two C `static` helpers) are two rows, each
    /// named with its file; they were one, `helper (b.c)`, with both figures. A function's copies
    /// (`[clone .constprop.0]`) and its lines in its own file stay one row, named by the
    /// function alone.
    #[test]
    fn functions_of_one_name_in_two_files_are_two_rows() {
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"instrs","Mtu":"instr","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[
            {"tb":1000,"tbk":10,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]},
            {"tb":5000,"tbk":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
            {"tb":300,"tbk":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[3]},
            {"tb":200,"tbk":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[4]},
            {"tb":100,"tbk":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[5]}],
          "ftbl":["[root]",
            "0x1: helper (a.c:2)",
            "0x2: helper (b.c:2)",
            "0x3: app::fill(int, int) (c.cpp:17)",
            "0x4: app::fill(int, int) [clone .constprop.0] (c.cpp:17)",
            "0x5: app::fill(int, int) (c.cpp:20)"]}"#;
        assert_eq!(
            labels_and_values(json, GroupBy::Function),
            [
                ("helper (b.c)".to_owned(), 5000),
                ("helper (a.c)".to_owned(), 1000),
                ("app::fill(int, int)".to_owned(), 600),
            ]
        );
        // `top`'s table writes each row's file once.
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let opts = TopOptions {
            n: 0,
            group_by: GroupBy::Function,
            ..TopOptions::default()
        };
        let text = top(&p, &opts).unwrap().render(&p, Format::Table);
        let last: Vec<&str> = text
            .lines()
            .skip(1)
            .take(3)
            .map(|l| l.split("  ").last().unwrap())
            .collect();
        assert_eq!(
            last,
            [
                "helper (b.c)",
                "helper (a.c)",
                "app::fill(int, int) (c.cpp)"
            ],
            "{text}"
        );
    }

    /// Every row of the profile `json` under `group_by`: its label and its total bytes.
    fn labels_and_values(json: &str, group_by: GroupBy) -> Vec<(String, u64)> {
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let opts = TopOptions {
            n: 0,
            group_by,
            ..TopOptions::default()
        };
        top(&p, &opts)
            .unwrap()
            .rows
            .into_iter()
            .map(|r| (r.site, r.value))
            .collect()
    }

    #[test]
    fn a_crate_is_one_row_however_its_package_is_spelled() {
        // Valgrind with full paths: the package's directory `md-prof`, its symbols' `md_prof`.
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"instrs","Mtu":"instr","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[
            {"tb":10,"tbk":1,"mb":10,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]},
            {"tb":20,"tbk":1,"mb":20,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
            {"tb":4,"tbk":1,"mb":4,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[3]}],
          "ftbl":["[root]",
            "0x1: md_prof::main (/w/md-prof/src/main.rs:3)",
            "0x2: render (/w/md-prof/src/render.rs:5)",
            "0x3: parse_tokens (/w/c-lib/src/tokens.c:19)"]}"#;
        let rows = labels_and_values(json, GroupBy::Crate);
        // A C library's directory keeps its name as written.
        assert_eq!(rows, [("md_prof".to_owned(), 30), ("c-lib".to_owned(), 4)]);
    }

    /// A closure without a path, inlined into std's generic code in another file (so not known
    /// by the frame it is inlined into), is of the crate its file's other functions name: it was
    /// given the package's directory, `repo_main`, where the crate is `myapp` (a checkout named
    /// after its branch). A file of its own in that crate root goes with it too.
    #[test]
    fn a_closure_is_of_the_crate_its_files_functions_name() {
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"instrs","Mtu":"instr","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[
            {"tb":100,"tbk":1,"mb":10,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]},
            {"tb":20,"tbk":1,"mb":20,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2,3]},
            {"tb":4,"tbk":1,"mb":4,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[4]}],
          "ftbl":["[root]",
            "0x1: myapp::build (/w/repo-main/src/main.rs:3)",
            "0x2: {closure#0} (/w/repo-main/src/main.rs:2)",
            "0x2: alloc::vec::Vec<T>::extend (/rustc/abc/library/alloc/src/vec/mod.rs:9)",
            "0x3: {closure#0} (/w/repo-main/src/parser.rs:7)"]}"#;
        assert_eq!(
            labels_and_values(json, GroupBy::Crate),
            [("myapp".to_owned(), 124)]
        );
    }

    #[test]
    fn a_peak_profiles_sites_are_region_paths() {
        // `parse` inside `put` and inside `get`: two sites, as `regions()` lists them.
        let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":10,
          "pps":[
            {"tb":10000,"tbk":10,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1,2]},
            {"tb":30000,"tbk":10,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1,3]},
            {"tb":500,"tbk":1,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
            {"tb":7,"tbk":1,"mb":0,"mbk":0,"gb":7,"gbk":1,"eb":7,"ebk":1,"fs":[4]}],
          "ftbl":["[root]","region parse","region put","region get","(outside any region)"]}"#;
        assert_eq!(
            labels_and_values(json, GroupBy::Site),
            [
                ("region get/parse".to_owned(), 30000),
                ("region put/parse".to_owned(), 10000),
                ("region put".to_owned(), 500),
                ("(outside any region)".to_owned(), 7),
            ]
        );
        // By function, a region is its name, wherever it was entered.
        assert_eq!(
            labels_and_values(json, GroupBy::Function)[0],
            ("region parse".to_owned(), 40000)
        );
    }

    #[test]
    fn an_empty_profile_says_it_has_nothing() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
          "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s","cmd":"t",
          "pid":1,"te":10,"pps":[],"ftbl":["[root]"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let t = top(&p, &TopOptions::default()).unwrap();
        let text = t.render(&p, Format::Table);
        assert!(
            text.ends_with("no sites: the profile has no program points (nothing was recorded)\n"),
            "{text}"
        );
    }

    /// A profile without block lifetimes (copy, ad-hoc) has no peak or end figures: its rows
    /// said 0 for them.
    #[test]
    fn json_rows_without_block_lifetimes_have_no_peak_or_end() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated","bklt":false,
          "bkacc":false,"bu":"unit","bsu":"units","bksu":"events","tu":"µs","Mtu":"s","cmd":"t",
          "pid":1,"te":10,"pps":[{"tb":9,"tbk":1,"fs":[1]}],
          "ftbl":["[root]","0x1: app::main (src/main.rs:4:9)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "t.json").unwrap();
        let t = top(&p, &TopOptions::default()).unwrap();
        // The command's JSON and a library user's serialisation alike.
        for out in [
            t.render(&p, Format::Json),
            serde_json::to_string(&t).unwrap(),
        ] {
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let figures = &v["rows"][0]["figures"];
            assert_eq!(figures["total_bytes"], 9, "{out}");
            for figure in ["peak_bytes", "peak_blocks", "end_bytes", "end_blocks"] {
                assert!(figures[figure].is_null(), "{figure}: {out}");
            }
        }
        // A heap profile's are numbers.
        let heap = top(&profile(), &TopOptions::default())
            .unwrap()
            .render(&profile(), Format::Json);
        let v: serde_json::Value = serde_json::from_str(&heap).unwrap();
        assert!(v["rows"][0]["figures"]["peak_bytes"].is_u64(), "{heap}");
    }

    #[test]
    fn json_names_its_shape() {
        let t = top(&profile(), &TopOptions::default()).unwrap();
        let json = t.render(&profile(), Format::Json);
        assert!(
            json.starts_with("{\n  \"schema\": \"dhat-kit-top/1\","),
            "{json}"
        );
    }

    #[test]
    fn function_rows_name_the_function_once_with_its_file() {
        let opts = TopOptions {
            group_by: GroupBy::Function,
            ..TopOptions::default()
        };
        let text = top(&profile(), &opts)
            .unwrap()
            .render(&profile(), Format::Table);
        assert!(
            text.contains("  app::parse::token (src/parse.rs)\n"),
            "{text}"
        );
        assert!(!text.contains("app::parse::token: "), "{text}");
    }

    #[test]
    fn stack_starts_at_the_informative_frame_and_rows_are_cut_at_n() {
        let p = profile();
        let opts = TopOptions {
            n: 1,
            stack: 5,
            ..TopOptions::default()
        };
        let t = top(&p, &opts).unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.groups, 4);
        assert_eq!(t.total, 42);
        assert_eq!(
            t.rows[0].stack,
            [
                "app::parse::token (src/parse.rs:20)",
                "app::render (src/render.rs:3)"
            ]
        );
        let text = t.render(&p, Format::Table);
        assert!(text.contains("1 of 4 sites"), "{text}");
    }

    #[test]
    fn a_function_and_its_specialised_copies_are_one_function() {
        let json = r#"{"dhatFileVersion":2,"mode":"heap","verb":"Allocated","bklt":false,
          "bkacc":false,"tu":"instrs","Mtu":"Minstr","cmd":"./clones","pid":1,"te":9,
          "pps":[{"tb":40,"tbk":1,"fs":[1,2,5]},{"tb":24,"tbk":1,"fs":[1,3,5]},
                 {"tb":8,"tbk":1,"fs":[1,4,5]},{"tb":4,"tbk":1,"fs":[1,6,5]}],
          "ftbl":["[root]","0x1: malloc (in /usr/libexec/valgrind/vgpreload_dhat.so)",
            "0x2: app::fill(int, int) (clones.cpp:17)",
            "0x3: app::fill(int, int) [clone .constprop.0] (clones.cpp:17)",
            "0x4: app::fill(double) (clones.cpp:30)",
            "0x5: main (clones.cpp:40)",
            "0x6: dup_key.constprop.0 (keys.c:9)"]}"#;
        let rows = labels_and_values(json, GroupBy::Function);
        let s = |x: &str| x.to_owned();
        assert_eq!(
            rows,
            [
                (s("app::fill(int, int)"), 64),
                (s("app::fill(double)"), 8),
                (s("dup_key"), 4),
            ]
        );
    }

    /// Two frame-table entries of one label (one line, two addresses: two inlined copies) whose
    /// points are equally large, each with its own caller.
    fn one_label_twice(tb: u64) -> Profile {
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
          "pps":[{{"tb":{tb},"tbk":1,"tl":0,"mb":1,"mbk":1,"gb":{tb},"gbk":1,"eb":0,"ebk":0,"fs":[1,3]}},
                 {{"tb":{tb},"tbk":1,"tl":0,"mb":1,"mbk":1,"gb":{tb},"gbk":1,"eb":0,"ebk":0,"fs":[2,4]}}],
          "ftbl":["[root]","0x1: app::f (src/f.rs:1:1)","0x2: app::f (src/f.rs:1:1)",
            "0x3: app::a (src/a.rs:1:1)","0x4: app::b (src/b.rs:1:1)"]}}"#
        );
        crate::profile::from_slice(json.as_bytes(), "t.json").unwrap()
    }

    /// A row's figures saturate where the points of its label do not fit a `u64`, as its ranked
    /// figure and each point's own do; adding the figures of two frame-table entries of one
    /// label overflowed (a panic in a debug build, a wrapped figure in a release one). The reader
    /// refuses such sums; a profile built in code has them.
    #[test]
    fn a_rows_figures_saturate_however_its_points_are_found() {
        let mut p = one_label_twice(1);
        for pp in &mut p.pps {
            (pp.tb, pp.gb) = (u64::MAX, u64::MAX);
        }
        let t = top(&p, &TopOptions::default()).unwrap();
        assert_eq!(t.rows.len(), 1);
        let r = &t.rows[0];
        assert_eq!((r.value, r.points), (u64::MAX, 2));
        assert_eq!(r.figures.total_bytes, u64::MAX);
        assert_eq!(r.figures.peak_bytes, u64::MAX);
        assert_eq!(r.figures.total_blocks, 2);
    }

    /// A row's frame and stack are its largest point's, the first of them in the profile where
    /// two are as large: the same on every run. They were those of whichever frame-table entry of
    /// the label a hash map listed first.
    #[test]
    fn a_rows_stack_is_its_first_largest_points_on_every_run() {
        let p = one_label_twice(8);
        let opts = TopOptions {
            stack: 2,
            ..TopOptions::default()
        };
        for _ in 0..64 {
            let t = top(&p, &opts).unwrap();
            assert_eq!(
                t.rows[0].stack,
                ["app::f (src/f.rs:1)", "app::a (src/a.rs:1)"]
            );
        }
    }
}
