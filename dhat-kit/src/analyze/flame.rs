//! Flame graphs: each program point's stack, outermost frame first, weighted by one figure.

#[cfg(feature = "cli")]
use super::Error;
use super::{Frames, Metric};
use crate::profile::Profile;

/// The program points of `profile` as folded stacks (`main;parse;alloc::vec::Vec::with_capacity 1942`):
/// frames outermost first, by function name (`;` in a name becomes `:`), weighted by `metric`;
/// points whose weight is 0 are left out, identical stacks are added up, and the lines are sorted.
///
/// # Examples
///
/// ```
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let lines = dhat_kit::analyze::folded(&p, dhat_kit::analyze::Metric::TotalBytes);
/// assert_eq!(lines, ["app::main 12", "app::main;app::parse 30"]);
/// # Ok::<(), dhat_kit::profile::ProfileError>(())
/// ```
pub fn folded(profile: &Profile, metric: Metric) -> Vec<String> {
    let frames = Frames::new(profile);
    let names: Vec<String> = (0..profile.ftbl.len())
        .map(|i| frames.frame(i as u32).function.replace(';', ":"))
        .collect();
    let mut stacks: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for pp in &profile.pps {
        let w = metric.of(pp);
        if w == 0 {
            continue;
        }
        let mut line = String::new();
        for &f in pp.fs.iter().rev().filter(|&&f| f != 0) {
            if !line.is_empty() {
                line.push(';');
            }
            line.push_str(names.get(f as usize).map_or("?", String::as_str));
        }
        if line.is_empty() {
            line.push_str("[root]");
        }
        let slot = stacks.entry(line).or_default();
        *slot = slot.saturating_add(w);
    }
    let mut lines: Vec<String> = stacks
        .into_iter()
        .map(|(s, w)| format!("{s} {w}"))
        .collect();
    lines.sort();
    lines
}

/// Renders `profile` as an interactive SVG flame graph of `metric` by call stack (with
/// inferno), titled `title`, into `out`.
///
/// # Errors
///
/// [`Error`] if the profile does not have the figure, or inferno or `out` fails. A profile with
/// nothing to draw (every point's figure is 0) gives a graph that says so.
#[cfg(feature = "cli")]
pub fn flamegraph_svg(
    profile: &Profile,
    metric: Metric,
    title: &str,
    out: impl std::io::Write,
) -> Result<(), Error> {
    metric.check(profile)?;
    let lines = folded(profile, metric);
    if lines.is_empty() {
        return empty_svg(title, metric, out);
    }
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = title.to_owned();
    opts.count_name = if metric.is_blocks() {
        profile.blocks_plural().to_owned()
    } else {
        profile.unit_plural().to_owned()
    };
    opts.name_type = "Function:".to_owned();
    opts.colors =
        inferno::flamegraph::color::Palette::Basic(inferno::flamegraph::color::BasicPalette::Mem);
    inferno::flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), out)
        .map_err(|e| Error(format!("cannot draw the flame graph: {e}")))
}

/// The graph of a profile whose every point weighs 0: the title and a line that says so.
#[cfg(feature = "cli")]
fn empty_svg(title: &str, metric: Metric, mut out: impl std::io::Write) -> Result<(), Error> {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    write!(
        out,
        "<?xml version=\"1.0\" standalone=\"no\"?>\n\
         <svg version=\"1.1\" width=\"1200\" height=\"90\" viewBox=\"0 0 1200 90\" \
         xmlns=\"http://www.w3.org/2000/svg\">\n\
         <text x=\"600\" y=\"30\" text-anchor=\"middle\" font-size=\"17\" \
         font-family=\"Verdana\">{}</text>\n\
         <text x=\"600\" y=\"60\" text-anchor=\"middle\" font-size=\"12\" \
         font-family=\"Verdana\">nothing to draw: every program point's {metric} is 0</text>\n\
         </svg>\n",
        escape(title)
    )
    .map_err(|e| Error(format!("cannot write the flame graph: {e}")))
}
