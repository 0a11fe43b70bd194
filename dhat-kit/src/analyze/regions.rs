//! The regions of a dhat-kit profile, nested, with their own and inclusive figures: what
//! `dhat-kit regions` prints and the HTML report shows.
//!
//! A dhat-kit peak profile has one program point per region path (its self figures, the path as
//! `region NAME` frames, innermost first) and one for what was allocated outside any region. A
//! sampled profile puts the path of the regions an allocation was made in at the outer end of its
//! stack, as the same frames; its figures are estimates, its totals exact.

use std::collections::HashMap;

use serde::Serialize;

use super::{Error, Figures};
use crate::profile::{Profile, PEAK_MODE, SAMPLED_MODE};
use crate::units::{Bytes, Thousands};

/// The name of the row of what was allocated outside any region.
pub const OUTSIDE: &str = "(outside any region)";

/// The prefix of a region's frame in dhat-kit's profiles.
const REGION: &str = "region ";

/// The deepest region path [`regions()`] reads: each row holds its whole path, so a deeper one (a
/// hostile file's 100,000 nested regions) would take memory and output growing with the square of
/// its depth. A program nests a region in itself as recursion, one level, so its paths are as
/// deep as its distinct region names nest.
pub const MAX_REGION_DEPTH: usize = 1_000;

/// One region of a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RegionRow {
    /// The region's path, outermost first; `["(outside any region)"]` for the rest.
    pub path: Vec<String>,
    /// The figures of the program points in this region and in none of its sub-regions.
    pub own: Figures,
    /// Its own figures and its sub-regions'.
    pub inclusive: Figures,
    /// In a peak profile, the most bytes live at once in one entry of the region, its
    /// sub-regions included, above the live heap at that entry (its point's `mb`, the peak
    /// `dhat_kit::regions()` gives); `None` in a sampled profile, whose points' `mb` are estimates
    /// of different moments, and for the outside row.
    pub max_bytes: Option<u64>,
}

impl RegionRow {
    /// The path as `dhat_kit::regions()` writes it: `outer/inner`.
    #[must_use]
    pub fn name(&self) -> String {
        self.path.join("/")
    }

    /// Whether the row is what was allocated outside any region, or a sampled profile's
    /// unsampled remainder.
    fn is_not_a_region(&self) -> bool {
        self.path.len() == 1
            && (self.path[0] == OUTSIDE || self.path[0] == super::summary::REMAINDER)
    }
}

/// A profile's regions: depth first, each region before its sub-regions, siblings by inclusive
/// bytes (largest first), then what was allocated outside any region.
///
/// # Examples
///
/// ```
/// let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
///   "pps":[{"tb":100,"tbk":2,"tl":0,"mb":64,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
///          {"tb":30,"tbk":1,"tl":0,"mb":30,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[3,2]},
///          {"tb":5,"tbk":1,"tl":0,"mb":5,"mbk":1,"gb":5,"gbk":1,"eb":0,"ebk":0,"fs":[1]}],
///   "ftbl":["[root]","(outside any region)","region server","region handle"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "dhat-peak.json")?;
/// let r = dhat_kit::analyze::regions(&p)?;
/// let names: Vec<String> = r.rows.iter().map(|row| row.name()).collect();
/// assert_eq!(names, ["server", "server/handle", "(outside any region)"]);
/// assert_eq!(r.rows[0].inclusive.total_bytes, 130);
/// assert_eq!(r.rows[0].own.total_bytes, 100);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RegionTable {
    /// Always `"dhat-kit-regions/1"`.
    pub schema: &'static str,
    /// The profile's mode: `dhat-kit-peak` or `dhat-kit-sampled`.
    pub mode: String,
    /// The regions, then the outside row (if anything was allocated outside any region), then a
    /// sampled profile's `[unsampled remainder]` (estimates do not place it inside or outside).
    pub rows: Vec<RegionRow>,
    /// The profile's totals.
    pub total: Figures,
    /// Whether the figures are a sampled profile's estimates (its totals are exact).
    pub estimated: bool,
}

/// The regions of a dhat-kit peak or sampled profile.
///
/// # Errors
///
/// [`Error::NoRegions`] when the profile is of another kind (dhat's,
/// Valgrind's), which knows no regions; [`Error::RegionDepth`] for a region path more than
/// [`MAX_REGION_DEPTH`] regions deep.
///
/// # Examples
///
/// ```
/// let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
///   "pps":[{"tb":100,"tbk":2,"tl":0,"mb":64,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[2]},
///          {"tb":30,"tbk":1,"tl":0,"mb":30,"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[3,2]},
///          {"tb":5,"tbk":1,"tl":0,"mb":5,"mbk":1,"gb":5,"gbk":1,"eb":5,"ebk":1,"fs":[1]}],
///   "ftbl":["[root]","(outside any region)","region server","region handle"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "dhat-peak.json")?;
/// let table = dhat_kit::analyze::regions(&p)?;
/// let handle = &table.rows[1];
/// assert_eq!(handle.name(), "server/handle");
/// assert_eq!((handle.own.total_bytes, handle.inclusive.total_bytes), (30, 30));
/// assert_eq!(handle.max_bytes, Some(30));
/// let outside = &table.rows[2];
/// assert_eq!(outside.path, [dhat_kit::analyze::OUTSIDE]);
/// assert_eq!(outside.max_bytes, None);
/// assert_eq!(table.total.total_bytes, 135);
/// assert!(!table.estimated);
///
/// // dhat's heap profiles have no regions.
/// let heap = json.replace("dhat-kit-peak", "rust-heap");
/// let p = dhat_kit::profile::from_slice(heap.as_bytes(), "dhat-heap.json")?;
/// assert!(dhat_kit::analyze::regions(&p).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn regions(profile: &Profile) -> Result<RegionTable, Error> {
    let sampled = profile.mode == SAMPLED_MODE;
    if profile.mode != PEAK_MODE && !sampled {
        return Err(Error::NoRegions {
            mode: profile.mode.clone(),
        });
    }
    let mut nodes: HashMap<Vec<String>, RegionRow> = HashMap::new();
    let mut outside = Figures::default();
    // A sampled profile's unsampled remainder stands for allocations inside regions and outside
    // alike: a row of its own, not the outside one.
    let mut remainder = Figures::default();
    let is_remainder = |pp: &crate::profile::ProgramPoint| {
        sampled
            && pp.fs.len() == 1
            && profile
                .ftbl
                .get(pp.fs[0] as usize)
                .is_some_and(|f| f.starts_with(super::summary::REMAINDER))
    };
    for pp in &profile.pps {
        if is_remainder(pp) {
            remainder.add(pp);
            continue;
        }
        // Outermost first: the region frames at the outer end of the stack.
        let path: Vec<String> = pp
            .fs
            .iter()
            .rev()
            .map(|&f| profile.ftbl.get(f as usize).map_or("", |s| s))
            .skip_while(|f| *f == "[root]")
            .map_while(|f| f.strip_prefix(REGION))
            .map(str::to_owned)
            .collect();
        if path.is_empty() {
            outside.add(pp);
            continue;
        }
        if path.len() > MAX_REGION_DEPTH {
            return Err(Error::RegionDepth { depth: path.len() });
        }
        for depth in 1..=path.len() {
            let node = nodes
                .entry(path[..depth].to_vec())
                .or_insert_with(|| RegionRow {
                    path: path[..depth].to_vec(),
                    own: Figures::default(),
                    inclusive: Figures::default(),
                    max_bytes: (!sampled).then_some(0),
                });
            node.inclusive.add(pp);
            if depth == path.len() {
                node.own.add(pp);
                if let Some(max) = &mut node.max_bytes {
                    *max = (*max).max(pp.mb);
                }
            }
        }
    }
    let mut rows: Vec<RegionRow> = nodes.into_values().collect();
    // Depth first: compare the inclusive totals of the ancestors at the first differing level.
    let key: HashMap<Vec<String>, u64> = rows
        .iter()
        .map(|r| (r.path.clone(), r.inclusive.total_bytes))
        .collect();
    rows.sort_by(|a, b| {
        for d in 0..a.path.len().min(b.path.len()) {
            if a.path[d] != b.path[d] {
                let (ka, kb) = (&key[&a.path[..=d]], &key[&b.path[..=d]]);
                return kb.cmp(ka).then_with(|| a.path[d].cmp(&b.path[d]));
            }
        }
        a.path.len().cmp(&b.path.len())
    });
    for (name, figures) in [(OUTSIDE, outside), (super::summary::REMAINDER, remainder)] {
        if figures != Figures::default() {
            rows.push(RegionRow {
                path: vec![name.to_owned()],
                own: figures,
                inclusive: figures,
                max_bytes: None,
            });
        }
    }
    let t = profile.totals();
    Ok(RegionTable {
        schema: "dhat-kit-regions/1",
        mode: profile.mode.clone(),
        rows,
        total: Figures {
            total_bytes: t.bytes,
            total_blocks: t.blocks,
            peak_bytes: t.peak_bytes.unwrap_or(0),
            peak_blocks: t.peak_blocks.unwrap_or(0),
            end_bytes: t.end_bytes.unwrap_or(0),
            end_blocks: t.end_blocks.unwrap_or(0),
        },
        estimated: sampled,
    })
}

impl RegionTable {
    /// The table as `format` says: one row per region (its path last, as `outer/inner`), then
    /// notes on what the file holds.
    #[must_use]
    pub fn render(&self, format: super::Format) -> String {
        if format == super::Format::Json {
            return serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        }
        let peak = !self.estimated;
        let mut header = vec!["bytes", "blocks", "self", "share"];
        if peak {
            header.push("peak");
        } else {
            header.extend(["at t-gmax", "at t-end"]);
        }
        header.push("region");
        // Of what was allocated inside regions, as `dhat_kit::regions()` has it.
        let inside: u64 = self
            .rows
            .iter()
            .filter(|r| r.path.len() == 1 && !r.is_not_a_region())
            .map(|r| r.inclusive.total_bytes)
            .sum();
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                let share = if r.is_not_a_region() {
                    "-".to_owned()
                } else {
                    format!("{:.1}%", super::percent(r.inclusive.total_bytes, inside))
                };
                let mut row = vec![
                    Bytes(r.inclusive.total_bytes).to_string(),
                    Thousands(r.inclusive.total_blocks).to_string(),
                    Bytes(r.own.total_bytes).to_string(),
                    share,
                ];
                if peak {
                    row.push(r.max_bytes.map_or("-".into(), |b| Bytes(b).to_string()));
                } else {
                    row.push(Bytes(r.inclusive.peak_bytes).to_string());
                    row.push(Bytes(r.inclusive.end_bytes).to_string());
                }
                row.push(r.name());
                row
            })
            .collect();
        let markdown = format == super::Format::Markdown;
        let mut out = super::render_table(&header, &rows, markdown);
        let regions = self.rows.iter().filter(|r| !r.is_not_a_region()).count();
        let mut notes = vec![if regions == 0 && peak {
            "no regions were entered: every allocation was outside any region".to_owned()
        } else if regions == 0 {
            // A sampled profile names the regions its samples were taken in: none may have been,
            // however many were entered (a small workload, a large interval).
            "no sample was taken inside a region: regions entered with few bytes may have none \
             (a smaller interval, DHAT_KIT_SAMPLE_INTERVAL, takes more)"
                .to_owned()
        } else {
            format!(
                "{regions} region{}; bytes and blocks include the sub-regions', self does not; \
                 share is of the {} allocated inside regions (of {} in all), as \
                 `dhat_kit::regions()` gives it",
                if regions == 1 { "" } else { "s" },
                Bytes(inside),
                Bytes(self.total.total_bytes)
            )
        }];
        notes.push(if peak {
            "peak: the most bytes live at once in one entry, its sub-regions included, above the \
             live heap at that entry; the file keeps no entry counts and no live bytes per region \
             (`dhat_kit::regions()` in the program has them)"
                .to_owned()
        } else {
            "a sampled profile: every region's figures are estimates (the totals are exact)"
                .to_owned()
        });
        for note in notes {
            if markdown {
                // The kit's own words, whose backticks are code: not escaped as names are.
                out.push('\n');
                out.push_str(&note);
                out.push('\n');
            } else {
                out.push_str(&note);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(mode: &str, pps: &str, ftbl: &str) -> Profile {
        let json = format!(
            r#"{{"dhatFileVersion":2,"mode":"{mode}","verb":"Allocated","bklt":true,
              "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
              "pps":[{pps}],"ftbl":{ftbl}}}"#
        );
        crate::profile::from_slice(json.as_bytes(), "p.json").unwrap()
    }

    fn point(tb: u64, mb: u64, fs: &str) -> String {
        format!(
            r#"{{"tb":{tb},"tbk":1,"tl":0,"mb":{mb},"mbk":1,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":{fs}}}"#
        )
    }

    /// A region path deeper than the table reads is refused, saying so: a hostile file's 100,000
    /// nested regions took memory growing with the square of the depth until the kernel killed the
    /// command (3.7 GB at 8,000). A path at the limit is read.
    #[test]
    fn a_region_path_past_the_limit_is_refused() {
        let path = |depth: usize| -> (String, String) {
            let fs: Vec<String> = (1..=depth).rev().map(|i| i.to_string()).collect();
            let names: Vec<String> = (1..=depth).map(|i| format!(r#""region r{i}""#)).collect();
            (
                point(10, 10, &format!("[{}]", fs.join(","))),
                format!(r#"["[root]",{}]"#, names.join(",")),
            )
        };
        let (pp, ftbl) = path(MAX_REGION_DEPTH + 1);
        let err = regions(&profile(PEAK_MODE, &pp, &ftbl)).unwrap_err();
        assert!(matches!(err, Error::RegionDepth { depth: 1_001 }), "{err}");
        assert!(err.to_string().starts_with(
            "a program point's region path is 1001 regions deep, more than the 1000 the region \
             table reads"
        ));
        let (pp, ftbl) = path(MAX_REGION_DEPTH);
        let table = regions(&profile(PEAK_MODE, &pp, &ftbl)).unwrap();
        assert_eq!(table.rows.len(), MAX_REGION_DEPTH);
    }

    /// Siblings by inclusive bytes (a region whose own bytes are few but whose sub-region's are
    /// many comes first), each before its sub-regions; outside last.
    #[test]
    fn regions_nest_depth_first_by_inclusive_bytes() {
        let pps = [
            point(10, 10, "[2]"),
            point(500, 400, "[4,3]"),
            point(20, 20, "[3]"),
            point(7, 7, "[1]"),
        ]
        .join(",");
        let p = profile(
            PEAK_MODE,
            &pps,
            r#"["[root]","(outside any region)","region a","region b","region c"]"#,
        );
        let r = regions(&p).unwrap();
        let names: Vec<String> = r.rows.iter().map(RegionRow::name).collect();
        assert_eq!(names, ["b", "b/c", "a", OUTSIDE]);
        let b = &r.rows[0];
        assert_eq!(
            (b.inclusive.total_bytes, b.own.total_bytes, b.max_bytes),
            (520, 20, Some(20))
        );
        let text = r.render(super::super::Format::Table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "bytes  blocks   self  share   peak  region");
        assert_eq!(lines[1], "520 B       2   20 B  98.1%   20 B  b");
        assert_eq!(
            lines[4],
            "  7 B       1    7 B      -      -  (outside any region)"
        );
        assert!(
            text.contains(
                "3 regions; bytes and blocks include the sub-regions', self does not; share is \
                 of the 530 B allocated inside regions (of 537 B in all), as \
                 `dhat_kit::regions()` gives it"
            ),
            "{text}"
        );
    }

    /// A sampled profile's region frames are at the outer end of its stacks, below the code's;
    /// its unsampled remainder is a row of its own, not what was outside any region (it stands
    /// for allocations inside regions too).
    #[test]
    fn a_sampled_profiles_regions_are_the_outer_frames() {
        let pps = [
            point(100, 0, "[4,2,3]"),
            point(50, 0, "[4,3]"),
            point(9, 0, "[4]"),
            point(600, 0, "[1]"),
        ]
        .join(",");
        let p = profile(
            SAMPLED_MODE,
            &pps,
            r#"["[root]","[unsampled remainder] estimated from 3 samples at mean interval 64 bytes","region inner","region outer","0x1: app::work (src/w.rs:1:1)"]"#,
        );
        let r = regions(&p).unwrap();
        let names: Vec<String> = r.rows.iter().map(RegionRow::name).collect();
        assert_eq!(
            names,
            [
                "outer",
                "outer/inner",
                OUTSIDE,
                super::super::summary::REMAINDER
            ]
        );
        assert_eq!(r.rows[2].inclusive.total_bytes, 9);
        assert_eq!(r.rows[3].inclusive.total_bytes, 600);
        assert_eq!(r.rows[0].inclusive.total_bytes, 150);
        assert_eq!(r.rows[0].max_bytes, None);
        assert!(r.estimated);
        let text = r.render(super::super::Format::Table);
        assert!(text.contains("at t-gmax"), "{text}");
        assert!(text.contains("estimates"), "{text}");
    }

    /// A sampled profile none of whose samples fell inside a region says so, not that no region
    /// was entered (it said "no regions were entered: every allocation was outside any region"
    /// of a workload that entered 200).
    #[test]
    fn a_sampled_profile_without_a_sample_in_a_region_says_so() {
        let pps = [point(9, 0, "[2]"), point(600, 0, "[1]")].join(",");
        let p = profile(
            SAMPLED_MODE,
            &pps,
            r#"["[root]","[unsampled remainder] estimated from 1 samples at mean interval 524288 bytes","0x1: app::work (src/w.rs:1:1)"]"#,
        );
        let text = regions(&p).unwrap().render(super::super::Format::Table);
        assert!(!text.contains("no regions were entered"), "{text}");
        assert!(
            text.contains("no sample was taken inside a region: regions entered with few bytes"),
            "{text}"
        );
    }

    #[test]
    fn a_profile_without_regions_says_where_they_are() {
        let p = profile("rust-heap", &point(1, 1, "[]"), r#"["[root]"]"#);
        let e = regions(&p).unwrap_err().to_string();
        assert!(
            e.starts_with("a `rust-heap` profile has no regions: "),
            "{e}"
        );
    }
}
